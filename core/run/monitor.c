/*
 * Host monitoring (benchmark.monitor, `run --monitor`): one sampler thread
 * per monitored host for the whole run.  Each thread calls the monitor
 * plugin's run operation, which hands samples back through the
 * monitor_sample service; every sample is stamped on the controller's
 * clock and appended at once to monitor/<host>.csv.  At the end the
 * samples are summarised per host and, over each stage's span, per stage
 * (metadata "monitor", copied into results.json).  A sampler that fails
 * only warns: monitoring never fails the run or loses a measurement.  A
 * failed write of a CSV (a full disk) is a failed write into the run
 * directory like any other: it stops the run (util/wfail.h).
 *
 * Also the host_stream service: a long-lived command on a host whose
 * output lines are handed to the caller as they arrive.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/beneath.h"
#include "config/yamltree.h"
#include "plugin/bind.h"
#include "util/log.h"
#include "util/wfail.h"
#include "run/run.h"

/* The CSV columns after `timestamp`, in bc_monitor_sample's order. */
#define NCOLS 16
static const char *const col_names[NCOLS] = {
    "cpu_user_pct",   "cpu_system_pct",  "cpu_iowait_pct",      "cpu_steal_pct",
    "mem_used_bytes", "mem_available_bytes", "swap_used_bytes", "net_rx_bps",
    "net_tx_bps",     "disk_read_bps",   "disk_write_bps",      "load1",
    "psi_cpu_pct",    "psi_memory_pct",  "psi_io_pct",          "sampler_cpu_pct"};

typedef struct mon_host {
    struct monitor_set *set;
    hostconn *h;
    pthread_t thread;
    bool started;
    atomic_int stop;
    int stop_pipe[2];
    int fd;            /* monitor/<host>.csv */
    char *rel_path;    /* its path in the run directory */
    pthread_mutex_t lock; /* rows, nrows */
    double *rows;      /* (1 + NCOLS) per sample: wall-clock seconds, values */
    size_t nrows, cap;
    char *error;       /* why sampling stopped early, or NULL */
    double error_at;   /* when (wall-clock seconds) */
    int stderr_lines;  /* of the sampler, logged so far */
    out_file of;       /* the CSV's validation (path NULL: not validated) */
} mon_host;

typedef struct monitor_set {
    run *r;
    const plugin *p;
    optview opts;
    mon_host *hosts;
    size_t n;
} monitor_set;

/* How long monitor_stop waits for a sampler thread to return. */
#define MONITOR_STOP_LIMIT_S 15

static double wall_s(void) { return (double)wall_ns() / 1e9; }

/* ---- the monitor's view of cancellation: its own stop, not the run's -- */

static int mon_cancelled(core_ctx *ctx) { return atomic_load(&((mon_host *)ctx->hook_data)->stop); }
static int mon_cancel_fd(core_ctx *ctx) { return ((mon_host *)ctx->hook_data)->stop_pipe[0]; }

static ctx_env mon_env;
static pthread_once_t mon_env_once = PTHREAD_ONCE_INIT;
static void mon_env_init(void)
{
    mon_env = run_ctx_env;
    mon_env.cancelled = mon_cancelled;
    mon_env.cancel_fd = mon_cancel_fd;
}

/* ---- host_stream ------------------------------------------------------ */

typedef struct stream {
    core_ctx *caller;
    bc_line_fn on_line;
    void *arg;
    atomic_int stop;   /* on_line asked to stop */
    strbuf line;       /* a partial stdout line */
    strbuf eline;      /* a partial stderr line */
    int err_lines;
} stream;

static int stream_cancelled(core_ctx *ctx)
{
    stream *s = ctx->hook_data;
    return atomic_load(&s->stop) || s->caller->env->cancelled(s->caller);
}
static int stream_cancel_fd(core_ctx *ctx)
{
    stream *s = ctx->hook_data;
    return s->caller->env->cancel_fd(s->caller);
}

/* A streamed command lives as long as the run: to a transport it is like a
 * background stage (the ssh transport gives it a channel of its own rather
 * than holding its per-host dispatcher for the whole run). */
