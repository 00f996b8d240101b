#!/usr/bin/env bash
# Broken plugins (tests/fixtures) are refused with a precise reason, by
# `benchctl plugins` (text and --json) and by validate/run when a config
# names one; a plugin's option schema is enforced with FILE:LINE:COL errors;
# and the plugin search order is --plugin-path, $BENCHCTL_PLUGIN_PATH,
# benchmark.plugin_paths, then the build tree.
source "$(dirname "$0")/lib.sh"

: "${FIXTURE_PLUGINS:?FIXTURE_PLUGINS must point to the built fixture plugins}"
FP=$FIXTURE_PLUGINS
[ -d "$FP/good" ] || fail "fixture plugins not built in $FP"
unset BENCHCTL_PLUGIN_PATH

# ABI numbers from the SDK header, pointer size for the layout-dependent sizes.
MAJ=$(sed -n 's/^#define BC_ABI_MAJOR \([0-9]*\).*/\1/p' "$SRC_DIR/sdk/include/benchctl/abi.h")
MIN=$(sed -n 's/^#define BC_ABI_MINOR \([0-9]*\).*/\1/p' "$SRC_DIR/sdk/include/benchctl/abi.h")
[ -n "$MAJ" ] && [ -n "$MIN" ] || fail "cannot read the ABI version from abi.h"
P=$(($(getconf LONG_BIT) / 8))
DESC_MIN=$((24 + 7 * P))      # bc_plugin up to and including ops
HOST_OPS_MIN=$((7 * P))       # bc_host_ops up to and including release
HOST_OPS_SHORT=$((3 * P))     # size, open, close (truncops.c)

# ---- the exact reasons (core/plugin/loader.c) ------------------------------------
declare -A FILE REASON
add_case() { # add_case CASE FILE REASON-AFTER-"PATH: "
  FILE[$1]="$FP/$1/$2"
  REASON[$1]="$FP/$1/$2: $3"
}
add_case not_a_plugin probe-nosym.so \
  "not a benchctl plugin: it does not export the entry symbol bc_plugin_entry"
add_case bad_magic probe-badmagic.so \
  "not a benchctl plugin descriptor (magic 0xdeadbeef, expected 0x4c504342)"
add_case newer_major probe-major.so \
  "built for plugin ABI $((MAJ + 1)).$MIN, but this benchctl supports $( [ "$MIN" = 0 ] && echo "only ABI $MAJ.0" || echo "ABI $MAJ.0 to $MAJ.$MIN"); rebuild the plugin against a matching SDK"
add_case newer_minor probe-minor.so \
  "needs plugin ABI $MAJ.$((MIN + 1)), newer than this benchctl's ABI $MAJ.$MIN; upgrade benchctl or rebuild the plugin against SDK $MAJ.$MIN"
add_case truncated_descriptor probe-truncdesc.so \
  "truncated descriptor: 24 bytes, but ABI $MAJ.$MIN needs at least $DESC_MIN"
add_case truncated_ops host-truncops.so \
  "host plugin 'truncops' has a truncated operations table: $HOST_OPS_SHORT bytes, but ABI $MAJ.$MIN needs at least $HOST_OPS_MIN"
add_case unknown_kind probe-kind99.so \
  "unknown plugin kind 99 (this benchctl, ABI $MAJ.$MIN, knows host=1, probe=2, collector=3, validator=4, plot=5, publisher=6, monitor=7, profiler=8)"
add_case name_mismatch probe-alpha.so \
  "declares probe plugin 'beta', so it must be installed as probe-beta.so"
add_case reserved_prefix probe-reserved.so \
  "reserved field abi.reserved is 0x7, but ABI $MAJ.$MIN requires zero; rebuild the plugin with BC_PLUGIN_PREFIX"
add_case reserved_flags probe-flags.so \
  "reserved field flags is 0x10, but ABI $MAJ.$MIN requires zero; leave it unset in the descriptor"
