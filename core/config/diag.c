/* Diagnostics: collected "FILE:LINE:COL: message" errors and warnings. */
#define _GNU_SOURCE
#include "config/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static void diag_vadd(diag *d, int warn, int line, int col, const char *fmt, va_list ap)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->items = xrealloc(d->items, d->cap * sizeof *d->items);
    }
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = xstrdup("(out of memory)");
    d->items[d->n++] = (diag_item){.line = line, .col = col, .is_warning = warn, .msg = msg};
    if (!warn)
        d->errors++;
}

void diag_error(diag *d, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, 0, line, col, fmt, ap);
    va_end(ap);
}

void diag_warn(diag *d, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, 1, line, col, fmt, ap);
    va_end(ap);
}

static int cmp_item(const void *a, const void *b)
{
    const diag_item *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return 0;
}

void diag_set_source(diag *d, const char *text, size_t len)
{
    free(d->source);
    d->source = xstrndup(text, len);
    d->source_len = strlen(d->source);
}

/* "   12 | key:\tvalue" and "      |     ^" under column col of line (1-based):
 * tabs shown as one space each, so that the caret lines up. */
static void print_source_line(const diag *d, int line, int col, FILE *out)
{
    const char *p = d->source, *end = d->source + d->source_len;
    for (int l = 1; l < line && p < end; l++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
    }
    if (p >= end && line > 1)
        return;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (len > 0 && p[len - 1] == '\r')
        len--;
    if (len > 200) /* a minified line: no use showing it */
        return;
    fprintf(out, "%6d | ", line);
    for (size_t i = 0; i < len; i++)
        fputc(p[i] == '\t' ? ' ' : p[i], out);
    fputs("\n       | ", out);
    /* columns count characters (libyaml), not bytes */
    int shown = 0;
    for (size_t i = 0; i < len && shown < col - 1; i++)
        if (((unsigned char)p[i] & 0xC0) != 0x80) {
            fputc(' ', out);
            shown++;
        }
    fputs("^\n", out);
}

void diag_print(const diag *d, FILE *out)
{
    diag_item *sorted = xmalloc((d->n ? d->n : 1) * sizeof *sorted);
    for (size_t i = 0; i < d->n; i++)
        sorted[i] = d->items[i];
    /* qsort is not stable; positions are distinct enough in practice and
     * equal positions keep a deterministic order through the index. */
    qsort(sorted, d->n, sizeof *sorted, cmp_item);
    for (size_t i = 0; i < d->n; i++) {
        const diag_item *it = &sorted[i];
        const char *kind = it->is_warning ? "warning: " : "";
        if (it->line > 0) {
            fprintf(out, "%s:%d:%d: %s%s\n", d->file, it->line, it->col, kind, it->msg);
            if (d->source && !it->is_warning) /* warnings stay one line */
                print_source_line(d, it->line, it->col, out);
        } else
            fprintf(out, "%s: %s%s\n", d->file, kind, it->msg);
    }
    free(sorted);
}

void diag_free(diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->items[i].msg);
    free(d->items);
    free(d->source);
    d->source = NULL;
    d->source_len = 0;
    d->items = NULL;
    d->n = d->cap = d->errors = 0;
}
