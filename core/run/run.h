/*
 * The state of one `benchctl run`, shared by the files of core/run/ (see
 * docs/architecture.md), with each file's functions below under its name.
 * Internal to the core.
 */
#ifndef BENCHCTL_RUN_H
#define BENCHCTL_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/ioctl.h>

#include <cjson/cJSON.h>

#include "config/config.h"
#include "run/engine.h"
#include "plugin/loader.h"
#include "config/optschema.h"
#include "plugin/coresvc.h"
#include "run/cancel.h"
#include "run/layout.h"
#include "run/record.h"
#include "run/isolate.h"

/* One host of the run: its transport and, once opened, its connection. */
typedef struct hostconn {
    cfg_host *cfg;
    plugin *p;
    optview opts;
    void *conn;
    bool opened, failed;
    bool facts_taken;     /* remote host facts asked for (once per run) */
    char *error;
    pthread_mutex_t lock; /* open/close from parallel stages */
    pthread_mutex_t collect_lock; /* the nodes of a host collect one at a time */
    strvec uploaded; /* scripts already put in the transport's private dir */
    char *tmpdir;    /* that dir ($BENCHCTL_HOST_TMPDIR), once asked; "" if none */
    unsigned meta_seq; /* metadata files named there so far */
    /* The host's clock against the controller's (hosts.c: hostconn_clock),
     * under clock_lock; read only once clock_known. */
    pthread_mutex_t clock_lock;
    bool clock_known;       /* measured (or tried: clock_method "unknown") */
    double clock_offset_ms; /* the host's clock minus the controller's */
    double clock_unc_ms;    /* its uncertainty: half the best round trip */
    const char *clock_method; /* "controller", "transport", "commands", "unknown" */
    int64_t clock_at_ns;    /* when it was measured (wall clock) */
    /* Measured again at the end of the run (clock.c), by the same method. */
    bool clock_end_wanted;  /* the transport is asked to measure as it closes */
    bool clock_end_known;
    double clock_end_offset_ms, clock_end_unc_ms, clock_end_cost_ms;
    int64_t clock_end_at_ns;
    double exec_rtt_ms;     /* the slowest helper command seen (fan-out's margin) */
    struct iso_host *iso;   /* what isolation it offers (isolate.c), once probed */
    const void *prof_plugin; /* the profiler last checked here (profile.c), under lock */
    int prof_state;          /* its verdict: 1 can profile, 2 cannot */
    struct run *run;
} hostconn;

/* Everything one run needs. */
typedef struct run {
    config *cfg;
    loader *ld;
    const run_options *o;
    char *id, *dir, *bin;
    char mark[33];         /* this run's random token: BENCHCTL_RUN_MARK (leftovers.c) */
    hostconn *hosts;
    size_t nhosts;
    cJSON *meta, *stages_json, *cases_json, *custom;
    cJSON *machine;        /* hostfacts_collect, taken before the run directory; meta_begin
                            * moves it into meta ("machine") */
    cJSON *custom_written; /* custom as last written (to see `benchctl edit`s) */
    stage_rec **recs;      /* every stage run so far, in order (the typed model) */
    size_t nrecs;
    char *first_error;
    int journal_fd;        /* stages.jsonl: one line per finished stage */
    int owner_fd;          /* the run's owner lock (runstore_own_run) */
    int watch_fd;          /* the watchdog's pipe (leftovers.c), or -1 */
    pid_t watch_pid;       /* the watchdog, or -1 */
    pthread_mutex_t lock;  /* first_error, custom: shared with parallel stages */
    struct bg_proc **bgs;  /* running background stages */
    size_t nbgs;
    int64_t last_save_ns;  /* mono_ns() of the last metadata.json write */
    int64_t m0;            /* mono_ns() when the run directory was created */
    bool tty;
    bool final_write;      /* meta_end began: the reserve is given back */
    struct winsize ws;
    cancel cancel;         /* signals and --timeout */
    int thresholds_failed; /* failed `thresholds:` checks (under lock): exit 4 */
    struct monitor_set *monitor; /* host monitoring (monitor.c), or NULL */
    struct run_live *live;       /* the live line's ticker (live.c), or NULL */
} run;

