# Shared helpers for the CLI tests (sourced).  Each test runs the real
# benchctl binary on real configs in a private temporary directory.
set -euo pipefail

: "${BENCHCTL:?BENCHCTL must point to the benchctl binary}"
: "${SRC_DIR:?SRC_DIR must point to the source tree}"

T=$(mktemp -d "${TMPDIR:-/tmp}/benchctl-test.XXXXXX")
cleanup_hooks=()
on_exit() {
  local rc=$?
  for h in "${cleanup_hooks[@]+"${cleanup_hooks[@]}"}"; do eval "$h" || true; done
  if [ $rc -eq 0 ]; then rm -rf "$T"; else echo "test files kept in $T" >&2; fi
}
trap on_exit EXIT
cd "$T"

# Debian's python3 first on PATH, for the tests and the stages they run: a
# version manager's shim in front of it (pyenv's costs a shell script per
# call) would only slow every helper down on a loaded machine.
if [ -x /usr/bin/python3 ]; then
  mkdir -p "$T/.bin"
  ln -sf /usr/bin/python3 "$T/.bin/python3"
  PATH="$T/.bin:$PATH"
  export PATH
fi

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok - $*"; }

# run_bc [args...]: runs benchctl, stores stdout/stderr/exit in OUT ERR RC.
run_bc() {
  set +e
  "$BENCHCTL" "$@" >"$T/.out" 2>"$T/.err" </dev/null
  RC=$?
  set -e
  OUT=$(cat "$T/.out")
  ERR=$(cat "$T/.err")
}

expect_rc() {
  [ "$RC" -eq "$1" ] || fail "${2:-command}: expected exit $1, got $RC
--- stdout
$OUT
--- stderr
$ERR"
}

expect_in() { # expect_in HAYSTACK NEEDLE [what]
  case "$1" in *"$2"*) ;; *) fail "${3:-output} does not contain: $2
--- got
$1" ;; esac
}

expect_not_in() {
  case "$1" in *"$2"*) fail "${3:-output} unexpectedly contains: $2
--- got
$1" ;; *) ;; esac
}

# json FILE EXPR: evaluate a Python expression on the parsed JSON (as j).
json() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
# jsons EXPR: the same on stdin.
jsons() { python3 -c 'import json,sys; j=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

# expect_hc_timeout META TIMEOUT_MS [STAGE_INDEX]: the stage's health check
# ended by its own configured timeout: the error names it and the check
# lasted at least that long.  No upper bound: a slow machine may take any
# time.
expect_hc_timeout() {
  local m=$1 ms=$2 i=${3:-0} hc
  hc="j['stages'][$i]['health_check']"
  expect_in "$(json "$m" 'j["error"]')" "timed out after" "error"
  expect_in "$(json "$m" 'j["error"]')" "(timeout $ms ms," "error"
  # it waited its whole timeout (a lower bound: which timeout ended it is in
  # the error above; no upper bound, a loaded machine may take any time)
  [ "$(json "$m" "$hc['elapsed_ms'] >= $ms")" = True ] ||
    fail "health check with timeout $ms ms gave up after $(json "$m" "$hc['elapsed_ms']") ms"
}

# write_config FILE: stdin to FILE.
write_config() { cat >"$1"; }

# iso_benchctl: an installed-looking benchctl in $T/iso that ships only the
# host `local` and the probe `command` (like a distro's minimal package);
# prints its path.  For testing plugins that ship with benchctl but are
# missing from an installation.
iso_benchctl() {
  mkdir -p "$T/iso/bin"
  cp "$BENCHCTL" "$T/iso/bin/benchctl"
  local dir
  dir=$("$T/iso/bin/benchctl" plugins --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["search_path"][-1])')
  mkdir -p "$dir"
  cp "$BUILD_DIR/plugins/host-local.so" "$BUILD_DIR/plugins/probe-command.so" "$dir/"
  echo "$T/iso/bin/benchctl"
}

# check_schema SCHEMA FILE: validate a JSON file against one of the
# published JSON Schemas (draft 2020-12) with Debian's python3-jsonschema.
check_schema() {
  /usr/bin/python3 - "$1" "$2" <<'PY' || fail "$2 does not match $1"
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
v = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
errs = sorted(v.iter_errors(doc), key=lambda e: list(e.path))
for e in errs[:10]:
    print("schema: %s: %s" % ("/".join(map(str, e.path)) or "(root)", e.message), file=sys.stderr)
sys.exit(1 if errs else 0)
PY
}
