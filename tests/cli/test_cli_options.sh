#!/usr/bin/env bash
# Help and parser agree: for every command `benchctl --help` lists, each
# option its `--help` shows is accepted by its parser (with and without its
# short letter; a VALUE option given no value says so), the synopsis
# mentions it, and an unknown option is refused with exit 2 and the usual
# message.
source "$(dirname "$0")/lib.sh"

run_bc --help
expect_rc 0 "--help"
mapfile -t commands < <(sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\)  *.*/\1/p' <<<"$OUT")
for c in run validate init inspect list edit annotate compare stats tag plot plugins help version; do
  printf '%s\n' "${commands[@]}" | grep -qx "$c" || fail "--help does not list the command $c"
done

# in_fresh_dir ARGS...: run benchctl in an empty directory of its own (no
# benchmark.yaml: nothing gets run; `init` writes only there).
n=0
in_fresh_dir() {
  n=$((n + 1))
  mkdir "$T/w$n"
  pushd "$T/w$n" >/dev/null
  run_bc "$@"
  popd >/dev/null
}

# not_refused WHAT: the parser took the option (whatever the command then
# thought of the rest: a missing run ID, no config here, ...).
not_refused() {
  for msg in "unknown option" "needs a value" "does not take a value"; do
    expect_not_in "$ERR" "$msg" "$1 (stderr)"
  done
  [ "$RC" -ne 139 ] && [ "$RC" -ne 134 ] || fail "$1: crashed (exit $RC)"
}

total=0
for c in "${commands[@]}"; do
  run_bc "$c" --help
  expect_rc 0 "$c --help"
  expect_in "$OUT" "usage: benchctl $c" "$c --help"
  usage=$(head -n 1 <<<"$OUT")
  help=$OUT
  opts=0
  while IFS= read -r line; do
    # "  -c, --config FILE       text" or "      --json              text"
    [[ $line =~ ^\ \ (-([A-Za-z0-9]),\ |\ \ \ \ )--([a-z][a-z0-9-]*)(\ ([A-Z][A-Z0-9=_]*))?(\ |$) ]] || continue
    letter=${BASH_REMATCH[2]} name=${BASH_REMATCH[3]} value=${BASH_REMATCH[5]}
    opts=$((opts + 1))
    if [ -n "$value" ]; then
      in_fresh_dir "$c" "--$name" x
      not_refused "$c --$name x"
      in_fresh_dir "$c" "--$name=x"
      not_refused "$c --$name=x"
      in_fresh_dir "$c" "--$name"
      expect_rc 2 "$c --$name (no value)"
      expect_in "$ERR" "benchctl $c: option --$name needs a value" "$c --$name (no value)"
      if [ -n "$letter" ]; then
        in_fresh_dir "$c" "-$letter" x
        not_refused "$c -$letter x"
      fi
    else
      in_fresh_dir "$c" "--$name"
      not_refused "$c --$name"
      if [ -n "$letter" ]; then
        in_fresh_dir "$c" "-$letter"
        not_refused "$c -$letter"
      fi
    fi
    if [ "$name" != help ] && [ "$name" != verbose ] && [ "$name" != color ]; then  # every command has these three
      case "$usage" in
        *"--$name"*) ;;
        *) [ -n "$letter" ] && [[ $usage == *"-$letter "* ]] ||
             fail "$c: option --$name is in the options but not in the synopsis: $usage" ;;
      esac
    fi
  done < <(sed -n '/^Options:/,$p' <<<"$help")
  [ "$opts" -ge 1 ] || fail "$c --help shows no options (not even -h, --help):
$help"
  total=$((total + opts))

  in_fresh_dir "$c" --no-such-option
  expect_rc 2 "$c --no-such-option"
  expect_in "$ERR" "benchctl $c: unknown option '--no-such-option'" "$c --no-such-option"
  expect_in "$ERR" "Try \`benchctl $c --help\`." "$c --no-such-option"
  in_fresh_dir "$c" -Z
  expect_rc 2 "$c -Z"
  expect_in "$ERR" "benchctl $c: unknown option '-Z'" "$c -Z"
  # `help CMD` is the same text as `CMD --help`.
  run_bc help "$c"
  expect_rc 0 "help $c"
  [ "$OUT" = "$help" ] || fail "help $c differs from $c --help"
done
# 14 commands, 1 to 9 options each: far fewer means the help's format and
# this test's reading of it drifted apart.
[ "$total" -ge 40 ] || fail "only $total options found in the commands' help"
pass "every option of every command's help is parsed (${#commands[@]} commands, $total options); unknown options exit 2"

# A flag given a value is refused by name, not as an unknown letter.
in_fresh_dir list --json=1
expect_rc 2 "list --json=1"
expect_in "$ERR" "benchctl list: option --json does not take a value" "list --json=1"
pass "a flag given a value is named in the error"
