/* Numbers, units and tables for the stats and compare reports. */
#define _GNU_SOURCE
#include "analysis/report.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

char *rep_num(double v)
{
    if (!isfinite(v))
        return xstrdup(isnan(v) ? "-" : v > 0 ? "inf" : "-inf");
    /* %.4g keeps tables narrow; integers up to 6 digits are shown whole
     * because a count such as 123456 reads worse as 1.235e+05. */
    if (v == floor(v) && fabs(v) < 1e6)
        return xasprintf("%.0f", v);
    return xasprintf("%.4g", v);
}

char *rep_num_unit(double v, const char *unit)
{
    char *n = rep_num(v);
    if (!unit || !*unit || isnan(v))
        return n;
    char *s = xasprintf("%s %s", n, unit);
    free(n);
    return s;
}

/* v / scale with 4 significant digits and a unit suffix. */
static char *scaled(double v, double scale, const char *unit)
{
    return xasprintf("%.4g %s", v / scale, unit);
}

char *rep_seconds(double s)
{
    if (!isfinite(s))
        return rep_num(s);
    double a = fabs(s);
    if (a == 0)
        return xstrdup("0 s");
    if (a < 1e-6)
        return scaled(s, 1e-9, "ns");
    if (a < 1e-3)
        return scaled(s, 1e-6, "µs");
    if (a < 1)
        return scaled(s, 1e-3, "ms");
    return scaled(s, 1, "s");
}

char *rep_kib(double kib)
{
    if (!isfinite(kib))
        return rep_num(kib);
    double a = fabs(kib);
    if (a < 1024)
        return scaled(kib, 1, "KiB");
    if (a < 1024.0 * 1024)
        return scaled(kib, 1024, "MiB");
    return scaled(kib, 1024.0 * 1024, "GiB");
}

char *rep_pct(double fraction, bool sign)
{
    if (!isfinite(fraction))
        return rep_num(fraction);
    double p = fraction * 100;
    const char *fmt = sign ? "%+.3g%%" : "%.3g%%";
    if (fabs(p) >= 1000)
        fmt = sign ? "%+.0f%%" : "%.0f%%";
    return xasprintf(fmt, p);
}

void rt_init(rtable *t, const char *align, ...)
{
    memset(t, 0, sizeof *t);
    t->align = align;
    va_list ap;
    va_start(ap, align);
    for (const char *h; (h = va_arg(ap, const char *));) {
        sv_push(&t->cells, h);
        t->ncols++;
    }
    va_end(ap);
}

void rt_init_list(rtable *t, const char *align, const char *const *headers)
{
    memset(t, 0, sizeof *t);
    t->align = align;
    for (; *headers; headers++) {
        sv_push(&t->cells, *headers);
        t->ncols++;
    }
}

void rt_add(rtable *t, char *cell)
{
    if (cell)
        sv_push_owned(&t->cells, cell);
    else
        sv_push(&t->cells, "-");
}

void rt_addf(rtable *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    rt_add(t, s ? s : xstrdup("?"));
}

size_t rt_rows(const rtable *t)
{
    return t->ncols ? t->cells.n / t->ncols - 1 : 0;
}

/* Terminal columns taken by UTF-8 text: one per code point (µ, ±, –). */
static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

char *rep_md_escape(const char *s)
{
    strbuf sb = {0};
    sb_puts(&sb, "");
    for (; *s; s++) {
        if (*s == '|')
            sb_puts(&sb, "\\|");
        else if (*s == '\n' || *s == '\r')
            sb_puts(&sb, " ");
        else
            sb_add(&sb, s, 1);
    }
    return sb_steal(&sb);
}

static void print_padded(FILE *f, const char *s, size_t w, char align, bool last)
{
    size_t pad = w > width(s) ? w - width(s) : 0;
    if (align == 'r')
        fprintf(f, "%*s%s", (int)pad, "", s);
    else if (last)
        fputs(s, f); /* no trailing blanks */
    else
        fprintf(f, "%s%*s", s, (int)pad, "");
}

static void print_markdown(const rtable *t, FILE *f)
{
    size_t rows = t->cells.n / t->ncols;
    for (size_t r = 0; r < rows; r++) {
        fputs("|", f);
        for (size_t c = 0; c < t->ncols; c++) {
            char *cell = rep_md_escape(t->cells.v[r * t->ncols + c]);
            fprintf(f, " %s |", cell);
            free(cell);
        }
        fputs("\n", f);
        if (r == 0) {
            fputs("|", f);
            for (size_t c = 0; c < t->ncols; c++)
                fputs(t->align && t->align[c] == 'r' ? " ---: |" : " --- |", f);
            fputs("\n", f);
        }
    }
}

void rt_print(const rtable *t, FILE *f, bool markdown, const char *indent)
{
    if (!t->ncols)
        return;
    if (markdown) {
        print_markdown(t, f);
        return;
    }
    size_t *w = xcalloc(t->ncols, sizeof *w);
    size_t rows = t->cells.n / t->ncols;
    for (size_t i = 0; i < t->cells.n; i++) {
        size_t cw = width(t->cells.v[i]);
        if (cw > w[i % t->ncols])
            w[i % t->ncols] = cw;
    }
    for (size_t r = 0; r < rows; r++) {
        fputs(indent ? indent : "", f);
        for (size_t c = 0; c < t->ncols; c++) {
            char align = t->align && t->align[c] ? t->align[c] : 'l';
            print_padded(f, t->cells.v[r * t->ncols + c], w[c], align, c + 1 == t->ncols);
            if (c + 1 < t->ncols)
                fputs("  ", f);
        }
        fputs("\n", f);
    }
    free(w);
}

void rt_free(rtable *t)
{
    sv_free(&t->cells);
    t->ncols = 0;
}
