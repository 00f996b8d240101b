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
 * cleanly.  See README.md for the semantics of every option.
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

#define T_TS 0
#define T_HIST 1
#define T_BOX 2
#define T_CDF 3
#define T_SCATTER 4

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
    {.name = "gnuplot_path", .type = BC_OPT_STRING, .min = 1, .max = 0,
     .help = "the gnuplot program to run (default: gnuplot from PATH)"},
    {0},
};

static void read_opts(bc_ctx *ctx, gp_opts *o)
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

/* ---- pass 1 ------------------------------------------------------------- */

typedef struct pass1 {
    gp_col *v[2];        /* the numeric columns (x or value, y), NULL when unused */
    bool cat;            /* f[0] is a category (boxplot x) */
    bool group;          /* f[2] is a group */
    gp_keys cats, groups;
    uint64_t valid, bad;
    uint64_t bad_row;
    const char *bad_col;
    char bad_value[48];
    double lo[2], hi[2];
    double prev_x, min_gap;
    bool sorted;
} pass1;

static int p1_row(void *ud, const char *const *f, uint64_t row)
{
    pass1 *s = ud;
    double val[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        if (!s->v[i])
            continue;
        const char *t = f[i == 0 ? 0 : 1];
        if (!gp_parse_value(s->v[i], t, &val[i])) {
            if (s->bad++ == 0) {
                s->bad_row = row;
                s->bad_col = s->v[i]->name;
                snprintf(s->bad_value, sizeof s->bad_value, "%s", t ? t : "");
            }
            return 0;
        }
    }
    if (s->cat)
        gp_keys_add(&s->cats, f[0] ? f[0] : "");
    if (s->group)
        gp_keys_add(&s->groups, f[2] ? f[2] : "");
    for (int i = 0; i < 2; i++) {
        if (!s->v[i])
            continue;
        if (s->valid == 0 || val[i] < s->lo[i])
            s->lo[i] = val[i];
        if (s->valid == 0 || val[i] > s->hi[i])
            s->hi[i] = val[i];
    }
    if (s->v[0]) {
        if (s->valid > 0) {
            double d = val[0] - s->prev_x;
            if (d < 0)
                s->sorted = false;
            d = fabs(d);
            if (d > 0 && (s->min_gap == 0 || d < s->min_gap))
                s->min_gap = d;
        }
        s->prev_x = val[0];
    }
    s->valid++;
    return 0;
}

/* ---- pass 2 ------------------------------------------------------------- */

enum { DENSE_NONE, DENSE_DECIM, DENSE_DEDUPE };

typedef struct ser {
    uint64_t n;          /* valid rows of this series (pass 1) */
    uint64_t seen;       /* rows offered in pass 2 */
    gp_pts raw;          /* kept points */
    int dense;           /* how raw overflow is avoided */
    gp_decim dec;        /* DENSE_DECIM */
    uint8_t *bits;       /* DENSE_DEDUPE: occupied cells */
    size_t res_cap;      /* random point sampling: reservoir size (0: off) */
    gp_reservoir vals;   /* distributions */
    /* aggregation: per bucket */
    double *sum;
    uint64_t *cnt;
    gp_reservoir *bres;
} ser;

typedef struct pass2 {
    int type;
    gp_col *v[2];
    bool cat, group;
    const gp_keys *cats, *groups;
    size_t ngroups;      /* shown groups, or 1 */
    ser *s;
    size_t nser;
    uint64_t stride;
    gp_rng rng;
    /* dedupe grid */
    size_t gw, gh;
    double x0, x1, y0, y1;
    /* aggregation */
    bool agg;
    const char *agg_name;
    double bw, b0;       /* bucket width and index of the first bucket */
    size_t nb;
    size_t bcap;
} pass2;

