# benchctl: a stage's limits on a host (core/run/isolate.c; docs/isolation.md).
# POSIX sh, nothing to install: the same script runs locally and over SSH.
# Everything it needs comes in BC_LIM_* variables; BC_LIM_MODE is one of
#   probe  print what this host offers (cgroups, tools, CPU topology)
#   run    run BC_LIM_CMD under BC_LIM_SHELL in a fresh cgroup with the
#          limits, then kill what is left of its tree, remove the cgroup
#          (BC_LIM_KEEP: benchctl, on this machine, does) and append a block
#          of key=value results to $BENCHCTL_HOST_TMPDIR/$BC_LIM_NAME.lim
#   reap   kill and remove the cgroups named $BC_LIM_NAME* (benchctl gc)
# Test and ops knobs: BC_LIM_CGROOT (/sys/fs/cgroup), BC_LIM_SYSROOT (/sys),
# BC_LIM_PROCCG (/proc/self/cgroup), BC_LIM_CGPARENT (a delegated v2 cgroup).
R=${BC_LIM_CGROOT:-/sys/fs/cgroup}
SYS=${BC_LIM_SYSROOT:-/sys}
PCG=${BC_LIM_PROCCG:-/proc/self/cgroup}
V1CTLS="cpuset memory pids freezer cpuacct"

# OWN: the cgroup path of this shell for v1 controller $1, or for v2 when
# $1 is "" (builtins only: the wrapper runs before every limited stage).
own() {
    OWN=
    [ -r "$PCG" ] || return 0
    while IFS=: read -r oid octl opath; do
        if [ -z "$1" ]; then
            if [ "$oid" = 0 ] && [ -z "$octl" ]; then OWN=$opath; return 0; fi
        else
            case ",$octl," in *",$1,"*) OWN=$opath; return 0 ;; esac
        fi
    done <"$PCG"
}

# RD: the first line of file $1 ("" when unreadable).
rd() { RD=; read -r RD 2>/dev/null <"$1" || :; }

has_word() { case " $1 " in *" $2 "*) return 0 ;; esac; return 1; }

# Where stage cgroups go: V2 (a writable v2 cgroup whose children get the
# controllers in CTL), or V1_<ctl> per writable v1 hierarchy, plus UNI (the
# controller-less v2 of a hybrid setup: cgroup.kill and cpu.stat).
find_cg() {
    V2= CTL= UNI= V1_cpuset= V1_memory= V1_pids= V1_freezer= V1_cpuacct=
    if [ -f "$R/cgroup.controllers" ]; then
        own ""
        p=${OWN%/}
        if [ -n "${BC_LIM_CGPARENT:-}" ]; then
            cands=$BC_LIM_CGPARENT
        elif [ -z "$p" ]; then
            cands=$R
        else
            # A cgroup holding processes cannot hand controllers to its
            # children: start at the parent of our own, then go up.
            cands= q=${p%/*}
            i=0
            while [ $i -lt 32 ]; do
                cands="$cands $R$q"
                [ -z "$q" ] && break
                q=${q%/*}
                i=$((i + 1))
            done
        fi
        for c in $cands; do
            [ -w "$c" ] && [ -w "$c/cgroup.subtree_control" ] || continue
            rd "$c/cgroup.controllers"
            avail=$RD
            rd "$c/cgroup.subtree_control"
            CTL=$RD
            for x in cpuset memory pids; do
                if has_word "$avail" $x && ! has_word "$CTL" $x; then
                    echo "+$x" >"$c/cgroup.subtree_control" 2>/dev/null
                    rd "$c/cgroup.subtree_control"
                    CTL=$RD
                fi
            done
            V2=$c
            break
        done
        return 0
    fi
    for x in $V1CTLS; do
        [ -d "$R/$x" ] || continue
        own $x
        d="$R/$x${OWN%/}"
        if [ -w "$d" ] && [ -f "$d/cgroup.procs" ]; then eval "V1_$x=\$d"; fi
    done
    if [ -f "$R/unified/cgroup.procs" ]; then
        own ""
        d="$R/unified${OWN%/}"
        [ -w "$d" ] && UNI=$d
    fi
}

probe() {
    find_cg
    if [ -n "$V2" ]; then
        echo "cgroup=v2"
        echo "v2=$V2"
        echo "ctl=$CTL"
        [ -f "$V2/cgroup.kill" ] && echo "kill=1"
    else
        l=
        for x in $V1CTLS; do eval "[ -n \"\$V1_$x\" ]" && l="$l $x"; done
        if [ -n "$l" ]; then echo "cgroup=v1"; else echo "cgroup=none"; fi
        echo "ctl=${l# }"
        [ -n "$UNI" ] && echo "kill=1"
        for x in $V1CTLS; do eval "[ -n \"\$V1_$x\" ] && echo \"v1_$x=\$V1_$x\""; done
        [ -n "$UNI" ] && echo "uni=$UNI"
    fi
    echo "uid=$(id -u)"
    command -v taskset >/dev/null 2>&1 && echo "taskset=1"
    if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 &&
        unshare -m --propagation private true 2>/dev/null; then
        echo "unshare=1"
    fi
    # The CPUs this shell may run on (a queued task is pinned to its own):
    # stages get CPUs from these only.
    if [ -r /proc/self/status ]; then
        while read -r k v; do [ "$k" = Cpus_allowed_list: ] && echo "allowed=$v"; done </proc/self/status
    fi
    rd "$SYS/devices/system/cpu/online"
    echo "online=$RD"
    for d in "$SYS"/devices/system/cpu/cpu[0-9]*; do
        [ -d "$d" ] || continue
        n=${d##*/cpu}
        t=$d/topology
        rd "$t/core_id"
        core=${RD:--1}
        rd "$t/physical_package_id"
        pkg=${RD:--1}
        rd "$t/thread_siblings_list"
        echo "cpu=$n $core $pkg ${RD:-$n}"
    done
}

