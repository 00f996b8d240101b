#!/usr/bin/env bash
# A full disk under the run directory: a small tmpfs (in a private mount
# namespace, so nothing leaks) filled by a stage's log, by an output's
# sample files, by a collected output, by the config copy, by the stage
# record appended to stages.jsonl, by metadata.json's refresh, and full before
# the run starts.  Each run fails with a clear message and exit 1, and its
# metadata.json is valid JSON that says why (the space for it was kept
# from the start); a run that cannot start leaves no run directory.
if [ "${BC_IN_NS:-}" != 1 ]; then
  if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
    echo "SKIP: the disk-full tests mount a tmpfs in a private mount namespace (need root)"
    exit 0
  fi
  BC_IN_NS=1 exec unshare -m bash "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
mount --make-rprivate / 2>/dev/null || true
mkdir -p fs
mount -t tmpfs -o size=2m tmpfs "$T/fs"
cleanup_hooks+=("umount -l '$T/fs'")

# full_run NAME: the last run in fs/NAME ended failed, exit 1, with a valid
# metadata.json whose error says the file system is full.
scenarios=0
valid=0
expect_full() {
  local name=$1 dir meta
  scenarios=$((scenarios + 1))
  expect_rc 1 "$name"
  dir=$(ls -d fs/"$name"/[0-9]* | sort -t/ -k3 -n | tail -1)
  meta=$dir/metadata.json
  python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$meta" || fail "$name: $meta is not valid JSON"
  [ "$(json "$meta" 'j["status"]')" = failed ] || fail "$name: status $(json "$meta" 'j["status"]')"
  expect_in "$(json "$meta" 'j["error"]')" "the file system is full" "$name: error"
  expect_in "$ERR" "the file system is full" "$name: stderr"
  [ ! -e "$dir/.benchctl-reserve" ] || fail "$name: the reserve is left in $dir"
  valid=$((valid + 1))
  rm -rf "fs/$name"
}

# 1. The stage log fills the disk.
cat >log.yaml <<'YAML'
benchmark: {name: full-log, output_dir: ./fs/log}
stages:
  - name: chatter
    command: head -c 5000000 /dev/zero | tr '\0' 'x'; echo; echo after
  - name: next
    command: echo never
YAML
run_bc run -c log.yaml
expect_full log
pass "a stage log filling the disk: run failed, exit 1, metadata.json valid and says why"

# 2. The sample files of a validated output fill the disk (8 bytes a value).
python3 - <<'PY'
with open("big.csv", "w") as f:
    f.write("v\n")
    for i in range(300000):
        f.write("%d\n" % (i % 10))
PY
cat >samples.yaml <<YAML
benchmark: {name: full-samples, output_dir: ./fs/samples}
stages:
  - name: measure
    command: "true"
    outputs:
      - name: data
        remote_path: $T/big.csv
        max_size: 100M
        data_schema:
          format: csv
          columns: [{name: v, type: integer}]
YAML
run_bc run -c samples.yaml
expect_full samples
pass "sample files filling the disk: run failed, exit 1, metadata.json valid and says why"

# 3. A collected output fills the disk.
head -c 4000000 /dev/zero >big.bin
cat >collect.yaml <<YAML
benchmark: {name: full-collect, output_dir: ./fs/collect}
stages:
  - name: produce
    command: "true"
    outputs:
      - {name: blob, remote_path: $T/big.bin}
YAML
run_bc run -c collect.yaml
scenarios=$((scenarios + 1))
expect_rc 1 collect
meta=fs/collect/1/metadata.json
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$meta" || fail "collect: invalid metadata.json"
[ "$(json $meta 'j["status"]')" = failed ] || fail "collect: status"
expect_in "$(json $meta 'j["error"]')" "No space left on device" "collect: error"
[ "$(json $meta 'j["stages"][0]["outputs"][0]["error"] is not None')" = True ] || fail "collect: the output's error"
valid=$((valid + 1))
rm -rf fs/collect
pass "a collected output filling the disk: run failed, exit 1, metadata.json valid and says why"

# 3b. Merging fan-out nodes' outputs fills the disk (each node's file fits,
#     the merged one does not): the run stops and names the merged file.
python3 -c 'print("s"); print("\n".join("x" * 100 for _ in range(7000)))' >rows.csv
cat >merge.yaml <<YAML
benchmark: {name: full-merge, output_dir: ./fs/merge}
stages:
  - name: load
    nodes: 2
    command: "true"
    outputs:
      - name: rows
        remote_path: $T/rows.csv
        data_schema: {format: csv, columns: [{name: s, type: string}]}
YAML
run_bc run -c merge.yaml
dir=$(ls -d fs/merge/[0-9]* | tail -1)
expect_in "$(json "$dir/metadata.json" 'j["error"]')" "rows.csv" "merge: error"
expect_full merge
pass "merging the nodes' outputs filling the disk: run failed, exit 1, metadata.json valid and says why"

# 4. The config copy fills the disk (a config with a big comment, and a
#    disk already nearly full).
head -c 1700000 /dev/zero >fs/filler
{ echo "benchmark: {name: full-config, output_dir: ./fs/config}"
  echo "stages: [{name: a, command: 'echo hi'}]"
  python3 -c 'print("\n".join("# " + "c" * 70 for _ in range(6000)))'; } >config.yaml
run_bc run -c config.yaml
expect_full config
rm -f fs/filler
pass "the config copy filling the disk: run failed, exit 1, metadata.json valid and says why"

