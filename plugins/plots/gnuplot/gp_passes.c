/*
 * The two passes of the gnuplot plot plugin over the data file, and the
 * series they build (see gnuplot.c for the request and the drawing):
 *   pass 1  counts rows per group/category, finds the ranges, resolves
 *           undeclared column types;
 *   pass 2  collects what will be drawn: sampled and decimated points (time
 *           series, scatter), per-bucket aggregates, or a bounded uniform
 *           sample of values per series (histogram, cdf, boxplot);
 *   build   turns what pass 2 kept into gp_series and the plot's ranges.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gp.h"

/* ---- pass 1 ------------------------------------------------------------- */

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

void gp_free_ser(pass2 *s)
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

static int scan_failed(job *j, int rc)
{
    if (rc == BC_ERR)
        bc_error(j->ctx, "plot '%s': %s", j->name, j->err);
    return rc;
}

int gp_run_pass1(job *j)
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

int gp_run_pass2(job *j)
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

/* A time series or scatter series: aggregated per bin, decimated, or the
 * points as they are. */
static void xy_series(job *j, ser *r, gp_series *out)
{
    pass2 *s = &j->p2;
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
}

/* A CDF series (its title with p50/p95/p99) from the sorted values. */
static void cdf_series(job *j, gp_series *out, gp_reservoir *v, const char *label)
{
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
}

/* A box of group g in category c, with whiskers at 1.5 IQR and a bounded
 * number of outliers. */
static void box_series(job *j, gp_series *out, gp_reservoir *v, size_t g, size_t c)
{
    pass2 *s = &j->p2;
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

/* Histogram bins of every series over one common range; sets pl's ranges. */
static int hist_bins(job *j, gp_plot *pl)
{
    pass1 *p1 = &j->p1;
    pass2 *s = &j->p2;
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
    return BC_OK;
}

int gp_build(job *j, gp_plot *pl)
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
            xy_series(j, r, out);
            continue;
        }
        gp_reservoir *v = &r->vals;
        if (j->type == T_HIST)
            continue; /* binned below, over all series */
        gp_sort_doubles(v->v, v->n);
        if (j->type == T_CDF) {
            cdf_series(j, out, &r->vals, groups ? gp_keys_label(groups, g) : j->c0.name);
        } else if (j->type == T_BOX) {
            box_series(j, out, &r->vals, g, c);
        }
    }
    if (j->nseries == 0) {
        bc_error(j->ctx, "plot '%s': nothing to draw from %s", j->name, j->req->source_path);
        return BC_ERR;
    }

    /* Ranges and histogram bins. */
    memset(pl, 0, sizeof *pl);
    if (j->type == T_HIST) {
        if (hist_bins(j, pl) != BC_OK)
            return BC_ERR;
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
