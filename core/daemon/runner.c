/*
 * Starting, stopping and reaping tasks.  A task is `benchctl run` as the
 * submitting user, in the submitter's working directory, in a session of
 * its own (its process group is the task), pinned to the CPUs the daemon
 * allocated it, its output in STATE/logs/ID.log.  A command task runs a
 * generated one-stage config (STATE/tasks/ID.yaml, JSON being YAML).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/confine.h"
#include "daemon/daemon_impl.h"
#include "daemon/sched.h"
#include "util/cpulist.h"
#include "util/jsonget.h"

void dmn_journal(qdaemon *d, cJSON *rec)
{
    if (!journal_append(&d->j, rec))
        dmn_log("cannot write the journal %s: %s (the queue goes on; a restart may lose the "
                "latest change)", d->j.path, strerror(errno));
}

static cJSON *rec_new(const char *kind, int64_t id)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "j", kind);
    cJSON_AddNumberToObject(r, "id", (double)id);
    return r;
}

/* ---- the run's ID, from its output --------------------------------------- */

/* The value after prefix on a line of text (owned), the last such line
 * when last, else the first; NULL when there is none. */
static char *line_value(const char *text, const char *prefix, bool last)
{
    char *found = NULL;
    size_t plen = strlen(prefix);
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > plen && strncmp(p, prefix, plen) == 0) {
            free(found);
            found = xstrndup(p + plen, len - plen);
            if (!last)
                break;
        }
        p = nl ? nl + 1 : NULL;
    }
    return found;
}

/* The run ID ("Run ID: N", first lines) and directory ("Results saved to:
 * DIR", last lines) that `benchctl run` printed into the task's log. */
static void read_run(qdaemon *d, task *t)
{
    char *path = xasprintf("%s/%lld.log", d->logs_dir, (long long)t->id);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    free(path);
    if (fd < 0)
        return;
    enum { CHUNK = 65536 };
    char *buf = xmalloc(CHUNK + 1);
    ssize_t n = pread(fd, buf, CHUNK, 0);
    if (n > 0) {
        buf[n] = '\0';
        char *id = line_value(buf, "Run ID: ", false);
        if (id) {
            free(t->run_id);
            t->run_id = id;
        }
    }
    struct stat st;
    off_t from = fstat(fd, &st) == 0 && st.st_size > CHUNK ? st.st_size - CHUNK : 0;
    n = pread(fd, buf, CHUNK, from);
    if (n > 0) {
        buf[n] = '\0';
        char *dir = line_value(buf, "Results saved to: ", true);
        if (dir) {
            free(t->run_dir);
            t->run_dir = dir;
        }
    }
    free(buf);
    close(fd);
}

/* The limit that stopped a stage of t's run, from its metadata.json (a
 * regular file of the task's user, never through a link): *out is
 * "LIMIT\tSTAGE" (owned), or NULL when none did or it cannot be read. */
static void read_termination(const task *t, char **out)
{
    *out = NULL;
    if (!t->run_dir)
        return;
    char *dir = t->run_dir[0] == '/' ? xstrdup(t->run_dir) : path_join(t->cwd, t->run_dir);
    char *path = path_join(dir, "metadata.json");
    free(dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    free(path);
    if (fd < 0)
        return;
    enum { MAX = 16 << 20 };
    struct stat st;
    char *text = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == t->uid && st.st_size > 0 &&
        st.st_size <= MAX) {
        text = xmalloc((size_t)st.st_size + 1);
        ssize_t n = pread(fd, text, (size_t)st.st_size, 0);
        text[n > 0 ? n : 0] = '\0';
    }
    close(fd);
    cJSON *m = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(m, "stages"))
    {
        const char *term = jstr(s, "termination");
        if (term && (strcmp(term, "memory") == 0 || strcmp(term, "walltime") == 0 ||
                     strcmp(term, "cputime") == 0 || strcmp(term, "pids") == 0)) {
            const char *name = jstr(s, "name");
            *out = xasprintf("%s\t%s", term, name ? name : "?");
            break;
        }
    }
    cJSON_Delete(m);
}

/* ---- ending --------------------------------------------------------------- */