static const char *stream_fact(core_ctx *ctx, const char *key)
{
    if (strcmp(key, "stage_background") == 0)
        return "1";
    return run_ctx_env.run_fact(ctx, key);
}

static ctx_env stream_env;
static pthread_once_t stream_env_once = PTHREAD_ONCE_INIT;
static void stream_env_init(void)
{
    stream_env = run_ctx_env;
    stream_env.cancelled = stream_cancelled;
    stream_env.cancel_fd = stream_cancel_fd;
    stream_env.run_fact = stream_fact;
}

static void stream_sink(core_ctx *ctx, int which, const void *data, size_t len)
{
    stream *s = ctx->hook_data;
    strbuf *sb = which == BC_STREAM_STDERR ? &s->eline : &s->line;
    const char *p = data;
    for (size_t i = 0; i < len; i++) {
        if (p[i] != '\n') {
            sb_add(sb, &p[i], 1);
            continue;
        }
        const char *text = sb->buf ? sb->buf : "";
        if (which == BC_STREAM_STDERR) {
            if (s->err_lines++ < 5)
                log_msg(BC_LOG_WARN, "host '%s': the streamed command said: %s",
                        ctx->host->cfg->alias, text);
        } else if (!atomic_load(&s->stop) && s->on_line(s->arg, text, sb->len)) {
            atomic_store(&s->stop, 1);
        }
        sb->len = 0;
        if (sb->buf)
            sb->buf[0] = '\0';
    }
}

int hostconn_stream(core_ctx *caller, const char *command, bc_line_fn on_line, void *arg,
                    int *exit_status)
{
    hostconn *h = caller->host;
    if (!hostconn_open(h)) {
        snprintf(caller->error, sizeof caller->error, "%s", h->error);
        return BC_ERR;
    }
    pthread_once(&stream_env_once, stream_env_init);
    stream s = {.caller = caller, .on_line = on_line, .arg = arg};
    strvec env = {0};
    run_build_env(h->run, caller->stage, h->cfg->alias, NULL, &env);
    bc_exec_request req = {.size = sizeof req,
                           .shell = (const char *const *)h->run->cfg->helper_shell.v,
                           .command = command,
                           .env = (const char *const *)env.v};
    core_ctx ctx;
    hostconn_ctx(h, &ctx);
    ctx.env = &stream_env;
    ctx.hook_data = &s;
    ctx.stage = caller->stage;
    ctx.sink = stream_sink;
    void *proc = NULL;
    int rc = exec_start(h, &ctx, &req, &proc);
    if (rc != BC_OK) {
        snprintf(caller->error, sizeof caller->error, "%s",
                 ctx.error[0] ? ctx.error : "the command could not start");
        sv_free(&env);
        return BC_ERR;
    }
    bc_exec_result res = {.size = sizeof res};
    rc = exec_wait(h, &ctx, proc, -1, &res);
    if (rc != BC_OK) {
        exec_stop(h, &ctx, proc, GRACE_HELPER_MS); /* never leave it running */
        if (rc != BC_CANCELLED)
            snprintf(caller->error, sizeof caller->error, "%s",
                     ctx.error[0] ? ctx.error : "the command was lost");
    } else if (exit_status) {
        *exit_status = res.term_signal ? 128 + res.term_signal : res.exit_status;
    }
    exec_release(h, &ctx, proc);
    if (rc == BC_OK && atomic_load(&s.stop))
        rc = BC_CANCELLED;
    if (rc == BC_TIMEOUT)
        rc = BC_ERR;
    sb_free(&s.line);
    sb_free(&s.eline);
    sv_free(&env);
    return rc;
}

/* ---- samples ------------------------------------------------------------ */


/* A failed write into monitor/<host>.csv is a failed write into the run
 * directory (util/wfail.h: it stops the run); the samples stay in memory
 * for the summaries, the file is not written again.  m->lock held. */
static void mon_write_failed(mon_host *m)
{
    int e = errno;
    char *path = path_join(m->set->r->dir, m->rel_path);
    log_msg(BC_LOG_ERROR, "monitor: cannot write %s: %s", path, strerror(e));
    wfail_note(path, e);
    free(path);
    close(m->fd);
    m->fd = -1;
}
/* When smp was taken, on the controller's clock: its host_time_s (ABI
 * 1.6) corrected by the host's clock offset, never later than now (a
 * sample cannot arrive before it is taken: a clock that moved since the
 * offset was measured); now when the monitor did not say. */
