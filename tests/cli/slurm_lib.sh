# Helpers for the slurm transport tests (sourced after lib.sh): a private,
# throwaway Slurm cluster on this machine -- munged, slurmctld and four
# slurmd (fake nodes n1..n4, all on this host), each with free ports, its
# own state, spool, log and pid files and its own munge key and socket,
# all under $T/slurm.  Nothing of the machine's own Slurm or munge setup is
# used or changed, and only the daemons started here are ever stopped.
#
#   slurm_require        skip the test (exit 0) unless root with slurm-wlm
#                        and munge installed and the build has host-slurm.so
#   slurm_start [N]      start the cluster with N nodes (default 4) in the
#                        partition `debug`; exports SLURM_CONF; returns once
#                        sinfo shows every node idle (bounded wait); stopped
#                        from the EXIT trap.  Each node has a directory of its
#                        own at $SLURM_NODEFS (a tmpfs in the slurmd's mount
#                        namespace) that this machine does not see.
#   slurm_stop           stop the daemons started by slurm_start
#   slurm_jobs           the job ids in the queue (squeue), one a line
#   slurm_wait_empty     wait (bounded) until the queue is empty; fails if not

SLURM_DIR=
SLURM_NODEFS=
SLURM_PIDS=()

slurm_require() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: the slurm tests start their own slurmctld/slurmd and need root (uid $(id -u))"
    exit 0
  fi
  local b
  for b in /usr/bin/unshare /usr/sbin/slurmctld /usr/sbin/slurmd /usr/sbin/munged /usr/bin/salloc /usr/bin/srun \
           /usr/bin/squeue /usr/bin/sinfo /usr/bin/scancel /usr/bin/scontrol; do
    if [ ! -x "$b" ]; then
      echo "SKIP: the slurm tests need $b (apt-get install slurm-wlm munge)"
      exit 0
    fi
  done
  [ -e "${BUILD_DIR:-}/plugins/host-slurm.so" ] ||
    fail "the slurm transport was not built (${BUILD_DIR:-?}/plugins/host-slurm.so)"
}

_slurm_free_ports() { # N free TCP ports on 127.0.0.1, one a line
  /usr/bin/python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
PY
}

# A daemon in the background, remembered for slurm_stop.
_slurm_spawn() {
  "$@" >>"$SLURM_DIR/daemons.out" 2>&1 </dev/null &
  SLURM_PIDS+=("$!")
}