# libltdl's own error text follows in parentheses; only the prefix is ours.
add_case garbage probe-garbage.so "not a benchctl plugin: it cannot be loaded ("
# missing_op holds two files.
FILE[missing_op.probe]="$FP/missing_op/probe-nocheck.so"
REASON[missing_op.probe]="$FP/missing_op/probe-nocheck.so: probe plugin 'nocheck' lacks the required operation 'check'"
FILE[missing_op.host]="$FP/missing_op/host-nowait.so"
REASON[missing_op.host]="$FP/missing_op/host-nowait.so: host plugin 'nowait' lacks the required operation 'wait'"

# ---- helpers over `plugins --json` output in $OUT --------------------------
# reason_of PATH: the refusal reason recorded for PATH, or <not refused>.
reason_of() {
  WANT="$1" jsons 'next((r["reason"] for r in j["refused"] if r["path"] == __import__("os").environ["WANT"]), "<not refused>")' <<<"$OUT"
}
# loaded_path KIND NAME: path of the loaded plugin, or <not loaded>.
loaded_path() {
  K="$1" N="$2" jsons 'next((p["path"] for p in j["plugins"] if (p["kind"], p["name"]) == (__import__("os").environ["K"], __import__("os").environ["N"])), "<not loaded>")' <<<"$OUT"
}
check_json_shape() { # every plugin has kind/name/version/abi/path, every refusal path/reason
  local r
  r=$(jsons 'all(isinstance(p.get(k), str) and p[k] != "" for p in j["plugins"] for k in ("kind", "name", "version", "abi", "path")) and all(isinstance(x.get(k), str) and x[k] != "" for x in j["refused"] for k in ("path", "reason"))' <<<"$OUT") ||
    fail "$1: plugins --json output is not valid JSON: $OUT"
  [ "$r" = True ] || fail "$1: a plugin lacks kind/name/version/abi/path or a refusal lacks path/reason:
$OUT"
}
check_builtins_json() { # the build tree's plugins still load
  [ "$(loaded_path host local)" = "$BUILD_DIR/plugins/host-local.so" ] || fail "$1: host local not loaded: $OUT"
  [ "$(loaded_path probe command)" = "$BUILD_DIR/plugins/probe-command.so" ] || fail "$1: probe command not loaded: $OUT"
  [ "$(jsons 'sorted(set(p["abi"] for p in j["plugins"]))' <<<"$OUT")" = "['$MAJ.$MIN']" ] ||
    fail "$1: loaded plugins report an unexpected ABI: $OUT"
}

# check_refused CASE KEY...: `plugins` and `plugins --json` on $FP/CASE alone.
check_refused() {
  local c=$1 k
  shift
  run_bc plugins --plugin-path "$FP/$c"
  expect_rc 0 "plugins --plugin-path $c"
  expect_in "$OUT" "Refused:" "plugins ($c)"
  for k in "$@"; do
    expect_in "$OUT" "  ${REASON[$k]}" "plugins ($c)"
  done
  grep -Eq '^host +local +[^ ]+ +[0-9]+\.[0-9]+ +'"$BUILD_DIR/plugins/host-local.so"'$' <<<"$OUT" ||
    fail "plugins ($c): host local is not listed as loaded:
$OUT"
  grep -Eq '^probe +command +[^ ]+ +[0-9]+\.[0-9]+ +'"$BUILD_DIR/plugins/probe-command.so"'$' <<<"$OUT" ||
    fail "plugins ($c): probe command is not listed as loaded:
$OUT"

  run_bc plugins --json --plugin-path "$FP/$c"
  expect_rc 0 "plugins --json --plugin-path $c"
  check_json_shape "$c"
  check_builtins_json "$c"
  for k in "$@"; do
    local got
    got=$(reason_of "${FILE[$k]}")
    if [ "$k" = garbage ]; then
      expect_in "$got" "${REASON[$k]}" "plugins --json refusal reason ($c)"
      case "$got" in *")") ;; *) fail "garbage: reason does not end with ')': $got" ;; esac
    else
      [ "$got" = "${REASON[$k]}" ] || fail "plugins --json ($c): refusal reason
  expected: ${REASON[$k]}
  got:      $got"
    fi
    [ "$(WANT="${FILE[$k]}" jsons 'any(p["path"] == __import__("os").environ["WANT"] for p in j["plugins"])' <<<"$OUT")" = False ] ||
      fail "plugins --json ($c): ${FILE[$k]} is both refused and loaded"
  done
  [ "$(jsons 'len(j["refused"])' <<<"$OUT")" = $# ] || fail "plugins --json ($c): expected $# refusals:
$OUT"
}

