#!/usr/bin/env python3
"""Fan-out figures (issue 15), side by side in one run.

  1. A stage of `sleep 1` on 8 SSH hosts x 4 virtual nodes (32 nodes; one
     sshd per loopback address 127.0.0.2 ... 127.0.0.9) against the same
     stage on 1 node: the span of the stage (first node start to last node
     end, from the records).  Target: ratio <= 1.3.
  2. The start barrier's spread over those 32 nodes (release times on the
     nodes' own clocks, corrected by the measured offsets): median and max
     over the rounds.  Target: <= 10 ms on loopback.
  3. Merging 32 nodes x N rows (local transport; default N = 200,000, the
     issue's 1,000,000 with --rows 1000000): benchctl's merge + validation
     + exact statistics (the "merged in" time, and the whole run's wall time
     and peak RSS) against `cat` of the 32 files and the same percentiles
     with numpy (wall time and peak RSS of both).

References for 1 and 2, what this machine allows without benchctl (all 8
"hosts" share its CPUs, so 32 nodes start and wake on 2 cores):
  - OpenSSH by hand: 32 `ssh gK sleep 1` started at once (4 per host, the
    same keys and sshd servers), wall time of all of them against one.
  - A barrier floor: 32 bash processes already started, each waiting with
    `read -t` for one start time 2 s ahead, stamping $EPOCHREALTIME and
    then starting `sleep 1` (what each node does after the release, with no
    orchestration): the spread of their stamps.

Needs root (it starts its own sshd servers and a throwaway user).

usage: fanout_bench.py BENCHCTL PEAKRSS [--rounds 3] [--rows 200000]
"""
import argparse
import json
import os
import pwd
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ssh_bench import Sshd, host_yaml, sh, write  # noqa: E402


def peak(peakrss, cmd, cwd, shell=False):
    argv = [peakrss] + (["/bin/sh", "-c", cmd] if shell else cmd)
    p = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit("failed: %s\n%s%s" % (cmd, p.stdout[-2000:], p.stderr[-3000:]))
    wall_ms, rss_kb = p.stderr.strip().splitlines()[-1].split()
    return float(wall_ms) / 1000, int(rss_kb), p.stderr


def last_run(out_dir):
    with open(os.path.join(out_dir, ".benchctl-last-id")) as f:
        rid = f.read().strip()
    with open(os.path.join(out_dir, rid, "metadata.json")) as f:
        return json.load(f), os.path.join(out_dir, rid)


def whole_stage(meta):
    return [s for s in meta["stages"] if s.get("collated")][0]


NUMPY = r"""
import sys, numpy as np
x = np.loadtxt(sys.stdin, delimiter=",", comments="l", usecols=0)
print(len(x), np.mean(x), np.percentile(x, [50, 90, 95, 99, 99.9]), x.min(), x.max())
"""


FLOOR = r"""
d=$(( $1 - ${EPOCHREALTIME/[.,]/} ))
exec 9<>"$2"
u=00000$((d % 1000000))
[ "$d" -le 0 ] || read -r -t "$((d / 1000000)).${u: -6}" _ <&9
t=$EPOCHREALTIME
echo "$t" >> "$3"
sleep 1
"""


def ssh_argv(s, user, key, cmd):
    return ["ssh", "-q", "-i", key, "-p", str(s.port), "-o", "BatchMode=yes",
            "-o", f"UserKnownHostsFile={s.known_hosts}", "-o", "StrictHostKeyChecking=yes",
            "-F", "/dev/null", f"{user}@{s.addr}", cmd]


def wall(procs_argv):
    t0 = time.monotonic()
    ps = [subprocess.Popen(v, stdin=subprocess.DEVNULL) for v in procs_argv]
    for p in ps:
        p.wait()
    return time.monotonic() - t0


