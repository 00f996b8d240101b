/*
 * Host transport "ssh": the dispatcher, one small POSIX sh program per host
 * per run, started once through the user's login shell when the connection
 * opens (so it is the run's one extra login there).  At its start it
 *
 *   - creates the run's private directory (mktemp -d, 0700) and names it,
 *   - runs the machine-facts script the core hands over (fact
 *     "host_facts_script") with /bin/sh, prefixing each line,
 *   - says it is ready;
 *
 * then it reads requests from its stdin (the channel), one at a time:
 *
 *   B <tok>\n<script lines>\n<tok>\n   run the script with /bin/sh in the
 *                                      background; its stdout comes back as
 *                                      "<tok> <line>" lines, then
 *                                      "<tok>= <status>"
 *   W <tok> <name>\n<lines>\n<tok>\n   write the lines to $D/<name> (0600);
 *                                      "<tok>= <status>"
 *   T <tok>\n<tok>\n                   the host's clock now: "<tok> <s.ns>",
 *                                      "<tok>= 0" (clock offset samples)
 *   Q                                  end (the run cleaned up)
 *
 * Internal scripts (stopping a command, the clean-up at the end) so cost
 * no channel and no login.  And it is the run's watchdog on the host: at
 * end of file on its stdin without Q — benchctl died (kill -9) or the
 * connection broke — it stops every process that carries the run's marker
 * (BENCHCTL_HOST_TMPDIR=<its directory>) and every recorded process group
 * still owned by the run, and removes the private directory.
 *
 * Stages still run on their own channels (a terminal per stage when
 * benchctl has one, separate stdout and stderr otherwise, the channel's
 * exit status as the stage's); see exec.c.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sshint.h"

#define DBUF_MAX (1u << 20)

/* The dispatcher's program, a printf format: %s is the facts command (or
 * nothing).  Its own environment never carries the run's marker, so the
 * sweeps below never stop it. */
