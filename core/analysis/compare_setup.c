/*
 * What differs in how two runs were made: their benchmark name, their
 * parameters (-e values) and what their stages ran.  A difference in the
 * measurements may come from any of them, so `compare` says so beside its
 * verdicts (as it does for different machines).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/compare_stats.h"
#include "util/util.h"

static const cJSON *run_obj(const cs_variant *v)
{
    return cJSON_GetObjectItemCaseSensitive(v->results, "run");
}

static const char *str_of(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static void sep(strbuf *d)
{
    if (d->len)
        sb_puts(d, "; ");
}

/* Parameters one run lacks or that differ between the runs. */
static void diff_params(strbuf *d, const cJSON *pa, const cJSON *pb, const char *la,
                        const char *lb)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, pa)
    {
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(pb, x->string);
        const char *sx = cJSON_GetStringValue(x), *sy = cJSON_GetStringValue(y);
        if (y && (!sx || !sy || strcmp(sx, sy) == 0))
            continue;
        sep(d);
        if (!y)
            sb_printf(d, "parameter %s=%s only in run %s", x->string, sx ? sx : "?", la);
        else
            sb_printf(d, "parameter %s %s vs %s", x->string, sx, sy);
    }
    cJSON_ArrayForEach(x, pb)
    if (!cJSON_GetObjectItemCaseSensitive(pa, x->string)) {
        const char *sx = cJSON_GetStringValue(x);
        sep(d);
        sb_printf(d, "parameter %s=%s only in run %s", x->string, sx ? sx : "?", lb);
    }
}

/* Stages both runs have whose command differs (stages of one run only are
 * named too: the workflow changed). */
static void diff_commands(strbuf *d, const cJSON *ca, const cJSON *cb)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, ca)
    {
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(cb, x->string);
        const char *sx = cJSON_GetStringValue(x), *sy = cJSON_GetStringValue(y);
        if (y && sx && sy && strcmp(sx, sy) == 0)
            continue;
        sep(d);
        sb_printf(d, y ? "stage '%s' ran a different command" : "stage '%s' only in the baseline",
                  x->string);
    }
    cJSON_ArrayForEach(x, cb)
    if (!cJSON_GetObjectItemCaseSensitive(ca, x->string)) {
        sep(d);
        sb_printf(d, "stage '%s' only in the candidate", x->string);
    }
}

void setup_note(cJSON *notes, const cs_variant *a, const cs_variant *b)
{
    const cJSON *ra = run_obj(a), *rb = run_obj(b);
    if (!ra || !rb)
        return;
    strbuf d = {0};
    const char *na = str_of(ra, "benchmark"), *nb = str_of(rb, "benchmark");
    if (na && nb && strcmp(na, nb) != 0)
        sb_printf(&d, "benchmark '%s' vs '%s'", na, nb);
    const cJSON *pa = cJSON_GetObjectItemCaseSensitive(ra, "parameters");
    const cJSON *pb = cJSON_GetObjectItemCaseSensitive(rb, "parameters");
    if (pa || pb)
        diff_params(&d, pa, pb, a->label, b->label);
    const cJSON *ca = cJSON_GetObjectItemCaseSensitive(ra, "commands");
    const cJSON *cb = cJSON_GetObjectItemCaseSensitive(rb, "commands");
    if (ca && cb)
        diff_commands(&d, ca, cb);
    if (d.len) {
        char *note = xasprintf("runs %s and %s were set up differently (%s): a difference may "
                               "come from that", a->label, b->label, d.buf);
        cJSON_AddItemToArray(notes, cJSON_CreateString(note));
        free(note);
    }
    sb_free(&d);
}
