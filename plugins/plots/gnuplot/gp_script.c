/*
 * The gnuplot script: terminal, style, title, axes (time formats and a tick
 * step chosen so labels never overlap), legend placement, the data as
 * inline datablocks, and one plot command per plot type.  Every string that
 * comes from the user (titles, labels, group names, paths) goes through
 * gp_quote; the terminals run in `noenhanced` mode, so `_` and `^` in column
 * names are shown as they are.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gp.h"

/* seaborn's "deep" palette, then tab20's light shades for more groups. */
static const char *const palette[] = {
    "#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3",
    "#8c8c8c", "#ccb974", "#64b5cd", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896",
    "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
};
#define OTHER_COLOR "#7f7f7f"

static const char *color_of(const gp_plot *pl, size_t i)
{
    const gp_series *s = &pl->series[i];
    if (s->color == SIZE_MAX)
        return OTHER_COLOR;
    return palette[s->color % (sizeof palette / sizeof *palette)];
}

/* Sizes derived from the options: font size in the terminal's unit and a
 * line width scale. */
typedef struct metrics {
    double font;     /* png/svg: pixels-ish; pdf: points */
    double font_px;  /* the font's size in output pixels, for layout */
    double lw;       /* linewidth scale of the terminal */
    double ps;       /* point size scale */
} metrics;

static metrics get_metrics(const gp_opts *o, const char *format)
{
    metrics m;
    /* 11 px at 100 dpi: text keeps its size relative to the figure when
     * dpi and the pixel size grow together, as with matplotlib. */
    m.font_px = 11.0 * (double)o->dpi / 100.0;
    if (strcmp(format, "pdf") == 0) {
        /* The page is width_px/dpi inches; 1 px = 72/dpi points.  pngcairo
         * draws a font of size N about twice as large as pdfcairo relative
         * to the picture, hence the factor (measured, so PNG and PDF match). */
        m.font = m.font_px * 72.0 / (double)o->dpi * 2.0;
        m.lw = (double)o->dpi / 300.0; /* likewise for lines and points */
        m.ps = (double)o->dpi / 150.0;
    } else if (strcmp(format, "svg") == 0) {
        /* gnuplot's svg terminal: fonts come out at 3/4 of pngcairo's size
         * and points larger (measured with rsvg). */
        m.font = m.font_px * 4.0 / 3.0;
        m.lw = (double)o->dpi / 100.0;
        m.ps = (double)o->dpi / 170.0;
    } else {
        m.font = m.font_px;
        m.lw = (double)o->dpi / 100.0;
        m.ps = m.lw;
    }
    return m;
}

void gp_axis_label(const gp_col *c, char *out, size_t n)
{
    if (c->is_time)
        snprintf(out, n, "%s (UTC)", c->name);
    else if (c->unit && *c->unit)
        snprintf(out, n, "%s [%s]", c->name, c->unit);
    else
        snprintf(out, n, "%s", c->name);
}

/* ---- time axes ---------------------------------------------------------- */

static double nice_time_step(double want) { return gp_nice_step(want, true); }

/* The strftime-like format of time tick labels (gnuplot's syntax: %.3S is
 * seconds with 3 decimals). */
static void time_format(const gp_opts *o, double span, double step, char *out, size_t n)
{
    const char *f = o->x_timestamp_format ? o->x_timestamp_format : "auto";
    int decimals = step >= 1 ? 0 : step >= 0.1 ? 1 : step >= 0.01 ? 2 : step >= 0.001 ? 3 : 6;
    char sec[8];
    if (decimals)
        snprintf(sec, sizeof sec, "%%.%dS", decimals);
    else
        snprintf(sec, sizeof sec, "%%S");
    if (strcmp(f, "auto") == 0)
        f = span >= 86400 ? "full" : "medium";
    if (strcmp(f, "full") == 0)
        snprintf(out, n, "%%Y-%%m-%%d %%H:%%M:%s", sec);
    else if (strcmp(f, "short") == 0)
        snprintf(out, n, "%%M:%s", sec);
    else
        snprintf(out, n, "%%H:%%M:%s", sec);
}

/* Characters of a label in format f (approximate). */
static size_t label_chars(const char *f)
{
    size_t n = 0;
    for (const char *p = f; *p; p++) {
        if (*p != '%') {
            n++;
            continue;
        }
        p++;
        if (*p == '.') { /* %.3S */
            int d = p[1] - '0';
            n += 3 + (size_t)d;
            p += 2;
            continue;
        }
        n += *p == 'Y' ? 4 : 2;
    }
    return n;
}

