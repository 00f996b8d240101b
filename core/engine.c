/* The run pipeline and the host connections. */
#define _GNU_SOURCE
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bind.h"
#include "hostfacts.h"
#include "log.h"
#include "paths.h"
#include "runstore.h"

/* ---- cancellation: signals and --timeout ------------------------------ */

static volatile sig_atomic_t sig_count;  /* SIGINT/SIGTERM received */
static volatile sig_atomic_t sig_timeout; /* --timeout fired */
static int cancel_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGALRM)
        sig_timeout = 1;
    else
        sig_count++;
    if (cancel_pipe[1] >= 0) {
        char c = 1;
        ssize_t r = write(cancel_pipe[1], &c, 1);
        (void)r;
    }
    errno = saved;
}

static void install_signals(int64_t timeout_ms)
{
    if (cancel_pipe[0] < 0 && pipe2(cancel_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        cancel_pipe[0] = cancel_pipe[1] = -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    if (timeout_ms > 0) {
        struct itimerval it = {{0, 0}, {(time_t)(timeout_ms / 1000), (suseconds_t)((timeout_ms % 1000) * 1000)}};
        setitimer(ITIMER_REAL, &it, NULL);
    }
}

static void disarm_timer(void)
{
    struct itimerval it = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &it, NULL);
}

/* Forget a pending cancellation so that cleanup steps can run; a later
 * signal cancels again (a second Ctrl-C skips the remaining cleanup). */
static void rearm_cancel(void)
{
    char buf[64];
    while (cancel_pipe[0] >= 0 && read(cancel_pipe[0], buf, sizeof buf) > 0)
        ;
}

/* ---- the run ------------------------------------------------------------ */

typedef struct hostconn {
    cfg_host *cfg;
    plugin *p;
    optview opts;
    void *conn;
    bool opened, failed;
    char *error;
    struct run *run;
} hostconn;

typedef struct run {
    config *cfg;
    loader *ld;
    const run_options *o;
    char *id, *dir, *bin;
    bool cleanup_phase;
    bool cleanup_cancelled; /* the cleanup phase itself was interrupted */
    hostconn *hosts;
    size_t nhosts;
    cJSON *meta, *stages_json, *cases_json, *custom;
    char *first_error;
    int journal_fd;        /* stages.jsonl: one line per finished stage */
    int64_t last_save_ns;  /* mono_ns() of the last metadata.json write */
    const char *status; /* "running" until the end */
    bool tty;
    struct winsize ws;
} run;

int run_cancelled(run *r)
{
    (void)r;
    return sig_count > 0 || sig_timeout;
}

int run_cancel_fd(run *r)
{
    (void)r;
    return cancel_pipe[0];
}

const char *run_fact(run *r, const char *key)
{
    if (strcmp(key, "run_id") == 0)
        return r->id;
    if (strcmp(key, "run_dir") == 0)
        return r->dir;
    if (strcmp(key, "output_dir") == 0)
        return r->cfg->output_dir;
    if (strcmp(key, "config_path") == 0)
        return r->cfg->abs_path;
    if (strcmp(key, "config_dir") == 0)
        return r->cfg->dir;
    if (strcmp(key, "benchmark_name") == 0)
        return r->cfg->name;
    if (strcmp(key, "bin") == 0)
        return r->bin;
    return NULL;
}

void run_record_file(run *r, const char *stage, const char *output, const char *path)
{
    cJSON *files = cJSON_GetObjectItem(r->meta, "files");
    if (!files)
        files = cJSON_AddArrayToObject(r->meta, "files");
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "stage", stage ? stage : "");
    cJSON_AddStringToObject(f, "output", output ? output : "");
    cJSON_AddStringToObject(f, "path", path);
    cJSON_AddItemToArray(files, f);
}

static void save_meta(run *r, bool durable)
{
    if (!runstore_write(r->dir, r->meta, durable))
        log_msg(BC_LOG_ERROR, "cannot write %s/metadata.json: %s", r->dir, strerror(errno));
    r->last_save_ns = mono_ns();
}

/* After each stage: append its record to stages.jsonl (cheap, so even a
 * killed benchctl leaves every finished stage on disk) and refresh
 * metadata.json at most once a second (rewriting it after every stage
 * would cost O(stages^2) for long workflows). */
static void stage_done(run *r, const cJSON *rec)
{
    char *line = cJSON_PrintUnformatted(rec);
    if (line && r->journal_fd >= 0) {
        size_t len = strlen(line);
        line[len] = '\n';
        if (write(r->journal_fd, line, len + 1) < 0)
            log_msg(BC_LOG_WARN, "cannot append to %s/stages.jsonl: %s", r->dir, strerror(errno));
    }
    free(line);
    if (mono_ns() - r->last_save_ns >= 1000000000LL)
        save_meta(r, false);
}

static void fail(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    if (!r->first_error)
        r->first_error = msg;
    else
        free(msg);
}

/* ---- host connections --------------------------------------------------- */

const char *hostconn_alias(hostconn *h) { return h->cfg->alias; }

static hostconn *host_for(run *r, const char *alias)
{
    for (size_t i = 0; i < r->nhosts; i++)
        if (strcmp(r->hosts[i].cfg->alias, alias) == 0)
            return &r->hosts[i];
    return NULL;
}

static void host_ctx(hostconn *h, core_ctx *ctx)
{
    ctx_init(ctx, h->p, &h->opts, h->run);
    ctx->host = h;
}

/* Open the host's connection on first use.  Returns false (error in
 * h->error) when the transport cannot reach it. */
