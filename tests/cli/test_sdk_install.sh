#!/usr/bin/env bash
# The installed SDK is enough to build an out-of-tree plugin: install
# benchctl into a temporary prefix, build examples/plugins/file_contains
# with pkg-config + make and with CMake, and use it from the INSTALLED
# binary (which must also find its own relocated plugin directory).
source "$(dirname "$0")/lib.sh"

: "${BUILD_DIR:?BUILD_DIR must point to the build tree}"
unset BENCHCTL_PLUGIN_PATH CMAKE_PREFIX_PATH PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR \
      CFLAGS CPPFLAGS LDFLAGS DESTDIR PLUGINDIR MAKEFLAGS MFLAGS
CC=${CC:-cc}
EX="$SRC_DIR/examples/plugins/file_contains"
T=$(pwd -P) # without symlinks: the installed binary reports real paths

for tool in cmake make pkg-config "$CC" python3; do
  command -v "$tool" >/dev/null || fail "this test needs $tool"
done
src_before=$(ls -lA "$EX")

# ---- install ------------------------------------------------------------
cmake --install "$BUILD_DIR" --prefix "$T/prefix" >"$T/install.log" 2>&1 ||
  fail "cmake --install failed: $(cat "$T/install.log")"
IB="$T/prefix/bin/benchctl"
[ -x "$IB" ] || fail "no bin/benchctl in the installed prefix"
pc=$(find "$T/prefix" -name benchctl.pc -path '*/pkgconfig/*' | head -n1)
[ -n "$pc" ] || fail "no benchctl.pc installed under $T/prefix"
PCDIR=$(dirname "$pc")           # <prefix>/lib/pkgconfig or lib/<multiarch>/pkgconfig
LIBDIR=$(dirname "$PCDIR")
case "$LIBDIR" in
  "$T/prefix/lib" | "$T/prefix/lib64" | "$T/prefix/lib/"*) ;;
  *) fail "unexpected libdir $LIBDIR" ;;
esac
PLUGDIR="$LIBDIR/benchctl/plugins"
[ -f "$PLUGDIR/host-local.so" ] && [ -f "$PLUGDIR/probe-command.so" ] ||
  fail "shipped plugins not installed in $PLUGDIR"
[ -f "$LIBDIR/cmake/Benchctl/BenchctlConfig.cmake" ] || fail "BenchctlConfig.cmake not installed"
[ -f "$T/prefix/include/benchctl/plugin.h" ] || fail "SDK headers not installed"
[ -f "$T/prefix/include/benchctl/helpers.h" ] && [ -f "$LIBDIR/libbenchctl_helpers.a" ] ||
  fail "the helper library (helpers.h, libbenchctl_helpers.a) is not installed"
pass "cmake --install lays out bin, plugins, headers, helper library, benchctl.pc, the CMake package"