static size_t series_of(pass2 *s, const char *const *f)
{
    size_t g = 0, c = 0;
    if (s->group) {
        g = gp_keys_slot(s->groups, f[2] ? f[2] : "");
        if (g == SIZE_MAX)
            return SIZE_MAX;
    }
    if (s->cat) {
        c = gp_keys_slot(s->cats, f[0] ? f[0] : "");
        if (c == SIZE_MAX)
            return SIZE_MAX;
    }
    return c * s->ngroups + g;
}

static void add_point(pass2 *s, ser *r, double x, double y)
{
    switch (r->dense) {
    case DENSE_DECIM:
        gp_decim_add(&r->dec, x, y);
        return;
    case DENSE_DEDUPE: {
        double fx = (x - s->x0) / (s->x1 - s->x0), fy = (y - s->y0) / (s->y1 - s->y0);
        size_t cx = fx <= 0 ? 0 : fx >= 1 ? s->gw - 1 : (size_t)(fx * (double)s->gw);
        size_t cy = fy <= 0 ? 0 : fy >= 1 ? s->gh - 1 : (size_t)(fy * (double)s->gh);
        size_t bit = cy * s->gw + cx;
        if (r->bits[bit / 8] & (1u << (bit % 8)))
            return;
        r->bits[bit / 8] |= (uint8_t)(1u << (bit % 8));
        gp_pts_push(&r->raw, x, y);
        return;
    }
    default:
        gp_pts_push(&r->raw, x, y);
    }
}

static int p2_row(void *ud, const char *const *f, uint64_t row)
{
    (void)row;
    pass2 *s = ud;
    double val[2] = {0, 0};
    for (int i = 0; i < 2; i++)
        if (s->v[i] && !gp_parse_value(s->v[i], f[i], &val[i]))
            return 0;
    size_t si = series_of(s, f);
    if (si == SIZE_MAX || si >= s->nser)
        return 0;
    ser *r = &s->s[si];
    uint64_t k = r->seen++;
    if (s->type == T_HIST || s->type == T_CDF || s->type == T_BOX) {
        gp_res_add(&r->vals, &s->rng, s->type == T_BOX ? val[1] : val[0]);
        return 0;
    }
    double x = val[0], y = val[1];
    if (s->agg) {
        double b = floor(x / s->bw) - s->b0;
        size_t bi = b <= 0 ? 0 : b >= (double)s->nb ? s->nb - 1 : (size_t)b;
        r->sum[bi] += y;
        r->cnt[bi]++;
        if (r->bres) {
            if (!r->bres[bi].cap)
                gp_res_init(&r->bres[bi], s->bcap);
            gp_res_add(&r->bres[bi], &s->rng, y);
        }
        return 0;
    }
    if (r->res_cap) {
        /* Random rows: a reservoir of points (Algorithm R). */
        if (r->raw.n < r->res_cap) {
            gp_pts_push(&r->raw, x, y);
        } else {
            uint64_t j = gp_rng_below(&s->rng, k + 1);
            if (j < r->res_cap)
                r->raw.p[j] = (gp_pt){x, y};
        }
        return 0;
    }
    if (s->stride > 1 && k % s->stride != 0)
        return 0;
    add_point(s, r, x, y);
    return 0;
}

static void free_ser(pass2 *s)
{
    for (size_t i = 0; s->s && i < s->nser; i++) {
        ser *r = &s->s[i];
        gp_pts_free(&r->raw);
        gp_decim_free(&r->dec);
        free(r->bits);
        gp_res_free(&r->vals);
        free(r->sum);
        free(r->cnt);
        if (r->bres)
            for (size_t b = 0; b < s->nb; b++)
                gp_res_free(&r->bres[b]);
        free(r->bres);
    }
    free(s->s);
    s->s = NULL;
}

/* ---- the render operation ----------------------------------------------- */

