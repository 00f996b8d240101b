#!/usr/bin/env python3
"""The SSH transport side by side with OpenSSH's own clients, on loopback.

Starts throwaway sshd servers on 127.0.0.1 (random ports, generated host and
user keys, a private config; needs root), logs in as a throwaway user with a
stock home directory (so the login shell's startup files are Debian's, not
whatever the machine's root has; --user root measures root instead), and
reports four figures:

  1. 50 sequential stages running `true` on one SSH host: the whole
     `benchctl run` against one `ssh host true` (a full OpenSSH login).
     Target: ratio <= 3x.
  2. A 256 MiB output collected over SFTP against `scp` of the same file
     (same keys, same known_hosts, same destination file system): the
     transfer time is the run with the big file minus the same run with a
     1-byte file, for both tools.  Target: throughput >= 0.8x scp's.
  3. A stage on 8 hosts with `parallel: true` against the same stage on 1
     host (wall time of the run and span of the stage).  Target: <= 1.5x.
  4. Peak RSS of benchctl while connected to 8 hosts (and to 1).
  5. Issue 23's figures, with the login user's ~/.bashrc slow (sleep 0.2 s)
     and empty (both count their sourcings in a file): 50 `true` stages
     divided by one `ssh host true` (targets <= 3x slow, <= 1.5x empty; the
     Go tool measured 24.5x with an empty rc), for exec_mode: dispatcher (the
     default) and login_shell; rc sourcings and sshd exec requests per run
     and per stage; a `sleep 1` stage on 8 hosts divided by 1 host with the
     slow rc (target <= 1.3x).  References: the same 50 stages on the local
     transport (no SSH at all: the floor of a stage's cost on this machine),
     and 8 x `ssh host sleep 1` started at once by hand against one.

Rounds alternate the contenders; medians are reported.

usage: ssh_bench.py BENCHCTL [--rounds 7] [--user NAME|root] [--size-mib 256]
                             [--dest /dev/shm] [--only rc] [--rc-rounds 3]
"""
import argparse
import datetime
import json
import os
import pwd
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def sh(*argv, **kw):
    return subprocess.run(argv, check=True, **kw)


def free_port(addr="127.0.0.1"):
    s = socket.socket()
    s.bind((addr, 0))
    p = s.getsockname()[1]
    s.close()
    return p


def descendants(pid):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    st = f.read()
                ppid = int(st[st.rindex(")") + 2:].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            out.append(c)
            todo.append(c)
    return out


class Sshd:
    def __init__(self, root, name, authorized_keys, addr="127.0.0.1", log_level="ERROR", extra=""):
        self.addr = addr
        self.dir = os.path.join(root, f"sshd-{name}")
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        key = os.path.join(self.dir, "host_ed25519")
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key)
        for _ in range(5):
            self.port = free_port(addr)
            cfg = os.path.join(self.dir, "sshd_config")
            with open(cfg, "w") as f:
                f.write(f"{extra}Port {self.port}\nListenAddress {addr}\nHostKey {key}\n"
                        f"PidFile {self.dir}/sshd.pid\nAuthorizedKeysFile {authorized_keys}\n"
                        "UsePAM no\nStrictModes no\nPermitRootLogin yes\nPasswordAuthentication no\n"
                        "KbdInteractiveAuthentication no\nUseDNS no\nMaxSessions 50\n"
                        f"MaxStartups 50\nLogLevel {log_level}\nSubsystem sftp internal-sftp\n")
            self.proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-f", cfg, "-E",
                                          os.path.join(self.dir, "sshd.log")])
            for _ in range(200):
                if self.proc.poll() is not None:
                    break
                try:
                    socket.create_connection((addr, self.port), 0.2).close()
                    break
                except OSError:
                    time.sleep(0.02)
            else:
                self.proc.kill()
                continue
            if self.proc.poll() is None:
                break
        else:
            sys.exit(f"sshd {name} did not start")
        self.known_hosts = os.path.join(self.dir, "known_hosts")
        with open(self.known_hosts, "w") as f:
            sh("ssh-keyscan", "-p", str(self.port), "-t", "ed25519", addr, stdout=f,
               stderr=subprocess.DEVNULL)

    def stop(self):
        kids = descendants(self.proc.pid)
        self.proc.terminate()
        for k in kids:
            try:
                with open(f"/proc/{k}/comm") as f:
                    if f.read().startswith("sshd"):
                        os.kill(k, signal.SIGKILL)
            except OSError:
                pass
        self.proc.wait()


