/*
 * Repeated measurements: a stage with `repeat: N` (and `warmup: K`) runs
 * its command K times unrecorded, then N times with each run's wall time,
 * CPU times and peak RSS recorded — a measured command with a
 * distribution, inside the workflow.
 *
 * The wall time of a run is measured around the transport's start and
 * wait, so it includes starting the stage's shell (about a millisecond for
 * bash) and, on remote hosts, a round trip.  Like command-line timing
 * tools, benchctl first times the shell with an empty command and takes
 * that median off every run (recorded as overhead_s; the raw time stays in
 * raw_wall_s).  Outliers are flagged, never dropped; a note is written when
 * the spread is high or the values drift over the repetitions.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/jsonget.h"
#include "util/log.h"
#include "util/human.h"
#include "util/term.h"
#include "analysis/outstats.h"
#include "run/run.h"
#include "analysis/stats/stats.h"

#define CALIBRATION_RUNS 12   /* the first two are discarded (cold caches) */
#define CV_LIMIT 0.10         /* spread worth a note */
#define TREND_ALPHA 0.01      /* drift worth a note */

/* The median of a few values (the library's definition, NAN when n == 0). */
static double median_of(const double *v, size_t n)
{
    st_summary sm;
    return st_summarize(v, n, &sm) == 0 ? sm.median : NAN;
}

bool repeat_calibrate(hostconn *h, core_ctx *ctx, const bc_exec_request *req, repeat_rec *rep)
{
    rep->remote_exec = !(hostconn_caps(h) & BC_HOST_CAP_CHEAP_EXEC);
    bc_exec_request empty = *req;
    empty.command = "";
    empty.flags &= ~BC_EXEC_TTY;
    double wall[CALIBRATION_RUNS], user[CALIBRATION_RUNS], sys[CALIBRATION_RUNS];
    size_t n = 0;
    bool cpu = true;
    for (int i = 0; i < CALIBRATION_RUNS; i++) {
        bc_exec_result res;
        int64_t w;
        int rc = exec_run(h, ctx, &empty, HELPER_LIMIT_MS, GRACE_STAGE_MS, &res, &w);
        if (rc == BC_CANCELLED)
            return false; /* the run is being stopped: nothing to say */
        if (rc != BC_OK || res.exit_status != 0 || res.term_signal) {
            if (!ctx->error[0]) {
                strbuf words = {0};
                for (size_t k = 0; req->shell && req->shell[k]; k++)
                    sb_printf(&words, "%s ", req->shell[k]);
                snprintf(ctx->error, sizeof ctx->error, "`%s''` %s", words.buf ? words.buf : "",
                         rc == BC_TIMEOUT ? "took over 10 s" : "did not succeed");
                sb_free(&words);
            }
            return false;
        }
        if (i < 2)
            continue;
        wall[n] = (double)w / 1e9;
        user[n] = res.user_us >= 0 ? (double)res.user_us / 1e6 : 0;
        sys[n] = res.sys_us >= 0 ? (double)res.sys_us / 1e6 : 0;
        cpu = cpu && res.user_us >= 0;
        n++;
    }
    rep->have_overhead = true;
    rep->ovh_wall = median_of(wall, n);
    rep->ovh_user = cpu ? median_of(user, n) : 0;
    rep->ovh_sys = cpu ? median_of(sys, n) : 0;
    return true;
}

/* The median of the shell start-ups measured under the profiler (0 when
 * it measured none). */
static double span_overhead(const repeat_rec *rep)
{
    double *v = xcalloc(rep->n + 1, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < rep->n; i++)
        if (!isnan(rep->shell[i]))
            v[k++] = rep->shell[i];
    double m = k ? median_of(v, k) : 0;
    free(v);
    return m;
}

