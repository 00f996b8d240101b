/* The core side of the plugin services table. */
#define _GNU_SOURCE
#include "plugin/coresvc.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"
#include "util/util.h"

static core_ctx *C(bc_ctx *ctx) { return (core_ctx *)ctx; }

static void svc_log(bc_ctx *ctx, int level, const char *fmt, ...)
{
    core_ctx *c = C(ctx);
    va_list ap;
    va_start(ap, fmt);
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->plugin)
        log_msg(level, "[%s:%s] %s", loader_kind_name(c->plugin->desc.kind), c->plugin->desc.name,
                msg);
    else
        log_msg(level, "%s", msg);
}

static void svc_set_error(bc_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(C(ctx)->error, sizeof C(ctx)->error, fmt, ap);
    va_end(ap);
}

static int svc_cancelled(bc_ctx *ctx) { return C(ctx)->env ? C(ctx)->env->cancelled(C(ctx)) : 0; }
static int svc_cancel_fd(bc_ctx *ctx) { return C(ctx)->env ? C(ctx)->env->cancel_fd(C(ctx)) : -1; }

static optview empty_view;
static optview *V(bc_ctx *ctx) { return C(ctx)->opts ? C(ctx)->opts : &empty_view; }

static int svc_opt_is_set(bc_ctx *ctx, const char *n) { return opts_is_set(V(ctx), n); }
static const char *svc_opt_string(bc_ctx *ctx, const char *n) { return opts_string(V(ctx), n); }
static int64_t svc_opt_int(bc_ctx *ctx, const char *n) { return opts_int(V(ctx), n); }
static double svc_opt_float(bc_ctx *ctx, const char *n) { return opts_float(V(ctx), n); }
static int svc_opt_bool(bc_ctx *ctx, const char *n) { return opts_bool(V(ctx), n); }
static int64_t svc_opt_duration_ms(bc_ctx *ctx, const char *n) { return opts_duration_ms(V(ctx), n); }
static size_t svc_opt_list(bc_ctx *ctx, const char *n, const char *const **items)
{
    return opts_list(V(ctx), n, items);
}

static const char *svc_fact(bc_ctx *ctx, const char *key)
{
    core_ctx *c = C(ctx);
    if (strcmp(key, "stage") == 0)
        return c->stage;
    if (strcmp(key, "case") == 0)
        return c->case_name;
    if (strcmp(key, "host") == 0)
        return c->host && c->env ? c->env->host_alias(c) : NULL;
    if (strcmp(key, "transport") == 0)
        return c->host && c->env ? c->env->host_transport(c) : NULL;
    if (strcmp(key, "max_file_bytes") == 0) {
        if (c->max_bytes <= 0)
            return NULL;
        snprintf(c->factbuf, sizeof c->factbuf, "%lld", (long long)c->max_bytes);
        return c->factbuf;
    }
    if (strcmp(key, "time_left_ms") == 0 && c->deadline_ns && c->plugin &&
        c->plugin->desc.abi.abi_minor < 2) {
        /* For plugins built before the time_left_ms service (ABI 1.2). */
        int64_t left = (c->deadline_ns - mono_ns()) / 1000000;
        snprintf(c->factbuf, sizeof c->factbuf, "%lld", (long long)(left > 0 ? left : 0));
        return c->factbuf;
    }
    return c->env ? c->env->run_fact(c, key) : NULL;
}

static void svc_output(bc_ctx *ctx, int stream, const void *data, size_t len)
{
    core_ctx *c = C(ctx);
    if (c->sink)
        c->sink(c, stream, data, len);
}

static int svc_host_exec(bc_ctx *ctx, const char *command, int64_t timeout_ms, int *exit_status,
                         char *out, size_t out_size)
{
    core_ctx *c = C(ctx);
    if (!c->host || !c->env) {
        svc_set_error(ctx, "no host is associated with this call");
        return BC_ERR;
    }
    if (c->deadline_ns) {
        /* A probe's attempt never outlives the health check's timeout. */
        int64_t left = (c->deadline_ns - mono_ns()) / 1000000;
        if (left < 1)
            left = 1;
        if (timeout_ms < 0 || timeout_ms > left)
            timeout_ms = left;
    }
    return c->env->host_exec(c, command, timeout_ms, exit_status, out, out_size);
}

static int svc_host_get_file(bc_ctx *ctx, const char *remote, const char *local)
{
    core_ctx *c = C(ctx);
    if (!c->host || !c->env) {
        svc_set_error(ctx, "no host is associated with this call");
        return BC_ERR;
    }
    return c->env->host_get_file(c, remote, local);
}

static int svc_host_put_file(bc_ctx *ctx, const char *local, const char *remote, int mode)
{
    core_ctx *c = C(ctx);
    if (!c->host || !c->env) {
        svc_set_error(ctx, "no host is associated with this call");
        return BC_ERR;
    }
    return c->env->host_put_file(c, local, remote, mode);
}

static void svc_record_file(bc_ctx *ctx, const char *output_name, const char *local_path)
{
    core_ctx *c = C(ctx);
    if (c->on_file)
        c->on_file(c, output_name, local_path);
}

