/*
 * type: timeline (ABI 1.5): host monitoring on one time axis.  One panel
 * per request panel, stacked and sharing x (seconds since the first
 * sample); one line per series (a host's monitor CSV) in every panel; the
 * spans (stages) shaded behind the lines and labelled in the top panel.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gp.h"

#define TL_MAX_PANELS 8
#define TL_MAX_SERIES 16
#define TL_MAX_SPANS 200

static const char *const tl_colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                        "#9467bd", "#8c564b", "#e377c2", "#17becf"};

typedef struct tl {
    const bc_plot_request *req;
    gp_opts o;
    gp_pts pts[TL_MAX_SERIES][TL_MAX_PANELS]; /* x: seconds since the epoch until shifted */
    size_t nseries, npanels, nspans;
    double t0, t1;
} tl;

typedef struct tl_scan {
    gp_pts *out;
    int nvals;
} tl_scan;

static int tl_row(void *ud, const char *const *f, uint64_t row)
{
    (void)row;
    tl_scan *s = ud;
    double t, sum = 0, v;
    if (!f[0] || !gp_parse_number(f[0], &t))
        return 0;
    bool any = false;
    for (int i = 1; i <= s->nvals; i++)
        if (f[i] && gp_parse_number(f[i], &v)) {
            sum += v;
            any = true;
        }
    gp_pts_push(s->out, t, any ? sum : NAN);
    return 0;
}

static int find_col(gp_csv *c, const char *name, size_t len)
{
    for (size_t i = 0; i < gp_csv_ncols(c); i++) {
        const char *n = gp_csv_colname(c, i);
        if (n && strlen(n) == len && strncmp(n, name, len) == 0)
            return (int)i;
    }
    return -1;
}

/* Read panel p of series s: timestamp and its column(s). */
static int read_panel(bc_ctx *ctx, tl *t, size_t s, size_t p)
{
    const char *path = t->req->series[s].source_path;
    char err[512] = "";
    gp_csv *c = gp_csv_open(path, err, sizeof err);
    if (!c) {
        bc_error(ctx, "timeline: %s", err);
        return BC_ERR;
    }
    int idx[3] = {find_col(c, "timestamp", 9), -1, -1};
    const char *cols = t->req->panels[p].columns ? t->req->panels[p].columns : "";
    int n = 0;
    for (const char *q = cols; *q && n < 2;) {
        size_t len = strcspn(q, "+");
        idx[1 + n] = find_col(c, q, len);
        if (idx[1 + n] >= 0)
            n++;
        q += len + (q[len] == '+');
    }
    int rc = BC_OK;
    if (idx[0] < 0 || n == 0) {
        bc_log(ctx, BC_LOG_DEBUG, "timeline: %s has no timestamp or no %s", path, cols);
    } else {
        tl_scan sc = {&t->pts[s][p], n};
        rc = gp_csv_scan(c, ctx, idx, 1 + n, tl_row, &sc, err, sizeof err);
        if (rc == BC_ERR)
            bc_error(ctx, "timeline: %s", err);
    }
    gp_csv_close(c);
    return rc;
}

static void tl_terminal(gp_proc *p, const tl *t, int64_t height)
{
    const char *format = t->req->format ? t->req->format : "png";
    double font = 9.0 * (double)t->o.dpi / 100.0;
    if (strcmp(format, "svg") == 0)
        gp_printf(p, "set terminal svg size %lld,%lld noenhanced font 'sans,%.3g' "
                     "background rgb 'white'\n",
                  (long long)t->o.width_px, (long long)height, font * 0.75);
    else if (strcmp(format, "pdf") == 0)
        gp_printf(p, "set terminal pdfcairo size %.4fin,%.4fin noenhanced font 'sans,%.3g'\n",
                  (double)t->o.width_px / (double)t->o.dpi, (double)height / (double)t->o.dpi,
                  font * 0.75);
    else
        gp_printf(p, "set terminal pngcairo size %lld,%lld noenhanced font 'sans,%.3g' "
                     "background rgb 'white'\n",
                  (long long)t->o.width_px, (long long)height, font * 0.75);
}

