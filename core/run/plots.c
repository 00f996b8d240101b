/*
 * Plots: draw every plots[] entry from the files a run collected, through
 * the plot emitter plugins.  Used at the end of `benchctl run` and by
 * `benchctl plot ID` to redraw a stored run.
 *
 * Files: <run>/plots/[<case>/]<plot>[__<host>][__<file>].<format>, plus a
 * copy at export_path when given.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/log.h"
#include "run/plots.h"
#include "run/run.h"
#include "util/beneath.h"

static const cfg_output *find_output(const config *c, const char *name)
{
    for (size_t i = 0; i < c->nstages; i++)
        for (size_t j = 0; j < c->stages[i].noutputs; j++)
            if (strcmp(c->stages[i].outputs[j].name, name) == 0)
                return &c->stages[i].outputs[j];
    return NULL;
}

static bool copy_file(const char *from, const char *to)
{
    size_t len;
    char *data = read_file(from, &len);
    if (!data)
        return false;
    char *dir = dir_name(to);
    mkdir_p(dir, 0755);
    free(dir);
    bool ok = write_file_atomic(to, data, len, false);
    free(data);
    return ok;
}

/* What one plot is drawn from: one file, or (across: cases) one series per
 * case; the title and labels already expanded. */
typedef struct plot_in {
    const char *src_abs;
    const bc_plot_series *series;
    size_t nseries;
    const char *title, *xlabel, *ylabel;
} plot_in;

static void fill_request(bc_plot_request *req, const cfg_plot *p, const plot_in *in)
{
    uint32_t f = 0;
    f |= p->log_x ? BC_PLOT_LOG_X : 0;
    f |= p->log_y ? BC_PLOT_LOG_Y : 0;
    f |= p->xlim_set[0] ? BC_PLOT_XLO : 0;
    f |= p->xlim_set[1] ? BC_PLOT_XHI : 0;
    f |= p->ylim_set[0] ? BC_PLOT_YLO : 0;
    f |= p->ylim_set[1] ? BC_PLOT_YHI : 0;
    f |= p->x_is_param ? BC_PLOT_X_PARAM : 0;
    req->flags = f;
    memcpy(req->xlim, p->xlim, sizeof req->xlim);
    memcpy(req->ylim, p->ylim, sizeof req->ylim);
    req->title = in->title;
    req->xlabel = in->xlabel;
    req->ylabel = in->ylabel;
    req->x_axis = p->x_axis;
    req->across = p->across;
    req->series = in->series;
    req->n_series = in->nseries;
}

static int render_one(struct run *r, const cfg_plot *p, const cfg_output *o, const plot_in *in,
                      const char *out_abs, char *err, size_t err_size)
{
    plugin *pl = (plugin *)p->plugin;
    char *ierr = NULL;
    if (run_plugin_init(pl, r, &ierr) != BC_OK) {
        snprintf(err, err_size, "%s", ierr);
        free(ierr);
        return BC_ERR;
    }
    /* The engine writes into a fresh directory benchctl made; the plot is
     * moved into place after (no link planted in the run directory is
     * written through: util/beneath.h). */
    beneath_put bp;
    if (!beneath_put_begin(&bp, out_abs, &ierr)) {
        snprintf(err, err_size, "%s", ierr);
        free(ierr);
        return BC_ERR;
    }
    bc_column *cols = xcalloc((o ? o->ncolumns : 0) + 1, sizeof *cols);
    size_t ncols = 0;
    for (size_t i = 0; o && i < o->ncolumns; i++)
        cols[ncols++] = (bc_column){o->columns[i].name, o->columns[i].type, o->columns[i].format,
                                    o->columns[i].unit};
    bc_plot_request req = {.size = sizeof req, .name = p->name, .type = p->type,
                           .x = p->x, .y = p->y, .groupby = p->groupby,
                           .aggregation = p->aggregation, .format = p->format,
                           .output_path = bp.path, .source_path = in->src_abs, .columns = cols,
                           .n_columns = ncols};
    fill_request(&req, p, in);
    optview v = {pl->desc.options, p->options, NULL, 0};
    core_ctx ctx;
    run_ctx_init(&ctx, pl, &v, r);
    int rc = ctx_instance(&ctx, p, &ierr);
    if (rc == BC_OK)
        rc = pl->ops.plot.render(&ctx.pub, &req);
    else {
        snprintf(ctx.error, sizeof ctx.error, "%s", ierr);
        free(ierr);
    }
    struct stat st;
    if (rc == BC_OK && (stat(bp.path, &st) != 0 || st.st_size == 0)) {
        snprintf(ctx.error, sizeof ctx.error, "the plot engine reported success but wrote no %s",
                 out_abs);
        rc = BC_ERR;
    }
    if (rc == BC_OK && !beneath_put_commit(&bp, &ierr)) {
        snprintf(ctx.error, sizeof ctx.error, "%s", ierr);
        free(ierr);
        rc = BC_ERR;
    }
    beneath_put_end(&bp);
    if (rc != BC_OK)
        snprintf(err, err_size, "%s", ctx.error[0] ? ctx.error : "the plot engine failed");
    opts_free(&v);
    free(cols);
    return rc;
}

