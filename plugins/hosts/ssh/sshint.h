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
    /* The dispatcher (dispatch.c): one /bin/sh started once through the
     * login shell; NULL with exec_mode: login_shell or once it is gone. */
    sshproc *disp;
    char *dbuf;             /* what it printed, not yet claimed by a caller */
    size_t dlen, dsize;
    unsigned next_tok;
    int disp_dead;          /* it ended: internal scripts use channels again */
    sshproc *disp_owner;    /* the stage it runs now (its stdout is that stage's) */
    int disp_pending;       /* requests sent, not answered */
    int disp_nostages;      /* its output can no longer be trusted to a stage */
    char *sbuf[2];          /* the owner's output, not yet taken (stdout, stderr) */
    size_t slen[2], ssize[2];
    int64_t connect_ms, setup_ms; /* what opening cost (log in; dispatcher) */
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
    /* Run by the dispatcher (dispatch.c) rather than on a channel of its
     * own: its output arrives on the dispatcher's stdout / stderr, each
     * ended by "<tok>=..." */
    int via_disp;
    char tok[48];
    char *carry[2];         /* per stream: bytes that may begin the end mark */
    size_t ncarry[2];
    int ended[2];
    sshproc *next;
};

/* Shell helpers shared by the stop, clean-up and dispatcher scripts, used in printf
 * formats (%% is %); D is the run's private directory.
 *   members G  the live members of process group G (zombies do not count:
 *              orphaned ones may wait long for a reaper)
 *   alive G    G has a live member
 *   owned G    a live member of G carries BENCHCTL_HOST_TMPDIR=$D in its
 *              environment: G is this run's (a group id recorded long ago
 *              may have been reused by now)
 *   nap        a short sleep */
#define SH_HELPERS                                                                    \
    "members() { _g=$1; for _s in /proc/[0-9]*/stat; do _l=; "                        \
    "{ read -r _l < \"$_s\"; } 2>/dev/null || continue; _l=${_l##*) }; set -- $_l; "   \
    "[ \"$3\" = \"$_g\" ] && [ \"$1\" != Z ] && [ \"$1\" != X ] && "                    \
    "{ _p=${_s#/proc/}; echo \"${_p%%/stat}\"; }; done; }\n"                             \
    "alive() { kill -0 -$1 2>/dev/null || return 1; [ -r /proc/self/stat ] || return 0; " \
    "[ -n \"$(members $1)\" ]; }\n"                                                     \
    "owned() { [ -r /proc/self/environ ] || return 0; for _m in $(members $1); do "    \
    "grep -qzxF \"BENCHCTL_HOST_TMPDIR=$D\" \"/proc/$_m/environ\" 2>/dev/null && return 0; " \
    "done; return 1; }\n"                                                              \
    "nap() { sleep 0.01 2>/dev/null || sleep 1; }\n"

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

/* command.c: the text of a remote command */
/* How a stage's environment reaches the host: never on a command line,
 * which every user there can read in ps (values may be secrets). */
enum { ENV_STDIN, ENV_FILE, ENV_INLINE, ENV_SOURCED };
/* What a string builder holds (aborts when memory ran out, as ssh_strdup). */
const char *ssh_sb_text(const bc_sb *b);
/* The stage's exports, one `export NAME='value'` line each (values
 * quoted), then an end line, into b; names that are not shell variable
 * names are left out with a warning. */
void ssh_env_script(bc_ctx *ctx, sshconn *c, const bc_exec_request *req, bc_sb *b);
/* Without the dispatcher: env into $BENCHCTL_HOST_TMPDIR/name (0600) over
 * SFTP, from a 0600 file here.  BC_OK or BC_ERR. */
int ssh_put_env_file(bc_ctx *ctx, sshconn *c, const char *name, const char *env);
/* The /bin/sh script of a stage (malloc'd); its environment goes by how:
 * ENV_STDIN (the caller writes env, then end of file, to the channel),
 * ENV_FILE ($BENCHCTL_HOST_TMPDIR/env.<id>, 0600, removed by the script)
 * ENV_INLINE (env is in the script) or ENV_SOURCED (env in the script,
 * which the dispatcher sources in a subshell of its own from its 0600
 * file: no /bin/sh started for it; the subshell becomes the stage's
 * session with `exec setsid`).
 * wrap: as the login shell's command (`exec /bin/sh -c '...'`). */
