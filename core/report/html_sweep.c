/*
 * Sweeps in a run's report: for a run whose cases have parameters
 * (matrix:), a table of the cases (parameters, then the median of every
 * metric) and, per numeric parameter, a metric-vs-parameter chart of each
 * metric (one line per combination of the other parameters).  Metrics are
 * the output columns compare tests (cm_column_why_not) and the wall time
 * of repeated stages.  Nothing when the cases have no parameters.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/compare_metrics.h"
#include "analysis/scaling.h"
#include "report/html.h"
#include "report/html_run.h"
#include "util/jsonget.h"

#define MAX_CHARTS 24

typedef struct sweep {
    const cJSON **cases;
    size_t ncases;
    strvec keys, units, params; /* metric keys, their units ("" none), parameter names */
    double *v;                  /* v[metric * ncases + case]: the median */
} sweep;

static size_t metric_index(sweep *s, const char *key, const char *unit)
{
    for (size_t i = 0; i < s->keys.n; i++)
        if (strcmp(s->keys.v[i], key) == 0)
            return i;
    sv_push(&s->keys, key);
    sv_push(&s->units, unit ? unit : "");
    s->v = xrealloc(s->v, s->keys.n * s->ncases * sizeof *s->v);
    for (size_t c = 0; c < s->ncases; c++)
        s->v[(s->keys.n - 1) * s->ncases + c] = NAN;
    return s->keys.n - 1;
}

static void collect(sweep *s, const cJSON *results)
{
    const cJSON *c, *o, *col, *st, *p;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(results, "cases"))
    {
        s->cases = xrealloc(s->cases, (s->ncases + 1) * sizeof *s->cases);
        s->cases[s->ncases++] = c;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(c, "parameters"))
        {
            if (p->string && !sv_contains(&s->params, p->string))
                sv_push(&s->params, p->string);
        }
    }
    for (size_t ci = 0; ci < s->ncases; ci++) {
        c = s->cases[ci];
        cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(c, "outputs"))
        {
            cJSON_ArrayForEach(col, cJSON_GetObjectItemCaseSensitive(o, "columns"))
            {
                if (cm_column_why_not(o, col))
                    continue;
                char *key = xasprintf("%s.%s", jstr(o, "name") ? jstr(o, "name") : "?",
                                      col->string);
                size_t m = metric_index(s, key, jstr(col, "unit"));
                s->v[m * s->ncases + ci] = jnum(col, "median");
                free(key);
            }
        }
        cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(c, "stages"))
        {
            const cJSON *rep = cJSON_GetObjectItemCaseSensitive(st, "repeat");
            const cJSON *w = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(rep, "metrics"), "wall_s");
            if (!w)
                continue;
            char *key = xasprintf("stage:%s.wall_s", jstr(st, "name") ? jstr(st, "name") : "?");
            size_t m = metric_index(s, key, "s");
            s->v[m * s->ncases + ci] = jnum(w, "median");
            free(key);
        }
    }
}

/* The value of parameter name of case c as a number, or NaN. */
static double param_num(const cJSON *c, const char *name)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(c, "parameters"), name);
    double x;
    if (cJSON_IsNumber(p))
        return p->valuedouble;
    if (cJSON_IsString(p) && parse_double(p->valuestring, &x))
        return x;
    return NAN;
}

/* "a=1, b=x": the parameters of c other than skip (owned). */
static char *others(const cJSON *c, const char *skip)
{
    strbuf b = {0};
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(c, "parameters"))
    {
        if (!p->string || strcmp(p->string, skip) == 0)
            continue;
        char *v = cJSON_IsString(p) ? xstrdup(p->valuestring) : cJSON_PrintUnformatted(p);
        sb_printf(&b, "%s%s=%s", b.len ? ", " : "", p->string, v);
        free(v);
    }
    return b.len ? sb_steal(&b) : xstrdup("all cases");
}

static void table(strbuf *sb, const sweep *s)
{
    sb_puts(sb, "<div class=scroll><table class=\"sortable sweep\"><thead><tr><th>case</th>");
    for (size_t p = 0; p < s->params.n; p++) {
        sb_puts(sb, "<th>");
        h_esc(sb, s->params.v[p]);
        sb_puts(sb, "</th>");
    }
    for (size_t m = 0; m < s->keys.n; m++) {
        sb_puts(sb, "<th class=n>");
        h_esc(sb, s->keys.v[m]);
        if (*s->units.v[m]) {
            sb_puts(sb, " (");
            h_esc(sb, s->units.v[m]);
            sb_puts(sb, ")");
        }
        sb_puts(sb, "</th>");
    }
    sb_puts(sb, "</tr></thead><tbody>\n");
    for (size_t c = 0; c < s->ncases; c++) {
        sb_puts(sb, "<tr><td>");
        h_esc(sb, jstr(s->cases[c], "name"));
        sb_puts(sb, "</td>");
        for (size_t p = 0; p < s->params.n; p++) {
            double x = param_num(s->cases[c], s->params.v[p]);
            if (isfinite(x))
                sb_printf(sb, "<td data-v=\"%.17g\">", x);
            else
                sb_puts(sb, "<td>");
            h_json_text(sb, cJSON_GetObjectItemCaseSensitive(
                                cJSON_GetObjectItemCaseSensitive(s->cases[c], "parameters"),
                                s->params.v[p]));
            sb_puts(sb, "</td>");
        }
        for (size_t m = 0; m < s->keys.n; m++) {
            double x = s->v[m * s->ncases + c];
            if (isfinite(x))
                sb_printf(sb, "<td class=n data-v=\"%.17g\">", x);
            else
                sb_puts(sb, "<td class=n>");
            h_num(sb, x);
            sb_puts(sb, "</td>");
        }
        sb_puts(sb, "</tr>\n");
    }
    sb_puts(sb, "</tbody></table></div>\n");
}

