/* The queue's scheduler (sched.h). */
#include "daemon/sched.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static int cmp_task(const void *pa, const void *pb)
{
    const sched_task *a = pa, *b = pb;
    if (a->group != b->group)
        return a->group > b->group ? -1 : 1;
    if (a->priority != b->priority)
        return a->priority > b->priority ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

void sched_sort(sched_task *pending, size_t n)
{
    if (n > 1)
        qsort(pending, n, sizeof *pending, cmp_task);
}

static int cmp_end(const void *pa, const void *pb)
{
    const sched_running *a = pa, *b = pb;
    return (a->ends_ms > b->ends_ms) - (a->ends_ms < b->ends_ms);
}

/* The head's reservation: walk the holders by end time, releasing what
 * each holds, until the head fits.  false when it never fits (larger than
 * everything there is). */
static bool reserve(const sched_task *head, sched_running *holders, size_t nh, int free_cpus,
                    int64_t free_memory, sched_reservation *r)
{
    qsort(holders, nh, sizeof *holders, cmp_end);
    int cpus = free_cpus;
    int64_t mem = free_memory;
    r->shadow_ms = SCHED_NEVER;
    for (size_t i = 0; i < nh && (cpus < head->cpus || mem < head->memory); i++) {
        cpus += holders[i].cpus;
        mem += holders[i].memory;
        r->shadow_ms = holders[i].ends_ms;
    }
    if (cpus < head->cpus || mem < head->memory)
        return false;
    r->extra_cpus = cpus - head->cpus;
    r->extra_memory = mem - head->memory;
    return true;
}

size_t sched_pick(const sched_task *pending, size_t n, const sched_running *running, size_t nr,
                  int free_cpus, int64_t free_memory, int64_t now_ms, size_t *start,
                  sched_reservation *res)
{
    size_t count = 0;
    sched_reservation r = {.head = n};
    /* What holds resources: the running tasks, then those started here
     * (from index nr); a scratch copy is sorted for a reservation. */
    sched_running *held = NULL, *scratch = NULL;
    size_t nh = 0;
    for (size_t i = 0; i < n; i++) {
        const sched_task *t = &pending[i];
        bool fits = t->cpus <= free_cpus && t->memory <= free_memory;
        int64_t ends = t->walltime_ms > 0 ? now_ms + t->walltime_ms : SCHED_NEVER;
        if (r.head == n) {
            if (!held) {
                held = xmalloc((nr + n) * sizeof *held);
                scratch = xmalloc((nr + n) * sizeof *scratch);
                for (size_t k = 0; k < nr; k++)
                    held[nh++] = running[k];
            }
            if (fits) {
                start[count++] = i;
                free_cpus -= t->cpus;
                free_memory -= t->memory;
                held[nh++] = (sched_running){t->cpus, t->memory, ends};
                continue;
            }
            memcpy(scratch, held, nh * sizeof *held);
            if (reserve(t, scratch, nh, free_cpus, free_memory, &r))
                r.head = i;
            /* else: larger than everything; it cannot hold up the others */
            continue;
        }
        if (!fits)
            continue;
        bool in_time = r.shadow_ms != SCHED_NEVER && ends <= r.shadow_ms;
        bool in_extra = t->cpus <= r.extra_cpus && t->memory <= r.extra_memory;
        if (!in_time && !in_extra)
            continue;
        if (!in_time) { /* it still holds its share at the shadow time */
            r.extra_cpus -= t->cpus;
            r.extra_memory -= t->memory;
        }
        start[count++] = i;
        free_cpus -= t->cpus;
        free_memory -= t->memory;
        if (free_cpus <= 0)
            break;
    }
    free(held);
    free(scratch);
    if (res)
        *res = r;
    return count;
}
