/* The scaling table of a matrix run (see scaling.h). */
#define _GNU_SOURCE
#include "analysis/scaling.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/compare_metrics.h"
#include "analysis/report.h"
#include "util/jsonget.h"
#include "util/util.h"

bool scaling_applies(const cJSON *results)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(results, "cases"))
    {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(c, "parameters");
        if (cJSON_IsObject(p) && p->child)
            return true;
    }
    return false;
}

/* The table's columns after the case and its parameters, in order of first
 * appearance over the cases, each with how its values print. */
typedef struct series {
    strvec title, unit;  /* unit "%": a share, "s": seconds */
    cJSON *rows;         /* per case: {title: value} */
} series;

static void put(series *s, cJSON *row, const char *title, const char *unit, double v)
{
    if (!sv_contains(&s->title, title)) {
        sv_push(&s->title, title);
        sv_push(&s->unit, unit ? unit : "");
    }
    if (isfinite(v) && !cJSON_GetObjectItemCaseSensitive(row, title))
        cJSON_AddNumberToObject(row, title, v);
}

static void put_percentiles(series *s, cJSON *row, const char *name, const cJSON *sum,
                            const char *unit)
{
    static const char *const keys[] = {"median", "p95", "p99"};
    static const char *const shown[] = {"p50", "p95", "p99"};
    for (int k = 0; k < 3; k++) {
        char *t = xasprintf("%s %s", name, shown[k]);
        put(s, row, t, unit, jnum(sum, keys[k]));
        free(t);
    }
}

static void output_series(series *s, cJSON *row, const cJSON *stages, const cJSON *o)
{
    const char *name = jstr(o, "output") ? jstr(o, "output") : jstr(o, "name");
    if (!name)
        return;
    const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "rates"), 0);
    const cJSON *flag = cJSON_GetObjectItemCaseSensitive(r, "metric");
    if (r && !cJSON_IsFalse(flag) && (!cm_from_background(stages, o) || cJSON_IsTrue(flag))) {
        char *t = xasprintf("%s rows/s", name);
        put(s, row, t, NULL, jnum(r, "rows_per_s"));
        free(t);
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "success"))
    {
        if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(e, "metric")))
            continue;
        char *t = xasprintf("%s success(%s)", name, jstr(e, "column") ? jstr(e, "column") : "?");
        put(s, row, t, "%", jnum(e, "rate"));
        free(t);
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(o, "columns"))
    {
        if (cm_column_why_not(o, c))
            continue;
        char *t = xasprintf("%s.%s", name, c->string);
        put_percentiles(s, row, t, c, jstr(c, "unit"));
        free(t);
    }
}

static void case_series(series *s, const cJSON *cs)
{
    cJSON *row = cJSON_CreateObject();
    const cJSON *stages = cJSON_GetObjectItemCaseSensitive(cs, "stages"), *st, *o;
    cJSON_ArrayForEach(st, stages)
    {
        const cJSON *rep = cJSON_GetObjectItemCaseSensitive(st, "repeat");
        if (!rep || !jstr(st, "name"))
            continue;
        char *t = xasprintf("stage:%s.wall_s", jstr(st, "name"));
        put_percentiles(s, row, t,
                        cJSON_GetObjectItemCaseSensitive(
                            cJSON_GetObjectItemCaseSensitive(rep, "metrics"), "wall_s"),
                        "s");
        free(t);
    }
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(cs, "outputs"))
    {
        /* A fanned-out stage: its merged dataset, not each node's files. */
        if (!cJSON_GetObjectItemCaseSensitive(o, "node"))
            output_series(s, row, stages, o);
    }
    cJSON_AddItemToArray(s->rows, row);
}

/* Total concurrency of a case: its concurrency parameter's value times the
 * nodes of its (first) fanned-out stage; NAN when it has none. */
static double total_concurrency(const cJSON *results, const cJSON *cs)
{
    const char *cp = jstr(cJSON_GetObjectItemCaseSensitive(results, "run"), "concurrency_param");
    const cJSON *pv = cp ? cJSON_GetObjectItemCaseSensitive(
                               cJSON_GetObjectItemCaseSensitive(cs, "parameters"), cp)
                         : NULL;
    double v;
    if (!cJSON_IsString(pv) || !parse_double(pv->valuestring, &v))
        return NAN;
    double nodes = 1;
    const cJSON *st;
    cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(cs, "stages"))
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(st, "nodes");
        if (cJSON_IsNumber(n) && !cJSON_GetObjectItemCaseSensitive(st, "node")) {
            nodes = n->valuedouble;
            break;
        }
    }
    return v * nodes;
}

static char *cell(const cJSON *row, const char *title, const char *unit)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, title);
    if (!cJSON_IsNumber(v))
        return NULL;
    if (strcmp(unit, "%") == 0)
        return rep_pct(v->valuedouble, false);
    if (strcmp(unit, "s") == 0)
        return rep_seconds(v->valuedouble);
    return rep_num_unit(v->valuedouble, *unit ? unit : NULL);
}

void scaling_print(const cJSON *results, FILE *f, bool md, const char *indent)
{
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(results, "cases"), *cs, *kv;
    strvec params = {0};
    series s = {.rows = cJSON_CreateArray()};
    cJSON_ArrayForEach(cs, cases)
    {
        cJSON_ArrayForEach(kv, cJSON_GetObjectItemCaseSensitive(cs, "parameters"))
        if (!sv_contains(&params, kv->string))
            sv_push(&params, kv->string);
        case_series(&s, cs);
    }
    strvec heads = {0};
    strbuf align = {0};
    sv_push(&heads, "CASE");
    sb_puts(&align, "l");
    for (size_t i = 0; i < params.n; i++, sb_puts(&align, "r"))
        sv_push(&heads, params.v[i]);
    bool conc = jstr(cJSON_GetObjectItemCaseSensitive(results, "run"), "concurrency_param");
    if (conc) {
        sv_push(&heads, "total concurrency");
        sb_puts(&align, "r");
    }
    for (size_t i = 0; i < s.title.n; i++, sb_puts(&align, "r"))
        sv_push(&heads, s.title.v[i]);
    rtable t;
    rt_init_list(&t, align.buf, (const char *const *)heads.v);
    size_t k = 0;
    cJSON_ArrayForEach(cs, cases)
    {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(cs, "parameters");
        const cJSON *row = cJSON_GetArrayItem(s.rows, (int)k++);
        rt_add(&t, xstrdup(jstr(cs, "name") ? jstr(cs, "name") : "-"));
        for (size_t i = 0; i < params.n; i++) {
            const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, params.v[i]));
            rt_add(&t, v ? xstrdup(v) : NULL);
        }
        if (conc) {
            double tc = total_concurrency(results, cs);
            rt_add(&t, isfinite(tc) ? xasprintf("%g", tc) : NULL);
        }
        for (size_t i = 0; i < s.title.n; i++)
            rt_add(&t, cell(row, s.title.v[i], s.unit.v[i]));
    }
    fprintf(f, md ? "\n### Scaling (one row per case)\n\n"
                  : "\n%sscaling (one row per case; a sweep, not an A/B test: compare --cases "
                    "is for variants of one workload)\n",
            md ? "" : indent);
    rt_print(&t, f, md, md ? NULL : indent);
    rt_free(&t);
    sb_free(&align);
    sv_free(&heads);
    sv_free(&params);
    sv_free(&s.title);
    sv_free(&s.unit);
    cJSON_Delete(s.rows);
}
