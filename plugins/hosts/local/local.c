/* Host transport "local": runs stages on this machine.
 *
 * Each command runs in its own session (so its whole process group can be
 * signalled), through a PTY when benchctl's stdout is a terminal (colours
 * survive) and through two pipes otherwise.  Output is handed to the core
 * as it arrives.  Process exit is watched with a pidfd, so a command's
 * leftover children holding the pipes open never delay the stage; those
 * leftovers are stopped when the host is closed at the end of the run. */
#define _GNU_SOURCE
#include <dirent.h>
#include <ftw.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <benchctl/helpers.h>
#include <benchctl/plugin.h>

typedef struct proc {
    bc_ctx *ctx;
    bc_child ch;     /* pid: also the process group and session id; out_fd: the
                        stdout pipe or the PTY master; err_fd: -1 with a PTY */
    char *label;     /* the stage, for messages */
    struct conn *owner;
    struct proc *next;
} proc;

typedef struct conn {
    pthread_mutex_t lock;   /* lingering: released from several threads */
    struct proc *lingering; /* finished commands whose children still run */
    pthread_t drainer;      /* reads (and drops) what lingering processes print */
    int drainer_running;
    int wake[2];            /* tells the drainer the list changed or to stop */
    atomic_int stopping;
    char tmpdir[64];        /* private per-run directory ($BENCHCTL_HOST_TMPDIR) */
    char *tmpdir_env;       /* "BENCHCTL_HOST_TMPDIR=..." */
} conn;

static int local_open(bc_ctx *ctx, void **out)
{
    conn *c = calloc(1, sizeof *c);
    if (!c) {
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    /* The transport's private directory for this run (scripts, relative
     * put_file/get_file paths), removed at close. */
    snprintf(c->tmpdir, sizeof c->tmpdir, "/tmp/benchctl.XXXXXX");
    if (!mkdtemp(c->tmpdir)) {
        bc_error(ctx, "cannot create a private directory in /tmp: %s", strerror(errno));
        free(c);
        return BC_ERR;
    }
    pthread_mutex_init(&c->lock, NULL);
    c->wake[0] = c->wake[1] = -1;
    size_t n = strlen(c->tmpdir) + 32;
    c->tmpdir_env = malloc(n);
    if (c->tmpdir_env)
        snprintf(c->tmpdir_env, n, "BENCHCTL_HOST_TMPDIR=%s", c->tmpdir);
    /* Named to the core (what `benchctl gc` removes after a crash). */
    char line[96];
    int len = snprintf(line, sizeof line, "%s\n", c->tmpdir_env ? c->tmpdir_env : "");
    if (c->tmpdir_env && len > 0 && (size_t)len < sizeof line)
        ctx->svc->output(ctx, BC_STREAM_STDOUT, line, (size_t)len);
    *out = c;
    return BC_OK;
}

/* posix_spawnp, the stage getting the core limit benchctl was started with
 * (BENCHCTL_STAGE_RLIMIT_CORE: "unlimited" or bytes; benchctl's own is 0) from its
 * first instruction: benchctl's soft limit is the stage's for the spawn only. */
static int spawn_stage(pid_t *pid, const posix_spawn_file_actions_t *fa,
                       const posix_spawnattr_t *attr, char **argv, char **envp)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* one spawn at a time */
    const char *v = getenv("BENCHCTL_STAGE_RLIMIT_CORE");
    struct rlimit own, rl;
    char *end = NULL;
    unsigned long long n = v ? strtoull(v, &end, 10) : 0;
    bool unlimited = v && strcmp(v, "unlimited") == 0;
    bool swap = v && (unlimited || (end != v && *end == '\0')) && getrlimit(RLIMIT_CORE, &own) == 0;
    if (swap) {
        rl = own;
        rl.rlim_cur = unlimited ? RLIM_INFINITY : (rlim_t)n;
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
            rl.rlim_cur = rl.rlim_max;
        pthread_mutex_lock(&lock);
        setrlimit(RLIMIT_CORE, &rl);
    }
    int err = posix_spawnp(pid, argv[0], fa, attr, argv, envp);
    if (swap) {
        setrlimit(RLIMIT_CORE, &own);
        pthread_mutex_unlock(&lock);
    }
    return err;
}

