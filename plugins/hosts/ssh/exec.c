/*
 * Host transport "ssh": running commands.
 *
 * A command without a terminal normally runs through the host's dispatcher
 * (dispatch.c): no channel, no login.  Otherwise (a terminal, a background
 * stage, exec_mode: login_shell, the dispatcher busy) it gets its own
 * session channel on the host's one connection, where the login shell runs
 * one /bin/sh script that reads the stage environment from stdin (or, with
 * a terminal, from a 0600 file in the private directory) - never from its
 * command line, which every user of the host can read - records its
 * process group id in $BENCHCTL_HOST_TMPDIR/pgid.<n> and execs the stage's
 * shell:
 *
 *   exec /bin/sh -c '
 *     BENCHCTL_HOST_TMPDIR=/tmp/benchctl.XXXX; export BENCHCTL_HOST_TMPDIR
 *     e=$(cat); <check its end mark>; eval "$e"      (export NAME='value' ...)
 *     [ "${SHLVL:-0}" -ge 1 ] || { SHLVL=1; export SHLVL; }   (rc read once)
 *     [cd DIR || exit 1]
 *     <if not already a process group leader: exec setsid ...>
 *     echo $$ > "$BENCHCTL_HOST_TMPDIR/pgid.<n>"; exec bash -c '<command>''
 *
 * sshd already makes each session's process a session (and group) leader,
 * so normally the exec chain keeps one pid from the login shell to the
 * stage's shell: that pid is the group to signal, and sshd's exit-status /
 * exit-signal for the channel are the stage's own.  Stopping runs a small
 * script (through the dispatcher, or on a new channel): kill -TERM -PGID,
 * wait up to the grace period, kill -KILL - one round trip, not one per
 * poll.
 *
 * All libssh calls happen with the connection's mutex held; waiting
 * (poll on the socket, the cancel fd and a per-process eventfd) never does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "sshint.h"

#define CHUNK 65536
#define CAPTURE_MAX (1u << 20)
/* After the command's exit status, output still open (a background child
 * holds it) ends the wait once it is idle this long, or at the latest
 * LINGER_MAX_MS after the exit. */
#define LINGER_IDLE_MS 100
#define LINGER_MAX_MS 2000


/* ---- process handles ---------------------------------------------------- */

static void cb_exit_status(ssh_session s, ssh_channel ch, int status, void *ud)
{
    (void)s;
    (void)ch;
    sshproc *p = ud;
    if (p->exited)
        return;
    p->exited = 1;
    p->exit_status = status;
    p->term_signal = 0;
    p->exit_ms = bc_mono_ms();
}

static void cb_exit_signal(ssh_session s, ssh_channel ch, const char *sig, int core,
                           const char *errmsg, const char *lang, void *ud)
{
    (void)s;
    (void)ch;
    (void)core;
    (void)errmsg;
    (void)lang;
    sshproc *p = ud;
    if (p->exited)
        return;
    p->exited = 1;
    p->term_signal = ssh_signal_number(sig);
    p->exit_status = p->term_signal ? -1 : 255;
    p->exit_ms = bc_mono_ms();
}

sshproc *ssh_proc_new(sshconn *c, bc_ctx *ctx, const char *label)
{
    sshproc *p = calloc(1, sizeof *p);
    if (!p)
        abort();
    p->c = c;
    p->ctx = ctx;
    p->label = ssh_strdup(label);
    p->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    p->last_data_ms = bc_mono_ms();
    ssh_callbacks_init(&p->cb);
    p->cb.userdata = p;
    p->cb.channel_exit_status_function = cb_exit_status;
    p->cb.channel_exit_signal_function = cb_exit_signal;
    return p;
}

void ssh_proc_link(sshconn *c, sshproc *p)
{
    p->id = ++c->next_id;
    p->next = c->procs;
    c->procs = p;
}