typedef struct job {
    bc_ctx *ctx;
    const bc_plot_request *req;
    const char *name;
    gp_opts o;
    int type;
    gp_col c0, c1;          /* numeric columns of field slots 0 and 1 */
    gp_col *v0, *v1;        /* &c0 / &c1, or NULL when the slot is unused */
    int idx[3];             /* CSV columns of slots 0 (x/value/category), 1 (y), 2 (group) */
    const char *cat_name;   /* boxplot: the category column */
    const char *group_name; /* the column that splits series */
    gp_csv *csv;
    pass1 p1;
    pass2 p2;
    gp_series *series;
    size_t nseries;
    char agg_note[64];
    char err[1024];
} job;

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
    read_opts(ctx, &j->o);
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

static int scan_failed(job *j, int rc)
{
    if (rc == BC_ERR)
        bc_error(j->ctx, "plot '%s': %s", j->name, j->err);
    return rc;
}

static int run_pass1(job *j)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        pass1 *p = &j->p1;
        gp_keys_free(&p->cats);
        gp_keys_free(&p->groups);
        memset(p, 0, sizeof *p);
        p->v[0] = j->v0;
        p->v[1] = j->v1;
        p->cat = j->cat_name != NULL;
        p->group = j->group_name != NULL;
        p->sorted = true;
        int rc = gp_csv_scan(j->csv, j->ctx, j->idx, 3, p1_row, p, j->err, sizeof j->err);
        if (rc != BC_OK)
            return scan_failed(j, rc);
        /* Undeclared columns: numbers, or rfc3339/iso8601 times, whichever
         * most values are; a mix needs the pass again with that choice. */
        bool again = false;
        for (int i = 0; i < 2; i++) {
            gp_col *c = p->v[i];
            if (!c || c->mode != VM_AUTO)
                continue;
            again = again || (c->n_number > 0 && c->n_time > 0);
            if (c->n_time > c->n_number) {
                c->mode = VM_TEXT_TIME;
                c->is_time = true;
            } else {
                c->mode = VM_NUMBER;
            }
        }
        if (!again)
            break;
    }
    pass1 *p = &j->p1;
    /* An undeclared numeric x of a time series: epoch times by magnitude,
     * as the Go tool guessed them. */
    if (j->type == T_TS && !j->c0.declared && j->c0.mode == VM_NUMBER && p->valid &&
        p->lo[0] >= 1e9) {
        double a = p->hi[0];
        double scale = a < 1e11 ? 1 : a < 1e14 ? 1e-3 : a < 1e17 ? 1e-6 : 1e-9;
        j->c0.mode = VM_EPOCH;
        j->c0.scale = scale;
        j->c0.is_time = true;
        p->lo[0] *= scale;
        p->hi[0] *= scale;
        p->min_gap *= scale;
        bc_log(j->ctx, BC_LOG_INFO,
               "plot '%s': column '%s' is not declared in a data_schema; its values look like "
               "%s timestamps",
               j->name, j->c0.name,
               scale == 1 ? "unix" : scale == 1e-3 ? "unix_ms" : scale == 1e-6 ? "unix_us"
                                                                  : "unix_ns");
    }
    if (p->bad)
        bc_log(j->ctx, BC_LOG_WARN,
               "plot '%s': skipped %llu row(s) of %s whose %s is not a %s (first: data row "
               "%llu, '%s')",
               j->name, (unsigned long long)p->bad, j->req->source_path, p->bad_col,
               (p->bad_col == j->c0.name ? j->c0.is_time : j->c1.is_time) ? "timestamp"
                                                                          : "number",
               (unsigned long long)p->bad_row, p->bad_value);
    if (p->valid == 0) {
        if (p->bad)
            bc_error(j->ctx, "plot '%s': no row of %s has a usable '%s' (first: data row %llu, "
                             "'%s')",
                     j->name, j->req->source_path, p->bad_col, (unsigned long long)p->bad_row,
                     p->bad_value);
        else
            bc_error(j->ctx, "plot '%s': %s has no data rows", j->name, j->req->source_path);
        return BC_ERR;
    }
    gp_keys_finish(&p->groups, GP_MAX_GROUPS);
    gp_keys_finish(&p->cats, GP_MAX_GROUPS);
    const gp_keys *ks[2] = {&p->cats, &p->groups};
    const char *kn[2] = {j->cat_name, j->group_name};
    for (int i = 0; i < 2; i++)
        if (kn[i] && ks[i]->has_other)
            bc_log(j->ctx, BC_LOG_WARN,
                   "plot '%s': column '%s' has %s%zu distinct values; showing the %d most "
                   "frequent, the rest as 'other'",
                   j->name, kn[i], ks[i]->untracked ? "more than " : "", ks[i]->n,
                   GP_MAX_GROUPS);
    return BC_OK;
}

