/* The queue's scheduler (core/daemon/sched.c): order, backfill, the
 * head's reservation, and no starvation in a simulation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/sched.h"

static int failures;
#define CHECK(cond, ...)                                                                         \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                 \
            fprintf(stderr, __VA_ARGS__);                                                        \
            fputc('\n', stderr);                                                                 \
            failures++;                                                                          \
        }                                                                                        \
    } while (0)

#define T(seq, group, prio, cpus, mem, wall) {group, prio, seq, cpus, mem, wall}

/* The seqs of the tasks sched_pick starts, as "1,2,3". */
static const char *picked(sched_task *p, size_t n, const sched_running *r, size_t nr, int cpus,
                          int64_t mem, int64_t now, sched_reservation *res)
{
    static char out[256];
    size_t idx[64];
    sched_sort(p, n);
    size_t k = sched_pick(p, n, r, nr, cpus, mem, now, idx, res);
    out[0] = '\0';
    for (size_t i = 0; i < k; i++) {
        size_t len = strlen(out);
        snprintf(out + len, sizeof out - len, "%s%lld", i ? "," : "", (long long)p[idx[i]].seq);
    }
    return out;
}

static void test_order(void)
{
    sched_task p[] = {T(1, 0, 0, 1, 0, 0), T(2, 0, 5, 1, 0, 0), T(3, 1, -5, 1, 0, 0),
                      T(4, 0, 5, 1, 0, 0), T(5, 1, -5, 1, 0, 0)};
    sched_sort(p, 5);
    const int64_t want[] = {3, 5, 2, 4, 1}; /* group, then priority, then submission */
    for (int i = 0; i < 5; i++)
        CHECK(p[i].seq == want[i], "order[%d] = %lld, want %lld", i, (long long)p[i].seq,
              (long long)want[i]);
    /* Three CPUs: the first three in that order start. */
    CHECK(strcmp(picked(p, 5, NULL, 0, 3, 0, 0, NULL), "3,5,2") == 0, "started %s",
          picked(p, 5, NULL, 0, 3, 0, 0, NULL));
}

static void test_backfill_by_time(void)
{
    /* Two CPUs, one busy until t=100.  The head needs both: it can start at
     * 100.  A 1-CPU task ending by then backfills; one ending later, or
     * without a walltime, does not. */
    sched_running r[] = {{1, 0, 100}};
    sched_task p[] = {T(1, 0, 0, 2, 0, 0), T(2, 0, 0, 1, 0, 200), T(3, 0, 0, 1, 0, 0),
                      T(4, 0, 0, 1, 0, 50)};
    sched_reservation res;
    const char *s = picked(p, 4, r, 1, 1, 0, 0, &res);
    CHECK(strcmp(s, "4") == 0, "backfill by time started '%s', want 4", s);
    CHECK(res.head == 0 && res.shadow_ms == 100, "reservation head %zu shadow %lld", res.head,
          (long long)res.shadow_ms);
    /* Exactly at the shadow time is in time. */
    sched_task q[] = {T(1, 0, 0, 2, 0, 0), T(2, 0, 0, 1, 0, 100)};
    s = picked(q, 2, r, 1, 1, 0, 0, NULL);
    CHECK(strcmp(s, "2") == 0, "ending at the shadow time: started '%s'", s);
}

static void test_backfill_by_extra(void)
{
    /* Four CPUs, two busy until 100; the head needs 3: at 100 one CPU is
     * left over, so one long 1-CPU task may take it now, not two. */
    sched_running r[] = {{2, 0, 100}};
    sched_task p[] = {T(1, 0, 0, 3, 0, 0), T(2, 0, 0, 1, 0, 0), T(3, 0, 0, 1, 0, 0)};
    sched_reservation res;
    const char *s = picked(p, 3, r, 1, 2, 0, 0, &res);
    CHECK(strcmp(s, "2") == 0, "backfill into the leftover started '%s', want 2", s);
    CHECK(res.extra_cpus == 0, "extra after backfill %d", res.extra_cpus);
}

static void test_unknown_end(void)
{
    /* The busy CPU's task has no walltime: when the head can start is
     * unknown, so nothing backfills by time. */
    sched_running r[] = {{1, 0, SCHED_NEVER}};
    sched_task p[] = {T(1, 0, 0, 2, 0, 0), T(2, 0, 0, 1, 0, 10)};
    sched_reservation res;
    const char *s = picked(p, 2, r, 1, 1, 0, 0, &res);
    CHECK(strcmp(s, "") == 0, "unknown shadow: started '%s'", s);
    CHECK(res.shadow_ms == SCHED_NEVER, "shadow %lld", (long long)res.shadow_ms);
}

