#!/usr/bin/env bash
# The plot keys of plots[] (log_x/log_y, xlim/ylim, xlabel/ylabel, x_axis,
# ${VAR} in titles, across: cases, a metric against a matrix parameter) and
# integer ticks, checked in the gnuplot script the plugin keeps beside the
# plot (options.keep_script) and in the PNGs; and their validation errors.
source "$(dirname "$0")/lib.sh"
command -v gnuplot >/dev/null || { echo "skip: gnuplot is not installed"; exit 0; }

# png FILE: "WIDTHxHEIGHT" of a valid PNG, or fails.
png() {
  python3 - "$1" <<'PY' || fail "$1 is not a valid PNG"
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"\x89PNG\r\n\x1a\n" and d[12:16] == b"IHDR"
assert zlib.crc32(d[12:29]) == struct.unpack(">I", d[29:33])[0]
assert d.rstrip(b"\0")[-8:-4] == b"IEND"
print("%dx%d" % struct.unpack(">II", d[16:24]))
PY
}

write_config p.yaml <<'YAML'
benchmark: {name: plotopts, output_dir: ./runs}
matrix: {conc: [1, 4]}
cases:
  - {name: v1, env: {VER: "1.0"}}
  - {name: v2, env: {VER: "2.0"}}
stages:
  - name: load
    command: |
      python3 -c '
      import os, random
      c = int(os.environ["conc"]); v = float(os.environ["VER"])
      random.seed(c)
      print("timestamp,latency_ms,errors")
      for i in range(200):
          print("%d,%.3f,%d" % (1700000000000 + i * 100, random.gauss(10 * c / v, 1), i % 3))
      ' > lat.csv
    outputs:
      - name: latency
        remote_path: lat.csv
        data_schema:
          columns:
            - {name: timestamp, type: timestamp, format: unix_ms}
            - {name: latency_ms, type: float, unit: ms}
            - {name: errors, type: integer}
plots:
  - name: ts
    title: "Latency ${VER} ${case} ${NOPE}"
    source: latency
    type: time_series
    x: timestamp
    y: latency_ms
    x_axis: elapsed
    log_y: true
    ylim: [1, null]
    xlim: [null, 25]
    xlabel: time since start (s)
    ylabel: "latency of ${VER}"
    options: {keep_script: true}
  - {name: clock, source: latency, type: scatter, x: timestamp, y: errors, options: {keep_script: true}}
  - {name: logx, source: latency, type: scatter, x: latency_ms, y: errors, log_x: true, xlim: [1, 100], options: {keep_script: true}}
  - {name: over, title: "All cases", source: latency, type: time_series, x: timestamp, y: latency_ms, across: cases, x_axis: elapsed, options: {keep_script: true}}
  - {name: byconc, source: latency, type: time_series, x: conc, y: latency_ms, across: cases, aggregation: p95, options: {keep_script: true}}
  - {name: boxes, source: latency, type: boxplot, y: latency_ms, across: cases, options: {keep_script: true}}
YAML
run_bc validate -c p.yaml
expect_rc 0 "validate"
expect_in "$ERR" "p.yaml:27:12: warning: plot 'ts': title: \${NOPE} is not a case variable, matrix parameter or \${case}; it is shown as written"
run_bc run -c p.yaml
expect_rc 0 "run with the new plot keys"
P=runs/1/plots
[ "$(png "$P/v1,conc=1/ts.png")" = 1200x600 ] || fail "ts.png size"
for f in over byconc boxes; do [ "$(png "$P/$f.png")" = 1200x600 ] || fail "$f.png"; done
pass "every plot drawn as a valid PNG"

gp="$P/v1,conc=4/ts.gp"
[ -s "$gp" ] || fail "keep_script wrote no $gp: $(ls -R $P)"
g=$(cat "$gp")
expect_in "$g" "set title 'Latency 1.0 v1,conc=4 \${NOPE}'" "title"
expect_in "$g" "set ylabel 'latency of 1.0'" "ylabel"
expect_in "$g" "set xlabel 'time since start (s)'" "xlabel"
expect_in "$g" "set logscale y" "log_y"
expect_in "$g" "set yrange [1:*]" "ylim"
expect_in "$g" "set xrange [*:25]" "xlim"
expect_not_in "$g" "timedate" "an elapsed axis"
# elapsed: the first sample is at 0 s
[ "$(grep -A1 '^\$S0 << EOD' "$gp" | tail -1 | cut -d' ' -f1)" = 0 ] || fail "elapsed x does not start at 0"
pass "log_y, xlim/ylim, labels, \${VAR} and \${case} in the title, x_axis: elapsed"

g=$(cat "$P/v1,conc=1/clock.gp")
expect_in "$g" "timedate" "x_axis defaults to clock times"
expect_in "$g" "set xlabel 'timestamp (UTC)'" "clock label"
expect_in "$g" "set ytics 1
set format y '%.0f'" "integer ticks for an integer column"
expect_in "$g" "set rmargin " "room for the last tick label"
g=$(cat "$P/v1,conc=1/logx.gp")
expect_in "$g" "set logscale x" "log_x"
expect_in "$g" "set xrange [1:100]" "xlim"
pass "clock axis by default, integer ticks, right margin, log_x"

g=$(cat "$P/over.gp")
for c in v1,conc=1 v1,conc=4 v2,conc=1 v2,conc=4; do
  expect_in "$g" "title '$c'" "a series per case"