static int local_start(bc_ctx *ctx, void *cv, const bc_exec_request *req, void **out)
{
    size_t nshell = 0;
    while (req->shell && req->shell[nshell])
        nshell++;
    if (nshell == 0) {
        bc_error(ctx, "no shell configured");
        return BC_ERR;
    }
    char **argv = calloc(nshell + 2, sizeof *argv);
    char **envp = bc_env_merge(req->env, ((conn *)cv)->tmpdir_env);
    proc *p = calloc(1, sizeof *p);
    if (!argv || !envp || !p) {
        free(argv);
        free(envp);
        free(p);
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    for (size_t i = 0; i < nshell; i++)
        argv[i] = (char *)req->shell[i];
    argv[nshell] = (char *)req->command;
    const char *workdir = req->workdir ? req->workdir : ctx->svc->fact(ctx, "config_dir");

    int tty = (req->flags & BC_EXEC_TTY) != 0;
    int master = -1, slave = -1, outp[2] = {-1, -1}, errp[2] = {-1, -1};
    int rc = BC_ERR;
    char slave_name[128] = "";
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    if (tty) {
        struct winsize ws = {.ws_row = req->tty_rows ? req->tty_rows : 24,
                             .ws_col = req->tty_cols ? req->tty_cols : 80};
        if (openpty(&master, &slave, slave_name, NULL, &ws) != 0) {
            bc_error(ctx, "cannot allocate a terminal: %s", strerror(errno));
            goto out;
        }
        fcntl(master, F_SETFD, FD_CLOEXEC);
        fcntl(slave, F_SETFD, FD_CLOEXEC);
        /* After setsid, opening the terminal without O_NOCTTY makes it the
         * child's controlling terminal. */
        posix_spawn_file_actions_addopen(&fa, 0, slave_name, O_RDWR, 0);
        posix_spawn_file_actions_adddup2(&fa, 0, 1);
        posix_spawn_file_actions_adddup2(&fa, 0, 2);
    } else {
        if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
            bc_error(ctx, "cannot create pipes: %s", strerror(errno));
            goto out;
        }
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
        posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
    }
    if (workdir)
        posix_spawn_file_actions_addchdir_np(&fa, workdir);
    /* Own session and process group (so the whole tree can be signalled),
     * default dispositions and an empty mask: benchctl ignores SIGPIPE and
     * handles SIGINT, the stage must not inherit that. */
    bc_spawnattr_session(&attr);
    pid_t pid;
    int err = spawn_stage(&pid, &fa, &attr, argv, envp);
    if (err != 0) {
        bc_error(ctx, "cannot run '%s'%s%s: %s", argv[0], workdir ? " in " : "",
                 workdir ? workdir : "", strerror(err));
        goto out;
    }
    p->ctx = ctx;
    p->owner = cv;
    p->ch.pid = pid;
    p->ch.pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (tty) {
        p->ch.out_fd = master;
        p->ch.err_fd = -1;
        master = -1;
    } else {
        p->ch.out_fd = outp[0];
        p->ch.err_fd = errp[0];
        outp[0] = errp[0] = -1;
    }
    bc_fd_nonblock(p->ch.out_fd);
    if (p->ch.err_fd >= 0)
        bc_fd_nonblock(p->ch.err_fd);
    const char *stage = ctx->svc->fact(ctx, "stage");
    p->label = strdup(stage ? stage : "command");
    *out = p;
    p = NULL;
    rc = BC_OK;
out:
    if (slave >= 0)
        close(slave);
    if (master >= 0)
        close(master);
    for (int i = 0; i < 2; i++) {
        if (outp[i] >= 0)
            close(outp[i]);
        if (errp[i] >= 0)
            close(errp[i]);
    }
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    free(p);
    free(argv);
    free(envp);
    return rc;
}

/* The command's output, to the core as it arrives. */
static void sink(void *arg, int stream, const char *buf, size_t len)
{
    proc *p = arg;
    p->ctx->svc->output(p->ctx, stream, buf, len);
}

static int cancelled(void *arg)
{
    proc *p = arg;
    return p->ctx->svc->cancelled(p->ctx);
}

static void drain_all(proc *p)
{
    /* Everything the command wrote before it exited is in the pipe
     * buffers: read until they are empty or closed. */
    bc_child_drain(&p->ch, BC_STREAM_STDOUT, BC_STREAM_STDERR, sink, p);
}

static int try_reap(proc *p, int options)
{
    return bc_child_reap(&p->ch, options);
}

