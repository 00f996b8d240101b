#!/usr/bin/env bash
# Install what benchctl needs to build, test and run its example on
# Debian 12.  Installs only what is missing; needs root (or sudo) then.
set -euo pipefail

packages=(build-essential clang cmake pkg-config libyaml-dev libcjson-dev libltdl-dev
          libssh-dev libcsv-dev libcurl4-openssl-dev gnuplot-nox openssh-server
          python3 python3-jsonschema python3-yaml python3-numpy bsdutils procps gzip git openssl
          rclone chromium dpkg-dev man-db groff-base zsh fish faketime linux-perf
          slurm-wlm munge)  # slurm-wlm, munge: tests/cli/test_slurm.sh runs a throwaway cluster; faketime: test_clock_ssh

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "scripts/deps.sh: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "scripts/deps.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
