/*
 * Background stages: monitors and services that run alongside the
 * foreground stages of a case and are stopped after its last stage (or at
 * the first failure, or on Ctrl-C): SIGTERM to the whole process group,
 * `stop_grace` (default 2 s), then SIGKILL — returning as soon as the group
 * is gone, not after a fixed sleep.  Their outputs are collected after
 * they stop.
 *
 * Each background process has a thread that streams its output (the core
 * is otherwise single-threaded and busy with foreground stages) and, when
 * asked, stops it; all of them stop in parallel.  The thread only touches
 * its own bg_proc and the plugin's process handle; records are written by
 * the main thread after joining.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "run/run.h"

typedef struct bg_proc {
    run *r;
    const cfg_stage *st;
    hostconn *h;
    const cfg_case *cs;
    stage_rec *rec;
    core_ctx ctx;
    stage_io io;
    stage_exec ex;
    char *log_rel, *log_path;
    void *proc;
    pthread_t thread;
    int64_t m0;
    atomic_int stop_requested; /* main -> thread */
    atomic_int done;           /* thread -> main: the process is gone */
    atomic_int exited;         /* it ended on its own (not stopped by us) */
    int wait_rc;
    bool stopped_by_us, killed, reported;
    bc_exec_result res;
    iso_run iso;               /* its limits (isolate.h) */
} bg_proc;

static void *bg_thread(void *arg)
{
    bg_proc *b = arg;
    for (;;) {
        if (atomic_load(&b->stop_requested))
            break;
        /* Short waits: a stop request is noticed within 20 ms; Ctrl-C at
         * once (the cancel fd wakes wait up). */
        int rc = exec_wait(b->h, &b->ctx, b->proc, 20, &b->res);
        if (rc == BC_TIMEOUT)
            continue;
        if (rc == BC_OK) {
            atomic_store(&b->exited, 1);
            atomic_store(&b->done, 1);
            return NULL;
        }
        if (rc == BC_CANCELLED) {
            /* The run is being stopped: wait for the main thread's order,
             * without spinning on the readable cancel fd. */
            while (!atomic_load(&b->stop_requested))
                usleep(2000);
            break;
        }
        b->wait_rc = rc;
        break;
    }
    int64_t t0 = mono_ns();
    exec_stop(b->h, &b->ctx, b->proc, b->st->stop_grace_ms);
    b->stopped_by_us = true;
    b->killed = (mono_ns() - t0) / 1000000 >= b->st->stop_grace_ms;
    atomic_store(&b->done, 1);
    return NULL;
}

bool bg_alive(bg_proc *b) { return !atomic_load(&b->done); }

char *bg_describe_exit(bg_proc *b)
{
    char *tail = stage_tail_lines(&b->io, 5);
    char *s;
    if (b->res.term_signal)
        s = xasprintf("killed by signal %d (%s)%s%s", b->res.term_signal,
                      strsignal(b->res.term_signal), *tail ? "; last output: " : "", tail);
    else
        s = xasprintf("exit status %d%s%s", b->res.exit_status, *tail ? "; last output: " : "",
                      tail);
    free(tail);
    return s;
}

static void bg_free(bg_proc *b)
{
    if (b->io.log_fd >= 0)
        close(b->io.log_fd);
    stage_exec_free(&b->ex);
    free(b->log_rel);
    free(b->log_path);
    free(b);
}