static const char disp_format[] =
    "trap '' HUP PIPE INT\n"
    "umask 077\n"
    "D=$(mktemp -d /tmp/benchctl.XXXXXXXX 2>/dev/null) || "
    "{ D=/tmp/benchctl.$$$(date +%%N 2>/dev/null); mkdir -m 700 \"$D\" || exit 1; }\n"
    "chmod 700 \"$D\" || exit 1\n"
    "printf '\\nBENCHCTL_HOST_TMPDIR=%%s\\n' \"$D\"\n"
    "%s"
    "echo BENCHCTL_READY\n" SH_HELPERS
    "marked() { grep -lzxF \"BENCHCTL_HOST_TMPDIR=$D\" /proc/[0-9]*/environ 2>/dev/null | "
    "while read -r e; do e=${e#/proc/}; e=${e%%/environ}; [ \"$e\" != $$ ] && echo $e; done; }\n"
    "groups() { for f in \"${G:-$D}\"/pgid.*; do [ -s \"$f\" ] || continue; read -r p < \"$f\"; "
    "case $p in ''|*[!0-9]*|0|1) continue;; esac; alive $p && owned $p && kill -$1 -$p; "
    "[ -n \"$G\" ] && grep -qF \"$D\" /proc/$p/cmdline && kill -$1 $p; "
    "done 2>/dev/null; }\n"
    /* The directory is moved away first ($D.gone): a stage that has not
     * recorded its pid in it yet cannot any more, and so never starts
     * (command.c); one that has is found there, by its pid while it is not
     * yet a group of its own.  Then our own process group (TERM ignored
     * here only): a stage the dispatcher was just starting ends; then the
     * groups and the marked; then, bounded, whatever still appeared is
     * stopped and the directory removed again (a late writer makes rm -rf
     * fail). */
    "sweep() { [ -d \"$D\" ] || return 0; trap '' TERM; G=\"$D.gone\"; "
    "mv -- \"$D\" \"$G\" 2>/dev/null || G=$D; kill -TERM 0 2>/dev/null; "
    "groups TERM; groups CONT; "
    "p=$(marked); [ -n \"$p\" ] && kill -TERM $p 2>/dev/null; "
    "i=0; while [ -n \"$(marked)\" ] && [ $i -lt 200 ]; do i=$((i+1)); nap; done; "
    "p=$(marked); [ -n \"$p\" ] && kill -KILL $p 2>/dev/null; groups KILL; "
    "cd / && rm -rf -- \"$G\" 2>/dev/null; i=0; "
    "while [ $i -lt 50 ] && { [ -d \"$G\" ] || [ -n \"$(marked)\" ]; }; do i=$((i+1)); nap; "
    "groups KILL; p=$(marked); [ -n \"$p\" ] && kill -KILL $p 2>/dev/null; "
    "rm -rf -- \"$G\" 2>/dev/null; done; }\n"
    /* A stage: its output through FIFOs to our stdout and stderr, then the
     * end marks.  After it exits, output still open (something it started
     * holds it) is given up once idle 100 ms - 2 s when its group is gone,
     * a daemon that left it - and drained from then on.  The FIFO pair is
     * kept for the next stage (named in $D/fifo) unless it was given up
     * ($D/stale.<k>): no mkfifo or rm per stage; the stage's script file is
     * emptied, not removed (all go with $D). */
    "rch() { _r=; while read -r _k _v; do [ \"$_k\" = rchar: ] && _r=$_v; done < /proc/$1/io; "
    "echo \"$_r\"; } 2>/dev/null\n"
    "stage() { t=$1; n=$2; k=; { read -r k < \"$D/fifo\"; } 2>/dev/null\n"
    "if [ -z \"$k\" ] || [ -e \"$D/stale.$k\" ]; then k=$n; "
    "mkfifo -m 600 \"$D/o.$k\" \"$D/e.$k\" 2>/dev/null && echo $k > \"$D/fifo\" || k=; fi\n"
    "o=\"$D/o.$k\"; e=\"$D/e.$k\"\n"
    "if [ -n \"$k\" ]; then\n"
    "cat \"$o\" & fo=$!; cat \"$e\" >&2 & fe=$!\n"
    "( . \"$D/r.$n\" ) </dev/null >\"$o\" 2>\"$e\"; s=$?\n"
    ": > \"$D/r.$n\"; g=; [ -s \"$D/pgid.$n\" ] && read -r g < \"$D/pgid.$n\"\n"
    /* the forwarders end at end of file, normally at once; while one is
     * still there a watcher gives up output held open by processes the
     * stage left */
    "lw=; if kill -0 $fo 2>/dev/null || kill -0 $fe 2>/dev/null; then\n"
    "( nap; last=; idle=0; while :; do cur=\"$(rch $fo).$(rch $fe)\"\n"
    "if [ \"$cur\" = \"$last\" ]; then idle=$((idle+1)); else idle=0; last=$cur; fi\n"
    "lim=200; [ -n \"$g\" ] && alive $g && lim=10\n"
    "if [ $idle -ge $lim ]; then : > \"$D/stale.$k\"; cat \"$o\" >/dev/null 2>&1 & "
    "cat \"$e\" >/dev/null 2>&1 & kill $fo $fe 2>/dev/null; exit 0; fi; nap; done ) & lw=$!; fi\n"
    "wait $fo; wait $fe; [ -n \"$lw\" ] && kill $lw 2>/dev/null\n"
    "else s=126; echo 'benchctl: cannot make FIFOs in the private directory' >&2; fi\n"
    "printf '%%s= %%s\\n' \"$t\" \"$s\"; printf '%%s=\\n' \"$t\" >&2; }\n"
    "while IFS= read -r l; do case $l in\n"
    "'B '*) t=${l#B }; b=; while IFS= read -r x && [ \"$x\" != \"$t\" ]; do b=\"$b$x\n\"; done\n"
    "( o=$(/bin/sh -c \"$b\" 2>/dev/null </dev/null); s=$?; [ -n \"$o\" ] && printf '%%s\\n' \"$o\" | "
    "while IFS= read -r x; do printf '%%s %%s\\n' \"$t\" \"$x\"; done; printf '%%s= %%s\\n' \"$t\" $s ) "
    "</dev/null & ;;\n"
    "'W '*) set -- ${l#W }; t=$1; : > \"$D/$2\"; "
    "while IFS= read -r x && [ \"$x\" != \"$t\" ]; do printf '%%s\\n' \"$x\"; done >> \"$D/$2\"; "
    "printf '%%s= %%s\\n' \"$t\" $? ;;\n"
    "'R '*) set -- ${l#R }; t=$1; n=$2; : > \"$D/r.$n\"; "
    "while IFS= read -r x && [ \"$x\" != \"$t\" ]; do printf '%%s\\n' \"$x\"; done >> \"$D/r.$n\"; "
    "stage \"$t\" \"$n\" </dev/null & ;;\n"
    "'T '*) t=${l#T }; while IFS= read -r x && [ \"$x\" != \"$t\" ]; do :; done; "
    "printf '%%s %%s\\n%%s= 0\\n' \"$t\" \"${EPOCHREALTIME:-$(date +%%s.%%N)}\" \"$t\" ;;\n"
    "Q) exit 0 ;;\n"
    "esac; done\n"
    "exec >/dev/null 2>&1\n"
    "sweep\n";

