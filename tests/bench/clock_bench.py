#!/usr/bin/env python3
"""Host clock offsets (issues 15 and 16): the estimated offset against a
known injected one, and what it means for a monitor sample's timestamp.

Starts throwaway sshd servers on loopback whose sessions run under
libfaketime with a fixed shift (-7.25 s, +30 s, +1 h: every process sshd
starts for a login sees the controller's clock plus that shift, exactly), a
throwaway user with a stock home, and per server two host aliases: one with
the default exec_mode (the offset measured over the dispatcher's channel at
connect, method "transport") and one with exec_mode: login_shell (three
helper commands, method "commands").  Each round is one `benchctl run`
with the monitor on every host (interval 200 ms) and a 2 s stage.

Reported per method: the error of the estimated offset (estimate minus
injected; median and max of |error|), the uncertainty benchctl recorded
(half the best round trip), and how many estimates fall within their
uncertainty.  The offset is measured again at the end of the run by the
same method (issue 16): reported are the end estimate's error, the drift
recorded where none was injected, and what the end measurement cost per
host (against what opening the connection cost).  One more server reads
its shift from a file (FAKETIME_TIMESTAMP_FILE, re-read by every process)
that the stage moves by a known step (+1 s) during the run: the error of
the recorded drift against that step.  A monitor sample's timestamp is its host's time minus the
estimated offset; with libfaketime's exact shift its error against the
controller's true clock is exactly the offset error, and all samples lie
inside the run (checked); stamped on arrival instead (a 1.5 sampler) it
would be late by the stream's one-way delay, and uncorrected it would be
off by the whole shift.

usage: clock_bench.py BENCHCTL [--rounds 5]
"""
import argparse
import csv
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ssh_bench import Sshd, host_yaml, sh, write  # noqa: E402

SHIFTS = [("m7", -7.25), ("p30", 30.0), ("p1h", 3600.0)]