bool bg_start(run *r, const cfg_stage *st, hostconn *h, const cfg_case *cs, stage_rec *sr)
{
    bg_proc *b = xcalloc(1, sizeof *b);
    b->r = r;
    b->st = st;
    b->h = h;
    b->cs = cs;
    b->rec = sr;
    b->m0 = mono_ns();
    b->io.log_fd = -1;
    b->io.to_terminal = !st->quiet;
    b->log_rel = layout_log(st, &sr->where, cs);
    b->log_path = path_join(r->dir, b->log_rel);
    b->io.log_path = b->log_path;
    sr->background = true;
    sr->start_ns = wall_ns();
    char *err = NULL;
    int rc = BC_ERR;
    bool up = hostconn_open(h);
    b->m0 = mono_ns(); /* connecting is the host's cost, not the stage's */
    sr->start_ns = wall_ns();
    if (!up) {
        err = xasprintf("stage '%s': %s", st->name, h->error);
    } else if (stage_exec_prepare(r, st, h, cs, &sr->where, false, &b->ex, &err)) {
        hostconn_ctx(h, &b->ctx);
        b->ctx.stage = st->name;
        b->ctx.case_name = cs ? cs->name : NULL;
        b->ctx.sink = stage_sink;
        b->ctx.sink_data = &b->io;
        if (!isolate_wrap(r, h, &st->limits, st->name, &b->ex, &b->iso, &err))
            rc = BC_ERR;
        else if ((rc = exec_start(h, &b->ctx, &b->ex.req, &b->proc)) != BC_OK)
            err = xasprintf("background stage '%s' on host '%s': cannot start: %s", st->name,
                            h->cfg->alias, b->ctx.error[0] ? b->ctx.error : "unknown error");
    }
    if (rc == BC_OK && pthread_create(&b->thread, NULL, bg_thread, b) != 0) {
        exec_stop(h, &b->ctx, b->proc, GRACE_NOW_MS);
        exec_release(h, &b->ctx, b->proc);
        err = xasprintf("background stage '%s': cannot create a thread", st->name);
        rc = BC_ERR;
    }
    if (rc != BC_OK) {
        isolate_finish(r, h, &b->iso, EXEC_START_FAILED, &b->res, sr); /* its CPUs back */
        record_set_end(sr, b->m0);
        record_set_status(sr, STAGE_FAILED, NULL);
        record_set_error(sr, err);
        record_set_output(sr, 0, NULL);
        log_msg(BC_LOG_ERROR, "%s", err);
        run_fail(r, "%s", err);
        run_stage_done(r, sr);
        free(err);
        bg_free(b);
        return false;
    }
    r->bgs = xrealloc(r->bgs, (r->nbgs + 1) * sizeof *r->bgs);
    r->bgs[r->nbgs++] = b;
    if (st->health) {
        /* Probed while it runs; its death fails the check at once. */
        rc = stage_probe(r, st, h, cs, sr, b, &err);
        if (rc != BC_OK) {
            if (rc != BC_CANCELLED) {
                record_set_error(sr, err);
                log_msg(BC_LOG_ERROR, "%s", err);
                run_fail(r, "%s", err);
                b->reported = true; /* its failure is this error */
            }
            free(err);
            return false;
        }
    }
    return true;
}

bool bg_check(run *r)
{
    bool ok = true;
    for (size_t i = 0; i < r->nbgs; i++) {
        bg_proc *b = r->bgs[i];
        if (b->reported || !atomic_load(&b->exited))
            continue;
        b->reported = true;
        if (b->st->allow_exit) {
            log_msg(BC_LOG_INFO, "background stage '%s' on host '%s' ended on its own "
                                 "(allow_exit)", b->st->name, b->h->cfg->alias);
            continue;
        }
        char *why = bg_describe_exit(b);
        char *err = xasprintf("background stage '%s' on host '%s' ended before the foreground "
                              "stages finished: %s (set allow_exit: true if that is expected)",
                              b->st->name, b->h->cfg->alias, why);
        free(why);
        record_set_error(b->rec, err);
        log_msg(BC_LOG_ERROR, "%s", err);
        run_fail(r, "%s", err);
        free(err);
        ok = false;
    }
    return ok;
}

bool bg_stop_all(run *r)
{
    if (r->nbgs == 0)
        return true;
    for (size_t i = 0; i < r->nbgs; i++)
        atomic_store(&r->bgs[i]->stop_requested, 1);
    for (size_t i = 0; i < r->nbgs; i++)
        pthread_join(r->bgs[i]->thread, NULL);
    bool ok = bg_check(r); /* report those that had ended on their own */
    for (size_t i = 0; i < r->nbgs; i++) {
        bg_proc *b = r->bgs[i];
        exec_release(b->h, &b->ctx, b->proc);
        stage_rec *sr = b->rec;
        record_set_accounting(sr, b->ctx.accounting);
        isolate_finish(r, b->h, &b->iso,
                       b->stopped_by_us ? BC_CANCELLED : b->wait_rc ? b->wait_rc : BC_OK,
                       &b->res, sr);
        record_set_end(sr, b->m0);
        if (b->stopped_by_us) {
            sr->stopped_by = b->killed ? "SIGKILL" : "SIGTERM";
        } else {
            stage_record_result(sr, &b->res);
        }
        bool failed = sr->has_error || b->wait_rc != 0;
        stage_metadata(r, b->st, b->h, &b->ex, &(strbuf){0}); /* $BENCHCTL_METADATA_FILE */
        /* Outputs of a monitor are collected after it stops; a missing
         * file is a warning. */
        char *err = NULL;
        if (!collect_outputs(r, b->st, b->h, b->cs, true, sr, NULL, &err)) {
            /* invalid data (on_invalid: fail) fails the stage */
            failed = true;
            if (err) {
                record_set_error(sr, err);
                log_msg(BC_LOG_ERROR, "%s", err);
                run_fail(r, "%s", err);
            }
        }
        free(err);
        record_set_status(sr, failed ? STAGE_FAILED : STAGE_SUCCESS, NULL);
        if (b->st->cleanup_cmd && b->h->opened)
            stage_cleanup_command(r, b->st, b->h, sr, &b->ex, &b->io);
        stage_io_record(&b->io, sr, b->log_rel);
        run_stage_done(r, sr);
        if (failed)
            ok = false;
        bg_free(b);
    }
    free(r->bgs);
    r->bgs = NULL;
    r->nbgs = 0;
    return ok;
}
