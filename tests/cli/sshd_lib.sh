# Helpers for the SSH transport tests (sourced after lib.sh): throwaway
# OpenSSH servers on 127.0.0.1, each with a random free port, a generated
# host key, its own config, log and pid file, all under $T.  Nothing of the
# machine's own ssh setup is used or changed (except the throwaway user of
# sshd_add_user, removed again at exit).
#
#   sshd_require                  skip the test (exit 0) unless root with sshd
#   sshd_keys                     user keys in $T/keys: id_plain, id_enc
#                                 (passphrase $SSHD_KEY_PASS), authorized_keys
#   sshd_start NAME [LINE...]     start a server in $T/sshd-NAME (extra
#                                 sshd_config lines); sets SSHD_PORT, and
#                                 writes $T/sshd-NAME/{port,pid,known_hosts,addr};
#                                 it listens on $SSHD_ADDR (default
#                                 127.0.0.1; any 127.0.0.x is loopback);
#                                 in its own mount namespace, where the
#                                 login user's ~/.bashrc (and profile) read
#                                 $SSHD_RC (empty unless set; SSHD_REAL_RC=1
#                                 keeps the machine's); with SSHD_TMP_SIZE=2m
#                                 its /tmp is a 2 MiB tmpfs (disk full tests)
#   sshd_port NAME / sshd_pid NAME
#   sshd_known_hosts NAME >> FILE ssh-keyscan's line(s) for it
#   sshd_stop NAME                stop it (and every connection it serves)
#   sshd_accepted NAME            number of accepted logins in its log
#   sshd_add_user                 a throwaway user benchctl_t$$ with password
#                                 $SSHD_USER_PASS; sets SSHD_USER
#   ssh_host_yaml NAME [KEY: VAL...]  a hosts.<alias> body for benchctl

SSHD_KEY_PASS="open sesame 42"
SSHD_USER_PASS="Pw-$$-$RANDOM-x"

sshd_require() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: the SSH tests start their own sshd and need root (running as uid $(id -u))"
    exit 0
  fi
  if [ ! -x /usr/sbin/sshd ] || ! command -v ssh-keygen >/dev/null || ! command -v ssh-keyscan >/dev/null; then
    echo "SKIP: the SSH tests need OpenSSH's sshd, ssh-keygen and ssh-keyscan (apt-get install openssh-server)"
    exit 0
  fi
  [ -e "${BUILD_DIR:-}/plugins/host-ssh.so" ] && [ -e "${BUILD_DIR:-}/plugins/host-ssh.d/host-ssh-impl.so" ] ||
    fail "the ssh transport was not built (${BUILD_DIR:-?}/plugins/host-ssh.so, host-ssh.d/host-ssh-impl.so: is libssh-dev installed?)"
  mkdir -p /run/sshd
  chmod 0755 /run/sshd
}

sshd_keys() {
  mkdir -p "$T/keys"
  chmod 700 "$T/keys"
  ssh-keygen -q -t ed25519 -N '' -C bc-plain -f "$T/keys/id_plain"
  ssh-keygen -q -t ed25519 -N "$SSHD_KEY_PASS" -C bc-enc -f "$T/keys/id_enc"
  cat "$T/keys/id_plain.pub" "$T/keys/id_enc.pub" >"$T/keys/authorized_keys"
  chmod 644 "$T/keys/authorized_keys"
}

_free_port() {
  python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "${1:-127.0.0.1}"
}

sshd_port() { cat "$T/sshd-$1/port"; }
sshd_addr() { cat "$T/sshd-$1/addr" 2>/dev/null || echo 127.0.0.1; }
sshd_pid() { cat "$T/sshd-$1/pid"; }

