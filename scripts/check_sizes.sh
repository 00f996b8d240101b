#!/usr/bin/env bash
# Size limits of the project's C sources (docs/architecture.md): no
# function over 120 lines and no .c file over 800 lines in core/ and
# plugins/.  Exit 1, listing FILE:LINE, when one is over.
#
#   usage: scripts/check_sizes.sh [DIR...]    (default: core plugins)
set -euo pipefail
cd "$(dirname "$0")/.."
max_fn=${MAX_FUNCTION_LINES:-120}
max_file=${MAX_FILE_LINES:-800}
dirs=("$@"); [ ${#dirs[@]} -gt 0 ] || dirs=(core plugins)
status=0
while IFS= read -r f; do
  n=$(wc -l <"$f")
  if [ "$n" -gt "$max_file" ]; then
    echo "$f: $n lines (limit $max_file): split it by concept" >&2
    status=1
  fi
  # A function body: from a line that is exactly "{" (K&R function braces
  # stand alone) to the next line that is exactly "}".
  awk -v max="$max_fn" -v file="$f" '
    /^\{$/ { start = NR; name = prev; next }
    /^\}/ && start { len = NR - start + 1
                     if (len > max) { printf "%s:%d: %s: %d lines (limit %d)\n", file, start, name, len, max; bad = 1 }
                     start = 0 }
    { if ($0 !~ /^[[:space:]]*$/) prev = $0 }
    END { exit bad }' "$f" >&2 || status=1
done < <(find "${dirs[@]}" -name '*.c' | sort)
[ $status = 0 ] && echo "check_sizes: functions <= $max_fn lines, files <= $max_file lines"
exit $status