# ---- pkg-config and the headers -----------------------------------------
export PKG_CONFIG_PATH="$PCDIR"
abi=$(pkg-config --variable=abi_version benchctl)
ABI=$(sed -n 's/^#define BC_ABI_MAJOR \([0-9]*\).*/\1/p' "$SRC_DIR/sdk/include/benchctl/abi.h").$(sed -n 's/^#define BC_ABI_MINOR \([0-9]*\).*/\1/p' "$SRC_DIR/sdk/include/benchctl/abi.h")
[ "$abi" = "$ABI" ] || fail "pkg-config abi_version is '$abi', expected $ABI"
pcplug=$(pkg-config --variable=pluginsdir benchctl)
[ "$(cd "$pcplug" && pwd -P)" = "$PLUGDIR" ] || fail "pkg-config pluginsdir $pcplug is not $PLUGDIR"
for h in "$T"/prefix/include/benchctl/*.h; do
  echo "#include <benchctl/$(basename "$h")>" |
    "$CC" -fsyntax-only -std=c11 -Werror -Wall -Wextra $(pkg-config --cflags benchctl) -x c - ||
    fail "installed header $(basename "$h") does not compile on its own"
done
pass "pkg-config: abi_version $ABI, pluginsdir, standalone headers"

# nm: the plugin must export bc_plugin_entry and nothing else of its own.
check_exports() {
  command -v nm >/dev/null || return 0
  local syms
  syms=$(nm -D --defined-only "$1" | awk '$2 ~ /^[TDBR]$/ {print $3}' | sort -u)
  [ "$syms" = bc_plugin_entry ] || fail "$1 exports more than bc_plugin_entry: $syms"
  # The example uses the SDK's helper library: linked in, as a local symbol.
  nm "$1" | grep -Eq '^[0-9a-f]+ t bc_path_join_alloc$' ||
    fail "$1 does not contain the helper bc_path_join_alloc (as a hidden symbol)"
}

# ---- (a) pkg-config + make ----------------------------------------------
cp -r "$EX" "$T/mk"
make -C "$T/mk" >"$T/make.log" 2>&1 || fail "make failed: $(cat "$T/make.log")"
grep -q -- "-fvisibility=hidden" "$T/make.log" && grep -q -- "--no-undefined" "$T/make.log" &&
  grep -q -- "-lbenchctl_helpers" "$T/make.log" &&
  grep -q -- "-I$PCDIR" "$T/make.log" || fail "make did not use the SDK flags: $(cat "$T/make.log")"
check_exports "$T/mk/probe-file_contains.so"
make -C "$T/mk" install PLUGINDIR="$T/make-plugins" >>"$T/make.log" 2>&1 ||
  fail "make install failed: $(cat "$T/make.log")"
[ -f "$T/make-plugins/probe-file_contains.so" ] || fail "make install PLUGINDIR= did not install"
make -C "$T/mk" install DESTDIR="$T/stage" >>"$T/make.log" 2>&1 ||
  fail "make install DESTDIR= failed: $(cat "$T/make.log")"
[ -f "$T/stage$PLUGDIR/probe-file_contains.so" ] ||
  fail "make install DESTDIR= did not stage into pluginsdir: $(cd "$T/stage" && find . -type f)"
[ ! -e "$PLUGDIR/probe-file_contains.so" ] || fail "DESTDIR install wrote into the real prefix"
make -C "$T/mk" clean >>"$T/make.log" 2>&1 && [ ! -e "$T/mk/probe-file_contains.so" ] ||
  fail "make clean did not remove the plugin"
pass "pkg-config + make builds, installs (PLUGINDIR, DESTDIR) and cleans"

# ---- (b) CMake ----------------------------------------------------------
cp -r "$EX" "$T/cm"
cmake -S "$T/cm" -B "$T/cm-build" -DCMAKE_PREFIX_PATH="$T/prefix" \
  -DBENCHCTL_PLUGIN_INSTALL_DIR="$T/cmake-plugins" >"$T/cmake.log" 2>&1 ||
  fail "cmake configure failed: $(cat "$T/cmake.log")"
grep -q "^Benchctl_DIR:PATH=$LIBDIR/cmake/Benchctl\$" "$T/cm-build/CMakeCache.txt" ||
  fail "find_package(Benchctl) did not use the temporary prefix: $(grep Benchctl_DIR "$T/cm-build/CMakeCache.txt")"
cmake --build "$T/cm-build" >>"$T/cmake.log" 2>&1 || fail "cmake --build failed: $(cat "$T/cmake.log")"
cmake --install "$T/cm-build" >>"$T/cmake.log" 2>&1 || fail "cmake --install failed: $(cat "$T/cmake.log")"
[ -f "$T/cmake-plugins/probe-file_contains.so" ] || fail "CMake did not install into BENCHCTL_PLUGIN_INSTALL_DIR"
check_exports "$T/cmake-plugins/probe-file_contains.so"
pass "CMake find_package(Benchctl) + benchctl_add_plugin builds and installs"

[ "$(ls -lA "$EX")" = "$src_before" ] || fail "the example's source directory was modified"

# ---- the installed binary ------------------------------------------------
BENCHCTL="$IB"
run_bc plugins --json
expect_rc 0 "plugins --json"
printf '%s' "$OUT" >"$T/plugins.json"
[ "$(json "$T/plugins.json" 'j["search_path"]')" = "['$PLUGDIR']" ] ||
  fail "installed binary's search path is not its own plugin dir: $OUT"
[ "$(json "$T/plugins.json" 'sorted((p["kind"], p["name"], p["path"]) for p in j["plugins"] if p["name"] in ("local", "command"))')" = \
  "[('host', 'local', '$PLUGDIR/host-local.so'), ('probe', 'command', '$PLUGDIR/probe-command.so')]" ] ||
  fail "installed binary does not list its installed plugins: $OUT"
[ "$(json "$T/plugins.json" 'all(p["path"].startswith("'"$PLUGDIR"'/") for p in j["plugins"])')" = True ] ||
  fail "installed binary lists plugins from outside $PLUGDIR: $OUT"
[ "$(json "$T/plugins.json" 'j["refused"]')" = "[]" ] || fail "plugins refused: $OUT"
pass "installed benchctl finds host local and probe command in $PLUGDIR"

for dir in "$T/make-plugins" "$T/cmake-plugins"; do
  run_bc plugins --json --plugin-path "$dir"
  expect_rc 0 "plugins --plugin-path $dir"
  printf '%s' "$OUT" >"$T/plugins.json"
  got=$(json "$T/plugins.json" \
    '[(p["kind"], p["version"], p["abi"], p["path"], sorted((o["name"], o["required"]) for o in p["options"])) for p in j["plugins"] if p["name"] == "file_contains"]')
  [ "$got" = "[('probe', '1.0.0', '$ABI', '$dir/probe-file_contains.so', [('min_size', False), ('pattern', True)])]" ] ||
    fail "file_contains not listed as expected from $dir: $got"
  [ "$(json "$T/plugins.json" 'j["refused"]')" = "[]" ] || fail "plugins refused: $OUT"
  run_bc plugins --plugin-path "$dir"
  expect_rc 0 "plugins (text)"
  grep -Eq "^probe +file_contains +1\.0\.0 +${ABI/./\\.} +$dir/probe-file_contains\.so\$" "$T/.out" ||
    fail "plugins (text) does not list file_contains: $OUT"
done
pass "plugins --plugin-path lists file_contains (probe, 1.0.0, ABI $ABI) from both builds"

# ---- the example benchmark -----------------------------------------------
mkdir "$T/ex"
cp "$EX/benchmark.yaml" "$T/ex/"
cd "$T/ex"
run_bc validate -c benchmark.yaml --plugin-path "$T/make-plugins"
expect_rc 0 "validate example"
run_bc run -c benchmark.yaml --plugin-path "$T/make-plugins" --log-level debug
expect_rc 0 "run example"
m=results/1/metadata.json
[ "$(json $m 'j["status"]')" = success ] || fail "example run status: $(json $m 'j["status"], j["error"]')"
[ "$(json $m '[(p["kind"], p["version"], p["abi"], p["path"]) for p in j["plugins"] if p["name"] == "file_contains"]')" = \
  "[('probe', '1.0.0', '$ABI', '$T/make-plugins/probe-file_contains.so')]" ] ||
  fail "metadata plugins: $(json $m 'j["plugins"]')"
[ "$(json $m '[s["health_check"]["ready"] for s in j["stages"] if "health_check" in s]')" = "[True]" ] ||
  fail "health check not recorded as ready"
expect_in "$ERR" "[probe:file_contains] waiting for 'ready' in $(pwd -P)/flag.txt" "debug log"
[ ! -e flag.txt ] || fail "the example's cleanup did not remove flag.txt"
pass "the example validates and runs with the out-of-tree probe"

# A pattern that never appears: the health check times out, the run fails.
sed -e 's/pattern: ready /pattern: never-there-42 /' -e 's/timeout: 5s/timeout: 300ms/' \
  benchmark.yaml >never.yaml
grep -q 'never-there-42' never.yaml && grep -q 'timeout: 300ms' never.yaml || fail "sed did not edit the config"
run_bc run -c never.yaml --plugin-path "$T/cmake-plugins"
expect_rc 1 "run with a pattern that never appears"
m=results/2/metadata.json
[ "$(json $m 'j["status"]')" = failed ] || fail "status is $(json $m 'j["status"]'), expected failed"
err=$(json $m 'j["error"]')
expect_in "$err" "pattern 'never-there-42' not found yet in $(pwd -P)/flag.txt" "metadata error"
expect_in "$err" "health check file_contains './flag.txt'" "metadata error"
[ "$(json $m '[s["status"] for s in j["stages"] if s["name"] == "use-service"]')" != "['success']" ] ||
  fail "the stage after the failed health check ran"
[ "$(json $m '[(s["status"], s["health_check"]["ready"]) for s in j["stages"] if s["name"] == "start-service"]')" = \
  "[('failed', False)]" ] || fail "start-service not recorded as failed, not ready"
pass "a pattern that never appears fails the run (exit 1) with the reason"

# min_size not reached, on a file that does exist.
sed -e 's/min_size: 6/min_size: 100000/' -e 's/timeout: 5s/timeout: 200ms/' benchmark.yaml >small.yaml
run_bc run -c small.yaml --plugin-path "$T/cmake-plugins"
expect_rc 1 "run with min_size not reached"
expect_in "$(json results/3/metadata.json 'j["error"]')" "flag.txt is too small: 23 bytes, min_size is 100000" "metadata error"
pass "min_size is enforced"

# The plugin's required option missing: a FILE:LINE:COL validation error.
grep -v 'pattern:' benchmark.yaml >nopattern.yaml
run_bc validate -c nopattern.yaml --plugin-path "$T/make-plugins"
expect_rc 2 "validate without pattern"
grep -Eq "^nopattern\.yaml:[0-9]+:[0-9]+: health_check: missing required key 'pattern' \(probe 'file_contains'\)" \
  "$T/.err" || fail "no FILE:LINE:COL error for the missing option: $ERR"
run_bc run -c nopattern.yaml --plugin-path "$T/make-plugins"
expect_rc 2 "run without pattern"
[ ! -e results/4 ] || fail "an invalid config created a run directory"

# check_target: an empty target is refused at validation.
sed -e 's|target: ./flag.txt .*|target: " "|' benchmark.yaml >emptytarget.yaml
run_bc validate -c emptytarget.yaml --plugin-path "$T/make-plugins"
expect_rc 2 "validate with an empty target"
grep -Eq "^emptytarget\.yaml:[0-9]+:[0-9]+: health_check.target ' ': the file name is empty" "$T/.err" ||
  fail "empty target not rejected by check_target: $ERR"

# Without --plugin-path the installed binary does not know the probe.
run_bc validate -c benchmark.yaml
expect_rc 2 "validate without the plugin dir"
expect_in "$ERR" "no probe plugin named 'file_contains' is installed" "validate"
pass "validation errors: required option, empty target, plugin not found (exit 2)"
