#!/usr/bin/env bash
# CLI conventions: `latest` and `latest~N` wherever a run is named; "did you
# mean" for misspelt commands, options and config keys; YAML errors with the
# source line and a caret, a tab named as such; NO_COLOR and --color; the
# likely next step after a failed stage (stage timeout, on_invalid: warn).
source "$(dirname "$0")/lib.sh"

write_config b.yaml <<'EOF2'
benchmark: {name: conv, output_dir: ./results}
stages:
  - name: hello
    command: echo "hello $BENCHCTL_RUN_ID"
EOF2
for i in 1 2 3; do run_bc run -c b.yaml; expect_rc 0 "run $i"; done
rm -rf results/2   # a deleted run is not counted by latest~N

# ---- latest, latest~N ---------------------------------------------------------------
run_bc inspect latest -c b.yaml --json
expect_rc 0 "inspect latest"
[ "$(jsons 'j["run_number"]' <<<"$OUT")" = 3 ] || fail "latest is not run 3"
run_bc inspect latest~1 -c b.yaml --json
[ "$(jsons 'j["run_number"]' <<<"$OUT")" = 1 ] || fail "latest~1 is not run 1 (2 was deleted)"
run_bc stats latest~0 -c b.yaml --json
[ "$(jsons 'j["run"]["run_number"]' <<<"$OUT")" = 3 ] || fail "stats latest~0"
run_bc compare latest~1 latest -c b.yaml --json
expect_rc 0 "compare latest~1 latest"
[ "$(jsons 'j["run_numbers"]' <<<"$OUT")" = "[1, 3]" ] || fail "compare latest~1 latest"
run_bc tag latest best -c b.yaml
expect_rc 0 "tag latest"
run_bc tag --json -c b.yaml
[ "$(jsons 'j["best"]' <<<"$OUT")" = 3 ] || fail "tag latest named run 3: $OUT"
run_bc inspect latest~2 -c b.yaml
expect_rc 2 "latest~2 of two runs"
expect_in "$ERR" "'latest~2': there are only 2 runs in $T/results (latest~1 is the oldest)" "latest~2"
run_bc inspect latest~x -c b.yaml
expect_rc 2 "latest~x"
expect_in "$ERR" "write latest~N with N a whole number" "latest~x"
run_bc tag 1 latest -c b.yaml
expect_rc 2 "a tag named latest"
expect_in "$ERR" "latest and latest~N always name the newest runs" "tag latest"
mkdir empty
run_bc inspect latest -o empty
expect_rc 2 "latest without runs"
expect_in "$ERR" "there are no runs in $T/empty yet" "latest without runs"
pass "latest and latest~N name the newest runs (deleted runs not counted); reserved as tags"

# ---- did you mean --------------------------------------------------------------------
run_bc lsit
expect_rc 2 "misspelt command"
expect_in "$ERR" "unknown command 'lsit'; did you mean 'list'?" "lsit"
run_bc inpsect 1
expect_in "$ERR" "did you mean 'inspect'?" "inpsect"
run_bc help comapre
expect_rc 2 "help comapre"
expect_in "$ERR" "did you mean 'compare'?" "help comapre"
run_bc run --jsno -c b.yaml
expect_rc 2 "misspelt option"
expect_in "$ERR" "unknown option '--jsno'; did you mean '--json'?" "--jsno"
run_bc zzzzzzz
expect_rc 2 "unknown command"
expect_not_in "$ERR" "did you mean" "a word near no command"
write_config keys.yaml <<'EOF2'
benchmark: {name: k, output_dir: ./results}
stages:
  - name: a
    comand: "true"
EOF2
run_bc validate keys.yaml
expect_rc 2 "misspelt key"
expect_in "$ERR" "did you mean 'command'?" "misspelt key"
pass "did you mean: commands, options, config keys"

# ---- YAML: the source line and a caret; tabs ---------------------------------------
printf 'benchmark: {name: k, output_dir: ./results}\nstages:\n  - name: a\n    comand: "true"\n' >caret.yaml
run_bc validate caret.yaml
expect_in "$ERR" "caret.yaml:4:5: unknown key 'comand'" "position"
expect_in "$ERR" $'     4 |     comand: "true"\n       |     ^' "source line and caret"
printf 'benchmark: {name: k, output_dir: ./results}\nstages:\n\t- name: a\n' >tab.yaml
run_bc validate tab.yaml
expect_rc 2 "tab"
expect_in "$ERR" "tab.yaml:3:1: invalid YAML: a tab where YAML expects spaces" "tab"
expect_in "$ERR" $'     3 |  - name: a\n       | ^' "tab: the line (the tab shown as a space) and a caret"
pass "config errors show the line and a caret; a tab is called a tab"

# ---- next steps -----------------------------------------------------------------------
write_config slow.yaml <<'EOF2'
benchmark: {name: slow, output_dir: ./results}
stages:
  - name: slow
    command: "echo started; sleep 30"
    timeout: 300ms
EOF2
run_bc run -c slow.yaml
expect_rc 1 "stage timeout"
expect_in "$OUT" "next: stage 'slow' ran out of time: raise its \`timeout:\` in the config" "timeout hint"
expect_in "$OUT" "log: $T/results/4/logs/slow.log" "log path"
write_config inv.yaml <<'EOF2'
benchmark: {name: inv, output_dir: ./results}
stages:
  - name: gen
    command: printf 'a\nx\n' > o.csv
    outputs:
      - name: o
        remote_path: o.csv
        data_schema: {columns: [{name: a, type: integer}]}
EOF2
run_bc run -c inv.yaml --json
expect_rc 1 "invalid output"
expect_in "$(jsons 'j["failed_stages"][0]["next_step"]' <<<"$OUT")" "set \`on_invalid: warn\` on it" "on_invalid hint"
pass "a failed stage says the next step (timeout, on_invalid: warn, its log)"

# ---- colours: NO_COLOR, --color ----------------------------------------------------------
ESC=$'\033'
run_bc run -c b.yaml --color=always
expect_in "$OUT" "${ESC}[1mSummary of run" "--color=always (summary in bold)"
run_bc --color never run -c b.yaml
expect_not_in "$OUT$ERR" "$ESC" "--color never"
set +e
NO_COLOR=1 "$BENCHCTL" run -c b.yaml >nc.out 2>nc.err </dev/null
NO_COLOR=1 "$BENCHCTL" run -c b.yaml --color=always >nca.out 2>&1 </dev/null
set -e
expect_not_in "$(cat nc.out nc.err)" "$ESC" "NO_COLOR"
expect_in "$(cat nca.out)" "$ESC[" "--color=always wins over NO_COLOR"
run_bc run -c b.yaml --color=sometimes
expect_rc 2 "--color=sometimes"
expect_in "$ERR" "--color: 'sometimes' is not one of auto, always, never" "--color=sometimes"
pass "colours: --color=always|never, NO_COLOR"
