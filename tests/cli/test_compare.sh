#!/usr/bin/env bash
# compare ID1 ID2: custom metadata in a stable order with numeric changes,
# status, duration and per-stage times.
source "$(dirname "$0")/lib.sh"

write_config c.yaml <<'YAML'
benchmark: {name: cmp, output_dir: ./runs}
stages:
  - name: work
    command: sleep 0.1
  - name: maybe
    command: test "$FAIL" != 1
YAML
run_bc run -c c.yaml -m zeta=10 -m alpha=x -m rate=200
run_bc run -c c.yaml -m zeta=15 -m beta=y -m rate=100 -e FAIL=1
expect_rc 1 "second run fails"
run_bc compare 1 2 -c c.yaml
expect_rc 0 compare
expect_in "$OUT" "run 1"
expect_in "$OUT" "status                         success                      failed"
lines=$(grep -E '^  (alpha|beta|rate|zeta) ' <<<"$OUT" | awk '{print $1}' | tr '\n' ' ')
[ "$lines" = "alpha beta rate zeta " ] || fail "custom keys not sorted: $lines"
expect_in "$(grep '^  zeta' <<<"$OUT")" "+50.0%"
expect_in "$(grep '^  rate' <<<"$OUT")" "-50.0%"
expect_in "$(grep '^  alpha' <<<"$OUT")" "x                            -"
expect_in "$OUT" "work@local"
run_bc compare 1 2 -c c.yaml --json
echo "$OUT" > cmp.json
[ "$(json cmp.json '[e["key"] for e in j["custom"]]')" = "['alpha', 'beta', 'rate', 'zeta']" ] || fail "json keys"
[ "$(json cmp.json '[e.get("change_pct") for e in j["custom"] if e["key"]=="zeta"][0]')" = 50 ] || fail "json change"
[ "$(json cmp.json 'j["status"]')" = "['success', 'failed']" ] || fail "json status"
[ "$(json cmp.json '[e["stage"] for e in j["stages"]]')" = "['work@local', 'maybe@local']" ] || fail "json stages"
run_bc compare 1 9 -c c.yaml
expect_rc 2 "missing run"
expect_in "$ERR" "run 9 not found"
run_bc compare 1 -c c.yaml
expect_rc 2 "one id"
pass "compare shows metadata, status and stage times side by side"