slurm_start() {
  local n=${1:-4} host i try
  host=$(hostname -s)
  SLURM_DIR=$T/slurm
  SLURM_NODEFS=$SLURM_DIR/nodefs
  mkdir -p "$SLURM_DIR"/{munge,munge-key,state,log,run,nodefs}
  chmod 0755 "$T" "$SLURM_DIR" "$SLURM_DIR/munge"
  chmod 0700 "$SLURM_DIR/munge-key"
  dd if=/dev/urandom of="$SLURM_DIR/munge-key/munge.key" bs=1024 count=1 status=none
  chmod 0400 "$SLURM_DIR/munge-key/munge.key"
  local sock=$SLURM_DIR/munge/munge.socket
  cleanup_hooks+=("slurm_stop")
  _slurm_spawn /usr/sbin/munged --foreground --force --socket="$sock" \
    --key-file="$SLURM_DIR/munge-key/munge.key" --pid-file="$SLURM_DIR/run/munged.pid" \
    --log-file="$SLURM_DIR/log/munged.log" --seed-file="$SLURM_DIR/munge-key/seed"
  for i in $(seq 100); do
    [ -S "$sock" ] && break
    kill -0 "${SLURM_PIDS[-1]}" 2>/dev/null || fail "munged did not start: $(tail -n 5 "$SLURM_DIR/daemons.out" "$SLURM_DIR/log/munged.log" 2>/dev/null)"
    sleep 0.1
  done
  [ -S "$sock" ] || fail "munged did not create its socket $sock"

  for try in 1 2 3; do
    local ports
    mapfile -t ports < <(_slurm_free_ports $((n + 1)))
    {
      echo "ClusterName=bctest$$"
      echo "SlurmctldHost=$host(127.0.0.1)"
      echo "SlurmctldPort=${ports[0]}"
      echo "SlurmUser=root"
      echo "SlurmdUser=root"
      echo "AuthType=auth/munge"
      echo "CredType=cred/munge"
      echo "AuthInfo=socket=$sock"
      echo "CommunicationParameters=NoInAddrAny,NoCtldInAddrAny"
      echo "StateSaveLocation=$SLURM_DIR/state"
      echo "SlurmdSpoolDir=$SLURM_DIR/spool-%n"
      echo "SlurmctldPidFile=$SLURM_DIR/run/slurmctld.pid"
      echo "SlurmdPidFile=$SLURM_DIR/run/slurmd-%n.pid"
      echo "SlurmctldLogFile=$SLURM_DIR/log/slurmctld.log"
      echo "SlurmdLogFile=$SLURM_DIR/log/slurmd-%n.log"
      echo "ProctrackType=proctrack/linuxproc"
      echo "TaskPlugin=task/none"
      echo "SwitchType=switch/none"
      echo "MpiDefault=none"
      echo "JobAcctGatherType=jobacct_gather/linux"
      echo "AccountingStorageType=accounting_storage/none"
      echo "JobCompType=jobcomp/none"
      echo "SelectType=select/cons_tres"
      echo "SelectTypeParameters=CR_Core"
      echo "SlurmdParameters=config_overrides"
      echo "ReturnToService=2"
      echo "KillWait=2"
      echo "MinJobAge=2"
      echo "InactiveLimit=0"
      echo "SlurmctldTimeout=30"
      echo "SlurmdTimeout=30"
      echo "MessageTimeout=20"
      echo "SchedulerParameters=sched_interval=1"
      for i in $(seq "$n"); do
        echo "NodeName=n$i NodeHostname=$host NodeAddr=127.0.0.1 Port=${ports[$i]} CPUs=1 State=UNKNOWN"
      done
      echo "PartitionName=debug Nodes=n[1-$n] Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE"
    } >"$SLURM_DIR/slurm.conf"
    export SLURM_CONF=$SLURM_DIR/slurm.conf
    _slurm_spawn /usr/sbin/slurmctld -D -i -f "$SLURM_CONF"
    for i in $(seq "$n"); do
      mkdir -p "$SLURM_DIR/spool-n$i"
      # each node in a mount namespace of its own with a tmpfs on
      # $SLURM_NODEFS: a directory of the node's that this machine (the
      # controller) does not see -- a cluster without a shared directory
      _slurm_spawn unshare --mount --propagation private /bin/sh -c \
        'mount -t tmpfs -o size=16m,mode=0755 "bc-$1" "$2" && exec /usr/sbin/slurmd -D -N "$1" -f "$3"' \
        sh "n$i" "$SLURM_NODEFS" "$SLURM_CONF"
    done
    # ready when every node is idle (start-up takes about 2 s; bounded at 60 s)
    for i in $(seq 300); do
      if [ "$(sinfo -h -N -o '%T' 2>/dev/null | grep -c '^idle')" -eq "$n" ]; then
        return 0
      fi
      local dead=0 p
      for p in "${SLURM_PIDS[@]}"; do kill -0 "$p" 2>/dev/null || dead=1; done
      [ "$dead" = 0 ] || break
      sleep 0.2
    done
    # a port taken meanwhile, or slow start: stop the Slurm daemons, try again
    echo "slurm did not come up (try $try): $(tail -n 3 "$SLURM_DIR/log/slurmctld.log" 2>/dev/null)" >&2
    _slurm_stop_daemons 1
  done
  fail "slurm did not start: $(sinfo -N 2>&1 | tail -n 5; tail -n 10 "$SLURM_DIR/log/slurmctld.log" "$SLURM_DIR/daemons.out" 2>/dev/null)"
}

# Stop the daemons we started (all of them, or all but the first: munged).
_slurm_stop_daemons() {
  local keep=${1:-0} p i kept=()
  [ "$keep" -eq 0 ] || kept=("${SLURM_PIDS[0]}")
  for ((i = keep; i < ${#SLURM_PIDS[@]}; i++)); do
    kill -TERM "${SLURM_PIDS[$i]}" 2>/dev/null || true
  done
  for ((i = keep; i < ${#SLURM_PIDS[@]}; i++)); do
    p=${SLURM_PIDS[$i]}
    local k
    for k in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  SLURM_PIDS=("${kept[@]+"${kept[@]}"}")
}

slurm_stop() {
  [ -n "$SLURM_DIR" ] || return 0
  # no job of ours outlives the cluster: cancel what is left first
  if [ ${#SLURM_PIDS[@]} -gt 1 ] && [ -n "$(slurm_jobs)" ]; then
    scancel --quiet $(slurm_jobs) 2>/dev/null || true
    local i
    for i in $(seq 50); do [ -z "$(slurm_jobs)" ] && break; sleep 0.2; done
  fi
  _slurm_stop_daemons 0
  # step daemons (slurmstepd) of our nodes, known by the sockets they hold
  # in our spool directories
  local p
  for p in $(pgrep -x slurmstepd 2>/dev/null); do
    if ls -l "/proc/$p/fd" 2>/dev/null | grep -qF "$SLURM_DIR/"; then
      kill -KILL "$p" 2>/dev/null || true
    fi
  done
  SLURM_DIR=
}

slurm_jobs() { squeue -h -o %i 2>/dev/null; }

slurm_wait_empty() {
  local i
  for i in $(seq 150); do
    [ -z "$(slurm_jobs)" ] && return 0
    sleep 0.2
  done
  fail "jobs left in the queue: $(squeue 2>&1)"
}