/* The source file's plot: its record in `out`, the drawing, the export. */
typedef struct plot_job {
    config *c;
    const cfg_plot *p;
    const cfg_output *o;
    const char *run_dir;
    struct run *r;
    cJSON *out;
    strvec *paths; /* plots drawn, when asked */
    size_t drawn; /* files drawn so far for this plot */
    plots_dest *dest; /* NULL: the run's plots/, replacing files */
    char **first_failure; /* "plot 'x' failed: why" of the first failure */
} plot_job;

/* The absolute file of run-relative plot path rel ("plots/..."). */
static char *plot_abs(const plot_job *j, const char *rel)
{
    if (!j->dest || !j->dest->dir)
        return path_join(j->run_dir, rel);
    const char *sub = strncmp(rel, "plots/", 6) == 0 ? rel + 6 : rel;
    return path_join(j->dest->dir, sub);
}

/* Draw one plot into rel (run-relative) and record it in j->out; `pj`
 * already names what it is drawn from.  False when the plot failed. */
static bool draw_plot(plot_job *j, cJSON *pj, const char *rel, const plot_in *in,
                      const char *invalid)
{
    const cfg_plot *p = j->p;
    char *out_abs = plot_abs(j, rel);
    char *dir = dir_name(out_abs);
    mkdir_p(dir, 0755);
    free(dir);
    cJSON_AddStringToObject(pj, "path", j->dest && j->dest->dir ? out_abs : rel);
    cJSON_AddItemToArray(j->out, pj);
    char err[1024] = "";
    int64_t t0 = mono_ns();
    int rc;
    struct stat st;
    if (j->dest && !j->dest->force && lstat(out_abs, &st) == 0) {
        fprintf(stderr, "benchctl plot: %s exists; give --force to replace it, or --out DIR to "
                        "draw elsewhere\n", out_abs);
        cJSON_AddStringToObject(pj, "status", "refused");
        j->dest->refused++;
        j->drawn++;
        free(out_abs);
        return true;
    }
    if (invalid) {
        snprintf(err, sizeof err, "its source %s did not pass validation", invalid);
        rc = BC_ERR;
    } else {
        rc = render_one(j->r, p, j->o, in, out_abs, err, sizeof err);
    }
    cJSON_AddNumberToObject(pj, "elapsed_ms", (double)(mono_ns() - t0) / 1e6);
    cJSON_AddStringToObject(pj, "status", rc == BC_OK ? "success" : "failed");
    if (rc != BC_OK) {
        log_msg(BC_LOG_ERROR, "plot '%s' (%s): %s", p->name, rel, err);
        cJSON_AddStringToObject(pj, "error", err);
        if (j->first_failure && !*j->first_failure)
            *j->first_failure = xasprintf("plot '%s' failed: %s", p->name, err);
    } else if (p->export_path) {
        char *exp = path_join(j->c->plots_dir ? j->c->plots_dir : j->c->dir, p->export_path);
        if (j->drawn > 0) { /* several files: number the copies */
            char *e2 = xasprintf("%s.%zu", exp, j->drawn);
            free(exp);
            exp = e2;
        }
        if (copy_file(out_abs, exp))
            cJSON_AddStringToObject(pj, "export_path", exp);
        else
            log_msg(BC_LOG_WARN, "plot '%s': cannot copy to %s: %s", p->name, exp,
                    strerror(errno));
        free(exp);
    }
    j->drawn++;
    if (rc == BC_OK && j->paths)
        sv_push(j->paths, out_abs);
    free(out_abs);
    return rc == BC_OK;
}

static cJSON *plot_record(const cfg_plot *p)
{
    cJSON *pj = cJSON_CreateObject();
    cJSON_AddStringToObject(pj, "name", p->name);
    cJSON_AddStringToObject(pj, "type", p->type);
    cJSON_AddStringToObject(pj, "engine", p->plugin->desc.name);
    return pj;
}

