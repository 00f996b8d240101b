#!/usr/bin/env bash
# The Debian packages (cmake/Packaging.cmake): cpack builds the four of
# them from this build tree; each holds what it should and nothing another
# one holds; every shared library an ELF file needs comes from a package
# its Depends name; the files extracted with dpkg -x into a scratch prefix
# work there (the binary finds its plugins relative to itself); and, where
# this test may (root, overlayfs), `apt-get install ./*.deb` into a
# throw-away copy of this system (an overlay mounted in a private mount
# namespace, entered with chroot) installs them, and the quickstart example
# runs from the installed files.
source "$(dirname "$0")/lib.sh"

: "${BUILD_DIR:?BUILD_DIR must point to the build tree}"
for tool in cpack dpkg-deb dpkg-query readelf; do
  command -v "$tool" >/dev/null || fail "this test needs $tool (scripts/deps.sh installs it)"
done
VERSION=$(sed -n 's/^project(benchctl VERSION \([0-9.]*\).*/\1/p' "$SRC_DIR/CMakeLists.txt")
[ -n "$VERSION" ] || fail "no version in CMakeLists.txt"

# ---- build ---------------------------------------------------------------------
cpack --config "$BUILD_DIR/CPackConfig.cmake" -B "$T/pkgs" >"$T/cpack.log" 2>&1 ||
  fail "cpack failed: $(cat "$T/cpack.log")"