void runner_end(qdaemon *d, task *t, task_state s, int exit_code, const char *reason)
{
    char *why = NULL;
    if (t->state == TASK_RUNNING) {
        for (int i = 0; i < t->cpus && t->cpu_ids; i++)
            for (size_t k = 0; k < d->o->ncpus; k++)
                if (d->o->cpus[k] == t->cpu_ids[i])
                    d->cpu_busy[k] = false;
        d->free_cpus += t->cpus;
        d->free_memory += t->memory;
        read_run(d, t);
        char *term;
        read_termination(t, &term);
        if (term) {
            /* "memory\tSTAGE": the task says which limit, its reason where */
            char *tab = strchr(term, '\t');
            *tab = '\0';
            why = xasprintf("stage '%s' hit its %s limit%s%s", tab + 1, term,
                            reason ? "; " : "", reason ? reason : "");
            reason = why;
            free(t->termination);
            t->termination = term;
        }
        if (t->kind == TASK_COMMAND) {
            char *cfg = xasprintf("%s/%lld.yaml", d->tasks_dir, (long long)t->id);
            unlink(cfg);
            free(cfg);
        }
    }
    t->state = s;
    t->exit_code = exit_code;
    t->ended_ms = dmn_wall_ms();
    t->pid = 0;
    free(t->reason);
    t->reason = xstrdup(reason);
    cJSON *r = rec_new("end", t->id);
    cJSON_AddNumberToObject(r, "t", (double)t->ended_ms);
    cJSON_AddStringToObject(r, "state", task_state_name(s));
    cJSON_AddNumberToObject(r, "exit_code", exit_code);
    if (reason)
        cJSON_AddStringToObject(r, "reason", reason);
    if (t->termination)
        cJSON_AddStringToObject(r, "termination", t->termination);
    if (t->run_id)
        cJSON_AddStringToObject(r, "run_id", t->run_id);
    if (t->run_dir)
        cJSON_AddStringToObject(r, "run_dir", t->run_dir);
    dmn_journal(d, r);
    dmn_log("task %lld %s%s%s", (long long)t->id, task_state_name(s), reason ? ": " : "",
            reason ? reason : "");
    conn_event(d, "finished", t);
    d->dirty = true;
    free(why);
}

void runner_reap(qdaemon *d)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        task *t = NULL;
        for (size_t i = 0; i < d->tasks.n && !t; i++)
            if (d->tasks.v[i]->state == TASK_RUNNING && d->tasks.v[i]->pid == pid)
                t = d->tasks.v[i];
        if (!t)
            continue;
        /* What is left of its process group (nothing, after a clean run). */
        kill(-pid, SIGKILL);
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        char *why = NULL;
        task_state s;
        if (t->stopping) {
            s = t->stop_as;
            why = xstrdup(t->reason ? t->reason : "stopped");
        } else if (code == 0) {
            s = TASK_SUCCEEDED;
        } else if (code == 1 && t->walltime_ms > 0 &&
                   dmn_mono_ms() - t->start_mono_ms >= t->walltime_ms) {
            s = TASK_TIMEOUT; /* the run's own -t (its walltime) stopped it */
            why = xasprintf("walltime %lld ms reached", (long long)t->walltime_ms);
        } else {
            s = TASK_FAILED;
            why = code >= 0 ? xasprintf("benchctl run exited %d", code)
                            : xasprintf("benchctl run was killed by signal %d", WTERMSIG(status));
        }
        runner_end(d, t, s, code, why);
        free(why);
    }
}

/* ---- stopping ------------------------------------------------------------- */

void runner_stop(qdaemon *d, task *t, task_state as, const char *reason)
{
    if (t->state != TASK_RUNNING)
        return;
    if (!t->stopping) {
        t->stopping = true;
        t->stop_as = as;
        free(t->reason);
        t->reason = xstrdup(reason);
        confine_stop(t->pid);
        t->kill_at_ms = dmn_mono_ms() + d->o->grace_ms;
        conn_event(d, "stopping", t);
    } else if (as == TASK_INTERRUPTED && d->stopping > 1) {
        confine_kill(t->pid); /* a second signal to the daemon: no more grace */
    }
}

