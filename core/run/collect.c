/*
 * Results of a stage: bring each output's files into the run directory
 * through its collector plugin, validate them with the data_schema's
 * validator plugin, and describe all of it in the stage's record.
 *
 * Where the files go: layout.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/beneath.h"
#include "util/log.h"
#include "analysis/outstats.h"
#include "run/run.h"

#define MAX_RECORDED_ERRORS 20  /* per file, in metadata.json */
#define MAX_PRINTED_ERRORS 10   /* per file, on stderr */

typedef struct collect_state {
    const cfg_output *output;
    strvec files;       /* absolute paths the collector placed */
    file_check *check; /* the current file's report */
    uint64_t nerrors;
    uint64_t first_line; /* the first problem, for the stage's error */
    uint32_t first_column;
    char *first_message;
    const char *rel_path;
    outstats *stats;    /* the output's statistics, or NULL */
    outstats *pooled;   /* a repeated stage: over every repetition, or NULL */
} collect_state;

static void on_file(core_ctx *ctx, const char *output, const char *path)
{
    collect_state *s = ctx->hook_data;
    (void)output;
    sv_push(&s->files, path);
}

static void on_data_error(core_ctx *ctx, const char *path, uint64_t line, uint32_t column,
                          const char *value, const char *message)
{
    collect_state *s = ctx->hook_data;
    (void)path;
    s->nerrors++;
    if (!s->first_message) {
        s->first_line = line;
        s->first_column = column;
        s->first_message = xstrdup(message);
    }
    if (s->nerrors <= MAX_PRINTED_ERRORS)
        log_msg(BC_LOG_ERROR, "%s:%llu:%u: %s%s%s%s", s->rel_path, (unsigned long long)line,
                column, message, value ? " (value '" : "", value ? value : "", value ? "')" : "");
    if (s->nerrors <= MAX_RECORDED_ERRORS)
        record_add_data_error(s->check, line, column, value, message);
}

/* A validator's capped report: n problems it did not report one by one. */
static void on_suppressed(core_ctx *ctx, const char *path, uint64_t n)
{
    collect_state *s = ctx->hook_data;
    (void)path;
    s->nerrors += n;
}

static void on_summary(core_ctx *ctx, const char *column, uint64_t count, double min, double max,
                       double mean)
{
    collect_state *s = ctx->hook_data;
    bool is_string = false;
    for (size_t i = 0; s->output && i < s->output->ncolumns; i++)
        if (s->output->columns[i].name && strcmp(s->output->columns[i].name, column) == 0 &&
            s->output->columns[i].type && strcmp(s->output->columns[i].type, "string") == 0)
            is_string = true;
    record_set_summary(s->check, column, count, count && !is_string, min, max, mean);
    if (s->stats)
        outstats_summary(s->stats, column, count, min, max, mean);
    if (s->pooled)
        outstats_summary(s->pooled, column, count, min, max, mean);
}

static void on_values(core_ctx *ctx, uint32_t column, const double *v, size_t n)
{
    collect_state *s = ctx->hook_data;
    if (s->stats)
        outstats_values(s->stats, column, v, n);
    if (s->pooled)
        outstats_values(s->pooled, column, v, n);
}

static void on_text(core_ctx *ctx, uint32_t column, const char *text, size_t len)
{
    collect_state *s = ctx->hook_data;
    if (s->stats)
        outstats_text(s->stats, column, text, len);
    if (s->pooled)
        outstats_text(s->pooled, column, text, len);
}

static bc_column *columns_of(const cfg_output *o)
{
    bc_column *cols = xcalloc(o->ncolumns + 1, sizeof *cols);
    for (size_t i = 0; i < o->ncolumns; i++)
        cols[i] = (bc_column){o->columns[i].name, o->columns[i].type, o->columns[i].format,
                              o->columns[i].unit};
    return cols;
}

