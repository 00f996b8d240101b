#!/usr/bin/env bash
# monitor/<host>.csv goes through the csv validator like a collected
# output: its validation report (rows, per-column summary, verdict) is in
# metadata.json and results.json under monitor.hosts.<alias>.validation;
# a row a stage appends to the file is reported as FILE:LINE:COL, fails
# the run like an invalid output, and every sample is kept.  Also the csv
# validator's `empty: missing` option that monitor files use.
source "$(dirname "$0")/lib.sh"

# --- a clean monitored run: validated, valid
write_config ok.yaml <<'YAML'
benchmark:
  name: monvalid
  output_dir: ./runs
  monitor: {interval: 100ms, metrics: [cpu, memory]}
stages:
  - name: work
    command: sleep 0.6
YAML
run_bc run -c ok.yaml
expect_rc 0 "monitored run"
python3 - runs/1/metadata.json runs/1/results.json runs/1/monitor/local.csv <<'PY' || fail "validation of a clean monitor file: $ERR"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[3])))
for doc in sys.argv[1:3]:
    h = json.load(open(doc))["monitor"]["hosts"]["local"]
    v = h["validation"]
    assert v["format"] == "csv" and v["valid"] is True and v["error_count"] == 0, v
    assert v["errors"] == [] and v["rows"] == len(rows) == h["samples"] >= 2, (v["rows"], len(rows), h)
    s = v["summary"]
    assert list(s) == list(rows[0].keys()), list(s)  # every declared column, in order
    assert s["timestamp"]["count"] == len(rows), s["timestamp"]
    # measured every sample: memory; a rate from the second sample on: cpu
    assert s["mem_used_bytes"]["count"] == len(rows), s["mem_used_bytes"]
    assert 1 <= s["cpu_user_pct"]["count"] <= len(rows), s["cpu_user_pct"]
    # not asked for: empty fields, valid and left out
    assert s["net_rx_bps"] == {"count": 0} and s["load1"] == {"count": 0}, s
PY
check_schema "$SRC_DIR/docs/schema/results.schema.json" runs/1/results.json
pass "a monitored run's monitor/local.csv is validated (rows, columns, valid) in metadata and results"

# --- a row written into the file by a stage: a validation failure
write_config bad.yaml <<'YAML'
benchmark:
  name: monvalid
  output_dir: ./runs-bad
  monitor: {interval: 100ms, metrics: [cpu, memory]}
stages:
  - name: vandal
    command: |
      sleep 0.4
      printf 'oops,1.5\n' >> "$BENCHCTL_RUN_DIR/monitor/local.csv"
      sleep 0.4
YAML
run_bc run -c bad.yaml
expect_rc 1 "a run whose monitor file got a foreign row"
csv=runs-bad/1/monitor/local.csv
line=$(grep -n '^oops,1.5$' "$csv" | cut -d: -f1)
[ -n "$line" ] && [ "$line" -ge 2 ] || fail "the appended row is not in $csv"
expect_in "$ERR" "monitor/local.csv:$line:1: not a unix timestamp" "the problem as FILE:LINE:COL"
expect_in "$ERR" "monitor/local.csv:$line:3: row has 2 fields, expected 17" "the short row"
expect_in "$ERR" "host 'local': monitoring: monitor/local.csv does not match its data_schema" \
  "the file's verdict"
python3 - runs-bad/1/metadata.json runs-bad/1/results.json "$line" "$csv" <<'PY' || fail "the invalid monitor file's record"
import json, sys
line = int(sys.argv[3])
good = sum(1 for l in open(sys.argv[4])) - 2  # header and the foreign row
for doc in sys.argv[1:3]:
    j = json.load(open(doc))
    st = j["status"] if "status" in j else j["run"]["status"]
    err = j["error"] if "error" in j else j["run"]["error"]
    assert st == "failed", st
    assert err.startswith("host monitoring of 'local': monitor/local.csv does not match its "
                          "data_schema: 2 problems, the first at line %d, column 1" % line), err
    h = j["monitor"]["hosts"]["local"]
    v = h["validation"]
    assert v["valid"] is False and v["error_count"] == 2, v
    assert [(e["line"], e["column"]) for e in v["errors"]] == [(line, 1), (line, 3)], v["errors"]
    assert v["errors"][0]["value"] == "oops", v["errors"][0]
    assert v["error"].startswith("monitor/local.csv does not match its data_schema"), v["error"]
    # nothing measured is lost: every sample is in the file and the summary
    assert h["samples"] == good >= 2 and v["rows"] == good, (h["samples"], v["rows"], good)
PY
check_schema "$SRC_DIR/docs/schema/results.schema.json" runs-bad/1/results.json
pass "a foreign row in monitor/local.csv: FILE:LINE:COL, an invalid file, a failed run, samples kept"

# --- the csv validator's `empty` option on a collected output
printf 'x,y\n1,2.5\n2,\n' >"$T/e.csv"
write_config empty.yaml <<YAML
benchmark: {name: empty, output_dir: ./runs-empty}
stages:
  - name: make
    command: "true"
    outputs:
      - name: data
        remote_path: $T/e.csv
        data_schema:
          empty: \${EMPTY}
          columns: [{name: x, type: integer}, {name: y, type: float}]
YAML
sed 's/\${EMPTY}/missing/' empty.yaml >missing.yaml
sed 's/\${EMPTY}/error/' empty.yaml >error.yaml
run_bc run -c missing.yaml
expect_rc 0 "empty: missing"
[ "$(json runs-empty/1/metadata.json 'j["stages"][0]["outputs"][0]["files"][0]["validation"]["summary"]["y"]["count"]')" = 1 ] ||
  fail "empty: missing: the empty float is not left out of the summary"
run_bc run -c error.yaml
expect_rc 1 "empty: error"
expect_in "$ERR" ":3:2: empty value, expected float" "empty: error"
pass "csv validator: empty: missing leaves an empty number out, empty: error reports it"
