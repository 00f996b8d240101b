/* Confinement of a queued task (confine.h). */
#define _GNU_SOURCE
#include "daemon/confine.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

#define MAX_CPU 1023

static int cmp_int(const void *a, const void *b)
{
    return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

static bool cpu_number(const char *s, size_t len, int *out)
{
    char buf[16];
    int64_t v;
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (!parse_int64(buf, &v) || v < 0 || v > MAX_CPU)
        return false;
    *out = (int)v;
    return true;
}

bool confine_parse_cpus(const char *list, int **ids, size_t *n, char **err)
{
    *ids = NULL;
    *n = 0;
    size_t cap = 0;
    const char *p = list;
    if (!*p) {
        *err = xstrdup("an empty CPU list");
        return false;
    }
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *dash = memchr(p, '-', len);
        int lo, hi;
        bool ok = dash ? cpu_number(p, (size_t)(dash - p), &lo) &&
                             cpu_number(dash + 1, len - (size_t)(dash - p) - 1, &hi) && lo <= hi
                       : cpu_number(p, len, &lo);
        if (!dash)
            hi = lo;
        if (!ok) {
            *err = xasprintf("'%.*s' is not a CPU or a range of CPUs (e.g. 0-3,6; CPUs 0 to %d)",
                             (int)len, p, MAX_CPU);
            goto fail;
        }
        for (int c = lo; c <= hi; c++) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 16;
                *ids = xrealloc(*ids, cap * sizeof **ids);
            }
            (*ids)[(*n)++] = c;
        }
        p += len;
        if (*p == ',' && *++p == '\0') {
            *err = xstrdup("a CPU list cannot end with ','");
            goto fail;
        }
    }
    qsort(*ids, *n, sizeof **ids, cmp_int);
    for (size_t i = 1; i < *n; i++)
        if ((*ids)[i] == (*ids)[i - 1]) {
            *err = xasprintf("CPU %d is listed twice", (*ids)[i]);
            goto fail;
        }
    return true;
fail:
    free(*ids);
    *ids = NULL;
    *n = 0;
    return false;
}

char *confine_format_cpus(const int *ids, size_t n)
{
    strbuf sb = {0};
    for (size_t i = 0; i < n; i++)
        sb_printf(&sb, "%s%d", i ? "," : "", ids[i]);
    return sb.buf ? sb_steal(&sb) : xstrdup("");
}

bool confine_check_cpus(const int *ids, size_t n, char **err)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) {
        *err = xasprintf("cannot read this process's CPUs: %s", strerror(errno));
        return false;
    }
    for (size_t i = 0; i < n; i++)
        if (!CPU_ISSET(ids[i], &set)) {
            *err = xasprintf("CPU %d is not one this daemon may run on (offline, or outside "
                             "its affinity; see /sys/devices/system/cpu/online), so tasks "
                             "cannot be pinned to it (--no-pin schedules without pinning)",
                             ids[i]);
            return false;
        }
    return true;
}

int confine_apply(const int *ids, size_t n, bool pin)
{
    if (!pin || n == 0)
        return 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    for (size_t i = 0; i < n; i++)
        CPU_SET(ids[i], &set);
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : errno;
}

void confine_stop(pid_t pid)
{
    if (pid > 0)
        kill(pid, SIGTERM);
}

void confine_kill(pid_t pid)
{
    if (pid > 0)
        kill(-pid, SIGKILL);
}