/* Does the output have several files in repetition rep (one plot each)? */
static bool several_files(const out_rec *o, int rep)
{
    size_t n = 0;
    for (size_t f = 0; f < o->nfiles; f++)
        n += o->files[f].rep == rep;
    return n > 1;
}

/* Draw one file of one output; false when the plot failed. */
static bool plot_file(plot_job *j, const stage_rec *rec, const out_file *f, bool several)
{
    const cfg_plot *p = j->p;
    target t = rec->where;
    t.rep = f->rep; /* a repetition's files: plots/[<case>/]rep-<n>/ */
    char *rel = layout_plot(p, &t, rec->case_name, f->path, several);
    char *src_abs = path_join(j->run_dir, f->path);
    cJSON *pj = plot_record(p);
    if (rec->case_name)
        cJSON_AddStringToObject(pj, "case", rec->case_name);
    cJSON_AddStringToObject(pj, "source", f->path);
    const cfg_case *cs[1] = {rec->cs};
    size_t ncs = rec->cs ? 1 : 0;
    char *title = config_expand_plot_text(p->title, cs, ncs);
    char *xl = config_expand_plot_text(p->xlabel, cs, ncs);
    char *yl = config_expand_plot_text(p->ylabel, cs, ncs);
    plot_in in = {.src_abs = src_abs, .title = title, .xlabel = xl, .ylabel = yl};
    bool ok = draw_plot(j, pj, rel, &in, f->validity == FILE_INVALID ? f->path : NULL);
    free(title);
    free(xl);
    free(yl);
    free(src_abs);
    free(rel);
    return ok;
}

/* The value of matrix parameter `param` in a case, and the case's name
 * without it ("v1" of "v1,concurrency=10"): from the case, or else from
 * its stored name. */
static char *param_split(const stage_rec *rec, const char *param, char **rest)
{
    const char *name = rec->case_name ? rec->case_name : "";
    strbuf sb = {0};
    sb_puts(&sb, "");
    char *value = NULL;
    size_t plen = strlen(param);
    for (const char *s = name; *s;) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (!value && n > plen && strncmp(s, param, plen) == 0 && s[plen] == '=') {
            value = xstrndup(s + plen + 1, n - plen - 1);
        } else {
            if (sb.len)
                sb_puts(&sb, ",");
            sb_add(&sb, s, n);
        }
        s += n + (e ? 1 : 0);
    }
    *rest = sb_steal(&sb);
    return value;
}

typedef struct across_set {
    bc_plot_series *series;
    char **owned;
    const cfg_case **cases;
    size_t n, nowned, ncases;
    strvec sources;
    char *invalid; /* the first source that did not pass validation */
} across_set;

static void across_add_file(plot_job *j, across_set *a, const stage_rec *rec, const out_file *f,
                            bool tag_host, bool tag_file)
{
    const cfg_plot *p = j->p;
    if (f->validity == FILE_INVALID) {
        log_msg(BC_LOG_WARN, "plot '%s': leaving out %s: it did not pass validation", p->name,
                f->path);
        if (!a->invalid)
            a->invalid = xstrdup(f->path);
        return;
    }
    char *xv = NULL, *rest = NULL;
    if (p->x_is_param) {
        xv = param_split(rec, p->x, &rest);
        if (!xv) {
            log_msg(BC_LOG_WARN, "plot '%s': leaving out %s: its case '%s' has no matrix "
                    "parameter '%s'", p->name, f->path, rec->case_name ? rec->case_name : "",
                    p->x);
            free(rest);
            return;
        }
    }
    strbuf sb = {0};
    sb_puts(&sb, p->x_is_param ? (*rest ? rest : p->y) : rec->case_name ? rec->case_name
                                                                         : p->source);
    if (tag_host && rec->where.host)
        sb_printf(&sb, " @%s", rec->where.host);
    if (tag_file) {
        const char *b = strrchr(f->path, '/');
        sb_printf(&sb, " %s", b ? b + 1 : f->path);
    }
    free(rest);
    char *label = sb_steal(&sb), *src = path_join(j->run_dir, f->path);
    a->series = xrealloc(a->series, (a->n + 1) * sizeof *a->series);
    a->series[a->n++] = (bc_plot_series){label, src, xv};
    a->owned = xrealloc(a->owned, (a->nowned + 3) * sizeof *a->owned);
    a->owned[a->nowned++] = label;
    a->owned[a->nowned++] = src;
    if (xv)
        a->owned[a->nowned++] = xv;
    sv_push(&a->sources, f->path);
    bool seen = false;
    for (size_t i = 0; rec->cs && i < a->ncases; i++)
        seen = seen || a->cases[i] == rec->cs;
    if (rec->cs && !seen) {
        a->cases = xrealloc(a->cases, (a->ncases + 1) * sizeof *a->cases);
        a->cases[a->ncases++] = rec->cs;
    }
}

