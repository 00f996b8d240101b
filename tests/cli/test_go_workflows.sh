#!/usr/bin/env bash
# The Go tool's own integration workflows (both releases, from
# ../shared/compat-examples) run unchanged against throwaway sshd servers.
# What is rewritten is only what named the Go project's Docker set-up: the
# ports 2222-2224 and user testuser become our servers and root, the test
# key ours (with a known_hosts file: benchctl checks host keys), and the
# containers' absolute paths (/config, /tmp/benchctl-*, the output dir)
# move under $T; the service the container ran on port 8080 is a local
# HTTP server on a free port.  As the Go tool ran them, each runs from its test/
# directory (relative script: paths are resolved against it).  Expected, as
# the Go tool answered: exit 0 for each, except command_failure.yaml (1) and
# invalid_host.yaml (rejected at load: 2) and v0.2.1's with_output.yaml,
# whose file does not match its data_schema (1: we validate, COMPAT.md).
source "$(dirname "$0")/lib.sh"
source "$SRC_DIR/tests/cli/sshd_lib.sh"
sshd_require
unset SSH_AUTH_SOCK
COMPAT="$SRC_DIR/../shared/compat-examples"
[ -d "$COMPAT" ] || { echo "SKIP: $COMPAT not found"; exit 0; }
sshd_keys
for s in a b c; do sshd_start $s; done
: >"$T/known_hosts"
for s in a b c; do sshd_known_hosts $s >>"$T/known_hosts"; done
mkdir -p "$T/config"
# The Go test container served port 8080 (with_healthcheck.yaml probes it).
SVC_PORT=$(_free_port)
/usr/bin/python3 -m http.server --bind 127.0.0.1 "$SVC_PORT" >/dev/null 2>&1 &
svc=$!
cleanup_hooks+=("kill $svc")
for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$SVC_PORT") 2>/dev/null && break; sleep 0.05; done

ran=0
for rel in go-v0.2.1 go-v0.3.4; do
  mkdir -p "$T/$rel"
  cp -r "$COMPAT/$rel/test" "$T/$rel/"
  chmod -R u+w "$T/$rel"
  cd "$T/$rel/test"
  for f in testdata/scripts/* testdata/workflow/scripts/*; do
    [ -f "$f" ] && sed -i -e "s|/tmp/benchctl-|@T@/tmp-benchctl-|g; s|/config/|@T@/config/|g" \
      -e "s|@T@|$T|g" "$f"
  done
  for f in testdata/workflow/*.yaml; do
    # Placeholders first: $T itself starts with /tmp/benchctl-.
    sed -i -e "s|/tmp/benchctl-test-output|@T@/out-$rel|; s|/tmp/benchctl-|@T@/tmp-benchctl-|g" \
      -e "s|/config/|@T@/config/|g" \
      -e "s/port: 2222/port: $(sshd_port a)/; s/port: 2223/port: $(sshd_port b)/; s/port: 2224/port: $(sshd_port c)/" \
      -e "s/ip: localhost/ip: 127.0.0.1/; s/username: testuser/username: root/" \
      -e "s/target: \"8080\"/target: \"$SVC_PORT\"/; s/target: 8080\$/target: $SVC_PORT/" \
      -e "s|key_file: ./testdata/ssh/test_key|key_file: @T@/keys/id_plain\n    known_hosts: @T@/known_hosts|" \
      -e "s|@T@|$T|g" "$f"
    name=$(basename "$f")
    want=0
    [ "$name" = command_failure.yaml ] && want=1
    [ "$name" = invalid_host.yaml ] && want=2
    # A deliberate difference (COMPAT.md: CSV contents are validated): the
    # v0.2.1 fixture's file has no timestamp column its data_schema declares.
    grep -q "type: timestamp" "$f" && [ "$name" = with_output.yaml ] && want=1
    run_bc run -c "$f"
    [ "$RC" = "$want" ] || fail "$rel $name: exit $RC, the Go tool's was $want
--- stdout
$OUT
--- stderr
$ERR"
    if [ "$name" = with_output.yaml ] && [ "$want" = 1 ]; then
      expect_in "$ERR" "test_output.txt does not match its data_schema"
    fi
    ran=$((ran + 1))
  done
  cd "$T"
done
[ "$ran" -eq 16 ] || fail "$ran workflows found, not the 16 of both releases"
# What some of them produce, checked as the Go tests checked it.
m=$(ls -d "$T"/out-go-v0.3.4/* | sort -n | head -1)
[ -n "$m" ] || fail "no runs stored"
grep -rqx "workload finished" "$T"/out-go-v0.3.4/*/workload.txt || fail "background.yaml: workload output collected"
grep -rqx "test output data" "$T"/out-go-v0.3.4/*/test_output.txt || fail "with_output.yaml: output collected"
pass "the Go tool's $ran integration workflows (v0.2.1, v0.3.4) give its exit codes and outputs"
