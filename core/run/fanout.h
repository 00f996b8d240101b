/*
 * A fanned-out stage while it runs (fanout.c): its nodes and their
 * barrier, shared by the controller and the nodes' threads; and the
 * collation of their outputs (collate.c).  Internal to core/run.
 */
#ifndef BENCHCTL_RUN_FANOUT_H
#define BENCHCTL_RUN_FANOUT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "run/run.h"

typedef struct fanout fanout;

/* One node: its record and where its barrier stands. */
typedef struct fan_node {
    fanout *fan;
    stage_rec *rec;
    char prefix[160];    /* "[node k@host] " */
    bool ready, ended;   /* under fan->mu */
    int marks_left;      /* barrier lines still expected on stdout */
    strbuf pend;         /* stdout not yet a whole line (before the barrier) */
    double released_own; /* release time by the node's clock (unix s); 0: none */
    int out;             /* stage_run_one's outcome: 0 success, 1 failed, 2 interrupted */
    pthread_t thread;
    bool threaded;
} fan_node;

struct fanout {
    run *r;
    const cfg_stage *st;
    const cfg_case *cs;
    fan_node *nodes;
    size_t n;                 /* nodes of this run (--nodes) */
    int64_t need;             /* that must succeed */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t nready, nended, nended_unready, nfailed;
    int abort;                /* give up: stop the nodes still running (atomic) */
    char *abort_reason;       /* why (set once, before abort) */
    cJSON *barrier_info;      /* the barrier's figures so far (owned) */
};

/* What a node left on stdout before its barrier lines ended (a partial
 * line) into its log and terminal. */
void fanout_stdout_end(stage_io *io);

/* Merge the nodes' files of every output with a data_schema into one
 * dataset <output><ext> with `node` and `host` columns, validate it and
 * compute its statistics, into the collated record all. */
void collate_outputs(run *r, const cfg_stage *st, const cfg_case *cs, stage_rec *all,
                     stage_rec *const *nodes, size_t n);

#endif
