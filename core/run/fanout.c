/*
 * Fan-out: one stage on many nodes at once (`nodes:`).  Node k runs on
 * host hosts[k % nhosts] with BENCHCTL_NODE=k, BENCHCTL_NODES,
 * BENCHCTL_NODE_HOST and its own working directory (BENCHCTL_NODE_DIR)
 * in its host's private directory.
 *
 * The start barrier: each node's command is wrapped in a short prelude
 * that makes its directory, runs `prepare:`, opens a FIFO there (read and
 * write, so opening never blocks), prints a "ready" line, and blocks
 * reading a line from the FIFO.  When every node is ready (or has ended),
 * the controller writes that line into every FIFO of a host with one
 * command per host, all hosts at once; each node prints the time it was
 * released by its own clock ($EPOCHREALTIME) and runs the stage's
 * command.  The barrier lines never reach the log or the terminal.
 *
 * Failures: a node that fails (before or after the barrier) fails the
 * stage, and the other nodes are stopped, unless `min_nodes:` nodes can
 * still succeed.  Every node's record, log and outputs are kept; the
 * collated record (collate.c) carries the merged outputs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/term.h"
#include "run/run.h"
#include "run/live.h"
#include "run/fanout.h"

#define MARK "\036benchctl-node "
#define RELEASE_FIFO ".benchctl-release"
#define WAIT_SLICE_MS 100 /* how often a node's wait looks at the fan-out's verdict */

const char *fanout_stop_reason(fan_node *fn)
{
    return fn->fan->abort_reason ? fn->fan->abort_reason : "another node failed";
}

void fanout_node_env(const stage_rec *rec, strvec *env)
{
    const cfg_stage *st = rec->st;
    if (!st)
        return;
    if (rec->where.node >= 0) {
        sv_push_owned(env, xasprintf("BENCHCTL_NODE=%d", rec->where.node));
        sv_push_owned(env, xasprintf("BENCHCTL_NODES=%d", rec->nodes));
        sv_push_owned(env, xasprintf("BENCHCTL_NODE_HOST=%s", rec->where.host));
        if (rec->workdir)
            sv_push_owned(env, xasprintf("BENCHCTL_NODE_DIR=%s", rec->workdir));
        return;
    }
    if (!rec->parallel)
        return;
    for (size_t i = 0; i < st->nhosts; i++)
        if (strcmp(st->hosts[i], rec->where.host) == 0) {
            sv_push_owned(env, xasprintf("BENCHCTL_NODE=%zu", i));
            sv_push_owned(env, xasprintf("BENCHCTL_NODES=%zu", st->nhosts));
            sv_push_owned(env, xasprintf("BENCHCTL_NODE_HOST=%s", rec->where.host));
        }
}

