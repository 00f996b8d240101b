#!/usr/bin/env bash
# The `http` health-check probe against a real HTTP server on 127.0.0.1 (a
# small python3 http.server the test starts): 503 then 200, the status,
# body and method options, request_timeout, a refused connection, a
# server started by a stage after a delay, a background service that dies
# before it is ready, HTTPS with and without certificate verification, and
# validation errors with FILE:LINE:COL.
source "$(dirname "$0")/lib.sh"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
run_id() { sed -n '1s/^Run ID: //p' <<<"$OUT"; }
meta() { echo "results/$(run_id)/metadata.json"; }
hc() { json "$(meta)" "j['stages'][${2:-0}]['health_check']['$1']"; }

# The test server.  Paths:
#   /fail/N/...    503 for the first N requests to this exact path, then 200
#   /status/CODE/  always CODE
#   /sleep/SECS/   200 after SECS seconds
#   /big/          200 with 2 MiB of 'x' followed by "needle"
# Every answer (but /big/) has the body "service ready: PATH request N".
# Each request is logged as "METHOD PATH" in LOG.
cat >server.py <<'PY'
import http.server, os, ssl, sys, threading, time, collections
port, portfile, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
delay = float(sys.argv[4]) if len(sys.argv) > 4 else 0
cert = sys.argv[5] if len(sys.argv) > 5 else None
counts, lock = collections.Counter(), threading.Lock()

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive: the probe reuses its connection
    def log_message(self, *a): pass
    def answer(self, send_body):
        with lock:
            counts[self.path] += 1
            n = counts[self.path]
            with open(log, "a") as f:
                f.write(f"{self.command} {self.path}\n")
        parts = self.path.strip("/").split("/")
        code, body = 200, f"service ready: {self.path} request {n}\n".encode()
        if parts[0] == "fail":
            code = 503 if n <= int(parts[1]) else 200
        elif parts[0] == "status":
            code = int(parts[1])
        elif parts[0] == "sleep":
            time.sleep(float(parts[1]))
        elif parts[0] == "big":
            body = b"x" * (2 * 1024 * 1024) + b"needle"
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)
    def do_GET(self): self.answer(True)
    def do_HEAD(self): self.answer(False)

time.sleep(delay)
srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
srv.handle_error = lambda *a: None   # a client that gave up (request_timeout) is expected
if cert:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert + ".crt", cert + ".key")
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
PY

# start_server NAME [DELAY [CERT]]: runs the server in the background on a
# free port; sets PORT.
start_server() {
  python3 server.py 0 "$T/$1.port" "$T/requests.log" 0 ${3:+"$3"} &
  cleanup_hooks+=("kill $! 2>/dev/null")
  for _ in $(seq 200); do [ -s "$T/$1.port" ] && break; sleep 0.02; done
  [ -s "$T/$1.port" ] || fail "the test server $1 did not start"
  PORT=$(cat "$T/$1.port")
}
requests() { grep -c "^$1 $2\$" "$T/requests.log" || true; }

# hc_config FILE URL [HEALTH_CHECK_KEYS...]: one stage probed with http.
hc_config() {
  local f=$1 url=$2
  shift 2
  {
    printf 'benchmark: {name: http, output_dir: ./results}\nstages:\n'
    printf '  - name: service\n    command: "true"\n    health_check:\n'
    printf '      type: http\n      target: "%s"\n' "$url"
    for k in "$@"; do printf '      %s\n' "$k"; done
  } >"$f"
}

start_server main
U="http://127.0.0.1:$PORT"

# ---- 503 three times, then 200 ------------------------------------------
hc_config fail3.yaml "$U/fail/3/a" "timeout: 10s"
run_bc run -c fail3.yaml
expect_rc 0 "503 then 200"
[ "$(hc ready)" = True ] || fail "503 then 200: not ready"
[ "$(hc attempts)" = 4 ] || fail "503 x3 then 200: expected 4 attempts, got $(hc attempts)"
[ "$(requests GET /fail/3/a)" = 4 ] || fail "expected 4 GET requests, the server saw $(requests GET /fail/3/a)"
expect_not_in "$OUT" "service ready" "stdout (the probe must print nothing)"
expect_not_in "$ERR" "service ready" "stderr"
pass "a server answering 503 three times then 200: ready on the 4th request, nothing printed"

