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
    bc_spawnattr_session(&attr);
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
        bc_fd_nonblock(*out_fd);
    }
    if (err_fd) {
        *err_fd = errp[0];
        errp[0] = -1;
        bc_fd_nonblock(*err_fd);
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

typedef struct pump_to {
    bc_ctx *ctx;
    char *tail;
    size_t tail_size, *tail_len;
} pump_to;

static void pump_sink(void *arg, int stream, const char *buf, size_t len)
{
    pump_to *t = arg;
    if (t->ctx)
        t->ctx->svc->output(t->ctx, stream, buf, len);
    if (t->tail)
        bc_tail_keep(t->tail, t->tail_size, t->tail_len, buf, len);
}

ssize_t sl_pump(bc_ctx *ctx, int *fd, int stream, char *tail, size_t tail_size,
                size_t *tail_len)
{
    pump_to t = {ctx, tail, tail_size, tail_len};
    return bc_fd_pump(fd, stream, pump_sink, &t);
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
