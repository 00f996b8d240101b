#!/usr/bin/env bash
# compare: throughput (rows per second of an output, tested over its rate
# windows) and success rates (two-proportion test) are metrics with
# better: higher.  Two runs of a load generator whose rows carry made-up
# timestamps over 20 s (no real duration is measured or asserted): run 2
# writes 14 % fewer rows per second and fails 5 % of its requests instead
# of 1 %, at the same latency.  The success rate's change is judged
# against the failures (1 % -> 5 %), not as 99 % -> 95 % = -4 %.
source "$(dirname "$0")/lib.sh"

write_config load.yaml <<'EOF2'
benchmark: {name: load, output_dir: ./runs}
stages:
  - name: load
    command: |
      awk -v R="$RATE" -v E="$FAIL_EVERY" 'BEGIN {
        print "ts,latency_ms,status"; n = 0
        for (s = 0; s < 20; s++) {
          r = R + (s * 7) % 11 - 5
          for (i = 0; i < r; i++) {
            n++
            printf "%.6f,%.3f,%s\n", 1700000000 + s + i / r, 10 + (n % 13) * 0.1, (n % E == 0) ? "err" : "ok"
          }
        }
      }' > load.csv
    outputs:
      - name: requests
        remote_path: load.csv
        data_schema:
          columns:
            - {name: ts, type: timestamp, format: unix}
            - {name: latency_ms, type: float, unit: ms, better: lower}
            - {name: status, type: string, success_values: [ok]}
EOF2
RATE=100 FAIL_EVERY=100 run_bc run -c load.yaml
expect_rc 0 "run 1"
RATE=86 FAIL_EVERY=20 run_bc run -c load.yaml
expect_rc 0 "run 2"
check_schema "$SRC_DIR/docs/schema/results.schema.json" runs/2/results.json
R="j['cases'][0]['outputs'][0]['rates'][0]"
[ "$(json runs/1/results.json "($R['windows'], $R['samples'] is not None)")" = "(19, True)" ] ||
  fail "rate windows: $(json runs/1/results.json "$R")"
run_bc compare 1 2 --json -o runs
expect_rc 0 "compare --json"
printf '%s\n' "$OUT" >c.json
check_schema "$SRC_DIR/docs/schema/compare.schema.json" c.json
get() { json c.json "[c['$2'] for m in j['metrics'] if m['metric'] == '$1' for c in m['comparisons']][0]"; }
[ "$(get requests.rows_per_s verdict)" = regressed ] || fail "14% fewer rows/s: $(get requests.rows_per_s verdict)"
[ "$(json c.json "[m['better'] for m in j['metrics'] if m['metric'] == 'requests.rows_per_s'][0]")" = higher ] || fail "rows/s better"
[ "$(get requests.rows_per_s n_baseline)" = 19 ] || fail "n of rows/s: one sample per rate window"
/usr/bin/python3 -c "assert -0.18 < $(get requests.rows_per_s relative_change) < -0.10" || fail "rows/s change"
[ "$(get requests.success_rate verdict)" = regressed ] || fail "success 99% -> 95%: $(get requests.success_rate verdict)"
[ "$(json c.json "[m['test'] for m in j['metrics'] if m['metric'] == 'requests.success_rate'][0]")" = two-proportion ] || fail "success test"
[ "$(get requests.success_rate n_baseline)" = 1998 ] || fail "n of the success rate: rows with a status"
[ "$(get requests.latency_ms verdict)" = unchanged ] || fail "latency: $(get requests.latency_ms verdict)"
[ "$(json c.json 'j["tests"]')" = 3 ] || fail "family: rows/s, success rate, latency"
pass "compare: a throughput drop and a success-rate drop are regressions"

run_bc compare 1 2 -o runs
expect_in "$(grep -E '^  requests.success_rate ' <<<"$OUT")" "99%"
expect_in "$(grep -E '^  requests.rows_per_s ' <<<"$OUT")" "rows/s"
pass "compare: rates shown in rows/s, success rates in percent"