def epoch(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def faketime_lib():
    out = subprocess.run(["dpkg", "-L", "libfaketime"], capture_output=True, text=True).stdout
    libs = [l for l in out.split() if l.endswith("/libfaketime.so.1")]
    if not libs:
        sys.exit("clock_bench.py needs libfaketime (apt-get install faketime; scripts/deps.sh)")
    return libs[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("benchctl")
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("clock_bench.py starts its own sshd servers: run it as root")
    bc = os.path.abspath(a.benchctl)
    lib = faketime_lib()
    root = tempfile.mkdtemp(prefix="bcclock-bench.")
    os.chmod(root, 0o755)
    user = f"bcclk{os.getpid()}"
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
        hosts = ""
        for name, shift in SHIFTS:
            extra = (f"SetEnv LD_PRELOAD={lib} FAKETIME={shift:+g}s "
                     "FAKETIME_DONT_FAKE_MONOTONIC=1\n")
            s = Sshd(root, name, ak, extra=extra)
            servers.append(s)
            hosts += f"  {name}: {host_yaml(s, user, key)}\n"
            hosts += f"  {name}_login: {host_yaml(s, user, key)[:-1]}, exec_mode: login_shell}}\n"
        step_file = os.path.join(root, "step.rc")
        write(step_file, "+10\n")
        os.chmod(step_file, 0o644)
        s = Sshd(root, "step", ak, extra=(f"SetEnv LD_PRELOAD={lib} FAKETIME_TIMESTAMP_FILE="
                                          f"{step_file} FAKETIME_NO_CACHE=1 "
                                          "FAKETIME_DONT_FAKE_MONOTONIC=1\n"))
        servers.append(s)
        hosts += f"  step: {host_yaml(s, user, key)}\n"
        hosts += f"  step_login: {host_yaml(s, user, key)[:-1]}, exec_mode: login_shell}}\n"
        work = os.path.join(root, "work")
        os.makedirs(work)
        names = ", ".join(f"{n}, {n}_login" for n, _ in SHIFTS) + ", step, step_login"
        first = SHIFTS[0][0]
        write(os.path.join(work, "c.yaml"),
              f"benchmark: {{name: clock, output_dir: {work}/runs, git: {{capture: false}}, "
              f"monitor: {{interval: 200ms, hosts: [{names}], plot: none}}}}\n"
              f"hosts:\n{hosts}stages:\n  - name: s\n    host: {first}\n    command: sleep 2\n"
              f"  - name: step\n    hosts: [step, step_login]\n    command: 'true'\n"
              f"  - name: move\n    command: 'echo +11 > {step_file}'\n")
        print(f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; {a.rounds} rounds; "
              f"injected shifts {', '.join('%+g s' % s for _, s in SHIFTS)}", flush=True)
        err = {"transport": [], "commands": []}
        unc = {"transport": [], "commands": []}
        inside = {"transport": 0, "commands": 0}
        samples = 0
        end_err = {"transport": [], "commands": []}
        drift0 = {"transport": [], "commands": []}
        cost = {"transport": [], "commands": []}
        ratio = {"transport": [], "commands": []}
        step_err = {"transport": [], "commands": []}
        step_in = {"transport": 0, "commands": 0}
        for r in range(1, a.rounds + 1):
            write(step_file, "+10\n")
            p = subprocess.run([bc, "run", "-c", "c.yaml"], cwd=work, capture_output=True, text=True)
            if p.returncode != 0:
                sys.exit(f"benchctl run failed ({p.returncode}): {p.stderr[-2000:]}")
            d = os.path.join(work, "runs", str(r))
            meta = json.load(open(os.path.join(d, "metadata.json")))
            t0, t1 = epoch(meta["start_time"]), epoch(meta["end_time"])
            for name, shift in SHIFTS:
                for alias in (name, name + "_login"):
                    c = meta["hosts"][alias]["clock"]
                    e = c["offset_ms"] - shift * 1e3
                    err[c["method"]].append(abs(e))
                    unc[c["method"]].append(c["uncertainty_ms"])
                    inside[c["method"]] += abs(e) <= c["uncertainty_ms"]
                    rows = list(csv.DictReader(open(os.path.join(d, "monitor", alias + ".csv"))))
                    ts = [float(x["timestamp"]) for x in rows]
                    # login-shell hosts: the ticker's bash is started by bash, whose
                    # EPOCHREALTIME libfaketime does not always fake (a quirk of the
                    # faking, not of a real host): their samples are not checked
                    assert ts, alias
                    if not alias.endswith("_login"):
                        assert all(t0 - 1 <= t <= t1 + 1 for t in ts), (alias, t0, t1, ts[:3])
                    samples += len(ts)
                    m = c["method"]
                    end_err[m].append(abs(c["end_offset_ms"] - shift * 1e3))
                    drift0[m].append(abs(c["drift_ms"]))
                    cost[m].append(c["end_cost_ms"])
                    ratio[m].append(c["end_cost_ms"] / (meta["hosts"][alias]["connection"]["open_s"] * 1e3))
            for alias in ("step", "step_login"):
                c = meta["hosts"][alias]["clock"]
                m = c["method"]
                e = c["drift_ms"] - 1000
                step_err[m].append(abs(e))
                step_in[m] += abs(e) <= c["uncertainty_ms"] + c["end_uncertainty_ms"]
                cost[m].append(c["end_cost_ms"])
        print(f"{'method':<10} {'n':>3} {'|err| median ms':>16} {'|err| max ms':>13} "
              f"{'uncert. median ms':>18} {'within uncert.':>15}")
        for m in ("transport", "commands"):
            n = len(err[m])
            print(f"{m:<10} {n:>3} {statistics.median(err[m]):>16.3f} {max(err[m]):>13.3f} "
                  f"{statistics.median(unc[m]):>18.3f} {inside[m]:>12}/{n}")
        print("end of run, same method: |end err| = |end offset - injected|; drift recorded "
              "where none was injected; a 1 s step injected mid-run")
        print(f"{'method':<10} {'|end err| med ms':>16} {'|drift| med ms':>15} {'|drift| max ms':>15} "
              f"{'step |err| med ms':>18} {'within':>7} {'end cost med ms':>16} {'max ms':>8} "
              f"{'cost/open med':>14}")
        for m in ("transport", "commands"):
            n = len(step_err[m])
            print(f"{m:<10} {statistics.median(end_err[m]):>16.3f} {statistics.median(drift0[m]):>15.3f} "
                  f"{max(drift0[m]):>15.3f} {statistics.median(step_err[m]):>18.3f} "
                  f"{step_in[m]:>4}/{n:<2} {statistics.median(cost[m]):>16.3f} {max(cost[m]):>8.3f} "
                  f"{statistics.median(ratio[m]):>14.3f}")
        print(f"monitor samples: {samples}, those of the dispatcher hosts all inside their run on the controller's clock; "
              f"a sample's timestamp error = the offset error above (max "
              f"{max(err['transport']):.3f} ms over the dispatcher), against the whole shift "
              f"(up to {max(s for _, s in SHIFTS):g} s) uncorrected")
    finally:
        for s in servers:
            s.stop()
        subprocess.run(["userdel", "-r", user], stderr=subprocess.DEVNULL)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
