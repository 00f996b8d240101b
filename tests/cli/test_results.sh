#!/usr/bin/env bash
# results.json: exact column statistics from validated outputs, rates,
# success rates, repeated measurements with warm-up, the schema, and the
# config errors of the new keys.
. "$(dirname "$0")/lib.sh"

SCHEMA="$SRC_DIR/docs/schema/results.schema.json"

# A data file with known values: latency 1..1000 (shuffled order), one
# sample per 10 ms, status ok except every 10th row, a nan and an inf in
# a float column.
/usr/bin/python3 - <<'PY'
import random
r = random.Random(7)
vals = list(range(1, 1001))
r.shuffle(vals)
with open("data.csv", "w") as f:
    f.write("ts,latency_ms,status,code,ratio\n")
    for i, v in enumerate(vals):
        st = "error" if i % 10 == 9 else "ok"
        code = 500 if i % 4 == 3 else 200
        ratio = "nan" if i == 5 else "inf" if i == 6 else "%.3f" % (v / 7)
        f.write("%.2f,%d,%s,%d,%s\n" % (1700000000 + i * 0.01, v, st, code, ratio))
PY

write_config bench.yaml <<EOF
benchmark:
  name: results-test
  output_dir: ./runs
stages:
  - name: measure
    command: cp $T/data.csv "\$BENCHCTL_RUN_DIR/in.csv" && cat "\$BENCHCTL_RUN_DIR/in.csv" > /dev/null
    outputs:
      - name: lat
        remote_path: $T/data.csv
        data_schema:
          format: csv
          columns:
            - {name: ts, type: timestamp, format: unix}
            - {name: latency_ms, type: integer, unit: ms, better: lower}
            - {name: status, type: string, success_values: [ok]}
            - {name: code, type: integer, success_values: [200, 204]}
            - {name: ratio, type: float}
  - name: timed
    command: "true"
    repeat: 15
    warmup: 2
EOF
run_bc run -c bench.yaml
expect_rc 0 "run"
R=runs/1/results.json
[ -f "$R" ] || fail "no results.json"
check_schema "$SCHEMA" "$R"
pass "results.json written and valid against its schema"

col() { json "$R" "j['cases'][0]['outputs'][0]['columns']['$1']['$2']"; }
[ "$(col latency_ms count)" = 1000 ] || fail "count $(col latency_ms count)"
[ "$(col latency_ms median)" = 500.5 ] || fail "median $(col latency_ms median)"
[ "$(col latency_ms p90)" = 900.1 ] || fail "p90 $(col latency_ms p90)"
[ "$(col latency_ms p99)" = 990.01 ] || fail "p99 $(col latency_ms p99)"
[ "$(col latency_ms p999)" = 999.001 ] || fail "p999 $(col latency_ms p999)"
[ "$(col latency_ms mad)" = 250 ] || fail "mad $(col latency_ms mad)"
[ "$(col latency_ms min)" = 1 ] || fail "min"
[ "$(col latency_ms better)" = lower ] || fail "better"
[ "$(col latency_ms unit)" = ms ] || fail "unit"
python3 - "$R" <<'PY' || fail "mean/stddev"
import json, sys, statistics
c = json.load(open(sys.argv[1]))["cases"][0]["outputs"][0]["columns"]["latency_ms"]
assert abs(c["mean"] - 500.5) < 1e-9, c["mean"]
assert abs(c["stddev"] - statistics.stdev(range(1, 1001))) < 1e-9, c["stddev"]
PY
pass "exact percentiles (type 7), mean, stddev, mad of a 1000-row column"

[ "$(col ratio count)" = 998 ] || fail "ratio count $(col ratio count)"
[ "$(col ratio non_finite)" = 2 ] || fail "non_finite $(col ratio non_finite)"
S=$(col latency_ms samples)
[ "$(stat -c %s "runs/1/$S")" = 8000 ] || fail "sample file size"
pass "nan/inf counted apart; 8-byte samples kept in $S"

[ "$(json "$R" "j['cases'][0]['outputs'][0]['rows']")" = 1000 ] || fail rows
RATE=$(json "$R" "round(j['cases'][0]['outputs'][0]['rates'][0]['rows_per_s'], 3)")
[ "$RATE" = "100.1" ] || fail "rate $RATE"   # 1000 rows over 9.99 s
SR=$(json "$R" "[(s['column'], s['successes'], s['count']) for s in j['cases'][0]['outputs'][0]['success']]")
[ "$SR" = "[('status', 900, 1000), ('code', 750, 1000)]" ] || fail "success $SR"
pass "rate over the timestamp span, success rates of a string and an integer status column"

