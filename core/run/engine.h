/*
 * The run pipeline: config -> plugins -> hosts -> for each case, for each
 * stage, on each of its hosts: run, probe -> cleanup -> metadata.json.
 * Also the host connections (one per host per run, opened on first use).
 */
#ifndef BENCHCTL_ENGINE_H
#define BENCHCTL_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "config/config.h"
#include "plugin/loader.h"
#include "plugin/coresvc.h"
#include "util/util.h"

/* Exit codes of benchctl (documented in the README). */
enum {
    EXIT_OK = 0,
    EXIT_RUN_FAILED = 1,
    EXIT_USAGE = 2,
    EXIT_CHECK_WARN = 3, /* check: every host reached, some check warned */
    EXIT_THRESHOLDS = 4, /* the run completed, but a threshold: failed */
    EXIT_INTERRUPTED = 130
};

typedef struct run_options {
    const char *config_path;
    strvec metadata;     /* "k=v" */
    strvec env;          /* "K=V" */
    strvec skip;         /* stage names */
    strvec cases;        /* case names */
    int64_t timeout_ms;  /* 0 = none */
    int64_t max_nodes;   /* --nodes N: fan-out stages use their first N nodes; 0: all */
    int64_t memory_limit; /* --memory-limit: every stage's limits.memory at most this
                             many bytes (a stage without one gets it); 0: none */
    strvec plugin_paths;
    const char *log_level; /* NULL: config or info */
    bool no_report;        /* --no-report: no report.html at the end */
    bool monitor;          /* --monitor: benchmark.monitor on (its defaults if absent) */
    const char *base_dir;  /* not NULL: the config's relative paths and local stages'
                              directory (instead of the config file's directory) */
    cJSON **summary;       /* not NULL: receives the run's summary document (owned by
                              the caller; report/summary.h), else NULL when no run
                              directory was made */
} run_options;

/* `benchctl run`; returns the process exit code. */
int engine_run(const run_options *o);
/* `benchctl validate`: config and plugins, nothing runs. */
int engine_validate(const char *config_path, const strvec *plugin_paths);

/* `benchctl plot ID`: redraw a stored run's plots from its config snapshot,
 * or from plots_config when given: a whole config, or a plots file (only
 * `plots:`) whose sources and columns are the snapshot's.  Plots go to
 * dest_dir when given, else to the run's plots/ directory, where an
 * existing file is replaced only with force (otherwise: exit 2, naming it;
 * metadata.json is then left as it was). */
int engine_plot(const char *id, const char *output_dir, const char *plots_config,
                const char *dest_dir, bool force, const strvec *plugin_paths);

/* `benchctl gc`: for every crashed run in output_dir not collected yet,
 * stop its leftover processes and remove its private directories, here and
 * on the hosts it recorded (reached through the run's saved config);
 * prints what it removed.  EXIT_OK, or EXIT_RUN_FAILED when a host could
 * not be cleaned (that run is tried again next time). */
int engine_gc(const char *output_dir, const strvec *plugin_paths);

/* `benchctl check`: what makes timings noisy on every host of the config
 * at config_path, reached through its transport (NULL: this machine
 * only).  Returns the report (owned): {verdict: ok | warn | error,
 * warnings, unreachable, hosts: [{host, transport, controller, reachable,
 * and error, or noise_assess's verdict, warnings, checks}]}, and *code:
 * EXIT_OK, EXIT_CHECK_WARN, EXIT_RUN_FAILED (a host not reached or not
 * checked).  NULL with *code EXIT_USAGE after printing a config's errors,
 * or EXIT_INTERRUPTED (Ctrl-C). */
cJSON *engine_check(const char *config_path, const strvec *plugin_paths, int *code);

/* Load config + bind its plugins, printing every diagnostic.  Returns the
 * config, or NULL (with exit code 2 semantics) on any error. */
config *engine_load(const char *config_path, loader *ld, const strvec *plugin_paths,
                    bool print_warnings);
/* The same, resolving the file's relative paths against base_dir. */
config *engine_load_in(const char *config_path, const char *base_dir, loader *ld,
                       const strvec *plugin_paths, bool print_warnings);

/* `benchctl __watchdog FD MARKER [RUN_DIR]` (internal, started by a run):
 * wait for the run's end on FD; if benchctl died instead, stop every
 * process with MARKER in its environment and remove the private
 * directories on this machine that RUN_DIR recorded (leftovers.c).
 * Returns the exit code. */
int engine_watchdog(const char *fd_text, const char *marker, const char *run_dir);

#endif
