/* The daemon's internals, shared by daemon.c, conn.c and runner.c. */
#ifndef BENCHCTL_DAEMON_IMPL_H
#define BENCHCTL_DAEMON_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "daemon/daemon.h"
#include "daemon/journal.h"
#include "daemon/proto.h"
#include "daemon/task.h"

/* A connection. */
typedef struct client {
    int fd;
    uid_t uid;
    gid_t gid;
    pid_t pid;
    proto_reader in;
    strbuf out;         /* lines not yet sent */
    bool follow;        /* gets every event */
    int64_t wait_id;    /* gets the events of this task, closed when it ends; 0: none */
    bool closing;       /* close once out is sent */
} client;

typedef struct qdaemon {
    const daemon_options *o;
    char *socket_path, *state_dir, *tasks_dir, *logs_dir, *self;
    int listen_fd, sig_fd, lock_fd;
    journal j;
    tasklist tasks;
    int64_t next_id;
    bool *cpu_busy;       /* by index into o->cpus */
    int free_cpus;
    int64_t free_memory;
    client **clients;
    size_t nclients, cap_clients;
    int stopping;         /* shutdown signals received */
    bool dirty;           /* something changed: run the scheduler */
} qdaemon;

/* Wall and monotonic clocks in milliseconds. */
int64_t dmn_wall_ms(void);
int64_t dmn_mono_ms(void);
/* A timestamped line on the daemon's stderr (its log). */
void dmn_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* conn.c: accept a connection; serve what a client sent; queue a message
 * for a client (not freed); the queue as JSON; tell followers (and the
 * task's waiters) about an event of task t ("submitted", "started",
 * "finished", "cancelling"). */
void conn_accept(qdaemon *d);
void conn_input(qdaemon *d, client *c);
void conn_send(client *c, const cJSON *msg);
void conn_flush(client *c);
cJSON *conn_queue_json(qdaemon *d);
void conn_event(qdaemon *d, const char *event, const task *t);
/* Close and forget clients that are done (closing and flushed, or gone). */
void conn_reap(qdaemon *d);

/* runner.c: start whatever the scheduler picks; reap exited tasks; act on
 * deadlines (returns ms until the next one, -1: none); stop a running task
 * (as cancelled, timeout or interrupted); mark tasks found running in the
 * journal as interrupted (at startup). */
void runner_schedule(qdaemon *d);
void runner_reap(qdaemon *d);
int64_t runner_tick(qdaemon *d);
void runner_stop(qdaemon *d, task *t, task_state as, const char *reason);
void runner_recover(qdaemon *d);
/* Record t's end in the journal and tell the clients. */
void runner_end(qdaemon *d, task *t, task_state s, int exit_code, const char *reason);
/* Journal a record, logging a failed write (the daemon goes on). */
void dmn_journal(qdaemon *d, cJSON *rec);

#endif