static void tl_emit(gp_proc *p, void *ud, const char *tmp)
{
    tl *t = ud;
    const bc_plot_request *req = t->req;
    int64_t height = t->o.height_px;
    if (height < 220 * (int64_t)t->npanels)
        height = 220 * (int64_t)t->npanels;
    gp_printf(p, "set encoding utf8\n");
    tl_terminal(p, t, height);
    gp_printf(p, "set output ");
    gp_quote(p, tmp);
    gp_printf(p, "\nset datafile missing 'NaN'\n");
    for (size_t s = 0; s < t->nseries; s++)
        for (size_t k = 0; k < t->npanels; k++) {
            gp_printf(p, "$d%zu_%zu << EOD\n", s, k);
            const gp_pts *v = &t->pts[s][k];
            for (size_t i = 0; i < v->n; i++) {
                if (isfinite(v->p[i].y))
                    gp_printf(p, "%.6f %.9g\n", v->p[i].x - t->t0, v->p[i].y);
                else
                    gp_printf(p, "%.6f NaN\n", v->p[i].x - t->t0);
            }
            gp_printf(p, "EOD\n");
        }
    gp_printf(p, "set multiplot layout %zu,1 title ", t->npanels);
    gp_quote(p, req->title && *req->title ? req->title : "host monitoring");
    gp_printf(p, "\nset grid lc rgb '#dddddd'\nset border lc rgb '#555555'\n"
                 "set lmargin 14\nset rmargin 4\nset tmargin 1.5\nset bmargin 1.5\n"
                 "set xrange [0:%.6f]\nset yrange [0:*]\nset ytics nomirror\n",
              t->t1 > t->t0 ? t->t1 - t->t0 : 1.0);
    for (size_t k = 0; k < t->npanels; k++) {
        gp_printf(p, "unset object\nunset label\n");
        for (size_t i = 0; i < t->nspans; i++) {
            const bc_plot_span *sp = &req->spans[i];
            double a = sp->start - t->t0, b = sp->end - t->t0;
            gp_printf(p, "set object %zu rect from %.6f, graph 0 to %.6f, graph 1 behind "
                         "fc rgb '%s' fs solid 0.6 noborder\n",
                      i + 1, a, b > a ? b : a, i % 2 ? "#e8eef6" : "#f6eee2");
            if (k == 0 && sp->label) {
                gp_printf(p, "set label %zu ", i + 1);
                gp_quote(p, sp->label);
                gp_printf(p, " at %.6f, graph 0.93 left front font ',%.3g' textcolor rgb "
                             "'#444444'\n",
                          a, 7.0 * (double)t->o.dpi / 100.0 * 0.75);
            }
        }
        const char *cols = req->panels[k].columns ? req->panels[k].columns : "";
        /* bytes: 835M, 1.5G; percentages and loads as plain numbers */
        gp_printf(p, "set format y '%s'\n",
                  strstr(cols, "bytes") || strstr(cols, "bps") ? "%.1s%c" : "%g");
        gp_printf(p, "set ylabel ");
        gp_quote(p, req->panels[k].label ? req->panels[k].label : req->panels[k].columns);
        gp_printf(p, "\n");
        if (k + 1 == t->npanels) {
            gp_printf(p, "set xlabel 'seconds since the first sample'\nset format x '%%g'\n"
                         "set bmargin 3.5\n");
        } else {
            gp_printf(p, "unset xlabel\nset format x ''\n");
        }
        if (k == 0 && t->nseries > 0)
            gp_printf(p, "set key top right horizontal opaque box lc rgb '#bbbbbb'\n");
        else
            gp_printf(p, "unset key\n");
        gp_printf(p, "plot ");
        for (size_t s = 0; s < t->nseries; s++) {
            gp_printf(p, "%s$d%zu_%zu using 1:2 with lines lw 1.5 lc rgb '%s' title ",
                      s ? ", " : "", s, k, tl_colors[s % (sizeof tl_colors / sizeof *tl_colors)]);
            gp_quote(p, req->series[s].label ? req->series[s].label : "host");
        }
        gp_printf(p, "\n");
    }
    gp_printf(p, "unset multiplot\n");
}

int gp_render_timeline(bc_ctx *ctx, const bc_plot_request *req)
{
    if (!BC_PLOT_REQ_HAS(req, n_spans) || !req->panels || req->n_panels == 0 || !req->series ||
        req->n_series == 0) {
        bc_error(ctx, "timeline: the request has no panels or no series (a core before ABI 1.5?)");
        return BC_ERR;
    }
    tl *t = calloc(1, sizeof *t);
    if (!t) {
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    t->req = req;
    gp_read_opts(ctx, &t->o);
    t->nseries = req->n_series < TL_MAX_SERIES ? req->n_series : TL_MAX_SERIES;
    t->npanels = req->n_panels < TL_MAX_PANELS ? req->n_panels : TL_MAX_PANELS;
    t->nspans = req->spans ? (req->n_spans < TL_MAX_SPANS ? req->n_spans : TL_MAX_SPANS) : 0;
    int rc = BC_OK;
    for (size_t s = 0; s < t->nseries && rc == BC_OK; s++)
        for (size_t k = 0; k < t->npanels && rc == BC_OK; k++)
            rc = read_panel(ctx, t, s, k);
    t->t0 = INFINITY;
    t->t1 = -INFINITY;
    for (size_t s = 0; s < t->nseries; s++)
        for (size_t k = 0; k < t->npanels; k++)
            for (size_t i = 0; i < t->pts[s][k].n; i++) {
                double x = t->pts[s][k].p[i].x;
                t->t0 = x < t->t0 ? x : t->t0;
                t->t1 = x > t->t1 ? x : t->t1;
            }
    for (size_t i = 0; i < t->nspans; i++) {
        t->t0 = req->spans[i].start < t->t0 ? req->spans[i].start : t->t0;
        t->t1 = req->spans[i].end > t->t1 ? req->spans[i].end : t->t1;
    }
    if (rc == BC_OK && !isfinite(t->t0)) {
        bc_error(ctx, "timeline: no samples to draw");
        rc = BC_ERR;
    }
    if (rc == BC_OK)
        rc = gp_run(ctx, req->name && *req->name ? req->name : "timeline", req->output_path,
                    t->o.keep_script, tl_emit, t);
    for (size_t s = 0; s < TL_MAX_SERIES; s++)
        for (size_t k = 0; k < TL_MAX_PANELS; k++)
            gp_pts_free(&t->pts[s][k]);
    free(t);
    return rc;
}