static bool host_open(hostconn *h)
{
    if (h->opened)
        return true;
    if (h->failed)
        return false;
    char *err = NULL;
    if (plugin_ensure_init(h->p, h->run, &err) != BC_OK) {
        h->failed = true;
        h->error = err;
        return false;
    }
    core_ctx ctx;
    host_ctx(h, &ctx);
    int rc = h->p->ops.host.open(&ctx.pub, &h->conn);
    if (rc != BC_OK) {
        h->failed = true;
        h->error = xasprintf("host '%s' (transport %s): %s", h->cfg->alias, h->p->desc.name,
                             ctx.error[0] ? ctx.error : "cannot open the connection");
        return false;
    }
    log_msg(BC_LOG_DEBUG, "host '%s' opened (transport %s)", h->cfg->alias, h->p->desc.name);
    h->opened = true;
    return true;
}

static void host_close(hostconn *h)
{
    if (h->opened) {
        core_ctx ctx;
        host_ctx(h, &ctx);
        h->p->ops.host.close(&ctx.pub, h->conn);
        h->opened = false;
    }
    opts_free(&h->opts);
    free(h->error);
}

typedef struct capture {
    char *buf;
    size_t size, len;
} capture;

static void capture_sink(core_ctx *ctx, int stream, const void *data, size_t len)
{
    capture *c = ctx->sink_data;
    (void)stream;
    if (!c->buf || c->size == 0)
        return;
    size_t room = c->size - 1 - c->len;
    if (len > room) {
        /* keep the most recent output: the end says why a probe failed */
        size_t drop = len - room;
        if (len >= c->size - 1) {
            data = (const char *)data + (len - (c->size - 1));
            len = c->size - 1;
            c->len = 0;
        } else {
            memmove(c->buf, c->buf + drop, c->len - drop);
            c->len -= drop;
        }
    }
    memcpy(c->buf + c->len, data, len);
    c->len += len;
    c->buf[c->len] = '\0';
}

static void build_env(run *r, const char *stage, const char *host, const cfg_case *cs,
                      strvec *env);

int hostconn_exec_capture(hostconn *h, core_ctx *caller, const char *command, int64_t timeout_ms,
                          int *exit_status, char *out, size_t out_size)
{
    if (out && out_size)
        out[0] = '\0';
    if (!host_open(h)) {
        snprintf(caller->error, sizeof caller->error, "%s", h->error);
        return BC_ERR;
    }
    strvec env = {0};
    const cfg_case *cs = NULL;
    for (size_t i = 0; caller->case_name && i < h->run->cfg->ncases; i++)
        if (strcmp(h->run->cfg->cases[i].name, caller->case_name) == 0)
            cs = &h->run->cfg->cases[i];
    build_env(h->run, caller->stage, h->cfg->alias, cs, &env);
    bc_exec_request req = {.size = sizeof req,
                           .shell = (const char *const *)h->run->cfg->shell.v,
                           .command = command,
                           .env = (const char *const *)env.v};
    capture cap = {out, out_size, 0};
    core_ctx ctx;
    host_ctx(h, &ctx);
    ctx.stage = caller->stage;
    ctx.case_name = caller->case_name;
    ctx.sink = capture_sink;
    ctx.sink_data = &cap;
    void *proc = NULL;
    int rc = h->p->ops.host.start(&ctx.pub, h->conn, &req, &proc);
    if (rc != BC_OK) {
        snprintf(caller->error, sizeof caller->error, "%s", ctx.error);
        sv_free(&env);
        return rc;
    }
    bc_exec_result res = {.size = sizeof res};
    rc = h->p->ops.host.wait(&ctx.pub, proc, timeout_ms < 0 ? -1 : timeout_ms, &res);
    if (rc == BC_TIMEOUT || rc == BC_CANCELLED)
        h->p->ops.host.stop(&ctx.pub, proc, 500);
    h->p->ops.host.release(&ctx.pub, proc);
    if (rc == BC_OK)
        *exit_status = res.term_signal ? 128 + res.term_signal : res.exit_status;
    else if (ctx.error[0])
        snprintf(caller->error, sizeof caller->error, "%s", ctx.error);
    sv_free(&env);
    return rc;
}

int hostconn_get_file(hostconn *h, core_ctx *caller, const char *remote, const char *local)
{
    if (!host_open(h)) {
        snprintf(caller->error, sizeof caller->error, "%s", h->error);
        return BC_ERR;
    }
    if (!h->p->ops.host.get_file) {
        snprintf(caller->error, sizeof caller->error, "transport '%s' cannot copy files",
                 h->p->desc.name);
        return BC_UNSUPPORTED;
    }
    core_ctx ctx;
    host_ctx(h, &ctx);
    int rc = h->p->ops.host.get_file(&ctx.pub, h->conn, remote, local);
    if (rc != BC_OK)
        snprintf(caller->error, sizeof caller->error, "%s", ctx.error);
    return rc;
}

int hostconn_put_file(hostconn *h, core_ctx *caller, const char *local, const char *remote,
                      int mode)
{
    if (!host_open(h)) {
        snprintf(caller->error, sizeof caller->error, "%s", h->error);
        return BC_ERR;
    }
    if (!h->p->ops.host.put_file) {
        snprintf(caller->error, sizeof caller->error, "transport '%s' cannot copy files",
                 h->p->desc.name);
        return BC_UNSUPPORTED;
    }
    core_ctx ctx;
    host_ctx(h, &ctx);
    int rc = h->p->ops.host.put_file(&ctx.pub, h->conn, local, remote, mode);
    if (rc != BC_OK)
        snprintf(caller->error, sizeof caller->error, "%s", ctx.error);
    return rc;
}

/* ---- stage environment -------------------------------------------------- */

