/* Running a stage: on each of its hosts in order (or all at once with
 * `parallel: true`), each run with its command, output, health check,
 * outputs and record. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "util/term.h"
#include "run/run.h"
#include "run/live.h"
#include "run/fanout.h"

typedef enum { ST_SUCCESS, ST_FAILED, ST_INTERRUPTED } stage_outcome;
_Static_assert(ST_SUCCESS == 0 && ST_FAILED == 1 && ST_INTERRUPTED == 2, "fanout.c's outcomes");

/* One run of a stage on one host, while it happens. */
typedef struct stage_job {
    run *r;
    stage_rec *sr;
    const cfg_stage *st;
    hostconn *h;
    core_ctx ctx;
    stage_exec ex;
    stage_io io;
    strbuf captured;        /* stdout, for append_metadata */
    char *log_rel, *log_path;
    char *err;              /* why it failed (owned) */
    stage_status status;
    stage_outcome out;
    bool per_rep;           /* a repeat with outputs: collected after each repetition */
    bool started;           /* the command started (else no output can be its) */
    int64_t m0;
    struct fan_node *fn;    /* a fan-out node, or NULL */
    iso_run iso;            /* its limits (isolate.h) */
    struct prof_job *prof;  /* `profile:` (profile.c), or NULL */
} stage_job;

/* A repeated stage's `prepare:` before one of its runs, unmeasured (its
 * output goes where the stage's does).  BC_OK, or an error with j->err
 * set (a failing prepare fails the stage). */
static int run_prepare(stage_job *j, int64_t limit)
{
    bc_exec_request req = j->ex.req;
    req.command = j->st->prepare;
    bc_exec_result res = {.size = sizeof res};
    int64_t wall;
    int rc = exec_run(j->h, &j->ctx, &req, limit, GRACE_STAGE_MS, &res, &wall);
    if (rc == BC_OK && !res.term_signal && res.exit_status == 0)
        return BC_OK;
    if (rc == BC_CANCELLED)
        return rc;
    if (!j->err)
        j->err = xasprintf("stage '%s' on host '%s': prepare '%s' failed (%s %d)", j->st->name,
                           j->sr->where.host, j->st->prepare,
                           res.term_signal ? "signal" : "exit status",
                           res.term_signal ? res.term_signal : res.exit_status);
    return BC_ERR;
}

/* Run the command: once, or warmup + repeat times (a measured command).
 * Records the result (for a repeated stage: the CPU time of all runs and
 * the largest peak RSS, each run's own figures in its "repeat" object).
 * Returns the exec_run code of the last run; *res is its result. */
