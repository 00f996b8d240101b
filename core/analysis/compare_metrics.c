/* The metrics of `benchctl compare`: discovery in results.json and the
 * loading of their samples (see compare_metrics.h). */
#define _GNU_SOURCE
#include "analysis/compare_metrics.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/stats/stats.h"
#include "util/jsonget.h"
#include "util/util.h"

static bool same_case(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

cm_metric *cm_find(cm_list *l, const char *case_name, const char *key, bool by_case)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].key, key) == 0 && (by_case || same_case(l->v[i].case_name, case_name)))
            return &l->v[i];
    return NULL;
}

static void list_add(cm_list *l, cm_metric m, const char *label)
{
    if (cm_find(l, m.case_name, m.key, false)) {
        /* Only possible with a hand-made or damaged results.json. */
        fprintf(stderr, "benchctl compare: %s: metric %s appears twice%s%s; comparing the first\n",
                label, m.key, m.case_name ? " in case " : "", m.case_name ? m.case_name : "");
        free(m.key);
        free(m.samples);
        return;
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = m;
}

void cm_free(cm_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].key);
        free(l->v[i].samples);
    }
    free(l->v);
    sv_free(&l->skipped);
    memset(l, 0, sizeof *l);
}

/* Outputs are matched by their config name ("output"), so that
 * `name: lat-${CONC}` is the same metric in every case. */
static const char *output_name(const cJSON *o)
{
    const char *n = jstr(o, "output");
    return n ? n : jstr(o, "name");
}

/* Does another entry of arr with the same name run on a different host?
 * Then the metric key needs "@host" to stay unique. */
static bool on_several_hosts(const cJSON *arr, const cJSON *item, bool outputs)
{
    const char *name = outputs ? output_name(item) : jstr(item, "name");
    const char *host = jstr(item, "host");
    const cJSON *o;
    cJSON_ArrayForEach(o, arr)
    {
        if (!outputs && !cJSON_GetObjectItemCaseSensitive(o, "repeat"))
            continue;
        const char *n = outputs ? output_name(o) : jstr(o, "name");
        if (n && name && strcmp(n, name) == 0 && !same_case(jstr(o, "host"), host))
            return true;
    }
    return false;
}

static char *host_suffix(const cJSON *arr, const cJSON *item, bool outputs)
{
    const char *host = jstr(item, "host");
    return on_several_hosts(arr, item, outputs) ? xasprintf("@%s", host ? host : "?") : xstrdup("");
}

bool cm_known_unit(const char *unit)
{
    static const char *const known[] = {
        "ns", "us", "µs", "μs", "ms", "s",                                   /* latency */
        "B", "bytes", "kB", "KB", "KiB", "MB", "MiB", "GB", "GiB", "TB", "TiB", /* size */
        "rps", "qps", "tps", "iops", "Hz", NULL};                            /* rate */
    if (!unit || !*unit)
        return false;
    size_t len = strlen(unit);
    if (len > 2 && strcmp(unit + len - 2, "/s") == 0)
        return true; /* req/s, ops/s, MiB/s ... */
    for (size_t i = 0; known[i]; i++)
        if (strcmp(unit, known[i]) == 0)
            return true;
    return false;
}

static void skip(cm_list *l, char *key, const char *why)
{
    sv_push_owned(&l->skipped, key);
    sv_push(&l->skipped, why);
}

static int better_of(const char *better)
{
    return !better                         ? BETTER_NONE
           : strcmp(better, "lower") == 0  ? BETTER_LOWER
           : strcmp(better, "higher") == 0 ? BETTER_HIGHER
                                           : BETTER_NONE;
}

/* Whether a status column (success_values) of the output is named col. */
static bool is_status(const cJSON *o, const char *col)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(o, "success"))
    {
        const char *c = jstr(s, "column");
        if (c && col && strcmp(c, col) == 0)
            return true;
    }
    return false;
}

bool cm_from_background(const cJSON *stages, const cJSON *o)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, stages)
    {
        if (same_case(jstr(s, "name"), jstr(o, "stage")) && same_case(jstr(s, "host"), jstr(o, "host")))
            return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "background"));
    }
    return false;
}

