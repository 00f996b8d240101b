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

static int render_one(struct run *r, const cfg_plot *p, const cfg_output *o,
                      const char *src_abs, const char *out_abs, char *err, size_t err_size)
{
    plugin *pl = (plugin *)p->plugin;
    char *ierr = NULL;
    if (run_plugin_init(pl, r, &ierr) != BC_OK) {
        snprintf(err, err_size, "%s", ierr);
        free(ierr);
        return BC_ERR;
    }
    bc_column *cols = xcalloc((o ? o->ncolumns : 0) + 1, sizeof *cols);
    size_t ncols = 0;
    for (size_t i = 0; o && i < o->ncolumns; i++)
        cols[ncols++] = (bc_column){o->columns[i].name, o->columns[i].type, o->columns[i].format,
                                    o->columns[i].unit};
    bc_plot_request req = {.size = sizeof req, .name = p->name, .title = p->title, .type = p->type,
                           .x = p->x, .y = p->y, .groupby = p->groupby,
                           .aggregation = p->aggregation, .format = p->format,
                           .output_path = out_abs, .source_path = src_abs, .columns = cols,
                           .n_columns = ncols};
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
    if (rc == BC_OK && (stat(out_abs, &st) != 0 || st.st_size == 0)) {
        snprintf(ctx.error, sizeof ctx.error, "the plot engine reported success but wrote no %s",
                 out_abs);
        rc = BC_ERR;
    }
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
} plot_job;

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
    t.rep = f->rep;
    char *rel = layout_plot(p, &t, rec->case_name, f->path, several);
    char *src_abs = path_join(j->run_dir, f->path);
    char *out_abs = path_join(j->run_dir, rel);
    char *dir = dir_name(out_abs);
    mkdir_p(dir, 0755);
    free(dir);
    cJSON *pj = cJSON_CreateObject();
    cJSON_AddStringToObject(pj, "name", p->name);
    cJSON_AddStringToObject(pj, "type", p->type);
    cJSON_AddStringToObject(pj, "engine", p->plugin->desc.name);
    if (rec->case_name)
        cJSON_AddStringToObject(pj, "case", rec->case_name);
    cJSON_AddStringToObject(pj, "source", f->path);
    cJSON_AddStringToObject(pj, "path", rel);
    cJSON_AddItemToArray(j->out, pj);
    char err[1024] = "";
    int64_t t0 = mono_ns();
    int rc;
    if (f->validity == FILE_INVALID) {
        snprintf(err, sizeof err, "its source %s did not pass validation", f->path);
        rc = BC_ERR;
    } else {
        rc = render_one(j->r, p, j->o, src_abs, out_abs, err, sizeof err);
    }
    cJSON_AddNumberToObject(pj, "elapsed_ms", (double)(mono_ns() - t0) / 1e6);
    cJSON_AddStringToObject(pj, "status", rc == BC_OK ? "success" : "failed");
    if (rc != BC_OK) {
        log_msg(BC_LOG_ERROR, "plot '%s' (%s): %s", p->name, rel, err);
        cJSON_AddStringToObject(pj, "error", err);
    } else if (p->export_path) {
        char *exp = path_join(j->c->dir, p->export_path);
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
        sv_push(j->paths, rel);
    free(src_abs);
    free(out_abs);
    free(rel);
    return rc == BC_OK;
}

int plots_render(config *c, const char *run_dir, const stage_rec *const *recs, size_t n,
                 cJSON *out, strvec *drawn, struct run *r)
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
                      .r = r, .out = out, .paths = drawn};
        /* Every collected file of the source: one plot each. */
        for (size_t k = 0; k < n; k++)
            for (size_t oi = 0; oi < recs[k]->noutputs; oi++) {
                const out_rec *o = &recs[k]->outputs[oi];
                if (strcmp(o->output, p->source) != 0)
                    continue;
                for (size_t f = 0; f < o->nfiles; f++)
                    if (!plot_file(&j, recs[k], &o->files[f], several_files(o, o->files[f].rep)))
                        failures++;
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

char *plots_first_failure(const cJSON *plots)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, plots)
    {
        const char *st = cJSON_GetStringValue(cJSON_GetObjectItem(it, "status"));
        if (st && strcmp(st, "failed") == 0)
            return xasprintf("plot '%s' failed: %s",
                             cJSON_GetStringValue(cJSON_GetObjectItem(it, "name")),
                             cJSON_GetStringValue(cJSON_GetObjectItem(it, "error")));
    }
    return NULL;
}