/* One chart: metric m against parameter p, a line per combination of the
 * other parameters. */
static void chart(strbuf *sb, const sweep *s, size_t m, const char *p)
{
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (size_t c = 0; c < s->ncases; c++) {
        double x = param_num(s->cases[c], p), y = s->v[m * s->ncases + c];
        if (!isfinite(x) || !isfinite(y))
            continue;
        xlo = fmin(xlo, x), xhi = fmax(xhi, x), ylo = fmin(ylo, y), yhi = fmax(yhi, y);
    }
    if (!(xhi > xlo) || !isfinite(ylo))
        return;
    ylo = fmin(ylo, 0);
    if (!(yhi > ylo))
        yhi = ylo + 1;
    const double W = 420, H = 220, L = 56, R = 12, T = 12, B = 34;
    double w = W - L - R, h = H - T - B;
    sb_puts(sb, "<figure><figcaption><b>");
    h_esc(sb, s->keys.v[m]);
    sb_puts(sb, "</b> against ");
    h_esc(sb, p);
    sb_printf(sb, "</figcaption>\n<svg viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" role=img>\n", W,
              H, W);
    for (int g = 0; g <= 4; g++) {
        double y = T + h - h * g / 4.0;
        sb_printf(sb, "<line class=grid x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                      "<text x=\"%.0f\" y=\"%.1f\" text-anchor=end>",
                  L, W - R, y, y, L - 4, y + 4);
        h_num(sb, ylo + (yhi - ylo) * g / 4.0);
        sb_puts(sb, "</text>\n");
    }
    sb_printf(sb, "<text x=\"%.0f\" y=\"%.0f\">", L, H - 8);
    h_num(sb, xlo);
    sb_printf(sb, "</text><text x=\"%.0f\" y=\"%.0f\" text-anchor=end>", W - R, H - 8);
    h_num(sb, xhi);
    sb_puts(sb, "</text>\n");
    strvec groups = {0};
    for (size_t c = 0; c < s->ncases; c++) {
        char *g = others(s->cases[c], p);
        if (!sv_contains(&groups, g))
            sv_push(&groups, g);
        free(g);
    }
    for (size_t gi = 0; gi < groups.n; gi++) {
        /* the group's points in order of x (cases are few: a selection sort) */
        size_t *idx = xmalloc(s->ncases * sizeof *idx), k = 0;
        for (size_t c = 0; c < s->ncases; c++) {
            char *g = others(s->cases[c], p);
            if (strcmp(g, groups.v[gi]) == 0 && isfinite(param_num(s->cases[c], p)) &&
                isfinite(s->v[m * s->ncases + c]))
                idx[k++] = c;
            free(g);
        }
        for (size_t a = 0; a < k; a++)
            for (size_t b = a + 1; b < k; b++)
                if (param_num(s->cases[idx[b]], p) < param_num(s->cases[idx[a]], p)) {
                    size_t t = idx[a];
                    idx[a] = idx[b];
                    idx[b] = t;
                }
        sb_printf(sb, "<polyline fill=none stroke=\"%s\" stroke-width=\"2\" points=\"",
                  h_color(gi));
        for (size_t a = 0; a < k; a++)
            sb_printf(sb, "%.1f,%.1f ",
                      L + (param_num(s->cases[idx[a]], p) - xlo) / (xhi - xlo) * w,
                      T + h - (s->v[m * s->ncases + idx[a]] - ylo) / (yhi - ylo) * h);
        sb_puts(sb, "\"/>\n");
        for (size_t a = 0; a < k; a++) {
            sb_printf(sb, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>",
                      L + (param_num(s->cases[idx[a]], p) - xlo) / (xhi - xlo) * w,
                      T + h - (s->v[m * s->ncases + idx[a]] - ylo) / (yhi - ylo) * h,
                      h_color(gi));
            h_esc(sb, jstr(s->cases[idx[a]], "name"));
            sb_puts(sb, ": ");
            h_num(sb, s->v[m * s->ncases + idx[a]]);
            sb_puts(sb, "</title></circle>\n");
        }
        free(idx);
    }
    sb_puts(sb, "</svg>\n<div class=legend>");
    for (size_t gi = 0; gi < groups.n && groups.n > 1; gi++) {
        sb_printf(sb, "<span><i style=\"background:%s\"></i>", h_color(gi));
        h_esc(sb, groups.v[gi]);
        sb_puts(sb, "</span>");
    }
    sb_puts(sb, "</div></figure>\n");
    sv_free(&groups);
}

void rr_section_sweep(strbuf *sb, const cJSON *results)
{
    if (!results || !scaling_applies(results))
        return;
    sweep s = {0};
    collect(&s, results);
    h_section_open(sb, "sweep", "Sweep: metrics by parameter");
    sb_puts(sb, "<p class=muted>The median of every metric per case.</p>\n");
    table(sb, &s);
    sb_puts(sb, "<div class=figs>\n");
    int n = 0;
    for (size_t p = 0; p < s.params.n; p++)
        for (size_t m = 0; m < s.keys.n && n < MAX_CHARTS; m++) {
            size_t before = sb->len;
            chart(sb, &s, m, s.params.v[p]);
            n += sb->len > before;
        }
    sb_puts(sb, "</div>\n");
    h_section_close(sb);
    sv_free(&s.keys);
    sv_free(&s.units);
    sv_free(&s.params);
    free(s.v);
    free(s.cases);
}
