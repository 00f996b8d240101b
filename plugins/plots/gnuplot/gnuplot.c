/*
 * Plot emitter "gnuplot": draws one plots[] entry from a CSV file with
 * gnuplot, driven over a pipe.
 *
 * The data file is read twice, streaming, in bounded memory:
 *   pass 1  counts rows per group/category, finds the ranges, resolves
 *           undeclared column types;
 *   pass 2  collects what will be drawn: sampled and decimated points (time
 *           series, scatter), per-bucket aggregates, or a bounded uniform
 *           sample of values per series (histogram, cdf, boxplot).
 * Then gnuplot is started, the script and the data (datablocks) are written
 * to its stdin, and its output file is renamed into place once it exited
 * cleanly.  The passes and the series they build are in gp_passes.c.
 * See README.md for the semantics of every option.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gp.h"

static const char *const type_names[] = {"time_series", "histogram", "boxplot", "cdf",
                                         "scatter"};

/* ---- options ------------------------------------------------------------ */

static const bc_option options[] = {
    {.name = "style", .type = BC_OPT_ENUM, .default_value = "whitegrid",
     .choices = "whitegrid|darkgrid|white|dark|ticks", .min = 1, .max = 0,
     .help = "seaborn-like theme: whitegrid/darkgrid draw a grid, dark/darkgrid a grey "
             "background, ticks outward tick marks"},
    {.name = "dpi", .type = BC_OPT_INT, .default_value = "150", .min = 10, .max = 2400,
     .help = "dots per inch: scales fonts and lines; PDF pages are width_px/dpi inches wide"},
    {.name = "width_px", .type = BC_OPT_INT, .default_value = "1200", .min = 100, .max = 20000,
     .help = "image width in pixels"},
    {.name = "height_px", .type = BC_OPT_INT, .default_value = "600", .min = 100, .max = 20000,
     .help = "image height in pixels"},
    {.name = "x_label_angle", .type = BC_OPT_FLOAT, .default_value = "0", .min = -90, .max = 90,
     .help = "rotation of the x tick labels in degrees, counter-clockwise"},
    {.name = "x_timestamp_format", .type = BC_OPT_ENUM, .default_value = "auto",
     .choices = "auto|full|medium|short", .min = 1, .max = 0,
     .help = "time tick labels: full %Y-%m-%d %H:%M:%S, medium %H:%M:%S, short %M:%S, "
             "auto full when the data spans a day or more, else medium (UTC)"},
    {.name = "bins", .type = BC_OPT_INT, .default_value = "16", .min = 1, .max = 10000,
     .help = "histogram bins (equal width, shared by all groups)"},
    {.name = "legend", .type = BC_OPT_BOOL, .default_value = "true", .min = 1, .max = 0,
     .help = "show the legend (it is shown when there are several series, or when set)"},
    {.name = "legend_loc", .type = BC_OPT_ENUM, .default_value = "best",
     .choices = "best|upper right|upper left|lower left|lower right|right|center left|"
                "center right|lower center|upper center|center|outside right|outside bottom|"
                "0|1|2|3|4|5|6|7|8|9|10",
     .min = 1, .max = 0,
     .help = "legend position, as matplotlib names it (best: the corner with the least data)"},
    {.name = "max_points", .type = BC_OPT_INT, .default_value = "0", .min = 0, .max = 1e12,
     .help = "time_series/scatter: sample at most this many rows (0: all); with aggregation: "
             "at most this many buckets"},
    {.name = "sampling", .type = BC_OPT_ENUM, .default_value = "stride",
     .choices = "stride|uniform|random|minmax", .min = 1, .max = 0,
     .help = "how max_points samples: stride (every k-th row; uniform is the same), random "
             "(uniform random rows), minmax (smallest and largest y per x bucket)"},
    {.name = "random_state", .type = BC_OPT_INT, .default_value = "0", .min = 1, .max = 0,
     .help = "seed of random sampling (sampling: random, max_rows, large files)"},
    {.name = "max_rows", .type = BC_OPT_INT, .default_value = "0", .min = 0, .max = 1e12,
     .help = "histogram/boxplot/cdf: use a uniform random sample of at most this many rows "
             "(0: all, up to 2,000,000 values)"},
    {.name = "hist_element", .type = BC_OPT_ENUM, .choices = "bars|step|poly", .min = 1,
     .max = 0,
     .help = "histogram drawing: bars, step (outline) or poly (polygon through bin centers); "
             "default bars, step with groupby"},
    {.name = "hist_common_norm", .type = BC_OPT_BOOL, .default_value = "false", .min = 1,
     .max = 0,
     .help = "grouped histograms: fractions of all rows (true) or of each group's rows"},
    {.name = "keep_script", .type = BC_OPT_BOOL, .default_value = "false", .min = 1, .max = 0,
     .help = "also write the gnuplot script (with its data) beside the plot, as <plot>.gp"},
    {.name = "gnuplot_path", .type = BC_OPT_STRING, .min = 1, .max = 0,
     .help = "the gnuplot program to run (default: gnuplot from PATH)"},
    {0},
};