int64_t runner_tick(qdaemon *d)
{
    int64_t now = dmn_mono_ms(), next = -1;
    for (size_t i = 0; i < d->tasks.n; i++) {
        task *t = d->tasks.v[i];
        if (t->state != TASK_RUNNING)
            continue;
        if (!t->stopping && t->term_at_ms && now >= t->term_at_ms) {
            char *why = xasprintf("walltime %lld ms reached", (long long)t->walltime_ms);
            runner_stop(d, t, TASK_TIMEOUT, why);
            free(why);
        }
        if (t->stopping && t->kill_at_ms && now >= t->kill_at_ms) {
            dmn_log("task %lld: still running %lld ms after SIGTERM: SIGKILL", (long long)t->id,
                    (long long)d->o->grace_ms);
            confine_kill(t->pid);
            t->kill_at_ms = 0;
        }
        int64_t due = t->stopping ? t->kill_at_ms : t->term_at_ms;
        if (due > 0 && (next < 0 || due - now < next))
            next = due > now ? due - now : 0;
    }
    return next;
}

/* ---- starting ------------------------------------------------------------- */

/* The generated config of a command task; false with errno. */
static bool write_command_config(qdaemon *d, const task *t, char **path)
{
    cJSON *cfg = cJSON_CreateObject();
    cJSON *b = cJSON_AddObjectToObject(cfg, "benchmark");
    char *name = xasprintf("queue-task-%lld", (long long)t->id);
    cJSON_AddStringToObject(b, "name", name);
    free(name);
    cJSON_AddStringToObject(b, "output_dir", t->output_dir);
    cJSON *stages = cJSON_AddArrayToObject(cfg, "stages");
    cJSON *st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "name", "command");
    /* Stages run in their config's directory: this one in the
     * submitter's. */
    char *line = task_command_line(t), *dir = shell_quote(t->cwd);
    char *cmd = xasprintf("cd %s && %s", dir, line);
    cJSON_AddStringToObject(st, "command", cmd);
    free(cmd);
    free(dir);
    free(line);
    cJSON_AddItemToArray(stages, st);
    char *text = cJSON_Print(cfg);
    cJSON_Delete(cfg);
    *path = xasprintf("%s/%lld.yaml", d->tasks_dir, (long long)t->id);
    int fd = open(*path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    bool ok = fd >= 0;
    if (ok) {
        size_t len = strlen(text);
        ok = write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
        if (ok && geteuid() == 0 && fchown(fd, t->uid, t->gid) != 0)
            ok = false;
        int saved = errno;
        close(fd);
        errno = saved;
    }
    free(text);
    return ok;
}

/* The run's argv. */
static void build_argv(qdaemon *d, const task *t, const char *config, strvec *argv)
{
    sv_push(argv, d->self);
    sv_push(argv, "run");
    sv_push(argv, "-c");
    sv_push(argv, config);
    sv_push_owned(argv, xasprintf("--metadata=queue_task=%lld", (long long)t->id));
    if (t->kind == TASK_COMMAND)
        sv_push(argv, "--no-report");
    else
        for (size_t i = 0; i < t->args.n; i++)
            sv_push(argv, t->args.v[i]);
    /* The walltime as the run's own timeout: it stops like Ctrl-C and its
     * metadata says "timeout".  (The last -t given wins.) */
    if (t->walltime_ms > 0)
        sv_push_owned(argv, xasprintf("--timeout=%lldms", (long long)t->walltime_ms));
    /* Its memory as every stage's limit (isolation: cgroup, else rlimit);
     * each stage's record says how it was enforced and why it ended. */
    if (t->memory > 0)
        sv_push_owned(argv, xasprintf("--memory-limit=%lld", (long long)t->memory));
}

/* The run's environment. */
static void build_env(qdaemon *d, const task *t, const struct passwd *pw, strvec *env)
{
    for (size_t i = 0; i < t->env.n; i++)
        if (strncmp(t->env.v[i], "BENCHCTL_QUEUE_", 15) != 0)
            sv_push(env, t->env.v[i]);
    if (pw) {
        sv_push_owned(env, xasprintf("USER=%s", pw->pw_name));
        sv_push_owned(env, xasprintf("LOGNAME=%s", pw->pw_name));
        sv_push_owned(env, xasprintf("HOME=%s", pw->pw_dir));
    }
    sv_push_owned(env, xasprintf("BENCHCTL_QUEUE_TASK=%lld", (long long)t->id));
    sv_push_owned(env, xasprintf("BENCHCTL_QUEUE_STATE=%s", d->state_dir));
    sv_push_owned(env, xasprintf("BENCHCTL_QUEUE_CPUS=%s", t->cpu_list));
}

