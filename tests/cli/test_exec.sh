#!/usr/bin/env bash
# `benchctl exec`: commands timed without a config, stored as a run like any
# other, the fastest compared with the rest ("ran X ± Y times faster than"
# and the verdict of compare's test), --prepare before every run, the
# Markdown, JSON and CSV exports, --json.  Asserts structure and counts,
# never which command is faster.
source "$(dirname "$0")/lib.sh"

# ---- two commands; --prepare runs before each run -----------------------------------
A='test -f marker && rm marker && echo "a,b"'   # passes only after a prepare; a comma for CSV
B='test -f marker && rm marker && true'
run_bc exec --runs 4 --warmup 1 --prepare 'touch marker' "$A" "$B" \
  --export-markdown r.md --export-json r.json --export-csv r.csv
expect_rc 0 "exec with --prepare"
expect_in "$OUT" "Benchmark 1: $A" "exec output"
expect_in "$OUT" "Benchmark 2: $B" "exec output"
expect_in "$OUT" "Time (mean ± σ):" "exec output"
[ "$(grep -c '    4 runs$' <<<"$OUT")" = 2 ] || fail "4 runs each: $OUT"
expect_in "$OUT" " ran" "summary"
grep -qE '^    [0-9]+\.[0-9]{2} ± [0-9]+\.[0-9]{2} times faster than ' <<<"$OUT" || fail "no ratio line: $OUT"
grep -qE '^      (a significant difference|significant .* no practical difference|not significant)' <<<"$OUT" ||
  fail "no verdict line: $OUT"
expect_in "$ERR" "Run ID: 1" "the run's own lines on stderr"
expect_in "$ERR" "Results saved to: $T/results/1" "stored in ./results"
[ ! -e marker ] || fail "the last run did not remove the marker"
pass "exec: two commands measured, --prepare before every run, ratio and verdict"

# the exports
/usr/bin/python3 - r.json r.csv "$A" "$B" <<'PY' || fail "exports: $(cat r.json r.csv)"
import csv, json, sys
j = json.load(open(sys.argv[1]))
a, b = sys.argv[3], sys.argv[4]
assert j["run_number"] == 1 and j["run_id"] == "1", j
assert [r["command"] for r in j["results"]] == [a, b], j["results"]
assert all(len(r["times"]) == 4 for r in j["results"]), "4 times each"
assert all(r["min"] <= r["median"] <= r["max"] for r in j["results"])
c = j["comparison"]
assert c["fastest"] in (a, b) and len(c["slower"]) == 1, c
s = c["slower"][0]
assert s["command"] != c["fastest"] and s["ratio"] >= 1 and s["verdict"] in (
    "improved", "regressed", "unchanged", "inconclusive", "different"), s
rows = list(csv.DictReader(open(sys.argv[2])))
assert [r["command"] for r in rows] == [a, b], rows
assert all(float(r["min"]) <= float(r["mean"]) <= float(r["max"]) for r in rows), rows
PY
grep -q '^| Command | Mean \[s\] | Min \[s\] | Max \[s\] | Relative |$' r.md || fail "markdown header: $(cat r.md)"
[ "$(grep -c '^| `test -f marker' r.md)" = 2 ] || fail "markdown rows: $(cat r.md)"
grep -q '| 1.00 |$' r.md || fail "markdown: the fastest is 1.00: $(cat r.md)"
pass "exports: Markdown table, JSON with every run's time, CSV (quoted)"

# ---- a stored run like any other -----------------------------------------------------
run_bc inspect latest -o results --json
expect_rc 0 "inspect latest"
[ "$(jsons 'j["benchmark_name"], len(j["cases"]), j["status"]' <<<"$OUT")" = "('exec', 2, 'success')" ] ||
  fail "the stored run: $OUT"
run_bc compare latest --cases -o results --json
expect_rc 0 "compare --cases on an exec run"
[ "$(jsons '[m["metric"] for m in j["metrics"]]' <<<"$OUT")" = "['stage:command.wall_s']" ] ||
  fail "compare --cases: $(jsons '[m["metric"] for m in j["metrics"]]' <<<"$OUT")"
pass "the exec run is stored: inspect latest, compare --cases"

# ---- --json, one command, a failing command ------------------------------------------
run_bc exec --runs 2 --json 'true'
expect_rc 0 "exec --json"
[ "$(jsons 'j["format"], j["run_number"], j["cases"][0]["repeated_stages"][0]["runs"]' <<<"$OUT")" = \
  "('benchctl-summary', 2, 2)" ] || fail "exec --json: $OUT"
expect_not_in "$OUT" "Benchmark 1" "exec --json stdout"
run_bc exec --runs 2 'exit 3'
expect_rc 1 "a failing command"
expect_in "$OUT$ERR" "failed stage command on local" "the failure in the summary"
run_bc exec --runs 1 'true'
expect_rc 2 "--runs 1"
expect_in "$ERR" "--runs: '1' is not a number of runs from 2 to 1000000" "--runs 1"
run_bc exec
expect_rc 2 "no command"
expect_in "$ERR" "missing command to time" "no command"
pass "exec --json, a failing command, usage errors"