sshd_start() {
  local name=$1; shift
  local d="$T/sshd-$name"
  mkdir -p "$d"
  chmod 755 "$T" "$d"   # sshd (as the user) reads authorized_keys under $T
  [ -e "$d/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "host-$name" -f "$d/host_ed25519"
  local try port pid addr=${SSHD_ADDR:-127.0.0.1}
  for try in 1 2 3 4 5; do
    port=$(_free_port "$addr")
    {
      # sshd keeps the first value of a keyword: the caller's lines first
      for line in "$@"; do echo "$line"; done
      echo "Port $port"
      echo "ListenAddress $addr"
      echo "HostKey $d/host_ed25519"
      echo "PidFile $d/sshd.pid"
      echo "AuthorizedKeysFile $T/keys/authorized_keys"
      echo "UsePAM no"
      echo "StrictModes no"
      echo "PermitRootLogin yes"
      echo "PubkeyAuthentication yes"
      echo "PasswordAuthentication no"
      echo "KbdInteractiveAuthentication no"
      echo "UseDNS no"
      echo "MaxSessions 50"
      echo "MaxStartups 50"
      echo "LogLevel VERBOSE"
      echo "Subsystem sftp internal-sftp"
    } >"$d/sshd_config"
    : >"$d/sshd.log"
    # sshd runs in its own mount namespace, where the login user's shell rc
    # is $d/bashrc (SSHD_RC, empty by default): the tests are about
    # benchctl, not about this machine's ~/.bashrc (a version manager's init
    # there costs seconds per login and serialises logins on its lock).
    # SSHD_REAL_RC=1 keeps the machine's own.  With SSHD_TMP_SIZE the
    # host's /tmp is a tiny file system, $T bound back in place.
    printf '%s\n' "${SSHD_RC:-}" >"$d/bashrc"
    unshare -m --propagation private sh -c '
      set -e
      T=$1 size=$2 rc=$3 real=$4; shift 4
      if [ -n "$size" ]; then
        mount --bind "$T" /mnt
        mount -t tmpfs -o "size=$size,mode=1777" tmpfs /tmp
        mkdir -p "$T"
        mount --bind /mnt "$T"
      fi
      if [ "$real" != 1 ]; then
        for f in "$HOME/.bashrc" "$HOME/.bash_profile" "$HOME/.profile" "$HOME/.bash_login"; do
          [ -f "$f" ] && mount --bind "$rc" "$f"
        done
      fi
      exec "$@"' sh "$T" "${SSHD_TMP_SIZE:-}" "$d/bashrc" "${SSHD_REAL_RC:-0}" \
      /usr/sbin/sshd -D -f "$d/sshd_config" -E "$d/sshd.log" &
    pid=$!
    # ready when it accepts a TCP connection
    local i
    for i in $(seq 100); do
      if ! kill -0 "$pid" 2>/dev/null; then break; fi
      if (exec 3<>"/dev/tcp/$addr/$port") 2>/dev/null; then
        echo "$port" >"$d/port"
        echo "$pid" >"$d/pid"
        echo "$addr" >"$d/addr"
        cleanup_hooks+=("sshd_stop $name")
        ssh-keyscan -p "$port" -t ed25519 "$addr" 2>/dev/null >"$d/known_hosts"
        [ -s "$d/known_hosts" ] || fail "ssh-keyscan got no key from sshd $name"
        SSHD_PORT=$port
        return 0
      fi
      sleep 0.05
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  fail "sshd $name did not start: $(tail -n 5 "$d/sshd.log")"
}

sshd_known_hosts() { cat "$T/sshd-$1/known_hosts"; }

# The server and every process it started for connections (by pid, from
# its process tree): the listener first, so it accepts nothing new.
_descendants() {
  local p c
  for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$c"
    _descendants "$c"
  done
}

sshd_stop() {
  local name=$1 d="$T/sshd-$1" pid
  [ -e "$d/pid" ] || return 0
  pid=$(cat "$d/pid")
  local kids
  kids=$(_descendants "$pid")
  kill -TERM "$pid" 2>/dev/null || true
  # connection handlers, not the stage processes they run (those are
  # the tests' business)
  for c in $kids; do
    case "$(ps -o comm= -p "$c" 2>/dev/null)" in sshd*) kill -KILL "$c" 2>/dev/null || true ;; esac
  done
  wait "$pid" 2>/dev/null || true
  rm -f "$d/pid"
}

sshd_accepted() { grep -cE "Accepted (publickey|password|keyboard-interactive)" "$T/sshd-$1/sshd.log" || true; }

sshd_add_user() {
  SSHD_USER="benchctl_t$$"
  id "$SSHD_USER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$SSHD_USER"
  cleanup_hooks+=("userdel -r $SSHD_USER 2>/dev/null")
  echo "$SSHD_USER:$SSHD_USER_PASS" | chpasswd
}

# A host's YAML: ssh_host_yaml NAME ["key: value"|"-key"]... (a flow
# mapping): root with id_plain and NAME's known_hosts, ~/.ssh/config off;
# "key: value" replaces or adds a key, "-key" drops one.
ssh_host_yaml() {
  local name=$1; shift
  local keys=(ip port username key_file known_hosts ssh_config)
  local -A v=([ip]=$(sshd_addr "$name") [port]=$(sshd_port "$name") [username]=root
              [key_file]=$T/keys/id_plain [known_hosts]=$T/sshd-$name/known_hosts
              [ssh_config]=false)
  local kv k
  for kv in "$@"; do
    if [ "${kv#-}" != "$kv" ]; then unset "v[${kv#-}]"; continue; fi
    k=${kv%%:*}
    [ -n "${v[$k]+x}" ] || keys+=("$k")
    v[$k]=${kv#*: }
  done
  local s=""
  for k in "${keys[@]}"; do
    [ -n "${v[$k]+x}" ] || continue
    s="$s${s:+, }$k: ${v[$k]}"
  done
  echo "{$s}"
}
