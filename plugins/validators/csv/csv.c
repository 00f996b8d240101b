/*
 * Validator "csv": checks a CSV file against data_schema.columns[] with
 * libcsv, streaming in fixed-size chunks (memory does not depend on the
 * file's size).  The header must name the declared columns in order; every
 * value is checked against its column's type; every problem names the line
 * where its record starts (physical lines: a quoted field spanning lines
 * advances the count).  See README.md for the rules and messages.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <csv.h>

#include <benchctl/plugin.h>

#include "vcheck.h"

#define CHUNK (256 * 1024)          /* bytes per read() */
#define MAX_HEADER_FIELDS 65536     /* more is not a data file's header */
#define MAX_HEADER_BYTES (1u << 20)
#define EXTRA_SHOWN 200             /* bytes kept of a ragged row's first extra field */

typedef struct csvv {
    bc_ctx *ctx;
    vreport rep;
    vcol *cols;
    size_t ncols;
    int has_header;
    int in_header;        /* the next record is the header */
    int fatal;            /* stop: the rest of the file cannot be checked */

    /* the header's names, NUL-separated */
    char *hnames;
    size_t hlen;
    uint32_t *hoff;
    size_t nh;

    int32_t *map;         /* field position -> declared column, or -1 */
    size_t nmap;
    uint64_t expected;    /* fields per record (0: take the first record's) */

    /* the current record */
    uint64_t field;       /* fields seen so far */
    uint64_t line;        /* physical line the parser is on (1-based) */
    uint64_t rec_line;    /* where the current record started */
    int prev_cr;          /* the last thing seen was a CR ending a line */
    char extra[EXTRA_SHOWN + 1];
    size_t extra_len;
    uint64_t rows;        /* data records */
    int empty_missing;    /* `empty: missing`: an empty number is not measured */
} csvv;

static int no_space(unsigned char c)
{
    (void)c;
    return 0;
}

/* ---- header ------------------------------------------------------------ */

static void header_field(csvv *v, const char *s, size_t len)
{
    if (v->fatal)
        return;
    if (v->nh >= MAX_HEADER_FIELDS || v->hlen + len + 1 > MAX_HEADER_BYTES) {
        vr_error(&v->rep, v->rec_line, 0, NULL, 0,
                 "header larger than %d fields or %u bytes: not a data file header; the rest "
                 "of the file is not checked",
                 MAX_HEADER_FIELDS, MAX_HEADER_BYTES);
        v->fatal = 1;
        return;
    }
    if (!v->hnames) {
        v->hnames = malloc(MAX_HEADER_BYTES);
        v->hoff = malloc(MAX_HEADER_FIELDS * sizeof *v->hoff);
        if (!v->hnames || !v->hoff) {
            vr_error(&v->rep, v->rec_line, 0, NULL, 0, "out of memory reading the header");
            v->fatal = 1;
            return;
        }
    }
    v->hoff[v->nh++] = (uint32_t)v->hlen;
    memcpy(v->hnames + v->hlen, s, len);
    v->hnames[v->hlen + len] = '\0';
    v->hlen += len + 1;
}

static int find_declared(const csvv *v, const char *name)
{
    for (size_t j = 0; j < v->ncols; j++)
        if (!strcmp(v->cols[j].name, name))
            return (int)j;
    return -1;
}

/* Compare the header with the declared columns and build the position map
 * the data records are checked with: a column is checked wherever the
 * header puts it, so one misplaced or extra column does not make every
 * row wrong. */