static double sample_time(mon_host *m, const bc_monitor_sample *smp)
{
    double now = wall_s();
    if (smp->size < offsetof(bc_monitor_sample, host_time_s) + sizeof(double) ||
        !isfinite(smp->host_time_s) || smp->host_time_s <= 0)
        return now;
    double t = hostconn_to_controller(m->h, smp->host_time_s);
    return t < now ? t : now;
}

static void on_sample(core_ctx *ctx, const bc_monitor_sample *smp)
{
    mon_host *m = ctx->hook_data;
    double row[1 + NCOLS];
    row[0] = sample_time(m, smp);
    const double *vals = &smp->cpu_user_pct;
    for (size_t i = 0; i < NCOLS; i++) {
        size_t end = offsetof(bc_monitor_sample, cpu_user_pct) + (i + 1) * sizeof(double);
        row[1 + i] = smp->size >= end ? vals[i] : NAN;
    }
    strbuf sb = {0};
    sb_printf(&sb, "%.6f", row[0]);
    for (size_t i = 0; i < NCOLS; i++) {
        double v = row[1 + i];
        if (isfinite(v) && v == floor(v) && fabs(v) < 1e15)
            sb_printf(&sb, ",%.0f", v); /* bytes, counts: no exponent */
        else if (isfinite(v))
            sb_printf(&sb, ",%.4f", v);
        else
            sb_puts(&sb, ",");
    }
    sb_puts(&sb, "\n");
    pthread_mutex_lock(&m->lock);
    if (m->fd >= 0 && !write_full(m->fd, sb.buf, sb.len))
        mon_write_failed(m);
    if (m->nrows == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 256;
        m->rows = xrealloc(m->rows, m->cap * (1 + NCOLS) * sizeof *m->rows);
    }
    memcpy(m->rows + m->nrows * (1 + NCOLS), row, sizeof row);
    m->nrows++;
    pthread_mutex_unlock(&m->lock);
    sb_free(&sb);
}

static void *mon_thread(void *arg)
{
    mon_host *m = arg;
    monitor_set *set = m->set;
    const cfg_monitor *cm = &set->r->cfg->monitor;
    core_ctx ctx;
    run_ctx_init(&ctx, set->p, &set->opts, set->r);
    ctx.env = &mon_env;
    ctx.host = m->h;
    ctx.stage = "monitor";
    ctx.hook_data = m;
    ctx.on_sample = on_sample;
    char *err = NULL;
    int rc = BC_ERR;
    bool opened = hostconn_open(m->h);
    if (opened)
        hostconn_clock(m->h); /* before the first sample: it is stamped with it */
    if (!opened) {
        err = xstrdup(m->h->error);
    } else if (ctx_instance(&ctx, cm, &err) == BC_OK) {
        bc_monitor_request req = {.size = sizeof req,
                                  .metrics = cm->metrics,
                                  .interval_ms = cm->interval_ms};
        rc = set->p->ops.monitor.run(&ctx.pub, &req);
        if (rc != BC_OK && !atomic_load(&m->stop))
            err = xstrdup(ctx.error[0] ? ctx.error : "the sampler stopped");
    }
    if (err && !atomic_load(&m->stop)) {
        pthread_mutex_lock(&m->lock);
        m->error = err;
        m->error_at = wall_s();
        size_t n = m->nrows;
        pthread_mutex_unlock(&m->lock);
        log_msg(BC_LOG_WARN, "host '%s': monitoring stopped after %zu samples: %s; the run goes "
                "on without it (the gap is recorded in metadata.json)", m->h->cfg->alias, n, err);
        err = NULL;
    }
    free(err);
    return NULL;
}

static bool monitored(const cfg_monitor *cm, const char *alias)
{
    if (!cm->hosts)
        return true;
    for (size_t i = 0; i < cm->nhosts; i++)
        if (strcmp(cm->hosts[i], alias) == 0)
            return true;
    return false;
}

