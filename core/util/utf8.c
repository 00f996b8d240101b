/* UTF-8 for what the store writes (utf8.h). */
#include "util/utf8.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* the second byte's range */
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* no overlong forms */
        else if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* at most U+10FFFF */
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

static bool valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (n) {
        size_t l = utf8_seq_len(p, n);
        if (!l)
            return false;
        p += l;
        n -= l;
    }
    return true;
}

char *utf8_fix(const char *s, size_t *replaced)
{
    strbuf sb = {0};
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), bad = 0;
    while (n) {
        size_t l = utf8_seq_len(p, n);
        if (l) {
            sb_add(&sb, p, l);
        } else {
            sb_add(&sb, "\xEF\xBF\xBD", 3);
            l = 1;
            bad++;
        }
        p += l;
        n -= l;
    }
    if (replaced)
        *replaced = bad;
    return sb.buf ? sb_steal(&sb) : xstrdup("");
}

size_t json_fix_utf8(cJSON *j)
{
    if (!j)
        return 0;
    size_t bad = 0;
    if (j->string && !valid(j->string)) {
        for (unsigned char *p = (unsigned char *)j->string; *p;) {
            size_t l = utf8_seq_len(p, strlen((char *)p));
            if (!l) {
                *p = '?';
                bad++;
                l = 1;
            }
            p += l;
        }
    }
    if (cJSON_IsString(j) && j->valuestring && !valid(j->valuestring)) {
        size_t n = 0;
        char *fixed = utf8_fix(j->valuestring, &n);
        size_t len = strlen(fixed) + 1;
        char *copy = cJSON_malloc(len);
        if (copy) {
            memcpy(copy, fixed, len);
            cJSON_free(j->valuestring);
            j->valuestring = copy;
            bad += n;
        }
        free(fixed);
    }
    for (cJSON *c = j->child; c; c = c->next)
        bad += json_fix_utf8(c);
    return bad;
}
