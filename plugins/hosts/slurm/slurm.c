/*
 * Host transport "slurm": stages run as job steps of one Slurm allocation
 * per host and run.
 *
 * open allocates: salloc with the host's keys, holding the allocation
 * while its command -- `cat`, reading a pipe from benchctl -- runs (a job
 * pending longer than queue_timeout is cancelled).  Every stage command is
 * a step in it (`srun --jobid J --overlap`, step.c).  close closes the
 * pipe: `cat` ends and salloc gives the allocation back; and if benchctl
 * dies, however, the kernel closes the pipe and the same happens, so no
 * job outlives the run.  close then waits until the job has left the
 * queue (scancel if salloc did not release it).  The
 * private per-run directory is made on a directory the controller and the
 * nodes share (shared_dir), so files are copied locally.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "slurmint.h"

#define SCTL_MS 30000 /* limit of one scontrol / scancel / squeue call */

/* ---- argument vectors ---------------------------------------------------- */

typedef struct argv_t {
    char *v[64];
    size_t n;
    int failed;
} argv_t;

static void arg_add(argv_t *a, const char *fmt, ...) BC_PRINTF(2, 3);
static void arg_add(argv_t *a, const char *fmt, ...)
{
    if (a->n + 1 >= sizeof a->v / sizeof a->v[0]) {
        a->failed = 1;
        return;
    }
    bc_sb sb = BC_SB_INIT;
    va_list ap;
    va_start(ap, fmt);
    bc_sb_vprintf(&sb, fmt, ap);
    va_end(ap);
    char *s = bc_sb_steal(&sb);
    if (!s) {
        a->failed = 1;
        return;
    }
    a->v[a->n++] = s;
    a->v[a->n] = NULL;
}

static void arg_free(argv_t *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    a->n = 0;
}

/* "KEY=value" of `scontrol show ... -o` output (one line of KEY=value
 * words); copies value into buf. */
static int sctl_field(const char *text, const char *key, char *buf, size_t size)
{
    size_t kl = strlen(key);
    for (const char *p = text; (p = strstr(p, key)); p += kl) {
        if ((p == text || p[-1] == ' ' || p[-1] == '\n') && p[kl] == '=') {
            const char *v = p + kl + 1;
            size_t n = strcspn(v, " \n");
            if (n >= size)
                n = size - 1;
            memcpy(buf, v, n);
            buf[n] = '\0';
            return 1;
        }
    }
    buf[0] = '\0';
    return 0;
}

int sl_job_state(bc_ctx *ctx, const char *job, char *state, size_t state_size, char *reason,
                 size_t reason_size)
{
    char out[8192];
    int status = -1;
    char *argv[] = {"scontrol", "-o", "show", "job", (char *)job, NULL};
    state[0] = reason[0] = '\0';
    if (sl_capture(ctx, argv, SCTL_MS, 0, &status, out, sizeof out, NULL, 0) != BC_OK ||
        status != 0)
        return -1;
    sctl_field(out, "JobState", state, state_size);
    sctl_field(out, "Reason", reason, reason_size);
    if (!state[0])
        return -1;
    return strcmp(state, "RUNNING") == 0 || strcmp(state, "PENDING") == 0 ||
           strcmp(state, "CONFIGURING") == 0;
}

/* ---- the allocation ---------------------------------------------------- */

