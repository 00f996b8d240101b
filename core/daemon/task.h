/*
 * A queued task: what was submitted (by whom, what to run, which
 * resources) and what became of it.  Tasks travel as JSON objects in the
 * protocol (docs/schema/queue-protocol.schema.json) and in the journal.
 */
#ifndef BENCHCTL_DAEMON_TASK_H
#define BENCHCTL_DAEMON_TASK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "util/util.h"

typedef enum task_state {
    TASK_PENDING,
    TASK_RUNNING,
    TASK_SUCCEEDED,   /* the run exited 0 */
    TASK_FAILED,      /* the run exited non-zero (its code is exit_code) */
    TASK_CANCELLED,   /* removed while pending, or stopped by benchctl cancel */
    TASK_TIMEOUT,     /* stopped at its walltime */
    TASK_INTERRUPTED, /* running when the daemon stopped or died */
} task_state;

typedef enum task_kind { TASK_CONFIG, TASK_COMMAND } task_kind;

typedef struct task {
    int64_t id;
    char *name;          /* may be NULL */
    uid_t uid;           /* the submitter (SO_PEERCRED), its tasks run as it */
    gid_t gid;
    char *user;          /* the submitter's login name (for the listing) */
    int64_t group, priority;
    int cpus;            /* CPUs reserved (a count) */
    int64_t memory;      /* bytes reserved; 0: none */
    int64_t walltime_ms; /* 0: none */
    task_kind kind;
    char *config;        /* absolute: the config of a config task */
    strvec args;         /* run options (config) or the command's words */
    char *output_dir;    /* absolute: where a command task's run is stored */
    char *cwd;           /* absolute: the submitter's working directory */
    strvec env;          /* KEY=VALUE for the run */
    int64_t submitted_ms, started_ms, ended_ms; /* wall clock, ms since the epoch; 0: not yet */
    task_state state;
    int exit_code;       /* -1: none (not run, or killed by a signal) */
    char *run_id, *run_dir;
    char *cpu_list;      /* the CPUs it ran on ("0,2-3"), once started */
    char *reason;        /* why it ended as it did, or NULL */
    char *termination;   /* the limit that stopped one of its run's stages ("memory",
                            "walltime", "cputime", "pids": its metadata.json), or NULL */
    /* Only while the daemon runs it (not journaled except pid). */
    pid_t pid;
    int *cpu_ids;        /* cpus entries */
    int64_t start_mono_ms;
    int64_t term_at_ms, kill_at_ms; /* monotonic deadlines; 0: none */
    task_state stop_as;  /* what a stop requested ends as (cancelled/timeout/interrupted) */
    bool stopping;
} task;

/* The state's name ("pending", "running", ...). */
const char *task_state_name(task_state s);
/* The state named name; false when there is none. */
bool task_state_from_name(const char *name, task_state *out);
/* Is the task finished (neither pending nor running)? */
bool task_finished(const task *t);

/* A new zeroed task (exit_code -1).  Free with task_free. */
task *task_new(void);
/* Free t and everything it owns (NULL: nothing). */
void task_free(task *t);

/* The task as a JSON object.  full: everything, for the journal (env,
 * args, cwd); otherwise what any user may see in a listing (no
 * environment).  now_ms: the wall clock, for the waiting time. */
cJSON *task_to_json(const task *t, bool full, int64_t now_ms);
/* A task from task_to_json(full) output.  NULL with *err (owned) when a
 * required member is missing or of the wrong type. */
task *task_from_json(const cJSON *j, char **err);

/* The daemon's tasks, in submission order (ascending IDs). */
typedef struct tasklist {
    task **v;
    size_t n, cap;
} tasklist;
/* Append t (owned by the list from now on). */
void tasklist_push(tasklist *l, task *t);
/* The task with this ID, or NULL. */
task *tasklist_find(const tasklist *l, int64_t id);
/* Remove (and free) the finished tasks beyond the newest keep of them. */
void tasklist_trim(tasklist *l, size_t keep);
/* Free every task and the list's array. */
void tasklist_free(tasklist *l);

/* The shell command line of a command task (its words quoted). Owned. */
char *task_command_line(const task *t);

#endif