/* What a run's wall_s covers (the record's wall_covers). */
static const char *covers(const repeat_rec *rep)
{
    if (rep->nspans == 0)
        return "the command started through the host's transport, less the shell's start-up "
               "(overhead_s)";
    if (rep->nspans == rep->n)
        return "the command alone under its profiler: from when it started (the profiler "
               "recording) to when it ended (before the profiler wrote its profile), on its "
               "host's clock, less the shell's start-up timed there the same way "
               "(span_overhead_s); the profiler's own start-up and write-out are each run's "
               "profiler_s";
    return "mixed: runs with a span are the command alone under its profiler (less "
           "span_overhead_s), the others the command started through the host's transport "
           "(less overhead_s), profiler included";
}

void repeat_add(repeat_rec *rep, int64_t wall_ns, const bc_exec_result *res,
                const prof_span *span)
{
    if (rep->n == rep->cap) {
        rep->cap = rep->cap ? 2 * rep->cap : 16;
        rep->wall = xrealloc(rep->wall, rep->cap * sizeof *rep->wall);
        rep->user = xrealloc(rep->user, rep->cap * sizeof *rep->user);
        rep->sys = xrealloc(rep->sys, rep->cap * sizeof *rep->sys);
        rep->rss = xrealloc(rep->rss, rep->cap * sizeof *rep->rss);
        rep->span_start = xrealloc(rep->span_start, rep->cap * sizeof *rep->span_start);
        rep->span_end = xrealloc(rep->span_end, rep->cap * sizeof *rep->span_end);
        rep->outer = xrealloc(rep->outer, rep->cap * sizeof *rep->outer);
        rep->shell = xrealloc(rep->shell, rep->cap * sizeof *rep->shell);
    }
    size_t k = rep->n;
    rep->outer[k] = (double)wall_ns / 1e9;
    rep->span_start[k] = span ? (double)span->start_ns / 1e9 : NAN;
    rep->span_end[k] = span ? (double)span->end_ns / 1e9 : NAN;
    rep->shell[k] = span && span->shell_ns >= 0 ? (double)span->shell_ns / 1e9 : NAN;
    rep->nspans += span != NULL;
    /* a span's length in exact nanoseconds (epoch seconds in a double
     * keep a quarter of a microsecond) */
    rep->wall[rep->n] = span ? (double)(span->end_ns - span->start_ns) / 1e9
                             : (double)wall_ns / 1e9;
    rep->user[rep->n] = res->user_us >= 0 ? (double)res->user_us / 1e6 : -1;
    rep->sys[rep->n] = res->sys_us >= 0 ? (double)res->sys_us / 1e6 : -1;
    rep->rss[rep->n] = res->max_rss_kb >= 0 ? (double)res->max_rss_kb : -1;
    rep->n++;
}

/* The summary of a metric, or nothing when the transport does not tell
 * (every value -1). */
static void add_metric(cJSON *metrics, const char *key, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] < 0)
            return;
    st_summary sm;
    if (st_summarize(v, n, &sm) != 0)
        return;
    outstats_add_summary(cJSON_AddObjectToObject(metrics, key), &sm);
}

/* What the runs' times cover into o; returns the start-up taken off the
 * runs timed by a profiler's span (the shell's, measured inside the
 * profiler). */
static double add_timing(cJSON *o, const repeat_rec *rep, const cfg_stage *st, const char *host)
{
    double span_ovh = span_overhead(rep);
    if (rep->nspans)
        cJSON_AddNumberToObject(o, "span_overhead_s", span_ovh);
    cJSON_AddStringToObject(o, "wall_covers", covers(rep));
    if (rep->nspans && rep->nspans < rep->n)
        log_msg(BC_LOG_WARN, "stage '%s' on host '%s': %zu of %zu profiled runs were timed whole "
                "(their profiler stamped no span): their times include the profiler's start-up",
                st->name, host, rep->n - rep->nspans, rep->n);
    return span_ovh;
}

/* Run i's span under its profiler and the profiler's own time, when it
 * was timed by one. */
static void add_span(cJSON *rj, const repeat_rec *rep, size_t i)
{
    if (isnan(rep->span_start[i]))
        return;
    cJSON *sp = cJSON_AddObjectToObject(rj, "span");
    cJSON_AddNumberToObject(sp, "start_s", rep->span_start[i]);
    cJSON_AddNumberToObject(sp, "end_s", rep->span_end[i]);
    jadd_num(sp, "shell_s", rep->shell[i]);
    cJSON_AddNumberToObject(rj, "profiler_s", fmax(rep->outer[i] - rep->wall[i], 0));
}

