#!/usr/bin/env bash
# Build benchctl's Debian packages into DIR (default: dist/):
#   benchctl, benchctl-ssh, benchctl-gnuplot, benchctl-dev   (cmake/Packaging.cmake)
# from a build in build-pkg/ (BUILD_DIR overrides) configured as a
# distribution would: prefix /usr, no tests, warnings not errors (set
# BENCHCTL_WERROR=ON to make them errors). Needs dpkg-dev (dpkg-shlibdeps
# computes each package's Depends).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
build=${BUILD_DIR:-build-pkg}
scripts/deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" -DCMAKE_INSTALL_PREFIX=/usr \
  -DBENCHCTL_BUILD_TESTS=OFF -DBENCHCTL_WERROR="${BENCHCTL_WERROR:-OFF}" >/dev/null
cmake --build "$build" -j"$(nproc)"
mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$(mktemp -d "$out/.cpack.XXXXXX")
trap 'rm -rf "$stage"' EXIT
cpack --config "$build/CPackConfig.cmake" -B "$stage" >"$stage.log" 2>&1 ||
  { cat "$stage.log" >&2; rm -f "$stage.log"; exit 1; }
rm -f "$stage.log"
for deb in "$stage"/*.deb; do
  mv -f "$deb" "$out/"
  deb="$out/$(basename "$deb")"
  printf '%s\n  Depends: %s\n' "$deb" "$(dpkg-deb -f "$deb" Depends)"
done
echo "install with: sudo apt-get install $out/benchctl_*.deb  (and the -ssh, -gnuplot, -dev packages as wanted)"
