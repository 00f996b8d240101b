#!/usr/bin/env python3
"""Config loading time against the number of stages: `benchctl validate` on
configs of 10,000 to 80,000 stages (best of 3 each), side by side with an
optional reference binary (an older build).  Linear loading makes the
80,000/10,000 ratio about 8; quadratic loading about 64.

usage: config_load.py BENCHCTL [REFERENCE_BENCHCTL]
"""
import os
import subprocess
import sys
import tempfile
import time

SIZES = (10000, 20000, 40000, 80000)


def write_config(path, n):
    with open(path, "w") as f:
        f.write("benchmark: {name: many, output_dir: ./runs}\nstages:\n")
        for i in range(n):
            f.write("  - name: s%d\n    command: echo %d\n" % (i, i))


def best_of(binary, path, tries=3, limit=600):
    best = None
    for _ in range(tries):
        t0 = time.monotonic()
        try:
            subprocess.run([binary, "validate", "-c", path], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=True, timeout=limit)
        except subprocess.TimeoutExpired:
            return None
        dt = time.monotonic() - t0
        best = dt if best is None else min(best, dt)
        if dt > 20:  # a slow (reference) binary: once is enough
            break
    return best


def main():
    bins = sys.argv[1:3]
    if not bins:
        sys.exit(__doc__)
    with tempfile.TemporaryDirectory() as d:
        times = {b: {} for b in bins}
        print("%-8s %s" % ("stages", "  ".join("%14s" % name for name in
                                               ("this", "reference")[:len(bins)])))
        for n in SIZES:
            path = os.path.join(d, "c%d.yaml" % n)
            write_config(path, n)
            row = []
            for b in bins:
                t = best_of(b, path)
                times[b][n] = t
                row.append("%12.3f s" % t if t is not None else "%14s" % "timeout")
            print("%-8d %s" % (n, "  ".join(row)))
        for b in bins:
            t0, t1 = times[b].get(SIZES[0]), times[b].get(SIZES[-1])
            if t0 and t1:
                print("%s: %d/%d-stage time ratio %.1f (linear: %d, quadratic: %d)" %
                      (b, SIZES[-1], SIZES[0], t1 / t0, SIZES[-1] // SIZES[0],
                       (SIZES[-1] // SIZES[0]) ** 2))
        if len(bins) == 2 and times[bins[0]].get(SIZES[-1]) and times[bins[1]].get(SIZES[-1]):
            print("80,000 stages: reference / this = %.1f" %
                  (times[bins[1]][SIZES[-1]] / times[bins[0]][SIZES[-1]]))


if __name__ == "__main__":
    main()
