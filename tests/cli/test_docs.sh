#!/usr/bin/env bash
# The man pages and shell completion the build generates (cmake/Docs.cmake,
# scripts/gendocs.py) match the binary: benchctl(1) has every command of
# `benchctl help` with every option of its `--help`; all three pages render
# with `man -l` without a groff warning; the bash completion loads and
# completes commands and options; the zsh and fish ones parse, and fish's
# completes too.
source "$(dirname "$0")/lib.sh"

: "${BUILD_DIR:?BUILD_DIR must point to the build tree}"
D="$BUILD_DIR/docs"
for f in man/benchctl.1 man/benchctl.yaml.5 man/benchctl-plugins.7 completion/bash/benchctl \
  completion/zsh/_benchctl completion/fish/benchctl.fish; do
  [ -s "$D/$f" ] || fail "the build did not generate $D/$f"
done

# ---- the commands and options, read from the binary --------------------------------
run_bc help
expect_rc 0 "help"
cmds=$(printf '%s\n' "$OUT" | awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on = 0}')
[ "$(printf '%s\n' "$cmds" | wc -l)" -ge 10 ] || fail "too few commands in benchctl help: $cmds"
for c in run compare plugins help; do grep -qx "$c" <<<"$cmds" || fail "help lacks $c"; done

# ---- man pages ---------------------------------------------------------------------
command -v man >/dev/null || fail "this test needs man (man-db; scripts/deps.sh installs it)"
export MANWIDTH=100 LC_ALL=C.UTF-8
for page in benchctl.1 benchctl.yaml.5 benchctl-plugins.7; do
  man --warnings -l "$D/man/$page" >"$T/$page.txt" 2>"$T/$page.err" || fail "man -l $page failed: $(cat "$T/$page.err")"
  [ ! -s "$T/$page.err" ] || fail "man -l $page warns: $(cat "$T/$page.err")"
  [ "$(wc -l <"$T/$page.txt")" -ge 40 ] || fail "$page renders to only $(wc -l <"$T/$page.txt") lines"
done
txt="$T/benchctl.1.txt"
for s in NAME SYNOPSIS DESCRIPTION OPTIONS COMMANDS "EXIT STATUS" ENVIRONMENT FILES "SEE ALSO"; do
  grep -q "^$s\$" "$txt" || fail "benchctl(1) has no section $s"
done
n=0
for c in $cmds; do
  # The command's part of the page: from its heading to the next one.
  awk -v c="$c" '$0 == "   " c {on = 1; next} on && /^   [a-z]/ {exit} on' "$txt" >"$T/sect"
  [ -s "$T/sect" ] || fail "benchctl(1) has no subsection for command '$c'"
  "$BENCHCTL" "$c" --help >"$T/h" || fail "$c --help failed"
  grep -Eq "benchctl +$c" "$T/sect" || fail "benchctl(1) $c: no usage line"
  for o in $(sed -n 's/^  \(-., \|    \)--\([a-z][a-z0-9-]*\).*/\2/p' "$T/h" | grep -vx -e help -e verbose); do
    grep -q -- "--$o" "$T/sect" || fail "benchctl(1) $c lacks --$o (from $c --help)"
    n=$((n + 1))
  done
done
[ $n -ge 30 ] || fail "only $n options checked"
grep -q -- "--verbose" "$txt" && grep -q -- "--help" "$txt" || fail "benchctl(1) lacks the common options"
pass "benchctl(1) renders and lists every command of benchctl help ($(echo $cmds | wc -w)) with its options ($n)"

y="$T/benchctl.yaml.5.txt"
for k in benchmark "hosts.<alias>" "stages[] and cleanup[]" health_check "outputs[]" "plots[]"; do
  grep -Fxq "$k" "$y" || fail "benchctl.yaml(5) has no section $k"
done
grep -q "output_dir" "$y" && grep -q "remote_path" "$y" || fail "benchctl.yaml(5) lacks keys"
p="$T/benchctl-plugins.7.txt"
for s in "SEARCH PATH" "SHIPPED PLUGINS" "WRITING A PLUGIN"; do grep -Fxq "$s" "$p" || fail "benchctl-plugins(7) lacks $s"; done
grep -q "BENCHCTL_PLUGIN_PATH" "$p" && grep -q "benchctl-ssh" "$p" || fail "benchctl-plugins(7) content"
pass "benchctl.yaml(5) and benchctl-plugins(7) render with their sections"

