#!/usr/bin/env bash
# benchctl report: the run's self-contained report.html (written by `run`
# unless benchmark.report: false or --no-report), and the differential
# report of runs and of cases.  Real runs of the quickstart example and of
# small configs; the HTML is checked with Python's html.parser
# (report_check.py: well-formed, sections, no markup from the run, no
# resource outside the file), numbers are cross-checked against
# results.json, and, where Debian's chromium is installed, the page is
# rendered headless with the network off: it shows, and its sorting works.
source "$(dirname "$0")/lib.sh"
check() { python3 "$SRC_DIR/tests/cli/report_check.py" "$@" >/dev/null 2>"$T/.chk" || fail "$1: $(cat "$T/.chk")"; }

# ---- a real example: the quickstart -----------------------------------------------------
cp "$SRC_DIR/examples/quickstart/benchmark.yaml" .
run_bc run -c benchmark.yaml
expect_rc 0 "quickstart run"
[ -s results/1/report.html ] || fail "run wrote no results/1/report.html"
check results/1/report.html --sections summary,what,hosts,timeline,cases,outputs,repeats,logs \
  --text "quickstart-gzip" --text "gzip-timed" --text "Stage timeline"
# every statistic in the tables is the one of results.json (data-v holds it exactly)
python3 - results/1 <<'PY' || fail "report numbers differ from results.json"
import json, re, sys
d = sys.argv[1]
res = json.load(open(d + "/results.json"))
html = open(d + "/report.html").read()
vals = {float(v) for v in re.findall(r'data-v="([^"]+)"', html)}
want = [c["median"] for cs in res["cases"] for o in cs["outputs"] for c in o["columns"].values()]
want += [c["p99"] for cs in res["cases"] for o in cs["outputs"] for c in o["columns"].values()]
missing = [w for w in want if w is not None and w not in vals]
assert want and not missing, missing
# the plots are embedded, not linked
assert html.count('src="data:image/png;base64,') == 4, html.count('src="data:image/')
PY
pass "run writes report.html: well-formed, every section, results.json's numbers, plots embedded"

run_bc report 1 --out "$T/elsewhere.html" -c benchmark.yaml
expect_rc 0 "report --out"
check "$T/elsewhere.html" --sections summary,outputs
grep -q "href=\"$T/results/1/logs/" "$T/elsewhere.html" || fail "a report elsewhere links the logs by absolute path"
run_bc report 1 --cases -c benchmark.yaml
expect_rc 0 "report --cases"
check results/1/report-cases.html --sections summary,metrics,distributions,differences
python3 - results/1/report-cases.html <<'PY' || fail "cases report: gzip -9's slowdown is not a regression shown first"
import re, sys
h = open(sys.argv[1]).read()
body = h[h.index('<table class="sortable verdicts">'):]
rows = re.findall(r'<tr class="([^"]*)"><td>([^<]*)', body)
assert rows[0][0] == "regressed", rows
assert any(c == "regressed" and m.startswith("times.seconds") for c, m in rows), rows
assert h.count("<polyline") >= 3
PY
pass "report --out and --cases: gzip -9 regressed, listed first, CDFs drawn"

# ---- measurement quality: a repeated stage whose times rise is noted at the top --------------
# (the quickstart's notes depend on how quiet the machine is: this one does not)
mkdir quality && cd quality
write_config benchmark.yaml <<'YAML'
benchmark: {name: quality, output_dir: ./results}
stages:
  - name: rising
    repeat: 6
    command: |
      n=$(cat "$BENCHCTL_RUN_DIR/n" 2>/dev/null || echo 0); n=$((n + 1))
      echo "$n" > "$BENCHCTL_RUN_DIR/n"; sleep "0.$n"
YAML
run_bc run -c benchmark.yaml
expect_rc 0 "a run of a rising repeated stage"
check results/1/report.html --sections summary,repeats --text "Measurement quality" --text "drift"
cd ..
pass "a repeated stage's quality notes (drift) are shown in the report's summary"

# ---- hostile names: nothing from the run becomes markup -----------------------------------
mkdir hostile && cd hostile
write_config benchmark.yaml <<'YAML'
benchmark:
  name: "<script>alert('name')</script>"
  output_dir: ./results
stages:
  - name: "<img src=x onerror=alert(1)>&"
    command: |
      echo '<script>alert("log")</script><b>not bold</b>'
      echo "http://example.invalid/ in a log"
      exit 3
