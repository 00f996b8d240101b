/* Running one stage on one host: the command, its output (terminal and
 * log), its resources, its health check, and its record in metadata.json. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "run/run.h"

/* ---- stage environment -------------------------------------------------- */

void run_build_env(run *r, const char *stage, const char *host, const cfg_case *cs,
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
            sv_push_owned(env, xasprintf("%s=%s", cs->env->keys[i]->str,
                                         cs->env->vals[i]->is_null ? "" : cs->env->vals[i]->str));
        /* matrix parameters: BENCHCTL_PARAM_<NAME> and the plain name */
        for (size_t i = 0; i < cs->params.n; i++) {
            const char *p = cs->params.v[i];
            strbuf sb = {0};
            sb_puts(&sb, "BENCHCTL_PARAM_");
            for (; *p && *p != '='; p++) {
                char ch = *p >= 'a' && *p <= 'z' ? (char)(*p - 32) : *p;
                sb_add(&sb, &ch, 1);
            }
            sb_puts(&sb, p);
            sv_push_owned(env, sb_steal(&sb));
            sv_push(env, cs->params.v[i]);
        }
    }
    /* -e from the command line comes last: it overrides case env. */
    for (size_t i = 0; i < r->o->env.n; i++)
        sv_push(env, r->o->env.v[i]);
}

/* ---- one stage on one host ---------------------------------------------- */

/* Where a stage's output goes.  The log file is created on the first byte
 * of output, so silent stages (common in big sweeps) cost no file. */
void stage_sink(core_ctx *ctx, int stream, const void *data, size_t len)
{
    stage_io *io = ctx->sink_data;
    io->bytes += len;
    if (io->capture && stream == BC_STREAM_STDOUT && io->capture->len < STAGE_CAPTURE_LIMIT)
        sb_add(io->capture, data,
               len < STAGE_CAPTURE_LIMIT - io->capture->len ? len
                                                            : STAGE_CAPTURE_LIMIT - io->capture->len);
    /* The last bytes, to show when a background stage dies. */
    if (len >= sizeof io->tail) {
        memcpy(io->tail, (const char *)data + len - sizeof io->tail, sizeof io->tail);
        io->tail_len = sizeof io->tail;
    } else {
        size_t keep = io->tail_len + len > sizeof io->tail ? sizeof io->tail - len : io->tail_len;
        memmove(io->tail, io->tail + io->tail_len - keep, keep);
        memcpy(io->tail + keep, data, len);
        io->tail_len = keep + len;
    }
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
    if (!io->to_terminal)
        return;
    int fd = stream == BC_STREAM_STDERR ? STDERR_FILENO : STDOUT_FILENO;
    if (!io->prefix) {
        write_all(fd, data, len);
        return;
    }
    /* Parallel hosts: whole lines, each labelled with its host. */
    strbuf *lb = &io->line[stream == BC_STREAM_STDERR ? 2 : 1];
    sb_add(lb, data, len);
    size_t start = 0;
    for (size_t i = 0; i < lb->len; i++) {
        if (lb->buf[i] != '\n')
            continue;
        strbuf out = {0};
        sb_puts(&out, io->prefix);
        sb_add(&out, lb->buf + start, i + 1 - start);
        write_all(fd, out.buf, out.len);
        sb_free(&out);
        start = i + 1;
    }
    memmove(lb->buf, lb->buf + start, lb->len - start);
    lb->len -= start;
    lb->buf[lb->len] = '\0';
}

/* Print what is left of unfinished lines (parallel output) and free. */
static void stage_io_flush(stage_io *io)
{
    for (int s = 1; s <= 2; s++) {
        if (io->line[s].len && io->to_terminal) {
            strbuf out = {0};
            sb_printf(&out, "%s%s\n", io->prefix ? io->prefix : "", io->line[s].buf);
            write_all(s == 2 ? STDERR_FILENO : STDOUT_FILENO, out.buf, out.len);
            sb_free(&out);
        }
        sb_free(&io->line[s]);
    }
}