static void finish_header(csvv *v)
{
    v->in_header = 0;
    if (v->fatal)
        return;
    size_t nh = v->nh, nc = v->ncols;
    v->expected = nh;
    v->map = malloc((nh ? nh : 1) * sizeof *v->map);
    int *pos = malloc((nc ? nc : 1) * sizeof *pos);         /* declared -> header position */
    char *renamed = calloc(nc ? nc : 1, 1);
    int *lis = malloc((nh ? nh : 1) * sizeof *lis);
    int *prev = malloc((nh ? nh : 1) * sizeof *prev);
    if (!v->map || !pos || !renamed || !lis || !prev) {
        vr_error(&v->rep, v->rec_line, 0, NULL, 0, "out of memory reading the header");
        v->fatal = 1;
        goto out;
    }
    v->nmap = nh;
    for (size_t j = 0; j < nc; j++)
        pos[j] = -1;
    for (size_t i = 0; i < nh; i++) {
        int j = find_declared(v, v->hnames + v->hoff[i]);
        v->map[i] = -1;
        if (j >= 0 && pos[j] < 0) {
            pos[j] = (int)i;
            v->map[i] = j;
        }
    }
    if (nc == 0) {
        /* No columns declared: only the shape of the file is checked. */
        for (size_t i = 0; i < nh; i++)
            v->map[i] = -1;
        goto out;
    }
    /* Out of order = not in the longest run of matched columns whose
     * declared positions increase (extra or missing columns alone do not
     * make the others "out of order"). */
    int best = -1, bestlen = 0;
    for (size_t i = 0; i < nh; i++) {
        lis[i] = 0;
        prev[i] = -1;
        if (v->map[i] < 0)
            continue;
        lis[i] = 1;
        for (size_t k = 0; k < i; k++)
            if (v->map[k] >= 0 && v->map[k] < v->map[i] && lis[k] + 1 > lis[i]) {
                lis[i] = lis[k] + 1;
                prev[i] = (int)k;
            }
        if (lis[i] > bestlen) {
            bestlen = lis[i];
            best = (int)i;
        }
    }
    for (size_t i = 0; i < nh; i++)
        lis[i] = 0;
    for (int i = best; i >= 0; i = prev[i])
        lis[i] = 1; /* now: in order */

    size_t n = nh > nc ? nh : nc;
    const uint64_t line = v->rec_line;
    for (size_t i = 0; i < n; i++) {
        if (i < nh) {
            const char *h = v->hnames + v->hoff[i];
            size_t hl = strlen(h);
            int j = find_declared(v, h);
            if (j >= 0 && pos[j] != (int)i)
                vr_error(&v->rep, line, (uint32_t)(i + 1), h, hl, "duplicate column '%s'", h);
            else if (j >= 0 && !lis[i])
                vr_error(&v->rep, line, (uint32_t)(i + 1), h, hl,
                         "column '%s' out of order: declared as column %d", h, j + 1);
            else if (j < 0 && i < nc && pos[i] < 0) {
                vr_error(&v->rep, line, (uint32_t)(i + 1), h, hl,
                         "column is named '%s', expected '%s'", h, v->cols[i].name);
                renamed[i] = 1;
            } else if (j < 0)
                vr_error(&v->rep, line, (uint32_t)(i + 1), h, hl,
                         "unexpected column '%s' (not in data_schema.columns)", h);
        }
        if (i < nc && pos[i] < 0 && !renamed[i])
            vr_error(&v->rep, line, (uint32_t)(i + 1), NULL, 0, "missing column '%s'",
                     v->cols[i].name);
    }
out:
    free(pos);
    free(renamed);
    free(lis);
    free(prev);
    free(v->hnames);
    free(v->hoff);
    v->hnames = NULL;
    v->hoff = NULL;
}

/* ---- records ----------------------------------------------------------- */

static uint32_t col32(uint64_t i) { return i >= UINT32_MAX ? UINT32_MAX : (uint32_t)i + 1; }

/* Check one value; returns 1 when it is a valid non-string value (which
 * therefore holds no line break). */
