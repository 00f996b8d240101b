/*
 * results.json (results.c): the statistical summary of a run, built from
 * its final metadata.  Schema: docs/schema/results.schema.json.
 */
#ifndef BENCHCTL_RESULTS_H
#define BENCHCTL_RESULTS_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "util/util.h"

/* The results document of a run from its final metadata (owned). */
cJSON *results_build(const cJSON *meta);
/* Write run_dir/results.json atomically; false (logged) on failure. */
bool results_write(const char *run_dir, const cJSON *meta);
/* Write an already built results document (results_build) the same way. */
bool results_write_doc(const char *run_dir, cJSON *results);

#endif
