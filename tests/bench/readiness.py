#!/usr/bin/env python3
"""Readiness latency: a service becomes ready at a known moment (a TCP
listener binds, or a file appears) and writes that exact wall time to a
file; the next stage writes `date +%s%N` first thing.  The latency is the
time between the two.  R rounds per probe (port, file), with benchctl's
defaults (the probe's own interval, 10 ms) and with `interval: 1s` (the Go
tool's fixed one-second polling).  The moment the service becomes ready is
random (0.3-1.3 s after the stage starts), so it falls anywhere in a
polling period.  Target: median <= 20 ms with the defaults.

usage: readiness.py BENCHCTL [--rounds 20] [--seed 1]
"""
import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile

SERVICE = r"""
import os, socket, sys, time
kind, delay, stamp, target = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
time.sleep(delay)
if kind == "port":
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(target)))
    s.listen()
else:
    open(target, "w").close()
t = time.time_ns()          # ready from this moment on
with open(stamp + ".tmp", "w") as f:
    f.write(str(t))
os.rename(stamp + ".tmp", stamp)
time.sleep(60)              # stopped (SIGTERM) after the last stage
"""

CONFIG = """benchmark: {{name: readiness, output_dir: ./runs, git: {{capture: false}}}}
stages:
  - name: service
    background: true
    command: exec python3 service.py {kind} {delay:.3f} ready.ns {target}
    health_check: {{type: {kind}, target: "{target}", timeout: 10s{interval}}}
  - name: next
    command: date +%s%N > next.ns
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def one_round(benchctl, d, kind, delay, interval):
    for f in ("ready.ns", "next.ns", "ready.flag"):
        try:
            os.unlink(os.path.join(d, f))
        except FileNotFoundError:
            pass
    target = str(free_port()) if kind == "port" else "ready.flag"
    with open(os.path.join(d, "b.yaml"), "w") as f:
        f.write(CONFIG.format(kind=kind, delay=delay, target=target,
                              interval=f", interval: {interval}" if interval else ""))
    r = subprocess.run([benchctl, "run", "-c", "b.yaml"], cwd=d, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"benchctl failed ({r.returncode}): {r.stderr}")
    with open(os.path.join(d, "ready.ns")) as f:
        ready = int(f.read())
    with open(os.path.join(d, "next.ns")) as f:
        nxt = int(f.read())
    return (nxt - ready) / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("benchctl")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    benchctl = os.path.abspath(a.benchctl)
    rng = random.Random(a.seed)
    print(f"readiness latency: ready moment -> next stage starts, {a.rounds} rounds each")
    ok = True
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "service.py"), "w") as f:
            f.write(SERVICE)
        for kind in ("port", "file"):
            res = {}
            for label, interval in (("default", None), ("1s", "1s")):
                delays = [rng.uniform(0.3, 1.3) for _ in range(a.rounds)]
                res[label] = [one_round(benchctl, d, kind, dl, interval) for dl in delays]
            dm, om = statistics.median(res["default"]), statistics.median(res["1s"])
            q = lambda v, p: sorted(v)[min(len(v) - 1, int(p * len(v)))]
            print(f"  {kind:5} benchctl default interval: median {dm:7.1f} ms, p90 "
                  f"{q(res['default'], 0.9):7.1f} ms, max {max(res['default']):7.1f} ms")
            print(f"  {kind:5} fixed 1 s polling:          median {om:7.1f} ms, p90 "
                  f"{q(res['1s'], 0.9):7.1f} ms, max {max(res['1s']):7.1f} ms")
            print(f"  {kind:5} ratio (1 s / default):      {om / dm:7.1f}x   "
                  f"target median <= 20 ms: {'met' if dm <= 20 else 'NOT MET'}")
            ok = ok and dm <= 20
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
