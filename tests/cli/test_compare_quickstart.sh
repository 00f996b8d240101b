#!/usr/bin/env bash
# compare --cases on the quickstart: the BH family holds the metrics only
# (the repeated stage, times.seconds, times.bytes_out), not the loop index,
# the background CPU monitor's column or its sampling rate, so gzip -9's
# slowdown over gzip -1 comes out `regressed` (docs/statistics.md,
# "Metrics").  No duration is asserted: gzip -9 is several times slower
# than -1 on any machine, and 8 against 8 separated values give p = 1.6e-4.
source "$(dirname "$0")/lib.sh"

cp "$SRC_DIR/examples/quickstart/benchmark.yaml" .
run_bc run -c benchmark.yaml
expect_rc 0 run
run_bc compare 1 --cases --json -c benchmark.yaml
expect_rc 0 "compare --cases --json"
printf '%s\n' "$OUT" >c.json
check_schema "$SRC_DIR/docs/schema/compare.schema.json" c.json
fam() { json c.json "sorted(m['metric'] for m in j['metrics'] for c in m['comparisons'] if c['in_family'])"; }
[ "$(fam)" = "['stage:gzip-timed.wall_s', 'times.bytes_out', 'times.seconds']" ] || fail "family: $(fam)"
[ "$(json c.json 'j["tests"]')" = 3 ] || fail "family size $(json c.json 'j["tests"]')"
[ "$(json c.json 'sorted(e["metric"] for e in j["not_metrics"])')" = "['cpu.cpu_percent', 'cpu.rows_per_s', 'times.iteration']" ] ||
  fail "not metrics: $(json c.json 'j["not_metrics"]')"
v=$(json c.json "[c['verdict'] for m in j['metrics'] if m['metric'] == 'times.seconds' for c in m['comparisons']][0]")
[ "$v" = regressed ] || fail "times.seconds (gzip -9 against -1): $v; $(cat c.json)"
[ "$(json c.json "[(c['n_baseline'], c['n_candidate']) for m in j['metrics'] if m['metric'] == 'times.seconds' for c in m['comparisons']][0]")" = "(8, 8)" ] ||
  fail "n per side of times.seconds"
pass "quickstart compare --cases: the family is the metrics; gzip -9's slowdown is regressed"

run_bc compare 1 --cases -c benchmark.yaml
expect_rc 0 "compare --cases"
expect_in "$OUT" "a BH family of 3 tests"
expect_in "$(grep -E '^  times.seconds ' <<<"$OUT")" "8 / 8"
expect_in "$OUT" "times.iteration: neither better: nor a unit"
run_bc compare 1 --cases --markdown -c benchmark.yaml
expect_in "$OUT" "#### Not metrics (not tested)"
pass "quickstart compare --cases: family size, n per side and the columns left out are shown"
