#!/usr/bin/env python3
"""Time from SIGINT to benchctl's exit with 3 background stages that exit
promptly on SIGTERM (and one long foreground stage), R rounds; the Go tool
needs a fixed 2 s per background stage.

usage: stop_latency.py BENCHCTL [--rounds 10]
"""
import argparse
import os
import signal
import statistics
import subprocess
import tempfile
import time

CONFIG = """benchmark: {name: stop, output_dir: ./runs, git: {capture: false}}
stages:
%s  - name: work
    command: touch started; sleep 60
"""
BG = """  - name: monitor%d
    background: true
    command: trap 'exit 0' TERM; while :; do sleep 0.01; done
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("benchctl")
    ap.add_argument("--rounds", type=int, default=10)
    a = ap.parse_args()
    times = []
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "b.yaml"), "w") as f:
            f.write(CONFIG % "".join(BG % i for i in range(3)))
        for _ in range(a.rounds):
            flag = os.path.join(d, "started")
            if os.path.exists(flag):
                os.unlink(flag)
            p = subprocess.Popen([os.path.abspath(a.benchctl), "run", "-c", "b.yaml"], cwd=d,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            while not os.path.exists(flag):
                time.sleep(0.005)
            time.sleep(0.2)
            t0 = time.perf_counter()
            p.send_signal(signal.SIGINT)
            rc = p.wait()
            times.append(time.perf_counter() - t0)
            assert rc == 130, rc
    print(f"SIGINT -> exit with 3 background stages, {a.rounds} rounds")
    print(f"  median {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms "
          f"(target <= 200 ms; the Go tool: >= 6000 ms)")


if __name__ == "__main__":
    main()