YAML
run_bc run -c benchmark.yaml -m 'note=<iframe src="https://example.invalid/"></iframe>'
expect_rc 1 "failing hostile run"
f=results/1/report.html
[ -s "$f" ] || fail "a failed run has no report"
for m in '<img src=x' '<iframe' '<b>not bold' "<script>alert"; do
  grep -qiF "$m" "$f" && fail "markup from the run in $f: $m"
done
[ "$(grep -c '<script' "$f")" = 1 ] || fail "a <script> other than the report's own"
python3 - "$f" <<'PY' || fail "hostile text is not shown as text"
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(s): super().__init__(); s.t = []; s.tags = []
    def handle_starttag(s, t, a): s.tags.append(t)
    def handle_data(s, d): s.t.append(d)
p = P(); p.feed(open(sys.argv[1]).read()); text = "".join(p.t)
for want in ["<img src=x onerror=alert(1)>&", "<script>alert('name')</script>",
             '<script>alert("log")</script><b>not bold</b>', '<iframe src="https://example.invalid/">']:
    assert want in text, want
assert "iframe" not in p.tags and "img" not in p.tags
assert "failed" in text and "exit status 3" in text
PY
cd ..
pass "hostile stage name, benchmark name, log and metadata are escaped; the failed stage's log tail is shown"

# ---- no outputs; report: false; --no-report --------------------------------------------
mkdir plain && cd plain
write_config benchmark.yaml <<'YAML'
benchmark:
  name: plain
  output_dir: ./results
stages:
  - name: hello
    command: echo hello
YAML
run_bc run -c benchmark.yaml
expect_rc 0 "plain run"
check results/1/report.html --sections summary,timeline,outputs --text "The run collected no outputs."
run_bc run -c benchmark.yaml --no-report
expect_rc 0 "run --no-report"
[ -e results/2/report.html ] && fail "--no-report wrote a report"
sed -i 's/^  output_dir: .*/&\n  report: false/' benchmark.yaml
run_bc run -c benchmark.yaml
expect_rc 0 "run with report: false"
[ -e results/3/report.html ] && fail "report: false wrote a report"
run_bc report 3 -c benchmark.yaml
expect_rc 0 "report of a run made without one"
check results/3/report.html --sections summary
run_bc report 99 -c benchmark.yaml
expect_rc 2 "report of an unknown run"
# data of features the page does not know by name (fan-out nodes, a
# monitoring series): their sections appear only when the data is there
check results/1/report.html --sections summary
grep -q 'id="nodes"\|id="other"' results/1/report.html && fail "nodes/other sections without their data"
python3 - results/1/metadata.json <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["stages"][0]["node"] = 0
m["stages"].append(dict(m["stages"][0], node=1, status="failed"))
m["monitoring"] = {"series": [{"name": "<cpu>", "values": [1, 2, 3]}]}
json.dump(m, open(sys.argv[1], "w"))
PY
run_bc report 1 -c benchmark.yaml
expect_rc 0 "report with nodes and monitoring data"
check results/1/report.html --sections summary,nodes,other,timeline --text "hello @local #1" --text '"<cpu>"'
cd ..
pass "no outputs; benchmark.report: false and --no-report write none; report ID still does; nodes and unknown data get sections only when present"

# ---- a monitored run: the monitoring section below the timeline ------------------------------
grep -q 'id="monitor"' plain/results/3/report.html && fail "a monitoring section without monitoring"
mkdir mon && cd mon
write_config benchmark.yaml <<'YAML'
benchmark: {name: monrep, output_dir: ./results, monitor: {interval: 250ms}}
stages:
  - name: busy
    command: "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"
  - name: rest
    command: sleep 1
YAML
run_bc run -c benchmark.yaml
expect_rc 0 "monitored run"
check results/1/report.html --sections summary,timeline,monitor --text "Per host" --text "What each stage cost its hosts"
/usr/bin/python3 - results/1/report.html <<'PY' || fail "the monitoring section lacks its figure or its rows"
import re, sys
html = open(sys.argv[1]).read()
sec = re.search(r'<section id="?monitor"?>(.*?)</section>', html, re.S).group(1)
assert "data:image/" in sec, "no embedded monitoring figure"
assert sec.count("<tr>") >= 3 + 2, sec.count("<tr>")   # mean/p95/max of local, and both stages
assert ">busy<" in sec and ">rest<" in sec
assert html.index('id="timeline"') < html.index('id="monitor"')
assert 'id="other"' not in html, "monitoring listed as unknown data"
PY
cd ..
pass "a monitored run's report shows the monitoring figure, per-host series and per-stage cost below the timeline"

