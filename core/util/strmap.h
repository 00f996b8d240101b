/*
 * A set of strings with a value each (open addressing, FNV-1a): what makes
 * "is this name taken?" checks over many stages, outputs or cases linear
 * instead of quadratic.  Keys are borrowed (they must outlive the map).
 */
#ifndef BENCHCTL_UTIL_STRMAP_H
#define BENCHCTL_UTIL_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct strmap {
    const char **keys;
    size_t *vals;
    size_t n, cap;
} strmap;

/* Put key with val unless key is there; returns true when it was added,
 * false (and *old set to the value already there, when old is not NULL)
 * when key was there already. */
bool strmap_put(strmap *m, const char *key, size_t val, size_t *old);
/* The value of key into *val; false when key is not there. */
bool strmap_get(const strmap *m, const char *key, size_t *val);
void strmap_free(strmap *m);

#endif