# ---- the status option --------------------------------------------------
hc_config s204.yaml "$U/status/204/" "timeout: 2s"
run_bc run -c s204.yaml
expect_rc 0 "204 is 2xx"
hc_config s404.yaml "$U/status/404/" 'status: "200,404"' "timeout: 2s"
run_bc run -c s404.yaml
expect_rc 0 "status 200,404 accepts 404"
[ "$(hc attempts)" = 1 ] || fail "status 200,404: expected 1 attempt"
hc_config s404l.yaml "$U/status/404/" "status: [200, 4xx]" "timeout: 2s"
run_bc run -c s404l.yaml
expect_rc 0 "status [200, 4xx] accepts 404"
hc_config s301.yaml "$U/status/301/" "retries: 1" "timeout: 100s"
run_bc run -c s301.yaml
expect_rc 1 "301 is not 2xx"
[ "$(hc last_error)" = "HTTP 301 (expected 2xx)" ] || fail "301: last_error is '$(hc last_error)'"
hc_config s503.yaml "$U/status/503/" "status: 200" "timeout: 3s"
run_bc run -c s503.yaml
expect_rc 1 "503 with status 200"
[ "$(hc last_error)" = "HTTP 503 (expected 200)" ] || fail "503: last_error is '$(hc last_error)'"
expect_in "$(json "$(meta)" 'j["error"]')" "health check http '$U/status/503/' on host 'local' timed out after"
expect_in "$(json "$(meta)" 'j["error"]')" "last result: HTTP 503 (expected 200)"
pass "status: 2xx by default, an exact code, a comma list, a YAML list; others say 'HTTP N (expected ...)'"

# ---- the body option ----------------------------------------------------
hc_config body.yaml "$U/fail/2/body" 'body: "ready: /fail/2/body request 3"' "timeout: 5s"
run_bc run -c body.yaml
expect_rc 0 "body match"
[ "$(hc attempts)" = 3 ] || fail "body: expected 3 attempts, got $(hc attempts)"
hc_config nobody.yaml "$U/fail/0/nobody" 'body: "it'"'"'s up"' "retries: 1" "timeout: 100s"
run_bc run -c nobody.yaml
expect_rc 1 "body mismatch"
[ "$(hc last_error)" = "HTTP 200, but the body does not contain 'it's up'" ] ||
  fail "body mismatch: last_error is '$(hc last_error)'"
hc_config big.yaml "$U/big/" "body: needle" "retries: 1" "timeout: 100s"
run_bc run -c big.yaml
expect_rc 1 "body beyond 1 MiB"
expect_in "$(hc last_error)" "does not contain 'needle' (in its first 1 MiB)" "last_error"
expect_not_in "$OUT" "xxxxxxxx" "stdout"
pass "body: a fixed string in the response; 'does not contain' otherwise; only the first 1 MiB is kept"

# ---- the method option --------------------------------------------------
hc_config head.yaml "$U/fail/1/head" "method: HEAD" "timeout: 5s"
run_bc run -c head.yaml
expect_rc 0 "HEAD"
[ "$(requests HEAD /fail/1/head)" = 2 ] || fail "HEAD: the server saw $(requests HEAD /fail/1/head) HEAD requests"
[ "$(requests GET /fail/1/head)" = 0 ] || fail "HEAD: the server saw GET requests"
pass "method: HEAD sends HEAD requests"

# ---- request_timeout ----------------------------------------------------
# The server answers after 100 s: only request_timeout can end an attempt
# before the check's own 2 s timeout, so several attempts mean each was cut.
hc_config slow.yaml "$U/sleep/100/" "request_timeout: 200ms" "timeout: 2s"
t0=$(now_ms)
run_bc run -c slow.yaml
t1=$(now_ms)
expect_rc 1 "slow server"
[ "$(hc last_error)" = "no complete response within 200 ms (request_timeout)" ] ||
  fail "request_timeout: last_error is '$(hc last_error)'"
