/*
 * The starter configs of `benchctl init --template NAME` (one static table:
 * name, one-line description, text; "%s" is the benchmark's name, "%%" a
 * percent sign).  Each one runs as written (the ssh pair once its hosts
 * are filled in) and shows the product: measured repetitions, a CSV output
 * with a data_schema, a plot, and a verdict at the end.
 */
#include <stddef.h>
#include <string.h>

#include "cli/cli.h"

static const char starter[] =
    "# benchctl starter: a measured command, a CSV result with a schema, a plot,\n"
    "# two cases compared.  Every key: docs/config.md (man benchctl.yaml).\n"
    "#   benchctl run -c benchmark.yaml        # ends with a summary of what it measured\n"
    "#   benchctl compare latest --cases       # small against large: a verdict per metric\n"
    "#   benchctl report latest                # the run as one HTML page\n"
    "benchmark:\n"
    "  name: %s\n"
    "  output_dir: ./results           # each run goes to results/<id>/\n"
    "\n"
    "hosts:\n"
    "  local: {}                       # stages without a host run here\n"
    "\n"
    "cases:                            # every stage runs once per case\n"
    "  - name: small\n"
    "    env: {LINES_IN: \"20000\"}\n"
    "  - name: large\n"
    "    env: {LINES_IN: \"80000\"}\n"
    "\n"
    "stages:\n"
    "  - name: sort                    # a measured command: 2 warm-up runs, then 10 timed runs\n"
    "    command: seq \"$LINES_IN\" | sort -r | sort -n > /dev/null\n"
    "    warmup: 2\n"
    "    repeat: 10\n"
    "\n"
    "  - name: requests                # a workload writing one CSV row per request\n"
    "    command: |\n"
    "      echo \"timestamp_ms,latency_ms,status\" > requests.csv\n"
    "      for i in $(seq 1 20); do\n"
    "        t0=$(date +%%s%%N); seq \"$LINES_IN\" | tail -n 1 > /dev/null; t1=$(date +%%s%%N)\n"
    "        echo \"$(( t1 / 1000000 )),$(( (t1 - t0) / 1000 ))e-3,ok\" >> requests.csv\n"
    "      done\n"
    "    outputs:\n"
    "      - name: requests            # -> results/<id>/cases/<case>/requests.csv, validated\n"
    "        remote_path: requests.csv\n"
    "        data_schema:\n"
    "          columns:\n"
    "            - {name: timestamp_ms, type: timestamp, format: unix_ms}\n"
    "            - {name: latency_ms, type: float, unit: ms, better: lower}\n"
    "            - {name: status, type: string, success_values: [ok]}\n"
    "\n"
    "cleanup:                          # runs even when a stage fails\n"
    "  - name: tidy\n"
    "    command: rm -f requests.csv\n"
    "\n"
    "plots:                            # drawn by gnuplot after the run, one per case\n"
    "  - name: latency\n"
    "    title: Latency per request\n"
    "    source: requests\n"
    "    type: time_series\n"
    "    x: timestamp_ms\n"
    "    y: latency_ms\n";

static const char command_timing[] =
    "# Command timing: two variants of one command, each run 15 times after 2\n"
    "# warm-up runs; compare them with `benchctl compare latest --cases`.\n"
    "# (For a quick look without a config: benchctl exec 'cmd A' 'cmd B'.)\n"
    "benchmark:\n"
    "  name: %s\n"
    "  output_dir: ./results\n"
    "\n"
    "cases:\n"
    "  - name: gzip-1\n"
    "    env: {LEVEL: \"1\"}\n"
    "  - name: gzip-9\n"
    "    env: {LEVEL: \"9\"}\n"
    "\n"
    "stages:\n"
    "  - name: input\n"
    "    command: seq 1 200000 > input.txt\n"
    "\n"
    "  - name: compress                # wall time, user and system CPU, peak memory per run\n"
    "    command: gzip -\"$LEVEL\" -c input.txt > /dev/null\n"
    "    prepare: sync                 # before every run, not measured\n"
    "    warmup: 2\n"
    "    repeat: 15\n"
    "\n"
    "cleanup:\n"
    "  - name: tidy\n"
    "    command: rm -f input.txt\n";