# ---- thresholds: a failed one at the top, every check in the summary's table -------------------
mkdir thr && cd thr
write_config benchmark.yaml <<'YAML'
benchmark: {name: thr, output_dir: ./results}
stages:
  - name: one
    command: printf 'x\n1\n2\n3\n' > x.csv
    outputs:
      - name: x
        remote_path: x.csv
        data_schema: {columns: [{name: x, type: integer, thresholds: ["max <= 3", "mean > 2"]}]}
YAML
run_bc run -c benchmark.yaml
expect_rc 4 "a failed threshold"
check results/1/report.html --sections summary --text "Threshold failed" --text "Thresholds: 1 of 2 passed"
/usr/bin/python3 - results/1/report.html <<'PY' || fail "thresholds not in the summary"
import re, sys
html = open(sys.argv[1]).read()
sec = re.search(r'<section id="?summary"?>(.*?)</section>', html, re.S).group(1)
assert "mean &gt; 2" in sec and "max &lt;= 3" in sec, "both checks listed, escaped"
assert sec.count("badge st-failed") == 1 and sec.count("badge st-passed") == 1
PY
cd ..
pass "thresholds: the failed one is an alert at the top, both checks in the summary"

# ---- a sweep: cases from a matrix ------------------------------------------------------------
mkdir sweep && cd sweep
write_config benchmark.yaml <<'YAML'
benchmark: {name: sweep, output_dir: ./results}
matrix:
  conc: [1, 2, 4]
  mode: [a, b]
stages:
  - name: load
    command: |
      echo "i,latency_ms" > lat.csv
      for i in 1 2 3 4 5; do echo "$i,$(( conc * 10 + i ))" >> lat.csv; done
    outputs:
      - name: lat
        remote_path: lat.csv
        data_schema:
          columns:
            - {name: i, type: integer}
            - {name: latency_ms, type: float, unit: ms, better: lower}
YAML
run_bc run -c benchmark.yaml
expect_rc 0 "sweep run"
check results/1/report.html --sections summary,cases,sweep,outputs --text "lat.latency_ms"
python3 - results/1/report.html <<'PY' || fail "sweep table or chart"
import re, sys
h = open(sys.argv[1]).read()
sec = h[h.index('<section id="sweep">'):]
sec = sec[:sec.index("</section>")]
rows = re.findall(r"<tr><td>([^<]*)</td>.*?</tr>", sec)
assert len(rows) == 6, rows
# the median of latency_ms is conc * 10 + 3 in every case
meds = sorted(float(v) for v in re.findall(r'<td class=n data-v="([^"]+)"', sec))
assert meds == [13, 13, 23, 23, 43, 43], meds
assert sec.count("<polyline") == 2 and "mode=a" in sec and "mode=b" in sec, sec.count("<polyline")
PY
cd ..
pass "a matrix run: the sweep table has every case's medians, a line per other parameter"

# ---- an interrupted run ----------------------------------------------------------------------
mkdir stopped && cd stopped
write_config benchmark.yaml <<'YAML'
benchmark:
  name: stopped
  output_dir: ./results
stages:
  - name: first
    command: echo first
  - name: long
    command: touch started; exec sleep 60
  - name: never
    command: echo never
YAML
"$BENCHCTL" run -c benchmark.yaml >out 2>err &
pid=$!
for _ in $(seq 200); do [ -e started ] && break; sleep 0.05; done
[ -e started ] || { kill "$pid"; fail "the long stage did not start"; }
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" = 130 ] || fail "interrupted run: exit $rc"
check results/1/report.html --sections summary,timeline,logs --text "interrupted" --text "not run"
grep -q 'class="bar not_run"' results/1/report.html || fail "the stage that never ran is not grey in the timeline"
grep -q 'class="bar failed"' results/1/report.html || fail "the interrupted stage is not marked in the timeline"
cd ..
pass "an interrupted run has its report: status, the stopped stage marked, the one never run"

# ---- a differential report of three runs -------------------------------------------------
mkdir diff && cd diff
write_config benchmark.yaml <<'YAML'
benchmark:
  name: diff
  output_dir: ./results
stages:
  - name: measure
    command: |
      echo "i,latency" > lat.csv
      for i in 1 2 3 4 5 6 7 8 9 10; do echo "$i,$(( BASE + i ))" >> lat.csv; done
    outputs:
      - name: lat
        remote_path: lat.csv
        data_schema:
          columns:
            - {name: i, type: integer}
            - {name: latency, type: integer, unit: ms, better: lower}
YAML
for base in 100 200 100; do
  run_bc run -c benchmark.yaml -e BASE=$base --no-report
  expect_rc 0 "diff run BASE=$base"