static void build_env(run *r, const char *stage, const char *host, const cfg_case *cs,
                      strvec *env)
{
    sv_push_owned(env, xasprintf("BENCHCTL_RUN_ID=%s", r->id));
    sv_push_owned(env, xasprintf("BENCHCTL_RUN_DIR=%s", r->dir));
    sv_push_owned(env, xasprintf("BENCHCTL_OUTPUT_DIR=%s", r->cfg->output_dir));
    sv_push_owned(env, xasprintf("BENCHCTL_CONFIG_PATH=%s", r->cfg->abs_path));
    sv_push_owned(env, xasprintf("BENCHCTL_BIN=%s", r->bin));
    if (host)
        sv_push_owned(env, xasprintf("BENCHCTL_HOST=%s", host));
    if (stage)
        sv_push_owned(env, xasprintf("BENCHCTL_STAGE=%s", stage));
    if (cs) {
        sv_push_owned(env, xasprintf("BENCHCTL_CASE_NAME=%s", cs->name));
        for (size_t i = 0; cs->env && i < cs->env->n; i++)
            sv_push_owned(env, xasprintf("%s=%s", cs->env->keys[i]->str, cs->env->vals[i]->str));
    }
    /* -e from the command line comes last: it overrides case env. */
    for (size_t i = 0; i < r->o->env.n; i++)
        sv_push(env, r->o->env.v[i]);
}

/* ---- one stage on one host ---------------------------------------------- */

/* Where a stage's output goes.  The log file is created on the first byte
 * of output, so silent stages (common in big sweeps) cost no file. */
typedef struct stage_io {
    int log_fd;
    bool to_terminal;
    bool log_failed;
    const char *log_path;
    uint64_t bytes;
} stage_io;

static void write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return; /* a closed terminal must not stop the run */
        }
        p += n;
        len -= (size_t)n;
    }
}

static void stage_sink(core_ctx *ctx, int stream, const void *data, size_t len)
{
    stage_io *io = ctx->sink_data;
    io->bytes += len;
    if (io->log_fd < 0 && !io->log_failed) {
        char *dir = dir_name(io->log_path);
        if (mkdir(dir, 0755) != 0 && errno == ENOENT)
            mkdir_p(dir, 0755);
        free(dir);
        io->log_fd = open(io->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (io->log_fd < 0) {
            io->log_failed = true;
            log_msg(BC_LOG_WARN, "cannot write stage log %s: %s", io->log_path, strerror(errno));
        }
    }
    if (io->log_fd >= 0)
        write_all(io->log_fd, data, len);
    if (io->to_terminal)
        write_all(stream == BC_STREAM_STDERR ? STDERR_FILENO : STDOUT_FILENO, data, len);
}

/* logs/[<case>/][cleanup-]<stage>[__<host>].log, relative to the run dir. */
static char *stage_log_rel_host(const cfg_stage *st, const char *host, const cfg_case *cs)
{
    bool many = st->nhosts > 1;
    return xasprintf("logs/%s%s%s%s%s%s.log", cs ? cs->name : "", cs ? "/" : "",
                     st->is_cleanup ? "cleanup-" : "", st->name, many ? "__" : "",
                     many ? host : "");
}

static double us_to_s(int64_t us) { return us < 0 ? -1 : (double)us / 1e6; }

static void add_time(cJSON *o, const char *key, int64_t wall)
{
    char buf[64];
    format_rfc3339(wall, buf, sizeof buf);
    cJSON_AddStringToObject(o, key, buf);
}

/* The command line a script stage runs: the script itself when it is
 * executable, otherwise the shell's interpreter with the script. */
static char *script_command(run *r, const cfg_stage *st, const strvec *shell, char **err)
{
    char *path = path_join(r->cfg->dir, st->script);
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        *err = xasprintf("stage '%s': script '%s' not found (%s)", st->name, path,
                         strerror(errno ? errno : ENOENT));
        free(path);
        return NULL;
    }
    char *q = shell_quote(path);
    char *cmd = access(path, X_OK) == 0 ? xstrdup(q) : xasprintf("%s %s", shell->v[0], q);
    free(q);
    free(path);
    return cmd;
}

static bool probe_wait_interval(int64_t ms)
{
    struct pollfd pfd = {.fd = cancel_pipe[0], .events = POLLIN};
    int rc = poll(&pfd, pfd.fd >= 0 ? 1 : 0, (int)ms);
    return !(rc > 0 || sig_count || sig_timeout);
}

/* Run the health check of a stage until ready, timeout, retries or
 * cancellation.  Fills rec's health_check object; returns BC_OK, BC_ERR or
 * BC_CANCELLED. */
