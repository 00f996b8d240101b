/*
 * The daemon's life: state directory and its lock, the socket, the
 * journal's replay, detaching, and the one poll loop (socket, clients,
 * signals through a signalfd, deadlines).  Single-threaded: the parent
 * death signal of each task's run is tied to this thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon_impl.h"
#include "util/cpulist.h"

int64_t dmn_wall_ms(void) { return wall_ns() / 1000000; }
int64_t dmn_mono_ms(void) { return mono_ns() / 1000000; }

void dmn_log(const char *fmt, ...)
{
    char ts[64];
    format_rfc3339(wall_ns(), ts, sizeof ts);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s benchctl daemon: ", ts);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
}

char *daemon_default_state_dir(void)
{
    if (geteuid() == 0)
        return xstrdup("/var/lib/benchctl/queue");
    const char *xdg = getenv("XDG_STATE_HOME");
    if (xdg && xdg[0] == '/')
        return xasprintf("%s/benchctl/queue", xdg);
    const char *home = getenv("HOME");
    return xasprintf("%s/.local/state/benchctl/queue", home && *home ? home : "/tmp");
}

static void warn_line(const char *msg) { dmn_log("%s", msg); }

/* The state directory, its lock, the journal.  false (reported). */
static bool open_state(qdaemon *d)
{
    d->tasks_dir = path_join(d->state_dir, "tasks");
    d->logs_dir = path_join(d->state_dir, "logs");
    /* Traversable: a task's user reads its generated config and log here. */
    if (!mkdir_p(d->state_dir, 0755) || !mkdir_p(d->tasks_dir, 0755) ||
        !mkdir_p(d->logs_dir, 0755)) {
        fprintf(stderr, "benchctl daemon: cannot create the state directory %s: %s\n",
                d->state_dir, strerror(errno));
        return false;
    }
    /* As root, a state directory someone else can write to could plant
     * tasks (run as their recorded user) or links: refused. */
    struct stat sd;
    if (geteuid() == 0 && (lstat(d->state_dir, &sd) != 0 || !S_ISDIR(sd.st_mode) ||
                           sd.st_uid != 0 || (sd.st_mode & 022) != 0)) {
        fprintf(stderr, "benchctl daemon: the state directory %s must be a directory owned by "
                        "root and writable by no one else (chown root and chmod go-w it, or "
                        "choose another --state DIR)\n", d->state_dir);
        return false;
    }
    char *lock = path_join(d->state_dir, "daemon.lock");
    d->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (d->lock_fd < 0 || flock(d->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "benchctl daemon: %s: %s\n", lock,
                d->lock_fd < 0 ? strerror(errno)
                               : "another daemon uses this state directory (--state DIR)");
        free(lock);
        return false;
    }
    free(lock);
    char *err = NULL;
    if (!journal_open(&d->j, d->state_dir, &d->tasks, &d->next_id, warn_line, &err)) {
        fprintf(stderr, "benchctl daemon: %s\n", err);
        free(err);
        return false;
    }
    return true;
}

/* Bind the socket (mode 0660).  false (reported). */
static bool open_socket(qdaemon *d)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    const char *path = d->socket_path;
    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "benchctl daemon: socket path %s is too long (at most %zu bytes)\n",
                path, sizeof sa.sun_path - 1);
        return false;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    char *dir = dir_name(path);
    bool ok = mkdir_p(dir, 0755);
    free(dir);
    if (!ok) {
        fprintf(stderr, "benchctl daemon: cannot create the directory of %s: %s\n", path,
                strerror(errno));
        return false;
    }
    struct stat st;
    if (lstat(path, &st) == 0) {
        char *err = NULL;
        int fd = S_ISSOCK(st.st_mode) ? proto_connect(path, &err) : -1;
        free(err);
        if (fd >= 0) {
            close(fd);
            fprintf(stderr, "benchctl daemon: a daemon already listens on %s\n", path);
            return false;
        }
        if (!S_ISSOCK(st.st_mode)) {
            fprintf(stderr, "benchctl daemon: %s exists and is not a socket\n", path);
            return false;
        }
        unlink(path); /* a stale socket of a daemon that died */
    }
    d->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    mode_t old = umask(0117);
    int rc = d->listen_fd < 0 ? -1 : bind(d->listen_fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc != 0 || chmod(path, 0660) != 0 || listen(d->listen_fd, 128) != 0) {
        fprintf(stderr, "benchctl daemon: cannot listen on %s: %s\n", path, strerror(errno));
        return false;
    }
    if (d->o->socket_group) {
        struct group *g = getgrnam(d->o->socket_group);
        if (!g || chown(path, (uid_t)-1, g->gr_gid) != 0) {
            fprintf(stderr, "benchctl daemon: cannot give %s to group %s: %s\n", path,
                    d->o->socket_group, g ? strerror(errno) : "no such group");
            unlink(path);
            return false;
        }
    }
    return true;
}

