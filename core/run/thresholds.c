/*
 * `thresholds:` of data_schema columns (["p95 < 200", "mean < 50"]),
 * checked against an output's statistics after its stage: a fanned-out
 * stage's merged dataset (every node's values), any other stage's own
 * files.  max, min, mean, median, p90, p95, p99 and p99.9 come from the
 * statistics; other percentiles from the column's sample file (type-7,
 * exact); rate is the timestamp column's rows per second, success_rate
 * the status column's share of success_values.
 *
 * Each verdict goes into the record's "thresholds" (results.json lists
 * them); a failed one is logged and counted, and `run` then exits 4 once
 * everything is saved.  A missing value (no rows) fails the threshold.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/stats/stats.h"
#include "util/log.h"
#include "run/run.h"

static double num_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The entry of rates[] or success[] for column col. */
static const cJSON *entry_for(const cJSON *list, const char *col)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, list)
    {
        const char *c = cJSON_GetStringValue(cJSON_GetObjectItem(e, "column"));
        if (c && strcmp(c, col) == 0)
            return e;
    }
    return NULL;
}

/* Percentile p (0..100) of the column's sample file, exactly. */
static double sample_percentile(run *r, const cJSON *cj, double p)
{
    const char *rel = cJSON_GetStringValue(cJSON_GetObjectItem(cj, "samples"));
    if (!rel)
        return NAN;
    char *abs = path_join(r->dir, rel);
    size_t n = 0, m = 0;
    double *v = st_read_samples(abs, &n);
    free(abs);
    if (!v)
        return NAN;
    double *sorted = st_sort_finite(v, n, &m);
    free(v);
    double q = sorted ? st_quantile_sorted(sorted, m, p / 100) : NAN;
    free(sorted);
    return q;
}

/* The value a threshold looks at, from an output's statistics. */
static double stat_value(run *r, const cJSON *stats, const char *col, const cfg_threshold *t)
{
    const cJSON *cj = cJSON_GetObjectItem(cJSON_GetObjectItem(stats, "columns"), col);
    switch (t->stat) {
    case THR_MAX:
        return num_of(cj, "max");
    case THR_MIN:
        return num_of(cj, "min");
    case THR_MEAN:
        return num_of(cj, "mean");
    case THR_MEDIAN:
        return num_of(cj, "median");
    case THR_RATE:
        return num_of(entry_for(cJSON_GetObjectItem(stats, "rates"), col), "rows_per_s");
    case THR_SUCCESS:
        return num_of(entry_for(cJSON_GetObjectItem(stats, "success"), col), "rate");
    case THR_PCT:
        if (t->pct == 50)
            return num_of(cj, "median");
        if (t->pct == 90 || t->pct == 95 || t->pct == 99) {
            char key[8];
            snprintf(key, sizeof key, "p%d", (int)t->pct);
            return num_of(cj, key);
        }
        if (t->pct == 99.9)
            return num_of(cj, "p999");
        return sample_percentile(r, cj, t->pct);
    }
    return NAN;
}

static bool holds(double v, const cfg_threshold *t)
{
    if (isnan(v))
        return false;
    switch (t->op) {
    case THR_LT:
        return v < t->value;
    case THR_LE:
        return v <= t->value;
    case THR_GT:
        return v > t->value;
    case THR_GE:
        return v >= t->value;
    case THR_EQ:
        return v == t->value;
    case THR_NE:
        return v != t->value;
    }
    return false;
}

/* A fanned-out stage's output whose nodes' files were not merged (a glob,
 * a merge that failed): its thresholds cannot be checked, which is a
 * failed check, never a silent pass. */
static void unchecked(run *r, stage_rec *rec, const cfg_output *o)
{
    for (size_t i = 0; i < rec->noutputs; i++)
        if (strcmp(rec->outputs[i].output, o->name) == 0 && rec->outputs[i].statistics)
            return;
    for (size_t c = 0; c < o->ncolumns; c++)
        for (size_t t = 0; t < o->columns[c].nthresholds; t++) {
            if (!rec->thresholds)
                rec->thresholds = cJSON_CreateArray();
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "output", o->name);
            cJSON_AddStringToObject(e, "column", o->columns[c].name);
            cJSON_AddStringToObject(e, "threshold", o->columns[c].thresholds[t].text);
            cJSON_AddNullToObject(e, "value");
            cJSON_AddBoolToObject(e, "passed", false);
            cJSON_AddItemToArray(rec->thresholds, e);
            log_msg(BC_LOG_ERROR, "stage '%s': output '%s', column '%s': threshold \"%s\" not "
                    "checked: the nodes' files were not merged", rec->st->name, o->name,
                    o->columns[c].name, o->columns[c].thresholds[t].text);
            pthread_mutex_lock(&r->lock);
            r->thresholds_failed++;
            pthread_mutex_unlock(&r->lock);
        }
}

void thresholds_check(run *r, stage_rec *rec)
{
    const cfg_stage *st = rec->st;
    if (!st || rec->where.node >= 0)
        return; /* a node's values are judged merged with the others' */
    /* (a merge that failed, Ctrl-C: the run fails for that already) */
    for (size_t k = 0; rec->collated && !rec->error && !run_cancelled(r) && k < st->noutputs; k++)
        unchecked(r, rec, &st->outputs[k]);
    for (size_t i = 0; i < rec->noutputs; i++) {
        const out_rec *orec = &rec->outputs[i];
        const cfg_output *o = NULL;
        for (size_t k = 0; k < st->noutputs; k++)
            if (strcmp(st->outputs[k].name, orec->output) == 0)
                o = &st->outputs[k];
        if (!o || !orec->statistics)
            continue;
        for (size_t c = 0; c < o->ncolumns; c++) {
            const cfg_column *col = &o->columns[c];
            for (size_t t = 0; t < col->nthresholds; t++) {
                const cfg_threshold *th = &col->thresholds[t];
                double v = stat_value(r, orec->statistics, col->name, th);
                bool ok = holds(v, th);
                if (!rec->thresholds)
                    rec->thresholds = cJSON_CreateArray();
                cJSON *e = cJSON_CreateObject();
                cJSON_AddStringToObject(e, "output", orec->name);
                cJSON_AddStringToObject(e, "column", col->name);
                cJSON_AddStringToObject(e, "threshold", th->text);
                if (isfinite(v))
                    cJSON_AddNumberToObject(e, "value", v);
                else
                    cJSON_AddNullToObject(e, "value");
                cJSON_AddBoolToObject(e, "passed", ok);
                cJSON_AddItemToArray(rec->thresholds, e);
                if (ok)
                    continue;
                log_msg(BC_LOG_ERROR, "stage '%s'%s%s: output '%s', column '%s': threshold "
                        "\"%s\" failed (value %g)", st->name, rec->case_name ? " case " : "",
                        rec->case_name ? rec->case_name : "", orec->name, col->name, th->text, v);
                pthread_mutex_lock(&r->lock);
                r->thresholds_failed++;
                pthread_mutex_unlock(&r->lock);
            }
        }
    }
}
