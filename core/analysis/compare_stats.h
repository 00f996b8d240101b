/*
 * The statistical part of `benchctl compare`: the metrics of a baseline
 * and of one or more candidates (runs, or cases of one run) taken from
 * their results.json, compared with the Mann-Whitney U test, the
 * Hodges-Lehmann shift and Benjamini-Hochberg adjusted p-values, each with
 * a verdict (docs/statistics.md, "Comparing runs").
 */
#ifndef BENCHCTL_COMPARE_STATS_H
#define BENCHCTL_COMPARE_STATS_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

typedef struct cs_options {
    double alpha;      /* significance level for the adjusted p (default 0.01) */
    double threshold;  /* practical relative change, a fraction (default 0.05) */
    double confidence; /* of the Hodges-Lehmann interval (0.95) */
} cs_options;

/* One side of the comparison: a run (runs mode) or a case of a run. */
typedef struct cs_variant {
    const char *label;     /* as shown: the ID or tag typed, or the case name */
    const char *run_id;    /* the resolved run ID */
    const char *run_dir;   /* output_dir/<id>: samples paths are relative to it */
    const char *case_name; /* cases mode: the case (NULL: the unnamed case) */
    const cJSON *results;  /* the run's results.json; NULL when it has none */
    const char *note;      /* why results is NULL ("run 3 has no results.json ...") */
} cs_variant;

/*
 * Compare v[0] (the baseline) with v[1..n-1].  by_case: the variants are
 * cases of one run (metrics matched by name alone); otherwise runs
 * (matched by case name and metric name).  Returns the statistics as a
 * JSON object (shape: docs/schema/compare.schema.json: mode, alpha,
 * threshold, confidence, baseline, variants, tests, metrics, only_in,
 * summary, regressions, notes), owned by the caller.  Reads one metric's
 * two sample files at a time.  Problems with single metrics (an unreadable
 * samples file) are reported in the metric's "note" and on stderr.
 */
cJSON *cs_compare(const cs_variant *v, size_t n, bool by_case, const cs_options *o);

/* Print the statistics object made by cs_compare as aligned tables or as
 * Markdown (summary first). */
void cs_print(const cJSON *stats, FILE *f, bool markdown);

/* A note on notes when runs a and b were set up differently: benchmark
 * name, parameters (-e), stage commands (compare_setup.c). */
void setup_note(cJSON *notes, const cs_variant *a, const cs_variant *b);

#endif
