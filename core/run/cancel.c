/* Cancellation of a run (cancel.h). */
#define _GNU_SOURCE
#include "run/cancel.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static cancel *volatile current; /* the run being cancelled by signals */

static void on_signal(int sig)
{
    int saved = errno;
    cancel *c = current;
    if (c) {
        if (sig == SIGALRM)
            c->timeout = 1;
        else
            c->signals++;
        if (c->pipe[1] >= 0) {
            char b = 1;
            ssize_t r = write(c->pipe[1], &b, 1);
            (void)r;
        }
    }
    errno = saved;
}

void cancel_fail(cancel *c)
{
    c->failed = 1;
    if (c->pipe[1] >= 0) {
        char b = 1;
        ssize_t r = write(c->pipe[1], &b, 1);
        (void)r;
    }
}

bool cancel_by_failure(const cancel *c) { return c->failed && !c->signals; }

static void set_timer(int64_t ms)
{
    struct itimerval it = {{0, 0}, {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)}};
    setitimer(ITIMER_REAL, &it, NULL);
}

void cancel_start(cancel *c, int64_t timeout_ms)
{
    c->signals = 0;
    c->timeout = 0;
    c->failed = 0;
    if (pipe2(c->pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        c->pipe[0] = c->pipe[1] = -1;
    current = c;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    if (timeout_ms > 0)
        set_timer(timeout_ms);
}

void cancel_stop(cancel *c)
{
    set_timer(0);
    /* The handlers stay: a signal from now to the process's exit is
     * ignored, and the run's exit code stands. */
    current = NULL;
    for (int i = 0; i < 2; i++)
        if (c->pipe[i] >= 0)
            close(c->pipe[i]);
    c->pipe[0] = c->pipe[1] = -1;
}

int cancel_requested(const cancel *c) { return c && (c->signals > 0 || c->timeout || c->failed); }

int cancel_fd(const cancel *c) { return c ? c->pipe[0] : -1; }

bool cancel_by_timeout(const cancel *c) { return c->timeout && !c->signals && !c->failed; }

int cancel_rearm(cancel *c)
{
    set_timer(0);
    char buf[64];
    while (c->pipe[0] >= 0 && read(c->pipe[0], buf, sizeof buf) > 0)
        ;
    int n = c->signals;
    c->signals = 0;
    c->timeout = 0;
    c->failed = 0;
    return n;
}
