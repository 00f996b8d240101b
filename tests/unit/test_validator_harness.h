/*
 * Plugin-level test harness for the validator plugins: dlopen a built
 * plugin, call its validate operation with a fake services table that
 * records every data_error, column_summary, log line and set_error, and
 * assert on the recordings.  Included by test_validator_*.c (one
 * translation unit each).
 */
#ifndef TEST_VALIDATOR_HARNESS_H
#define TEST_VALIDATOR_HARNESS_H

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <benchctl/plugin.h>

/* Not every test uses every helper. */
#pragma GCC diagnostic ignored "-Wunused-function"

#if defined(__SANITIZE_ADDRESS__)
#define H_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define H_SANITIZED 1
#endif
#endif
#ifndef H_SANITIZED
#define H_SANITIZED 0
#endif

#define H_MAX 4096

typedef struct h_err {
    uint64_t line;
    uint32_t column;
    char *value; /* NULL when the plugin passed none */
    char *message;
    char *path;
} h_err;

typedef struct h_sum {
    char *column;
    uint64_t count;
    double min, max, mean;
} h_sum;

typedef struct h_log {
    int level;
    char *text;
} h_log;

static h_err h_errs[H_MAX];
static size_t h_nerrs;
static h_sum h_sums[H_MAX];
static size_t h_nsums;
/* What arrived through column_values / column_text (ABI 1.1), per column. */
#define H_MAXCOLS 64
static uint64_t h_vfinite[H_MAXCOLS], h_vnonfinite[H_MAXCOLS], h_vtext[H_MAXCOLS];
static double h_vsum[H_MAXCOLS];
/* What arrived through data_errors_suppressed (ABI 1.2). */
static uint64_t h_suppressed;
/* The services the validator sees: this SDK's, or (h_old_core) a 1.1
 * core's, without the 1.2 members. */
static int h_old_core;
static h_log h_logs[H_MAX];
static size_t h_nlogs;
static char h_error[4096];
static int h_cancel;
static const char *h_opt_names[16];
static const char *h_opt_values[16];
static size_t h_nopts;

static const bc_plugin *h_plugin;
static int h_failures;
static const char *h_case = "";

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "%s:%d: [%s] check failed: %s\n", __FILE__, __LINE__, h_case, \
                    #cond);                                                               \
            h_failures++;                                                                 \
        }                                                                                 \
    } while (0)

static char *h_strdup(const char *s) { return s ? strdup(s) : NULL; }

static void h_reset(void)
{
    for (size_t i = 0; i < h_nerrs; i++) {
        free(h_errs[i].value);
        free(h_errs[i].message);
        free(h_errs[i].path);
    }
    for (size_t i = 0; i < h_nsums; i++)
        free(h_sums[i].column);
    for (size_t i = 0; i < h_nlogs; i++)
        free(h_logs[i].text);
    h_nerrs = h_nsums = h_nlogs = 0;
    memset(h_vfinite, 0, sizeof h_vfinite);
    memset(h_vnonfinite, 0, sizeof h_vnonfinite);
    memset(h_vtext, 0, sizeof h_vtext);
    memset(h_vsum, 0, sizeof h_vsum);
    h_error[0] = '\0';
    h_suppressed = 0;
    h_old_core = 0;
    h_cancel = 0;
    h_nopts = 0;
}

static void h_opt(const char *name, const char *value)
{
    h_opt_names[h_nopts] = name;
    h_opt_values[h_nopts++] = value;
}

/* ---- the fake services ------------------------------------------------ */

static void f_log(bc_ctx *ctx, int level, const char *fmt, ...)
{
    (void)ctx;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (h_nlogs < H_MAX)
        h_logs[h_nlogs++] = (h_log){level, strdup(buf)};
    if (getenv("H_VERBOSE"))
        fprintf(stderr, "log %d: %s\n", level, buf);
}

static void f_set_error(bc_ctx *ctx, const char *fmt, ...)
{
    (void)ctx;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h_error, sizeof h_error, fmt, ap);
    va_end(ap);
}

static int f_cancelled(bc_ctx *ctx)
{
    (void)ctx;
    return h_cancel;
}