/* How many tick labels of `chars` characters fit along the x axis. */
static double max_ticks(const gp_opts *o, const metrics *m, size_t chars)
{
    double plot_w = (double)o->width_px - 9.0 * m->font_px;
    if (plot_w < 50)
        plot_w = 50;
    double label = (double)chars * 0.62 * m->font_px;
    double need = label + 3.0 * m->font_px;
    double a = fabs(o->x_label_angle) * M_PI / 180.0;
    if (a > 0.05) {
        /* Rotated labels stack: what counts is their height across. */
        double across = 1.8 * m->font_px / sin(a);
        if (across < need)
            need = across;
    }
    double t = floor(plot_w / need);
    return t < 2 ? 2 : t > 12 ? 12 : t;
}

static void emit_xtics_rotation(gp_proc *p, const gp_opts *o)
{
    double a = o->x_label_angle;
    if (fabs(a) < 0.01)
        gp_printf(p, "set xtics norotate\n");
    else
        gp_printf(p, "set xtics rotate by %g %s offset 0,%g\n", a, a > 0 ? "right" : "left",
                  fabs(a) >= 60 ? 0.0 : 0.3);
}

/* Returns the characters of a tick label. */
static size_t emit_time_axis(gp_proc *p, const gp_plot *pl, const metrics *m)
{
    const gp_opts *o = pl->o;
    double span = pl->xhi - pl->xlo;
    if (span <= 0)
        span = 1;
    /* First guess with whole seconds, then refine with the real label. */
    char fmt[64];
    time_format(o, span, 1, fmt, sizeof fmt);
    double step = nice_time_step(span / max_ticks(o, m, label_chars(fmt)));
    time_format(o, span, step, fmt, sizeof fmt);
    step = nice_time_step(span / max_ticks(o, m, label_chars(fmt)));
    time_format(o, span, step, fmt, sizeof fmt);
    double start = ceil(pl->xlo / step) * step;
    gp_printf(p, "set format x ");
    gp_quote(p, fmt);
    gp_printf(p, " timedate\nset xtics %.17g, %.17g\n", start, step);
    emit_xtics_rotation(p, o);
    return label_chars(fmt);
}

/* ---- log axes, limits, integer ticks, margins ----------------------------- */

static void emit_range(gp_proc *p, char axis, uint32_t flags, uint32_t lo_bit, uint32_t hi_bit,
                       const double lim[2])
{
    if (!(flags & (lo_bit | hi_bit)))
        return;
    gp_printf(p, "set %crange [", axis);
    if (flags & lo_bit)
        gp_printf(p, "%.17g", lim[0]);
    else
        gp_printf(p, "*");
    gp_printf(p, ":");
    if (flags & hi_bit)
        gp_printf(p, "%.17g", lim[1]);
    else
        gp_printf(p, "*");
    gp_printf(p, "]\n");
}

/* Ticks of a column of whole numbers: whole steps, no decimals. */
static void emit_int_tics(gp_proc *p, char axis, double lo, double hi)
{
    double step = gp_nice_step((hi - lo) / 8, false);
    if (!(step >= 1))
        step = 1;
    gp_printf(p, "set %ctics %.17g\nset format %c '%%.0f'\n", axis, step, axis);
}

static void emit_extras(gp_proc *p, const gp_plot *pl, bool boxplot)
{
    const gp_ext *e = pl->ext;
    uint32_t f = e ? e->flags : 0;
    if (f & BC_PLOT_LOG_X)
        gp_printf(p, "set logscale x\n");
    if (f & BC_PLOT_LOG_Y)
        gp_printf(p, "set logscale y\n");
    if (e) {
        emit_range(p, 'x', f, BC_PLOT_XLO, BC_PLOT_XHI, e->xlim);
        emit_range(p, 'y', f, BC_PLOT_YLO, BC_PLOT_YHI, e->ylim);
    }
    if (!boxplot && !(f & BC_PLOT_LOG_X) && pl->x->is_int && !pl->xcat_labels && !pl->nxticks)
        emit_int_tics(p, 'x', pl->xlo, pl->xhi);
    if (pl->y_int && !(f & BC_PLOT_LOG_Y))
        emit_int_tics(p, 'y', pl->ylo, pl->yhi);
}

