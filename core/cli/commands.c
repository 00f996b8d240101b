/*
 * The commands and their options: one static table, read by the parser
 * (cli_parse) and by the help (cli_print_help, cli_print_usage).  An
 * option's row says its names, whether it takes a value (once or
 * repeatedly), the value's placeholder, its help line and the cli_args
 * field it sets; checks of a value (KEY=VALUE, durations, ranges) are its
 * take function.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "run/engine.h"
#include "util/log.h"

/* ---- checks of option values ------------------------------------------------------ */

static int take_kv(const char *cmd, const cli_option *o, const char *v, void *field, int env)
{
    char flag[64];
    snprintf(flag, sizeof flag, "-%c/--%s", o->letter, o->name);
    int code = cli_check_kv(cmd, flag, v, env);
    if (code == 0)
        sv_push(field, v);
    return code;
}

/* -m/--metadata K=V */
static int take_metadata(const char *cmd, const cli_option *o, const char *v, void *field)
{
    return take_kv(cmd, o, v, field, 0);
}

/* -e/--environment K=V: K an environment variable's name */
static int take_env(const char *cmd, const cli_option *o, const char *v, void *field)
{
    return take_kv(cmd, o, v, field, 1);
}

static int take_timeout(const char *cmd, const cli_option *o, const char *v, void *field)
{
    (void)o;
    int64_t ns;
    if (strcmp(v, "0") == 0) { /* no timeout (the Go tool's -t 0) */
        *(int64_t *)field = 0;
        return 0;
    }
    if (!parse_duration_ns(v, &ns) || ns <= 0)
        return cli_usage_error(cmd, "-t/--timeout: '%s' is not a positive duration "
                                    "(use e.g. 90s, 5m, 1h30m, or 0 for none)", v);
    *(int64_t *)field = (ns + 999999) / 1000000;
    return 0;
}

static int take_nodes(const char *cmd, const cli_option *o, const char *v, void *field)
{
    (void)o;
    int64_t n;
    if (!parse_int64(v, &n) || n < 1)
        return cli_usage_error(cmd, "--nodes: '%s' is not a positive number of nodes", v);
    *(int64_t *)field = n;
    return 0;
}

static int take_memory_limit(const char *cmd, const cli_option *o, const char *v, void *field)
{
    (void)o;
    int64_t n;
    if (!parse_size(v, &n) || n < (1 << 20))
        return cli_usage_error(cmd, "--memory-limit: '%s' is not a size of at least 1M "
                                    "(e.g. 512M, 2G)", v);
    *(int64_t *)field = n;
    return 0;
}

/* exec --runs N: at least 2 (a spread, and a test between commands) */
static int take_runs(const char *cmd, const cli_option *o, const char *v, void *field)
{
    (void)o;
    int64_t n;
    if (!parse_int64(v, &n) || n < 2 || n > 1000000)
        return cli_usage_error(cmd, "--runs: '%s' is not a number of runs from 2 to 1000000", v);
    *(int64_t *)field = n;
    return 0;
}

static int take_warmup(const char *cmd, const cli_option *o, const char *v, void *field)
{
    (void)o;
    int64_t n;
    if (!parse_int64(v, &n) || n < 0 || n > 1000000)
        return cli_usage_error(cmd, "--warmup: '%s' is not a number of runs from 0 to 1000000", v);
    *(int64_t *)field = n;
    return 0;
}

static int take_log_level(const char *cmd, const cli_option *o, const char *v, void *field)
{
    (void)o;
    if (log_level_from_name(v) < 0)
        return cli_usage_error(cmd, "--log-level: '%s' is not one of debug, info, warn, error", v);
    *(const char **)field = v;
    return 0;
}

static int take_alpha(const char *cmd, const cli_option *o, const char *v, void *field)
{
    (void)o;
    double *alpha = field;
    if (!parse_double(v, alpha) || !(*alpha > 0 && *alpha < 1))
        return cli_usage_error(cmd, "--alpha '%s': give a number between 0 and 1 (exclusive), "
                                    "e.g. 0.01", v);
    return 0;
}