char *ssh_stage_command(sshconn *c, unsigned id, const bc_exec_request *req, int how,
                        const char *env, int wrap);

/* exec.c */
/* A process handle on c (ctx NULL: an internal command whose stdout is
 * captured); never fails (aborts when out of memory). */
sshproc *ssh_proc_new(sshconn *c, bc_ctx *ctx, const char *label);
/* Lock held: give p an id and list it on c (conn_unlock wakes it). */
void ssh_proc_link(sshconn *c, sshproc *p);
/* Lock held: unlink p, close its channel, free it. */
void ssh_proc_free_locked(sshconn *c, sshproc *p);
/* Lock held: open p's channel and run cmd through the login shell; with
 * keep_stdin, stdin stays open for ssh_channel_write.  BC_OK or BC_ERR. */
int ssh_channel_start(bc_ctx *ctx, sshconn *c, sshproc *p, const char *cmd, int tty, int rows,
                      int cols, int keep_stdin);
/* `exec /bin/sh -c '<script>'` (malloc'd): what the login shell runs. */
char *ssh_wrap_script(const char *script);
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

/* dispatch.c: the per-host dispatcher */
/* At open: start it (private directory, machine facts with /bin/sh, the
 * watchdog that cleans up if the connection drops); sets c->tmpdir and
 * hands the facts to the core through ctx's output.  BC_OK or BC_ERR. */
int ssh_dispatch_start(bc_ctx *ctx, sshconn *c, int64_t timeout_ms);
/* Run an internal sh script through the dispatcher (no new channel, no
 * login); like ssh_run_script.  BC_UNSUPPORTED when there is none. */
int ssh_dispatch_call(bc_ctx *ctx, sshconn *c, const char *script, int64_t timeout_ms,
                      int *status, char **out);
/* Write data to $BENCHCTL_HOST_TMPDIR/name (mode 0600) through the
 * dispatcher; name is [A-Za-z0-9._-]+.  BC_OK, BC_UNSUPPORTED or BC_ERR. */
int ssh_dispatch_write_file(bc_ctx *ctx, sshconn *c, const char *name, const char *data,
                            int64_t timeout_ms);
/* At close, before the clean-up, when the core asks (fact clock_at_close
 * "1"): the host's clock measured again as at open, handed to the core as
 * clock_offset_ms= / clock_uncertainty_ms= / clock_rtt_ms= /
 * clock_samples= / clock_cost_ms= lines of close's output.  Nothing
 * without a working dispatcher. */
void ssh_dispatch_clock_report(bc_ctx *ctx, sshconn *c);
/* At close, after the clean-up: tell it to end (it leaves nothing). */
void ssh_dispatch_quit(sshconn *c);
/* Start p (a stage without a terminal) through the dispatcher: script is
 * the /bin/sh script that runs it (its environment inside; the dispatcher
 * writes it to a 0600 file, removed when the stage ends).  BC_OK, or
 * BC_UNSUPPORTED when the dispatcher cannot take it now (no dispatcher,
 * another stage on it, requests in flight): use a channel. */
int ssh_dispatch_stage_start(sshconn *c, sshproc *p, const char *script);
/* Wait for a stage started so: BC_OK (ended: p->exited, exit_status,
 * term_signal), BC_TIMEOUT, BC_CANCELLED (cancel_ctx given) or -1 when
 * the connection or the dispatcher was lost.  Output goes to p->ctx. */
int ssh_dispatch_stage_wait(sshproc *p, int64_t timeout_ms, bc_ctx *cancel_ctx);
/* Lock held: p no longer owns the dispatcher (released). */
void ssh_dispatch_stage_done_locked(sshconn *c, sshproc *p);

/* sftp.c */
int ssh_op_get_file(bc_ctx *ctx, void *conn, const char *remote, const char *local);
int ssh_op_put_file(bc_ctx *ctx, void *conn, const char *local, const char *remote, int mode);

#endif