/* runmeta.c: metadata.json and stages.jsonl */
struct git_state;
/* The run's first metadata.json (written) and stages.jsonl (opened). */
void meta_begin(run *r, const struct git_state *git);
/* Final status, error, end time, duration; written durably (after the
 * space kept for it is given back).  false when it could not be written. */
bool meta_end(run *r, const char *status, double duration_s);
/* Set key to val (a JSON null when val is NULL), replacing it. */
void meta_set_string(cJSON *o, const char *key, const char *val);
/* Write metadata.json now (durable: fsync'ed); false (logged, and noted
 * as a failed write: util/wfail.h) when it could not be written. */
bool run_save_meta(run *r, bool durable);
/* After each stage record: journal it, refresh metadata.json now and then. */
void run_stage_done(run *r, stage_rec *rec);
/* A case's entry in metadata.json's "cases" (status: success, failed,
 * not_run). */
void meta_add_case(run *r, const cfg_case *cs, const char *status);

/* lifecycle.c: the run's error, cancellation and facts (the last three
 * behind the plugin services; r may be NULL outside a run) */
/* Remember the run's first error (later ones are ignored). */
void run_fail(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* STAGE_TIMEOUT when --timeout stopped the run, STAGE_INTERRUPTED for a
 * signal. */
stage_status run_cancel_status(run *r);
int run_cancelled(run *r);
/* r->hosts from r->cfg's hosts, none opened yet. */
void run_open_hosts(run *r);
/* Is s one of the private directory names transports make
 * (/tmp/benchctl.XXXX, or <absolute dir>/.benchctl-<transport>.XXXX;
 * nothing a shell would interpret)?  (gc.c) */
bool run_private_dir_name(const char *s);
/* rm -r of dir, never following a link.  false when something stayed. */
bool run_remove_tree(const char *dir);
int run_cancel_fd(run *r);
const char *run_fact(run *r, const char *key);

/* hosts.c: host connections, one per host per run, opened on first use */
/* The run side of every plugin call (plugin/coresvc.h). */
extern const ctx_env run_ctx_env;
/* ctx_init for a call into p during run r (no host). */
void run_ctx_init(core_ctx *ctx, const plugin *p, optview *opts, run *r);
/* plugin_ensure_init for a call during run r. */
int run_plugin_init(plugin *p, run *r, char **err);
hostconn *run_host(run *r, const char *alias);
/* What h's transport declared it can do (BC_HOST_CAP_*). */
uint32_t hostconn_caps(const hostconn *h);
/* Run command on h and capture its output (probes', collectors' and the
 * core's helper commands). */
int hostconn_exec_capture(hostconn *h, core_ctx *caller, const char *command,
                          int64_t timeout_ms, int *exit_status, char *out, size_t out_size);
/* A context for a call into h's transport. */
void hostconn_ctx(hostconn *h, core_ctx *ctx);
/* Copy remote (on h) to local with h's transport; ctx is a context for
 * h's transport (hostconn_ctx).  A local path in the run directory is
 * written through a fresh directory benchctl made and moved into place
 * (beneath_put): a link planted on the way or at the name fails the copy,
 * never sends it outside.  BC_OK, or an error in ctx->error. */
int hostconn_fetch(hostconn *h, core_ctx *ctx, const char *remote, const char *local);
bool hostconn_open(hostconn *h);   /* false: h->error says why */
/* clock.c: h's clock offset, measured once per run (opened first): what
 * the transport measured while it opened, 0 +/- 0 on the controller, else
 * the best of three helper commands; recorded in metadata.json's
 * hosts.<alias>.clock.  Returns h->clock_offset_ms (0 when unknown). */
double hostconn_clock(hostconn *h);
/* t (seconds since the epoch on h's clock) on the controller's clock. */
double hostconn_to_controller(hostconn *h, double t);
/* h's clock (what is known of it) into metadata.json's hosts.<alias>.clock,
 * replacing an earlier entry; nothing while it is not known. */
void hostconn_clock_record(hostconn *h);
/* The end-of-run measurement, before h closes, by the method of the first:
 * helper commands now (true when measured), or, for an offset the
 * transport measured at open, a request that it measure again as it
 * closes (clock_end_wanted; hostconn_close takes its answer).  Nothing for
 * the controller, an unknown clock or one never measured. */
bool hostconn_clock_end_begin(hostconn *h);
/* Record the end measurement (offset and uncertainty in ms, when, what it
 * cost) with the drift since the first in hosts.<alias>.clock; warns when
 * the drift exceeds the two uncertainties together. */
void hostconn_clock_end_set(hostconn *h, double off_ms, double unc_ms, int64_t at_ns,
                            double cost_ms);
void hostconn_close(hostconn *h);

/* collect.c: the outputs of a repeated stage, collected after each
 * repetition: its number, and each output's statistics pooled over the
 * repetitions (st->noutputs entries, made on first use). */
typedef struct rep_collect {
    int rep;
    struct outstats **pooled;
} rep_collect;

/* collect.c: collect (and validate) a stage's outputs after it ran on h
 * (after repetition rc->rep when rc is not NULL).  Returns false when the
 * stage must fail (*err set, owned). */
bool collect_outputs(run *r, const cfg_stage *st, hostconn *h, const cfg_case *cs,
                     bool background, stage_rec *rec, rep_collect *rc, char **err);
/* Validate the file rel (in the run directory) as output o (whose
 * validator it names), adding it to orec with the statistics of its
 * values (sample files under samples_rel); false (*why, owned) when it
 * is invalid. */
bool collect_validate_file(run *r, const cfg_stage *st, const cfg_output *o, hostconn *h,
                           const cfg_case *cs, out_rec *orec, const char *rel,
                           const char *samples_rel, char **why);
/* Validate of->path (in the run directory) with o's validator exactly as
 * a collected output is (the same problems logged as FILE:LINE:COL, the
 * same report in of->check), without statistics; `what` names the caller
 * (a stage name) for the validator's log lines.  Sets of->validity;
 * false (*why, owned) when the file is invalid. */
bool collect_check_file(run *r, const char *what, const cfg_output *o, hostconn *h, out_file *of,
                        char **why);
/* The pooled statistics into the record's outputs; frees rc's. */
void collect_pooled_finish(const cfg_stage *st, stage_rec *rec, rep_collect *rc);

/* appendmeta.c: merge the first JSON object in text into r->custom.
 * false (with *err, owned, showing what was received) when there is none. */
bool append_metadata(run *r, const char *text, size_t len, const char *what, char **err);

/* stageio.c: where a stage's output goes */
#define STAGE_CAPTURE_LIMIT (4u << 20) /* stdout kept for append_metadata */

/* Terminal, its log (created on the first byte, so silent stages cost no
 * file), and optionally a stdout capture (append_metadata) and the last
 * bytes (to explain a background stage's death). */
typedef struct stage_io {
    int log_fd;
    bool to_terminal;
    bool log_failed;
    const char *log_path;
    uint64_t bytes;
    uint64_t log_max;      /* benchmark.logging.max_stage_log (0: no cap) */
    uint64_t log_kept;     /* bytes written to the log */
    uint64_t log_dropped;  /* bytes past benchmark.logging.max_stage_log */
    strbuf *capture;
    char tail[1024];
    size_t tail_len;
    const char *prefix;    /* "[host] " before each terminal line (parallel) */
    struct fan_node *node; /* a fan-out node: its barrier lines are taken out */
    strbuf line[3];        /* per stream: a partial line awaiting its end */
} stage_io;

/* The output sink of stage contexts (ctx->sink_data is a stage_io). */
void stage_sink(core_ctx *ctx, int stream, const void *data, size_t len);
/* The same without the fan-out barrier filter: terminal, log, capture. */
void stage_io_write(stage_io *io, int stream, const void *data, size_t len);
/* Print what is left of unfinished lines (parallel output). */
void stage_io_flush(stage_io *io);
/* The record's output fields from io: bytes seen, the log (log_rel,
 * when one was written) and what was cut from it. */
void stage_io_record(const stage_io *io, stage_rec *rec, const char *log_rel);
/* The last output lines of a stage, from its tail buffer (owned). */
char *stage_tail_lines(const stage_io *io, int lines);

/* exec.c: what a stage runs, and the one routine that runs a command */
/* What a stage runs: shell words, command text, environment. */
typedef struct stage_exec {
    strvec shell, env;
    char *cmd;
    char *meta_remote, *meta_local; /* $BENCHCTL_METADATA_FILE there (NULL: none) and here */
    bc_exec_request req;
} stage_exec;
/* The environment of every stage command: BENCHCTL_*, case env, -e. */
void run_build_env(run *r, const char *stage, const char *host, const cfg_case *cs, strvec *env);
/* $BENCHCTL_HOST_TMPDIR of h (asked once per connection), or NULL when
 * its transport names none. */
const char *hostconn_tmpdir(hostconn *h);
/* Prepare st's command on h for the target where; false with *err
 * (owned) on failure. */
bool stage_exec_prepare(run *r, const cfg_stage *st, hostconn *h, const cfg_case *cs,
                        const target *where, bool tty, stage_exec *ex, char **err);
void stage_exec_free(stage_exec *ex);
/* The stage's `cleanup:` command, after it ran on h (however it ended):
 * in its working directory, with its environment plus
 * BENCHCTL_STAGE_STATUS and BENCHCTL_STAGE_TERMINATION, its output into
 * io (the stage's log); the result goes to rec->cleanup.  A failing
 * cleanup is a warning. */
void stage_cleanup_command(run *r, const cfg_stage *st, hostconn *h, stage_rec *rec,
                           const stage_exec *ex, stage_io *io);
#define CLEANUP_LIMIT_MS (10 * 60 * 1000) /* a stage's cleanup: command */
/* Merge what a finished stage reported for custom metadata: captured
 * stdout (append_metadata) and $BENCHCTL_METADATA_FILE. */
void stage_metadata(run *r, const cfg_stage *st, hostconn *h, const stage_exec *ex,
                    const strbuf *captured);
/* Add exit status, CPU times and peak RSS to a record. */
void stage_record_result(stage_rec *rec, const bc_exec_result *res);

/* Grace times between SIGTERM and SIGKILL when the core stops a command
 * (background stages use their own stop_grace, 2 s by default). */
#define GRACE_NOW_MS 0       /* a command that must not outlive a failed start */
#define GRACE_HELPER_MS 500  /* a helper command: host facts, probe and collector commands */
#define GRACE_STAGE_MS 2000  /* a stage run that timed out or was cancelled */
/* The time limit of the core's own helper commands (rm, shell calibration). */
#define HELPER_LIMIT_MS 10000

/* Start req on h, wait up to limit_ms (-1: no limit), stop it (grace_ms)
 * unless it ended, release it.  *wall_ns (may be NULL): start to end, as
 * measured here.  Returns BC_OK (res filled), BC_TIMEOUT, BC_CANCELLED,
 * BC_ERR, or EXEC_START_FAILED (ctx->error says why). */
#define EXEC_START_FAILED (-1)
int exec_run(hostconn *h, core_ctx *ctx, const bc_exec_request *req, int64_t limit_ms,
             int64_t grace_ms, bc_exec_result *res, int64_t *wall_ns);
/* Its steps, for a command that outlives the call (background stages). */
int exec_start(hostconn *h, core_ctx *ctx, const bc_exec_request *req, void **proc);
int exec_wait(hostconn *h, core_ctx *ctx, void *proc, int64_t timeout_ms, bc_exec_result *res);
int exec_stop(hostconn *h, core_ctx *ctx, void *proc, int64_t grace_ms);
void exec_release(hostconn *h, core_ctx *ctx, void *proc);

/* repeat.c: a stage with `repeat:` — its runs, the shell's start-up
 * overhead, and the "repeat" object of its record (runs, summaries,
 * outliers, measurement-quality notes). */
typedef struct repeat_rec {
    double *wall, *user, *sys, *rss; /* per measured run; -1: unknown */
    /* a profiled run timed by its profiler's span (profile_after_run):
     * span_start/end on the host's clock (epoch s), outer = the run's time
     * through the transport, shell = the shell's start-up under the
     * profiler; NAN when unknown (a run timed whole) */
    double *span_start, *span_end, *outer, *shell;
    size_t nspans;
    size_t n, cap;
    bool have_overhead;
    bool remote_exec;  /* starting a command costs a round trip (no CHEAP_EXEC) */
    double ovh_wall, ovh_user, ovh_sys; /* seconds, medians */
} repeat_rec;
/* Time the stage's shell with an empty command (the overhead taken off
 * every measured run, as command-line timing tools do).  false when it
 * cannot be measured. */
bool repeat_calibrate(hostconn *h, core_ctx *ctx, const bc_exec_request *req, repeat_rec *rep);
struct prof_span;
/* Add a measured run: its time through the transport (wall_ns) and its
 * result; span (NULL: none) is the command's own span under a profiler,
 * which then is the run's time. */
void repeat_add(repeat_rec *rep, int64_t wall_ns, const bc_exec_result *res,
                const struct prof_span *span);
cJSON *repeat_finish(const repeat_rec *rep, const cfg_stage *st, const char *host);
void repeat_free(repeat_rec *rep);
/* The live line of a repeated stage on a terminal (nothing elsewhere):
 * "NAME on HOST: run 7/15, median 117 ms, ETA 2.3 s", before run number
 * done (0-based, warm-ups first) of a loop that began at t0 (mono_ns);
 * done == warmup + repeat removes the line. */
void repeat_progress(const repeat_rec *rep, const cfg_stage *st, const char *host, int64_t done,
                     int64_t t0);

/* probe.c: run the health check of st on h; BC_OK, BC_ERR (*err set) or
 * BC_CANCELLED.  When bg is given, the probe fails at once if that
 * process ends. */
struct bg_proc;
int stage_probe(run *r, const cfg_stage *st, hostconn *h, const cfg_case *cs, stage_rec *rec,
                struct bg_proc *bg, char **err);

/* background.c: stages that run alongside the case's foreground stages */
/* Start a background stage on one host; false when it could not start
 * (the record says why). */
bool bg_start(run *r, const cfg_stage *st, hostconn *h, const cfg_case *cs, stage_rec *rec);
/* Has a background process of this run ended on its own?  Reports it (and
 * returns false when that must stop the run). */
bool bg_check(run *r);
/* Stop every background stage (SIGTERM, stop_grace, SIGKILL; in parallel),
 * collect their outputs and finish their records.  false when one of them
 * had failed (ended early, invalid data): the run must stop. */
bool bg_stop_all(run *r);
/* Is the background process still running? */
bool bg_alive(struct bg_proc *bg);
/* Its exit description ("exit status 3", "signal 9") and last output. */
char *bg_describe_exit(struct bg_proc *bg);

/* fanout.c: a stage on many nodes at once (`nodes:`), behind a start
 * barrier, its outputs collated into one dataset. */
struct fan_node;
#define EXEC_NODE_STOPPED (-2) /* fanout_exec: stopped because other nodes failed */
/* Run st's nodes; false when the run must stop. */
bool fanout_run(run *r, const cfg_stage *st, const cfg_case *cs);
/* A node's command: its environment (BENCHCTL_NODE...), working directory
 * and barrier around the stage's command; false with *err (owned). */
bool fanout_wrap(struct fan_node *fn, hostconn *h, stage_exec *ex, char **err);
/* BENCHCTL_NODE, BENCHCTL_NODES, BENCHCTL_NODE_HOST, BENCHCTL_NODE_DIR of
 * a node's record into env (nothing for other records). */
void fanout_node_env(const stage_rec *rec, strvec *env);
/* exec_run for a node: also stopped when the fan-out gives up
 * (EXEC_NODE_STOPPED). */
int fanout_exec(struct fan_node *fn, hostconn *h, core_ctx *ctx, const bc_exec_request *req,
                int64_t limit_ms, int64_t grace_ms, bc_exec_result *res, int64_t *wall_ns);
/* Feed a node's stdout: barrier lines are taken, the rest written. */
void fanout_stdout(stage_io *io, const void *data, size_t len);
/* Why a node was stopped (a static-lifetime string while the stage runs). */
const char *fanout_stop_reason(struct fan_node *fn);

/* profile.c: a stage's measured runs under its `profile:` profiler.  The
 * run path calls these four and nothing else of it. */
struct prof_job;
/* After stage_exec_prepare and before any other wrapper (fanout_wrap):
 * NULL when rec's stage has no profile: or its host cannot be profiled
 * (said once per host, and in rec's "profile").  Otherwise ex->cmd now
 * runs the stage's command under the profiler (every run of it). */
struct prof_job *profile_begin(run *r, stage_rec *rec, hostconn *h, stage_exec *ex);
/* What a profiler reported of a run: when the command itself ran (its
 * host's clock), without the profiler's start-up and write-out. */
typedef struct prof_span {
    int64_t start_ns, end_ns; /* the command started, ended */
    int64_t shell_ns;         /* the stage's shell start-up measured there; -1: not */
} prof_span;
/* After run i (0-based, warm-ups first) of the stage, whatever its outcome
 * (started: the command started): a warm-up's profile is discarded, a
 * measured run's folded and fetched into profiles/.  True with *span when
 * the profiler stamped the command's own span (the run's time then);
 * false: time the run whole.  pj NULL: nothing (false). */
bool profile_after_run(struct prof_job *pj, int64_t i, bool started, prof_span *span);
/* After the stage's runs: the stage's folded stacks (all repetitions),
 * flame graph and top functions into rec's "profile".  Frees pj (NULL:
 * nothing). */
void profile_end(struct prof_job *pj);
/* A fanned-out stage: its nodes' folded stacks merged into all's profile
 * (profiles/[<case>/]<stage>.folded and .svg). */
void profile_merge_nodes(run *r, stage_rec *all, stage_rec *const *nodes, size_t n);

/* thresholds.c: check the `thresholds:` of rec's outputs' columns against
 * their statistics; verdicts into rec->thresholds, failures counted in
 * r->thresholds_failed (and logged). */
void thresholds_check(run *r, stage_rec *rec);

/* stage.c: a stage on its hosts */
/* One run of a stage on one host (a fan-out node when fn is given);
 * prefix labels its terminal lines (NULL: none).  Returns ST_SUCCESS,
 * ST_FAILED or ST_INTERRUPTED (stage.c's stage_outcome). */
int stage_run_one(run *r, stage_rec *sr, const char *prefix, struct fan_node *fn);
/* Run one stage (all its hosts, in order or in parallel); false when the
 * run must stop. */
bool stage_run(run *r, const cfg_stage *st, const cfg_case *cs);
/* A new record of st on host (in case cs), kept in r->recs and metadata. */
stage_rec *run_new_record(run *r, const cfg_stage *st, const char *host, const cfg_case *cs);
/* Record a stage that did not run (skipped, not_run) for each of its hosts. */
void stage_record_not_run(run *r, const cfg_stage *st, const cfg_case *cs, stage_status status,
                          const char *reason);

/* leftovers.c: start the watchdog that stops the run's local processes if
 * benchctl dies; stop what the stages left (setsid, daemons) at the end of
 * the run, and the watchdog with it. */
void leftovers_watch(run *r);
void leftovers_stop(run *r);
/* Stop (SIGTERM, grace_ms, SIGKILL) every process on this machine whose
 * environment holds BENCHCTL_RUN_MARK=mark; returns how many there were. */
int leftovers_stop_mark(const char *mark, long grace_ms);

/* monitor.c: host monitoring (benchmark.monitor, --monitor): one sampler
 * thread per monitored host from the start of the run to its end; samples
 * appended to monitor/<host>.csv as they arrive.  Never fails the run. */
/* Start the samplers (nothing when monitoring is off). */
void monitor_start(run *r);
/* Stop them (and every command they run on the hosts), then add the
 * "monitor" summary (per host, and per stage over its span) to metadata. */
void monitor_stop(run *r);
/* The host_stream service (ABI 1.5) on ctx's host: a long-lived command
 * whose standard output lines go to on_line as they arrive. */
int hostconn_stream(core_ctx *ctx, const char *command, bc_line_fn on_line, void *arg,
                    int *exit_status);


#endif
