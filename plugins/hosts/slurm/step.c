/*
 * Stage commands as job steps: `srun --jobid J --overlap -N1 -n1` in the
 * host's allocation, pinned with --nodelist to node BENCHCTL_NODE (mod the
 * allocation's nodes) when the core fans a stage out, so that node k of a
 * fan-out is the k-th node of the allocation.
 *
 * The command runs inside a short wrapper that writes, into the step's
 * files in the private (shared) directory, the step's id as soon as it
 * starts (what stop needs: `scancel --signal=TERM J.S`) and, when it ends,
 * its elapsed time and CPU time (`times`) -- the accounting used when the
 * cluster keeps no accounting database (sacct answers otherwise).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "slurmint.h"

#define SCTL_MS 30000

/* The wrapper around the stage's command (see the top of the file).  The
 * command itself runs unchanged in the same shell (its options, such as
 * -e, hold); the end is recorded by an EXIT trap, so a command that sets
 * its own EXIT trap or execs another program leaves no .acct file (the
 * record then has no elapsed and CPU time). */
static char *wrap(const char *base, const char *cmd)
{
    char *q = bc_shell_quote_dup(base);
    if (!q)
        return NULL;
    bc_sb sb = BC_SB_INIT;
    bc_sb_printf(&sb,
                 "_bc_acct=%s.acct\n"
                 "printf '%%s %%s\\n' \"${SLURM_JOB_ID:-}.${SLURM_STEP_ID:-}\" "
                 "\"${SLURMD_NODENAME:-}\" >%s.id 2>/dev/null || :\n"
                 "_bc_t0=${EPOCHREALTIME:-$(date +%%s.%%N)}\n"
                 "trap '{ printf \"elapsed %%s %%s\\n\" \"$_bc_t0\" "
                 "\"${EPOCHREALTIME:-$(date +%%s.%%N)}\"; times; } >\"$_bc_acct\" 2>/dev/null "
                 "|| :' EXIT\n"
                 "%s\n",
                 q, q, cmd);
    free(q);
    return bc_sb_steal(&sb);
}

/* The value of NAME in a NULL-terminated "NAME=value" array, or NULL. */
static const char *env_get(const char *const *env, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; env && env[i]; i++)
        if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
            return env[i] + n + 1;
    return NULL;
}

