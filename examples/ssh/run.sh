#!/usr/bin/env bash
# Try the SSH transport without touching your ssh setup: start a throwaway
# OpenSSH server on 127.0.0.1:2222 (its own host key, config and log in a
# temporary directory; it accepts one generated key for the current user),
# run examples/ssh/benchmark.yaml against it, stop it.
#
#   examples/ssh/run.sh [benchctl run options...]   e.g.  -m note=first-try
#
# BENCHCTL=path/to/benchctl selects the binary (default: the build tree's,
# else benchctl on PATH).  PORT=2223 uses another port.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
port=${PORT:-2222}
bc=${BENCHCTL:-}
if [ -z "$bc" ]; then
  if [ -x "$root/build/core/benchctl" ]; then bc="$root/build/core/benchctl"
  else bc=$(command -v benchctl || true); fi
fi
[ -n "$bc" ] || { echo "run.sh: benchctl not found: build it (cmake -S . -B build && cmake --build build) or set BENCHCTL" >&2; exit 1; }
sshd=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$sshd" ] || { echo "run.sh: sshd not found: apt-get install openssh-server" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/benchctl-ssh-example.XXXXXX")
chmod 755 "$work"   # sshd reads authorized_keys as the logging-in user
pid=""
finish() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap finish EXIT

ssh-keygen -q -t ed25519 -N '' -C benchctl-example-host -f "$work/host_ed25519"
ssh-keygen -q -t ed25519 -N '' -C benchctl-example-user -f "$work/id_ed25519"
cp "$work/id_ed25519.pub" "$work/authorized_keys"
chmod 644 "$work/authorized_keys"
cat >"$work/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $work/host_ed25519
PidFile $work/sshd.pid
AuthorizedKeysFile $work/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
LogLevel VERBOSE
EOF
if [ "$(id -u)" = 0 ]; then mkdir -p /run/sshd; fi
"$sshd" -D -f "$work/sshd_config" -E "$work/sshd.log" &
pid=$!
for _ in $(seq 100); do
  kill -0 "$pid" 2>/dev/null || { echo "run.sh: sshd did not start (port $port busy? try PORT=2223):" >&2; cat "$work/sshd.log" >&2; exit 1; }
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.05
done
# What `host_key_check: strict` checks against: the server's key, recorded
# the way `ssh-keyscan >> ~/.ssh/known_hosts` would.
ssh-keyscan -p "$port" -t ed25519 127.0.0.1 2>/dev/null >"$work/known_hosts"
echo "sshd on 127.0.0.1:$port (log: $work/sshd.log); host key $(ssh-keygen -l -f "$work/host_ed25519.pub" | awk '{print $2}')"

config="$here/benchmark.yaml"
if [ "$port" != 2222 ]; then
  # another port: a copy of the config (and its script) with that port
  sed "s/^\(    port: \)2222/\1$port/" "$here/benchmark.yaml" >"$work/benchmark.yaml"
  sed -i "s#^  output_dir: ./results#  output_dir: $here/results#" "$work/benchmark.yaml"
  cp "$here/workload.sh" "$work/"
  config="$work/benchmark.yaml"
fi
export BENCHCTL_EXAMPLE_SSH="$work"
set +e
"$bc" run -c "$config" "$@"
rc=$?
set -e
echo "sshd saw $(grep -cE 'Accepted publickey' "$work/sshd.log") login(s) for the whole run"
exit $rc