static bool open_signals(qdaemon *d)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    d->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (d->sig_fd < 0) {
        fprintf(stderr, "benchctl daemon: signalfd: %s\n", strerror(errno));
        return false;
    }
    return true;
}

static void on_signals(qdaemon *d)
{
    struct signalfd_siginfo si;
    while (read(d->sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
            runner_reap(d);
            continue;
        }
        if (si.ssi_signo == SIGHUP)
            continue; /* no configuration to reload */
        d->stopping++;
        dmn_log("%s: stopping (running tasks are stopped and marked interrupted; pending ones "
                "stay queued)%s", strsignal((int)si.ssi_signo),
                d->stopping > 1 ? " at once" : "");
        for (size_t i = 0; i < d->tasks.n; i++)
            runner_stop(d, d->tasks.v[i], TASK_INTERRUPTED, "the daemon was stopped");
    }
}

static size_t running_count(const qdaemon *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->tasks.n; i++)
        n += d->tasks.v[i]->state == TASK_RUNNING;
    return n;
}

static void loop(qdaemon *d)
{
    struct pollfd *pfd = NULL;
    size_t cap = 0;
    for (;;) {
        if (d->dirty)
            runner_schedule(d);
        if (d->stopping && running_count(d) == 0)
            break;
        int64_t wait = runner_tick(d);
        conn_reap(d);
        if (d->j.lines > 4 * d->tasks.n + 10000) {
            tasklist_trim(&d->tasks, (size_t)d->o->keep_finished);
            if (!journal_compact(&d->j, &d->tasks, d->next_id))
                dmn_log("cannot compact %s: %s", d->j.path, strerror(errno));
        }
        size_t n = 2 + d->nclients;
        if (n > cap) {
            cap = n * 2;
            pfd = xrealloc(pfd, cap * sizeof *pfd);
        }
        pfd[0] = (struct pollfd){.fd = d->stopping ? -1 : d->listen_fd, .events = POLLIN};
        pfd[1] = (struct pollfd){.fd = d->sig_fd, .events = POLLIN};
        for (size_t i = 0; i < d->nclients; i++) {
            client *c = d->clients[i];
            pfd[2 + i] = (struct pollfd){.fd = c->fd,
                                         .events = (short)((c->closing ? 0 : POLLIN) |
                                                           (c->out.len ? POLLOUT : 0))};
        }
        int rc = poll(pfd, n, wait < 0 ? -1 : (int)(wait > 60000 ? 60000 : wait + 1));
        if (rc < 0 && errno != EINTR) {
            dmn_log("poll: %s", strerror(errno));
            break;
        }
        if (rc <= 0)
            continue;
        if (pfd[1].revents)
            on_signals(d);
        size_t nc = d->nclients; /* accepting appends; serve those next round */
        for (size_t i = 0; i < nc; i++) {
            client *c = d->clients[i];
            short re = pfd[2 + i].revents;
            if (re & POLLOUT)
                conn_flush(c);
            if (re & (POLLIN | POLLHUP | POLLERR))
                conn_input(d, c);
            if ((re & (POLLHUP | POLLERR)) && !(re & POLLIN))
                c->closing = true, c->out.len = 0;
        }
        if (pfd[0].revents & POLLIN)
            for (int k = 0; k < 32; k++) {
                size_t before = d->nclients;
                conn_accept(d);
                if (d->nclients == before)
                    break;
            }
    }
    free(pfd);
}

/* Detach: the parent returns once the child listens (exit 0) or failed
 * (exit 1, its message relayed).  In the child, returns the pipe's write
 * end to report readiness on; in the parent, exits. */
