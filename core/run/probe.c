/* Health checks: a stage's probe, attempted until ready, timeout, retries
 * or cancellation, with its record in the stage's metadata. */
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
#include "util/human.h"
#include "util/term.h"
#include "run/run.h"

static bool probe_wait_interval(run *r, int64_t ms)
{
    struct pollfd pfd = {.fd = run_cancel_fd(r), .events = POLLIN};
    int rc = poll(&pfd, pfd.fd >= 0 ? 1 : 0, (int)ms);
    return !(rc > 0 || run_cancelled(r));
}

/* On a terminal: what we wait for, and for how much longer. */
static void show_progress(const cfg_health *hc, const hostconn *h, long attempts, int64_t left_ns,
                          const char *detail)
{
    char *left = human_duration((double)left_ns / 1e9);
    char *line = xasprintf("  waiting for %s '%.60s' on %s: attempt %ld, %s left%s%.60s",
                           hc->type, hc->target, h->cfg->alias, attempts, left,
                           detail[0] ? " - " : "", detail);
    free(left);
    term_status(line);
    free(line);
}

/* The error of a health check that never became ready (owned). */
static char *probe_failure(const cfg_stage *st, const hostconn *h, int rc, long attempts,
                           double elapsed_ms, int64_t interval, const char *detail)
{
    const cfg_health *hc = st->health;
    const char *why = rc == BC_TIMEOUT ? "timed out"
                      : hc->retries > 0 && attempts > hc->retries ? "gave up" : "failed";
    char retries[48] = "";
    if (hc->retries > 0)
        snprintf(retries, sizeof retries, ", retries %lld", (long long)hc->retries);
    return xasprintf("stage '%s': health check %s '%s' on host '%s' %s after %ld attempt%s in "
                     "%.0f ms (timeout %lld ms, interval %lld ms%s); last result: %s",
                     st->name, hc->type, hc->target, h->cfg->alias, why, attempts,
                     attempts == 1 ? "" : "s", elapsed_ms, (long long)hc->timeout_ms,
                     (long long)interval, retries, detail[0] ? detail : "not ready");
}

/* Where the probe runs: the stage's host, or with `on: controller` here;
 * NULL (*err set) when that host cannot be reached. */
static hostconn *probe_host(run *r, const cfg_stage *st, hostconn *h, char **err)
{
    if (!st->health->on_controller)
        return h;
    h = run_host(r, "local");
    if (!hostconn_open(h)) {
        *err = xasprintf("stage '%s': health check: %s", st->name, h->error);
        return NULL;
    }
    return h;
}

/* The context of the probe's calls: its plugin initialised, its instance
 * for this health_check made; false with *err (owned) when either fails. */
static bool probe_ctx(run *r, const cfg_stage *st, hostconn *h, const cfg_case *cs, optview *v,
                      core_ctx *ctx, char **err)
{
    plugin *p = (plugin *)st->health->plugin;
    if (run_plugin_init(p, r, err) != BC_OK)
        return false;
    run_ctx_init(ctx, p, v, r);
    ctx->host = h;
    ctx->stage = st->name;
    ctx->case_name = cs ? cs->name : NULL;
    return ctx_instance(ctx, st->health, err) == BC_OK;
}

/* Run the health check of a stage until ready, timeout, retries or
 * cancellation.  Fills rec's health_check object; returns BC_OK, BC_ERR or
 * BC_CANCELLED. */