const char *cm_column_why_not(const cJSON *o, const cJSON *c)
{
    const cJSON *flag = cJSON_GetObjectItemCaseSensitive(c, "metric");
    if (cJSON_IsBool(flag))
        return cJSON_IsTrue(flag) ? NULL : "metric: false";
    if (is_status(o, c->string))
        return "a status column (success_values): its success rate is the metric";
    if (jstr(c, "better") || cm_known_unit(jstr(c, "unit")))
        return NULL;
    return jstr(c, "unit") ? "neither better: nor a rate, latency or size unit"
                           : "neither better: nor a unit";
}

/* A repeated stage's output with two or more repetitions: its metrics are
 * per-repetition statistics (n = the repetitions), not pooled rows. */
static const cJSON *repetitions(const cJSON *o)
{
    const cJSON *reps = cJSON_GetObjectItemCaseSensitive(o, "repetitions");
    return cJSON_GetArraySize(reps) >= 2 ? reps : NULL;
}

static void collect_columns(cm_list *l, const cJSON *o, const char *case_name, const char *run_dir,
                            const char *at, const char *label)
{
    const cJSON *c, *reps = repetitions(o);
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(o, "columns"))
    {
        char *key = xasprintf("%s.%s%s", output_name(o), c->string, at);
        const char *why = cm_column_why_not(o, c);
        if (why) {
            skip(l, key, why);
            continue;
        }
        const char *samples = jstr(c, "samples");
        cm_metric m = {.case_name = case_name, .unit = jstr(c, "unit"), .key = key};
        m.better = better_of(jstr(c, "better"));
        if (reps) {
            /* Each repetition's median, and each one's p99: run-to-run
             * variance, not the rows of one long sample. */
            m.reps = reps;
            m.rep_col = c->string;
            m.rep_what = REP_MEDIAN;
            list_add(l, m, label);
            m.key = xasprintf("%s.%s.p99%s", output_name(o), c->string, at);
            m.rep_what = REP_P99;
            list_add(l, m, label);
            continue;
        }
        if (samples)
            m.samples = samples[0] == '/' ? xstrdup(samples) : path_join(run_dir, samples);
        m.null_samples = !samples;
        list_add(l, m, label);
    }
}

/* rows_per_s (the first timestamp column's rate windows) and the success
 * rate of each status column, both better: higher. */
static void collect_rates(cm_list *l, const cJSON *o, bool background, const char *case_name,
                          const char *run_dir, const char *at, const char *label)
{
    const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "rates"), 0);
    /* results.json from before rate windows: no rate metric */
    if (r && cJSON_GetObjectItemCaseSensitive(r, "windows")) {
        const cJSON *flag = cJSON_GetObjectItemCaseSensitive(r, "metric");
        char *key = xasprintf("%s.rows_per_s%s", output_name(o), at);
        const char *samples = jstr(r, "samples");
        if (cJSON_IsFalse(flag)) {
            skip(l, key, "metric: false on its timestamp column");
        } else if (background && !cJSON_IsTrue(flag)) {
            skip(l, key, "rows of a background stage (a monitor's sampling rate); metric: true on "
                         "its timestamp column makes it a metric");
        } else {
            cm_metric m = {.case_name = case_name, .unit = "rows/s", .key = key,
                           .better = BETTER_HIGHER, .null_samples = !samples,
                           .reps = repetitions(o),
                           .rep_what = repetitions(o) ? REP_RATE : REP_NONE};
            if (!samples && jnum(r, "windows") == 0)
                m.no_samples = "no rate windows (fewer than 2 timestamps, or all the same)";
            if (samples)
                m.samples = samples[0] == '/' ? xstrdup(samples) : path_join(run_dir, samples);
            list_add(l, m, label);
        }
    }
    const cJSON *succ = cJSON_GetObjectItemCaseSensitive(o, "success"), *s;
    bool several = cJSON_GetArraySize(succ) > 1;
    cJSON_ArrayForEach(s, succ)
    {
        char *key = several ? xasprintf("%s.success_rate(%s)%s", output_name(o), jstr(s, "column"), at)
                            : xasprintf("%s.success_rate%s", output_name(o), at);
        if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(s, "metric"))) {
            skip(l, key, "metric: false on its status column");
            continue;
        }
        cm_metric m = {.case_name = case_name, .key = key, .better = BETTER_HIGHER,
                       .kind = CM_PROPORTION, .k = jnum(s, "successes"), .n = jnum(s, "count")};
        if (repetitions(o)) { /* each repetition's success rate: n = repetitions */
            m.kind = CM_SAMPLES;
            m.reps = repetitions(o);
            m.rep_what = REP_SUCCESS;
            m.rep_col = jstr(s, "column");
        }
        list_add(l, m, label);
    }
}