/* Validate one collected file; returns false when it is invalid. */
static bool validate_file(run *r, const cfg_stage *st, const cfg_output *o, hostconn *h,
                          const cfg_case *cs, const char *abs, out_file *of, outstats *stats,
                          outstats *pooled, char **why)
{
    plugin *p = (plugin *)o->validator_plugin;
    const char *rel = of->path;
    char *ierr = NULL;
    file_check *fc = &of->check;
    fc->checked = true;
    fc->format = o->schema_format;
    if (run_plugin_init(p, r, &ierr) != BC_OK) {
        fc->error = xstrdup(ierr);
        *why = ierr;
        return false;
    }
    optview v = {p->desc.options, o->schema, NULL, 0};
    collect_state s = {.output = o, .check = fc, .rel_path = rel, .stats = stats,
                       .pooled = pooled};
    core_ctx ctx;
    run_ctx_init(&ctx, p, &v, r);
    ctx.host = h;
    ctx.stage = st->name;
    ctx.case_name = cs ? cs->name : NULL;
    if (ctx_instance(&ctx, o, &ierr) != BC_OK) {
        opts_free(&v);
        fc->error = xstrdup(ierr);
        *why = ierr;
        return false;
    }
    ctx.on_data_error = on_data_error;
    ctx.on_summary = on_summary;
    ctx.on_values = on_values;
    ctx.on_text = on_text;
    ctx.on_suppressed = on_suppressed;
    ctx.hook_data = &s;
    bc_column *cols = columns_of(o);
    bc_validate_request req = {.size = sizeof req, .path = abs, .columns = cols,
                               .n_columns = o->ncolumns};
    int64_t t0 = mono_ns();
    int rc = p->ops.validator.validate(&ctx.pub, &req);
    if (rc == BC_CANCELLED && stats)
        outstats_set_partial(stats);
    if (rc == BC_CANCELLED && pooled)
        outstats_set_partial(pooled);
    free(cols);
    opts_free(&v);
    fc->read = true;
    for (size_t i = 0; i < fc->nsummary; i++)
        if (fc->summary[i].count > fc->rows)
            fc->rows = fc->summary[i].count;
    bool enough = rc != BC_OK || o->ncolumns == 0 || o->min_rows < 0 ||
                  fc->rows >= (uint64_t)o->min_rows;
    bool valid = rc == BC_OK && s.nerrors == 0 && enough;
    fc->interrupted = rc == BC_CANCELLED; /* not read to the end: neither */
    fc->error_count = s.nerrors;
    fc->elapsed_ms = (double)(mono_ns() - t0) / 1e6;
    if (s.nerrors > MAX_PRINTED_ERRORS)
        log_msg(BC_LOG_ERROR, "%s: %llu more problems not shown (%d are in metadata.json)", rel,
                (unsigned long long)(s.nerrors - MAX_PRINTED_ERRORS), MAX_RECORDED_ERRORS);
    if (valid && o->ncolumns && fc->rows == 0 && o->min_rows < 0)
        log_msg(BC_LOG_WARN, "%s has no data rows (set data_schema.min_rows: 1 to make that an "
                "error)", rel);
    if (!valid) {
        if (!enough)
            *why = xasprintf("%s has %llu data row%s; its data_schema asks for min_rows: %lld",
                             rel, (unsigned long long)fc->rows, fc->rows == 1 ? "" : "s",
                             (long long)o->min_rows);
        else if (s.first_message)
            *why = xasprintf("%s does not match its data_schema: %llu problem%s, the first at line "
                             "%llu, column %u: %s", rel, (unsigned long long)s.nerrors,
                             s.nerrors == 1 ? "" : "s", (unsigned long long)s.first_line,
                             s.first_column, s.first_message);
        else if (rc == BC_CANCELLED)
            *why = xasprintf("reading %s was interrupted: its statistics cover the rows read "
                             "so far (\"partial\" in results.json)", rel);
        else
            *why = xasprintf("%s could not be validated: %s", rel,
                             ctx.error[0] ? ctx.error : "the validator failed");
        fc->error = xstrdup(*why);
    }
    free(s.first_message);
    return valid;
}

