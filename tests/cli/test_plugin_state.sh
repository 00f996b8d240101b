#!/usr/bin/env bash
# Plugin and instance state (ABI 1.2), with the fixture probe "state"
# (tests/fixtures/plugins/state.c): the plugin's init state reaches every
# operation (check_target at validation, create, check, destroy), and each
# configured health_check section gets one instance, made before its first
# use, seen by every check of that section (on every host) and destroyed
# once after the run; a failed create fails the stage that needs it.  Also:
# the capabilities of each host's transport are recorded in the run.
source "$(dirname "$0")/lib.sh"

: "${FIXTURE_PLUGINS:?FIXTURE_PLUGINS must point to the built fixture plugins}"
unset BENCHCTL_PLUGIN_PATH
ST=(--plugin-path "$FIXTURE_PLUGINS/state")

write_config state.yaml <<'EOF2'
benchmark:
  name: state
  output_dir: ./results
hosts:
  other: {transport: local}
stages:
  - name: one
    command: "true"
    hosts: [local, other]
    health_check:
      type: state
      target: t1
      label: a
  - name: two
    command: "true"
    health_check:
      type: state
      target: t2
      label: b
EOF2

run_bc validate -c state.yaml "${ST[@]}"
expect_rc 0 "validate with the state probe"
expect_in "$ERR" "[probe:state] check_target t1: state ok" "check_target sees the init state"
expect_not_in "$ERR" "create instance" "validate makes no instance"
pass "check_target runs after init and sees its state; validate makes no instance"

run_bc run -c state.yaml "${ST[@]}"
expect_rc 0 "run with the state probe"
# In order: one instance per section, made before its first check, shared
# by the section's two hosts, destroyed after the run (newest first).
steps=$(grep -o '\[probe:state\] \(create\|check t\|destroy\).*' <<<"$ERR")
expected="[probe:state] create instance 1 (label a) in stage one
[probe:state] check t1: instance 1 (label a), check 1
[probe:state] check t1: instance 1 (label a), check 2
[probe:state] create instance 2 (label b) in stage two
[probe:state] check t2: instance 2 (label b), check 1
[probe:state] destroy instance 2 (label b) after 1 check
[probe:state] destroy instance 1 (label a) after 2 checks"
[ "$steps" = "$expected" ] || fail "instance life cycle
expected:
$expected
got:
$steps
stderr:
$ERR"
[ "$(json results/1/metadata.json 'j["status"]')" = success ] || fail "run status"
pass "one instance per configured section, before first use, shared by its hosts, destroyed after the run"

# A create that fails fails the stage that needs it, with the plugin's reason.
sed 's/label: b/label: broken/' state.yaml > broken.yaml
run_bc run -c broken.yaml "${ST[@]}"
expect_rc 1 "run with a failing create"
expect_in "$ERR" "probe plugin 'state' ($FIXTURE_PLUGINS/state/probe-state.so) could not set up this section: label 'broken' cannot be set up" "create failure"
expect_not_in "$ERR" "check t2" "no check after a failed create"
expect_in "$ERR" "destroy instance 1 (label a) after 2 checks" "the good instance is still destroyed"
expect_not_in "$ERR" "destroy instance 2" "a failed instance is not destroyed"
pass "a failed create fails the stage with the plugin's reason; made instances are still destroyed"

# The capabilities each host's transport declares are recorded (compare reads
# "controller" to tell the controller from other machines).
[ "$(json results/1/metadata.json '[j["hosts"][a]["capabilities"] for a in ("local", "other")]')" = "[['shared_fs', 'cheap_exec', 'posix_shell', 'controller'], ['shared_fs', 'cheap_exec', 'posix_shell', 'controller']]" ] ||
  fail "host capabilities in metadata.json: $(json results/1/metadata.json 'j["hosts"]')"
[ "$(json results/1/results.json 'j["hosts"]["local"]["capabilities"]')" = "['shared_fs', 'cheap_exec', 'posix_shell', 'controller']" ] ||
  fail "host capabilities in results.json: $(json results/1/results.json 'j["hosts"]')"
pass "each host's declared capabilities are in metadata.json and results.json"
