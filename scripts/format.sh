#!/usr/bin/env bash
# Format C code with the repository's .clang-format (clang-format 14+).
#
#   scripts/format.sh            reformat only the lines you changed
#                                (against HEAD, staged or not)
#   scripts/format.sh --check    print what that would change; exit 1 if
#                                anything would
#   scripts/format.sh FILE...    reformat whole files
#
# The tree is not formatted wholesale: formatting just the changed lines
# keeps diffs small and merges clean.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "format.sh: clang-format not found (apt-get install clang-format)" >&2; exit 2; }
if [ $# -gt 0 ] && [ "$1" != --check ]; then
  exec clang-format -i --style=file "$@"
fi
diff_tool=$(command -v clang-format-diff || command -v clang-format-diff.py || true)
[ -n "$diff_tool" ] || { echo "format.sh: clang-format-diff not found (it ships with clang-format)" >&2; exit 2; }
changes=$(git diff -U0 --no-color HEAD -- '*.c' '*.h' | "$diff_tool" -p1 -style=file)
if [ "${1:-}" = --check ]; then
  [ -z "$changes" ] && exit 0
  printf '%s\n' "$changes"
  exit 1
fi
git diff -U0 --no-color HEAD -- '*.c' '*.h' | "$diff_tool" -p1 -style=file -i
