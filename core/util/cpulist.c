/* CPU lists ("0-3,8") to bit sets and back. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cpulist.h"
#include "util/util.h"

/* One CPU number at *p (digits only), advancing *p. */
static bool cpu_number(const char **p, unsigned *out)
{
    if (!isdigit((unsigned char)**p))
        return false;
    unsigned long v = 0;
    while (isdigit((unsigned char)**p)) {
        v = v * 10 + (unsigned long)(**p - '0');
        if (v >= CPUSET_MAX)
            return false;
        (*p)++;
    }
    *out = (unsigned)v;
    return true;
}

bool cpuset_parse(const char *s, cpuset_t *out)
{
    memset(out, 0, sizeof *out);
    const char *p = s;
    while (*p == ' ' || *p == '\t' || *p == '\n')
        p++;
    if (!*p)
        return true;
    for (;;) {
        while (*p == ' ')
            p++;
        unsigned a, b;
        if (!cpu_number(&p, &a))
            return false;
        b = a;
        if (*p == '-') {
            p++;
            if (!cpu_number(&p, &b) || b < a)
                return false;
        }
        for (unsigned c = a; c <= b; c++)
            cpuset_add(out, c);
        while (*p == ' ')
            p++;
        if (*p == ',') {
            p++;
            continue;
        }
        while (*p == '\n' || *p == ' ' || *p == '\t')
            p++;
        return *p == '\0';
    }
}

char *cpuset_format(const cpuset_t *s)
{
    strbuf sb = {0};
    sb_puts(&sb, "");
    for (unsigned c = 0; c < CPUSET_MAX; c++) {
        if (!cpuset_has(s, c))
            continue;
        unsigned e = c;
        while (e + 1 < CPUSET_MAX && cpuset_has(s, e + 1))
            e++;
        char item[32];
        if (e > c)
            snprintf(item, sizeof item, "%s%u-%u", sb.len ? "," : "", c, e);
        else
            snprintf(item, sizeof item, "%s%u", sb.len ? "," : "", c);
        sb_puts(&sb, item);
        c = e;
    }
    char *text = sb_steal(&sb);
    return text ? text : xstrdup("");
}

size_t cpuset_count(const cpuset_t *s)
{
    size_t n = 0;
    for (size_t i = 0; i < CPUSET_MAX / 64; i++)
        n += (size_t)__builtin_popcountll(s->w[i]);
    return n;
}

int *cpuset_ids(const cpuset_t *s, size_t *n)
{
    *n = cpuset_count(s);
    if (*n == 0)
        return NULL;
    int *ids = xmalloc(*n * sizeof *ids);
    size_t k = 0;
    for (unsigned c = 0; c < CPUSET_MAX && k < *n; c++)
        if (cpuset_has(s, c))
            ids[k++] = (int)c;
    return ids;
}

char *cpuset_format_ids(const int *ids, size_t n)
{
    cpuset_t s = {{0}};
    for (size_t i = 0; i < n; i++)
        if (ids[i] >= 0)
            cpuset_add(&s, (unsigned)ids[i]);
    return cpuset_format(&s);
}
