/*
 * `across: cases` (ABI 1.3): the request carries one data file per case
 * (req->series).  Each file goes through the same passes as a single plot,
 * and its series are drawn together, titled with the case's label:
 *   - time_series, scatter, histogram, cdf: one line/step/set of points per
 *     case (per case and group with groupby), x ranges united; with
 *     x_axis: elapsed each case's time starts at its own first sample;
 *   - boxplot: one box per case;
 *   - BC_PLOT_X_PARAM (x names a matrix parameter): the aggregation of y
 *     (median unless `aggregation`) of each case, at the case's value of
 *     the parameter; cases whose names differ only in that parameter form
 *     one line (their label).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gp.h"

static job *new_job(bc_ctx *ctx, const bc_plot_request *sub, const gp_ext *ext)
{
    job *j = calloc(1, sizeof *j);
    if (!j) {
        bc_error(ctx, "out of memory");
        return NULL;
    }
    j->ctx = ctx;
    j->req = sub;
    j->ext = ext;
    j->name = sub->name && *sub->name ? sub->name : "plot";
    return j;
}

static char *join_label(const char *a, const char *b)
{
    size_t n = strlen(a) + (b ? strlen(b) + 3 : 0) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s%s", a, b ? " / " : "", b ? b : "");
    return s;
}

static void unite(gp_plot *pl, const gp_plot *one, bool first)
{
    pl->xlo = first ? one->xlo : fmin(pl->xlo, one->xlo);
    pl->xhi = first ? one->xhi : fmax(pl->xhi, one->xhi);
    pl->ylo = first ? one->ylo : fmin(pl->ylo, one->ylo);
    pl->yhi = first ? one->yhi : fmax(pl->yhi, one->yhi);
    if (first)
        pl->bin_width = one->bin_width;
}

/* Move job j's series (case i) into all[], titled with the case label. */
static int take_series(job *j, size_t i, const char *label, gp_series **all, size_t *nall)
{
    gp_series *grown = realloc(*all, (*nall + j->nseries) * sizeof **all);
    if (!grown) {
        bc_error(j->ctx, "out of memory");
        return BC_ERR;
    }
    *all = grown;
    for (size_t k = 0; k < j->nseries; k++) {
        gp_series *s = &j->series[k];
        gp_series *d = &grown[(*nall)++];
        *d = *s;
        /* A box per case is named by its tick label, a line by the legend. */
        d->title = j->type == T_BOX ? NULL : join_label(label, j->group_name ? s->title : NULL);
        d->color = *nall - 1;
        if (j->type == T_BOX) {
            d->pos = (double)(i + 1);
            d->width = 0.6;
            for (size_t o = 0; o < d->outliers.n; o++)
                d->outliers.p[o].x = d->pos;
        }
        free(s->title);
        memset(s, 0, sizeof *s);
    }
    return BC_OK;
}

static void free_series(gp_series *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(s[i].title);
        gp_pts_free(&s[i].pts);
        gp_pts_free(&s[i].outliers);
    }
    free(s);
}