done
run_bc report 1 2 3 -c benchmark.yaml
expect_rc 0 "report 1 2 3"
expect_in "$OUT" "1 regression"
check results/report-1-2-3.html --sections summary,metrics,distributions,differences \
  --text "parameters.BASE"
python3 - results/report-1-2-3.html <<'PY' || fail "verdicts of the three-run report"
import re, sys
h = open(sys.argv[1]).read()
body = h[h.index('<table class="sortable verdicts">'):]
rows = re.findall(r'<tr class="([^"]*)"><td>([^<]*)<span[^>]*>[^<]*</span></td><td>[^<]*</td><td>([^<]*)</td>.*?badge st-(\w+)', body)
assert rows[0][0] == "regressed" and rows[0][2] == "2" and rows[0][3] == "regressed", rows
assert any(r[2] == "3" and r[3] == "unchanged" for r in rows), rows
PY
run_bc report 1 2 -c benchmark.yaml --fail-on-regression --out "$T/d.html"
expect_rc 3 "report --fail-on-regression"
[ -s "$T/d.html" ] || fail "--fail-on-regression wrote no report"
cd ..
pass "three runs: run 2 regressed (first), run 3 unchanged, the environment difference shown; exit 3 on request"

# ---- headless Chromium, network off ---------------------------------------------------------
chrome=$(command -v chromium || true)
if [ -z "$chrome" ]; then
  echo "ok - # SKIP chromium not installed (scripts/deps.sh installs it)"
  exit 0
fi
# a copy of the report with a probe: click the p99 header of a statistics
# table twice (descending) and write the order of its cells into the DOM
probe() { # probe FILE TABLE_EXPR COLUMN: the cells of COLUMN after two clicks
  python3 - "$1" "$2" "$3" >"$T/probe.html" <<'PY'
import sys
h = open(sys.argv[1]).read()
s = ("<script>window.onload=function(){var t=%s;"
     "var th=t.tHead.rows[0].cells[%s];th.click();th.click();"
     "var o=[];for(var r of t.tBodies[0].rows)o.push(r.cells[%s].getAttribute('data-v'));"
     "var p=document.createElement('pre');p.id='probe';p.textContent='ORDER:'+o.join(',');"
     "document.body.appendChild(p);};</script>") % (sys.argv[2], sys.argv[3], sys.argv[3])
print(h.replace("</body>", s + "</body>"))
PY
  timeout 120 "$chrome" --headless --no-sandbox --disable-gpu --no-first-run \
    --proxy-server=127.0.0.1:9 --proxy-bypass-list='<-loopback>' --host-resolver-rules='MAP * ~NOTFOUND' \
    --enable-logging=stderr --v=0 --virtual-time-budget=3000 \
    --dump-dom "file://$T/probe.html" >"$T/dom.html" 2>"$T/chrome.err" || fail "chromium: $(tail -5 "$T/chrome.err")"
}
cp results/1/report.html "$T/quickstart-copy.html"
probe "$T/quickstart-copy.html" "document.querySelectorAll('table.stats')[1]" 9
grep -qi "Uncaught\|CONSOLE.*error" "$T/chrome.err" && fail "console errors: $(grep -i 'Uncaught\|error' "$T/chrome.err" | head -3)"
grep -q 'id="summary"' "$T/dom.html" || fail "the rendered DOM has no summary"
order=$(sed -n 's/.*<pre id="probe">ORDER:\([^<]*\)<.*/\1/p' "$T/dom.html")
python3 -c "import sys; v=[float(x) for x in sys.argv[1].split(',') if x]; assert len(v)>=2 and v==sorted(v,reverse=True), v" "$order" ||
  fail "sorting the p99 column descending gave: $order"
pass "chromium renders the report without console errors, network off; sorting a column works"

# the differential report of three runs: sort its verdict column (regressions rank first)
cp diff/results/report-1-2-3.html "$T/diff-copy.html"
probe "$T/diff-copy.html" "document.querySelector('table.verdicts')" 3
grep -qi "Uncaught\|CONSOLE.*error" "$T/chrome.err" && fail "console errors (diff): $(grep -i 'Uncaught\|error' "$T/chrome.err" | head -3)"
grep -q 'id="distributions"' "$T/dom.html" || fail "the rendered differential report has no distributions"
order=$(sed -n 's/.*<pre id="probe">ORDER:\([^<]*\)<.*/\1/p' "$T/dom.html")
python3 -c "import sys; v=[int(x) for x in sys.argv[1].split(',') if x]; assert len(v)>=2 and v==sorted(v,reverse=True), v" "$order" ||
  fail "sorting the verdicts descending gave: $order"
pass "chromium renders the differential report without console errors; its verdicts sort"