/* logs/[<case>/][cleanup-]<stage>[__<host>].log, relative to the run dir. */
char *stage_log_rel(const cfg_stage *st, const char *host, const cfg_case *cs)
{
    bool many = st->nhosts > 1;
    return xasprintf("logs/%s%s%s%s%s%s.log", cs ? cs->name : "", cs ? "/" : "",
                     st->is_cleanup ? "cleanup-" : "", st->name, many ? "__" : "",
                     many ? host : "");
}

static double us_to_s(int64_t us) { return us < 0 ? -1 : (double)us / 1e6; }

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

/* Sleep ms unless the run is cancelled first; false when cancelled. */
/* A script for a remote host: uploaded once per run into the transport's
 * private directory (a relative remote path; the transport exports that
 * directory as $BENCHCTL_HOST_TMPDIR), then run from there. */
static char *upload_script(run *r, const cfg_stage *st, hostconn *h, const strvec *shell,
                           char **err)
{
    char *path = path_join(r->cfg->dir, st->script);
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        *err = xasprintf("stage '%s': script '%s' not found (%s)", st->name, path,
                         strerror(errno ? errno : ENOENT));
        free(path);
        return NULL;
    }
    const char *base = strrchr(path, '/') + 1;
    char *rel = xasprintf("scripts/%s-%s", st->name, base);
    if (!sv_contains(&h->uploaded, rel)) {
        if (!h->p->ops.host.put_file) {
            *err = xasprintf("stage '%s': transport '%s' of host '%s' cannot upload scripts",
                             st->name, h->p->desc.name, h->cfg->alias);
            free(rel);
            free(path);
            return NULL;
        }
        core_ctx ctx;
        hostconn_ctx(h, &ctx);
        ctx.stage = st->name;
        if (h->p->ops.host.put_file(&ctx.pub, h->conn, path, rel, 0700) != BC_OK) {
            *err = xasprintf("stage '%s': cannot upload script %s to host '%s': %s", st->name,
                             path, h->cfg->alias, ctx.error[0] ? ctx.error : "upload failed");
            free(rel);
            free(path);
            return NULL;
        }
        sv_push(&h->uploaded, rel);
    }
    char *cmd = sb.st_mode & S_IXUSR ? xasprintf("\"$BENCHCTL_HOST_TMPDIR/%s\"", rel)
                                     : xasprintf("%s \"$BENCHCTL_HOST_TMPDIR/%s\"", shell->v[0], rel);
    free(rel);
    free(path);
    return cmd;
}

static bool probe_wait_interval(run *r, int64_t ms)
{
    struct pollfd pfd = {.fd = run_cancel_fd(r), .events = POLLIN};
    int rc = poll(&pfd, pfd.fd >= 0 ? 1 : 0, (int)ms);
    return !(rc > 0 || run_cancelled(r));
}

/* Run the health check of a stage until ready, timeout, retries or
 * cancellation.  Fills rec's health_check object; returns BC_OK, BC_ERR or
 * BC_CANCELLED. */