bool collect_validate_file(run *r, const cfg_stage *st, const cfg_output *o, hostconn *h,
                           const cfg_case *cs, out_rec *orec, const char *rel,
                           const char *samples_rel, char **why)
{
    out_file *of = record_add_file(orec, rel);
    const plugin *vp = o->validator_plugin;
    outstats *stats = outstats_new(r->dir, o, samples_rel,
                                   vp->desc.abi.abi_major > 1 || vp->desc.abi.abi_minor >= 1);
    char *abs = path_join(r->dir, rel);
    bool valid = validate_file(r, st, o, h, cs, abs, of, stats, NULL, why);
    of->validity = valid ? FILE_VALID : FILE_INVALID;
    cJSON_Delete(orec->statistics);
    orec->statistics = outstats_finish(stats);
    outstats_free(stats);
    free(abs);
    return valid;
}

bool collect_check_file(run *r, const char *what, const cfg_output *o, hostconn *h, out_file *of,
                        char **why)
{
    cfg_stage st = {.name = what};
    char *abs = path_join(r->dir, of->path);
    bool valid = validate_file(r, &st, o, h, NULL, abs, of, NULL, NULL, why);
    of->validity = valid ? FILE_VALID : FILE_INVALID;
    free(abs);
    return valid;
}

/* The context of a collector's call for output o: its plugin initialised,
 * its instance for this output made; BC_ERR with *err (owned) otherwise. */
static int collector_ctx(run *r, const cfg_stage *st, hostconn *h, const cfg_case *cs,
                         const cfg_output *o, optview *v, core_ctx *ctx, char **err)
{
    plugin *cp = (plugin *)o->collector_plugin;
    int rc = run_plugin_init(cp, r, err);
    run_ctx_init(ctx, cp, v, r);
    ctx->host = h;
    ctx->stage = st->name;
    ctx->case_name = cs ? cs->name : NULL;
    if (rc == BC_OK)
        rc = ctx_instance(ctx, o, err);
    return rc;
}

/* A collected file over max bytes is cut to max (a transport that
 * honours the max_file_bytes fact stops copying just past it).  Returns
 * true when the file was cut. */