static int run_probe(run *r, const cfg_stage *st, hostconn *h, const cfg_case *cs, cJSON *rec,
                     char **err)
{
    const cfg_health *hc = st->health;
    plugin *p = (plugin *)hc->plugin;
    char *ierr = NULL;
    cJSON *hj = cJSON_AddObjectToObject(rec, "health_check");
    cJSON_AddStringToObject(hj, "type", hc->type);
    cJSON_AddStringToObject(hj, "target", hc->target);
    if (plugin_ensure_init(p, r, &ierr) != BC_OK) {
        *err = ierr;
        cJSON_AddBoolToObject(hj, "ready", false);
        return BC_ERR;
    }
    optview v = {p->desc.options, hc->node, NULL, 0};
    core_ctx ctx;
    ctx_init(&ctx, p, &v, r);
    ctx.host = h;
    ctx.stage = st->name;
    ctx.case_name = cs ? cs->name : NULL;
    void *state = NULL;
    int rc = BC_OK;
    if (p->ops.probe.begin)
        rc = p->ops.probe.begin(&ctx.pub, hc->target, &state);
    int64_t t0 = mono_ns(), deadline = t0 + hc->timeout_ms * 1000000;
    ctx.deadline_ns = deadline;
    long attempts = 0;
    char detail[512] = "", prev[512] = "";
    bool cut_short = false; /* the last attempt was ended by the deadline */
    while (rc == BC_OK) {
        attempts++;
        ctx.error[0] = '\0';
        memcpy(prev, detail, sizeof prev);
        detail[0] = '\0';
        int res = p->ops.probe.check(&ctx.pub, state, hc->target, detail, sizeof detail);
        int64_t now = mono_ns();
        log_msg(BC_LOG_DEBUG, "health_check %s '%s' on %s: attempt %ld: %s%s%s", hc->type,
                hc->target, h->cfg->alias, attempts,
                res == BC_OK ? "ready" : res == BC_NOT_READY ? "not ready" : "error",
                detail[0] ? ": " : "", detail);
        if (res == BC_OK)
            break;
        if (res != BC_NOT_READY) {
            rc = run_cancelled(r) ? BC_CANCELLED : BC_ERR;
            if (!detail[0])
                snprintf(detail, sizeof detail, "%.500s", ctx.error[0] ? ctx.error : "probe failed");
            break;
        }
        if (hc->retries > 0 && attempts > hc->retries) {
            rc = BC_ERR;
            break;
        }
        if (now >= deadline) {
            cut_short = attempts > 1;
            rc = BC_TIMEOUT;
            break;
        }
        int64_t left_ms = (deadline - now + 999999) / 1000000; /* round up: no spin */
        if (!probe_wait_interval(hc->interval_ms < left_ms ? hc->interval_ms : left_ms)) {
            rc = BC_CANCELLED;
            break;
        }
        if (mono_ns() >= deadline) {
            rc = BC_TIMEOUT; /* no attempt squeezed in at the deadline */
            break;
        }
    }
    /* An attempt ended by the deadline says nothing about the target; the
     * one before it does. */
    if (cut_short && prev[0])
        memcpy(detail, prev, sizeof detail);
    if (p->ops.probe.end)
        p->ops.probe.end(&ctx.pub, state);
    opts_free(&v);
    double elapsed_ms = (double)(mono_ns() - t0) / 1e6;
    cJSON_AddBoolToObject(hj, "ready", rc == BC_OK);
    cJSON_AddNumberToObject(hj, "attempts", (double)attempts);
    cJSON_AddNumberToObject(hj, "elapsed_ms", elapsed_ms);
    if (rc == BC_OK) {
        log_msg(BC_LOG_INFO, "stage '%s': %s check '%s' ready after %ld attempt%s and %.0f ms",
                st->name, hc->type, hc->target, attempts, attempts == 1 ? "" : "s", elapsed_ms);
        return BC_OK;
    }
    cJSON_AddStringToObject(hj, "last_error", detail[0] ? detail : ctx.error);
    if (rc == BC_CANCELLED)
        return BC_CANCELLED;
    const char *why = rc == BC_TIMEOUT ? "timed out"
                      : hc->retries > 0 && attempts > hc->retries ? "gave up" : "failed";
    char retries[48] = "";
    if (hc->retries > 0)
        snprintf(retries, sizeof retries, ", retries %lld", (long long)hc->retries);
    *err = xasprintf("stage '%s': health check %s '%s' on host '%s' %s after %ld attempt%s in "
                     "%.0f ms (timeout %lld ms, interval %lld ms%s); last result: %s",
                     st->name, hc->type, hc->target, h->cfg->alias, why, attempts,
                     attempts == 1 ? "" : "s", elapsed_ms, (long long)hc->timeout_ms,
                     (long long)hc->interval_ms, retries, detail[0] ? detail : "not ready");
    return BC_ERR;
}

typedef enum { ST_SUCCESS, ST_FAILED, ST_INTERRUPTED } stage_outcome;

