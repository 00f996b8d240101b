#!/usr/bin/env bash
# Mechanical style check: fail when C sources call a banned function.
#
#   scripts/check_style.sh [FILE|DIR]...
#
# Without arguments it checks core/, plugins/, sdk/ and tests/unit/; a
# directory is searched for *.c and *.h files.  Each call is reported as
# FILE:LINE: NAME() with the checked replacement to use, and the script
# exits 1 when there is any (2 on a usage error, 0 when clean).
#
# Banned, because they cannot report overflow or a bad number:
#   atoi atol atoll          -> strtol/strtoll with an end and range check
#   sprintf vsprintf         -> snprintf/vsnprintf
#   strcpy strcat strncpy    -> snprintf, memcpy with a known length
#   gets                     -> fgets/getline
#   strtok                   -> strtok_r (allowed: its state is the
#                               caller's, so it is reentrant) or a split
#                               by hand
#
# A call is the name as a whole word followed by "(" outside comments,
# string literals and character literals; a member call such as
# s.gets( or s->gets( is not one.  Names that merely contain a banned
# one (snprintf, strtok_r, my_atoi) do not match.
set -euo pipefail
if [ $# -eq 0 ]; then
  cd "$(dirname "$0")/.."
  set -- core plugins sdk tests/unit
fi
exec /usr/bin/env python3 - "$@" <<'PY'
import os
import re
import sys

BANNED = {
    "atoi": "strtol with an end and range check",
    "atol": "strtol with an end and range check",
    "atoll": "strtoll with an end and range check",
    "strtok": "strtok_r or a split by hand",
    "sprintf": "snprintf",
    "vsprintf": "vsnprintf",
    "strcpy": "snprintf or memcpy with a known length",
    "strcat": "snprintf or memcpy with a known length",
    "strncpy": "snprintf or memcpy with a known length",
    "gets": "fgets or getline",
}
CALL = re.compile(r"(?<![\w.])(?<!->)(" + "|".join(sorted(BANNED)) + r")\s*\(")


def strip(text):
    """Blank out comments and string/char literals, keeping newlines."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            # a backslash-newline continues a // comment
            while j < n and j > 0 and text[j - 1] == "\\":
                k = text.find("\n", j + 1)
                j = n if k < 0 else k
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def sources(args):
    for a in args:
        if os.path.isdir(a):
            for root, dirs, files in os.walk(a):
                dirs.sort()
                for f in sorted(files):
                    if f.endswith((".c", ".h")):
                        yield os.path.join(root, f)
        elif os.path.isfile(a):
            yield a
        else:
            print(f"check_style: {a}: no such file or directory", file=sys.stderr)
            sys.exit(2)


hits = 0
for path in sources(sys.argv[1:]):
    with open(path, encoding="utf-8", errors="replace") as f:
        code = strip(f.read())
    for lineno, line in enumerate(code.split("\n"), 1):
        for m in CALL.finditer(line):
            name = m.group(1)
            print(f"{path}:{lineno}: {name}() is banned; use {BANNED[name]}")
            hits += 1
if hits:
    print(f"check_style: {hits} banned call{'s' if hits != 1 else ''} "
          "(see scripts/check_style.sh)", file=sys.stderr)
    sys.exit(1)
PY
