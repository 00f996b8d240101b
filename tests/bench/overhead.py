#!/usr/bin/env python3
"""Orchestration overhead of benchctl, side by side with a shell loop.

A config of N local stages that each run `true` is timed against a shell
loop that runs the same N commands through the same shell (`bash -c true`),
alternating the two, R rounds each.  Reports the medians, their ratio, the
peak RSS of the benchctl process itself (VmHWM as recorded in
metadata.json), and the wall time / peak RSS of `benchctl validate` on the
quickstart config.

With --against OTHER (another benchctl build, e.g. the last release), OTHER
runs in the same alternating rounds and the report adds its figures and the
ratio of the two: a before/after comparison on one machine in one run.

usage: overhead.py BENCHCTL PEAKRSS [--stages 100] [--rounds 15] [--against OTHER]
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
    ap.add_argument("--against", help="another benchctl binary, timed in the same rounds")
    a = ap.parse_args()
    builds = [("benchctl", os.path.abspath(a.benchctl))]
    if a.against:
        builds.append(("against", os.path.abspath(a.against)))
    for name, b in builds:
        print(f"{name}: {b}")
    report(measure(builds, a), a)


def measure(builds, a):
    """Every build in the same alternating rounds (each in its own dir)."""
    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    qs = os.path.join(src, "examples", "quickstart", "benchmark.yaml")
    out = {}
    with tempfile.TemporaryDirectory() as top:
        dirs = {}
        for name, _ in builds:
            d = os.path.join(top, name)
            os.mkdir(d)
            with open(os.path.join(d, "overhead.yaml"), "w") as f:
                f.write("benchmark:\n  name: overhead\n  output_dir: ./runs\n"
                        "  shell: bash -c\n  git: {capture: false}\nstages:\n")
                for i in range(a.stages):
                    f.write(f"  - name: s{i}\n    command: 'true'\n")
            dirs[name] = d
        loop = ["bash", "-c", f"for i in $(seq {a.stages}); do bash -c true; done"]
        times = {name: [] for name, _ in builds}
        sh_times = []
        for name, bc in builds:  # warm caches
            timed([bc, "run", "-c", "overhead.yaml"], dirs[name])
        timed(loop, top)
        for _ in range(a.rounds):
            for name, bc in builds:
                t, _ = timed([bc, "run", "-c", "overhead.yaml"], dirs[name])
                times[name].append(t)
            t, _ = timed(loop, top)
            sh_times.append(t)
        for name, bc in builds:
            d = dirs[name]
            own_rss = []
            runs = sorted(int(x) for x in os.listdir(os.path.join(d, "runs")) if x.isdigit())
            for r in runs:
                with open(os.path.join(d, "runs", str(r), "metadata.json")) as f:
                    own_rss.append(json.load(f)["benchctl"]["peak_rss_kb"])
            val = []
            for _ in range(a.rounds):
                p = subprocess.run([os.path.abspath(a.peakrss), bc, "validate", "-c", qs], cwd=d,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                   check=True)
                ms, kb = p.stderr.strip().splitlines()[-1].split()
                val.append((float(ms) / 1000, int(kb)))
            out[name] = dict(run=statistics.median(times[name]), shell=statistics.median(sh_times),
                             rss=max(own_rss), val_ms=statistics.median(v[0] for v in val),
                             val_rss=max(v[1] for v in val))
    return out


def report(res, a):
    print(f"{a.stages} stages of `true`, {a.rounds} alternating rounds (medians)")
    for name, m in res.items():
        mb, ms = m["run"], m["shell"]
        print(f"[{name}]")
        print(f"  shell loop         {ms * 1000:8.1f} ms")
        print(f"  benchctl run       {mb * 1000:8.1f} ms")
        print(f"  ratio              {mb / ms:8.2f}x   (target <= 1.20x)")
        print(f"  per-stage overhead {(mb - ms) / a.stages * 1e6:8.0f} us")
        print(f"  benchctl peak RSS  {m['rss'] / 1024:8.2f} MiB (own VmHWM, max over runs; target <= 6 MiB)")
        print(f"  validate quickstart {m['val_ms'] * 1000:7.1f} ms wall, "
              f"{m['val_rss'] / 1024:.2f} MiB peak RSS")
    if "against" in res:
        b, o = res["benchctl"], res["against"]
        print(f"benchctl / against: run {b['run'] / o['run']:.3f}x, peak RSS "
              f"{b['rss'] / o['rss']:.3f}x, validate {b['val_ms'] / o['val_ms']:.3f}x")


if __name__ == "__main__":
    main()
