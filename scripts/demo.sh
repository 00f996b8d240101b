#!/usr/bin/env bash
# Set everything up on a fresh Debian 12 machine, build what the quickstart
# benchmark needs (the benchctl binary and the plugins it uses, nothing
# else: no tests, no SSH, no SDK), run it, and show what was stored; then
# say where the binary is and how to put it on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build}"
# The quickstart's plugins (tests/cli/test_demo_targets.sh checks the list is enough).
DEMO_TARGETS="benchctl host-local probe-command collector-files validator-csv plot-gnuplot"
scripts/deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" >/dev/null
# shellcheck disable=SC2086
cmake --build "$build" -j"$(nproc)" --target $DEMO_TARGETS
bin="$build/core/benchctl"
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
abs=$(cd "$(dirname "$bin")" && pwd -P)
cat <<MSG

The benchctl binary is $abs/benchctl (it finds its plugins in $(cd "$build" && pwd -P)/plugins).
To use it from anywhere in this shell:
    export PATH="$abs:\$PATH"
or install it: scripts/package.sh builds Debian packages; cmake --install $build installs into
the configured prefix.
MSG
