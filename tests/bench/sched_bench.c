/* The queue scheduler under load (tests/bench/queue_bench.py): 10,000
 * queued tasks of mixed sizes on a 64-CPU machine, simulated to the end;
 * each scheduling decision is sched_sort + sched_pick over the whole
 * pending queue, as the daemon makes it.  The reference: a plain qsort of
 * the same pending array (what any priority order costs).  Prints one
 * JSON object. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/sched.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_seq(const void *a, const void *b)
{
    const sched_task *x = a, *y = b;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 10000;
    int cpus = 64;
    srand(42);
    sched_task *pend = malloc(n * sizeof *pend), *copy = malloc(n * sizeof *copy);
    sched_running *run = malloc(n * sizeof *run);
    size_t *idx = malloc(n * sizeof *idx);
    static const int sizes[] = {1, 1, 1, 2, 2, 4, 8, 16, 32};
    for (size_t i = 0; i < n; i++)
        pend[i] = (sched_task){.group = rand() % 3 == 0, .priority = rand() % 10, .seq = (int64_t)i + 1,
                               .cpus = sizes[rand() % 9], .memory = 0,
                               .walltime_ms = rand() % 8 == 0 ? 0 : 1000 + rand() % 60000};
    size_t np = n, nr = 0, decisions = 0, started = 0, max_running = 0;
    int free_cpus = cpus;
    int64_t t = 0;
    double pick_s = 0, sort_s = 0;
    while (np > 0) {
        /* the reference: sorting the same queue */
        memcpy(copy, pend, np * sizeof *pend);
        double a = now_s();
        qsort(copy, np, sizeof *copy, cmp_seq);
        sort_s += now_s() - a;
        a = now_s();
        sched_sort(pend, np);
        size_t k = sched_pick(pend, np, run, nr, free_cpus, 0, t, idx, NULL);
        pick_s += now_s() - a;
        decisions++;
        for (size_t i = 0; i < k; i++) {
            sched_task *x = &pend[idx[i]];
            /* a task ends at its walltime, or after 30 s without one */
            run[nr++] = (sched_running){x->cpus, 0, t + (x->walltime_ms ? x->walltime_ms : 30000)};
            free_cpus -= x->cpus;
            x->seq = -1;
            started++;
        }
        size_t w = 0;
        for (size_t i = 0; i < np; i++)
            if (pend[i].seq >= 0)
                pend[w++] = pend[i];
        np = w;
        if (nr > max_running)
            max_running = nr;
        /* advance to the next end */
        int64_t next = INT64_MAX;
        for (size_t i = 0; i < nr; i++)
            if (run[i].ends_ms < next)
                next = run[i].ends_ms;
        if (next == INT64_MAX)
            break;
        t = next;
        for (size_t i = 0; i < nr;)
            if (run[i].ends_ms <= t) {
                free_cpus += run[i].cpus;
                run[i] = run[--nr];
            } else {
                i++;
            }
    }
    printf("{\"tasks\": %zu, \"started\": %zu, \"decisions\": %zu, \"pick_s\": %.6f, "
           "\"sort_s\": %.6f, \"max_running\": %zu}\n", n, started, decisions, pick_s, sort_s,
           max_running);
    return started == n ? 0 : 1;
}
