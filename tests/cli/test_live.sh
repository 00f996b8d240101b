#!/usr/bin/env bash
# Live progress on a real terminal (util-linux `script` gives benchctl a
# PTY): the health-check countdown is cleared before a background stage's
# output and drawn again after it (never printed onto), the repeat line
# (run i/N, median, ETA), the long-stage line, `quiet: true` (logged, not
# echoed), the end-of-run summary; NO_COLOR on a terminal; piped output
# stays plain lines.
source "$(dirname "$0")/lib.sh"

command -v script >/dev/null || fail "util-linux 'script' is needed to give benchctl a terminal"

in_tty() { # in_tty OUTFILE [ENV=V...] -- ARGS...: benchctl ARGS on a fresh terminal
  local out=$1 cmd envs=()
  shift
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  printf -v cmd '%q ' env "${envs[@]+"${envs[@]}"}" "$BENCHCTL" "$@"
  set +e
  timeout 120 script -qec "$cmd" /dev/null >"$out" 2>"$out.err" </dev/null
  TRC=$?
  set -e
}

write_config live.yaml <<'EOF2'
benchmark: {name: live, output_dir: ./results}
stages:
  - name: ticker                 # prints while its health check counts down
    background: true
    command: |
      for i in 1 2 3 4 5 6 7 8 9 10; do echo "tick-$i"; sleep 0.2; done; touch ready; sleep 60
    health_check: {type: command, target: test -f ready, timeout: 60s, interval: 100ms}
  - name: chatty
    quiet: true
    command: echo secret-chatter
  - name: rep
    command: sleep 0.2
    repeat: 4
  - name: long
    command: sleep 10; echo long-done
  - name: fan
    nodes: 3
    command: if [ "$BENCHCTL_NODE" = 0 ]; then sleep 0.1; else sleep 10; fi
EOF2

in_tty tty.out -- run -c live.yaml
[ "$TRC" = 0 ] || fail "run on a terminal exited $TRC: $(cat -v tty.out tty.out.err)"
/usr/bin/python3 - tty.out <<'PY' || fail "terminal transcript: $(cat -v tty.out)"
import re, sys
t = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
def need(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)
need("waiting for command 'test -f ready' on local" in t, "no health-check countdown line")
# every tick line starts a line: after a newline or after the live line was
# erased (\r ESC[K), never written onto the countdown
for m in re.finditer(r"tick-\d+", t):
    before = t[max(0, m.start() - 4):m.start()]
    need(before.endswith("\n") or before.endswith("\r\x1b[K"),
         "%s printed onto another line: %r" % (m.group(), t[max(0, m.start() - 80):m.end()]))
# the countdown is drawn again after a tick (it was not lost)
need(re.search(r"tick-\d+\r?\n\r\x1b\[K  waiting for command", t), "countdown not redrawn after output")
need(re.search(r"rep on local: run 2/4, median [0-9.]+ [mµn]?s, ETA ", t), "no repeat progress line")
need("long on local: running " in t, "no long-stage line")
need(re.search(r"  fan: 3 nodes, [01] done, [23] running \(", t), "no fan-out line (nodes done/running)")
need(re.search(r"  fan: 3 nodes, 1 done, 2 running \(", t), "the fan-out line never showed node 0 done")
need("secret-chatter" not in t, "a quiet stage's output reached the terminal")
need("Summary of run 1" in t and "\x1b[1mSummary of run" in t, "no (bold) summary on the terminal")
need(re.search(r"\n  rep +4 ", t.replace("\r", "")), "no repeated-stage row in the summary")
# the last thing on the screen is not a stale live line
tail = t.replace("\r\n", "\n").rstrip("\n").rsplit("\n", 1)[-1]
need(tail.startswith("Results saved to:"), "last line: %r" % tail)
PY
grep -q secret-chatter results/1/logs/chatty.log || fail "the quiet stage's output is not in its log"
pass "on a terminal: countdown cleared and redrawn around output, repeat and long-stage lines, quiet, summary"

write_config short.yaml <<'EOF2'
benchmark: {name: short, output_dir: ./results}
stages:
  - name: rep
    command: "true"
    repeat: 3
EOF2
in_tty nc.out NO_COLOR=1 -- run -c short.yaml
[ "$TRC" = 0 ] || fail "NO_COLOR run exited $TRC"
if grep -q $'\033\\[[0-9;]*m' nc.out; then fail "NO_COLOR: colours on the terminal: $(cat -v nc.out)"; fi
expect_in "$(cat nc.out)" "Summary of run 2" "NO_COLOR summary"
in_tty col.out -- run -c short.yaml
grep -q $'\033\\[1;36m==> rep' col.out || fail "no colours on a terminal without NO_COLOR: $(cat -v col.out)"
pass "NO_COLOR: no colours on a terminal"

# ---- piped: plain lines --------------------------------------------------------------
set +e
"$BENCHCTL" run -c live.yaml >pipe.out 2>pipe.err </dev/null
rc=$?
set -e
[ "$rc" = 0 ] || fail "piped run exited $rc: $(cat pipe.out pipe.err)"
if grep -q $'\r\\|\033' pipe.out pipe.err; then fail "piped output has \\r or escapes: $(cat -v pipe.out pipe.err)"; fi
expect_not_in "$(cat pipe.out pipe.err)" "waiting for command" "piped output"
expect_not_in "$(cat pipe.out pipe.err)" "secret-chatter" "piped output (quiet)"
expect_in "$(cat pipe.out)" "tick-10" "piped output"
expect_in "$(cat pipe.out)" "Summary of run 4" "piped summary"
pass "piped: plain lines, no live line, quiet still quiet"
