#!/usr/bin/env bash
# A profiled repeated stage is timed by the command's own span under the
# profiler, not by perf's start-up and write-out: perf is named through a
# wrapper (profile.perf) that stamps when perf starts and when it has ended;
# the stage's command stamps its own start and end.  For every measured
# repetition the recorded span lies strictly inside perf's life and around
# the command's own stamps, raw_wall_s is that span, wall_s is it less the
# shell's start-up measured there, and the record says what it covers.
source "$(dirname "$0")/lib.sh"
command -v perf >/dev/null || { echo "SKIP: perf is not installed"; exit 77; }
command -v cc >/dev/null || { echo "SKIP: no C compiler"; exit 77; }
perf record -q -o "$T/probe.data" -F 99 -g -- true 2>/dev/null ||
  { echo "SKIP: perf cannot record on this machine"; exit 77; }
PY=/usr/bin/python3

cat > "$T/spin.c" <<'C'
#include <stdlib.h>
volatile unsigned long sink;
__attribute__((noinline)) void spin(unsigned long n) { for (unsigned long i = 0; i < n; i++) sink += i; }
int main(int argc, char **argv) { spin(strtoul(argv[1], 0, 10)); return 0; }
C
cc -O1 -fno-omit-frame-pointer -o "$T/spin" "$T/spin.c"

# perf through a wrapper that stamps its own start and end (file: the -o argument)
PERF=$(command -v perf)
cat > "$T/perfwrap" <<SH
#!/bin/sh
echo "begin \$(date +%s%N) \$3" >> "$T/perf.log"
"$PERF" "\$@"
rc=\$?
echo "end \$(date +%s%N) \$3" >> "$T/perf.log"
exit \$rc
SH
chmod +x "$T/perfwrap"

write_config b.yaml <<YAML
benchmark: {name: span, output_dir: ./results}
stages:
  - name: s
    command: "date +%s%N >> $T/cmd.log; $T/spin 200000000; date +%s%N >> $T/cmd.log"
    repeat: 3
    warmup: 1
    profile: {perf: $T/perfwrap, frequency: 99, events: [cpu-clock]}
YAML
run_bc run -c b.yaml
expect_rc 0 "profiled repeated run"
$PY - results/1 "$T/perf.log" "$T/cmd.log" <<'PY' || fail "the profiled runs' spans (perf.log: $(cat "$T/perf.log"); cmd.log: $(cat "$T/cmd.log"))"
import json, sys
run, perf_log, cmd_log = sys.argv[1:]
meta = json.load(open(run + "/metadata.json"))
rep = [s for s in meta["stages"] if s["name"] == "s"][0]["repeat"]
# perf's own life per stage run (its check's trial record excluded), warm-up first
life = []
for line in open(perf_log):
    what, t, out = line.split()
    if out.endswith(".perf.data"):
        if what == "begin":
            life.append([int(t), None])
        else:
            life[-1][1] = int(t)
assert len(life) == 4 and all(b and e for b, e in life), life
cmd = [int(x) for x in open(cmd_log).read().split()]
assert len(cmd) == 8, cmd
assert rep["wall_covers"].startswith("the command alone under its profiler"), rep["wall_covers"]
ovh = rep["span_overhead_s"]
assert ovh >= 0, ovh
assert len(rep["runs"]) == 3, rep["runs"]
for k, r in enumerate(rep["runs"], start=1):  # run k: the warm-up was run 0
    sp = r["span"]
    p0, p1 = life[k][0] / 1e9, life[k][1] / 1e9
    c0, c1 = cmd[2 * k] / 1e9, cmd[2 * k + 1] / 1e9
    # perf starts, then the span, the command's own stamps, the span's end, perf's end
    assert p0 < sp["start_s"] <= c0 < c1 <= sp["end_s"] < p1, (k, p0, sp, c0, c1, p1)
    assert abs(r["raw_wall_s"] - (sp["end_s"] - sp["start_s"])) < 1e-5, (k, r)
    assert abs(r["wall_s"] - max(r["raw_wall_s"] - ovh, 0)) < 1e-9, (k, r, ovh)
    assert r["profiler_s"] > 0 and sp["shell_s"] >= 0, (k, r)
PY
pass "each measured run's wall time is the command's span inside perf's life, perf's start-up and write-out outside it"

# the profile itself is unchanged: each measured run's raw profile and stacks
for f in s.rep-1.perf.data s.rep-3.perf.data s.folded s.svg; do
  [ -s "results/1/profiles/$f" ] || fail "profiles/$f is missing: $(ls results/1/profiles)"
done
[ -z "$(find results/1 -name '*.span')" ] || fail "span files left in the run directory"
grep -q spin results/1/profiles/s.folded || fail "the folded stacks do not name spin"
pass "the profiles are kept as before; no span file is left behind"

# perf without Python scripting (a wrapper whose `perf script report` fails
# as such a build does): benchctl folds perf script's plain output itself,
# and gets what perf's own stackcollapse gets from the same raw profile.
cat > "$T/perfnopy" <<SH
#!/bin/sh
if [ "\$1" = script ] && [ "\$2" = report ]; then
  echo "  Error: this perf was built without Python scripting (NO_LIBPYTHON)" >&2
  exit 255
fi
exec "$PERF" "\$@"
SH
chmod +x "$T/perfnopy"
write_config c.yaml <<YAML
benchmark: {name: nopy, output_dir: ./nopy}
stages:
  - name: s
    command: "$T/spin 300000000"
    profile: {perf: $T/perfnopy, frequency: 999, events: [cpu-clock]}
YAML
run_bc run -c c.yaml -v
expect_rc 0 "profiled run without Python scripting"
expect_in "$ERR" "folded perf script's text output instead"
[ -s nopy/1/profiles/s.folded ] && [ -s nopy/1/profiles/s.svg ] ||
  fail "no folded stacks or flame graph: $(ls nopy/1/profiles)"
perf script report stackcollapse -i nopy/1/profiles/s.perf.data -- --no-comm > ref.folded 2>/dev/null ||
  { echo "perf's own stackcollapse is unavailable: comparison skipped"; : > ref.folded; }
$PY - nopy/1/profiles/s.folded ref.folded <<'PY' || fail "text folding: $(head -5 nopy/1/profiles/s.folded)"
import sys
def load(p):
    d = {}
    for line in open(p):
        s, n = line.rstrip("\n").rsplit(" ", 1)
        d[s] = d.get(s, 0) + int(n)
    return d
ours, ref = load(sys.argv[1]), load(sys.argv[2])
spin = sum(n for s, n in ours.items() if s.split(";")[-1] == "spin")
assert spin > 0.5 * sum(ours.values()), ("spin should be the hottest leaf", ours)
if ref:
    assert ours == ref, ("differs from perf's stackcollapse",
                         {k: (ours.get(k), ref.get(k)) for k in set(ours) ^ set(ref) or ours})
PY
top=$(json nopy/1/metadata.json '[s["profile"]["top_self"][0]["function"] for s in j["stages"]][0]')
[ "$top" = spin ] || fail "the record's hottest function should be spin: $top"
pass "without perf's Python scripting: perf script's text output folded by benchctl, as stackcollapse folds it"
