/*
 * Processes of a run left on this machine: every process a stage starts
 * carries the run's marker in its environment (BENCHCTL_RUN_MARK=<a random
 * token of this run>), whatever it does with its process group or session
 * (`setsid`, double forks).  At the end of a run they are stopped here; and
 * a watchdog process (`benchctl __watchdog`, named benchctl-watch), started
 * with the run, stops them when benchctl itself dies (kill -9, OOM) and can
 * no longer do it, and removes the run's private directories on this
 * machine.  Watchdogs are never stopped by marker: a nested run's
 * watchdog, which inherited the outer run's marker, cleans up after its
 * own run.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run/run.h"
#include "util/log.h"

/* Does process pid's environment hold the entry `marker` exactly?  (The
 * whole environment is read: the stage's own variables may come last.) */
static bool has_marker(const char *pid, const char *marker, size_t mlen)
{
    char path[300];
    snprintf(path, sizeof path, "/proc/%s/environ", pid);
    size_t n = 0;
    char *buf = read_file(path, &n);
    bool found = false;
    for (size_t i = 0; buf && i < n && !found; i += strlen(buf + i) + 1)
        found = strlen(buf + i) == mlen && memcmp(buf + i, marker, mlen) == 0;
    free(buf);
    return found;
}

/* Is pid a watchdog (its own run's business)? */
static bool is_watchdog(const char *pid)
{
    char path[300], comm[32] = "";
    snprintf(path, sizeof path, "/proc/%s/comm", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, comm, sizeof comm - 1);
    close(fd);
    return n > 0 && strncmp(comm, "benchctl-watch", 14) == 0;
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
        if (has_marker(de->d_name, marker, mlen) && !is_watchdog(de->d_name) &&
            kill((pid_t)pid, sig) == 0)
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

int leftovers_stop_mark(const char *mark, long grace_ms)
{
    char *marker = xasprintf("BENCHCTL_RUN_MARK=%s", mark);
    int n = stop_marked(marker, -1, grace_ms);
    free(marker);
    return n;
}

static char *marker_of(const run *r)
{
    return xasprintf("BENCHCTL_RUN_MARK=%s", r->mark);
}

/* The private directories of the run's hosts on this machine (the
 * controller's, recorded in run_dir's LAYOUT_PRIVATE_DIRS as they opened):
 * removed when benchctl died, as the SSH dispatcher does on its host. */
static void remove_local_private_dirs(const char *run_dir)
{
    char *path = path_join(run_dir, LAYOUT_PRIVATE_DIRS);
    char *text = read_file(path, NULL);
    free(path);
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        cJSON *l = cJSON_Parse(line);
        const char *d = cJSON_GetStringValue(cJSON_GetObjectItem(l, "private_dir"));
        struct stat st;
        if (d && cJSON_IsTrue(cJSON_GetObjectItem(l, "controller")) && run_private_dir_name(d) &&
            lstat(d, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid())
            run_remove_tree(d);
        cJSON_Delete(l);
    }
    free(text);
}

int engine_watchdog(const char *fd_text, const char *marker, const char *run_dir)
{
    /* Until benchctl closes its end (or dies), nothing.  A signal to the
     * terminal's process group is benchctl's to handle. */
    prctl(PR_SET_NAME, "benchctl-watch");
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    int64_t fd;
    if (!parse_int64(fd_text, &fd) || fd < 0 || fd > 1 << 20)
        return 2;
    char c;
    ssize_t got;
    while ((got = read((int)fd, &c, 1)) < 0 && errno == EINTR)
        ;
    if (got == 0) { /* EOF without the word: benchctl died */
        stop_marked(marker, -1, 2000);
        if (run_dir)
            remove_local_private_dirs(run_dir);
    }
    return 0;
}

void leftovers_watch(run *r)
{
    int p[2];
    r->watch_fd = -1;
    r->watch_pid = -1;
    if (!r->bin || pipe2(p, O_CLOEXEC) != 0)
        return;
    char *marker = marker_of(r);
    pid_t pid = fork();
    if (pid == 0) {
        /* A fresh program (no copy of benchctl's state, its command line or
         * its locks): the pipe's read end as fd 3 or above, kept on exec. */
        int fd = fcntl(p[0], F_DUPFD, 3);
        char fd_text[16];
        snprintf(fd_text, sizeof fd_text, "%d", fd);
        execl(r->bin, "benchctl-watch", "__watchdog", fd_text, marker, r->dir, (char *)NULL);
        _exit(127);
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
        /* It ends on its own at the word; benchctl ends right after and
         * does not wait for it (init reaps it). */
        waitpid(r->watch_pid, NULL, WNOHANG);
        r->watch_pid = -1;
    }
}
