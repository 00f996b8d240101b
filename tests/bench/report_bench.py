#!/usr/bin/env python3
"""The HTML report of a big run: generation time and file size.

One real run (made once, with --no-report) of a config with 100 stages, one
of which writes a 1,000,000-row CSV output (validated, with statistics and
samples), and 10 gnuplot plots of that output.  Then, alternating, R rounds
each, timed as whole processes:

  report  benchctl report ID        (writes report.html)
  stats   benchctl stats ID         (the same run's statistics as text: the
                                     reference, a reader of the same record)

Prints the medians, their ratio, and the report's size (the issue's targets:
under 1 s and under 3 MB).

usage: report_bench.py BENCHCTL [--rows 1000000] [--stages 100] [--plots 10]
                       [--rounds 5] [--keep DIR]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def config(rows, stages, plots):
    lines = ["benchmark:", "  name: report-bench", "  output_dir: ./results", "stages:",
             "  - name: big", "    command: |",
             "      awk 'BEGIN { print \"i,latency_ms,bytes\"; srand(1);",
             f"        for (i = 1; i <= {rows}; i++) printf \"%d,%.3f,%d\\n\", i, 1 + rand() * 9, 1000 + i % 97 }}' > big.csv",
             "    outputs:", "      - name: big", "        remote_path: big.csv", "        data_schema:",
             "          columns:", "            - {name: i, type: integer}",
             "            - {name: latency_ms, type: float, unit: ms, better: lower}",
             "            - {name: bytes, type: integer, unit: bytes}"]
    for s in range(1, stages):
        lines += [f"  - name: step-{s:03d}", f"    command: echo step {s}"]
    lines.append("plots:")
    kinds = ["scatter", "histogram", "cdf", "boxplot", "scatter"]
    for p in range(plots):
        kind = kinds[p % len(kinds)]
        lines += [f"  - name: plot-{p}", "    source: big", f"    type: {kind}"]
        if kind == "scatter":
            lines += ["    x: i", "    y: latency_ms" if p % 2 == 0 else "    y: bytes"]
        else:
            lines += ["    y: latency_ms" if kind == "boxplot" else "    x: latency_ms"]
        if p == plots - 1:
            lines.append("    format: svg")
    return "\n".join(lines) + "\n"


def timed(cmd, cwd):
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("benchctl")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--stages", type=int, default=100)
    ap.add_argument("--plots", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--keep")
    a = ap.parse_args()
    bc = os.path.abspath(a.benchctl)
    d = a.keep or tempfile.mkdtemp(prefix="report-bench.")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "benchmark.yaml"), "w") as f:
        f.write(config(a.rows, a.stages, a.plots))
    t0 = time.perf_counter()
    r = subprocess.run([bc, "run", "-c", "benchmark.yaml", "--no-report"], cwd=d,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    run_s = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"the run failed ({r.returncode}): {r.stderr[-2000:]}")
    ids = sorted(int(x) for x in os.listdir(os.path.join(d, "results")) if x.isdigit())
    rid = str(ids[-1])
    rep, ref = [], []
    for _ in range(a.rounds):
        rep.append(timed([bc, "report", rid, "-c", "benchmark.yaml"], d))
        ref.append(timed([bc, "stats", rid, "-c", "benchmark.yaml"], d))
    path = os.path.join(d, "results", rid, "report.html")
    size = os.path.getsize(path)
    res = os.path.getsize(os.path.join(d, "results", rid, "results.json"))
    mr, mf = statistics.median(rep), statistics.median(ref)
    print(f"run: {a.rows} rows, {a.stages} stages, {a.plots} plots; the run took {run_s:.1f} s")
    print(f"report ID  median {mr * 1000:.1f} ms over {a.rounds} rounds "
          f"(target < 1000 ms)  size {size / 1e6:.2f} MB (target < 3 MB)")
    print(f"stats ID   median {mf * 1000:.1f} ms (reference; results.json {res / 1e3:.0f} kB)")
    print(f"ratio report / stats: {mr / mf:.2f}")
    if not a.keep:
        subprocess.run(["rm", "-rf", d], check=False)


if __name__ == "__main__":
    main()
