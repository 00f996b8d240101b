/*
 * Shared by the validator plugins (csv, json, jsonl): value checks for the
 * data_schema types, timestamp parsing, error reporting with a cap, and the
 * per-column summary.  Compiled into each plugin (no shared library), so
 * everything here is hidden by the plugins' visibility settings.
 *
 * Every parse function takes a pointer and a length; `s[n]` must be a NUL
 * byte (libcsv's CSV_APPEND_NULL and cJSON strings guarantee it), which lets
 * the rare slow paths (strtod) work without copying.
 */
#ifndef BC_VCHECK_H
#define BC_VCHECK_H

#include <stddef.h>
#include <stdint.h>

#include <benchctl/plugin.h>

#define VR_MAX_SHOWN 100 /* problems reported per file; the rest are counted */

typedef enum vtype { VT_STRING, VT_INTEGER, VT_FLOAT, VT_TIMESTAMP } vtype;

typedef enum tsfmt {
    TS_AUTO = 0, /* no format declared: detected from the first value */
    TS_UNIX,
    TS_UNIX_MS,
    TS_UNIX_US,
    TS_UNIX_NS,
    TS_RFC3339,
    TS_RFC3339_NANO,
    TS_ISO8601
} tsfmt;

/* One declared column and its running summary. */
typedef struct vcol {
    const char *name;
    vtype type;
    tsfmt fmt;           /* VT_TIMESTAMP: declared or detected format */
    int detected;        /* fmt was auto-detected (and logged) */
    uint64_t count;      /* values in the summary */
    uint64_t nonfinite;  /* VT_FLOAT: valid nan/inf values left out of it */
    double min, max;
    double base;         /* first value: sums are taken relative to it */
    double sum, comp;    /* Kahan-Babuska (Neumaier) sum of (x - base) */
    /* Values handed to the core (svc->column_values, ABI 1.1) in batches. */
    bc_ctx *ctx;         /* NULL: the core does not take values */
    uint32_t index;
    uint32_t nbatch;
    double batch[256];
} vcol;

/* Error reporting for one file. */
typedef struct vreport {
    bc_ctx *ctx;
    const char *path;
    uint64_t errors;     /* all problems found */
    uint64_t first_line;
    uint32_t first_column;
} vreport;

/* Result codes of the parse functions. */
enum { V_OK = 0, V_SYNTAX = 1, V_RANGE = 2 };

/* Set up cols[i] from the request's declared columns; on an unknown type or
 * format, writes a message to err and returns -1. */
int vcols_init(vcol *cols, const bc_column *decl, size_t n, char *err, size_t errsize);

/* Hand the columns' valid values to the core when it takes them (ABI 1.1
 * services column_values / column_text); call after vcols_init. */
void vcols_connect(vcol *cols, size_t n, bc_ctx *ctx);

/* Pass a batch of values on (done by vcol_value when full, and by
 * vr_finish). */
void vcol_flush(vcol *c);

/* A valid numeric value (a float's nan/inf included; timestamps in seconds). */
static inline void vcol_value(vcol *c, double x)
{
    if (!c->ctx)
        return;
    c->batch[c->nbatch++] = x;
    if (c->nbatch == sizeof c->batch / sizeof *c->batch)
        vcol_flush(c);
}

/* A valid value of a string column. */
static inline void vcol_text(vcol *c, const char *s, size_t n)
{
    if (c->ctx)
        c->ctx->svc->column_text(c->ctx, c->index, s, n);
}

const char *vts_name(tsfmt f);

/* Report one problem (line 0: the whole file; column 0: no column).  The
 * value (may be NULL) is shown at most ~200 bytes long. */
void vr_error(vreport *r, uint64_t line, uint32_t column, const char *value, size_t vlen,
              const char *fmt, ...) BC_PRINTF(6, 7);

/* End of a file: the values still batched, how many problems were not
 * shown (data_errors_suppressed), the summaries (every declared column, in
 * order) and, when there were problems, the operation's
 * error message.  Returns BC_OK or BC_ERR. */
int vr_finish(vreport *r, vcol *cols, size_t n);

/* Add a value to a column's summary. */
static inline void vcol_add(vcol *c, double x)
{
    if (c->count == 0) {
        c->min = c->max = c->base = x;
        c->count = 1;
        return;
    }
    c->count++;
    if (x < c->min)
        c->min = x;
    if (x > c->max)
        c->max = x;
    double d = x - c->base, t = c->sum + d;
    /* Neumaier: keep the low-order bits lost by the addition. */
    if ((c->sum < 0 ? -c->sum : c->sum) >= (d < 0 ? -d : d))
        c->comp += (c->sum - t) + d;
    else
        c->comp += (d - t) + c->sum;
    c->sum = t;
}

/* [+-]?[0-9]+ within int64. */
int vparse_int(const char *s, size_t n, int64_t *out);

/* Decimal float: [+-]?(digits[.digits*]|.digits)([eE][+-]?digits)?, or
 * [+-]?(inf|infinity|nan) in any case.  No spaces, no hex.  V_RANGE on
 * overflow to infinity. */
int vparse_float(const char *s, size_t n, double *out);

/* Check one textual value of a column (any type).  On success stores the
 * summary value in *x (unused for strings) and returns V_OK; otherwise writes
 * the problem to why.  For TS_AUTO the caller must have resolved the format
 * first (vts_detect). */
int vcheck_text(const vcol *c, const char *s, size_t n, double *x, char *why, size_t whysize);

/* Timestamp from text in one of the formats (for TS_UNIX* the text is a
 * number).  Seconds since the epoch in *secs. */
int vts_parse(tsfmt f, const char *s, size_t n, double *secs, char *why, size_t whysize);

/* Detect the timestamp format of a value: TS_AUTO when it is none. */
tsfmt vts_detect_text(const char *s, size_t n);
/* For a number (JSON): by magnitude. */
tsfmt vts_detect_number(double v);

/* Timestamp of a JSON number in a unix format; V_SYNTAX (with why) when the
 * format needs an integer and v is not one, or is a text format. */
int vts_number(tsfmt f, double v, double *secs, char *why, size_t whysize);

/* Number of line breaks in s (CRLF, LF or a lone CR each count once). */
uint64_t vcount_breaks(const char *s, size_t n);

/* Log (once) that a column's timestamp format was detected. */
void vts_log_detected(bc_ctx *ctx, const char *path, vcol *c, uint64_t line, const char *value,
                      size_t vlen);

#endif /* BC_VCHECK_H */
