#!/usr/bin/env bash
# scripts/demo.sh builds only DEMO_TARGETS: those plugins must be all the
# quickstart needs.  A copy of the binary outside the build tree (so it does
# not search the build tree's plugin directory) with only those plugins on
# --plugin-path validates the quickstart; without one of them it does not.
source "$(dirname "$0")/lib.sh"

: "${BUILD_DIR:?BUILD_DIR must point to the build tree}"
targets=$(sed -n 's/^DEMO_TARGETS="\(.*\)"$/\1/p' "$SRC_DIR/scripts/demo.sh")
[ -n "$targets" ] || fail "no DEMO_TARGETS line in scripts/demo.sh"
mkdir -p "$T/copy" "$T/plugins"
cp "$BENCHCTL" "$T/copy/benchctl"
n=0
for t in $targets; do
  [ "$t" = benchctl ] && continue
  [ -f "$BUILD_DIR/plugins/$t.so" ] || fail "DEMO_TARGETS names $t, which the build has no plugin for"
  ln -s "$BUILD_DIR/plugins/$t.so" "$T/plugins/$t.so"
  n=$((n + 1))
done
cp "$SRC_DIR/examples/quickstart/benchmark.yaml" "$T/qs.yaml"
BENCHCTL="$T/copy/benchctl"
unset BENCHCTL_PLUGIN_PATH
run_bc plugins --json --plugin-path "$T/plugins"
expect_rc 0 "plugins"
[ "$(jsons 'len(j["plugins"])' <<<"$OUT")" = $n ] || fail "the copy sees other plugins than the demo's: $OUT"
run_bc validate -c "$T/qs.yaml" --plugin-path "$T/plugins"
expect_rc 0 "validate the quickstart with the demo's plugins only"
rm "$T/plugins/plot-gnuplot.so"
run_bc validate -c "$T/qs.yaml" --plugin-path "$T/plugins"
expect_rc 2 "validate without plot-gnuplot"
pass "the demo's $n plugins are what the quickstart needs"
