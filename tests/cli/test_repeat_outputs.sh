#!/usr/bin/env bash
# `repeat:` on a stage with outputs keeps every repetition's files
# (rep-<n>/), validates each, and summarises each repetition, beside the
# statistics pooled over all of them; a repetition with invalid data fails
# the stage and keeps what was collected.
source "$(dirname "$0")/lib.sh"

write_config r.yaml <<'YAML'
benchmark: {name: reps, output_dir: ./runs}
stages:
  - name: load
    repeat: 3
    warmup: 1
    command: |
      n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count
      printf 'ms,status\n' > o.csv
      for i in 1 2 3 4 5; do echo "$((n * 10 + i)),ok" >> o.csv; done
      if [ "$n" = "$BAD_AT" ]; then echo "oops,ok" >> o.csv; fi
    outputs:
      - name: lat
        remote_path: o.csv
        data_schema:
          columns:
            - {name: ms, type: float, unit: ms, better: lower}
            - {name: status, type: string, success_values: [ok]}
plots:
  - {name: hist, source: lat, type: histogram, x: ms}
YAML
run_bc run -c r.yaml
expect_rc 0 "repeat with outputs"
d=runs/1
for n in 1 2 3; do
  [ -f "$d/rep-$n/lat.csv" ] || fail "rep-$n/lat.csv kept"
  [ -f "$d/plots/rep-$n/hist.png" ] || fail "a plot per repetition (rep-$n)"
done
[ ! -e "$d/rep-4" ] || fail "the warm-up is not a repetition"
# The warm-up was n=1: the repetitions hold 21..25, 31..35, 41..45.
[ "$(head -2 "$d/rep-1/lat.csv" | tail -1)" = "21,ok" ] || fail "rep-1 holds the first measured repetition"
[ "$(json $d/metadata.json '[f["repetition"] for f in j["stages"][0]["outputs"][0]["files"]]')" = "[1, 2, 3]" ] \
  || fail "files carry their repetition"
[ "$(json $d/metadata.json 'all(f["validation"]["valid"] for f in j["stages"][0]["outputs"][0]["files"])')" = True ] \
  || fail "every repetition's file validated"
o='j["cases"][0]["outputs"][0]'
[ "$(json $d/results.json "[r['columns']['ms']['median'] for r in $o['repetitions']]")" = "[23, 33, 43]" ] \
  || fail "per-repetition medians"
[ "$(json $d/results.json "len($o['repetitions'])")" = 3 ] || fail "n = 3 repetitions"
[ "$(json $d/results.json "$o['rows']")" = 15 ] || fail "pooled rows"
[ "$(json $d/results.json "$o['columns']['ms']['median']")" = 33 ] || fail "pooled median"
check_schema "$SRC_DIR/docs/schema/results.schema.json" $d/results.json
run_bc stats 1 -c r.yaml
expect_rc 0 stats
expect_in "$OUT" "per repetition (3; the table above pools them)"
pass "every repetition's outputs kept, validated and summarised (n = 3), and pooled"

# Bad data in the second measured repetition (n=3): the stage fails there.
rm -f count
BAD_AT=3 run_bc run -c r.yaml -e BAD_AT=3
expect_rc 1 "invalid data in repetition 2"
d=runs/2
[ -f "$d/rep-1/lat.csv" ] && [ -f "$d/rep-2/lat.csv" ] || fail "repetitions 1 and 2 kept"
[ ! -e "$d/rep-3" ] || fail "no repetition after the failed one"
expect_in "$ERR" "rep-2/lat.csv does not match its data_schema"
[ "$(json $d/metadata.json 'j["stages"][0]["status"]')" = failed ] || fail "stage failed"
pass "invalid data in a repetition fails the stage, earlier repetitions kept"

# compare tests a repeated output's per-repetition statistics: n = repeat.
write_config c.yaml <<'YAML'
benchmark: {name: reps-cmp, output_dir: ./cmp}
stages:
  - name: load
    repeat: 8
    command: |
      n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count
      printf 'ms,status\n' > o.csv
      for i in 1 2 3 4 5; do echo "$((SHIFT + n % 3 + i)),ok" >> o.csv; done
    outputs:
      - name: lat
        remote_path: o.csv
        data_schema:
          columns:
            - {name: ms, type: float, unit: ms, better: lower}
            - {name: status, type: string, success_values: [ok]}
YAML
rm -f count; run_bc run -c c.yaml -e SHIFT=10; expect_rc 0 "baseline"
rm -f count; run_bc run -c c.yaml -e SHIFT=20; expect_rc 0 "candidate"
run_bc compare 1 2 -c c.yaml --json
expect_rc 0 "compare of repeated outputs"
for key in lat.ms lat.ms.p99 lat.success_rate; do
  got=$(echo "$OUT" | jsons "[(c['n_baseline'], c['n_candidate']) for m in j['metrics'] if m['metric'] == '$key' for c in m['comparisons']]")
  [ "$got" = "[(8, 8)]" ] || fail "$key: n per side is the repetitions ($got)"
done
[ "$(echo "$OUT" | jsons "[c['verdict'] for m in j['metrics'] if m['metric'] == 'lat.ms' for c in m['comparisons']][0]")" = regressed ] \
  || fail "the per-repetition medians regressed"
pass "compare: a repeated output's metrics have n = repeat (per-repetition median, p99, success rate)"

# A repetition whose command fails: what it wrote is kept too.
write_config f.yaml <<'YAML'
benchmark: {name: reps-fail, output_dir: ./fail}
stages:
  - name: load
    repeat: 3
    command: |
      n=$(cat fcount 2>/dev/null || echo 0); n=$((n+1)); echo $n > fcount
      printf 'ms\n%s\n' "$n" > f.csv
      [ "$n" != 2 ] || exit 3
    outputs:
      - name: lat
        remote_path: f.csv
        data_schema: {columns: [{name: ms, type: float}]}
YAML
run_bc run -c f.yaml
expect_rc 1 "a failing repetition"
[ "$(tail -1 fail/1/rep-2/lat.csv)" = 2 ] || fail "the failed repetition's file is kept"
[ ! -e fail/1/rep-3 ] || fail "no repetition after the failed one"
pass "a repetition that fails keeps what it wrote"
