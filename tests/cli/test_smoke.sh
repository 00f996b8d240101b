#!/usr/bin/env bash
# The quickstart runs end to end and leaves a complete run directory.
source "$(dirname "$0")/lib.sh"

cp "$SRC_DIR/examples/quickstart/benchmark.yaml" .
run_bc validate -c benchmark.yaml
expect_rc 0 validate
run_bc run -c benchmark.yaml -m who=test
expect_rc 0 run
first=$(head -n1 <<<"$OUT")
[ "$first" = "Run ID: 1" ] || fail "first line is '$first'"
last=$(tail -n1 <<<"$OUT")
[ "$last" = "Results saved to: $T/results/1" ] || fail "last line is '$last'"
m=results/1/metadata.json
[ "$(json $m 'j["status"]')" = success ] || fail "status not success"
[ "$(json $m 'j["custom"]["who"]')" = test ] || fail "custom metadata missing"
[ "$(json $m 'len(j["stages"])')" = 14 ] || fail "expected 14 stage records (6 stages + 1 cleanup, 2 cases)"
[ "$(json $m 'sorted(p["name"] for p in j["plugins"])')" = "['command', 'csv', 'files', 'gnuplot', 'local']" ] || fail "plugins used"
[ "$(json $m 'sorted(j["custom"])')" = "['ratio_best', 'ratio_fast', 'who']" ] || fail "appended metadata"
[ "$(json $m 'sorted((p["path"], p["status"]) for p in j["plots"])')" = "[('plots/best/compress-time.png', 'success'), ('plots/best/cpu.png', 'success'), ('plots/fast/compress-time.png', 'success'), ('plots/fast/cpu.png', 'success')]" ] || fail "plots"
for c in fast best; do
  [ "$(wc -l < results/1/cases/$c/times.csv)" = 9 ] || fail "times.csv of $c"
  [ "$(wc -l < results/1/cases/$c/cpu.csv)" -ge 2 ] || fail "cpu.csv of $c"
done
[ -f results/1/config.yaml ] || fail "config copy missing"
check_schema "$SRC_DIR/docs/schema/results.schema.json" results/1/results.json
for c in 0 1; do
  [ "$(json results/1/results.json "j['cases'][$c]['stages'][3]['repeat']['count']")" = 10 ] || fail "gzip-timed repeat"
  [ "$(json results/1/results.json "j['cases'][$c]['outputs'][1]['columns']['seconds']['count']")" = 8 ] || fail "times stats"
  # The stage's CPU is that of all its runs: at least the measured runs' sum.
  [ "$(json results/1/results.json "(lambda s: s['user_cpu_s'] + s['system_cpu_s'] >= sum(r['user_cpu_s'] + r['system_cpu_s'] for r in s['repeat']['runs']) > 0)(j['cases'][$c]['stages'][3])")" = True ] ||
    fail "gzip-timed stage CPU is not the sum of its runs"
done
pass "quickstart runs and is stored; results.json has the repeated and the collected timings"
