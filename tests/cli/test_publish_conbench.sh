#!/usr/bin/env bash
# Publishing to a real Conbench server (../shared/conbench: the upstream web
# app on PostgreSQL, loopback only), started once for this file and stopped
# from the trap.  A run with matrix cases, a repeated stage and an output
# with units is published at the end of `benchctl run`; the results are read
# back through Conbench's API and checked value by value (unit conversion,
# tags, machine_info, run id); republishing is refused without --force and
# --force never duplicates; --dry-run needs no server; a wrong password
# (exit 4), a server that is down and a server answering 400 fail the
# publish and leave the run alone; --pending picks up what was not sent; a
# failed stage is sent as an error result; the password reaches no file.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
CB="${CONBENCH_FIXTURE:-$SRC_DIR/../shared/conbench}"
[ -f "$CB/start.sh" ] || { echo "SKIP: no Conbench fixture at $CB"; exit 0; }
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: the Conbench fixture needs root (postgres runs as user postgres)"; exit 0
fi

CB_RUN=""
stop_cb() { [ -z "$CB_RUN" ] || bash "$CB/stop.sh" "$CB_RUN" >/dev/null 2>&1 || true; }
cleanup_hooks+=("stop_cb")
cb_env=$(bash "$CB/start.sh" 2>"$T/cb-start.log") || {
  cat "$T/cb-start.log" >&2; fail "the Conbench fixture did not start (log above)"; }
eval "export $cb_env"
URL="$CONBENCH_URL"
GOOD_PASSWORD="$CONBENCH_PASSWORD"
export CONBENCH_PROJECT_REPOSITORY=https://github.com/example-org/bench-repo
export CONBENCH_PROJECT_COMMIT=0123456789abcdef0123456789abcdef01234567
export CONBENCH_MACHINE_INFO_NAME=bench-box-1
unset CONBENCH_PROJECT_PR_NUMBER CONBENCH_PROJECT_BRANCH

# GET a Conbench API path (public), print the JSON.
cb_get() { curl -sS -f --noproxy '*' --max-time 30 "$URL$1"; }
# How many results the server holds for a Conbench run id.
cb_count() { cb_get "/api/benchmark-results/?run_id=$1&page_size=1000" | jsons 'len(j["data"])'; }

write_config bench.yaml <<'YAML'
benchmark:
  name: pubtest
  output_dir: ./runs
matrix:
  size: [10, 20]
publish:
  to: conbench
  on: success
  retries: 1
stages:
  - name: spin
    command: "true"
    repeat: 3
  - name: produce
    command: |
      echo "ts_ms,latency_ms,bytes,cpu" > out.csv
      for i in 1 2 3 4 5 6 7 8 9 10; do
        echo "$((1700000000000 + i * 100)),$i.5,$((i * size)),$((i * 3))" >> out.csv
      done
    outputs:
      - name: lat
        remote_path: out.csv
        data_schema:
          columns:
            - {name: ts_ms, type: timestamp, format: unix_ms}
            - {name: latency_ms, type: float, unit: ms}
            - {name: bytes, type: integer, unit: KiB}
            - {name: cpu, type: integer, unit: "%"}
YAML

# ---- 1. published at the end of the run ----------------------------------------
run_bc run -c bench.yaml
expect_rc 0 "run 1 (published at its end)"
expect_in "$ERR" "publish: run 1 published to conbench"
[ "$(json runs/1/metadata.json 'j["status"]')" = success ] || fail "run 1 succeeded"
[ "$(json runs/1/metadata.json 'j["publish"]["status"]')" = published ] || fail "metadata publish.status"
RID=$(json runs/1/published.json 'j["conbench"]["run_id"]')
case "$RID" in benchctl-pubtest-1-*) ;; *) fail "Conbench run id derived from the stored run: $RID" ;; esac
[ "$(json runs/1/published.json 'j["conbench"]["server"]')" = "$URL" ] || fail "record names the server"
# 2 cases x (1 wall time + 2 columns x 2 statistics + 1 rows/s) = 12; cpu (%) not sent
[ "$(json runs/1/published.json 'j["conbench"]["results"]')" = 12 ] || fail "12 results recorded"
[ "$(cb_count "$RID")" = 12 ] || fail "the server holds 12 results of run 1"
[ "$(grep -c "not sent: produce/lat.cpu: unit '%'" <<<"$ERR")" = 1 ] ||
  fail "the metric that cannot be sent is named once: $ERR"
