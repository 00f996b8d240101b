/* Diagnostics: collected "FILE:LINE:COL: message" errors and warnings. */
#ifndef BENCHCTL_DIAG_H
#define BENCHCTL_DIAG_H

#include <stddef.h>
#include <stdio.h>

typedef struct diag_item {
    int line, col; /* 1-based; 0 when not tied to a place in the file */
    int is_warning;
    char *msg;
} diag_item;

typedef struct diag {
    const char *file; /* borrowed; printed in front of every message */
    diag_item *items;
    size_t n, cap;
    size_t errors;
    char *source;      /* owned copy of the file's text (diag_set_source), or NULL */
    size_t source_len;
} diag;

/* Record an error / warning at line:col (0:0 for the file as a whole). */
void diag_error(diag *d, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void diag_warn(diag *d, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Keep a copy of the file's text, so that diag_print can show each
 * positioned item's source line with a caret under its column. */
void diag_set_source(diag *d, const char *text, size_t len);
/* Print all items, sorted by position, as FILE:LINE:COL: [warning: ]msg,
 * each error followed (with a source) by its line of the file and a
 * caret under the column. */
void diag_print(const diag *d, FILE *out);
void diag_free(diag *d);

#endif
