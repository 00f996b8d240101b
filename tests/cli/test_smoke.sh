#!/usr/bin/env bash
# The quickstart runs end to end and leaves a complete run directory.
source "$(dirname "$0")/lib.sh"

cp "$SRC_DIR/examples/quickstart/benchmark.yaml" .
run_bc validate -c benchmark.yaml
expect_rc 0 validate
run_bc run -c benchmark.yaml -m who=test
expect_rc 0 run
first=$(head -n1 <<<"$OUT")
[ "$first" = "Run ID: 1" ] || fail "first line is '$first'"
last=$(tail -n1 <<<"$OUT")
[ "$last" = "Results saved to: $T/results/1" ] || fail "last line is '$last'"
m=results/1/metadata.json
[ "$(json $m 'j["status"]')" = success ] || fail "status not success"
[ "$(json $m 'j["custom"]["who"]')" = test ] || fail "custom metadata missing"
[ "$(json $m 'len(j["stages"])')" = 8 ] || fail "expected 8 stage records (3 stages + 1 cleanup, 2 cases)"
[ "$(json $m 'sorted(p["name"] for p in j["plugins"])')" = "['command', 'local']" ] || fail "plugins used"
[ -f results/1/config.yaml ] || fail "config copy missing"
pass "quickstart runs and is stored"