[ "$(hc attempts)" -ge 2 ] || fail "request_timeout: expected several attempts, got $(hc attempts)"
expect_hc_timeout "$(meta)" 2000
pass "request_timeout cuts a slow response ($(hc attempts) attempts in 2 s, run $((t1 - t0)) ms)"

# Ctrl-C while a request is in flight: benchctl stops without waiting for
# the answer (100 s away) or the request_timeout.
hc_config slowint.yaml "$U/sleep/100/int" "request_timeout: 200s" "timeout: 250s"
"$BENCHCTL" run -c slowint.yaml >/dev/null 2>int.err </dev/null &
bc_pid=$!
for _ in $(seq 2400); do [ "$(requests GET /sleep/100/int)" -ge 1 ] && break; sleep 0.05; done
[ "$(requests GET /sleep/100/int)" -ge 1 ] || fail "Ctrl-C during a request: the request was not sent: $(cat int.err)"
t0=$(now_ms)
kill -INT "$bc_pid"
set +e; wait "$bc_pid"; rc=$?; set -e
t1=$(now_ms)
[ "$rc" = 130 ] || fail "Ctrl-C during a request: exit $rc ($(cat int.err))"
[ $((t1 - t0)) -lt 50000 ] || fail "Ctrl-C during a request took $((t1 - t0)) ms: it waited for the answer"
pass "Ctrl-C during a slow request stops the run in $((t1 - t0)) ms"

# ---- connection refused -------------------------------------------------
P=$(free_port)
hc_config refused.yaml "http://127.0.0.1:$P/" "retries: 1" "timeout: 100s"
run_bc run -c refused.yaml
expect_rc 1 "nothing listening"
[ "$(hc last_error)" = "connection refused" ] || fail "refused: last_error is '$(hc last_error)'"
pass "nothing listening: 'connection refused'"

# ---- a server started by a stage after a delay -------------------------
P=$(free_port)
write_config delayed.yaml <<EOF
benchmark: {name: http, output_dir: ./results}
stages:
  - name: service
    command: python3 server.py $P $T/delayed.port $T/requests.log 0.4 &
    health_check: {type: http, target: "http://localhost:$P/fail/2/delayed", body: "request 3", timeout: 10s}
  - name: next
    command: echo next-stage-ran
EOF
run_bc run -c delayed.yaml
expect_rc 0 "delayed server"
expect_in "$OUT" "next-stage-ran"
[ "$(hc attempts)" -gt 3 ] || fail "delayed: expected refused attempts before the 503s, got $(hc attempts)"
[ "$(json "$(meta)" 'j["stages"][0]["health_check"]["elapsed_ms"] >= 300')" = True ] ||
  fail "delayed: elapsed_ms below 300: $(hc elapsed_ms)"
pass "a server that starts after 0.4 s and answers 503 twice: ready after $(hc attempts) attempts"

# ---- a background service that dies before it is ready -----------------
P=$(free_port)
write_config crash.yaml <<EOF
benchmark: {name: http, output_dir: ./results}
stages:
  - name: service
    background: true
    command: |
      sleep 0.2; echo "config error: no such file" >&2; exit 4
    health_check: {type: http, target: "http://127.0.0.1:$P/health", timeout: 100s}
  - name: work
    command: echo never-printed
EOF
t0=$(now_ms)
run_bc run -c crash.yaml
t1=$(now_ms)
expect_rc 1 "service dies before ready"
expect_in "$(json "$(meta)" 'j["error"]')" "the background process ended before it was ready: exit status 4; last output: config error: no such file"
expect_not_in "$(json "$(meta)" 'j["error"]')" "timed out"
[ $((t1 - t0)) -lt 50000 ] || fail "the check waited for its 100 s timeout ($((t1 - t0)) ms)"
expect_not_in "$OUT" "never-printed"
pass "a background service that exits before it answers fails the check at once ($((t1 - t0)) ms)"

