/* Drawing plots[] from a run's collected files (plots.c). */
#ifndef BENCHCTL_PLOTS_H
#define BENCHCTL_PLOTS_H

#include <cjson/cJSON.h>

#include "config/config.h"
#include "plugin/coresvc.h"
#include "run/record.h"

struct run;

/* Where `benchctl plot` draws: dir (absolute) instead of the run's plots/
 * directory, and whether an existing file may be replaced.  A file it may
 * not replace is not drawn: its record says so, and `refused` counts it. */
typedef struct plots_dest {
    const char *dir; /* NULL: <run>/plots/ */
    bool force;
    size_t refused;
} plots_dest;

/* Draw every plots[] entry of c from the output files of the stage
 * records `recs` (n of them) of the run in run_dir.  Appends one record
 * per plot file to `out` (name, path, status, error) and, when drawn is
 * not NULL, the absolute path of each plot drawn to it.  r may be NULL
 * (for `benchctl plot`); dest NULL: the run's plots/, replacing files.
 * first_failure (may be NULL): "plot 'x' failed: why" of the first plot
 * that failed (owned), left NULL when none did.  Returns the number of
 * plots that failed. */
int plots_render(config *c, const char *run_dir, const stage_rec *const *recs, size_t n,
                 cJSON *out, strvec *drawn, struct run *r, plots_dest *dest,
                 char **first_failure);

#endif
