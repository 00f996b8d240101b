#!/usr/bin/env bash
# Live stage output: through a PTY (colours intact) when benchctl's stdout
# is a terminal, through pipes otherwise; the stage log always holds the
# complete output, even from stages that write fast and exit at once.
source "$(dirname "$0")/lib.sh"

command -v script >/dev/null || fail "util-linux 'script' is needed to give benchctl a terminal"

# in_tty OUTFILE ARGS...: run benchctl ARGS on a fresh terminal (util-linux
# script); the terminal output goes to OUTFILE, the exit status to TRC.
in_tty() {
  local out=$1
  shift
  local cmd
  printf -v cmd '%q ' "$BENCHCTL" "$@"
  set +e
  timeout 20 script -qec "$cmd" /dev/null >"$out" 2>"$out.err" </dev/null
  TRC=$?
  set -e
}
# The run ID from a transcript (terminal output has \r\n line ends).
run_id_in() { tr -d '\r' <"$1" | sed -n 's/^Run ID: //p' | head -n1; }

ESC=$'\033'
RED="${ESC}[31mred${ESC}[0m"

write_config colour.yaml <<'EOF'
benchmark:
  name: tty
  output_dir: ./results
stages:
  - name: colour
    command: |
      printf '\033[31mred\033[0m\n'
      if test -t 1; then echo "stdout-is-a-tty"; else echo "stdout-is-not-a-tty"; fi
      echo "to-stderr" >&2
EOF

# ---- with a terminal ----------------------------------------------------------
in_tty term.out run -c colour.yaml
[ "$TRC" -eq 0 ] || fail "run on a terminal exited $TRC: $(cat term.out term.out.err)"
id=$(run_id_in term.out)
[ -n "$id" ] || fail "no Run ID on the terminal: $(cat -v term.out)"
term=$(cat term.out)
log=results/$id/logs/colour.log
[ -f "$log" ] || fail "no stage log $log"
expect_in "$term" "$RED" "terminal output (ANSI colour kept)"
expect_in "$(cat "$log")" "$RED" "stage log (ANSI colour kept)"
expect_in "$term" "stdout-is-a-tty" "terminal output"
expect_in "$(cat "$log")" "stdout-is-a-tty" "stage log"
expect_not_in "$(cat "$log")" "stdout-is-not-a-tty" "stage log"
expect_in "$(cat "$log")" "to-stderr" "stage log (stderr through the PTY)"
expect_in "$term" "to-stderr" "terminal output"
[ "$(json "results/$id/metadata.json" 'j["status"]')" = success ] || fail "tty run: status"
pass "on a terminal: the stage has a tty, colours reach the terminal and the log"

# ---- without a terminal -----------------------------------------------------------
set +e
"$BENCHCTL" run -c colour.yaml >pipe.out 2>pipe.err </dev/null
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "run without a terminal exited $rc: $(cat pipe.out pipe.err)"
id=$(sed -n 's/^Run ID: //p' pipe.out)
[ -n "$id" ] || fail "no Run ID in $(cat pipe.out)"
log=results/$id/logs/colour.log
expect_in "$(cat pipe.out)" "stdout-is-not-a-tty" "benchctl stdout"
expect_not_in "$(cat pipe.out)" "stdout-is-a-tty" "benchctl stdout"
expect_in "$(cat pipe.out)" "$RED" "benchctl stdout (bytes passed through)"
expect_not_in "$(cat pipe.out)" "to-stderr" "benchctl stdout"
expect_in "$(cat pipe.err)" "to-stderr" "benchctl stderr"
expect_not_in "$(cat pipe.err)" "stdout-is-not-a-tty" "benchctl stderr"
expect_in "$(cat "$log")" "stdout-is-not-a-tty" "stage log"
expect_in "$(cat "$log")" "to-stderr" "stage log"
expect_in "$(cat "$log")" "$RED" "stage log"
if grep -q $'\r' "$log"; then fail "without a terminal the log must have plain \\n line ends"; fi
pass "without a terminal: no tty, stdout and stderr kept apart, the log has both"

