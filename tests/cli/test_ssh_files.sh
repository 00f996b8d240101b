#!/usr/bin/env bash
# SSH transport: outputs come back over SFTP - a small file, a glob, a path
# relative to the run's private directory, a 256 MiB file (checksum), a
# missing file and a directory (clear errors), outputs of a failed stage
# kept, and a failed transfer never leaves a file under the final name.
source "$(dirname "$0")/lib.sh"
source "$SRC_DIR/tests/cli/sshd_lib.sh"
sshd_require
unset SSH_AUTH_SOCK
sshd_keys
sshd_start a
HOST=$(ssh_host_yaml a)
R="$T/remote"   # the "remote" side's files (same machine)
mkdir -p "$R"
meta() { echo "$1/$(ls "$1" | sort -n | tail -1)/metadata.json"; }

write_config f.yaml <<YAML
benchmark: {name: files, output_dir: ./runs}
hosts:
  a: $HOST
stages:
  - name: produce
    host: a
    command: |
      seq 1 1000 > $R/small.csv
      for i in 1 2 3; do echo "trace \$i" > $R/trace-\$i.json; done
      echo in-private-dir > "\$BENCHCTL_HOST_TMPDIR/rel.txt"
      mkdir -p $R/adir
    outputs:
      - {name: small, remote_path: $R/small.csv}
      - {name: traces, remote_path: "$R/trace-*.json"}
      - {name: rel, remote_path: rel.txt}
  - name: partial
    host: a
    command: echo written-before-failing > $R/partial.txt; exit 3
    continue_on_error: true
    outputs: [{name: partial, remote_path: $R/partial.txt}]
  - name: missing
    host: a
    command: "true"
    continue_on_error: true
    outputs: [{name: nothere, remote_path: $R/does-not-exist.csv}]
  - name: isdir
    host: a
    command: "true"
    outputs: [{name: adir, remote_path: $R/adir}]
YAML
run_bc run -c f.yaml
expect_rc 1 "files run"
d=runs/1
cmp -s "$R/small.csv" "$d/small.csv" || fail "small.csv differs"
[ "$(ls "$d/traces" | tr '\n' ' ')" = "trace-1.json trace-2.json trace-3.json " ] || fail "glob: $(ls "$d/traces")"
[ "$(cat "$d/traces/trace-2.json")" = "trace 2" ] || fail "glob content"
[ "$(cat "$d/rel.txt")" = in-private-dir ] || fail "relative remote_path: $(ls $d)"
pass "small file, glob and a path relative to the private directory collected"
[ "$(cat "$d/partial.txt")" = written-before-failing ] || fail "output of a failed stage not kept"
pass "outputs of a failed stage are kept"
m=$d/metadata.json
e=$(json $m 'j["stages"][2]["error"]')
expect_in "$e" "stage 'missing' on host 'a': output 'nothere'"
expect_in "$e" "$R/does-not-exist.csv does not exist on host 'a'"
[ "$(json $m 'j["stages"][2]["status"]')" = failed ] || fail "missing file: stage not failed"
expect_in "$(json $m 'j["stages"][3]["error"]')" "is a directory"
[ "$(json $m 'j["status"]')" = failed ] || fail "run status"
[ -z "$(find runs -name '*.part.*')" ] || fail "temporary files left: $(find runs -name '*.part.*')"
pass "a missing remote_path and a directory: clear errors naming stage and host, status failed"

# A large file, checksummed; timed against the test's budget.
head -c 256M /dev/urandom >"$R/big.bin"
want=$(sha256sum <"$R/big.bin")
write_config big.yaml <<YAML
benchmark: {name: big, output_dir: ./runs-big}
hosts:
  a: $HOST
stages:
  - name: big
    host: a
    command: "true"
    outputs: [{name: big, remote_path: $R/big.bin}]
YAML
start=$(date +%s%N)
run_bc run -c big.yaml
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
expect_rc 0 "256 MiB output"
[ "$(sha256sum <runs-big/1/big.bin)" = "$want" ] || fail "256 MiB output: checksum differs"
rm -f runs-big/1/big.bin
pass "256 MiB output collected over SFTP, checksum equal (${elapsed} ms)"

# A transfer that fails (the local file system fills up) leaves nothing
# under the final name - and no temporary file either.
mkdir -p "$T/small-fs"
if mount -t tmpfs -o size=4m tmpfs "$T/small-fs" 2>/dev/null; then
  cleanup_hooks+=("umount $T/small-fs")
  head -c 16M /dev/urandom >"$R/too-big.bin"
  write_config full.yaml <<YAML
benchmark: {name: full, output_dir: $T/small-fs/runs}
hosts:
  a: $HOST
stages:
  - name: fill
    host: a
    command: "true"
    outputs: [{name: toobig, remote_path: $R/too-big.bin}]
YAML
  run_bc run -c full.yaml
  expect_rc 1 "transfer into a full file system"
  expect_in "$ERR" "No space left on device"
  [ ! -e "$T/small-fs/runs/1/toobig.bin" ] || fail "a failed transfer left toobig.bin"
  [ -z "$(find "$T/small-fs" -name '*.part.*')" ] || fail "a failed transfer left $(find "$T/small-fs" -name '*.part.*')"
  [ "$(json "$T/small-fs/runs/1/metadata.json" 'j["status"]')" = failed ] || fail "status should be failed"
  pass "a failed transfer (local disk full) leaves no file under the final name"
else
  echo "skip - cannot mount a small tmpfs here: the failed-transfer check needs it"
fi

# The connection breaks during a large transfer: a clear error, nothing
# under the final name, no temporary file.
truncate -s 4G "$R/sparse.bin"
write_config cut.yaml <<YAML
benchmark: {name: cut, output_dir: ./runs-cut}
hosts:
  a: $HOST
stages:
  - name: fetch
    host: a
    command: "true"
    outputs: [{name: sparse, remote_path: $R/sparse.bin}]
YAML
"$BENCHCTL" run -c cut.yaml >cut.out 2>cut.err &
pid=$!
for _ in $(seq 400); do
  part=$(find runs-cut -name 'sparse.bin.part.*' -size +8M 2>/dev/null | head -1 || true)
  [ -n "$part" ] && break
  sleep 0.025
done
[ -n "$part" ] || fail "the transfer did not start: $(cat cut.err)"
sshd_stop a
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" = 1 ] || fail "transfer cut: exit $rc: $(cat cut.err)"
grep -q "output 'sparse' ($R/sparse.bin): connection to host 'a' (root@127.0.0.1:$(sshd_port a)) lost" cut.err ||
  fail "no clear message: $(cat cut.err)"
[ ! -e runs-cut/1/sparse.bin ] || fail "a cut transfer left sparse.bin"
[ -z "$(find runs-cut -name '*.part.*')" ] || fail "a cut transfer left $(find runs-cut -name '*.part.*')"
[ "$(json runs-cut/1/metadata.json 'j["status"]')" = failed ] || fail "status should be failed"
left_dir=$(grep -o "/tmp/benchctl\.[A-Za-z0-9]* was not removed" cut.err | cut -d' ' -f1 || true)
[ -n "$left_dir" ] && rm -rf "$left_dir"
pass "connection lost during a large transfer: clear error, nothing under the final name"