static int run_pass2(job *j)
{
    pass1 *p1 = &j->p1;
    pass2 *s = &j->p2;
    const gp_opts *o = &j->o;
    memset(s, 0, sizeof *s);
    s->type = j->type;
    s->v[0] = j->v0;
    s->v[1] = j->v1;
    s->cat = j->cat_name != NULL;
    s->group = j->group_name != NULL;
    s->cats = &p1->cats;
    s->groups = &p1->groups;
    s->ngroups = s->group ? p1->groups.nshown : 1;
    size_t ncat = s->cat ? p1->cats.nshown : 1;
    s->nser = ncat * s->ngroups;
    s->s = calloc(s->nser, sizeof *s->s);
    if (!s->s) {
        bc_error(j->ctx, "out of memory");
        return BC_ERR;
    }
    s->rng.s = (uint64_t)o->random_state ^ 0x5DEECE66Dull;
    uint64_t n = p1->valid;
    for (size_t g = 0; g < s->ngroups && j->type != T_BOX; g++)
        s->s[g].n = s->group ? p1->groups.shown_counts[g] : n;

    if (j->type == T_HIST || j->type == T_CDF || j->type == T_BOX) {
        uint64_t budget = o->max_rows > 0 ? (uint64_t)o->max_rows : GP_DIST_BUDGET;
        for (size_t i = 0; i < s->nser; i++) {
            uint64_t cap;
            if (j->type == T_BOX) {
                /* Cell counts are not known, only the margins. */
                double fc = s->cat ? (double)p1->cats.shown_counts[i / s->ngroups] / (double)n
                                   : 1;
                double fg = s->group ? (double)p1->groups.shown_counts[i % s->ngroups] /
                                           (double)n
                                     : 1;
                cap = n <= budget ? n : (uint64_t)((double)budget * fc * fg);
                if (n > budget && cap < 5000)
                    cap = 5000;
            } else {
                cap = n <= budget ? s->s[i].n
                                  : (uint64_t)llround((double)budget * (double)s->s[i].n /
                                                      (double)n);
            }
            gp_res_init(&s->s[i].vals, cap ? (size_t)cap : 1);
        }
    } else if (j->req->aggregation && *j->req->aggregation) {
        bool time = j->c0.is_time;
        s->agg = true;
        s->agg_name = j->req->aggregation;
        int64_t target = o->max_points > 0 ? o->max_points : GP_AGG_DEFAULT_BUCKETS;
        if (target > GP_AGG_MAX_BUCKETS)
            target = GP_AGG_MAX_BUCKETS;
        double span = p1->hi[0] - p1->lo[0];
        double want = span / (double)target;
        if (want < p1->min_gap)
            want = p1->min_gap; /* no bucket finer than the data */
        s->bw = gp_nice_step(want > 0 ? want : 1, time);
        s->b0 = floor(p1->lo[0] / s->bw);
        double nb = floor(p1->hi[0] / s->bw) - s->b0 + 1;
        s->nb = nb < 1 ? 1 : nb > 4 * GP_AGG_MAX_BUCKETS ? 4 * GP_AGG_MAX_BUCKETS : (size_t)nb;
        bool quant = strcmp(s->agg_name, "avg") != 0 && strcmp(s->agg_name, "mean") != 0;
        size_t cells = s->nb * s->nser;
        s->bcap = GP_AGG_BUDGET / cells;
        if (s->bcap < 64)
            s->bcap = 64;
        for (size_t i = 0; i < s->nser; i++) {
            ser *r = &s->s[i];
            r->sum = calloc(s->nb, sizeof *r->sum);
            r->cnt = calloc(s->nb, sizeof *r->cnt);
            r->bres = quant ? calloc(s->nb, sizeof *r->bres) : NULL;
            if (!r->sum || !r->cnt || (quant && !r->bres)) {
                bc_error(j->ctx, "out of memory");
                return BC_ERR;
            }
        }
        char step[32];
        gp_format_step(s->bw, time, step, sizeof step);
        snprintf(j->agg_note, sizeof j->agg_note, "%s per %s", s->agg_name, step);
    } else {
        uint64_t mp = (uint64_t)o->max_points;
        bool sample = mp > 0 && n > mp;
        size_t width = (size_t)o->width_px;
        uint64_t raw_limit = 4 * (uint64_t)width;
        bool random = strcmp(o->sampling, "random") == 0;
        bool minmax = strcmp(o->sampling, "minmax") == 0;
        s->stride = sample && !random && !minmax ? (n + mp - 1) / mp : 1;
        s->x0 = p1->lo[0];
        s->x1 = p1->hi[0] > p1->lo[0] ? p1->hi[0] : p1->lo[0] + 1;
        s->y0 = p1->lo[1];
        s->y1 = p1->hi[1] > p1->lo[1] ? p1->hi[1] : p1->lo[1] + 1;
        s->gw = width / 2;
        s->gh = (size_t)o->height_px / 2;
        for (size_t i = 0; i < s->nser; i++) {
            ser *r = &s->s[i];
            if (sample && random) {
                uint64_t k = (uint64_t)llround((double)mp * (double)r->n / (double)n);
                r->res_cap = k ? (size_t)k : 1;
            } else if (sample && minmax) {
                uint64_t k = (uint64_t)((double)mp * (double)r->n / (double)n / 2);
                r->dense = DENSE_DECIM;
                gp_decim_init(&r->dec, s->x0, s->x1, k ? (size_t)k : 1);
            } else if ((r->n + s->stride - 1) / s->stride > raw_limit) {
                if (j->type == T_TS) {
                    r->dense = DENSE_DECIM;
                    gp_decim_init(&r->dec, s->x0, s->x1, width);
                } else {
                    r->dense = DENSE_DEDUPE;
                    r->bits = calloc((s->gw * s->gh + 7) / 8, 1);
                    if (!r->bits) {
                        bc_error(j->ctx, "out of memory");
                        return BC_ERR;
                    }
                }
            }
        }
    }
    int rc = gp_csv_scan(j->csv, j->ctx, j->idx, 3, p2_row, s, j->err, sizeof j->err);
    return scan_failed(j, rc);
}

