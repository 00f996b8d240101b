#!/usr/bin/env bash
# The end-of-run summary (per case and output: rows, rate, success rate,
# p50/p95/p99; per repeated stage: mean ± σ, min…max, CPU; failed
# thresholds and stages with their logs; where the plots and report went),
# `run --json` (the summary alone on stdout, everything else on stderr), and
# run IDs as JSON integers (run_number) in every --json that names a run.
source "$(dirname "$0")/lib.sh"

write_config b.yaml <<'EOF2'
benchmark:
  name: summary
  output_dir: ./results
cases:
  - name: small
  - name: large
stages:
  - name: load
    command: |
      echo "ts,latency_ms,status" > data.csv
      for i in 1 2 3 4 5 6 7 8 9 10; do echo "$((1000 + i)),$i,$([ $i -le 9 ] && echo ok || echo err)" >> data.csv; done
    outputs:
      - name: lat
        remote_path: data.csv
        data_schema:
          columns:
            - {name: ts, type: timestamp, format: unix}
            - {name: latency_ms, type: float, unit: ms, thresholds: ["p95 < 5"]}
            - {name: status, type: string, success_values: [ok]}
  - name: tick
    command: "true"
    warmup: 1
    repeat: 3
EOF2

# ---- piped: plain lines, the summary before "Results saved to" --------------------
run_bc run -c b.yaml
expect_rc 4 "run with a failed threshold"
expect_not_in "$OUT" $'\033[' "piped summary (no colours)"
expect_in "$OUT" "Summary of run 1 (summary): success" "summary header"
expect_in "$OUT" "case small" "summary"
expect_in "$OUT" "case large" "summary"
# lat: 10 rows, 10 rows over 9 s, 90% successes, p50 5.5 ms
line=$(grep -m1 '^  lat ' <<<"$OUT") || fail "no output row for lat: $OUT"
read -r -a f <<<"$line"
[ "${f[1]}" = 10 ] || fail "rows: $line"
[ "${f[2]}" = "1.111/s" ] || fail "rate: $line"
[ "${f[3]}" = "90%" ] || fail "success rate: $line"
[ "${f[4]}" = latency_ms ] && [ "${f[5]} ${f[6]}" = "5.5 ms" ] || fail "p50: $line"
expect_in "$OUT" "mean ± σ" "repeated stage table"
grep -qE '^  tick +3 ' <<<"$OUT" || fail "repeated stage row: $OUT"
expect_in "$OUT" "threshold failed: lat.latency_ms p95 < 5 (value 9.55; stage load, case small)" "summary"
expect_in "$OUT" "report $T/results/1/report.html" "summary"
[ "$(tail -n1 <<<"$OUT")" = "Results saved to: $T/results/1" ] || fail "last line: $OUT"
before=$(sed -n '/^Summary of run/,$p' <<<"$OUT" | grep -c "Results saved to")
[ "$before" = 1 ] || fail "summary after Results saved to"
pass "the summary: rows, rate, success rate, percentiles, repeated stages, thresholds, report"

# ---- run --json: one document on stdout --------------------------------------------
run_bc run -c b.yaml --json
expect_rc 4 "run --json"
printf '%s' "$OUT" >sum.json
[ "$(json sum.json 'j["format"]')" = benchctl-summary ] || fail "format: $OUT"
[ "$(json sum.json 'type(j["run_number"]).__name__, j["run_number"], j["run_id"]')" = "('int', 2, '2')" ] ||
  fail "run_number: $OUT"
[ "$(json sum.json 'j["exit_code"]')" = 4 ] || fail "exit_code"
[ "$(json sum.json '[c["name"] for c in j["cases"]]')" = "['small', 'large']" ] || fail "cases"
[ "$(json sum.json 'j["cases"][0]["outputs"][0]["success"]["rate"]')" = 0.9 ] || fail "success rate"
[ "$(json sum.json 'j["cases"][0]["outputs"][0]["columns"][0]["p50"]')" = 5.5 ] || fail "p50"
[ "$(json sum.json 'j["cases"][1]["repeated_stages"][0]["runs"]')" = 3 ] || fail "repeated runs"
[ "$(json sum.json 'len(j["thresholds_failed"])')" = 2 ] || fail "thresholds_failed"
expect_in "$ERR" "Run ID: 2" "stderr (human output)"
expect_in "$ERR" "Summary of run 2" "stderr (human summary)"
expect_in "$ERR" "Results saved to:" "stderr"
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
  /usr/bin/python3 - "$SRC_DIR/docs/schema/summary.schema.json" sum.json <<'PY' || fail "summary does not match summary.schema.json"
import json, sys, jsonschema
jsonschema.Draft202012Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2])))
PY
fi
pass "run --json: the summary document alone on stdout, the rest on stderr"

# ---- a failed stage: its log in the summary ----------------------------------------
write_config bad.yaml <<'EOF2'
benchmark: {name: bad, output_dir: ./results}
stages:
  - name: broken
    command: "echo oops; exit 3"
EOF2
run_bc run -c bad.yaml
expect_rc 1 "failing run"
expect_in "$OUT" "failed stage broken on local: failed" "summary"
expect_in "$OUT" "log: $T/results/3/logs/broken.log" "summary"
pass "a failed stage is named with its log"

# ---- every --json names runs with integers -----------------------------------------
run_bc list -c b.yaml --json
expect_rc 0 "list --json"
[ "$(jsons '[type(e["run_number"]).__name__ + ":" + str(e["run_number"]) + ":" + e["run_id"] for e in j]' <<<"$OUT")" = \
  "['int:1:1', 'int:2:2', 'int:3:3']" ] || fail "list --json: $OUT"
run_bc inspect 2 -c b.yaml --json
[ "$(jsons 'repr(j["run_number"]) + j["run_id"]' <<<"$OUT")" = 22 ] || fail "inspect --json: run_number"
run_bc stats 2 -c b.yaml --json
[ "$(jsons 'repr(j["run"]["run_number"]) + j["run"]["id"]' <<<"$OUT")" = 22 ] || fail "stats --json: run_number"
run_bc compare 1 2 -c b.yaml --json
expect_rc 0 "compare --json"
[ "$(jsons 'j["run_numbers"], j["runs"], [v["run_number"] for v in j["variants"]]' <<<"$OUT")" = \
  "([1, 2], ['1', '2'], [1, 2])" ] || fail "compare --json: $(jsons 'j["run_numbers"]' <<<"$OUT")"
pass "run IDs are JSON integers (run_number) in list, inspect, stats, compare and run --json"