/* Characters of the widest numeric x tick label. */
static size_t number_chars(const gp_plot *pl)
{
    char a[64], b[64];
    int na = snprintf(a, sizeof a, "%g", pl->xlo), nb = snprintf(b, sizeof b, "%g", pl->xhi);
    return (size_t)(na > nb ? na : nb);
}

/* Room on the right for half of the last x tick label, which gnuplot's
 * automatic margin leaves out (it was clipped). */
static void emit_rmargin(gp_proc *p, const gp_opts *o, size_t chars)
{
    double a = o->x_label_angle * M_PI / 180.0;
    double rm;
    if (fabs(o->x_label_angle) < 0.01)
        rm = (double)chars * 0.5 + 1.5;
    else if (a > 0)
        rm = 2; /* right-aligned: the label ends at its tick */
    else
        rm = (double)chars * cos(a) + 1.5;
    gp_printf(p, "set rmargin %.1f\n", rm < 2 ? 2 : rm);
}

static void emit_label_tics(gp_proc *p, char axis, const char *const *labels, size_t n)
{
    gp_printf(p, "set %ctics (", axis);
    for (size_t c = 0; c < n; c++) {
        gp_printf(p, "%s", c ? ", " : "");
        gp_quote(p, labels[c]);
        gp_printf(p, " %zu", c + 1);
    }
    gp_printf(p, ")\n");
}

/* ---- legend ------------------------------------------------------------- */

typedef struct keypos {
    const char *name;  /* legend_loc value */
    const char *spec;  /* gnuplot `set key` position */
    double fx, fy;     /* anchor in graph fractions (for "best") */
} keypos;

static const keypos key_positions[] = {
    {"upper right", "inside right top", 1, 1},
    {"upper left", "inside left top", 0, 1},
    {"lower left", "inside left bottom", 0, 0},
    {"lower right", "inside right bottom", 1, 0},
    {"right", "inside right center", 1, 0.5},
    {"center left", "inside left center", 0, 0.5},
    {"center right", "inside right center", 1, 0.5},
    {"lower center", "inside center bottom", 0.5, 0},
    {"upper center", "inside center top", 0.5, 1},
    {"center", "inside center center", 0.5, 0.5},
    {"outside right", "outside right top", -1, -1},
    {"outside bottom", "outside center bottom horizontal", -1, -1},
};

/* Points of series i that represent what is drawn, for "best". */
static size_t occupancy(const gp_plot *pl, double x0, double x1, double y0, double y1)
{
    double xs = pl->xhi - pl->xlo, ys = pl->yhi - pl->ylo;
    if (xs <= 0)
        xs = 1;
    if (ys <= 0)
        ys = 1;
    size_t hits = 0;
    for (size_t i = 0; i < pl->nseries; i++) {
        const gp_series *s = &pl->series[i];
        const gp_pts *v = &s->pts;
        bool boxes = strcmp(pl->type, "histogram") == 0;
        for (size_t j = 0; j < v->n; j++) {
            double fx = (v->p[j].x - pl->xlo) / xs, fy = (v->p[j].y - pl->ylo) / ys;
            if (fx < x0 || fx > x1)
                continue;
            /* A bar covers everything below its top. */
            if (boxes ? (fy >= y0) : (fy >= y0 && fy <= y1))
                hits++;
        }
        if (strcmp(pl->type, "boxplot") == 0) {
            double fx = (s->pos - pl->xlo) / xs;
            double lo = (s->wlo - pl->ylo) / ys, hi = (s->whi - pl->ylo) / ys;
            if (fx >= x0 && fx <= x1 && hi >= y0 && lo <= y1)
                hits += 100;
        }
    }
    return hits;
}

static const char *best_position(const gp_plot *pl, const metrics *m, size_t maxlen)
{
    const gp_opts *o = pl->o;
    double plot_w = (double)o->width_px - 9.0 * m->font_px;
    double plot_h = (double)o->height_px - 6.0 * m->font_px;
    if (plot_w < 50)
        plot_w = 50;
    if (plot_h < 50)
        plot_h = 50;
    double kw = ((double)maxlen * 0.6 + 5) * 0.9 * m->font_px / plot_w;
    double kh = ((double)pl->nseries + (pl->group_name ? 1.0 : 0.0) + 0.6) * 1.25 * 0.9 *
                m->font_px / plot_h;
    /* A legend that would cover much of the plot goes beside it. */
    if (kh > 0.5 || kw > 0.5)
        return "outside right top";
    size_t best = 0, best_hits = SIZE_MAX;
    for (size_t i = 0; i < 10; i++) {
        const keypos *k = &key_positions[i];
        double x0 = k->fx * (1 - kw), y0 = k->fy * (1 - kh);
        size_t h = occupancy(pl, x0, x0 + kw, y0, y0 + kh);
        if (h < best_hits) {
            best_hits = h;
            best = i;
        }
    }
    return key_positions[best].spec;
}

