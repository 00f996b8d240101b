/*
 * Confinement of one queued task, in one place: the CPUs it may run on
 * (sched_setaffinity, inherited by the task's whole process tree) and how
 * it is stopped (at its walltime or by cancel: SIGTERM to its benchctl
 * run, which stops its stages and runs their cleanup as for Ctrl-C; after
 * a grace period SIGKILL to its process group).
 *
 * Stage `limits:` (cgroups, rlimits; issue 19) are meant to replace the
 * affinity call here: the daemon calls only these functions, so routing a
 * task through the isolation code changes this file alone.  The memory
 * reservation is a scheduling budget; it is not enforced here.
 */
#ifndef BENCHCTL_DAEMON_CONFINE_H
#define BENCHCTL_DAEMON_CONFINE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Parse a CPU list ("0-3,6,8-9") into ascending, distinct IDs (*ids
 * owned).  false with *err (owned) on bad syntax, a reversed range, a
 * duplicate or a CPU above 1023. */
bool confine_parse_cpus(const char *list, int **ids, size_t *n, char **err);
/* Format n CPU IDs as "0,1,5" (owned). */
char *confine_format_cpus(const int *ids, size_t n);
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