/* Hosts the run uses: the implicit `local` only when a stage runs there or
 * it is named (a config with only remote hosts does not sample the
 * controller unless asked). */
static bool host_used(const config *c, const char *alias)
{
    const cfg_stage *lists[2] = {c->stages, c->cleanup};
    size_t counts[2] = {c->nstages, c->ncleanup};
    for (int li = 0; li < 2; li++)
        for (size_t i = 0; i < counts[li]; i++)
            for (size_t k = 0; k < lists[li][i].nhosts; k++)
                if (strcmp(lists[li][i].hosts[k], alias) == 0)
                    return true;
    return false;
}

static char *file_name_of(const char *alias)
{
    char *s = xstrdup(alias);
    for (char *p = s; *p; p++)
        if (*p == '/' || *p == '\\' || (*p == '.' && p == s))
            *p = '_';
    return s;
}

void monitor_start(run *r)
{
    config *c = r->cfg;
    if (r->o->monitor)
        config_monitor_enable(c);
    if (!c->monitor.enabled)
        return;
    if (!c->monitor.plugin) {
        /* --monitor on a config without benchmark.monitor: bind it now. */
        diag d = {.file = c->path};
        bind_monitor(c, r->ld, &d);
        diag_print(&d, stderr);
        diag_free(&d);
        if (!c->monitor.plugin) {
            log_msg(BC_LOG_WARN, "--monitor: no monitor sampler '%s'; the run goes on without "
                    "host monitoring", c->monitor.sampler);
            return;
        }
    }
    char *err = NULL;
    if (run_plugin_init((plugin *)c->monitor.plugin, r, &err) != BC_OK) {
        log_msg(BC_LOG_WARN, "%s; the run goes on without host monitoring", err);
        free(err);
        return;
    }
    pthread_once(&mon_env_once, mon_env_init);
    monitor_set *set = xcalloc(1, sizeof *set);
    set->r = r;
    set->p = c->monitor.plugin;
    set->opts = (optview){set->p->desc.options, c->monitor.node, NULL, 0};
    set->hosts = xcalloc(r->nhosts, sizeof *set->hosts);
    r->monitor = set;
    char *dir = path_join(r->dir, "monitor");
    mkdir(dir, 0777);
    for (size_t i = 0; i < r->nhosts; i++) {
        hostconn *h = &r->hosts[i];
        const char *alias = h->cfg->alias;
        if (!monitored(&c->monitor, alias) || (!c->monitor.hosts && !host_used(c, alias)))
            continue;
        mon_host *m = &set->hosts[set->n++];
        m->set = set;
        m->h = h;
        m->fd = -1;
        pthread_mutex_init(&m->lock, NULL);
        char *base = file_name_of(alias);
        m->rel_path = xasprintf("monitor/%s.csv", base);
        free(base);
        char *path = path_join(r->dir, m->rel_path);
        m->fd = open_beneath(path, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                     0644);
        if (m->fd < 0) {
            int e = errno;
            log_msg(BC_LOG_ERROR, "monitor: cannot create %s: %s", path, strerror(e));
            wfail_note(path, e);
        }
        free(path);
        strbuf hdr = {0};
        sb_puts(&hdr, "timestamp");
        for (size_t k = 0; k < NCOLS; k++)
            sb_printf(&hdr, ",%s", col_names[k]);
        sb_puts(&hdr, "\n");
        if (m->fd >= 0 && !write_full(m->fd, hdr.buf, hdr.len))
            mon_write_failed(m);
        sb_free(&hdr);
        if (pipe2(m->stop_pipe, O_CLOEXEC) != 0) {
            m->stop_pipe[0] = m->stop_pipe[1] = -1;
            log_msg(BC_LOG_WARN, "monitor: no pipe for host '%s': %s", alias, strerror(errno));
            continue;
        }
        m->started = pthread_create(&m->thread, NULL, mon_thread, m) == 0;
        if (!m->started)
            log_msg(BC_LOG_WARN, "monitor: cannot start the sampler thread of host '%s'", alias);
    }
    free(dir);
    log_msg(BC_LOG_DEBUG, "monitor: sampling %zu host(s) every %lld ms", set->n,
            (long long)c->monitor.interval_ms);
}