[ "$(json runs/1/published.json 'j["conbench"]["not_sent"]')" = \
  "[\"produce/lat.cpu: unit '%' has no Conbench equivalent (Conbench takes s, ns, B, B/s and i/s)\"]" ] ||
  fail "published.json lists what was not sent: $(cat runs/1/published.json)"
pass "run published at its end: 12 results, the % column named once as not sent"

# Every value, unit, tag and machine_info field, read back from the server.
cb_get "/api/benchmark-results/?run_id=$RID&page_size=1000" > server.json
"$PY" - runs/1/metadata.json runs/1/published.json server.json <<'PY' || fail "values read back"
import json, sys
meta = json.load(open(sys.argv[1]))
rec = json.load(open(sys.argv[2]))["conbench"]
got = json.load(open(sys.argv[3]))["data"]
assert sorted(r["id"] for r in got) == sorted(rec["ids"]), "ids in published.json"
by = {(r["tags"]["name"], r["tags"]["case"]): r for r in got}
assert len(by) == 12, sorted(by)
def close(a, b):
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))
mach = meta["machine"]
for st in meta["stages"]:
    case = st["case"]
    size = next(c for c in meta["cases"] if c["name"] == case)["parameters"]["size"]
    if st["name"] == "spin":
        r = by[("pubtest.spin.wall_time", case)]
        want = [x["wall_s"] for x in st["repeat"]["runs"]]
        assert r["stats"]["unit"] == "s" and len(r["stats"]["data"]) == 3, r["stats"]
        assert all(close(float(a), b) for a, b in zip(r["stats"]["data"], want)), (r["stats"], want)
        assert r["tags"] == {"name": "pubtest.spin.wall_time", "benchmark": "pubtest",
                             "stage": "spin", "metric": "wall_time", "case": case,
                             "size": str(size)}, r["tags"]
        continue
    cols = st["outputs"][0]["statistics"]["columns"]
    for col, factor, unit in (("latency_ms", 1e-3, "s"), ("bytes", 1024, "B")):
        for stat in ("median", "p99"):
            r = by[("pubtest.produce.lat.%s.%s" % (col, stat), case)]
            assert r["stats"]["unit"] == unit, (col, r["stats"])
            assert close(float(r["stats"]["data"][0]), cols[col][stat] * factor), (col, stat, r["stats"])
            t = r["tags"]
            assert (t["output"], t["column"], t["statistic"], t["size"], t["stage"]) == \
                ("lat", col, stat, str(size), "produce"), t
    r = by[("pubtest.produce.lat.rows_per_s", case)]
    rate = st["outputs"][0]["statistics"]["rates"][0]["rows_per_s"]
    assert r["stats"]["unit"] == "i/s" and close(float(r["stats"]["data"][0]), rate), r["stats"]
for r in got:
    assert r["run_id"] == rec["run_id"] and r["run_reason"] == "benchctl", r
    assert r["batch_id"] == rec["run_id"] + "-" + r["tags"]["case"], r["batch_id"]
    assert r["commit"]["sha"] == "0123456789abcdef0123456789abcdef01234567", r["commit"]
    assert r["commit"]["repository"] == "https://github.com/example-org/bench-repo", r["commit"]
    hw = r["hardware"]
    assert hw["name"] == "bench-box-1", hw
    assert hw["architecture_name"] == mach["arch"] and hw["kernel_name"] == mach["kernel"], hw
    assert hw["cpu_model_name"] == mach["cpu_model"] and hw["os_name"] == mach["os"], hw
    assert int(hw["memory_bytes"]) == int(mach["memory_bytes"]), hw
    assert int(hw["cpu_thread_count"]) == int(mach["cpu_thread_count"]), hw
    assert int(hw["cpu_core_count"]) == int(mach["cpu_core_count"]), hw
    assert int(hw["cpu_l1d_cache_bytes"]) == int(mach["cpu_l1d_cache_bytes"]), hw
    assert int(hw["gpu_count"]) == int(mach["gpu_count"]), hw
