#!/usr/bin/env bash
# append_metadata: the first JSON object on a stage's stdout (not stderr)
# goes into custom, values as their JSON text, over -m keys; and a JSON
# object written to $BENCHCTL_METADATA_FILE is merged too.
source "$(dirname "$0")/lib.sh"

write_config m.yaml <<'YAML'
benchmark: {name: meta, output_dir: ./runs}
stages:
  - name: analyse
    append_metadata: true
    command: |
      echo '{"decoy_on_stderr": 1}' >&2
      echo "some noise {not json"
      echo '{"p99_ms": 1.50, "ok": true, "label": "fast", "nested": {"a": [1, 2]}, "big": 1e3, "neg": -0.0}'
      echo '{"second": "ignored"}'
  - name: writes-file
    command: |
      printf '{"from_file": "yes", "p99_ms": 2.25}' > "$BENCHCTL_METADATA_FILE"
  - name: plain
    command: |
      echo '{"not_merged": 1}'
YAML
run_bc run -c m.yaml -m p99_ms=old -m owner=me
expect_rc 0 run
c=$(json runs/1/metadata.json 'sorted(j["custom"].items())')
[ "$c" = "[('big', '1e3'), ('from_file', 'yes'), ('label', 'fast'), ('neg', '-0.0'), ('nested', '{\"a\": [1, 2]}'), ('ok', 'true'), ('owner', 'me'), ('p99_ms', '2.25')]" ] || fail "custom is $c"
expect_in "$OUT" '"p99_ms": 1.50' "the JSON still streams to the terminal"
pass "stdout JSON and the metadata file are merged as JSON text"

# Raw number text is preserved: 1.50 stays 1.50 (the file stage overrode it
# above, so check the stdout one alone).
sed -i 's/"p99_ms": 2.25//; s/, }/}/' m.yaml
run_bc run -c m.yaml
[ "$(json runs/2/metadata.json 'j["custom"]["p99_ms"]')" = 1.50 ] || fail "1.50 must stay 1.50"

# Invalid JSON is a warning that shows what was received; the run succeeds.
write_config bad.yaml <<'YAML'
benchmark: {name: meta, output_dir: ./runs}
stages:
  - name: analyse
    append_metadata: true
    command: |
      echo 'result = 42 {broken'
YAML
run_bc run -c bad.yaml
expect_rc 0 "invalid JSON is only a warning"
expect_in "$ERR" "stage 'analyse': append_metadata: no JSON object found; received 20 bytes: \"result = 42 {broken\\n\""
[ "$(json runs/3/metadata.json 'j["custom"]')" = "{}" ] || fail "nothing merged"

# A failing stage merges nothing.
write_config fail.yaml <<'YAML'
benchmark: {name: meta, output_dir: ./runs}
stages:
  - name: analyse
    append_metadata: true
    command: |
      echo '{"x": 1}'; exit 1
YAML
run_bc run -c fail.yaml
expect_rc 1 "failing stage"
[ "$(json runs/4/metadata.json 'j["custom"]')" = "{}" ] || fail "a failed stage's JSON must not be merged"
pass "invalid JSON warns, failed stages merge nothing"

# With a terminal, append_metadata stages still separate stdout from stderr.
write_config tty.yaml <<'YAML'
benchmark: {name: meta, output_dir: ./runs}
stages:
  - name: analyse
    append_metadata: true
    command: |
      echo '{"err": 1}' >&2; echo '{"out": 2}'
YAML
script -qec "$BENCHCTL run -c tty.yaml" /dev/null >/dev/null
[ "$(json runs/5/metadata.json 'j["custom"]')" = "{'out': '2'}" ] || fail "tty: stderr JSON was taken"
pass "stdout only, even on a terminal"
