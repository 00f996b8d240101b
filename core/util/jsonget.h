/*
 * Statistics in JSON documents (results.json, compare results): a
 * statistic that is undefined (NaN) or infinite is written as null, since
 * JSON has neither; reading, a missing or mistyped key gives NULL or NAN,
 * which the reports print as "-".
 */
#ifndef BENCHCTL_JSONGET_H
#define BENCHCTL_JSONGET_H

#include <math.h>

#include <cjson/cJSON.h>

/* key: x, or null when x is NaN or infinite. */
static inline void jadd_num(cJSON *o, const char *key, double x)
{
    if (isfinite(x))
        cJSON_AddNumberToObject(o, key, x);
    else
        cJSON_AddNullToObject(o, key);
}

static inline const char *jstr(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static inline double jnum(const cJSON *o, const char *key)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(n) ? n->valuedouble : NAN;
}

#endif