static int run_measured(stage_job *j, bc_exec_result *res)
{
    const cfg_stage *st = j->st;
    int64_t limit = isolate_limit_ms(&j->iso, st->timeout_ms);
    int64_t total = st->warmup + st->repeat;
    repeat_rec rep = {0};
    rep_collect coll = {0};
    if (st->repeat_set && !repeat_calibrate(j->h, &j->ctx, &j->ex.req, &rep) &&
        !run_cancelled(j->r)) {
        /* Without the start-up overhead the times are raw (still valid). */
        log_msg(BC_LOG_WARN, "stage '%s' on host '%s': could not measure the shell's start-up "
                "time (%s); repeated times include it", st->name, j->sr->where.host,
                j->ctx.error);
        j->ctx.error[0] = '\0';
    }
    bc_exec_result all = {.size = sizeof all, .user_us = 0, .sys_us = 0, .max_rss_kb = -1};
    int rc = BC_OK;
    int64_t loop0 = mono_ns();
    bool live = st->repeat_set && !j->fn;
    for (int64_t i = 0; i < total && rc == BC_OK; i++) {
        int64_t wall;
        if (live)
            repeat_progress(&rep, st, j->sr->where.host, i, loop0);
        if (st->prepare && !j->fn && (rc = run_prepare(j, limit)) != BC_OK)
            break;
        if (i == total - 1)
            j->captured.len = 0; /* append_metadata reads the last run's stdout */
        isolate_before_run(j->h, &j->iso, &j->ex);
        rc = j->fn ? fanout_exec(j->fn, j->h, &j->ctx, &j->ex.req, limit, GRACE_STAGE_MS, res,
                                 &wall)
                   : exec_run(j->h, &j->ctx, &j->ex.req, limit, GRACE_STAGE_MS, res, &wall);
        prof_span span;
        bool spanned = profile_after_run(j->prof, i, rc != EXEC_START_FAILED, &span);
        if (rc != EXEC_START_FAILED) {
            j->started = true;
            j->iso.runs++; /* each run of a limited stage reports its own findings */
        }
        bool failed = rc != BC_OK || res->term_signal || res->exit_status != 0;
        if (failed && j->per_rep && i >= st->warmup && rc != EXEC_START_FAILED) {
            /* What the failed or stopped repetition wrote is kept too
             * (leniently: missing files are warnings). */
            char *ignored = NULL;
            coll.rep = (int)(i - st->warmup + 1);
            collect_outputs(j->r, st, j->h, j->sr->cs, true, j->sr, &coll, &ignored);
            free(ignored);
        }
        if (rc != BC_OK)
            break;
        all.user_us = all.user_us >= 0 && res->user_us >= 0 ? all.user_us + res->user_us : -1;
        all.sys_us = all.sys_us >= 0 && res->sys_us >= 0 ? all.sys_us + res->sys_us : -1;
        if (res->max_rss_kb > all.max_rss_kb)
            all.max_rss_kb = res->max_rss_kb;
        if (res->term_signal || res->exit_status != 0)
            break; /* a failed run is not a measurement */
        if (i >= st->warmup && st->repeat_set)
            repeat_add(&rep, wall, res, spanned ? &span : NULL);
        if (i >= st->warmup && j->per_rep) {
            /* Each repetition's files, before the next one overwrites them. */
            coll.rep = (int)(i - st->warmup + 1);
            if (!collect_outputs(j->r, st, j->h, j->sr->cs, false, j->sr, &coll, &j->err))
                break; /* the stage fails with j->err */
        }
        if (i + 1 < total && run_cancelled(j->r))
            rc = BC_CANCELLED;
    }
    if (live)
        repeat_progress(&rep, st, j->sr->where.host, total, loop0);
    collect_pooled_finish(st, j->sr, &coll);
    if (st->repeat_set) {
        j->sr->repeat = repeat_finish(&rep, st, j->sr->where.host);
        repeat_free(&rep);
    }
    if (rc == BC_OK) {
        all.exit_status = res->exit_status;
        all.term_signal = res->term_signal;
        stage_record_result(j->sr, total > 1 ? &all : res);
    }
    return rc;
}

/* Why the command's run fails the stage (j->err, j->status), or true when
 * it succeeded. */
static bool judge_run(stage_job *j, int rc, const bc_exec_result *res)
{
    const cfg_stage *st = j->st;
    const char *alias = j->sr->where.host;
    if (rc == BC_ERR && j->err)
        return false; /* a failed prepare: said already */
    if (rc == EXEC_START_FAILED) {
        j->err = xasprintf("stage '%s' on host '%s': cannot start: %s", st->name, alias,
                           j->ctx.error[0] ? j->ctx.error : "unknown error");
    } else if (rc == BC_TIMEOUT && j->sr->termination &&
               strcmp(j->sr->termination, "walltime") == 0 && st->limits.walltime_ms > 0 &&
               (st->timeout_ms <= 0 || st->limits.walltime_ms <= st->timeout_ms)) {
        j->err = xasprintf("stage '%s' on host '%s' hit its walltime limit (%lld ms) and was "
                           "stopped (termination: walltime)", st->name, alias,
                           (long long)st->limits.walltime_ms);
        j->status = STAGE_TIMEOUT;
    } else if (rc == BC_OK && isolate_limit_hit(j->sr->termination)) {
        const char *t = j->sr->termination;
        char lim[64] = "";
        if (strcmp(t, "memory") == 0)
            snprintf(lim, sizeof lim, " (%.1f MiB)", (double)st->limits.memory / 1048576.0);
        else if (strcmp(t, "pids") == 0)
            snprintf(lim, sizeof lim, " (%lld processes)", (long long)st->limits.pids);
        else if (strcmp(t, "cputime") == 0)
            snprintf(lim, sizeof lim, " (%lld ms of CPU)", (long long)st->limits.cputime_ms);
        if (cJSON_GetObjectItem(j->sr->isolation, "termination_note"))
            j->err = xasprintf("stage '%s' on host '%s' ran out of its %s limit%s: it failed "
                               "near the limit, under RLIMIT_AS (inferred; termination: %s)",
                               st->name, alias, t, lim, t);
        else
            j->err = xasprintf("stage '%s' on host '%s' hit its %s limit%s and was stopped (%s; "
                               "termination: %s)", st->name, alias, t, lim,
                               res->term_signal ? strsignal(res->term_signal) : "it failed", t);
    } else if (rc == BC_TIMEOUT) {
        j->err = xasprintf("stage '%s' on host '%s' timed out after %lld ms (stage timeout%s)",
                           st->name, alias, (long long)st->timeout_ms,
                           st->repeat_set ? ", which applies to each repetition" : "");
        j->status = STAGE_TIMEOUT;
    } else if (rc == BC_CANCELLED) {
        j->status = run_cancel_status(j->r);
        j->out = ST_INTERRUPTED;
    } else if (rc == EXEC_NODE_STOPPED) {
        j->err = xasprintf("stage '%s' node %d on host '%s' was stopped: %s", st->name,
                           j->sr->where.node, alias, fanout_stop_reason(j->fn));
    } else if (rc != BC_OK) {
        j->err = xasprintf("stage '%s' on host '%s': %s", st->name, alias,
                           j->ctx.error[0] ? j->ctx.error : "waiting for the command failed");
    } else if (res->term_signal) {
        j->err = xasprintf("stage '%s' on host '%s' was killed by signal %d (%s)", st->name,
                           alias, res->term_signal, strsignal(res->term_signal));
    } else if (res->exit_status != 0) {
        bool logged = j->io.log_fd >= 0;
        j->err = xasprintf("stage '%s' on host '%s' failed with exit status %d%s%s%s", st->name,
                           alias, res->exit_status, logged ? " (log: " : " (no output)",
                           logged ? j->log_path : "", logged ? ")" : "");
    } else {
        return true;
    }
    return false;
}

