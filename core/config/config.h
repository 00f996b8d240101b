/*
 * The benchmark configuration: the YAML schema of the Go benchctl v0.2.1
 * and v0.3.x (their union), checked key by key with FILE:LINE:COL errors.
 *
 * config_load parses and validates everything the core itself owns.
 * Plugin options (host transports, probes, collectors, validators, plot
 * styling) are validated afterwards against each plugin's declared schema
 * by bind_plugins (bind.h), once the plugins are known.
 */
#ifndef BENCHCTL_CONFIG_H
#define BENCHCTL_CONFIG_H

/* A config file is a regular file of at most this many bytes. */
#define CONFIG_MAX_BYTES ((size_t)16 << 20)

/* Names of stages, outputs, cases and plots name files: at most this many
 * bytes (less what layout adds: a file system's NAME_MAX is 255). */
#define CONFIG_NAME_MAX 200

/* benchmark.logging.max_stage_log by default: bytes kept of a stage's log. */
#define CONFIG_STAGE_LOG_MAX ((int64_t)1 << 30)

#include <stdbool.h>
#include <stdint.h>

#include "config/diag.h"
#include "config/keys.h"
#include "util/util.h"
#include "config/yamltree.h"

struct plugin; /* loader.h */

typedef struct cfg_health {
    const ynode *node;
    const char *type;      /* probe plugin name */
    const char *target;
    int64_t timeout_ms;    /* default 30 s */
    int64_t interval_ms;   /* 0: the probe's default (else 100 ms) */
    const char *on;        /* `on:` as given (host, controller), or NULL */
    bool on_controller;    /* `on: controller`: probe from benchctl's machine */
    int64_t retries;       /* 0 = no limit within the timeout */
    const struct plugin *plugin;
} cfg_health;

/* One `thresholds:` entry of a column: "<stat> <op> <number>", e.g.
 * "p95 < 200" (stat: max, min, mean, median, pNN, rate, success_rate). */
typedef enum { THR_MAX, THR_MIN, THR_MEAN, THR_MEDIAN, THR_PCT, THR_RATE, THR_SUCCESS } thr_stat;
typedef enum { THR_LT, THR_LE, THR_GT, THR_GE, THR_EQ, THR_NE } thr_op;
typedef struct cfg_threshold {
    const ynode *node;
    const char *text;  /* as written */
    thr_stat stat;
    double pct;        /* THR_PCT: the percentile, 0..100 */
    thr_op op;
    double value;
} cfg_threshold;

typedef struct cfg_column {
    const ynode *node;
    const char *name, *type, *format, *unit;
    const char *better;          /* "lower" | "higher" | NULL (no direction) */
    const char **success_values; /* NULL-terminated; NULL when not a status column */
    size_t nsuccess;
    bool metric;                 /* `metric:` (compare: a metric or not); see metric_set */
    bool metric_set;             /* `metric:` was given; else decided by better/unit */
    cfg_threshold *thresholds;   /* `thresholds:`, checked after the stage */
    size_t nthresholds;
} cfg_column;

typedef struct cfg_output {
    const ynode *node;
    const char *name, *remote_path;
    const char *collector;       /* default "files" */
    const ynode *schema;         /* data_schema map, or NULL */
    const char *schema_format;   /* validator name, default "csv" */
    const char *on_invalid;      /* "fail" | "warn" */
    int64_t min_rows;            /* data rows a file needs to be valid; -1: unset */
    int64_t max_size;            /* bytes kept of each collected file; 0: no limit */
    cfg_column *columns;
    size_t ncolumns;
    const struct plugin *collector_plugin, *validator_plugin;
} cfg_output;

/* `limits:` of a stage (benchmark.limits merged in as defaults; limits.c).
 * Unset values: 0 (cpus, pids), -1 (memory, walltime_ms, cputime_ms),
 * LIMITS_NICE_UNSET (nice). */
#define LIMITS_NICE_UNSET 100
#define LIMITS_MAX_CPUS 1024
typedef struct cfg_limits {
    const ynode *node;       /* the stage's mapping, else the benchmark's, or NULL */
    int64_t cpus;            /* a count of CPUs to allocate (0: none) */
    const char *cpu_list;    /* explicit CPUs, normalised ("2-3,6"), or NULL */
    int64_t memory;          /* bytes */
    int64_t walltime_ms, cputime_ms;
    int64_t pids;
    bool private_tmp;
    int64_t nice;
    bool any;                /* one of the above is set */
} cfg_limits;

