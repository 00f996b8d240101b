#!/usr/bin/env bash
# The mechanical checks of the source tree: the core's layers point one way
# (scripts/check_layers.sh) and functions and files stay small
# (scripts/check_sizes.sh).  Each passes on the tree as it is and fails, with
# FILE:LINE, on a copy that breaks its rule.
source "$(dirname "$0")/lib.sh"

run_check() { # run_check SCRIPT [args...]: OUT/ERR/RC like run_bc
  set +e
  "$SRC_DIR/scripts/$1" "${@:2}" >"$T/.out" 2>"$T/.err"
  RC=$?
  set -e
  OUT=$(cat "$T/.out"); ERR=$(cat "$T/.err")
}

run_check check_layers.sh "$SRC_DIR/core"
expect_rc 0 "check_layers on the tree"
run_check check_sizes.sh
expect_rc 0 "check_sizes on the tree"
pass "the tree passes its layer and size checks"

# A lower layer that includes a higher one is named with its line.
cp -r "$SRC_DIR/core" core
printf '#include "run/run.h"\n' >> core/util/log.c
run_check check_layers.sh "$T/core"
expect_rc 1 "check_layers with util including run"
expect_in "$ERR" "core/util/log.c:"
expect_in "$ERR" "core/util includes core/run"
# ... and a source outside every layer.
cp "$SRC_DIR/core/util/log.c" core/util/log.c
touch core/loose.c
run_check check_layers.sh "$T/core"
expect_rc 1 "check_layers with a loose file"
expect_in "$ERR" "loose.c: a core source outside every layer folder"
rm core/loose.c
printf '#include "../run/run.h"\n' >> core/util/util.c
run_check check_layers.sh "$T/core"
expect_rc 1 "check_layers with a relative include"
expect_in "$ERR" "core/util/util.c:"
expect_in "$ERR" "a relative include"
pass "check_layers names a lower layer including a higher one, a relative include, and a file outside the layers"

# A function over the limit, and a file over the limit.
mkdir -p big
{ echo "int f(void);"; echo "int f(void)"; echo "{"; echo "    int x = 0;"
  for i in $(seq 130); do echo "    x += $i;"; done; echo "    return x;"; echo "}"; } > big/long.c
run_check check_sizes.sh "$T/big"
expect_rc 1 "check_sizes with a 134-line function"
expect_in "$ERR" "big/long.c:3: int f(void): 134 lines (limit 120)"
export MAX_FUNCTION_LINES=200 MAX_FILE_LINES=100; run_check check_sizes.sh "$T/big"
expect_rc 1 "check_sizes with a 136-line file and a limit of 100"
expect_in "$ERR" "long.c: 136 lines (limit 100)"
pass "check_sizes names long functions and long files"
