#!/usr/bin/env bash
# Set everything up on a fresh Debian 12 machine, build benchctl and run the
# quickstart benchmark; then show what was stored.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
bin=build/core/benchctl
cfg=examples/quickstart/benchmark.yaml
"$bin" validate -c "$cfg"
"$bin" run -c "$cfg" -m purpose=demo
echo
"$bin" list -c "$cfg"
id=$("$bin" list -c "$cfg" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["run_id"])')
echo
"$bin" inspect "$id" -c "$cfg"
echo
"$bin" stats "$id" -c "$cfg"                 # results.json as tables
echo
"$bin" compare "$id" --cases -c "$cfg"       # case `best` tested against case `fast`