typedef struct cfg_stage {
    const ynode *node;
    const char *name;
    const char **hosts; /* host aliases; {"local"} when none given */
    size_t nhosts;
    const char *command, *script;
    const char *shell;  /* NULL: benchmark.shell */
    bool background, append_metadata, skip, continue_on_error, is_cleanup;
    bool quiet; /* output to the log only, not the terminal */
    bool parallel;        /* several hosts at once instead of in order */
    const char *execute_only_for;
    int64_t timeout_ms; /* 0 = none */
    int64_t stop_grace_ms; /* background: SIGTERM .. SIGKILL, default 2 s */
    bool allow_exit;       /* background: exiting on its own is fine */
    int64_t repeat;        /* measured runs of the command (1: a plain stage) */
    int64_t warmup;        /* unrecorded runs before them */
    bool repeat_set;       /* `repeat:` was given (even 1): results get a distribution */
    cfg_health *health;
    cfg_output *outputs;
    size_t noutputs;
    /* Fan-out (`nodes:`): nnodes > 0 runs the command on nnodes nodes at
     * once, node k on hosts[k % nhosts]; their outputs are collated. */
    int64_t nnodes;
    int64_t min_nodes;     /* nodes that must succeed; 0: all of them */
    const char *prepare;   /* run on each node before the start barrier */
    /* `monitor:` narrows this stage's resources summary (monitor.c) */
    bool monitor_off;            /* `monitor: false`: none for this stage */
    const char **monitor_hosts;  /* only these hosts; NULL: every monitored one */
    size_t nmonitor_hosts;
    uint32_t monitor_metrics;    /* only these BC_MON_* groups; 0: the benchmark's */
    cfg_limits limits;           /* `limits:` (with benchmark.limits as defaults) */
    const char *cleanup_cmd;     /* `cleanup:` run after the stage, even when it failed */
    struct cfg_profile *profile; /* `profile:` (profile.c), or NULL */
} cfg_stage;

/* A stage's `profile: {with: NAME, <the profiler's options>}`: its measured
 * runs go under that profiler plugin (run/profile.c). */
typedef struct cfg_profile {
    const ynode *node;        /* the mapping */
    const char *with;         /* profiler plugin name, default "perf" */
    const struct plugin *plugin;
} cfg_profile;

typedef struct cfg_host {
    const char *alias;
    const ynode *node;      /* NULL for the implicit `local` */
    const char *transport;  /* plugin name */
    const char *ip;
    const struct plugin *plugin;
} cfg_host;

typedef struct cfg_case {
    const ynode *node;    /* the cases[] entry, or NULL for a pure matrix case */
    const char *name;     /* unique: "<case>[,<param>=<value>...]" */
    const char *base;     /* the cases[] name, or NULL */
    const ynode *env;     /* map of NAME: value, or NULL */
    strvec params;        /* "NAME=value" from matrix, in matrix order */
    char *owned_name;
} cfg_case;

typedef struct cfg_plot {
    const ynode *node;
    const char *name, *title, *source, *type, *x, *y, *groupby, *aggregation;
    const char *format, *engine, *export_path;
    const ynode *options;
    const struct plugin *plugin;
    bool log_x, log_y;
    double xlim[2], ylim[2];
    bool xlim_set[2], ylim_set[2]; /* null or omitted ends are automatic */
    const char *xlabel, *ylabel;
    const char *x_axis;            /* "elapsed" | "clock" | NULL (clock) */
    const char *across;            /* "cases" | NULL */
    bool x_is_param;               /* across: cases with x naming a matrix parameter */
} cfg_plot;

/* benchmark.monitor: host monitoring for the whole run (monitor.c). */
typedef struct cfg_monitor {
    const ynode *node;       /* the section, or NULL (then off unless --monitor) */
    bool enabled;            /* `enabled:` (default true when the section is given) */
    int64_t interval_ms;     /* `interval:`, default 1 s */
    const char **hosts;      /* `hosts:` aliases; NULL = all (`hosts: all`) */
    size_t nhosts;
    uint32_t metrics;        /* BC_MON_* groups; default all */
    const char *sampler;     /* monitor plugin name, default "proc" */
    const char *plot;        /* timeline figure: png | svg | pdf | none (default png) */
    const struct plugin *plugin;
} cfg_monitor;

typedef struct cfg_range { size_t start, end; } cfg_range;

/* publish: {to: NAME, on: success|always|never, <the publisher's options>} */
typedef struct cfg_publish {
    const ynode *node;        /* the section, or NULL */
    const char *to;           /* the publisher plugin's name, or NULL */
    const char *on;           /* "success" (default), "always" or "never" */
    const struct plugin *plugin; /* bound by bind_plugins */
} cfg_publish;