int stage_probe(run *r, const cfg_stage *st, hostconn *h, const cfg_case *cs, stage_rec *rec,
                struct bg_proc *bg, char **err)
{
    const cfg_health *hc = st->health;
    plugin *p = (plugin *)hc->plugin;
    h = probe_host(r, st, h, err);
    if (!h)
        return BC_ERR;
    int64_t interval = hc->interval_ms > 0                     ? hc->interval_ms
                       : p->ops.probe.default_interval_ms > 0 ? p->ops.probe.default_interval_ms
                                                               : 100;
    bool show = r->tty && isatty(STDERR_FILENO);
    int64_t shown_at = 0;
    health_rec *hr = &rec->health;
    *hr = (health_rec){.present = true, .type = hc->type, .target = hc->target,
                       .where = xstrdup(h->cfg->alias)};
    optview v = {p->desc.options, hc->node, NULL, 0};
    core_ctx ctx;
    if (!probe_ctx(r, st, h, cs, &v, &ctx, err)) {
        opts_free(&v);
        return BC_ERR;
    }
    void *state = NULL;
    int rc = BC_OK;
    if (p->ops.probe.begin)
        rc = p->ops.probe.begin(&ctx.pub, hc->target, &state);
    int64_t t0 = mono_ns(), deadline = t0 + hc->timeout_ms * 1000000;
    ctx.deadline_ns = deadline;
    long attempts = 0;
    char detail[512] = "", prev[512] = "";
    bool cut_short = false; /* the last attempt was ended by the deadline */
    while (rc == BC_OK) {
        attempts++;
        ctx.error[0] = '\0';
        memcpy(prev, detail, sizeof prev);
        detail[0] = '\0';
        int res = p->ops.probe.check(&ctx.pub, state, hc->target, detail, sizeof detail);
        int64_t now = mono_ns();
        log_msg(BC_LOG_DEBUG, "health_check %s '%s' on %s: attempt %ld: %s%s%s", hc->type,
                hc->target, h->cfg->alias, attempts,
                res == BC_OK ? "ready" : res == BC_NOT_READY ? "not ready" : "error",
                detail[0] ? ": " : "", detail);
        if (res == BC_OK)
            break;
        if (res != BC_NOT_READY) {
            rc = run_cancelled(r) ? BC_CANCELLED : BC_ERR;
            if (!detail[0])
                snprintf(detail, sizeof detail, "%.500s", ctx.error[0] ? ctx.error : "probe failed");
            break;
        }
        if (hc->retries > 0 && attempts > hc->retries) {
            rc = BC_ERR;
            break;
        }
        if (show && now - t0 > 300000000 && now - shown_at > 200000000) {
            show_progress(hc, h, attempts, deadline - now, detail);
            shown_at = now;
        }
        if (bg && !bg_alive(bg)) {
            /* A background service that died will never become ready. */
            char *why = bg_describe_exit(bg);
            snprintf(detail, sizeof detail, "the background process ended before it was ready: "
                     "%.400s", why);
            free(why);
            rc = BC_ERR;
            break;
        }
        if (now >= deadline) {
            cut_short = attempts > 1;
            rc = BC_TIMEOUT;
            break;
        }
        int64_t left_ms = (deadline - now + 999999) / 1000000; /* round up: no spin */
        if (!probe_wait_interval(r, interval < left_ms ? interval : left_ms)) {
            rc = BC_CANCELLED;
            break;
        }
        if (mono_ns() >= deadline) {
            /* No attempt squeezed in at the deadline.  The last one ended
             * within a few ms of it: the deadline cut it short (a probe
             * bounds its attempt by time_left_ms, in whole ms). */
            cut_short = attempts > 1 && deadline - now <= 2000000;
            rc = BC_TIMEOUT;
            break;
        }
    }
    /* An attempt ended by the deadline says nothing about the target; the
     * one before it does. */
    if (cut_short && prev[0])
        memcpy(detail, prev, sizeof detail);
    if (shown_at)
        term_status(NULL);
    if (p->ops.probe.end)
        p->ops.probe.end(&ctx.pub, state);
    opts_free(&v);
    double elapsed_ms = (double)(mono_ns() - t0) / 1e6;
    hr->ready = rc == BC_OK;
    hr->attempted = true;
    hr->attempts = attempts;
    hr->elapsed_ms = elapsed_ms;
    if (rc == BC_OK) {
        log_msg(BC_LOG_INFO, "stage '%s': %s check '%s' ready after %ld attempt%s and %.0f ms",
                st->name, hc->type, hc->target, attempts, attempts == 1 ? "" : "s", elapsed_ms);
        return BC_OK;
    }
    hr->last_error = xstrdup(detail[0] ? detail : ctx.error);
    if (rc == BC_CANCELLED)
        return BC_CANCELLED;
    if (attempts == 0) {
        *err = xasprintf("stage '%s': health check %s '%s' on host '%s' could not start: %s",
                         st->name, hc->type, hc->target, h->cfg->alias,
                         ctx.error[0] ? ctx.error : "the probe failed to prepare");
        return BC_ERR;
    }
    *err = probe_failure(st, h, rc, attempts, elapsed_ms, interval, detail);
    return BC_ERR;
}