static bool cut_to_max(const char *abs, int64_t max)
{
    struct stat sb;
    if (max <= 0 || lstat(abs, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size <= max)
        return false;
    int fd = open_beneath(abs, O_WRONLY, 0); /* never through a link */
    if (fd < 0 || ftruncate(fd, (off_t)max) != 0)
        log_msg(BC_LOG_WARN, "cannot cut %s to its max_size: %s", abs, strerror(errno));
    if (fd >= 0)
        close(fd);
    return true;
}

/* Keep the first error of a stage run in *err; msg is consumed. */
static void first_error(char **err, char *msg)
{
    if (!*err)
        *err = msg;
    else
        free(msg);
}

/* The expanded name and remote path of output o, checked; false with the
 * reason recorded in orec and *err. */
static bool output_names(const cfg_stage *st, const cfg_output *o, const strvec *env,
                         out_rec *orec, char **name, char **remote, char **err)
{
    char *xerr = NULL;
    *name = expand_vars(o->name, (const char *const *)env->v, &xerr);
    *remote = *name ? expand_vars(o->remote_path, (const char *const *)env->v, &xerr) : NULL;
    if (!orec->remote_path)
        orec->remote_path = xstrdup(*remote ? *remote : o->remote_path);
    char *msg = NULL;
    if (!*remote)
        msg = xasprintf("stage '%s': output '%s': %s", st->name, o->name, xerr);
    else if (!**name || strchr(*name, '/') || strcmp(*name, "..") == 0 || strcmp(*name, ".") == 0)
        msg = xasprintf("stage '%s': output name '%s' (from '%s') cannot name a file in the run "
                        "directory", st->name, *name, o->name);
    free(xerr);
    if (!msg)
        return true;
    if (!orec->error)
        orec->error = xstrdup(msg);
    first_error(err, msg);
    return false;
}

/* Bring the files of output o in through its collector (their absolute
 * paths into files); false when that failed (orec->error, *err set
 * unless it is only a warning). */
static bool fetch_files(run *r, const cfg_stage *st, hostconn *h, const cfg_case *cs,
                        bool background, const cfg_output *o, const char *name,
                        const char *remote, const char *dest_dir, const char *base,
                        out_rec *orec, strvec *files, char **err)
{
    plugin *cp = (plugin *)o->collector_plugin;
    char *ierr = NULL;
    collect_state s = {0};
    core_ctx ctx;
    optview v = {cp->desc.options, o->node, NULL, 0};
    int rc = collector_ctx(r, st, h, cs, o, &v, &ctx, &ierr);
    ctx.max_bytes = o->max_size;
    ctx.on_file = on_file;
    ctx.hook_data = &s;
    if (rc == BC_OK) {
        bc_collect_request req = {.size = sizeof req, .missing_is_error = !background,
                                  .name = name, .remote_path = remote, .dest_dir = dest_dir,
                                  .dest_base = base};
        rc = cp->ops.collector.collect(&ctx.pub, &req);
    } else {
        snprintf(ctx.error, sizeof ctx.error, "%s", ierr);
        free(ierr);
    }
    opts_free(&v);
    *files = s.files;
    if (rc == BC_OK)
        return true;
    char *msg = xasprintf("stage '%s' on host '%s': output '%s' (%s): %s", st->name,
                          h->cfg->alias, name, remote,
                          ctx.error[0] ? ctx.error : "collection failed");
    if (!orec->error)
        orec->error = xstrdup(msg);
    if (background && rc != BC_CANCELLED) {
        log_msg(BC_LOG_WARN, "%s", msg); /* a monitor's missing file is a warning */
        free(msg);
        return true;
    }
    first_error(err, msg);
    return false;
}

static outstats *stats_for(run *r, const cfg_output *o, const char *name, const target *t,
                           const cfg_case *cs)
{
    if (!o->validator_plugin || !o->ncolumns)
        return NULL;
    char *sdir = layout_samples_dir(name, t, cs);
    const plugin *vp = o->validator_plugin;
    outstats *s = outstats_new(r->dir, o, sdir,
                               vp->desc.abi.abi_major > 1 || vp->desc.abi.abi_minor >= 1);
    free(sdir);
    return s;
}

/* Collect (and validate) one outputs[] entry (index oi) of a stage run on
 * h into the run directory; false when it must fail the stage (*err set
 * once). */
static bool collect_one(run *r, const cfg_stage *st, hostconn *h, const cfg_case *cs,
                        bool background, stage_rec *rec, size_t oi, rep_collect *rc,
                        const strvec *env, const char *dest_dir, char **err)
{
    const cfg_output *o = &st->outputs[oi];
    target t = rec->where;
    t.rep = rc ? rc->rep : 0;
    char *name = NULL, *remote = NULL;
    out_rec *orec = rc ? record_find_output(rec, o->name) : NULL;
    if (!orec) {
        char *xerr = NULL;
        char *shown = expand_vars(o->name, (const char *const *)env->v, &xerr);
        orec = record_add_output(rec, o->name, shown ? shown : o->name);
        free(shown);
        free(xerr);
    }
    if (!output_names(st, o, env, orec, &name, &remote, err)) {
        free(name);
        free(remote);
        return false;
    }
    if (rec->workdir && remote[0] != '/') {
        /* A node's relative paths start in its own working directory. */
        char *abs = path_join(rec->workdir, remote);
        free(remote);
        remote = abs;
    }
    char *base = layout_output_base(name, &t, remote);
    if (t.node >= 0) {
        /* <output>/node-<k><ext>: the directory first */
        char *full = path_join(dest_dir, base);
        char *dir = dir_name(full);
        mkdir_p(dir, 0755);
        free(dir);
        free(full);
    }
    strvec files = {0};
    bool ok = fetch_files(r, st, h, cs, background, o, name, remote, dest_dir, base, orec,
                          &files, err);
    outstats *stats = stats_for(r, o, name, &t, cs);
    if (rc && !rc->pooled[oi])
        rc->pooled[oi] = stats_for(r, o, name, &rec->where, cs);
    for (size_t f = 0; f < files.n; f++) {
        const char *abs = files.v[f];
        size_t dl = strlen(r->dir);
        const char *rel = strncmp(abs, r->dir, dl) == 0 && abs[dl] == '/' ? abs + dl + 1 : abs;
        out_file *of = record_add_file(orec, rel);
        of->rep = t.rep;
        if (cut_to_max(abs, o->max_size)) {
            of->truncated = true;
            char *msg = xasprintf("stage '%s': output '%s': %s is larger than its max_size (%lld "
                                  "bytes); only its first %lld bytes were kept",
                                  st->name, name, rel, (long long)o->max_size,
                                  (long long)o->max_size);
            if (!orec->error)
                orec->error = xstrdup(msg);
            first_error(err, msg);
            ok = false;
            continue; /* a cut file is not validated: its last line is cut too */
        }
        if (!o->validator_plugin)
            continue;
        char *why = NULL;
        bool valid = validate_file(r, st, o, h, cs, abs, of, stats, rc ? rc->pooled[oi] : NULL,
                                   &why);
        of->validity = valid ? FILE_VALID : FILE_INVALID;
        if (!valid && strcmp(o->on_invalid, "warn") == 0) {
            log_msg(BC_LOG_WARN, "stage '%s': %s (on_invalid: warn, the file is kept)", st->name,
                    why);
        } else if (!valid) {
            first_error(err, xasprintf("stage '%s': %s", st->name, why));
            ok = false;
        }
        free(why);
    }
    if (stats && rc) {
        orec->reps = xrealloc(orec->reps, (orec->nreps + 1) * sizeof *orec->reps);
        orec->reps[orec->nreps++] = (rep_stats){.rep = rc->rep, .statistics = outstats_finish(stats)};
    } else if (stats) {
        orec->statistics = outstats_finish(stats);
    }
    outstats_free(stats);
    sv_free(&files);
    free(base);
    free(name);
    free(remote);
    return ok;
}

bool collect_outputs(run *r, const cfg_stage *st, hostconn *h, const cfg_case *cs,
                     bool background, stage_rec *rec, rep_collect *rc, char **err)
{
    if (st->noutputs == 0)
        return true;
    rec->collected = true;
    if (rc && !rc->pooled)
        rc->pooled = xcalloc(st->noutputs, sizeof *rc->pooled);
    strvec env = {0};
    run_build_env(r, st->name, h->cfg->alias, cs, &env);
    fanout_node_env(rec, &env);
    bool ok = true;
    target t = rec->where;
    t.rep = rc ? rc->rep : 0;
    char *dest_rel = layout_output_dir(cs, &t);
    char *dest_dir = path_join(r->dir, dest_rel);
    free(dest_rel);
    mkdir_p(dest_dir, 0755);
    /* The nodes of a fanned-out stage that share a host fetch their files
     * one at a time: one transfer at a time per connection (the SSH
     * transport's file transfers do not overlap safely yet). */
    if (rec->where.node >= 0)
        pthread_mutex_lock(&h->collect_lock);
    for (size_t i = 0; i < st->noutputs; i++)
        if (!collect_one(r, st, h, cs, background, rec, i, rc, &env, dest_dir, err))
            ok = false;
    if (rec->where.node >= 0)
        pthread_mutex_unlock(&h->collect_lock);
    free(dest_dir);
    sv_free(&env);
    return ok;
}

void collect_pooled_finish(const cfg_stage *st, stage_rec *rec, rep_collect *rc)
{
    if (!rc->pooled)
        return;
    for (size_t i = 0; i < st->noutputs; i++) {
        if (!rc->pooled[i])
            continue;
        out_rec *orec = record_find_output(rec, st->outputs[i].name);
        if (orec && !orec->statistics)
            orec->statistics = outstats_finish(rc->pooled[i]);
        outstats_free(rc->pooled[i]);
    }
    free(rc->pooled);
    rc->pooled = NULL;
}