static const char http_load[] =
    "# HTTP load: a server in the background, ready when it answers, a client\n"
    "# sending requests (one CSV row each), a threshold on p95 latency, and a\n"
    "# latency histogram.  Needs python3 and curl.\n"
    "benchmark:\n"
    "  name: %s\n"
    "  output_dir: ./results\n"
    "\n"
    "stages:\n"
    "  - name: server                  # runs until the last stage ends, then is stopped\n"
    "    background: true\n"
    "    quiet: true                   # its access log goes to logs/server.log only\n"
    "    command: exec python3 -m http.server 8765 --bind 127.0.0.1\n"
    "    health_check:                 # the next stage starts once it answers\n"
    "      type: http\n"
    "      target: http://127.0.0.1:8765/\n"
    "      timeout: 20s\n"
    "\n"
    "  - name: load\n"
    "    command: |\n"
    "      echo \"timestamp_ms,latency_ms,status\" > requests.csv\n"
    "      for i in $(seq 1 100); do\n"
    "        curl -s -o /dev/null -w \"$(date +%%s%%3N),%%{time_total},%%{http_code}\\n\" "
    "http://127.0.0.1:8765/\n"
    "      done | awk -F, '{ printf \"%%s,%%.3f,%%s\\n\", $1, $2 * 1000, $3 }' >> requests.csv\n"
    "    outputs:\n"
    "      - name: requests\n"
    "        remote_path: requests.csv\n"
    "        data_schema:\n"
    "          columns:\n"
    "            - {name: timestamp_ms, type: timestamp, format: unix_ms}\n"
    "            - {name: latency_ms, type: float, unit: ms, better: lower,\n"
    "               thresholds: [\"p95 < 500\"]}   # a failed threshold: exit 4\n"
    "            - {name: status, type: string, success_values: [\"200\"]}\n"
    "\n"
    "cleanup:\n"
    "  - name: tidy\n"
    "    command: rm -f requests.csv\n"
    "\n"
    "plots:\n"
    "  - name: latency\n"
    "    title: Request latency\n"
    "    source: requests\n"
    "    type: histogram\n"
    "    x: latency_ms\n";

static const char ssh_pair[] =
    "# An SSH pair: a server on one host, a client on another, one SSH\n"
    "# connection per host for the whole run.  Fill in the two hosts (an ip or a\n"
    "# Host of ~/.ssh/config; key_file or the ssh agent), then\n"
    "#   benchctl validate -c benchmark.yaml && benchctl run -c benchmark.yaml\n"
    "benchmark:\n"
    "  name: %s\n"
    "  output_dir: ./results\n"
    "\n"
    "hosts:\n"
    "  server:\n"
    "    ip: server.example.org        # change me\n"
    "    # username: bench\n"
    "    # key_file: ~/.ssh/id_ed25519\n"
    "  client:\n"
    "    ip: client.example.org        # change me\n"
    "\n"
    "stages:\n"
    "  - name: serve                   # on the server until the client is done\n"
    "    host: server\n"
    "    background: true\n"
    "    command: exec python3 -m http.server 8080\n"
    "    health_check:\n"
    "      type: port\n"
    "      target: \"8080\"              # checked on the server itself\n"
    "      timeout: 30s\n"
    "\n"
    "  - name: fetch                   # on the client: 100 requests, one CSV row each\n"
    "    host: client\n"
    "    command: |\n"
    "      echo \"timestamp_ms,latency_ms,status\" > requests.csv\n"
    "      for i in $(seq 1 100); do\n"
    "        curl -s -o /dev/null -w \"$(date +%%s%%3N),%%{time_total},%%{http_code}\\n\" "
    "http://server.example.org:8080/\n"
    "      done | awk -F, '{ printf \"%%s,%%.3f,%%s\\n\", $1, $2 * 1000, $3 }' >> requests.csv\n"
    "    outputs:\n"
    "      - name: requests            # copied back from the client\n"
    "        remote_path: requests.csv\n"
    "        data_schema:\n"
    "          columns:\n"
    "            - {name: timestamp_ms, type: timestamp, format: unix_ms}\n"
    "            - {name: latency_ms, type: float, unit: ms, better: lower}\n"
    "            - {name: status, type: string, success_values: [\"200\"]}\n"
    "\n"
    "plots:\n"
    "  - name: latency\n"
    "    source: requests\n"
    "    type: time_series\n"
    "    x: timestamp_ms\n"
    "    y: latency_ms\n";

static const cli_template templates[] = {
    {"starter", "a measured command, a CSV output with a schema, a plot, two cases (default)",
     starter},
    {"command", "command timing: two variants, repeated runs, compared", command_timing},
    {"http", "HTTP load: a background server, a health check, requests as CSV, a threshold",
     http_load},
    {"ssh", "an SSH pair: a server host and a client host", ssh_pair},
    {NULL, NULL, NULL},
};

const cli_template *cli_templates(void) { return templates; }

const cli_template *cli_template_find(const char *name)
{
    for (const cli_template *t = templates; t->name; t++)
        if (strcmp(t->name, name) == 0)
            return t;
    return NULL;
}