void ssh_proc_free_locked(sshconn *c, sshproc *p)
{
    for (sshproc **pp = &c->procs; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    if (p->ch) {
        ssh_remove_channel_callbacks(p->ch, &p->cb);
        if (!c->lost && ssh_is_connected(c->s) && ssh_channel_is_open(p->ch))
            ssh_channel_close(p->ch);
        ssh_channel_free(p->ch);
        p->ch = NULL;
    }
    if (p->wake_fd >= 0)
        close(p->wake_fd);
    free(p->label);
    free(p->cap);
    free(p->obuf);
    free(p->ebuf);
    free(p->carry[0]);
    free(p->carry[1]);
    free(p);
}

/* ---- channels ----------------------------------------------------------- */

int ssh_channel_start(bc_ctx *ctx, sshconn *c, sshproc *p, const char *cmd, int tty, int rows,
                      int cols, int keep_stdin)
{
    ssh_channel ch = ssh_channel_new(c->s);
    if (!ch) {
        bc_error(ctx, "cannot create a channel to %s: %s", c->where, ssh_get_error(c->s));
        return BC_ERR;
    }
    const char *what = "open a session channel";
    if (ssh_channel_open_session(ch) != SSH_OK)
        goto fail;
    ssh_set_channel_callbacks(ch, &p->cb);
    p->ch = ch;
    what = "allocate a terminal";
    if (tty && ssh_channel_request_pty_size(ch, "xterm-256color", cols > 0 ? cols : 80,
                                            rows > 0 ? rows : 24) != SSH_OK)
        goto fail;
    what = "run the command";
    if (ssh_channel_request_exec(ch, cmd) != SSH_OK)
        goto fail;
    /* No input: commands reading stdin see end of file (with a terminal,
     * sshd would hang up the terminal instead, so leave it open). */
    if (!tty && !keep_stdin)
        ssh_channel_send_eof(ch);
    return BC_OK;
fail:
    if (!ssh_is_connected(c->s)) {
        conn_mark_lost(c);
        conn_lost_error(ctx, c);
    } else {
        const char *e = ssh_get_error(c->s);
        bc_error(ctx, "cannot %s on %s: %s%s", what, c->where, e,
                 strstr(e, "prohibited") || strstr(e, "open failed")
                     ? " (too many channels open at once? sshd's MaxSessions, default 10, "
                       "limits commands running at the same time on one connection)"
                     : "");
    }
    if (p->ch) {
        ssh_remove_channel_callbacks(ch, &p->cb);
        p->ch = NULL;
    }
    if (ssh_is_connected(c->s) && ssh_channel_is_open(ch))
        ssh_channel_close(ch);
    ssh_channel_free(ch);
    return BC_ERR;
}

/* Lock held: discard what lingering commands print (so they never block
 * on a full window) and free those whose channel the host has closed
 * (what is left of them, if anything, the cleanup at close still finds
 * by the run's marker in their environment). */
static void drain_lingering_locked(sshconn *c, sshproc *self)
{
    char sink[4096];
    for (sshproc *p = c->procs, *next; p; p = next) {
        next = p->next;
        if (!p->lingering || !p->ch || p == self)
            continue;
        while (ssh_channel_read_nonblocking(p->ch, sink, sizeof sink, 0) > 0)
            ;
        while (ssh_channel_read_nonblocking(p->ch, sink, sizeof sink, 1) > 0)
            ;
        if (ssh_is_connected(c->s) && ssh_channel_is_closed(p->ch))
            ssh_proc_free_locked(c, p);
    }
}

/* Lock held: read what has arrived for p.  -1 when the connection broke. */
static int pump_locked(sshproc *p, char *ob, int *on, char *eb, int *en)
{
    sshconn *c = p->c;
    *on = *en = 0;
    if (!p->ch)
        return 0;
    int r = ssh_channel_read_nonblocking(p->ch, ob, CHUNK, 0);
    int r2 = r == SSH_ERROR ? SSH_ERROR : ssh_channel_read_nonblocking(p->ch, eb, CHUNK, 1);
    if (r > 0)
        *on = r;
    if (r2 > 0)
        *en = r2;
    if (r == SSH_ERROR || r2 == SSH_ERROR) {
        if (!ssh_is_connected(c->s))
            return -1;
        p->closed = 1; /* this channel failed, not the connection */
        return 0;
    }
    if (!p->exited) {
        /* After end of file the reads above no longer process packets;
         * the exit status may still be on its way.  Non-blocking, this
         * processes what has arrived and returns. */
        ssh_set_blocking(c->s, 0);
        ssh_channel_get_exit_status(p->ch);
        ssh_set_blocking(c->s, 1);
    }
    if (!ssh_is_connected(c->s))
        return -1;
    p->eof = ssh_channel_is_eof(p->ch);
    p->closed = ssh_channel_is_closed(p->ch);
    drain_lingering_locked(c, p);
    return 0;
}

static void deliver(sshproc *p, int stream, const char *data, int n)
{
    if (n <= 0)
        return;
    p->last_data_ms = bc_mono_ms();
    if (p->ctx) {
        p->ctx->svc->output(p->ctx, stream, data, (size_t)n);
        return;
    }
    /* Internal command: keep stdout (what the script reports); stderr,
     * like anything the login shell's startup files print there, is
     * dropped. */
    if (stream != BC_STREAM_STDOUT)
        return;
    size_t room = p->cap_len < CAPTURE_MAX ? CAPTURE_MAX - p->cap_len : 0;
    size_t take = (size_t)n < room ? (size_t)n : room;
    if (!take)
        return;
    if (p->cap_len + take + 1 > p->cap_size) {
        p->cap_size = p->cap_len + take + 1 + 4096;
        p->cap = realloc(p->cap, p->cap_size);
        if (!p->cap)
            abort();
    }
    memcpy(p->cap + p->cap_len, data, take);
    p->cap_len += take;
    p->cap[p->cap_len] = '\0';
}

#define W_LOST (-1)

/* Wait for p: stream its output until it ends (BC_OK), timeout_ms passes
 * (BC_TIMEOUT), the run is cancelled (BC_CANCELLED, only when
 * cancellable) or the connection is lost (W_LOST). */
static int proc_wait(sshproc *p, int64_t timeout_ms, bc_ctx *cancel_ctx)
{
    sshconn *c = p->c;
    int64_t start = bc_mono_ms();
    int64_t deadline = timeout_ms >= 0 ? start + timeout_ms : -1;
    int cfd = cancel_ctx ? cancel_ctx->svc->cancel_fd(cancel_ctx) : -1;
    if (!p->obuf) {
        p->obuf = malloc(CHUNK);
        p->ebuf = malloc(CHUNK);
        if (!p->obuf || !p->ebuf)
            abort();
    }
    char *ob = p->obuf, *eb = p->ebuf;
    int rc;
    for (;;) {
        int on = 0, en = 0, broke = 0;
        conn_lock(c);
        if (c->lost)
            broke = 1;
        else if (pump_locked(p, ob, &on, eb, &en) != 0) {
            conn_mark_lost(c);
            broke = 1;
        }
        p->waiting = 1;
        /* The exit callbacks run in whichever thread processes packets:
         * read what they set while holding the lock. */
        int exited = p->exited, eof = p->eof, closed = p->closed;
        int64_t exit_ms = p->exit_ms;
        conn_unlock(c, p);
        deliver(p, BC_STREAM_STDOUT, ob, on);
        deliver(p, BC_STREAM_STDERR, eb, en);
        int64_t now = bc_mono_ms();
        if (broke) {
            /* It had ended before the connection went: not an error. */
            rc = exited && (eof || closed) ? BC_OK : W_LOST;
            break;
        }
        int got = on > 0 || en > 0;
        if (!got && (closed || (exited && eof))) {
            rc = BC_OK;
            break;
        }
        int lingering = exited && !eof;
        if (lingering && !got &&
            (now - exit_ms >= LINGER_MAX_MS ||
             (now - p->last_data_ms >= LINGER_IDLE_MS && now - exit_ms >= LINGER_IDLE_MS))) {
            rc = BC_OK; /* something it started holds the output open */
            break;
        }
        if (cancel_ctx && cancel_ctx->svc->cancelled(cancel_ctx)) {
            rc = BC_CANCELLED;
            break;
        }
        if (deadline >= 0 && now >= deadline) {
            rc = BC_TIMEOUT;
            break;
        }
        if (got)
            continue;
        int wait_ms = deadline >= 0 ? (int)(deadline - now) : -1;
        if (lingering && (wait_ms < 0 || wait_ms > 20))
            wait_ms = 20;
        struct pollfd fds[3];
        int n = 0;
        fds[n++] = (struct pollfd){.fd = c->fd, .events = POLLIN};
        if (p->wake_fd >= 0)
            fds[n++] = (struct pollfd){.fd = p->wake_fd, .events = POLLIN};
        if (cfd >= 0)
            fds[n++] = (struct pollfd){.fd = cfd, .events = POLLIN};
        if (poll(fds, (nfds_t)n, wait_ms) > 0 && p->wake_fd >= 0) {
            uint64_t v;
            (void)!read(p->wake_fd, &v, sizeof v);
        }
    }
    return rc;
}

/* ---- operations --------------------------------------------------------- */

int ssh_op_start(bc_ctx *ctx, void *cv, const bc_exec_request *req, void **out)
{
    sshconn *c = cv;
    const char *stage = ctx->svc->fact(ctx, "stage");
    if (!req->shell || !req->shell[0]) {
        bc_error(ctx, "no shell configured");
        return BC_ERR;
    }
    sshproc *p = ssh_proc_new(c, ctx, stage ? stage : "command");
    conn_lock(c);
    if (c->lost) {
        conn_lost_error(ctx, c);
        ssh_proc_free_locked(c, p);
        conn_unlock(c, NULL);
        return BC_ERR;
    }
    ssh_proc_link(c, p);
    conn_unlock(c, NULL);
    int tty = (req->flags & BC_EXEC_TTY) != 0;
    bc_sb env = BC_SB_INIT;
    ssh_env_script(ctx, c, req, &env);
    const char *bg = ctx->svc->fact(ctx, "stage_background");
    if (!tty && !(bg && strcmp(bg, "1") == 0)) {
        /* Through the dispatcher: no channel, no login shell.  (A
         * background stage would hold it for the case's whole length:
         * it gets a channel of its own.) */
        char *script = ssh_stage_command(c, p->id, req, ENV_SOURCED, ssh_sb_text(&env), 0);
        int drc = ssh_dispatch_stage_start(c, p, script);
        free(script);
        if (drc == BC_OK) {
            bc_sb_free(&env);
            *out = p;
            return BC_OK;
        }
    }
    int how = ENV_STDIN;
    if (tty) {
        /* A terminal echoes what is written to it: a 0600 file instead. */
        char name[32];
        snprintf(name, sizeof name, "env.%u", p->id);
        how = ssh_dispatch_write_file(ctx, c, name, ssh_sb_text(&env), 15000) == BC_OK ||
                      ssh_put_env_file(ctx, c, name, ssh_sb_text(&env)) == BC_OK
                  ? ENV_FILE
                  : ENV_INLINE;
        ctx->svc->set_error(ctx, "%s", "");
    }
    char *cmd = ssh_stage_command(c, p->id, req, how, ssh_sb_text(&env), 1);
    conn_lock(c);
    int rc = BC_ERR;
    if (c->lost)
        conn_lost_error(ctx, c);
    else
        rc = ssh_channel_start(ctx, c, p, cmd, tty, req->tty_rows, req->tty_cols,
                               how == ENV_STDIN);
    if (rc == BC_OK && how == ENV_STDIN) {
        /* The environment, then end of file: the stage's stdin is empty. */
        const char *e = ssh_sb_text(&env);
        size_t len = strlen(e);
        if (ssh_channel_write(p->ch, e, (uint32_t)len) != (int)len) {
            bc_error(ctx, "cannot send the stage's environment to %s: %s", c->where,
                     ssh_get_error(c->s));
            rc = BC_ERR;
        } else {
            ssh_channel_send_eof(p->ch);
        }
    }
    free(cmd);
    bc_sb_free(&env);
    if (rc != BC_OK) {
        ssh_proc_free_locked(c, p);
        conn_unlock(c, NULL);
        return BC_ERR;
    }
    conn_unlock(c, p);
    *out = p;
    return BC_OK;
}

int ssh_op_wait(bc_ctx *ctx, void *pv, int64_t timeout_ms, bc_exec_result *res)
{
    sshproc *p = pv;
    p->ctx = ctx;
    int rc = p->via_disp ? ssh_dispatch_stage_wait(p, timeout_ms, ctx)
                         : proc_wait(p, timeout_ms, ctx);
    if (rc == W_LOST) {
        conn_lost_error(ctx, p->c);
        return BC_ERR;
    }
    if (rc != BC_OK)
        return rc;
    p->finished = 1;
    res->exit_status = p->exited ? p->exit_status : -1;
    res->term_signal = p->exited ? p->term_signal : 0;
    if (!p->exited) {
        /* closed without a status (the server did not send one) */
        bc_log(ctx, BC_LOG_WARN, "host '%s' sent no exit status for '%s'", p->c->alias, p->label);
        res->exit_status = 255;
    }
    res->user_us = -1; /* not measured remotely */
    res->sys_us = -1;
    res->max_rss_kb = -1;
    return BC_OK;
}

/* The stop script for one process group: SIGTERM to its leader, then (the
 * leader gone, or half the grace up) to the group, grace, SIGKILL; exit 0
 * once the group is gone, 2 if it survived SIGKILL. */
static char *stop_script(const char *dir, unsigned id, int64_t grace_ms, int exited)
{
    if (grace_ms < 0)
        grace_ms = 0;
    char *qd = ssh_shquote(dir);
    /* While the command runs, its group is certainly its own; once it has
     * exited, only a group that is still this run's is signalled. */
    char *s = ssh_asprintf(
        "D=%s\n" SH_HELPERS
        "f=\"$D/pgid.%u\"; i=0\n"
        "while [ ! -s \"$f\" ]; do i=$((i+1)); [ $i -gt %d ] && exit 0; nap; done\n"
        "read -r p < \"$f\"; case $p in ''|*[!0-9]*|0|1) exit 0;; esac\n"
        "alive $p || exit 0\n"
        "%s"
        /* the leader (the stage's shell) first: a TERM trap runs after the
         * command it waits for, instead of that command being killed under
         * it; the group once the leader is gone or half the grace is up */
        "lead() { [ -r /proc/$1/stat ] || { kill -0 $1 2>/dev/null; return; }; "
        "_l=; { read -r _l < /proc/$1/stat; } 2>/dev/null || return 1; _l=${_l##*) }; "
        "set -- $_l; [ \"$1\" != Z ] && [ \"$1\" != X ]; }\n"
        "kill -TERM $p 2>/dev/null; kill -CONT $p 2>/dev/null\n"
        "sleep %lld.%03lld >/dev/null 2>&1 </dev/null & h=$!\n"
        "while lead $p && kill -0 $h 2>/dev/null; do nap; done\n"
        "kill $h 2>/dev/null\n"
        "kill -TERM -$p 2>/dev/null; kill -CONT -$p 2>/dev/null\n"
        "sleep %lld.%03lld >/dev/null 2>&1 </dev/null & t=$!\n"
        "while alive $p && kill -0 $t 2>/dev/null; do nap; done\n"
        "kill $t 2>/dev/null\n"
        "alive $p || exit 0\n"
        "kill -KILL -$p 2>/dev/null\n"
        "i=0; while alive $p; do i=$((i+1)); [ $i -gt 500 ] && exit 2; nap; done\n"
        "exit 0\n",
        qd, id, exited ? 0 : 200, exited ? "owned $p || exit 0\n" : "",
        (long long)(grace_ms / 2 / 1000), (long long)(grace_ms / 2 % 1000),
        (long long)(grace_ms / 1000), (long long)(grace_ms % 1000));
    free(qd);
    return s;
}

int ssh_op_stop(bc_ctx *ctx, void *pv, int64_t grace_ms)
{
    sshproc *p = pv;
    sshconn *c = p->c;
    p->ctx = ctx;
    conn_lock(c);
    int exited = p->exited, lost = c->lost;
    conn_unlock(c, NULL);
    if (lost) {
        conn_lost_error(ctx, c);
        bc_log(ctx, BC_LOG_WARN, "processes of stage '%s' may still run on host '%s'", p->label,
               c->alias);
        return BC_ERR;
    }
    char *script = stop_script(c->tmpdir, p->id, grace_ms, exited);
    int64_t t0 = bc_mono_ms();
    int status = -1;
    char *out = NULL;
    int rc = ssh_run_script(ctx, c, script, grace_ms + 15000, &status, &out);
    free(script);
    free(out);
    int64_t t1 = bc_mono_ms();
    if (rc == BC_OK) {
        /* The group is gone: let its channel wind down (last words of the
         * stage, its exit signal), briefly. */
        if (p->via_disp)
            ssh_dispatch_stage_wait(p, 3000, NULL);
        else
            proc_wait(p, 300, NULL);
    }
    bc_log(ctx, BC_LOG_DEBUG, "stop of '%s' on host '%s': group gone after %lld ms, channel "
           "closed after %lld ms", p->label, c->alias, (long long)(t1 - t0),
           (long long)(bc_mono_ms() - t0));
    conn_lock(c);
    p->stopped = 1;
    p->waiting = 0;
    if (p->ch && !c->lost && ssh_is_connected(c->s) && ssh_channel_is_open(p->ch))
        ssh_channel_close(p->ch);
    conn_unlock(c, p);
    if (rc == BC_TIMEOUT) {
        bc_error(ctx, "cannot stop stage '%s' on host '%s': the stop command timed out",
                 p->label, c->alias);
        return BC_ERR;
    }
    if (rc != BC_OK)
        return BC_ERR; /* ssh_run_script said why */
    if (status == 2) {
        bc_error(ctx, "the processes of stage '%s' on host '%s' survived SIGKILL", p->label,
                 c->alias);
        return BC_ERR;
    }
    if (status != 0)
        bc_log(ctx, BC_LOG_WARN, "stopping stage '%s' on host '%s': the stop command exited %d",
               p->label, c->alias, status);
    return BC_OK;
}

void ssh_op_release(bc_ctx *ctx, void *pv)
{
    sshproc *p = pv;
    if (!p)
        return;
    sshconn *c = p->c;
    conn_lock(c);
    p->waiting = 0;
    p->ctx = NULL; /* the stage's context ends here */
    if (p->via_disp) {
        ssh_dispatch_stage_done_locked(c, p);
        ssh_proc_free_locked(c, p);
        conn_unlock(c, NULL);
        return;
    }
    if (!c->lost && p->ch && p->finished && !p->stopped && p->exited && !p->eof && !p->closed) {
        /* The command is done but something it started still holds its
         * output (`server &`): keep the channel open (closing it would
         * hang up on them) until the end of the run, when close stops
         * them. */
        p->lingering = 1;
        free(p->obuf);
        free(p->ebuf);
        p->obuf = p->ebuf = NULL;
        bc_log(ctx, BC_LOG_DEBUG, "stage '%s' left processes running on host '%s'", p->label,
               c->alias);
        conn_unlock(c, p);
        return;
    }
    ssh_proc_free_locked(c, p);
    conn_unlock(c, NULL);
}

/* ---- internal commands -------------------------------------------------- */

int ssh_run_script(bc_ctx *ctx, sshconn *c, const char *script, int64_t timeout_ms, int *status,
                   char **out)
{
    *status = -1;
    if (out)
        *out = NULL;
    int drc = ssh_dispatch_call(ctx, c, script, timeout_ms, status, out);
    if (drc != BC_UNSUPPORTED)
        return drc;
    sshproc *p = ssh_proc_new(c, NULL, "benchctl");
    char *cmd = ssh_wrap_script(script);
    conn_lock(c);
    if (c->lost) {
        free(cmd);
        ssh_proc_free_locked(c, p);
        conn_unlock(c, NULL);
        conn_lost_error(ctx, c);
        return BC_ERR;
    }
    ssh_proc_link(c, p);
    int rc = ssh_channel_start(ctx, c, p, cmd, 0, 0, 0, 0);
    free(cmd);
    if (rc != BC_OK) {
        ssh_proc_free_locked(c, p);
        conn_unlock(c, NULL);
        return BC_ERR;
    }
    conn_unlock(c, p);
    rc = proc_wait(p, timeout_ms, NULL);
    if (rc == W_LOST) {
        conn_lost_error(ctx, c);
        rc = BC_ERR;
    } else if (rc == BC_OK) {
        *status = p->term_signal ? 128 + p->term_signal : p->exit_status;
        if (out) {
            *out = p->cap ? p->cap : ssh_strdup("");
            p->cap = NULL;
        }
    }
    conn_lock(c);
    ssh_proc_free_locked(c, p);
    conn_unlock(c, NULL);
    return rc;
}

void ssh_exec_shutdown(bc_ctx *ctx, sshconn *c)
{
    if (!c->lost && c->tmpdir) {
        /* One script: stop the groups of commands that may still run,
         * then anything else that carries this run's marker in its
         * environment (a daemon that left the group), then remove the
         * private directory. */
        bc_sb ids = BC_SB_INIT;
        for (sshproc *p = c->procs; p; p = p->next) {
            if (p->finished && !p->lingering && p->eof)
                continue;
            bc_sb_printf(&ids, " %u", p->id);
        }
        char *qd = ssh_shquote(c->tmpdir);
        char *script = ssh_asprintf(
            "D=%s; [ -d \"$D\" ] || exit 0\n" SH_HELPERS
            "groups=\n"
            "for id in %s; do f=\"$D/pgid.$id\"; [ -s \"$f\" ] || continue; read -r p < \"$f\"; "
            "case $p in ''|*[!0-9]*|0|1) continue;; esac; if alive $p && owned $p; then echo \"left $id $p\"; "
            "groups=\"$groups $p\"; kill -TERM -$p 2>/dev/null; kill -CONT -$p 2>/dev/null; fi; done\n"
            "marked() { grep -lzxF \"BENCHCTL_HOST_TMPDIR=$D\" /proc/[0-9]*/environ 2>/dev/null | "
            "while read -r e; do e=${e#/proc/}; e=${e%%/environ}; [ \"$e\" != $$ ] && echo $e; done; }\n"
            "i=0; while :; do any=; for p in $groups; do alive $p && any=1; done; "
            "[ -z \"$any\" ] && break; i=$((i+1)); [ $i -gt 150 ] && { for p in $groups; do "
            "kill -KILL -$p 2>/dev/null; done; }; [ $i -gt 400 ] && break; nap; done\n"
            "pids=$(marked); if [ -n \"$pids\" ]; then echo \"swept $(echo $pids | wc -w)\"; "
            "kill -TERM $pids 2>/dev/null; i=0; while [ -n \"$(marked)\" ] && [ $i -lt 100 ]; do "
            "i=$((i+1)); nap; done; pids=$(marked); [ -n \"$pids\" ] && kill -KILL $pids 2>/dev/null; fi\n"
            "cd / && rm -rf -- \"$D\"\n",
            qd, ssh_sb_text(&ids));
        free(qd);
        bc_sb_free(&ids);
        int status = -1;
        char *out = NULL;
        int64_t t0 = bc_mono_ms();
        int rc = ssh_run_script(ctx, c, script, 30000, &status, &out);
        free(script);
        bc_log(ctx, BC_LOG_DEBUG, "host '%s': cleanup took %lld ms", c->alias,
               (long long)(bc_mono_ms() - t0));
        if (rc == BC_OK && out) {
            char *save = NULL;
            for (char *line = strtok_r(out, "\n", &save); line;
                 line = strtok_r(NULL, "\n", &save)) {
                unsigned id = 0, pg = 0, n = 0;
                if (sscanf(line, "left %u %u", &id, &pg) == 2) {
                    const char *label = "a stage";
                    for (sshproc *p = c->procs; p; p = p->next)
                        if (p->id == id)
                            label = p->label;
                    bc_log(ctx, BC_LOG_INFO, "stopped processes left running by stage '%s' on "
                           "host '%s' (group %u)", label, c->alias, pg);
                } else if (sscanf(line, "swept %u", &n) == 1) {
                    bc_log(ctx, BC_LOG_INFO, "stopped %u more process%s of this run on host '%s'",
                           n, n == 1 ? "" : "es", c->alias);
                }
            }
        } else if (rc != BC_OK) {
            bc_log(ctx, BC_LOG_WARN, "host '%s': could not clean up %s: %s", c->alias, c->tmpdir,
                   "the cleanup command failed");
        }
        free(out);
    } else if (c->lost) {
        bc_log(ctx, BC_LOG_WARN, "connection to host '%s' was lost: processes started there may "
               "still run, and %s was not removed", c->alias, c->tmpdir ? c->tmpdir : "its directory");
    }
    ssh_dispatch_quit(c);
    conn_lock(c);
    while (c->procs)
        ssh_proc_free_locked(c, c->procs);
    conn_unlock(c, NULL);
}
