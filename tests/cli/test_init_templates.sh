#!/usr/bin/env bash
# `benchctl init --template NAME`: every template validates; the default
# starter runs as written and ends in a real verdict and a real figure (a
# repeated stage, a validated CSV output with a schema, a plot per case, two
# cases that compare); the command-timing and HTTP-load templates run too.
source "$(dirname "$0")/lib.sh"

run_bc init --template list
expect_rc 0 "init --template list"
for t in starter command http ssh; do expect_in "$OUT" "  $t " "template list"; done
run_bc init --template nope
expect_rc 2 "unknown template"
expect_in "$ERR" "no template 'nope'; the templates:" "unknown template"
[ ! -e benchmark.yaml ] || fail "an unknown template wrote a file"

for t in starter command http ssh; do
  run_bc init -t "$t" -f "$t.yaml" --name "tpl-$t"
  expect_rc 0 "init -t $t"
  run_bc validate "$t.yaml"
  expect_rc 0 "validate the $t template"
  expect_in "$OUT" "benchmark 'tpl-$t'" "validate $t"
done
run_bc init
expect_rc 0 "init (default)"
cmp -s benchmark.yaml <(sed 's/tpl-starter/my-benchmark/' starter.yaml) || fail "the default is not the starter"
pass "every template validates; the default is the starter"

# ---- the starter runs: a verdict and a figure ---------------------------------------
run_bc run -c benchmark.yaml --json
expect_rc 0 "run the starter"
printf '%s' "$OUT" >s.json
[ "$(json s.json '[c["name"] for c in j["cases"]]')" = "['small', 'large']" ] || fail "starter cases"
[ "$(json s.json '[c["repeated_stages"][0]["runs"] for c in j["cases"]]')" = "[10, 10]" ] || fail "repeat"
[ "$(json s.json '[(o["name"], o["rows"], o["valid"], o["success"]["rate"]) for o in j["cases"][0]["outputs"]]')" = \
  "[('requests', 20, True, 1)]" ] || fail "the CSV output: $(json s.json 'j["cases"][0]["outputs"]')"
[ "$(json s.json 'len(j["plots"])')" = 2 ] || fail "a plot per case: $(json s.json 'j["plots"]')"
for p in $(json s.json '" ".join(j["plots"])'); do
  [ "$(head -c 4 "$p" | od -An -c | tr -d ' ')" = '211PNG' ] || fail "$p is not a PNG"
done
run_bc compare latest --cases -c benchmark.yaml --json
expect_rc 0 "compare the starter's cases"
[ "$(jsons '[m["metric"] for m in j["metrics"] if m["comparisons"][0]["verdict"]]' <<<"$OUT")" = \
  "['stage:sort.wall_s', 'requests.latency_ms', 'requests.rows_per_s', 'requests.success_rate']" ] ||
  fail "verdicts: $(jsons '[m["metric"] for m in j["metrics"]]' <<<"$OUT")"
pass "the starter runs: repeated stage, validated CSV, a PNG per case, verdicts between its cases"

# ---- command timing; HTTP load (on a free port, fewer requests) ------------------------
run_bc run -c command.yaml
expect_rc 0 "run the command template"
grep -qE '^  compress +15 ' <<<"$OUT" || fail "compress: 15 runs: $OUT"
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -e "s/8765/$port/g" -e 's/seq 1 100/seq 1 15/' http.yaml >http-test.yaml
if command -v curl >/dev/null; then
  run_bc run -c http-test.yaml
  expect_rc 0 "run the http template"
  grep -qE '^  requests +15 +[0-9.]+/s +100% +latency_ms ' <<<"$OUT" || fail "http: 15 requests, all 200: $OUT"
  expect_not_in "$OUT" '"GET / HTTP/1.1"' "the quiet server's access log"
  pass "the command-timing and HTTP-load templates run"
else
  pass "the command-timing template runs (curl missing: http template not run)"
fi
