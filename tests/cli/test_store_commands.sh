#!/usr/bin/env bash
# init, inspect, list, edit/annotate, help and version, and the usage
# errors of run: exit codes, messages, and what is (not) written.
source "$(dirname "$0")/lib.sh"

# ---- init ------------------------------------------------------------------
run_bc init --name my-bench
expect_rc 0 "init"
[ -f benchmark.yaml ] || fail "init wrote no benchmark.yaml"
expect_in "$(cat benchmark.yaml)" "name: my-bench" "benchmark.yaml"
expect_in "$OUT" "benchmark.yaml" "init output"
run_bc validate -c benchmark.yaml
expect_rc 0 "validate the starter config"
expect_in "$OUT" "valid (benchmark 'my-bench'" "validate output"
run_bc run -c benchmark.yaml
expect_rc 0 "run the starter config"
[ "$(json results/1/metadata.json 'j["status"]')" = success ] || fail "starter run: status not success"
pass "init writes a config that validates and runs"

before=$(cat benchmark.yaml)
run_bc init --name changed
expect_rc 2 "second init without --force"
expect_in "$ERR" "already exists" "stderr"
expect_in "$ERR" "--force" "stderr"
[ "$(cat benchmark.yaml)" = "$before" ] || fail "init without --force changed benchmark.yaml"
pass "init refuses to overwrite without --force"

cp benchmark.yaml keep.yaml
run_bc init --force --name second-bench
expect_rc 0 "init --force"
expect_in "$(cat benchmark.yaml)" "name: second-bench" "benchmark.yaml after --force"
expect_not_in "$(cat benchmark.yaml)" "my-bench" "benchmark.yaml after --force"
pass "init --force overwrites"

run_bc init --file other.yaml --name other-bench
expect_rc 0 "init --file"
[ -f other.yaml ] || fail "init --file wrote no other.yaml"
expect_in "$(cat other.yaml)" "name: other-bench" "other.yaml"
expect_in "$(cat benchmark.yaml)" "name: second-bench" "benchmark.yaml untouched by --file"
run_bc validate -c other.yaml
expect_rc 0 "validate other.yaml"
pass "init --file writes the named file"

# ---- a store with a few runs ------------------------------------------------
write_config store.yaml <<'EOF'
benchmark:
  name: store-bench
  output_dir: ./store
stages:
  - name: first-stage
    command: echo one
  - name: second-stage
    command: echo two
EOF
write_config failing.yaml <<'EOF'
benchmark:
  name: failing-bench
  output_dir: ./store
stages:
  - name: boom
    command: exit 3
EOF
run_bc run -c store.yaml -m keep=me -m over=old
expect_rc 0 "run 1"
expect_in "$OUT" "Run ID: 1" "run 1"
run_bc run -c failing.yaml
expect_rc 1 "run 2 (fails)"
expect_in "$OUT" "Run ID: 2" "run 2"

# ---- inspect ----------------------------------------------------------------
run_bc inspect 1 -c store.yaml
expect_rc 0 "inspect 1"
expect_in "$OUT" "Run 1: store-bench" "inspect text"
expect_in "$OUT" "success" "inspect text"
expect_in "$OUT" "first-stage" "inspect text"
expect_in "$OUT" "second-stage" "inspect text"
expect_in "$OUT" "keep = me" "inspect text (custom)"
expect_in "$OUT" "$T/store/1" "inspect text (directory)"
run_bc inspect 2 -c store.yaml
expect_rc 0 "inspect 2"
expect_in "$OUT" "Run 2: failing-bench" "inspect text"
expect_in "$OUT" "failed" "inspect text"
expect_in "$OUT" "boom" "inspect text"
expect_in "$OUT" "exit status 3" "inspect text (error)"

run_bc inspect 1 --json -c store.yaml
expect_rc 0 "inspect --json"
printf '%s' "$OUT" >inspect.json
python3 - "$T/inspect.json" "$T/store/1/metadata.json" <<'EOF' || fail "inspect --json differs from metadata.json"
import json, sys
a = json.load(open(sys.argv[1]))
b = json.load(open(sys.argv[2]))
sys.exit(0 if a == b else 1)
EOF
pass "inspect shows a run as text and as metadata.json"

run_bc inspect 99 -c store.yaml
expect_rc 2 "inspect 99"
expect_in "$ERR" "run 99 not found" "inspect 99"
run_bc inspect abc -c store.yaml
expect_rc 2 "inspect abc"
expect_in "$ERR" "abc" "inspect abc"
run_bc inspect -c store.yaml
expect_rc 2 "inspect without ID"
pass "inspect of a missing or malformed ID exits 2"

