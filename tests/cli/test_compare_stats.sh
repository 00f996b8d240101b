#!/usr/bin/env bash
# compare: the statistical comparison of runs (and of the cases of one run)
# from results.json: verdicts, BH adjustment, winners, summary, the JSON
# schema, Markdown, --fail-on-regression, runs without results.json, and
# the errors.  The runs come from tests/fixtures/runs/make_runs.py, whose
# docstring lists what each one contains.
source "$(dirname "$0")/lib.sh"
GEN="$SRC_DIR/tests/fixtures/runs/make_runs.py"
SCHEMA="$SRC_DIR/docs/schema/compare.schema.json"
/usr/bin/python3 "$GEN" runs runs
/usr/bin/python3 "$GEN" validate "$SRC_DIR/docs/schema/results.schema.json" runs/{1,2,5,6,7,8,9,10}/results.json ||
  fail "the generated results.json files do not match docs/schema/results.schema.json"

# compare_json FILE ARGS...: run compare --json into FILE, check exit 0
# and the schema.
compare_json() {
  local f=$1
  shift
  run_bc compare "$@" --json -o runs
  expect_rc 0 "compare $* --json"
  printf '%s\n' "$OUT" >"$f"
  /usr/bin/python3 "$GEN" validate "$SCHEMA" "$f" || fail "compare $* --json does not match compare.schema.json"
}
# verdict FILE METRIC [VARIANT]: the verdict of METRIC (for VARIANT).
verdict() {
  json "$1" "[c['verdict'] for m in j['metrics'] if m['metric'] == '$2' for c in m['comparisons'] if '${3:-}' in ('', c['variant'])][0]"
}
field() { # field FILE METRIC KEY
  json "$1" "[c['$3'] for m in j['metrics'] if m['metric'] == '$2' for c in m['comparisons']][0]"
}
winner() { json "$1" "[m['winner'] for m in j['metrics'] if m['metric'] == '$2'][0]"; }
expect_eq() { [ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"; }

compare_json c12.json 1 2
expect_eq "$(verdict c12.json lat.latency_ms)" regressed "latency +20%, lower is better"
expect_eq "$(verdict c12.json lat.ops)" improved "ops +20%, higher is better"
expect_eq "$(verdict c12.json lat.qps)" regressed "qps -20%, higher is better"
expect_eq "$(verdict c12.json lat.cpu_pct)" unchanged "same distribution"
expect_eq "$(verdict c12.json lat.tiny)" inconclusive "n = 1"
expect_eq "$(verdict c12.json lat.noisy)" inconclusive "5 noisy values"
expect_eq "$(verdict c12.json lat.bytes)" different "+30% without better"
expect_eq "$(json c12.json '[e["reason"] for e in j["not_metrics"] if e["metric"] == "lat.jitter"]')" "['neither better: nor a unit']" "a column without better or unit is not a metric"
expect_eq "$(json c12.json '[m["metric"] for m in j["metrics"] if m["metric"] == "lat.jitter"]')" "[]" "jitter not tested"
expect_eq "$(verdict c12.json stage:bench.wall_s)" regressed "repeated stage 10% slower"
expect_eq "$(field c12.json lat.errors ratio)" None "ratio with a zero baseline median"
case "$(verdict c12.json lat.errors)" in unchanged | inconclusive) ;; *) fail "zero median verdict" ;; esac
expect_eq "$(field c12.json lat.latency_ms n_baseline)" 2000 "n"
expect_eq "$(field c12.json lat.tiny n_candidate)" 1 "n of tiny"
expect_eq "$(field c12.json lat.tiny in_family)" False "n = 1 / 1 cannot reach alpha: not in the family"
expect_eq "$(field c12.json lat.tiny p_adjusted)" None "no adjusted p outside the family"
expect_in "$(field c12.json lat.tiny note)" "smallest p-value this test can give is 1"
expect_eq "$(field c12.json lat.noisy in_family)" True "5 / 5 can reach alpha (min p 0.004 with ties)"
r=$(field c12.json lat.latency_ms ratio)
/usr/bin/python3 -c "import sys; assert 1.18 < $r < 1.22" || fail "latency ratio $r"
hl=$(json c12.json "[c['hl_shift'] > 19 and c['hl_ci'][0] < c['hl_shift'] < c['hl_ci'][1] for m in j['metrics'] if m['metric']=='lat.latency_ms' for c in m['comparisons']][0]")
expect_eq "$hl" True "HL shift of latency (about +20 ms) inside its CI"
# The medians compare computes from the samples files are those of results.json.
/usr/bin/python3 - c12.json runs/1/results.json runs/2/results.json <<'PY' || fail "medians differ from results.json"
import json, sys
c, r1, r2 = (json.load(open(p)) for p in sys.argv[1:])
cols = [r["cases"][0]["outputs"][0]["columns"] for r in (r1, r2)]
checked = 0
for m in c["metrics"]:
    if m["metric"].startswith("lat."):
        col, cmp = m["metric"][4:], m["comparisons"][0]
        assert abs(cmp["median_baseline"] - cols[0][col]["median"]) < 1e-9, m["metric"]
        assert abs(cmp["median_candidate"] - cols[1][col]["median"]) < 1e-9, m["metric"]
        checked += 1