/* The capped-report line of validators built before ABI 1.2: line 0,
 * column 0, no value, "<N> more errors not shown".  Returns N, or 0. */
static uint64_t legacy_suppressed(const core_ctx *c, uint64_t line, uint32_t column,
                                  const char *value, const char *message)
{
    static const char tail[] = " more errors not shown";
    if (line != 0 || column != 0 || value || !message || !c->plugin ||
        c->plugin->desc.abi.abi_minor >= 2)
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(message, &end, 10);
    if (end == message || errno != 0 || *message < '0' || *message > '9' || strcmp(end, tail) != 0)
        return 0;
    return (uint64_t)n;
}

static void svc_data_errors_suppressed(bc_ctx *ctx, const char *path, uint64_t n)
{
    core_ctx *c = C(ctx);
    if (c->on_suppressed)
        c->on_suppressed(c, path, n);
    else if (n)
        log_msg(BC_LOG_ERROR, "%s: %llu more errors not shown", path, (unsigned long long)n);
}

static void svc_data_error(bc_ctx *ctx, const char *path, uint64_t line, uint32_t column,
                           const char *value, const char *message)
{
    core_ctx *c = C(ctx);
    uint64_t more = legacy_suppressed(c, line, column, value, message);
    if (more) {
        svc_data_errors_suppressed(ctx, path, more);
        return;
    }
    if (c->on_data_error)
        c->on_data_error(c, path, line, column, value, message);
    else
        log_msg(BC_LOG_ERROR, "%s:%llu:%u: %s%s%s%s", path, (unsigned long long)line, column,
                message, value ? " (value '" : "", value ? value : "", value ? "')" : "");
}

static void svc_column_summary(bc_ctx *ctx, const char *column, uint64_t count, double min,
                               double max, double mean)
{
    core_ctx *c = C(ctx);
    if (c->on_summary)
        c->on_summary(c, column, count, min, max, mean);
}

static void svc_column_values(bc_ctx *ctx, uint32_t column, const double *values, size_t n)
{
    core_ctx *c = C(ctx);
    if (c->on_values)
        c->on_values(c, column, values, n);
}

static void svc_column_text(bc_ctx *ctx, uint32_t column, const char *text, size_t len)
{
    core_ctx *c = C(ctx);
    if (c->on_text)
        c->on_text(c, column, text, len);
}

static int64_t svc_time_left_ms(bc_ctx *ctx)
{
    core_ctx *c = C(ctx);
    if (!c->deadline_ns)
        return -1;
    /* Rounded up: an attempt a probe bounds by it ends at the deadline, not
     * just before, so the core knows the deadline cut it short (and reports
     * the attempt before it). */
    int64_t left = (c->deadline_ns - mono_ns() + 999999) / 1000000;
    return left > 0 ? left : 0;
}

static uint32_t svc_host_caps(bc_ctx *ctx)
{
    core_ctx *c = C(ctx);
    return c->host && c->env ? c->env->host_caps(c) : 0;
}

static int svc_host_stream(bc_ctx *ctx, const char *command, bc_line_fn on_line, void *arg,
                           int *exit_status)
{
    core_ctx *c = C(ctx);
    if (!c->host || !c->env || !c->env->host_stream) {
        svc_set_error(ctx, "no host is associated with this call");
        return BC_ERR;
    }
    return c->env->host_stream(c, command, on_line, arg, exit_status);
}

static void svc_monitor_sample(bc_ctx *ctx, const bc_monitor_sample *s)
{
    core_ctx *c = C(ctx);
    if (c->on_sample && s)
        c->on_sample(c, s);
}

static void svc_host_accounting(bc_ctx *ctx, const char *json_object)
{
    core_ctx *c = C(ctx);
    if (!json_object)
        return;
    if (strlen(json_object) >= sizeof c->accounting) {
        log_msg(BC_LOG_WARN, "[host:%s] its accounting record (%zu bytes) is longer than %zu "
                "bytes and was dropped", c->plugin ? c->plugin->desc.name : "?",
                strlen(json_object), sizeof c->accounting - 1);
        return;
    }
    snprintf(c->accounting, sizeof c->accounting, "%s", json_object);
}

const bc_services core_services = {
    .size = sizeof(bc_services),
    .abi_major = BC_ABI_MAJOR,
    .abi_minor = BC_ABI_MINOR,
    .log = svc_log,
    .set_error = svc_set_error,
    .cancelled = svc_cancelled,
    .cancel_fd = svc_cancel_fd,
    .opt_is_set = svc_opt_is_set,
    .opt_string = svc_opt_string,
    .opt_int = svc_opt_int,
    .opt_float = svc_opt_float,
    .opt_bool = svc_opt_bool,
    .opt_duration_ms = svc_opt_duration_ms,
    .opt_list = svc_opt_list,
    .fact = svc_fact,
    .output = svc_output,
    .host_exec = svc_host_exec,
    .host_get_file = svc_host_get_file,
    .host_put_file = svc_host_put_file,
    .record_file = svc_record_file,
    .data_error = svc_data_error,
    .column_summary = svc_column_summary,
    .column_values = svc_column_values,
    .column_text = svc_column_text,
    .data_errors_suppressed = svc_data_errors_suppressed,
    .time_left_ms = svc_time_left_ms,
    .host_caps = svc_host_caps,
    .host_stream = svc_host_stream,
    .monitor_sample = svc_monitor_sample,
    .host_accounting = svc_host_accounting,
};

