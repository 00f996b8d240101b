/*
 * The queue's scheduler: pure functions over plain arrays, no I/O, no
 * clock (the caller passes "now"), so it is unit-tested on its own
 * (tests/unit/test_sched.c) and benchmarked (tests/bench/queue_bench.py).
 *
 * Order: priority group first (higher first), then priority (higher
 * first), then submission order.  Tasks start in that order while they
 * fit.  The first one that does not fit (the head) gets a reservation: the
 * earliest time enough CPUs and memory are free, from the running tasks'
 * walltimes (the shadow time).  A later task starts ahead of it (backfill)
 * only if it fits now and either ends, by its walltime, no later than the
 * shadow time, or uses only what the head leaves over at the shadow time.
 * So the head never waits longer because of a task behind it.  A task
 * larger than all CPUs and memory there are (running and free) gets no
 * reservation and never starts; the daemon refuses such tasks.
 */
#ifndef BENCHCTL_DAEMON_SCHED_H
#define BENCHCTL_DAEMON_SCHED_H

#include <stddef.h>
#include <stdint.h>

/* "Never", for an end or shadow time: a task without a walltime. */
#define SCHED_NEVER INT64_MAX

/* A queued task as the scheduler sees it. */
typedef struct sched_task {
    int64_t group, priority; /* higher first */
    int64_t seq;             /* submission order (task ID): lower first */
    int cpus;                /* >= 1 */
    int64_t memory;          /* bytes; 0: none reserved */
    int64_t walltime_ms;     /* 0: unknown (cannot backfill by time) */
} sched_task;

/* A running task: what it holds and when it ends at the latest. */
typedef struct sched_running {
    int cpus;
    int64_t memory;
    int64_t ends_ms; /* start + walltime; SCHED_NEVER without a walltime */
} sched_running;

/* The head's reservation, when there is one. */
typedef struct sched_reservation {
    size_t head;        /* index (in the sorted pending array) */
    int64_t shadow_ms;  /* when the head can start; SCHED_NEVER: unknown */
    int extra_cpus;     /* what is left over for backfill at shadow_ms */
    int64_t extra_memory;
} sched_reservation;

/* Sort pending tasks into scheduling order (group, priority descending,
 * then seq ascending). */
void sched_sort(sched_task *pending, size_t n);

/* Which of the n pending tasks (sorted by sched_sort) start now, given the
 * nr running tasks, the free CPUs and memory and the time now_ms (any
 * clock, the same as ends_ms).  Writes the indexes of the tasks to start,
 * ascending, to start[] (room for n) and returns their count.  When a task
 * has to wait for resources, *res (if not NULL) gets its reservation and
 * the function returns with res->head < n; otherwise res->head = n. */
size_t sched_pick(const sched_task *pending, size_t n, const sched_running *running, size_t nr,
                  int free_cpus, int64_t free_memory, int64_t now_ms, size_t *start,
                  sched_reservation *res);

#endif
