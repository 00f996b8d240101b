#!/usr/bin/env bash
# ABI 1.4 adds the publisher kind (6).  A plugin built for ABI 1.3
# (tests/fixtures/plugins/abi13.c, BC_TARGET_MINOR 3) still loads and works
# in this core; a publisher stamped 1.3 (pub13.c) is refused with one
# sentence naming the kind and both versions; the shipped conbench
# publisher is listed as kind publisher, ABI 1.4.
source "$(dirname "$0")/lib.sh"
: "${FIXTURE_PLUGINS:?}"
FP="$FIXTURE_PLUGINS"

run_bc plugins --json --plugin-path "$FP/abi13"
expect_rc 0 "plugins with the 1.3 probe"
[ "$(jsons '[(p["kind"], p["abi"]) for p in j["plugins"] if p["name"] == "abi13"]' <<<"$OUT")" = \
  "[('probe', '1.3')]" ] || fail "abi13 is listed as an ABI 1.3 probe: $OUT"
[ "$(jsons 'len(j["refused"])' <<<"$OUT")" = 0 ] || fail "nothing refused: $OUT"
[ "$(jsons '[(p["kind"], p["abi"]) for p in j["plugins"] if p["name"] == "conbench"]' <<<"$OUT")" = \
  "[('publisher', '1.7')]" ] || fail "conbench is a publisher built for the current ABI (1.7): $OUT"
pass "a 1.3 plugin loads next to 1.4 ones; conbench is listed as a publisher"

write_config old.yaml <<'YAML'
benchmark:
  name: abi13
  output_dir: ./runs
stages:
  - name: make
    command: (sleep 0.2; touch ready.flag) &
    health_check:
      type: abi13
      target: ready.flag
      timeout: 20s
  - name: after
    command: test -e ready.flag
YAML
run_bc run -c old.yaml --plugin-path "$FP/abi13"
expect_rc 0 "a run whose health check is the 1.3 probe"
[ "$(json runs/1/metadata.json '[p["abi"] for p in j["plugins"] if p["name"] == "abi13"]')" = "['1.3']" ] ||
  fail "metadata.json records the 1.3 plugin"
pass "the 1.3 probe works in a 1.4 run"

run_bc plugins --json --plugin-path "$FP/pub13"
want="$FP/pub13/publisher-pub13.so: declares a publisher plugin, a kind that ABI 1.3 does not have (it exists since ABI 1.4); rebuild the plugin against SDK 1.7"
[ "$(jsons '[r["reason"] for r in j["refused"]]' <<<"$OUT")" = "['$want']" ] ||
  fail "a 1.3 publisher is refused: $OUT"
run_bc publish 1 -o runs --to pub13 --plugin-path "$FP/pub13"
expect_rc 2 "publish through the refused plugin"
expect_in "$ERR" "$want"
pass "a publisher stamped 1.3 is refused with the kind and both versions"

# The publish: section is checked against the core's keys and the
# publisher's schema, with positions.
write_config bad.yaml <<'YAML'
benchmark: {name: x, output_dir: ./r}
publish:
  to: conbench
  on: sometimes
  urll: http://x
stages: [{name: a, command: "true"}]
YAML
run_bc validate -c bad.yaml
expect_rc 2 "invalid publish: section"
expect_in "$ERR" "bad.yaml:4:7: publish: 'on' must be one of success, always, never, not 'sometimes'"
expect_in "$ERR" "bad.yaml:5:3: unknown key 'urll' in publish (publisher 'conbench'); valid keys: to, on, url,"
sed -i 's/to: conbench/to: nosuch/; /on: sometimes/d; /urll/d' bad.yaml
run_bc validate -c bad.yaml
expect_rc 2 "unknown publisher"
expect_in "$ERR" "bad.yaml:3:7: publish.to 'nosuch': no publisher plugin named 'nosuch' is installed"
pass "publish: keys are validated with FILE:LINE:COL"
