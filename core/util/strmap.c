/* A set of strings with a value each (strmap.h). */
#include "util/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static size_t slot(const char *const *keys, size_t cap, const char *key)
{
    size_t i = (size_t)hash(key) & (cap - 1);
    while (keys[i] && strcmp(keys[i], key) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

static void grow(strmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    const char **keys = xcalloc(cap, sizeof *keys);
    size_t *vals = xcalloc(cap, sizeof *vals);
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i]) {
            size_t j = slot(keys, cap, m->keys[i]);
            keys[j] = m->keys[i];
            vals[j] = m->vals[i];
        }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
}

bool strmap_put(strmap *m, const char *key, size_t val, size_t *old)
{
    if ((m->n + 1) * 2 > m->cap)
        grow(m);
    size_t i = slot(m->keys, m->cap, key);
    if (m->keys[i]) {
        if (old)
            *old = m->vals[i];
        return false;
    }
    m->keys[i] = key;
    m->vals[i] = val;
    m->n++;
    return true;
}

bool strmap_get(const strmap *m, const char *key, size_t *val)
{
    if (!m->cap)
        return false;
    size_t i = slot(m->keys, m->cap, key);
    if (!m->keys[i])
        return false;
    if (val)
        *val = m->vals[i];
    return true;
}

void strmap_free(strmap *m)
{
    free(m->keys);
    free(m->vals);
    *m = (strmap){0};
}
