/*
 * Running Slurm's client commands as child processes: each in a session of
 * its own (a Ctrl-C on the terminal reaches benchctl, which decides, never
 * srun directly: srun would take the first SIGINT as a status request and
 * the second as a cancel), output on non-blocking pipes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "slurmint.h"

extern char **environ;

char **sl_make_env(const char *const *extra, const char *own)
{
    size_t n = 0, m = 0;
    while (environ[n])
        n++;
    while (extra && extra[m])
        m++;
    char **env = calloc(n + m + 2, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t len = eq ? (size_t)(eq - environ[i]) + 1 : strlen(environ[i]);
        int overridden = 0;
        for (size_t j = 0; j < m && !overridden; j++)
            overridden = strncmp(extra[j], environ[i], len) == 0;
        if (!overridden)
            env[k++] = environ[i];
    }
    if (own)
        env[k++] = (char *)own;
    for (size_t j = 0; j < m; j++)
        env[k++] = (char *)extra[j];
    env[k] = NULL;
    return env;
}

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int sl_spawn(bc_ctx *ctx, char *const argv[], char *const envp[], const char *workdir,
             pid_t *pid, int *in_fd, int *out_fd, int *err_fd)
{
    int inp[2] = {-1, -1}, outp[2] = {-1, -1}, errp[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    int rc = BC_ERR;
    if ((in_fd && pipe2(inp, O_CLOEXEC) != 0) || (out_fd && pipe2(outp, O_CLOEXEC) != 0) ||
        (err_fd && pipe2(errp, O_CLOEXEC) != 0)) {
        bc_error(ctx, "cannot create pipes: %s", strerror(errno));
        goto out;
    }
    if (in_fd)
        posix_spawn_file_actions_adddup2(&fa, inp[0], 0);
    else
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (out_fd)
        posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
    else
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (err_fd)
        posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
    else
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    if (workdir)
        posix_spawn_file_actions_addchdir_np(&fa, workdir);
    sigset_t def, none;
    sigemptyset(&def);
    int sigs[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGALRM, SIGQUIT, SIGCHLD};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&def, sigs[i]);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &def);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF |
                                        POSIX_SPAWN_SETSIGMASK);
    int err = posix_spawnp(pid, argv[0], &fa, &attr, argv, envp ? envp : environ);
    if (err != 0) {
        bc_error(ctx, "cannot run '%s'%s: %s", argv[0],
                 err == ENOENT ? " (is Slurm's client installed and on PATH?)" : "",
                 strerror(err));
        goto out;
    }
    if (in_fd) {
        *in_fd = inp[1]; /* close-on-exec: no other child holds it */
        inp[1] = -1;
    }
    if (out_fd) {
        *out_fd = outp[0];
        outp[0] = -1;
        set_nonblock(*out_fd);
    }
    if (err_fd) {
        *err_fd = errp[0];
        errp[0] = -1;
        set_nonblock(*err_fd);
    }
    rc = BC_OK;
out:
    for (int i = 0; i < 2; i++) {
        if (inp[i] >= 0)
            close(inp[i]);
        if (outp[i] >= 0)
            close(outp[i]);
        if (errp[i] >= 0)
            close(errp[i]);
    }
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return rc;
}

ssize_t sl_pump(bc_ctx *ctx, int *fd, int stream, char *tail, size_t tail_size,
                size_t *tail_len)
{
    char buf[65536];
    ssize_t total = 0;
    while (*fd >= 0) {
        ssize_t n = read(*fd, buf, sizeof buf);
        if (n > 0) {
            if (ctx)
                ctx->svc->output(ctx, stream, buf, (size_t)n);
            if (tail && tail_size > 1) {
                /* keep the last tail_size - 1 bytes */
                size_t keep = tail_size - 1, add = (size_t)n;
                const char *src = buf;
                if (add > keep) {
                    src += add - keep;
                    add = keep;
                }
                if (*tail_len + add > keep) {
                    size_t drop = *tail_len + add - keep;
                    memmove(tail, tail + drop, *tail_len - drop);
                    *tail_len -= drop;
                }
                memcpy(tail + *tail_len, src, add);
                *tail_len += add;
                tail[*tail_len] = '\0';
            }
            total += n;
            if ((size_t)n < sizeof buf)
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        close(*fd);
        *fd = -1;
    }
    return total;
}

int sl_capture(bc_ctx *ctx, char *const argv[], int64_t timeout_ms, int cancellable, int *status,
               char *out, size_t out_size, char *err, size_t err_size)
{
    char dummy[2];
    if (!out || out_size < 2) {
        out = dummy;
        out_size = sizeof dummy;
    }
    char edummy[2];
    if (!err || err_size < 2) {
        err = edummy;
        err_size = sizeof edummy;
    }
    out[0] = err[0] = '\0';
    size_t olen = 0, elen = 0;
    pid_t pid;
    int ofd = -1, efd = -1;
    if (sl_spawn(ctx, argv, NULL, NULL, &pid, NULL, &ofd, &efd) != BC_OK)
        return BC_ERR;
    /* Output beyond out_size is read and dropped (first bytes kept). */
    int64_t deadline = timeout_ms >= 0 ? bc_mono_ms() + timeout_ms : -1;
    int cfd = cancellable ? ctx->svc->cancel_fd(ctx) : -1;
    int rc = BC_OK;
    while (ofd >= 0 || efd >= 0) {
        struct pollfd fds[3];
        int n = 0, io = -1, ie = -1;
        if (ofd >= 0) {
            fds[n] = (struct pollfd){.fd = ofd, .events = POLLIN};
            io = n++;
        }
        if (efd >= 0) {
            fds[n] = (struct pollfd){.fd = efd, .events = POLLIN};
            ie = n++;
        }
        if (cfd >= 0)
            fds[n++] = (struct pollfd){.fd = cfd, .events = POLLIN};
        int wait_ms = 200;
        if (deadline >= 0) {
            int64_t left = deadline - bc_mono_ms();
            if (left < wait_ms)
                wait_ms = left < 0 ? 0 : (int)left;
        }
        poll(fds, (nfds_t)n, wait_ms);
        int *fdp[2] = {io >= 0 ? &ofd : NULL, ie >= 0 ? &efd : NULL};
        char *dst[2] = {out, err};
        size_t *len[2] = {&olen, &elen};
        size_t cap[2] = {out_size, err_size};
        for (int s = 0; s < 2; s++) {
            if (!fdp[s])
                continue;
            for (;;) {
                char buf[4096];
                ssize_t r = read(*fdp[s], buf, sizeof buf);
                if (r > 0) {
                    size_t room = cap[s] - 1 - *len[s];
                    size_t take = (size_t)r < room ? (size_t)r : room;
                    memcpy(dst[s] + *len[s], buf, take);
                    *len[s] += take;
                    dst[s][*len[s]] = '\0';
                    continue;
                }
                if (r < 0 && errno == EINTR)
                    continue;
                if (r < 0 && errno == EAGAIN)
                    break;
                close(*fdp[s]);
                *fdp[s] = -1;
                break;
            }
        }
        if (cancellable && ctx->svc->cancelled(ctx)) {
            rc = BC_CANCELLED;
            break;
        }
        if (deadline >= 0 && bc_mono_ms() >= deadline) {
            rc = BC_TIMEOUT;
            break;
        }
    }
    if (ofd >= 0)
        close(ofd);
    if (efd >= 0)
        close(efd);
    if (rc != BC_OK)
        kill(-pid, SIGKILL);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (status)
        *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return rc;
}
