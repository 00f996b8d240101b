#!/usr/bin/env python3
"""Issue 13's kill -9 audit: benchctl killed with SIGKILL at random moments.

Each trial starts `benchctl run` on a config with local and SSH stages (a
background stage on each side, a local stage that leaves a daemon with
setsid, a foreground stage on each side that runs until killed), sleeps a
random 0 to 2.5 s (loading, connecting, the first stages, everything
running) and kills benchctl with SIGKILL.  Then it waits (bounded: up to
8 s, polling) for the watchdogs - benchctl's own on this machine, the ssh
dispatcher's on the host - to act, and counts:

  - processes of the trial still running locally and on the SSH host
    (each process carries the trial's marker in its argv; the SSH host is
    a throwaway sshd on loopback whose login user is a throwaway user);
  - after all trials: the runs whose metadata.json still says `running`
    (as left on disk) and after the next command (`benchctl list`), and
    those shown `crashed`;
  - the private directories the runs recorded (.benchctl-private-dirs.jsonl)
    that still exist, before and after `benchctl gc`, and the processes
    left after gc.

Needs root (sshd, a throwaway user).  Leftovers are removed at the end.

usage: crash_bench.py BENCHCTL [--trials 100] [--max-wait 8]
"""
import argparse
import glob
import json
import os
import pwd
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ssh_bench import Sshd, host_yaml, sh  # noqa: E402  (the same throwaway sshd)


def marked(prefix):
    """{pid: (uid, argv0)} of the processes whose argv[0] starts with prefix."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                argv0 = f.read().split(b"\0")[0].decode(errors="replace")
            if argv0.startswith(prefix):
                out[int(d)] = (os.stat(f"/proc/{d}").st_uid, argv0)
        except OSError:
            pass
    return out


def split_sides(procs):
    local = sum(1 for _, a in procs.values() if "-L-" in a)
    remote = sum(1 for _, a in procs.values() if "-R-" in a)
    return local, remote


def recorded_dirs(out_dir):
    """{private dir: host alias} the runs recorded."""
    dirs = {}
    for f in glob.glob(os.path.join(out_dir, "*", ".benchctl-private-dirs.jsonl")):
        with open(f) as fh:
            for line in fh:
                try:
                    j = json.loads(line)
                    dirs[j["private_dir"]] = j["host"]
                except (ValueError, KeyError):
                    pass
    return dirs


def statuses(out_dir):
    count = {}
    for d in glob.glob(os.path.join(out_dir, "[0-9]*")):
        try:
            with open(os.path.join(d, "metadata.json")) as f:
                s = json.load(f).get("status", "?")
        except (OSError, ValueError):
            s = "no metadata.json"
        count[s] = count.get(s, 0) + 1
    return count


def kill_all(prefix):
    for pid in marked(prefix):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("benchctl")
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--max-wait", type=float, default=8.0,
                    help="seconds to wait for the watchdogs after each kill")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("crash_bench.py starts its own sshd and login user: run it as root")
    bc = os.path.abspath(a.benchctl)
    root = tempfile.mkdtemp(prefix="bccrash-bench.")
    os.chmod(root, 0o755)
    user = f"bccrash{os.getpid()}"
    prefix = f"bcc{os.getpid()}"
    sshd = None
    try:
        sh("useradd", "-m", "-s", "/bin/bash", user)
        sh("usermod", "-p", "*", user)
        keys = os.path.join(root, "keys")
        os.makedirs(keys)
        os.chmod(keys, 0o755)
        key = os.path.join(keys, "id")
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key)
        ak = os.path.join(keys, "authorized_keys")
        shutil.copy(key + ".pub", ak)
        os.chmod(ak, 0o644)
        sshd = Sshd(root, "h", ak)
        out_dir = os.path.join(root, "runs")
        env = dict(os.environ)
        env.pop("SSH_AUTH_SOCK", None)
        rng = random.Random(int(os.environ.get("CRASH_SEED", "13")))
        left_local = left_remote = trials_local = trials_remote = 0
        t_start = time.monotonic()
        for i in range(1, a.trials + 1):
            m = f"{prefix}-{i}"
            cfg = os.path.join(root, f"c{i}.yaml")
            with open(cfg, "w") as f:
                f.write(f"""benchmark: {{name: crash, output_dir: {out_dir}, git: {{capture: false}}, report: false}}
