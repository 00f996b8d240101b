#!/usr/bin/python3
"""Statistics figures, each side by side with a reference in one run.

1. summary: a 10,000,000-row CSV column through `benchctl run` (validated,
   every value kept, exact mean/stddev/percentiles/MAD) against numpy
   loading the same CSV (np.loadtxt, C-implemented since numpy 1.23) and
   computing the same statistics.  Wall time and peak RSS of each
   (peakrss), and their ratios.
2. compare: two runs with 20 metrics x 1,000,000 samples each (made by
   `benchctl run` from generated CSVs); `benchctl compare A B --json` wall
   time, next to scipy.stats.mannwhitneyu on the same 20 sample pairs (U
   test only: scipy has no Hodges-Lehmann).
3. repeat: a stage with `repeat: 30` (warmup 3) of a ~10 ms command; the
   mean benchctl reports against hyperfine's mean for the same command
   (--warmup 3 --runs 30); they must agree within 5 %.  Rounds alternate.

Uses Debian's python3-numpy, python3-scipy and hyperfine (scripts/bench.sh
installs them).  usage: stats_bench.py BENCHCTL PEAKRSS [--rows N]
[--only summary,compare,repeat] [--rounds R]
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

import numpy as np


def peak(peakrss, cmd, cwd):
    p = subprocess.run([peakrss] + cmd, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit("failed: %s\n%s%s" % (" ".join(cmd), p.stdout, p.stderr[-3000:]))
    wall_ms, rss_kb = p.stderr.strip().splitlines()[-1].split()
    return float(wall_ms) / 1000, int(rss_kb)


NUMPY_SCRIPT = r"""
import sys, numpy as np, scipy.stats
x = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1, usecols=1)
x = x[np.isfinite(x)]
q = np.percentile(x, [50, 90, 95, 99, 99.9])
print(len(x), x.mean(), x.std(ddof=1), x.min(), x.max(), *q,
      scipy.stats.median_abs_deviation(x))
"""


def bench_summary(a, d):
    rows = a.rows
    csv = os.path.join(d, "col.csv")
    rng = np.random.default_rng(1)
    ts = 1700000000 + np.arange(rows) * 0.001
    lat = rng.lognormal(1.0, 0.6, rows)
    with open(csv, "w") as f:
        f.write("ts,latency\n")
        chunk = 1_000_000
        for i in range(0, rows, chunk):
            np.savetxt(f, np.column_stack([ts[i:i + chunk], lat[i:i + chunk]]),
                       fmt=["%.3f", "%.6f"], delimiter=",")
    size = os.path.getsize(csv)
    with open(os.path.join(d, "s.yaml"), "w") as f:
        f.write("""benchmark: {name: stats-bench, output_dir: ./runs}
stages:
  - name: load
    command: "true"
    outputs:
      - name: col
        remote_path: %s
        data_schema:
          columns:
            - {name: ts, type: timestamp, format: unix}
            - {name: latency, type: float, unit: ms, better: lower}
""" % csv)
    np_script = os.path.join(d, "np_stats.py")
    with open(np_script, "w") as f:
        f.write(NUMPY_SCRIPT)
    subprocess.run(["cat", csv], stdout=subprocess.DEVNULL)  # page cache
    bc_t, np_t, bc_r, np_r = [], [], [], []
    for r in range(a.rounds):
        shutil.rmtree(os.path.join(d, "runs"), ignore_errors=True)
        t, rss = peak(a.peakrss, [a.benchctl, "run", "-c", "s.yaml"], d)
        bc_t.append(t)
        bc_r.append(rss)
        t, rss = peak(a.peakrss, ["/usr/bin/python3", np_script, csv], d)
        np_t.append(t)
        np_r.append(rss)
    res = json.load(open(os.path.join(d, "runs", "1", "results.json")))
    c = res["cases"][0]["outputs"][0]["columns"]["latency"]
    out = subprocess.run(["/usr/bin/python3", np_script, csv], capture_output=True,
                         text=True).stdout.split()
    ref = [float(v) for v in out]
    mine = [c["count"], c["mean"], c["stddev"], c["min"], c["max"], c["median"], c["p90"],
            c["p95"], c["p99"], c["p999"], c["mad"]]
    worst = max(abs(m - r) / max(abs(r), 1e-300) for m, r in zip(mine, ref))
    bt, nt = statistics.median(bc_t), statistics.median(np_t)
    br, nr = max(bc_r), max(np_r)
    print("summary of a %d-row column (CSV %.0f MB), median of %d rounds:" %
          (rows, size / 1e6, a.rounds))
    print("  benchctl run (validate + exact stats):  %6.2f s  peak RSS %7.1f MiB" %
          (bt, br / 1024))
    print("  numpy loadtxt + percentiles + MAD:       %6.2f s  peak RSS %7.1f MiB" %
          (nt, nr / 1024))
    print("  ratio benchctl/numpy: time %.2fx, memory %.3fx; largest relative difference "
          "of the 11 statistics: %.1e" % (bt / nt, br / nr, worst))


def bench_compare(a, d):
    n, metrics = 1_000_000, 20
    rng = np.random.default_rng(2)
    cols = ["m%02d" % i for i in range(metrics)]
    yaml = """benchmark: {name: cmp-bench, output_dir: ./cruns}