/* The node's working directory: <host tmpdir>/nodes/[<case>__]<stage>/node-<k>. */
static char *node_dir_of(const char *tmp, const char *case_name, const char *stage_name, int k)
{
    strbuf sb = {0};
    sb_printf(&sb, "%s/nodes/", tmp);
    const char *parts[2] = {case_name, stage_name};
    for (int p = 0; p < 2; p++) {
        if (!parts[p])
            continue;
        for (const char *c = parts[p]; *c; c++) {
            char ch = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                      (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' ? *c : '_';
            sb_add(&sb, &ch, 1);
        }
        if (p == 0)
            sb_puts(&sb, "__");
    }
    sb_printf(&sb, "/node-%d", k);
    return sb_steal(&sb);
}

static char *node_dir(const char *tmp, const stage_rec *rec)
{
    return node_dir_of(tmp, rec->case_name, rec->stage_name, rec->where.node);
}

bool fanout_wrap(fan_node *fn, hostconn *h, stage_exec *ex, char **err)
{
    stage_rec *rec = fn->rec;
    const cfg_stage *st = rec->st;
    const char *tmp = hostconn_tmpdir(h);
    if (!tmp) {
        *err = xasprintf("stage '%s' node %d: host '%s' has no private directory "
                         "($BENCHCTL_HOST_TMPDIR) for the node's working directory",
                         st->name, rec->where.node, h->cfg->alias);
        return false;
    }
    free(rec->workdir);
    rec->workdir = node_dir(tmp, rec);
    fanout_node_env(rec, &ex->env);
    ex->req.env = (const char *const *)ex->env.v;
    char *q = shell_quote(rec->workdir);
    strbuf sb = {0};
    /* The directory and its FIFO were made for all of a host's nodes at
     * once (host_prepare); made here only when that failed. */
    sb_printf(&sb, "{ cd %s && [ -p " RELEASE_FIFO " ]; } 2>/dev/null || "
                   "{ mkdir -p %s && cd %s && rm -f " RELEASE_FIFO " && mkfifo " RELEASE_FIFO
                   "; } || exit 125\n", q, q, q);
    if (st->prepare)
        sb_printf(&sb, "( %s\n) || exit $?\n", st->prepare);
    /* The release line names the start time (µs, this host's clock).  The
     * node waits for it with bash's `read -t` on its FIFO (nothing more
     * comes; the release command removes the FIFO): no process is started
     * between the release line and the time stamp, so 32 nodes on 2 CPUs
     * wake within a few ms (forks and spinning in that window spread them
     * over hundreds).  Without $EPOCHREALTIME (not bash)
     * a node goes when the line comes. */
    sb_puts(&sb, "exec 9<>" RELEASE_FIFO "\n"
                 "printf '" MARK "ready\\n'\n"
                 "_bc_at=\n"
                 "read -r _bc_go _bc_at <&9 || :\n"
                 "if [ -n \"${EPOCHREALTIME:-}\" ] && [ -n \"$_bc_at\" ]; then\n"
                 "  _bc_d=$((_bc_at - ${EPOCHREALTIME/[.,]/}))\n"
                 "  if [ \"$_bc_d\" -gt 0 ]; then\n"
                 "    _bc_u=00000$((_bc_d % 1000000))\n"
                 "    read -r -t \"$((_bc_d / 1000000)).${_bc_u: -6}\" _bc_go <&9 || :\n"
                 "  fi\n"
                 "fi\n"
                 "_bc_t=${EPOCHREALTIME:-$(date +%s.%N)}\n"
                 "unset _bc_go _bc_at _bc_d _bc_u\n"
                 "exec 9<&-\n"
                 "printf '" MARK "released %s\\n' \"$_bc_t\"\n"
                 "unset _bc_t\n");
    sb_puts(&sb, ex->cmd);
    sb_puts(&sb, "\n");
    free(q);
    free(ex->cmd);
    ex->cmd = sb_steal(&sb);
    ex->req.command = ex->cmd;
    return true;
}

/* A barrier line of node fn ("ready", "released <time>"). */
static void take_mark(fan_node *fn, const char *what)
{
    fanout *f = fn->fan;
    if (strncmp(what, "ready", 5) == 0) {
        pthread_mutex_lock(&f->mu);
        if (!fn->ready) {
            fn->ready = true;
            f->nready++;
        }
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
        fn->marks_left = 1;
    } else if (strncmp(what, "released ", 9) == 0) {
        char *t = xstrdup(what + 9);
        for (char *p = t; *p; p++)
            if (*p == ',')
                *p = '.'; /* a locale's decimal comma */
        t[strcspn(t, "\r\n")] = '\0';
        double v;
        if (parse_double(t, &v))
            fn->released_own = v;
        free(t);
        fn->marks_left = 0;
    }
}

void fanout_stdout(stage_io *io, const void *data, size_t len)
{
    fan_node *fn = io->node;
    if (fn->marks_left == 0) {
        stage_io_write(io, BC_STREAM_STDOUT, data, len);
        return;
    }
    /* Until the barrier is passed, stdout goes line by line. */
    sb_add(&fn->pend, data, len);
    size_t start = 0;
    for (size_t i = 0; i < fn->pend.len && fn->marks_left > 0; i++) {
        if (fn->pend.buf[i] != '\n')
            continue;
        const char *line = fn->pend.buf + start;
        size_t n = i + 1 - start;
        size_t ml = strlen(MARK);
        if (n > ml && memcmp(line, MARK, ml) == 0) {
            char *what = xstrndup(line + ml, n - ml);
            take_mark(fn, what);
            free(what);
        } else {
            stage_io_write(io, BC_STREAM_STDOUT, line, n);
        }
        start = i + 1;
    }
    if (fn->marks_left == 0 && start < fn->pend.len) {
        stage_io_write(io, BC_STREAM_STDOUT, fn->pend.buf + start, fn->pend.len - start);
        start = fn->pend.len;
    }
    memmove(fn->pend.buf, fn->pend.buf + start, fn->pend.len - start);
    fn->pend.len -= start;
    if (fn->pend.buf)
        fn->pend.buf[fn->pend.len] = '\0';
}

void fanout_stdout_end(stage_io *io)
{
    fan_node *fn = io->node;
    if (fn->pend.len)
        stage_io_write(io, BC_STREAM_STDOUT, fn->pend.buf, fn->pend.len);
    fn->pend.len = 0;
}

int fanout_exec(fan_node *fn, hostconn *h, core_ctx *ctx, const bc_exec_request *req,
                int64_t limit_ms, int64_t grace_ms, bc_exec_result *res, int64_t *wall)
{
    void *proc = NULL;
    *res = (bc_exec_result){.size = sizeof *res, .user_us = -1, .sys_us = -1, .max_rss_kb = -1};
    int64_t t0 = mono_ns();
    if (exec_start(h, ctx, req, &proc) != BC_OK)
        return EXEC_START_FAILED;
    int64_t deadline = limit_ms >= 0 ? t0 + limit_ms * 1000000 : -1;
    int rc;
    for (;;) {
        int64_t slice = WAIT_SLICE_MS;
        if (deadline >= 0) {
            int64_t left = (deadline - mono_ns()) / 1000000;
            if (left <= 0) {
                rc = BC_TIMEOUT;
                break;
            }
            if (left < slice)
                slice = left;
        }
        rc = exec_wait(h, ctx, proc, slice, res);
        if (rc != BC_TIMEOUT)
            break;
        if (__atomic_load_n(&fn->fan->abort, __ATOMIC_ACQUIRE)) {
            rc = EXEC_NODE_STOPPED;
            break;
        }
    }
    if (wall)
        *wall = mono_ns() - t0;
    if (rc != BC_OK)
        exec_stop(h, ctx, proc, grace_ms);
    exec_release(h, ctx, proc);
    return rc;
}

/* ---- the controller -------------------------------------------------------- */

/* Give up on the nodes still running (under f->mu). */
static void give_up(fanout *f, char *reason)
{
    if (f->abort) {
        free(reason);
        return;
    }
    f->abort_reason = reason;
    __atomic_store_n(&f->abort, 1, __ATOMIC_RELEASE);
}

static void *node_thread(void *arg)
{
    fan_node *fn = arg;
    fanout *f = fn->fan;
    live_node_started(f->r);
    fn->out = stage_run_one(f->r, fn->rec, fn->prefix, fn);
    live_node_done(f->r);
    pthread_mutex_lock(&f->mu);
    fn->ended = true;
    f->nended++;
    if (!fn->ready)
        f->nended_unready++;
    if (fn->out != 0) {
        f->nfailed++;
        if ((int64_t)(f->n - f->nfailed) < f->need)
            give_up(f, xasprintf("node %d on host '%s' failed%s", fn->rec->where.node,
                                 fn->rec->where.host,
                                 f->need < (int64_t)f->n ? " (fewer than min_nodes can succeed)"
                                                         : ""));
    }
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

/* One host of the fan-out: opened, its private directory known and its
 * clock offset measured before the nodes start. */
typedef struct fan_host {
    hostconn *h;
    fanout *f;
    int64_t start_us;  /* the start time for its nodes, on its clock (0: at once) */
    size_t index; /* in the stage's hosts: its nodes are index + k * nhosts */
    double prep_ms; /* how long making them took (0: not made) */
    strvec fifos; /* release: the FIFOs of its ready nodes */
    pthread_t thread;
    bool threaded;
} fan_host;

/* A host of the fan-out before its nodes start: connected, its clock
 * offset known (hosts.c), and its nodes' directories and release FIFOs
 * made with one command, which is timed: the release is a command like it,
 * sent to every host at once, so its time sets the release's margin. */
static void *host_prepare(void *arg)
{
    fan_host *fh = arg;
    hostconn *h = fh->h;
    if (!hostconn_open(h))
        return NULL;
    const char *tmp = hostconn_tmpdir(h);
    hostconn_clock(h);
    if (!tmp)
        return NULL;
    const fanout *f = fh->f;
    strbuf dirs = {0}, fifos = {0};
    for (size_t k = fh->index; k < f->n; k += f->st->nhosts) {
        char *dir = node_dir_of(tmp, f->cs ? f->cs->name : NULL, f->st->name, (int)k);
        char *q = shell_quote(dir);
        sb_printf(&dirs, " %s", q);
        sb_printf(&fifos, " %s/" RELEASE_FIFO, q);
        free(q);
        free(dir);
    }
    char *cmd = xasprintf("mkdir -p%s && rm -f%s && mkfifo%s", dirs.buf, fifos.buf, fifos.buf);
    core_ctx ctx;
    hostconn_ctx(h, &ctx);
    int status = -1;
    int64_t t0 = wall_ns();
    if (hostconn_exec_capture(h, &ctx, cmd, HELPER_LIMIT_MS, &status, NULL, 0) == BC_OK &&
        status == 0)
        fh->prep_ms = (double)(wall_ns() - t0) / 1e6;
    free(cmd);
    sb_free(&dirs);
    sb_free(&fifos);
    return NULL;
}

static void *host_release(void *arg)
{
    fan_host *fh = arg;
    strbuf sb = {0};
    sb_puts(&sb, "for f in");
    for (size_t i = 0; i < fh->fifos.n; i++) {
        char *q = shell_quote(fh->fifos.v[i]);
        sb_printf(&sb, " %s", q);
        free(q);
    }
    /* Opened read-write: never blocks, even when its node has died. */
    sb_printf(&sb, "; do { printf 'go %lld\\n' >&8; } 8<>\"$f\" 2>/dev/null; done; rm -f",
              (long long)fh->start_us);
    for (size_t i = 0; i < fh->fifos.n; i++) {
        char *q = shell_quote(fh->fifos.v[i]);
        sb_printf(&sb, " %s", q);
        free(q);
    }
    sb_puts(&sb, "; :");
    core_ctx ctx;
    hostconn_ctx(fh->h, &ctx);
    int status = -1;
    int xrc = hostconn_exec_capture(fh->h, &ctx, sb.buf, HELPER_LIMIT_MS, &status, NULL, 0);
    if (xrc != BC_OK)
        log_msg(BC_LOG_WARN, "stage '%s': releasing the nodes on host '%s' failed: %s",
                fh->f->st->name, fh->h->cfg->alias, ctx.error);
    sb_free(&sb);
    return NULL;
}

/* Run fn(hosts[i]) on every host at once. */
static void each_host(fan_host *hs, size_t n, void *(*fn)(void *))
{
    for (size_t i = 0; i < n; i++) {
        hs[i].threaded = pthread_create(&hs[i].thread, NULL, fn, &hs[i]) == 0;
        if (!hs[i].threaded)
            fn(&hs[i]);
    }
    for (size_t i = 0; i < n; i++)
        if (hs[i].threaded)
            pthread_join(hs[i].thread, NULL);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The barrier's outcome: release times on the controller's clock. */
static cJSON *barrier_json(fanout *f)
{
    cJSON *b = f->barrier_info;
    f->barrier_info = NULL;
    double *t = xcalloc(f->n + 1, sizeof *t);
    size_t m = 0;
    for (size_t i = 0; i < f->n; i++)
        if (f->nodes[i].rec->released_at > 0)
            t[m++] = f->nodes[i].rec->released_at;
    cJSON_AddNumberToObject(b, "released", (double)m);
    if (m) {
        qsort(t, m, sizeof *t, cmp_double);
        for (size_t i = 1; i < m; i++)
            t[i] -= t[0];
        t[0] = 0;
        double med = m % 2 ? t[m / 2] : (t[m / 2 - 1] + t[m / 2]) / 2;
        cJSON_AddNumberToObject(b, "spread_ms", t[m - 1] * 1e3);
        cJSON_AddNumberToObject(b, "median_ms", med * 1e3);
    }
    free(t);
    return b;
}

/* The nodes (first max of them): records, threads, barrier. */
static void run_nodes(fanout *f)
{
    run *r = f->r;
    const cfg_stage *st = f->st;
    size_t nh = st->nhosts < f->n ? st->nhosts : f->n;
    fan_host *hs = xcalloc(nh, sizeof *hs);
    for (size_t i = 0; i < nh; i++)
        hs[i] = (fan_host){.h = run_host(r, st->hosts[i]), .f = f, .index = i};
    each_host(hs, nh, host_prepare);
    for (size_t k = 0; k < f->n; k++) {
        fan_node *fn = &f->nodes[k];
        const char *host = st->hosts[k % st->nhosts];
        fn->fan = f;
        fn->marks_left = 2;
        snprintf(fn->prefix, sizeof fn->prefix, "[node %zu@%s] ", k, host);
        fn->rec = run_new_record(r, st, host, f->cs);
        fn->rec->where.node = (int)k;
        fn->rec->nodes = (int)f->n;
        fn->threaded = pthread_create(&fn->thread, NULL, node_thread, fn) == 0;
        if (!fn->threaded)
            node_thread(fn); /* no thread: it fails at the barrier alone */
    }
    /* The barrier: every node ready or ended (or the fan-out given up). */
    pthread_mutex_lock(&f->mu);
    while (!f->abort && f->nready + f->nended_unready < f->n) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&f->cv, &f->mu, &ts);
    }
    bool go = !f->abort && !run_cancelled(r);
    if (go)
        for (size_t k = 0; k < f->n; k++) {
            fan_node *fn = &f->nodes[k];
            if (!fn->ready || fn->ended || !fn->rec->workdir)
                continue;
            char *fifo = xasprintf("%s/" RELEASE_FIFO, fn->rec->workdir);
            sv_push_owned(&hs[k % st->nhosts].fifos, fifo);
        }
    pthread_mutex_unlock(&f->mu);
    if (go) {
        /* One start time for all, far enough ahead for every host's
         * release command to arrive: twice the slowest host's preparing
         * command (or, where it failed, the slowest command seen while
         * measuring its clock), plus 50 ms (at most 2 s). */
        double slowest = 0;
        for (size_t i = 0; i < nh; i++) {
            double ms = hs[i].prep_ms > 0 ? hs[i].prep_ms : hs[i].h->exec_rtt_ms;
            if (ms > slowest)
                slowest = ms;
        }
        double margin_ms = 50 + 2 * slowest;
        if (margin_ms > 2000)
            margin_ms = 2000;
        double start_ms = (double)wall_ns() / 1e6 + margin_ms;
        for (size_t i = 0; i < nh; i++)
            hs[i].start_us = (int64_t)((start_ms + hs[i].h->clock_offset_ms) * 1e3);
        cJSON_AddNumberToObject(f->barrier_info, "start_margin_ms", margin_ms);
        cJSON_AddNumberToObject(f->barrier_info, "start_at", start_ms / 1e3);
        each_host(hs, nh, host_release);
    }
    for (size_t k = 0; k < f->n; k++)
        if (f->nodes[k].threaded)
            pthread_join(f->nodes[k].thread, NULL);
    for (size_t k = 0; k < f->n; k++) {
        fan_node *fn = &f->nodes[k];
        hostconn *h = run_host(r, fn->rec->where.host);
        if (fn->released_own > 0) {
            fn->rec->clock_offset_ms = h->clock_offset_ms;
            fn->rec->released_at = fn->released_own - h->clock_offset_ms / 1e3;
        }
    }
    for (size_t i = 0; i < nh; i++)
        sv_free(&hs[i].fifos);
    free(hs);
}

bool fanout_run(run *r, const cfg_stage *st, const cfg_case *cs)
{
    fanout f = {.r = r, .st = st, .cs = cs, .n = (size_t)st->nnodes};
    if (r->o->max_nodes > 0 && (size_t)r->o->max_nodes < f.n)
        f.n = (size_t)r->o->max_nodes;
    f.need = st->min_nodes > 0 ? st->min_nodes : (int64_t)f.n;
    if (f.need > (int64_t)f.n)
        f.need = (int64_t)f.n;
    pthread_mutex_init(&f.mu, NULL);
    pthread_cond_init(&f.cv, NULL);
    f.nodes = xcalloc(f.n, sizeof *f.nodes);
    f.barrier_info = cJSON_CreateObject();
    size_t nh = st->nhosts < f.n ? st->nhosts : f.n;
    char line[512];
    int len = snprintf(line, sizeof line, "%s==> %s on %zu node%s over %zu host%s%s%s%s%s\n",
                       term_sgr(STDOUT_FILENO, "1;36"), st->name, f.n, f.n == 1 ? "" : "s", nh,
                       nh == 1 ? "" : "s", cs ? " [case " : "", cs ? cs->name : "",
                       cs ? "]" : "", term_reset(STDOUT_FILENO));
    if (len > 0)
        term_write(STDOUT_FILENO, line, (size_t)len < sizeof line ? (size_t)len : sizeof line - 1);
    live_stage_begin(r, st->name, NULL, cs ? cs->name : NULL, f.n);
    run_nodes(&f);
    live_stage_end(r);

    size_t ok = 0;
    bool interrupted = false;
    stage_rec **recs = xcalloc(f.n, sizeof *recs);
    for (size_t k = 0; k < f.n; k++) {
        recs[k] = f.nodes[k].rec;
        ok += f.nodes[k].out == 0;
        interrupted = interrupted || f.nodes[k].out == 2;
        run_stage_done(r, f.nodes[k].rec);
    }
    /* The stage as a whole: the merged outputs, the barrier, the verdict. */
    stage_rec *all = run_new_record(r, st, "*", cs);
    all->collated = true;
    all->where.tagged = false; /* its files are the untagged <output><ext> */
    all->nodes = (int)f.n;
    all->start_ns = recs[0]->start_ns;
    for (size_t k = 0; k < f.n; k++) {
        if (recs[k]->start_ns && recs[k]->start_ns < all->start_ns)
            all->start_ns = recs[k]->start_ns;
        if (recs[k]->end_ns > all->end_ns)
            all->end_ns = recs[k]->end_ns;
    }
    if (all->end_ns && all->start_ns)
        all->duration_s = (double)(all->end_ns - all->start_ns) / 1e9;
    all->fanout = cJSON_CreateObject();
    cJSON_AddNumberToObject(all->fanout, "nodes", (double)f.n);
    cJSON_AddNumberToObject(all->fanout, "hosts", (double)nh);
    cJSON_AddNumberToObject(all->fanout, "succeeded", (double)ok);
    cJSON_AddNumberToObject(all->fanout, "min_nodes", (double)f.need);
    cJSON_AddItemToObject(all->fanout, "barrier", barrier_json(&f));
    const cJSON *spread = cJSON_GetObjectItem(cJSON_GetObjectItem(all->fanout, "barrier"),
                                              "spread_ms");
    if (spread)
        log_msg(BC_LOG_INFO, "stage '%s': %zu node%s released by the start barrier within %.3f ms",
                st->name, f.n, f.n == 1 ? "" : "s", spread->valuedouble);
    bool stage_ok = !interrupted && (int64_t)ok >= f.need;
    if (!interrupted)
        collate_outputs(r, st, cs, all, recs, f.n);
    profile_merge_nodes(r, all, recs, f.n);
    thresholds_check(r, all);
    if (interrupted) {
        record_set_status(all, run_cancel_status(r), NULL);
        run_fail(r, "stage '%s' was %s", st->name,
                 run_cancel_status(r) == STAGE_TIMEOUT ? "stopped by --timeout" : "interrupted");
    } else if (!stage_ok) {
        char *e = xasprintf("stage '%s': %zu of %zu nodes succeeded, %lld needed (%s)", st->name,
                            ok, f.n, (long long)f.need,
                            f.abort_reason ? f.abort_reason : "nodes failed");
        record_set_status(all, STAGE_FAILED, NULL);
        record_set_error(all, e);
        log_msg(BC_LOG_ERROR, "%s", e);
        run_fail(r, "%s", e);
        free(e);
    } else {
        if (ok < f.n)
            log_msg(BC_LOG_WARN, "stage '%s': %zu of %zu nodes failed; min_nodes: %lld succeeded",
                    st->name, f.n - ok, f.n, (long long)f.need);
        record_set_status(all, all->has_error ? STAGE_FAILED : STAGE_SUCCESS, NULL);
        if (all->has_error) {
            run_fail(r, "%s", all->error);
            stage_ok = false;
        }
    }
    run_stage_done(r, all);
    free(recs);
    for (size_t k = 0; k < f.n; k++)
        sb_free(&f.nodes[k].pend);
    free(f.nodes);
    free(f.abort_reason);
    pthread_cond_destroy(&f.cv);
    pthread_mutex_destroy(&f.mu);
    return stage_ok || (!interrupted && st->continue_on_error);
}