/* Everything after the command: metadata, health check, outputs. */
static void after_run(stage_job *j)
{
    const cfg_stage *st = j->st;
    stage_metadata(j->r, st, j->h, &j->ex, &j->captured);
    if (st->health) {
        int rc = stage_probe(j->r, st, j->h, j->sr->cs, j->sr, NULL, &j->err);
        if (rc == BC_CANCELLED) {
            j->status = run_cancel_status(j->r);
            j->out = ST_INTERRUPTED;
            return;
        }
        if (rc != BC_OK)
            return;
    }
    if (!j->per_rep && !collect_outputs(j->r, st, j->h, j->sr->cs, false, j->sr, NULL, &j->err))
        return;
    j->status = STAGE_SUCCESS;
    j->out = ST_SUCCESS;
}

/* The end of a stage run: lenient collection after a failure, the
 * record's last fields, the run's error, and the job's resources. */
static void finish_job(stage_job *j)
{
    const cfg_stage *st = j->st;
    if (j->fn)
        fanout_stdout_end(&j->io);
    profile_end(j->prof);
    if (j->out != ST_SUCCESS && st->noutputs && j->h->opened && j->started && !j->sr->noutputs) {
        /* Whatever a failed or stopped stage already wrote is kept: collect
         * it leniently (missing files are warnings, no validation verdict
         * changes the outcome).  A stage that never started wrote nothing:
         * a file there is an earlier run's. */
        char *ignored = NULL;
        collect_outputs(j->r, st, j->h, j->sr->cs, true, j->sr, NULL, &ignored);
        free(ignored);
    }
    record_set_end(j->sr, j->m0);
    record_set_status(j->sr, j->status, NULL);
    if (st->cleanup_cmd && j->h->opened && j->started)
        stage_cleanup_command(j->r, st, j->h, j->sr, &j->ex, &j->io);
    stage_io_record(&j->io, j->sr, j->log_rel);
    if (j->err) {
        record_set_error(j->sr, j->err);
        log_msg(BC_LOG_ERROR, "%s", j->err);
        if (!j->fn) /* a node's failure is the fan-out's to judge (min_nodes) */
            run_fail(j->r, "%s", j->err);
        free(j->err);
    } else if (j->out == ST_INTERRUPTED) {
        run_fail(j->r, "stage '%s' on host '%s' was %s", st->name, j->sr->where.host,
                 j->status == STAGE_TIMEOUT ? "stopped by --timeout" : "interrupted");
    }
    stage_io_flush(&j->io);
    if (j->io.log_fd >= 0)
        close(j->io.log_fd);
    sb_free(&j->captured);
    free(j->log_rel);
    free(j->log_path);
    stage_exec_free(&j->ex);
}