void gp_read_opts(bc_ctx *ctx, gp_opts *o)
{
    const bc_services *s = ctx->svc;
    o->dpi = s->opt_int(ctx, "dpi");
    o->width_px = s->opt_int(ctx, "width_px");
    o->height_px = s->opt_int(ctx, "height_px");
    o->x_label_angle = s->opt_float(ctx, "x_label_angle");
    o->x_timestamp_format = s->opt_string(ctx, "x_timestamp_format");
    o->bins = s->opt_int(ctx, "bins");
    o->legend = s->opt_bool(ctx, "legend");
    o->legend_set = s->opt_is_set(ctx, "legend");
    o->legend_loc = s->opt_string(ctx, "legend_loc");
    o->max_points = s->opt_int(ctx, "max_points");
    o->sampling = s->opt_string(ctx, "sampling");
    o->random_state = s->opt_int(ctx, "random_state");
    o->max_rows = s->opt_int(ctx, "max_rows");
    o->style = s->opt_string(ctx, "style");
    o->hist_element = s->opt_is_set(ctx, "hist_element") ? s->opt_string(ctx, "hist_element")
                                                         : NULL;
    o->hist_common_norm = s->opt_bool(ctx, "hist_common_norm");
    o->keep_script = s->opt_bool(ctx, "keep_script");
    /* The core validated ranges; a fake or older core may not have. */
    if (o->dpi < 10)
        o->dpi = 150;
    if (o->width_px < 100)
        o->width_px = 1200;
    if (o->height_px < 100)
        o->height_px = 600;
    if (o->bins < 1)
        o->bins = 16;
    if (o->max_points < 0)
        o->max_points = 0;
    if (o->max_rows < 0)
        o->max_rows = 0;
    if (!o->sampling)
        o->sampling = "stride";
}

/* ---- columns ------------------------------------------------------------ */

static const bc_column *declared(const bc_plot_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_columns; i++)
        if (req->columns[i].name && strcmp(req->columns[i].name, name) == 0)
            return &req->columns[i];
    return NULL;
}

/* Set up a column from its declaration (or for inference). */
static int setup_col(bc_ctx *ctx, const bc_plot_request *req, gp_col *c, const char *name,
                     bool category)
{
    memset(c, 0, sizeof *c);
    c->index = -1;
    c->name = name;
    c->scale = 1;
    const bc_column *d = declared(req, name);
    c->declared = d != NULL;
    c->unit = d ? d->unit : NULL;
    if (category) {
        c->mode = VM_STRING;
        return BC_OK;
    }
    if (!d || !d->type) {
        c->mode = VM_AUTO;
        return BC_OK;
    }
    if (strcmp(d->type, "integer") == 0 || strcmp(d->type, "float") == 0) {
        c->mode = VM_NUMBER;
        c->is_int = strcmp(d->type, "integer") == 0;
        return BC_OK;
    }
    if (strcmp(d->type, "string") == 0) {
        bc_error(ctx, "plot '%s': column '%s' is declared as a string; a %s plot needs numbers "
                      "or timestamps there",
                 req->name, name, req->type);
        return BC_ERR;
    }
    if (strcmp(d->type, "timestamp") != 0) {
        bc_error(ctx, "plot '%s': column '%s' has an unknown type '%s'", req->name, name,
                 d->type);
        return BC_ERR;
    }
    c->is_time = true;
    const char *f = d->format && *d->format ? d->format : NULL;
    const char *u = d->unit && *d->unit ? d->unit : NULL;
    if (!f || strcmp(f, "unix") == 0) {
        /* No format, or plain unix: the unit says the scale (as the Go tool
         * did); no unit: detected per value. */
        double scale = 0;
        if (u && strcmp(u, "s") == 0)
            scale = 1;
        else if (u && strcmp(u, "ms") == 0)
            scale = 1e-3;
        else if (u && strcmp(u, "us") == 0)
            scale = 1e-6;
        else if (u && strcmp(u, "ns") == 0)
            scale = 1e-9;
        else if (f)
            scale = 1;
        if (scale > 0) {
            c->mode = VM_EPOCH;
            c->scale = scale;
        } else {
            c->mode = VM_AUTO_TIME;
        }
    } else if (strcmp(f, "unix_ms") == 0) {
        c->mode = VM_EPOCH;
        c->scale = 1e-3;
    } else if (strcmp(f, "unix_us") == 0) {
        c->mode = VM_EPOCH;
        c->scale = 1e-6;
    } else if (strcmp(f, "unix_ns") == 0) {
        c->mode = VM_EPOCH;
        c->scale = 1e-9;
    } else if (strcmp(f, "rfc3339") == 0 || strcmp(f, "rfc3339_nano") == 0 ||
               strcmp(f, "iso8601") == 0) {
        c->mode = VM_TEXT_TIME;
    } else {
        bc_error(ctx, "plot '%s': column '%s' has an unknown timestamp format '%s' (expected "
                      "unix, unix_ms, unix_us, unix_ns, rfc3339, rfc3339_nano or iso8601)",
                 req->name, name, f);
        return BC_ERR;
    }
    return BC_OK;
}

