#!/usr/bin/env bash
# The slurm host transport against a real Slurm (slurm_lib.sh: munged,
# slurmctld and four fake slurmd nodes on this machine): several stages in
# one allocation, a fan-out over the four nodes, outputs, a failing step,
# a background stage stopped with scancel, the accounting in the stage
# records (metadata.json and results.json), nodes without a shared
# directory (shared: false), Ctrl-C, SIGKILL and `benchctl gc` after it, a
# partition that does not exist and queue_timeout -- and after each run no
# job is left in the queue.
source "$(dirname "$0")/lib.sh"
source "$SRC_DIR/tests/cli/slurm_lib.sh"
slurm_require
slurm_start 4

marker="bcslurm$$"
S=$T/shared     # files the stages write (this machine: shared with the "nodes")
mkdir -p "$S"
host="{transport: slurm, partition: debug, nodes: 4, overcommit: true, time: 10m}"

# ---- several stages, fan-out, outputs, a failing step, a background step ----
write_config run.yaml <<YAML
benchmark: {name: slurm, output_dir: ./runs}
hosts:
  cluster: $host
stages:
  - name: watcher
    host: cluster
    background: true
    command: trap 'echo got-term > $S/watcher.term; exit 0' TERM; echo \$SLURM_JOB_ID.\$SLURM_STEP_ID > $S/watcher.step; while :; do sleep 0.2; done
    health_check: {type: file, target: $S/watcher.step, timeout: 120s}
  - name: first
    host: cluster
    command: echo "first on \$SLURMD_NODENAME job \$SLURM_JOB_ID"; printf 'a,b\n1,2\n' > $S/first.csv; echo rel > "\$BENCHCTL_HOST_TMPDIR/rel.txt"
    outputs:
      - {name: table, remote_path: $S/first.csv}
      - {name: rel, remote_path: rel.txt}
  - name: spin
    host: cluster
    command: i=0; while [ \$i -lt 20000 ]; do i=\$((i+1)); done; echo spun
  - name: scripted
    host: cluster
    script: job.sh
  - name: fan
    host: cluster
    nodes: 4
    command: echo "node \$BENCHCTL_NODE of \$BENCHCTL_NODES on \$SLURMD_NODENAME" > out.txt; cat out.txt
    outputs:
      - {name: where, remote_path: out.txt}
  - name: broken
    host: cluster
    command: echo about-to-fail; exit 3
YAML
printf '#!/bin/sh\necho "script in step $SLURM_STEP_ID"\n' > job.sh
chmod +x job.sh
run_bc run -c run.yaml --no-report
expect_rc 1 "a run with a failing step"
m=runs/1/metadata.json
expect_in "$ERR" "stage 'broken' on host 'cluster' failed with exit status 3"
[ "$(json $m '[s["name"] + ":" + s["status"] for s in j["stages"]]')" = \
  "['watcher:success', 'first:success', 'spin:success', 'scripted:success', 'fan:success', 'fan:success', 'fan:success', 'fan:success', 'fan:success', 'broken:failed']" ] ||
  fail "stage statuses: $(json $m '[(s["name"], s["status"]) for s in j["stages"]]')"
# one allocation for the whole run: every step in the same job, each its own step
[ "$(json $m 'len({s["accounting"]["job_id"] for s in j["stages"] if "accounting" in s})')" = 1 ] ||
  fail "stages ran in several jobs: $(json $m '[s.get("accounting") for s in j["stages"]]')"
[ "$(json $m 'len([s for s in j["stages"] if "accounting" in s])')" = 9 ] ||
  fail "every command's record has accounting: $(json $m '[(s["name"], s.get("accounting")) for s in j["stages"]]')"
[ "$(json $m 'len({s["accounting"]["step_id"] for s in j["stages"] if "accounting" in s})')" = 9 ] ||
  fail "each stage is a step of its own: $(json $m '[s["accounting"].get("step_id") for s in j["stages"] if "accounting" in s]')"
