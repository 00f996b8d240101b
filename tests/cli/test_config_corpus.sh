#!/usr/bin/env bash
# The invalid-config corpus (tests/corpus/config/*.yaml): each file's first
# line says what `benchctl validate` and `benchctl run` must do with it —
#   # expect: EXIT LINE:COL TEXT
# the exit code, and an error at FILE:LINE:COL containing TEXT.  Neither
# command may create a run directory.  Then the configs that are not
# files: a FIFO and /dev/zero are refused at once, a config over 16 MiB is
# refused, and an 80,000-stage config loads (in linear time: it is also in
# scripts/bench.sh).
source "$(dirname "$0")/lib.sh"
corpus=$SRC_DIR/tests/corpus/config
n=0
for f in "$corpus"/*.yaml; do
  name=$(basename "$f")
  cp "$f" "$T/$name"
  read -r _ _ code pos text < <(head -1 "$f")
  [ -n "$code" ] && [ -n "$pos" ] || fail "$name: no '# expect: EXIT LINE:COL TEXT' first line"
  for cmd in validate run; do
    run_bc $cmd -c "$name"
    expect_rc "$code" "$cmd $name"
    expect_in "$ERR" "$name:$pos: " "$cmd $name"
    expect_in "$ERR" "$text" "$cmd $name"
  done
  [ ! -d runs ] || fail "$name: a run directory was made"
  n=$((n + 1))
done
pass "$n invalid configs: each refused with its exit code at FILE:LINE:COL, no run directory"

# Not regular files: refused at once (a bounded wait: each is one call).
mkfifo fifo.yaml
for c in fifo.yaml /dev/zero "$T"; do
  run_bc validate -c "$c"
  expect_rc 2 "validate -c $c"
  expect_in "$ERR" "not a regular file"
done
head -c $((16 * 1024 * 1024 + 1)) /dev/zero | tr '\0' '#' >huge.yaml
run_bc validate -c huge.yaml
expect_rc 2 "a config over 16 MiB"
expect_in "$ERR" "too large"
pass "a FIFO, a device, a directory and a config over 16 MiB are refused at once"

# A missing plugin_paths entry is a warning at its position, not an error.
write_config pp.yaml <<'YAML'
benchmark: {name: x, output_dir: ./runs, plugin_paths: [./no-such-dir]}
stages: [{name: a, command: echo}]
YAML
run_bc validate -c pp.yaml
expect_rc 0 "a missing plugin_paths entry"
expect_in "$ERR" "pp.yaml:1:57: "
expect_in "$ERR" "no-such-dir: No such file or directory"
pass "a missing plugin_paths entry: a warning at FILE:LINE:COL"

python3 - <<'PY'
with open("many.yaml", "w") as f:
    f.write("benchmark: {name: many, output_dir: ./runs}\nstages:\n")
    for i in range(80000):
        f.write("  - name: s%d\n    command: echo %d\n" % (i, i))
PY
run_bc validate -c many.yaml
expect_rc 0 "80,000 stages"
expect_in "$OUT" "80000 stages"
pass "an 80,000-stage config loads"
