#!/usr/bin/env bash
# docs/schema/config.schema.json (JSON Schema draft 2020-12, for editors):
# a valid schema; every config under examples/, the starter `benchctl init`
# writes and the Go tool's configs (/work/shared/compat-examples, or
# $COMPAT_EXAMPLES) validate against it whenever benchctl accepts them;
# the Go parser's invalid fixtures and typical mistakes are rejected.
source "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
[ -x $PY ] || PY=python3
$PY -c 'import jsonschema, yaml' 2>/dev/null ||
  fail "this test needs python3-jsonschema and python3-yaml (scripts/deps.sh installs them)"
SCHEMA="$SRC_DIR/docs/schema/config.schema.json"
COMPAT=${COMPAT_EXAMPLES:-$SRC_DIR/../shared/compat-examples}
[ -d "$COMPAT" ] || COMPAT=/work/shared/compat-examples

# check FILE...: "ok FILE" or "bad FILE: path: message" per file.
check() {
  $PY - "$SCHEMA" "$@" <<'PYEOF'
import json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
for f in sys.argv[2:]:
    errs = sorted(v.iter_errors(yaml.safe_load(open(f))), key=lambda e: list(e.path))
    if errs:
        e = errs[0]
        print("bad %s: %s: %s" % (f, "/".join(map(str, e.path)), e.message[:160]))
    else:
        print("ok %s" % f)
PYEOF
}

# ---- every example, and the starter ---------------------------------------------
mapfile -t examples < <(find "$SRC_DIR/examples" -name '*.yaml' -not -path '*/results/*' | sort)
[ ${#examples[@]} -ge 4 ] || fail "only ${#examples[@]} example configs found"
run_bc init --name schema-test --file "$T/starter.yaml"
expect_rc 0 "init"
check "${examples[@]}" "$T/starter.yaml" >"$T/ex.out"
! grep -q '^bad ' "$T/ex.out" || fail "examples do not validate against the schema: $(grep '^bad ' "$T/ex.out")"
pass "the schema is valid 2020-12; ${#examples[@]} examples and the init starter validate"

# ---- the Go tool's configs: accepted by benchctl => valid for the schema ------------
[ -d "$COMPAT" ] || fail "no Go configs at $COMPAT"
mapfile -t goconfs < <(find "$COMPAT" -name '*.yaml' | sort)
[ ${#goconfs[@]} -ge 20 ] || fail "only ${#goconfs[@]} Go configs in $COMPAT"
check "${goconfs[@]}" >"$T/go.out"
accepted=0
for f in "${goconfs[@]}"; do
  run_bc validate -c "$f"
  if [ "$RC" -eq 0 ]; then
    accepted=$((accepted + 1))
    grep -qx "ok $f" "$T/go.out" || fail "benchctl accepts $f, the schema does not: $(grep -F "$f" "$T/go.out")"
  fi
done
[ $accepted -ge 15 ] || fail "benchctl accepted only $accepted of the Go configs"
for f in "$COMPAT"/go-*/internal/config/testdata/{2,3}.yaml; do
  grep -q "^bad $f: " "$T/go.out" || fail "the schema accepts the Go parser's invalid fixture $f"
done
n_ok=$(grep -c '^ok ' "$T/go.out")
pass "Go configs: all $accepted benchctl accepts validate ($n_ok of ${#goconfs[@]} in all); the invalid fixtures do not"

# ---- mistakes the schema catches ----------------------------------------------------
base='benchmark: {name: b, output_dir: ./r}
stages:'
mk() { printf '%s\n%s\n' "$base" "$2" >"$T/$1.yaml"; }
mk typo '  - {name: s, command: "true", timout: 5s}'
mk both '  - {name: s, command: "true", script: x.sh}'
mk neither '  - {name: s}'
mk enum '  - name: s
    command: "true"
    outputs: [{name: o, remote_path: o.csv, data_schema: {columns: [{name: c, type: number}]}}]'
mk dur '  - {name: s, command: "true", timeout: 5 seconds}'
mk repeat '  - {name: s, command: "true", repeat: 0}'
mk plot '  - {name: s, command: "true"}
plots: [{name: p, source: o, format: jpg}]'
mk top '  - {name: s, command: "true"}
stage: []'
mk good '  - {name: s, command: "true", timeout: 1m30s, repeat: 5, warmup: 1,
     health_check: {type: http, target: "http://localhost:1/", status: 200, timeout: 500ms}}
matrix: {n: [1, 2]}
plots: [{name: p, source: o, xlim: [0, null], options: {dpi: 120}}]'
cat >"$T/fanout.yaml" <<'YEOF'
benchmark: {name: b, output_dir: ./r, report: false, concurrency_param: users}
hosts: {a: {}, b: {}}
matrix: {users: [1, 2]}
publish: {to: conbench, on: always, url: "http://localhost:1"}
stages:
  - name: load
    nodes: {hosts: [a, b], per_host: 2}
    min_nodes: 3
    prepare: "true"
    command: "true"
    outputs:
      - name: o
        remote_path: o.csv
        data_schema:
          columns: [{name: lat, type: float, thresholds: ["p95 < 200", "mean <= 5"]}]
  - {name: n2, command: "true", nodes: 4}
YEOF
run_bc validate -c "$T/fanout.yaml"
expect_rc 0 "validate fanout.yaml"
sed 's/"p95 < 200"/"p95 about 200"/' "$T/fanout.yaml" >"$T/threshold.yaml"
# Host monitoring and the fault limits (keys of branches merged apart from the schema's).
cat >"$T/limits.yaml" <<'YEOF'
benchmark:
  name: b
  output_dir: ./r
  logging: {max_stage_log: 100K}
  monitor: {interval: 500ms, hosts: all, metrics: [cpu, memory], plot: svg, via: stream}
stages:
  - name: s
    command: "true"
    monitor: {hosts: [local], metrics: [cpu]}
    outputs: [{name: o, remote_path: o.bin, max_size: 1GiB}]
  - {name: t, command: "true", monitor: false}
YEOF
run_bc validate -c "$T/limits.yaml"
expect_rc 0 "validate limits.yaml"
sed 's/max_size: 1GiB/max_size: 1 gigabyte/' "$T/limits.yaml" >"$T/size.yaml"
check "$T"/{typo,both,neither,enum,dur,repeat,plot,top,threshold,size,good,fanout,limits}.yaml >"$T/m.out"
grep -qx "ok $T/fanout.yaml" "$T/m.out" || fail "the schema rejects fan-out, thresholds, publish: $(grep fanout "$T/m.out")"
grep -qx "ok $T/limits.yaml" "$T/m.out" || fail "the schema rejects monitor, max_stage_log, max_size: $(grep limits "$T/m.out")"
for m in typo both neither enum dur repeat plot top threshold size; do
  grep -q "^bad $T/$m.yaml" "$T/m.out" || fail "the schema accepts the mistake in $m.yaml: $(cat "$T/$m.yaml")"
done
grep -qx "ok $T/good.yaml" "$T/m.out" || fail "the schema rejects a good config: $(grep good "$T/m.out")"
pass "the schema rejects misspelt keys, command+script, neither, bad enums, durations, repeat 0, unknown top keys"