/* One series per case. */
static int render_overlay(bc_ctx *ctx, const bc_plot_request *req, const gp_ext *ext)
{
    size_t n = ext->n_series;
    bc_plot_request *subs = calloc(n, sizeof *subs);
    const char **labels = calloc(n, sizeof *labels);
    job *first = NULL;
    gp_series *all = NULL;
    size_t nall = 0;
    gp_plot pl;
    memset(&pl, 0, sizeof pl);
    int rc = subs && labels ? BC_OK : BC_ERR;
    if (rc != BC_OK)
        bc_error(ctx, "out of memory");
    for (size_t i = 0; rc == BC_OK && i < n; i++) {
        subs[i] = *req;
        subs[i].source_path = ext->series[i].source_path;
        labels[i] = ext->series[i].label ? ext->series[i].label : "?";
        job *j = new_job(ctx, &subs[i], ext);
        if (!j)
            rc = BC_ERR;
        gp_plot one;
        memset(&one, 0, sizeof one);
        if (rc == BC_OK)
            rc = gp_job_series(j, &one);
        if (rc == BC_OK && j->type == T_BOX && j->cat_name) {
            bc_error(ctx, "plot '%s': a boxplot across cases draws one box per case: drop x "
                          "and groupby", j->name);
            rc = BC_ERR;
        }
        if (rc == BC_OK && ext->elapsed && j->type != T_BOX && j->c0.is_time)
            gp_to_elapsed(j->series, j->nseries, &one, j->p1.lo[0]);
        if (rc == BC_OK) {
            one.elapsed = one.elapsed || pl.elapsed;
            pl.elapsed = one.elapsed;
            unite(&pl, &one, i == 0);
            rc = take_series(j, i, labels[i], &all, &nall);
        }
        if (i == 0 && j)
            first = j;
        else
            gp_job_free(j);
    }
    if (rc == BC_OK) {
        pl.x = first->type == T_BOX ? &first->c1 : &first->c0;
        pl.y = first->v1;
        pl.y_int = first->v1 && first->c1.is_int && !first->agg_note[0];
        pl.series = all;
        pl.nseries = nall;
        pl.agg_note = first->agg_note[0] ? first->agg_note : NULL;
        pl.hist_grouped = true;
        if (first->type == T_BOX) {
            pl.xlo = 0.5;
            pl.xhi = (double)n + 0.5;
            pl.cat_labels = labels;
            pl.ncat_labels = n;
        }
        gp_set_labels(first, &pl);
        rc = gp_draw(first, &pl);
    }
    free_series(all, nall);
    gp_job_free(first);
    free(labels);
    free(subs);
    return rc;
}

/* ---- a metric against a matrix parameter --------------------------------- */

typedef struct param_pt {
    const char *label, *xv;
    double y;
} param_pt;

static double aggregate(const gp_reservoir *v, const char *agg)
{
    if (!agg || strcmp(agg, "median") == 0)
        return gp_quantile(v->v, v->n, 0.5);
    if (strcmp(agg, "p95") == 0)
        return gp_quantile(v->v, v->n, 0.95);
    if (strcmp(agg, "p99") == 0)
        return gp_quantile(v->v, v->n, 0.99);
    double sum = 0;
    for (size_t i = 0; i < v->n; i++)
        sum += v->v[i];
    return v->n ? sum / (double)v->n : NAN;
}

/* The aggregation of y in each case's file (a CDF job keeps its values). */
static int collect_points(bc_ctx *ctx, const bc_plot_request *req, const gp_ext *ext,
                          param_pt *pts, job **first)
{
    const char *agg = req->aggregation && *req->aggregation ? req->aggregation : NULL;
    for (size_t i = 0; i < ext->n_series; i++) {
        bc_plot_request sub = *req;
        sub.type = "cdf";
        sub.x = req->y;
        sub.groupby = NULL;
        sub.aggregation = NULL;
        sub.source_path = ext->series[i].source_path;
        job *j = new_job(ctx, &sub, ext);
        if (!j)
            return BC_ERR;
        gp_plot one;
        memset(&one, 0, sizeof one);
        int rc = gp_job_series(j, &one);
        if (rc == BC_OK) {
            pts[i] = (param_pt){ext->series[i].label ? ext->series[i].label : "?",
                                ext->series[i].x_value ? ext->series[i].x_value : "",
                                aggregate(&j->p2.s[0].vals, agg)};
            if (i == 0) {
                *first = j;
                (*first)->req = req; /* the output path; the job's data is read */
                continue;
            }
        }
        gp_job_free(j);
        if (rc != BC_OK)
            return rc;
    }
    return BC_OK;
}