/* "5%" or "0.05": a fraction in (0, 10]. */
static int take_threshold(const char *cmd, const cli_option *o, const char *v, void *field)
{
    (void)o;
    size_t len = strlen(v);
    bool pct = len > 1 && v[len - 1] == '%';
    char *num = xstrndup(v, pct ? len - 1 : len);
    double x;
    bool ok = parse_double(num, &x);
    free(num);
    /* A bare 5 is far more likely a forgotten % than 500 %: fractions are
     * below 1; larger changes are written with %. */
    if (ok && !pct && x >= 1)
        ok = false;
    if (ok && pct)
        x /= 100;
    if (!ok || !(x > 0 && x <= 10))
        return cli_usage_error(cmd, "--threshold '%s': give a relative change as a percentage "
                                    "(5%%, up to 1000%%) or a fraction below 1 (0.05)", v);
    *(double *)field = x;
    return 0;
}

/* ---- the options ------------------------------------------------------------------ */

#define AT(field) offsetof(cli_args, field)
#define END {.name = NULL}

#define OPT_CONFIG(text) {"config", 'c', CLI_VALUE, "FILE", text, AT(config), NULL, 0}
#define OPT_STORE_CONFIG \
    OPT_CONFIG("config whose output_dir holds the runs (default: benchmark.yaml)")
#define OPT_OUTPUT_DIR(text) {"output-dir", 'o', CLI_VALUE, "DIR", text, AT(output_dir), NULL, 0}
#define OPT_PLUGIN_PATH                                                                          \
    {"plugin-path", 0, CLI_VALUES, "DIR", "look for plugins in DIR first (repeatable)",          \
     AT(plugin_paths), NULL, 0}
#define OPT_JSON(text) {"json", 0, CLI_FLAG, NULL, text, AT(json), NULL, 1}
#define OPT_MARKDOWN(text) {"markdown", 0, CLI_FLAG, NULL, text, AT(markdown), NULL, 1}

static const cli_option run_opts[] = {
    OPT_CONFIG("config file (default: benchmark.yaml)"),
    OPT_JSON("print the run's summary as one JSON document on stdout (the rest\n"
             "goes to stderr; docs/schema/summary.schema.json)"),
    {"metadata", 'm', CLI_VALUES, "K=V", "add custom metadata to the run (repeatable)",
     AT(metadata), take_metadata, 0},
    {"environment", 'e', CLI_VALUES, "K=V",
     "export K=V to every stage (repeatable; overrides case env)", AT(env), take_env, 0},
    {"skip", 0, CLI_VALUES, "STAGE", "do not run this stage (repeatable)", AT(skip), NULL, 0},
    {"case", 0, CLI_VALUES, "NAME", "run only this case (repeatable)", AT(only_cases), NULL, 0},
    {"timeout", 't', CLI_VALUE, "DURATION", "stop the whole run after DURATION (e.g. 90s, 5m; 0: none)",
     AT(timeout_ms), take_timeout, 0},
    {"nodes", 0, CLI_VALUE, "N", "fan-out stages (nodes:) run on their first N nodes only",
     AT(max_nodes), take_nodes, 0},
    {"memory-limit", 0, CLI_VALUE, "SIZE",
     "every stage's limits.memory is at most SIZE (a stage without one gets\nSIZE; "
     "the queue daemon passes a task's --memory)", AT(memory_limit), take_memory_limit, 0},
    {"monitor", 0, CLI_FLAG, NULL,
     "sample every host's CPU, memory, network and disk (benchmark.monitor's defaults when "
     "the config has none)", AT(monitor), NULL, 0},
    OPT_PLUGIN_PATH,
    {"log-level", 0, CLI_VALUE, "LEVEL", "debug, info, warn or error", AT(log_level),
     take_log_level, 0},
    {"no-report", 0, CLI_FLAG, NULL, "do not write report.html at the end (as report: false)",
     AT(no_report), NULL, 0},
    END,
};

static const cli_option validate_opts[] = {
    OPT_CONFIG("config file (default: benchmark.yaml)"),
    OPT_PLUGIN_PATH,
    END,
};