# ---- list -------------------------------------------------------------------
run_bc list -c store.yaml
expect_rc 0 "list"
lines=$(grep -cE '^[0-9]+ ' <<<"$OUT" || true)
[ "$lines" = 2 ] || fail "list: expected 2 run lines, got $lines
$OUT"
grep -Eq '^1 +store-bench +success ' <<<"$OUT" || fail "list: no line for run 1
$OUT"
grep -Eq '^2 +failing-bench +failed ' <<<"$OUT" || fail "list: no line for run 2
$OUT"
run_bc list --json -c store.yaml
expect_rc 0 "list --json"
n=$(jsons 'len(j)' <<<"$OUT")
[ "$n" = 2 ] || fail "list --json: expected 2 entries, got $n"
[ "$(jsons '[e["run_id"] for e in j]' <<<"$OUT")" = "['1', '2']" ] || fail "list --json run_ids"
[ "$(jsons '[e["benchmark_name"] for e in j]' <<<"$OUT")" = "['store-bench', 'failing-bench']" ] ||
  fail "list --json names"
[ "$(jsons '[e["status"] for e in j]' <<<"$OUT")" = "['success', 'failed']" ] || fail "list --json status"
[ "$(jsons 'all(set(e) >= {"run_id","benchmark_name","status","start_time","duration_s"} for e in j)' <<<"$OUT")" = True ] ||
  fail "list --json: missing keys in $OUT"
[ "$(jsons 'all(isinstance(e["duration_s"], (int, float)) and e["duration_s"] >= 0 and e["start_time"] for e in j)' <<<"$OUT")" = True ] ||
  fail "list --json: bad duration_s/start_time in $OUT"
pass "list shows one line per run, and a JSON array"

mkdir elsewhere
(
  cd elsewhere
  [ ! -e benchmark.yaml ] || exit 1
  "$BENCHCTL" list -o ../store >../list-o.out 2>../list-o.err </dev/null
) || fail "list -o DIR without a config failed: $(cat list-o.err)"
grep -Eq '^1 +store-bench ' list-o.out || fail "list -o: no line for run 1: $(cat list-o.out)"
mkdir empty-store
run_bc list -o empty-store
expect_rc 0 "list of an empty output dir"
expect_in "$OUT" "No runs in" "list of an empty output dir"
run_bc list --json -o empty-store
expect_rc 0 "list --json of an empty output dir"
[ "$(jsons 'j' <<<"$OUT")" = "[]" ] || fail "list --json of an empty dir is not []: $OUT"
(
  cd elsewhere
  set +e
  "$BENCHCTL" inspect 1 >../noconf.out 2>../noconf.err </dev/null
  echo $? >../noconf.rc
)
[ "$(cat noconf.rc)" = 2 ] || fail "inspect without a config or -o: exit $(cat noconf.rc)"
[ "$(wc -l < noconf.err)" = 1 ] || fail "inspect without a config: expected one line: $(cat noconf.err)"
expect_in "$(cat noconf.err)" "benchctl inspect: where are the runs? No benchmark.yaml in this directory: give -o DIR"
pass "list -o works without a config; an empty store prints a friendly line; no config, no -o: one clear line"

# ---- edit / annotate ---------------------------------------------------------
custom() { json "store/$1/metadata.json" 'j["custom"]'; }
run_bc edit 1 -c store.yaml -m over=new -m added=yes
expect_rc 0 "edit 1"
[ "$(json store/1/metadata.json 'j["custom"]["keep"]')" = me ] || fail "edit lost the run's -m key: $(custom 1)"
[ "$(json store/1/metadata.json 'j["custom"]["over"]')" = new ] || fail "edit did not overwrite: $(custom 1)"
[ "$(json store/1/metadata.json 'j["custom"]["added"]')" = yes ] || fail "edit did not add: $(custom 1)"
[ "$(json store/1/metadata.json 'len(j["custom"])')" = 3 ] || fail "edit: unexpected keys: $(custom 1)"
[ "$(json store/1/metadata.json 'j["status"]')" = success ] || fail "edit changed the status"
[ "$(json store/1/metadata.json '[s["name"] for s in j["stages"]]')" = "['first-stage', 'second-stage']" ] ||
  fail "edit changed the stages"
run_bc annotate 1 -o store -m note="after kernel update"
expect_rc 0 "annotate"
[ "$(json store/1/metadata.json 'j["custom"]["note"]')" = "after kernel update" ] || fail "annotate: $(custom 1)"
[ "$(json store/1/metadata.json 'j["custom"]["keep"]')" = me ] || fail "annotate lost a key: $(custom 1)"
pass "edit merges into custom; annotate is an alias"