static void test_memory(void)
{
    /* Memory is a dimension like CPUs: the head needs 6G of 8G while 4G is
     * held until 100. */
    int64_t G = 1 << 30;
    sched_running r[] = {{1, 4 * G, 100}};
    sched_task p[] = {T(1, 0, 0, 1, 6 * G, 0), T(2, 0, 0, 1, 3 * G, 500), T(3, 0, 0, 1, 2 * G, 0),
                      T(4, 0, 0, 1, 1 * G, 0)};
    const char *s = picked(p, 4, r, 1, 3, 4 * G, 0, NULL);
    /* 2 ends too late and its 3G would not leave the head 6G; 3 takes the
     * 2G the head leaves over; 4 has nothing left. */
    CHECK(strcmp(s, "3") == 0, "memory backfill started '%s', want 3", s);
}

static void test_too_large(void)
{
    /* Larger than the machine (after a restart with fewer CPUs): it gets
     * no reservation and does not hold the queue up. */
    sched_task p[] = {T(1, 0, 0, 8, 0, 0), T(2, 0, 0, 1, 0, 0)};
    sched_reservation res;
    const char *s = picked(p, 2, NULL, 0, 2, 0, 0, &res);
    CHECK(strcmp(s, "2") == 0, "too large: started '%s'", s);
    CHECK(res.head == 2, "too large got a reservation");
}

/* A stream of small tasks never starves a large one: simulate a 4-CPU
 * machine where a 1-CPU task with walltime 10 or 3 arrives every time unit and
 * a 4-CPU task arrives at t=5.  Tasks submitted after it start before it
 * only when they end by its start (backfill), and it starts once those
 * submitted before it have had their turn (by t = 5 + 2 x 10). */
static void test_no_starvation(void)
{
    enum { MAXT = 400 };
    sched_task pend[MAXT];
    sched_running run[MAXT];
    int64_t started_seq[MAXT], started_end[MAXT];
    size_t np = 0, nr = 0, ns = 0;
    int free_cpus = 4;
    int64_t big_start = -1, big_seq = -1, seq = 1;
    for (int64_t now = 0; now < 100 && big_start < 0; now++) {
        for (size_t k = 0; k < nr;) { /* tasks end at their walltime */
            if (run[k].ends_ms <= now) {
                free_cpus += run[k].cpus;
                run[k] = run[--nr];
            } else {
                k++;
            }
        }
        pend[np++] = (sched_task)T(seq++, 0, 0, 1, 0, now % 2 ? 3 : 10);
        if (now == 5) {
            big_seq = seq;
            pend[np++] = (sched_task)T(seq++, 0, 0, 4, 0, 10);
        }
        sched_sort(pend, np);
        size_t idx[MAXT];
        size_t k = sched_pick(pend, np, run, nr, free_cpus, 0, now, idx, NULL);
        for (size_t i = 0; i < k; i++) {
            sched_task *t = &pend[idx[i]];
            if (t->cpus == 4)
                big_start = now;
            run[nr++] = (sched_running){t->cpus, 0, now + t->walltime_ms};
            started_seq[ns] = t->seq;
            started_end[ns++] = now + t->walltime_ms;
            free_cpus -= t->cpus;
            t->seq = -1; /* started: removed below */
        }
        size_t w = 0;
        for (size_t i = 0; i < np; i++)
            if (pend[i].seq >= 0)
                pend[w++] = pend[i];
        np = w;
        CHECK(free_cpus >= 0, "over-allocated at %lld", (long long)now);
    }
    CHECK(big_start >= 5 && big_start <= 25, "the 4-CPU task started at %lld (want 5..25)",
          (long long)big_start);
    size_t overtook = 0;
    for (size_t i = 0; i < ns; i++)
        if (started_seq[i] > big_seq) {
            overtook++;
            CHECK(started_end[i] <= big_start, "task %lld (after the large one) ends at %lld, "
                  "after the large one's start %lld", (long long)started_seq[i],
                  (long long)started_end[i], (long long)big_start);
        }
    CHECK(overtook > 0, "no task backfilled while the large one waited");
}

int main(void)
{
    test_order();
    test_backfill_by_time();
    test_backfill_by_extra();
    test_unknown_end();
    test_memory();
    test_too_large();
    test_no_starvation();
    if (failures) {
        fprintf(stderr, "%d failure%s\n", failures, failures == 1 ? "" : "s");
        return 1;
    }
    printf("ok - scheduler: order, backfill by time and by leftover, memory, no starvation\n");
    return 0;
}