assert checked == 9, checked  # jitter is not a metric
PY
pass "compare: verdicts by direction, significance and practical size"

# BH: 5 vs 5 completely separated values have the exact p = 2/252 < 0.01,
# but adjusted over the 9 tests of this compare's family it is above 0.01.
p=$(field c12.json lat.marginal p)
padj=$(field c12.json lat.marginal p_adjusted)
/usr/bin/python3 -c "assert abs($p - 2/252) < 1e-9, $p; assert $padj > 0.01 > $p" ||
  fail "BH: p=$p adjusted=$padj"
expect_eq "$(verdict c12.json lat.marginal)" inconclusive "marginal p after BH"
expect_eq "$(json c12.json 'j["tests"]')" 9 "tests in the BH family (11 metrics: jitter is none, tiny cannot reach alpha)"
compare_json c12a.json 1 2 --alpha 0.02
expect_eq "$(verdict c12a.json lat.marginal)" regressed "marginal with --alpha 0.02"
pass "compare: Benjamini-Hochberg turns a raw p < alpha into not significant"

compare_json c12t.json 1 2 --threshold 25%
expect_eq "$(verdict c12t.json lat.latency_ms)" unchanged "+20% below a 25% threshold"
expect_eq "$(json c12t.json 'j["threshold"]')" 0.25 "threshold 25%"
compare_json c12v.json 1 2 --threshold 1000%
expect_eq "$(json c12v.json 'j["threshold"]')" 10 "threshold 1000% (the documented maximum)"
compare_json c12u.json 1 2 --threshold 0.25
expect_eq "$(json c12u.json 'j["threshold"]')" 0.25 "threshold 0.25"
pass "compare: --threshold decides practical significance"

# Winners, summary, only-in, backward-compatible metadata keys.
expect_eq "$(winner c12.json lat.latency_ms)" 1 "latency winner (candidate regressed)"
expect_eq "$(winner c12.json lat.ops)" 2 "ops winner"
expect_eq "$(winner c12.json lat.bytes)" None "no winner without direction"
expect_eq "$(winner c12.json lat.cpu_pct)" None "no winner when unchanged"
expect_eq "$(json c12.json '[(s["improved"], s["regressed"], s["unchanged"], s["inconclusive"], s["different"], s["won"], s["geomean_skipped"]) for s in j["summary"] if s["variant"] == "2"][0]')" \
  "(1, 3, 2, 3, 1, 1, 1)" "summary of run 2 (jitter is not a metric)"
expect_eq "$(json c12.json '[s["won"] for s in j["summary"] if s["baseline"]][0]')" 3 "metrics won by the baseline"
g=$(json c12.json '[s["geomean_improvement"] for s in j["summary"] if s["variant"] == "2"][0]')
/usr/bin/python3 -c "assert 0.7 < $g < 0.95" || fail "geomean improvement $g"
expect_eq "$(json c12.json '[(e["variant"], e["metric"]) for e in j["only_in"]]')" \
  "[('1', 'lat.old_metric'), ('2', 'lat.new_metric')]" "only in one side"
expect_eq "$(json c12.json 'j["regressions"]')" 3 regressions
expect_eq "$(json c12.json 'j["runs"]')" "['1', '2']" "legacy runs key"
expect_eq "$(json c12.json 'j["status"]')" "['success', 'success']" "legacy status key"
expect_eq "$(json c12.json '[e["key"] for e in j["custom"]]')" "['commit', 'threads']" "legacy custom key"
expect_eq "$(json c12.json '[e.get("change_pct") for e in j["custom"] if e["key"] == "threads"][0]')" 100 "legacy change_pct"
expect_eq "$(json c12.json '[e["stage"] for e in j["stages"]]')" "['setup@local', 'bench@local']" "legacy stages key"
expect_eq "$(json c12.json 'j["metadata"]["custom"] == j["custom"]')" True "metadata section"
pass "compare: winners, summary, metrics on one side only, metadata keys kept"