/* ---- validation: each CSV through the csv validator, like an output --- */

/* The csv validator's options for a monitor CSV: a metric that was not
 * measured (not asked for, no /proc/pressure, no rate yet) is an empty
 * field, not an error. */
static const char mon_schema_yaml[] = "empty: missing\n";

/* Validate every monitor/<host>.csv against the columns written above,
 * with the same plugin, report and messages as a collected output
 * (collect_check_file).  An invalid file (a row someone else wrote into
 * it) fails the run like an invalid output; the samples stay recorded. */
static void mon_validate(monitor_set *set)
{
    run *r = set->r;
    char *why = NULL;
    plugin *vp = (plugin *)loader_find(r->ld, BC_KIND_VALIDATOR, "csv", &why);
    if (!vp) {
        log_msg(BC_LOG_WARN, "monitor: the CSV files are not validated: %s", why);
        free(why);
        return;
    }
    diag d = {.file = "monitor schema"};
    ytree *t = ytree_parse(mon_schema_yaml, sizeof mon_schema_yaml - 1, &d);
    diag_free(&d);
    cfg_column cols[1 + NCOLS];
    cols[0] = (cfg_column){.name = "timestamp", .type = "timestamp", .format = "unix"};
    for (size_t k = 0; k < NCOLS; k++)
        cols[1 + k] = (cfg_column){.name = col_names[k], .type = "float"};
    cfg_output o = {.name = "monitor",
                    .schema = t ? ytree_root(t) : NULL,
                    .schema_format = "csv",
                    .on_invalid = "fail",
                    .min_rows = 0, /* no rows: the sampler's own warning says why */
                    .columns = cols,
                    .ncolumns = 1 + NCOLS,
                    .validator_plugin = vp};
    for (size_t i = 0; i < set->n; i++) {
        mon_host *m = &set->hosts[i];
        char *abs = path_join(r->dir, m->rel_path);
        bool exists = access(abs, R_OK) == 0;
        free(abs);
        if (!exists)
            continue; /* never created: reported when it was not */
        m->of = (out_file){.path = xstrdup(m->rel_path), .validity = FILE_NOT_VALIDATED};
        if (!collect_check_file(r, "monitor", &o, m->h, &m->of, &why) && !m->of.check.interrupted) {
            log_msg(BC_LOG_ERROR, "host '%s': monitoring: %s", m->h->cfg->alias, why);
            run_fail(r, "host monitoring of '%s': %s", m->h->cfg->alias, why);
        }
        free(why);
        why = NULL;
    }
    ytree_free(t);
}

/* ---- summaries -------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* {n, mean, p95, min, max} of column col over rows with t0 <= t <= t1;
 * NULL when no row has a value. */
static cJSON *mon_col_summary(const mon_host *m, size_t col, double t0, double t1, double *scratch)
{
    size_t n = 0;
    double sum = 0;
    for (size_t i = 0; i < m->nrows; i++) {
        const double *row = m->rows + i * (1 + NCOLS);
        double v = col == NCOLS ? row[1] + row[2] : row[1 + col]; /* NCOLS: cpu busy */
        if (row[0] < t0 || row[0] > t1 || !isfinite(v))
            continue;
        scratch[n++] = v;
        sum += v;
    }
    if (!n)
        return NULL;
    qsort(scratch, n, sizeof *scratch, cmp_double);
    size_t rank = (size_t)ceil(0.95 * (double)n);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n", (double)n);
    cJSON_AddNumberToObject(o, "mean", sum / (double)n);
    cJSON_AddNumberToObject(o, "p95", scratch[rank ? rank - 1 : 0]);
    cJSON_AddNumberToObject(o, "min", scratch[0]);
    cJSON_AddNumberToObject(o, "max", scratch[n - 1]);
    return o;
}

/* The BC_MON_* group of column k (NCOLS: cpu_busy_pct); 0: always shown. */
static uint32_t col_group(size_t k)
{
    if (k < 4 || k == NCOLS)
        return BC_MON_CPU;
    if (k < 7)
        return BC_MON_MEMORY;
    if (k < 9)
        return BC_MON_NETWORK;
    if (k < 11)
        return BC_MON_DISK;
    if (k == 11)
        return BC_MON_LOAD;
    if (k < 15)
        return BC_MON_PRESSURE;
    return 0;
}

