/*
 * Host transport "ssh": internal declarations shared by its source files.
 *
 * One sshconn per host per run (opened by the core on first use) owns one
 * libssh session.  Everything that touches the session - channels, SFTP,
 * packet processing - happens with conn->mu held; nobody sleeps or polls
 * with it held.  Background stages wait from their own thread while the
 * main thread runs stages, probes and transfers on the same connection.
 */
#ifndef BENCHCTL_SSH_INT_H
#define BENCHCTL_SSH_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include <benchctl/helpers.h>
#include <benchctl/plugin.h>

typedef struct sshproc sshproc;

typedef struct sshconn {
    pthread_mutex_t mu;
    ssh_session s;
    sftp_session sftp;      /* opened on the first transfer */
    int fd;                 /* the session's socket */
    char *alias;            /* the host's alias in the config */
    char *where;            /* user@address:port, for messages */
    char *tmpdir;           /* private per-run directory on the host */
    int lost;               /* the connection broke: every call fails fast */
    char lost_why[256];
    unsigned next_id;
    sshproc *procs;         /* started, not yet freed (includes lingering) */
} sshconn;

struct sshproc {
    sshconn *c;
    bc_ctx *ctx;            /* NULL: internal command, output captured */
    ssh_channel ch;
    struct ssh_channel_callbacks_struct cb;
    unsigned id;            /* pgid file: $BENCHCTL_HOST_TMPDIR/pgid.<id> */
    char *label;            /* the stage, for messages */
    char *cap;              /* internal commands: captured output */
    size_t cap_len, cap_size;
    int exited;             /* exit-status or exit-signal received */
    int exit_status, term_signal;
    int eof, closed;        /* remote EOF / remote close seen */
    int64_t exit_ms, last_data_ms;
    int finished;           /* wait returned BC_OK */
    int stopped;            /* stop ran */
    int lingering;          /* released while its output is still open */
    int waiting;            /* inside wait: kick wake_fd on news */
    int wake_fd;            /* eventfd */
    char *obuf, *ebuf;      /* read buffers (stdout, stderr) */
    sshproc *next;
};

/* util */
char *ssh_strdup(const char *s);
char *ssh_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* s quoted for POSIX shells by bc_shell_quote_dup (malloc'd); aborts when
 * out of memory, like ssh_strdup. */
char *ssh_shquote(const char *s);
int ssh_signal_number(const char *name);

/* conn */
void conn_lock(sshconn *c);
/* Unlocks; wakes other waiters whose channels got news meanwhile. */
void conn_unlock(sshconn *c, sshproc *self);
/* Marks the connection lost (with the lock held). */
void conn_mark_lost(sshconn *c);
/* "connection to host 'a' (user@addr:port) lost: why", into ctx. */
void conn_lost_error(bc_ctx *ctx, sshconn *c);

/* exec.c */
int ssh_op_start(bc_ctx *ctx, void *conn, const bc_exec_request *req, void **proc);
int ssh_op_wait(bc_ctx *ctx, void *proc, int64_t timeout_ms, bc_exec_result *res);
int ssh_op_stop(bc_ctx *ctx, void *proc, int64_t grace_ms);
void ssh_op_release(bc_ctx *ctx, void *proc);
/* Run an internal sh script on the host, capture its output; BC_OK with
 * *status, BC_TIMEOUT or BC_ERR (message in ctx). */
int ssh_run_script(bc_ctx *ctx, sshconn *c, const char *script, int64_t timeout_ms, int *status,
                   char **out);
/* At close: stop every group still running, sweep the run's leftovers,
 * remove the private directory, free every proc. */
void ssh_exec_shutdown(bc_ctx *ctx, sshconn *c);

/* sftp.c */
int ssh_op_get_file(bc_ctx *ctx, void *conn, const char *remote, const char *local);
int ssh_op_put_file(bc_ctx *ctx, void *conn, const char *local, const char *remote, int mode);

#endif
