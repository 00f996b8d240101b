/*
 * The state of one `benchctl run`, shared by the engine (engine.c), the
 * host connections (hosts.c) and stage execution (stage.c).  Internal to
 * the core.
 */
#ifndef BENCHCTL_RUN_H
#define BENCHCTL_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "engine.h"
#include "loader.h"
#include "options.h"
#include "services.h"

/* One host of the run: its transport and, once opened, its connection. */
typedef struct hostconn {
    cfg_host *cfg;
    plugin *p;
    optview opts;
    void *conn;
    bool opened, failed;
    char *error;
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

/* stage.c */
void run_build_env(run *r, const char *stage, const char *host, const cfg_case *cs, strvec *env);
/* Run one stage (all its hosts, in order); false when the run must stop. */
bool stage_run(run *r, const cfg_stage *st, const cfg_case *cs);
/* Record a stage that did not run (skipped, not_run) for each of its hosts. */
void stage_record_not_run(run *r, const cfg_stage *st, const cfg_case *cs, const char *status,
                          const char *reason);

#endif
