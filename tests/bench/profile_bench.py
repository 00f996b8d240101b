#!/usr/bin/env python3
"""Profiling mode (issue 22), side by side in one run:

1. Overhead: a CPU-bound `repeat: 20` stage with and without `profile:`
   (perf at 99 Hz), in one benchctl run, alternating which goes first; the
   medians of their wall times and the difference.  Part of that difference
   is perf's fixed start-up and write-out per run, which does not grow with
   the workload: measured here as the median of `perf record ... -- true`
   and shown apart, so the sampling's own cost is visible.
2. Folding and drawing 1,000,000 samples: a stored run whose folded
   stacks hold 1,000,000 samples (one line per sample, random walks down a
   call tree of 3,000 functions, depth 5 to 40) compared with one of 1,000
   by `benchctl profile A B` (load both into frame trees, per-function
   differences, the differential flame graph): wall time and peak RSS,
   against a reference that only reads the big file and sums its stacks in
   Python (a dict), and the SVG's size.

usage: profile_bench.py BENCHCTL PEAKRSS [--reps 20] [--work N] [--samples 1000000]
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time

HOT_C = r"""
#include <stdlib.h>
volatile unsigned long sink;
__attribute__((noinline)) void heavy(unsigned long n) { for (unsigned long i = 0; i < 3 * n; i++) sink += i * 7; }
__attribute__((noinline)) void light(unsigned long n) { for (unsigned long i = 0; i < n; i++) sink += i * 7; }
int main(int argc, char **argv) { unsigned long n = strtoul(argv[1], 0, 10); heavy(n); light(n); return 0; }
"""

CONFIG = """benchmark: {{name: pb, output_dir: ./runs, git: {{capture: false}}, report: false}}
stages:
{stages}
"""
STAGE = """  - name: {name}
    command: "{hot} {work}"
    repeat: {reps}
    warmup: 1
{extra}"""


def peak(peakrss, cmd, cwd):
    p = subprocess.run([peakrss] + cmd, cwd=cwd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    assert p.returncode == 0, (cmd, p.stderr)
    ms, kb = p.stderr.strip().splitlines()[-1].split()
    return float(ms) / 1000, int(kb)


def medians(run_dir, key=lambda r: r["wall_s"]):
    meta = json.load(open(os.path.join(run_dir, "metadata.json")))
    out = {}
    for s in meta["stages"]:
        runs = s["repeat"]["runs"]
        out[s["name"]] = statistics.median(key(r) for r in runs)
    return out


def overhead(a, d):
    hot = os.path.join(d, "hot")
    subprocess.run(["cc", "-O1", "-fno-omit-frame-pointer", "-o", hot, "-x", "c", "-"],
                   input=HOT_C, text=True, check=True)
    prof = "    profile: {with: perf, frequency: 99}\n"
    stages = [STAGE.format(name="plain_a", hot=hot, work=a.work, reps=a.reps, extra=""),
              STAGE.format(name="profiled_a", hot=hot, work=a.work, reps=a.reps, extra=prof),
              STAGE.format(name="profiled_b", hot=hot, work=a.work, reps=a.reps, extra=prof),
              STAGE.format(name="plain_b", hot=hot, work=a.work, reps=a.reps, extra="")]
    with open(os.path.join(d, "o.yaml"), "w") as f:
        f.write(CONFIG.format(stages="".join(stages)))
    subprocess.run([a.benchctl, "run", "-c", "o.yaml"], cwd=d, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    m = medians(os.path.join(d, "runs", "1"))
    plain = statistics.mean([m["plain_a"], m["plain_b"]])
    profd = statistics.mean([m["profiled_a"], m["profiled_b"]])
    # perf's fixed cost per run
    fixed = []
    for _ in range(10):
        t0 = time.perf_counter()
        subprocess.run(["perf", "record", "-q", "--no-bpf-event", "-F", "99", "--call-graph", "fp",
                        "-o", os.path.join(d, "t.data"), "--", "sh", "-c", "true"], check=True)
        fixed.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    for _ in range(10):
        subprocess.run(["sh", "-c", "true"], check=True)
    sh = (time.perf_counter() - t0) / 10
    fx = statistics.median(fixed) - sh
    print(f"  CPU-bound stage, repeat {a.reps} (+1 warm-up), each case twice (first and last):")
    print(f"    median wall without profile: {plain:.4f} s  ({m['plain_a']:.4f}, {m['plain_b']:.4f})")
    print(f"    median wall with perf 99 Hz: {profd:.4f} s  ({m['profiled_a']:.4f}, {m['profiled_b']:.4f})")
    print(f"    difference: {100 * (profd / plain - 1):+.2f} %  (ratio {profd / plain:.4f})")
    c = medians(os.path.join(d, "runs", "1"), lambda r: r["user_cpu_s"] + r["system_cpu_s"])
    cp = statistics.mean([c["plain_a"], c["plain_b"]])
    cq = statistics.mean([c["profiled_a"], c["profiled_b"]])
    print(f"    median CPU time (user + system, perf's included): {cp:.4f} s without, "
          f"{cq:.4f} s with: {100 * (cq / cp - 1):+.2f} %")
    print(f"    perf's fixed start-up and write-out per run (perf record -- true, minus sh): {fx:.4f} s")
    print(f"    difference without that fixed cost (the sampling): "
          f"{100 * ((profd - fx) / plain - 1):+.2f} %")


def synth_folded(path, samples, seed):
    """samples lines of one sample each, as perf script writes them before
    folding: random walks down a call tree of 3,000 functions (each frame
    calls 1 to 6 others), stopping at each level with probability 0.12 and
    at depth 40, so stacks share prefixes and repeat as real ones do."""
    rnd = random.Random(seed)
    funcs = [f"ns{i % 37}::func_{i}" for i in range(3000)]
    kids = {}
    with open(path, "w") as f:
        for _ in range(samples):
            stack = ["_start", "__libc_start_main", "main"]
            node = "main"
            key = node
            while len(stack) < 40 and (len(stack) < 5 or rnd.random() > 0.12):
                ch = kids.get(key)
                if ch is None:
                    ch = kids[key] = [funcs[rnd.randint(0, 2999)] for _ in range(rnd.randint(1, 6))]
                node = ch[min(int(rnd.expovariate(1.0)), len(ch) - 1)]
                stack.append(node)
                key = key + ";" + node
            f.write(";".join(stack) + " 1\n")


REF = r"""
import sys
for p in sys.argv[1:]:
    d = {}
    for line in open(p):
        s, n = line.rsplit(" ", 1)
        d[s] = d.get(s, 0) + int(n)