# ---- HTTPS: certificate verification on and off ------------------------
if command -v openssl >/dev/null &&
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
    -keyout "$T/tls.key" -out "$T/tls.crt" >/dev/null 2>&1; then
  start_server tls 0 "$T/tls"
  hc_config tls.yaml "https://127.0.0.1:$PORT/fail/1/tls" "timeout: 100s"
  t0=$(now_ms)
  run_bc run -c tls.yaml
  t1=$(now_ms)
  expect_rc 1 "self-signed certificate with tls_verify on"
  expect_in "$(json "$(meta)" 'j["error"]')" "TLS certificate is not trusted"
  expect_in "$(json "$(meta)" 'j["error"]')" "tls_verify: false"
  [ "$(hc attempts)" = 1 ] || fail "tls: an untrusted certificate should fail at once, got $(hc attempts) attempts"
  [ $((t1 - t0)) -lt 50000 ] || fail "tls: took $((t1 - t0)) ms: it waited for the 100 s timeout"
  hc_config tlsoff.yaml "https://127.0.0.1:$PORT/fail/1/tls" "tls_verify: false" "timeout: 10s"
  run_bc run -c tlsoff.yaml
  expect_rc 0 "tls_verify: false"
  [ "$(hc attempts)" = 2 ] || fail "tls_verify false: expected 2 attempts, got $(hc attempts)"
  pass "https: an untrusted certificate fails at once and names tls_verify; tls_verify: false accepts it"
else
  echo "skip - no openssl to make a certificate"
fi

# ---- validation: FILE:LINE:COL before anything runs --------------------
write_config bad.yaml <<'EOF'
benchmark:
  name: bad
  output_dir: ./bad-results
stages:
  - name: s1
    command: "true"
    health_check:
      type: http
      target: localhost:8080/health
  - name: s2
    command: "true"
    health_check:
      type: http
      target: ftp://127.0.0.1/x
  - name: s3
    command: "true"
    health_check:
      type: http
      target: "http://"
  - name: s4
    command: "true"
    health_check:
      type: http
      target: http://exa mple.com/
  - name: s5
    command: "true"
    health_check:
      type: http
      target: http://127.0.0.1:8080/
      status: 2x0
  - name: s6
    command: "true"
    health_check:
      type: http
      target: http://127.0.0.1:8080/
      method: HEAD
      body: ok
  - name: s7
    command: "true"
    health_check:
      type: http
      target: http://127.0.0.1:8080/
      method: POST
EOF
run_bc validate -c bad.yaml
expect_rc 2 "validate bad http checks"
expect_in "$ERR" "bad.yaml:9:15: health_check.target 'localhost:8080/health': not a URL: it must start with http:// or https://"
expect_in "$ERR" "bad.yaml:14:15: health_check.target 'ftp://127.0.0.1/x': the scheme 'ftp' is not supported: use http:// or https://"
expect_in "$ERR" "bad.yaml:19:15: health_check.target 'http://': not a valid URL"
expect_in "$ERR" "bad.yaml:24:15: health_check.target 'http://exa mple.com/': not a valid URL"
expect_in "$ERR" "bad.yaml:29:15: health_check.target 'http://127.0.0.1:8080/': option status '2x0' is not an HTTP status code"
expect_in "$ERR" "bad.yaml:35:15: health_check.target 'http://127.0.0.1:8080/': option body cannot be checked with method HEAD"
expect_in "$ERR" "bad.yaml:43:15: health_check: 'method' must be one of GET, HEAD, not 'POST'"
expect_in "$ERR" "7 errors in bad.yaml"
run_bc run -c bad.yaml
expect_rc 2 "run with bad http checks"
[ ! -e bad-results ] || fail "run with an invalid config created a run directory"
pass "bad URLs and option values are reported with FILE:LINE:COL, all at once, before anything runs"
