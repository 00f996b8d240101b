#!/usr/bin/env bash
# stats ID on a matrix run prints a scaling table: one row per case with
# its parameters, then rows/s, success rate and p50/p95/p99 of each metric
# (text and Markdown).  A concurrency sweep whose rows carry made-up
# timestamps (no real duration is measured): rows/s and latency grow with
# the concurrency.  compare --cases on it says it is a sweep.
source "$(dirname "$0")/lib.sh"

write_config sweep.yaml <<'EOF2'
benchmark: {name: sweep, output_dir: ./runs}
matrix:
  conc: [1, 2, 4]
stages:
  - name: load
    command: |
      awk -v C="$conc" 'BEGIN {
        print "ts,latency_ms,iteration,status"; n = 0
        for (s = 0; s < 12; s++)
          for (i = 0; i < 50 * C; i++) {
            n++
            printf "%.6f,%.3f,%d,%s\n", 1700000000 + s + i / (50 * C), 10 * C + (n % 7) * 0.1, n, (n % 25 == 0) ? "err" : "ok"
          }
      }' > load.csv
    outputs:
      - name: requests
        remote_path: load.csv
        data_schema:
          columns:
            - {name: ts, type: timestamp, format: unix}
            - {name: latency_ms, type: float, unit: ms, better: lower}
            - {name: iteration, type: integer}
            - {name: status, type: string, success_values: [ok]}
  - name: tick
    command: "true"
    repeat: 3
EOF2
run_bc run -c sweep.yaml
expect_rc 0 run
run_bc stats 1 -c sweep.yaml
expect_rc 0 stats
expect_in "$OUT" "scaling (one row per case"
head=$(grep -E '^  CASE ' <<<"$OUT")
for h in conc "requests rows/s" "requests success(status)" "requests.latency_ms p50" "requests.latency_ms p95" \
  "requests.latency_ms p99" "stage:tick.wall_s p50"; do
  expect_in "$head" "$h"
done
expect_not_in "$head" "iteration" "a loop index is not a metric"
row() { grep -E "^  conc=$1 " <<<"$OUT" | head -1; }
for c in 1 2 4; do [ -n "$(row $c)" ] || fail "no row for conc=$c"; done
expect_in "$(row 1)" " 50.08 "  # 600 rows over 11.98 s
expect_in "$(row 4)" " 200.1 "
expect_in "$(row 2)" "96%"
expect_in "$(row 4)" "40.3 ms"  # p50 latency
pass "stats: the scaling table of a matrix run"

run_bc stats 1 -c sweep.yaml --markdown
expect_rc 0 "stats --markdown"
expect_in "$OUT" "### Scaling (one row per case)"
expect_in "$OUT" "| conc=4 |"
run_bc compare 1 --cases -c sweep.yaml
expect_rc 0 "compare --cases"
expect_in "$OUT" "these cases are a matrix sweep"
pass "stats --markdown: the scaling table; compare --cases on a sweep says so"