/* ---- building the series ------------------------------------------------- */

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c)
        memcpy(c, s, n);
    return c;
}

static size_t group_color(const gp_keys *k, size_t slot)
{
    return k->order[slot] == SIZE_MAX ? SIZE_MAX : slot;
}

static void range_of_points(job *j, gp_plot *pl)
{
    bool first = true;
    for (size_t i = 0; i < j->nseries; i++) {
        const gp_pts *v = &j->series[i].pts;
        for (size_t k = 0; k < v->n; k++) {
            if (first || v->p[k].x < pl->xlo)
                pl->xlo = v->p[k].x;
            if (first || v->p[k].x > pl->xhi)
                pl->xhi = v->p[k].x;
            if (first || v->p[k].y < pl->ylo)
                pl->ylo = v->p[k].y;
            if (first || v->p[k].y > pl->yhi)
                pl->yhi = v->p[k].y;
            first = false;
        }
    }
}

static void fmt_value(const gp_col *c, double v, char *out, size_t n)
{
    if (c->unit && *c->unit && !c->is_time)
        snprintf(out, n, "%.4g %s", v, c->unit);
    else
        snprintf(out, n, "%.4g", v);
}

static int build(job *j, gp_plot *pl)
{
    pass1 *p1 = &j->p1;
    pass2 *s = &j->p2;
    j->series = calloc(s->nser, sizeof *j->series);
    if (!j->series) {
        bc_error(j->ctx, "out of memory");
        return BC_ERR;
    }
    const gp_keys *groups = s->group ? &p1->groups : NULL;
    /* Series with no rows (a category without some group) are left out. */
    for (size_t i = 0; i < s->nser; i++) {
        ser *r = &s->s[i];
        size_t g = i % s->ngroups, c = i / s->ngroups;
        if (r->seen == 0)
            continue;
        gp_series *out = &j->series[j->nseries++];
        out->color = groups ? group_color(groups, g)
                     : s->cat ? group_color(&p1->cats, c)
                              : 0;
        if (groups)
            out->title = xstrdup(gp_keys_label(groups, g));
        if (j->type == T_TS || j->type == T_SCATTER) {
            if (s->agg) {
                bool quant = r->bres != NULL;
                double q = strcmp(s->agg_name, "median") == 0 ? 0.5
                           : strcmp(s->agg_name, "p95") == 0  ? 0.95
                                                              : 0.99;
                for (size_t b = 0; b < s->nb; b++) {
                    if (!r->cnt[b])
                        continue;
                    double y = r->sum[b] / (double)r->cnt[b];
                    if (quant) {
                        gp_sort_doubles(r->bres[b].v, r->bres[b].n);
                        y = gp_quantile(r->bres[b].v, r->bres[b].n, q);
                    }
                    gp_pts_push(&out->pts, (s->b0 + (double)b + 0.5) * s->bw, y);
                }
            } else if (r->dense == DENSE_DECIM) {
                gp_decim_emit(&r->dec, &out->pts);
            } else {
                gp_pts_sort_x(&r->raw);
                if (j->type == T_TS && r->raw.n > 4 * (size_t)j->o.width_px) {
                    /* A random sample larger than the pixels: decimate it too. */
                    gp_decim d;
                    gp_decim_init(&d, s->x0, s->x1, (size_t)j->o.width_px);
                    for (size_t k = 0; k < r->raw.n; k++)
                        gp_decim_add(&d, r->raw.p[k].x, r->raw.p[k].y);
                    gp_decim_emit(&d, &out->pts);
                    gp_decim_free(&d);
                } else {
                    out->pts = r->raw;
                    memset(&r->raw, 0, sizeof r->raw);
                }
            }
            continue;
        }
        gp_reservoir *v = &r->vals;
        if (j->type == T_HIST)
            continue; /* binned below, over all series */
        gp_sort_doubles(v->v, v->n);
        if (j->type == T_CDF) {
            const char *label = groups ? gp_keys_label(groups, g) : j->c0.name;
            char p50[48], p95[48], p99[48], t[512];
            fmt_value(&j->c0, gp_quantile(v->v, v->n, 0.5), p50, sizeof p50);
            fmt_value(&j->c0, gp_quantile(v->v, v->n, 0.95), p95, sizeof p95);
            fmt_value(&j->c0, gp_quantile(v->v, v->n, 0.99), p99, sizeof p99);
            snprintf(t, sizeof t, "%s (p50 %s, p95 %s, p99 %s)", label, p50, p95, p99);
            free(out->title);
            out->title = xstrdup(t);
            size_t k = v->n < GP_CDF_POINTS ? v->n : GP_CDF_POINTS;
            gp_pts_push(&out->pts, v->v[0], 0);
            for (size_t i2 = 0; i2 < k; i2++) {
                size_t rank = k == 1 ? 0 : (size_t)llround((double)i2 * (double)(v->n - 1) /
                                                           (double)(k - 1));
                gp_pts_push(&out->pts, v->v[rank], (double)(rank + 1) / (double)v->n);
            }
        } else if (j->type == T_BOX) {
            double q1 = gp_quantile(v->v, v->n, 0.25), q3 = gp_quantile(v->v, v->n, 0.75);
            double iqr = q3 - q1, lo = q1 - 1.5 * iqr, hi = q3 + 1.5 * iqr;
            out->q1 = q1;
            out->q3 = q3;
            out->med = gp_quantile(v->v, v->n, 0.5);
            size_t a = 0, b = v->n;
            while (a < v->n && v->v[a] < lo)
                a++;
            while (b > a && v->v[b - 1] > hi)
                b--;
            out->wlo = a < v->n ? v->v[a] : q1;
            out->whi = b > 0 ? v->v[b - 1] : q3;
            double each = 0.8 / (double)s->ngroups;
            out->pos = (double)(c + 1) - 0.4 + ((double)g + 0.5) * each;
            out->width = each * 0.85;
            size_t nout = a + (v->n - b);
            size_t step = nout > GP_MAX_OUTLIERS ? (nout + GP_MAX_OUTLIERS - 1) / GP_MAX_OUTLIERS
                                                 : 1;
            for (size_t k = 0; k < nout; k++) {
                size_t at = k < a ? k : b + (k - a);
                /* Keep the extremes and every step-th value in between. */
                if (k % step == 0 || at == 0 || at == v->n - 1)
                    gp_pts_push(&out->outliers, out->pos, v->v[at]);
            }
        }
    }
    if (j->nseries == 0) {
        bc_error(j->ctx, "plot '%s': nothing to draw from %s", j->name, j->req->source_path);
        return BC_ERR;
    }

    /* Ranges and histogram bins. */
    memset(pl, 0, sizeof *pl);
    if (j->type == T_HIST) {
        double lo = p1->lo[0], hi = p1->hi[0];
        if (!(hi > lo)) {
            lo -= 0.5;
            hi += 0.5;
        }
        size_t nb = (size_t)j->o.bins;
        double w = (hi - lo) / (double)nb;
        uint64_t total = 0;
        for (size_t i = 0; i < s->nser; i++)
            total += s->s[i].vals.n;
        size_t si = 0;
        double ymax = 0;
        uint64_t *cnt = calloc(nb, sizeof *cnt);
        if (!cnt) {
            bc_error(j->ctx, "out of memory");
            return BC_ERR;
        }
        for (size_t i = 0; i < s->nser; i++) {
            gp_reservoir *v = &s->s[i].vals;
            if (s->s[i].seen == 0)
                continue;
            memset(cnt, 0, nb * sizeof *cnt);
            for (size_t k = 0; k < v->n; k++) {
                double f = (v->v[k] - lo) / w;
                size_t b = f <= 0 ? 0 : f >= (double)nb ? nb - 1 : (size_t)f;
                cnt[b]++;
            }
            double denom = (double)(j->o.hist_common_norm ? total : v->n);
            gp_series *out = &j->series[si++];
            for (size_t b = 0; b < nb; b++) {
                double y = denom > 0 ? (double)cnt[b] / denom : 0;
                gp_pts_push(&out->pts, lo + ((double)b + 0.5) * w, y);
                if (y > ymax)
                    ymax = y;
            }
        }
        free(cnt);
        pl->xlo = lo;
        pl->xhi = hi;
        pl->ylo = 0;
        pl->yhi = ymax;
        pl->bin_width = w;
        pl->hist_grouped = j->nseries > 1;
    } else if (j->type == T_BOX) {
        bool first = true;
        for (size_t i = 0; i < j->nseries; i++) {
            const gp_series *b = &j->series[i];
            double lo = b->wlo, hi = b->whi;
            for (size_t k = 0; k < b->outliers.n; k++) {
                lo = fmin(lo, b->outliers.p[k].y);
                hi = fmax(hi, b->outliers.p[k].y);
            }
            pl->ylo = first ? lo : fmin(pl->ylo, lo);
            pl->yhi = first ? hi : fmax(pl->yhi, hi);
            first = false;
        }
        pl->xlo = 0.5;
        pl->xhi = (double)(s->cat ? p1->cats.nshown : 1) + 0.5;
    } else {
        range_of_points(j, pl);
        if (j->type == T_TS && !s->agg) {
            pl->xlo = p1->lo[0];
            pl->xhi = p1->hi[0];
        }
        if (j->type == T_CDF) {
            pl->ylo = 0;
            pl->yhi = 1;
        }
    }
    return BC_OK;
}

