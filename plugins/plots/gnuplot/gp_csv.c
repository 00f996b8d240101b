/*
 * Streaming CSV reading on libcsv, and parsing of numbers and timestamps.
 * Memory: one 256 KiB read buffer, libcsv's field buffer (the longest
 * field) and copies of the (at most 3) requested fields of the current row.
 */
#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gp.h"

#define CHUNK (256 * 1024)
#define MAX_HEADER_COLS 65536

struct gp_csv {
    char *path;
    char **names;
    size_t ncols, cap;
};

/* Scan state shared with the libcsv callbacks. */
typedef struct scan {
    bool header;       /* reading the header row */
    gp_csv *c;
    const int *idx;
    int n;
    size_t field;      /* index of the current field in its row */
    char *val[3];      /* copies of requested fields of the current row */
    size_t vcap[3];
    bool have[3];
    uint64_t row;      /* data rows so far */
    gp_row_fn fn;
    void *ud;
    int stop;
    bool oom;
} scan;

static void on_field(void *data, size_t len, void *ud)
{
    scan *s = ud;
    if (s->stop)
        return;
    if (s->header) {
        gp_csv *c = s->c;
        if (!c || c->ncols >= MAX_HEADER_COLS) /* scans skip the header */
            return;
        if (c->ncols == c->cap) {
            size_t nc = c->cap ? c->cap * 2 : 16;
            char **nn = realloc(c->names, nc * sizeof *nn);
            if (!nn) {
                s->oom = true;
                return;
            }
            c->names = nn;
            c->cap = nc;
        }
        const char *f = data ? data : "";
        /* A UTF-8 byte order mark before the first name is not part of it. */
        if (c->ncols == 0 && len >= 3 && memcmp(f, "\xEF\xBB\xBF", 3) == 0) {
            f += 3;
            len -= 3;
        }
        char *copy = malloc(len + 1);
        if (!copy) {
            s->oom = true;
            return;
        }
        memcpy(copy, f, len);
        copy[len] = '\0';
        c->names[c->ncols++] = copy;
        return;
    }
    for (int i = 0; i < s->n; i++) {
        if (s->idx[i] < 0 || (size_t)s->idx[i] != s->field)
            continue;
        if (len + 1 > s->vcap[i]) {
            size_t nc = len + 1 < 64 ? 64 : len + 1;
            char *nv = realloc(s->val[i], nc);
            if (!nv) {
                s->oom = true;
                return;
            }
            s->val[i] = nv;
            s->vcap[i] = nc;
        }
        if (len)
            memcpy(s->val[i], data, len);
        s->val[i][len] = '\0';
        s->have[i] = true;
    }
    s->field++;
}

static void on_row(int term, void *ud)
{
    (void)term;
    scan *s = ud;
    if (s->stop)
        return;
    if (s->header) {
        s->header = false;
        if (s->c)
            s->stop = 1; /* the header is all gp_csv_open wants */
        return;
    }
    /* libcsv reports a blank line as a row of no fields: skip it. */
    if (s->field == 0)
        return;
    const char *f[3] = {NULL, NULL, NULL};
    for (int i = 0; i < s->n; i++) {
        f[i] = s->have[i] ? s->val[i] : NULL;
        s->have[i] = false;
    }
    s->field = 0;
    s->row++;
    if (s->fn(s->ud, f, s->row))
        s->stop = 2;
}

/* Read the file through libcsv; stops early when s->stop is set. */
static int run(scan *s, const char *path, bc_ctx *ctx, char *err, size_t errsize)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errsize, "cannot open %s: %s", path, strerror(errno));
        return BC_ERR;
    }
    struct csv_parser p;
    if (csv_init(&p, CSV_APPEND_NULL) != 0) {
        fclose(fp);
        snprintf(err, errsize, "out of memory");
        return BC_ERR;
    }
    char *buf = malloc(CHUNK);
    int rc = BC_OK;
    if (!buf) {
        snprintf(err, errsize, "out of memory");
        rc = BC_ERR;
        goto out;
    }
    uint64_t next_check = 65536;
    size_t got;
    while (!s->stop && (got = fread(buf, 1, CHUNK, fp)) > 0) {
        if (csv_parse(&p, buf, got, on_field, on_row, s) != got && !s->stop) {
            snprintf(err, errsize, "cannot parse %s as CSV: %s", path,
                     csv_strerror(csv_error(&p)));
            rc = BC_ERR;
            goto out;
        }
        if (s->oom) {
            snprintf(err, errsize, "out of memory reading %s", path);
            rc = BC_ERR;
            goto out;
        }
        if (ctx && s->row >= next_check) {
            next_check = s->row + 65536;
            if (ctx->svc->cancelled(ctx)) {
                rc = BC_CANCELLED;
                goto out;
            }
        }
    }
    if (ferror(fp)) {
        snprintf(err, errsize, "cannot read %s: %s", path, strerror(errno));
        rc = BC_ERR;
        goto out;
    }
    if (!s->stop)
        csv_fini(&p, on_field, on_row, s);
    if (s->oom) {
        snprintf(err, errsize, "out of memory reading %s", path);
        rc = BC_ERR;
    }
out:
    free(buf);
    csv_free(&p);
    fclose(fp);
    return rc;
}

