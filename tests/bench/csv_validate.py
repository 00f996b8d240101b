#!/usr/bin/env python3
"""CSV validation throughput of validator-csv.so, side by side with `wc -l`.

Generates a CSV of --size-mib MiB (default 1024) in a temporary directory:
a header and rows of (timestamp unix_ms, float, float, string), e.g.

    ts,a,b,name
    1714564800123,12.345,0.00731,host-17

then times, on the same (page-cached) file, R rounds each (median):

  - the validator, through the plugin-level test driver
    (tests/unit/test_validator_csv PLUGIN - bench FILE), which reports its
    own elapsed time and peak RSS (VmHWM);
  - `wc -l FILE`;
  - `mlr --icsv --ojson cat FILE > /dev/null` when mlr (Debian: miller) is
    installed -- one round, it is slow; not installed by this script.

Prints the times, the ratio validator / wc -l (target <= 10x), MB/s and
the validator's peak RSS (target <= 16 MiB).  Not run in CI.

usage: csv_validate.py [--build DIR] [--size-mib 1024] [--rounds 3]
                       [--tmpdir DIR] [--keep]
(DIR: a build with the tests, preferably Release: the driver is a test
program; default: build/)
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))


def generate(path, size):
    """size bytes (rounded up to whole rows) of the benchmark's shape."""
    rnd = random.Random(42)
    blocks = []
    ts = 1714564800000
    for _ in range(8):  # a few distinct 4 MiB blocks, cycled
        rows = []
        n = 0
        while n < 4 << 20:
            ts += rnd.randint(0, 20)
            r = "%d,%.3f,%.5f,host-%d\n" % (ts, rnd.uniform(0, 100), rnd.expovariate(100),
                                           rnd.randint(0, 63))
            rows.append(r)
            n += len(r)
        blocks.append("".join(rows).encode())
    written = 0
    with open(path, "wb") as f:
        f.write(b"ts,a,b,name\n")
        i = 0
        while written < size:
            b = blocks[i % len(blocks)]
            f.write(b)
            written += len(b)
            i += 1
    return os.path.getsize(path)


def timed(argv, stdout=subprocess.DEVNULL):
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdout=stdout, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({p.returncode}): {p.stderr.decode()[-2000:]}")
    return dt, p


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(SRC, "build"),
                    help="build directory (default: %(default)s)")
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tmpdir", default=None, help="where to put the generated file")
    ap.add_argument("--keep", action="store_true", help="keep the generated file")
    a = ap.parse_args()
    driver = os.path.join(a.build, "tests", "unit", "test_validator_csv")
    plugin = os.path.join(a.build, "plugins", "validator-csv.so")
    for f in (driver, plugin):
        if not os.path.exists(f):
            sys.exit(f"{f} not found: build with the tests first, optimised, e.g.\n"
                     f"  cmake -S {SRC} -B {a.build} -DCMAKE_BUILD_TYPE=Release && "
                     f"cmake --build {a.build} -j")
    try:
        with open(os.path.join(a.build, "CMakeCache.txt")) as f:
            btype = next((l.split("=", 1)[1].strip() for l in f
                          if l.startswith("CMAKE_BUILD_TYPE:")), "")
        print(f"build: {a.build} ({btype or 'no build type'})")
        if btype not in ("Release", "RelWithDebInfo"):
            print("warning: not an optimised build; the figures will be pessimistic")
    except OSError:
        pass

    d = tempfile.mkdtemp(prefix="bcv-bench-", dir=a.tmpdir)
    try:
        path = os.path.join(d, "bench.csv")
        t0 = time.perf_counter()
        size = generate(path, a.size_mib << 20)
        print(f"generated {path}: {size / 1048576:.0f} MiB in {time.perf_counter() - t0:.1f} s")
        subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)  # page cache

        wc, val, rss, walls = [], [], [], []
        lines = None
        for _ in range(a.rounds):
            dt, p = timed(["wc", "-l", path], stdout=subprocess.PIPE)
            wc.append(dt)
            lines = int(p.stdout.split()[0])
            dt, p = timed([driver, plugin, "-", "bench", path], stdout=subprocess.PIPE)
            r = json.loads(p.stdout)
            if r["errors"] or r["status"] != 0:
                sys.exit(f"the validator reported problems: {r}")
            walls.append(dt)
            val.append(r["seconds"])
            rss.append(r["peak_rss_kb"])
        wc_s, val_s, wall_s = statistics.median(wc), statistics.median(val), statistics.median(walls)
        print(f"rows: {lines - 1}")
        print(f"wc -l:               {wc_s:8.3f} s  ({size / 1e6 / wc_s:7.0f} MB/s)")
        print(f"validator-csv:       {val_s:8.3f} s  ({size / 1e6 / val_s:7.0f} MB/s), "
              f"process wall {wall_s:.3f} s, peak RSS {max(rss) / 1024:.1f} MiB")
        print(f"ratio validator / wc -l: {val_s / wc_s:.1f}x (target <= 10x); "
              f"peak RSS target <= 16 MiB: {'ok' if max(rss) <= 16384 else 'EXCEEDED'}")
        if shutil.which("mlr"):
            dt, _ = timed(["mlr", "--icsv", "--ojson", "cat", path])
            print(f"mlr --icsv --ojson cat: {dt:8.3f} s  ({size / 1e6 / dt:7.0f} MB/s), "
                  f"validator is {dt / val_s:.1f}x faster")
        else:
            print("mlr not installed (Debian package miller): skipped")
        if a.keep:
            print(f"kept {path}")
    finally:
        if not a.keep:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