static void conn_free(sl_conn *c)
{
    for (size_t i = 0; i < c->nnodes; i++)
        free(c->nodes[i]);
    free(c->nodes);
    free(c->tmpdir);
    free(c->tmpdir_env);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void scancel_job(bc_ctx *ctx, const char *alias, const char *job)
{
    char *cancel[] = {"scancel", "--quiet", (char *)job, NULL};
    int status = -1;
    char err[512];
    if (sl_capture(ctx, cancel, SCTL_MS, 0, &status, NULL, 0, err, sizeof err) != BC_OK ||
        status != 0)
        bc_log(ctx, BC_LOG_WARN, "host '%s': scancel %s failed: %s", alias, job, err);
}

/* Wait, bounded, until job (if any) has left the queue: cancelled at once
 * when cancel is set, else after 5 s of waiting for it to go by itself. */
static void release_job(bc_ctx *ctx, const char *alias, const char *job, int cancel)
{
    if (!job[0])
        return;
    if (cancel)
        scancel_job(ctx, alias, job);
    int status = -1;
    int64_t t0 = bc_mono_ms(), until = t0 + 20000;
    for (;;) {
        char out[256];
        char *q[] = {"squeue", "-h", "-j", (char *)job, "-o", "%T", NULL};
        if (sl_capture(ctx, q, SCTL_MS, 0, &status, out, sizeof out, NULL, 0) != BC_OK)
            break;
        /* gone: nothing listed, or "Invalid job id" (exit 1) once purged */
        if (status != 0 || out[strspn(out, " \n")] == '\0')
            return;
        if (bc_mono_ms() >= until) {
            out[strcspn(out, "\n")] = '\0';
            bc_log(ctx, BC_LOG_WARN, "host '%s': job %s is still in the queue (%s) after scancel",
                   alias, job, out);
            return;
        }
        if (!cancel && bc_mono_ms() - t0 >= 5000) {
            scancel_job(ctx, alias, job);
            cancel = 1;
        }
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Give the allocation back: close the holder's stdin (salloc then
 * relinquishes the job and exits), read salloc's last words, reap it
 * (bounded: 10 s, then it is stopped), and wait until the job has left
 * the queue (scancel if it lingers). */
static void give_back(bc_ctx *ctx, const char *alias, sl_conn *c)
{
    if (c->hold_fd >= 0)
        close(c->hold_fd);
    c->hold_fd = -1;
    if (c->salloc > 0) {
        char tail[1024] = "";
        size_t tl = 0;
        int64_t until = bc_mono_ms() + 10000;
        while (c->salloc_err >= 0 && bc_mono_ms() < until) {
            struct pollfd pfd = {.fd = c->salloc_err, .events = POLLIN};
            poll(&pfd, 1, 200);
            sl_pump(NULL, &c->salloc_err, BC_STREAM_STDERR, tail, sizeof tail, &tl);
        }
        int st = 0, sig = 0;
        while (waitpid(c->salloc, &st, WNOHANG) == 0) {
            if (bc_mono_ms() >= until) {
                /* SIGTERM: salloc gives the job back; SIGKILL 5 s later */
                bc_log(ctx, BC_LOG_WARN, "host '%s': salloc (pid %d) did not end; stopping it",
                       alias, (int)c->salloc);
                kill(-c->salloc, sig ? SIGKILL : SIGTERM);
                sig++;
                until = bc_mono_ms() + 5000;
                if (sig > 2)
                    break;
            }
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
        }
        c->salloc = 0;
    }
    if (c->salloc_err >= 0)
        close(c->salloc_err);
    c->salloc_err = -1;
    release_job(ctx, alias, c->job, 0);
}

/* salloc's arguments from the host's keys. */
static void salloc_args(bc_ctx *ctx, argv_t *a, const char *alias)
{
    const bc_services *s = ctx->svc;
    const char *run_id = s->fact(ctx, "run_id");
    arg_add(a, "salloc");
    arg_add(a, "--job-name=benchctl-%s-%s", run_id ? run_id : "run", alias);
    static const char *const str_keys[][2] = {
        {"partition", "--partition"}, {"account", "--account"}, {"constraint", "--constraint"},
        {"qos", "--qos"}};
    for (size_t i = 0; i < sizeof str_keys / sizeof str_keys[0]; i++)
        if (s->opt_is_set(ctx, str_keys[i][0]))
            arg_add(a, "%s=%s", str_keys[i][1], s->opt_string(ctx, str_keys[i][0]));
    static const char *const int_keys[][2] = {{"nodes", "--nodes"},
                                              {"ntasks_per_node", "--ntasks-per-node"},
                                              {"cpus_per_task", "--cpus-per-task"}};
    for (size_t i = 0; i < sizeof int_keys / sizeof int_keys[0]; i++)
        if (s->opt_is_set(ctx, int_keys[i][0]))
            arg_add(a, "%s=%lld", int_keys[i][1], (long long)s->opt_int(ctx, int_keys[i][0]));
    if (s->opt_is_set(ctx, "time")) {
        /* minutes:seconds; Slurm rounds up to whole minutes */
        int64_t sec = (s->opt_duration_ms(ctx, "time") + 999) / 1000;
        arg_add(a, "--time=%lld:%02lld", (long long)(sec / 60), (long long)(sec % 60));
    }
    if (s->opt_bool(ctx, "overcommit"))
        arg_add(a, "--overcommit");
    const char *const *extra = NULL;
    size_t n = s->opt_list(ctx, "extra_args", &extra);
    for (size_t i = 0; i < n; i++)
        arg_add(a, "%s", extra[i]);
    arg_add(a, "cat"); /* the holder: runs (here) until benchctl closes its stdin */
}

/* The job id in a line of salloc's ("... job allocation 42"), or 0. */
static long job_in_line(const char *line)
{
    const char *p = strstr(line, "job allocation ");
    if (!p)
        return 0;
    return strtol(p + strlen("job allocation "), NULL, 10);
}

/* Run salloc until it has an allocation (BC_OK, c->job set, salloc left
 * running: c->salloc, c->hold_fd, c->salloc_err), gives up (BC_ERR), the
 * queue wait exceeds queue_timeout (BC_TIMEOUT) or the run is cancelled
 * (BC_CANCELLED).  A pending job is cancelled in the last two cases. */
static int allocate(bc_ctx *ctx, sl_conn *c, const char *alias, argv_t *a, const char *request)
{
    int64_t qt = ctx->svc->opt_duration_ms(ctx, "queue_timeout");
    int64_t t0 = bc_mono_ms();
    pid_t pid;
    int efd = -1, hold = -1;
    if (sl_spawn(ctx, a->v, NULL, NULL, &pid, &hold, NULL, &efd) != BC_OK)
        return BC_ERR;
    char err[4096] = "";
    size_t elen = 0, scanned = 0;
    int granted = 0, rc = BC_OK;
    long job = 0;
    int cfd = ctx->svc->cancel_fd(ctx);
    while (efd >= 0) {
        struct pollfd fds[2] = {{.fd = efd, .events = POLLIN}, {.fd = cfd, .events = POLLIN}};
        int wait_ms = 200;
        poll(fds, cfd >= 0 && !granted ? 2 : 1, wait_ms);
        sl_pump(NULL, &efd, BC_STREAM_STDERR, err, sizeof err, &elen);
        /* whole lines not yet looked at */
        if (scanned > elen)
            scanned = 0; /* the tail moved: look again from its start */
        char *nl;
        while ((nl = memchr(err + scanned, '\n', elen - scanned))) {
            *nl = '\0';
            long j = job_in_line(err + scanned);
            if (j > 0)
                job = j;
            if (j > 0 && strstr(err + scanned, "Granted"))
                granted = 1;
            *nl = '\n';
            scanned = (size_t)(nl - err) + 1;
        }
        if (granted)
            break;
        if (ctx->svc->cancelled(ctx)) {
            rc = BC_CANCELLED;
            break;
        }
        if (qt > 0 && bc_mono_ms() - t0 >= qt) {
            rc = BC_TIMEOUT;
            break;
        }
    }
    c->queue_wait_s = (double)(bc_mono_ms() - t0) / 1e3;
    if (job > 0)
        snprintf(c->job, sizeof c->job, "%ld", job);
    if (granted && rc == BC_OK && c->job[0] && efd >= 0) {
        c->salloc = pid;
        c->hold_fd = hold;
        c->salloc_err = efd;
        return BC_OK;
    }
    if (rc != BC_OK) {
        /* no allocation wanted any more: the pending job goes, then salloc */
        release_job(ctx, alias, c->job, 1);
        c->job[0] = '\0';
        kill(-pid, SIGTERM);
    }
    close(hold);
    if (efd >= 0)
        close(efd);
    int st = 0;
    int64_t until = bc_mono_ms() + 10000;
    while (waitpid(pid, &st, WNOHANG) == 0) {
        if (bc_mono_ms() >= until) {
            kill(-pid, SIGKILL);
            waitpid(pid, &st, 0);
            break;
        }
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    char last[1024];
    bc_last_lines(err, 3, last, sizeof last);
    for (char *p = last; *p; p++)
        if (*p == '\n')
            *p = ' ';
    if (rc == BC_TIMEOUT) {
        bc_error(ctx, "no allocation after queue_timeout (%.0f s in the queue); the pending job "
                 "was cancelled. Last from salloc: %s", c->queue_wait_s, last);
        return BC_TIMEOUT;
    }
    if (rc == BC_CANCELLED) {
        bc_error(ctx, "interrupted while waiting for an allocation");
        return BC_CANCELLED;
    }
    if (!granted || !c->job[0]) {
        bc_error(ctx, "Slurm refused the allocation: %s (salloc exit %d; the request: %s)",
                 last[0] ? last : "no message", WIFEXITED(st) ? WEXITSTATUS(st) : -1, request);
        c->job[0] = '\0';
        return BC_ERR;
    }
    return BC_OK;
}

/* The allocation's nodes (scontrol show job, then show hostnames). */
static int job_nodes(bc_ctx *ctx, sl_conn *c)
{
    char out[8192], list[4096];
    int status = -1;
    char *show[] = {"scontrol", "-o", "show", "job", c->job, NULL};
    if (sl_capture(ctx, show, SCTL_MS, 1, &status, out, sizeof out, NULL, 0) != BC_OK ||
        status != 0 || !sctl_field(out, "NodeList", list, sizeof list)) {
        bc_error(ctx, "cannot read job %s's node list (scontrol show job)", c->job);
        return BC_ERR;
    }
    char *names[] = {"scontrol", "show", "hostnames", list, NULL};
    char hosts[16384];
    if (sl_capture(ctx, names, SCTL_MS, 1, &status, hosts, sizeof hosts, NULL, 0) != BC_OK ||
        status != 0) {
        bc_error(ctx, "cannot expand job %s's node list %s", c->job, list);
        return BC_ERR;
    }
    for (char *save = NULL, *t = strtok_r(hosts, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
        char **v = realloc(c->nodes, (c->nnodes + 1) * sizeof *v);
        if (!v)
            return BC_ERR;
        c->nodes = v;
        c->nodes[c->nnodes] = strdup(t);
        if (!c->nodes[c->nnodes])
            return BC_ERR;
        c->nnodes++;
    }
    if (c->nnodes == 0) {
        bc_error(ctx, "job %s has no nodes", c->job);
        return BC_ERR;
    }
    return BC_OK;
}

/* Is accounting storage configured (so sacct can answer)? */
static int accounting_configured(bc_ctx *ctx)
{
    char out[65536], val[128];
    int status = -1;
    char *argv[] = {"scontrol", "show", "config", NULL};
    if (sl_capture(ctx, argv, SCTL_MS, 1, &status, out, sizeof out, NULL, 0) != BC_OK ||
        status != 0)
        return 0;
    const char *p = strstr(out, "AccountingStorageType");
    if (!p)
        return 0;
    p = strchr(p, '=');
    if (!p)
        return 0;
    p++;
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, " \n");
    snprintf(val, sizeof val, "%.*s", (int)(n < sizeof val ? n : sizeof val - 1), p);
    return strcmp(val, "accounting_storage/none") != 0 && val[0] != '\0';
}

/* The private directory: on the shared directory (default: the run
 * store, the parent of the run directory), made now; or (shared: false)
 * its name on node_dir of the first node, made once allocated. */
static int private_dir(bc_ctx *ctx, sl_conn *c)
{
    bc_sb sb = BC_SB_INIT;
    if (!c->shared) {
        c->tmpdir = sl_node_tmpdir_name(ctx->svc->opt_string(ctx, "node_dir"));
        bc_sb_printf(&sb, "BENCHCTL_HOST_TMPDIR=%s", c->tmpdir ? c->tmpdir : "");
        c->tmpdir_env = bc_sb_steal(&sb);
        if (!c->tmpdir || !c->tmpdir_env) {
            bc_error(ctx, "cannot name a private directory (out of memory or randomness)");
            return BC_ERR;
        }
        return BC_OK;
    }
    const char *base = ctx->svc->opt_string(ctx, "shared_dir");
    char *run_dir = NULL;
    if (!base || !base[0]) {
        const char *rd = ctx->svc->fact(ctx, "run_dir");
        run_dir = rd ? strdup(rd) : NULL;
        base = run_dir ? dirname(run_dir) : "/tmp";
    }
    bc_sb_printf(&sb, "%s/.benchctl-slurm.XXXXXX", base);
    c->tmpdir = bc_sb_steal(&sb);
    if (!c->tmpdir || !mkdtemp(c->tmpdir)) {
        bc_error(ctx, "cannot create a private directory in %s (shared_dir): %s", base,
                 strerror(errno));
        free(c->tmpdir);
        c->tmpdir = NULL;
        free(run_dir);
        return BC_ERR;
    }
    free(run_dir);
    bc_sb_printf(&sb, "BENCHCTL_HOST_TMPDIR=%s", c->tmpdir);
    c->tmpdir_env = bc_sb_steal(&sb);
    char *steps = bc_path_join_alloc(c->tmpdir, "steps");
    if (!c->tmpdir_env || !steps || mkdir(steps, 0700) != 0) {
        bc_error(ctx, "cannot prepare %s: %s", c->tmpdir, strerror(errno));
        free(steps);
        nftw(c->tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        return BC_ERR;
    }
    free(steps);
    return BC_OK;
}

/* fmt (with the quoted private directory for each %s) as a step on the
 * first node; BC_OK or the error ("cannot <what> ...") on ctx. */
static int node_private_dir(bc_ctx *ctx, sl_conn *c, const char *what, const char *fmt)
{
    char *q = bc_shell_quote_dup(c->tmpdir), err[600] = "";
    bc_sb cmd = BC_SB_INIT;
    bc_sb_printf(&cmd, fmt, q ? q : "", q ? q : "");
    int rc = q && !bc_sb_failed(&cmd) ? sl_node_run(ctx, c, bc_sb_str(&cmd), -1, -1, err, sizeof err)
                                      : BC_ERR;
    if (rc != BC_OK)
        bc_error(ctx, "cannot %s the private directory %s on node %s: %s", what, c->tmpdir,
                 c->nodes[0], err[0] ? err : "out of memory");
    bc_sb_free(&cmd);
    free(q);
    return rc;
}

/* The private directory goes: here, or on the first node while the
 * allocation is still there. */
static void remove_tmpdir(bc_ctx *ctx, sl_conn *c)
{
    if (!c->tmpdir)
        return;
    if (c->shared) {
        nftw(c->tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        return;
    }
    if (c->job[0] && c->nnodes && c->hold_fd >= 0 &&
        node_private_dir(ctx, c, "remove", "rm -rf -- %s") != BC_OK)
        bc_log(ctx, BC_LOG_WARN, "cannot remove %s on node %s", c->tmpdir, c->nodes[0]);
}

static int sl_open(bc_ctx *ctx, void **out)
{
    const char *alias = ctx->svc->fact(ctx, "host");
    alias = alias ? alias : "?";
    sl_conn *c = calloc(1, sizeof *c);
    if (!c) {
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    pthread_mutex_init(&c->lock, NULL);
    c->hold_fd = c->salloc_err = -1;
    c->overcommit = ctx->svc->opt_bool(ctx, "overcommit");
    int64_t t0 = bc_mono_ms();

    c->shared = ctx->svc->opt_bool(ctx, "shared");
    if (private_dir(ctx, c) != BC_OK) {
        conn_free(c);
        return BC_ERR;
    }
    bc_sb sb = BC_SB_INIT;
    argv_t a = {0};
    salloc_args(ctx, &a, alias);
    if (a.failed) {
        arg_free(&a);
        bc_error(ctx, "too many salloc arguments (extra_args)");
        goto fail;
    }
    bc_sb cmd = BC_SB_INIT;
    for (size_t i = 0; i < a.n; i++)
        bc_sb_printf(&cmd, "%s%s", i ? " " : "", a.v[i]);
    bc_log(ctx, BC_LOG_INFO, "host '%s': allocating: %s", alias, bc_sb_str(&cmd));
    int rc = allocate(ctx, c, alias, &a, bc_sb_str(&cmd));
    arg_free(&a);
    if (rc != BC_OK) {
        bc_sb_free(&cmd);
        goto fail_rc;
    }
    bc_sb_free(&cmd);
    if (job_nodes(ctx, c) != BC_OK)
        goto fail;
    if (!c->shared &&
        node_private_dir(ctx, c, "create", "umask 077 && mkdir -- %s && mkdir -- %s/steps") != BC_OK)
        goto fail;
    c->sacct = accounting_configured(ctx);
    bc_log(ctx, BC_LOG_INFO, "host '%s': job %s allocated %zu node%s after %.1f s in the queue",
           alias, c->job, c->nnodes, c->nnodes == 1 ? "" : "s", c->queue_wait_s);
    /* The private directory (a path on this machine too: `benchctl gc`
     * removes it here after a crash), and what the allocation cost, for the
     * core (host.h: KEY=value lines during open). */
    bc_sb_printf(&sb, "%s\n%sconnect_ms=%lld\nslurm_job=%s\n", c->tmpdir_env,
                 c->shared ? "private_dir_local=1\n" : "", (long long)(bc_mono_ms() - t0), c->job);
    if (!bc_sb_failed(&sb))
        ctx->svc->output(ctx, BC_STREAM_STDOUT, bc_sb_str(&sb), sb.len);
    bc_sb_free(&sb);
    *out = c;
    return BC_OK;
fail:
    rc = BC_ERR;
fail_rc:
    remove_tmpdir(ctx, c);
    give_back(ctx, alias, c);
    conn_free(c);
    return rc == BC_TIMEOUT || rc == BC_CANCELLED ? rc : BC_ERR;
}

static void sl_close(bc_ctx *ctx, void *cv)
{
    sl_conn *c = cv;
    const char *alias = ctx->svc->fact(ctx, "host");
    remove_tmpdir(ctx, c);
    give_back(ctx, alias ? alias : "?", c);
    conn_free(c);
}

/* ---- files (the shared directory: local copies) ---------------------------- */

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

/* A relative host path is inside the private directory. */
static char *host_path(sl_conn *c, const char *path)
{
    return path[0] == '/' ? strdup(path) : bc_path_join_alloc(c->tmpdir, path);
}

static int sl_get_file(bc_ctx *ctx, void *cv, const char *remote, const char *local)
{
    if (!((sl_conn *)cv)->shared)
        return sl_node_get(ctx, cv, remote, local);
    char *src = host_path(cv, remote);
    int rc = src ? copy_file(ctx, src, local, 0644) : BC_ERR;
    free(src);
    return rc;
}

static int sl_put_file(bc_ctx *ctx, void *cv, const char *local, const char *remote, int mode)
{
    sl_conn *c = cv;
    if (!c->shared)
        return sl_node_put(ctx, c, local, remote, mode);
    char *dst = host_path(c, remote);
    if (!dst)
        return BC_ERR;
    if (remote[0] != '/')
        for (char *p = dst + strlen(c->tmpdir) + 1; (p = strchr(p, '/')); p++) {
            *p = '\0';
            mkdir(dst, 0700);
            *p = '/';
        }
    int rc = copy_file(ctx, local, dst, mode);
    free(dst);
    return rc;
}

/* ---- the descriptor ------------------------------------------------------ */

static const bc_option options[] = {
    {"partition", BC_OPT_STRING, 0, NULL, NULL, BC_NO_RANGE,
     "the partition to allocate in (salloc --partition); default: the cluster's default"},
    {"account", BC_OPT_STRING, 0, NULL, NULL, BC_NO_RANGE, "the account charged (--account)"},
    {"nodes", BC_OPT_INT, 0, NULL, NULL, 1, 100000, "nodes to allocate (--nodes)"},
    {"ntasks_per_node", BC_OPT_INT, 0, NULL, NULL, 1, 100000, "tasks per node (--ntasks-per-node)"},
    {"cpus_per_task", BC_OPT_INT, 0, NULL, NULL, 1, 100000, "CPUs per task (--cpus-per-task)"},
    {"time", BC_OPT_DURATION, 0, NULL, NULL, 1000, 3.2e12,
     "the allocation's time limit (--time; Slurm rounds up to whole minutes)"},
    {"constraint", BC_OPT_STRING, 0, NULL, NULL, BC_NO_RANGE, "node features (--constraint)"},
    {"qos", BC_OPT_STRING, 0, NULL, NULL, BC_NO_RANGE, "quality of service (--qos)"},
    {"extra_args", BC_OPT_STRING_LIST, 0, NULL, NULL, BC_NO_RANGE,
     "more salloc arguments, one per item, passed as given"},
    {"overcommit", BC_OPT_BOOL, 0, "false", NULL, BC_NO_RANGE,
     "allocate and run steps with --overcommit (more tasks than CPUs)"},
    {"queue_timeout", BC_OPT_DURATION, 0, "0s", NULL, 0, 3.2e12,
     "give up (and cancel the pending job) after this long in the queue; 0s: wait"},
    {"shared_dir", BC_OPT_STRING, 0, NULL, NULL, BC_NO_RANGE,
     "a directory the controller and the nodes share, for the run's private directory; "
     "default: the run store (the parent of the run directory)"},
    {"shared", BC_OPT_BOOL, 0, "true", NULL, BC_NO_RANGE,
     "false: the nodes share no directory with this machine; every stage runs on the "
     "allocation's first node, its private directory is on node_dir there, files move "
     "through steps (no fan-out)"},
    {"node_dir", BC_OPT_STRING, 0, "/tmp", NULL, BC_NO_RANGE,
     "with shared: false, where the private directory is made on the first node"},
    {NULL, 0, 0, NULL, NULL, BC_NO_RANGE, NULL},
};

static const bc_host_ops ops = {
    .size = sizeof(bc_host_ops),
    .open = sl_open,
    .close = sl_close,
    .start = sl_start,
    .wait = sl_wait,
    .stop = sl_stop,
    .release = sl_release,
    .get_file = sl_get_file,
    .put_file = sl_put_file,
    /* Steps run a POSIX shell on the nodes.  Not SHARED_FS: the shared
     * directory is not every path (a script or output elsewhere is copied
     * through get_file / put_file, which are local copies here). */
    .caps = BC_HOST_CAP_POSIX_SHELL,
};

static const bc_plugin descriptor = {
    .abi = BC_PLUGIN_PREFIX,
    .kind = BC_KIND_HOST,
    .name = "slurm",
    .version = "0.1.0",
    .description = "runs stages as job steps of one Slurm allocation per run (salloc, srun)",
    .options = options,
    .ops = &ops,
};

BC_PLUGIN_ENTRY(descriptor)
