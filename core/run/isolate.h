/*
 * Stage isolation: `limits:` enforced on any host, through any transport,
 * without touching the host plugin ABI.  A limited command is wrapped in
 * one POSIX sh script (isolate.sh, compiled in) that runs the same way
 * locally and over SSH: it makes a cgroup for the command (v2 delegated
 * subtree, else v1 cpuset/memory/pids/freezer/cpuacct, plus the hybrid v2
 * tree for cgroup.kill), falls back to affinity and rlimits, runs the
 * stage's own shell and command in it, kills what is left of the tree,
 * removes the cgroup and leaves its findings in the transport's private
 * directory.  Wall time is benchctl's timer.
 *
 * The API, for the run (stage.c, background.c) and the queue daemon:
 *
 *     iso_run ir;
 *     isolate_wrap(r, h, &limits, name, &ex, &ir, &err);  // before start
 *     isolate_before_run(h, &ir, &ex);                     // optional, each run
 *     ... exec_run(h, ctx, &ex.req, isolate_limit_ms(&ir, timeout), ...)
 *     isolate_finish(r, h, &ir, rc, &res, rec);            // after; frees ir
 *
 * Each host is probed once (what cgroups it offers, its CPU topology);
 * CPUs are allocated from that topology so that stages running at once on
 * one host get disjoint CPUs when it has them (cputopo.h); the run says once
 * per host why a limit is not enforced there.
 */
#ifndef BENCHCTL_RUN_ISOLATE_H
#define BENCHCTL_RUN_ISOLATE_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "util/cpulist.h"

struct run;
struct hostconn;
struct stage_exec;
struct stage_rec;
struct bc_exec_result;

/* One wrapped command run (zeroed: not wrapped). */
typedef struct iso_run {
    bool active;           /* the command is wrapped */
    char name[64];         /* benchctl-<mark>-<n>: its cgroups and result file */
    const cfg_limits *lim; /* borrowed */
    const char *stage;     /* for messages (borrowed) */
    cpuset_t cpus;         /* allocated CPUs (have_cpus) */
    bool have_cpus;
    bool cpus_shared;      /* some were in use by another stage */
    int runs;              /* wrapped runs started (a repeated stage counts each; the
                            * caller counts, 0 is taken as 1) */
    int warmup;            /* how many of them were warm-up runs (for the record) */
    unsigned made_seq;     /* cgroups made by benchctl (isolate_before_run) so far */
    char *made;            /* the last run's, space-separated (owned) */
} iso_run;

/* Wrap ex (its request's shell, command and environment) in the limits
 * lim of stage `stage` on host h; allocates CPUs for a count.  A NULL or
 * empty lim leaves ex alone (ir->active false).  false with *err (owned)
 * when the limits cannot be met at all (more CPUs than the host has, a CPU
 * list the host does not have online). */
bool isolate_wrap(struct run *r, struct hostconn *h, const cfg_limits *lim, const char *stage,
                  struct stage_exec *ex, iso_run *ir, char **err);

/* Before each run of a wrapped command (optional: without it the wrapper
 * makes them): on a host that is this machine (BC_HOST_CAP_CONTROLLER),
 * make the run's cgroups here with mkdir(2), one process start less for
 * the wrapper, and name them in ex's environment.  No-op elsewhere. */
void isolate_before_run(struct hostconn *h, iso_run *ir, struct stage_exec *ex);

/* The wall-time limit of a wrapped command: the shorter of the stage's
 * timeout (ms, <= 0: none) and limits.walltime; -1 for none. */
int64_t isolate_limit_ms(const iso_run *ir, int64_t timeout_ms);

/* After the command (rc: exec_run's code, res its result, of the last run
 * when there were ir->runs): read what the wrapper found in every run
 * (removing what a killed wrapper left), fill rec->isolation (for several
 * runs: peak of the peaks, CPU time summed, each run's termination) and
 * rec->termination (the last run's), give the CPUs back.  Safe on an
 * inactive ir. */
void isolate_finish(struct run *r, struct hostconn *h, iso_run *ir, int rc,
                    const struct bc_exec_result *res, struct stage_rec *rec);

/* How a command ended, in BenchExec's words (success, failed, signal,
 * killed, walltime), from exec_run's code and the result; NULL when it
 * never started. */
const char *isolate_termination(int rc, const struct bc_exec_result *res);

/* A termination caused by a limit (memory, walltime, cputime, pids)? */
bool isolate_limit_hit(const char *termination);

/* Free h's isolation state (hostconn_close). */
void isolate_host_free(struct hostconn *h);

/* Kill and remove the cgroups that run mark `mark` left on h (benchctl gc);
 * returns how many, or -1 when the host could not be asked. */
int isolate_reap(struct hostconn *h, const char *mark);

#endif