/* across: cases — one plot, a series per collected file of every case. */
static bool plot_across(plot_job *j, const stage_rec *const *recs, size_t n)
{
    const cfg_plot *p = j->p;
    across_set a = {0};
    bool several_hosts = false, several_files = false;
    for (size_t k = 0; k < n; k++)
        for (size_t oi = 0; oi < recs[k]->noutputs; oi++)
            if (strcmp(recs[k]->outputs[oi].output, p->source) == 0) {
                several_hosts = several_hosts || recs[k]->where.tagged;
                several_files = several_files || recs[k]->outputs[oi].nfiles > 1;
            }
    for (size_t k = 0; k < n; k++)
        for (size_t oi = 0; oi < recs[k]->noutputs; oi++) {
            const out_rec *o = &recs[k]->outputs[oi];
            if (strcmp(o->output, p->source) != 0)
                continue;
            for (size_t f = 0; f < o->nfiles; f++)
                across_add_file(j, &a, recs[k], &o->files[f], several_hosts, several_files);
        }
    bool ok = true;
    if (a.n > 0 || a.invalid) {
        cJSON *pj = plot_record(p);
        cJSON_AddStringToObject(pj, "across", "cases");
        cJSON *srcs = cJSON_AddArrayToObject(pj, "sources");
        for (size_t i = 0; i < a.sources.n; i++)
            cJSON_AddItemToArray(srcs, cJSON_CreateString(a.sources.v[i]));
        char *title = config_expand_plot_text(p->title, a.cases, a.ncases);
        char *xl = config_expand_plot_text(p->xlabel, a.cases, a.ncases);
        char *yl = config_expand_plot_text(p->ylabel, a.cases, a.ncases);
        plot_in in = {.src_abs = a.n ? a.series[0].source_path : NULL, .series = a.series,
                      .nseries = a.n, .title = title, .xlabel = xl, .ylabel = yl};
        target none = {.node = -1};
        char *rel = layout_plot(p, &none, NULL, NULL, false);
        ok = draw_plot(j, pj, rel, &in, a.n ? NULL : a.invalid);
        free(rel);
        free(title);
        free(xl);
        free(yl);
    }
    for (size_t i = 0; i < a.nowned; i++)
        free(a.owned[i]);
    free(a.owned);
    free(a.series);
    free(a.cases);
    free(a.invalid);
    sv_free(&a.sources);
    return ok;
}

int plots_render(config *c, const char *run_dir, const stage_rec *const *recs, size_t n,
                 cJSON *out, strvec *drawn, struct run *r, plots_dest *dest,
                 char **first_failure)
{
    int failures = 0;
    bool told_engine = false;
    for (size_t i = 0; i < c->nplots; i++) {
        const cfg_plot *p = &c->plots[i];
        if (p->engine && (strcmp(p->engine, "seaborn") == 0 || strcmp(p->engine, "gonum") == 0) &&
            !told_engine) {
            log_msg(BC_LOG_INFO, "plots with engine '%s' are drawn by gnuplot", p->engine);
            told_engine = true;
        }
        plot_job j = {.c = c, .p = p, .o = find_output(c, p->source), .run_dir = run_dir,
                      .r = r, .out = out, .paths = drawn, .dest = dest,
                      .first_failure = first_failure};
        if (p->across) {
            if (!plot_across(&j, recs, n))
                failures++;
        } else {
            /* Every collected file of the source: one plot each. */
            for (size_t k = 0; k < n; k++)
                for (size_t oi = 0; oi < recs[k]->noutputs; oi++) {
                    const out_rec *o = &recs[k]->outputs[oi];
                    if (strcmp(o->output, p->source) != 0)
                        continue;
                    for (size_t f = 0; f < o->nfiles; f++)
                        if (!plot_file(&j, recs[k], &o->files[f],
                                       several_files(o, o->files[f].rep)))
                            failures++;
                }
        }
        if (j.drawn == 0) {
            log_msg(BC_LOG_WARN, "plot '%s': nothing to draw: no file of output '%s' was collected",
                    p->name, p->source);
            cJSON *pj = cJSON_CreateObject();
            cJSON_AddStringToObject(pj, "name", p->name);
            cJSON_AddStringToObject(pj, "status", "skipped");
            cJSON_AddStringToObject(pj, "error", "no data: the source output was not collected");
            cJSON_AddItemToArray(out, pj);
        }
    }
    return failures;
}

