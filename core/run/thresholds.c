/* `thresholds:` of data_schema columns, checked after a stage (run.h). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "run/run.h"

void thresholds_check(run *r, stage_rec *rec)
{
    (void)r; (void)rec;
}
