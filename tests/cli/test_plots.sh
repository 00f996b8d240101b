#!/usr/bin/env bash
# plots[] end to end with the gnuplot plugin: drawn after the run from the
# collected data, recorded in metadata.json, redrawn by `benchctl plot ID`,
# and a failing plot keeps the data and the metadata.
source "$(dirname "$0")/lib.sh"
command -v gnuplot >/dev/null || { echo "skip: gnuplot is not installed"; exit 0; }

write_config p.yaml <<'YAML'
benchmark: {name: plots, output_dir: ./runs}
stages:
  - name: load
    command: |
      python3 -c '
      import random
      random.seed(1)
      print("timestamp,latency_ms,status")
      for i in range(2000):
          st = random.choice(("ok", "ok", "err"))
          print("%d,%.3f,%s" % (1700000000000 + i * 50, random.gauss(20, 4), st))
      ' > lat.csv
    outputs:
      - name: latency
        remote_path: lat.csv
        data_schema:
          columns:
            - {name: timestamp, type: timestamp, format: unix_ms, unit: ms}
            - {name: latency_ms, type: float, unit: ms}
            - {name: status, type: string}
plots:
  - {name: over_time, title: Latency over time, source: latency, type: time_series, x: timestamp, y: latency_ms, groupby: status, engine: seaborn, options: {legend: true, legend_loc: upper right, x_label_angle: 45}}
  - {name: dist, source: latency, type: histogram, x: latency_ms, format: svg, engine: gonum, options: {bins: 30}}
  - {name: box, source: latency, type: boxplot, x: status, y: latency_ms, format: pdf, export_path: exported/box.pdf}
  - {name: cdf, source: latency, type: cdf, x: latency_ms}
YAML
run_bc run -c p.yaml
expect_rc 0 "run with plots"
[ "$(grep -c "are drawn by gnuplot" <<<"$ERR")" = 1 ] || fail "the seaborn/gonum note must be said once: $ERR"
head -c 8 runs/1/plots/over_time.png | od -An -c | grep -q "P   N   G" || fail "over_time.png is not a PNG"
grep -q "<svg" runs/1/plots/dist.svg || fail "dist.svg is not SVG"
head -c 4 runs/1/plots/box.pdf | grep -q "%PDF" || fail "box.pdf is not a PDF"
[ -s exported/box.pdf ] || fail "export_path copy missing"
[ -s runs/1/plots/cdf.png ] || fail "cdf.png missing"
m=runs/1/metadata.json
[ "$(json $m '[(p["name"], p["status"]) for p in j["plots"]]')" = "[('over_time', 'success'), ('dist', 'success'), ('box', 'success'), ('cdf', 'success')]" ] || fail "plot records"
pass "plots drawn after the run in png, svg and pdf, with an export copy"

# Redraw without running anything: from the snapshot, then from a changed
# plots section.
rm -f runs/1/plots/*.png
run_bc plot 1 -c p.yaml --force
expect_rc 0 "plot 1"
[ -s runs/1/plots/over_time.png ] || fail "redraw did not draw"
[ "$(json $m 'len(j["stages"])')" = 1 ] || fail "redraw must not re-run stages"
sed 's/name: cdf, /name: cdf2, /' p.yaml > changed.yaml
run_bc plot 1 -c changed.yaml --force
expect_rc 0 "plot 1 -c changed.yaml"
[ -s runs/1/plots/cdf2.png ] || fail "changed plots section not used"
run_bc plot 7 -c p.yaml
expect_rc 2 "plot of a missing run"
pass "benchctl plot redraws a stored run"

# A plot that cannot be drawn fails the run but keeps data and metadata.
cat > badplot.yaml <<'YAML'
benchmark: {name: plots, output_dir: ./runs2}
stages:
  - name: load
    command: printf 'a,b\n1,x\n2,y\n' > ab.csv
    outputs:
      - {name: ab, remote_path: ab.csv}
plots:
  - {name: nope, source: ab, type: scatter, x: a, y: b}
YAML
run_bc run -c badplot.yaml
expect_rc 1 "unplottable data"
expect_in "$(json runs2/1/metadata.json 'j["error"]')" "plot 'nope' failed"
[ "$(json runs2/1/metadata.json 'j["status"]')" = failed ] || fail "status"
[ -s runs2/1/ab.csv ] || fail "data lost"
pass "a failing plot fails the run and keeps everything"

# Validation: plot columns must exist in the source's schema.
sed 's/y: latency_ms, groupby: status, engine: seaborn/y: latncy_ms, groupby: status, engine: seaborn/' p.yaml > typo.yaml
run_bc validate -c typo.yaml
expect_rc 2 "typo in a plot column"
expect_in "$ERR" "plot 'over_time': y column 'latncy_ms' is not declared in the data_schema of output 'latency' (declared: timestamp, latency_ms, status)"
pass "plot columns are checked before anything runs"

# A stage on several hosts with a glob output: one plot per host and file,
# named after both (the host tag comes from the run's records, so a plots
# config that lists fewer hosts redraws the same names).
write_config multi.yaml <<'YAML'
benchmark: {name: plots, output_dir: ./runs3}
hosts:
  a: {transport: local}
  b: {transport: local}
stages:
  - name: gen
    hosts: [a, b]
    command: |
      mkdir -p "out-$BENCHCTL_HOST"
      for f in x1 x2; do printf 'x,y\n1,2\n2,3\n3,5\n' > "out-$BENCHCTL_HOST/$f.csv"; done
    outputs:
      - name: res
        remote_path: out-$BENCHCTL_HOST/*.csv
        data_schema:
          columns: [{name: x, type: integer}, {name: y, type: integer}]
plots:
  - {name: p, source: res, type: scatter, x: x, y: y}
YAML
run_bc run -c multi.yaml
expect_rc 0 "multi-host glob plots"
for h in a b; do for f in x1 x2; do
  [ -s "runs3/1/plots/p__${h}__$f.png" ] || fail "plot of $f on $h: $(ls runs3/1/plots)"
done; done
[ "$(json runs3/1/metadata.json 'len(set(p["path"] for p in j["plots"]))')" = 4 ] || fail "4 distinct plot paths"
sed 's/hosts: \[a, b\]/hosts: [a]/' multi.yaml > one.yaml
rm -f runs3/1/plots/*.png
run_bc plot 1 -c one.yaml
expect_rc 0 "redraw with a config listing one host"
[ "$(ls runs3/1/plots | wc -l)" = 4 ] || fail "redraw: $(ls runs3/1/plots)"
pass "a multi-host glob output gets one plot per host and file, also when redrawn"
