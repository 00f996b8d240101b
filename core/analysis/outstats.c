/*
 * Statistics of one output of one stage run: the values its validator
 * hands over (svc->column_values / column_text, ABI 1.1) become exact
 * summaries (core/stats), rates over timestamp columns and success rates
 * over status columns — the "statistics" object of the output's record,
 * from which results.json is written.
 *
 * Every value of a numeric column goes to a sample file in the run
 * directory, samples/[<case>/]<output>/<n>-<column>.f64, which is what
 * `benchctl compare` tests; memory stays bounded whatever the row count.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <benchctl/services.h>

#include "util/beneath.h"
#include "util/jsonget.h"
#include "util/log.h"
#include "util/wfail.h"
#include "analysis/outstats.h"
#include "analysis/stats/stats.h"

typedef struct colstat {
    const cfg_column *decl;
    bool numeric, timestamp, status;
    st_column *col;      /* numeric: the sample file being written */
    char *samples_rel;   /* relative to the run directory */
    bool failed;         /* the sample file could not be written */
    uint64_t count;      /* from the validator's summary */
    double vmin, vmax, vmean;
    bool have_summary;
    uint64_t ts_count;   /* timestamp: valid values, first and last */
    double ts_min, ts_max;
    FILE *ts_file;       /* timestamp: every value (seconds), for the rate windows */
    char *ts_rel;        /* its path, relative to the run directory */
    uint64_t st_count, st_ok; /* status: values, successes */
    double *ok_numbers;  /* integer status: success_values as numbers */
} colstat;

struct outstats {
    const cfg_output *o;
    char *run_dir;
    colstat *cols;
    size_t ncols;
    bool takes_values; /* the validator was built for ABI 1.1+: it hands values over */
    bool partial;      /* a file's validation was interrupted: what was read only */
};

void outstats_set_partial(outstats *s)
{
    s->partial = true;
}

/* A file-name-safe form of a column name. */
static char *safe_name(const char *s)
{
    char *out = xstrdup(s && *s ? s : "column");
    for (char *p = out; *p; p++)
        if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') &&
            *p != '.' && *p != '_' && *p != '-')
            *p = '_';
    return out;
}

static bool is_type(const cfg_column *c, const char *t)
{
    return c->type && strcmp(c->type, t) == 0;
}