int stage_run_one(run *r, stage_rec *sr, const char *prefix, struct fan_node *fn)
{
    const cfg_stage *st = sr->st;
    stage_job j = {.r = r, .sr = sr, .st = st, .h = run_host(r, sr->where.host), .fn = fn,
                   .io = {.log_fd = -1, .to_terminal = !st->quiet, .prefix = prefix, .node = fn},
                   .status = STAGE_FAILED, .out = ST_FAILED, .m0 = mono_ns(),
                   .per_rep = st->repeat_set && st->noutputs > 0};
    sr->start_ns = wall_ns();
    j.log_rel = layout_log(st, &sr->where, sr->cs);
    j.log_path = path_join(r->dir, j.log_rel);
    j.io.log_path = j.log_path;
    /* append_metadata reads stdout alone: no terminal, whose stdout and
     * stderr are one stream. */
    if (st->append_metadata)
        j.io.capture = &j.captured;
    bool up = hostconn_open(j.h);
    /* Connecting is the host's cost (metadata.json hosts.<alias>.connection),
     * not the first stage's: its time starts once the host is reachable. */
    j.m0 = mono_ns();
    sr->start_ns = wall_ns();
    if (!up) {
        j.err = xasprintf("stage '%s': %s", st->name, j.h->error);
    } else if (stage_exec_prepare(r, st, j.h, sr->cs, &sr->where,
                                  r->tty && !st->append_metadata && !fn, &j.ex, &j.err) &&
               ((j.prof = profile_begin(r, sr, j.h, &j.ex)), true) &&
               (!fn || fanout_wrap(fn, j.h, &j.ex, &j.err))) {
        char *dir = dir_name(j.ex.meta_local);
        if (j.ex.meta_remote && strcmp(j.ex.meta_local, j.ex.meta_remote) == 0)
            mkdir_p(dir, 0755);
        free(dir);
        if (!fn && sr->parallel) {
            /* `parallel: true`: one node per host */
            fanout_node_env(sr, &j.ex.env);
            j.ex.req.env = (const char *const *)j.ex.env.v;
        }
        hostconn_ctx(j.h, &j.ctx);
        j.ctx.stage = st->name;
        j.ctx.case_name = sr->cs ? sr->cs->name : NULL;
        j.ctx.sink = stage_sink;
        j.ctx.sink_data = &j.io;
        bc_exec_result res = {.size = sizeof res, .user_us = -1, .sys_us = -1,
                              .max_rss_kb = -1};
        if (isolate_wrap(r, j.h, &st->limits, st->name, &j.ex, &j.iso, &j.err)) {
            j.iso.warmup = (int)st->warmup;
            int rc = run_measured(&j, &res);
            record_set_accounting(sr, j.ctx.accounting);
            isolate_finish(r, j.h, &j.iso, rc, &res, sr);
            if (judge_run(&j, rc, &res) && !j.err)
                after_run(&j);
        }
    }
    finish_job(&j);
    return j.out;
}

stage_rec *run_new_record(run *r, const cfg_stage *st, const char *host, const cfg_case *cs)
{
    stage_rec *rec = record_new(st, host, cs, r->stages_json);
    r->recs = xrealloc(r->recs, (r->nrecs + 1) * sizeof *r->recs);
    r->recs[r->nrecs++] = rec;
    return rec;
}

/* Records for hosts from..n-1 of a stage that did not run there. */
static void record_not_run_from(run *r, const cfg_stage *st, const cfg_case *cs, size_t from,
                                stage_status status, const char *reason)
{
    for (size_t i = from; i < st->nhosts; i++) {
        stage_rec *rec = run_new_record(r, st, st->hosts[i], cs);
        record_set_status(rec, status, reason);
        run_stage_done(r, rec);
    }
}

void stage_record_not_run(run *r, const cfg_stage *st, const cfg_case *cs, stage_status status,
                          const char *reason)
{
    record_not_run_from(r, st, cs, 0, status, reason);
}