REP="j['cases'][0]['stages'][1]['repeat']"
[ "$(json "$R" "$REP['count']")" = 15 ] || fail "repeat count"
[ "$(json "$R" "$REP['warmup']")" = 2 ] || fail "warmup"
[ "$(json "$R" "len($REP['runs'])")" = 15 ] || fail "runs"
[ "$(json "$R" "$REP['metrics']['wall_s']['count']")" = 15 ] || fail "wall count"
[ "$(json "$R" "$REP['overhead_s'] > 0")" = True ] || fail "overhead"
[ "$(json "$R" "all(r['raw_wall_s'] >= r['wall_s'] >= 0 for r in $REP['runs'])")" = True ] || fail "raw >= wall"
[ "$(json "$R" "$REP['metrics']['max_rss_kb']['min'] > 0")" = True ] || fail "rss"
[ "$(json "$R" "j['cases'][0]['stages'][1]['user_cpu_s'] is not None")" = True ] || fail "stage cpu"
pass "repeat: 15 measured runs after 2 warm-ups, shell overhead taken off, CPU and RSS"

# The command ran 12 (calibration) + 2 + 15 times: count via a file.
write_config count.yaml <<EOF
benchmark: {name: count, output_dir: ./runs2}
stages:
  - name: c
    command: echo x >> $T/count.txt
    repeat: 4
    warmup: 3
EOF
run_bc run -c count.yaml
expect_rc 0 "run count"
[ "$(wc -l < count.txt)" = 7 ] || fail "the command ran $(wc -l < count.txt) times, not 3 + 4"
pass "warm-up runs + measured runs = 7 executions of the command"

# A repetition that fails: the stage fails, what was measured is kept.
write_config fails.yaml <<EOF
benchmark: {name: fails, output_dir: ./runs3}
stages:
  - name: flaky
    command: echo x >> $T/n.txt; [ \$(wc -l < $T/n.txt) -lt 4 ]
    repeat: 10
EOF
run_bc run -c fails.yaml
expect_rc 1 "failing repetition"
expect_in "$ERR" "failed with exit status 1"
R3=runs3/1/results.json
check_schema "$SCHEMA" "$R3"
[ "$(json "$R3" "j['run']['status']")" = failed ] || fail "status"
[ "$(json "$R3" "j['cases'][0]['stages'][0]['repeat']['count']")" = 3 ] || fail "kept runs"
expect_in "$(json "$R3" "j['cases'][0]['stages'][0]['repeat']['quality']['notes']")" "only 3 of 10 repetitions"
pass "a failing repetition fails the stage; the 3 measured runs stay in results.json"

# Config errors of the new keys, with their positions.
write_config bad.yaml <<'EOF'
benchmark: {name: bad, output_dir: ./r}
stages:
  - name: a
    command: "true"
    warmup: 2
  - name: b
    command: "true"
    repeat: 0
  - name: c
    command: sleep 1
    background: true
    repeat: 3
  - name: d
    command: "true"
    outputs:
      - name: o
        remote_path: /tmp/x.csv
        data_schema:
          columns:
            - {name: s, type: string, better: lower}
            - {name: f, type: float, success_values: [1]}
            - {name: g, type: string, success_values: ok}
            - {name: h, type: integer, success_values: [200, 2xx]}
EOF
run_bc validate -c bad.yaml
expect_rc 2 "bad config"
expect_in "$ERR" "bad.yaml:5:5: stage 'a': 'warmup' needs 'repeat'"
expect_in "$ERR" "bad.yaml:8:13: stage 'b': 'repeat' must be a whole number from 1 to 1000000, not '0'"
expect_in "$ERR" "bad.yaml:12:5: stage 'c': 'repeat' does not apply to background stages"
expect_in "$ERR" "bad.yaml:20:47: column 's': 'better' only applies to integer and float columns"
expect_in "$ERR" "bad.yaml:21:54: column 'f': 'success_values' applies to string and integer columns"
expect_in "$ERR" "column 'g': 'success_values' must be a non-empty list"
expect_in "$ERR" "bad.yaml:23:62: column 'h': '2xx' in success_values is not an integer"
pass "config errors for repeat, warmup, better, success_values with FILE:LINE:COL"