static cJSON *host_summary(const mon_host *m, double t0, double t1, uint32_t groups)
{
    cJSON *cols = cJSON_CreateObject();
    double *scratch = xcalloc(m->nrows + 1, sizeof *scratch);
    for (size_t k = 0; k <= NCOLS; k++) {
        if (col_group(k) && !(col_group(k) & groups))
            continue;
        cJSON *s = mon_col_summary(m, k, t0, t1, scratch);
        if (s)
            cJSON_AddItemToObject(cols, k == NCOLS ? "cpu_busy_pct" : col_names[k], s);
    }
    free(scratch);
    return cols;
}

static void add_timestamp(cJSON *o, const char *key, double t)
{
    char buf[64];
    format_rfc3339((int64_t)(t * 1e9), buf, sizeof buf);
    cJSON_AddStringToObject(o, key, buf);
}

static void monitor_plot(monitor_set *set, cJSON *mj);

static void summarise(monitor_set *set)
{
    run *r = set->r;
    const cfg_monitor *cm = &r->cfg->monitor;
    cJSON *mj = cJSON_CreateObject();
    cJSON_AddStringToObject(mj, "sampler", set->p->desc.name);
    cJSON_AddNumberToObject(mj, "interval_ms", (double)cm->interval_ms);
    char *metrics = config_monitor_metric_names(cm->metrics);
    cJSON_AddStringToObject(mj, "metrics", metrics);
    free(metrics);
    cJSON_AddStringToObject(mj, "clock", "controller");
    cJSON *hosts = cJSON_AddObjectToObject(mj, "hosts");
    for (size_t i = 0; i < set->n; i++) {
        mon_host *m = &set->hosts[i];
        cJSON *hj = cJSON_AddObjectToObject(hosts, m->h->cfg->alias);
        cJSON_AddStringToObject(hj, "file", m->rel_path);
        cJSON_AddNumberToObject(hj, "samples", (double)m->nrows);
        if (m->nrows) {
            add_timestamp(hj, "first_sample", m->rows[0]);
            add_timestamp(hj, "last_sample", m->rows[(m->nrows - 1) * (1 + NCOLS)]);
        }
        if (m->error) {
            cJSON_AddStringToObject(hj, "error", m->error);
            add_timestamp(hj, "stopped_at", m->error_at);
        }
        if (m->of.check.checked)
            cJSON_AddItemToObject(hj, "validation", record_check_json(&m->of.check, m->of.validity));
        cJSON_AddItemToObject(hj, "columns", host_summary(m, -INFINITY, INFINITY, cm->metrics));
    }
    /* Per stage, every monitored host over the stage's span. */
    cJSON *stages = cJSON_AddArrayToObject(mj, "stages");
    for (size_t k = 0; k < r->nrecs; k++) {
        const stage_rec *rec = r->recs[k];
        const cfg_stage *st = rec->st;
        if (!rec->start_ns || !rec->end_ns || (st && st->monitor_off))
            continue; /* not run, or `monitor: false` */
        double t0 = (double)rec->start_ns / 1e9, t1 = (double)rec->end_ns / 1e9;
        uint32_t groups = st && st->monitor_metrics ? st->monitor_metrics & cm->metrics
                                                    : cm->metrics;
        cJSON *sj = cJSON_CreateObject();
        cJSON_AddStringToObject(sj, "stage", rec->stage_name);
        if (rec->case_name)
            cJSON_AddStringToObject(sj, "case", rec->case_name);
        cJSON_AddStringToObject(sj, "host", rec->where.host ? rec->where.host : "");
        if (rec->where.node >= 0) /* fan-out: one entry per node */
            cJSON_AddNumberToObject(sj, "node", rec->where.node);
        add_timestamp(sj, "start_time", t0);
        add_timestamp(sj, "end_time", t1);
        cJSON *rh = cJSON_AddObjectToObject(sj, "resources");
        for (size_t i = 0; i < set->n; i++) {
            const char *alias = set->hosts[i].h->cfg->alias;
            bool shown = !st || !st->monitor_hosts;
            for (size_t h = 0; !shown && h < st->nmonitor_hosts; h++)
                shown = strcmp(st->monitor_hosts[h], alias) == 0;
            if (shown) /* a stage's `monitor: {hosts}` narrows it */
                cJSON_AddItemToObject(rh, alias, host_summary(&set->hosts[i], t0, t1, groups));
        }
        cJSON_AddItemToArray(stages, sj);
    }
    monitor_plot(set, mj);
    pthread_mutex_lock(&r->lock);
    cJSON_DeleteItemFromObjectCaseSensitive(r->meta, "monitor");
    cJSON_AddItemToObject(r->meta, "monitor", mj);
    pthread_mutex_unlock(&r->lock);
}