/* Returns true when the legend sits beside the plot, on the right. */
static bool emit_key(gp_proc *p, const gp_plot *pl, const metrics *m)
{
    const gp_opts *o = pl->o;
    size_t titled = 0;
    for (size_t i = 0; i < pl->nseries; i++)
        titled += pl->series[i].title != NULL;
    bool show = o->legend && titled > 0 &&
                (titled > 1 || o->legend_set || strcmp(pl->type, "cdf") == 0);
    if (!show) {
        gp_printf(p, "unset key\n");
        return false;
    }
    size_t maxlen = pl->group_name ? strlen(pl->group_name) : 0;
    for (size_t i = 0; i < pl->nseries; i++)
        if (pl->series[i].title && strlen(pl->series[i].title) > maxlen)
            maxlen = strlen(pl->series[i].title);
    const char *loc = o->legend_loc ? o->legend_loc : "best";
    const char *spec = NULL;
    static const char *const codes[] = {"best", "upper right", "upper left", "lower left",
                                        "lower right", "right", "center left", "center right",
                                        "lower center", "upper center", "center"};
    if (loc[0] >= '0' && loc[0] <= '9') {
        long c = strtol(loc, NULL, 10);
        if (c >= 0 && c <= 10)
            loc = codes[c];
    }
    for (size_t i = 0; i < sizeof key_positions / sizeof *key_positions; i++)
        if (strcmp(key_positions[i].name, loc) == 0)
            spec = key_positions[i].spec;
    if (!spec)
        spec = best_position(pl, m, maxlen);
    /* A wide legend beside the plot would squeeze it: put it below. */
    double kw = ((double)maxlen * 0.6 + 5) * 0.9 * m->font_px / (double)o->width_px;
    if (strncmp(spec, "outside right", 13) == 0 && kw > 0.35)
        spec = "outside center bottom vertical";
    if (strncmp(spec, "outside center bottom", 21) == 0) {
        /* gnuplot's automatic margin lets a legend below the plot overlap
         * the x label: reserve the room (in character heights) ourselves. */
        size_t rows = titled + (pl->group_name ? 1 : 0);
        bool vertical = strstr(spec, "vertical") != NULL;
        if (!vertical)
            rows = 1 + (pl->group_name ? 1 : 0) + titled / 4;
        if (rows > 9)
            rows = 9;
        double a = fabs(o->x_label_angle) * M_PI / 180.0;
        double ticks = 1.0 + (a > 0.05 ? 8 * 0.6 * sin(a) : 0);
        gp_printf(p, "set bmargin %.2f\n", 3.5 + ticks + (double)rows * 1.15 * 0.9 + 1.2);
        if (vertical)
            gp_printf(p, "set key maxrows 8\n");
    }
    gp_printf(p, "set key %s Left reverse samplen 2 spacing 1.15 width 1 height 0.6 box lc rgb '#cccccc' "
                 "opaque font ',%.3g'\n",
              spec, m->font * 0.9);
    if (pl->group_name) {
        gp_printf(p, "set key title ");
        gp_quote(p, pl->group_name);
        gp_printf(p, " left\n");
    }
    return strncmp(spec, "outside right", 13) == 0;
}

/* ---- style -------------------------------------------------------------- */

