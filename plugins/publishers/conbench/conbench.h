/*
 * Publisher "conbench": internal declarations shared by its files.
 * conbench.c: options, login session, HTTP with retries, send/close.
 * payload.c: a stored run's metadata.json -> Conbench result objects.
 */
#ifndef BENCHCTL_CONBENCH_H
#define BENCHCTL_CONBENCH_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include <benchctl/plugin.h>

#define CB_MAX_STATS 16

/* The settings of a session: environment first, then the publish:
 * section's options.  Strings are borrowed (environment or core). */
typedef struct cb_conf {
    const char *url, *email, *password;
    const char *repository, *commit, *pr_number, *branch;
    const char *machine_name, *run_reason;
    const char *stats[CB_MAX_STATS]; /* median, p99, ... */
    size_t nstats;
} cb_conf;

/* The statistics of results.json columns a result may carry. */
int cb_stat_known(const char *name);

/* Build the results to POST for a stored run: a JSON array of result
 * objects (owned by the caller), in a stable order.  meta is the run's
 * metadata.json; store_id its ID.  The Conbench run_id used goes to
 * run_id (size n).  Metrics that cannot be sent are appended to not_sent
 * as strings "WHAT: why".  NULL with err set on a run that cannot be
 * published at all (no repository, ...). */
cJSON *cb_build(const cb_conf *conf, const cJSON *meta, const char *store_id, cJSON *not_sent,
                char *run_id, size_t n, char *err, size_t en);

#endif