/* fopen(path, "wb") that never follows a link planted at path. */
static FILE *create_nofollow(const char *path)
{
    int fd = open_beneath(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (fd >= 0 && !f)
        close(fd);
    return f;
}

/* A timestamp column's values go to <n>-<column>.ts.f64 (raw doubles, in
 * seconds, in row order): the rate windows are counted from it at the end. */
static void open_timestamps(colstat *c, const char *run_dir, const char *rel_dir, size_t i,
                            const char *safe)
{
    char *file = xasprintf("%zu-%s.ts.f64", i + 1, safe);
    c->ts_rel = path_join(rel_dir, file);
    char *abs = path_join(run_dir, c->ts_rel);
    c->ts_file = create_nofollow(abs);
    if (!c->ts_file) {
        log_msg(BC_LOG_WARN, "cannot create %s: %s (no rate windows for column '%s')", abs,
                strerror(errno), c->decl->name);
        free(c->ts_rel);
        c->ts_rel = NULL;
    }
    free(abs);
    free(file);
}

outstats *outstats_new(const char *run_dir, const cfg_output *o, const char *samples_rel_dir,
                       bool takes_values)
{
    outstats *s = xcalloc(1, sizeof *s);
    s->o = o;
    s->run_dir = xstrdup(run_dir);
    s->takes_values = takes_values;
    /* The per-column working memory while values arrive (histogram and
     * write buffer) and while its summary is computed: 8 MiB for a few
     * columns, less for wide outputs so that all of them together stay
     * near 64 MiB (more passes over the sample file, same exact result). */
    size_t nnum = 0;
    for (size_t i = 0; i < o->ncolumns; i++)
        nnum += is_type(&o->columns[i], "integer") || is_type(&o->columns[i], "float");
    size_t mem = nnum ? ((size_t)64 << 20) / nnum : 0;
    if (mem > ((size_t)8 << 20))
        mem = (size_t)8 << 20;
    if (mem < ((size_t)64 << 10))
        mem = (size_t)64 << 10;
    s->ncols = o->ncolumns;
    s->cols = xcalloc(o->ncolumns + 1, sizeof *s->cols);
    char *dir = path_join(run_dir, samples_rel_dir);
    int dir_state = 0; /* 0: not made yet, 1: made, -1: cannot be made */
    for (size_t i = 0; i < o->ncolumns; i++) {
        colstat *c = &s->cols[i];
        c->decl = &o->columns[i];
        c->numeric = is_type(c->decl, "integer") || is_type(c->decl, "float");
        c->timestamp = is_type(c->decl, "timestamp");
        c->status = c->decl->nsuccess > 0;
        if (c->status && is_type(c->decl, "integer")) {
            c->ok_numbers = xcalloc(c->decl->nsuccess, sizeof *c->ok_numbers);
            for (size_t k = 0; k < c->decl->nsuccess; k++)
                if (!parse_double(c->decl->success_values[k], &c->ok_numbers[k]))
                    c->ok_numbers[k] = NAN; /* never equal: "ok" in an integer column */
        }
        if (!(c->numeric || c->timestamp) || !takes_values)
            continue; /* an ABI 1.0 validator: no values, no sample files */
        if (dir_state == 0) {
            dir_state = mkdir_p(dir, 0755) ? 1 : -1;
            if (dir_state < 0 && errno == ELOOP) /* a link planted there: stop */
                wfail_note(dir, errno);
            else if (dir_state < 0)
                log_msg(BC_LOG_WARN, "cannot create %s: %s (no percentiles for output '%s')",
                        dir, strerror(errno), o->name);
        }
        if (dir_state < 0) {
            c->failed = true;
            continue;
        }
        char *safe = safe_name(c->decl->name);
        if (c->timestamp) {
            open_timestamps(c, run_dir, samples_rel_dir, i, safe);
            free(safe);
            continue;
        }
        char *file = xasprintf("%zu-%s.f64", i + 1, safe);
        c->samples_rel = path_join(samples_rel_dir, file);
        char *abs = path_join(run_dir, c->samples_rel);
        c->col = st_column_open(abs, mem);
        if (!c->col) {
            log_msg(BC_LOG_WARN, "cannot create %s: %s (no percentiles for column '%s')", abs,
                    strerror(errno), c->decl->name);
            c->failed = true;
        }
        free(abs);
        free(file);
        free(safe);
    }
    free(dir);
    return s;
}

void outstats_values(outstats *s, uint32_t column, const double *v, size_t n)
{
    if (column >= s->ncols)
        return;
    colstat *c = &s->cols[column];
    if (c->numeric && c->col && !c->failed) {
        if (st_column_add(c->col, v, n) != 0) {
            int e = errno;
            log_msg(BC_LOG_WARN, "writing the samples of column '%s' failed: %s (its "
                    "percentiles are left out)", c->decl->name, strerror(e));
            c->failed = true;
            char *abs = path_join(s->run_dir, c->samples_rel);
            wfail_note(abs, e); /* a full disk stops the run */
            free(abs);
        }
    }
    if (c->ts_file && fwrite(v, sizeof *v, n, c->ts_file) != n) {
        int e = errno;
        log_msg(BC_LOG_WARN, "writing the timestamps of column '%s' failed: %s (no rate "
                "windows)", c->decl->name, strerror(e));
        char *abs = path_join(s->run_dir, c->ts_rel);
        wfail_note(abs, e);
        free(abs);
        fclose(c->ts_file);
        c->ts_file = NULL;
    }
    if (c->timestamp)
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(v[i]))
                continue;
            if (c->ts_count++ == 0)
                c->ts_min = c->ts_max = v[i];
            else if (v[i] < c->ts_min)
                c->ts_min = v[i];
            else if (v[i] > c->ts_max)
                c->ts_max = v[i];
        }
    if (c->status && c->ok_numbers)
        for (size_t i = 0; i < n; i++) {
            c->st_count++;
            for (size_t k = 0; k < c->decl->nsuccess; k++)
                if (v[i] == c->ok_numbers[k]) {
                    c->st_ok++;
                    break;
                }
        }
}

void outstats_text(outstats *s, uint32_t column, const char *text, size_t len)
{
    if (column >= s->ncols)
        return;
    colstat *c = &s->cols[column];
    if (!c->status || c->ok_numbers)
        return;
    c->st_count++;
    for (size_t k = 0; k < c->decl->nsuccess; k++) {
        const char *ok = c->decl->success_values[k];
        if (strlen(ok) == len && memcmp(ok, text, len) == 0) {
            c->st_ok++;
            break;
        }
    }
}

