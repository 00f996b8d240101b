/* Host connections of a run: one per host, opened on first use, shared by
 * every stage, probe and transfer, closed at the end of the run. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/beneath.h"
#include "store/hostfacts.h"
#include "util/log.h"
#include "run/run.h"

uint32_t hostconn_caps(const hostconn *h) { return h->p->ops.host.caps; }

static int env_cancelled(core_ctx *ctx) { return run_cancelled(ctx->run); }
static int env_cancel_fd(core_ctx *ctx) { return run_cancel_fd(ctx->run); }
static const char *env_fact(core_ctx *ctx, const char *key)
{
    if (ctx->run && strcmp(key, "stage_background") == 0) {
        /* "1" when the call is for a background stage: it runs for long,
         * so a transport may give it resources of its own. */
        for (size_t i = 0; ctx->stage && i < ctx->run->cfg->nstages; i++)
            if (strcmp(ctx->run->cfg->stages[i].name, ctx->stage) == 0)
                return ctx->run->cfg->stages[i].background ? "1" : "0";
        return "0";
    }
    if (ctx->host && strcmp(key, "clock_at_close") == 0) /* clock.c */
        return ctx->host->clock_end_wanted ? "1" : "0";
    return ctx->run ? run_fact(ctx->run, key) : NULL;
}
static const char *env_alias(core_ctx *ctx) { return ctx->host->cfg->alias; }
static const char *env_transport(core_ctx *ctx) { return ctx->host->p->desc.name; }
static uint32_t env_caps(core_ctx *ctx) { return hostconn_caps(ctx->host); }
static int env_exec(core_ctx *ctx, const char *command, int64_t timeout_ms, int *exit_status,
                    char *out, size_t out_size)
{
    return hostconn_exec_capture(ctx->host, ctx, command, timeout_ms, exit_status, out, out_size);
}
static int hostconn_get_file(hostconn *h, core_ctx *caller, const char *remote, const char *local);
static int hostconn_put_file(hostconn *h, core_ctx *caller, const char *local, const char *remote,
                             int mode);
static int env_get_file(core_ctx *ctx, const char *remote, const char *local)
{
    return hostconn_get_file(ctx->host, ctx, remote, local);
}
static int env_put_file(core_ctx *ctx, const char *local, const char *remote, int mode)
{
    return hostconn_put_file(ctx->host, ctx, local, remote, mode);
}

const ctx_env run_ctx_env = {
    .cancelled = env_cancelled,
    .cancel_fd = env_cancel_fd,
    .run_fact = env_fact,
    .host_alias = env_alias,
    .host_transport = env_transport,
    .host_caps = env_caps,
    .host_exec = env_exec,
    .host_get_file = env_get_file,
    .host_put_file = env_put_file,
    .host_stream = hostconn_stream,
};

void run_ctx_init(core_ctx *ctx, const plugin *p, optview *opts, run *r)
{
    ctx_init(ctx, p, opts, &run_ctx_env, r);
}

int run_plugin_init(plugin *p, run *r, char **err)
{
    return plugin_ensure_init(p, &run_ctx_env, r, err);
}

hostconn *run_host(run *r, const char *alias)
{
    for (size_t i = 0; i < r->nhosts; i++)
        if (strcmp(r->hosts[i].cfg->alias, alias) == 0)
            return &r->hosts[i];
    return NULL;
}