/* In the child: become the task and exec.  Never returns. */
static void child(qdaemon *d, const task *t, const struct passwd *pw, int log_fd, char **argv,
                  char **envp, pid_t parent)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    setsid();
    int in = open("/dev/null", O_RDONLY);
    if (in >= 0)
        dup2(in, STDIN_FILENO);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    int e = confine_apply(t->cpu_ids, (size_t)t->cpus, d->o->pin);
    if (e) {
        dprintf(STDERR_FILENO, "benchctl daemon: cannot pin task %lld to CPUs %s: %s\n",
                (long long)t->id, t->cpu_list, strerror(e));
        _exit(126);
    }
    if (geteuid() == 0 && t->uid != 0) {
        if (setgid(t->gid) != 0 || initgroups(pw->pw_name, t->gid) != 0 || setuid(t->uid) != 0) {
            dprintf(STDERR_FILENO, "benchctl daemon: cannot become user %s: %s\n", pw->pw_name,
                    strerror(errno));
            _exit(126);
        }
    }
    /* Set after the credentials change (which clears it): the daemon's
     * death stops the run like Ctrl-C. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(126);
    if (chdir(t->cwd) != 0) {
        dprintf(STDERR_FILENO, "benchctl daemon: task %lld: cannot enter %s: %s\n",
                (long long)t->id, t->cwd, strerror(errno));
        _exit(126);
    }
    execve(argv[0], argv, envp);
    dprintf(STDERR_FILENO, "benchctl daemon: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Start t on free CPUs.  false (t failed, reported) when it could not. */
static bool start(qdaemon *d, task *t)
{
    free(t->cpu_ids);
    t->cpu_ids = xmalloc((size_t)t->cpus * sizeof *t->cpu_ids);
    int got = 0;
    for (size_t k = 0; k < d->o->ncpus && got < t->cpus; k++)
        if (!d->cpu_busy[k]) {
            d->cpu_busy[k] = true;
            t->cpu_ids[got++] = d->o->cpus[k];
        }
    free(t->cpu_list);
    t->cpu_list = cpuset_format_ids(t->cpu_ids, (size_t)got);
    d->free_cpus -= t->cpus;
    d->free_memory -= t->memory;
    t->state = TASK_RUNNING; /* runner_end gives the CPUs back from here */
    t->started_ms = dmn_wall_ms();
    t->start_mono_ms = dmn_mono_ms();
    t->stopping = false;
    t->term_at_ms = t->walltime_ms > 0 ? t->start_mono_ms + t->walltime_ms + d->o->grace_ms : 0;
    t->kill_at_ms = 0;

    struct passwd *pw = getpwuid(t->uid);
    char *config = NULL, *why = NULL;
    if (!pw) {
        why = xasprintf("uid %u has no passwd entry", (unsigned)t->uid);
        goto fail;
    }
    if (t->kind == TASK_COMMAND && !write_command_config(d, t, &config)) {
        why = xasprintf("cannot write %s: %s", config, strerror(errno));
        goto fail;
    }
    char *log = xasprintf("%s/%lld.log", d->logs_dir, (long long)t->id);
    int log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (log_fd >= 0 && geteuid() == 0 && fchown(log_fd, t->uid, t->gid) != 0) {
        close(log_fd);
        log_fd = -1;
    }
    if (log_fd < 0) {
        why = xasprintf("cannot create %s: %s", log, strerror(errno));
        free(log);
        goto fail;
    }
    free(log);
    strvec argv = {0}, env = {0};
    build_argv(d, t, config ? config : t->config, &argv);
    build_env(d, t, pw, &env);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0)
        child(d, t, pw, log_fd, argv.v, env.v, parent);
    int saved = errno;
    close(log_fd);
    sv_free(&argv);
    sv_free(&env);
    if (pid < 0) {
        why = xasprintf("cannot fork: %s", strerror(saved));
        goto fail;
    }
    t->pid = pid;
    free(config);
    cJSON *r = rec_new("start", t->id);
    cJSON_AddNumberToObject(r, "t", (double)t->started_ms);
    cJSON_AddNumberToObject(r, "pid", pid);
    cJSON_AddStringToObject(r, "cpu_list", t->cpu_list);
    dmn_journal(d, r);
    dmn_log("task %lld started: pid %d, CPUs %s", (long long)t->id, (int)pid, t->cpu_list);
    conn_event(d, "started", t);
    return true;