/* ---- its output ---------------------------------------------------------- */

/* Lock held: keep n bytes of the owner's stream s. */
static void sbuf_add(sshconn *c, int s, const char *data, size_t n)
{
    if (c->slen[s] + n > c->ssize[s]) {
        c->ssize[s] = c->slen[s] + n + 16384;
        c->sbuf[s] = realloc(c->sbuf[s], c->ssize[s]);
        if (!c->sbuf[s])
            abort();
    }
    memcpy(c->sbuf[s] + c->slen[s], data, n);
    c->slen[s] += n;
}

/* Lock held: read what the dispatcher printed into c->dbuf, or, while it
 * runs a stage, into that stage's streams (otherwise its stderr is
 * dropped). */
static void pump_locked(sshconn *c)
{
    sshproc *d = c->disp;
    if (!d || !d->ch || c->lost)
        return;
    char buf[16384];
    int r;
    while ((r = ssh_channel_read_nonblocking(d->ch, buf, sizeof buf, 0)) > 0) {
        if (c->disp_owner) {
            sbuf_add(c, 0, buf, (size_t)r);
            continue;
        }
        if (c->dlen + (size_t)r + 1 > DBUF_MAX)
            c->dlen = 0; /* nobody claims this much: drop it */
        if (c->dlen + (size_t)r + 1 > c->dsize) {
            c->dsize = c->dlen + (size_t)r + 1 + 8192;
            c->dbuf = realloc(c->dbuf, c->dsize);
            if (!c->dbuf)
                abort();
        }
        memcpy(c->dbuf + c->dlen, buf, (size_t)r);
        c->dlen += (size_t)r;
        c->dbuf[c->dlen] = '\0';
    }
    while (r != SSH_ERROR && (r = ssh_channel_read_nonblocking(d->ch, buf, sizeof buf, 1)) > 0)
        if (c->disp_owner)
            sbuf_add(c, 1, buf, (size_t)r);
    if (!ssh_is_connected(c->s))
        conn_mark_lost(c);
    else if (r == SSH_ERROR || ssh_channel_is_eof(d->ch) || ssh_channel_is_closed(d->ch))
        c->disp_dead = 1;
}

/* Lock held: move tok's lines out of c->dbuf (their text into out, when
 * given); 1 when its status line has come (*status), else 0. */
static int claim_locked(sshconn *c, const char *tok, bc_sb *out, int *status)
{
    size_t tl = strlen(tok), i = 0;
    while (i < c->dlen) {
        char *l = c->dbuf + i;
        char *nl = memchr(l, '\n', c->dlen - i);
        if (!nl)
            break;
        size_t len = (size_t)(nl - l) + 1;
        if (len <= tl + 1 || memcmp(l, tok, tl) != 0 || (l[tl] != ' ' && l[tl] != '=')) {
            i += len;
            continue;
        }
        int done = l[tl] == '=';
        if (done) {
            char *end;
            long v = strtol(l + tl + 1, &end, 10);
            *status = end != l + tl + 1 ? (int)v : -1;
        } else if (out) {
            bc_sb_append_n(out, l + tl + 1, len - tl - 1);
        }
        memmove(l, l + len, c->dlen - i - len);
        c->dlen -= len;
        c->dbuf[c->dlen] = '\0';
        if (done)
            return 1;
    }
    return 0;
}

/* Send a request and wait for its answer: BC_OK (*status, *out when out is
 * given), BC_TIMEOUT, BC_CANCELLED (cancellable only), BC_UNSUPPORTED (no
 * dispatcher any more) or BC_ERR (message in ctx). */