int stage_probe(run *r, const cfg_stage *st, hostconn *h, const cfg_case *cs, cJSON *rec,
                struct bg_proc *bg, char **err)
{
    const cfg_health *hc = st->health;
    plugin *p = (plugin *)hc->plugin;
    if (hc->on_controller) {
        h = run_host(r, "local"); /* `on: controller`: probe from here */
        if (!hostconn_open(h)) {
            *err = xasprintf("stage '%s': health check: %s", st->name, h->error);
            return BC_ERR;
        }
    }
    int64_t interval = hc->interval_ms > 0                     ? hc->interval_ms
                       : p->ops.probe.default_interval_ms > 0 ? p->ops.probe.default_interval_ms
                                                               : 100;
    bool show = r->tty && isatty(STDERR_FILENO);
    int64_t shown_at = 0;
    char *ierr = NULL;
    cJSON *hj = cJSON_AddObjectToObject(rec, "health_check");
    cJSON_AddStringToObject(hj, "type", hc->type);
    cJSON_AddStringToObject(hj, "target", hc->target);
    cJSON_AddStringToObject(hj, "where", h->cfg->alias);
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
    if (ctx_instance(&ctx, hc, &ierr) != BC_OK) {
        *err = ierr;
        cJSON_AddBoolToObject(hj, "ready", false);
        opts_free(&v);
        return BC_ERR;
    }
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
        if (show && now - t0 > 300000000 && now - shown_at > 200000000) {
            /* On a terminal: what we wait for, and for how much longer. */
            fprintf(stderr, "\r\033[K  waiting for %s '%.60s' on %s: attempt %ld, %.1f s left%s%.60s",
                    hc->type, hc->target, h->cfg->alias, attempts,
                    (double)(deadline - now) / 1e9, detail[0] ? " - " : "", detail);
            shown_at = now;
        }
        if (bg && !bg_alive(bg)) {
            /* A background service that died will never become ready. */
            char *why = bg_describe_exit(bg);
            snprintf(detail, sizeof detail, "the background process ended before it was ready: "
                     "%.400s", why);
            free(why);
            rc = BC_ERR;
            break;
        }
        if (now >= deadline) {
            cut_short = attempts > 1;
            rc = BC_TIMEOUT;
            break;
        }
        int64_t left_ms = (deadline - now + 999999) / 1000000; /* round up: no spin */
        if (!probe_wait_interval(r, interval < left_ms ? interval : left_ms)) {
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
    if (shown_at)
        fputs("\r\033[K", stderr);
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
    if (attempts == 0) {
        *err = xasprintf("stage '%s': health check %s '%s' on host '%s' could not start: %s",
                         st->name, hc->type, hc->target, h->cfg->alias,
                         ctx.error[0] ? ctx.error : "the probe failed to prepare");
        return BC_ERR;
    }
    const char *why = rc == BC_TIMEOUT ? "timed out"
                      : hc->retries > 0 && attempts > hc->retries ? "gave up" : "failed";
    char retries[48] = "";
    if (hc->retries > 0)
        snprintf(retries, sizeof retries, ", retries %lld", (long long)hc->retries);
    *err = xasprintf("stage '%s': health check %s '%s' on host '%s' %s after %ld attempt%s in "
                     "%.0f ms (timeout %lld ms, interval %lld ms%s); last result: %s",
                     st->name, hc->type, hc->target, h->cfg->alias, why, attempts,
                     attempts == 1 ? "" : "s", elapsed_ms, (long long)hc->timeout_ms,
                     (long long)interval, retries, detail[0] ? detail : "not ready");
    return BC_ERR;
}

typedef enum { ST_SUCCESS, ST_FAILED, ST_INTERRUPTED } stage_outcome;

bool stage_exec_prepare(run *r, const cfg_stage *st, hostconn *h, const cfg_case *cs, bool tty,
                        stage_exec *ex, char **err)
{
    memset(ex, 0, sizeof *ex);
    if (st->shell)
        config_split_words(st->shell, &ex->shell);
    const strvec *sh = ex->shell.n ? &ex->shell : &r->cfg->shell;
    bool shared_fs = hostconn_caps(h) & BC_HOST_CAP_SHARED_FS;
    if (st->script && !shared_fs) {
        ex->cmd = upload_script(r, st, h, sh, err);
        if (!ex->cmd)
            return false;
    } else if (st->script) {
        ex->cmd = script_command(r, st, sh, err);
        if (!ex->cmd)
            return false;
    } else {
        ex->cmd = xstrdup(st->command);
    }
    run_build_env(r, st->name, h->cfg->alias, cs, &ex->env);
    /* $BENCHCTL_METADATA_FILE: a JSON object written there is merged into
     * custom metadata (kept in the run directory as metadata/...json). */
    char *rel = stage_log_rel(st, h->cfg->alias, cs);
    char *base = xstrndup(rel + 5, strlen(rel) - 5 - 4); /* strip "logs/" and ".log" */
    ex->meta_local = xasprintf("%s/metadata/%s.json", r->dir, base);
    if (shared_fs)
        ex->meta_remote = xstrdup(ex->meta_local);
    else
        ex->meta_remote = xasprintf("/tmp/benchctl-%s-%s-%ld.json", r->id, st->name,
                                    (long)random());
    free(rel);
    free(base);
    sv_push_owned(&ex->env, xasprintf("BENCHCTL_METADATA_FILE=%s", ex->meta_remote));
    ex->req = (bc_exec_request){.size = sizeof ex->req,
                                .shell = (const char *const *)sh->v,
                                .command = ex->cmd,
                                .env = (const char *const *)ex->env.v};
    if (tty) {
        ex->req.flags |= BC_EXEC_TTY;
        ex->req.tty_rows = r->ws.ws_row;
        ex->req.tty_cols = r->ws.ws_col;
    }
    return true;
}

void stage_exec_free(stage_exec *ex)
{
    sv_free(&ex->shell);
    sv_free(&ex->env);
    free(ex->cmd);
    free(ex->meta_remote);
    free(ex->meta_local);
}

void stage_record_result(cJSON *rec, const bc_exec_result *res)
{
    cJSON_AddNumberToObject(rec, "exit_status", res->exit_status);
    if (res->term_signal)
        cJSON_AddNumberToObject(rec, "signal", res->term_signal);
    if (res->user_us >= 0) {
        cJSON_AddNumberToObject(rec, "user_cpu_s", us_to_s(res->user_us));
        cJSON_AddNumberToObject(rec, "system_cpu_s", us_to_s(res->sys_us));
    }
    if (res->max_rss_kb >= 0)
        cJSON_AddNumberToObject(rec, "max_rss_kb", (double)res->max_rss_kb);
}

char *stage_tail_lines(const stage_io *io, int lines)
{
    size_t end = io->tail_len;
    while (end > 0 && (io->tail[end - 1] == '\n' || io->tail[end - 1] == '\r'))
        end--;
    size_t start = end;
    int seen = 0;
    while (start > 0) {
        if (io->tail[start - 1] == '\n' && ++seen == lines)
            break;
        start--;
    }
    return xstrndup(io->tail + start, end - start);
}

/* Merge what the stage reported for custom metadata: its stdout when it
 * has append_metadata, and $BENCHCTL_METADATA_FILE when it wrote one. */
void stage_metadata(run *r, const cfg_stage *st, hostconn *h, const stage_exec *ex,
                    const strbuf *captured)
{
    char *err = NULL;
    char what[300];
    if (st->append_metadata) {
        snprintf(what, sizeof what, "stage '%s': append_metadata", st->name);
        if (!append_metadata(r, captured->buf ? captured->buf : "", captured->len, what, &err)) {
            log_msg(BC_LOG_WARN, "%s", err);
            free(err);
            err = NULL;
        }
    }
    char *dir = dir_name(ex->meta_local);
    struct stat sb;
    bool here = strcmp(ex->meta_remote, ex->meta_local) == 0;
    if (!here && st->append_metadata) {
        /* Remote hosts: fetched for append_metadata stages only (a round
         * trip per stage otherwise), then removed there. */
        core_ctx ctx;
        hostconn_ctx(h, &ctx);
        mkdir_p(dir, 0755);
        if (h->p->ops.host.get_file &&
            h->p->ops.host.get_file(&ctx.pub, h->conn, ex->meta_remote, ex->meta_local) == BC_OK) {
            char *q = shell_quote(ex->meta_remote);
            char *rm = xasprintf("rm -f %s", q);
            int status;
            hostconn_exec_capture(h, &ctx, rm, 10000, &status, NULL, 0);
            free(rm);
            free(q);
        }
    }
    free(dir);
    if (stat(ex->meta_local, &sb) == 0 && sb.st_size > 0) {
        size_t len;
        char *text = read_file(ex->meta_local, &len);
        snprintf(what, sizeof what, "stage '%s': $BENCHCTL_METADATA_FILE", st->name);
        if (text && !append_metadata(r, text, len, what, &err)) {
            log_msg(BC_LOG_WARN, "%s", err);
            free(err);
        }
        free(text);
    }
}

int stage_exec_once(hostconn *h, core_ctx *ctx, const bc_exec_request *req, int64_t limit_ms,
                    bc_exec_result *res, int64_t *wall_ns)
{
    const bc_host_ops *ops = &h->p->ops.host;
    void *proc = NULL;
    *res = (bc_exec_result){.size = sizeof *res, .user_us = -1, .sys_us = -1, .max_rss_kb = -1};
    int64_t t0 = mono_ns();
    if (ops->start(&ctx->pub, h->conn, req, &proc) != BC_OK)
        return STAGE_START_FAILED;
    int rc = ops->wait(&ctx->pub, proc, limit_ms, res);
    *wall_ns = mono_ns() - t0;
    if (rc != BC_OK)
        ops->stop(&ctx->pub, proc, 2000); /* never leave it running */
    ops->release(&ctx->pub, proc);
    return rc;
}

static stage_outcome run_stage_on_host(run *r, const cfg_stage *st, const char *alias,
                                       const cfg_case *cs, cJSON *rec, const char *prefix)
{
    hostconn *h = run_host(r, alias);
    int64_t w0 = wall_ns(), m0 = mono_ns();
    json_add_time(rec, "start_time", w0);
    char *err = NULL;
    stage_outcome out = ST_FAILED;
    stage_exec ex = {0};
    const char *status = "failed";
    core_ctx ctx;
    strbuf captured = {0};
    stage_io io = {.log_fd = -1, .to_terminal = true, .prefix = prefix};

    char *log_rel = stage_log_rel(st, alias, cs);
    char *log_path = path_join(r->dir, log_rel);
    io.log_path = log_path;
    /* append_metadata reads stdout alone: no terminal, whose stdout and
     * stderr are one stream. */
    if (st->append_metadata)
        io.capture = &captured;

    if (!hostconn_open(h)) {
        err = xasprintf("stage '%s': %s", st->name, h->error);
        goto done;
    }
    if (!stage_exec_prepare(r, st, h, cs, r->tty && !st->append_metadata, &ex, &err))
        goto done;
    char *dir = dir_name(ex.meta_local);
    if (strcmp(ex.meta_local, ex.meta_remote) == 0)
        mkdir_p(dir, 0755);
    free(dir);
    hostconn_ctx(h, &ctx);
    ctx.stage = st->name;
    ctx.case_name = cs ? cs->name : NULL;
    ctx.sink = stage_sink;
    ctx.sink_data = &io;
    bc_exec_result res;
    int64_t limit = st->timeout_ms > 0 ? st->timeout_ms : -1;
    int rc = BC_OK;
    repeat_rec rep = {0};
    int64_t total = st->warmup + st->repeat;
    if (st->repeat_set && !repeat_calibrate(h, &ctx, &ex.req, &rep) && !run_cancelled(r)) {
        /* Without the start-up overhead the times are raw (still valid). */
        log_msg(BC_LOG_WARN, "stage '%s' on host '%s': could not measure the shell's start-up "
                "time (%s); repeated times include it", st->name, alias,
                ctx.error);
        ctx.error[0] = '\0';
    }
    /* A repeated stage's record carries the CPU time of all its runs
     * (warm-up and measured) and the largest peak RSS; each run's own
     * figures are in its "repeat" object. */
    bc_exec_result all = {.size = sizeof all, .user_us = 0, .sys_us = 0, .max_rss_kb = -1};
    for (int64_t i = 0; i < total && rc == BC_OK; i++) {
        int64_t wall;
        if (i == total - 1)
            captured.len = 0; /* append_metadata reads the last run's stdout */
        rc = stage_exec_once(h, &ctx, &ex.req, limit, &res, &wall);
        if (rc == BC_OK) {
            all.user_us = all.user_us >= 0 && res.user_us >= 0 ? all.user_us + res.user_us : -1;
            all.sys_us = all.sys_us >= 0 && res.sys_us >= 0 ? all.sys_us + res.sys_us : -1;
            if (res.max_rss_kb > all.max_rss_kb)
                all.max_rss_kb = res.max_rss_kb;
        }
        if (rc == BC_OK && (res.term_signal || res.exit_status != 0))
            break; /* a failed run is not a measurement */
        if (rc == BC_OK && i >= st->warmup && st->repeat_set)
            repeat_add(&rep, wall, &res);
        if (rc == BC_OK && i + 1 < total && run_cancelled(r))
            rc = BC_CANCELLED;
    }
    if (st->repeat_set) {
        cJSON_AddItemToObject(rec, "repeat", repeat_finish(&rep, st, alias));
        repeat_free(&rep);
    }
    if (rc == STAGE_START_FAILED) {
        err = xasprintf("stage '%s' on host '%s': cannot start: %s", st->name, alias,
                        ctx.error[0] ? ctx.error : "unknown error");
        goto done;
    }
    if (rc == BC_TIMEOUT || rc == BC_CANCELLED) {
        if (rc == BC_TIMEOUT) {
            err = xasprintf("stage '%s' on host '%s' timed out after %lld ms (stage timeout%s)",
                            st->name, alias, (long long)st->timeout_ms,
                            st->repeat_set ? ", which applies to each repetition" : "");
            status = "timeout";
        } else {
            status = run_cancel_status();
            out = ST_INTERRUPTED;
        }
        goto done;
    }
    if (rc != BC_OK) {
        err = xasprintf("stage '%s' on host '%s': %s", st->name, alias,
                        ctx.error[0] ? ctx.error : "waiting for the command failed");
        goto done;
    }
    if (total > 1) {
        all.exit_status = res.exit_status;
        all.term_signal = res.term_signal;
        stage_record_result(rec, &all);
    } else {
        stage_record_result(rec, &res);
    }
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
    stage_metadata(r, st, h, &ex, &captured);
    if (st->health) {
        rc = stage_probe(r, st, h, cs, rec, NULL, &err);
        if (rc == BC_CANCELLED) {
            status = run_cancel_status();
            out = ST_INTERRUPTED;
            goto done;
        }
        if (rc != BC_OK)
            goto done;
    }
    if (!collect_outputs(r, st, h, cs, false, rec, &err))
        goto done;
    status = "success";
    out = ST_SUCCESS;
done:
    if (out != ST_SUCCESS && st->noutputs && h->opened && !cJSON_GetObjectItem(rec, "outputs")) {
        /* Whatever a failed or stopped stage already wrote is kept: collect
         * it leniently (missing files are warnings, no validation verdict
         * changes the outcome). */
        char *ignored = NULL;
        collect_outputs(r, st, h, cs, true, rec, &ignored);
        free(ignored);
    }
    int64_t w1 = wall_ns();
    json_add_time(rec, "end_time", w1);
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
        run_fail(r, "%s", err);
        free(err);
    } else if (out == ST_INTERRUPTED) {
        run_fail(r, "stage '%s' on host '%s' was %s", st->name, alias,
                 strcmp(status, "timeout") == 0 ? "stopped by --timeout" : "interrupted");
    }
    stage_io_flush(&io);
    if (io.log_fd >= 0)
        close(io.log_fd);
    sb_free(&captured);
    free(log_rel);
    free(log_path);
    stage_exec_free(&ex);
    return out;
}