/* ---- drawing ------------------------------------------------------------- */

static void set_labels(job *j, gp_plot *pl)
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
}

static int draw(job *j, gp_plot *pl)
{
    bc_ctx *ctx = j->ctx;
    const bc_plot_request *req = j->req;
    pl->req = req;
    pl->o = &j->o;
    pl->type = type_names[j->type];
    pl->x = j->type == T_BOX ? &j->c1 : &j->c0;
    pl->y = j->v1;
    pl->group_name = j->group_name;
    pl->series = j->series;
    pl->nseries = j->nseries;
    pl->cats = j->type == T_BOX && j->cat_name ? &j->p1.cats : NULL;
    pl->agg_note = j->agg_note[0] ? j->agg_note : NULL;
    set_labels(j, pl);
    /* gnuplot writes a temporary file next to the output, renamed into
     * place only when it succeeded: a failed plot leaves no half file. */
    size_t n = strlen(req->output_path) + 64;
    char *tmp = malloc(n);
    if (!tmp) {
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    static unsigned counter;
    snprintf(tmp, n, "%s.tmp-%ld-%u", req->output_path, (long)getpid(), ++counter);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        bc_error(ctx, "plot '%s': cannot write %s: %s", j->name, req->output_path,
                 strerror(errno));
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
    snprintf(what, sizeof what, "plot '%s'", j->name);
    int rc = gp_start(&proc, ctx, ctx->svc->opt_string(ctx, "gnuplot_path"));
    if (rc == BC_OK) {
        gp_emit(&proc, pl, tmp);
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
            bc_error(ctx, "gnuplot exited without writing %s (plot '%s')", req->output_path,
                     j->name);
            rc = BC_ERR;
        } else if (rename(tmp, req->output_path) != 0) {
            bc_error(ctx, "plot '%s': cannot rename %s to %s: %s", j->name, tmp,
                     req->output_path, strerror(errno));
            rc = BC_ERR;
        }
    }
    if (rc != BC_OK)
        unlink(tmp);
    free(tmp);
    return rc;
}

