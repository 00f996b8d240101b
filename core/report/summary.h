/*
 * The end-of-run summary: what a person (or a script, `run --json`) wants
 * to know when a run ends, from its stored record alone — per case and
 * output the rows, rate, success rate and p50/p95/p99 of each numeric
 * column; per repeated stage mean ± σ, min…max, user and system CPU and
 * its quality notes; failed stages with their log; failed thresholds;
 * where the plots and the report were written.  One document
 * (summary_build) printed two ways: summary_print for people, as JSON for
 * scripts (docs/schema/summary.schema.json).
 */
#ifndef BENCHCTL_SUMMARY_H
#define BENCHCTL_SUMMARY_H

#include <stdio.h>

#include <cjson/cJSON.h>

/* The summary of the run stored in run_dir (absolute), from its final
 * metadata.json (meta) and results document (results_build of it);
 * exit_code is the command's exit code (it goes into the document).
 * Paths in the document are absolute.  Returns an owned document; never
 * NULL (missing parts of the record are left out). */
cJSON *summary_build(const char *run_dir, const cJSON *meta, const cJSON *results,
                     int exit_code);
/* Print the summary for people to out: tables sized to their content and
 * to width columns (0: no limit), long notes under them; colours when fd
 * (out's descriptor) gets them (term_color). */
void summary_print(const cJSON *summary, FILE *out, int fd, int width);

#endif
