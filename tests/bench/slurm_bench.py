#!/usr/bin/env python3
"""The slurm transport against plain srun and the local transport.

Starts a throwaway Slurm cluster (tests/cli/slurm_lib.sh: munged, slurmctld,
four fake slurmd nodes on this machine, private ports, key and state; needs
root and slurm-wlm + munge) and measures, in alternating rounds (medians):

  A. `benchctl run` of 50 stages running `true` on a slurm host: one
     allocation (salloc), 50 steps (srun --overlap), released
     at the end -- the whole run, allocation and release included;
  B. 50 `srun --nodes=1 --ntasks=1 true`, one after another, each making
     (and releasing) its own allocation -- what a script without benchctl
     does;
  C. `benchctl run` of the same 50 stages on the local transport.

Reports A, B and C (seconds), B / A (target > 1: one allocation per run
pays off) and A / C (what Slurm's step launch costs against a fork), and
the mean per-stage time of A's stage records.

usage: slurm_bench.py BENCHCTL [--rounds 3] [--stages 50]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LIB = os.path.join(HERE, "..", "cli", "slurm_lib.sh")

# Starts the cluster, prints SLURM_CONF, waits for stdin to close, stops it.
CLUSTER = r"""
set -euo pipefail
T=$1
cleanup_hooks=()
fail() { echo "FAIL: $*" >&2; exit 1; }
trap 'for h in "${cleanup_hooks[@]+"${cleanup_hooks[@]}"}"; do eval "$h" || true; done' EXIT
source "$2"
slurm_start 4
echo "SLURM_CONF=$SLURM_CONF"
cat >/dev/null
"""


def config(path, host, n):
    with open(path, "w") as f:
        f.write("benchmark: {name: slurm-bench, output_dir: ./runs}\n")
        if host == "cluster":
            f.write("hosts:\n  cluster: {transport: slurm, nodes: 1, overcommit: true, time: 30m}\n")
        f.write("stages:\n")
        for i in range(n):
            f.write(f"  - {{name: s{i}, host: {host}, command: 'true'}}\n")


def timed(argv, cwd, env):
    t0 = time.monotonic()
    r = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    dt = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr[-2000:]}")
    return dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("benchctl")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--stages", type=int, default=50)
    a = ap.parse_args()
    if os.geteuid() != 0 or not shutil.which("slurmctld"):
        print("skipped: needs root and slurm-wlm + munge")
        return
    bc = os.path.abspath(a.benchctl)
    tmp = tempfile.mkdtemp(prefix="benchctl-slurm-bench.")
    cluster = subprocess.Popen(["bash", "-c", CLUSTER, "cluster", tmp, LIB],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = cluster.stdout.readline().strip()
        if not line.startswith("SLURM_CONF="):
            sys.exit("the Slurm cluster did not start")
        env = dict(os.environ, SLURM_CONF=line.split("=", 1)[1])
        config(os.path.join(tmp, "slurm.yaml"), "cluster", a.stages)
        config(os.path.join(tmp, "local.yaml"), "local", a.stages)
        A, B, C, per_stage = [], [], [], []
        for r in range(a.rounds):
            shutil.rmtree(os.path.join(tmp, "runs"), ignore_errors=True)
            A.append(timed([bc, "run", "-c", "slurm.yaml", "--no-report"], tmp, env))
            meta = json.load(open(os.path.join(tmp, "runs", "1", "metadata.json")))
            per_stage.append(statistics.mean(s["duration_s"] for s in meta["stages"]))
            t0 = time.monotonic()
            for i in range(a.stages):
                subprocess.run(["srun", "--nodes=1", "--ntasks=1", "--overcommit", "--quiet",
                                "--time=30", "true"], cwd=tmp, env=env, check=True)
            B.append(time.monotonic() - t0)
            shutil.rmtree(os.path.join(tmp, "runs"), ignore_errors=True)
            C.append(timed([bc, "run", "-c", "local.yaml", "--no-report"], tmp, env))
            print(f"round {r + 1}: slurm transport {A[-1]:.2f} s, {a.stages} x srun "
                  f"{B[-1]:.2f} s, local {C[-1]:.2f} s", flush=True)
        ma, mb, mc = statistics.median(A), statistics.median(B), statistics.median(C)
        print(f"{a.stages} stages of `true` (medians of {a.rounds} rounds):")
        print(f"  A  slurm transport, one allocation:        {ma:7.2f} s "
              f"(mean stage record {statistics.median(per_stage) * 1e3:.0f} ms)")
        print(f"  B  {a.stages} x srun, an allocation each:        {mb:7.2f} s")
        print(f"  C  local transport:                        {mc:7.2f} s")
        print(f"  B / A = {mb / ma:.2f}x   (one allocation per run against one per command)")
        print(f"  A / C = {ma / mc:.2f}x   (Slurm steps against local processes)")
    finally:
        cluster.stdin.close()
        cluster.wait(timeout=120)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
