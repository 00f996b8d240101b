#!/usr/bin/env bash
# -e values are recorded as the run's parameters (secret-looking names
# redacted), shown by inspect, and compare notes every difference in how the
# runs were set up: parameters, benchmark name, stage commands.
source "$(dirname "$0")/lib.sh"

write_config b.yaml <<'YAML'
benchmark: {name: params, output_dir: ./runs}
stages:
  - name: work
    command: |
      printf 'ms\n' > o.csv
      for i in 1 2 3 4 5 6; do echo "$((THREADS * 10 + i))" >> o.csv; done
    outputs:
      - name: lat
        remote_path: o.csv
        data_schema:
          columns: [{name: ms, type: float, unit: ms, better: lower}]
YAML
run_bc run -c b.yaml -e THREADS=4 -e API_TOKEN=s3cr3t -e db_password=hunter2
expect_rc 0 "run 1"
run_bc run -c b.yaml -e THREADS=8 -e API_TOKEN=s3cr3t -e db_password=hunter2
expect_rc 0 "run 2"
[ "$(json runs/1/metadata.json 'j["parameters"]["THREADS"]')" = 4 ] || fail "THREADS value in metadata"
[ "$(json runs/2/metadata.json 'j["parameters"]["THREADS"]')" = 8 ] || fail "THREADS value in run 2"
[ "$(json runs/1/metadata.json 'j["parameters"]["API_TOKEN"]')" = "<redacted>" ] || fail "token redacted"
[ "$(json runs/1/metadata.json 'j["parameters"]["db_password"]')" = "<redacted>" ] || fail "password redacted"
[ "$(json runs/1/metadata.json 'sorted(j["environment"])')" = "['API_TOKEN', 'THREADS', 'db_password']" ] \
  || fail "environment keeps the names (the Go tool's form)"
if grep -r -l -e s3cr3t -e hunter2 runs/1 runs/2; then fail "a secret value reached the run directory"; fi
[ "$(json runs/1/results.json 'j["run"]["parameters"]["THREADS"]')" = 4 ] || fail "parameters in results.json"
check_schema "$SRC_DIR/docs/schema/results.schema.json" runs/1/results.json
pass "-e values recorded as parameters, secret-looking names redacted"

run_bc inspect 1 -c b.yaml
expect_rc 0 inspect
expect_in "$OUT" "THREADS = 4"
expect_in "$OUT" "API_TOKEN = <redacted>"
pass "inspect shows the parameters"

run_bc compare 1 2 -c b.yaml
expect_rc 0 "compare 1 2"
expect_in "$OUT" "runs 1 and 2 were set up differently (parameter THREADS 4 vs 8)"
expect_not_in "$OUT" "API_TOKEN" "compare of runs with equal tokens"

# Another command and another benchmark name, no -e at all.
sed -i 's/THREADS \* 10/11/; s/name: params/name: params-v2/' b.yaml
run_bc run -c b.yaml
expect_rc 0 "run 3"
run_bc compare 1 3 -c b.yaml --json
expect_rc 0 "compare 1 3 --json"
note=$(echo "$OUT" | jsons '[n for n in j["notes"] if "set up differently" in n][0]')
expect_in "$note" "benchmark 'params' vs 'params-v2'"
expect_in "$note" "parameter THREADS=4 only in run 1"
expect_in "$note" "stage 'work' ran a different command"
run_bc compare 2 2 -c b.yaml
expect_not_in "$OUT" "set up differently" "a run compared with itself"
pass "compare notes different parameters, benchmark names and stage commands"
