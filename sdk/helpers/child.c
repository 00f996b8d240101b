/*
 * Child processes of a host transport: the environment a command gets, a
 * session of its own with default signal dispositions, its output read from
 * non-blocking pipes as it arrives, and waiting for it (exit watched with a
 * pidfd when the kernel has one) while honouring a deadline and a
 * cancellation fd.  Shared by the local and slurm transports.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <benchctl/helpers.h>

extern char **environ;

char **bc_env_merge(const char *const *extra, const char *own)
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

void bc_fd_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

void bc_spawnattr_session(posix_spawnattr_t *attr)
{
    sigset_t def, none;
    sigemptyset(&def);
    int sigs[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGALRM, SIGQUIT, SIGCHLD};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&def, sigs[i]);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(attr, &def);
    posix_spawnattr_setsigmask(attr, &none);
    posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF |
                                       POSIX_SPAWN_SETSIGMASK);
}

void bc_tail_keep(char *tail, size_t size, size_t *len, const char *buf, size_t n)
{
    if (!tail || size < 2)
        return;
    size_t keep = size - 1;
    if (n > keep) {
        buf += n - keep;
        n = keep;
    }
    if (*len + n > keep) {
        size_t drop = *len + n - keep;
        memmove(tail, tail + drop, *len - drop);
        *len -= drop;
    }
    memcpy(tail + *len, buf, n);
    *len += n;
    tail[*len] = '\0';
}

ssize_t bc_fd_pump(int *fd, int stream, bc_sink_fn sink, void *arg)
{
    char buf[65536];
    ssize_t total = 0;
    while (*fd >= 0) {
        ssize_t n = read(*fd, buf, sizeof buf);
        if (n > 0) {
            if (sink)
                sink(arg, stream, buf, (size_t)n);
            total += n;
            if ((size_t)n < sizeof buf)
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        /* end of file, or EIO from a PTY whose last slave closed */
        close(*fd);
        *fd = -1;
    }
    return total;
}

int bc_child_reap(bc_child *c, int options)
{
    if (c->exited)
        return 1;
    pid_t r;
    do
        r = wait4(c->pid, &c->status, options, &c->ru);
    while (r < 0 && errno == EINTR);
    if (r == c->pid) {
        c->exited = 1;
        return 1;
    }
    return 0;
}

void bc_child_drain(bc_child *c, int out_stream, int err_stream, bc_sink_fn sink, void *arg)
{
    while (bc_fd_pump(&c->out_fd, out_stream, sink, arg) > 0)
        ;
    while (bc_fd_pump(&c->err_fd, err_stream, sink, arg) > 0)
        ;
}

int bc_child_wait(bc_child *c, int64_t timeout_ms, int cancel_fd, int (*cancelled)(void *),
                  int out_stream, int err_stream, bc_sink_fn sink, void *arg)
{
    int64_t deadline = timeout_ms >= 0 ? bc_mono_ms() + timeout_ms : -1;
    while (!c->exited) {
        struct pollfd fds[4];
        int n = 0, i_out = -1, i_err = -1, i_pid = -1;
        if (c->out_fd >= 0) {
            fds[n] = (struct pollfd){.fd = c->out_fd, .events = POLLIN};
            i_out = n++;
        }
        if (c->err_fd >= 0) {
            fds[n] = (struct pollfd){.fd = c->err_fd, .events = POLLIN};
            i_err = n++;
        }
        if (c->pidfd >= 0) {
            fds[n] = (struct pollfd){.fd = c->pidfd, .events = POLLIN};
            i_pid = n++;
        }
        if (cancel_fd >= 0)
            fds[n++] = (struct pollfd){.fd = cancel_fd, .events = POLLIN};
        int wait_ms = -1;
        if (deadline >= 0) {
            int64_t left = deadline - bc_mono_ms();
            wait_ms = left < 0 ? 0 : (int)left;
        }
        if (c->pidfd < 0 && (wait_ms < 0 || wait_ms > 20))
            wait_ms = 20; /* no pidfd: look for the exit regularly */
        int r = poll(fds, (nfds_t)n, wait_ms);
        if (r < 0 && errno != EINTR)
            return BC_CHILD_ERROR;
        if (r > 0) {
            if (i_out >= 0 && fds[i_out].revents)
                bc_fd_pump(&c->out_fd, out_stream, sink, arg);
            if (i_err >= 0 && fds[i_err].revents)
                bc_fd_pump(&c->err_fd, err_stream, sink, arg);
            if (i_pid >= 0 && fds[i_pid].revents)
                bc_child_reap(c, WNOHANG);
        }
        /* Without a pidfd, or once both pipes are closed: look directly
         * (blocking only when nothing else could wake us). */
        if (c->pidfd < 0 || (c->out_fd < 0 && c->err_fd < 0))
            bc_child_reap(c, c->out_fd < 0 && c->err_fd < 0 && c->pidfd < 0 ? 0 : WNOHANG);
        if (c->exited)
            break;
        if (cancelled && cancelled(arg))
            return BC_CHILD_CANCELLED;
        if (deadline >= 0 && bc_mono_ms() >= deadline)
            return BC_CHILD_TIMEOUT;
    }
    bc_child_drain(c, out_stream, err_stream, sink, arg);
    return BC_CHILD_EXITED;
}
