/*
 * A host's CPU topology (what isolate.sh's probe prints from
 * /sys/devices/system/cpu) and the allocation of CPUs to stages: whole
 * cores first, so that an even count never shares an SMT sibling with
 * another stage, on as few packages as possible, cores close together;
 * CPUs already in use by a running stage only when nothing else is left.
 */
#ifndef BENCHCTL_RUN_CPUTOPO_H
#define BENCHCTL_RUN_CPUTOPO_H

#include <stdbool.h>
#include <stddef.h>

#include "util/cpulist.h"

typedef struct topo_cpu {
    unsigned cpu;
    int core, pkg;  /* core_id, physical_package_id (-1: unknown) */
} topo_cpu;

typedef struct cpu_topo {
    topo_cpu *cpus; /* online CPUs, by number */
    size_t n;
    cpuset_t online;
} cpu_topo;

/* Add one probe line's value "CPU CORE_ID PACKAGE_ID SIBLINGS" (CPUs not
 * in online are skipped; online empty: every CPU counts as online).
 * false when the line is malformed. */
bool cputopo_add(cpu_topo *t, const cpuset_t *online, const char *value);
void cputopo_free(cpu_topo *t);

/* Choose n CPUs of t into *out.  use[cpu] counts the running stages on
 * each CPU (NULL: none).  *shared is set when some chosen CPU is in use
 * (there were not n free ones).  false when t has fewer than n CPUs. */
bool cputopo_alloc(const cpu_topo *t, const unsigned *use, size_t n, cpuset_t *out,
                   bool *shared);

#endif
