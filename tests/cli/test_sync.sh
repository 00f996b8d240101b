#!/usr/bin/env bash
# `benchctl sync push` (the Go tool's v0.3.4 command): the stored runs are
# copied to benchmark.sync.remote with rclone (a directory here: rclone's
# local backend), with benchmark.sync.args; nothing at the remote is
# deleted; missing settings and a failing rclone are clear errors.
source "$(dirname "$0")/lib.sh"
command -v rclone >/dev/null || fail "rclone is not installed (scripts/deps.sh installs it)"
export RCLONE_CONFIG="$T/rclone.conf"   # no user configuration is read or written
: >"$RCLONE_CONFIG"
mkdir -p remote
echo "kept" > remote/already-there.txt
write_config s.yaml <<YAML
benchmark:
  name: sync
  output_dir: ./runs
  sync: {remote: $T/remote/bench, args: ["--no-update-modtime"]}
stages:
  - name: s
    command: echo hello
YAML
run_bc run -c s.yaml; expect_rc 0 "run 1"
run_bc run -c s.yaml; expect_rc 0 "run 2"
run_bc sync push -c s.yaml
expect_rc 0 "sync push"
expect_in "$OUT" "Pushing $T/runs to $T/remote/bench (rclone copy)"
for id in 1 2; do
  cmp -s runs/$id/metadata.json remote/bench/$id/metadata.json || fail "run $id's metadata.json copied"
  cmp -s runs/$id/logs/s.log remote/bench/$id/logs/s.log || fail "run $id's log copied"
done
[ ! -e remote/bench/.benchctl.lock ] || fail "the store's lock file is not copied"
[ "$(cat remote/already-there.txt)" = kept ] || fail "nothing at the remote is deleted"
pass "sync push copies every stored run to benchmark.sync.remote"

# The args reach rclone: an argument it rejects makes the push fail.
sed -i 's/args: \["--no-update-modtime"\]/args: ["--no-such-rclone-flag"]/' s.yaml
run_bc sync push -c s.yaml
expect_rc 1 "rclone fails"
expect_in "$ERR" "benchctl sync: rclone failed (exit status"
sed -i '/sync:/d' s.yaml
run_bc sync push -c s.yaml
expect_rc 2 "no benchmark.sync"
expect_in "$ERR" "has no benchmark.sync.remote"
run_bc sync pull -c s.yaml
expect_rc 2 "an unknown action"
expect_in "$ERR" "unknown action 'pull'"
pass "sync: args passed on; a failing rclone, a missing remote and an unknown action are errors"