static void emit_style(gp_proc *p, const gp_plot *pl, const metrics *m)
{
    const char *style = pl->o->style ? pl->o->style : "whitegrid";
    bool dark = strcmp(style, "darkgrid") == 0 || strcmp(style, "dark") == 0;
    bool grid = strcmp(style, "whitegrid") == 0 || strcmp(style, "darkgrid") == 0;
    if (dark) {
        gp_printf(p, "set object 1 rectangle from graph 0,0 to graph 1,1 behind "
                     "fillcolor rgb '#eaeaf2' fillstyle solid noborder\n");
        gp_printf(p, "set border 0\nset tics scale 0\n");
    } else {
        gp_printf(p, "set border 3 lc rgb '#555555' lw 0.8\nset tics nomirror\n");
        if (strcmp(style, "ticks") == 0)
            gp_printf(p, "set tics out scale 0.8\n");
        else
            gp_printf(p, "set tics scale 0.5\n");
    }
    if (grid) {
        gp_printf(p, "set grid xtics ytics back lt 1 lc rgb '%s' lw %.2g\n",
                  dark ? "#ffffff" : "#e0e0e0", dark ? 1.2 : 0.8);
        if (!dark)
            gp_printf(p, "set border 3 back\n");
    }
    (void)m;
}

/* ---- datablocks --------------------------------------------------------- */

static void emit_block(gp_proc *p, size_t i, const gp_pts *v, bool time_x)
{
    gp_printf(p, "$S%zu << EOD\n", i);
    char line[96];
    for (size_t j = 0; j < v->n; j++) {
        int n = snprintf(line, sizeof line, time_x ? "%.17g %.15g\n" : "%.15g %.15g\n",
                         v->p[j].x, v->p[j].y);
        gp_write(p, line, (size_t)n);
    }
    gp_printf(p, "EOD\n");
}

static void series_title(gp_proc *p, const gp_plot *pl, size_t i)
{
    if (pl->series[i].title) {
        gp_printf(p, " title ");
        gp_quote(p, pl->series[i].title);
    } else {
        gp_printf(p, " notitle");
    }
}

/* ---- per type ----------------------------------------------------------- */

static void plot_lines(gp_proc *p, const gp_plot *pl, const metrics *m, bool points)
{
    for (size_t i = 0; i < pl->nseries; i++)
        emit_block(p, i, &pl->series[i].pts, pl->x->is_time);
    gp_printf(p, "plot ");
    for (size_t i = 0; i < pl->nseries; i++) {
        gp_printf(p, "%s$S%zu using 1:2", i ? ", \\\n     " : "", i);
        if (points)
            gp_printf(p, " with points pt 7 ps %.2g lc rgb '%s'", 0.45 * m->ps, color_of(pl, i));
        else if (pl->marks)
            gp_printf(p, " with linespoints lw 1.5 pt 7 ps %.2g lc rgb '%s'", 0.7 * m->ps,
                      color_of(pl, i));
        else
            gp_printf(p, " with lines lw 1.3 lc rgb '%s'", color_of(pl, i));
        series_title(p, pl, i);
    }
    gp_printf(p, "\n");
}

static void plot_histogram(gp_proc *p, const gp_plot *pl)
{
    const char *el = pl->o->hist_element ? pl->o->hist_element
                                         : pl->hist_grouped ? "step" : "bars";
    for (size_t i = 0; i < pl->nseries; i++)
        emit_block(p, i, &pl->series[i].pts, pl->x->is_time);
    gp_printf(p, "set boxwidth %.17g absolute\n", pl->bin_width);
    gp_printf(p, "plot ");
    for (size_t i = 0; i < pl->nseries; i++) {
        const char *c = color_of(pl, i);
        gp_printf(p, "%s", i ? ", \\\n     " : "");
        if (strcmp(el, "step") == 0) {
            gp_printf(p, "$S%zu using 1:2 with histeps lw 2 lc rgb '%s'", i, c);
        } else if (strcmp(el, "poly") == 0) {
            gp_printf(p, "$S%zu using 1:2 with filledcurves y1=0 fs transparent solid 0.25 "
                         "noborder lc rgb '%s' notitle, \\\n     ", i, c);
            gp_printf(p, "$S%zu using 1:2 with lines lw 2 lc rgb '%s'", i, c);
        } else if (pl->nseries == 1) {
            gp_printf(p, "$S%zu using 1:2 with boxes fs solid 0.85 border lc rgb '#ffffff' "
                         "lc rgb '%s'", i, c);
        } else {
            gp_printf(p, "$S%zu using 1:2 with boxes fs transparent solid 0.35 border "
                         "lc rgb '%s' lc rgb '%s'", i, c, c);
        }
        series_title(p, pl, i);
    }
    gp_printf(p, "\n");
}