static int local_wait(bc_ctx *ctx, void *pv, int64_t timeout_ms, bc_exec_result *res)
{
    proc *p = pv;
    p->ctx = ctx;
    int w = bc_child_wait(&p->ch, timeout_ms, ctx->svc->cancel_fd(ctx), cancelled,
                          BC_STREAM_STDOUT, BC_STREAM_STDERR, sink, p);
    if (w == BC_CHILD_ERROR) {
        bc_error(ctx, "poll failed: %s", strerror(errno));
        return BC_ERR;
    }
    if (w == BC_CHILD_CANCELLED)
        return BC_CANCELLED;
    if (w == BC_CHILD_TIMEOUT)
        return BC_TIMEOUT;
    res->exit_status = WIFEXITED(p->ch.status) ? WEXITSTATUS(p->ch.status) : -1;
    res->term_signal = WIFSIGNALED(p->ch.status) ? WTERMSIG(p->ch.status) : 0;
    res->user_us = (int64_t)p->ch.ru.ru_utime.tv_sec * 1000000 + p->ch.ru.ru_utime.tv_usec;
    res->sys_us = (int64_t)p->ch.ru.ru_stime.tv_sec * 1000000 + p->ch.ru.ru_stime.tv_usec;
    res->max_rss_kb = p->ch.ru.ru_maxrss;
    return BC_OK;
}

/* Does process pid have exactly this "NAME=value" in its environment? */
static int has_env_entry(const char *pid, const char *entry)
{
    char path[300];
    snprintf(path, sizeof path, "/proc/%s/environ", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    static char env[1 << 16]; /* close and stop are single-threaded */
    ssize_t len = read(fd, env, sizeof env);
    close(fd);
    size_t elen = strlen(entry) + 1; /* with its NUL: a whole entry */
    for (ssize_t i = 0; len > 0 && i + (ssize_t)elen <= len; i++)
        if ((i == 0 || env[i - 1] == '\0') && memcmp(env + i, entry, elen) == 0)
            return 1;
    return 0;
}

/* Does process group pgid have a live (not zombie) member — one whose
 * environment holds `marker` ("NAME=value") when marker is given? */
static int find_member(pid_t pgid, const char *marker)
{
    DIR *d = opendir("/proc");
    if (!d)
        return marker ? 0 : 1;
    int found = 0;
    struct dirent *de;
    while (!found && (de = readdir(d))) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        /* pid (comm) state ppid pgrp ...; comm may contain spaces */
        char *rp = strrchr(buf, ')');
        char state;
        int ppid, pgrp;
        if (rp && sscanf(rp + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 && pgrp == pgid &&
            state != 'Z' && state != 'X')
            found = !marker || has_env_entry(de->d_name, marker);
    }
    closedir(d);
    return found;
}

/* True while the process group has a member that is not a zombie.  Zombies
 * count for kill(2), and orphaned ones wait for init to reap them, which
 * need not be prompt (in containers init may reap late, or never). */
static int group_alive(pid_t pgid)
{
    if (kill(-pgid, 0) != 0 && errno != EPERM)
        return 0;
    return find_member(pgid, NULL);
}

/* SIGTERM the stage's shell (the group's leader) first, so that a TERM trap
 * runs after the command it is waiting for ends instead of that command
 * being killed under it (a `$(date)` cut short writes a line without its
 * timestamp); once the leader is gone, or after half the grace, SIGTERM
 * the whole group; SIGKILL what is left grace_ms after that. */
static int stop_group(proc *p, int64_t grace_ms)
{
    if (!p->ch.exited) {
        kill(p->ch.pid, SIGTERM);
        kill(p->ch.pid, SIGCONT);
    }
    int64_t now = bc_mono_ms(), g = grace_ms > 0 ? grace_ms : 0;
    int64_t deadline = now + g, group_at = now + g / 2;
    int termed = 0, killed = 0;
    for (;;) {
        try_reap(p, WNOHANG);
        drain_all(p);
        if (!termed && (p->ch.exited || bc_mono_ms() >= group_at)) {
            kill(-p->ch.pid, SIGTERM);
            kill(-p->ch.pid, SIGCONT);
            termed = 1;
            deadline = bc_mono_ms() + g; /* the group's own grace */
        }
        if (!group_alive(p->ch.pid))
            break;
        if (!killed && bc_mono_ms() >= deadline) {
            kill(-p->ch.pid, SIGKILL);
            killed = 1;
            deadline = bc_mono_ms() + 5000;
        } else if (killed && bc_mono_ms() >= deadline) {
            return BC_ERR;
        }
        struct pollfd pfd = {.fd = p->ch.pidfd, .events = POLLIN};
        poll(&pfd, p->ch.pidfd >= 0 && !p->ch.exited ? 1 : 0, 5);
    }
    try_reap(p, 0);
    drain_all(p); /* what it printed on its way out (e.g. a TERM trap) */
    return BC_OK;
}

static int local_stop(bc_ctx *ctx, void *pv, int64_t grace_ms)
{
    proc *p = pv;
    p->ctx = ctx;
    if (stop_group(p, grace_ms) != BC_OK) {
        bc_error(ctx, "process group %d survived SIGKILL", (int)p->ch.pid);
        return BC_ERR;
    }
    return BC_OK;
}

static void free_proc(proc *p)
{
    if (p->ch.out_fd >= 0)
        close(p->ch.out_fd);
    if (p->ch.err_fd >= 0)
        close(p->ch.err_fd);
    if (p->ch.pidfd >= 0)
        close(p->ch.pidfd);
    free(p->label);
    free(p);
}

/* Processes a stage left running keep writing to its pipes; nothing else
 * reads them once the stage is over, and a full pipe would freeze them (a
 * server left with `&`, say).  This thread reads and drops that output
 * until the host is closed. */
static void *drain_thread(void *arg)
{
    conn *c = arg;
    char buf[65536];
    while (!atomic_load(&c->stopping)) {
        struct pollfd fds[256];
        proc *owner[256];
        int n = 0;
        fds[n] = (struct pollfd){.fd = c->wake[0], .events = POLLIN};
        owner[n++] = NULL;
        pthread_mutex_lock(&c->lock);
        for (proc *p = c->lingering; p && n < 254; p = p->next) {
            if (p->ch.out_fd >= 0) {
                fds[n] = (struct pollfd){.fd = p->ch.out_fd, .events = POLLIN};
                owner[n++] = p;
            }
            if (p->ch.err_fd >= 0) {
                fds[n] = (struct pollfd){.fd = p->ch.err_fd, .events = POLLIN};
                owner[n++] = p;
            }
        }
        pthread_mutex_unlock(&c->lock);
        if (poll(fds, (nfds_t)n, 1000) <= 0)
            continue;
        if (fds[0].revents)
            while (read(c->wake[0], buf, sizeof buf) > 0)
                ;
        pthread_mutex_lock(&c->lock);
        for (int i = 1; i < n; i++) {
            if (!fds[i].revents)
                continue;
            ssize_t r = read(fds[i].fd, buf, sizeof buf);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
                proc *p = owner[i];
                if (p->ch.out_fd == fds[i].fd) {
                    close(p->ch.out_fd);
                    p->ch.out_fd = -1;
                } else if (p->ch.err_fd == fds[i].fd) {
                    close(p->ch.err_fd);
                    p->ch.err_fd = -1;
                }
            }
        }
        pthread_mutex_unlock(&c->lock);
    }
    return NULL;
}