hosts:
  h: {host_yaml(sshd, user, key)}
stages:
  - name: bg-local
    background: true
    command: exec -a {m}-L-bg sleep 300
  - name: bg-ssh
    background: true
    host: h
    command: exec -a {m}-R-bg sleep 300
  - name: warm
    command: sleep 0.2
  - name: daemonize
    command: setsid bash -c 'exec -a {m}-L-daemon sleep 300' </dev/null >/dev/null 2>&1 &
  - name: fg-ssh
    host: h
    command: exec -a {m}-R-fg sleep 1
  - name: fg-local
    command: exec -a {m}-L-fg sleep 300
""")
            p = subprocess.Popen([bc, "run", "-c", cfg], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
            time.sleep(rng.uniform(0, 2.5))
            p.send_signal(signal.SIGKILL)
            p.wait()
            deadline = time.monotonic() + a.max_wait
            while marked(m + "-") and time.monotonic() < deadline:
                time.sleep(0.1)
            lo, re = split_sides(marked(m + "-"))
            left_local += lo
            left_remote += re
            trials_local += lo > 0
            trials_remote += re > 0
        t_trials = time.monotonic() - t_start
        raw = statuses(out_dir)
        dirs = recorded_dirs(out_dir)
        def left(dirs):
            by = {}
            for d, h in dirs.items():
                if os.path.isdir(d) or os.path.isdir(d + ".gone"):  # the dispatcher moves it there first
                    by[h] = by.get(h, 0) + 1
            return by
        dirs_before = left(dirs)
        subprocess.run([bc, "list", "-o", out_dir], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env=env, check=False)
        after_list = statuses(out_dir)
        procs_before_gc = split_sides(marked(prefix + "-"))
        gc = subprocess.run([bc, "gc", "-o", out_dir], capture_output=True, text=True, env=env,
                            check=False)
        dirs_after = left(dirs)
        procs_after_gc = split_sides(marked(prefix + "-"))
        after_gc = statuses(out_dir)
        print(f"{a.trials} kill -9 trials in {t_trials:.0f} s (seed {os.environ.get('CRASH_SEED', '13')}, "
              f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f})")
        print(f"  processes left after the kill (watchdogs given up to {a.max_wait:g} s): "
              f"local {left_local} in {trials_local} trials, SSH host {left_remote} in "
              f"{trials_remote} trials")
        print(f"  run status on disk right after the trials: {raw}")
        print(f"  run status after the next command (list):  {after_list}")
        rec = {}
        for h in dirs.values():
            rec[h] = rec.get(h, 0) + 1
        print(f"  private directories recorded (per host): {rec}; still there after the kills: "
              f"{dirs_before}; after gc: {dirs_after}")
        print(f"  processes still running before gc: local {procs_before_gc[0]}, SSH host "
              f"{procs_before_gc[1]}; after gc: local {procs_after_gc[0]}, SSH host "
              f"{procs_after_gc[1]}")
        print(f"  gc: exit {gc.returncode}, {len(gc.stdout.splitlines())} lines "
              f"(runs collected: {sum(1 for l in gc.stdout.splitlines() if l.startswith('run '))}); "
              f"status after gc: {after_gc}")
    finally:
        kill_all(prefix + "-")
        if sshd:
            sshd.stop()
        try:  # whatever the throwaway user still runs (all of it started here)
            uid = pwd.getpwnam(user).pw_uid
            for d in os.listdir("/proc"):
                try:
                    if d.isdigit() and os.stat(f"/proc/{d}").st_uid == uid:
                        os.kill(int(d), signal.SIGKILL)
                except OSError:
                    pass
        except KeyError:
            pass
        subprocess.run(["userdel", "-r", user], stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