static void plot_cdf(gp_proc *p, const gp_plot *pl)
{
    for (size_t i = 0; i < pl->nseries; i++)
        emit_block(p, i, &pl->series[i].pts, pl->x->is_time);
    gp_printf(p, "plot ");
    for (size_t i = 0; i < pl->nseries; i++) {
        gp_printf(p, "%s$S%zu using 1:2 with steps lw 2 lc rgb '%s'", i ? ", \\\n     " : "",
                  i, color_of(pl, i));
        series_title(p, pl, i);
    }
    gp_printf(p, "\n");
}

static void plot_boxplot(gp_proc *p, const gp_plot *pl, const metrics *m)
{
    /* One datablock of boxes (pos q1 wlo whi q3 width med), one of outliers
     * per series. */
    for (size_t i = 0; i < pl->nseries; i++) {
        const gp_series *s = &pl->series[i];
        gp_printf(p, "$B%zu << EOD\n%.17g %.15g %.15g %.15g %.15g %.15g %.15g\nEOD\n", i,
                  s->pos, s->q1, s->wlo, s->whi, s->q3, s->width, s->med);
        gp_pts o = s->outliers;
        gp_printf(p, "$O%zu << EOD\n", i);
        for (size_t j = 0; j < o.n; j++)
            gp_printf(p, "%.17g %.15g\n", o.p[j].x, o.p[j].y);
        gp_printf(p, "EOD\n");
    }
    gp_printf(p, "plot ");
    bool first = true;
    /* With one box per category and no groups, no legend is needed; series
     * titles are set only when groups are shown. */
    for (size_t i = 0; i < pl->nseries; i++) {
        const gp_series *s = &pl->series[i];
        const char *c = color_of(pl, i);
        bool titled = s->title != NULL;
        /* The same group appears in several categories: title it once. */
        for (size_t j = 0; j < i && titled; j++)
            if (pl->series[j].title && strcmp(pl->series[j].title, s->title) == 0)
                titled = false;
        gp_printf(p, "%s$B%zu using 1:2:3:4:5:6 with candlesticks whiskerbars 0.5 "
                     "fs solid 0.8 border lc rgb '#3a3a3a' lw 1.2 lc rgb '%s'",
                  first ? "" : ", \\\n     ", i, c);
        if (titled) {
            gp_printf(p, " title ");
            gp_quote(p, s->title);
        } else {
            gp_printf(p, " notitle");
        }
        gp_printf(p, ", \\\n     $B%zu using 1:7:7:7:7:6 with candlesticks lc rgb '#3a3a3a' "
                     "lw 2 notitle",
                  i);
        if (s->outliers.n)
            gp_printf(p, ", \\\n     $O%zu using 1:2 with points pt 6 ps %.2g lc rgb '#3a3a3a' "
                         "notitle",
                      i, 0.5 * m->ps);
        first = false;
    }
    gp_printf(p, "\n");
}

/* ---- the script --------------------------------------------------------- */