static int find_col(bc_ctx *ctx, const bc_plot_request *req, gp_csv *csv, gp_col *c,
                    const char *role)
{
    for (size_t i = 0; i < gp_csv_ncols(csv); i++)
        if (strcmp(gp_csv_colname(csv, i), c->name) == 0) {
            c->index = (int)i;
            return BC_OK;
        }
    char list[1024];
    size_t o = 0;
    list[0] = '\0';
    for (size_t i = 0; i < gp_csv_ncols(csv) && o + 8 < sizeof list; i++) {
        int n = snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "",
                         gp_csv_colname(csv, i));
        o = n > 0 && (size_t)n < sizeof list - o ? o + (size_t)n : sizeof list - 1;
    }
    bc_error(ctx, "plot '%s': column '%s' (%s) is not in %s; its columns are: %s", req->name,
             c->name, role, req->source_path, list);
    return BC_ERR;
}

/* ---- the render operation ----------------------------------------------- */

static bool has_col(gp_csv *csv, const char *name)
{
    for (size_t i = 0; i < gp_csv_ncols(csv); i++)
        if (strcmp(gp_csv_colname(csv, i), name) == 0)
            return true;
    return false;
}

static int col_index(job *j, const char *name, const char *role, int *out)
{
    gp_col tmp = {.name = name, .index = -1};
    if (find_col(j->ctx, j->req, j->csv, &tmp, role) != BC_OK)
        return BC_ERR;
    *out = tmp.index;
    return BC_OK;
}