void outstats_summary(outstats *s, const char *column, uint64_t count, double min, double max,
                      double mean)
{
    for (size_t i = 0; i < s->ncols; i++) {
        colstat *c = &s->cols[i];
        if (!c->decl->name || strcmp(c->decl->name, column) != 0)
            continue;
        /* Several files of one output (a glob): combine. */
        if (c->have_summary && c->count && count) {
            c->vmean = (c->vmean * (double)c->count + mean * (double)count) /
                       (double)(c->count + count);
            c->vmin = fmin(c->vmin, min);
            c->vmax = fmax(c->vmax, max);
        } else if (count) {
            c->vmin = min;
            c->vmax = max;
            c->vmean = mean;
        }
        c->count += count;
        c->have_summary = true;
    }
}

void outstats_add_summary(cJSON *o, const st_summary *sm)
{
    cJSON_AddNumberToObject(o, "count", (double)sm->count);
    cJSON_AddNumberToObject(o, "non_finite", (double)sm->non_finite);
    jadd_num(o, "mean", sm->mean);
    jadd_num(o, "stddev", sm->stddev);
    jadd_num(o, "min", sm->min);
    jadd_num(o, "max", sm->max);
    jadd_num(o, "median", sm->median);
    jadd_num(o, "p90", sm->p90);
    jadd_num(o, "p95", sm->p95);
    jadd_num(o, "p99", sm->p99);
    jadd_num(o, "p999", sm->p999);
    jadd_num(o, "mad", sm->mad);
}

/* A column the sample file could not serve: what the validator's summary
 * says, the order statistics unknown. */
static void fallback_summary(const colstat *c, st_summary *sm)
{
    *sm = (st_summary){.count = c->count, .mean = NAN, .stddev = NAN, .min = NAN, .max = NAN,
                       .median = NAN, .p90 = NAN, .p95 = NAN, .p99 = NAN, .p999 = NAN,
                       .mad = NAN};
    if (c->count) {
        sm->min = c->vmin;
        sm->max = c->vmax;
        sm->mean = c->vmean;
    }
}

/* `metric: true|false` as declared (compare's choice of metrics). */
static void add_metric_flag(cJSON *o, const cfg_column *decl)
{
    if (decl->metric_set)
        cJSON_AddBoolToObject(o, "metric", decl->metric);
}

/* Count the rows of a timestamp column in W equal windows of its span:
 * counts[k] for the values in [first + k w, first + (k+1) w), the last
 * value in the last window.  false when the file cannot be read. */
static bool count_windows(FILE *f, double first, double w, uint64_t *counts, size_t nw)
{
    double buf[4096];
    size_t got;
    while ((got = fread(buf, sizeof *buf, sizeof buf / sizeof *buf, f)) > 0)
        for (size_t i = 0; i < got; i++) {
            if (!isfinite(buf[i]))
                continue;
            double k = floor((buf[i] - first) / w);
            counts[k < 0 ? 0 : k >= (double)nw ? nw - 1 : (size_t)k]++;
        }
    return !ferror(f);
}

/*
 * The rate's samples (docs/statistics.md, "Rates"): the span of a
 * timestamp column cut into W equal windows, W = floor(span) windows of
 * about a second when the span is at least 10 s (at most 10^6), else 10;
 * each window's rows / its length is one sample (rows/s), written to
 * <n>-<column>.rate.f64.  Their mean is rows_per_s.  Adds window_s,
 * windows and samples (null when there is no span or no file) to r.
 */
static void rate_windows(outstats *s, colstat *c, cJSON *r)
{
    double span = c->ts_count ? c->ts_max - c->ts_min : 0;
    FILE *ts = c->ts_file;
    c->ts_file = NULL;
    bool ok = ts && fflush(ts) == 0 && span > 0 && c->ts_count >= 2;
    size_t nw = !ok ? 0 : span >= 1e6 ? 1000000 : span >= 10 ? (size_t)floor(span) : 10;
    double w = nw ? span / (double)nw : NAN;
    uint64_t *counts = nw ? xcalloc(nw, sizeof *counts) : NULL;
    char *rel = NULL;
    if (ok) { /* read back through a new handle: it was opened write-only */
        char *abs = path_join(s->run_dir, c->ts_rel);
        FILE *in = fopen(abs, "rb");
        ok = in && count_windows(in, c->ts_min, w, counts, nw);
        if (in)
            fclose(in);
        free(abs);
    }
    if (ok) {
        rel = xasprintf("%.*s.rate.f64", (int)(strlen(c->ts_rel) - strlen(".ts.f64")), c->ts_rel);
        char *abs = path_join(s->run_dir, rel);
        FILE *out = create_nofollow(abs);
        for (size_t k = 0; out && k < nw; k++) {
            double v = (double)counts[k] / w;
            if (fwrite(&v, sizeof v, 1, out) != 1)
                break;
        }
        bool written = out && !ferror(out);
        if (out && fclose(out) != 0)
            written = false;
        if (!written) {
            log_msg(BC_LOG_WARN, "cannot write %s: %s (no rate windows)", abs, strerror(errno));
            free(rel);
            rel = NULL;
        }
        free(abs);
    }
    if (ts)
        fclose(ts);
    jadd_num(r, "window_s", rel ? w : NAN);
    cJSON_AddNumberToObject(r, "windows", rel ? (double)nw : 0);
    if (rel)
        cJSON_AddStringToObject(r, "samples", rel);
    else
        cJSON_AddNullToObject(r, "samples");
    free(rel);
    free(counts);
}

