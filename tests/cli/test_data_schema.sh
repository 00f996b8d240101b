#!/usr/bin/env bash
# data_schema end to end: collected files are validated by the validator
# plugins; problems (file, line, column, value) and per-column summaries land
# in metadata.json; on_invalid decides whether the stage fails; the file is
# kept either way.
source "$(dirname "$0")/lib.sh"

write_config d.yaml <<'YAML'
benchmark: {name: schema, output_dir: ./runs}
stages:
  - name: good
    command: |
      printf 'ts,latency_ms,status\n1700000000000,1.5,ok\n1700000000100,2.5,ok\n1700000000200,4.0,err\n' > good.csv
    outputs:
      - name: good
        remote_path: good.csv
        data_schema:
          format: csv
          columns:
            - {name: ts, type: timestamp, format: unix_ms, unit: ms}
            - {name: latency_ms, type: float, unit: ms}
            - {name: status, type: string}
  - name: lines
    command: |
      printf '{"n": 1, "t": "2024-05-01T12:00:00Z"}\n{"n": 2, "t": "2024-05-01T12:00:01Z"}\n' > rows.jsonl
    outputs:
      - name: rows
        remote_path: rows.jsonl
        data_schema:
          format: jsonl
          columns:
            - {name: n, type: integer}
            - {name: t, type: timestamp, format: rfc3339}
YAML
run_bc run -c d.yaml
expect_rc 0 "valid data"
m=runs/1/metadata.json
[ "$(json $m '[o["files"][0]["validation"]["valid"] for s in j["stages"] for o in s.get("outputs", [])]')" = "[True, True]" ] || fail "validation recorded"
sm='[o["files"][0]["validation"]["summary"] for s in j["stages"] for o in s.get("outputs", [])][0]'
[ "$(json $m "(lambda x: (x['count'], x['min'], x['max'], round(x['mean'], 6)))($sm['latency_ms'])")" = "(3, 1.5, 4, 2.666667)" ] || fail "summary: $(json $m "$sm")"
[ "$(json $m "$sm['status']")" = "{'count': 3}" ] || fail "string summary has only a count"
[ "$(json $m "$sm['ts']['min']")" = 1700000000 ] || fail "timestamps summarised in seconds"
pass "valid CSV and JSON Lines pass, with summaries"

write_config bad.yaml <<'YAML'
benchmark: {name: schema, output_dir: ./runs2}
stages:
  - name: bad
    command: |
      printf 'ts,latency_ms\n1700000000000,1.5\n1700000000100,fast\n17000000002x0,2.0\n' > bad.csv
    outputs:
      - name: bad
        remote_path: bad.csv
        data_schema:
          columns:
            - {name: ts, type: timestamp, format: unix_ms}
            - {name: latency_ms, type: float}
  - name: after
    command: touch after-ran
YAML
run_bc run -c bad.yaml
expect_rc 1 "invalid data fails the stage"
expect_in "$ERR" "bad.csv:3:2: "
expect_in "$ERR" "(value 'fast')"
expect_in "$ERR" "bad.csv:4:1: "
m=runs2/1/metadata.json
v=$(json $m '[o["files"][0]["validation"] for s in j["stages"] for o in s.get("outputs", [])][0]')
expect_in "$v" "'valid': False"
expect_in "$v" "'error_count': 2"
expect_in "$v" "'line': 3, 'column': 2, 'value': 'fast'"
expect_in "$(json $m 'j["error"]')" "stage 'bad': bad.csv does not match its data_schema: 2 problems, the first at line 3, column 2"
[ -f runs2/1/bad.csv ] || fail "the invalid file must be kept"
[ ! -e after-ran ] || fail "the run went on after invalid data"

sed -i 's/        data_schema:/        data_schema:\n          on_invalid: warn/' bad.yaml
run_bc run -c bad.yaml
expect_rc 0 "on_invalid: warn"
expect_in "$ERR" "on_invalid: warn, the file is kept"
[ -e after-ran ] || fail "on_invalid: warn should go on"
pass "invalid data: positions, values, on_invalid fail/warn, file kept"

# Many problems: the count is exact even when the validator stops listing.
write_config many.yaml <<'YAML'
benchmark: {name: schema, output_dir: ./runs3}
stages:
  - name: many
    command: |
      { echo n; for i in $(seq 1 250); do echo "x$i"; done; } > many.csv
    outputs:
      - name: many
        remote_path: many.csv
        data_schema:
          on_invalid: warn
          columns: [{name: n, type: integer}]
YAML
run_bc run -c many.yaml
expect_rc 0 "many problems, warn"
[ "$(json runs3/1/metadata.json '[o["files"][0]["validation"]["error_count"] for s in j["stages"] for o in s.get("outputs", [])][0]')" = 250 ] || fail "error_count must be exact"
[ "$(json runs3/1/metadata.json '[len(o["files"][0]["validation"]["errors"]) for s in j["stages"] for o in s.get("outputs", [])][0]')" = 20 ] || fail "20 problems kept in metadata"
expect_in "$ERR" "240 more problems not shown"
pass "exact problem counts with capped listings"