static int prepare(job *j)
{
    const bc_plot_request *req = j->req;
    bc_ctx *ctx = j->ctx;
    j->type = -1;
    for (int i = 0; i < 5; i++)
        if (req->type && strcmp(req->type, type_names[i]) == 0)
            j->type = i;
    if (j->type < 0) {
        bc_error(ctx, "plot '%s': unknown plot type '%s' (expected time_series, histogram, "
                      "boxplot, cdf or scatter)",
                 j->name, req->type ? req->type : "");
        return BC_ERR;
    }
    if (!req->output_path || !*req->output_path || !req->source_path || !*req->source_path) {
        bc_error(ctx, "plot '%s': the request has no %s", j->name,
                 req->source_path && *req->source_path ? "output path" : "source file");
        return BC_ERR;
    }
    gp_read_opts(ctx, &j->o);
    const char *x = req->x && *req->x ? req->x : NULL;
    const char *y = req->y && *req->y ? req->y : NULL;
    const char *g = req->groupby && *req->groupby ? req->groupby : NULL;
    const char *num0 = NULL, *num1 = NULL;
    switch (j->type) {
    case T_TS:
    case T_SCATTER:
        if (!x || !y) {
            bc_error(ctx, "plot '%s': a %s plot needs both x and y", j->name, req->type);
            return BC_ERR;
        }
        num0 = x;
        num1 = y;
        j->group_name = g;
        break;
    case T_HIST:
    case T_CDF:
        if (!x && !y) {
            bc_error(ctx, "plot '%s': a %s plot needs x (the column to count)", j->name,
                     req->type);
            return BC_ERR;
        }
        num0 = x ? x : y;
        j->group_name = g;
        break;
    default: /* boxplot */
        if (!y) {
            bc_error(ctx, "plot '%s': a boxplot needs y (the values)", j->name);
            return BC_ERR;
        }
        num1 = y;
        j->cat_name = x ? x : g;
        j->group_name = x ? g : NULL;
        break;
    }
    if (num0 && setup_col(ctx, req, &j->c0, num0, false) != BC_OK)
        return BC_ERR;
    if (num1 && setup_col(ctx, req, &j->c1, num1, false) != BC_OK)
        return BC_ERR;
    j->v0 = num0 ? &j->c0 : NULL;
    j->v1 = num1 ? &j->c1 : NULL;

    j->csv = gp_csv_open(req->source_path, j->err, sizeof j->err);
    if (!j->csv) {
        bc_error(ctx, "plot '%s': %s", j->name, j->err);
        return BC_ERR;
    }
    j->idx[0] = j->idx[1] = j->idx[2] = -1;
    if (j->type == T_BOX && x && j->cat_name == x && !has_col(j->csv, x)) {
        /* A boxplot's x is an optional category (the Go tool's example names
         * one its data lacks): draw without it rather than fail. */
        bc_log(ctx, BC_LOG_WARN, "plot '%s': the boxplot category '%s' is not a column of %s; "
                                 "drawing %s", j->name, x, req->source_path,
               g ? "grouped by groupby only" : "one box");
        j->cat_name = g;
        j->group_name = NULL;
        x = NULL;
    }
    if (num0 && col_index(j, num0, x && strcmp(num0, x) == 0 ? "x" : "y", &j->idx[0]) != BC_OK)
        return BC_ERR;
    if (j->cat_name && col_index(j, j->cat_name, x ? "x" : "groupby", &j->idx[0]) != BC_OK)
        return BC_ERR;
    if (num1 && col_index(j, num1, "y", &j->idx[1]) != BC_OK)
        return BC_ERR;
    if (j->group_name && col_index(j, j->group_name, "groupby", &j->idx[2]) != BC_OK)
        return BC_ERR;
    j->c0.index = j->idx[0];
    j->c1.index = j->idx[1];
    return BC_OK;
}

/* ---- drawing ------------------------------------------------------------- */

void gp_set_labels(job *j, gp_plot *pl)
{
    switch (j->type) {
    case T_TS:
    case T_SCATTER: {
        gp_axis_label(&j->c0, pl->xlabel, sizeof pl->xlabel);
        char y[400];
        gp_axis_label(&j->c1, y, sizeof y);
        if (j->agg_note[0])
            snprintf(pl->ylabel, sizeof pl->ylabel, "%s, %s", y, j->agg_note);
        else
            snprintf(pl->ylabel, sizeof pl->ylabel, "%s", y);
        break;
    }
    case T_HIST:
        gp_axis_label(&j->c0, pl->xlabel, sizeof pl->xlabel);
        snprintf(pl->ylabel, sizeof pl->ylabel, "%s",
                 j->o.hist_common_norm && j->nseries > 1 ? "fraction of all rows"
                                                          : "fraction of rows");
        break;
    case T_CDF:
        gp_axis_label(&j->c0, pl->xlabel, sizeof pl->xlabel);
        snprintf(pl->ylabel, sizeof pl->ylabel, "fraction of rows ≤ x");
        break;
    default: {
        gp_axis_label(&j->c1, pl->ylabel, sizeof pl->ylabel);
        const bc_column *d = j->cat_name ? declared(j->req, j->cat_name) : NULL;
        if (!j->cat_name)
            pl->xlabel[0] = '\0';
        else if (d && d->unit && *d->unit)
            snprintf(pl->xlabel, sizeof pl->xlabel, "%s [%s]", j->cat_name, d->unit);
        else
            snprintf(pl->xlabel, sizeof pl->xlabel, "%s", j->cat_name);
    }
    }
    if (pl->elapsed)
        snprintf(pl->xlabel, sizeof pl->xlabel, "elapsed (s)");
    if (j->ext->xlabel)
        snprintf(pl->xlabel, sizeof pl->xlabel, "%s", j->ext->xlabel);
    if (j->ext->ylabel)
        snprintf(pl->ylabel, sizeof pl->ylabel, "%s", j->ext->ylabel);
}