static const cli_option init_opts[] = {
    {"name", 'n', CLI_VALUE, "NAME", "benchmark name (default: my-benchmark)", AT(name), NULL, 0},
    {"file", 'f', CLI_VALUE, "FILE", "where to write it (default: benchmark.yaml)", AT(file), NULL,
     0},
    {"force", 0, CLI_FLAG, NULL, "overwrite an existing file", AT(force), NULL, 0},
    {"template", 't', CLI_VALUE, "NAME",
     "starter (default), command, http or ssh; `list` lists them", AT(template_name), NULL, 0},
    END,
};

static const cli_option exec_opts[] = {
    {"runs", 'r', CLI_VALUE, "N", "measured runs of each command (default 10, at least 2)",
     AT(runs), take_runs, 0},
    {"warmup", 'w', CLI_VALUE, "K", "unmeasured runs of each command first (default 0)",
     AT(warmup), take_warmup, 0},
    {"prepare", 'p', CLI_VALUE, "CMD", "run CMD before every run of every command, unmeasured",
     AT(prepare), NULL, 0},
    {"export-markdown", 0, CLI_VALUE, "FILE", "write a Markdown table of the results to FILE",
     AT(export_markdown), NULL, 0},
    {"export-json", 0, CLI_VALUE, "FILE", "write the results (every run's time) as JSON to FILE",
     AT(export_json), NULL, 0},
    {"export-csv", 0, CLI_VALUE, "FILE", "write one CSV row per command to FILE", AT(export_csv),
     NULL, 0},
    OPT_JSON("print the run's summary (with the comparison) as JSON on stdout"),
    OPT_OUTPUT_DIR("store the run in DIR (default: ./results)"),
    END,
};

static const cli_option inspect_opts[] = {
    OPT_JSON("print metadata.json as stored"),
    OPT_STORE_CONFIG,
    OPT_OUTPUT_DIR("the runs are in DIR (instead of the config's output_dir)"),
    END,
};

static const cli_option list_opts[] = {
    OPT_JSON("print a JSON array"),
    OPT_STORE_CONFIG,
    OPT_OUTPUT_DIR("the runs are in DIR"),
    END,
};

static const cli_option edit_opts[] = {
    {"metadata", 'm', CLI_VALUES, "K=V", "set custom key K to V (repeatable, at least one)",
     AT(metadata), take_metadata, 0},
    OPT_STORE_CONFIG,
    OPT_OUTPUT_DIR("the runs are in DIR"),
    END,
};

static const cli_option compare_opts[] = {
    {"cases", 0, CLI_FLAG, NULL, "compare the cases of one run (the first case is the baseline)",
     AT(cases), NULL, 0},
    {"baseline", 0, CLI_VALUE, "CASE", "with --cases: the baseline case", AT(baseline), NULL, 0},
    {"alpha", 0, CLI_VALUE, "A", "significance level of the BH-adjusted p-values (default 0.01)",
     AT(alpha), take_alpha, 0},
    {"threshold", 0, CLI_VALUE, "T",
     "smallest relative change that matters: 5% or 0.05 (default 5%)", AT(threshold),
     take_threshold, 0},
    {"fail-on-regression", 0, CLI_FLAG, NULL,
     "exit 3 when a metric regressed (without it: 0 even then)", AT(fail_on_regression), NULL, 0},
    OPT_JSON("print a JSON object (docs/schema/compare.schema.json)"),
    OPT_MARKDOWN("print GitHub Markdown (for a pull request comment)"),
    OPT_STORE_CONFIG,
    OPT_OUTPUT_DIR("the runs are in DIR"),
    END,
};

static const cli_option report_opts[] = {
    {"out", 0, CLI_VALUE, "FILE",
     "write the report to FILE (default: report.html in the run's directory;\n"
     "several runs: report-ID1-ID2....html in the runs' directory)", AT(out), NULL, 0},
    {"cases", 0, CLI_FLAG, NULL, "report the cases of one run compared (the first is the baseline)",
     AT(cases), NULL, 0},
    {"baseline", 0, CLI_VALUE, "CASE", "with --cases: the baseline case", AT(baseline), NULL, 0},
    {"alpha", 0, CLI_VALUE, "A", "as compare --alpha (default 0.01)", AT(alpha), take_alpha, 0},
    {"threshold", 0, CLI_VALUE, "T", "as compare --threshold (default 5%)", AT(threshold),
     take_threshold, 0},
    {"fail-on-regression", 0, CLI_FLAG, NULL,
     "several runs: exit 3 when a metric regressed (the report is written)",
     AT(fail_on_regression), NULL, 0},
    OPT_STORE_CONFIG,
    OPT_OUTPUT_DIR("the runs are in DIR"),
    END,
};

