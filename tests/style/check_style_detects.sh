#!/usr/bin/env bash
# scripts/check_style.sh must fail on a banned call and name FILE:LINE and
# the function, and must not be fooled by comments, strings, longer names
# (snprintf, strtok_r) or member calls.
set -euo pipefail
SRC_DIR="${SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
check="$SRC_DIR/scripts/check_style.sh"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir "$dir/clean" "$dir/bad"
cat > "$dir/clean/ok.c" <<'C'
#include <stdio.h>
#include <string.h>
/* sprintf(buf, "x"); strcpy(a, b); in a comment */
// atoi(s) in a line comment
static const char *msg = "never call sprintf(buf, ...) or gets(line)";
static const char quote = '"'; static const char *after = "strcat(a, b)";
struct io { char *(*gets)(void); };
int f(char *buf, size_t n, char *s, struct io *io, struct io v)
{
    char *save = NULL;
    (void)strtok_r(s, ",", &save);
    (void)io->gets(); (void)v.gets();
    return snprintf(buf, n, "%s%s%c", msg, after, quote);
}
C
"$check" "$dir/clean" > "$dir/out" 2>&1 || { cat "$dir/out"; fail "a clean file was rejected"; }

cp "$dir/clean/ok.c" "$dir/bad/ok.c"
cat > "$dir/bad/bad.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
int g(char *buf, const char *s)
{
    int n = sprintf(buf, "%s", s);
    return n + atoi (s);
}
C
set +e
"$check" "$dir/bad" > "$dir/out" 2>&1
rc=$?
set -e
cat "$dir/out"
[ "$rc" -eq 1 ] || fail "expected exit 1 on banned calls, got $rc"
grep -q "bad/bad.c:5: sprintf()" "$dir/out" || fail "sprintf on line 5 not reported"
grep -q "bad/bad.c:6: atoi()" "$dir/out" || fail "atoi on line 6 not reported"
[ "$(grep -c 'is banned' "$dir/out")" -eq 2 ] || fail "expected exactly two reports"

# A single file argument works too, and a missing path is a usage error.
set +e
"$check" "$dir/bad/bad.c" > /dev/null 2>&1; rc_file=$?
"$check" "$dir/missing" > /dev/null 2>&1; rc_missing=$?
set -e
[ "$rc_file" -eq 1 ] || fail "a file argument: expected exit 1, got $rc_file"
[ "$rc_missing" -eq 2 ] || fail "a missing path: expected exit 2, got $rc_missing"

# The tree itself is clean.
"$check" || fail "the tree has banned calls"
echo "PASS"