# A validator built for ABI 1.0 still loads; its output gets the summary it
# reports, without percentiles, and results.json says why.
echo "x" > x.csv
write_config old.yaml <<EOF2
benchmark: {name: old, output_dir: ./runs4}
stages:
  - name: s
    command: "true"
    outputs:
      - name: o
        remote_path: $T/x.csv
        data_schema:
          format: abi10
          columns:
            - {name: x, type: float}
EOF2
run_bc run -c old.yaml --plugin-path "$FIXTURE_PLUGINS/abi10"
expect_rc 0 "ABI 1.0 validator"
R4=runs4/1/results.json
check_schema "$SCHEMA" "$R4"
[ "$(json "$R4" "[j['cases'][0]['outputs'][0]['columns']['x'][k] for k in ('count', 'min', 'max', 'mean', 'median', 'samples')]")" = "[3, 1, 3, 2, None, None]" ] ||
  fail "ABI 1.0 summary: $(cat "$R4")"
expect_in "$(json runs4/1/metadata.json "j['stages'][0]['outputs'][0]['statistics']['note']")" "plugin ABI 1.0"
pass "an ABI 1.0 validator loads into a newer core; summary without percentiles"

# Its capped report (one problem, then "4 more errors not shown", as
# validators said it before the data_errors_suppressed service of ABI 1.2)
# still counts: 5 problems.
sed 's/format: abi10/format: abi10\n          errors: 5\n          on_invalid: warn/; s/runs4/runs4b/' old.yaml > old5.yaml
run_bc run -c old5.yaml --plugin-path "$FIXTURE_PLUGINS/abi10"
expect_rc 0 "ABI 1.0 validator with problems (on_invalid: warn)"
[ "$(json runs4b/1/metadata.json "[j['stages'][0]['outputs'][0]['files'][0]['validation'][k] for k in ('valid', 'error_count')]")" = "[False, 5]" ] ||
  fail "ABI 1.0 capped report: $(json runs4b/1/metadata.json "j['stages'][0]['outputs'][0]['files'][0]['validation']")"
[ "$(json runs4b/1/metadata.json "len(j['stages'][0]['outputs'][0]['files'][0]['validation']['errors'])")" = 1 ] ||
  fail "ABI 1.0 capped report: the count line was recorded as a problem"
pass "an ABI 1.0 validator's 'N more errors not shown' line is still counted"

# Edges: a header-only file (no values at all) and a column of nan/inf.
printf 'ts,v,st\n' > empty.csv
printf 'ts,v,st\n1700000000,1,ok\n1700000001,nan,ok\n1700000002,nan,bad\n1700000003,inf,ok\n' > nan.csv
write_config edges.yaml <<EOF2
benchmark: {name: edges, output_dir: ./runs5}
stages:
  - name: s
    command: "true"
    outputs:
      - name: \$F
        remote_path: $T/\$F.csv
        data_schema:
          columns:
            - {name: ts, type: timestamp, format: unix}
            - {name: v, type: float}
            - {name: st, type: string, success_values: [ok]}
EOF2
run_bc run -c edges.yaml -e F=empty
expect_rc 0 "header-only output"
run_bc run -c edges.yaml -e F=nan
expect_rc 0 "nan output"
R5=runs5/1/results.json
check_schema "$SCHEMA" "$R5"
O="j['cases'][0]['outputs'][0]"
[ "$(json "$R5" "($O['rows'], $O['columns']['v']['count'], $O['columns']['v']['median'], $O['columns']['v']['samples'] is not None)")" = "(0, 0, None, True)" ] ||
  fail "header-only: $(json "$R5" "$O")"
[ "$(json "$R5" "($O['rates'][0]['rows'], $O['rates'][0]['rows_per_s'], $O['success'][0]['count'], $O['success'][0]['rate'])")" = "(0, None, 0, None)" ] ||
  fail "header-only rates: $(json "$R5" "$O")"
R6=runs5/2/results.json
[ "$(json "$R6" "($O['rows'], $O['columns']['v']['count'], $O['columns']['v']['non_finite'], $O['columns']['v']['stddev'], $O['success'][0]['rate'])")" = "(4, 1, 3, None, 0.75)" ] ||
  fail "nan column: $(json "$R6" "$O")"
