/*
 * CPU sets as Linux writes them ("0-3,8,10-11": /sys/devices/system/cpu/online,
 * cpuset.cpus, Cpus_allowed_list) and as `limits: cpus:` takes them.
 */
#ifndef BENCHCTL_UTIL_CPULIST_H
#define BENCHCTL_UTIL_CPULIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CPUSET_MAX 1024 /* CPUs 0..CPUSET_MAX-1 */

typedef struct cpuset_t {
    uint64_t w[CPUSET_MAX / 64];
} cpuset_t;

/* Parse a list of CPU numbers and ranges ("0-3,8"; spaces around items are
 * allowed; "" is the empty set) into *out.  false for anything else, or a
 * CPU number of CPUSET_MAX or more. */
bool cpuset_parse(const char *s, cpuset_t *out);
/* The set as a list ("0-3,8"; "" when empty): a new string. */
char *cpuset_format(const cpuset_t *s);
static inline bool cpuset_has(const cpuset_t *s, unsigned cpu)
{
    return cpu < CPUSET_MAX && (s->w[cpu / 64] >> (cpu % 64)) & 1u;
}
static inline void cpuset_add(cpuset_t *s, unsigned cpu)
{
    if (cpu < CPUSET_MAX)
        s->w[cpu / 64] |= (uint64_t)1 << (cpu % 64);
}
static inline void cpuset_del(cpuset_t *s, unsigned cpu)
{
    if (cpu < CPUSET_MAX)
        s->w[cpu / 64] &= ~((uint64_t)1 << (cpu % 64));
}
/* How many CPUs are in s. */
size_t cpuset_count(const cpuset_t *s);
/* The CPUs of s in ascending order (owned; *n of them, NULL when none). */
int *cpuset_ids(const cpuset_t *s, size_t *n);
/* n CPU numbers as a list ("0-3,8"; numbers outside 0..CPUSET_MAX-1 are
 * left out): a new string. */
char *cpuset_format_ids(const int *ids, size_t n);

#endif
