/*
 * The scaling table of `benchctl stats` for a run with `matrix:` cases: a
 * sweep is read along its parameters, not as an A/B test (docs/statistics.md,
 * "Sweeps").
 */
#ifndef BENCHCTL_SCALING_H
#define BENCHCTL_SCALING_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

/* Whether a run's results.json has cases with parameters (a matrix). */
bool scaling_applies(const cJSON *results);

/* Print one row per case: its parameters (and, with the run's
 * concurrency_param, the total concurrency: that parameter times the nodes
 * of the case's fanned-out stage), then for each output the rows
 * per second and success rate, and p50, p95 and p99 of each metric (the
 * columns compare tests, and repeated stages' wall time).  Aligned
 * columns, each line starting with indent, or a Markdown table. */
void scaling_print(const cJSON *results, FILE *f, bool markdown, const char *indent);

#endif
