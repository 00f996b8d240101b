/*
 * HTML reports: one self-contained file (inline CSS and JS, plots as data:
 * URIs, no request to anything outside the file) for a stored run, and a
 * differential report of two or more runs (or of the cases of one run)
 * built on the compare analysis.  Everything taken from a run (names,
 * logs, metadata, config) is HTML-escaped.  The page reads without JS;
 * the script only sorts tables.
 */
#ifndef BENCHCTL_REPORT_H
#define BENCHCTL_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "analysis/compare_stats.h"

/* The file name of a run's report in its directory. */
#define REPORT_FILE "report.html"

/* Where the report of a run refers to its files (logs, plots that are too
 * big to embed): links are relative to the run directory when the report
 * is written inside it, else absolute paths. */
typedef struct report_run_in {
    const char *run_dir;   /* absolute directory of the run */
    const cJSON *meta;     /* its metadata.json */
    const cJSON *results;  /* its results.json, or NULL */
    bool links_relative;   /* the report lands in run_dir */
} report_run_in;

/* The report of one run as an HTML document (owned, NUL-terminated;
 * *len set when len is not NULL).  Never fails: missing parts of the
 * record are left out of the page. */
char *report_run_html(const report_run_in *in, size_t *len);

/* Read run_dir/metadata.json and results.json (when there) and write the
 * run's report to out_path (atomically).  Returns true, or false with
 * *err (owned). */
bool report_write_run(const char *run_dir, const char *out_path, char **err);

/* One run of a differential report. */
typedef struct report_diff_run {
    const char *label;  /* as typed (ID or tag) */
    const char *id;
    const char *dir;
    const cJSON *meta;    /* metadata.json */
    const cJSON *results; /* results.json or NULL */
    const char *note;     /* why results is NULL */
} report_diff_run;

/* The differential report of n runs (runs[0] the baseline; by_case:
 * runs[i] are the cases of one run, named by label, all with the same
 * meta/results) as an owned HTML document; *regressions set to the number
 * of regressed comparisons. */
char *report_diff_html(const report_diff_run *runs, size_t n, bool by_case,
                       const cs_options *o, size_t *len, int *regressions);

#endif