static int check_value(csvv *v, int32_t j, const char *s, size_t len, uint64_t pos)
{
    vcol *c = &v->cols[j];
    if (c->type == VT_STRING) {
        c->count++;
        vcol_text(c, s, len);
        return 0;
    }
    char why[200];
    double x;
    if (len == 0 && v->empty_missing && (c->type == VT_INTEGER || c->type == VT_FLOAT)) {
        vcol_value(c, NAN); /* not measured: valid, out of the summary */
        return 1;
    }
    if (c->type == VT_TIMESTAMP && c->fmt == TS_AUTO) {
        if (len == 0) {
            vr_error(&v->rep, v->rec_line, col32(pos), "", 0, "empty value, expected timestamp");
            return 0;
        }
        c->fmt = vts_detect_text(s, len);
        if (c->fmt == TS_AUTO) {
            vr_error(&v->rep, v->rec_line, col32(pos), s, len,
                     "cannot detect the timestamp format (expected a unix time or an "
                     "rfc3339/iso8601 date)");
            return 0;
        }
        vts_log_detected(v->ctx, v->rep.path, c, v->rec_line, s, len);
    }
    if (vcheck_text(c, s, len, &x, why, sizeof why) != V_OK) {
        vr_error(&v->rep, v->rec_line, col32(pos), s, len, "%s", why);
        return 0;
    }
    if (isfinite(x))
        vcol_add(c, x);
    else
        c->nonfinite++;
    vcol_value(c, x);
    return 1;
}

static void on_field(void *buf, size_t len, void *data)
{
    csvv *v = data;
    const char *s = buf;
    uint64_t i = v->field++;
    v->prev_cr = 0;
    if (i == 0)
        v->rec_line = v->line;
    if (buf && memchr(s, '\0', len)) {
        /* A NUL would cut the value short everywhere it goes next. */
        vr_error(&v->rep, v->rec_line, col32(i), NULL, 0, "a NUL byte in the value");
    } else if (v->in_header)
        header_field(v, s, len);
    else if (i < v->nmap) {
        int32_t j = v->map[i];
        if (j >= 0 && check_value(v, j, s, len, i))
            return;
    } else if (i == v->expected) {
        size_t k = len > EXTRA_SHOWN ? EXTRA_SHOWN : len;
        memcpy(v->extra, s, k);
        v->extra[k] = '\0';
        v->extra_len = k;
    }
    /* Only quoted fields can hold line breaks; count them. */
    v->line += vcount_breaks(s, len);
}

static void end_record(csvv *v)
{
    if (v->in_header) {
        finish_header(v);
        return;
    }
    v->rows++;
    if (v->expected == 0 && v->ncols == 0)
        v->expected = v->field; /* no schema, no header: the first row sets the width */
    if (v->field < v->expected)
        vr_error(&v->rep, v->rec_line, col32(v->field), NULL, 0,
                 "row has %llu field%s, expected %llu", (unsigned long long)v->field,
                 v->field == 1 ? "" : "s", (unsigned long long)v->expected);
    else if (v->field > v->expected)
        vr_error(&v->rep, v->rec_line, col32(v->expected), v->extra, v->extra_len,
                 "row has %llu fields, expected %llu", (unsigned long long)v->field,
                 (unsigned long long)v->expected);
}

/* libcsv reports every unquoted CR and LF (CSV_REPALL_NL): a record's end,
 * a blank line, or the LF of a CRLF.  This is where lines are counted. */
static void on_record(int c, void *data)
{
    csvv *v = data;
    if (v->field == 0) {
        /* No fields: a blank line (ignored) or the LF after a CR. */
        if (c == '\n' && v->prev_cr) {
            v->prev_cr = 0;
            return;
        }
        v->prev_cr = c == '\r';
        if (c >= 0)
            v->line++;
        return;
    }
    end_record(v);
    v->field = 0;
    v->prev_cr = c == '\r';
    if (c >= 0)
        v->line++;
}

/* ---- the operation ----------------------------------------------------- */

#define SPACE_BLOCK (16 * 1024)