# ALIVE: how many processes listed in $1/cgroup.procs still exist.
alive() {
    ALIVE=0
    [ -r "$1/cgroup.procs" ] || return 0
    while read -r k; do kill -0 "$k" 2>/dev/null && ALIVE=$((ALIVE + 1)); done <"$1/cgroup.procs"
}

# SIGKILL to every process listed in $1/cgroup.procs.
kill_listed() {
    [ -r "$1/cgroup.procs" ] || return 0
    while read -r k; do kill -9 "$k" 2>/dev/null; done <"$1/cgroup.procs"
}

# Kill everything in cgroup $1 (v2 cgroup.kill, else SIGKILL by pid with
# the v1 freezer $2 frozen meanwhile), waiting a bounded while for it to empty.
kill_cg() {
    [ -d "$1" ] || return 0
    if [ -f "$1/cgroup.kill" ]; then
        echo 1 >"$1/cgroup.kill" 2>/dev/null
    else
        [ -n "$2" ] && echo FROZEN >"$2/freezer.state" 2>/dev/null
        kill_listed "$1"
        [ -n "$2" ] && echo THAWED >"$2/freezer.state" 2>/dev/null
    fi
    i=0
    alive "$1"
    while [ "$ALIVE" -gt 0 ] && [ $i -lt 100 ]; do
        [ -f "$1/cgroup.kill" ] || kill_listed "$1"
        sleep 0.05 2>/dev/null || sleep 1
        i=$((i + 1))
        alive "$1"
    done
}

# KV: the value after key $2 in a "key value" file $1 (memory.events, cpu.stat).
kv() {
    KV=
    [ -r "$1" ] || return 0
    while read -r kk vv; do
        if [ "$kk" = "$2" ]; then KV=$vv; return 0; fi
    done <"$1"
}

rmdirs() {
    for d in $1; do
        [ -d "$d" ] || continue
        i=0
        while [ -d "$d" ] && ! rmdir "$d" 2>/dev/null && [ $i -lt 20 ]; do
            sleep 0.05 2>/dev/null || sleep 1
            i=$((i + 1))
        done
    done
}

