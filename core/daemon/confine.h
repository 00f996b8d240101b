/*
 * Confinement of one queued task, in one place: the CPUs it may run on
 * (sched_setaffinity, inherited by the task's whole process tree) and how
 * it is stopped (at its walltime or by cancel: SIGTERM to its benchctl
 * run, which stops its stages and runs their cleanup as for Ctrl-C; after
 * a grace period SIGKILL to its process group).
 *
 * CPU lists are util/cpulist.h's.  The task's memory is enforced by its
 * run: the daemon passes it as `benchctl run --memory-limit`, and every
 * stage is held to it by the stage isolation code (run/isolate.h).
 */
#ifndef BENCHCTL_DAEMON_CONFINE_H
#define BENCHCTL_DAEMON_CONFINE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Are all n CPUs ones this process may run on (its affinity mask)?  false
 * with *err (owned) naming the first that is not. */
bool confine_check_cpus(const int *ids, size_t n, char **err);

/* In the task's child process, before exec: pin it to the n CPUs (when
 * pin is false, nothing).  Returns 0, or an errno value. */
int confine_apply(const int *ids, size_t n, bool pin);

/* Ask the task whose benchctl run is pid (a process group leader) to stop
 * as Ctrl-C would: SIGTERM to the run only, so it can stop its stages and
 * run cleanup. */
void confine_stop(pid_t pid);
/* Stop what is left of the task at once: SIGKILL to its process group. */
void confine_kill(pid_t pid);

#endif
