#!/usr/bin/env bash
# stats ID: the summary tables of a run's results.json (text, Markdown,
# JSON as stored), tags shown, and the errors for a missing run, a run
# without results.json and a corrupt one.
source "$(dirname "$0")/lib.sh"
GEN="$SRC_DIR/tests/fixtures/runs/make_runs.py"
/usr/bin/python3 "$GEN" runs runs
/usr/bin/python3 "$GEN" validate "$SRC_DIR/docs/schema/results.schema.json" runs/{1,2,5,6,7,8,9,10}/results.json ||
  fail "the generated results.json files do not match docs/schema/results.schema.json"

# cell NAME ROWKEY: the value under header NAME in the row starting with
# ROWKEY, in the table whose header contains "COLUMN" ($OUT).
cell() {
  printf '%s\n' "$OUT" | /usr/bin/python3 -c '
import re, sys
lines = sys.stdin.read().splitlines()
hdr = next(l for l in lines if l.strip().startswith("COLUMN "))
cols = re.split(r"\s{2,}", hdr.strip())
row = next(l for l in lines if l.strip().startswith(sys.argv[2] + " "))
print(dict(zip(cols, re.split(r"\s{2,}", row.strip())))[sys.argv[1]])
' "$1" "$2"
}

run_bc stats 8 -o runs
expect_rc 0 "stats of a run"
expect_in "$OUT" "Run 8: known"
expect_in "$OUT" "status     success"
expect_in "$OUT" "tags       -"
[ "$(cell COUNT v)" = 100 ] || fail "count of 1..100: $(cell COUNT v)"
[ "$(cell MEDIAN v)" = 50.5 ] || fail "median of 1..100: $(cell MEDIAN v)"
[ "$(cell P90 v)" = 90.1 ] || fail "p90 of 1..100: $(cell P90 v)"
[ "$(cell P95 v)" = 95.05 ] || fail "p95 of 1..100: $(cell P95 v)"
[ "$(cell P99 v)" = 99.01 ] || fail "p99 of 1..100: $(cell P99 v)"
[ "$(cell P99.9 v)" = 99.9 ] || fail "p99.9 of 1..100: $(cell P99.9 v)"
[ "$(cell MAD v)" = 25 ] || fail "mad of 1..100: $(cell MAD v)"
[ "$(cell UNIT v)" = ms ] || fail "unit: $(cell UNIT v)"
[ "$(cell STDDEV v)" = 29.01 ] || fail "stddev, 4 significant digits: $(cell STDDEV v)"
expect_in "$OUT" "rate (ts): 10 rows/s (100 rows over 10 s)"
expect_in "$OUT" "success (status in [ok]): 97 of 100 (97%)"
bench=$(grep -E '^ +bench +local' <<<"$OUT") || fail "no row for the repeated stage bench"
expect_in "$bench" "14.6 ms ± 8.649 ms" "repeat mean ± stddev"
expect_in "$bench" "10 ms – 30 ms" "repeat min – max"
expect_in "$OUT" "note: bench on local: cv 47% > 10%: noisy" "repeat quality notes (under the table)"
build=$(grep -E '^ +build +local' <<<"$OUT") || fail "no row for the plain stage build"
expect_in "$build" "2.5 s" "plain stage wall time"
expect_in "$build" "20 MiB" "plain stage peak RSS"
pass "stats: the table of a run with known percentiles (1..100: median 50.5, p90 90.1)"

run_bc stats 8 -o runs --markdown
expect_rc 0 "stats --markdown"
expect_in "$OUT" "## Run 8: known"
expect_in "$OUT" "| COLUMN | UNIT | COUNT | MEAN | STDDEV | MIN | MEDIAN | P90 | P95 | P99 | P99.9 | MAX | MAD | BETTER |"
expect_in "$OUT" "| v | ms | 100 | 50.5 | 29.01 | 1 | 50.5 | 90.1 | 95.05 | 99.01 | 99.9 | 100 | 25 | lower |"
expect_in "$OUT" "| --- | --- | ---: |"
pass "stats --markdown: GitHub tables"

run_bc stats 8 -o runs --json
expect_rc 0 "stats --json"
echo "$OUT" >s.json
/usr/bin/python3 -c 'import json,sys; assert json.load(open(sys.argv[1])) == json.load(open(sys.argv[2]))' \
  s.json runs/8/results.json || fail "stats --json is not results.json as stored"
pass "stats --json prints results.json"

run_bc stats 5 -o runs
expect_rc 0 "stats of a run with cases"
expect_in "$OUT" "case small (size=small)"
expect_in "$OUT" "case large (size=large)"
expect_in "$OUT" "output lat-medium (stage load on local, 1000 rows, valid)"
pass "stats: one section per case"

run_bc tag 8 known-good -o runs
expect_rc 0 tag
run_bc stats known-good -o runs
expect_rc 0 "stats by tag"
expect_in "$OUT" "Run 8: known"
expect_in "$OUT" "tags       known-good"
pass "stats accepts a tag and shows the run's tags"

# Errors: the same words and exit code as inspect for a missing run.
run_bc inspect 99 -o runs
inspect_err=$ERR
run_bc stats 99 -o runs
expect_rc 2 "stats of a missing run"
expect_in "$ERR" "run 99 not found in"
[ "${ERR#benchctl stats: }" = "${inspect_err#benchctl inspect: }" ] || fail "stats and inspect word a missing run differently:
$ERR
$inspect_err"
run_bc stats 3 -o runs
expect_rc 2 "stats of a run without results.json"
expect_in "$ERR" "run 3 has no results.json"
expect_in "$ERR" "did not write statistics yet"
run_bc stats 4 -o runs
expect_rc 2 "stats of a corrupt results.json"
expect_in "$ERR" "runs/4/results.json is not valid JSON"
run_bc stats nosuchtag -o runs
expect_rc 2 "stats of an unknown tag"
expect_in "$ERR" "no run ID or tag 'nosuchtag'"
run_bc stats 8 --bogus -o runs
expect_rc 2 "unknown option"
expect_in "$ERR" "unknown option '--bogus'"
run_bc stats 8 --json --markdown -o runs
expect_rc 2 "--json and --markdown"
run_bc stats -o runs
expect_rc 2 "no ID"
expect_in "$ERR" "missing run ID"
pass "stats: missing run, no results.json, corrupt results.json, bad tag and flags exit 2 with a message"