cJSON *repeat_finish(const repeat_rec *rep, const cfg_stage *st, const char *host)
{
    size_t n = rep->n;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "warmup", (double)st->warmup);
    cJSON_AddNumberToObject(o, "requested", (double)st->repeat);
    cJSON_AddNumberToObject(o, "count", (double)n);
    jadd_num(o, "overhead_s", rep->have_overhead ? rep->ovh_wall : NAN);
    double span_ovh = add_timing(o, rep, st, host);

    /* The command's own times: the shell's start-up taken off. */
    double *wall = xcalloc(n + 1, sizeof *wall), *user = xcalloc(n + 1, sizeof *user),
           *sys = xcalloc(n + 1, sizeof *sys);
    for (size_t i = 0; i < n; i++) {
        bool spanned = !isnan(rep->span_start[i]);
        if (spanned)
            wall[i] = fmax(rep->wall[i] - span_ovh, 0);
        else
            wall[i] = rep->have_overhead ? fmax(rep->wall[i] - rep->ovh_wall, 0) : rep->wall[i];
        user[i] = rep->user[i] < 0 ? -1
                  : rep->have_overhead ? fmax(rep->user[i] - rep->ovh_user, 0) : rep->user[i];
        sys[i] = rep->sys[i] < 0 ? -1
                 : rep->have_overhead ? fmax(rep->sys[i] - rep->ovh_sys, 0) : rep->sys[i];
    }
    unsigned char *flag = xcalloc(n + 1, 1);
    size_t outliers = st_outliers(wall, n, flag);

    cJSON *runs = cJSON_AddArrayToObject(o, "runs");
    for (size_t i = 0; i < n; i++) {
        cJSON *rj = cJSON_CreateObject();
        cJSON_AddNumberToObject(rj, "wall_s", wall[i]);
        cJSON_AddNumberToObject(rj, "raw_wall_s", rep->wall[i]);
        add_span(rj, rep, i);
        jadd_num(rj, "user_cpu_s", user[i] < 0 ? NAN : user[i]);
        jadd_num(rj, "system_cpu_s", sys[i] < 0 ? NAN : sys[i]);
        jadd_num(rj, "max_rss_kb", rep->rss[i] < 0 ? NAN : rep->rss[i]);
        cJSON_AddBoolToObject(rj, "outlier", flag[i] != 0);
        cJSON_AddItemToArray(runs, rj);
    }
    cJSON *metrics = cJSON_AddObjectToObject(o, "metrics");
    add_metric(metrics, "wall_s", wall, n);
    add_metric(metrics, "user_cpu_s", user, n);
    add_metric(metrics, "system_cpu_s", sys, n);
    add_metric(metrics, "max_rss_kb", rep->rss, n);

    /* Measurement quality. */
    cJSON *q = cJSON_AddObjectToObject(o, "quality");
    cJSON *notes = cJSON_CreateArray();
    st_summary sm;
    bool have = n >= 1 && st_summarize(wall, n, &sm) == 0;
    double cv = have && n >= 2 && sm.mean > 0 ? sm.stddev / sm.mean : NAN;
    jadd_num(q, "cv", cv);
    cJSON_AddNumberToObject(q, "outliers", (double)outliers);
    double tau = NAN, p = st_trend(wall, n, &tau);
    jadd_num(q, "trend_tau", tau);
    jadd_num(q, "trend_p", p);
    char note[400];
    if (isfinite(cv) && cv > CV_LIMIT) {
        snprintf(note, sizeof note,
                 "high spread: the wall times vary by %.1f%% (coefficient of variation over "
                 "%.0f%%); the machine may be busy or the command noisy: more warm-up runs, "
                 "more repetitions or a quieter machine help", cv * 100, CV_LIMIT * 100);
        cJSON_AddItemToArray(notes, cJSON_CreateString(note));
    }
    if (isfinite(p) && p < TREND_ALPHA) {
        snprintf(note, sizeof note,
                 "drift: the wall times %s over the repetitions (Kendall tau %.2f, p = %.2g); "
                 "caches warming up, thermal throttling or state growing between runs: more "
                 "warm-up runs or a reset between runs help",
                 tau > 0 ? "rise" : "fall", tau, p);
        cJSON_AddItemToArray(notes, cJSON_CreateString(note));
    }
    if (outliers) {
        snprintf(note, sizeof note,
                 "%zu outlier%s (outside 1.5 IQR of the quartiles): flagged in runs[], kept in "
                 "the statistics", outliers, outliers == 1 ? "" : "s");
        cJSON_AddItemToArray(notes, cJSON_CreateString(note));
    }
    double raw_median = n && rep->have_overhead ? median_of(rep->wall, n) : NAN;
    double ovh = rep->nspans == n && n ? span_ovh : rep->ovh_wall;
    if (isfinite(raw_median) && ovh > 0.5 * raw_median) {
        snprintf(note, sizeof note,
                 "start-up dominates: starting the shell%s takes %.3g s of the %.3g s median "
                 "run, and varies; the command's own time is too small next to it to be "
                 "measured reliably this way: repeat a longer command, or loop inside it",
                 rep->remote_exec && ovh == rep->ovh_wall ? " on the host (login and round trip)"
                                                          : "",
                 ovh, raw_median);
        cJSON_AddItemToArray(notes, cJSON_CreateString(note));
    }
    if (n < (size_t)st->repeat) {
        snprintf(note, sizeof note, "only %zu of %lld repetitions were measured", n,
                 (long long)st->repeat);
        cJSON_AddItemToArray(notes, cJSON_CreateString(note));
    }
    cJSON *it;
    cJSON_ArrayForEach(it, notes)
        log_msg(BC_LOG_WARN, "stage '%s' on host '%s': %s", st->name, host, it->valuestring);
    cJSON_AddItemToObject(q, "notes", notes);
    if (have) {
        char *mean = human_duration(sm.mean), *sd = human_duration(n >= 2 ? sm.stddev : 0.0);
        char *med = human_duration(sm.median);
        log_msg(BC_LOG_INFO, "stage '%s' on host '%s': %zu runs, wall %s ± %s (median %s)",
                st->name, host, n, mean, sd, med);
        free(mean);
        free(sd);
        free(med);
    }
    free(wall);
    free(user);
    free(sys);
    free(flag);
    return o;
}

