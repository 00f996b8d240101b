/*
 * The gnuplot child: spawned without a shell (posix_spawnp), commands and
 * data written to its stdin through a pipe, its stderr captured through
 * another for error messages.  Writes are buffered and flushed with poll()
 * on stdin, stderr and the run's cancel fd at once, so a chatty gnuplot
 * cannot dead-lock us and Ctrl-C stops it promptly.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gp.h"

extern char **environ;

#define BUF_SIZE (64 * 1024)

/* Keep the first bytes of gnuplot's stderr (the first error is the one
 * that matters); drain the rest. */
static void read_err(gp_proc *p)
{
    char tmp[4096];
    for (;;) {
        ssize_t r = read(p->err_fd, tmp, sizeof tmp);
        if (r > 0) {
            size_t room = sizeof p->err - 1 - p->errlen;
            size_t k = (size_t)r < room ? (size_t)r : room;
            memcpy(p->err + p->errlen, tmp, k);
            p->errlen += k;
            p->err[p->errlen] = '\0';
            continue;
        }
        if (r == 0) {
            close(p->err_fd);
            p->err_fd = -1;
        }
        return; /* EOF, EAGAIN or an error */
    }
}

static bool is_cancelled(gp_proc *p)
{
    if (!p->cancelled && p->ctx->svc->cancelled(p->ctx))
        p->cancelled = true;
    return p->cancelled;
}

/* Write the buffer out, serving stderr and watching for cancellation. */
static void flush(gp_proc *p)
{
    size_t off = 0;
    while (off < p->len && !p->broken && !p->cancelled) {
        struct pollfd fds[3];
        int n = 0;
        fds[n++] = (struct pollfd){.fd = p->in_fd, .events = POLLOUT};
        int ei = -1, ci = -1;
        if (p->err_fd >= 0) {
            ei = n;
            fds[n++] = (struct pollfd){.fd = p->err_fd, .events = POLLIN};
        }
        if (p->cancel_fd >= 0) {
            ci = n;
            fds[n++] = (struct pollfd){.fd = p->cancel_fd, .events = POLLIN};
        }
        /* Without a cancel fd, wake up now and then to ask. */
        int r = poll(fds, (nfds_t)n, p->cancel_fd >= 0 ? -1 : 200);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            p->broken = true;
            break;
        }
        if ((ci >= 0 && fds[ci].revents) || (r == 0 && is_cancelled(p))) {
            p->cancelled = true;
            break;
        }
        if (ei >= 0 && fds[ei].revents)
            read_err(p);
        if (fds[0].revents & (POLLERR | POLLNVAL)) {
            p->broken = true;
            break;
        }
        if (fds[0].revents & (POLLOUT | POLLHUP)) {
            ssize_t w = write(p->in_fd, p->buf + off, p->len - off);
            if (w > 0)
                off += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EINTR)
                p->broken = true; /* EPIPE: gnuplot exited */
        }
    }
    p->len = 0;
}

void gp_write(gp_proc *p, const char *s, size_t n)
{
    if (p->tee && n > 0)
        fwrite(s, 1, n, p->tee);
    while (n > 0) {
        if (p->broken || p->cancelled)
            return;
        size_t room = BUF_SIZE - p->len;
        size_t k = n < room ? n : room;
        memcpy(p->buf + p->len, s, k);
        p->len += k;
        s += k;
        n -= k;
        if (p->len == BUF_SIZE)
            flush(p);
    }
}

void gp_printf(gp_proc *p, const char *fmt, ...)
{
    char tmp[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        gp_write(p, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big)
        return;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    gp_write(p, big, (size_t)n);
    free(big);
}

void gp_quote(gp_proc *p, const char *s)
{
    gp_write(p, "'", 1);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '\'')
            gp_write(p, "''", 2);
        else if (ch < 0x20 || ch == 0x7f)
            gp_write(p, " ", 1);
        else
            gp_write(p, s, 1);
    }
    gp_write(p, "'", 1);
}

int gp_start(gp_proc *p, bc_ctx *ctx, const char *path)
{
    memset(p, 0, sizeof *p);
    p->ctx = ctx;
    p->pid = -1;
    p->in_fd = p->err_fd = -1;
    p->cancel_fd = ctx->svc->cancel_fd ? ctx->svc->cancel_fd(ctx) : -1;
    const char *prog = path && *path ? path : "gnuplot";
    int in[2] = {-1, -1}, er[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(er, O_CLOEXEC) != 0) {
        bc_error(ctx, "cannot create a pipe for gnuplot: %s", strerror(errno));
        goto fail;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, er[1], STDERR_FILENO);
    posix_spawnattr_init(&at);
    /* Its own process group (Ctrl-C reaches benchctl, which stops it), no
     * blocked signals, and SIGPIPE back to its default. */
    sigset_t none, def;
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGTERM);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP);
    /* -d: ignore ~/.gnuplot and the system gnuplotrc, for reproducible plots. */
    char *argv[] = {(char *)prog, (char *)"-d", NULL};
    int rc = strchr(prog, '/') ? posix_spawn(&p->pid, prog, &fa, &at, argv, environ)
                               : posix_spawnp(&p->pid, prog, &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc != 0) {
        p->pid = -1;
        if (!path || !*path) {
            if (rc == ENOENT)
                bc_error(ctx, "gnuplot not found on PATH (install gnuplot-nox, or set the "
                              "option gnuplot_path)");
            else
                bc_error(ctx, "cannot run gnuplot from PATH: %s", strerror(rc));
        } else {
            bc_error(ctx, "cannot run gnuplot_path '%s': %s%s", prog, strerror(rc),
                     rc == ENOENT ? " (no such file; install gnuplot-nox or fix the option)"
                                  : "");
        }
        goto fail;
    }
    close(in[0]);
    close(er[1]);
    p->in_fd = in[1];
    p->err_fd = er[0];
    fcntl(p->in_fd, F_SETFL, fcntl(p->in_fd, F_GETFL) | O_NONBLOCK);
    fcntl(p->err_fd, F_SETFL, fcntl(p->err_fd, F_GETFL) | O_NONBLOCK);
    p->buf = malloc(BUF_SIZE);
    if (!p->buf) {
        bc_error(ctx, "out of memory");
        gp_abort(p);
        return BC_ERR;
    }
    return BC_OK;
