/*
 * The reports' charts as inline SVG (no script, tooltips as <title>):
 * a distribution strip for repeated measurements and overlaid CDFs for
 * the differential report.  The stage timeline is in html_timeline.c.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/html.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Linear-interpolated quantile of sorted v. */
static double quantile(const double *v, size_t n, double q)
{
    if (n == 0)
        return NAN;
    double pos = q * (double)(n - 1);
    size_t i = (size_t)pos;
    double f = pos - (double)i;
    return i + 1 < n ? v[i] + f * (v[i + 1] - v[i]) : v[n - 1];
}

/* An axis label: the number and its unit. */
static void axis_label(strbuf *sb, double x, const char *unit)
{
    strbuf t = {0};
    h_num(&t, x);
    sb_puts(sb, t.buf ? t.buf : "");
    sb_free(&t);
    if (unit && *unit) {
        sb_puts(sb, " ");
        h_esc(sb, unit);
    }
}

void h_strip_svg(strbuf *sb, const double *v, const bool *outlier, size_t n, const char *unit)
{
    double *s = xmalloc((n ? n : 1) * sizeof *s);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            s[m++] = v[i];
    if (m == 0) {
        free(s);
        return;
    }
    qsort(s, m, sizeof *s, cmp_double);
    double lo = s[0], hi = s[m - 1];
    if (hi <= lo) {
        lo -= fabs(lo) * 0.05 + 1e-9;
        hi += fabs(hi) * 0.05 + 1e-9;
    }
    const double W = 640, L = 20, R = 20, H = 70;
    double span = hi - lo, w = W - L - R;
#define XS(x) (L + ((x) - lo) / span * w)
    sb_printf(sb, "<svg class=strip viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" role=img "
                  "aria-label=\"distribution of %zu values\">\n",
              W, H, W, m);
    double q1 = quantile(s, m, 0.25), med = quantile(s, m, 0.5), q3 = quantile(s, m, 0.75);
    sb_printf(sb, "<rect class=box x=\"%.1f\" y=\"14\" width=\"%.1f\" height=\"26\"/>"
                  "<line class=box x1=\"%.1f\" x2=\"%.1f\" y1=\"12\" y2=\"42\" "
                  "stroke-width=\"2\"><title>median ",
              XS(q1), fmax(XS(q3) - XS(q1), 1), XS(med), XS(med));
    axis_label(sb, med, unit);
    sb_puts(sb, "</title></line>\n");
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            continue;
        bool out = outlier && outlier[i];
        /* a small vertical jitter by index keeps equal values apart */
        sb_printf(sb, "<circle class=\"dot%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.2\"><title>#%zu: ",
                  out ? " out" : "", XS(v[i]), 20.0 + (double)(i % 5) * 3.5, i + 1);
        axis_label(sb, v[i], unit);
        sb_printf(sb, "%s</title></circle>\n", out ? " (outlier)" : "");
    }
    sb_printf(sb, "<line class=axis x1=\"%.0f\" x2=\"%.0f\" y1=\"48\" y2=\"48\"/>\n", L, W - R);
    sb_printf(sb, "<text x=\"%.0f\" y=\"63\">", L);
    axis_label(sb, s[0], unit);
    sb_printf(sb, "</text><text x=\"%.0f\" y=\"63\" text-anchor=end>", W - R);
    axis_label(sb, s[m - 1], unit);
    sb_printf(sb, "</text><text x=\"%.1f\" y=\"63\" text-anchor=middle>median ", XS(med));
    axis_label(sb, med, unit);
    sb_puts(sb, "</text>\n</svg>\n");
#undef XS
    free(s);
}

void h_cdf_svg(strbuf *sb, double *const *xs, const size_t *ns, const char *const *labels,
               size_t k, const char *unit)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < k; i++)
        if (ns[i]) {
            lo = fmin(lo, xs[i][0]);
            hi = fmax(hi, xs[i][ns[i] - 1]);
        }
    if (!isfinite(lo) || !isfinite(hi))
        return;
    if (hi <= lo) {
        lo -= fabs(lo) * 0.05 + 1e-9;
        hi += fabs(hi) * 0.05 + 1e-9;
    }
    const double W = 560, H = 220, L = 40, R = 16, T = 10, B = 36;
    double w = W - L - R, h = H - T - B, span = hi - lo;
    sb_printf(sb, "<svg class=cdf viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" role=img "
                  "aria-label=\"cumulative distributions\">\n",
              W, H, W);
    for (int g = 0; g <= 4; g++) {
        double y = T + h - h * g / 4.0;
        sb_printf(sb, "<line class=grid x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                      "<text x=\"%.0f\" y=\"%.1f\" text-anchor=end>%d%%</text>\n",
                  L, W - R, y, y, L - 4, y + 4, g * 25);
    }
    for (size_t i = 0; i < k; i++) {
        if (!ns[i])
            continue;
        size_t n = ns[i], step = n > 400 ? n / 400 : 1;
        /* earlier series drawn wider: identical distributions stay visible */
        sb_printf(sb, "<polyline fill=none stroke=\"%s\" stroke-width=\"%.1f\" points=\"",
                  h_color(i), 2.0 + 2.0 * (double)(k - 1 - i));
        double py = T + h;
        for (size_t j = 0; j < n; j += step) {
            double x = L + (xs[i][j] - lo) / span * w;
            double y = T + h - h * (double)(j + 1) / (double)n;
            sb_printf(sb, "%.1f,%.1f %.1f,%.1f ", x, py, x, y);
            py = y;
        }
        sb_printf(sb, "%.1f,%.1f\"><title>", L + (xs[i][n - 1] - lo) / span * w, T + 0.0);
        h_esc(sb, labels[i]);
        sb_printf(sb, " (%zu values)</title></polyline>\n", n);
    }
    sb_printf(sb, "<line class=axis x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\"/>\n", L,
              W - R, T + h, T + h);
    sb_printf(sb, "<text x=\"%.0f\" y=\"%.0f\">", L, H - 12);
    axis_label(sb, lo, unit);
    sb_printf(sb, "</text><text x=\"%.0f\" y=\"%.0f\" text-anchor=end>", W - R, H - 12);
    axis_label(sb, hi, unit);
    sb_puts(sb, "</text>\n</svg>\n<div class=legend>");
    for (size_t i = 0; i < k; i++) {
        sb_printf(sb, "<span><i style=\"background:%s\"></i>", h_color(i));
        h_esc(sb, labels[i]);
        sb_puts(sb, "</span>");
    }
    sb_puts(sb, "</div>\n");
}