typedef struct config {
    char *path;      /* as given on the command line */
    char *abs_path;  /* absolute */
    char *dir;       /* absolute directory of the file */
    char *text;      /* the file's bytes */
    size_t len;
    ytree *tree;

    const char *name;
    char *output_dir;  /* absolute; relative paths start at the config's dir */
    const ynode *output_dir_node;
    strvec shell;      /* benchmark.shell split into words */
    strvec helper_shell; /* for plugins' helper commands (host_exec): shell
                          * when set, else the default without -e/pipefail */
    const char *log_level, *log_path;
    const char *log_time_format; /* logging.time_format: a Go time layout, or NULL */
    int64_t log_stage_max;       /* logging.max_stage_log: bytes kept of each stage log */
    const char *sync_remote;     /* benchmark.sync.remote (rclone's), or NULL */
    const char *concurrency_param; /* benchmark.concurrency_param: the matrix parameter
                                    * that is each node's concurrency, or NULL */
    strvec sync_args;            /* benchmark.sync.args: more rclone arguments */
    bool git_capture, git_require_clean, git_save_patch;
    bool report; /* benchmark.report: write report.html at the end of a run */
    strvec plugin_paths; /* absolute */

    cfg_host *hosts;
    size_t nhosts;
    cfg_stage *stages;
    size_t nstages;
    cfg_stage *cleanup;
    size_t ncleanup;
    cfg_case *cases;     /* cases x matrix combinations, in order */
    size_t ncases;
    const ynode *matrix; /* the matrix: section, or NULL */
    cfg_plot *plots;
    size_t nplots;
    ytree *plots_tree;  /* config_load_plots: the plots file's tree and text */
    char *plots_text;
    char *plots_dir;    /* its absolute directory (export_path), or NULL */

    cfg_publish publish; /* the publish: section (publish.c) */
    cfg_monitor monitor;
    cfg_limits limits;   /* benchmark.limits: every stage's defaults */
    strvec owned_strs;   /* strings the sections made (limits.c: cpu lists) */

    cfg_range *secrets; /* byte ranges of secret values, for redaction */
    size_t nsecrets;
} config;

/* Read, parse and validate path.  Returns the config (errors, if any, are
 * in d and d->errors > 0) or NULL when the file cannot be read or parsed.
 * d->file is set to path. */
config *config_load(const char *path, diag *d);
/* The same, with relative paths in the file resolved against base_dir (a
 * run's config snapshot is read as if it were the original file). */
config *config_load_in(const char *path, const char *base_dir, diag *d);
void config_free(config *c);

/* text with ${NAME} replaced from the cases cs[0..n): NAME is `case` (the
 * case's name), a case env variable, a matrix parameter (by its name or as
 * BENCHCTL_PARAM_<NAME>) or BENCHCTL_CASE_NAME; a name is replaced only
 * when every case gives it the same value, otherwise (and when unknown) it
 * stays as written.  Returns a new string (NULL for NULL text). */
char *config_expand_plot_text(const char *text, const cfg_case *const *cs, size_t n);

/* 1 when the file at path is a plots file (no `stages`: only `plots` and
 * optionally `benchmark.name`), 0 when it is a whole config, -1 when it
 * cannot be read or parsed. */
int config_is_plots_file(const char *path);

/* A relative path of the config (script:): against the config's
 * directory, or, when nothing is there but the working directory has it,
 * against the working directory as the Go tool resolved it (*from_cwd set).
 * Absolute paths are kept.  Owned. */
char *config_resolve_path(const config *c, const char *rel, bool *from_cwd);
/* Replace c's plots with those of the plots file at path, checked against
 * c's outputs, columns and cases (errors and warnings in d, whose file
 * becomes path).  Returns false on errors. */
bool config_load_plots(config *c, const char *path, diag *d);

/* True when name selects the case: its full name or its cases[] name. */
bool config_case_matches(const cfg_case *cs, const char *name);
/* Find a host by alias (the implicit `local` included); NULL if absent. */
cfg_host *config_host(config *c, const char *alias);
/* Mark a node's byte range as secret (redacted in the saved copy). */
void config_add_secret(config *c, const ynode *n);
/* The config text with every secret value replaced by "<redacted>". */
char *config_redacted_text(const config *c, size_t *len);
/* Split a shell string ("bash -c") into words. */
void config_split_words(const char *s, strvec *out);
/* Parse a boolean word into *out: true/True/TRUE, yes/Yes, on/On or
 * false/False/FALSE, no/No, off/Off.  Returns false, leaving *out
 * untouched, for anything else; s must not be NULL. */
bool config_parse_bool(const char *s, bool *out);

/* The core's keys of the sections that also carry a plugin's keys
 * (health_check, outputs[], data_schema): bind.c checks the plugin's part
 * against its schema beside these (stages.c). */
extern const cfg_key config_health_keys[];
extern const cfg_key config_output_keys[];
extern const cfg_key config_schema_keys[];
extern const cfg_key config_publish_keys[]; /* the core's keys of publish: */
extern const cfg_key config_monitor_keys[]; /* benchmark.monitor (monitor.c) */
extern const cfg_key config_profile_keys[]; /* the core's keys of a stage's profile: */

/* Turn monitoring on with its defaults when the config has no
 * benchmark.monitor (`benchctl run --monitor`); keeps a configured one. */
void config_monitor_enable(config *c);
/* "cpu,memory,...": the names of the BC_MON_* groups in metrics (owned). */
char *config_monitor_metric_names(uint32_t metrics);

#endif