static int f_cancel_fd(bc_ctx *ctx)
{
    (void)ctx;
    return -1;
}

/* An option's text: set by the test, else the descriptor's default. */
static const char *h_opt_text(const char *name)
{
    for (size_t i = 0; i < h_nopts; i++)
        if (!strcmp(h_opt_names[i], name))
            return h_opt_values[i];
    for (const bc_option *o = h_plugin->options; o && o->name; o++)
        if (!strcmp(o->name, name))
            return o->default_value;
    fprintf(stderr, "[%s] plugin read undeclared option '%s'\n", h_case, name);
    h_failures++;
    return NULL;
}

static int f_opt_is_set(bc_ctx *ctx, const char *name)
{
    (void)ctx;
    for (size_t i = 0; i < h_nopts; i++)
        if (!strcmp(h_opt_names[i], name))
            return 1;
    return 0;
}

static const char *f_opt_string(bc_ctx *ctx, const char *name)
{
    (void)ctx;
    return h_opt_text(name);
}

static int64_t f_opt_int(bc_ctx *ctx, const char *name)
{
    (void)ctx;
    const char *s = h_opt_text(name);
    return s ? strtoll(s, NULL, 10) : 0;
}

static double f_opt_float(bc_ctx *ctx, const char *name)
{
    (void)ctx;
    const char *s = h_opt_text(name);
    return s ? strtod(s, NULL) : 0;
}

static int f_opt_bool(bc_ctx *ctx, const char *name)
{
    (void)ctx;
    const char *s = h_opt_text(name);
    return s && (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"));
}

static int64_t f_opt_duration_ms(bc_ctx *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return 0;
}

static size_t f_opt_list(bc_ctx *ctx, const char *name, const char *const **items)
{
    (void)ctx;
    (void)name;
    static const char *const none[] = {NULL};
    *items = none;
    return 0;
}

static const char *f_fact(bc_ctx *ctx, const char *key)
{
    (void)ctx;
    (void)key;
    return NULL;
}

static void f_data_error(bc_ctx *ctx, const char *path, uint64_t line, uint32_t column,
                         const char *value, const char *message)
{
    (void)ctx;
    if (getenv("H_VERBOSE"))
        fprintf(stderr, "error %s:%llu:%u: %s%s%s%s\n", path, (unsigned long long)line, column,
                message, value ? " (value '" : "", value ? value : "", value ? "')" : "");
    if (h_nerrs < H_MAX)
        h_errs[h_nerrs++] = (h_err){line, column, h_strdup(value), h_strdup(message),
                                    h_strdup(path)};
}

static void f_column_summary(bc_ctx *ctx, const char *column, uint64_t count, double min,
                             double max, double mean)
{
    (void)ctx;
    if (getenv("H_VERBOSE"))
        fprintf(stderr, "summary %s: count %llu min %.17g max %.17g mean %.17g\n", column,
                (unsigned long long)count, min, max, mean);
    if (h_nsums < H_MAX)
        h_sums[h_nsums++] = (h_sum){strdup(column), count, min, max, mean};
}

static void f_column_values(bc_ctx *ctx, uint32_t column, const double *v, size_t n)
{
    (void)ctx;
    if (column >= H_MAXCOLS || n == 0 || n > 256) {
        fprintf(stderr, "column_values: bad column %u or batch size %zu\n", column, n);
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        if (isfinite(v[i])) {
            h_vfinite[column]++;
            h_vsum[column] += v[i];
        } else
            h_vnonfinite[column]++;
    }
}

static void f_column_text(bc_ctx *ctx, uint32_t column, const char *text, size_t len)
{
    (void)ctx, (void)text, (void)len;
    if (column >= H_MAXCOLS) {
        fprintf(stderr, "column_text: bad column %u\n", column);
        exit(1);
    }
    h_vtext[column]++;
}

static void f_data_errors_suppressed(bc_ctx *ctx, const char *path, uint64_t n)
{
    (void)ctx, (void)path;
    h_suppressed += n;
}

static const bc_services h_services = {
    .size = sizeof(bc_services),
    .abi_major = BC_ABI_MAJOR,
    .abi_minor = BC_ABI_MINOR,
    .log = f_log,
    .set_error = f_set_error,
    .cancelled = f_cancelled,
    .cancel_fd = f_cancel_fd,
    .opt_is_set = f_opt_is_set,
    .opt_string = f_opt_string,
    .opt_int = f_opt_int,
    .opt_float = f_opt_float,
    .opt_bool = f_opt_bool,
    .opt_duration_ms = f_opt_duration_ms,
    .opt_list = f_opt_list,
    .fact = f_fact,
    .data_error = f_data_error,
    .column_summary = f_column_summary,
    .column_values = f_column_values,
    .column_text = f_column_text,
    .data_errors_suppressed = f_data_errors_suppressed,
};

/* ---- loading and calling ----------------------------------------------- */

static const bc_plugin *h_load(const char *path, const char *want_name)
{
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        fprintf(stderr, "cannot load %s: %s\n", path, dlerror());
        exit(2);
    }
    bc_plugin_entry_fn entry;
    *(void **)&entry = dlsym(dl, BC_ENTRY_SYMBOL);
    if (!entry) {
        fprintf(stderr, "%s: no %s\n", path, BC_ENTRY_SYMBOL);
        exit(2);
    }
    const bc_plugin *p = entry();
    if (p->abi.magic != BC_ABI_MAGIC || p->kind != BC_KIND_VALIDATOR ||
        strcmp(p->name, want_name) != 0) {
        fprintf(stderr, "%s: not the validator '%s'\n", path, want_name);
        exit(2);
    }
    return p;
}

