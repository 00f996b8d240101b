#!/usr/bin/env python3
"""Publishing a run with 500 results to a real Conbench server: `benchctl
publish` against the same 500 POSTs made by a shell loop of `curl`, reusing
one login (a cookie jar).  Prints each round and the ratio of the medians.

usage: publish_bench.py BENCHCTL CONBENCH_FIXTURE_DIR [ROUNDS]
Needs root (the fixture runs PostgreSQL as user postgres)."""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

bc, fixture = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
COLS = 50
tmp = tempfile.mkdtemp(prefix="publish-bench.")
start = subprocess.run(["bash", os.path.join(fixture, "start.sh")], capture_output=True, text=True)
if start.returncode != 0:
    print(start.stderr)
    sys.exit("the Conbench fixture did not start")
env = dict(os.environ)
for word in start.stdout.split():
    k, _, v = word.partition("=")
    env[k] = v
cb_run = env["CB_RUN"]
try:
    env["CONBENCH_PROJECT_REPOSITORY"] = "https://github.com/example-org/bench"
    header = ",".join("c%d" % i for i in range(COLS))
    rows = "\n".join(",".join("%d.%d" % (r, i) for i in range(COLS)) for r in range(1, 6))
    cols = "\n".join("            - {name: c%d, type: float, unit: ms}" % i for i in range(COLS))
    with open(os.path.join(tmp, "data.csv"), "w") as f:
        f.write(header + "\n" + rows + "\n")
    with open(os.path.join(tmp, "bench.yaml"), "w") as f:
        f.write("""benchmark: {name: pub500, output_dir: ./runs}
matrix: {n: [1, 2]}
publish: {to: conbench, on: never, statistics: [mean, median, p90, p95, p99]}
stages:
  - name: gen
    command: test -s data.csv
    outputs:
      - name: o
        remote_path: data.csv
        data_schema:
          columns:
%s
""" % cols)
    def run(*args, **kw):
        p = subprocess.run(args, cwd=tmp, env=env, capture_output=True, text=True, **kw)
        if p.returncode != 0:
            sys.exit("%s: exit %d\n%s" % (" ".join(args), p.returncode, p.stderr))
        return p
    for _ in range(rounds):
        run(bc, "run", "-c", "bench.yaml")
    bodies = json.loads(run(bc, "publish", "1", "-c", "bench.yaml", "--dry-run").stdout)
    assert len(bodies) == 500, len(bodies)
    bdir = os.path.join(tmp, "bodies")
    os.mkdir(bdir)
    login = json.dumps({"email": env["CONBENCH_EMAIL"], "password": env["CONBENCH_PASSWORD"]})
    loop = """set -e
cj=$(mktemp); trap 'rm -f "$cj"' EXIT
curl -sf --noproxy '*' -c "$cj" -H 'Content-Type: application/json' -X POST "$CONBENCH_URL/api/login/" -d "$LOGIN" >/dev/null
for f in "$BODIES"/*.json; do
  curl -sf --noproxy '*' -b "$cj" -H 'Content-Type: application/json' -X POST "$CONBENCH_URL/api/benchmark-results/" -d @"$f" >/dev/null
done
"""
    t_bc, t_curl = [], []
    for r in range(rounds):
        for i, b in enumerate(bodies):
            b = dict(b, run_id="curl-loop-%d" % r, batch_id="curl-loop-%d" % r)
            with open(os.path.join(bdir, "%03d.json" % i), "w") as f:
                json.dump(b, f)
        t0 = time.monotonic()
        run(bc, "publish", str(r + 1), "-c", "bench.yaml")
        t_bc.append(time.monotonic() - t0)
        t0 = time.monotonic()
        subprocess.run(["bash", "-c", loop], env=dict(env, LOGIN=login, BODIES=bdir), check=True)
        t_curl.append(time.monotonic() - t0)
        rec = json.load(open(os.path.join(tmp, "runs", str(r + 1), "published.json")))
        assert rec["conbench"]["results"] == 500, rec["conbench"]["results"]
        print("round %d: benchctl publish %.2f s, curl loop %.2f s (500 results each)"
              % (r + 1, t_bc[-1], t_curl[-1]))
    mb, mc = statistics.median(t_bc), statistics.median(t_curl)
    print("median: benchctl publish %.2f s (%.1f ms/result), curl loop %.2f s (%.1f ms/result); "
          "ratio benchctl/curl = %.2f" % (mb, mb * 2, mc, mc * 2, mb / mc))
finally:
    subprocess.run(["bash", os.path.join(fixture, "stop.sh"), cb_run], capture_output=True)
    shutil.rmtree(tmp, ignore_errors=True)