run_bc compare 1 2 -o runs5
expect_rc 0 "compare with an empty side"
expect_in "$OUT" "inconclusive"
expect_not_in "$OUT$ERR" "could not write"
expect_not_in "$OUT" "different machines"
# The same runs, as if the candidate had run on another machine.
/usr/bin/python3 - runs5/2/results.json <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
j["machine"]["cpu_model"] = "Other CPU 9000"
j["machine"]["cores"] = 64
json.dump(j, open(sys.argv[1], "w"))
PY
run_bc compare 1 2 -o runs5
expect_rc 0 "compare across machines"
expect_in "$OUT" "1 and 2 ran on different machines (cpu_model"
expect_in "$OUT" "vs \"Other CPU 9000\"; cores"
pass "a header-only output: 0 rows, an empty samples file, null rates; nan/inf rows counted; compare notes a machine change"

# A wide output (300 numeric columns) under a descriptor limit of 64:
# sample files are not held open while the validator reads the data.
/usr/bin/python3 - <<'PY'
cols = ["c%d" % i for i in range(300)]
with open("wide.csv", "w") as f:
    f.write(",".join(cols) + "\n")
    for r in range(5):
        f.write(",".join(str(r * 1000 + i) for i in range(300)) + "\n")
with open("wide.yaml", "w") as f:
    f.write("benchmark: {name: wide, output_dir: ./runs6}\nstages:\n  - name: s\n"
            "    command: \"true\"\n    outputs:\n      - name: w\n"
            "        remote_path: wide.csv\n        data_schema:\n          columns:\n")
    for c in cols:
        f.write("            - {name: %s, type: integer}\n" % c)
PY
bash -c 'ulimit -n 64; exec "$@"' _ "$BENCHCTL" run -c wide.yaml >wide.out 2>&1 || fail "wide output under ulimit -n 64: $(tail -5 wide.out)"
[ "$(json runs6/1/results.json "j['cases'][0]['outputs'][0]['columns']['c299']['median']")" = 2299 ] || fail "wide median"
pass "300 numeric columns under a 64-descriptor limit"

# Ctrl-C while a large output is being read: the statistics cover what was
# read and say so.  The stage leaves a watcher behind that sends benchctl
# SIGINT 0.1 s after the copy in the run directory is complete; reading
# 30 M rows takes over half a second even on a fast machine.
{ echo v; seq 1 30000000; } > big.csv
SIZE=$(stat -c %s big.csv)
write_config part.yaml <<EOF2
benchmark: {name: part, output_dir: ./runs7}
stages:
  - name: s
    command: |
      ( for i in \$(seq 3000); do
          [ "\$(stat -c %s "\$BENCHCTL_RUN_DIR/big.csv" 2>/dev/null)" = $SIZE ] && break
          sleep 0.01
        done
        sleep 0.1; kill -INT \$PPID ) > /dev/null 2>&1 &
    outputs:
      - name: big
        remote_path: $T/big.csv
        data_schema:
          columns:
            - {name: v, type: integer}
EOF2
run_bc run -c part.yaml
expect_rc 130 "interrupted while reading"
expect_in "$ERR" "reading big.csv was interrupted: its statistics cover the rows read so far"
R7=runs7/1/results.json
check_schema "$SCHEMA" "$R7"
[ "$(json "$R7" "($O['partial'], $O['valid'], 0 < $O['rows'] < 30000000, $O['columns']['v']['count'] == $O['rows'])")" = "(True, None, True, True)" ] ||
  fail "partial output: $(json "$R7" "{k: $O[k] for k in ('rows', 'valid')}")"
run_bc stats 1 -o runs7
expect_in "$OUT" "PARTIAL: reading it was interrupted"
expect_not_in "$OUT" "INVALID"
run_bc compare 1 1 -o runs7
expect_in "$OUT" "run 1: output 'big' was read only in part (the run was interrupted while reading it)"
rm -f big.csv runs7/1/big.csv runs7/1/samples/big/*.f64
pass "Ctrl-C while reading an output: partial statistics, marked partial (not invalid); compare says so"

# A report written to a full disk fails (exit 1, a message), not silently.
set +e
"$BENCHCTL" stats 1 -o runs >/dev/full 2>full.err </dev/null
rc=$?
set -e
[ "$rc" = 1 ] || fail "stats > /dev/full: exit $rc"
expect_in "$(cat full.err)" "benchctl stats: writing the output failed: No space left on device"
pass "stats to a full disk: exit 1 with a message"
