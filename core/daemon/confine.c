/* Confinement of a queued task (confine.h). */
#define _GNU_SOURCE
#include "daemon/confine.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

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