# ---- fast output, then exit -----------------------------------------------------
write_config fast.yaml <<'EOF'
benchmark:
  name: fast
  output_dir: ./results
stages:
  - name: seq
    command: seq 1 200000
  - name: tail
    command: printf last-line-without-newline
EOF
seq 1 200000 >expected.seq
sed 's/$/\r/' expected.seq >expected.seq.crlf
printf last-line-without-newline >expected.tail

for round in 1 2; do
  set +e
  "$BENCHCTL" run -c fast.yaml >fast.out 2>fast.err </dev/null
  rc=$?
  set -e
  [ "$rc" -eq 0 ] || fail "fast run exited $rc: $(cat fast.err)"
  id=$(sed -n 's/^Run ID: //p' fast.out)
  cmp results/$id/logs/seq.log expected.seq || fail "pipe round $round: seq log incomplete or altered"
  cmp results/$id/logs/tail.log expected.tail || fail "pipe round $round: unterminated last line lost"
  [ "$(json "results/$id/metadata.json" '[s["output_bytes"] for s in j["stages"]]')" = \
    "[$(wc -c <expected.seq), $(wc -c <expected.tail)]" ] || fail "pipe round $round: output_bytes"
  # The same bytes went to benchctl's stdout, in order.
  sed -n '/^==> seq on local$/,/^==> tail on local$/p' fast.out | sed '1d;$d' | cmp - expected.seq ||
    fail "pipe round $round: stdout does not carry the complete seq output"

  in_tty fast.term run -c fast.yaml
  [ "$TRC" -eq 0 ] || fail "fast run on a terminal exited $TRC"
  id=$(run_id_in fast.term)
  # Through a PTY, \n becomes \r\n (onlcr): compare exactly, then normalised.
  cmp results/$id/logs/seq.log expected.seq.crlf || fail "tty round $round: seq log incomplete or altered"
  sed 's/\r$//' results/$id/logs/seq.log | cmp - expected.seq || fail "tty round $round: normalised seq log"
  cmp results/$id/logs/tail.log expected.tail || fail "tty round $round: unterminated last line lost"
done
pass "fast output is complete in the log, with and without a terminal"

# ---- many tiny stages ------------------------------------------------------------
{
  printf 'benchmark:\n  name: tiny\n  output_dir: ./tiny\nstages:\n'
  for n in $(seq 1 20); do printf "  - name: s%d\n    command: printf 'x%d'\n" "$n" "$n"; done
} >tiny.yaml
check_tiny() { # ID what
  local n got
  for n in $(seq 1 20); do
    [ -f "tiny/$1/logs/s$n.log" ] || fail "$2: no log for stage s$n"
    got=$(cat "tiny/$1/logs/s$n.log")
    [ "$got" = "x$n" ] || fail "$2: log of s$n is '$got', expected 'x$n'"
    [ "$(wc -c <"tiny/$1/logs/s$n.log")" -eq ${#got} ] || fail "$2: s$n log has extra bytes"
  done
  [ "$(json "tiny/$1/metadata.json" 'sum(1 for s in j["stages"] if s["status"] == "success")')" = 20 ] ||
    fail "$2: not all 20 stages succeeded"
}
set +e
"$BENCHCTL" run -c tiny.yaml >tiny.out 2>tiny.err </dev/null
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "tiny stages exited $rc: $(cat tiny.err)"
check_tiny "$(sed -n 's/^Run ID: //p' tiny.out)" "pipes"
in_tty tiny.term run -c tiny.yaml
[ "$TRC" -eq 0 ] || fail "tiny stages on a terminal exited $TRC"
check_tiny "$(run_id_in tiny.term)" "tty"
for n in 1 7 20; do expect_in "$(cat tiny.term)" "x$n" "terminal output"; done
pass "20 tiny stages: every log is complete, with and without a terminal"