job=$(json $m '[s["accounting"]["job_id"] for s in j["stages"] if "accounting" in s][0]')
expect_in "$(cat runs/1/logs/first.log)" "job $job"
expect_in "$(cat runs/1/logs/scripted.log)" "script in step $(json $m '[s["accounting"]["step_id"] for s in j["stages"] if s["name"] == "scripted"][0]')"
# accounting fields: ids, node, queue wait (apart from run time), elapsed, CPU
acc='[s for s in j["stages"] if s["name"] == "spin"][0]["accounting"]'
[ "$(json $m "sorted($acc)")" = "['cpu_s', 'elapsed_s', 'job_id', 'node', 'queue_wait_s', 'source', 'step_id']" ] ||
  fail "accounting keys: $(json $m "$acc")"
[ "$(json $m "$acc['cpu_s'] > 0 and $acc['elapsed_s'] > 0 and $acc['queue_wait_s'] >= 0 and $acc['source'] == 'step'")" = True ] ||
  fail "accounting values: $(json $m "$acc")"
[ "$(json $m '[s for s in j["stages"] if s["name"] == "spin"][0]["user_cpu_s"] > 0')" = True ] ||
  fail "the step's CPU time is the stage's: $(json $m '[s for s in j["stages"] if s["name"] == "spin"][0]')"
# fan-out: node k on the allocation's k-th node, logs and outputs per node
for k in 0 1 2 3; do
  n=$((k + 1))
  [ "$(json $m "[s['accounting']['node'] for s in j['stages'] if s.get('node') == $k][0]")" = "n$n" ] ||
    fail "node $k ran on $(json $m "[s['accounting'] for s in j['stages'] if s.get('node') == $k]")"
  expect_in "$(cat runs/1/logs/fan/node-$k.log)" "node $k of 4 on n$n"
done
[ "$(cat runs/1/where/node-*.txt | sort | tr '\n' ' ')" = "node 0 of 4 on n1 node 1 of 4 on n2 node 2 of 4 on n3 node 3 of 4 on n4 " ] ||
  fail "fan-out outputs: $(cat runs/1/where/node-*.txt)"
# outputs: an absolute path on the shared directory and one relative to the private directory
[ "$(cat runs/1/table.csv)" = "$(printf 'a,b\n1,2')" ] || fail "output table: $(ls runs/1)"
[ "$(cat runs/1/rel.txt)" = rel ] || fail "output rel: $(ls runs/1)"
# the background stage: ready by a probe run inside the allocation, then a step
# stopped with scancel --signal=TERM (its trap ran)
[ "$(json $m '[s["health_check"]["ready"] for s in j["stages"] if s["name"] == "watcher"][0]')" = True ] ||
  fail "health check: $(json $m '[s.get("health_check") for s in j["stages"] if s["name"] == "watcher"]')"
[ "$(cat "$S/watcher.term" 2>/dev/null)" = got-term ] || fail "the background step did not get SIGTERM"
[ "$(json $m '[s["accounting"]["job_id"] + "." + s["accounting"]["step_id"] for s in j["stages"] if s["name"] == "watcher"][0]')" = "$(cat "$S/watcher.step")" ] ||
  fail "background step ids: $(json $m '[s.get("accounting") for s in j["stages"] if s["name"] == "watcher"]') vs $(cat "$S/watcher.step")"
# the accounting in results.json's stage entries too (the same objects)
r=runs/1/results.json
check_schema "$SRC_DIR/docs/schema/results.schema.json" $r
[ "$(json $r '[(s["name"], s.get("node"), s["accounting"]) for s in j["cases"][0]["stages"] if "accounting" in s]')" = \
  "$(json $m '[(s["name"], s.get("node"), s["accounting"]) for s in j["stages"] if "accounting" in s]')" ] ||
  fail "results.json's accounting: $(json $r '[s.get("accounting") for s in j["cases"][0]["stages"]]')"