/* ---- the timeline figure: plots/monitor.<fmt> through the plot emitter -- */

static const struct {
    uint32_t bit;
    bc_plot_panel panel;
} panel_of[] = {
    {BC_MON_CPU, {"CPU busy % (user+system)", "cpu_user_pct+cpu_system_pct"}},
    {BC_MON_MEMORY, {"memory used (bytes)", "mem_used_bytes"}},
    {BC_MON_NETWORK, {"network rx+tx (bytes/s)", "net_rx_bps+net_tx_bps"}},
    {BC_MON_DISK, {"disk read+write (bytes/s)", "disk_read_bps+disk_write_bps"}},
    {BC_MON_LOAD, {"load (1 min)", "load1"}},
    {BC_MON_PRESSURE, {"CPU pressure %", "psi_cpu_pct"}},
};

static void monitor_plot(monitor_set *set, cJSON *mj)
{
    run *r = set->r;
    const cfg_monitor *cm = &r->cfg->monitor;
    if (!cm->plot || strcmp(cm->plot, "none") == 0 || run_cancelled(r))
        return; /* like plots[]: not drawn for a run the user stopped */
    char *why = NULL;
    plugin *gp = (plugin *)loader_find(r->ld, BC_KIND_PLOT, "gnuplot", &why);
    if (!gp || gp->desc.abi.abi_minor < 5) {
        log_msg(BC_LOG_WARN, "monitor: no timeline figure: %s", gp ? "the gnuplot plot "
                "plugin is older than ABI 1.5" : why);
        free(why);
        return;
    }
    if (run_plugin_init(gp, r, &why) != BC_OK) {
        log_msg(BC_LOG_WARN, "monitor: no timeline figure: %s", why);
        free(why);
        return;
    }
    bc_plot_series *series = xcalloc(set->n + 1, sizeof *series);
    char **paths = xcalloc(set->n + 1, sizeof *paths);
    size_t ns = 0;
    for (size_t i = 0; i < set->n; i++) {
        if (!set->hosts[i].nrows)
            continue;
        paths[ns] = path_join(r->dir, set->hosts[i].rel_path);
        series[ns] = (bc_plot_series){set->hosts[i].h->cfg->alias, paths[ns], NULL};
        ns++;
    }
    bc_plot_panel panels[ARRAY_LEN(panel_of)];
    size_t np = 0;
    for (size_t i = 0; i < ARRAY_LEN(panel_of); i++)
        if (cm->metrics & panel_of[i].bit)
            panels[np++] = panel_of[i].panel;
    bc_plot_span *spans = xcalloc(r->nrecs + 1, sizeof *spans);
    char **labels = xcalloc(r->nrecs + 1, sizeof *labels);
    size_t nsp = 0;
    for (size_t k = 0; k < r->nrecs; k++) {
        const stage_rec *rec = r->recs[k];
        if (!rec->start_ns || !rec->end_ns)
            continue;
        labels[nsp] = rec->case_name ? xasprintf("%s [%s]", rec->stage_name, rec->case_name)
                                     : xstrdup(rec->stage_name);
        spans[nsp] = (bc_plot_span){labels[nsp], (double)rec->start_ns / 1e9,
                                    (double)rec->end_ns / 1e9};
        nsp++;
    }
    char *pdir = path_join(r->dir, "plots");
    mkdir(pdir, 0777);
    char *base = xasprintf("monitor.%s", cm->plot);
    char *out = path_join(pdir, base);
    char *rel = xasprintf("plots/%s", base);
    char *title = xasprintf("%s: host monitoring (run %s)", r->cfg->name, r->id);
    bc_plot_request req = {.size = sizeof req,
                           .name = "monitor",
                           .title = title,
                           .type = "timeline",
                           .x = "timestamp",
                           .format = cm->plot,
                           .output_path = out,
                           .source_path = ns ? paths[0] : NULL,
                           .across = "hosts",
                           .series = series,
                           .n_series = ns,
                           .panels = panels,
                           .n_panels = np,
                           .spans = spans,
                           .n_spans = nsp};
    if (ns && np) {
        optview v = {gp->desc.options, NULL, NULL, 0};
        core_ctx ctx;
        run_ctx_init(&ctx, gp, &v, r);
        int rc = gp->ops.plot.render(&ctx.pub, &req);
        if (rc == BC_OK) {
            cJSON_AddStringToObject(mj, "plot", rel);
        } else {
            log_msg(BC_LOG_WARN, "monitor: the timeline figure failed: %s",
                    ctx.error[0] ? ctx.error : "no reason given");
            cJSON_AddStringToObject(mj, "plot_error", ctx.error[0] ? ctx.error : "failed");
        }
        opts_free(&v);
    }
    for (size_t i = 0; i < ns; i++)
        free(paths[i]);
    for (size_t i = 0; i < nsp; i++)
        free(labels[i]);
    free(paths);
    free(series);
    free(labels);
    free(spans);
    free(pdir);
    free(base);
    free(out);
    free(rel);
    free(title);
}

