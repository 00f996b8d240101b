#!/usr/bin/env python3
"""Profiling mode (issue 22), side by side in one run:

1. Overhead: a CPU-bound `repeat: 20` stage with and without `profile:`
   (perf at 99 Hz), several rounds of both in one benchctl run, alternating
   which goes first; the medians of their wall times, the difference, and
   the spread between the unprofiled rounds (the noise floor).  A profiled
   repetition's wall_s is the command's own span under perf (ABI 1.7):
   perf's start-up and write-out are each run's profiler_s, shown apart.
2. Folding and drawing 1,000,000 samples: a stored run whose folded
   stacks hold 1,000,000 samples (one line per sample, random walks down a
   call tree of 3,000 functions, depth 5 to 40) compared with one of 1,000
   by `benchctl profile A B` (load both into frame trees, per-function
   differences, the differential flame graph): wall and CPU time and peak
   RSS, against a reference that only reads the big file and sums its
   stacks in Python (a dict), interleaved, and the SVG's size; then the
   same samples as perf writes them (one sorted line per distinct stack).

usage: profile_bench.py BENCHCTL PEAKRSS [--reps 20] [--work N] [--samples 1000000] [--rounds 3]
"""
import argparse
import json
import os
import random
import resource
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


def peak_cpu(peakrss, cmd, cwd):
    """(wall s, CPU s of the command and its children, peak RSS KiB)"""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t, kb = peak(peakrss, cmd, cwd)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return t, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), kb


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
    # rounds of one plain and one profiled stage, alternating which goes first
    stages, names = [], []
    for r in range(a.rounds):
        pair = [("plain", ""), ("profiled", prof)]
        if r % 2:
            pair.reverse()
        for kind, extra in pair:
            name = f"{kind}_{r + 1}"
            names.append(name)
            stages.append(STAGE.format(name=name, hot=hot, work=a.work, reps=a.reps, extra=extra))
    with open(os.path.join(d, "o.yaml"), "w") as f:
        f.write(CONFIG.format(stages="".join(stages)))
    subprocess.run([a.benchctl, "run", "-c", "o.yaml"], cwd=d, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run = os.path.join(d, "runs", "1")
    m = medians(run)
    meta = json.load(open(os.path.join(run, "metadata.json")))
    rep = {s["name"]: s["repeat"] for s in meta["stages"]}
    plain = [m[n] for n in names if n.startswith("plain")]
    profd = [m[n] for n in names if n.startswith("profiled")]
    print(f"  CPU-bound stage, repeat {a.reps} (+1 warm-up), {a.rounds} rounds of plain and "
          f"profiled (perf 99 Hz), alternating which goes first, in one run:")
    for r in range(a.rounds):
        p, q = m[f"plain_{r + 1}"], m[f"profiled_{r + 1}"]
        print(f"    round {r + 1}: median wall without {p:.4f} s, with {q:.4f} s: "
              f"{100 * (q / p - 1):+.2f} %")
    mp, mq = statistics.median(plain), statistics.median(profd)
    print(f"    median of the rounds' medians: without {mp:.4f} s, with {mq:.4f} s: "
          f"{100 * (mq / mp - 1):+.2f} %  (ratio {mq / mp:.4f}; target <= 2 %)")
    spread = (max(plain) - min(plain)) / statistics.mean(plain)
    print(f"    spread between unprofiled rounds (the noise floor here): {100 * spread:.2f} % "
          f"({', '.join(f'{x:.4f}' for x in plain)})")
    pr = [r["profiler_s"] for n in names if n.startswith("profiled") for r in rep[n]["runs"]]
    print(f"    perf's start-up and write-out per run (profiler_s, outside wall_s): median "
          f"{statistics.median(pr):.3f} s, {min(pr):.3f} to {max(pr):.3f} s")
    print(f"    what wall_s covers (profiled): {rep[names[1] if names[1].startswith('profiled') else names[0]]['wall_covers'][:60]}...")
    c = medians(run, lambda r: r["user_cpu_s"] + r["system_cpu_s"])
    cp = statistics.median([c[n] for n in names if n.startswith("plain")])
    cq = statistics.median([c[n] for n in names if n.startswith("profiled")])
    print(f"    median CPU time (user + system, perf's own included): {cp:.4f} s without, "
          f"{cq:.4f} s with: {100 * (cq / cp - 1):+.2f} %")


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
    svg = os.path.join(d, "runs", "2", "profiles", "diff-1", "s.svg")
    print(f"  a folded file of {a.samples:,} samples ({size / 1e6:.0f} MB, one line per sample, "
          f"random order) against one of 1,000; CPU time (user + system) beside the wall time, "
          f"which on a loaded machine is mostly waiting:")
    res = {}
    for rnd in range(2):  # interleaved, twice
        for what, cmd in (("benchctl", [a.benchctl, "profile", "1", "2", "-c", "f.yaml", "--json"]),
                          ("python", ["/usr/bin/python3", "-c", REF, big])):
            res.setdefault(what, []).append(peak_cpu(a.peakrss, cmd, d))
    t, cpu, rss = [statistics.median(x) for x in zip(*res["benchctl"])]
    tr, cpur, rssr = [statistics.median(x) for x in zip(*res["python"])]
    print(f"    benchctl profile 1 2 (load both, per-function differences, differential flame "
          f"graph): {t:.2f} s wall, {cpu:.2f} s CPU, peak RSS {rss / 1024:.0f} MiB")
    print(f"    reference: Python reads the big file and sums its stacks: {tr:.2f} s wall, "
          f"{cpur:.2f} s CPU, peak RSS {rssr / 1024:.0f} MiB")
    print(f"    ratio to the reference: CPU {cpu / cpur:.2f}, wall {t / tr:.2f}, RSS {rss / rssr:.2f}; "
          f"flame graph {os.path.getsize(svg) / 1e6:.1f} MB")
    # the same samples as perf's stackcollapse writes them: one line per
    # distinct stack, sorted
    agg = {}
    with open(big) as f:
        for line in f:
            st, n = line.rsplit(" ", 1)
            agg[st] = agg.get(st, 0) + int(n)
    with open(big, "w") as f:
        for st in sorted(agg):
            f.write(f"{st} {agg[st]}\n")
    t2, cpu2, rss2 = peak_cpu(a.peakrss, [a.benchctl, "profile", "1", "2", "-c", "f.yaml", "--json"], d)
    print(f"    the same samples as perf writes them ({len(agg):,} distinct stacks, sorted, "
          f"{os.path.getsize(big) / 1e6:.0f} MB): {t2:.2f} s wall, {cpu2:.2f} s CPU, peak RSS "
          f"{rss2 / 1024:.0f} MiB")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("benchctl")
    ap.add_argument("peakrss")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--work", type=int, default=200000000, help="hot's N (about 0.3 s here)")
    ap.add_argument("--samples", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=3, help="plain/profiled pairs of stages")
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