static stage_outcome run_stage_on_host(run *r, const cfg_stage *st, const char *alias,
                                       const cfg_case *cs, cJSON *rec)
{
    hostconn *h = host_for(r, alias);
    int64_t w0 = wall_ns(), m0 = mono_ns();
    add_time(rec, "start_time", w0);
    char *err = NULL;
    stage_outcome out = ST_FAILED;
    void *proc = NULL;
    strvec env = {0};
    char *cmd = NULL;
    const char *status = "failed";
    core_ctx ctx;
    stage_io io = {.log_fd = -1, .to_terminal = true};

    char *log_rel = stage_log_rel_host(st, alias, cs);
    char *log_path = path_join(r->dir, log_rel);
    io.log_path = log_path;

    if (!host_open(h)) {
        err = xasprintf("stage '%s': %s", st->name, h->error);
        goto done;
    }
    strvec shell = {0};
    if (st->shell)
        config_split_words(st->shell, &shell);
    const strvec *sh = shell.n ? &shell : &r->cfg->shell;
    if (st->script) {
        if (strcmp(h->p->desc.name, "local") != 0) {
            err = xasprintf("stage '%s': running a script on host '%s' (transport %s) is not "
                            "supported yet", st->name, alias, h->p->desc.name);
            sv_free(&shell);
            goto done;
        }
        cmd = script_command(r, st, sh, &err);
        if (!cmd) {
            sv_free(&shell);
            goto done;
        }
    } else {
        cmd = xstrdup(st->command);
    }
    build_env(r, st->name, alias, cs, &env);
    bc_exec_request req = {.size = sizeof req,
                           .shell = (const char *const *)sh->v,
                           .command = cmd,
                           .env = (const char *const *)env.v};
    if (r->tty) {
        req.flags |= BC_EXEC_TTY;
        req.tty_rows = r->ws.ws_row;
        req.tty_cols = r->ws.ws_col;
    }
    host_ctx(h, &ctx);
    ctx.stage = st->name;
    ctx.case_name = cs ? cs->name : NULL;
    ctx.sink = stage_sink;
    ctx.sink_data = &io;
    int rc = h->p->ops.host.start(&ctx.pub, h->conn, &req, &proc);
    sv_free(&shell);
    if (rc != BC_OK) {
        err = xasprintf("stage '%s' on host '%s': cannot start: %s", st->name, alias,
                        ctx.error[0] ? ctx.error : "unknown error");
        proc = NULL;
        goto done;
    }
    bc_exec_result res = {.size = sizeof res, .user_us = -1, .sys_us = -1, .max_rss_kb = -1};
    int64_t limit = st->timeout_ms > 0 ? st->timeout_ms : -1;
    rc = h->p->ops.host.wait(&ctx.pub, proc, limit, &res);
    if (rc == BC_TIMEOUT || rc == BC_CANCELLED) {
        h->p->ops.host.stop(&ctx.pub, proc, 2000);
        if (rc == BC_TIMEOUT) {
            err = xasprintf("stage '%s' on host '%s' timed out after %lld ms (stage timeout)",
                            st->name, alias, (long long)st->timeout_ms);
            status = "timeout";
        } else {
            status = sig_timeout && !sig_count ? "timeout" : "interrupted";
            out = ST_INTERRUPTED;
        }
        goto done;
    }
    if (rc != BC_OK) {
        err = xasprintf("stage '%s' on host '%s': %s", st->name, alias,
                        ctx.error[0] ? ctx.error : "waiting for the command failed");
        goto done;
    }
    cJSON_AddNumberToObject(rec, "exit_status", res.exit_status);
    if (res.term_signal)
        cJSON_AddNumberToObject(rec, "signal", res.term_signal);
    if (res.user_us >= 0) {
        cJSON_AddNumberToObject(rec, "user_cpu_s", us_to_s(res.user_us));
        cJSON_AddNumberToObject(rec, "system_cpu_s", us_to_s(res.sys_us));
    }
    if (res.max_rss_kb >= 0)
        cJSON_AddNumberToObject(rec, "max_rss_kb", (double)res.max_rss_kb);
    if (res.term_signal) {
        err = xasprintf("stage '%s' on host '%s' was killed by signal %d (%s)", st->name, alias,
                        res.term_signal, strsignal(res.term_signal));
        goto done;
    }
    if (res.exit_status != 0) {
        err = xasprintf("stage '%s' on host '%s' failed with exit status %d%s%s%s", st->name,
                        alias, res.exit_status, io.log_fd >= 0 ? " (log: " : " (no output)",
                        io.log_fd >= 0 ? log_path : "", io.log_fd >= 0 ? ")" : "");
        goto done;
    }
    if (st->health) {
        h->p->ops.host.release(&ctx.pub, proc);
        proc = NULL;
        rc = run_probe(r, st, h, cs, rec, &err);
        if (rc == BC_CANCELLED) {
            status = sig_timeout && !sig_count ? "timeout" : "interrupted";
            out = ST_INTERRUPTED;
            goto done;
        }
        if (rc != BC_OK)
            goto done;
    }
    status = "success";
    out = ST_SUCCESS;
done:
    if (proc)
        h->p->ops.host.release(&ctx.pub, proc);
    int64_t w1 = wall_ns();
    add_time(rec, "end_time", w1);
    cJSON_AddNumberToObject(rec, "duration_s", (double)(mono_ns() - m0) / 1e9);
    cJSON_AddStringToObject(rec, "status", status);
    cJSON_AddNumberToObject(rec, "output_bytes", (double)io.bytes);
    if (io.log_fd >= 0)
        cJSON_AddStringToObject(rec, "log", log_rel);
    else
        cJSON_AddNullToObject(rec, "log");
    if (err) {
        cJSON_AddStringToObject(rec, "error", err);
        log_msg(BC_LOG_ERROR, "%s", err);
        fail(r, "%s", err);
        free(err);
    } else if (out == ST_INTERRUPTED) {
        fail(r, "stage '%s' on host '%s' was %s", st->name, alias,
             strcmp(status, "timeout") == 0 ? "stopped by --timeout" : "interrupted");
    }
    if (io.log_fd >= 0)
        close(io.log_fd);
    free(log_rel);
    free(log_path);
    free(cmd);
    sv_free(&env);
    return out;
}

static cJSON *new_stage_record(const cfg_stage *st, const char *host, const cfg_case *cs)
{
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "name", st->name);
    cJSON_AddStringToObject(rec, "kind", st->is_cleanup ? "cleanup" : "stage");
    cJSON_AddStringToObject(rec, "host", host);
    if (cs)
        cJSON_AddStringToObject(rec, "case", cs->name);
    else
        cJSON_AddNullToObject(rec, "case");
    return rec;
}

static void record_not_run(run *r, const cfg_stage *st, const cfg_case *cs, const char *status,
                           const char *reason)
{
    for (size_t i = 0; i < st->nhosts; i++) {
        cJSON *rec = new_stage_record(st, st->hosts[i], cs);
        cJSON_AddStringToObject(rec, "status", status);
        if (reason)
            cJSON_AddStringToObject(rec, "reason", reason);
        cJSON_AddItemToArray(r->stages_json, rec);
        stage_done(r, rec);
    }
}