cJSON *outstats_finish(outstats *s)
{
    cJSON *st = cJSON_CreateObject();
    cJSON *rows_item = cJSON_AddNumberToObject(st, "rows", 0);
    if (s->partial)
        cJSON_AddTrueToObject(st, "partial");
    uint64_t rows = 0;
    if (!s->takes_values && s->ncols)
        cJSON_AddStringToObject(st, "note", "the validator does not hand values to the core "
                                            "(plugin ABI 1.0): no percentiles");
    cJSON *cols = cJSON_AddObjectToObject(st, "columns");
    cJSON *rates = cJSON_AddArrayToObject(st, "rates");
    cJSON *success = cJSON_AddArrayToObject(st, "success");
    for (size_t i = 0; i < s->ncols; i++) {
        colstat *c = &s->cols[i];
        if (c->numeric) {
            st_summary sm;
            bool exact = c->col && !c->failed;
            if (exact && st_column_finish(c->col, &sm) != 0) {
                log_msg(BC_LOG_WARN, "statistics of column '%s' failed: %s", c->decl->name,
                        strerror(errno));
                exact = false;
            }
            if (!exact)
                fallback_summary(c, &sm);
            if (sm.count + sm.non_finite > rows)
                rows = sm.count + sm.non_finite;
            cJSON *cj = cJSON_AddObjectToObject(cols, c->decl->name);
            cJSON_AddStringToObject(cj, "type", c->decl->type);
            if (c->decl->unit)
                cJSON_AddStringToObject(cj, "unit", c->decl->unit);
            if (c->decl->better)
                cJSON_AddStringToObject(cj, "better", c->decl->better);
            add_metric_flag(cj, c->decl);
            outstats_add_summary(cj, &sm);
            if (exact)
                cJSON_AddStringToObject(cj, "samples", c->samples_rel);
            else
                cJSON_AddNullToObject(cj, "samples");
        }
        if (!c->numeric && c->count > rows)
            rows = c->count; /* string and timestamp columns: valid values */
        if (c->timestamp && s->takes_values) {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "column", c->decl->name);
            cJSON_AddNumberToObject(r, "rows", (double)c->ts_count);
            double span = c->ts_count ? c->ts_max - c->ts_min : NAN;
            jadd_num(r, "first", c->ts_count ? c->ts_min : NAN);
            jadd_num(r, "last", c->ts_count ? c->ts_max : NAN);
            jadd_num(r, "span_s", span);
            jadd_num(r, "rows_per_s", span > 0 ? (double)c->ts_count / span : NAN);
            rate_windows(s, c, r);
            add_metric_flag(r, c->decl);
            cJSON_AddItemToArray(rates, r);
        }
        if (c->status && s->takes_values) {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "column", c->decl->name);
            cJSON *vals = cJSON_AddArrayToObject(r, "values");
            for (size_t k = 0; k < c->decl->nsuccess; k++)
                cJSON_AddItemToArray(vals, cJSON_CreateString(c->decl->success_values[k]));
            cJSON_AddNumberToObject(r, "count", (double)c->st_count);
            cJSON_AddNumberToObject(r, "successes", (double)c->st_ok);
            jadd_num(r, "rate", c->st_count ? (double)c->st_ok / (double)c->st_count : NAN);
            add_metric_flag(r, c->decl);
            cJSON_AddItemToArray(success, r);
        }
    }
    /* The most values any column has (nan/inf included): the data rows,
     * unless every column of a row was invalid. */
    cJSON_SetNumberValue(rows_item, (double)rows);
    return st;
}

void outstats_free(outstats *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ncols; i++) {
        st_column_free(s->cols[i].col);
        free(s->cols[i].samples_rel);
        free(s->cols[i].ok_numbers);
        if (s->cols[i].ts_file)
            fclose(s->cols[i].ts_file);
        free(s->cols[i].ts_rel);
    }
    free(s->run_dir);
    free(s->cols);
    free(s);
}