# 4b. The disk fills while the host monitor appends to its CSV (the stage
#     fills it from outside the run directory and waits): that failed
#     write stops the run like any other.
cat >mon.yaml <<YAML
benchmark:
  name: full-monitor
  output_dir: ./fs/mon
  monitor: {interval: 10ms, plot: none}
stages:
  - name: fill
    command: "head -c 3000000 /dev/zero >$T/fs/filler 2>/dev/null || true; sleep 5; echo late"
YAML
run_bc run -c mon.yaml
dir=$(ls -d fs/mon/[0-9]* | tail -1)
expect_in "$(json "$dir/metadata.json" 'j["error"]')" "monitor/local.csv" "monitor: error"
rm -f fs/filler
expect_full mon
pass "a monitor CSV filling the disk: run failed, exit 1, metadata.json valid and says why"

# 4c. The disk fills between two stages (a stage fills it from outside the
#     run directory), so the first write that fails is the stage record's
#     append to stages.jsonl: the run stops there, and the record is not
#     lost - it is in metadata.json.
cat >journal.yaml <<YAML
benchmark: {name: full-journal, output_dir: ./fs/journal}
stages:
  - name: fill
    command: "head -c 3000000 /dev/zero >$T/fs/filler 2>/dev/null || true"
  - name: next
    command: echo never
YAML
run_bc run -c journal.yaml
dir=$(ls -d fs/journal/[0-9]* | tail -1)
expect_in "$(json "$dir/metadata.json" 'j["error"]')" "stages.jsonl" "journal: error"
[ "$(json "$dir/metadata.json" '[(s["name"], s["status"]) for s in j["stages"]]')" = "[('fill', 'success'), ('next', 'not_run')]" ] ||
  fail "journal: the stage records in metadata.json: $(json "$dir/metadata.json" 'j["stages"]')"
expect_not_in "$OUT" "never" "journal: the stage after the failed write"
rm -f fs/filler
expect_full journal
pass "stages.jsonl filling the disk: run failed, exit 1, the stage's record kept in metadata.json"

# 4d. The disk fills during a stage that outlives metadata.json's refresh
#     interval (1 s): the records fit in stages.jsonl's existing block, the
#     refresh of metadata.json is the first write that fails.  The run
#     stops, and the final metadata.json (written in the room kept for it)
#     holds every stage record.
cat >meta.yaml <<YAML
benchmark: {name: full-meta, output_dir: ./fs/meta}
stages:
  - name: first
    command: "true"
  - name: fill
    command: "head -c 3000000 /dev/zero >$T/fs/filler 2>/dev/null || true; sleep 1.5"
  - name: next
    command: echo never
YAML
run_bc run -c meta.yaml
dir=$(ls -d fs/meta/[0-9]* | tail -1)
expect_in "$(json "$dir/metadata.json" 'j["error"]')" "metadata.json" "meta: error"
expect_not_in "$(json "$dir/metadata.json" 'j["error"]')" "stages.jsonl" "meta: error"
[ "$(json "$dir/metadata.json" '[(s["name"], s["status"]) for s in j["stages"]]')" = \
  "[('first', 'success'), ('fill', 'success'), ('next', 'not_run')]" ] ||
  fail "meta: the stage records in metadata.json: $(json "$dir/metadata.json" 'j["stages"]')"
# stages.jsonl holds whole records only (what fitted), never a torn line
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$dir/stages.jsonl" ||
  fail "meta: a torn line in stages.jsonl: $(cat "$dir/stages.jsonl")"
expect_not_in "$OUT" "never" "meta: the stage after the failed write"
rm -f fs/filler
expect_full meta
pass "metadata.json's refresh filling the disk: run failed, exit 1, every record kept"

# 5. A disk already full: no room for a run; nothing is left behind.
head -c 2097152 /dev/zero >fs/filler 2>/dev/null || true
cat >pre.yaml <<'YAML'
benchmark: {name: full-before, output_dir: ./fs/pre}
stages: [{name: a, command: echo hi}]
YAML
run_bc run -c pre.yaml
expect_rc 2 "full before the run"
expect_in "$ERR" "No space left on device"
[ -z "$(ls fs/pre 2>/dev/null | grep -v '^\.' || true)" ] || fail "a run directory was left: $(ls -la fs/pre)"
rm -f fs/filler
pass "a disk full before the run: exit 1, a clear message, no run directory left"

# 6. The stage log cap keeps a big log inside its bound: the run succeeds,
#    the log is cut and the record says how much was not kept.
cat >cap.yaml <<'YAML'
benchmark:
  name: log-cap
  output_dir: ./fs/cap
  logging: {max_stage_log: 100K}
stages:
  - name: chatter
    command: head -c 3000000 /dev/zero | tr '\0' 'y'
YAML
run_bc run -c cap.yaml
expect_rc 0 "log cap"
meta=fs/cap/1/metadata.json
[ "$(json $meta 'j["stages"][0]["log_dropped_bytes"]')" = $((3000000 - 102400)) ] ||
  fail "log_dropped_bytes: $(json $meta 'j["stages"][0]')"
size=$(stat -c %s "fs/cap/1/$(json $meta 'j["stages"][0]["log"]')")
[ "$size" -ge 102400 ] && [ "$size" -lt 103000 ] || fail "log size $size"
expect_in "$(tail -c 200 "fs/cap/1/$(json $meta 'j["stages"][0]["log"]')")" "max_stage_log"
pass "max_stage_log: the log stops at its cap, the record counts what was cut"

echo "disk full: $valid of $scenarios scenarios ended with a valid metadata.json that says why"