void gp_to_elapsed(gp_series *s, size_t n, gp_plot *pl, double x0)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < s[i].pts.n; k++)
            s[i].pts.p[k].x -= x0;
    pl->xlo -= x0;
    pl->xhi -= x0;
    pl->elapsed = true;
}

/* The script beside the plot: <output without extension>.gp. */
static FILE *open_script(bc_ctx *ctx, const char *name, const char *out)
{
    const char *slash = strrchr(out, '/'), *dot = strrchr(out, '.');
    size_t n = dot && (!slash || dot > slash) ? (size_t)(dot - out) : strlen(out);
    char path[4096];
    if (n + 4 > sizeof path)
        return NULL;
    snprintf(path, sizeof path, "%.*s.gp", (int)n, out);
    FILE *f = fopen(path, "we");
    if (!f)
        bc_log(ctx, BC_LOG_WARN, "plot '%s': cannot write the script %s: %s", name, path,
               strerror(errno));
    return f;
}

int gp_run(bc_ctx *ctx, const char *name, const char *output_path, bool keep_script,
           gp_emit_fn emit, void *ud)
{
    /* gnuplot writes a temporary file next to the output, renamed into
     * place only when it succeeded: a failed plot leaves no half file. */
    size_t n = strlen(output_path) + 64;
    char *tmp = malloc(n);
    if (!tmp) {
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    static unsigned counter;
    snprintf(tmp, n, "%s.tmp-%ld-%u", output_path, (long)getpid(), ++counter);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        bc_error(ctx, "plot '%s': cannot write %s: %s", name, output_path, strerror(errno));
        free(tmp);
        return BC_ERR;
    }
    close(fd);

    /* A gnuplot that dies must not kill us with SIGPIPE. */
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    sigset_t pending_before;
    sigpending(&pending_before);

    gp_proc proc;
    char what[600];
    snprintf(what, sizeof what, "plot '%s'", name);
    int rc = gp_start(&proc, ctx, ctx->svc->opt_string(ctx, "gnuplot_path"));
    if (rc == BC_OK) {
        proc.tee = keep_script ? open_script(ctx, name, output_path) : NULL;
        emit(&proc, ud, tmp);
        if (proc.tee)
            fclose(proc.tee);
        proc.tee = NULL;
        rc = gp_finish(&proc, what);
    }

    sigset_t pending;
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE) && !sigismember(&pending_before, SIGPIPE)) {
        struct timespec zero = {0, 0};
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    if (rc == BC_OK) {
        struct stat st;
        if (stat(tmp, &st) != 0 || st.st_size == 0) {
            bc_error(ctx, "gnuplot exited without writing %s (plot '%s')", output_path, name);
            rc = BC_ERR;
        } else if (rename(tmp, output_path) != 0) {
            bc_error(ctx, "plot '%s': cannot rename %s to %s: %s", name, tmp, output_path,
                     strerror(errno));
            rc = BC_ERR;
        }
    }
    if (rc != BC_OK)
        unlink(tmp);
    free(tmp);
    return rc;
}

static void emit_plot(gp_proc *p, void *ud, const char *tmp) { gp_emit(p, ud, tmp); }

int gp_draw(job *j, gp_plot *pl)
{
    bc_ctx *ctx = j->ctx;
    const bc_plot_request *req = j->req;
    pl->req = req;
    pl->o = &j->o;
    pl->ext = j->ext;
    pl->type = type_names[j->type];
    const gp_ext *e = j->ext;
    if (e->flags & BC_PLOT_XLO)
        pl->xlo = e->xlim[0];
    if (e->flags & BC_PLOT_XHI)
        pl->xhi = e->xlim[1];
    if (e->flags & BC_PLOT_YLO)
        pl->ylo = e->ylim[0];
    if (e->flags & BC_PLOT_YHI)
        pl->yhi = e->ylim[1];
    if ((e->flags & BC_PLOT_LOG_X) && pl->x && pl->x->is_time && !pl->elapsed) {
        bc_error(ctx, "plot '%s': log_x needs a numeric x axis, not clock times (x_axis: "
                      "elapsed draws seconds)", j->name);
        return BC_ERR;
    }
    return gp_run(ctx, j->name, req->output_path, j->o.keep_script, emit_plot, pl);
}

