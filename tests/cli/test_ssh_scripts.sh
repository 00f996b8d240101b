#!/usr/bin/env bash
# SSH transport: `script:` stages - the script is uploaded over SFTP into
# the run's private directory on the host (mode 0700), run from there,
# uploaded once per run, and gone with the directory when the run ends;
# $BENCHCTL_METADATA_FILE lives there too; a host whose disk is full
# refuses the upload with a clear error.
source "$(dirname "$0")/lib.sh"
source "$SRC_DIR/tests/cli/sshd_lib.sh"
sshd_require
unset SSH_AUTH_SOCK
sshd_keys
sshd_start a
HOST=$(ssh_host_yaml a)
meta() { echo "$1/$(ls "$1" | sort -n | tail -1)/metadata.json"; }

mkdir -p scripts
cat >scripts/exec.sh <<'SH'
#!/bin/sh
echo "exec.sh runs as $0 mode $(stat -c %a "$0") case ${BENCHCTL_CASE_NAME:-none}"
SH
chmod 755 scripts/exec.sh
cat >scripts/plain.sh <<'SH'
echo "plain.sh runs with $(basename "$(readlink /proc/$$/exe)") from $(dirname "$0")"
SH
chmod 644 scripts/plain.sh
write_config s.yaml <<YAML
benchmark: {name: scripts, output_dir: ./runs}
hosts:
  a: $HOST
cases:
  - {name: one}
  - {name: two}
stages:
  - name: run-exec
    host: a
    script: scripts/exec.sh
  - name: run-plain
    host: a
    script: scripts/plain.sh
  - name: where
    host: a
    command: echo "dir=\$BENCHCTL_HOST_TMPDIR"; ls "\$BENCHCTL_HOST_TMPDIR/scripts"
YAML
run_bc run -c s.yaml
expect_rc 0 "script stages"
expect_in "$OUT" "exec.sh runs as /tmp/benchctl."
expect_in "$OUT" "/scripts/run-exec-exec.sh mode 700 case one"
expect_in "$OUT" "mode 700 case two"
expect_in "$OUT" "plain.sh runs with bash from /tmp/benchctl."
dir=$(sed -n 's/^dir=//p' <<<"$OUT" | head -1)
[ -n "$dir" ] || fail "no private directory reported"
[ ! -e "$dir" ] || fail "the private directory (and the scripts) survived the run: $(ls -R "$dir")"
pass "scripts uploaded into the private directory (0700), run there, removed with it"

# Uploaded once per run: both cases ran the same copy.
log=$(grep -c "Starting session: subsystem 'sftp'" "$T/sshd-a/sshd.log" || true)
[ "$log" -le 1 ] || fail "SFTP started $log times in one run"
pass "one SFTP session for all uploads of the run"

# $BENCHCTL_METADATA_FILE on a remote host: a fresh name in the run's
# private directory for every stage run (removed with it, as checked
# above), fetched and merged for append_metadata stages.
write_config m.yaml <<YAML
benchmark: {name: remote-meta, output_dir: ./runs-meta}
hosts:
  a: $HOST
cases:
  - {name: one}
  - {name: two}
stages:
  - name: writes-file
    host: a
    append_metadata: true
    command: |
      echo "file=\$BENCHCTL_METADATA_FILE dir=\$BENCHCTL_HOST_TMPDIR"
      [ ! -e "\$BENCHCTL_METADATA_FILE" ] || echo "the file exists already"
      printf '{"from_file_%s": "yes"}' "\$BENCHCTL_CASE_NAME" > "\$BENCHCTL_METADATA_FILE"
YAML
run_bc run -c m.yaml
expect_rc 0 "remote metadata files"
expect_not_in "$OUT" "the file exists already"
files=$(sed -n 's/^file=\([^ ]*\) dir=.*/\1/p' <<<"$OUT")
[ "$(sort -u <<<"$files" | wc -l)" = 2 ] || fail "expected two different metadata files: $files"
while read -r line; do
  f=${line#file=}; f=${f%% dir=*}; d=${line##* dir=}
  [ -n "$d" ] && [ "${f#"$d"/}" != "$f" ] || fail "metadata file $f is not in the private directory $d"
done < <(grep '^file=' <<<"$OUT")
c=$(json "$(meta runs-meta)" 'sorted(j["custom"].items())')
[ "$c" = "[('from_file_one', 'yes'), ('from_file_two', 'yes')]" ] || fail "custom is $c"
pass "remote \$BENCHCTL_METADATA_FILE: one fresh file per stage run in the private directory, merged"

# A host whose /tmp is full: the upload fails with a clear error.
SSHD_TMP_SIZE=2m sshd_start tiny
head -c 6M /dev/urandom | base64 >scripts/huge.sh
write_config full.yaml <<YAML
benchmark: {name: full, output_dir: ./runs-full}
hosts:
  tiny: $(ssh_host_yaml tiny)
stages:
  - name: upload
    host: tiny
    script: scripts/huge.sh
YAML
run_bc run -c full.yaml
expect_rc 1 "upload to a full disk"
expect_in "$ERR" "stage 'upload': cannot upload script $T/scripts/huge.sh to host 'tiny'"
expect_in "$ERR" "no space left on the remote file system"
m=$(meta runs-full)
[ "$(json $m 'j["status"]')" = failed ] || fail "status should be failed"
# Nothing is left in the host's /tmp (its mount namespace, seen through sshd).
left=$(ls -A "/proc/$(sshd_pid tiny)/root/tmp" | grep -v "^$(basename "$T")$" || true)
[ -z "$left" ] || fail "left in the tiny /tmp: $left"
pass "remote disk full during upload: clear error, status failed, nothing left behind"