print("values ok")
PY
cb_get "/api/runs/$RID/" | jsons 'j["id"] + " " + j["hardware"]["name"]' > run.txt
[ "$(cat run.txt)" = "$RID bench-box-1" ] || fail "GET /api/runs/$RID/: $(cat run.txt)"
pass "read back through the API: every value, unit conversion (ms->s, KiB->B, rows/s->i/s), tag, machine_info and the run"

# ---- 2. republishing: refused without --force, never duplicated with it -----------
run_bc publish 1 -c bench.yaml
expect_rc 0 "publish 1 again"
expect_in "$ERR" "Run 1 is already published to conbench (its published.json); nothing sent"
[ "$(cb_count "$RID")" = 12 ] || fail "nothing sent again"
old_ids=$(json runs/1/published.json 'sorted(j["conbench"]["ids"])')
run_bc publish 1 -c bench.yaml --force
expect_rc 0 "publish 1 --force"
[ "$(cb_count "$RID")" = 12 ] || fail "--force replaced, not duplicated: $(cb_count "$RID")"
[ "$(json runs/1/published.json 'j["conbench"]["run_id"]')" = "$RID" ] || fail "same Conbench run"
[ "$(json runs/1/published.json 'sorted(j["conbench"]["ids"])')" != "$old_ids" ] || fail "new ids recorded"
# Without the record (lost), the server's copy still prevents a duplicate.
mv runs/1/published.json runs/1/published.json.bak
run_bc publish 1 -c bench.yaml
expect_rc 1 "publish 1 without its record"
expect_in "$ERR" "already has 12 results of run 1"
expect_in "$ERR" "--force replaces them"
[ "$(cb_count "$RID")" = 12 ] || fail "still 12"
mv runs/1/published.json.bak runs/1/published.json
pass "republish: refused without --force (also when the record is lost), --force replaces: still 12"

# ---- 3. --dry-run: the JSON it would send, no server -----------------------------
cp runs/1/metadata.json meta1.before
cp runs/1/published.json pub1.before
CONBENCH_URL=http://127.0.0.1:9 CONBENCH_PASSWORD= run_bc publish 1 -c bench.yaml --dry-run
expect_rc 0 "publish --dry-run"
"$PY" -c '
import json, sys
d = json.loads(sys.stdin.read())
assert isinstance(d, list) and len(d) == 12, len(d)
for r in d:
    assert set(r) >= {"run_id", "batch_id", "timestamp", "tags", "context", "github", "machine_info"}, r.keys()
    assert len(r["machine_info"]) == 16, sorted(r["machine_info"])
    assert r["run_id"] == sys.argv[1]
print("dry ok")' "$RID" <<<"$OUT" >/dev/null || fail "--dry-run prints the 12 results as JSON: $OUT"
cmp -s meta1.before runs/1/metadata.json && cmp -s pub1.before runs/1/published.json ||
  fail "a dry run records nothing"
pass "--dry-run prints the JSON (checked with python's json), contacts no server"

# ---- 3b. the repository from the run's git remote (without its token) ----------
mkdir -p gitproj
git -C gitproj init -q
git -C gitproj remote add origin "https://ci-bot:tok3n-$$@github.com/remote-org/remote-repo.git"
write_config gitproj/b.yaml <<'YAML'
benchmark: {name: gitpub, output_dir: ./runs}
publish: {to: conbench, on: never}
stages:
  - name: spin
    command: "true"
    repeat: 2
YAML
run_bc run -c gitproj/b.yaml
expect_rc 0 "run in a git work tree"
! grep -rq "tok3n" gitproj/runs || fail "the remote's token reached the run store"
[ "$(json gitproj/runs/1/metadata.json 'j["git"]["remote_url"]')" = "https://github.com/remote-org/remote-repo.git" ] ||
  fail "git.remote_url: $(json gitproj/runs/1/metadata.json 'j["git"]')"