# ---- bash ---------------------------------------------------------------------------
# complete WORDS...: what the bash completion offers for the command line
# WORDS (the last word is the one being completed), one per line.
complete_bash() {
  bash --norc --noprofile -c '
    source "$1" || exit 9
    shift
    complete -p benchctl >/dev/null || exit 8
    COMP_WORDS=(benchctl "$@")
    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
    COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
    _benchctl benchctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$D/completion/bash/benchctl" "$@"
}
got=$(complete_bash "")
[ "$got" = "$(printf '%s\n' $cmds | sort)" ] || fail "bash: 'benchctl <TAB>' gives '$got', not the commands"
[ "$(complete_bash co)" = compare ] || fail "bash: 'benchctl co<TAB>': $(complete_bash co)"
[ "$(complete_bash st)" = stats ] || fail "bash: 'benchctl st<TAB>': $(complete_bash st)"
[ "$(complete_bash run --pl)" = --plugin-path ] || fail "bash: 'benchctl run --pl<TAB>': $(complete_bash run --pl)"
[ "$(complete_bash run --log-level "")" = "$(printf 'debug\nerror\ninfo\nwarn')" ] ||
  fail "bash: 'benchctl run --log-level <TAB>': $(complete_bash run --log-level "")"
[ "$(complete_bash compare --fail)" = --fail-on-regression ] || fail "bash: compare --fail"
[ "$(complete_bash -c x.yaml li)" = list ] || fail "bash: 'benchctl -c x.yaml li<TAB>': $(complete_bash -c x.yaml li)"
[ "$(complete_bash help ins)" = inspect ] || fail "bash: 'benchctl help ins<TAB>'"
mkdir "$T/cwd" && touch "$T/cwd/bench-a.yaml" && cd "$T/cwd"
[ "$(complete_bash run -c bench-)" = bench-a.yaml ] || fail "bash: run -c FILE<TAB> does not complete files"
cd "$T"
for c in $cmds; do
  [ "$c" = help ] && continue
  opts=$(complete_bash "$c" -)
  for o in $(sed -n 's/^  \(-., \|    \)--\([a-z][a-z0-9-]*\).*/\2/p' <("$BENCHCTL" "$c" --help) | grep -vx verbose); do
    grep -qx -- "--$o" <<<"$opts" || fail "bash: 'benchctl $c -<TAB>' lacks --$o"
  done
done
pass "bash completion loads and completes commands, options, option values and files"

# ---- zsh and fish -------------------------------------------------------------------
if command -v zsh >/dev/null; then
  zsh -n "$D/completion/zsh/_benchctl" || fail "zsh: _benchctl does not parse"
  for c in $cmds; do grep -q "^    '$c:" "$D/completion/zsh/_benchctl" || fail "zsh: no command $c"; done
  # Loaded by compinit from an fpath directory, as zsh finds it installed.
  out=$(HOME=$T zsh -f -c 'fpath=("$1" $fpath); autoload -Uz compinit; compinit -u -d "$2/zcd"; print -r -- ${_comps[benchctl]}' \
    _ "$D/completion/zsh" "$T" 2>&1) || fail "zsh: compinit failed: $out"
  [ "$out" = _benchctl ] || fail "zsh: compinit does not bind benchctl to _benchctl: $out"
  pass "zsh completion parses and compinit binds it"
else
  echo "skip - zsh not installed"
fi
if command -v fish >/dev/null; then
  fish -n "$D/completion/fish/benchctl.fish" || fail "fish: benchctl.fish does not parse"
  fc() { HOME=$T XDG_CONFIG_HOME=$T/.fc XDG_DATA_HOME=$T/.fd fish --no-config -c 'source $argv[1]; complete -C $argv[2]' "$D/completion/fish/benchctl.fish" "$1" | cut -f1 | sort; }
  [ "$(fc 'benchctl co')" = compare ] || fail "fish: 'benchctl co': $(fc 'benchctl co')"
  got=$(fc 'benchctl run --pl')
  [ "$got" = --plugin-path ] || fail "fish: 'benchctl run --pl': $got"
  [ "$(fc 'benchctl ' | wc -l)" -eq "$(echo $cmds | wc -w)" ] || fail "fish: 'benchctl ': $(fc 'benchctl ')"
  pass "fish completion parses and completes commands and options"
else
  echo "skip - fish not installed"
fi