void repeat_free(repeat_rec *rep)
{
    free(rep->wall);
    free(rep->user);
    free(rep->sys);
    free(rep->rss);
    free(rep->span_start);
    free(rep->span_end);
    free(rep->outer);
    free(rep->shell);
    memset(rep, 0, sizeof *rep);
}

void repeat_progress(const repeat_rec *rep, const cfg_stage *st, const char *host, int64_t done,
                     int64_t t0)
{
    if (!term_live())
        return;
    int64_t total = st->warmup + st->repeat;
    if (done >= total) {
        term_status(NULL);
        return;
    }
    strbuf sb = {0};
    sb_printf(&sb, "  %s on %s: ", st->name, host);
    if (done < st->warmup)
        sb_printf(&sb, "warm-up %lld/%lld", (long long)done + 1, (long long)st->warmup);
    else
        sb_printf(&sb, "run %lld/%lld", (long long)(done - st->warmup + 1),
                  (long long)st->repeat);
    if (rep->n) {
        double m = median_of(rep->wall, rep->n) - (rep->have_overhead ? rep->ovh_wall : 0);
        char *med = human_duration(m > 0 ? m : 0);
        sb_printf(&sb, ", median %s", med);
        free(med);
    }
    if (done > 0) {
        double per = (double)(mono_ns() - t0) / 1e9 / (double)done;
        char *eta = human_duration(per * (double)(total - done));
        sb_printf(&sb, ", ETA %s", eta);
        free(eta);
    }
    term_status(sb.buf);
    sb_free(&sb);
}
