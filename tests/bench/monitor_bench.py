#!/usr/bin/env python3
"""Host monitoring overhead (issue 16), side by side in one run:

1. Sampler CPU use as a fraction of one core, at interval 1 s and 100 ms, for
   the proc monitor in process (the controller) and as the streamed sh/awk
   loop every remote host runs (via: stream, here on this machine), against
   `vmstat 1` (1 s) and a naive loop that starts cat per sample (100 ms).
   Measured from outside with wait4 (user + system, children included): for
   the in-process sampler, a benchctl run whose only stage sleeps minus the
   same run without monitoring; for the streamed loop, the exact script the
   plugin sends (from its debug log) run alone for the same time, its output
   read and then closed (so it ends by itself and every process of it is
   reaped and counted); the references the same way.  Also the samplers'
   self-report (the sampler_cpu_pct column, mean).
2. A CPU-bound stage's wall time with and without monitoring (ratio).

usage: monitor_bench.py BENCHCTL [--seconds 8] [--reps 3]
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import tempfile
import time

IDLE = """benchmark: {name: mb, output_dir: ./runs, git: {capture: false}%s}
stages:
  - name: idle
    command: sleep %s
"""
WORK = """benchmark: {name: mw, output_dir: ./runs-w, git: {capture: false}%s}
stages:
  - name: work
    command: python3 -c 'sum(range(60000000))'
"""


def cpu_of(argv, cwd):
    """Run argv; return (wall s, user+sys s incl. waited children)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    assert os.waitstatus_to_exitcode(status) == 0, argv
    return wall, ru.ru_utime + ru.ru_stime


def stream_cpu(argv, cwd, secs):
    """Run argv with its stdout read for secs seconds, then closed; return
    (CPU s incl. children, samples: lines ".")."""
    p = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < secs or (secs == 0 and n == 0):
        line = p.stdout.readline()
        if not line:
            break
        n += line == b".\n"
    p.stdout.close()
    _, _, ru = os.wait4(p.pid, 0)
    return ru.ru_utime + ru.ru_stime, n


def loop_script(bc, d, interval):
    """The streamed loop the proc plugin sends for this interval (debug log)."""
    with open(os.path.join(d, "s.yaml"), "w") as f:
        f.write(IDLE % (f", monitor: {{interval: {interval}, via: stream, plot: none}}", 0.3))
    err = subprocess.run([bc, "run", "-c", "s.yaml", "--log-level", "debug"], cwd=d,
                         capture_output=True, text=True).stderr
    out, on = [], False
    for line in err.splitlines():
        if "the sampler loop on host" in line:
            on = True
        elif on and line.startswith("benchctl: "):
            break
        elif on:
            out.append(line)
    assert out, err
    return "\n".join(out) + "\n"


def last_run(d, out):
    runs = sorted(int(x) for x in os.listdir(os.path.join(d, out)) if x.isdigit())
    return os.path.join(d, out, str(runs[-1]))