static void collect_case(cm_list *l, const cJSON *cs, const char *run_dir, const char *label)
{
    const char *case_name = jstr(cs, "name");
    const cJSON *stages = cJSON_GetObjectItemCaseSensitive(cs, "stages"), *s;
    cJSON_ArrayForEach(s, stages)
    {
        const cJSON *rep = cJSON_GetObjectItemCaseSensitive(s, "repeat");
        if (!rep || !jstr(s, "name"))
            continue;
        char *at = host_suffix(stages, s, false);
        cm_metric m = {.case_name = case_name,
                       .better = BETTER_LOWER,
                       .unit = "s",
                       .runs = cJSON_GetObjectItemCaseSensitive(rep, "runs")};
        m.key = xasprintf("stage:%s.wall_s%s", jstr(s, "name"), at);
        free(at);
        list_add(l, m, label);
    }
    const cJSON *outputs = cJSON_GetObjectItemCaseSensitive(cs, "outputs"), *o;
    cJSON_ArrayForEach(o, outputs)
    {
        if (!output_name(o))
            continue;
        char *at = host_suffix(outputs, o, true);
        collect_columns(l, o, case_name, run_dir, at, label);
        collect_rates(l, o, cm_from_background(stages, o), case_name, run_dir, at, label);
        free(at);
    }
}

void cm_collect(cm_list *l, const cs_variant *v, bool by_case)
{
    const cJSON *cs;
    cJSON_ArrayForEach(cs, cJSON_GetObjectItemCaseSensitive(v->results, "cases"))
    {
        if (!by_case || same_case(jstr(cs, "name"), v->case_name))
            collect_case(l, cs, v->run_dir, v->label);
    }
}

/* The finite samples of a metric.  NULL with *why (owned) when they cannot
 * be had. */
/* The statistic m->rep_what of repetition r, or NAN. */
static double rep_value(const cm_metric *m, const cJSON *r)
{
    const cJSON *x = NULL;
    if (m->rep_what == REP_MEDIAN || m->rep_what == REP_P99) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(r, "columns"), m->rep_col);
        x = cJSON_GetObjectItemCaseSensitive(c, m->rep_what == REP_MEDIAN ? "median" : "p99");
    } else if (m->rep_what == REP_RATE) {
        x = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "rates"), 0), "rows_per_s");
    } else if (m->rep_what == REP_SUCCESS) {
        const cJSON *s;
        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(r, "success"))
        if (!m->rep_col || (jstr(s, "column") && strcmp(jstr(s, "column"), m->rep_col) == 0))
            x = cJSON_GetObjectItemCaseSensitive(s, "rate");
    }
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

double *cm_load(const cm_metric *m, size_t *n, char **why)
{
    double *v = NULL;
    *n = 0;
    if (m->reps && m->rep_what != REP_NONE) {
        v = xmalloc(((size_t)cJSON_GetArraySize(m->reps) + 1) * sizeof *v);
        const cJSON *r;
        cJSON_ArrayForEach(r, m->reps)
        {
            double x = rep_value(m, r);
            if (isfinite(x))
                v[(*n)++] = x;
        }
    } else if (m->runs) {
        v = xmalloc(((size_t)cJSON_GetArraySize(m->runs) + 1) * sizeof *v);
        const cJSON *r;
        cJSON_ArrayForEach(r, m->runs)
        {
            const cJSON *w = cJSON_GetObjectItemCaseSensitive(r, "wall_s");
            if (cJSON_IsNumber(w) && isfinite(w->valuedouble))
                v[(*n)++] = w->valuedouble;
        }
    } else if (m->samples) {
        v = st_read_samples(m->samples, n);
        if (!v) {
            *why = xasprintf("cannot read samples file %s: %s", m->samples, strerror(errno));
            return NULL;
        }
    } else {
        *why = xstrdup(m->no_samples     ? m->no_samples
                       : m->null_samples ? "no samples file (the run could not write it)"
                                       : "no samples");
        return NULL;
    }
    /* Sorted once here: the tests and the median all want it sorted, and a
     * baseline serves every candidate. */
    size_t m_sorted = 0;
    double *sorted = st_sort_finite(v, *n, &m_sorted);
    free(v);
    if (!sorted) {
        *why = xstrdup("out of memory");
        *n = 0;
        return NULL;
    }
    *n = m_sorted;
    return sorted;
}