stages:
  - name: gen
    command: "true"
    outputs:
      - name: data
        remote_path: %s/$DATA
        data_schema:
          columns:
""" % d + "".join("            - {name: %s, type: float, better: lower}\n" % c for c in cols)
    with open(os.path.join(d, "c.yaml"), "w") as f:
        f.write(yaml)
    for run, shift in (("a.csv", 0.0), ("b.csv", 0.01)):
        data = rng.normal(100, 10, (n, metrics)) + shift * 100 * (np.arange(metrics) % 2)
        with open(os.path.join(d, run), "w") as f:
            f.write(",".join(cols) + "\n")
            np.savetxt(f, data, fmt="%.4f", delimiter=",")
        p = subprocess.run([a.benchctl, "run", "-c", "c.yaml", "-e", "DATA=" + run], cwd=d,
                           capture_output=True, text=True)
        if p.returncode:
            sys.exit(p.stderr)
    bc_t, sp_t = [], []
    sp_script = os.path.join(d, "sp.py")
    with open(sp_script, "w") as f:
        f.write(r"""
import sys, glob, numpy as np, scipy.stats
a = sorted(glob.glob(sys.argv[1] + "/cruns/1/samples/data/*.f64"))
b = sorted(glob.glob(sys.argv[1] + "/cruns/2/samples/data/*.f64"))
for x, y in zip(a, b):
    scipy.stats.mannwhitneyu(np.fromfile(x), np.fromfile(y))
""")
    for r in range(a.rounds):
        t0 = time.monotonic()
        p = subprocess.run([a.benchctl, "compare", "1", "2", "--json", "-o", "cruns"], cwd=d,
                           capture_output=True, text=True)
        bc_t.append(time.monotonic() - t0)
        if p.returncode not in (0, 3):
            sys.exit(p.stderr)
        t0 = time.monotonic()
        subprocess.run(["/usr/bin/python3", sp_script, d], check=True)
        sp_t.append(time.monotonic() - t0)
    bt, st = statistics.median(bc_t), statistics.median(sp_t)
    print("compare of 2 runs x %d metrics x %d samples, median of %d rounds:" %
          (metrics, n, a.rounds))
    print("  benchctl compare --json (MWU + HL with CI + BH + verdicts): %.2f s" % bt)
    print("  scipy mannwhitneyu alone on the same pairs:                 %.2f s" % st)
    print("  ratio benchctl/scipy: %.2fx" % (bt / st))


def bench_repeat(a, d):
    cmd = "sleep 0.01"
    with open(os.path.join(d, "r.yaml"), "w") as f:
        f.write("""benchmark: {name: repeat-bench, output_dir: ./rruns}
stages:
  - name: sleep
    command: %s
    repeat: 30
    warmup: 3
""" % cmd)
    bc_m, hf_m = [], []
    for r in range(a.rounds):
        shutil.rmtree(os.path.join(d, "rruns"), ignore_errors=True)
        subprocess.run([a.benchctl, "run", "-c", "r.yaml"], cwd=d, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        res = json.load(open(os.path.join(d, "rruns", "1", "results.json")))
        bc_m.append(res["cases"][0]["stages"][0]["repeat"]["metrics"]["wall_s"]["mean"])
        j = os.path.join(d, "hf.json")
        subprocess.run(["hyperfine", "-N" if a.no_shell else "--shell=bash", "--warmup", "3",
                        "--runs", "30", "--export-json", j, cmd], cwd=d, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        hf_m.append(json.load(open(j))["results"][0]["mean"])
    bm, hm = statistics.median(bc_m), statistics.median(hf_m)
    print("repeat: 30 (warmup 3) of `%s`, %d alternating rounds:" % (cmd, a.rounds))
    print("  benchctl mean %.3f ms   (rounds: %s)" %
          (bm * 1e3, ", ".join("%.3f" % (x * 1e3) for x in bc_m)))
    print("  hyperfine mean %.3f ms  (rounds: %s)" %
          (hm * 1e3, ", ".join("%.3f" % (x * 1e3) for x in hf_m)))
    diff = bm / hm - 1
    print("  difference %+.2f %% (target: within 5 %%): %s" %
          (diff * 100, "ok" if abs(diff) <= 0.05 else "MISSED"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("benchctl")
    ap.add_argument("peakrss")
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default="summary,compare,repeat")
    ap.add_argument("--no-shell", action="store_true",
                    help="hyperfine -N instead of its default shell with correction")
    a = ap.parse_args()
    a.benchctl = os.path.abspath(a.benchctl)
    a.peakrss = os.path.abspath(a.peakrss)
    d = tempfile.mkdtemp(prefix="benchctl-stats-bench.")
    try:
        for part in a.only.split(","):
            {"summary": bench_summary, "compare": bench_compare, "repeat": bench_repeat}[part](a, d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