def self_report(rundir):
    path = os.path.join(rundir, "monitor", "local.csv")
    vals = [float(r["sampler_cpu_pct"]) for r in csv.DictReader(open(path))
            if r["sampler_cpu_pct"] != ""]
    return statistics.mean(vals) if vals else float("nan"), len(vals) + 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("benchctl")
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    bc = os.path.abspath(a.benchctl)
    secs = a.seconds
    with tempfile.TemporaryDirectory() as d:
        def bench_run(mon):
            with open(os.path.join(d, "b.yaml"), "w") as f:
                f.write(IDLE % (mon, secs))
            return cpu_of([bc, "run", "-c", "b.yaml"], d)

        print(f"== sampler CPU, fraction of one core (idle stage of {secs:g} s; "
              f"median of {a.reps}; the machine is shared and loaded)")
        base = [bench_run("")[1] for _ in range(a.reps)]
        base_cpu = statistics.median(base)
        print(f"  benchctl run without monitoring: {base_cpu * 1000:.1f} ms CPU")
        rows = []
        startups = []
        for interval in ("1s", "100ms"):
            mon = f", monitor: {{interval: {interval}, via: auto, plot: none}}"
            cpus = [bench_run(mon)[1] for _ in range(a.reps)]
            extra = max(statistics.median(cpus) - base_cpu, 0.0)
            rep, n = self_report(last_run(d, "runs"))
            rows.append((interval, "in process (controller)", extra / secs * 100, rep, n))
            script = loop_script(bc, d, interval)
            res = [stream_cpu(["sh", "-c", script], d, secs) for _ in range(a.reps)]
            cpu = statistics.median(r[0] for r in res)
            start = statistics.median(stream_cpu(["sh", "-c", script], d, 0)[0]
                                      for _ in range(a.reps))
            startups.append((interval, start))
            bench_run(f", monitor: {{interval: {interval}, via: stream, plot: none}}")
            rep, _ = self_report(last_run(d, "runs"))
            rows.append((interval, "streamed sh/awk loop", cpu / secs * 100, rep,
                         int(statistics.median(r[1] for r in res))))
            # references
            if interval == "1s":
                argv = ["vmstat", "1", str(int(secs))]
                ref = "vmstat 1"
            else:
                argv = ["sh", "-c", "i=0; while [ $i -lt %d ]; do cat /proc/stat /proc/meminfo "
                        "/proc/net/dev /proc/diskstats /proc/loadavg >/dev/null; sleep 0.1; "
                        "i=$((i+1)); done" % int(secs * 10)]
                ref = "sh loop, cat per sample"
            refs = [cpu_of(argv, d)[1] for _ in range(a.reps)]
            rows.append((interval, ref, statistics.median(refs) / secs * 100, float("nan"), 0))
        print(f"  {'interval':9} {'sampler':28} {'CPU % of a core':>16} {'self-report %':>14} "
              f"{'samples':>8}")
        for interval, what, pct, rep, n in rows:
            print(f"  {interval:9} {what:28} {pct:16.2f} "
                  f"{'' if rep != rep else f'{rep:.2f}':>14} {n or '':>8}")
        print("  targets: <= 0.5 % at 1 s, <= 2 % at 100 ms")
        for interval, start in startups:
            steady = [r for r in rows if r[0] == interval and r[1].startswith("streamed")][0]
            st_pct = max(steady[2] - start / secs * 100, 0.0)
            print(f"  streamed loop at {interval}: start-up (getconf, shell checks, first sample) "
                  f"{start * 1000:.0f} ms CPU once; steady state {st_pct:.2f} % of a core")

        print(f"== a CPU-bound stage's wall time with and without monitoring "
              f"(median of {a.reps}, interleaved)")
        configs = (("off", ""), ("1s", ", monitor: {interval: 1s, plot: none}"),
                   ("100ms", ", monitor: {interval: 100ms, plot: none}"),
                   ("100ms stream", ", monitor: {interval: 100ms, via: stream, plot: none}"))
        ws = {label: [] for label, _ in configs}
        # interleaved (off, 1s, 100ms, stream, off, ...) so that the load of
        # the shared machine drifting during the bench hits all alike
        for _ in range(a.reps):
            for label, mon in configs:
                with open(os.path.join(d, "w.yaml"), "w") as f:
                    f.write(WORK % mon)
                cpu_of([bc, "run", "-c", "w.yaml"], d)
                rec = json.load(open(os.path.join(last_run(d, "runs-w"), "metadata.json")))
                ws[label].append(rec["stages"][0]["duration_s"])
        walls = {label: statistics.median(v) for label, v in ws.items()}
        for label, w in walls.items():
            print(f"  monitoring {label:13} {w:7.3f} s   ratio {w / walls['off']:.3f}")


if __name__ == "__main__":
    main()