void gp_emit(gp_proc *p, const gp_plot *pl, const char *tmp_path)
{
    const gp_opts *o = pl->o;
    const char *format = pl->req->format ? pl->req->format : "png";
    metrics m = get_metrics(o, format);
    gp_printf(p, "set encoding utf8\n");
    if (strcmp(format, "svg") == 0)
        gp_printf(p, "set terminal svg size %lld,%lld noenhanced font 'sans,%.3g' "
                     "linewidth %.3g background rgb 'white'\n",
                  (long long)o->width_px, (long long)o->height_px, m.font, m.lw);
    else if (strcmp(format, "pdf") == 0)
        gp_printf(p, "set terminal pdfcairo size %.4fin,%.4fin noenhanced font 'sans,%.3g' "
                     "linewidth %.3g\n",
                  (double)o->width_px / (double)o->dpi, (double)o->height_px / (double)o->dpi,
                  m.font, m.lw);
    else
        gp_printf(p, "set terminal pngcairo size %lld,%lld noenhanced font 'sans,%.3g' "
                     "linewidth %.3g background rgb 'white'\n",
                  (long long)o->width_px, (long long)o->height_px, m.font, m.lw);
    gp_printf(p, "set output ");
    gp_quote(p, tmp_path);
    gp_printf(p, "\nset title ");
    gp_quote(p, pl->req->title && *pl->req->title ? pl->req->title : pl->req->name);
    gp_printf(p, " font ',%.3g'\n", m.font * 1.2);
    gp_printf(p, "set xlabel ");
    gp_quote(p, pl->xlabel);
    gp_printf(p, "\nset ylabel ");
    gp_quote(p, pl->ylabel);
    gp_printf(p, "\n");
    emit_style(p, pl, &m);
    gp_printf(p, "set datafile separator whitespace\nset datafile missing 'NaN'\n");

    const char *t = pl->type;
    bool boxplot = strcmp(t, "boxplot") == 0;
    size_t xchars = 0;
    double span = pl->xhi - pl->xlo;
    double pad = span > 0 ? 0 : 1;
    if (boxplot) {
        /* Categories at 1..n. */
        gp_printf(p, "set xrange [%.17g:%.17g]\nset xtics (", pl->xlo, pl->xhi);
        const gp_keys *k = pl->cats;
        for (size_t c = 0; !k && c < pl->ncat_labels; c++) { /* across: a box per case */
            gp_printf(p, "%s", c ? ", " : "");
            gp_quote(p, pl->cat_labels[c]);
            gp_printf(p, " %zu", c + 1);
        }
        if (!k && !pl->ncat_labels) { /* one box: named after its column */
            gp_quote(p, pl->x->name);
            gp_printf(p, " 1");
        }
        for (size_t c = 0; k && c < k->nshown; c++) {
            gp_printf(p, "%s", c ? ", " : "");
            gp_quote(p, gp_keys_label(k, c));
            gp_printf(p, " %zu", c + 1);
        }
        gp_printf(p, ")\n");
        emit_xtics_rotation(p, o);
        gp_printf(p, "set xtics scale 0\nset grid noxtics\n");
        gp_printf(p, "set autoscale yfix\nset offsets 0,0,graph 0.05,graph 0.05\n");
    } else {
        bool logx = pl->ext && (pl->ext->flags & BC_PLOT_LOG_X);
        double lo = pl->xlo - pad, hi = pl->xhi + pad;
        if (strcmp(t, "time_series") != 0 && strcmp(t, "cdf") != 0) {
            lo = pl->xlo - span * 0.02;
            hi = pl->xhi + span * 0.02;
        }
        if (pl->xcat_labels) {
            lo = 0.5;
            hi = (double)pl->nxcat_labels + 0.5;
        }
        if (pl->marks && !pl->xcat_labels) { /* no mark cut in half by the border */
            lo = logx ? pl->xlo / 1.15 : pl->xlo - (span > 0 ? span * 0.04 : 1);
            hi = logx ? pl->xhi * 1.15 : pl->xhi + (span > 0 ? span * 0.04 : 1);
        }
        /* A log axis cannot start at or below 0: gnuplot then picks it. */
        if ((span > 0 || pl->xcat_labels || strcmp(t, "time_series") == 0 ||
             strcmp(t, "cdf") == 0) && (!logx || lo > 0))
            gp_printf(p, "set xrange [%.17g:%.17g]\n", lo, hi);
        if (pl->x->is_time && !pl->elapsed) {
            xchars = emit_time_axis(p, pl, &m);
        } else {
            emit_xtics_rotation(p, o);
            xchars = number_chars(pl);
        }
        if (pl->xcat_labels)
            emit_label_tics(p, 'x', pl->xcat_labels, pl->nxcat_labels);
        for (size_t i = 0; i < pl->nxticks; i++)
            gp_printf(p, "%s%.15g%s", i ? ", " : "set xtics (", pl->xticks[i],
                      i + 1 == pl->nxticks ? ")\n" : "");
        if (strcmp(t, "histogram") == 0)
            gp_printf(p, "set yrange [0:%.17g]\n", pl->yhi > 0 ? pl->yhi * 1.06 : 1);
        else if (strcmp(t, "cdf") == 0)
            gp_printf(p, "set yrange [0:1.02]\nset ytics 0,0.1,1\n");
        else
            gp_printf(p, "set autoscale yfix\nset offsets 0,0,graph 0.05,graph 0.05\n");
    }
    emit_extras(p, pl, boxplot);
    if (!emit_key(p, pl, &m) && !boxplot)
        emit_rmargin(p, o, xchars);

    if (strcmp(t, "time_series") == 0)
        plot_lines(p, pl, &m, false);
    else if (strcmp(t, "scatter") == 0)
        plot_lines(p, pl, &m, true);
    else if (strcmp(t, "histogram") == 0)
        plot_histogram(p, pl);
    else if (strcmp(t, "cdf") == 0)
        plot_cdf(p, pl);
    else
        plot_boxplot(p, pl, &m);
    gp_printf(p, "unset output\n");
}