static int request(bc_ctx *ctx, sshconn *c, const char *head, const char *tok, const char *body,
                   int64_t timeout_ms, int cancellable, int *status, char **out)
{
    int64_t deadline = timeout_ms >= 0 ? bc_mono_ms() + timeout_ms : -1;
    sshproc *w = ssh_proc_new(c, NULL, "dispatcher");
    bc_sb msg = BC_SB_INIT, got = BC_SB_INIT;
    bc_sb_printf(&msg, "%s\n%s%s%s\n", head, body, *body && body[strlen(body) - 1] != '\n' ? "\n" : "",
                 tok);
    if (bc_sb_failed(&msg))
        abort();
    int cfd = cancellable ? ctx->svc->cancel_fd(ctx) : -1;
    int rc;
    conn_lock(c);
    if (!c->disp || c->disp_dead || c->lost) {
        rc = c->lost ? BC_ERR : BC_UNSUPPORTED;
        if (c->lost)
            conn_lost_error(ctx, c);
        ssh_proc_free_locked(c, w);
        conn_unlock(c, NULL);
        bc_sb_free(&msg);
        return rc;
    }
    if (c->disp_owner) { /* its stdout is a stage's now */
        ssh_proc_free_locked(c, w);
        conn_unlock(c, NULL);
        bc_sb_free(&msg);
        return BC_UNSUPPORTED;
    }
    ssh_proc_link(c, w);
    c->disp_pending++;
    size_t len = strlen(bc_sb_str(&msg));
    if (ssh_channel_write(c->disp->ch, bc_sb_str(&msg), (uint32_t)len) != (int)len) {
        if (!ssh_is_connected(c->s))
            conn_mark_lost(c);
        else
            c->disp_dead = 1;
    }
    bc_sb_free(&msg);
    for (;;) {
        pump_locked(c);
        int st = -1;
        if (claim_locked(c, tok, out ? &got : NULL, &st)) {
            *status = st;
            rc = BC_OK;
            break;
        }
        if (c->lost) {
            conn_lost_error(ctx, c);
            rc = BC_ERR;
            break;
        }
        if (c->disp_dead) {
            bc_error(ctx, "benchctl's helper shell on %s ended unexpectedly", c->where);
            rc = BC_ERR;
            break;
        }
        int64_t now = bc_mono_ms();
        if (deadline >= 0 && now >= deadline) {
            rc = BC_TIMEOUT;
            break;
        }
        if (cancellable && ctx->svc->cancelled(ctx)) {
            rc = BC_CANCELLED;
            break;
        }
        w->waiting = 1;
        conn_unlock(c, w);
        int wait_ms = deadline >= 0 && deadline - now < 200 ? (int)(deadline - now) : 200;
        struct pollfd fds[3];
        nfds_t n = 0;
        fds[n++] = (struct pollfd){.fd = c->fd, .events = POLLIN};
        fds[n++] = (struct pollfd){.fd = w->wake_fd, .events = POLLIN};
        if (cfd >= 0)
            fds[n++] = (struct pollfd){.fd = cfd, .events = POLLIN};
        if (poll(fds, n, wait_ms) > 0 && (fds[1].revents & POLLIN)) {
            uint64_t v;
            (void)!read(w->wake_fd, &v, sizeof v);
        }
        conn_lock(c);
        w->waiting = 0;
    }
    c->disp_pending--;
    if (rc != BC_OK)
        c->disp_nostages = 1; /* its answer may still come: never into a stage's output */
    ssh_proc_free_locked(c, w);
    conn_unlock(c, NULL);
    if (out)
        *out = rc == BC_OK ? bc_sb_steal(&got) : NULL;
    if (out && rc == BC_OK && !*out)
        *out = ssh_strdup("");
    bc_sb_free(&got);
    return rc;
}

static char *new_token(sshconn *c)
{
    conn_lock(c);
    unsigned n = ++c->next_tok;
    conn_unlock(c, NULL);
    return ssh_asprintf("@bc%u.%lx%x", n, (unsigned long)bc_mono_ms(), (unsigned)rand());
}

