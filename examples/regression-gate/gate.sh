#!/usr/bin/env bash
# The regression gate as a CI job would run it:
#   1. benchmark the baseline (here: DELAY=0.010, SCALE=10) and tag it `main`;
#   2. benchmark the candidate (CANDIDATE_DELAY, CANDIDATE_SCALE);
#   3. compare: a Markdown report (for the pull request) and exit 3 when a
#      metric regressed.
# usage: gate.sh [BENCHCTL]   (default: the build tree's benchctl)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bc=$(realpath "${1:-$here/../../build/core/benchctl}")
cd "$here"
"$bc" run -e DELAY=0.010 -e SCALE=10 -m role=baseline
base=$("$bc" list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["run_id"])')
"$bc" tag "$base" main
"$bc" run -e DELAY="${CANDIDATE_DELAY:-0.013}" -e SCALE="${CANDIDATE_SCALE:-10}" -m role=candidate
cand=$("$bc" list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["run_id"])')
set +e
"$bc" compare main "$cand" --markdown --fail-on-regression > report.md
code=$?
set -e
cat report.md
case $code in
  0) echo "gate: no regression" ;;
  3) echo "gate: REGRESSION (exit 3)" ;;
  *) echo "gate: compare failed (exit $code)" ;;
esac
exit $code