[ "$(json $r '[s["accounting"]["node"] for s in j["cases"][0]["stages"] if s["name"] == "fan" and "node" in s]')" = \
  "['n1', 'n2', 'n3', 'n4']" ] || fail "results.json: fan-out accounting per node: $(json $r 'j["cases"][0]["stages"]')"
slurm_wait_empty
[ -z "$(ls -A runs | grep slurm || true)" ] || fail "the private directory was left: $(ls -A runs)"
pass "stages (a script too), fan-out over 4 nodes, outputs, a failing and a background step in one allocation; accounting recorded; job released"

# ---- shared: false: the nodes share no directory with this machine (each
# fake node has its own tmpfs at $SLURM_NODEFS, which this machine does not
# see): the private directory, scripts, outputs and the step files move
# through steps on the first node ----
write_config ns.yaml <<YAML
benchmark: {name: slurm-ns, output_dir: ./runs-ns}
hosts:
  cluster: {transport: slurm, nodes: 2, overcommit: true, time: 10m, shared: false, node_dir: $SLURM_NODEFS}
stages:
  - name: make
    host: cluster
    command: printf 'x,y\n1,2\n' > $SLURM_NODEFS/abs.csv; echo rel > "\$BENCHCTL_HOST_TMPDIR/rel.txt"; echo "dir \$BENCHCTL_HOST_TMPDIR"
    outputs:
      - {name: abs, remote_path: $SLURM_NODEFS/abs.csv}
      - {name: rel, remote_path: rel.txt}
  - name: scripted
    host: cluster
    script: job.sh
  - name: spin
    host: cluster
    command: i=0; while [ \$i -lt 20000 ]; do i=\$((i+1)); done; echo spun
YAML
run_bc run -c ns.yaml --no-report
expect_rc 0 "a run on nodes without a shared directory: $ERR"
m=runs-ns/1/metadata.json
[ -z "$(ls -A "$SLURM_NODEFS")" ] || fail "this machine should not see the nodes' files: $(ls -A "$SLURM_NODEFS")"
[ "$(cat runs-ns/1/abs.csv)" = "$(printf 'x,y\n1,2')" ] || fail "output abs (fetched through a step): $(ls runs-ns/1)"
[ "$(cat runs-ns/1/rel.txt)" = rel ] || fail "output rel (fetched through a step): $(ls runs-ns/1)"
expect_in "$(cat runs-ns/1/logs/scripted.log)" "script in step"
node=$(json $m '[s["accounting"]["node"] for s in j["stages"] if s["name"] == "make"][0]')
[ "$(json $m '{s["accounting"]["node"] for s in j["stages"]} == {"'"$node"'"}')" = True ] ||
  fail "every stage on the first node: $(json $m '[s["accounting"] for s in j["stages"]]')"
acc='[s for s in j["stages"] if s["name"] == "spin"][0]["accounting"]'
[ "$(json $m "$acc['cpu_s'] > 0 and $acc['elapsed_s'] > 0 and 'step_id' in $acc")" = True ] ||
  fail "accounting read through a step: $(json $m "$acc")"
pd=$(sed -n 's/^dir //p' runs-ns/1/logs/make.log)
case "$pd" in "$SLURM_NODEFS"/.benchctl-slurm.*) ;; *) fail "the private directory: '$pd'" ;; esac
slurm_wait_empty
left=$(srun -N1 -n1 -w "$node" --overcommit ls -A "$SLURM_NODEFS")
[ "$left" = abs.csv ] || fail "the private directory was left on $node: $left"
write_config nsfan.yaml <<YAML
benchmark: {name: slurm-nsfan, output_dir: ./runs-nsfan}
hosts:
  cluster: {transport: slurm, nodes: 2, overcommit: true, shared: false, node_dir: $SLURM_NODEFS}
stages:
  - name: fan
    host: cluster
    nodes: 2
    command: "true"
