/*
 * append_metadata: the first JSON object a stage prints on stdout (or
 * writes to $BENCHCTL_METADATA_FILE) is merged into the run's `custom`
 * metadata.  As in the Go tool, values are kept as their JSON text: a
 * string is stored as the string, anything else exactly as written (`1.50`
 * stays "1.50", `true` becomes "true"), and keys overwrite `-m` keys.
 *
 * cJSON validates the object; the raw text of each value is then found by
 * walking the validated text (strings and nesting only), so numbers keep
 * the digits the stage printed.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "run/run.h"

/* White space as cJSON skips it: every byte up to 0x20 (NUL and control
 * bytes included), or this walk and cJSON's parse would disagree. */
static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (unsigned char)*p <= 32)
        p++;
    return p;
}

static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end && *p != '"'; p++)
        if (*p == '\\')
            p++;
    return p < end ? p + 1 : end;
}

/* End of the JSON value starting at p (already known to be valid). */
static const char *skip_value(const char *p, const char *end)
{
    if (p >= end)
        return end;
    if (*p == '"')
        return skip_string(p, end);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (p < end) {
            if (*p == '"') {
                p = skip_string(p, end);
                continue;
            }
            if (*p == '{' || *p == '[')
                depth++;
            else if (*p == '}' || *p == ']') {
                if (--depth == 0)
                    return p + 1;
            }
            p++;
        }
        return end;
    }
    while (p < end && *p != ',' && *p != '}' && *p != ']' && (unsigned char)*p > 32)
        p++;
    return p;
}

/* Merge the object parsed from [start, end) into custom. */
static size_t merge(cJSON *custom, const cJSON *obj, const char *start, const char *end)
{
    const char *p = skip_ws(start, end) + 1; /* past '{' */
    size_t n = 0;
    for (const cJSON *it = obj->child; it; it = it->next) {
        p = skip_ws(p, end);
        if (p < end && *p == ',')
            p = skip_ws(p + 1, end);
        p = p < end ? skip_string(p, end) : end; /* the key */
        p = skip_ws(p, end);
        p = skip_ws(p < end ? p + 1 : end, end);  /* past ':' */
        const char *vend = skip_value(p, end);
        char *val = cJSON_IsString(it) ? xstrdup(it->valuestring)
                                       : xstrndup(p, (size_t)(vend - p));
        cJSON_DeleteItemFromObjectCaseSensitive(custom, it->string);
        cJSON_AddStringToObject(custom, it->string, val);
        free(val);
        p = vend;
        n++;
    }
    return n;
}

bool append_metadata(run *r, const char *text, size_t len, const char *what, char **err)
{
    *err = NULL;
    const char *end = text + len;
    for (const char *p = memchr(text, '{', len); p; p = memchr(p + 1, '{', (size_t)(end - p - 1))) {
        const char *obj_end = NULL;
        cJSON *obj = cJSON_ParseWithLengthOpts(p, (size_t)(end - p), &obj_end, 0);
        if (obj && cJSON_IsObject(obj)) {
            pthread_mutex_lock(&r->lock); /* parallel stages merge too */
            size_t n = merge(r->custom, obj, p, obj_end);
            pthread_mutex_unlock(&r->lock);
            cJSON_Delete(obj);
            log_msg(BC_LOG_DEBUG, "%s: merged %zu key%s into custom metadata", what, n,
                    n == 1 ? "" : "s");
            return true;
        }
        cJSON_Delete(obj);
        if (p + 1 >= end)
            break;
    }
    /* Show what was received, briefly, so the user can see what went wrong. */
    size_t show = len > 200 ? 200 : len;
    strbuf sb = {0};
    for (size_t i = 0; i < show; i++)
        sb_add(&sb, text[i] == '\n' ? "\\n" : text + i, text[i] == '\n' ? 2 : 1);
    *err = xasprintf("%s: no JSON object found; received %zu byte%s: \"%s%s\"", what, len,
                     len == 1 ? "" : "s", sb.buf ? sb.buf : "", len > show ? "..." : "");
    sb_free(&sb);
    return false;
}
