/*
 * `benchctl daemon`: the benchmark queue.  It owns a set of CPUs and a
 * memory budget, accepts tasks on a unix socket (proto.h), keeps them in a
 * journal (journal.h), starts them in the scheduler's order (sched.h) as
 * `benchctl run` processes of the submitting user, confined to the CPUs
 * it allocated them (confine.h), and tells followers every change.
 */
#ifndef BENCHCTL_DAEMON_H
#define BENCHCTL_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct daemon_options {
    const char *socket_path;  /* NULL: proto_socket_path's default */
    const int *cpus;          /* the CPUs tasks run on (ascending) */
    size_t ncpus;
    int64_t memory;           /* the memory budget in bytes */
    const char *state_dir;    /* NULL: /var/lib/benchctl/queue as root, else
                                 $XDG_STATE_HOME/benchctl/queue (~/.local/state/...) */
    bool foreground;          /* stay attached (systemd); else detach once listening */
    bool pin;                 /* pin tasks to their CPUs (false: --no-pin) */
    int64_t grace_ms;         /* SIGTERM -> SIGKILL */
    const char *socket_group; /* group to own the socket, or NULL */
    int64_t keep_finished;    /* finished tasks remembered (listing, wait) */
} daemon_options;

/* Run the daemon until SIGTERM/SIGINT.  Returns the exit code: 0 after a
 * clean stop, 1 when it could not start (reported on stderr: socket in use,
 * state directory locked or unwritable). */
int daemon_main(const daemon_options *o);

/* The default state directory (owned). */
char *daemon_default_state_dir(void);

#endif
