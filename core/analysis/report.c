/* Numbers, units and tables for the stats and compare reports. */
#define _GNU_SOURCE
#include "analysis/report.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/human.h"

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

char *rep_seconds(double s) { return human_duration(s); }

char *rep_kib(double kib) { return human_size(kib * 1024); }

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

/* s cut to w terminal columns, the last one an ellipsis when cut; owned. */
static char *fit(const char *s, size_t w)
{
    if (width(s) <= w)
        return xstrdup(s);
    size_t cols = 0, i = 0;
    for (; s[i]; i++) {
        if (((unsigned char)s[i] & 0xC0) == 0x80)
            continue;
        if (cols + 1 == w)
            break;
        cols++;
    }
    return xasprintf("%.*s…", (int)i, s);
}

/* Narrow the widest text (left-aligned) columns until the table fits in
 * max columns; each keeps at least its header and 20 columns.  Numbers are
 * never cut: a table of numbers wider than the terminal wraps. */
static void shrink(const rtable *t, size_t *w, size_t indent, size_t max)
{
    for (;;) {
        size_t total = indent + 2 * (t->ncols - 1), widest = t->ncols;
        for (size_t c = 0; c < t->ncols; c++) {
            total += w[c];
            bool text = !t->align || t->align[c] != 'r';
            size_t floor_w = width(t->cells.v[c]) > 20 ? width(t->cells.v[c]) : 20;
            if (text && w[c] > floor_w && (widest == t->ncols || w[c] > w[widest]))
                widest = c;
        }
        if (total <= max || widest == t->ncols)
            return;
        size_t floor_w = width(t->cells.v[widest]) > 20 ? width(t->cells.v[widest]) : 20;
        size_t cut = total - max, room = w[widest] - floor_w;
        w[widest] -= cut < room ? cut : room;
    }
}

void rt_print(const rtable *t, FILE *f, bool markdown, const char *indent)
{
    if (!t->ncols)
        return;
    if (markdown)
        print_markdown(t, f);
    else
        rt_print_width(t, f, indent, 0);
}

void rt_print_width(const rtable *t, FILE *f, const char *indent, int max_width)
{
    if (!t->ncols)
        return;
    size_t *w = xcalloc(t->ncols, sizeof *w);
    size_t rows = t->cells.n / t->ncols;
    for (size_t i = 0; i < t->cells.n; i++) {
        size_t cw = width(t->cells.v[i]);
        if (cw > w[i % t->ncols])
            w[i % t->ncols] = cw;
    }
    if (max_width > 0)
        shrink(t, w, indent ? width(indent) : 0, (size_t)max_width);
    for (size_t r = 0; r < rows; r++) {
        fputs(indent ? indent : "", f);
        for (size_t c = 0; c < t->ncols; c++) {
            char align = t->align && t->align[c] ? t->align[c] : 'l';
            char *cell = fit(t->cells.v[r * t->ncols + c], w[c]);
            print_padded(f, cell, w[c], align, c + 1 == t->ncols);
            free(cell);
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