static int gnuplot_render(bc_ctx *ctx, const bc_plot_request *req)
{
    job *j = calloc(1, sizeof *j);
    if (!j) {
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    j->ctx = ctx;
    j->req = req;
    j->name = req->name && *req->name ? req->name : "plot";
    gp_plot pl;
    memset(&pl, 0, sizeof pl);
    int rc = prepare(j);
    if (rc == BC_OK)
        rc = run_pass1(j);
    if (rc == BC_OK)
        rc = run_pass2(j);
    if (rc == BC_OK)
        rc = build(j, &pl);
    if (rc == BC_OK && ctx->svc->cancelled(ctx))
        rc = BC_CANCELLED;
    if (rc == BC_OK)
        rc = draw(j, &pl);
    if (rc == BC_OK) {
        size_t pts = 0;
        for (size_t i = 0; i < j->nseries; i++)
            pts += j->series[i].pts.n;
        bc_log(ctx, BC_LOG_DEBUG, "plot '%s': %llu rows, %zu series, %zu points drawn -> %s",
               j->name, (unsigned long long)j->p1.valid, j->nseries, pts, req->output_path);
    }
    free_ser(&j->p2);
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
    .version = "1.0.0",
    .description = "draws time series, histograms, boxplots, CDFs and scatter plots with gnuplot",
    .options = options,
    .ops = &ops,
};

BC_PLUGIN_ENTRY(descriptor)