"""


def folding(a, d):
    with open(os.path.join(d, "f.yaml"), "w") as f:
        f.write(CONFIG.format(stages="  - name: s\n    command: \"true\"\n"
                              "    profile: {with: perf, frequency: 99}\n"))
    for _ in range(2):
        subprocess.run([a.benchctl, "run", "-c", "f.yaml"], cwd=d, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    small = os.path.join(d, "runs", "1", "profiles", "s.folded")
    big = os.path.join(d, "runs", "2", "profiles", "s.folded")
    synth_folded(small, 1000, 1)
    synth_folded(big, a.samples, 2)
    size = os.path.getsize(big)
    t, rss = peak(a.peakrss, [a.benchctl, "profile", "1", "2", "-c", "f.yaml", "--json"], d)
    tr, rssr = peak(a.peakrss, ["/usr/bin/python3", "-c", REF, big], d)
    svg = os.path.join(d, "runs", "2", "profiles", "diff-1", "s.svg")
    print(f"  a folded file of {a.samples:,} samples ({size / 1e6:.0f} MB, one line per sample) "
          f"against one of 1,000:")
    print(f"    benchctl profile 1 2 (load both, per-function differences, differential flame "
          f"graph): {t:.2f} s, peak RSS {rss / 1024:.0f} MiB")
    print(f"    reference: Python reads the big file and sums its stacks: {tr:.2f} s, peak RSS "
          f"{rssr / 1024:.0f} MiB")
    print(f"    ratio to the reference: time {t / tr:.2f}, RSS {rss / rssr:.2f}; "
          f"flame graph {os.path.getsize(svg) / 1e6:.1f} MB")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("benchctl")
    ap.add_argument("peakrss")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--work", type=int, default=200000000, help="hot's N (about 0.3 s here)")
    ap.add_argument("--samples", type=int, default=1000000)
    a = ap.parse_args()
    a.benchctl = os.path.abspath(a.benchctl)
    a.peakrss = os.path.abspath(a.peakrss)
    if shutil.which("perf") is None:
        print("  skipped: perf is not installed")
        return
    with tempfile.TemporaryDirectory() as d:
        overhead(a, d)
    with tempfile.TemporaryDirectory() as d:
        folding(a, d)


if __name__ == "__main__":
    main()
