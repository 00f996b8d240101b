/*
 * The stage timeline: a Gantt chart, as inline SVG, of every stage record
 * of metadata.json "stages" (each host, each case, and each node of a
 * fanned-out stage when a record carries "node"), placed by its start and
 * end times from the run's start.  Failed stages are red and marked,
 * background stages lighter, stages that never ran grey; each bar has a
 * tooltip (<title>) with its status and duration.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/html.h"
#include "util/jsonget.h"

static bool failed_status(const char *st)
{
    return st && (strcmp(st, "failed") == 0 || strcmp(st, "timeout") == 0 ||
                  strcmp(st, "crashed") == 0 || strcmp(st, "interrupted") == 0);
}

/* "[case] name @host #node" (the label of a row, unescaped, owned). */
static char *row_label(const cJSON *s)
{
    const char *cs = jstr(s, "case"), *kind = jstr(s, "kind"), *host = jstr(s, "host");
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(s, "node");
    strbuf b = {0};
    if (cs)
        sb_printf(&b, "[%s] ", cs);
    if (kind && strcmp(kind, "stage") != 0)
        sb_printf(&b, "%s: ", kind);
    sb_puts(&b, jstr(s, "name") ? jstr(s, "name") : "?");
    if (host)
        sb_printf(&b, " @%s", host);
    if (cJSON_IsNumber(node))
        sb_printf(&b, " #%d", node->valueint);
    else if (cJSON_IsString(node))
        sb_printf(&b, " #%s", node->valuestring);
    return sb_steal(&b);
}

/* Tick spacing of about 8 ticks over span seconds: 1, 2 or 5 times a
 * power of ten. */
static double tick_step(double span)
{
    double raw = span / 8, p = pow(10, floor(log10(raw))), m = raw / p;
    return p * (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10);
}

static void bar(strbuf *sb, const cJSON *s, const char *label, double x, double y, double w,
                double t0)
{
    const char *st = jstr(s, "status");
    bool bg = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "background"));
    const char *cls = failed_status(st) ? "bar failed"
                      : (st && (strcmp(st, "not_run") == 0 || strcmp(st, "skipped") == 0))
                          ? "bar not_run"
                      : bg ? "bar bg" : "bar";
    sb_printf(sb, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"14\" "
                  "rx=\"2\"><title>",
              cls, x, y, fmax(w, 1.5));
    h_esc(sb, label);
    sb_puts(sb, ": ");
    h_esc(sb, st ? st : "?");
    double d = jnum(s, "duration_s");
    if (isfinite(d)) {
        sb_puts(sb, ", ");
        h_dur(sb, d);
    }
    double start = h_parse_time(jstr(s, "start_time"));
    if (isfinite(start) && isfinite(t0))
        sb_printf(sb, ", from +%.3f s", start - t0);
    if (bg)
        sb_puts(sb, " (background)");
    sb_puts(sb, "</title></rect>\n");
    if (failed_status(st))
        sb_printf(sb, "<text x=\"%.1f\" y=\"%.1f\" fill=\"currentColor\" "
                      "style=\"fill:var(--bad);font-weight:700\">✗ %s</text>\n",
                  x + fmax(w, 1.5) + 4, y + 11, st);
}

void h_timeline_svg(strbuf *sb, const cJSON *meta)
{
    const cJSON *stages = cJSON_GetObjectItemCaseSensitive(meta, "stages"), *s;
    int n = cJSON_GetArraySize(stages);
    if (n <= 0) {
        sb_puts(sb, "<p class=muted>No stage ran.</p>\n");
        return;
    }
    double t0 = h_parse_time(jstr(meta, "start_time")), t1 = t0;
    cJSON_ArrayForEach(s, stages)
    {
        double a = h_parse_time(jstr(s, "start_time")), b = h_parse_time(jstr(s, "end_time"));
        if (isfinite(a) && (!isfinite(t0) || a < t0))
            t0 = a;
        if (isfinite(b) && (!isfinite(t1) || b > t1))
            t1 = b;
    }
    double end = h_parse_time(jstr(meta, "end_time"));
    if (isfinite(end) && end > t1)
        t1 = end;
    double span = isfinite(t0) && isfinite(t1) && t1 > t0 ? t1 - t0 : 1;
    const double W = 1100, L = 300, R = 90, rowh = 20, top = 22;
    double w = W - L - R, H = top + rowh * n + 8;
    sb_printf(sb, "<div class=scroll><svg class=gantt viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" "
                  "role=img aria-label=\"stage timeline\">\n",
              W, H, W);
    double step = tick_step(span);
    for (double t = 0; t <= span + 1e-9; t += step) {
        double x = L + t / span * w;
        sb_printf(sb, "<line class=grid x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\"/>"
                      "<text x=\"%.1f\" y=\"14\" text-anchor=middle>%g s</text>\n",
                  x, x, top - 4, H - 4, x, t);
    }
    int i = 0;
    cJSON_ArrayForEach(s, stages)
    {
        char *label = row_label(s);
        double y = top + rowh * i + 3;
        sb_printf(sb, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=end>", L - 8, y + 11);
        size_t ll = strlen(label);
        if (ll > 46) { /* long names: the tooltip keeps the whole one */
            h_escn(sb, label, 45);
            sb_puts(sb, "…");
        } else {
            h_esc(sb, label);
        }
        sb_puts(sb, "</text>\n");
        double a = h_parse_time(jstr(s, "start_time")), b = h_parse_time(jstr(s, "end_time"));
        if (isfinite(a) && isfinite(t0)) {
            if (!isfinite(b))
                b = a + fmax(jnum(s, "duration_s"), 0);
            if (!isfinite(b))
                b = a;
            bar(sb, s, label, L + (a - t0) / span * w, y, (b - a) / span * w, t0);
        } else {
            bar(sb, s, label, L, y, 0, t0);
            sb_printf(sb, "<text x=\"%.0f\" y=\"%.1f\" class=muted "
                          "style=\"fill:var(--muted)\">not run</text>\n",
                      L + 6, y + 11);
        }
        free(label);
        i++;
    }
    sb_puts(sb, "</svg></div>\n<div class=legend><span><i style=\"background:var(--bar)\"></i>"
                "ran</span><span><i style=\"background:var(--bar);opacity:.45\"></i>background"
                "</span><span><i style=\"background:var(--bad)\"></i>failed</span>"
                "<span><i style=\"background:var(--muted);opacity:.5\"></i>not run</span></div>\n");
}