def timed(argv, cwd=None, env=None):
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(argv)} failed ({status}):\n{err}")
    return dt, ru.ru_maxrss


def host_yaml(s, user, key):
    return (f"{{ip: {s.addr}, port: {s.port}, username: {user}, key_file: {key}, "
            f"known_hosts: {s.known_hosts}, ssh_config: false}}")


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def med(xs):
    return statistics.median(xs)


def rc_figures(a, bc, root, work, out_dir, servers, user, home, key, ssh_opts, env, ak):
    """Section 5: the cost of the login user's rc, per run and per stage."""
    if user == "root":
        print("\n5. skipped: needs the throwaway user (its ~/.bashrc is rewritten)")
        return
    rcfile = os.path.join(home, ".bashrc")
    with open(rcfile) as f:
        stock = f.read()
    counter = os.path.join(home, "rc.count")
    logged = Sshd(root, "rc", ak, log_level="DEBUG1")
    try:
        ssh_true = ["ssh", "-F", "/dev/null", "-i", key, "-o", "BatchMode=yes",
                    "-o", f"UserKnownHostsFile={logged.known_hosts}",
                    "-o", "StrictHostKeyChecking=yes", "-p", str(logged.port),
                    f"{user}@127.0.0.1", "true"]

        def count_rc():
            try:
                with open(counter) as f:
                    return sum(1 for _ in f)
            except OSError:
                return 0

        def count_exec():
            with open(os.path.join(logged.dir, "sshd.log"), errors="replace") as f:
                return sum(1 for line in f if "request exec" in line)

        hosts8 = "".join(f"  h{i + 1}: {host_yaml(s, user, key)[:-1]}, exec_mode: dispatcher}}\n"
                         for i, s in enumerate(servers))
        print("\n5. the login user's ~/.bashrc: 50 `true` stages / one `ssh host true`; "
              "rc sourcings and exec requests", flush=True)
        for rc_name, rc_text in (("slow (sleep 0.2)", f"echo x >> {counter}; sleep 0.2\n"),
                                 ("empty", f"echo x >> {counter}\n")):
            with open(rcfile, "w") as f:
                f.write(rc_text + stock)
            results = {}
            for mode in ("dispatcher", "login_shell"):
                h = f"{host_yaml(logged, user, key)[:-1]}, exec_mode: {mode}}}"
                for n in (1, 50):
                    write(os.path.join(work, f"rc-{mode}-{n}.yaml"),
                          f"benchmark: {{name: rc, output_dir: {out_dir}/rc-{mode}-{n}, "
                          f"git: {{capture: false}}}}\nhosts:\n  h1: {h}\nstages:\n" +
                          "".join(f"  - {{name: s{i}, host: h1, command: 'true'}}\n"
                                  for i in range(n)))
            write(os.path.join(work, "rc-local-50.yaml"),
                  f"benchmark: {{name: rc, output_dir: {out_dir}/rc-local-50, "
                  f"git: {{capture: false}}}}\nstages:\n" +
                  "".join(f"  - {{name: s{i}, command: 'true'}}\n" for i in range(50)))
            timed(ssh_true, env=env)
            t_ssh, t_local = [], []
            for mode in ("dispatcher", "login_shell"):
                results[mode] = {1: [], 50: [], "rc": {}, "ex": {}}
            for _ in range(a.rc_rounds):
                t_ssh.append(timed(ssh_true, env=env)[0])
                t_local.append(timed([bc, "run", "-c", "rc-local-50.yaml"], cwd=work, env=env)[0])
                for mode in ("dispatcher", "login_shell"):
                    for n in (1, 50):
                        r0, e0 = count_rc(), count_exec()
                        results[mode][n].append(
                            timed([bc, "run", "-c", f"rc-{mode}-{n}.yaml"], cwd=work, env=env)[0])
                        time.sleep(0.2)  # sshd's log of the last session
                        results[mode]["rc"][n] = count_rc() - r0
                        results[mode]["ex"][n] = count_exec() - e0
            print(f"   rc {rc_name}: ssh host true {med(t_ssh) * 1000:7.1f} ms; reference: the same "
                  f"50 stages on the local transport (no SSH at all) {med(t_local) * 1000:.1f} ms "
                  f"= {med(t_local) / med(t_ssh):.2f}x ssh")
            for mode in ("dispatcher", "login_shell"):
                r = results[mode]
                per_rc = (r["rc"][50] - r["rc"][1]) / 49
                per_ex = (r["ex"][50] - r["ex"][1]) / 49
                print(f"     exec_mode {mode:11s}: 1 stage {med(r[1]) * 1000:7.1f} ms, 50 stages "
                      f"{med(r[50]) * 1000:8.1f} ms -> {med(r[50]) / med(t_ssh):5.2f}x ssh; "
                      f"per run: {r['rc'][1] - per_rc:.0f} rc, {r['ex'][1] - per_ex:.0f} exec "
                      f"besides stages; per stage: {per_rc:.2f} rc, {per_ex:.2f} exec", flush=True)
            if rc_name.startswith("slow"):
                for n in (1, 8):
                    write(os.path.join(work, f"rcp{n}.yaml"),
                          f"benchmark: {{name: rcpar, output_dir: {out_dir}/rcp{n}, "
                          f"git: {{capture: false}}}}\nhosts:\n{hosts8}stages:\n  - name: st\n"
                          f"    hosts: [{', '.join(f'h{i}' for i in range(1, n + 1))}]\n"
                          f"    parallel: true\n    command: sleep 1\n")
                w = {1: [], 8: []}
                hand = {1: [], 8: []}
                for _ in range(a.rc_rounds):
                    for n in (1, 8):
                        w[n].append(timed([bc, "run", "-c", f"rcp{n}.yaml"], cwd=work, env=env)[0])
                        t0 = time.perf_counter()
                        ps = [subprocess.Popen(
                            ["ssh", "-F", "/dev/null", "-i", key, "-o", "BatchMode=yes",
                             "-o", f"UserKnownHostsFile={sv.known_hosts}",
                             "-o", "StrictHostKeyChecking=yes", "-p", str(sv.port),
                             f"{user}@{sv.addr}", "sleep 1"], env=env, stdin=subprocess.DEVNULL)
                              for sv in servers[:n]]
                        for p in ps:
                            p.wait()
                        hand[n].append(time.perf_counter() - t0)
                print(f"     `sleep 1` on 8 hosts {med(w[8]) * 1000:6.0f} ms / 1 host "
                      f"{med(w[1]) * 1000:6.0f} ms -> {med(w[8]) / med(w[1]):.2f}x (target <= 1.3x); "
                      f"by hand, 8 x `ssh host sleep 1` at once / one: "
                      f"{med(hand[8]) * 1000:.0f} / {med(hand[1]) * 1000:.0f} ms = "
                      f"{med(hand[8]) / med(hand[1]):.2f}x", flush=True)
    finally:
        with open(rcfile, "w") as f:
            f.write(stock)
        logged.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("benchctl")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--user", default=None, help="login user (default: a throwaway user)")
    ap.add_argument("--size-mib", type=int, default=256)
    ap.add_argument("--dest", default="/dev/shm" if os.path.isdir("/dev/shm") else None,
                    help="file system both tools write the big file to")
    ap.add_argument("--only", choices=["rc"], help="only section 5 (the login rc figures)")
    ap.add_argument("--rc-rounds", type=int, default=3)
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("ssh_bench.py starts its own sshd servers: run it as root")
    bc = os.path.abspath(a.benchctl)
    root = tempfile.mkdtemp(prefix="bcssh-bench.")
    os.chmod(root, 0o755)
    made_user = None
    servers = []
    out_dir = None
    try:
        user = a.user
        if not user:
            user = made_user = f"bcbench{os.getpid()}"
            sh("useradd", "-m", "-s", "/bin/bash", user)
            sh("usermod", "-p", "*", user)  # no password, but not locked (sshd refuses locked accounts)
        home = pwd.getpwnam(user).pw_dir
        keys = os.path.join(root, "keys")
        os.makedirs(keys)
        os.chmod(keys, 0o755)
        key = os.path.join(keys, "id")
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key)
        ak = os.path.join(keys, "authorized_keys")
        shutil.copy(key + ".pub", ak)
        os.chmod(ak, 0o644)
        servers = [Sshd(root, f"h{i}", ak) for i in range(1, 9)]
        s1 = servers[0]
        work = os.path.join(root, "work")
        os.makedirs(work)
        dest = a.dest or work
        out_dir = tempfile.mkdtemp(prefix="bcssh-bench-runs.", dir=dest)
        env = dict(os.environ)
        env.pop("SSH_AUTH_SOCK", None)
        ssh_opts = ["-F", "/dev/null", "-i", key, "-o", "BatchMode=yes",
                    "-o", f"UserKnownHostsFile={s1.known_hosts}", "-o", "StrictHostKeyChecking=yes"]
        print(f"login user: {user} (home {home}, shell {pwd.getpwnam(user).pw_shell}); "
              f"{a.rounds} rounds; {os.cpu_count()} CPUs", flush=True)

        if a.only == "rc":
            rc_figures(a, bc, root, work, out_dir, servers, user, home, key, ssh_opts, env, ak)
            return

        # -- 1. 50 stages vs one ssh login
        hdr = (f"benchmark: {{name: sshbench, output_dir: {out_dir}/stages, git: {{capture: false}}}}\n"
               f"hosts:\n  h1: {host_yaml(s1, user, key)}\nstages:\n")
        write(os.path.join(work, "s50.yaml"),
              hdr + "".join(f"  - {{name: s{i}, host: h1, command: 'true'}}\n" for i in range(50)))
        write(os.path.join(work, "s1.yaml"), hdr + "  - {name: s0, host: h1, command: 'true'}\n")
        ssh_true = ["ssh", *ssh_opts, "-p", str(s1.port), f"{user}@127.0.0.1", "true"]
        timed(ssh_true, env=env)
        timed([bc, "run", "-c", "s50.yaml"], cwd=work, env=env)
        t_ssh, t_50, t_1 = [], [], []
        for _ in range(a.rounds):
            t_ssh.append(timed(ssh_true, env=env)[0])
            t_50.append(timed([bc, "run", "-c", "s50.yaml"], cwd=work, env=env)[0])
            t_1.append(timed([bc, "run", "-c", "s1.yaml"], cwd=work, env=env)[0])
        per_stage = (med(t_50) - med(t_1)) / 49
        print("\n1. 50 sequential `true` stages on one SSH host vs one OpenSSH login")
        print(f"   ssh host true          {med(t_ssh) * 1000:8.1f} ms")
        print(f"   benchctl, 1 stage      {med(t_1) * 1000:8.1f} ms")
        print(f"   benchctl, 50 stages    {med(t_50) * 1000:8.1f} ms   "
              f"({per_stage * 1000:.1f} ms per further stage)")
        print(f"   ratio 50 stages / 1 handshake: {med(t_50) / med(t_ssh):.2f}x (target <= 3x)",
              flush=True)

        # -- 2. a big output over SFTP vs scp
        size = a.size_mib << 20
        big = os.path.join(work, "big.bin")
        tiny = os.path.join(work, "tiny.bin")
        with open(big, "wb") as f:
            left = size
            while left:
                n = min(left, 8 << 20)
                f.write(os.urandom(n))
                left -= n
        write(tiny, "x")
        for p in (big, tiny):
            os.chmod(p, 0o644)
        os.chmod(work, 0o755)
        for name, path in (("big", big), ("tiny", tiny)):
            write(os.path.join(work, f"{name}.yaml"),
                  f"benchmark: {{name: sshbig, output_dir: {out_dir}/{name}, git: {{capture: false}}}}\n"
                  f"hosts:\n  h1: {host_yaml(s1, user, key)}\n"
                  f"stages:\n  - name: out\n    host: h1\n    command: 'true'\n"
                  f"    outputs: [{{name: f, remote_path: {path}}}]\n")
        scp_to = os.path.join(dest, f"bcssh-bench-scp.{os.getpid()}")
        scp = lambda src: ["scp", "-q", *ssh_opts, "-P", str(s1.port), f"{user}@127.0.0.1:{src}", scp_to]
        t_bb, t_bt, t_sb, t_st = [], [], [], []
        timed(scp(big), env=env)
        for _ in range(a.rounds):
            t_bb.append(timed([bc, "run", "-c", "big.yaml"], cwd=work, env=env)[0])
            shutil.rmtree(os.path.join(out_dir, "big"))
            t_sb.append(timed(scp(big), env=env)[0])
            os.unlink(scp_to)
            t_bt.append(timed([bc, "run", "-c", "tiny.yaml"], cwd=work, env=env)[0])
            t_st.append(timed(scp(tiny), env=env)[0])
        os.unlink(scp_to)
        x_bc = max(med(t_bb) - med(t_bt), 1e-6)
        x_scp = max(med(t_sb) - med(t_st), 1e-6)
        mib = size / 1048576
        print(f"\n2. {a.size_mib} MiB output over SFTP vs scp (into {dest})")
        print(f"   benchctl   run {med(t_bb) * 1000:7.0f} ms - 1-byte run {med(t_bt) * 1000:5.0f} ms"
              f" = {x_bc * 1000:6.0f} ms  {mib / x_bc:7.1f} MiB/s")
        print(f"   scp        run {med(t_sb) * 1000:7.0f} ms - 1-byte run {med(t_st) * 1000:5.0f} ms"
              f" = {x_scp * 1000:6.0f} ms  {mib / x_scp:7.1f} MiB/s")
        print(f"   throughput ratio benchctl / scp: {x_scp / x_bc:.2f}x (target >= 0.8x)", flush=True)
        os.unlink(big)

        # -- 3. a stage on 8 hosts in parallel vs on 1 host; 4. peak RSS
        hosts = "".join(f"  h{i + 1}: {host_yaml(s, user, key)}\n" for i, s in enumerate(servers))
        for cmd_name, cmd in (("sleep1", "sleep 1"), ("true", "'true'")):
            for n in (1, 8):
                write(os.path.join(work, f"p{n}-{cmd_name}.yaml"),
                      f"benchmark: {{name: par, output_dir: {out_dir}/p{n}-{cmd_name}, git: {{capture: false}}}}\n"
                      f"hosts:\n{hosts}stages:\n  - name: st\n"
                      f"    hosts: [{', '.join(f'h{i}' for i in range(1, n + 1))}]\n"
                      f"    parallel: true\n    command: {cmd}\n")

        def span(run_dir):
            with open(os.path.join(run_dir, "metadata.json")) as f:
                j = json.load(f)
            t = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
            st = [s for s in j["stages"] if s["name"] == "st"]
            return (max(t(s["end_time"]) for s in st) - min(t(s["start_time"]) for s in st),
                    j["benchctl"]["peak_rss_kb"])

        print("\n3. one stage on 8 hosts (parallel: true) vs on 1 host")
        rss = {}
        for cmd_name in ("sleep1", "true"):
            res = {1: ([], [], []), 8: ([], [], [])}
            for _ in range(a.rounds):
                for n in (1, 8):
                    w, ru = timed([bc, "run", "-c", f"p{n}-{cmd_name}.yaml"], cwd=work, env=env)
                    runs = os.path.join(out_dir, f"p{n}-{cmd_name}")
                    last = max((d for d in os.listdir(runs) if d.isdigit()), key=int)
                    sp, own = span(os.path.join(runs, last))
                    res[n][0].append(w)
                    res[n][1].append(sp)
                    res[n][2].append(own)
                    rss.setdefault(n, []).append(own)
            w1, w8 = med(res[1][0]), med(res[8][0])
            s1_, s8 = med(res[1][1]), med(res[8][1])
            print(f"   stage `{cmd_name.replace('sleep1', 'sleep 1')}`: run wall 1 host {w1 * 1000:6.0f} ms, "
                  f"8 hosts {w8 * 1000:6.0f} ms -> {w8 / w1:.2f}x;  stage span {s1_ * 1000:6.0f} ms vs "
                  f"{s8 * 1000:6.0f} ms -> {s8 / s1_:.2f}x (target <= 1.5x)", flush=True)
        print("\n4. peak RSS of benchctl (VmHWM recorded in metadata.json)")
        print(f"   connected to 1 host   {max(rss[1]) / 1024:6.2f} MiB")
        print(f"   connected to 8 hosts  {max(rss[8]) / 1024:6.2f} MiB  "
              f"(+{(max(rss[8]) - max(rss[1])) / 7 / 1024:.2f} MiB per further host)")
        rc_figures(a, bc, root, work, out_dir, servers, user, home, key, ssh_opts, env, ak)
    finally:
        if out_dir:
            shutil.rmtree(out_dir, ignore_errors=True)
        if os.path.exists(f"{a.dest}/bcssh-bench-scp.{os.getpid()}"):
            os.unlink(f"{a.dest}/bcssh-bench-scp.{os.getpid()}")
        for s in servers:
            s.stop()
        if made_user:
            subprocess.run(["userdel", "-r", made_user], stderr=subprocess.DEVNULL)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