cd "$T/pkgs"
debs=$(ls ./*.deb | sed 's|^\./||' | sort | tr '\n' ' ')
ARCH=$(dpkg --print-architecture)
want="benchctl-dev_${VERSION}-1_$ARCH.deb benchctl-gnuplot_${VERSION}-1_$ARCH.deb benchctl-ssh_${VERSION}-1_$ARCH.deb benchctl_${VERSION}-1_$ARCH.deb "
[ "$debs" = "$want" ] || fail "cpack built '$debs', expected '$want'"
pass "cpack builds benchctl, benchctl-ssh, benchctl-gnuplot, benchctl-dev ($VERSION-1, $ARCH)"

# field PACKAGE FIELD: a control field (the control files are read once).
for p in benchctl benchctl-ssh benchctl-gnuplot benchctl-dev; do
  dpkg-deb -f "${p}_${VERSION}-1_$ARCH.deb" >"$T/$p.control"
done
field() { awk -v f="$2" 'index($0, f ": ") == 1 {print substr($0, length(f) + 3); on = 1; next}
                         on && /^ / {print; next} {on = 0}' "$T/$1.control"; }
files() { dpkg-deb -c "$1_${VERSION}-1_$ARCH.deb" | awk '$1 !~ /^d/ {print $6}' | sed 's|^\./|/|' | sort; }
for p in benchctl benchctl-ssh benchctl-gnuplot benchctl-dev; do files $p >"$T/$p.files"; done

has() { # has PACKAGE REGEX...: every REGEX matches a file of PACKAGE
  local p=$1
  shift
  for re in "$@"; do grep -Eq "$re" "$T/$p.files" || fail "$p has no file matching $re: $(cat "$T/$p.files")"; done
}
hasnt() {
  local p=$1
  shift
  for re in "$@"; do ! grep -Eq "$re" "$T/$p.files" || fail "$p unexpectedly has $(grep -E "$re" "$T/$p.files")"; done
}
PD='^/usr/lib/([a-z0-9_-]+/)?benchctl/plugins'
has benchctl '^/usr/bin/benchctl$' "$PD/host-local\.so$" "$PD/host-slurm\.so$" "$PD/probe-command\.so$" "$PD/probe-http\.so$" \
  "$PD/collector-files\.so$" "$PD/validator-csv\.so$" '^/usr/share/man/man1/benchctl\.1\.gz$' \
  '^/usr/share/man/man5/benchctl\.yaml\.5\.gz$' '^/usr/share/man/man7/benchctl-plugins\.7\.gz$' \
  '^/usr/share/bash-completion/completions/benchctl$' '^/usr/share/zsh/vendor-completions/_benchctl$' \
  '^/usr/share/fish/vendor_completions.d/benchctl\.fish$' '^/usr/share/doc/benchctl/copyright$' \
  '^/usr/share/doc/benchctl/README\.md$' '^/usr/share/doc/benchctl/docs/config\.md$' \
  '^/usr/share/doc/benchctl/examples/quickstart/benchmark\.yaml$'
hasnt benchctl 'host-ssh' 'plot-gnuplot' '^/usr/include/' '\.pc$' '\.a$'
has benchctl-ssh "$PD/host-ssh\.so$" "$PD/host-ssh\.d/host-ssh-impl\.so$" '^/usr/share/doc/benchctl-ssh/copyright$'
has benchctl-gnuplot "$PD/plot-gnuplot\.so$" '^/usr/share/doc/benchctl-gnuplot/copyright$'
has benchctl-dev '^/usr/include/benchctl/plugin\.h$' '^/usr/include/benchctl/helpers\.h$' \
  '^/usr/lib/([a-z0-9_-]+/)?libbenchctl_helpers\.a$' '^/usr/lib/([a-z0-9_-]+/)?pkgconfig/benchctl\.pc$' \
  '^/usr/lib/([a-z0-9_-]+/)?cmake/Benchctl/BenchctlConfig\.cmake$' '^/usr/share/doc/benchctl-dev/copyright$'
dup=$(cat "$T"/*.files | sort | uniq -d)
[ -z "$dup" ] || fail "files in more than one package (dpkg would refuse): $dup"
# Everything installed is in one of the packages: nothing left in a component
# no package carries.
cmake --install "$BUILD_DIR" --prefix "$T/all" >"$T/install.log" 2>&1 || fail "cmake --install: $(cat "$T/install.log")"
(cd "$T/all" && find . -type f | sed 's|^\.|/usr|' | sort) >"$T/all.list"
missing=$(sort "$T"/*.files | comm -23 "$T/all.list" -)
[ -z "$missing" ] || fail "installed by cmake --install but in no package: $missing"
pass "each package holds its files (core, ssh, gnuplot, SDK), none twice, none left out"

# ---- control fields --------------------------------------------------------------
dep_ssh=$(field benchctl-ssh Depends)
expect_in "$dep_ssh" "benchctl (= ${VERSION}-1)" "benchctl-ssh Depends"
expect_in "$dep_ssh" "libssh-4" "benchctl-ssh Depends"
expect_not_in "$(field benchctl Depends)" "libssh" "benchctl Depends"
expect_in "$(field benchctl-gnuplot Recommends)" "gnuplot" "benchctl-gnuplot Recommends"
expect_in "$(field benchctl-gnuplot Depends)" "benchctl (= ${VERSION}-1)" "benchctl-gnuplot Depends"
expect_in "$(field benchctl-dev Depends)" "benchctl (= ${VERSION}-1)" "benchctl-dev Depends"
for p in benchctl benchctl-ssh benchctl-gnuplot benchctl-dev; do
  [ "$(field $p Package)" = $p ] && [ -n "$(field $p Maintainer)" ] && [ -n "$(field $p Description)" ] ||
    fail "$p: Package, Maintainer or Description missing"
done
pass "Depends: benchctl-ssh on libssh-4 and benchctl (= $VERSION-1); benchctl-gnuplot recommends gnuplot"

# ---- extract; every library an ELF file needs is in a package Depends names --------
mkdir "$T/root"
for deb in ./*.deb; do dpkg -x "$deb" "$T/root"; done
# deps_closure PACKAGE: the package names PACKAGE's Depends name, and theirs
# (for the benchctl packages).
depnames() { field "$1" Depends | tr ',|' '\n\n' | sed 's/(.*//; s/:.*//; s/ //g' | grep -v '^$'; }
# First every (package, file, soname, library path) the ELF files need...
: >"$T/needs"
for p in benchctl benchctl-ssh benchctl-gnuplot; do
  while IFS= read -r f; do
    case "$f" in */bin/* | *.so) ;; *) continue ;; esac
    case "$(head -c 4 "$T/root$f" | od -An -c | tr -d ' ')" in 177ELF) ;; *) continue ;; esac
    ldd "$T/root$f" >"$T/ldd.out" 2>&1 || fail "ldd $f: $(cat "$T/ldd.out")"
    for so in $(readelf -d "$T/root$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
      lib=$(awk -v so="$so" '$1 == so && $2 == "=>" {print $3; exit}' "$T/ldd.out")
      [ -n "$lib" ] && [ -e "$lib" ] || fail "$f needs $so, which is not installed here: $(cat "$T/ldd.out")"
      echo "$p $f $so $lib" >>"$T/needs"
    done
  done <"$T/$p.files"
done
# ...then who owns each library, in one dpkg-query (it reads every file list):
# the path as ldd gives it, resolved, and with or without /usr (merged /usr).
declare -A owner=()
cands=$(awk '{print $4}' "$T/needs" | sort -u | while read -r lib; do
  r=$(readlink -f "$lib")
  printf '%s\n' "$lib" "$r" "/usr$lib" "/usr$r" "${lib#/usr}" "${r#/usr}"
done | sort -u)
# shellcheck disable=SC2086
dpkg-query -S $cands 2>/dev/null >"$T/owners" || true
while IFS= read -r line; do
  pk=${line%%: *}
  owner[${line#*: }]=${pk%%:*}
done <"$T/owners"
declare -A allowed=()
for p in benchctl benchctl-ssh benchctl-gnuplot; do
  allowed[$p]=$(
    depnames $p
    for q in $(depnames $p | grep '^benchctl'); do depnames "$q"; done
  )
done
checked=0
while read -r p f so lib; do
  r=$(readlink -f "$lib")
  o=
  for cand in "$lib" "$r" "/usr$lib" "/usr$r" "${lib#/usr}" "${r#/usr}"; do
    o=${owner[$cand]:-}
    [ -n "$o" ] && break
  done
  [ -n "$o" ] || fail "no package owns $lib ($so, needed by $f)"
  grep -qx "$o" <<<"${allowed[$p]}" ||
    fail "$p: $f needs $so from $o, which its Depends ($(field $p Depends)) do not name"
  checked=$((checked + 1))
done <"$T/needs"
[ $checked -ge 10 ] || fail "only $checked library dependencies checked"
# And every package named in a Depends is installed here (the archive has it).
for p in benchctl benchctl-ssh benchctl-gnuplot benchctl-dev; do
  for d in $(depnames $p | grep -v '^benchctl'); do
    [ "$(dpkg-query -W -f='${Status}' "$d" 2>/dev/null)" = "install ok installed" ] ||
      grep -q 'Candidate: [0-9]' <<<"$(apt-cache policy "$d" 2>/dev/null)" ||
      fail "$p depends on $d, which is neither installed nor in the archive"
  done
done
pass "every library the ELF files need ($checked) comes from a package their Depends name"

# ---- the extracted files work from a scratch prefix ------------------------------
IB="$T/root/usr/bin/benchctl"
BENCHCTL="$IB"
run_bc plugins --json
expect_rc 0 "plugins --json (extracted)"
printf '%s' "$OUT" >"$T/plugins.json"
PLUGDIR=$(json "$T/plugins.json" 'j["search_path"][0]')
case "$PLUGDIR" in "$T"/root/usr/lib/*benchctl/plugins) ;; *) fail "extracted binary searches $PLUGDIR" ;; esac
[ "$(json "$T/plugins.json" 'sorted(p["kind"] + "-" + p["name"] for p in j["plugins"] if p["kind"] in ("host", "plot"))')" = \
  "['host-local', 'host-slurm', 'host-ssh', 'plot-gnuplot']" ] || fail "extracted plugins: $OUT"
[ "$(json "$T/plugins.json" 'j["refused"]')" = "[]" ] || fail "plugins refused: $OUT"
cp -r "$T/root/usr/share/doc/benchctl/examples/quickstart" "$T/qs"
run_bc validate -c "$T/qs/benchmark.yaml"
expect_rc 0 "validate the installed quickstart (extracted)"
pass "dpkg -x into a scratch prefix: the binary finds its plugins there; the quickstart validates"

# ---- apt-get install ./*.deb into a throw-away root; the quickstart runs there ----
overlay_ok() {
  [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null && command -v apt-get >/dev/null || return 1
  mkdir -p "$T/ov/u" "$T/ov/w" "$T/ov/m"
  unshare -m --propagation private sh -c \
    "mount -t overlay overlay -o lowerdir=/,upperdir=$T/ov/u,workdir=$T/ov/w $T/ov/m" 2>/dev/null
}
host_status=$(dpkg-query -W -f='${Status}' benchctl 2>/dev/null || true)
if ! overlay_ok; then
  echo "skip - apt-get install into an overlay root: needs root, unshare and overlayfs"
  exit 0
fi
mkdir -p "$T/ov/u/tmp/pkgs"
cp ./*.deb "$T/ov/u/tmp/pkgs/"
cat >"$T/ov/u/tmp/inside.sh" <<'EOF'
set -eu
export DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp
unset BENCHCTL_PLUGIN_PATH BENCHCTL_CONFIG_PATH
dpkg-query -W benchctl >/dev/null 2>&1 && { echo "benchctl is already installed on this system" >&2; exit 10; }
cd /tmp/pkgs
rm -f /var/lib/man-db/auto-update   # no mandb run over every page of the system (slow)
if [ -n "$(ls -A /var/lib/dpkg/updates 2>/dev/null)" ]; then
  # The real system is half-way through an apt run of its own (its dpkg
  # journal is not empty), which apt-get refuses; dpkg reads the journal
  # and checks the same Depends.
  echo "installer: dpkg -i (the system's dpkg was busy)"
  dpkg -i ./*.deb >/tmp/apt.log 2>&1 || { cat /tmp/apt.log >&2; exit 11; }
else
  echo "installer: apt-get install"
  apt-get install -y -q --no-install-recommends /tmp/pkgs/*.deb >/tmp/apt.log 2>&1 ||
    { cat /tmp/apt.log >&2; exit 11; }
fi
dpkg-query -W -f='${Package} ${Status}\n' benchctl benchctl-ssh benchctl-gnuplot benchctl-dev
command -v benchctl
benchctl --version
man -w benchctl benchctl.yaml benchctl-plugins
mkdir /tmp/bc-pkg-qs && cp -r /usr/share/doc/benchctl/examples/quickstart/. /tmp/bc-pkg-qs/
cd /tmp/bc-pkg-qs
benchctl run -c benchmark.yaml -m purpose=package-test >/tmp/run.log 2>&1 || { cat /tmp/run.log >&2; exit 12; }
benchctl list -c benchmark.yaml --json >/tmp/list.json
EOF
set +e
timeout 200 unshare -m -p -f --propagation private bash -c '
  set -e
  m=$1
  mount -t overlay overlay -o "lowerdir=/,upperdir=$2/u,workdir=$2/w" "$m"
  mount -t proc proc "$m/proc"
  mount --rbind /dev "$m/dev"
  mount -t tmpfs tmpfs "$m/run"
  exec chroot "$m" bash /tmp/inside.sh' _ "$T/ov/m" "$T/ov" >"$T/inside.out" 2>"$T/inside.err"
rc=$?
set -e
[ $rc -eq 0 ] || fail "apt-get install / quickstart in the overlay root failed (exit $rc): $(cat "$T/inside.out" "$T/inside.err")"
out=$(cat "$T/inside.out")
for p in benchctl benchctl-ssh benchctl-gnuplot benchctl-dev; do
  expect_in "$out" "$p install ok installed" "dpkg status in the overlay root"
done
expect_in "$out" "/usr/bin/benchctl" "command -v benchctl"
expect_in "$out" "benchctl $VERSION" "benchctl --version"
expect_in "$out" "/usr/share/man/man5/benchctl.yaml.5.gz" "man -w"
[ "$(dpkg-query -W -f='${Status}' benchctl 2>/dev/null || true)" = "$host_status" ] ||
  fail "the real system's dpkg status of benchctl changed"
R="$T/ov/u/tmp/bc-pkg-qs/results"
[ "$(json "$T/ov/u/tmp/list.json" '[r["status"] for r in j]')" = "['success']" ] ||
  fail "quickstart runs: $(cat "$T/ov/u/tmp/list.json")"
m="$R/1/metadata.json"
[ "$(json "$m" 'sorted(set(p["path"].rsplit("/", 1)[0] for p in j["plugins"]))')" = \
  "$(printf "['%s']" "$(dirname "$(json "$m" '[p["path"] for p in j["plugins"] if p["name"] == "local"][0]')")")" ] ||
  fail "plugins from several directories: $(json "$m" 'j["plugins"]')"
case "$(json "$m" '[p["path"] for p in j["plugins"] if p["name"] == "gnuplot"][0]')" in
  /usr/lib/*benchctl/plugins/plot-gnuplot.so) ;;
  *) fail "gnuplot plugin not from the installed directory: $(json "$m" 'j["plugins"]')" ;;
esac
[ -n "$(find "$R/1/plots" -name '*.png' 2>/dev/null)" ] ||
  fail "the quickstart drew no PNG plot: $(ls -R "$R/1")"
[ "$(json "$R/1/results.json" 'len(j["cases"])')" = 2 ] || fail "results.json: $(head -c 400 "$R/1/results.json")"
pass "$(sed -n 's/^installer: //p' "$T/inside.out") ./*.deb into an overlay root; the installed quickstart runs (success, plots, results)"