static void print_header(run *r, const cfg_stage *st, const char *host, const cfg_case *cs)
{
    char line[512];
    int n = snprintf(line, sizeof line, "%s==> %s%s on %s%s%s%s%s\n", r->tty ? "\033[1;36m" : "",
                     st->is_cleanup ? "cleanup " : "", st->name, host, cs ? " [case " : "",
                     cs ? cs->name : "", cs ? "]" : "", r->tty ? "\033[0m" : "");
    if (n > 0)
        write_all(STDOUT_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* Runs one stage (all its hosts, in order).  Returns false when the run
 * must stop. */
static bool run_stage(run *r, const cfg_stage *st, const cfg_case *cs)
{
    if (st->execute_only_for && (!cs || strcmp(cs->name, st->execute_only_for) != 0)) {
        record_not_run(r, st, cs, "skipped", "execute_only_for");
        return true;
    }
    if (st->skip || sv_contains(&r->o->skip, st->name)) {
        record_not_run(r, st, cs, "skipped", st->skip ? "skip: true" : "--skip");
        return true;
    }
    bool ok = true;
    for (size_t i = 0; i < st->nhosts; i++) {
        if (run_cancelled(r)) {
            record_not_run(r, st, cs, "not_run", "the run was stopped");
            return false;
        }
        cJSON *rec = new_stage_record(st, st->hosts[i], cs);
        cJSON_AddItemToArray(r->stages_json, rec);
        print_header(r, st, st->hosts[i], cs);
        stage_outcome o = run_stage_on_host(r, st, st->hosts[i], cs, rec);
        stage_done(r, rec);
        if (o == ST_INTERRUPTED)
            return false;
        if (o == ST_FAILED) {
            ok = false;
            if (!st->continue_on_error)
                return false;
        }
    }
    (void)ok;
    return true;
}

/* ---- metadata ----------------------------------------------------------- */

static cJSON *yaml_to_json(const config *c, const ynode *n)
{
    if (!n)
        return cJSON_CreateNull();
    for (size_t i = 0; i < c->nsecrets; i++)
        if (c->secrets[i].start == n->start && n->type == Y_SCALAR)
            return cJSON_CreateString("<redacted>");
    if (n->type == Y_MAP) {
        cJSON *o = cJSON_CreateObject();
        for (size_t i = 0; i < n->n; i++)
            cJSON_AddItemToObject(o, n->keys[i]->type == Y_SCALAR ? n->keys[i]->str : "?",
                                  yaml_to_json(c, n->vals[i]));
        return o;
    }
    if (n->type == Y_SEQ) {
        cJSON *a = cJSON_CreateArray();
        for (size_t i = 0; i < n->n; i++)
            cJSON_AddItemToArray(a, yaml_to_json(c, n->vals[i]));
        return a;
    }
    if (n->is_null)
        return cJSON_CreateNull();
    if (!n->quoted) {
        int64_t iv;
        bool b;
        if (parse_int64(n->str, &iv))
            return cJSON_CreateNumber((double)iv);
        if (strcmp(n->str, "true") == 0 || strcmp(n->str, "false") == 0) {
            b = strcmp(n->str, "true") == 0;
            return cJSON_CreateBool(b);
        }
    }
    return cJSON_CreateString(n->str);
}

static cJSON *hosts_json(run *r)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; i < r->cfg->nhosts; i++) {
        cfg_host *h = &r->cfg->hosts[i];
        cJSON *hj = h->node ? yaml_to_json(r->cfg, h->node) : cJSON_CreateObject();
        if (!cJSON_GetObjectItem(hj, "transport"))
            cJSON_AddStringToObject(hj, "transport", h->transport);
        cJSON_AddItemToObject(o, h->alias, hj);
    }
    return o;
}