static int detach(const char *log_path)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        fprintf(stderr, "benchctl daemon: pipe: %s\n", strerror(errno));
        exit(1);
    }
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "benchctl daemon: fork: %s\n", strerror(errno));
        exit(1);
    }
    if (pid > 0) {
        close(p[1]);
        char buf[4096];
        ssize_t n, total = 0;
        while ((n = read(p[0], buf + total, sizeof buf - 1 - (size_t)total)) > 0)
            total += n;
        buf[total > 0 ? total : 0] = '\0';
        /* Lines: warnings (to stderr), then "+" and the ready message. */
        bool up = false;
        for (char *line = buf, *nl; *line; line = nl) {
            nl = strchr(line, '\n');
            nl = nl ? nl + 1 : line + strlen(line);
            if (*line == '+') {
                up = true;
                fwrite(line + 1, 1, (size_t)(nl - line - 1), stdout);
            } else {
                fwrite(line, 1, (size_t)(nl - line), stderr);
            }
        }
        if (!up && total <= 0)
            fprintf(stderr, "benchctl daemon: failed to start\n");
        fflush(stdout);
        fflush(stderr);
        _exit(up ? 0 : 1); /* the daemon's state is the child's to free */
    }
    close(p[0]);
    setsid();
    int null = open("/dev/null", O_RDWR);
    if (null >= 0)
        dup2(null, STDIN_FILENO);
    int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (log >= 0)
        dup2(log, STDOUT_FILENO);
    /* stderr goes to the parent until ready, then to the log */
    return p[1];
}

int daemon_main(const daemon_options *o)
{
    qdaemon d = {.o = o, .listen_fd = -1, .sig_fd = -1, .lock_fd = -1};
    d.j.fd = -1;
    d.socket_path = proto_socket_path(o->socket_path);
    d.state_dir = o->state_dir ? abs_path(o->state_dir) : daemon_default_state_dir();
    d.self = realpath("/proc/self/exe", NULL);
    d.cpu_busy = xcalloc(o->ncpus, sizeof *d.cpu_busy);
    d.free_cpus = (int)o->ncpus;
    d.free_memory = o->memory;
    int code = 1, ready = -1;
    char *log_path = path_join(d.state_dir, "daemon.log");
    if (!o->foreground) {
        if (!mkdir_p(d.state_dir, 0755)) {
            fprintf(stderr, "benchctl daemon: cannot create %s: %s\n", d.state_dir,
                    strerror(errno));
            goto out;
        }
        ready = detach(log_path);
        dup2(ready, STDERR_FILENO); /* errors before ready reach the caller */
    }
    if (!d.self || !open_state(&d) || !open_signals(&d))
        goto out;
    runner_recover(&d);
    tasklist_trim(&d.tasks, (size_t)o->keep_finished);
    if (!journal_compact(&d.j, &d.tasks, d.next_id))
        dmn_log("cannot compact %s: %s (appending to it as it is)", d.j.path, strerror(errno));
    if (!open_socket(&d))
        goto out;
    size_t pending = 0;
    for (size_t i = 0; i < d.tasks.n; i++)
        pending += d.tasks.v[i]->state == TASK_PENDING;
    char *cpus = cpuset_format_ids(o->cpus, o->ncpus);
    char *hello = xasprintf("benchctl daemon: listening on %s (pid %d; CPUs %s%s, memory %lld "
                            "bytes; state %s; %zu pending)\n", d.socket_path, (int)getpid(), cpus,
                            o->pin ? "" : " unpinned", (long long)o->memory, d.state_dir, pending);
    free(cpus);
    if (ready >= 0) {
        char *msg = xasprintf("+%s", hello);
        write_all(ready, msg, strlen(msg));
        free(msg);
        int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (log >= 0) {
            dup2(log, STDERR_FILENO);
            close(log);
        }
        close(ready);
        ready = -1;
    }
    dmn_log("%.*s", (int)strlen(hello) - 1 - (int)strlen("benchctl daemon: "),
            hello + strlen("benchctl daemon: "));
    free(hello);
    d.dirty = true;
    loop(&d);
    tasklist_trim(&d.tasks, (size_t)o->keep_finished);
    if (!journal_compact(&d.j, &d.tasks, d.next_id))
        dmn_log("cannot compact %s: %s", d.j.path, strerror(errno));
    unlink(d.socket_path);
    dmn_log("stopped");
    code = 0;
out:
    if (ready >= 0)
        close(ready);
    for (size_t i = 0; i < d.nclients; i++) {
        close(d.clients[i]->fd);
        proto_reader_free(&d.clients[i]->in);
        sb_free(&d.clients[i]->out);
        free(d.clients[i]);
    }
    free(d.clients);
    if (d.listen_fd >= 0)
        close(d.listen_fd);
    if (d.sig_fd >= 0)
        close(d.sig_fd);
    if (d.lock_fd >= 0)
        close(d.lock_fd);
    journal_close(&d.j);
    tasklist_free(&d.tasks);
    free(d.cpu_busy);
    free(d.socket_path);
    free(d.state_dir);
    free(d.tasks_dir);
    free(d.logs_dir);
    free(d.self);
    free(log_path);
    return code;
}
