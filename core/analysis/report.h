/*
 * Formatting for the reports of `benchctl stats` and `compare`: numbers
 * with a few significant digits and units, and tables printed either
 * aligned for a terminal or as GitHub-flavoured Markdown.
 */
#ifndef BENCHCTL_REPORT_H
#define BENCHCTL_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "util/util.h"

/* Each returns an owned string; NAN (an undefined statistic) gives "-". */
char *rep_num(double v);                        /* 4 significant digits */
char *rep_num_unit(double v, const char *unit); /* "12.5 ms"; unit may be NULL */
char *rep_seconds(double s);                    /* human_duration (util/human.h) */
char *rep_kib(double kib);                      /* human_size of kib KiB */
char *rep_pct(double fraction, bool sign);      /* 0.053 -> "5.3%" ("+5.3%") */

/* A table of owned cells.  align: one letter per column, 'l' or 'r'. */
typedef struct rtable {
    size_t ncols;
    const char *align;
    strvec cells; /* row-major; the first row is the header */
} rtable;

void rt_init(rtable *t, const char *align, ...); /* the headers, NULL-terminated */
void rt_init_list(rtable *t, const char *align, const char *const *headers); /* NULL-ended */
void rt_add(rtable *t, char *cell); /* takes ownership; NULL -> "-" */
void rt_addf(rtable *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t rt_rows(const rtable *t); /* data rows (header not counted) */
/* Aligned columns (each line starts with indent), or a Markdown table. */
void rt_print(const rtable *t, FILE *f, bool markdown, const char *indent);
/* Aligned columns sized to their content and to max_width terminal
 * columns (0: no limit): the widest text (left-aligned) columns are
 * narrowed, their cells cut with an ellipsis, until the table fits;
 * numbers (right-aligned) are never cut, text keeps 20 columns. */
void rt_print_width(const rtable *t, FILE *f, const char *indent, int max_width);
void rt_free(rtable *t);

/* Escape text for a Markdown table cell ('|' and line breaks); owned. */
char *rep_md_escape(const char *s);

#endif