int sl_start(bc_ctx *ctx, void *cv, const bc_exec_request *req, void **out)
{
    sl_conn *c = cv;
    size_t nshell = 0;
    while (req->shell && req->shell[nshell])
        nshell++;
    if (nshell == 0) {
        bc_error(ctx, "no shell configured");
        return BC_ERR;
    }
    sl_proc *p = calloc(1, sizeof *p);
    if (!p) {
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    p->ctx = ctx;
    p->c = c;
    p->ch.out_fd = p->ch.err_fd = p->ch.pidfd = -1;
    pthread_mutex_lock(&c->lock);
    unsigned seq = ++c->seq;
    pthread_mutex_unlock(&c->lock);
    bc_sb sb = BC_SB_INIT;
    bc_sb_printf(&sb, "%s/steps/%u", c->tmpdir, seq);
    p->base = bc_sb_steal(&sb);

    /* Fan-out (and parallel stages): node k on the allocation's node k. */
    const char *node = env_get(req->env, "BENCHCTL_NODE");
    if (node && !c->shared) {
        bc_error(ctx, "a fan-out (nodes:) needs a directory the nodes share with this machine; "
                 "this host has shared: false (its stages run on node %s only)", c->nodes[0]);
        free(p->base);
        free(p);
        return BC_ERR;
    }
    if (!c->shared) /* every command where the private directory is */
        snprintf(p->node, sizeof p->node, "%s", c->nodes[0]);
    else if (node && c->nnodes > 1) {
        char *end;
        long k = strtol(node, &end, 10);
        if (*end == '\0' && k >= 0)
            snprintf(p->node, sizeof p->node, "%s", c->nodes[(size_t)k % c->nnodes]);
    }
    const char *workdir = req->workdir ? req->workdir : ctx->svc->fact(ctx, "config_dir");
    char *cmd = p->base ? wrap(p->base, req->command) : NULL;
    char *args[40];
    size_t n = 0;
    char jobarg[64], namearg[96], nodearg[96], dirarg[4200];
    snprintf(jobarg, sizeof jobarg, "--jobid=%s", c->job);
    snprintf(namearg, sizeof namearg, "--job-name=benchctl-step-%u", seq);
    args[n++] = "srun";
    args[n++] = jobarg;
    args[n++] = "--overlap";
    args[n++] = "--nodes=1";
    args[n++] = "--ntasks=1";
    args[n++] = "--unbuffered";
    args[n++] = "--quiet";
    args[n++] = namearg;
    if (c->overcommit)
        args[n++] = "--overcommit";
    if (p->node[0]) {
        snprintf(nodearg, sizeof nodearg, "--nodelist=%s", p->node);
        args[n++] = nodearg;
    }
    if (workdir) {
        snprintf(dirarg, sizeof dirarg, "--chdir=%s", workdir);
        args[n++] = dirarg;
    }
    for (size_t i = 0; i < nshell && n < 38; i++)
        args[n++] = (char *)req->shell[i];
    args[n++] = cmd;
    args[n] = NULL;
    char **envp = bc_env_merge(req->env, c->tmpdir_env);
    int rc = BC_ERR;
    if (!cmd || !envp)
        bc_error(ctx, "out of memory");
    else
        rc = sl_spawn(ctx, args, envp, NULL, &p->ch.pid, NULL, &p->ch.out_fd, &p->ch.err_fd);
    free(envp);
    free(cmd);
    if (rc != BC_OK) {
        free(p->base);
        free(p);
        return rc;
    }
    p->t0_ms = bc_mono_ms();
    p->ch.pidfd = (int)syscall(SYS_pidfd_open, p->ch.pid, 0);
    *out = p;
    return BC_OK;
}

/* srun's output: to the core, stderr's end kept too (Slurm's messages). */
static void sink(void *arg, int stream, const char *buf, size_t len)
{
    sl_proc *p = arg;
    p->ctx->svc->output(p->ctx, stream, buf, len);
    if (stream == BC_STREAM_STDERR)
        bc_tail_keep(p->errtail, sizeof p->errtail, &p->errlen, buf, len);
}

static int cancelled(void *arg)
{
    sl_proc *p = arg;
    return p->ctx->svc->cancelled(p->ctx);
}

static int try_reap(sl_proc *p, int options)
{
    return bc_child_reap(&p->ch, options);
}

static void drain(sl_proc *p)
{
    bc_child_drain(&p->ch, BC_STREAM_STDOUT, BC_STREAM_STDERR, sink, p);
}

/* The step id ("J.S") and node from the wrapper's .id file, once. */
static void read_step_id(sl_proc *p)
{
    if (p->step[0] || !p->base)
        return;
    bc_sb sb = BC_SB_INIT;
    bc_sb_printf(&sb, "%s.id", p->base);
    char line[256] = "", step[64] = "", node[64] = "";
    int ok = !bc_sb_failed(&sb) &&
             sl_node_read(p->ctx, p->c, bc_sb_str(&sb), line, sizeof line) == BC_OK;
    bc_sb_free(&sb);
    if (ok && sscanf(line, "%63s %63s", step, node) >= 1 && strchr(step, '.') &&
        step[strlen(step) - 1] != '.') {
        snprintf(p->step, sizeof p->step, "%s", step);
        if (node[0] && !p->node[0])
            snprintf(p->node, sizeof p->node, "%s", node);
    }
}

/* "[D-]HH:MM:SS[.mmm]" or "MM:SS.mmm" (sacct) as seconds; -1 if not. */
static double slurm_duration(const char *s)
{
    double parts[4] = {0};
    int np = 0;
    double days = 0;
    const char *dash = strchr(s, '-');
    if (dash) {
        days = strtod(s, NULL);
        s = dash + 1;
    }
    while (*s && np < 3) {
        char *end;
        parts[np++] = strtod(s, &end);
        if (end == s)
            return -1;
        s = *end == ':' ? end + 1 : end;
        if (*end != ':')
            break;
    }
    double v = 0;
    for (int i = 0; i < np; i++)
        v = v * 60 + parts[i];
    return days * 86400 + v;
}

/* "123K" / "1.5M" / "2G" (sacct MaxRSS) in KiB; -1 if not. */
static int64_t slurm_kib(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s)
        return -1;
    switch (*end) {
    case 'M': v *= 1024; break;
    case 'G': v *= 1024 * 1024; break;
    case 'T': v *= 1024.0 * 1024 * 1024; break;
    case 'K': case '\0': break;
    default: v /= 1024; /* bytes */
    }
    return (int64_t)v;
}

