#!/usr/bin/env bash
# Profiling mode (`profile:` with the perf profiler) on the local host: a C
# program built here with two functions of known cost (3:1) — the folded
# stacks and the top-functions table show that ratio; warm-ups are not
# kept, each measured repetition is; fan-out nodes each and merged; the
# flame graph is XML and names the hot function; report.html links it;
# `benchctl profile` (one run, --json, two runs: a build where one function
# is twice as slow); a host without perf runs the stage unprofiled and says
# why once.  (Over SSH and `compare`: test_profile_remote.sh.)
source "$(dirname "$0")/lib.sh"
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
build "$T/hot_slow" 2
N=250000000   # about 0.4 s of CPU here

write_config b.yaml <<YAML
benchmark: {name: prof, output_dir: ./results}
stages:
  - name: hot
    command: "$T/hot $N"
    profile: {with: perf, frequency: 999, call_graph: fp, events: [cpu-clock]}
  - name: rep
    command: "$T/hot 10000000; echo run >> $T/reps"
    repeat: 2
    warmup: 1
    profile: {frequency: 199}
  - name: fan
    command: "$T/hot 10000000"
    nodes: 2
    profile: {frequency: 199}
YAML
$PY - "$SRC_DIR/docs/schema/config.schema.json" b.yaml <<'PY' || fail "b.yaml does not validate against the config schema"
import json, sys, yaml, jsonschema
jsonschema.Draft202012Validator(json.load(open(sys.argv[1]))).validate(yaml.safe_load(open(sys.argv[2])))
PY

# Bad profile: keys are errors at their place.
write_config bad.yaml <<YAML
benchmark: {name: bad, output_dir: ./bad}
stages:
  - name: a
    command: "true"
    profile: {with: perf, frequency: 0}
  - name: b
    command: "true"
    profile: {with: nosuch}
  - name: c
    command: "sleep 1"
    background: true
    profile: {}
YAML
run_bc validate -c bad.yaml
expect_rc 2 "validate bad profile keys"
expect_in "$ERR" "bad.yaml:5:"
expect_in "$ERR" "frequency"
expect_in "$ERR" "bad.yaml:8:"
expect_in "$ERR" "profile.with 'nosuch'"
expect_in "$ERR" "installed profiler plugins: perf"
expect_in "$ERR" "bad.yaml:12:"
expect_in "$ERR" "'profile' does not apply to background stages"
pass "bad profile keys are reported at FILE:LINE:COL"

run_bc run -c b.yaml
expect_rc 0 "profiled run"
R=results/1
for f in hot.perf.data hot.folded hot.svg rep.rep-1.perf.data rep.rep-2.perf.data rep.folded \
         rep.svg fan/node-0.perf.data fan/node-1.folded fan.folded fan.svg; do
  [ -s "$R/profiles/$f" ] || fail "profiles/$f is missing: $(cd $R && find profiles)"
done
[ ! -e "$R/profiles/rep.rep-3.perf.data" ] && [ ! -e "$R/profiles/rep.perf.data" ] ||
  fail "a warm-up's profile was kept: $(ls $R/profiles)"
[ "$(wc -l < "$T/reps")" = 3 ] || fail "rep should have run 3 times (1 warm-up): $(cat "$T/reps")"
pass "raw profiles, folded stacks and flame graphs kept per stage, repetition and node"

# The folded stacks (perf's own folding) show the 3:1 cost ratio.
ratio=$($PY - "$R/profiles/hot.folded" <<'PY'
import sys
self = {}
for line in open(sys.argv[1]):
    stack, n = line.rstrip("\n").rsplit(" ", 1)
    leaf = stack.split(";")[-1]
    self[leaf] = self.get(leaf, 0) + int(n)
h, l = self.get("heavy", 0), self.get("light", 0)
assert h + l >= 100, self
print(f"{h / max(l, 1):.2f}")
PY
)
$PY -c "import sys; r=float(sys.argv[1]); sys.exit(0 if 2.2 <= r <= 4.0 else 1)" "$ratio" ||
  fail "folded stacks: heavy/light should be about 3, got $ratio"
pass "folded stacks show heavy:light = $ratio (3 expected)"

# The record's top functions: heavy first by self samples, the same ratio.
top=$(json $R/results.json '[s for c in j["cases"] for s in c["stages"] if s["name"] == "hot"][0]["profile"]')
$PY - "$top" <<'PY' || fail "results.json top functions: $top"
import json, sys
p = json.loads(sys.argv[1].replace("'", '"'))
s = {e["function"]: e["samples"] for e in p["top_self"]}
assert p["top_self"][0]["function"] == "heavy", p["top_self"][:3]
r = s["heavy"] / s["light"]
assert 2.2 <= r <= 4.0, r
assert any(e["function"] == "heavy" for e in p["top_total"])
assert p["runs"] == 1 and p["data"] == ["profiles/hot.perf.data"], p
PY
rep_runs=$(json $R/metadata.json '[s["profile"]["runs"] for s in j["stages"] if s["name"] == "rep"]')
[ "$rep_runs" = "[2]" ] || fail "rep: 2 profiled runs expected, got $rep_runs"
fan_nodes=$(json $R/metadata.json '[s["profile"].get("nodes") for s in j["stages"] if s["name"] == "fan" and s["host"] == "*"]')
[ "$fan_nodes" = "[2]" ] || fail "fan: the merged profile should cover 2 nodes, got $fan_nodes"
check_schema "$SRC_DIR/docs/schema/results.schema.json" $R/results.json
pass "results.json: top functions by self and total samples per stage and host"