fail:
    for (int i = 0; i < 2; i++) {
        if (in[i] >= 0)
            close(in[i]);
        if (er[i] >= 0)
            close(er[i]);
    }
    return BC_ERR;
}

static void close_fds(gp_proc *p)
{
    if (p->in_fd >= 0)
        close(p->in_fd);
    if (p->err_fd >= 0)
        close(p->err_fd);
    p->in_fd = p->err_fd = -1;
    free(p->buf);
    p->buf = NULL;
}

void gp_abort(gp_proc *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGKILL);
        while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        p->pid = -1;
    }
    close_fds(p);
}

/* The first lines of gnuplot's stderr, trimmed, on one line; the caret
 * lines pointing into the echoed command are left out. */
static void err_excerpt(const gp_proc *p, char *out, size_t n)
{
    size_t o = 0;
    int lines = 0;
    bool space = false;
    for (size_t i = 0; i < p->errlen && o + 1 < n && lines < 6; i++) {
        char ch = p->err[i];
        if (i == 0 || p->err[i - 1] == '\n') {
            size_t e = i;
            while (e < p->errlen && (p->err[e] == ' ' || p->err[e] == '\t'))
                e++;
            if (e < p->errlen && p->err[e] == '^' &&
                (e + 1 == p->errlen || p->err[e + 1] == '\n')) {
                i = e; /* skip the caret line */
                continue;
            }
        }
        if (ch == '\n') {
            lines++;
            space = true;
            continue;
        }
        if (ch == ' ' || ch == '\t' || ch == '\r') {
            space = true;
            continue;
        }
        if (space && o > 0 && o + 2 < n)
            out[o++] = ' ';
        space = false;
        out[o++] = ch;
    }
    out[o] = '\0';
}

int gp_finish(gp_proc *p, const char *what)
{
    if (!p->broken && !p->cancelled)
        flush(p);
    if (p->in_fd >= 0) {
        close(p->in_fd);
        p->in_fd = -1;
    }
    /* Read stderr until gnuplot closes it (it exits after end of input). */
    while (p->err_fd >= 0 && !p->cancelled) {
        struct pollfd fds[2] = {{.fd = p->err_fd, .events = POLLIN},
                                {.fd = p->cancel_fd, .events = POLLIN}};
        int r = poll(fds, p->cancel_fd >= 0 ? 2 : 1, p->cancel_fd >= 0 ? -1 : 200);
        if (r < 0 && errno != EINTR)
            break;
        if ((r > 0 && fds[1].revents && p->cancel_fd >= 0) || (r == 0 && is_cancelled(p))) {
            p->cancelled = true;
            break;
        }
        if (r > 0 && fds[0].revents)
            read_err(p);
    }
    if (p->cancelled || is_cancelled(p)) {
        gp_abort(p);
        return BC_CANCELLED;
    }
    int status = 0;
    pid_t w;
    while ((w = waitpid(p->pid, &status, 0)) < 0 && errno == EINTR)
        ;
    p->pid = -1;
    close_fds(p);
    char excerpt[1024];
    err_excerpt(p, excerpt, sizeof excerpt);
    if (w < 0) {
        bc_error(p->ctx, "gnuplot failed drawing %s: cannot wait for it: %s", what,
                 strerror(errno));
        return BC_ERR;
    }
    if (WIFSIGNALED(status)) {
        bc_error(p->ctx, "gnuplot was killed by signal %d while drawing %s%s%s",
                 WTERMSIG(status), what, *excerpt ? ": " : "", excerpt);
        return BC_ERR;
    }
    if (WEXITSTATUS(status) != 0 || (p->broken && *excerpt)) {
        bc_error(p->ctx, "gnuplot failed drawing %s (exit status %d)%s%s", what,
                 WEXITSTATUS(status), *excerpt ? ": " : "", excerpt);
        return BC_ERR;
    }
    if (*excerpt)
        bc_log(p->ctx, BC_LOG_DEBUG, "gnuplot said while drawing %s: %s", what, excerpt);
    return BC_OK;
}
