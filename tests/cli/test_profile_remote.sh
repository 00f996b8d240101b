#!/usr/bin/env bash
# Profiling mode, beyond the local host: a profiled stage over SSH (perf
# runs there, the files come back through the transport and leave nothing
# behind), and `compare` naming `benchctl profile A B --stage S` when a
# profiled repeated stage regressed.  The local cases: test_profile.sh.
source "$(dirname "$0")/lib.sh"
source "$SRC_DIR/tests/cli/sshd_lib.sh"
command -v perf >/dev/null || { echo "SKIP: perf is not installed"; exit 77; }
command -v cc >/dev/null || { echo "SKIP: no C compiler"; exit 77; }
perf record -q -o "$T/probe.data" -F 99 -g -- true 2>/dev/null ||
  { echo "SKIP: perf cannot record on this machine"; exit 77; }
PY=/usr/bin/python3

# heavy() does 3 units of work per light() unit; LIGHT_FACTOR scales light().
build() { # build OUT LIGHT_FACTOR
  cat > "$T/hot.c" <<C
#include <stdlib.h>
volatile unsigned long sink;
__attribute__((noinline)) void heavy(unsigned long n) { for (unsigned long i = 0; i < 3 * n; i++) sink += i * 7; }
__attribute__((noinline)) void light(unsigned long n) { for (unsigned long i = 0; i < $2 * n; i++) sink += i * 7; }
int main(int argc, char **argv) {
  unsigned long n = argc > 1 ? strtoul(argv[1], 0, 10) : 1000000;
  /* interleaved in 100 slices: a burst of load elsewhere slows both alike */
  for (int k = 0; k < 100; k++) { heavy(n / 100); light(n / 100); }
  return 0;
}
C
  cc -O1 -fno-omit-frame-pointer -o "$1" "$T/hot.c"
}
build "$T/hot" 1

# compare: a profiled repeated stage that regressed names the profile command.
write_config cmp.yaml <<YAML
benchmark: {name: cmp, output_dir: ./cmp}
stages:
  - name: work
    command: "$T/hot \$M"
    repeat: 6
    profile: {frequency: 99}
YAML
run_bc run -c cmp.yaml -e M=5000000
expect_rc 0 "compare baseline"
run_bc run -c cmp.yaml -e M=400000000
expect_rc 0 "compare candidate (80 times the work)"
run_bc compare 1 2 -c cmp.yaml --json
expect_rc 0 "compare"
echo "$OUT" > c.json
[ "$(jsons '[(p["stage"], p["before"], p["after"], p["command"]) for p in j["profiles"]]' <<<"$OUT")" = \
  "[('work', '1', '2', 'benchctl profile 1 2 --stage work')]" ] ||
  fail "compare should link the profile of the regressed stage: $(jsons 'j.get("profiles"), j["notes"]' <<<"$OUT")"
if $PY -c 'import jsonschema' 2>/dev/null; then
  $PY - "$SRC_DIR/docs/schema/compare.schema.json" c.json <<'PY' || fail "compare --json does not match its schema"
import json, sys, jsonschema
jsonschema.Draft202012Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2])))
PY
fi
run_bc compare 1 2 -c cmp.yaml
expect_in "$OUT" "benchctl profile 1 2 --stage work"
pass "compare names 'benchctl profile' for a profiled stage that regressed"

# Over SSH: the profile is taken on the host and fetched through the transport.
if sshd_require 2>/dev/null; then
  unset SSH_AUTH_SOCK
  sshd_keys
  sshd_start a
  write_config s.yaml <<YAML
benchmark: {name: profssh, output_dir: ./ssh}
hosts:
  a: $(ssh_host_yaml a)
stages:
  - name: remote
    host: a
    command: "$T/hot 100000000"
    profile: {with: perf, frequency: 499}
  - name: remote_rep
    host: a
    command: "$T/hot 10000000"
    repeat: 2
    profile: {with: perf, frequency: 99}
YAML
  run_bc run -c s.yaml
  expect_rc 0 "profiled stage over ssh"
  [ -s ssh/1/profiles/remote.perf.data ] && [ -s ssh/1/profiles/remote.folded ] ||
    fail "the remote profile was not fetched: $(find ssh/1)"
  first=$(json ssh/1/metadata.json '[s["profile"]["top_self"][0]["function"] for s in j["stages"]][0]')
  [ "$first" = heavy ] || fail "over ssh: heavy should be the hottest, got $first"
  data=$(json ssh/1/metadata.json '[s["profile"]["data"] for s in j["stages"]][0]')
  [ "$data" = "['profiles/remote.perf.data']" ] || fail "over ssh: raw profiles recorded: $data"
  reps=$(json ssh/1/metadata.json '[(r["profiler_s"] > 0, r["span"]["start_s"] < r["span"]["end_s"]) for s in j["stages"] if s["name"] == "remote_rep" for r in s["repeat"]["runs"]]')
  [ "$reps" = "[(True, True), (True, True)]" ] ||
    fail "over ssh: repeated runs should be timed by their span under perf: $reps"
  cov=$(json ssh/1/metadata.json '[s["repeat"]["wall_covers"] for s in j["stages"] if s["name"] == "remote_rep"][0]')
  expect_in "$cov" "the command alone under its profiler"
  pass "a profiled stage over SSH; repeated runs there timed by their span on the host"
else
  echo "skip: no sshd for the SSH case"
fi