for c in not_a_plugin garbage bad_magic newer_major newer_minor truncated_descriptor \
         truncated_ops unknown_kind name_mismatch reserved_prefix reserved_flags; do
  check_refused "$c" "$c"
done
check_refused missing_op missing_op.probe missing_op.host
pass "plugins lists every broken fixture as refused with its reason; local and command still load"

# Every case at once: each file refused for its own reason.
args=()
for c in not_a_plugin garbage bad_magic newer_major newer_minor truncated_descriptor \
         truncated_ops unknown_kind name_mismatch reserved_prefix reserved_flags missing_op; do
  args+=(--plugin-path "$FP/$c")
done
run_bc plugins --json "${args[@]}"
expect_rc 0 "plugins --json with all broken cases"
check_json_shape all
check_builtins_json all
[ "$(jsons 'len(j["refused"])' <<<"$OUT")" = 13 ] || fail "expected 13 refusals: $OUT"
[ "$(reason_of "${FILE[newer_major]}")" = "${REASON[newer_major]}" ] || fail "all cases: newer_major reason"
[ "$(reason_of "${FILE[missing_op.host]}")" = "${REASON[missing_op.host]}" ] || fail "all cases: nowait reason"
pass "all broken fixtures together"

# ---- duplicates --------------------------------------------------------------
A="$FP/dup_a/probe-twin.so" B="$FP/dup_b/probe-twin.so"
DUP_B_REASON="$B: duplicate probe plugin 'twin': already provided by $A"
run_bc plugins --plugin-path "$FP/dup_a" --plugin-path "$FP/dup_b"
expect_rc 0 "plugins with dup_a and dup_b"
expect_in "$OUT" "  $DUP_B_REASON" "plugins (duplicate)"
run_bc plugins --json --plugin-path "$FP/dup_a" --plugin-path "$FP/dup_b"
expect_rc 0 "plugins --json with dup_a and dup_b"
check_json_shape duplicate
check_builtins_json duplicate
[ "$(loaded_path probe twin)" = "$A" ] || fail "duplicate: dup_a's twin should be loaded: $OUT"
[ "$(reason_of "$B")" = "$DUP_B_REASON" ] || fail "duplicate: reason for dup_b: $(reason_of "$B")"
pass "the second of two identical plugins is refused as a duplicate naming the first"

# ---- a config that names a refused plugin -----------------------------------
# stage_config FILE TYPE [extra lines for hosts]: one stage whose health check
# uses probe TYPE; `type:` is at line 11, column 13.
stage_config() {
  write_config "$1" <<EOF
benchmark:
  name: refused-plugin
  output_dir: ./results
hosts:
  local: {}
${3:-}
stages:
  - name: serve
    command: "true"
    health_check:
      type: $2
      target: x
EOF
}

mkdir -p cfg && cd cfg || exit 1
stage_config benchmark.yaml major
run_bc validate -c benchmark.yaml --plugin-path "$FP/newer_major"
expect_rc 2 "validate naming a refused plugin"
expect_in "$ERR" "benchmark.yaml:11:13: health_check type 'major': ${REASON[newer_major]}" "validate stderr"
expect_in "$ERR" "ABI $((MAJ + 1)).$MIN" "validate stderr"
run_bc run -c benchmark.yaml --plugin-path "$FP/newer_major"
expect_rc 2 "run naming a refused plugin"
expect_in "$ERR" "benchmark.yaml:11:13: health_check type 'major': ${REASON[newer_major]}" "run stderr"
expect_not_in "$OUT" "Run ID" "run stdout"
[ ! -e results ] || fail "run created a run directory although a plugin was refused: $(ls -R results)"
pass "validate and run refuse a config naming a refused plugin (exit 2, no run directory)"

