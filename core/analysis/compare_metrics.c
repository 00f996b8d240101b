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
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(o, "columns"))
        {
            const char *better = jstr(c, "better"), *samples = jstr(c, "samples");
            cm_metric m = {.case_name = case_name, .unit = jstr(c, "unit")};
            m.better = !better                         ? BETTER_NONE
                       : strcmp(better, "lower") == 0  ? BETTER_LOWER
                       : strcmp(better, "higher") == 0 ? BETTER_HIGHER
                                                       : BETTER_NONE;
            m.key = xasprintf("%s.%s%s", output_name(o), c->string, at);
            if (samples)
                m.samples = samples[0] == '/' ? xstrdup(samples) : path_join(run_dir, samples);
            m.null_samples = !samples;
            list_add(l, m, label);
        }
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
double *cm_load(const cm_metric *m, size_t *n, char **why)
{
    double *v = NULL;
    *n = 0;
    if (m->runs) {
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
        *why = xstrdup(m->null_samples ? "no samples file (the run could not write it)"
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
