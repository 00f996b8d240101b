#!/usr/bin/env python3
"""The cost and the use of stage isolation (`limits:`), side by side in one run.

1. Cost: a config of N local stages of `true` without limits against the
   same stages with `limits: {cpus: 1, memory: 256M, pids: 1000}` (the
   wrapper script, a cgroup per stage where the machine has them), run
   alternately R rounds each; medians, their ratio, and the cost per stage.
   With --baseline OTHER (another build of benchctl, e.g. before a change
   to the wrapper), the limited config also runs under it in the same
   alternation: the per-stage cost of both builds side by side.
2. Use: the coefficient of variation of REPS repetitions of a CPU-bound
   command (its own elapsed time, printed by the command, so the wrapper's
   start-up is not in it) while a CPU hog spins on CPU 0: unpinned against
   pinned away from the hog (`limits: {cpus: "1"}`), alternately, one
   stage of `repeat: REPS` each, R2 rounds.  Needs 2 CPUs or more;
   --skip-stability leaves it out.

usage: limits_bench.py BENCHCTL [--stages 100] [--rounds 5] [--reps 30] [--rounds2 2]
                       [--baseline OTHER_BENCHCTL] [--skip-stability]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def run(benchctl, cfg, cwd):
    t0 = time.perf_counter()
    p = subprocess.run([benchctl, "run", "-c", cfg], cwd=cwd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"{cfg} failed ({p.returncode}): {p.stderr[-2000:]}")
    return dt


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def cost(a, top):
    stages = "".join(f"  - name: s{i}\n    command: 'true'\n" for i in range(a.stages))
    limited = "".join(f"  - name: s{i}\n    command: 'true'\n"
                      f"    limits: {{cpus: 1, memory: 256M, pids: 1000}}\n"
                      for i in range(a.stages))
    write(f"{top}/plain.yaml", f"benchmark: {{name: plain, output_dir: ./runs, report: false}}\n"
          f"stages:\n{stages}")
    write(f"{top}/limited.yaml", f"benchmark: {{name: limited, output_dir: ./runs, report: false}}\n"
          f"stages:\n{limited}")
    t = {"plain": [], "limited": [], "baseline": []}
    for _ in range(a.rounds):
        for name in ("plain", "limited"):
            t[name].append(run(a.benchctl, f"{top}/{name}.yaml", top))
        if a.baseline:
            t["baseline"].append(run(a.baseline, f"{top}/limited.yaml", top))
    mp, ml = statistics.median(t["plain"]), statistics.median(t["limited"])
    print(f"{a.stages} stages of `true`, {a.rounds} rounds, median wall time of `benchctl run`:")
    print(f"  without limits   {mp:8.3f} s   ({mp / a.stages * 1000:.1f} ms a stage)")
    print(f"  with limits      {ml:8.3f} s   ({ml / a.stages * 1000:.1f} ms a stage)")
    print(f"  ratio            {ml / mp:8.2f}x   (isolation adds {(ml - mp) / a.stages * 1000:.1f} "
          "ms a stage)")
    if a.baseline:
        mb = statistics.median(t["baseline"])
        print(f"  with limits, baseline build {mb:8.3f} s   ratio {mb / mp:.2f}x against no "
              f"limits (isolation adds {(mb - mp) / a.stages * 1000:.1f} ms a stage); "
              f"this build / baseline {ml / mb:.2f}x")


def cv_of(top, run_dir):
    """The CPU-bound command's own times (one line each in the stage log)."""
    with open(f"{run_dir}/metadata.json") as f:
        m = json.load(f)
    log = os.path.join(run_dir, m["stages"][0]["log"])
    with open(log) as f:
        xs = [float(line.split()[1]) for line in f if line.startswith("elapsed ")]
    return xs


def stability(a, top):
    if (os.cpu_count() or 1) < 2:
        print("skipped: repeat stability needs 2 CPUs")
        return
    # ~0.2 s of pure CPU, timed by the command itself
    cmd = json.dumps("python3 -c \"import time; t=time.perf_counter(); "
                     "s=sum(i*i for i in range(1000000)); "
                     "print('elapsed', time.perf_counter()-t)\"")
    for name, lim in (("unpinned", ""), ("pinned", "    limits: {cpus: \"1\"}\n")):
        write(f"{top}/{name}.yaml",
              f"benchmark: {{name: {name}, output_dir: ./runs-{name}, report: false}}\n"
              f"stages:\n  - name: spin\n    command: {cmd}\n    repeat: {a.reps}\n{lim}")
    hog = subprocess.Popen(["taskset", "-c", "0", "/usr/bin/python3", "-c", "while True: pass"])
    xs = {"unpinned": [], "pinned": []}
    try:
        for r in range(a.rounds2):
            for name in ("unpinned", "pinned"):
                run(a.benchctl, f"{top}/{name}.yaml", top)
                xs[name].append(cv_of(top, f"{top}/runs-{name}/{r + 1}"))
    finally:
        hog.kill()
        hog.wait()
    print(f"a CPU-bound command (~0.2 s), {a.reps} repetitions x {a.rounds2} rounds, a CPU hog "
          "on CPU 0 throughout:")
    res = {}
    for name in ("unpinned", "pinned"):
        cvs = [statistics.stdev(x) / statistics.mean(x) for x in xs[name]]
        allx = [v for x in xs[name] for v in x]
        res[name] = statistics.median(cvs)
        print(f"  {name:9s} CV {res[name] * 100:6.2f} %  (rounds: "
              f"{', '.join(f'{c * 100:.2f} %' for c in cvs)}; median time "
              f"{statistics.median(allx):.3f} s)")
    print(f"  CV ratio unpinned / pinned: {res['unpinned'] / res['pinned']:.2f}x")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("benchctl")
    ap.add_argument("--stages", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--rounds2", type=int, default=2)
    ap.add_argument("--baseline", help="another benchctl build to run the limited config with")
    ap.add_argument("--skip-stability", action="store_true", help="the cost figure only")
    a = ap.parse_args()
    a.benchctl = os.path.abspath(a.benchctl)
    if a.baseline:
        a.baseline = os.path.abspath(a.baseline)
    print(f"load average before: {os.getloadavg()[0]:.2f} (a shared machine: figures vary)")
    with tempfile.TemporaryDirectory() as top:
        cost(a, top)
        if not a.skip_stability:
            stability(a, top)


if __name__ == "__main__":
    main()