# The flame graph is XML and names the hot function.
$PY - "$R/profiles/hot.svg" <<'PY' || fail "hot.svg"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
titles = [t.text for t in root.iter(ns + "title")]
assert any(t.startswith("heavy ") for t in titles), titles[:10]
assert root.find(ns + "script") is not None
PY
grep -q 'href="profiles/hot.svg"' $R/report.html || fail "report.html does not link the flame graph"
grep -q 'id="profiles"\|id=profiles' $R/report.html || fail "report.html has no Profiles section"
pass "the flame graph parses as XML and names heavy"

# benchctl profile: the table, --json, --stage, --top
run_bc profile 1 -c b.yaml --stage hot --top 3
expect_rc 0 "profile 1"
expect_in "$OUT" "hot on local"
expect_in "$OUT" "heavy"
run_bc profile 1 -c b.yaml --json --top 2
expect_rc 0 "profile --json"
[ "$(jsons '[len(s["profile"]["top_self"]) <= 2 for s in j["stages"]] == [True] * len(j["stages"])' <<<"$OUT")" = True ] ||
  fail "--top 2 not honoured: $OUT"
run_bc profile 1 -c b.yaml --stage nosuch
expect_rc 1 "profile of a stage that has none"
expect_in "$ERR" "no profiled stage named 'nosuch'"
pass "benchctl profile shows the hottest functions"

# Differential: light() twice as slow in run 2.
sed -i "s|$T/hot \$N|$T/hot_slow $N|; s|\"$T/hot $N\"|\"$T/hot_slow $N\"|" b.yaml
run_bc run -c b.yaml --skip rep --skip fan
expect_rc 0 "the slower build"
run_bc profile 1 2 -c b.yaml --stage hot --json
expect_rc 0 "profile 1 2"
$PY - "$OUT" <<'PY' || fail "differential: $OUT"
import json, sys
d = json.loads(sys.argv[1])
st = d["stages"][0]
f = {e["function"]: e for e in st["functions"]}
# light: 1/4 of heavy+light before, 2/5 after
assert f["light"]["self_delta"] > 0.07, f["light"]
assert f["heavy"]["self_delta"] < -0.07, f["heavy"]
PY
svg=$(jsons 'j["stages"][0]["flamegraph"]' <<<"$OUT")
$PY -c "import sys, xml.etree.ElementTree as ET; ET.parse(sys.argv[1])" "$svg" ||
  fail "the differential flame graph is not XML"
grep -q 'fill="rgb(240,' "$svg" || fail "no grown (red) frame in $svg"
run_bc profile 1 2 -c b.yaml --stage hot
expect_rc 0 "profile 1 2 (text)"
expect_in "$OUT" "light"
pass "differential profile: light grew, heavy shrank; differential flame graph"

# A host without perf: the stage runs, the run says why once.
mkdir -p "$T/noperf"
for f in /usr/bin/*; do [ "${f##*/}" = perf ] || ln -s "$f" "$T/noperf/${f##*/}"; done
ln -sf /usr/bin/python3 "$T/noperf/python3"
write_config np.yaml <<YAML
benchmark: {name: noperf, output_dir: ./np}
stages:
  - name: one
    command: "$T/hot 1000 && echo ran-one"
    profile: {with: perf}
  - name: two
    command: "echo ran-two"
    profile: {with: perf}
YAML
set +e
PATH="$T/noperf" "$BENCHCTL" run -c np.yaml >"$T/.out" 2>"$T/.err" </dev/null
RC=$?
set -e
OUT=$(cat "$T/.out"); ERR=$(cat "$T/.err")
expect_rc 0 "a run without perf"
expect_in "$OUT" "ran-one"
expect_in "$OUT" "ran-two"
[ "$(grep -c "without a profile" "$T/.err")" = 1 ] || fail "the reason should be said once: $ERR"
expect_in "$ERR" "apt-get install linux-perf"
err=$(json np/1/metadata.json '[s["profile"]["error"] for s in j["stages"]]')
expect_in "$err" "not found in PATH"
[ ! -d np/1/profiles ] || fail "no profile should be kept without perf"
check_schema "$SRC_DIR/docs/schema/results.schema.json" np/1/results.json
pass "without perf: a normal run, the reason said once and recorded"