static const cli_option stats_opts[] = {
    OPT_JSON("print results.json as stored"),
    OPT_MARKDOWN("print GitHub Markdown tables"),
    OPT_STORE_CONFIG,
    OPT_OUTPUT_DIR("the runs are in DIR"),
    END,
};

static int take_top(const char *cmd, const cli_option *o, const char *v, void *field)
{
    (void)o;
    int64_t n;
    if (!parse_int64(v, &n) || n < 1 || n > 100000)
        return cli_usage_error(cmd, "--top: '%s' is not a number of functions (1 to 100000)", v);
    *(int64_t *)field = n;
    return 0;
}

static const cli_option profile_opts[] = {
    {"stage", 0, CLI_VALUE, "NAME", "only the stage NAME", AT(stage), NULL, 0},
    {"top", 0, CLI_VALUE, "N", "the N hottest functions (default 10)", AT(top), take_top, 0},
    {"out", 0, CLI_VALUE, "DIR",
     "two runs: write the differential flame graphs to DIR\n(default: the second run's "
     "profiles/diff-ID1/)", AT(out), NULL, 0},
    OPT_JSON("print a JSON object"),
    OPT_STORE_CONFIG,
    OPT_OUTPUT_DIR("the runs are in DIR"),
    END,
};

static const cli_option tag_opts[] = {
    {"delete", 'd', CLI_FLAG, NULL, "remove the tag NAME", AT(del), NULL, 0},
    OPT_JSON("list the tags as a JSON object {NAME: ID}"),
    OPT_STORE_CONFIG,
    OPT_OUTPUT_DIR("the runs are in DIR"),
    END,
};

static const cli_option plot_opts[] = {
    OPT_CONFIG("draw the plots section of FILE (default: the run's own config\n"
               "snapshot); a FILE with only `plots:` takes its sources from the\n"
               "run's config; a whole config's output_dir also locates the run"),
    OPT_OUTPUT_DIR("the runs are in DIR (default: benchmark.yaml's output_dir)"),
    {"out", 0, CLI_VALUE, "DIR", "draw into DIR instead of the run's plots/ directory",
     AT(out), NULL, 0},
    {"force", 0, CLI_FLAG, NULL, "replace the run's existing plot files (refused without it)",
     AT(force), NULL, 0},
    OPT_PLUGIN_PATH,
    END,
};

static const cli_option sync_opts[] = {
    OPT_CONFIG("config whose benchmark.sync and output_dir to use (default: benchmark.yaml)"),
    END,
};

static const cli_option publish_opts[] = {
    OPT_CONFIG("config whose publish: section and output_dir to use (default: benchmark.yaml)"),
    OPT_OUTPUT_DIR("the runs are in DIR (instead of the config's output_dir)"),
    {"to", 0, CLI_VALUE, "NAME", "the publisher plugin (default: the config's publish.to)",
     AT(to), NULL, 0},
    {"dry-run", 0, CLI_FLAG, NULL, "print the JSON that would be sent; contact no server",
     AT(dry_run), NULL, 0},
    {"force", 0, CLI_FLAG, NULL, "send runs already published again (replacing what was sent)",
     AT(force), NULL, 0},
    {"pending", 0, CLI_FLAG, NULL, "publish every stored run not yet published there",
     AT(pending), NULL, 0},
    OPT_PLUGIN_PATH,
    END,
};

static const cli_option plugins_opts[] = {
    OPT_JSON("print a JSON object {search_path, plugins, refused}"),
    OPT_CONFIG("also search the config's benchmark.plugin_paths"),
    OPT_PLUGIN_PATH,
    END,
};

static const cli_option gc_opts[] = {
    OPT_CONFIG("the config whose output_dir holds the runs (default: benchmark.yaml)"),
    OPT_OUTPUT_DIR("the runs are in DIR (default: benchmark.yaml's output_dir)"),
    OPT_PLUGIN_PATH,
    END,
};