# CPU: the CPU time (us) the stage's cgroup has used ("" when unknown).
cpu_used() {
    CPU=
    if [ -n "$cpuf" ]; then
        rd "$cpuf/cpuacct.usage"
        [ -n "$RD" ] && CPU=$((RD / 1000))
    elif [ -n "$cpug" ]; then
        kv "$cpug/cpu.stat" usage_usec
        CPU=$KV
    fi
}

run() {
    find_cg
    N="$BC_LIM_NAME-$$"
    made= enf= killg= frz= memg= pidg= cpug= cpuf=
    # The cgroups this stage gets, made with one mkdir (each exec counts:
    # the wrapper runs before every limited stage), or already made by
    # benchctl (BC_LIM_CG: their name, BC_LIM_MADE: the directories) when
    # it runs on this machine.  On a hybrid setup the v2 tree kills and
    # counts CPU time in place of the freezer and cpuacct; a cpuset or pids
    # cgroup is made only for its limit (isolate.c: isolate_before_run, the same).
    want=
    if [ -n "${BC_LIM_CG:-}" ]; then
        N=$BC_LIM_CG
    elif [ -n "$V2" ]; then
        want=$V2/$N
    else
        [ -z "$UNI" ] && [ -n "$V1_freezer" ] && want="$want $V1_freezer/$N"
        [ -z "$UNI" ] && [ -n "$V1_cpuacct" ] && want="$want $V1_cpuacct/$N"
        [ -n "${BC_LIM_CPUS:-}" ] && [ -n "$V1_cpuset" ] && want="$want $V1_cpuset/$N"
        [ -n "$V1_memory" ] && want="$want $V1_memory/$N"
        [ -n "${BC_LIM_PIDS:-}" ] && [ -n "$V1_pids" ] && want="$want $V1_pids/$N"
        [ -n "$UNI" ] && want="$want $UNI/$N"
    fi
    if [ -n "${BC_LIM_CG:-}" ]; then
        made=${BC_LIM_MADE:-}
    else
        [ -n "$want" ] && mkdir $want 2>/dev/null
        for d in $want; do [ -d "$d" ] && made="$d $made"; done
    fi
    mk() { has_word "$made" "$1"; }
    if [ -n "$V2" ]; then
        G=$V2/$N
        if mk "$G"; then
            killg=$G
            [ -f "$G/memory.peak" ] && memg=$G
            [ -f "$G/pids.events" ] && pidg=$G
            cpug=$G
            if [ -n "${BC_LIM_CPUS:-}" ] && has_word "$CTL" cpuset &&
                echo "$BC_LIM_CPUS" >"$G/cpuset.cpus" 2>/dev/null; then enf="$enf cpus=cgroup2"; fi
            if [ -n "${BC_LIM_MEM:-}" ] && has_word "$CTL" memory &&
                echo "$BC_LIM_MEM" >"$G/memory.max" 2>/dev/null; then
                echo 0 >"$G/memory.swap.max" 2>/dev/null
                enf="$enf memory=cgroup2"
                memg=$G
            fi
            if [ -n "${BC_LIM_PIDS:-}" ] && has_word "$CTL" pids &&
                echo "$BC_LIM_PIDS" >"$G/pids.max" 2>/dev/null; then enf="$enf pids=cgroup2"; fi
        fi
    else
        if [ -z "$UNI" ] && [ -n "$V1_freezer" ] && mk "$V1_freezer/$N"; then
            frz=$V1_freezer/$N
            killg=$frz
        fi
        if [ -z "$UNI" ] && [ -n "$V1_cpuacct" ] && mk "$V1_cpuacct/$N"; then cpuf=$V1_cpuacct/$N; fi
        if [ -n "${BC_LIM_CPUS:-}" ] && [ -n "$V1_cpuset" ] && mk "$V1_cpuset/$N"; then
            rd "$V1_cpuset/cpuset.mems"
            echo "$RD" >"$V1_cpuset/$N/cpuset.mems" 2>/dev/null
            echo "$BC_LIM_CPUS" >"$V1_cpuset/$N/cpuset.cpus" 2>/dev/null &&
                enf="$enf cpus=cgroup1"
        fi
        if [ -n "$V1_memory" ] && mk "$V1_memory/$N"; then
            memg=$V1_memory/$N
            if [ -n "${BC_LIM_MEM:-}" ] &&
                echo "$BC_LIM_MEM" >"$memg/memory.limit_in_bytes" 2>/dev/null; then
                echo "$BC_LIM_MEM" >"$memg/memory.memsw.limit_in_bytes" 2>/dev/null
                enf="$enf memory=cgroup1"
            fi
        fi
        if [ -n "${BC_LIM_PIDS:-}" ] && [ -n "$V1_pids" ] && mk "$V1_pids/$N"; then
            pidg=$V1_pids/$N
            if echo "$BC_LIM_PIDS" >"$pidg/pids.max" 2>/dev/null; then
                enf="$enf pids=cgroup1"
            fi
        fi
        if [ -n "$UNI" ] && mk "$UNI/$N"; then
            [ -z "$cpuf" ] && cpug=$UNI/$N
            if [ -f "$UNI/$N/cgroup.kill" ] || [ -z "$killg" ]; then killg=$UNI/$N; fi
        fi
    fi
    # What no cgroup holds, the process itself does (affinity, rlimits).
    set --
    if [ -n "${BC_LIM_CPUS:-}" ] && ! has_word "$enf" cpus=cgroup2 && ! has_word "$enf" cpus=cgroup1 &&
        command -v taskset >/dev/null 2>&1; then
        set -- "$@" taskset -c "$BC_LIM_CPUS"
        enf="$enf cpus=affinity"
    fi
    if [ -n "${BC_LIM_NICE:-}" ]; then
        set -- "$@" nice -n "$BC_LIM_NICE"
        enf="$enf nice=nice"
    fi
    if [ "${BC_LIM_TMP:-}" = 1 ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1; then
        set -- "$@" unshare -m --propagation private sh -c \
            'mount -t tmpfs -o mode=1777,nosuid,nodev benchctl-tmp /tmp && exec "$@"' sh
        enf="$enf private_tmp=namespace"
    fi
    memrl=
    case "$enf" in *memory=*) ;; *) [ -n "${BC_LIM_MEM:-}" ] && memrl=$((BC_LIM_MEM / 1024)) && enf="$enf memory=rlimit" ;; esac
    # cputime: each process by RLIMIT_CPU; the whole tree, where a cgroup
    # counts its CPU time, by the watcher below.
    ct=${BC_LIM_CPUTIME:-} ctus=${BC_LIM_CPUTIME_US:-}
    if [ -n "$ct" ]; then
        if [ -n "$ctus" ] && [ -n "$killg" ] && { [ -n "$cpuf" ] || [ -n "$cpug" ]; }; then
            if [ -n "$V2" ]; then enf="$enf cputime=cgroup2"; else enf="$enf cputime=cgroup1"; fi
        else
            ctus=
            enf="$enf cputime=rlimit"
        fi
    fi
    eval "set -- \"\$@\" $BC_LIM_SHELL"
    set -- "$@" "$BC_LIM_CMD"
    OUT=${BENCHCTL_HOST_TMPDIR:-/tmp}/$BC_LIM_NAME.lim
    keep=${BC_LIM_KEEP:-}
    unset BC_LIM_MODE BC_LIM_NAME BC_LIM_CPUS BC_LIM_MEM BC_LIM_PIDS BC_LIM_CPUTIME BC_LIM_TMP \
        BC_LIM_NICE BC_LIM_SHELL BC_LIM_CMD BC_LIM_CPUTIME_US BC_LIM_KEEP BC_LIM_CG BC_LIM_MADE
    # A subshell (a fork, no exec) joins the cgroups with its own pid (read
    # from /proc/self/stat by a builtin), takes its rlimits, then becomes
    # the stage.
    (
        read -r me _ </proc/self/stat || exit 125
        for d in $made; do echo "$me" >"$d/cgroup.procs" || exit 125; done
        if [ -n "$memrl" ]; then ulimit -v "$memrl" || exit 125; fi
        if [ -n "$ct" ]; then
            ulimit -S -t "$ct" && ulimit -H -t $((ct + 1)) || exit 125
        fi
        exec "$@"
    ) &
    pid=$!
    # The tree's CPU time, polled: over the limit, the whole tree is killed.
    wpid=
    if [ -n "$ctus" ]; then
        (
            trap 'exit 0' TERM
            while kill -0 $pid 2>/dev/null; do
                cpu_used
                if [ -n "$CPU" ] && [ "$CPU" -ge "$ctus" ]; then
                    : >"$OUT.cpu"
                    kill_cg "$killg" "$frz"
                    exit 0
                fi
                sleep 0.1 2>/dev/null || sleep 1
            done
        ) &
        wpid=$!
    fi
    stopped=
    trap 'stopped=1; kill -TERM $pid 2>/dev/null' TERM INT HUP
    i=0
    while :; do
        wait $pid 2>/dev/null
        st=$?
        i=$((i + 1))
        if [ $st -gt 128 ] && [ $i -lt 1000 ] && kill -0 $pid 2>/dev/null; then continue; fi
        break
    done
    trap '' TERM INT HUP
    cpukill=
    if [ -n "$wpid" ]; then
        kill -TERM $wpid 2>/dev/null
        wait $wpid 2>/dev/null
        if [ -e "$OUT.cpu" ]; then cpukill=1; rm -f "$OUT.cpu"; fi
    fi
    peak= oom= pmax= left=0
    if [ -n "$memg" ]; then
        if [ -f "$memg/memory.peak" ]; then
            rd "$memg/memory.peak"
            kv "$memg/memory.events" oom_kill
        else
            rd "$memg/memory.max_usage_in_bytes"
            kv "$memg/memory.oom_control" oom_kill
        fi
        peak=$RD oom=$KV
    fi
    if [ -n "$pidg" ]; then kv "$pidg/pids.events" max; pmax=$KV; fi
    cpu_used
    if [ -n "$killg" ]; then
        alive "$killg"
        left=$ALIVE
        kill_cg "$killg" "$frz"
    fi
    for d in $made; do [ "$d" = "$killg" ] || kill_cg "$d" "$frz"; done
    # benchctl removes them itself when it runs on this machine (one
    # process less a stage); else they go here.
    if [ -z "$keep" ]; then
        [ -n "$made" ] && rmdir $made 2>/dev/null
        rmdirs "$made"
    fi
    {
        echo "status=$st"
        echo "enforced=${enf# }"
        echo "peak=$peak"
        echo "oom=$oom"
        echo "pidsmax=$pmax"
        echo "cpu_us=$CPU"
        echo "cpukill=$cpukill"
        echo "left=${left:-0}"
        echo "stopped=$stopped"
        [ -n "$keep" ] && echo "cgroups=$made"
        echo "done=1"
    } >>"$OUT" # one block a run (a repeated stage appends); benchctl reads complete blocks
    if [ $st -gt 128 ] && [ $st -lt 160 ]; then
        trap - TERM INT HUP
        kill -$((st - 128)) $$ 2>/dev/null
    fi
    exit $st
}

reap() {
    find_cg
    n=0
    for b in "$V2" "$UNI" "$V1_freezer" "$V1_cpuset" "$V1_memory" "$V1_pids" "$V1_cpuacct"; do
        [ -n "$b" ] || continue
        for g in "$b/$BC_LIM_NAME"*; do
            [ -d "$g" ] || continue
            kill_cg "$g" ""
            rmdirs "$g"
            n=$((n + 1))
        done
    done
    echo "reaped=$n"
}

case "${BC_LIM_MODE:-}" in
probe) probe ;;
run) run ;;
reap) reap ;;
*) echo "benchctl isolation: unknown mode '${BC_LIM_MODE:-}'" >&2; exit 2 ;;
esac
