/*
 * Processes of a run left on this machine: every process a local stage
 * starts carries the run's marker in its environment
 * (BENCHCTL_RUN_DIR=<run dir>), whatever it does with its process group or
 * session (`setsid`, double forks).  At the end of a run they are stopped
 * here; and a watchdog process, started with the run, stops them when
 * benchctl itself dies (kill -9, OOM) and can no longer do it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run/run.h"
#include "util/log.h"

/* Does process pid's environment hold the entry `marker` exactly? */
static bool has_marker(const char *pid, const char *marker, size_t mlen)
{
    char path[64], buf[65536];
    snprintf(path, sizeof path, "/proc/%s/environ", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    for (size_t i = 0; i < (size_t)n; i += strlen(buf + i) + 1)
        if (strlen(buf + i) == mlen && memcmp(buf + i, marker, mlen) == 0)
            return true;
    return false;
}

/* Send sig to every process with the marker except `spare` (and us);
 * returns how many there were. */
static int signal_marked(const char *marker, pid_t spare, int sig)
{
    size_t mlen = strlen(marker);
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    pid_t self = getpid();
    while ((de = readdir(d))) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || pid <= 1 || pid == self || pid == spare)
            continue;
        if (has_marker(de->d_name, marker, mlen) && kill((pid_t)pid, sig) == 0)
            n++;
    }
    closedir(d);
    return n;
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* SIGTERM, up to grace_ms for them to go, then SIGKILL.  Returns how many
 * processes had the marker. */
static int stop_marked(const char *marker, pid_t spare, long grace_ms)
{
    int n = signal_marked(marker, spare, SIGTERM);
    for (long waited = 0; n && waited < grace_ms; waited += 20) {
        nap_ms(20);
        if (signal_marked(marker, spare, 0) == 0)
            return n;
    }
    if (n)
        signal_marked(marker, spare, SIGKILL);
    return n;
}

static char *marker_of(const run *r)
{
    return xasprintf("BENCHCTL_RUN_DIR=%s", r->dir);
}

void leftovers_watch(run *r)
{
    int p[2];
    r->watch_fd = -1;
    r->watch_pid = -1;
    if (pipe2(p, O_CLOEXEC) != 0)
        return;
    char *marker = marker_of(r);
    pid_t pid = fork();
    if (pid == 0) {
        /* The watchdog: until benchctl closes its end (or dies), nothing. */
        close(p[1]);
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        prctl(PR_SET_NAME, "benchctl-watch");
        char c;
        ssize_t got;
        while ((got = read(p[0], &c, 1)) < 0 && errno == EINTR)
            ;
        if (got == 0) /* EOF without the word: benchctl died */
            stop_marked(marker, -1, 2000);
        _exit(0);
    }
    free(marker);
    close(p[0]);
    if (pid < 0) {
        close(p[1]);
        return;
    }
    r->watch_fd = p[1];
    r->watch_pid = pid;
}

void leftovers_stop(run *r)
{
    if (!r->dir)
        return;
    char *marker = marker_of(r);
    int n = stop_marked(marker, r->watch_pid, GRACE_STAGE_MS);
    free(marker);
    if (n)
        log_msg(BC_LOG_WARN, "stopped %d process%s the run's stages left on this machine (outside "
                "their process groups: setsid, daemons)", n, n == 1 ? "" : "es");
    if (r->watch_fd >= 0) {
        /* The word, then EOF: the run ended, nothing to do. */
        if (write(r->watch_fd, "x", 1) != 1)
            log_msg(BC_LOG_DEBUG, "watchdog: %s", strerror(errno));
        close(r->watch_fd);
        r->watch_fd = -1;
    }
    if (r->watch_pid > 0) {
        while (waitpid(r->watch_pid, NULL, 0) < 0 && errno == EINTR)
            ;
        r->watch_pid = -1;
    }
}