YAML
run_bc run -c nsfan.yaml --no-report
expect_rc 1 "a fan-out without a shared directory"
expect_in "$ERR" "a fan-out (nodes:) needs a directory the nodes share with this machine"
slurm_wait_empty
pass "shared: false: private directory, script, outputs and accounting through steps on the first node; removed there; a fan-out refused"

# ---- Ctrl-C during a step: exit 130, the step's processes gone, no job left ----
write_config int.yaml <<YAML
benchmark: {name: slurm-int, output_dir: ./runs-int}
hosts:
  cluster: $host
stages:
  - name: long
    host: cluster
    command: touch $S/long.started; exec -a ${marker}-long sleep 300
  - name: after
    host: cluster
    command: touch $S/after.ran
YAML
"$BENCHCTL" run -c int.yaml --no-report >int.out 2>int.err &
pid=$!
for _ in $(seq 300); do [ -e "$S/long.started" ] && pgrep -f "${marker}-long" >/dev/null && break; sleep 0.1; done
[ -e "$S/long.started" ] || { kill -KILL $pid; fail "the long step did not start: $(cat int.err)"; }
kill -INT $pid
set +e; wait $pid; rc=$?; set -e
[ "$rc" = 130 ] || fail "Ctrl-C: exit $rc, expected 130: $(cat int.err)"
[ ! -e "$S/after.ran" ] || fail "a later stage ran after Ctrl-C"
[ "$(json runs-int/1/metadata.json 'j["status"]')" = interrupted ] || fail "status after Ctrl-C"
[ -z "$(squeue -h -o %i)" ] || fail "Ctrl-C left jobs in the queue: $(squeue)"
for _ in $(seq 50); do pgrep -f "${marker}-long" >/dev/null || break; sleep 0.1; done
[ -z "$(pgrep -f "${marker}-long" || true)" ] || fail "Ctrl-C left the step's process: $(pgrep -af "${marker}-long")"
pass "Ctrl-C: exit 130, the step stopped, nothing left in the queue"

# ---- --timeout: the same clean stop (wherever it strikes: allocation or step) ----
rm -f "$S/long.started"
run_bc run -c int.yaml --no-report -t 4s
expect_rc 1 "--timeout"
[ "$(json runs-int/2/metadata.json 'j["status"]')" = timeout ] || fail "status after --timeout: $ERR"
[ -z "$(squeue -h -o %i)" ] || fail "--timeout left jobs in the queue: $(squeue)"
for _ in $(seq 50); do pgrep -f "${marker}-long" >/dev/null || break; sleep 0.1; done
[ -z "$(pgrep -f "${marker}-long" || true)" ] || fail "--timeout left the step's process"
pass "--timeout: status timeout, nothing left in the queue"

# ---- benchctl killed (SIGKILL): the allocation is given back all the same ----
# (salloc holds it while `cat` reads a pipe from benchctl: the kernel closes
# the pipe when benchctl dies)
rm -f "$S/long.started"
"$BENCHCTL" run -c int.yaml --no-report >kill.out 2>kill.err &
pid=$!
for _ in $(seq 300); do [ -e "$S/long.started" ] && pgrep -f "${marker}-long" >/dev/null && break; sleep 0.1; done
[ -e "$S/long.started" ] || { kill -KILL $pid; fail "the long step did not start: $(cat kill.err)"; }
[ -n "$(squeue -h -o %i)" ] || fail "no job while the step runs"
kill -KILL $pid
wait $pid 2>/dev/null || true
slurm_wait_empty
for _ in $(seq 100); do pgrep -f "${marker}-long" >/dev/null || break; sleep 0.1; done
[ -z "$(pgrep -f "${marker}-long" || true)" ] || fail "the step's process outlived the job: $(pgrep -af "${marker}-long")"
pass "benchctl killed with SIGKILL: the job leaves the queue and its step ends"

# ---- benchctl gc after that crash: the private directory on the shared
# directory (runs-int/.benchctl-slurm.*) is removed, said and recorded, once ----
kid=$(ls runs-int | sort -n | tail -1)
pd=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["private_dir"])' \
       runs-int/$kid/.benchctl-private-dirs.jsonl)