/* Accounting from sacct (when the cluster keeps it): fills *res and sb. */
static int sacct_step(sl_proc *p, bc_exec_result *res, bc_sb *sb)
{
    char out[2048];
    int status = -1;
    char *argv[] = {"sacct", "-n", "-P", "-j", p->step,
                    "-o", "Elapsed,UserCPU,SystemCPU,MaxRSS,State", NULL};
    /* the step's record reaches the database a little after its end */
    for (int i = 0; i < 10; i++) {
        if (sl_capture(p->ctx, argv, SCTL_MS, 0, &status, out, sizeof out, NULL, 0) != BC_OK ||
            status != 0)
            return 0;
        char *f[5] = {0};
        char *save = NULL, *line = strtok_r(out, "\n", &save);
        size_t k = 0;
        for (char *q = line; q && k < 5; k++) {
            f[k] = q;
            q = strchr(q, '|');
            if (q)
                *q++ = '\0';
        }
        if (k == 5 && f[3][0]) {
            double el = slurm_duration(f[0]), us = slurm_duration(f[1]),
                   ss = slurm_duration(f[2]);
            int64_t rss = slurm_kib(f[3]);
            if (us >= 0 && ss >= 0) {
                res->user_us = (int64_t)(us * 1e6);
                res->sys_us = (int64_t)(ss * 1e6);
            }
            if (rss >= 0)
                res->max_rss_kb = rss;
            bc_sb_printf(sb, ",\"source\":\"sacct\",\"elapsed_s\":%.3f,\"cpu_s\":%.3f", el,
                         us + ss);
            if (rss >= 0)
                bc_sb_printf(sb, ",\"max_rss_kb\":%lld", (long long)rss);
            bc_sb_printf(sb, ",\"state\":\"%.*s\"", (int)strcspn(f[4], "\"\\ "), f[4]);
            return 1;
        }
        struct timespec ts = {0, 300 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* Accounting from the wrapper's .acct file: elapsed, and the CPU time of
 * the command's processes (`times`: the shell's own, then its children's). */
static void wrapper_acct(sl_proc *p, bc_exec_result *res, bc_sb *sb)
{
    bc_sb path = BC_SB_INIT;
    bc_sb_printf(&path, "%s.acct", p->base);
    char text[1024];
    int ok = !bc_sb_failed(&path) &&
             sl_node_read(p->ctx, p->c, bc_sb_str(&path), text, sizeof text) == BC_OK;
    bc_sb_free(&path);
    bc_sb_append(sb, ",\"source\":\"step\"");
    if (!ok)
        return;
    int n = 0;
    double u = 0, s = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        double a, b;
        long m1, m2;
        double s1, s2;
        for (char *q = line; *q; q++)
            if (*q == ',')
                *q = '.'; /* a locale's decimal comma */
        if (sscanf(line, "elapsed %lf %lf", &a, &b) == 2 && b >= a) {
            bc_sb_printf(sb, ",\"elapsed_s\":%.6f", b - a);
        } else if (sscanf(line, "%ldm%lfs %ldm%lfs", &m1, &s1, &m2, &s2) == 4 && n < 2) {
            u += (double)m1 * 60 + s1;
            s += (double)m2 * 60 + s2;
            n++;
        }
    }
    if (n == 2) {
        res->user_us = (int64_t)(u * 1e6);
        res->sys_us = (int64_t)(s * 1e6);
        bc_sb_printf(sb, ",\"cpu_s\":%.3f", u + s);
    }
}

/* The stage record's accounting (ABI 1.6 service), and res's CPU / RSS. */
static void account(sl_proc *p, bc_exec_result *res, const char *termination)
{
    bc_sb sb = BC_SB_INIT;
    p->accounted = 1;
    read_step_id(p);
    const char *dot = strchr(p->step, '.');
    bc_sb_printf(&sb, "{\"job_id\":\"%s\"", p->c->job);
    if (dot)
        bc_sb_printf(&sb, ",\"step_id\":\"%s\"", dot + 1);
    if (p->node[0])
        bc_sb_printf(&sb, ",\"node\":\"%.*s\"", (int)strcspn(p->node, "\"\\"), p->node);
    bc_sb_printf(&sb, ",\"queue_wait_s\":%.3f", p->c->queue_wait_s);
    if (!(p->c->sacct && dot && sacct_step(p, res, &sb)))
        wrapper_acct(p, res, &sb);
    if (termination)
        bc_sb_printf(&sb, ",\"termination\":\"%s\"", termination);
    bc_sb_append(&sb, "}");
    const bc_services *s = p->ctx->svc;
    if (!bc_sb_failed(&sb) && BC_HAS_SERVICE(s, host_accounting))
        s->host_accounting(p->ctx, bc_sb_str(&sb));
    bc_sb_free(&sb);
}

/* Why the step ended other than by itself: the allocation's end (time
 * limit, node failure, cancelled) or a node failure srun reported.  NULL
 * when it ended by itself. */
static const char *ended_by_slurm(sl_proc *p, char *why, size_t size)
{
    /* what slurmstepd told srun: "*** STEP 1.1 ON n1 CANCELLED AT ... DUE
     * TO TIME LIMIT ***", "... DUE TO NODE FAILURE ..." */
    int walltime = strstr(p->errtail, "DUE TO TIME LIMIT") != NULL;
    int nodefail = strstr(p->errtail, "DUE TO NODE FAILURE") != NULL ||
                   strstr(p->errtail, "Node failure") != NULL;
    char state[64], reason[128];
    int live = sl_job_state(p->ctx, p->c->job, state, sizeof state, reason, sizeof reason);
    if (live == 0) {
        /* ended: TIMEOUT (or COMPLETING with Reason=TimeLimit), NODE_FAIL, ... */
        walltime = walltime || strcmp(state, "TIMEOUT") == 0 ||
                   strcmp(state, "DEADLINE") == 0 || strcmp(reason, "TimeLimit") == 0;
        nodefail = nodefail || strcmp(state, "NODE_FAIL") == 0 ||
                   strcmp(reason, "NodeDown") == 0 || strcmp(reason, "NodeFail") == 0;
    }
    if (walltime) {
        snprintf(why, size, "the allocation (job %s) hit its time limit", p->c->job);
        return "walltime";
    }
    if (nodefail) {
        snprintf(why, size, "node %s of the allocation (job %s) failed",
                 p->node[0] ? p->node : "?", p->c->job);
        return "node_fail";
    }
    if (live == 0) {
        snprintf(why, size, "the allocation (job %s) ended: %s%s%s", p->c->job, state,
                 reason[0] && strcmp(reason, "None") ? ", " : "",
                 reason[0] && strcmp(reason, "None") ? reason : "");
        return "allocation_ended";
    }
    return NULL;
}

int sl_wait(bc_ctx *ctx, void *pv, int64_t timeout_ms, bc_exec_result *res)
{
    sl_proc *p = pv;
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
    char why[256];
    const char *term = res->exit_status != 0 || res->term_signal
                           ? ended_by_slurm(p, why, sizeof why)
                           : NULL;
    account(p, res, term);
    if (term) {
        bc_error(ctx, "%s (termination reason %s)", why, term);
        return BC_ERR;
    }
    return BC_OK;
}

/* Is srun still running?  Waits up to ms for it to end. */
static int srun_alive(sl_proc *p, int64_t ms)
{
    int64_t until = bc_mono_ms() + ms;
    for (;;) {
        try_reap(p, WNOHANG);
        drain(p);
        if (p->ch.exited)
            return 0;
        if (bc_mono_ms() >= until)
            return 1;
        struct pollfd pfd = {.fd = p->ch.pidfd, .events = POLLIN};
        poll(&pfd, p->ch.pidfd >= 0 ? 1 : 0, 20);
    }
}

static int scancel_step(sl_proc *p, const char *sig)
{
    char sigarg[32];
    snprintf(sigarg, sizeof sigarg, "--signal=%s", sig);
    char *argv[] = {"scancel", "--quiet", sigarg, p->step, NULL};
    int status = -1;
    int rc = sl_capture(p->ctx, argv, SCTL_MS, 0, &status, NULL, 0, NULL, 0);
    return rc == BC_OK && status == 0 ? BC_OK : BC_ERR;
}

/* Stop the step; the record gets its ids (and what the wrapper wrote). */
static int stop_step(sl_proc *p, int64_t grace_ms);

int sl_stop(bc_ctx *ctx, void *pv, int64_t grace_ms)
{
    sl_proc *p = pv;
    p->ctx = ctx;
    int rc = stop_step(p, grace_ms);
    bc_exec_result ignored = {.size = sizeof ignored};
    if (!p->accounted) /* wait may have recorded it (with a termination reason) */
        account(p, &ignored, NULL);
    return rc;
}

static int stop_step(sl_proc *p, int64_t grace_ms)
{
    bc_ctx *ctx = p->ctx;
    if (!srun_alive(p, 0))
        return BC_OK;
    /* The step's id: written by the wrapper as the step starts; a step
     * that has not started yet is stopped through srun alone. */
    int64_t until = bc_mono_ms() + 2000;
    while (!p->step[0] && bc_mono_ms() < until && srun_alive(p, 50))
        read_step_id(p);
    if (p->step[0]) {
        scancel_step(p, "TERM");
        if (!srun_alive(p, grace_ms > 0 ? grace_ms : 0))
            return BC_OK;
        scancel_step(p, "KILL");
        if (!srun_alive(p, 5000))
            return BC_OK;
    }
    /* srun itself: twice SIGINT within a second cancels the step */
    kill(p->ch.pid, SIGINT);
    kill(p->ch.pid, SIGINT);
    if (!srun_alive(p, 5000))
        return BC_OK;
    kill(-p->ch.pid, SIGKILL);
    if (!srun_alive(p, 5000))
        return BC_OK;
    bc_error(ctx, "srun (pid %d) for step %s survived SIGKILL", (int)p->ch.pid,
             p->step[0] ? p->step : "?");
    return BC_ERR;
}

void sl_release(bc_ctx *ctx, void *pv)
{
    sl_proc *p = pv;
    if (!p)
        return;
    p->ctx = ctx;
    if (!try_reap(p, WNOHANG)) {
        /* not waited for nor stopped: never leave srun behind */
        kill(-p->ch.pid, SIGKILL);
        try_reap(p, 0);
    }
    if (p->ch.out_fd >= 0)
        close(p->ch.out_fd);
    if (p->ch.err_fd >= 0)
        close(p->ch.err_fd);
    if (p->ch.pidfd >= 0)
        close(p->ch.pidfd);
    if (p->base && p->c->shared) {
        /* the step's files are read: remove them (on a node: with the
         * private directory at the end) */
        bc_sb sb = BC_SB_INIT;
        bc_sb_printf(&sb, "%s.id", p->base);
        if (!bc_sb_failed(&sb))
            unlink(bc_sb_str(&sb));
        bc_sb_clear(&sb);
        bc_sb_printf(&sb, "%s.acct", p->base);
        if (!bc_sb_failed(&sb))
            unlink(bc_sb_str(&sb));
        bc_sb_free(&sb);
    }
    free(p->base);
    free(p);
}
