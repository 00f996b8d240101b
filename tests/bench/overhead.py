#!/usr/bin/env python3
"""Orchestration overhead of benchctl, side by side with a shell loop.

A config of N local stages that each run `true` is timed against a shell
loop that runs the same N commands through the same shell (`bash -c true`),
alternating the two, R rounds each.  Reports the medians, their ratio, the
peak RSS of the benchctl process itself (VmHWM as recorded in
metadata.json), and the wall time / peak RSS of `benchctl validate` on the
quickstart config.

usage: overhead.py BENCHCTL PEAKRSS [--stages 100] [--rounds 15]
(PEAKRSS is tests/bench/peakrss.c compiled; scripts/bench.sh does that.)
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def timed(argv, cwd):
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{argv} failed with status {status}")
    return dt, ru.ru_maxrss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("benchctl")
    ap.add_argument("peakrss")
    ap.add_argument("--stages", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=15)
    a = ap.parse_args()
    bc = os.path.abspath(a.benchctl)
    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with tempfile.TemporaryDirectory() as d:
        cfg = os.path.join(d, "overhead.yaml")
        with open(cfg, "w") as f:
            f.write("benchmark:\n  name: overhead\n  output_dir: ./runs\n"
                    "  shell: bash -c\n  git: {capture: false}\nstages:\n")
            for i in range(a.stages):
                f.write(f"  - name: s{i}\n    command: 'true'\n")
        loop = ["bash", "-c", f"for i in $(seq {a.stages}); do bash -c true; done"]
        run = [bc, "run", "-c", cfg]
        timed(run, d), timed(loop, d)  # warm caches
        bc_times, sh_times, own_rss = [], [], []
        for _ in range(a.rounds):
            t, _ = timed(run, d)
            bc_times.append(t)
            t, _ = timed(loop, d)
            sh_times.append(t)
        runs = sorted(int(x) for x in os.listdir(os.path.join(d, "runs")) if x.isdigit())
        for r in runs:
            with open(os.path.join(d, "runs", str(r), "metadata.json")) as f:
                own_rss.append(json.load(f)["benchctl"]["peak_rss_kb"])
        qs = os.path.join(src, "examples", "quickstart", "benchmark.yaml")
        val = []
        for _ in range(a.rounds):
            p = subprocess.run([os.path.abspath(a.peakrss), bc, "validate", "-c", qs], cwd=d,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               check=True)
            ms, kb = p.stderr.strip().splitlines()[-1].split()
            val.append((float(ms) / 1000, int(kb)))
    mb, ms = statistics.median(bc_times), statistics.median(sh_times)
    print(f"{a.stages} stages of `true`, {a.rounds} alternating rounds (medians)")
    print(f"  shell loop         {ms * 1000:8.1f} ms")
    print(f"  benchctl run       {mb * 1000:8.1f} ms")
    print(f"  ratio              {mb / ms:8.2f}x   (target <= 1.20x)")
    print(f"  per-stage overhead {(mb - ms) / a.stages * 1e6:8.0f} us")
    print(f"  benchctl peak RSS  {max(own_rss) / 1024:8.2f} MiB (own VmHWM, max over runs; target <= 6 MiB)")
    print(f"validate quickstart  {statistics.median(v[0] for v in val) * 1000:8.1f} ms wall, "
          f"{max(v[1] for v in val) / 1024:.2f} MiB peak RSS")


if __name__ == "__main__":
    main()