cJSON *stage_new_record(const cfg_stage *st, const char *host, const cfg_case *cs)
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

/* Records for hosts from..n-1 of a stage that did not run there. */
static void record_not_run_from(run *r, const cfg_stage *st, const cfg_case *cs, size_t from,
                                const char *status, const char *reason)
{
    for (size_t i = from; i < st->nhosts; i++) {
        cJSON *rec = stage_new_record(st, st->hosts[i], cs);
        cJSON_AddStringToObject(rec, "status", status);
        if (reason)
            cJSON_AddStringToObject(rec, "reason", reason);
        cJSON_AddItemToArray(r->stages_json, rec);
        run_stage_done(r, rec);
    }
}

void stage_record_not_run(run *r, const cfg_stage *st, const cfg_case *cs, const char *status,
                          const char *reason)
{
    record_not_run_from(r, st, cs, 0, status, reason);
}

static void print_header(run *r, const cfg_stage *st, const char *host, const cfg_case *cs)
{
    char line[512];
    int n = snprintf(line, sizeof line, "%s==> %s%s on %s%s%s%s%s\n", r->tty ? "\033[1;36m" : "",
                     st->is_cleanup ? "cleanup " : st->background ? "background " : "", st->name,
                     host, cs ? " [case " : "",
                     cs ? cs->name : "", cs ? "]" : "", r->tty ? "\033[0m" : "");
    if (n > 0)
        write_all(STDOUT_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

typedef struct par_job {
    run *r;
    const cfg_stage *st;
    const cfg_case *cs;
    const char *host;
    cJSON *rec;
    char prefix[96];
    pthread_t thread;
    bool threaded;
    stage_outcome out;
} par_job;

static void *par_thread(void *arg)
{
    par_job *j = arg;
    j->out = run_stage_on_host(j->r, j->st, j->host, j->cs, j->rec, j->prefix);
    return NULL;
}

/* `parallel: true`: one thread per host, all at once; output lines are
 * labelled with their host on the terminal (the logs stay per host). */
static bool run_parallel(run *r, const cfg_stage *st, const cfg_case *cs)
{
    par_job *jobs = xcalloc(st->nhosts, sizeof *jobs);
    char line[512];
    int n = snprintf(line, sizeof line, "%s==> %s%s on %zu hosts in parallel%s%s%s%s\n",
                     r->tty ? "\033[1;36m" : "", st->is_cleanup ? "cleanup " : "", st->name,
                     st->nhosts, cs ? " [case " : "",
                     cs ? cs->name : "", cs ? "]" : "", r->tty ? "\033[0m" : "");
    if (n > 0)
        write_all(STDOUT_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    for (size_t i = 0; i < st->nhosts; i++) {
        par_job *j = &jobs[i];
        *j = (par_job){.r = r, .st = st, .cs = cs, .host = st->hosts[i], .out = ST_FAILED};
        snprintf(j->prefix, sizeof j->prefix, "[%s] ", st->hosts[i]);
        j->rec = stage_new_record(st, st->hosts[i], cs);
        cJSON_AddBoolToObject(j->rec, "parallel", true);
        cJSON_AddItemToArray(r->stages_json, j->rec);
        j->threaded = pthread_create(&j->thread, NULL, par_thread, j) == 0;
        if (!j->threaded)
            par_thread(j); /* no thread: run it here */
    }
    bool go_on = true;
    /* All threads end before any record is saved: saving prints the whole
     * metadata, which the threads still write into until they end. */
    for (size_t i = 0; i < st->nhosts; i++)
        if (jobs[i].threaded)
            pthread_join(jobs[i].thread, NULL);
    for (size_t i = 0; i < st->nhosts; i++) {
        run_stage_done(r, jobs[i].rec);
        if (jobs[i].out == ST_INTERRUPTED || (jobs[i].out == ST_FAILED && !st->continue_on_error))
            go_on = false;
    }
    free(jobs);
    return go_on;
}

bool stage_run(run *r, const cfg_stage *st, const cfg_case *cs)
{
    if (st->execute_only_for && (!cs || !config_case_matches(cs, st->execute_only_for))) {
        stage_record_not_run(r, st, cs, "skipped", "execute_only_for");
        return true;
    }
    if (st->skip || sv_contains(&r->o->skip, st->name)) {
        stage_record_not_run(r, st, cs, "skipped", st->skip ? "skip: true" : "--skip");
        return true;
    }
    if (st->parallel && st->nhosts > 1 && !st->background)
        return run_parallel(r, st, cs);
    bool ok = true;
    for (size_t i = 0; i < st->nhosts; i++) {
        if (run_cancelled(r)) {
            record_not_run_from(r, st, cs, i, "not_run", "the run was stopped");
            return false;
        }
        cJSON *rec = stage_new_record(st, st->hosts[i], cs);
        cJSON_AddItemToArray(r->stages_json, rec);
        print_header(r, st, st->hosts[i], cs);
        if (st->background) {
            /* Its record is finished (and journaled) when it stops. */
            if (!bg_start(r, st, run_host(r, st->hosts[i]), cs, rec)) {
                if (run_cancelled(r))
                    return false;
                ok = false;
                if (!st->continue_on_error)
                    return false;
            }
            continue;
        }
        stage_outcome o = run_stage_on_host(r, st, st->hosts[i], cs, rec, NULL);
        run_stage_done(r, rec);
        if (o == ST_INTERRUPTED || (o == ST_FAILED && !st->continue_on_error)) {
            record_not_run_from(r, st, cs, i + 1, "not_run",
                                o == ST_INTERRUPTED ? "the run was stopped"
                                                    : "an earlier host failed");
            return false;
        }
        if (o == ST_FAILED)
            ok = false;
    }
    (void)ok;
    return true;
}