(unset CONBENCH_PROJECT_REPOSITORY
 CONBENCH_URL=http://127.0.0.1:9 CONBENCH_PASSWORD= run_bc publish 1 -c gitproj/b.yaml --dry-run
 expect_rc 0 "publish --dry-run with the repository from git"
 [ "$(jsons '{r["github"]["repository"] for r in j}' <<<"$OUT")" = "{'https://github.com/remote-org/remote-repo'}" ] ||
   fail "github.repository not derived from the git remote: $OUT")
pass "github.repository defaults to the run's GitHub remote; no token in the store"

# ---- 4. wrong password: exit 4, run untouched; at the end of a run: a warning -----
CONBENCH_PASSWORD=wrong-pass-123 run_bc publish 1 -c bench.yaml --force
expect_rc 4 "publish with a wrong password"
expect_in "$ERR" "refused the login of test@example.com (HTTP 400: Invalid email or password.)"
expect_not_in "$ERR" "wrong-pass-123"
[ "$(cb_count "$RID")" = 12 ] || fail "the published results stay"
[ "$(json runs/1/metadata.json 'j["status"]')" = success ] || fail "run 1 still a success"
CONBENCH_PASSWORD=wrong-pass-123 run_bc run -c bench.yaml
expect_rc 0 "run 2 with a wrong password: the run succeeds"
expect_in "$ERR" "run 2 was stored but not published to conbench"
expect_in "$ERR" "retry with: benchctl publish 2 --to conbench"
expect_not_in "$ERR" "wrong-pass-123"
[ "$(json runs/2/metadata.json 'j["status"]')" = success ] || fail "run 2's status is success"
[ "$(json runs/2/metadata.json 'j["publish"]["status"]')" = failed ] || fail "run 2's publish failed"
[ "$(json runs/2/metadata.json 'j["publish"]["retry"]')" = "benchctl publish 2 --to conbench" ] || fail "retry hint"
[ -s runs/2/cases/size=10/lat.csv ] || fail "run 2's data is kept"
[ ! -e runs/2/published.json ] || fail "no record of a failed publish"
pass "wrong password: exit 4 and a clear message; a run's end only warns, its data and status unchanged"

# ---- 5. server down during a run, then --pending --------------------------------
CONBENCH_URL=http://127.0.0.1:9 run_bc run -c bench.yaml
expect_rc 0 "run 3 while the server is down"
expect_in "$ERR" "failed after 2 attempts"
expect_in "$ERR" "run 3 was stored but not published"
[ "$(json runs/3/metadata.json 'j["status"]')" = success ] || fail "run 3's status is success"
[ "$(json runs/3/metadata.json 'j["publish"]["status"]')" = failed ] || fail "run 3's failure recorded"
expect_in "$(json runs/3/metadata.json 'j["publish"]["error"]')" "127.0.0.1:9"
run_bc publish --pending -c bench.yaml
expect_rc 0 "publish --pending"
expect_in "$ERR" "Published run 2 to conbench"
expect_in "$ERR" "Published run 3 to conbench"
expect_not_in "$ERR" "run 1"
for id in 2 3; do
  rid=$(json runs/$id/published.json 'j["conbench"]["run_id"]')
  [ "$(cb_count "$rid")" = 12 ] || fail "run $id: 12 results after --pending"
  [ "$(json runs/$id/metadata.json 'j["publish"]["status"]')" = published ] || fail "run $id published"
done
run_bc publish --pending -c bench.yaml
expect_rc 0 "nothing pending"
expect_in "$OUT" "Nothing to publish"
pass "server down: the run succeeds, the failure is recorded; --pending sends runs 2 and 3"

# ---- 6. a server answering 400: the field it names, nothing left behind ------------
CONBENCH_PROJECT_REPOSITORY=https://gitlab.com/example-org/bench-repo run_bc publish 1 -c bench.yaml --force
expect_rc 1 "publish with a repository Conbench refuses"
expect_in "$ERR" "Conbench rejected result 'pubtest.spin.wall_time' of run 1 (HTTP 400): field 'github'"
[ "$(cb_count "$RID")" = 12 ] || fail "a failed forced send leaves the old results: $(cb_count "$RID")"
[ "$(json runs/1/published.json 'sorted(j["conbench"]["ids"])')" = \
  "$(cb_get "/api/benchmark-results/?run_id=$RID&page_size=1000" | jsons 'sorted(r["id"] for r in j["data"])')" ] ||
  fail "published.json still names what the server holds"