void monitor_stop(run *r)
{
    monitor_set *set = r->monitor;
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++) {
        mon_host *m = &set->hosts[i];
        atomic_store(&m->stop, 1);
        if (m->stop_pipe[1] >= 0 && write(m->stop_pipe[1], "x", 1) < 0)
            log_msg(BC_LOG_DEBUG, "monitor: stop pipe: %s", strerror(errno));
    }
    bool abandoned = false;
    for (size_t i = 0; i < set->n; i++) {
        mon_host *m = &set->hosts[i];
        if (!m->started)
            continue;
        /* A sampler that ignores the stop must not hold the run: after
         * MONITOR_STOP_LIMIT_S it is left behind (and its memory kept). */
        struct timespec limit;
        clock_gettime(CLOCK_REALTIME, &limit);
        limit.tv_sec += MONITOR_STOP_LIMIT_S;
        if (pthread_timedjoin_np(m->thread, NULL, &limit) != 0) {
            log_msg(BC_LOG_WARN, "host '%s': the monitor sampler did not stop within %d s; "
                    "left behind", m->h->cfg->alias, MONITOR_STOP_LIMIT_S);
            pthread_detach(m->thread);
            m->started = false;
            abandoned = true;
            pthread_mutex_lock(&m->lock);
            if (!m->error) {
                m->error = xstrdup("the sampler did not stop when the run ended");
                m->error_at = wall_s();
            }
            pthread_mutex_unlock(&m->lock);
        }
    }
    if (abandoned) {
        for (size_t i = 0; i < set->n; i++)
            pthread_mutex_lock(&set->hosts[i].lock); /* no more rows from it */
        mon_validate(set);
        summarise(set);
        r->monitor = NULL; /* the set stays allocated for the abandoned thread */
        return;
    }
    mon_validate(set);
    summarise(set);
    for (size_t i = 0; i < set->n; i++) {
        mon_host *m = &set->hosts[i];
        record_check_free(&m->of.check);
        free(m->of.path);
        if (m->fd >= 0)
            fsync(m->fd);
        if (m->fd >= 0)
            close(m->fd);
        for (int k = 0; k < 2; k++)
            if (m->stop_pipe[k] >= 0)
                close(m->stop_pipe[k]);
        pthread_mutex_destroy(&m->lock);
        free(m->rows);
        free(m->rel_path);
        free(m->error);
    }
    opts_free(&set->opts);
    free(set->hosts);
    free(set);
    r->monitor = NULL;
}