static cJSON *plugins_json(const loader *l)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < l->nplugins; i++) {
        const plugin *p = l->plugins[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kind", loader_kind_name(p->desc.kind));
        cJSON_AddStringToObject(o, "name", p->desc.name);
        cJSON_AddStringToObject(o, "version", p->desc.version);
        char abi[32];
        snprintf(abi, sizeof abi, "%u.%u", p->desc.abi.abi_major, p->desc.abi.abi_minor);
        cJSON_AddStringToObject(o, "abi", abi);
        cJSON_AddStringToObject(o, "path", p->path);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static void set_string(cJSON *o, const char *key, const char *val)
{
    cJSON_DeleteItemFromObject(o, key);
    if (val)
        cJSON_AddStringToObject(o, key, val);
    else
        cJSON_AddNullToObject(o, key);
}

/* ---- entry points ------------------------------------------------------- */

config *engine_load(const char *config_path, loader *ld, const strvec *plugin_paths,
                    bool print_warnings)
{
    diag d = {0};
    config *c = config_load(config_path, &d);
    if (c)
        loader_init(ld, plugin_paths, &c->plugin_paths);
    else
        loader_init(ld, plugin_paths, NULL);
    if (c)
        bind_plugins(c, ld, &d);
    if (d.errors || print_warnings)
        diag_print(&d, stderr);
    if (d.errors) {
        fprintf(stderr, "benchctl: %zu error%s in %s\n", d.errors, d.errors == 1 ? "" : "s",
                config_path);
        config_free(c);
        c = NULL;
    }
    diag_free(&d);
    return c;
}

int engine_validate(const char *config_path, const strvec *plugin_paths)
{
    loader ld;
    config *c = engine_load(config_path, &ld, plugin_paths, true);
    int code = EXIT_USAGE;
    if (c) {
        size_t n = 0;
        for (size_t i = 0; i < c->nstages; i++)
            n += c->stages[i].nhosts;
        printf("%s: valid (benchmark '%s', %zu stage%s, %zu host%s, %zu plugin%s)\n", config_path,
               c->name, c->nstages, c->nstages == 1 ? "" : "s", c->nhosts,
               c->nhosts == 1 ? "" : "s", ld.nplugins, ld.nplugins == 1 ? "" : "s");
        code = EXIT_OK;
    }
    config_free(c);
    loader_shutdown(&ld);
    return code;
}

static bool check_run_options(const run_options *o, config *c)
{
    bool ok = true;
    for (size_t i = 0; i < o->skip.n; i++) {
        bool found = false;
        for (size_t j = 0; j < c->nstages; j++)
            if (strcmp(c->stages[j].name, o->skip.v[i]) == 0)
                found = true;
        if (!found) {
            fprintf(stderr, "benchctl: --skip %s: no stage of that name in %s\n", o->skip.v[i],
                    c->path);
            ok = false;
        }
    }
    for (size_t i = 0; i < o->cases.n; i++) {
        bool found = false;
        for (size_t j = 0; j < c->ncases; j++)
            if (strcmp(c->cases[j].name, o->cases.v[i]) == 0)
                found = true;
        if (!found) {
            fprintf(stderr, "benchctl: --case %s: no case of that name in %s%s\n", o->cases.v[i],
                    c->path, c->ncases ? "" : " (it defines no cases)");
            ok = false;
        }
    }
    return ok;
}

static long self_peak_rss_kb(void)
{
    char *status = read_file("/proc/self/status", NULL);
    long kb = -1;
    char *p = status ? strstr(status, "VmHWM:") : NULL;
    if (p)
        kb = strtol(p + 6, NULL, 10);
    free(status);
    return kb;
}

static char *self_exe(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return xstrdup("benchctl");
    buf[n] = '\0';
    return xstrdup(buf);
}

int engine_run(const run_options *o)
{
    loader ld;
    config *c = engine_load(o->config_path, &ld, &o->plugin_paths, false);
    if (!c) {
        loader_shutdown(&ld);
        return EXIT_USAGE;
    }
    int level = o->log_level ? log_level_from_name(o->log_level)
                : c->log_level ? log_level_from_name(c->log_level) : BC_LOG_INFO;
    log_set_level(level < 0 ? BC_LOG_INFO : level);
    if (c->log_path) {
        char *lp = path_join(c->dir, c->log_path);
        if (!log_open_file(lp))
            log_msg(BC_LOG_WARN, "cannot open log file %s: %s", lp, strerror(errno));
        free(lp);
    }
    if (!check_run_options(o, c)) {
        config_free(c);
        loader_shutdown(&ld);
        return EXIT_USAGE;
    }
    git_state git = {0};
    if (c->git_capture || c->git_require_clean || c->git_save_patch)
        git_inspect(c->dir, &git);
    if (c->git_require_clean && git.is_repo && git.dirty) {
        fprintf(stderr, "benchctl: %s: benchmark.git.require_clean is set and the git work tree "
                        "in %s has uncommitted changes; commit or stash them first\n",
                c->path, c->dir);
        git_state_free(&git);
        config_free(c);
        loader_shutdown(&ld);
        return EXIT_USAGE;
    }

    run r = {.cfg = c, .ld = &ld, .o = o, .status = "running", .journal_fd = -1};
    char *err = NULL;
    if (!runstore_create(c->output_dir, &r.id, &r.dir, &err)) {
        fprintf(stderr, "benchctl: %s\n", err);
        free(err);
        git_state_free(&git);
        config_free(c);
        loader_shutdown(&ld);
        return EXIT_USAGE;
    }
    r.bin = self_exe();
    r.tty = isatty(STDOUT_FILENO);
    if (r.tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &r.ws) != 0)
        memset(&r.ws, 0, sizeof r.ws);
    printf("Run ID: %s\n", r.id);
    fflush(stdout);

    /* The config as given, secrets redacted. */
    size_t clen;
    char *ctext = config_redacted_text(c, &clen);
    char *cpath = path_join(r.dir, "config.yaml");
    if (!write_file_atomic(cpath, ctext, clen, false))
        log_msg(BC_LOG_WARN, "cannot save the config copy %s: %s", cpath, strerror(errno));
    free(cpath);
    free(ctext);
    if (c->git_save_patch && git.is_repo && git.dirty) {
        char *patch = git_diff(c->dir);
        if (patch) {
            char *pp = path_join(r.dir, "git.patch");
            write_file_atomic(pp, patch, strlen(patch), false);
            free(pp);
            free(patch);
        }
    }

    int64_t start = wall_ns(), m0 = mono_ns();
    r.meta = cJSON_CreateObject();
    cJSON_AddStringToObject(r.meta, "run_id", r.id);
    cJSON_AddStringToObject(r.meta, "benchmark_name", c->name);
    add_time(r.meta, "start_time", start);
    cJSON_AddNullToObject(r.meta, "end_time");
    cJSON_AddStringToObject(r.meta, "status", "running");
    cJSON_AddNullToObject(r.meta, "error");
    cJSON_AddItemToObject(r.meta, "config", yaml_to_json(c, ytree_root(c->tree)));
    cJSON_AddStringToObject(r.meta, "config_path", c->abs_path);
    cJSON_AddStringToObject(r.meta, "config_copy", "config.yaml");
    cJSON_AddItemToObject(r.meta, "hosts", hosts_json(&r));
    r.custom = cJSON_AddObjectToObject(r.meta, "custom");
    for (size_t i = 0; i < o->metadata.n; i++) {
        const char *kv = o->metadata.v[i];
        const char *eq = strchr(kv, '=');
        char *k = xstrndup(kv, (size_t)(eq - kv));
        set_string(r.custom, k, eq + 1);
        free(k);
    }
    cJSON_AddItemToObject(r.meta, "git", c->git_capture ? git_to_json(&git) : cJSON_CreateNull());
    cJSON *env_names = cJSON_AddArrayToObject(r.meta, "environment");
    for (size_t i = 0; i < o->env.n; i++) {
        const char *eq = strchr(o->env.v[i], '=');
        char *k = xstrndup(o->env.v[i], (size_t)(eq - o->env.v[i]));
        cJSON_AddItemToArray(env_names, cJSON_CreateString(k));
        free(k);
    }
    cJSON *bj = cJSON_AddObjectToObject(r.meta, "benchctl");
    cJSON_AddStringToObject(bj, "version", BENCHCTL_VERSION);
    cJSON_AddStringToObject(bj, "abi", BENCHCTL_ABI_STRING);
    cJSON_AddItemToObject(r.meta, "machine", hostfacts_collect());
    cJSON_AddItemToObject(r.meta, "plugins", plugins_json(&ld));
    r.stages_json = cJSON_AddArrayToObject(r.meta, "stages");
    if (c->ncases)
        r.cases_json = cJSON_AddArrayToObject(r.meta, "cases");
    save_meta(&r, true);
    git_state_free(&git);
    char *jpath = path_join(r.dir, "stages.jsonl");
    r.journal_fd = open(jpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    free(jpath);

    r.nhosts = c->nhosts;
    r.hosts = xcalloc(c->nhosts, sizeof *r.hosts);
    for (size_t i = 0; i < c->nhosts; i++) {
        r.hosts[i].cfg = &c->hosts[i];
        r.hosts[i].p = (plugin *)c->hosts[i].plugin;
        r.hosts[i].opts = (optview){c->hosts[i].plugin->desc.options, c->hosts[i].node, NULL, 0};
        r.hosts[i].run = &r;
    }

    install_signals(o->timeout_ms);

    /* Cases: the selected ones (all by default), or one run without. */
    size_t ncases = c->ncases ? c->ncases : 1;
    bool stop = false;
    size_t cases_started = 0;
    for (size_t ci = 0; ci < ncases && !stop; ci++) {
        const cfg_case *cs = c->ncases ? &c->cases[ci] : NULL;
        if (cs && o->cases.n && !sv_contains(&o->cases, cs->name))
            continue;
        cases_started = ci + 1;
        size_t rec_from = (size_t)cJSON_GetArraySize(r.stages_json);
        for (size_t si = 0; si < c->nstages; si++) {
            if (stop) {
                record_not_run(&r, &c->stages[si], cs, "not_run",
                               "an earlier stage failed or the run was stopped");
                continue;
            }
            if (!run_stage(&r, &c->stages[si], cs))
                stop = true;
        }
        if (cs) {
            cJSON *cj = cJSON_CreateObject();
            cJSON_AddStringToObject(cj, "name", cs->name);
            cJSON *ej = cJSON_AddObjectToObject(cj, "env");
            for (size_t k = 0; cs->env && k < cs->env->n; k++)
                cJSON_AddStringToObject(ej, cs->env->keys[k]->str, cs->env->vals[k]->str);
            size_t rec_to = (size_t)cJSON_GetArraySize(r.stages_json);
            bool case_ok = true;
            for (size_t k = rec_from; k < rec_to; k++) {
                const cJSON *st = cJSON_GetObjectItem(cJSON_GetArrayItem(r.stages_json, (int)k),
                                                      "status");
                const char *s = cJSON_GetStringValue(st);
                if (s && strcmp(s, "success") != 0 && strcmp(s, "skipped") != 0)
                    case_ok = false;
            }
            cJSON_AddStringToObject(cj, "status", case_ok ? "success" : "failed");
            cJSON_AddItemToArray(r.cases_json, cj);
        }
    }
    /* Cases never reached are recorded as such. */
    for (size_t ci = cases_started; c->ncases && ci < c->ncases; ci++) {
        const cfg_case *cs = &c->cases[ci];
        if (o->cases.n && !sv_contains(&o->cases, cs->name))
            continue;
        for (size_t si = 0; si < c->nstages; si++)
            record_not_run(&r, &c->stages[si], cs, "not_run",
                           "an earlier stage failed or the run was stopped");
    }

    /* Why did we stop?  Decided before cleanup can be interrupted again. */
    bool interrupted = sig_count > 0;
    bool timed_out = sig_timeout && !interrupted;
    disarm_timer();

    /* Cleanup runs even after a failure or an interrupt; a further signal
     * during cleanup skips what is left. */
    if (c->ncleanup) {
        rearm_cancel();
        sig_timeout = 0;
        sig_count = 0;
        for (size_t ci = 0; ci < ncases; ci++) {
            const cfg_case *cs = c->ncases ? &c->cases[ci] : NULL;
            if (cs && o->cases.n && !sv_contains(&o->cases, cs->name))
                continue;
            if (cs && ci >= cases_started)
                continue;
            for (size_t si = 0; si < c->ncleanup; si++) {
                if (sig_count) {
                    record_not_run(&r, &c->cleanup[si], cs, "not_run", "cleanup interrupted");
                    continue;
                }
                char *first = r.first_error;
                r.first_error = NULL;
                run_stage(&r, &c->cleanup[si], cs);
                /* A failing cleanup step is recorded; it never hides the
                 * original error. */
                if (first) {
                    free(r.first_error);
                    r.first_error = first;
                } else if (r.first_error) {
                    char *e = xasprintf("cleanup: %s", r.first_error);
                    free(r.first_error);
                    r.first_error = e;
                }
            }
        }
        if (sig_count)
            interrupted = true;
    }

    for (size_t i = 0; i < r.nhosts; i++)
        host_close(&r.hosts[i]);

    const char *status = interrupted ? "interrupted" : timed_out ? "timeout"
                         : r.first_error ? "failed" : "success";
    if (timed_out && !r.first_error)
        r.first_error = xasprintf("the run exceeded --timeout %lld ms", (long long)o->timeout_ms);
    if (interrupted && !r.first_error)
        r.first_error = xstrdup("interrupted by a signal");
    set_string(r.meta, "status", status);
    set_string(r.meta, "error", r.first_error);
    add_time(r.meta, "end_time_tmp", wall_ns());
    cJSON *et = cJSON_DetachItemFromObject(r.meta, "end_time_tmp");
    cJSON_ReplaceItemInObject(r.meta, "end_time", et);
    cJSON_AddNumberToObject(r.meta, "duration_s", (double)(mono_ns() - m0) / 1e9);
    /* What the orchestrator itself cost: its own peak RSS. */
    cJSON_AddNumberToObject(cJSON_GetObjectItem(r.meta, "benchctl"), "peak_rss_kb",
                            (double)self_peak_rss_kb());
    save_meta(&r, true);

    if (r.first_error && !interrupted)
        fprintf(stderr, "benchctl: run %s %s (details in %s/metadata.json)\n", r.id, status, r.dir);
    else if (interrupted)
        fprintf(stderr, "benchctl: run %s interrupted; stages stopped, metadata written\n", r.id);
    printf("Results saved to: %s\n", r.dir);
    fflush(stdout);

    int code = interrupted ? EXIT_INTERRUPTED : (timed_out || r.first_error) ? EXIT_RUN_FAILED
                                                                              : EXIT_OK;
    if (r.journal_fd >= 0)
        close(r.journal_fd);
    cJSON_Delete(r.meta);
    free(r.hosts);
    free(r.first_error);
    free(r.id);
    free(r.dir);
    free(r.bin);
    config_free(c);
    loader_shutdown(&ld);
    log_close_file();
    return code;
}