def by_hand(servers, user, key, work, rounds, s1, s32, spread):
    """The references for the span and the barrier (see the module's doc)."""
    one, many, floor = [], [], []
    script = os.path.join(work, "floor.sh")
    write(script, FLOOR)
    for r in range(rounds):
        one.append(wall([ssh_argv(servers[0], user, key, "sleep 1")]))
        many.append(wall([ssh_argv(s, user, key, "sleep 1") for s in servers for _ in range(4)]))
        stamps = os.path.join(work, f"floor.{r}")
        at = int((time.time() + 2) * 1e6)
        fifos = [os.path.join(work, f"floor.{r}.{k}") for k in range(32)]
        for f in fifos:
            os.mkfifo(f)
        wall([["/bin/bash", script, str(at), f, stamps] for f in fifos])
        with open(stamps) as f:
            t = sorted(float(x.replace(",", ".")) for x in f.read().split())
        floor.append((t[-1] - t[0]) * 1e3)
    o, m = statistics.median(one), statistics.median(many)
    print(f"  by hand with OpenSSH: 32 x `ssh host sleep 1` at once {m:.3f} s / one {o:.3f} s "
          f"= {m / o:.2f}x (benchctl {s32 / s1:.2f}x, {s32 / s1 / (m / o):.2f} times the by-hand ratio)")
    fl = statistics.median(floor)
    print(f"  barrier floor on this machine: 32 shells waking at one time, then starting "
          f"`sleep 1`: spread median {fl:.2f} ms, worst {max(floor):.2f} ms "
          f"(benchctl's median {spread:.2f} ms = {spread / fl:.2f}x the floor)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("benchctl")
    ap.add_argument("peakrss")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rows", type=int, default=200000)
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("fanout_bench.py starts its own sshd servers: run it as root")
    bc = os.path.abspath(a.benchctl)
    a.peakrss = os.path.abspath(a.peakrss)
    root = tempfile.mkdtemp(prefix="bcfan-bench.")
    os.chmod(root, 0o755)
    user = f"bcfan{os.getpid()}"
    servers = []
    try:
        sh("useradd", "-m", "-s", "/bin/bash", user)
        sh("usermod", "-p", "*", user)
        keys = os.path.join(root, "keys")
        os.makedirs(keys)
        os.chmod(keys, 0o755)
        key = os.path.join(keys, "id")
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key)
        ak = os.path.join(keys, "authorized_keys")
        shutil.copy(key + ".pub", ak)
        os.chmod(ak, 0o644)
        servers = [Sshd(root, f"g{i}", ak, addr=f"127.0.0.{i}") for i in range(2, 10)]
        work = os.path.join(root, "work")
        os.makedirs(work)
        hosts = "".join(f"  g{i}: {host_yaml(s, user, key)}\n" for i, s in zip(range(2, 10), servers))
        names = ", ".join(f"g{i}" for i in range(2, 10))
        for tag, nodes in (("one", "{hosts: [g2], per_host: 1}"),
                           ("many", f"{{hosts: [{names}], per_host: 4}}")):
            write(os.path.join(work, f"{tag}.yaml"),
                  f"benchmark: {{name: fan-{tag}, output_dir: {work}/runs-{tag}, git: {{capture: false}}}}\n"
                  f"hosts:\n{hosts}stages:\n  - name: sleep\n    nodes: {nodes}\n"
                  "    command: sleep 1\n")
        print(f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; {a.rounds} rounds", flush=True)
        spans = {"one": [], "many": []}
        spread, median = [], []
        for _ in range(a.rounds):
            for tag in ("one", "many"):
                peak(a.peakrss, [bc, "run", "-c", f"{tag}.yaml"], work)
                meta, _ = last_run(os.path.join(work, f"runs-{tag}"))
                w = whole_stage(meta)
                spans[tag].append(w["duration_s"])
                if tag == "many":
                    b = w["fanout"]["barrier"]
                    spread.append(b["spread_ms"])
                    median.append(b["median_ms"])
        s1, s32 = statistics.median(spans["one"]), statistics.median(spans["many"])
        print(f"sleep 1 stage span: 1 node {s1:.3f} s, 8 hosts x 4 nodes {s32:.3f} s, "
              f"ratio {s32 / s1:.2f}x (target <= 1.3x)")
        print(f"barrier over 32 nodes: spread (max) median {statistics.median(spread):.2f} ms, "
              f"worst {max(spread):.2f} ms; median release offset {statistics.median(median):.2f} ms "
              f"(target <= 10 ms)")
        by_hand(servers, user, key, work, a.rounds, s1, s32, statistics.median(spread))

        # -- merging 32 x N rows (local transport)
        data = os.path.join(work, "data")
        os.makedirs(data)
        gen = os.path.join(work, "gen.py")
        write(gen, "import sys, numpy as np\n"
                   "k, n = int(sys.argv[1]), int(sys.argv[2])\n"
                   "r = np.random.default_rng(k)\n"
                   "x = r.lognormal(3, 0.6, n)\n"
                   "np.savetxt(sys.argv[3], x, fmt='%.6f', header='latency', comments='')\n")
        for k in range(32):
            sh("/usr/bin/python3", gen, str(k), str(a.rows), os.path.join(data, f"node-{k}.csv"))
        write(os.path.join(work, "merge.yaml"),
              f"benchmark: {{name: fan-merge, output_dir: {work}/runs-merge, git: {{capture: false}}}}\n"
              "stages:\n  - name: load\n    nodes: 32\n"
              f"    command: cp {data}/node-$BENCHCTL_NODE.csv lat.csv\n"
              "    outputs:\n      - name: lat\n        remote_path: lat.csv\n"
              "        data_schema: {columns: [{name: latency, type: float}]}\n")
        npy = os.path.join(work, "np.py")
        write(npy, NUMPY)
        bt, brss, berr = [], [], []
        nt, nrss = [], []
        for _ in range(a.rounds):
            t, rss, err = peak(a.peakrss, [bc, "run", "-c", "merge.yaml"], work)
            m = re.search(r"rows of 32 nodes merged in ([0-9.]+) s", err)
            bt.append(t)
            brss.append(rss)
            berr.append(float(m.group(1)) if m else float("nan"))
            t, rss, _ = peak(a.peakrss, f"cat {data}/node-*.csv | /usr/bin/python3 {npy}", work,
                             shell=True)
            nt.append(t)
            nrss.append(rss)
        meta, rdir = last_run(os.path.join(work, "runs-merge"))
        w = whole_stage(meta)
        rows = w["outputs"][0]["statistics"]["rows"]
        b_t, n_t = statistics.median(bt), statistics.median(nt)
        b_r, n_r = statistics.median(brss), statistics.median(nrss)
        print(f"merge of 32 x {a.rows} rows ({rows} merged): benchctl run {b_t:.2f} s "
              f"(merge alone {statistics.median(berr):.2f} s), peak RSS {b_r / 1024:.1f} MiB; "
              f"cat + numpy {n_t:.2f} s, peak RSS {n_r / 1024:.1f} MiB; "
              f"time ratio {b_t / n_t:.2f}x, memory ratio {b_r / n_r:.2f}x")
    finally:
        for s in servers:
            s.stop()
        subprocess.run(["userdel", "-r", user], stderr=subprocess.DEVNULL)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