# Every probe case, named by a config: the same reason, at the type's position.
for spec in not_a_plugin:nosym garbage:garbage bad_magic:badmagic newer_minor:minor \
            truncated_descriptor:truncdesc unknown_kind:kind99 name_mismatch:alpha \
            reserved_prefix:reserved reserved_flags:flags missing_op.probe:nocheck; do
  k=${spec%%:*} name=${spec#*:}
  stage_config benchmark.yaml "$name"
  run_bc validate -c benchmark.yaml --plugin-path "$(dirname "${FILE[$k]}")"
  expect_rc 2 "validate naming probe $name ($k)"
  expect_in "$ERR" "benchmark.yaml:11:13: health_check type '$name': ${REASON[$k]}" "validate stderr ($k)"
done
# Host cases, named by hosts.<alias>.transport (line 6, column 20).
for spec in truncated_ops:truncops missing_op.host:nowait; do
  k=${spec%%:*} name=${spec#*:}
  stage_config benchmark.yaml command "  box: {transport: $name}"
  run_bc validate -c benchmark.yaml --plugin-path "$(dirname "${FILE[$k]}")"
  expect_rc 2 "validate naming host transport $name ($k)"
  expect_in "$ERR" "benchmark.yaml:6:20: host transport '$name': ${REASON[$k]}" "validate stderr ($k)"
done
[ ! -e results ] || fail "validate created results/"
cd "$T" || exit 1
pass "validate reports every refused fixture named by a config, at its position"

# ---- the good probe's option schema -------------------------------------------
# good_config FILE LINES...: one stage whose health_check is type good,
# target x, then LINES (health_check keys; the first is at line 10).
good_config() {
  local f=$1
  shift
  {
    printf '%s\n' "benchmark:" "  name: schema" "  output_dir: ./results" "stages:" \
      "  - name: serve" "    command: \"true\"" "    health_check:"
    printf '%s\n' "      type: good" "      target: x"
    for l in "$@"; do printf '      %s\n' "$l"; done
  } >"$f"
}
GOOD=(--plugin-path "$FP/good")

good_config ok.yaml "needle: hello" "count: 10"
run_bc validate -c ok.yaml "${GOOD[@]}"
expect_rc 0 "validate with valid good options"
expect_in "$OUT" "ok.yaml: valid" "validate stdout"

good_config unknown.yaml "needle: hello" "colour: red"
run_bc validate -c unknown.yaml "${GOOD[@]}"
expect_rc 2 "unknown key"
expect_in "$ERR" "unknown.yaml:11:7: unknown key 'colour' in health_check (probe 'good'); valid keys: type, target, timeout, retries, interval, on, needle, count" "unknown key"

good_config missing.yaml "count: 2"
run_bc validate -c missing.yaml "${GOOD[@]}"
expect_rc 2 "missing required needle"
expect_in "$ERR" "missing.yaml:8:7: health_check: missing required key 'needle' (probe 'good')" "missing key"

good_config zero.yaml "needle: hello" "count: 0"
run_bc validate -c zero.yaml "${GOOD[@]}"
expect_rc 2 "count 0"
expect_in "$ERR" "zero.yaml:11:14: health_check: 'count' must be a whole number from 1 to 10, not '0'" "count 0"

good_config big.yaml "needle: hello" "count: 11"
run_bc validate -c big.yaml "${GOOD[@]}"
expect_rc 2 "count 11"
expect_in "$ERR" "big.yaml:11:14: health_check: 'count' must be a whole number from 1 to 10, not '11'" "count 11"

good_config abc.yaml "count: abc" "needle: hello"
run_bc validate -c abc.yaml "${GOOD[@]}"
expect_rc 2 "count abc"
expect_in "$ERR" "abc.yaml:10:14: health_check: 'count' must be a whole number from 1 to 10, not 'abc'" "count abc"

# Several errors at once: each reported, in file order, with the total.
good_config many.yaml "count: abc" "colour: red"
run_bc validate -c many.yaml "${GOOD[@]}"
expect_rc 2 "several option errors"
# in file order (each error is followed by its source line and a caret)
[ "$(grep '^many.yaml:' <<<"$ERR" | cut -d' ' -f1-4)" = "many.yaml:8:7: health_check: missing required
many.yaml:10:14: health_check: 'count' must
many.yaml:11:7: unknown key 'colour'" ] || fail "several errors, in file order: $ERR"
expect_in "$ERR" "many.yaml:8:7: health_check: missing required key 'needle' (probe 'good')" "several errors"
expect_in "$ERR" "many.yaml:10:14: health_check: 'count' must be a whole number from 1 to 10, not 'abc'" "several errors"
expect_in "$ERR" "many.yaml:11:7: unknown key 'colour' in health_check" "several errors"
expect_in "$ERR" "benchctl: 3 errors in many.yaml" "several errors"
pass "the good probe's option schema: unknown key, required key, range and type errors at FILE:LINE:COL"

# The good probe really runs.
run_bc run -c ok.yaml "${GOOD[@]}"
expect_rc 0 "run with the good probe"
[ "$(json results/1/metadata.json 'j["status"]')" = success ] || fail "run with good: status"
[ "$(json results/1/metadata.json '[p["path"] for p in j["plugins"] if p["name"] == "good"]')" = "['$FP/good/probe-good.so']" ] ||
  fail "run with good: plugin path not recorded"
pass "a run with the good probe succeeds"

# ---- search order ----------------------------------------------------------------
good_config env.yaml "needle: hello"
run_bc validate -c env.yaml
expect_rc 2 "good without a plugin path"
expect_in "$ERR" "env.yaml:8:13: health_check type 'good': no probe plugin named 'good' is installed" "no path"

export BENCHCTL_PLUGIN_PATH="$T/does-not-exist:$FP/good"
run_bc validate -c env.yaml
expect_rc 0 "good through BENCHCTL_PLUGIN_PATH"
run_bc plugins --json
expect_rc 0 "plugins with BENCHCTL_PLUGIN_PATH"
[ "$(jsons 'j["search_path"][:2]' <<<"$OUT")" = "['$T/does-not-exist', '$FP/good']" ] ||
  fail "BENCHCTL_PLUGIN_PATH entries not first in the search path: $OUT"
[ "$(loaded_path probe good)" = "$FP/good/probe-good.so" ] || fail "good not loaded through the env"
unset BENCHCTL_PLUGIN_PATH
pass "BENCHCTL_PLUGIN_PATH (colon-separated) makes a plugin usable"

# benchmark.plugin_paths, relative to the config file (not the working directory).
mkdir -p proj/myplugins
cp "$FP/good/probe-good.so" proj/myplugins/
write_config proj/benchmark.yaml <<'EOF'
benchmark:
  name: paths
  output_dir: ./results
  plugin_paths: [./nothing-here, myplugins]
stages:
  - name: serve
    command: "true"
    health_check:
      type: good
      target: x
      needle: hello
EOF
run_bc validate -c proj/benchmark.yaml
expect_rc 0 "good through benchmark.plugin_paths"
run_bc plugins --json -c proj/benchmark.yaml
expect_rc 0 "plugins -c with plugin_paths"
[ "$(jsons 'j["search_path"][:2]' <<<"$OUT")" = "['$T/proj/nothing-here', '$T/proj/myplugins']" ] ||
  fail "plugin_paths not resolved relative to the config file: $OUT"
[ "$(loaded_path probe good)" = "$T/proj/myplugins/probe-good.so" ] || fail "good not loaded through plugin_paths"
pass "benchmark.plugin_paths (relative to the config file) makes a plugin usable"

# Precedence, shown with the twins: the earlier source wins, the later file
# is refused as a duplicate of it.
# expect_twin WINNER LOSER [plugins args...]
expect_twin() {
  local win=$1 lose=$2
  shift 2
  run_bc plugins --json "$@"
  expect_rc 0 "plugins $*"
  check_json_shape precedence
  [ "$(loaded_path probe twin)" = "$win" ] || fail "plugins $*: expected $win to be loaded: $OUT"
  [ "$(reason_of "$lose")" = "$lose: duplicate probe plugin 'twin': already provided by $win" ] ||
    fail "plugins $*: reason for $lose: $(reason_of "$lose")"
}
BENCHCTL_PLUGIN_PATH="$FP/dup_b" expect_twin "$A" "$B" --plugin-path "$FP/dup_a"
BENCHCTL_PLUGIN_PATH="$FP/dup_a" expect_twin "$B" "$A" --plugin-path "$FP/dup_b"
mkdir -p prec && ln -s "$FP/dup_b" prec/b
write_config prec/benchmark.yaml <<'EOF'
benchmark:
  name: precedence
  output_dir: ./results
  plugin_paths: [b]
stages:
  - name: serve
    command: "true"
    health_check:
      type: twin
      target: x
EOF
BENCHCTL_PLUGIN_PATH="$FP/dup_a" expect_twin "$A" "$T/prec/b/probe-twin.so" -c prec/benchmark.yaml
expect_twin "$A" "$T/prec/b/probe-twin.so" -c prec/benchmark.yaml --plugin-path "$FP/dup_a"

# A run uses (and records) the winner.
BENCHCTL_PLUGIN_PATH="$FP/dup_b" run_bc run -c prec/benchmark.yaml --plugin-path "$FP/dup_a"
expect_rc 0 "run with the twins"
[ "$(json prec/results/1/metadata.json '[(p["version"], p["path"]) for p in j["plugins"] if p["name"] == "twin"]')" = "[('a', '$A')]" ] ||
  fail "run used the wrong twin: $(cat prec/results/1/metadata.json)"
pass "search order: --plugin-path, then BENCHCTL_PLUGIN_PATH, then benchmark.plugin_paths"

# ---- a plugin built for ABI 1.0 by this SDK (BC_TARGET_MINOR 0) -------------
run_bc plugins --json --plugin-path "$FP/abi10"
expect_rc 0 "plugins with the 1.0 validator"
[ "$(jsons '[p["abi"] for p in j["plugins"] if p["name"] == "abi10"]' <<<"$OUT")" = "['1.0']" ] ||
  fail "abi10 is not listed as an ABI 1.0 plugin: $OUT"
[ "$(jsons 'len(j["refused"])' <<<"$OUT")" = 0 ] || fail "abi10 refused: $OUT"
pass "a plugin built with BC_TARGET_MINOR 0 is an ABI 1.0 plugin and loads"

# ---- a plugin built for ABI 1.4 (before the monitor kind, ABI 1.5) ----------
run_bc plugins --json --plugin-path "$FP/abi14"
expect_rc 0 "plugins with the 1.4 probe"
[ "$(jsons '[p["abi"] for p in j["plugins"] if p["name"] == "abi14"]' <<<"$OUT")" = "['1.4']" ] ||
  fail "abi14 is not listed as an ABI 1.4 plugin: $OUT"
[ "$(jsons 'len(j["refused"])' <<<"$OUT")" = 0 ] || fail "abi14 refused: $OUT"
mkdir -p abi14
cat > abi14/benchmark.yaml <<'EOF'
benchmark: {name: abi14, output_dir: ./results, monitor: {interval: 100ms}}
stages:
  - name: probed
    command: sleep 0.3
    health_check: {type: abi14, target: ready, timeout: 20s}
EOF
run_bc run -c abi14/benchmark.yaml --plugin-path "$FP/abi14"
expect_rc 0 "run with the 1.4 probe beside the current monitor"
[ "$(json abi14/results/1/metadata.json '[p["abi"] for p in j["plugins"] if p["name"] in ("abi14", "proc")]')" = "['1.4', '1.7']" ] ||
  fail "the run should record the 1.4 probe and the 1.7 monitor: $(json abi14/results/1/metadata.json 'j["plugins"]')"
pass "a plugin built for ABI 1.4 loads and works in the 1.7 core"

# ---- a plugin built for ABI 1.5 (before the profiler kind, ABI 1.6) ---------
run_bc plugins --json --plugin-path "$FP/abi15"
expect_rc 0 "plugins with the 1.5 probe"
[ "$(jsons '[p["abi"] for p in j["plugins"] if p["name"] == "abi15"]' <<<"$OUT")" = "['1.5']" ] ||
  fail "abi15 is not listed as an ABI 1.5 plugin: $OUT"
[ "$(jsons 'len(j["refused"])' <<<"$OUT")" = 0 ] || fail "abi15 refused: $OUT"
mkdir -p abi15
cat > abi15/benchmark.yaml <<'EOF'
benchmark: {name: abi15, output_dir: ./results}
stages:
  - name: probed
    command: sleep 0.3
    health_check: {type: abi15, target: ready, timeout: 20s}
EOF
run_bc run -c abi15/benchmark.yaml --plugin-path "$FP/abi15"
expect_rc 0 "run with the 1.5 probe in the 1.7 core"
[ "$(json abi15/results/1/metadata.json '[p["abi"] for p in j["plugins"] if p["name"] == "abi15"]')" = "['1.5']" ] ||
  fail "the run should record the 1.5 probe: $(json abi15/results/1/metadata.json 'j["plugins"]')"
pass "a plugin built for ABI 1.5 loads and works in the 1.7 core"

# ---- a profiler stamped 1.5: the kind exists since 1.6 ----------------------
run_bc plugins --json --plugin-path "$FP/prof15"
want="$FP/prof15/profiler-prof15.so: declares a profiler plugin, a kind that ABI 1.5 does not have (it exists since ABI 1.6); rebuild the plugin against SDK 1.7"
[ "$(jsons '[r["reason"] for r in j["refused"]]' <<<"$OUT")" = "['$want']" ] ||
  fail "a 1.5 profiler is refused: $OUT"
pass "a profiler stamped 1.5 is refused with the kind and both versions"

# ---- a profiler built for ABI 1.6 (before span_path, 1.7) -------------------
mkdir -p prof16
cat > prof16/benchmark.yaml <<EOF
benchmark: {name: prof16, output_dir: ./results}
stages:
  - name: s
    command: "echo ran >> $T/prof16.runs"
    repeat: 2
    warmup: 1
    profile: {with: prof16}
EOF
run_bc run -c prof16/benchmark.yaml --plugin-path "$FP/prof16"
expect_rc 0 "run with the 1.6 profiler in the 1.7 core"
[ "$(wc -l < "$T/prof16.runs")" = 3 ] || fail "the stage should have run 3 times: $(cat "$T/prof16.runs")"
python3 - prof16/results/1 <<'PY' || fail "the 1.6 profiler's run: $(cat prof16/results/1/metadata.json)"
import json, sys
meta = json.load(open(sys.argv[1] + "/metadata.json"))
assert [p["abi"] for p in meta["plugins"] if p["name"] == "prof16"] == ["1.6"], meta["plugins"]
s = [s for s in meta["stages"] if s["name"] == "s"][0]
assert s["profile"]["profiler"] == "prof16" and s["profile"]["runs"] == 2, s["profile"]
assert s["profile"]["top_self"][0]["function"] == "work", s["profile"]
rep = s["repeat"]
# no span from a 1.6 profiler: its runs are timed whole, and the record says so
assert rep["wall_covers"].startswith("the command started through the host's transport"), rep
assert "span_overhead_s" not in rep and all("span" not in r for r in rep["runs"]), rep
PY
pass "a profiler built for ABI 1.6 loads and profiles; its runs are timed whole (wall_covers)"

# ---- a monitor built for ABI 1.5 (samples end before host_time_s, 1.6) -----
mkdir -p mon15
cat > mon15/benchmark.yaml <<'EOF'
benchmark: {name: mon15, output_dir: ./results, monitor: {sampler: mon15, interval: 100ms, metrics: [load]}}
stages:
  - name: s
    command: sleep 0.5
EOF
run_bc run -c mon15/benchmark.yaml --plugin-path "$FP/mon15"
expect_rc 0 "run with the 1.5 monitor"
[ "$(json mon15/results/1/metadata.json '[p["abi"] for p in j["plugins"] if p["name"] == "mon15"]')" = "['1.5']" ] ||
  fail "the run should record the 1.5 monitor: $(json mon15/results/1/metadata.json 'j["plugins"]')"
python3 - mon15/results/1 <<'PY' || fail "the 1.5 monitor's samples: $(cat mon15/results/1/monitor/local.csv)"
import csv, datetime, json, sys
d = sys.argv[1]
meta = json.load(open(d + "/metadata.json"))
t = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
rows = list(csv.DictReader(open(d + "/monitor/local.csv")))
assert len(rows) >= 2 and all(float(r["load1"]) == 1.5 for r in rows), rows
# stamped when they arrived: inside the run, on the controller's clock
assert all(t(meta["start_time"]) <= float(r["timestamp"]) <= t(meta["end_time"]) for r in rows), rows
PY
pass "a monitor built for ABI 1.5 loads; its samples (no host_time_s) are stamped on arrival"