# Exit codes: regressions fail the command only with --fail-on-regression.
run_bc compare 1 2 -o runs
expect_rc 0 "regressions without --fail-on-regression"
expect_in "$(head -1 <<<"$OUT")" "metadata"
expect_in "$OUT" "statistics (baseline run 1; a BH family of 9 tests"
expect_in "$OUT" "lat.jitter: neither better: nor a unit"
expect_in "$(grep -E '^  lat.latency_ms ' <<<"$OUT")" "regressed"
expect_in "$OUT" "lat.old_metric only in run 1 (not in run 2)"
expect_in "$OUT" "summary"
run_bc compare 1 2 --fail-on-regression -o runs
expect_rc 3 "--fail-on-regression with regressions"
expect_in "$OUT" "summary" "output before exit 3"
run_bc compare 9 10 --fail-on-regression -o runs
expect_rc 0 "--fail-on-regression without regressions"
run_bc compare 1 2 --fail-on-regression --json -o runs
expect_rc 3 "--fail-on-regression --json"
pass "compare: exit 3 only with --fail-on-regression and a regression"

run_bc compare 1 2 --markdown -o runs
expect_rc 0 "compare --markdown"
expect_in "$OUT" "| VARIANT | IMPROVED | REGRESSED | UNCHANGED | INCONCLUSIVE | DIFFERENT | WON | GEOMEAN IMPROVEMENT |"
expect_in "$OUT" "| METRIC | N (BASE / CAND) | MEDIAN (BASE) |"
expect_in "$OUT" "| **regressed** |"
expect_in "$OUT" "<details><summary>Run metadata</summary>"
s_line=$(grep -n '| VARIANT |' <<<"$OUT" | cut -d: -f1)
m_line=$(grep -n '| METRIC |' <<<"$OUT" | cut -d: -f1)
[ "$s_line" -lt "$m_line" ] || fail "Markdown: the summary must come before the metrics"
pass "compare --markdown: summary, then the metric table, regressions in bold"

# Several candidates: the best improved one wins; all regressed: the baseline.
compare_json c167.json 1 6 7
expect_eq "$(winner c167.json lat.latency_ms)" 7 "best of two improved candidates"
expect_eq "$(winner c167.json lat.ops)" 1 "every candidate regressed"
expect_eq "$(json c167.json '[c["variant"] for m in j["metrics"] if m["metric"] == "lat.latency_ms" for c in m["comparisons"]]')" "['6', '7']" "both candidates"
expect_eq "$(json c167.json '[s["won"] for s in j["summary"]]')" "[1, 0, 1]" "metrics won"
expect_eq "$(json c167.json 'j["tests"]')" 4 "one BH family for all candidates"
pass "compare with several candidates: winners per metric"

# The same output and stage on two hosts: keys with @host.
compare_json c910.json 9 10
expect_eq "$(json c910.json 'sorted(m["metric"] for m in j["metrics"])')" \
  "['lat.latency_ms@a', 'lat.latency_ms@b', 'stage:bench.wall_s@a', 'stage:bench.wall_s@b']" "@host keys"
pass "compare: a metric on several hosts is one metric per host"

# --cases: the cases of one run.
compare_json cc.json 5 --cases
expect_eq "$(json cc.json 'j["mode"], j["baseline"], j["metadata"]')" "('cases', 'small', None)" "cases mode"
expect_eq "$(verdict cc.json lat.latency_ms medium)" improved "medium vs small"
expect_eq "$(verdict cc.json lat.latency_ms large)" regressed "large vs small"
expect_eq "$(verdict cc.json lat.ops large)" unchanged "ops equal"
expect_eq "$(winner cc.json lat.latency_ms)" medium "winner among cases"
compare_json ccb.json 5 --cases --baseline medium
expect_eq "$(json ccb.json 'j["baseline"]')" medium "--baseline"
expect_eq "$(winner ccb.json lat.latency_ms)" medium "baseline wins when every case regressed"
run_bc compare 5 --cases --fail-on-regression -o runs
expect_rc 3 "--cases --fail-on-regression"
expect_in "$OUT" "run 5: its cases compared"
run_bc compare 5 --cases --baseline huge -o runs
expect_rc 2 "unknown --baseline"
expect_in "$ERR" "run 5 has no case 'huge' (its cases: small, medium, large)"
run_bc compare 1 --cases -o runs
expect_rc 2 "--cases with one case"
expect_in "$ERR" "run 1 has a single case"
run_bc compare 3 --cases -o runs
expect_rc 2 "--cases without results.json"
expect_in "$ERR" "run 3 has no results.json"
pass "compare --cases: cases as variants, --baseline, errors"