int ssh_dispatch_call(bc_ctx *ctx, sshconn *c, const char *script, int64_t timeout_ms,
                      int *status, char **out)
{
    char *tok = new_token(c);
    char *head = ssh_asprintf("B %s", tok);
    int rc = request(ctx, c, head, tok, script, timeout_ms, 0, status, out);
    free(head);
    free(tok);
    return rc;
}

int ssh_dispatch_write_file(bc_ctx *ctx, sshconn *c, const char *name, const char *data,
                            int64_t timeout_ms)
{
    for (const char *p = name; *p; p++)
        if (!(*p == '.' || *p == '_' || *p == '-' || (*p >= '0' && *p <= '9') ||
              (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            return BC_ERR;
    char *tok = new_token(c);
    char *head = ssh_asprintf("W %s %s", tok, name);
    int status = -1;
    int rc = request(ctx, c, head, tok, data, timeout_ms, 0, &status, NULL);
    free(head);
    free(tok);
    if (rc == BC_OK && status != 0) {
        bc_error(ctx, "cannot write %s on %s (exit status %d)", name, c->where, status);
        rc = BC_ERR;
    }
    return rc;
}

void ssh_dispatch_quit(sshconn *c)
{
    conn_lock(c);
    if (c->disp && c->disp->ch && !c->disp_dead && !c->lost) {
        ssh_channel_write(c->disp->ch, "Q\n", 2);
        ssh_channel_send_eof(c->disp->ch);
    }
    c->disp_dead = 1;
    c->disp = NULL; /* freed with the other procs */
    conn_unlock(c, NULL);
}

/* ---- stages ------------------------------------------------------------- */

int ssh_dispatch_stage_start(sshconn *c, sshproc *p, const char *script)
{
    conn_lock(c);
    if (!c->disp || c->disp_dead || c->lost || c->disp_owner || c->disp_pending ||
        c->disp_nostages) {
        conn_unlock(c, NULL);
        return BC_UNSUPPORTED;
    }
    unsigned n = ++c->next_tok;
    snprintf(p->tok, sizeof p->tok, "@bs%u.%lx%x", n, (unsigned long)bc_mono_ms(),
             (unsigned)rand());
    bc_sb msg = BC_SB_INIT;
    bc_sb_printf(&msg, "R %s %u\n%s%s%s\n", p->tok, p->id, script,
                 *script && script[strlen(script) - 1] != '\n' ? "\n" : "", p->tok);
    if (bc_sb_failed(&msg))
        abort();
    size_t len = strlen(bc_sb_str(&msg));
    int rc = BC_OK;
    c->slen[0] = c->slen[1] = 0;
    if (ssh_channel_write(c->disp->ch, bc_sb_str(&msg), (uint32_t)len) != (int)len) {
        if (!ssh_is_connected(c->s))
            conn_mark_lost(c);
        else
            c->disp_dead = 1;
        rc = BC_UNSUPPORTED;
    } else {
        c->disp_owner = p;
        p->via_disp = 1;
    }
    bc_sb_free(&msg);
    conn_unlock(c, p);
    return rc;
}

void ssh_dispatch_stage_done_locked(sshconn *c, sshproc *p)
{
    if (c->disp_owner != p)
        return;
    if (!p->ended[0] || !p->ended[1])
        c->disp_nostages = 1; /* the rest of its output would follow */
    c->disp_owner = NULL;
    c->slen[0] = c->slen[1] = 0;
}

/* Stream s of p: data appended after what was held back; hand on what
 * cannot be the start of the end mark "<tok>=" (stdout: "<tok>= N\n",
 * stderr: "<tok>=\n", right after the stage's last byte; the token is
 * random, so only a tail that could begin it waits); on the end mark, its
 * status (stdout) and ended[s]. */
static void stream_feed(sshproc *p, int s, const char *data, size_t n)
{
    size_t len = p->ncarry[s] + n;
    char *acc = malloc(len + 1);
    if (!acc)
        abort();
    if (p->ncarry[s])
        memcpy(acc, p->carry[s], p->ncarry[s]);
    memcpy(acc + p->ncarry[s], data, n);
    acc[len] = '\0';
    free(p->carry[s]);
    p->carry[s] = NULL;
    p->ncarry[s] = 0;
    char mark[64];
    int ml = snprintf(mark, sizeof mark, "%s=", p->tok);
    size_t out = len, keep_from = len;
    char *hit = p->ended[s] ? NULL : memmem(acc, len, mark, (size_t)ml);
    if (hit) {
        out = (size_t)(hit - acc);
        char *nl = memchr(hit + ml, '\n', len - out - (size_t)ml);
        if (nl) {
            if (s == 0) {
                char *end;
                long v = strtol(hit + ml, &end, 10);
                int st = end != hit + ml ? (int)v : 255;
                p->exited = 1;
                if (st > 128 && st <= 128 + 64) {
                    p->term_signal = st - 128;
                    p->exit_status = -1;
                } else {
                    p->exit_status = st;
                    p->term_signal = 0;
                }
                p->exit_ms = bc_mono_ms();
            }
            p->ended[s] = 1;
            keep_from = len; /* nothing follows it that is this stage's */
        } else {
            keep_from = out; /* the mark's line is not complete yet */
        }
    } else if (!p->ended[s]) {
        /* the longest tail that could begin the mark */
        size_t k = len < (size_t)ml - 1 ? len : (size_t)ml - 1;
        for (; k > 0; k--)
            if (memcmp(acc + len - k, mark, k) == 0)
                break;
        out = keep_from = len - k;
    } else {
        out = keep_from = 0; /* after the end: not the stage's */
        len = 0;
    }
    if (out && p->ctx)
        p->ctx->svc->output(p->ctx, s ? BC_STREAM_STDERR : BC_STREAM_STDOUT, acc, out);
    if (out)
        p->last_data_ms = bc_mono_ms();
    if (keep_from < len) {
        p->ncarry[s] = len - keep_from;
        p->carry[s] = malloc(p->ncarry[s]);
        if (!p->carry[s])
            abort();
        memcpy(p->carry[s], acc + keep_from, p->ncarry[s]);
    }
    free(acc);
}

int ssh_dispatch_stage_wait(sshproc *p, int64_t timeout_ms, bc_ctx *cancel_ctx)
{
    sshconn *c = p->c;
    int64_t deadline = timeout_ms >= 0 ? bc_mono_ms() + timeout_ms : -1;
    int cfd = cancel_ctx ? cancel_ctx->svc->cancel_fd(cancel_ctx) : -1;
    for (;;) {
        conn_lock(c);
        pump_locked(c);
        char *data[2] = {NULL, NULL};
        size_t n[2] = {0, 0};
        if (c->disp_owner == p)
            for (int s = 0; s < 2; s++)
                if (c->slen[s]) {
                    data[s] = malloc(c->slen[s]);
                    if (!data[s])
                        abort();
                    memcpy(data[s], c->sbuf[s], c->slen[s]);
                    n[s] = c->slen[s];
                    c->slen[s] = 0;
                }
        int lost = c->lost, dead = c->disp_dead;
        p->waiting = 1;
        conn_unlock(c, p);
        for (int s = 0; s < 2; s++) {
            if (n[s])
                stream_feed(p, s, data[s], n[s]);
            free(data[s]);
        }
        if (p->ended[0] && p->ended[1])
            return BC_OK;
        if (p->ended[0] && bc_mono_ms() - p->exit_ms > 2000)
            return BC_OK; /* stderr's mark never came: ended all the same */
        if (lost || (dead && !n[0] && !n[1]))
            return -1;
        if (n[0] || n[1])
            continue;
        if (cancel_ctx && cancel_ctx->svc->cancelled(cancel_ctx))
            return BC_CANCELLED;
        int64_t now = bc_mono_ms();
        if (deadline >= 0 && now >= deadline)
            return BC_TIMEOUT;
        int wait_ms = deadline >= 0 ? (int)(deadline - now) : -1;
        /* the stdout mark came: the stderr one is on its way */
        if (p->ended[0] && (wait_ms < 0 || wait_ms > 20))
            wait_ms = 20;
        struct pollfd fds[3];
        nfds_t k = 0;
        fds[k++] = (struct pollfd){.fd = c->fd, .events = POLLIN};
        fds[k++] = (struct pollfd){.fd = p->wake_fd, .events = POLLIN};
        if (cfd >= 0)
            fds[k++] = (struct pollfd){.fd = cfd, .events = POLLIN};
        if (poll(fds, k, wait_ms) > 0 && (fds[1].revents & POLLIN)) {
            uint64_t v;
            (void)!read(p->wake_fd, &v, sizeof v);
        }
    }
}

/* ---- the host's clock ----------------------------------------------------- */

#define CLOCK_SAMPLES 5

static double wall_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The host's clock against ours, NTP-style over the dispatcher's channel
 * (no exec request, no login): CLOCK_SAMPLES round trips of "T", each our
 * time t0, the host's time, our time t1; the one with the shortest round
 * trip wins: offset = host - (t0 + t1) / 2, uncertainty = rtt / 2.
 * Appends clock_offset_ms=, clock_uncertainty_ms=, clock_rtt_ms= and
 * clock_samples= to o; nothing when no sample could be read (the core
 * then measures with commands, or records the offset as unknown). */
static void clock_offset(bc_ctx *ctx, sshconn *c, bc_sb *o)
{
    double best_rtt = -1, best_off = 0;
    int got = 0;
    for (int i = 0; i < CLOCK_SAMPLES; i++) {
        char *tok = new_token(c);
        char *head = ssh_asprintf("T %s", tok);
        char *out = NULL;
        int status = -1;
        double t0 = wall_now_s();
        int rc = request(ctx, c, head, tok, "", 5000, 0, &status, &out);
        double t1 = wall_now_s();
        free(head);
        free(tok);
        if (rc != BC_OK || status != 0 || !out) {
            free(out);
            break;
        }
        for (char *p = out; *p; p++)
            if (*p == ',') /* a locale's decimal comma */
                *p = '.';
        char *end;
        double remote = strtod(out, &end);
        int ok = end != out && (*end == '\0' || *end == '\n') && remote > 0;
        free(out);
        if (!ok)
            continue; /* no sub-second clock there (date without %N)? */
        got++;
        double rtt = t1 - t0;
        if (best_rtt < 0 || rtt < best_rtt) {
            best_rtt = rtt;
            best_off = remote - (t0 + t1) / 2;
        }
    }
    if (got == 0) {
        bc_log(ctx, BC_LOG_DEBUG, "%s: its clock could not be read; offset unknown", c->where);
        return;
    }
    bc_sb_printf(o, "clock_offset_ms=%.3f\nclock_uncertainty_ms=%.3f\nclock_rtt_ms=%.3f\n"
                 "clock_samples=%d\n", best_off * 1e3, best_rtt * 1e3 / 2, best_rtt * 1e3, got);
}

void ssh_dispatch_clock_report(bc_ctx *ctx, sshconn *c)
{
    conn_lock(c);
    int usable = c->disp && !c->disp_dead && !c->lost;
    conn_unlock(c, NULL);
    if (!usable)
        return;
    double t0 = wall_now_s();
    bc_sb o = BC_SB_INIT;
    clock_offset(ctx, c, &o);
    int measured = bc_sb_str(&o)[0] != '\0';
    if (measured)
        bc_sb_printf(&o, "clock_cost_ms=%.3f\n", (wall_now_s() - t0) * 1e3);
    if (measured && !bc_sb_failed(&o))
        ctx->svc->output(ctx, BC_STREAM_STDOUT, bc_sb_str(&o), strlen(bc_sb_str(&o)));
    bc_sb_free(&o);
}

/* ---- start --------------------------------------------------------------- */

/* The value of the line "key..." in text (at a line start), up to the end
 * of that line (malloc'd), or NULL. */
static char *line_value(const char *text, const char *key)
{
    size_t kl = strlen(key);
    for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
        if (strncmp(l, key, kl) == 0) {
            size_t n = strcspn(l + kl, "\r\n");
            char *v = malloc(n + 1);
            if (!v)
                abort();
            memcpy(v, l + kl, n);
            v[n] = '\0';
            return v;
        }
    return NULL;
}

int ssh_dispatch_start(bc_ctx *ctx, sshconn *c, int64_t timeout_ms)
{
    const char *facts = ctx->svc->fact(ctx, "host_facts_script");
    char *facts_cmd = NULL;
    if (facts && *facts) {
        char *q = ssh_shquote(facts);
        facts_cmd = ssh_asprintf("/bin/sh -c %s </dev/null 2>/dev/null | while IFS= read -r x; do "
                                 "printf 'BENCHCTL_FACT %%s\\n' \"$x\"; done\n", q);
        free(q);
    }
    char *script = ssh_asprintf(disp_format, facts_cmd ? facts_cmd : "");
    free(facts_cmd);
    char *cmd = ssh_wrap_script(script);
    free(script);
    sshproc *d = ssh_proc_new(c, NULL, "dispatcher");
    int64_t t0 = bc_mono_ms(), deadline = t0 + timeout_ms;
    int cfd = ctx->svc->cancel_fd(ctx);
    conn_lock(c);
    ssh_proc_link(c, d);
    int rc = ssh_channel_start(ctx, c, d, cmd, 0, 0, 0, 1);
    free(cmd);
    if (rc != BC_OK) {
        ssh_proc_free_locked(c, d);
        conn_unlock(c, NULL);
        return BC_ERR;
    }
    c->disp = d;
    c->disp_dead = 0;
    const char *ready = NULL;
    for (;;) {
        pump_locked(c);
        ready = c->dbuf ? strstr(c->dbuf, "\nBENCHCTL_READY\n") : NULL;
        if (ready || c->lost || c->disp_dead)
            break;
        int64_t now = bc_mono_ms();
        if (now >= deadline || ctx->svc->cancelled(ctx))
            break;
        conn_unlock(c, d);
        struct pollfd fds[2] = {{.fd = c->fd, .events = POLLIN}, {.fd = cfd, .events = POLLIN}};
        poll(fds, cfd >= 0 ? 2 : 1, deadline - now < 200 ? (int)(deadline - now) : 200);
        conn_lock(c);
    }
    const char *k = ready ? strstr(c->dbuf, "\nBENCHCTL_HOST_TMPDIR=") : NULL;
    char *dir = k ? line_value(k + 1, "BENCHCTL_HOST_TMPDIR=") : NULL;
    if (!ready || !dir || strncmp(dir, "/tmp/benchctl.", 14) != 0 || strpbrk(dir, "'\\ ")) {
        if (c->lost)
            conn_lost_error(ctx, c);
        else if (!ready && ctx->svc->cancelled(ctx))
            bc_error(ctx, "interrupted while starting benchctl's helper shell on %s", c->where);
        else if (!ready && !c->disp_dead)
            bc_error(ctx, "benchctl's helper shell on %s did not start within %lld ms (a slow "
                     "login shell? connect_timeout bounds it)", c->where, (long long)timeout_ms);
        else
            bc_error(ctx, "cannot start benchctl's helper shell on %s: it could not create a "
                     "private directory in /tmp, or the login shell is not a POSIX shell "
                     "(exec_mode: login_shell avoids it)", c->where);
        free(dir);
        c->disp = NULL;
        c->disp_dead = 1;
        ssh_proc_free_locked(c, d);
        conn_unlock(c, NULL);
        return BC_ERR;
    }
    c->tmpdir = dir;
    /* What the core reads from open: the directory, the facts, the cost. */
    bc_sb o = BC_SB_INIT;
    bc_sb_printf(&o, "BENCHCTL_HOST_TMPDIR=%s\n", dir);
    const char *end = ready + 1;
    for (const char *l = c->dbuf; l && l < end; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
        if (strncmp(l, "BENCHCTL_FACT ", 14) == 0)
            bc_sb_append_n(&o, l + 14, strcspn(l + 14, "\n") + 1);
    /* Everything up to READY was the start-up's (and the login rc's). */
    size_t used = (size_t)(ready - c->dbuf) + strlen("\nBENCHCTL_READY\n");
    memmove(c->dbuf, c->dbuf + used, c->dlen - used);
    c->dlen -= used;
    c->dbuf[c->dlen] = '\0';
    conn_unlock(c, NULL);
    clock_offset(ctx, c, &o);
    c->setup_ms = bc_mono_ms() - t0;
    bc_sb_printf(&o, "connect_ms=%lld\nsetup_ms=%lld\n", (long long)c->connect_ms,
                 (long long)c->setup_ms);
    if (!bc_sb_failed(&o))
        ctx->svc->output(ctx, BC_STREAM_STDOUT, bc_sb_str(&o), strlen(bc_sb_str(&o)));
    bc_sb_free(&o);
    return BC_OK;
}