static void print_header(const cfg_stage *st, const char *host, const cfg_case *cs)
{
    char line[512];
    int n = snprintf(line, sizeof line, "%s==> %s%s on %s%s%s%s%s\n", term_sgr(STDOUT_FILENO, "1;36"),
                     st->is_cleanup ? "cleanup " : st->background ? "background " : "", st->name,
                     host, cs ? " [case " : "",
                     cs ? cs->name : "", cs ? "]" : "", term_reset(STDOUT_FILENO));
    if (n > 0)
        term_write(STDOUT_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

typedef struct par_job {
    run *r;
    const cfg_stage *st;
    const cfg_case *cs;
    stage_rec *rec;
    char prefix[96];
    pthread_t thread;
    bool threaded;
    stage_outcome out;
} par_job;

static void *par_thread(void *arg)
{
    par_job *j = arg;
    j->out = stage_run_one(j->r, j->rec, j->prefix, NULL);
    return NULL;
}

/* `parallel: true`: one thread per host, all at once; output lines are
 * labelled with their host on the terminal (the logs stay per host). */
static bool run_parallel(run *r, const cfg_stage *st, const cfg_case *cs)
{
    par_job *jobs = xcalloc(st->nhosts, sizeof *jobs);
    char line[512];
    int n = snprintf(line, sizeof line, "%s==> %s%s on %zu hosts in parallel%s%s%s%s\n",
                     term_sgr(STDOUT_FILENO, "1;36"), st->is_cleanup ? "cleanup " : "", st->name,
                     st->nhosts, cs ? " [case " : "",
                     cs ? cs->name : "", cs ? "]" : "", term_reset(STDOUT_FILENO));
    if (n > 0)
        term_write(STDOUT_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    for (size_t i = 0; i < st->nhosts; i++) {
        par_job *j = &jobs[i];
        *j = (par_job){.r = r, .st = st, .cs = cs, .out = ST_FAILED};
        snprintf(j->prefix, sizeof j->prefix, "[%s] ", st->hosts[i]);
        j->rec = run_new_record(r, st, st->hosts[i], cs);
        j->rec->parallel = true;
        j->threaded = pthread_create(&j->thread, NULL, par_thread, j) == 0;
        if (!j->threaded)
            par_thread(j); /* no thread: run it here */
    }
    bool go_on = true;
    /* All threads end before any record is saved: saving prints the whole
     * metadata, which the threads still write into until they end. */
    for (size_t i = 0; i < st->nhosts; i++)
        if (jobs[i].threaded)
            pthread_join(jobs[i].thread, NULL);
    for (size_t i = 0; i < st->nhosts; i++) {
        thresholds_check(r, jobs[i].rec);
        run_stage_done(r, jobs[i].rec);
        if (jobs[i].out == ST_INTERRUPTED || (jobs[i].out == ST_FAILED && !st->continue_on_error))
            go_on = false;
    }
    free(jobs);
    return go_on;
}

bool stage_run(run *r, const cfg_stage *st, const cfg_case *cs)
{
    if (st->execute_only_for && (!cs || !config_case_matches(cs, st->execute_only_for))) {
        stage_record_not_run(r, st, cs, STAGE_SKIPPED, "execute_only_for");
        return true;
    }
    if (st->skip || sv_contains(&r->o->skip, st->name)) {
        stage_record_not_run(r, st, cs, STAGE_SKIPPED, st->skip ? "skip: true" : "--skip");
        return true;
    }
    if (st->nnodes > 0 && !st->background)
        return fanout_run(r, st, cs);
    if (st->parallel && st->nhosts > 1 && !st->background)
        return run_parallel(r, st, cs);
    for (size_t i = 0; i < st->nhosts; i++) {
        if (run_cancelled(r)) {
            record_not_run_from(r, st, cs, i, STAGE_NOT_RUN, "the run was stopped");
            return false;
        }
        stage_rec *rec = run_new_record(r, st, st->hosts[i], cs);
        print_header(st, st->hosts[i], cs);
        if (st->background) {
            /* Its record is finished (and journaled) when it stops. */
            if (!bg_start(r, st, run_host(r, st->hosts[i]), cs, rec)) {
                if (run_cancelled(r) || !st->continue_on_error)
                    return false;
            }
            continue;
        }
        live_stage_begin(r, st->name, st->hosts[i], cs ? cs->name : NULL, 0);
        stage_outcome o = stage_run_one(r, rec, NULL, NULL);
        live_stage_end(r);
        thresholds_check(r, rec);
        run_stage_done(r, rec);
        if (o == ST_INTERRUPTED || (o == ST_FAILED && !st->continue_on_error)) {
            record_not_run_from(r, st, cs, i + 1, STAGE_NOT_RUN,
                                o == ST_INTERRUPTED ? "the run was stopped"
                                                    : "an earlier host failed");
            return false;
        }
    }
    return true;
}