/* Parse buf[0..len) (sets v->fatal when the rest cannot be checked). */
static void feed(csvv *v, struct csv_parser *p, unsigned char opts, const unsigned char *buf,
                 size_t len)
{
    size_t off = 0;
    while (off < len && !v->fatal) {
        off += csv_parse(p, buf + off, len - off, on_field, on_record, v);
        if (off == len)
            break;
        if (csv_error(p) == CSV_EPARSE) {
            /* Strict mode stopped at a stray quote: report it, then let the
             * lenient rules take that one character and go on. */
            uint64_t line = v->field ? v->rec_line : v->line;
            int after_quote = p->pstate == 3; /* libcsv's FIELD_MIGHT_HAVE_ENDED */
            vr_error(&v->rep, line, col32(v->field), NULL, 0, "%s",
                     after_quote ? "unexpected character after a closing quote"
                                 : "quote character inside an unquoted field");
            p->status = 0;
            csv_set_opts(p, opts & ~CSV_STRICT);
            off += csv_parse(p, buf + off, 1, on_field, on_record, v);
            csv_set_opts(p, opts);
            /* "ab"c goes on as an unquoted field (ab"c), as most readers do,
             * rather than swallowing the lines up to the next quote. */
            if (after_quote)
                p->quoted = 0;
        } else {
            vr_error(&v->rep, v->field ? v->rec_line : v->line, col32(v->field), NULL, 0,
                     "%s; the rest of the file is not checked", csv_strerror(csv_error(p)));
            v->fatal = 1;
        }
    }
}

static int one_char_option(bc_ctx *ctx, const char *name, unsigned char *out)
{
    const char *s = ctx->svc->opt_string(ctx, name);
    if (!s || strlen(s) != 1 || s[0] == '\r' || s[0] == '\n') {
        bc_error(ctx, "option %s must be a single character other than CR and LF, not '%s'",
                 name, s ? s : "");
        return -1;
    }
    *out = (unsigned char)s[0];
    return 0;
}

/* Read the file in chunks through libcsv until its end, a fatal problem
 * or cancellation; BC_OK, BC_ERR (message set) or BC_CANCELLED. */
static int feed_file(csvv *v, struct csv_parser *p, int fd, unsigned char *buf,
                     unsigned char delim, unsigned char opts, int64_t max_field, const char *path)
{
    int rc = BC_OK;
    int first = 1;
    for (;;) {
        if (v->ctx->svc->cancelled(v->ctx)) {
            rc = BC_CANCELLED;
            break;
        }
        ssize_t got = read(fd, buf, CHUNK);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            bc_error(v->ctx, "cannot read %s: %s", path, strerror(errno));
            rc = BC_ERR;
            break;
        }
        if (got == 0)
            break;
        size_t off = 0, len = (size_t)got;
        if (first) {
            first = 0;
            if (len >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF)
                off = 3; /* a UTF-8 byte order mark is not part of the header */
        }
        /* Spaces are part of values, so libcsv must not trim them: a space
         * function saying "never a space" does that, at a cost per byte.  In
         * a block without spaces (and tabs) libcsv's built-in test behaves
         * the same, so those blocks go without it. */
        for (; off < len && !v->fatal; off += SPACE_BLOCK) {
            size_t n = len - off < SPACE_BLOCK ? len - off : SPACE_BLOCK;
            int ws = memchr(buf + off, ' ', n) || (delim != '\t' && memchr(buf + off, '\t', n));
            csv_set_space_func(p, ws ? no_space : NULL);
            feed(v, p, opts, buf + off, n);
        }
        if (!v->fatal && p->entry_pos > (size_t)max_field) {
            vr_error(&v->rep, v->field ? v->rec_line : v->line, col32(v->field), NULL, 0,
                     "field longer than %lld bytes (an unterminated quote?); the rest of the "
                     "file is not checked",
                     (long long)max_field);
            v->fatal = 1;
        }
        if (v->fatal)
            break;
    }
    return rc;
}