fail:
    free(config);
    runner_end(d, t, TASK_FAILED, -1, why);
    free(why);
    return false;
}

void runner_schedule(qdaemon *d)
{
    d->dirty = false;
    if (d->stopping)
        return;
    size_t np = 0, nr = 0;
    for (size_t i = 0; i < d->tasks.n; i++) {
        np += d->tasks.v[i]->state == TASK_PENDING;
        nr += d->tasks.v[i]->state == TASK_RUNNING;
    }
    if (np == 0)
        return;
    sched_task *pending = xmalloc(np * sizeof *pending);
    sched_running *running = xmalloc((nr ? nr : 1) * sizeof *running);
    size_t *picked = xmalloc(np * sizeof *picked);
    np = nr = 0;
    int64_t now = dmn_mono_ms();
    for (size_t i = 0; i < d->tasks.n; i++) {
        task *t = d->tasks.v[i];
        if (t->state == TASK_PENDING)
            pending[np++] = (sched_task){t->group, t->priority, t->id, t->cpus, t->memory,
                                         t->walltime_ms};
        else if (t->state == TASK_RUNNING)
            running[nr++] = (sched_running){t->cpus, t->memory,
                                            t->walltime_ms > 0 ? t->start_mono_ms + t->walltime_ms
                                                               : SCHED_NEVER};
    }
    sched_sort(pending, np);
    size_t n = sched_pick(pending, np, running, nr, d->free_cpus, d->free_memory, now, picked,
                          NULL);
    for (size_t k = 0; k < n; k++) {
        task *t = tasklist_find(&d->tasks, pending[picked[k]].seq);
        if (t && t->state == TASK_PENDING)
            start(d, t);
    }
    free(pending);
    free(running);
    free(picked);
}

/* ---- recovery ------------------------------------------------------------- */

/* Is pid still task t's run (its environment names the task and this
 * state directory)? */
static bool still_ours(qdaemon *d, const task *t)
{
    if (t->pid <= 0)
        return false;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/environ", (int)t->pid);
    size_t len;
    char *env = read_file(path, &len);
    if (!env)
        return false;
    char *want_task = xasprintf("BENCHCTL_QUEUE_TASK=%lld", (long long)t->id);
    char *want_state = xasprintf("BENCHCTL_QUEUE_STATE=%s", d->state_dir);
    bool task_ok = false, state_ok = false;
    for (size_t off = 0; off < len; off += strlen(env + off) + 1) {
        task_ok |= strcmp(env + off, want_task) == 0;
        state_ok |= strcmp(env + off, want_state) == 0;
    }
    free(want_task);
    free(want_state);
    free(env);
    return task_ok && state_ok;
}

void runner_recover(qdaemon *d)
{
    for (size_t i = 0; i < d->tasks.n; i++) {
        task *t = d->tasks.v[i];
        if (t->state == TASK_PENDING &&
            ((size_t)t->cpus > d->o->ncpus || t->memory > d->o->memory)) {
            /* queued on a daemon with more (restarted with fewer): it
             * would never start */
            char *why = xasprintf("it needs %d CPUs and %lld bytes; the daemon now has %zu and "
                                  "%lld", t->cpus, (long long)t->memory, d->o->ncpus,
                                  (long long)d->o->memory);
            runner_end(d, t, TASK_FAILED, -1, why);
            free(why);
            continue;
        }
        if (t->state != TASK_RUNNING)
            continue;
        /* Its run got SIGTERM when the daemon died (the parent death
         * signal, set before exec) and stops as on Ctrl-C; another signal
         * now would cut its cleanup short. */
        if (still_ours(d, t))
            dmn_log("task %lld: its run (pid %d) is still stopping", (long long)t->id,
                    (int)t->pid);
        read_run(d, t);
        if (t->kind == TASK_COMMAND) {
            char *cfg = xasprintf("%s/%lld.yaml", d->tasks_dir, (long long)t->id);
            unlink(cfg);
            free(cfg);
        }
        t->state = TASK_INTERRUPTED; /* not RUNNING: holds no CPUs here */
        runner_end(d, t, TASK_INTERRUPTED, -1,
                   "the daemon stopped while the task ran (its run was stopped as by Ctrl-C)");
    }
}