void ctx_init(core_ctx *ctx, const plugin *p, optview *opts, const ctx_env *env,
              struct run *run)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->pub.svc = &core_services;
    ctx->pub.plugin_state = p ? p->state : NULL;
    ctx->plugin = p;
    ctx->opts = opts;
    ctx->env = env;
    ctx->run = run;
}

static int plugin_init_locked(plugin *p, const ctx_env *env, struct run *run, char **err);
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

int plugin_ensure_init(plugin *p, const ctx_env *env, struct run *run, char **err)
{
    *err = NULL;
    pthread_mutex_lock(&init_lock); /* parallel stages may race here */
    int rc = plugin_init_locked(p, env, run, err);
    pthread_mutex_unlock(&init_lock);
    return rc;
}

static int plugin_init_locked(plugin *p, const ctx_env *env, struct run *run, char **err)
{
    if (p->initialised) {
        /* A failed init fails every later use too, with the same reason. */
        if (p->init_error)
            *err = xstrdup(p->init_error);
        return p->init_error ? BC_ERR : BC_OK;
    }
    p->initialised = true;
    if (!p->desc.init)
        return BC_OK;
    core_ctx ctx;
    ctx_init(&ctx, p, NULL, env, run);
    int rc = p->desc.init(&ctx.pub, &p->state);
    if (rc != BC_OK) {
        p->init_error = xasprintf("%s plugin '%s' (%s) failed to initialise: %s",
                                  loader_kind_name(p->desc.kind), p->desc.name, p->path,
                                  ctx.error[0] ? ctx.error : "no reason given");
        *err = xstrdup(p->init_error);
        p->desc.fini = NULL; /* nothing to finalise */
    }
    return rc;
}

static void *find_instance(plugin *p, const void *section, char **err)
{
    for (size_t i = 0; i < p->ninstances; i++)
        if (p->instances[i].section == section) {
            if (p->instances[i].error && err)
                *err = xstrdup(p->instances[i].error);
            return p->instances[i].ptr;
        }
    return NULL;
}

int ctx_instance(core_ctx *ctx, const void *section, char **err)
{
    *err = NULL;
    plugin *p = (plugin *)ctx->plugin;
    if (!p || !p->desc.create || !section)
        return BC_OK;
    pthread_mutex_lock(&p->lock); /* parallel stages may share a section */
    for (size_t i = 0; i < p->ninstances; i++)
        if (p->instances[i].section == section) {
            /* A failed create fails every later use too, with its reason. */
            struct plugin_instance *in = &p->instances[i];
            ctx->pub.instance = in->ptr;
            int rc = in->error ? BC_ERR : BC_OK;
            if (in->error)
                *err = xstrdup(in->error);
            pthread_mutex_unlock(&p->lock);
            return rc;
        }
    void *inst = NULL;
    ctx->error[0] = '\0';
    ctx->pub.instance = NULL;
    int rc = p->desc.create(&ctx->pub, &inst);
    p->instances = xrealloc(p->instances, (p->ninstances + 1) * sizeof *p->instances);
    struct plugin_instance *in = &p->instances[p->ninstances++];
    *in = (struct plugin_instance){section, rc == BC_OK ? inst : NULL, NULL};
    if (rc != BC_OK) {
        in->error = xasprintf("%s plugin '%s' (%s) could not set up this %s: %s",
                              loader_kind_name(p->desc.kind), p->desc.name, p->path,
                              p->desc.kind == BC_KIND_HOST ? "host" : "section",
                              ctx->error[0] ? ctx->error : "no reason given");
        *err = xstrdup(in->error);
    }
    ctx->pub.instance = in->ptr;
    pthread_mutex_unlock(&p->lock);
    return rc == BC_OK ? BC_OK : BC_ERR;
}

void ctx_find_instance(core_ctx *ctx, const void *section)
{
    plugin *p = (plugin *)ctx->plugin;
    if (!p || !p->desc.create || !section)
        return;
    pthread_mutex_lock(&p->lock);
    ctx->pub.instance = find_instance(p, section, NULL);
    pthread_mutex_unlock(&p->lock);
}

void plugin_instances_destroy(plugin *p)
{
    /* Newest first: a later instance may lean on an earlier one. */
    for (size_t i = p->ninstances; i-- > 0;) {
        struct plugin_instance *in = &p->instances[i];
        if (!in->error && p->desc.destroy) {
            core_ctx ctx;
            ctx_init(&ctx, p, NULL, NULL, NULL);
            ctx.pub.instance = in->ptr;
            p->desc.destroy(&ctx.pub, in->ptr);
        }
        free(in->error);
    }
    free(p->instances);
    p->instances = NULL;
    p->ninstances = 0;
}
