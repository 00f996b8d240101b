#!/usr/bin/env bash
# The invalid-data corpus (tests/corpus/data): each file collected through
# its validator; the run ends with the expected exit code, the first
# problem at FILE:LINE:COL on stderr, and everything the store wrote is
# valid UTF-8 JSON.  A stage whose output and custom metadata carry
# invalid UTF-8 leaves valid JSON too.
source "$(dirname "$0")/lib.sh"
corpus=$SRC_DIR/tests/corpus/data

# strict_json FILE...: each file is UTF-8 (strict) JSON, or JSON Lines for
# *.jsonl.
strict_json() {
  python3 - "$@" <<'PY'
import json, sys
for p in sys.argv[1:]:
    text = open(p, "rb").read().decode("utf-8")  # strict: raises on invalid bytes
    if p.endswith(".jsonl"):
        for line in text.splitlines():
            if line.strip():
                json.loads(line)
    else:
        json.loads(text)
PY
}

# case FILE EXIT LINE:COL TEXT (COL 0: the line only)
n=0
check() {
  local file=$1 code=$2 pos=$3 text=$4 fmt=${1##*.} dir
  cp "$corpus/$file" "$T/in.$fmt"
  write_config c.yaml <<YAML
benchmark: {name: data, output_dir: ./runs}
stages:
  - name: collect
    command: "true"
    outputs:
      - name: data
        remote_path: $T/in.$fmt
        data_schema:
          format: $fmt
          columns: [{name: name, type: string}, {name: v, type: integer}]
YAML
  rm -rf runs
  run_bc run -c c.yaml
  expect_rc "$code" "$file"
  [ -z "$pos" ] || expect_in "$ERR" "data.$fmt:$pos: " "$file"
  [ -z "$text" ] || expect_in "$ERR" "$text" "$file"
  dir=runs/1
  strict_json $dir/metadata.json $dir/results.json $dir/stages.jsonl || fail "$file: the store wrote invalid JSON"
  n=$((n + 1))
}
check utf8_value.csv 1 3:2 "not an integer"
check utf8_name.csv 0 "" ""
check nul.csv 1 3:1 ""
check utf8_value.jsonl 1 2:2 "expected an integer"
check nul.jsonl 1 2:0 "raw control character (byte 0x00)"
check ctrl.jsonl 1 2:0 "raw control character (byte 0x09)"
check nul.json 1 3:0 "raw control character (byte 0x00)"
check utf8_value.json 1 3:2 "expected an integer"
check trailing_comma.json 1 3:0 "a ',' before the array's ']'"
check overlong.jsonl 1 1:2 "expected an integer"
[ "$(json runs/1/metadata.json 'j.get("invalid_utf8_replaced", 0) > 0')" = True ] ||
  fail "the replacement is said in metadata.json"
pass "$n invalid data files: exit code and FILE:LINE:COL each, the store's JSON is valid UTF-8"

# A stage's own bytes: invalid UTF-8 in append_metadata and in the output of
# a failing stage (its last lines go into the error).
write_config m.yaml <<'YAML'
benchmark: {name: bytes, output_dir: ./mruns}
stages:
  - name: meta
    command: |
      printf '{"note": "\xff\xfe bad"}\n'
    append_metadata: true
  - name: dies
    command: |
      printf 'last words \xc3\x28\n'; exit 3
YAML
run_bc run -c m.yaml
expect_rc 1 "a failing stage"
strict_json mruns/1/metadata.json mruns/1/results.json mruns/1/stages.jsonl || fail "invalid JSON from a stage's bytes"
[ "$(json mruns/1/metadata.json 'j["custom"]["note"]')" = "$(printf '\xef\xbf\xbd\xef\xbf\xbd bad')" ] ||
  fail "custom note: $(json mruns/1/metadata.json 'j["custom"]')"
pass "invalid UTF-8 from a stage (custom metadata, output): replaced, the store's JSON stays valid"