void hostconn_ctx(hostconn *h, core_ctx *ctx)
{
    run_ctx_init(ctx, h->p, &h->opts, h->run);
    ctx->host = h;
    ctx_find_instance(ctx, h->cfg);
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

/* Open the host's connection on first use.  Returns false (error in
 * h->error) when the transport cannot reach it. */
static bool hostconn_open_locked(hostconn *h);

static void take_facts(hostconn *h);

/* The facts object of h in metadata.json's hosts (or NULL); run lock held. */
static cJSON *host_json(hostconn *h)
{
    return cJSON_GetObjectItem(cJSON_GetObjectItem(h->run->meta, "hosts"), h->cfg->alias);
}

/* The value of "key=NUMBER" at a line start of text, into *v. */
static bool open_number(const char *text, const char *key, double *v)
{
    for (const char *k = strstr(text, key); k; k = strstr(k + 1, key)) {
        if (k != text && k[-1] != '\n')
            continue;
        char *num = xstrndup(k + strlen(key), strcspn(k + strlen(key), "\r\n"));
        bool ok = parse_double(num, v);
        free(num);
        return ok;
    }
    return false;
}

/* The clock offset a transport measured while it opened (clock_offset_ms=
 * and clock_uncertainty_ms= lines), or 0 +/- 0 on the controller itself.
 * Host lock held (the clock lock is taken inside). */
static void open_clock(hostconn *h, const char *text)
{
    double off, unc;
    pthread_mutex_lock(&h->clock_lock);
    if (!h->clock_known && (hostconn_caps(h) & BC_HOST_CAP_CONTROLLER)) {
        h->clock_known = true;
        h->clock_method = "controller";
        h->exec_rtt_ms = 10; /* a command here costs about this much */
    } else if (!h->clock_known && open_number(text, "clock_offset_ms=", &off) &&
               open_number(text, "clock_uncertainty_ms=", &unc) && isfinite(off) &&
               isfinite(unc) && unc >= 0) {
        h->clock_known = true;
        h->clock_method = "transport";
        h->clock_offset_ms = off;
        h->clock_unc_ms = unc;
        h->clock_at_ns = wall_ns(); /* measured just before open returned */
    }
    pthread_mutex_unlock(&h->clock_lock);
}

/* What a transport printed while it opened (the ssh transport: its private
 * directory, the machine facts it ran there, what connecting cost) and
 * what opening took here: into the host's entry of metadata.json
 * ("connection": open_s, and connect_s / setup_s when the transport says),
 * never into a stage's time.  Host lock held. */
static void take_open_output(hostconn *h, const char *text, int64_t open_ns)
{
    const char *dir = strstr(text, "BENCHCTL_HOST_TMPDIR=");
    if (dir && (dir == text || dir[-1] == '\n') && !h->tmpdir) {
        dir += strlen("BENCHCTL_HOST_TMPDIR=");
        char *d = xstrndup(dir, strcspn(dir, "\r\n"));
        if (d[0] == '/')
            h->tmpdir = d;
        else
            free(d);
    }
    open_clock(h, text);
    /* the controller's facts are metadata.json's "machine" */
    cJSON *facts = hostconn_caps(h) & BC_HOST_CAP_CONTROLLER ? NULL : hostfacts_parse(text);
    cJSON *conn = cJSON_CreateObject();
    cJSON_AddNumberToObject(conn, "open_s", (double)open_ns / 1e9);
    static const char *const keys[][2] = {{"connect_ms=", "connect_s"}, {"setup_ms=", "setup_s"}};
    for (size_t i = 0; i < 2; i++) {
        const char *k = strstr(text, keys[i][0]);
        int64_t v;
        if (k && (k == text || k[-1] == '\n')) {
            char *num = xstrndup(k + strlen(keys[i][0]), strcspn(k + strlen(keys[i][0]), "\r\n"));
            if (parse_int64(num, &v) && v >= 0)
                cJSON_AddNumberToObject(conn, keys[i][1], (double)v / 1e3);
            free(num);
        }
    }
    /* "private_dir_local=1": the private directory is a path on this
     * machine too (a transport's shared directory): `benchctl gc` removes
     * it here rather than through the transport. */
    const char *pl = strstr(text, "private_dir_local=1");
    bool dir_here = h->tmpdir && pl && (pl == text || pl[-1] == '\n') &&
                    (pl[19] == '\0' || pl[19] == '\n' || pl[19] == '\r');
    if (h->tmpdir)
        cJSON_AddStringToObject(conn, "private_dir", h->tmpdir);
    if (dir_here)
        cJSON_AddTrueToObject(conn, "private_dir_local");
    if (h->tmpdir && h->run->dir) {
        /* On disk at once (metadata.json is rewritten only now and then):
         * after a crash, `benchctl gc` finds it here. */
        cJSON *line = cJSON_CreateObject();
        cJSON_AddStringToObject(line, "host", h->cfg->alias);
        cJSON_AddStringToObject(line, "private_dir", h->tmpdir);
        if (hostconn_caps(h) & BC_HOST_CAP_CONTROLLER) /* the watchdog removes these */
            cJSON_AddTrueToObject(line, "controller");
        if (dir_here) /* gc removes these here (not the watchdog: the job's steps may still run) */
            cJSON_AddTrueToObject(line, "local");
        char *txt = cJSON_PrintUnformatted(line);
        cJSON_Delete(line);
        char *path = path_join(h->run->dir, LAYOUT_PRIVATE_DIRS);
        int fd = txt ? open_beneath(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644) : -1;
        if (fd >= 0) {
            char *l = xasprintf("%s\n", txt);
            write_all(fd, l, strlen(l));
            free(l);
            close(fd);
        }
        free(path);
        free(txt);
    }
    bool have_facts = facts && facts->child;
    if (have_facts)
        h->facts_taken = true;
    pthread_mutex_lock(&h->run->lock);
    cJSON *hj = host_json(h);
    if (hj) {
        cJSON_DeleteItemFromObjectCaseSensitive(hj, "connection");
        cJSON_AddItemToObject(hj, "connection", conn);
        conn = NULL;
        if (have_facts) {
            cJSON_DeleteItemFromObjectCaseSensitive(hj, "facts");
            cJSON_AddItemToObject(hj, "facts", facts);
            facts = NULL;
        }
    }
    pthread_mutex_unlock(&h->run->lock);
    cJSON_Delete(conn);
    cJSON_Delete(facts);
}

bool hostconn_open(hostconn *h)
{
    pthread_mutex_lock(&h->lock); /* parallel stages may share a host */
    bool was_open = h->opened;
    bool ok = hostconn_open_locked(h);
    bool facts = ok && !h->facts_taken && !(hostconn_caps(h) & BC_HOST_CAP_CONTROLLER);
    if (facts)
        h->facts_taken = true;
    pthread_mutex_unlock(&h->lock);
    if (facts)
        take_facts(h);
    if (ok && !was_open)
        hostconn_clock_record(h);
    return ok;
}

/* A remote host's machine facts (like metadata.json's "machine" for the
 * controller) into hosts.<alias>.facts: one short command when the
 * connection opens.  Best effort: a host without /proc still runs. */
static void take_facts(hostconn *h)
{
    core_ctx ctx;
    hostconn_ctx(h, &ctx);
    int status = -1;
    enum { OUT_SIZE = 16384 }; /* the facts and the noise lines: about 2 KiB */
    char *out = xcalloc(1, OUT_SIZE);
    int rc = hostconn_exec_capture(h, &ctx, hostfacts_script, 15000, &status, out, OUT_SIZE);
    cJSON *facts = rc == BC_OK ? hostfacts_parse(out) : NULL;
    free(out);
    if (!facts || !facts->child) {
        log_msg(BC_LOG_WARN, "host '%s': its machine facts (OS, kernel, CPU, memory) could not "
                "be read (%s); the run goes on without them", h->cfg->alias,
                rc != BC_OK ? ctx.error : "the command printed none of them");
        cJSON_Delete(facts);
        return;
    }
    pthread_mutex_lock(&h->run->lock);
    cJSON *hj = host_json(h);
    if (hj) {
        cJSON_DeleteItemFromObjectCaseSensitive(hj, "facts");
        cJSON_AddItemToObject(hj, "facts", facts);
    } else {
        cJSON_Delete(facts);
    }
    pthread_mutex_unlock(&h->run->lock);
}

static bool hostconn_open_locked(hostconn *h)
{
    if (h->opened)
        return true;
    if (h->failed)
        return false;
    char *err = NULL;
    if (run_plugin_init(h->p, h->run, &err) != BC_OK) {
        h->failed = true;
        h->error = err;
        return false;
    }
    core_ctx ctx;
    hostconn_ctx(h, &ctx);
    if (ctx_instance(&ctx, h->cfg, &err) != BC_OK) {
        h->failed = true;
        h->error = err;
        return false;
    }
    char opened_out[16384] = "";
    capture cap = {opened_out, sizeof opened_out, 0};
    ctx.sink = capture_sink;
    ctx.sink_data = &cap;
    int64_t t0 = mono_ns();
    int rc = h->p->ops.host.open(&ctx.pub, &h->conn);
    if (rc == BC_OK)
        take_open_output(h, opened_out, mono_ns() - t0);
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

/* The clock a transport measured as it closed (clock_at_close): the same
 * lines as at open, and clock_cost_ms= (what measuring took). */
static void close_clock(hostconn *h, const char *text)
{
    double off, unc, cost;
    if (!open_number(text, "clock_offset_ms=", &off) ||
        !open_number(text, "clock_uncertainty_ms=", &unc) || !isfinite(off) || !isfinite(unc) ||
        unc < 0) {
        log_msg(BC_LOG_DEBUG, "host '%s': no clock measured at the end of the run",
                h->cfg->alias);
        return;
    }
    if (!open_number(text, "clock_cost_ms=", &cost) || !isfinite(cost))
        cost = NAN;
    hostconn_clock_end_set(h, off, unc, wall_ns(), cost);
}

void hostconn_close(hostconn *h)
{
    if (h->opened) {
        core_ctx ctx;
        hostconn_ctx(h, &ctx);
        char closed_out[4096] = "";
        capture cap = {closed_out, sizeof closed_out, 0};
        ctx.sink = capture_sink;
        ctx.sink_data = &cap;
        h->p->ops.host.close(&ctx.pub, h->conn);
        h->opened = false;
        if (h->clock_end_wanted)
            close_clock(h, closed_out);
    }
    opts_free(&h->opts);
    isolate_host_free(h);
    sv_free(&h->uploaded);
    free(h->tmpdir);
    free(h->error);
}

int hostconn_exec_capture(hostconn *h, core_ctx *caller, const char *command, int64_t timeout_ms,
                          int *exit_status, char *out, size_t out_size)
{
    if (out && out_size)
        out[0] = '\0';
    if (!hostconn_open(h)) {
        snprintf(caller->error, sizeof caller->error, "%s", h->error);
        return BC_ERR;
    }
    strvec env = {0};
    const cfg_case *cs = NULL;
    for (size_t i = 0; caller->case_name && i < h->run->cfg->ncases; i++)
        if (strcmp(h->run->cfg->cases[i].name, caller->case_name) == 0)
            cs = &h->run->cfg->cases[i];
    run_build_env(h->run, caller->stage, h->cfg->alias, cs, &env);
    bc_exec_request req = {.size = sizeof req,
                           .shell = (const char *const *)h->run->cfg->helper_shell.v,
                           .command = command,
                           .env = (const char *const *)env.v};
    capture cap = {out, out_size, 0};
    core_ctx ctx;
    hostconn_ctx(h, &ctx);
    ctx.stage = caller->stage;
    ctx.case_name = caller->case_name;
    ctx.sink = capture_sink;
    ctx.sink_data = &cap;
    bc_exec_result res;
    int rc = exec_run(h, &ctx, &req, timeout_ms < 0 ? -1 : timeout_ms, GRACE_HELPER_MS, &res, NULL);
    if (rc == EXEC_START_FAILED)
        rc = BC_ERR;
    if (rc == BC_OK)
        *exit_status = res.term_signal ? 128 + res.term_signal : res.exit_status;
    else if (ctx.error[0])
        snprintf(caller->error, sizeof caller->error, "%s", ctx.error);
    sv_free(&env);
    return rc;
}

static int hostconn_get_file(hostconn *h, core_ctx *caller, const char *remote, const char *local)
{
    if (!hostconn_open(h)) {
        snprintf(caller->error, sizeof caller->error, "%s", h->error);
        return BC_ERR;
    }
    if (!h->p->ops.host.get_file) {
        snprintf(caller->error, sizeof caller->error, "transport '%s' cannot copy files",
                 h->p->desc.name);
        return BC_UNSUPPORTED;
    }
    core_ctx ctx;
    hostconn_ctx(h, &ctx);
    ctx.max_bytes = caller->max_bytes;
    int rc = hostconn_fetch(h, &ctx, remote, local);
    if (rc != BC_OK)
        snprintf(caller->error, sizeof caller->error, "%s", ctx.error);
    return rc;
}

int hostconn_fetch(hostconn *h, core_ctx *ctx, const char *remote, const char *local)
{
    if (!h->p->ops.host.get_file) {
        snprintf(ctx->error, sizeof ctx->error, "transport '%s' cannot copy files",
                 h->p->desc.name);
        return BC_UNSUPPORTED;
    }
    /* Into the run directory: through a fresh directory benchctl made, so
     * a link planted where the file goes (or at the transport's temporary
     * name) is never written through (util/beneath.h). */
    beneath_put bp;
    char *why = NULL;
    if (!beneath_put_begin(&bp, local, &why)) {
        snprintf(ctx->error, sizeof ctx->error, "%s", why);
        free(why);
        return BC_ERR;
    }
    int rc = h->p->ops.host.get_file(&ctx->pub, h->conn, remote, bp.path);
    if (rc == BC_OK && !beneath_put_commit(&bp, &why)) {
        snprintf(ctx->error, sizeof ctx->error, "%s", why);
        free(why);
        rc = BC_ERR;
    }
    beneath_put_end(&bp);
    return rc;
}

static int hostconn_put_file(hostconn *h, core_ctx *caller, const char *local, const char *remote,
                             int mode)
{
    if (!hostconn_open(h)) {
        snprintf(caller->error, sizeof caller->error, "%s", h->error);
        return BC_ERR;
    }
    if (!h->p->ops.host.put_file) {
        snprintf(caller->error, sizeof caller->error, "transport '%s' cannot copy files",
                 h->p->desc.name);
        return BC_UNSUPPORTED;
    }
    core_ctx ctx;
    hostconn_ctx(h, &ctx);
    int rc = h->p->ops.host.put_file(&ctx.pub, h->conn, local, remote, mode);
    if (rc != BC_OK)
        snprintf(caller->error, sizeof caller->error, "%s", ctx.error);
    return rc;
}