case "$pd" in "$PWD"/runs-int/.benchctl-slurm.*) ;; *) fail "the crashed run's private directory: '$pd'" ;; esac
[ -d "$pd" ] || fail "nothing should have removed $pd before gc: $(ls -A runs-int)"
run_bc gc -c int.yaml
expect_rc 0 "gc after the crash"
expect_in "$OUT" "run $kid: removed $pd on host 'cluster'"
[ ! -e "$pd" ] || fail "gc did not remove $pd"
[ -z "$(ls -A runs-int | grep slurm || true)" ] || fail "gc left a private directory: $(ls -A runs-int)"
expect_in "$(json runs-int/$kid/metadata.json 'j["gc"]["removed"]')" "$pd"
[ -z "$(squeue -h -o %i)" ] || fail "a job is in the queue after gc: $(squeue)"
run_bc gc -c int.yaml
expect_rc 0 "gc again"
expect_in "$OUT" "nothing to collect"
pass "benchctl gc removes a crashed slurm run's private directory (on the shared directory), once; no job left"

# ---- a partition that does not exist ----
write_config nopart.yaml <<YAML
benchmark: {name: slurm-nopart, output_dir: ./runs-np}
hosts:
  cluster: {transport: slurm, partition: nosuchpart, nodes: 1}
stages:
  - name: s
    host: cluster
    command: "true"
YAML
run_bc run -c nopart.yaml --no-report
expect_rc 1 "an unknown partition"
expect_in "$ERR" "host 'cluster' (transport slurm): Slurm refused the allocation: salloc: error: invalid partition specified: nosuchpart"
expect_in "$ERR" "nosuchpart"
[ -z "$(squeue -h -o %i)" ] || fail "jobs left: $(squeue)"
pass "an unknown partition: the allocation is refused with Slurm's reason"

# ---- queue_timeout: a job that cannot start in time is cancelled ----
write_config queue.yaml <<YAML
benchmark: {name: slurm-queue, output_dir: ./runs-q}
hosts:
  cluster: {transport: slurm, nodes: 1, queue_timeout: 2s, extra_args: ["--begin=now+1hour"]}
stages:
  - name: s
    host: cluster
    command: touch $S/queued.ran
YAML
run_bc run -c queue.yaml --no-report
expect_rc 1 "queue_timeout"
expect_in "$ERR" "host 'cluster' (transport slurm): no allocation after queue_timeout"
[ ! -e "$S/queued.ran" ] || fail "the stage ran without an allocation"
slurm_wait_empty
pass "queue_timeout: the pending job is cancelled and the run fails"

# ---- the allocation's time limit (termination reason walltime) ----
# Slurm's limits are whole minutes and checked every 30 s: this takes 60 to
# 100 s, too long for every run of the suite.  BENCHCTL_TEST_SLURM_WALLTIME=1
# runs it.
if [ "${BENCHCTL_TEST_SLURM_WALLTIME:-0}" = 1 ]; then
  write_config wall.yaml <<YAML
benchmark: {name: slurm-wall, output_dir: ./runs-w}
hosts:
  cluster: {transport: slurm, nodes: 1, overcommit: true, time: 1m}
stages:
  - name: long
    host: cluster
    command: exec -a ${marker}-wall sleep 300
YAML
  run_bc run -c wall.yaml --no-report
  expect_rc 1 "the allocation's time limit"
  expect_in "$ERR" "hit its time limit (termination reason walltime)"
  [ "$(json runs-w/1/metadata.json 'j["stages"][0]["accounting"]["termination"]')" = walltime ] ||
    fail "accounting: $(json runs-w/1/metadata.json 'j["stages"][0]')"
  slurm_wait_empty
  pass "the allocation's time limit: termination reason walltime"
else
  echo "skipped: the time-limit case (BENCHCTL_TEST_SLURM_WALLTIME=1 runs it, 60-100 s)"
fi
