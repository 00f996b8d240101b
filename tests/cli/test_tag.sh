#!/usr/bin/env bash
# tag: naming runs (set, move, delete, list), tags in place of run IDs in
# inspect/edit/plot/stats/compare, name rules, concurrent taggers, and the
# errors.
source "$(dirname "$0")/lib.sh"
/usr/bin/python3 "$SRC_DIR/tests/fixtures/runs/make_runs.py" runs runs

run_bc tag -o runs
expect_rc 0 "list without tags"
expect_in "$OUT" "No tags in"
run_bc tag 1 base -o runs
expect_rc 0 "tag 1 base"
expect_in "$OUT" "tagged run 1 as base"
run_bc tag 2 cand -o runs
expect_rc 0 "tag 2 cand"
run_bc tag 2 v1.2_rc-1 -o runs
expect_rc 0 "tag with . _ -"
run_bc tag -o runs
expect_rc 0 "list"
[ "$OUT" = "TAG        RUN
base       1
cand       2
v1.2_rc-1  2" ] || fail "tag list, sorted by name:
$OUT"
run_bc tag --json -o runs
echo "$OUT" >tags.json
[ "$(json tags.json 'j')" = "{'base': '1', 'cand': '2', 'v1.2_rc-1': '2'}" ] || fail "tag --json: $OUT"
[ "$(json runs/.benchctl-tags.json 'j["tags"]')" = "{'base': '1', 'cand': '2', 'v1.2_rc-1': '2'}" ] ||
  fail "tags file: $(cat runs/.benchctl-tags.json)"
ls runs/.benchctl-tags.json.tmp* >/dev/null 2>&1 && fail "a temporary tags file was left behind"
run_bc list -o runs
grep -Eq '^2 .* cand,v1\.2_rc-1$' <<<"$OUT" || fail "list does not show run 2's tags: $OUT"
grep -Eq '^1 .* base$' <<<"$OUT" || fail "list does not show run 1's tag: $OUT"
run_bc list --json -o runs
[ "$(jsons '[r["tags"] for r in j[:2]]' <<<"$OUT")" = "[['base'], ['cand', 'v1.2_rc-1']]" ] || fail "list --json tags: $OUT"
pass "tag: set and list (sorted), stored in output_dir/.benchctl-tags.json; list shows them"

run_bc tag 2 base -o runs
expect_rc 0 "move"
expect_in "$OUT" "moved tag base from 1 to 2"
run_bc tag 2 base -o runs
expect_rc 0 "same tag again"
expect_in "$OUT" "tag base already names run 2"
run_bc tag 1 base -o runs
expect_in "$OUT" "moved tag base from 2 to 1"
run_bc tag --delete v1.2_rc-1 -o runs
expect_rc 0 "delete"
expect_in "$OUT" "deleted tag v1.2_rc-1 (was run 2)"
run_bc tag -o runs
expect_not_in "$OUT" "v1.2_rc-1"
run_bc tag --delete v1.2_rc-1 -o runs
expect_rc 2 "delete a missing tag"
expect_in "$ERR" "no tag 'v1.2_rc-1'"
pass "tag: move, re-tag, delete"

# A tag wherever a run ID goes.
run_bc inspect base -o runs
expect_rc 0 "inspect by tag"
expect_in "$OUT" "Run 1: demo"
run_bc inspect cand --json -o runs
expect_rc 0 "inspect --json by tag"
echo "$OUT" >i.json
[ "$(json i.json 'j["run_id"]')" = 2 ] || fail "inspect cand --json: $OUT"
run_bc edit base -m note=tagged -o runs
expect_rc 0 "edit by tag"
expect_in "$OUT" "Updated run 1"
[ "$(json runs/1/metadata.json 'j["custom"]["note"]')" = tagged ] || fail "edit by tag did not change run 1"
run_bc annotate cand -m note=two -o runs
expect_rc 0 "annotate by tag"
[ "$(json runs/2/metadata.json 'j["custom"]["note"]')" = two ] || fail "annotate by tag did not change run 2"
run_bc compare base cand --json -o runs
expect_rc 0 "compare by tags"
echo "$OUT" >c.json
[ "$(json c.json 'j["runs"], [v["label"] for v in j["variants"]]')" = "(['1', '2'], ['base', 'cand'])" ] ||
  fail "compare by tags: $(json c.json 'j["runs"]')"
run_bc compare base cand -o runs
expect_in "$OUT" "run 1 (base)"
expect_in "$OUT" "statistics (baseline base (run 1)"
run_bc stats cand -o runs
expect_rc 0 "stats by tag"
expect_in "$OUT" "tags       cand"
run_bc plot nosuchtag -o runs
expect_rc 2 "plot of an unknown tag"
expect_in "$ERR" "no run ID or tag 'nosuchtag'"
run_bc plot base -o runs
expect_not_in "$ERR" "no run ID or tag" "plot by tag"
pass "tags work in inspect, edit/annotate, compare, stats and plot"

# Names: never all digits (an ID), letters/digits/._- only, 1-64 long.
for bad in 123 0 007 .hidden _x "a b" "x/y" "ü" "$(printf 'a%.0s' $(seq 65))"; do
  run_bc tag 1 "$bad" -o runs
  expect_rc 2 "tag 1 '$bad'"
  expect_in "$ERR" "is not a valid tag"
done
run_bc tag 1 "$(printf 'a%.0s' $(seq 64))" -o runs
expect_rc 0 "a 64-character tag"
run_bc tag 99 x -o runs
expect_rc 2 "tag a missing run"
expect_in "$ERR" "run 99 not found"
run_bc tag nosuch x -o runs
expect_rc 2 "tag an unknown tag"
expect_in "$ERR" "no run ID or tag 'nosuch'"
run_bc tag 1 -o runs
expect_rc 2 "tag without a name"
expect_in "$ERR" "give a run ID and a tag name"
run_bc tag 1 a b -o runs
expect_rc 2 "too many arguments"
run_bc tag --delete -o runs
expect_rc 2 "--delete without a name"
run_bc tag --bogus -o runs
expect_rc 2 "unknown option"
run_bc inspect nosuch -o runs
expect_rc 2 "inspect of an unknown tag"
expect_in "$ERR" "benchctl inspect: no run ID or tag 'nosuch'"
pass "tag: names checked, missing runs and tags exit 2"

# Concurrent taggers: the read-modify-write is under the run store's lock.
pids=()
for i in $(seq 1 10); do
  "$BENCHCTL" tag $((i % 8 + 1)) "par$i" -o runs >/dev/null 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent tag failed"; done
run_bc tag --json -o runs
echo "$OUT" >par.json
[ "$(json par.json 'len([k for k in j if k.startswith("par")])')" = 10 ] || fail "lost tags: $OUT"
pass "tag: 10 concurrent taggers lose nothing"

# A damaged tags file is reported, and numeric IDs still work.
echo '{"tags": [1, 2' >runs/.benchctl-tags.json
run_bc tag -o runs
expect_rc 2 "corrupt tags file"
expect_in "$ERR" ".benchctl-tags.json is corrupt"
run_bc inspect base -o runs
expect_rc 2 "tag lookup with a corrupt tags file"
run_bc inspect 1 -o runs
expect_rc 0 "numeric IDs ignore the tags file"
pass "tag: a corrupt tags file is reported"