pass "HTTP 400: the server's message and field; nothing half-sent, the old results kept"

# ---- 6b. Conbench answering 500 (its database is down): retried, then a clear error --
PGDATA="$CB_RUN/pg/data"
PG_PORT=$(tr '\0' '\n' < "/proc/$(cat "$CB_RUN/conbench.pid")/environ" | sed -n 's/^DB_PORT=//p')
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups env HOME="$CB_RUN/pg" "$@"; }
as_pg /usr/lib/postgresql/15/bin/pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
run_bc publish 2 -c bench.yaml --force
expect_rc 1 "publish while Conbench's database is down"
expect_in "$ERR" "HTTP 500: unexpected exception, please report this: ...; retrying in 250 ms (attempt 2 of 2)"
expect_in "$ERR" "POST $URL/api/login/ failed after 2 attempts: HTTP 500"
[ "$(json runs/2/metadata.json 'j["publish"]["status"]')" = failed ] || fail "the 500 is recorded"
as_pg /usr/lib/postgresql/15/bin/pg_ctl -D "$PGDATA" -l "$CB_RUN/pg/postgres.log" -o "-p $PG_PORT" -w -t 60 start >/dev/null </dev/null
run_bc publish 2 -c bench.yaml --force
expect_rc 0 "publish once the database is back"
[ "$(cb_count "$(json runs/2/published.json 'j["conbench"]["run_id"]')")" = 12 ] || fail "run 2: still 12"
pass "HTTP 500: retried with backoff, then a clear error; the next publish works"

# ---- 7. a failed stage is sent as an error --------------------------------------
write_config fail.yaml <<'YAML'
benchmark:
  name: pubfail
  output_dir: ./runs
publish: {to: conbench, on: success}
stages:
  - name: broken
    command: exit 3
YAML
run_bc run -c fail.yaml
expect_rc 1 "run 4 fails"
expect_in "$ERR" "publish: run 4 did not succeed, so it is not published"
[ ! -e runs/4/published.json ] || fail "on: success: a failed run is not published"
run_bc publish 4 -c fail.yaml
expect_rc 0 "publish the failed run explicitly"
rid=$(json runs/4/published.json 'j["conbench"]["run_id"]')
cb_get "/api/benchmark-results/?run_id=$rid" | jsons '[(r["tags"]["name"], r["error"]["status"], r["error"]["exit_status"], r["stats"]["data"]) for r in j["data"]]' > err.txt
[ "$(cat err.txt)" = "[('pubfail.broken', 'failed', 3, [])]" ] || fail "error result: $(cat err.txt)"
pass "a failed stage is one error result (status, exit status)"

# ---- 8. the password never reaches disk ------------------------------------------
write_config secret.yaml <<YAML
benchmark:
  name: pubsecret
  output_dir: ./runs
publish:
  to: conbench
  password: $GOOD_PASSWORD-in-config
stages:
  - name: spin
    command: "true"
    repeat: 2
YAML
CONBENCH_PASSWORD="" run_bc run -c secret.yaml
expect_rc 0 "run 5 (password from the config, wrong on purpose)"
expect_not_in "$ERR" "$GOOD_PASSWORD-in-config"
! grep -rl -- "$GOOD_PASSWORD" runs/ >/dev/null || fail "a password reached the run store: $(grep -rl -- "$GOOD_PASSWORD" runs/)"
expect_in "$(cat runs/5/config.yaml)" '<redacted>'
pass "no password in the run store or the messages (publish.password is redacted)"

# ---- 9. usage errors ----------------------------------------------------------------
run_bc publish -c bench.yaml
expect_rc 2 "publish without IDs"
expect_in "$ERR" "give the run IDs (or tags) to publish, or --pending"
run_bc publish 99 -c bench.yaml
expect_rc 2 "unknown run"
run_bc publish 1 -o runs
expect_rc 2 "no publisher named"
expect_in "$ERR" "no publisher: give --to NAME"
run_bc publish 1 -o runs --to nosuch
expect_rc 2 "unknown publisher"
pass "usage errors exit 2"
