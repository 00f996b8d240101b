#!/usr/bin/env python3
"""Plotting a 1,000,000-point time series to PNG: benchctl's gnuplot plugin
against seaborn (what the Go benchctl ran for `engine: seaborn`).

A CSV of N rows (timestamp_ms as unix_ms, latency_ms float, status string)
is generated once.  Then, alternating, R rounds each:

  benchctl  the plot-gnuplot plugin, driven by the `render` mode of the
            plugin's unit-test program (tests/unit/test_plot_gnuplot.c),
            with the column schema the core would pass;
  seaborn   python3 + pandas + seaborn: read the CSV, convert the unix_ms
            column to datetimes, sns.lineplot(x, y), 1200x600 px at 150 dpi,
            savefig PNG, as the Go tool's seaborn_runner.py did.

Both are timed as whole processes (start-up included) and both draw the
same 1200x600 PNG.  Prints the medians and the ratio seaborn / benchctl.
Without seaborn (Debian: python3-seaborn) the comparison is skipped with a
message, and only benchctl's time is printed.

usage: plot_series.py DRIVER PLUGIN [--rows 1000000] [--rounds 3]
                      [--keep DIR] [--groupby]
  DRIVER  build/tests/unit/test_plot_gnuplot
  PLUGIN  build/plugins/plot-gnuplot.so
"""
import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

SEABORN = r"""
import sys, time
import matplotlib
matplotlib.use("Agg")
import pandas as pd
import seaborn as sns
import matplotlib.pyplot as plt
import matplotlib.dates as mdates
src, out, groupby = sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None
df = pd.read_csv(src)
df["timestamp_ms"] = pd.to_datetime(df["timestamp_ms"], unit="ms")
sns.set_theme(style="whitegrid")
dpi = 150
plt.figure(figsize=(1200 / dpi, 600 / dpi), dpi=dpi)
ax = sns.lineplot(data=df, x="timestamp_ms", y="latency_ms", hue=groupby)
ax.xaxis.set_major_locator(mdates.AutoDateLocator())
ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))
plt.title("latency over time")
plt.tight_layout()
plt.savefig(out, format="png")
"""


def make_csv(path, rows, seed=1):
    rnd = random.Random(seed)
    t = 1714564800000
    with open(path, "w") as f:
        f.write("timestamp_ms,latency_ms,status\n")
        lines = []
        lat = 20.0
        for i in range(rows):
            t += 10  # one request every 10 ms: 10,000 s for a million rows
            lat = max(0.5, lat + rnd.gauss(0, 1.5) + (20.0 - lat) * 0.05)
            spike = 8.0 if rnd.random() < 0.001 else 1.0
            r = rnd.random()
            status = "200" if r < 0.95 else ("404" if r < 0.98 else "500")
            lines.append("%d,%.3f,%s\n" % (t, lat * spike, status))
            if len(lines) == 100000:
                f.writelines(lines)
                lines = []
        f.writelines(lines)


def timed(argv):
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"{argv[0]} failed ({p.returncode}):\n{p.stderr}")
    return dt


def seaborn_python():
    """A python3 that has seaborn: this one, or Debian's (python3-seaborn)."""
    for py in (sys.executable, "/usr/bin/python3"):
        if os.path.exists(py) and subprocess.run(
                [py, "-c", "import seaborn, pandas"], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL).returncode == 0:
            return py
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("driver")
    ap.add_argument("plugin")
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--keep", help="directory to keep the CSV and both PNGs in")
    ap.add_argument("--groupby", action="store_true", help="one series per status")
    a = ap.parse_args()
    d = a.keep or tempfile.mkdtemp(prefix="plot_series.")
    os.makedirs(d, exist_ok=True)
    csv = os.path.join(d, "series.csv")
    t0 = time.perf_counter()
    make_csv(csv, a.rows)
    print(f"generated {a.rows} rows ({os.path.getsize(csv) / 1e6:.1f} MB) in "
          f"{time.perf_counter() - t0:.1f} s: {csv}")
    ours = [os.path.abspath(a.driver), "render", os.path.abspath(a.plugin),
            "--source", csv, "--out", os.path.join(d, "benchctl.png"),
            "--type", "time_series", "--x", "timestamp_ms", "--y", "latency_ms",
            "--title", "latency over time",
            "--col", "timestamp_ms:timestamp:unix_ms:ms", "--col", "latency_ms:float::ms",
            "--col", "status:string", "--opt", "x_timestamp_format=medium"]
    py = seaborn_python()
    theirs = [py or sys.executable, "-c", SEABORN, csv, os.path.join(d, "seaborn.png")]
    if a.groupby:
        ours += ["--groupby", "status"]
        theirs += ["status"]
    sb = py is not None
    if not sb:
        print("seaborn is not installed (Debian: apt-get install python3-seaborn): "
              "timing benchctl only")
    timed(ours)  # warm the page cache
    bc_times, sb_times = [], []
    for _ in range(a.rounds):
        bc_times.append(timed(ours))
        if sb:
            sb_times.append(timed(theirs))
    bc = statistics.median(bc_times)
    print(f"benchctl (gnuplot plugin): median {bc:.2f} s  ({', '.join(f'{t:.2f}' for t in bc_times)})")
    if sb:
        s = statistics.median(sb_times)
        print(f"seaborn lineplot:          median {s:.2f} s  ({', '.join(f'{t:.2f}' for t in sb_times)})")
        print(f"ratio seaborn / benchctl:  {s / bc:.1f}x ({'benchctl faster' if s > bc else 'seaborn faster'})")
    print(f"PNGs in {d}")


if __name__ == "__main__":
    main()