static void local_release(bc_ctx *ctx, void *pv)
{
    proc *p = pv;
    if (!p)
        return;
    try_reap(p, WNOHANG);
    if (p->ch.exited && group_alive(p->ch.pid)) {
        /* The command is done but left processes behind (e.g. `server &`).
         * Keep them (and their output pipes, so they never get SIGPIPE)
         * until the end of the run, then stop them in local_close. */
        bc_log(ctx, BC_LOG_DEBUG, "stage '%s' left processes running in group %d", p->label,
               (int)p->ch.pid);
        conn *c = p->owner;
        pthread_mutex_lock(&c->lock);
        p->ctx = NULL; /* the stage's context ends here */
        p->next = c->lingering;
        c->lingering = p;
        if (!c->drainer_running && pipe2(c->wake, O_CLOEXEC | O_NONBLOCK) == 0)
            c->drainer_running = pthread_create(&c->drainer, NULL, drain_thread, c) == 0;
        pthread_mutex_unlock(&c->lock);
        if (c->wake[1] >= 0) {
            char b = 1;
            ssize_t w = write(c->wake[1], &b, 1);
            (void)w;
        }
        return;
    }
    free_proc(p);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Is the group with this id still the one the stage started?  Once all
 * of its members are gone the number may be reused by an unrelated group,
 * so only signal it while a member still holds the stage's pipes or
 * carries this run's marker ($BENCHCTL_HOST_TMPDIR) in its environment. */
static int group_is_ours(const proc *p, const char *marker)
{
    if (p->ch.out_fd >= 0 || p->ch.err_fd >= 0)
        return 1; /* the drainer has not seen end-of-file: a member holds them */
    return marker && find_member(p->ch.pid, marker);
}

static void local_close(bc_ctx *ctx, void *cv)
{
    conn *c = cv;
    if (c->drainer_running) {
        atomic_store(&c->stopping, 1);
        char b = 1;
        ssize_t w = write(c->wake[1], &b, 1);
        (void)w;
        pthread_join(c->drainer, NULL);
    }
    if (c->wake[0] >= 0) {
        close(c->wake[0]);
        close(c->wake[1]);
    }
    for (proc *p = c->lingering, *next; p; p = next) {
        next = p->next;
        p->ctx = ctx; /* the stage's context is gone; output now is dropped */
        if (group_alive(p->ch.pid) && group_is_ours(p, c->tmpdir_env)) {
            bc_log(ctx, BC_LOG_INFO, "stopping processes left running by stage '%s' (group %d)",
                   p->label, (int)p->ch.pid);
            stop_group(p, 2000);
        }
        free_proc(p);
    }
    remove_tree(c->tmpdir);
    free(c->tmpdir_env);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* bc_copy_file bounded by the core's max_file_bytes, interrupted with
 * the run. */
static int ctx_cancelled(void *arg)
{
    bc_ctx *ctx = arg;
    return ctx->svc->cancelled(ctx);
}

static int copy_file(bc_ctx *ctx, const char *from, const char *to, int mode)
{
    const char *maxs = ctx->svc->fact(ctx, "max_file_bytes");
    long long maxb = maxs ? strtoll(maxs, NULL, 10) : 0;
    char err[512];
    int r = bc_copy_file(from, to, mode, maxb, ctx_cancelled, ctx, err, sizeof err);
    if (r != BC_COPY_DONE)
        bc_error(ctx, "%s", err);
    return r == BC_COPY_DONE ? BC_OK : r == BC_COPY_CANCELLED ? BC_CANCELLED : BC_ERR;
}

/* A relative "remote" path is inside the private directory (ABI
 * convention shared by all transports). */
static char *host_path(conn *c, const char *path)
{
    size_t n = strlen(c->tmpdir) + strlen(path) + 2;
    char *out = malloc(n);
    if (!out)
        return NULL;
    if (path[0] == '/')
        snprintf(out, n, "%s", path);
    else
        snprintf(out, n, "%s/%s", c->tmpdir, path);
    return out;
}

static int local_get_file(bc_ctx *ctx, void *cv, const char *remote, const char *local)
{
    char *src = host_path(cv, remote);
    int rc = src ? copy_file(ctx, src, local, 0644) : BC_ERR;
    free(src);
    return rc;
}

static int local_put_file(bc_ctx *ctx, void *cv, const char *local, const char *remote, int mode)
{
    char *dst = host_path(cv, remote);
    if (!dst)
        return BC_ERR;
    /* create the parent directories inside the private directory */
    for (char *p = dst + strlen(((conn *)cv)->tmpdir) + 1; remote[0] != '/' && (p = strchr(p, '/'));
         p++) {
        *p = '\0';
        mkdir(dst, 0700);
        *p = '/';
    }
    int rc = copy_file(ctx, local, dst, mode);
    free(dst);
    return rc;
}

/* This machine: its files, processes and network are the controller's. */
#define LOCAL_CAPS \
    (BC_HOST_CAP_SHARED_FS | BC_HOST_CAP_CHEAP_EXEC | BC_HOST_CAP_POSIX_SHELL | BC_HOST_CAP_CONTROLLER)

static const bc_host_ops ops = {
    .size = sizeof(bc_host_ops),
    .open = local_open,
    .close = local_close,
    .start = local_start,
    .wait = local_wait,
    .stop = local_stop,
    .release = local_release,
    .get_file = local_get_file,
    .put_file = local_put_file,
    .caps = LOCAL_CAPS,
};

static const bc_plugin descriptor = {
    .abi = BC_PLUGIN_PREFIX,
    .kind = BC_KIND_HOST,
    .name = "local",
    .version = "1.0.0",
    .description = "runs stages on this machine (PTY on a terminal, pipes otherwise)",
    .options = NULL,
    .ops = &ops,
};

BC_PLUGIN_ENTRY(descriptor)
