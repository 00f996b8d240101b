#!/usr/bin/env python3
"""The queue daemon's figures (issue 20), from scripts/bench.sh:

1. submit-to-start latency of an empty task (`-- true`) on an idle daemon:
   from sending the submit request to the daemon's "started" event (median,
   p99 of N tasks, one at a time), next to the reference: starting `true`
   with fork+exec from Python (ratio);
2. scheduling 10,000 queued tasks of mixed sizes (tests/bench/sched_bench.c,
   a simulation to the end): time per scheduling decision, next to a plain
   qsort of the same queue (ratio);
3. the cost of enforcing a task's memory: submit-to-finish of the empty task
   with --memory 64M (its stage in a memory cgroup, or under RLIMIT_AS where
   there is none) next to the same task without (difference, ratio).

usage: queue_bench.py BENCHCTL SCHED_BENCH [N]
"""
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def latency(bc, n, memory=0):
    """Submit-to-start and submit-to-finish times of n empty tasks, one at a time."""
    with tempfile.TemporaryDirectory(prefix="queue-bench.") as d:
        sock = os.path.join(d, "q.sock")
        cpu = min(os.sched_getaffinity(0))
        daemon = subprocess.Popen([bc, "daemon", "--foreground", "--socket", sock, "--state",
                                   os.path.join(d, "state"), "--cpus", str(cpu), "--memory", "1G"],
                                  stderr=subprocess.DEVNULL)
        try:
            for _ in range(400):
                if os.path.exists(sock):
                    break
                time.sleep(0.05)
            f = socket.socket(socket.AF_UNIX)
            f.connect(sock)
            fr = f.makefile("rb")
            f.sendall(b'{"v":1,"op":"follow"}\n')
            fr.readline()
            c = socket.socket(socket.AF_UNIX)
            c.connect(sock)
            cr = c.makefile("rb")
            lat, ends = [], []
            for _ in range(n):
                req = {"v": 1, "op": "submit", "task": {"kind": "command", "argv": ["true"],
                                                        "cwd": d, "output_dir": d + "/runs",
                                                        "memory": memory}}
                t0 = time.perf_counter()
                c.sendall(json.dumps(req).encode() + b"\n")
                tid = json.loads(cr.readline())["id"]
                started = None
                while True:
                    e = json.loads(fr.readline())
                    if e["task"]["id"] != tid:
                        continue
                    if e["event"] == "started" and started is None:
                        started = time.perf_counter() - t0
                    if e["event"] == "finished":
                        if e["task"]["state"] != "succeeded":
                            sys.exit(f"queue_bench: task {tid} {e['task']['state']}: "
                                     f"{e['task'].get('reason')}")
                        ends.append(time.perf_counter() - t0)
                        run_dir = e["task"]["run_dir"]
                        break
                lat.append(started)
            # how the last task's stage was limited (v1, v2 or none: RLIMIT_AS)
            with open(os.path.join(run_dir, "metadata.json")) as m:
                limits = json.load(m)["stages"][0].get("limits", {})
            return lat, ends, limits.get("cgroup", "-")
        finally:
            daemon.terminate()
            daemon.wait(60)


def spawn_ref(n):
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(["true"])
        out.append(time.perf_counter() - t0)
    return out


def main():
    bc, sched = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    lat, ends, _ = latency(bc, n)
    ref = spawn_ref(n)
    m, p99, rm = statistics.median(lat), pct(lat, 99), statistics.median(ref)
    print(f"submit-to-start, empty task, idle daemon ({n} tasks): median {m * 1e3:.2f} ms, "
          f"p99 {p99 * 1e3:.2f} ms; reference fork+exec of true: median {rm * 1e3:.2f} ms "
          f"(ratio {m / rm:.1f}x)")
    r = json.loads(subprocess.run([sched, "10000"], check=True, capture_output=True,
                                  text=True).stdout)
    per = r["pick_s"] / r["decisions"]
    ref_per = r["sort_s"] / r["decisions"]
    print(f"scheduling {r['tasks']} queued tasks of mixed sizes (1-32 of 64 CPUs): "
          f"{r['decisions']} decisions, {per * 1e6:.0f} us per decision "
          f"(reference qsort of the same queue: {ref_per * 1e6:.0f} us, ratio {per / ref_per:.2f}x); "
          f"up to {r['max_running']} tasks side by side")
    _, ends_mem, how = latency(bc, n, 64 << 20)
    e0, e1 = statistics.median(ends), statistics.median(ends_mem)
    print(f"submit-to-finish, empty task ({n} tasks each): median {e0 * 1e3:.1f} ms without "
          f"--memory, {e1 * 1e3:.1f} ms with --memory 64M (its stage under a memory limit; "
          f"cgroup: {how}); enforcement costs {(e1 - e0) * 1e3:.1f} ms per task "
          f"(ratio {e1 / e0:.2f}x)")


if __name__ == "__main__":
    main()
