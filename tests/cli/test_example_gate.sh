#!/usr/bin/env bash
# examples/regression-gate/gate.sh as CI runs it: a 30 % slower candidate
# fails the gate with exit 3 and a Markdown report; a faster one passes.
# Each verdict rests on the request latencies (2000 values scaled by
# CANDIDATE_SCALE, whatever the machine's load), not only on wall times a
# loaded machine can blur; the wall times move the same way.
source "$(dirname "$0")/lib.sh"

cp -r "$SRC_DIR/examples/regression-gate" gate
rm -rf gate/results gate/report.md
set +e
ln -s "$BENCHCTL" bc   # a relative path to the binary works too
CANDIDATE_DELAY=0.013 CANDIDATE_SCALE=13 bash gate/gate.sh ./bc >slow.out 2>slow.err
rc=$?
set -e
[ "$rc" = 3 ] || fail "slower candidate: gate exit $rc: $(tail -20 slow.out) $(tail -5 slow.err)"
expect_in "$(cat gate/report.md)" "| stage:work.wall_s | 20 / 20 |"
expect_in "$(cat gate/report.md)" "**regressed**"
expect_in "$(cat slow.out)" "gate: REGRESSION (exit 3)"
pass "a 30% slower candidate fails the gate (exit 3) with a Markdown report"

rm -rf gate/results gate/report.md
set +e
# (its stage sleeps 1 ms against the baseline's 10: a difference the shell
# start-up taken off each run cannot blur under load or ASan, as 3 ms could)
CANDIDATE_DELAY=0.001 CANDIDATE_SCALE=7 bash gate/gate.sh "$BENCHCTL" >fast.out 2>fast.err
rc=$?
set -e
[ "$rc" = 0 ] || fail "faster candidate: gate exit $rc: $(tail -20 fast.out)"
expect_in "$(cat gate/report.md)" "improved"
expect_not_in "$(cat gate/report.md)" "regressed**"
pass "a faster candidate passes the gate (exit 0): improved"