/* Group the points into a series per label; x numeric or categorical. */
static int param_series(job *j, param_pt *pts, size_t n, gp_plot *pl, const char ***xcats,
                        size_t *nxcats, double *xticks, bool *ints_out)
{
    bool numeric = true, ints = true;
    for (size_t i = 0; i < n; i++) {
        double v;
        numeric = numeric && gp_parse_number(pts[i].xv, &v);
        ints = ints && numeric && v == floor(v);
    }
    const char **cats = calloc(n, sizeof *cats);
    j->series = calloc(n, sizeof *j->series);
    if (!cats || !j->series) {
        free(cats);
        bc_error(j->ctx, "out of memory");
        return BC_ERR;
    }
    for (size_t i = 0; i < n; i++) {
        double x = 0;
        if (numeric) {
            gp_parse_number(pts[i].xv, &x);
            size_t t = 0;
            while (t < pl->nxticks && xticks[t] != x)
                t++;
            if (t == pl->nxticks)
                xticks[pl->nxticks++] = x;
        } else {
            size_t c = 0;
            while (c < *nxcats && strcmp(cats[c], pts[i].xv) != 0)
                c++;
            if (c == *nxcats)
                cats[(*nxcats)++] = pts[i].xv;
            x = (double)(c + 1);
        }
        size_t s = 0;
        while (s < j->nseries && strcmp(j->series[s].title, pts[i].label) != 0)
            s++;
        if (s == j->nseries) {
            j->series[s].title = join_label(pts[i].label, NULL);
            j->series[s].color = s;
            j->nseries++;
        }
        if (!isnan(pts[i].y))
            gp_pts_push(&j->series[s].pts, x, pts[i].y);
        bool first = i == 0;
        pl->xlo = first ? x : fmin(pl->xlo, x);
        pl->xhi = first ? x : fmax(pl->xhi, x);
        pl->ylo = first ? pts[i].y : fmin(pl->ylo, pts[i].y);
        pl->yhi = first ? pts[i].y : fmax(pl->yhi, pts[i].y);
    }
    for (size_t s = 0; s < j->nseries; s++)
        gp_pts_sort_x(&j->series[s].pts);
    *xcats = cats;
    *ints_out = numeric && ints;
    if (pl->nxticks > 20)
        pl->nxticks = 0; /* too many to label each: gnuplot's ticks */
    gp_sort_doubles(xticks, pl->nxticks);
    pl->xticks = pl->nxticks ? xticks : NULL;
    return BC_OK;
}

static int render_param(bc_ctx *ctx, const bc_plot_request *req, const gp_ext *ext)
{
    size_t n = ext->n_series;
    param_pt *pts = calloc(n, sizeof *pts);
    double *xticks = calloc(n, sizeof *xticks);
    bool ints = false;
    job *j = NULL;
    const char **xcats = NULL;
    size_t nxcats = 0;
    gp_plot pl;
    memset(&pl, 0, sizeof pl);
    int rc = pts && xticks ? collect_points(ctx, req, ext, pts, &j) : BC_ERR;
    if (!pts || !xticks)
        bc_error(ctx, "out of memory");
    if (rc == BC_OK) {
        /* The job's series (its CDF) make way for the parameter's lines. */
        for (size_t i = 0; i < j->nseries; i++) {
            free(j->series[i].title);
            gp_pts_free(&j->series[i].pts);
        }
        free(j->series);
        j->series = NULL;
        j->nseries = 0;
        rc = param_series(j, pts, n, &pl, &xcats, &nxcats, xticks, &ints);
    }
    if (rc == BC_OK) {
        j->type = req->type && strcmp(req->type, "scatter") == 0 ? T_SCATTER : T_TS;
        gp_col xc = {.index = -1, .name = req->x, .is_int = ints};
        pl.x = &xc;
        pl.y = &j->c0;
        pl.series = j->series;
        pl.nseries = j->nseries;
        pl.xcat_labels = nxcats ? xcats : NULL;
        pl.nxcat_labels = nxcats;
        pl.marks = true;
        char y[400];
        gp_axis_label(&j->c0, y, sizeof y);
        snprintf(pl.xlabel, sizeof pl.xlabel, "%s", req->x);
        snprintf(pl.ylabel, sizeof pl.ylabel, "%s, %s per case", y,
                 req->aggregation && *req->aggregation ? req->aggregation : "median");
        if (ext->xlabel)
            snprintf(pl.xlabel, sizeof pl.xlabel, "%s", ext->xlabel);
        if (ext->ylabel)
            snprintf(pl.ylabel, sizeof pl.ylabel, "%s", ext->ylabel);
        rc = gp_draw(j, &pl);
    }
    free(xcats);
    free(xticks);
    free(pts);
    gp_job_free(j);
    return rc;
}

int gp_render_across(bc_ctx *ctx, const bc_plot_request *req, const gp_ext *ext)
{
    if ((ext->flags & BC_PLOT_X_PARAM) && (!req->y || !*req->y)) {
        bc_error(ctx, "plot '%s': a plot against a matrix parameter needs y (the metric)",
                 req->name ? req->name : "plot");
        return BC_ERR;
    }
    return ext->flags & BC_PLOT_X_PARAM ? render_param(ctx, req, ext)
                                        : render_overlay(ctx, req, ext);
}