snap=$(cat store/1/metadata.json)
run_bc edit 1 -c store.yaml
expect_rc 2 "edit without -m"
run_bc edit 1 -c store.yaml -m novalue
expect_rc 2 "edit -m novalue"
expect_in "$ERR" "novalue" "edit -m novalue"
run_bc edit 99 -c store.yaml -m a=b
expect_rc 2 "edit 99"
expect_in "$ERR" "99" "edit 99"
[ ! -e store/99 ] || fail "edit 99 created a run directory"
[ "$(cat store/1/metadata.json)" = "$snap" ] || fail "a refused edit changed run 1"
pass "edit usage errors exit 2 and change nothing"

python3 - "$T/store/2/metadata.json" <<'EOF'
import json, sys
p = sys.argv[1]
j = json.load(open(p))
del j["custom"]
json.dump(j, open(p, "w"))
EOF
[ "$(json store/2/metadata.json '"custom" in j')" = False ] || fail "could not remove custom"
run_bc edit 2 -c store.yaml -m x=y
expect_rc 0 "edit of a run without custom"
[ "$(json store/2/metadata.json 'j["custom"]')" = "{'x': 'y'}" ] || fail "edit without custom: $(custom 2)"
[ "$(json store/2/metadata.json 'j["status"]')" = failed ] || fail "edit changed run 2's status"
pass "edit creates custom on a run stored without it"

# ---- help and version ----------------------------------------------------------
for c in run validate init inspect list edit annotate plugins; do
  run_bc "$c" --help
  expect_rc 0 "$c --help"
  expect_in "$OUT" "usage: benchctl $c" "$c --help"
  run_bc "$c" -h
  expect_rc 0 "$c -h"
  expect_in "$OUT" "usage: benchctl $c" "$c -h"
done
run_bc help run
expect_rc 0 "help run"
expect_in "$OUT" "usage: benchctl run" "help run"
expect_in "$OUT" "--timeout" "help run"
run_bc --help
expect_rc 0 "--help"
for c in run validate init inspect list edit annotate plugins; do expect_in "$OUT" "  $c " "--help"; done
run_bc --version
expect_rc 0 "--version"
expect_in "$OUT" "benchctl " "--version"
ABI=$(sed -n 's/^#define BC_ABI_MAJOR \([0-9]*\).*/\1/p' "$SRC_DIR/sdk/include/benchctl/abi.h").$(sed -n 's/^#define BC_ABI_MINOR \([0-9]*\).*/\1/p' "$SRC_DIR/sdk/include/benchctl/abi.h")
expect_in "$OUT" "plugin ABI $ABI" "--version"
grep -Eq '^benchctl [0-9]+\.[0-9]+\.[0-9]+' <<<"$OUT" || fail "--version prints no version: $OUT"
run_bc nosuchcommand
expect_rc 2 "unknown command"
expect_in "$ERR" "unknown command 'nosuchcommand'" "unknown command"
run_bc help nosuchcommand
expect_rc 2 "help of an unknown command"
for c in run validate init inspect list edit plugins; do
  run_bc "$c" --no-such-option
  expect_rc 2 "$c --no-such-option"
  expect_in "$ERR" "unknown option" "$c --no-such-option"
done
pass "every command has --help; --version; unknown commands and options exit 2"

# ---- usage errors of run write no run directory ---------------------------------
write_config usage.yaml <<'EOF'
benchmark:
  name: usage
  output_dir: ./usage-results
stages:
  - name: only
    command: echo hi
EOF
check_run_usage() { # what args...
  local what=$1
  shift
  run_bc run -c usage.yaml "$@"
  expect_rc 2 "$what"
  [ ! -e usage-results ] || fail "$what created $(find usage-results)"
}
check_run_usage "run -m novalue" -m novalue
expect_in "$ERR" "novalue" "run -m novalue"
check_run_usage "run -t abc" -t abc
expect_in "$ERR" "abc" "run -t abc"
check_run_usage "run --skip nosuch" --skip nosuch
expect_in "$ERR" "nosuch" "run --skip nosuch"
check_run_usage "run --case nosuch" --case nosuch
expect_in "$ERR" "nosuch" "run --case nosuch"
check_run_usage "run -e 1BAD=x" -e 1BAD=x
check_run_usage "run extra argument" extra
run_bc run -c usage.yaml --skip only
expect_rc 0 "run --skip of an existing stage"
[ "$(json usage-results/1/metadata.json 'j["stages"][0]["status"]')" = skipped ] || fail "--skip only"
pass "run usage errors exit 2 and write no run directory"
