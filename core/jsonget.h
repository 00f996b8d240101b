/*
 * Reading fields of stored JSON documents (results.json, compare
 * results): a missing or mistyped key reads as NULL or NAN, which the
 * reports print as "-" (an undefined statistic is null in the files).
 */
#ifndef BENCHCTL_JSONGET_H
#define BENCHCTL_JSONGET_H

#include <math.h>

#include <cjson/cJSON.h>

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