/* Every validation: the values handed over (ABI 1.1) agree with the
 * summaries — same count of finite values (string columns: of texts),
 * the same mean. */
static void h_check_values(const bc_column *cols, size_t n)
{
    for (size_t i = 0; i < n && i < H_MAXCOLS; i++) {
        const h_sum *s = NULL;
        for (size_t k = 0; k < h_nsums; k++)
            if (cols[i].name && strcmp(h_sums[k].column, cols[i].name) == 0)
                s = &h_sums[k];
        if (!s)
            continue; /* the file could not be read: no summaries at all */
        int is_string = cols[i].type && strcmp(cols[i].type, "string") == 0;
        uint64_t got = is_string ? h_vtext[i] : h_vfinite[i];
        double mean = h_vfinite[i] ? h_vsum[i] / (double)h_vfinite[i] : 0;
        double tol = 1e-9 * (fabs(s->mean) > 1 ? fabs(s->mean) : 1);
        if (got != s->count || (!is_string && s->count && fabs(mean - s->mean) > tol)) {
            fprintf(stderr, "[%s] column '%s': values handed over (%llu, mean %.17g) disagree "
                    "with the summary (%llu, mean %.17g)\n", h_case, cols[i].name,
                    (unsigned long long)got, mean, (unsigned long long)s->count, s->mean);
            h_failures++;
        }
    }
}

static int h_validate(const char *path, const bc_column *cols, size_t n)
{
    bc_services old = h_services;
    old.size = (uint32_t)offsetof(bc_services, data_errors_suppressed);
    old.abi_minor = 1;
    bc_ctx ctx = {.svc = h_old_core ? &old : &h_services};
    bc_validate_request req = {.size = sizeof req, .path = path, .columns = cols,
                               .n_columns = n};
    const bc_validator_ops *ops = h_plugin->ops;
    int rc = ops->validate(&ctx, &req);
    h_check_values(cols, n);
    return rc;
}

/* ---- assertions -------------------------------------------------------- */

static int h_streq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

#define EXPECT_NERRS(n)                                                                   \
    do {                                                                                  \
        if (h_nerrs != (size_t)(n)) {                                                     \
            fprintf(stderr, "%s:%d: [%s] expected %zu errors, got %zu\n", __FILE__,       \
                    __LINE__, h_case, (size_t)(n), h_nerrs);                              \
            for (size_t k_ = 0; k_ < h_nerrs && k_ < 20; k_++)                            \
                fprintf(stderr, "    %llu:%u: %s (value %s)\n",                           \
                        (unsigned long long)h_errs[k_].line, h_errs[k_].column,           \
                        h_errs[k_].message, h_errs[k_].value ? h_errs[k_].value : "NULL");  \
            h_failures++;                                                                 \
        }                                                                                 \
    } while (0)