gp_csv *gp_csv_open(const char *path, char *err, size_t errsize)
{
    gp_csv *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(path))) {
        free(c);
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    scan s = {.header = true, .c = c};
    if (run(&s, path, NULL, err, errsize) != BC_OK) {
        gp_csv_close(c);
        return NULL;
    }
    if (c->ncols == 0) {
        snprintf(err, errsize, "%s is empty: it has no header row", path);
        gp_csv_close(c);
        return NULL;
    }
    return c;
}

size_t gp_csv_ncols(const gp_csv *c) { return c->ncols; }
const char *gp_csv_colname(const gp_csv *c, size_t i) { return c->names[i]; }

int gp_csv_scan(gp_csv *c, bc_ctx *ctx, const int *idx, int n, gp_row_fn fn, void *ud,
                char *err, size_t errsize)
{
    /* .c NULL: the header row is skipped, not recorded. */
    scan s = {.header = true, .c = NULL, .idx = idx, .n = n, .fn = fn, .ud = ud};
    int rc = run(&s, c->path, ctx, err, errsize);
    for (int i = 0; i < 3; i++)
        free(s.val[i]);
    return rc;
}

void gp_csv_close(gp_csv *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->ncols; i++)
        free(c->names[i]);
    free(c->names);
    free(c->path);
    free(c);
}

/* ---- values ------------------------------------------------------------- */

bool gp_parse_number(const char *s, double *out)
{
    if (!s || !*s)
        return false;
    /* strtod also takes hex, "inf", "nan" and leading spaces: refuse them. */
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (!((*p >= '0' && *p <= '9') || (*p == '.' && p[1] >= '0' && p[1] <= '9')))
        return false;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end != '\0' || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* Exactly k digits at *p, advancing it. */
static bool digits(const char **p, int k, int *out)
{
    int v = 0;
    for (int i = 0; i < k; i++) {
        char ch = (*p)[i];
        if (ch < '0' || ch > '9')
            return false;
        v = v * 10 + (ch - '0');
    }
    *p += k;
    *out = v;
    return true;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    /* Howard Hinnant's algorithm: days since 1970-01-01. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool gp_parse_time(const char *s, double *out)
{
    /* YYYY-MM-DD or YYYYMMDD, then optionally [T or space] HH:MM[:SS[.frac]]
     * or HHMM[SS[.frac]], then optionally Z, +hh, +hh:mm, +hhmm. */
    const char *p = s;
    int Y, M, D, h = 0, mi = 0, sec = 0;
    double frac = 0;
    if (!digits(&p, 4, &Y))
        return false;
    bool ext = *p == '-';
    if (ext)
        p++;
    if (!digits(&p, 2, &M))
        return false;
    if (ext && *p++ != '-')
        return false;
    if (!digits(&p, 2, &D))
        return false;
    if (M < 1 || M > 12 || D < 1 || D > 31)
        return false;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!digits(&p, 2, &h))
            return false;
        bool text = *p == ':';
        if (text)
            p++;
        if (!digits(&p, 2, &mi))
            return false;
        if ((text && *p == ':') || (!text && *p >= '0' && *p <= '9')) {
            if (text)
                p++;
            if (!digits(&p, 2, &sec))
                return false;
            if (*p == '.' || *p == ',') {
                p++;
                double scale = 0.1;
                if (*p < '0' || *p > '9')
                    return false;
                while (*p >= '0' && *p <= '9') {
                    frac += (*p - '0') * scale;
                    scale /= 10;
                    p++;
                }
            }
        }
        if (h > 23 || mi > 59 || sec > 60)
            return false;
    }
    int offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om = 0;
        p++;
        if (!digits(&p, 2, &oh))
            return false;
        if (*p == ':')
            p++;
        if (*p >= '0' && *p <= '9' && !digits(&p, 2, &om))
            return false;
        if (oh > 23 || om > 59)
            return false;
        offset = sign * (oh * 3600 + om * 60);
    }
    if (*p != '\0')
        return false;
    int64_t days = days_from_civil(Y, M, D);
    *out = (double)(days * 86400 + h * 3600 + mi * 60 + sec - offset) + frac;
    return true;
}

bool gp_parse_value(gp_col *c, const char *s, double *out)
{
    if (!s || !*s)
        return false;
    switch (c->mode) {
    case VM_NUMBER:
        return gp_parse_number(s, out);
    case VM_EPOCH:
        if (!gp_parse_number(s, out))
            return false;
        *out *= c->scale;
        return true;
    case VM_TEXT_TIME:
        return gp_parse_time(s, out);
    case VM_AUTO_TIME: {
        /* A declared timestamp without a format: numbers by magnitude (as
         * the csv validator detects them), text as rfc3339/iso8601. */
        double v;
        if (gp_parse_number(s, &v)) {
            double a = fabs(v);
            *out = a < 1e11 ? v : a < 1e14 ? v / 1e3 : a < 1e17 ? v / 1e6 : v / 1e9;
            return true;
        }
        return gp_parse_time(s, out);
    }
    case VM_AUTO:
        if (gp_parse_number(s, out)) {
            c->n_number++;
            return true;
        }
        if (gp_parse_time(s, out)) {
            c->n_time++;
            return true;
        }
        return false;
    case VM_STRING:
        return false;
    }
    return false;
}