static int csv_validate(bc_ctx *ctx, const bc_validate_request *req)
{
    const bc_services *svc = ctx->svc;
    unsigned char delim, quote;
    if (one_char_option(ctx, "delimiter", &delim) || one_char_option(ctx, "quote", &quote))
        return BC_ERR;
    if (delim == quote) {
        bc_error(ctx, "options delimiter and quote must differ (both are '%c')", delim);
        return BC_ERR;
    }
    int64_t max_field = svc->opt_int(ctx, "max_field_bytes");
    if (max_field <= 0)
        max_field = 1 << 20;

    csvv v = {.ctx = ctx, .rep = {.ctx = ctx, .path = req->path}, .ncols = req->n_columns,
              .line = 1};
    v.has_header = v.in_header = svc->opt_bool(ctx, "header") != 0;
    const char *empty = svc->opt_string(ctx, "empty");
    v.empty_missing = empty && strcmp(empty, "missing") == 0;
    v.cols = calloc(v.ncols ? v.ncols : 1, sizeof *v.cols);
    if (!v.cols) {
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    char err[256];
    if (vcols_init(v.cols, req->columns, v.ncols, err, sizeof err)) {
        bc_error(ctx, "%s", err);
        free(v.cols);
        return BC_ERR;
    }
    vcols_connect(v.cols, v.ncols, ctx);
    if (!v.has_header) {
        /* Positional columns; line 1 is data. */
        v.map = malloc((v.ncols ? v.ncols : 1) * sizeof *v.map);
        if (!v.map) {
            free(v.cols);
            bc_error(ctx, "out of memory");
            return BC_ERR;
        }
        for (size_t i = 0; i < v.ncols; i++)
            v.map[i] = (int32_t)i;
        v.nmap = v.ncols;
        v.expected = v.ncols;
    }

    int fd = open(req->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        bc_error(ctx, "cannot open %s: %s", req->path, strerror(errno));
        free(v.cols);
        free(v.map);
        return BC_ERR;
    }
#ifdef POSIX_FADV_SEQUENTIAL
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    unsigned char *buf = malloc(CHUNK);
    struct csv_parser p;
    const unsigned char opts = CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL | CSV_APPEND_NULL;
    if (!buf || csv_init(&p, opts) != 0) {
        free(buf);
        close(fd);
        free(v.cols);
        free(v.map);
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    csv_set_delim(&p, delim);
    csv_set_quote(&p, quote);
    csv_set_blk_size(&p, 64 * 1024);

    int rc = feed_file(&v, &p, fd, buf, delim, opts, max_field, req->path);
    close(fd);
    if (rc == BC_OK && !v.fatal) {
        if (csv_fini(&p, on_field, on_record, &v) != 0)
            vr_error(&v.rep, v.field ? v.rec_line : v.line, col32(v.field), NULL, 0,
                     "unterminated quoted field at the end of the file");
        if (v.rep.errors == 0 && v.rows == 0 && (v.in_header || !v.has_header))
            vr_error(&v.rep, 1, 0, NULL, 0,
                     v.has_header ? "empty file: no header" : "empty file: no rows");
    }
    csv_free(&p);
    free(buf);
    if (rc == BC_OK)
        rc = vr_finish(&v.rep, v.cols, v.ncols);
    free(v.hnames);
    free(v.hoff);
    free(v.map);
    free(v.cols);
    return rc;
}

static const bc_option options[] = {
    {.name = "delimiter",
     .type = BC_OPT_STRING,
     .default_value = ",",
     .min = 1, .max = 0,
     .help = "field separator, one character"},
    {.name = "quote",
     .type = BC_OPT_STRING,
     .default_value = "\"",
     .min = 1, .max = 0,
     .help = "quote character, one character"},
    {.name = "header",
     .type = BC_OPT_BOOL,
     .default_value = "true",
     .min = 1, .max = 0,
     .help = "line 1 is a header naming the columns (false: columns are positional)"},
    {.name = "max_field_bytes",
     .type = BC_OPT_INT,
     .default_value = "1048576",
     .min = 1024,
     .max = 1073741824,
     .help = "longest field accepted; bounds memory when a quote is never closed"},
    {.name = "empty",
     .type = BC_OPT_ENUM,
     .default_value = "error",
     .choices = "error|missing",
     .min = 1, .max = 0,
     .help = "an empty field in an integer or float column: an error, or a missing value "
             "(valid, left out of the summary)"},
    {0},
};

static const bc_validator_ops ops = {
    .size = sizeof(bc_validator_ops),
    .validate = csv_validate,
};

static const bc_plugin descriptor = {
    .abi = BC_PLUGIN_PREFIX,
    .kind = BC_KIND_VALIDATOR,
    .name = "csv",
    .version = "1.0.0",
    .description = "CSV files: header, field counts and typed values, streamed (libcsv)",
    .options = options,
    .ops = &ops,
};

BC_PLUGIN_ENTRY(descriptor)