# A run made before results.json existed: metadata still compared.
compare_json c13.json 1 3
expect_eq "$(json c13.json '[v["statistics"] for v in j["variants"]]')" "[True, False]" "statistics flags"
expect_eq "$(json c13.json 'len(j["metrics"]), j["custom"][0]["values"]')" "(0, ['aaa', 'ccc'])" "metadata of an old run"
run_bc compare 1 3 -o runs
expect_rc 0 "compare with an old run"
expect_in "$OUT" "run 3 has no results.json"
expect_in "$OUT" "setup@local"
run_bc compare 3 1 -o runs
expect_rc 0 "old run as the baseline"
expect_in "$OUT" "statistics: none"
pass "compare: a run without results.json is compared by metadata, and says so"

# A samples file gone: that metric is inconclusive, with the reason.
cp -r runs/2 runs/12
rm runs/12/samples/lat/*-ops.f64
compare_json c112.json 1 12
expect_eq "$(verdict c112.json lat.ops)" inconclusive "metric without samples"
expect_in "$(field c112.json lat.ops note)" "cannot read samples file"
expect_eq "$(field c112.json lat.ops n_baseline)" 2000 "baseline n of a metric whose candidate has no samples"
expect_eq "$(verdict c112.json lat.latency_ms)" regressed "the other metrics are still tested"
run_bc compare 1 12 -o runs
expect_rc 0 "compare with a missing samples file"
expect_in "$OUT" "note: lat.ops: 12: cannot read samples file"
expect_in "$ERR" "lat.ops: 12: cannot read samples file"
pass "compare: a missing samples file makes that metric inconclusive, with the reason"

# Errors: exit 2 with a message.
run_bc compare 1 4 -o runs
expect_rc 2 "corrupt results.json"
expect_in "$ERR" "runs/4/results.json is not valid JSON"
run_bc compare 1 99 -o runs
expect_rc 2 "unknown run"
expect_in "$ERR" "run 99 not found"
run_bc compare 1 nosuchtag -o runs
expect_rc 2 "unknown tag"
expect_in "$ERR" "no run ID or tag 'nosuchtag'"
for bad in "--threshold 0" "--threshold 10" "--threshold -5%" "--threshold abc" "--threshold 1001%" "--threshold 5"; do
  run_bc compare 1 2 $bad -o runs
  expect_rc 2 "compare $bad"
  expect_in "$ERR" "--threshold"
done
for bad in "--alpha 0" "--alpha 1" "--alpha x"; do
  run_bc compare 1 2 $bad -o runs
  expect_rc 2 "compare $bad"
  expect_in "$ERR" "--alpha"
done
run_bc compare 1 2 --baseline small -o runs
expect_rc 2 "--baseline without --cases"
expect_in "$ERR" "needs --cases"
run_bc compare 1 2 --cases -o runs
expect_rc 2 "--cases with two runs"
run_bc compare 1 -o runs
expect_rc 2 "one run"
expect_in "$ERR" "give at least two run IDs"
run_bc compare 1 2 --json --markdown -o runs
expect_rc 2 "--json --markdown"
run_bc compare 1 2 --nope -o runs
expect_rc 2 "unknown option"
expect_in "$ERR" "unknown option '--nope'"
pass "compare: bad IDs, tags and flags exit 2 with a clear message"

# Speed and memory: one metric's samples at a time, O(n log n) tests.
/usr/bin/python3 "$GEN" perf big 4 250000
start=$(date +%s)
run_bc compare 1 2 -o big --json
expect_rc 0 "compare of 4 metrics x 250000 samples"
elapsed=$(($(date +%s) - start))
[ "$elapsed" -lt 60 ] || fail "compare of 4 x 250000 samples took ${elapsed}s"
printf '%s\n' "$OUT" >big.json
expect_eq "$(json big.json 'len(j["metrics"]), j["metrics"][0]["comparisons"][0]["n_baseline"]')" "(4, 250000)" "big metrics"
pass "compare: 4 metrics of 250000 samples per side in ${elapsed}s"
