/*
 * The metrics of `benchctl compare` (used by compare_stats.c and scaling.c): which
 * metrics a run or case has in its results.json, and their samples.
 */
#ifndef BENCHCTL_COMPARE_METRICS_H
#define BENCHCTL_COMPARE_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "analysis/compare_stats.h"
#include "util/util.h"

/* The direction of "better": the sign of a change that is an improvement. */
enum { BETTER_LOWER = -1, BETTER_NONE = 0, BETTER_HIGHER = 1 };

/* What a metric's samples are, and so its test. */
enum { CM_SAMPLES = 0, CM_PROPORTION = 1 };

/* A repeated stage's output: which per-repetition statistic is a sample. */
enum { REP_NONE = 0, REP_MEDIAN, REP_P99, REP_RATE, REP_SUCCESS };

/* One metric of one variant, and where its samples are. */
typedef struct cm_metric {
    int kind;          /* CM_SAMPLES: Mann-Whitney; CM_PROPORTION: two-proportion */
    double k, n;       /* CM_PROPORTION: successes of rows */
    const char *case_name; /* points into the results JSON; NULL: unnamed case */
    char *key;             /* "<output>.<column>[@host]" or "stage:<name>.wall_s[@host]" */
    int better;
    const char *unit;
    const cJSON *runs; /* repeat.runs of a stage metric */
    const cJSON *reps; /* an output's "repetitions": one sample each ... */
    int rep_what;      /* ... this statistic (REP_*) ... */
    const char *rep_col; /* ... of this column (points into the JSON) */
    char *samples;     /* absolute path of a column's samples file */
    bool null_samples; /* the column's "samples" is null */
    const char *no_samples; /* why there are none (static), when not the usual reason */
    bool matched;
} cm_metric;

typedef struct cm_list {
    cm_metric *v;
    size_t n, cap;
    strvec skipped; /* pairs: key, why it is not a metric (docs/statistics.md) */
} cm_list;

/* The metric key in l (with case_name, unless by_case: then any case), or
 * NULL. */
cm_metric *cm_find(cm_list *l, const char *case_name, const char *key, bool by_case);
/* Add the metrics of variant v to l: every case of its results (runs), or
 * only v->case_name (by_case).  Metric keys are documented in
 * docs/statistics.md ("Metrics"). */
void cm_collect(cm_list *l, const cs_variant *v, bool by_case);
void cm_free(cm_list *l);
/* Whether unit is one of the rate, latency and size units that make a
 * column a metric without `better:` (docs/config.md, "unit"). */
bool cm_known_unit(const char *unit);
/* NULL when column c (an entry of output o's "columns" in results.json) is
 * a metric, else why not, as a static string. */
const char *cm_column_why_not(const cJSON *o, const cJSON *c);
/* Whether the stage that wrote output o (its entry in the case's "stages")
 * ran in the background. */
bool cm_from_background(const cJSON *stages, const cJSON *o);
/* The finite samples of m, sorted ascending as st_sort_finite leaves them
 * (malloc'd, *n set), or NULL with *why (owned). */
double *cm_load(const cm_metric *m, size_t *n, char **why);

#endif