#define OPT_SOCKET                                                                               \
    {"socket", 0, CLI_VALUE, "PATH",                                                             \
     "the daemon's socket (default: $BENCHCTL_SOCKET, else /run/benchctl/daemon.sock\n"         \
     "as root, else $XDG_RUNTIME_DIR/benchctl/daemon.sock)", AT(socket), NULL, 0}

static const cli_option daemon_opts[] = {
    OPT_SOCKET,
    {"cpus", 0, CLI_VALUE, "LIST", "the CPUs tasks run on, e.g. 2-7 or 0,2,4-5 (required)",
     AT(cpus), NULL, 0},
    {"memory", 0, CLI_VALUE, "SIZE", "the memory budget tasks reserve from, e.g. 16G (required)",
     AT(memory), NULL, 0},
    {"state", 0, CLI_VALUE, "DIR",
     "journal, task logs and generated configs (default: /var/lib/benchctl/queue\n"
     "as root, else $XDG_STATE_HOME/benchctl/queue)", AT(state_dir), NULL, 0},
    {"foreground", 0, CLI_FLAG, NULL, "stay attached, log to stderr (systemd; else detach once "
     "listening)", AT(foreground), NULL, 0},
    {"no-pin", 0, CLI_FLAG, NULL, "allocate CPUs without pinning tasks to them",
     AT(no_pin), NULL, 0},
    {"grace", 0, CLI_VALUE, "DURATION",
     "a stopped task's run gets this long to clean up before SIGKILL (default 30s)", AT(grace),
     NULL, 0},
    {"socket-group", 0, CLI_VALUE, "GROUP", "give the socket to GROUP (its members may submit)",
     AT(socket_group), NULL, 0},
    END,
};

static const cli_option submit_opts[] = {
    OPT_SOCKET,
    OPT_CONFIG("a config task: `benchctl run -c FILE` with the run options below"),
    {"metadata", 'm', CLI_VALUES, "K=V", "run option (repeatable)", AT(metadata), take_metadata, 0},
    {"environment", 'e', CLI_VALUES, "K=V", "run option (repeatable)", AT(env), take_env, 0},
    {"skip", 0, CLI_VALUES, "STAGE", "run option (repeatable)", AT(skip), NULL, 0},
    {"case", 0, CLI_VALUES, "NAME", "run option (repeatable)", AT(only_cases), NULL, 0},
    {"timeout", 't', CLI_VALUE, "DURATION", "run option", AT(timeout_ms), take_timeout, 0},
    {"nodes", 0, CLI_VALUE, "N", "run option", AT(max_nodes), take_nodes, 0},
    {"monitor", 0, CLI_FLAG, NULL, "run option", AT(monitor), NULL, 0},
    OPT_PLUGIN_PATH,
    {"log-level", 0, CLI_VALUE, "LEVEL", "run option", AT(log_level), take_log_level, 0},
    {"no-report", 0, CLI_FLAG, NULL, "run option", AT(no_report), NULL, 0},
    OPT_OUTPUT_DIR("a command task's run store (default: ./runs)"),
    {"priority", 0, CLI_VALUE, "N", "higher runs first within its group (default 0)",
     AT(priority), NULL, 0},
    {"group", 0, CLI_VALUE, "N", "priority group: a higher group runs first (default 0)",
     AT(group), NULL, 0},
    {"cpus", 0, CLI_VALUE, "K", "CPUs to reserve (default 1)", AT(cpus), NULL, 0},
    {"memory", 0, CLI_VALUE, "SIZE",
     "memory to reserve, e.g. 2G (default 0: none; else at least 1M); every\nstage of the "
     "task is held to it (run --memory-limit)", AT(memory), NULL, 0},
    {"walltime", 0, CLI_VALUE, "T",
     "stop the task after T (e.g. 10m); lets it backfill (default: none)", AT(walltime),
     NULL, 0},
    {"name", 0, CLI_VALUE, "NAME", "a name shown in the queue", AT(name), NULL, 0},
    {"wait", 0, CLI_FLAG, NULL, "follow the task and exit with its result", AT(wait), NULL, 0},
    END,
};

