#!/usr/bin/env bash
# Secrets and paths: a secret in a block scalar or behind an anchor never
# reaches the saved config.yaml (written back from the parsed tree, still a
# valid config); benchctl running with a secret cannot dump core; links a
# stage plants in the run directory are not followed; run IDs never wrap
# and are not reused when .benchctl-last-id is deleted.
source "$(dirname "$0")/lib.sh"

write_config s.yaml <<'YAML'
benchmark: {name: secrets, output_dir: ./runs}
hosts:
  a:
    ip: 127.0.0.1
    username: bench
    password: &pw s3cret-anchor
  b:
    ip: 127.0.0.2
    username: bench
    password: *pw
  c:
    ip: 127.0.0.3
    username: bench
    key_password: |
      s3cret-block
      second line
stages:
  - name: local
    command: echo hello
YAML
run_bc run -c s.yaml
expect_rc 0 "run with secrets"
if grep -rq "s3cret" runs; then fail "a secret reached the run directory: $(grep -rl s3cret runs)"; fi
expect_in "$(cat runs/1/config.yaml)" '"<redacted>"'
cp runs/1/config.yaml copy.yaml
run_bc validate -c copy.yaml
expect_rc 0 "the redacted copy is a valid config"
[ "$(grep -c '<redacted>' runs/1/config.yaml)" = 3 ] || fail "three secrets redacted: $(cat runs/1/config.yaml)"
pass "secrets in a block scalar and behind an anchor: redacted on the parsed tree, the copy stays valid"

# Not dumpable once a secret is loaded: /proc/PID of a non-dumpable process
# belongs to root, so run benchctl as another user and look.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
  chmod o+x "$T"
  mkdir -p dump && chmod 777 dump
  sed 's|output_dir: ./runs|output_dir: ./druns|; s|command: echo hello|command: sleep 30|' s.yaml >dump/s.yaml
  chmod 644 dump/s.yaml
  (cd dump && setpriv --reuid=nobody --regid=nogroup --clear-groups "$BENCHCTL" run -c s.yaml \
     >out 2>err </dev/null) &
  cleanup_hooks+=("pkill -9 -u nobody -f 'benchctl run -c s.yaml' 2>/dev/null")
  pid=
  for _ in $(seq 300); do
    pid=$(pgrep -u nobody -f "benchctl run -c s.yaml" | head -1 || true)
    [ -n "$pid" ] && [ -d dump/druns/1 ] && break
    sleep 0.1
  done
  [ -n "$pid" ] || fail "benchctl as nobody did not start: $(cat dump/err 2>/dev/null)"
  owner=$(stat -c %u /proc/$pid/environ)
  kill -INT $pid
  for _ in $(seq 300); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  [ "$owner" = 0 ] || fail "benchctl with a secret is dumpable (/proc/$pid owned by uid $owner)"
  pass "benchctl holding a secret is not dumpable (no core dump can hold it)"
else
  echo "skip: the core-dump check runs as root with setpriv and a 'nobody' user"
fi

# No core dump of benchctl itself (RLIMIT_CORE 0), unless BENCHCTL_CORE_DUMPS=1;
# its stages keep the limit benchctl was started with.
write_config core.yaml <<'YAML'
benchmark: {name: core, output_dir: ./cruns}
stages:
  - name: show
    command: 'echo "stage=$(ulimit -c) benchctl=$(awk "/^Max core file size/ {print \$5}" /proc/$PPID/limits)"'
YAML
# (AddressSanitizer zeroes the core limit at start unless told not to.)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}disable_coredump=0"
(ulimit -c unlimited 2>/dev/null || ulimit -c "$(ulimit -H -c)"; run_bc run -c core.yaml; expect_rc 0 "core limit"
 want=$(ulimit -c)
 [ "$want" != 0 ] || { echo "skip: the hard core limit is 0 here"; exit 0; }
 expect_in "$OUT" "stage=$want benchctl=0" "core limit: benchctl's and the stage's"
 BENCHCTL_CORE_DUMPS=1 run_bc run -c core.yaml; expect_rc 0 "core limit, opted in"
 expect_in "$OUT" "stage=$want benchctl=$want" "core limit opted in")
(ulimit -c 0; run_bc run -c core.yaml; expect_rc 0 "core limit 0"
 expect_in "$OUT" "stage=0 benchctl=0" "core limit already 0")
pass "benchctl runs with RLIMIT_CORE 0 (BENCHCTL_CORE_DUMPS=1 keeps it); its stages keep the limit it was given"

# Links planted in the run directory by a stage are not followed.
echo victim >victim.txt
write_config l.yaml <<YAML
benchmark: {name: links, output_dir: ./lruns}
stages:
  - name: plant
    command: |
      mkdir -p "\$BENCHCTL_RUN_DIR/logs"
      ln -s $T/victim.txt "\$BENCHCTL_RUN_DIR/logs/next.log"
  - name: next
    command: echo overwritten
YAML
run_bc run -c l.yaml
[ "$(cat victim.txt)" = victim ] || fail "a planted link was followed: victim.txt is now '$(cat victim.txt)'"
expect_rc 1 "a planted log link"
expect_in "$(json lruns/1/metadata.json 'j["error"]')" "next.log"
pass "a link planted at a stage log is not followed: the run stops and says so, the target is untouched"

# Links planted in place of a directory of the run (logs/, samples/):
# nothing benchctl writes goes through them (every component below the run
# directory is opened with O_NOFOLLOW); the run stops and names the path.
mkdir -p outside
printf 'v\n1\n2\n3\n' >data.csv
for sub in logs samples; do
  write_config d-$sub.yaml <<YAML
benchmark: {name: dirlinks, output_dir: ./d-$sub}
stages:
  - name: plant
    command: |
      rm -rf "\$BENCHCTL_RUN_DIR/$sub"
      ln -s $T/outside "\$BENCHCTL_RUN_DIR/$sub"
  - name: next
    command: echo through-the-link; echo more >&2
    outputs:
      - name: data
        remote_path: $T/data.csv
        data_schema: {format: csv, columns: [{name: v, type: integer}]}
YAML
  run_bc run -c d-$sub.yaml
  [ -z "$(ls -A outside)" ] || fail "$sub: a write went through the planted link: $(ls -lR outside)"
  expect_rc 1 "a planted $sub/ link"
  expect_in "$(json d-$sub/1/metadata.json 'j["error"]')" "/1/$sub/" "$sub: error"
  expect_in "$(json d-$sub/1/metadata.json 'j["error"]')" "symbolic link" "$sub: error"
done
pass "links planted in place of logs/ and samples/ are not followed: the run stops, nothing written outside"

# Run IDs: derived from the directory too, and never past the largest.
write_config i.yaml <<'YAML'
benchmark: {name: ids, output_dir: ./iruns}
stages: [{name: a, command: "true"}]
YAML
run_bc run -c i.yaml && run_bc run -c i.yaml
rm -f iruns/.benchctl-last-id
run_bc run -c i.yaml
expect_rc 0 "after deleting the counter"
expect_in "$OUT" "Run ID: 3"
echo 9223372036854775000 >iruns/.benchctl-last-id
run_bc run -c i.yaml
expect_rc 2 "IDs exhausted"
expect_in "$ERR" "no run ID left"
[ -z "$(ls iruns | grep -v '^[123]$' || true)" ] || fail "a run directory was made: $(ls iruns)"
pass "run IDs continue from the directories when the counter is deleted, and never wrap"