static void h_expect_err(const char *file, int fline, size_t i, uint64_t line, uint32_t column,
                         const char *value, const char *message)
{
    if (i >= h_nerrs) {
        fprintf(stderr, "%s:%d: [%s] error #%zu missing (want %llu:%u: %s)\n", file, fline,
                h_case, i, (unsigned long long)line, column, message);
        h_failures++;
        return;
    }
    const h_err *e = &h_errs[i];
    if (e->line != line || e->column != column || !h_streq(e->value, value) ||
        !h_streq(e->message, message)) {
        fprintf(stderr,
                "%s:%d: [%s] error #%zu:\n  got  %llu:%u: %s (value %s%s%s)\n"
                "  want %llu:%u: %s (value %s%s%s)\n",
                file, fline, h_case, i, (unsigned long long)e->line, e->column, e->message,
                e->value ? "'" : "", e->value ? e->value : "NULL", e->value ? "'" : "",
                (unsigned long long)line, column, message, value ? "'" : "",
                value ? value : "NULL", value ? "'" : "");
        h_failures++;
    }
}
#define EXPECT_ERR(i, line, col, value, msg) h_expect_err(__FILE__, __LINE__, i, line, col, value, msg)

static int h_close(double a, double b)
{
    if (a == b)
        return 1;
    double scale = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return fabs(a - b) <= 1e-12 * (scale > 1 ? scale : 1);
}

static void h_expect_sum(const char *file, int fline, const char *column, uint64_t count,
                         double min, double max, double mean)
{
    for (size_t i = 0; i < h_nsums; i++) {
        const h_sum *s = &h_sums[i];
        if (strcmp(s->column, column) != 0)
            continue;
        if (s->count != count || !h_close(s->min, min) || !h_close(s->max, max) ||
            !h_close(s->mean, mean)) {
            fprintf(stderr,
                    "%s:%d: [%s] summary of '%s':\n  got  count %llu min %.17g max %.17g "
                    "mean %.17g\n  want count %llu min %.17g max %.17g mean %.17g\n",
                    file, fline, h_case, column, (unsigned long long)s->count, s->min, s->max,
                    s->mean, (unsigned long long)count, min, max, mean);
            h_failures++;
        }
        return;
    }
    fprintf(stderr, "%s:%d: [%s] no summary for column '%s'\n", file, fline, h_case, column);
    h_failures++;
}
#define EXPECT_SUM(col, count, min, max, mean) \
    h_expect_sum(__FILE__, __LINE__, col, count, min, max, mean)

/* Number of log lines at `level` containing `needle`. */
static size_t h_logs_with(int level, const char *needle)
{
    size_t k = 0;
    for (size_t i = 0; i < h_nlogs; i++)
        if (h_logs[i].level == level && strstr(h_logs[i].text, needle))
            k++;
    return k;
}

/* A fixture's path (static buffer rotation so two can be live). */
static const char *h_fixtures;
static const char *h_fixture(const char *name)
{
    static char bufs[4][4096];
    static int k;
    char *b = bufs[k++ & 3];
    snprintf(b, sizeof bufs[0], "%s/%s", h_fixtures, name);
    return b;
}

/* Peak resident set of this process in KiB: VmHWM (the current image only;
 * ru_maxrss may include the parent's memory from before exec). */
static long h_peak_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6))
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    if (kb < 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        kb = ru.ru_maxrss;
    }
    return kb;
}

static double h_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Write `text` (len bytes) to a fresh temporary file; returns its path. */
static const char *h_tempfile(const char *text, size_t len)
{
    static char bufs[4][64];
    static int k;
    char *path = bufs[k++ & 3];
    snprintf(path, sizeof bufs[0], "/tmp/bcv-test-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
        perror("temp file");
        exit(2);
    }
    close(fd);
    return path;
}

#endif /* TEST_VALIDATOR_HARNESS_H */
