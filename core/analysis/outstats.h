/*
 * Statistics of one output of one stage run (outstats.c): fed by the
 * validator's values while its files are validated, finished into the
 * output record's "statistics" object.
 */
#ifndef BENCHCTL_OUTSTATS_H
#define BENCHCTL_OUTSTATS_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "config/config.h"
#include "analysis/stats/stats.h"

typedef struct outstats outstats;

/* Sample files go to run_dir/samples_rel_dir/.  takes_values: the
 * validator hands values over (built for plugin ABI 1.1 or later). */
outstats *outstats_new(const char *run_dir, const cfg_output *o, const char *samples_rel_dir,
                       bool takes_values);
void outstats_values(outstats *s, uint32_t column, const double *v, size_t n);
void outstats_text(outstats *s, uint32_t column, const char *text, size_t len);
void outstats_summary(outstats *s, const char *column, uint64_t count, double min, double max,
                      double mean);
/* A file's validation was interrupted (Ctrl-C, --timeout): the statistics
 * cover what was read, and say so ("partial": true). */
void outstats_set_partial(outstats *s);
/* The "statistics" object: rows, columns (summaries + sample files),
 * rates, success. */
cJSON *outstats_finish(outstats *s);
void outstats_free(outstats *s);

/* count, non_finite, mean ... mad of sm into o (NaN as null). */
void outstats_add_summary(cJSON *o, const st_summary *sm);

#endif