done
[ "$(grep -c '<< EOD' "$P/over.gp")" = 4 ] || fail "across: 4 datablocks"
expect_in "$g" "set xlabel 'elapsed (s)'" "elapsed label"
[ "$(json runs/1/metadata.json '[len(p["sources"]) for p in j["plots"] if p["name"] == "over"][0]')" = 4 ] || fail "sources"
g=$(cat "$P/byconc.gp")
expect_in "$g" "set xtics (1, 4)" "ticks at the parameter's values"
expect_in "$g" "set ylabel 'latency_ms [ms], p95 per case'" "aggregation label"
expect_in "$g" "title 'v1'" "a line per case name without the parameter"
expect_in "$g" "title 'v2'"
[ "$(grep -c '<< EOD' "$P/byconc.gp")" = 2 ] || fail "byconc: 2 series"
[ "$(grep -A2 '^\$S0 << EOD' "$P/byconc.gp" | sed -n 2p | cut -d' ' -f1)" = 1 ] || fail "byconc x values"
g=$(cat "$P/boxes.gp")
expect_in "$g" "set xtics ('v1,conc=1' 1, 'v1,conc=4' 2, 'v2,conc=1' 3, 'v2,conc=4' 4)" "a box per case"
pass "across: cases overlays one series per case; a metric against a matrix parameter"

# Validation: numbers, order, positive limits on log axes, FILE:LINE:COL.
bad() { sed "s|    xlim: \[null, 25\]|    xlim: $1|" p.yaml > bad.yaml; run_bc validate -c bad.yaml; expect_rc 2 "xlim: $1"; }
bad "[10, 1]"
expect_in "$ERR" "bad.yaml:35:16: plot 'ts': xlim: the lower limit 10 must be below the upper limit 1"
bad "[abc, 1]"
expect_in "$ERR" "bad.yaml:35:12: plot 'ts': xlim: 'abc' is not a number"
bad "5"
expect_in "$ERR" "bad.yaml:35:11: plot 'ts': xlim must be a list [lo, hi]"
sed 's|ylim: \[1, null\]|ylim: [0, 5]|' p.yaml > bad.yaml
run_bc validate -c bad.yaml
expect_rc 2 "ylim 0 on a log axis"
expect_in "$ERR" "bad.yaml:34:12: plot 'ts': ylim: 0 is not above 0, and a log_y axis needs positive limits"
sed 's|x_axis: elapsed|x_axis: wall|' p.yaml > bad.yaml
run_bc validate -c bad.yaml
expect_rc 2 "x_axis: wall"
expect_in "$ERR" "x_axis"
sed 's|across: cases, options: {keep_script: true}}$|across: cases, x: conc}|; s|name: boxes, source: latency, type: boxplot, y: latency_ms, across: cases|name: boxes, source: latency, type: boxplot, y: latency_ms, across: cases, x: conc|' p.yaml > bad.yaml
run_bc validate -c bad.yaml
expect_rc 2 "boxplot across with x"
expect_in "$ERR" "a boxplot across cases draws one box per case; drop x"
pass "bad xlim/ylim/x_axis are refused with FILE:LINE:COL"

# benchctl plot: never replaces the run's plots without --force; a plots
# file (only `plots:`) takes sources and columns from the stored run; --out.
before=$(stat -c %Y.%s "$P/over.png")
cp runs/1/metadata.json meta.before
run_bc plot 1 -o runs
expect_rc 2 "redraw over the run's own plots"
expect_in "$ERR" "benchctl plot: $PWD/runs/1/plots/over.png exists; give --force to replace it, or --out DIR to draw elsewhere"
[ "$(stat -c %Y.%s "$P/over.png")" = "$before" ] || fail "over.png was replaced"
cmp -s meta.before runs/1/metadata.json || fail "a refused redraw changed metadata.json"
write_config only.yaml <<'YAML'
benchmark: {name: plotopts}
plots:
  - {name: extra, title: "p99 of ${VER}", source: latency, type: time_series, x: conc, y: latency_ms, across: cases, aggregation: p99, log_y: true, options: {keep_script: true}}
  - {name: over, source: latency, type: cdf, x: latency_ms, across: cases}
YAML
mkdir elsewhere
run_bc plot 1 -o runs -c only.yaml --out elsewhere/figs
expect_rc 0 "plot -c plots-only.yaml --out DIR"
[ "$(png elsewhere/figs/extra.png)" = 1200x600 ] || fail "extra.png"
[ "$(png elsewhere/figs/over.png)" = 1200x600 ] || fail "over.png in --out"
expect_in "$OUT" "$PWD/elsewhere/figs/extra.png"
expect_in "$(cat elsewhere/figs/extra.gp)" "set logscale y"
[ "$(stat -c %Y.%s "$P/over.png")" = "$before" ] || fail "--out touched the run's plots"
cmp -s meta.before runs/1/metadata.json || fail "--out changed metadata.json"
[ ! -e "$P/extra.png" ] || fail "--out drew into the run"
sed 's/source: latency, type: cdf/source: latncy, type: cdf/' only.yaml > badonly.yaml
run_bc plot 1 -o runs -c badonly.yaml --out elsewhere/x
expect_rc 2 "a plots file naming an unknown output"
expect_in "$ERR" "badonly.yaml:4:26: plot 'over': source 'latncy' is not the name of any stage output"
run_bc plot 1 -o runs -c only.yaml
expect_rc 2 "plots file over an existing plot name"
expect_in "$ERR" "runs/1/plots/over.png exists"
run_bc plot 1 -o runs -c only.yaml --force
expect_rc 0 "plots file with --force"
[ "$(json runs/1/metadata.json '[p["name"] for p in j["plots"]]')" = "['extra', 'over']" ] || fail "metadata after --force"
pass "plot ID refuses to replace the run's plots without --force; -c plots-only file; --out DIR"
