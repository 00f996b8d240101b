#!/usr/bin/env bash
# Run IDs: sequential, distinct under 20 concurrent runs, never reused.
source "$(dirname "$0")/lib.sh"

write_config b.yaml <<'YAML'
benchmark: {name: ids, output_dir: ./runs}
stages:
  - name: one
    command: echo "run $BENCHCTL_RUN_ID"
YAML
pids=()
for i in $(seq 20); do
  "$BENCHCTL" run -c b.yaml >"out.$i" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent run failed"; done
ids=$(for i in $(seq 20); do head -n1 "out.$i"; done | sed 's/Run ID: //' | sort -n | tr '\n' ' ')
[ "$ids" = "$(seq 1 20 | tr '\n' ' ')" ] || fail "20 concurrent runs got IDs: $ids"
[ "$(ls runs | grep -cE '^[0-9]+$')" = 20 ] || fail "expected 20 run directories"
for i in $(seq 20); do
  [ "$(json runs/$i/metadata.json 'j["run_id"]')" = "$i" ] || fail "metadata of run $i has the wrong id"
  expect_in "$(cat runs/$i/logs/one.log)" "run $i"
done
pass "20 concurrent runs get 20 distinct IDs"

rm -rf runs/2 runs/20
run_bc run -c b.yaml
expect_rc 0 run
expect_in "$(head -n1 <<<"$OUT")" "Run ID: 21" "deleted IDs are not reused"
rm -rf runs/.benchctl-last-id
run_bc run -c b.yaml
expect_in "$(head -n1 <<<"$OUT")" "Run ID: 22" "without the counter file the highest directory wins"
pass "IDs are never reused"