int gp_job_series(job *j, gp_plot *pl)
{
    int rc = prepare(j);
    if (rc == BC_OK)
        rc = gp_run_pass1(j);
    if (rc == BC_OK)
        rc = gp_run_pass2(j);
    if (rc == BC_OK)
        rc = gp_build(j, pl);
    if (rc == BC_OK && j->ctx->svc->cancelled(j->ctx))
        rc = BC_CANCELLED;
    return rc;
}

void gp_job_free(job *j)
{
    if (!j)
        return;
    gp_free_ser(&j->p2);
    for (size_t i = 0; j->series && i < j->nseries; i++) {
        free(j->series[i].title);
        gp_pts_free(&j->series[i].pts);
        gp_pts_free(&j->series[i].outliers);
    }
    free(j->series);
    gp_keys_free(&j->p1.cats);
    gp_keys_free(&j->p1.groups);
    gp_csv_close(j->csv);
    free(j);
}

/* The request's 1.3 members, as far as the core that built it has them. */
static void read_ext(const bc_plot_request *req, gp_ext *e)
{
    memset(e, 0, sizeof *e);
    if (!BC_PLOT_REQ_HAS(req, n_series))
        return;
    e->flags = req->flags;
    memcpy(e->xlim, req->xlim, sizeof e->xlim);
    memcpy(e->ylim, req->ylim, sizeof e->ylim);
    e->xlabel = req->xlabel && *req->xlabel ? req->xlabel : NULL;
    e->ylabel = req->ylabel && *req->ylabel ? req->ylabel : NULL;
    e->elapsed = req->x_axis && strcmp(req->x_axis, "elapsed") == 0;
    if (req->across && req->series && req->n_series > 0) {
        e->series = req->series;
        e->n_series = req->n_series;
    }
}

/* Point the plot at the job's columns and series. */
static void plot_from_job(job *j, gp_plot *pl)
{
    pl->x = j->type == T_BOX ? &j->c1 : &j->c0;
    pl->y = j->v1;
    pl->y_int = j->v1 && j->c1.is_int && !j->agg_note[0];
    pl->group_name = j->group_name;
    pl->series = j->series;
    pl->nseries = j->nseries;
    pl->cats = j->type == T_BOX && j->cat_name ? &j->p1.cats : NULL;
    pl->agg_note = j->agg_note[0] ? j->agg_note : NULL;
}

static int gnuplot_render(bc_ctx *ctx, const bc_plot_request *req)
{
    if (req->type && strcmp(req->type, "timeline") == 0)
        return gp_render_timeline(ctx, req);
    gp_ext ext;
    read_ext(req, &ext);
    if (ext.n_series > 0)
        return gp_render_across(ctx, req, &ext);
    job *j = calloc(1, sizeof *j);
    if (!j) {
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    j->ctx = ctx;
    j->req = req;
    j->ext = &ext;
    j->name = req->name && *req->name ? req->name : "plot";
    gp_plot pl;
    memset(&pl, 0, sizeof pl);
    int rc = gp_job_series(j, &pl);
    if (rc == BC_OK) {
        if (ext.elapsed && j->type != T_BOX && j->c0.is_time)
            gp_to_elapsed(j->series, j->nseries, &pl, j->p1.lo[0]);
        plot_from_job(j, &pl);
        gp_set_labels(j, &pl);
        rc = gp_draw(j, &pl);
    }
    if (rc == BC_OK) {
        size_t pts = 0;
        for (size_t i = 0; i < j->nseries; i++)
            pts += j->series[i].pts.n;
        bc_log(ctx, BC_LOG_DEBUG, "plot '%s': %llu rows, %zu series, %zu points drawn -> %s",
               j->name, (unsigned long long)j->p1.valid, j->nseries, pts, req->output_path);
    }
    gp_job_free(j);
    return rc;
}

static const bc_plot_ops ops = {
    .size = sizeof(bc_plot_ops),
    .render = gnuplot_render,
};

static const bc_plugin descriptor = {
    .abi = BC_PLUGIN_PREFIX,
    .kind = BC_KIND_PLOT,
    .name = "gnuplot",
    .version = "1.1.0",
    .description = "draws time series, histograms, boxplots, CDFs and scatter plots with gnuplot",
    .options = options,
    .ops = &ops,
};

BC_PLUGIN_ENTRY(descriptor)
