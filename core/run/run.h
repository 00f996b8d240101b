/*
 * The state of one `benchctl run`, shared by the engine (engine.c), the
 * host connections (hosts.c) and stage execution (stage.c).  Internal to
 * the core.
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
    strvec uploaded; /* scripts already put in the transport's private dir */
    struct run *run;
} hostconn;

/* Everything one run needs. */
typedef struct run {
    config *cfg;
    loader *ld;
    const run_options *o;
    char *id, *dir, *bin;
    hostconn *hosts;
    size_t nhosts;
    cJSON *meta, *stages_json, *cases_json, *custom;
    char *first_error;
    int journal_fd;        /* stages.jsonl: one line per finished stage */
    pthread_mutex_t lock;  /* first_error, custom: shared with parallel stages */
    struct bg_proc **bgs;  /* running background stages */
    size_t nbgs;
    int64_t last_save_ns;  /* mono_ns() of the last metadata.json write */
    bool tty;
    struct winsize ws;
} run;

/* engine.c */
void run_save_meta(run *r, bool durable);
/* After each stage record: journal it, refresh metadata.json now and then. */
void run_stage_done(run *r, const cJSON *rec);
/* Remember the run's first error (later ones are ignored). */
void run_fail(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "timeout" when --timeout stopped the run, "interrupted" for a signal. */
const char *run_cancel_status(void);
/* Add key: RFC 3339 time to a JSON object. */
void json_add_time(cJSON *o, const char *key, int64_t wall);

/* hosts.c */
hostconn *run_host(run *r, const char *alias);
void hostconn_ctx(hostconn *h, core_ctx *ctx);
bool hostconn_open(hostconn *h);   /* false: h->error says why */
void hostconn_close(hostconn *h);

/* collect.c: collect (and validate) a stage's outputs after it ran on h.
 * Returns false when the stage must fail (*err set, owned). */
bool collect_outputs(run *r, const cfg_stage *st, hostconn *h, const cfg_case *cs,
                     bool background, cJSON *rec, char **err);

/* appendmeta.c: merge the first JSON object in text into r->custom.
 * false (with *err, owned, showing what was received) when there is none. */
bool append_metadata(run *r, const char *text, size_t len, const char *what, char **err);

/* stage.c */
#define STAGE_CAPTURE_LIMIT (4u << 20) /* stdout kept for append_metadata */

/* Where a stage's output goes: terminal, its log (created on the first
 * byte, so silent stages cost no file), and optionally a stdout capture
 * (append_metadata) and the last bytes (to explain a background stage's
 * death). */
typedef struct stage_io {
    int log_fd;
    bool to_terminal;
    bool log_failed;
    const char *log_path;
    uint64_t bytes;
    strbuf *capture;
    char tail[1024];
    size_t tail_len;
    const char *prefix;    /* "[host] " before each terminal line (parallel) */
    strbuf line[3];        /* per stream: a partial line awaiting its end */
} stage_io;

/* The output sink of stage contexts (ctx->sink_data is a stage_io). */
void stage_sink(core_ctx *ctx, int stream, const void *data, size_t len);
/* logs/[<case>/][cleanup-]<stage>[__<host>].log, relative to the run dir. */
char *stage_log_rel(const cfg_stage *st, const char *host, const cfg_case *cs);

/* What a stage runs: shell words, command text, environment. */
typedef struct stage_exec {
    strvec shell, env;
    char *cmd;
    char *meta_remote, *meta_local; /* $BENCHCTL_METADATA_FILE there and here */
    bc_exec_request req;
} stage_exec;
/* Prepare st's command on h; false with *err (owned) on failure. */
bool stage_exec_prepare(run *r, const cfg_stage *st, hostconn *h, const cfg_case *cs, bool tty,
                        stage_exec *ex, char **err);
void stage_exec_free(stage_exec *ex);
/* Merge what a finished stage reported for custom metadata: captured
 * stdout (append_metadata) and $BENCHCTL_METADATA_FILE. */
void stage_metadata(run *r, const cfg_stage *st, hostconn *h, const stage_exec *ex,
                    const strbuf *captured);
/* Start req on h, wait up to limit_ms (-1: no limit), stop it unless it
 * ended, release it.  *wall_ns: start to end, as measured here.  Returns
 * BC_OK (res filled), BC_TIMEOUT, BC_CANCELLED, BC_ERR, or
 * STAGE_START_FAILED (ctx->error says why). */
#define STAGE_START_FAILED (-1)
int stage_exec_once(hostconn *h, core_ctx *ctx, const bc_exec_request *req, int64_t limit_ms,
                    bc_exec_result *res, int64_t *wall_ns);

/* repeat.c: a stage with `repeat:` — its runs, the shell's start-up
 * overhead, and the "repeat" object of its record (runs, summaries,
 * outliers, measurement-quality notes). */
typedef struct repeat_rec {
    double *wall, *user, *sys, *rss; /* per measured run; -1: unknown */
    size_t n, cap;
    bool have_overhead;
    bool remote_exec;  /* starting a command costs a round trip (no CHEAP_EXEC) */
    double ovh_wall, ovh_user, ovh_sys; /* seconds, medians */
} repeat_rec;
/* Time the stage's shell with an empty command (the overhead taken off
 * every measured run, as command-line timing tools do).  false when it
 * cannot be measured. */
bool repeat_calibrate(hostconn *h, core_ctx *ctx, const bc_exec_request *req, repeat_rec *rep);
void repeat_add(repeat_rec *rep, int64_t wall_ns, const bc_exec_result *res);
cJSON *repeat_finish(const repeat_rec *rep, const cfg_stage *st, const char *host);
void repeat_free(repeat_rec *rep);

/* The last output lines of a stage, from its tail buffer (owned). */
char *stage_tail_lines(const stage_io *io, int lines);
/* A stage record: name, kind, host, case. */
cJSON *stage_new_record(const cfg_stage *st, const char *host, const cfg_case *cs);
/* Add exit status, CPU times and peak RSS to a record. */
void stage_record_result(cJSON *rec, const bc_exec_result *res);
/* Run the health check of st on h; BC_OK, BC_ERR (*err set) or BC_CANCELLED.
 * When bg is given, the probe fails at once if that process ends. */
struct bg_proc;
int stage_probe(run *r, const cfg_stage *st, hostconn *h, const cfg_case *cs, cJSON *rec,
                struct bg_proc *bg, char **err);

/* background.c */
/* Start a background stage on one host; false when it could not start
 * (the record says why). */
bool bg_start(run *r, const cfg_stage *st, hostconn *h, const cfg_case *cs, cJSON *rec);
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
void run_build_env(run *r, const char *stage, const char *host, const cfg_case *cs, strvec *env);
/* Run one stage (all its hosts, in order); false when the run must stop. */
bool stage_run(run *r, const cfg_stage *st, const cfg_case *cs);
/* Record a stage that did not run (skipped, not_run) for each of its hosts. */
void stage_record_not_run(run *r, const cfg_stage *st, const cfg_case *cs, const char *status,
                          const char *reason);

#endif