static const cli_option queue_opts[] = {
    OPT_JSON("print a JSON object {cpus, memory, running, pending, finished}"),
    {"follow", 'f', CLI_FLAG, NULL, "then print a line (a JSON object with --json) every time "
     "the queue changes", AT(follow), NULL, 0},
    OPT_SOCKET,
    END,
};

static const cli_option cancel_opts[] = {
    OPT_SOCKET,
    END,
};

static const cli_option check_opts[] = {
    OPT_CONFIG("check every host of FILE through its transport (default: this\n"
               "machine only)"),
    OPT_JSON("print a JSON object {verdict, warnings, unreachable, hosts}"),
    OPT_PLUGIN_PATH,
    END,
};

static const cli_option no_opts[] = {END};

/* ---- the commands ----------------------------------------------------------------- */

#define EDIT_ARGS "ID -m K=V... [-c FILE | -o DIR]"

static const cli_command commands[] = {
    {.name = "run", .fn = cmd_run,
     .args = "[-c FILE] [-m K=V]... [-e K=V]... [--skip STAGE]... [--case NAME]... "
             "[-t DURATION] [--nodes N] [--memory-limit SIZE] [--monitor] [--plugin-path DIR]... "
             "[--log-level LEVEL] [--no-report] [--json]",
     .summary = "run the benchmark described by a config file", .options = run_opts},
    {.name = "validate", .fn = cmd_validate, .args = "[FILE | -c FILE] [--plugin-path DIR]...",
     .summary = "check a config file and its plugins without running anything",
     .options = validate_opts, .max_args = 1},
    {.name = "init", .fn = cmd_init, .args = "[--template NAME] [--name NAME] [--file FILE] [--force]",
     .summary = "write a starter config file", .options = init_opts},
    {.name = "inspect", .fn = cmd_inspect, .args = "ID [--json] [-c FILE | -o DIR]",
     .summary = "show one stored run", .options = inspect_opts, .min_args = 1, .max_args = 1,
     .missing = "missing run ID"},
    {.name = "list", .fn = cmd_list, .args = "[--json] [-c FILE | -o DIR]",
     .summary = "list stored runs", .options = list_opts},
    {.name = "edit", .fn = cmd_edit, .args = EDIT_ARGS,
     .summary = "add or change custom metadata of a stored run (alias: annotate)",
     .options = edit_opts, .min_args = 1, .max_args = 1, .missing = "missing run ID"},
    {.name = "annotate", .fn = cmd_edit, .args = EDIT_ARGS, .summary = "same as edit",
     .options = edit_opts, .min_args = 1, .max_args = 1, .missing = "missing run ID"},
    {.name = "exec", .fn = cmd_exec,
     .args = "[--runs N] [--warmup K] [--prepare CMD] [--export-markdown FILE] "
             "[--export-json FILE] [--export-csv FILE] [--json] [-o DIR] 'CMD' ['CMD'...]",
     .summary = "time commands without a config (a stored run; the fastest compared with the rest)",
     .options = exec_opts, .min_args = 1, .max_args = -1, .missing = "missing command to time",
     .notes = "  each command runs under bash -e -o pipefail -c in the current directory;\n"
              "  the run is stored like any other (inspect, stats, compare --cases, report)\n"},
    {.name = "compare", .fn = cmd_compare,
     .args = "ID1 ID2 [ID3...] | ID --cases [--baseline CASE] [--json | --markdown] [--alpha A] "
             "[--threshold T] [--fail-on-regression] [-c FILE | -o DIR]",
     .summary = "compare runs (IDs or tags; the first is the baseline) or the cases of one run",
     .options = compare_opts, .max_args = -1,
     .notes = "  verdicts: improved, regressed, unchanged, inconclusive, different "
              "(docs/statistics.md)\n"},
    {.name = "report", .fn = cmd_report,
     .args = "ID [ID2...] | ID --cases [--baseline CASE] [--out FILE] [--alpha A] "
             "[--threshold T] [--fail-on-regression] [-c FILE | -o DIR]",
     .summary = "write a run's HTML report, or the differential report of runs or cases",
     .options = report_opts, .min_args = 1, .max_args = -1, .missing = "missing run ID",
     .notes = "  one ID: the run's report (summary, what ran, hosts, timeline, outputs, logs);\n"
              "  several IDs or --cases: the compare results as a page (regressions first)\n"},
    {.name = "stats", .fn = cmd_stats, .args = "ID [--json | --markdown] [-c FILE | -o DIR]",
     .summary = "show the statistics of a run (its results.json)", .options = stats_opts,
     .min_args = 1, .max_args = 1, .missing = "missing run ID"},
    {.name = "profile", .fn = cmd_profile,
     .args = "ID [ID2] [--stage NAME] [--top N] [--json] [--out DIR] [-c FILE | -o DIR]",
     .summary = "the hottest functions of a run's profiled stages, or the differential profile "
                "of two runs",
     .options = profile_opts, .min_args = 1, .max_args = 2, .missing = "missing run ID",
     .notes = "  one ID: top functions by self and total samples per profiled stage and host;\n"
              "  ID1 ID2: per function the change in share of samples from ID1 to ID2, and a\n"
              "  differential flame graph per stage (red: grown, blue: shrunk)\n"
              "  exit codes: 0 shown, 1 no profile to show, 2 usage or unknown run\n"},
    {.name = "tag", .fn = cmd_tag, .args = "[ID NAME | --delete NAME] [--json] [-c FILE | -o DIR]",
     .summary = "name a run (then use the name wherever a run ID goes), or list the tags",
     .options = tag_opts, .max_args = -1,
     .notes = "  NAME                    letters, digits, '.', '_', '-'; up to 64, not all digits;\n"
              "                          a NAME already in use moves to the new run\n"},
    {.name = "plot", .fn = cmd_plot, .args = "ID [-c FILE] [-o DIR] [--out DIR] [--force] [--plugin-path DIR]...",
     .summary = "redraw the plots of a stored run without re-running it", .options = plot_opts,
     .min_args = 1, .max_args = 1, .missing = "missing run ID"},
    {.name = "sync", .fn = cmd_sync, .args = "push [-c FILE]",
     .summary = "copy the stored runs to benchmark.sync.remote (rclone copy)",
     .options = sync_opts, .min_args = 1, .max_args = 1,
     .missing = "missing action: benchctl sync push"},
    {.name = "publish", .fn = cmd_publish,
     .args = "ID... | --pending [--to NAME] [--dry-run] [--force] [-c FILE | -o DIR] "
             "[--plugin-path DIR]...",
     .summary = "send stored runs to a result server (a publisher plugin, e.g. conbench)",
     .options = publish_opts, .max_args = -1,
     .notes = "  exit codes: 0 sent (or already published), 1 a run was not accepted (see its\n"
              "  metadata.json \"publish\"), 2 usage, 4 the server refused the credentials\n"},
    {.name = "gc", .fn = cmd_gc, .args = "[-c FILE | -o DIR] [--plugin-path DIR]...",
     .summary = "remove what crashed runs left behind (processes, private directories on every host)",
     .options = gc_opts,
     .notes = "  exit status 1 when a host could not be cleaned up (tried again next time)\n"},
    {.name = "check", .fn = cmd_check, .args = "[-c FILE] [--json] [--plugin-path DIR]...",
     .summary = "say what makes timings noisy on each host, with the fix of each warning",
     .options = check_opts,
     .notes = "  checks: governor, turbo, smt, aslr, load, busy_processes, swap, swappiness, thp,\n"
              "  isolated_cpus, nohz_full, cgroup; verdicts: ok, warn, unknown, n/a\n"
              "  exit codes: 0 no warning, 3 a check warned, 1 a host could not be reached or\n"
              "  checked (the others are still reported), 2 usage or configuration error\n"},
    {.name = "plugins", .fn = cmd_plugins, .args = "[--json] [-c FILE] [--plugin-path DIR]...",
     .summary = "list the plugins found on the search path, and files refused",
     .options = plugins_opts},
    {.name = "daemon", .fn = cmd_daemon,
     .args = "--cpus LIST --memory SIZE [--socket PATH] [--state DIR] [--foreground] [--no-pin] "
             "[--grace DURATION] [--socket-group GROUP]",
     .summary = "run the benchmark queue: tasks on a set of CPUs and a memory budget",
     .options = daemon_opts,
     .notes = "  exit codes: 0 stopped by SIGTERM/SIGINT, 1 could not start, 2 usage\n"},
    {.name = "submit", .fn = cmd_submit,
     .args = "(-c FILE [-m K=V]... [-e K=V]... [--skip STAGE]... [--case NAME]... [-t DURATION] "
             "[--nodes N] [--monitor] [--plugin-path DIR]... [--log-level LEVEL] [--no-report] | "
             "[-o DIR] -- COMMAND...) [--priority N] [--group N] [--cpus K] [--memory SIZE] "
             "[--walltime T] [--name NAME] [--wait] [--socket PATH]",
     .summary = "queue a benchmark run (or a command, as a one-stage run); prints its task ID",
     .options = submit_opts, .max_args = -1,
     .notes = "  exit codes: 0 queued; with --wait the run's (0, 1, 4; 130 cancelled or\n"
              "  interrupted; 1 walltime); 1 no daemon or the connection was lost, 2 usage or\n"
              "  refused by the daemon\n"},
    {.name = "queue", .fn = cmd_queue, .args = "[--json] [--follow] [--socket PATH]",
     .summary = "show the queue: running and pending tasks, recently finished ones",
     .options = queue_opts},
    {.name = "cancel", .fn = cmd_cancel, .args = "ID... [--socket PATH]",
     .summary = "remove pending tasks, stop running ones (as Ctrl-C: their cleanup runs)",
     .options = cancel_opts, .min_args = 1, .max_args = -1, .missing = "missing task ID",
     .notes = "  exit codes: 0 every task cancelled, 1 one could not be (reason printed)\n"},
    {.name = "help", .fn = cmd_help, .args = "[COMMAND]", .summary = "show help for a command (alias: h)",
     .options = no_opts, .max_args = 1},
    {.name = "version", .fn = cmd_version, .args = "", .summary = "show the version",
     .options = no_opts},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

const cli_command *cli_find(const char *name)
{
    if (strcmp(name, "h") == 0)
        name = "help"; /* the Go tool's alias */
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

const char *cli_suggest_command(const char *name)
{
    const char *names[NCOMMANDS + 1];
    for (size_t i = 0; i < NCOMMANDS; i++)
        names[i] = commands[i].name;
    names[NCOMMANDS] = NULL;
    return suggest_name(name, names);
}

void cli_print_usage(FILE *out)
{
    fprintf(out, "usage: benchctl COMMAND [OPTIONS]\n\n"
                 "A benchmark orchestrator: declare a benchmark in YAML, run it, keep every run.\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun `benchctl COMMAND --help` for a command's options.\n"
                 "Exit codes: 0 success, 1 the run failed, 2 usage or configuration error,\n"
                 "3 compare found a regression (--fail-on-regression) or a check warned,\n"
                 "4 a threshold failed (run) or the server refused the credentials (publish),\n"
                 "130 interrupted.\n");
}

/* "  -c, --config FILE       text": the names in 24 columns, the text's
 * continuation lines below it. */
static void print_option(char letter, const char *name, const char *value, const char *help)
{
    /* the help starts at column 26, or two spaces after a longer option */
    char left[80];
    int len = snprintf(left, sizeof left, "%c%c%c --%s%s%s", letter ? '-' : ' ',
                       letter ? letter : ' ', letter ? ',' : ' ', name, value ? " " : "",
                       value ? value : "");
    printf("  %s%*s", left, len < 22 ? 24 - len : 2, "");
    for (const char *p = help; *p; p++) {
        putchar(*p);
        if (*p == '\n')
            printf("%26s", "");
    }
    putchar('\n');
}

void cli_print_help(const char *name)
{
    const cli_command *c = cli_find(name);
    if (!c)
        return;
    printf("usage: benchctl %s%s%s\n\n%s\n\nOptions:\n", name, *c->args ? " " : "", c->args,
           c->summary);
    for (const cli_option *o = c->options; o && o->name; o++)
        print_option(o->letter, o->name, o->value, o->help);
    print_option('h', "help", NULL, "show this help");
    print_option('v', "verbose", NULL, "debug messages (as --log-level debug)");
    print_option(0, "color", "WHEN", "auto, always or never (default auto: on a terminal, unless\n"
                                     "NO_COLOR is set)");
    if (c->notes)
        fputs(c->notes, stdout);
}
