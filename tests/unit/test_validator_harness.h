/*
 * Plugin-level test harness for the validator plugins: dlopen a built
 * plugin, call its validate operation on the shared fake host
 * (sdk/testing/bc_fakehost.h), which records every data_error,
 * column_summary, log line and set_error, and assert on the recordings.  Included by test_validator_*.c (one
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

#include <benchctl/helpers.h>
#include <benchctl/plugin.h>

#include "bc_fakehost.h"

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

/* The shared fake host (sdk/testing/bc_fakehost.h) records every
 * data_error, column_summary, column_values batch, log line and set_error;
 * the h_* names below are views of it. */
static bc_fake H;
static int h_ready;
#define h_errs (H.data_errors)
#define h_nerrs (H.n_data_errors)
#define h_sums (H.summaries)
#define h_nsums (H.n_summaries)
#define h_error (H.error)
#define h_cancel (H.cancelled)
#define h_suppressed (H.suppressed) /* data_errors_suppressed (ABI 1.2) */
/* The services the validator sees: this SDK's, or (h_old_core) a 1.1
 * core's, without the 1.2 members. */
static int h_old_core;

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

static void h_reset(void)
{
    if (!h_ready) {
        bc_fake_init(&H, h_plugin);
        H.verbose = getenv("H_VERBOSE") != NULL;
        h_ready = 1;
    }
    bc_fake_reset(&H);
    bc_fake_clear_options(&H);
    h_old_core = 0;
}

static void h_opt(const char *name, const char *value)
{
    if (!h_ready)
        h_reset();
    bc_fake_set_option(&H, name, value);
}

/* ---- loading and calling ----------------------------------------------- */

static const bc_plugin *h_load(const char *path, const char *want_name)
{
    char err[512];
    const bc_plugin *p = bc_fake_load(path, BC_KIND_VALIDATOR, want_name, err, sizeof err);
    if (!p) {
        fprintf(stderr, "%s\n", err);
        exit(2);
    }
    return p;
}

/* Every validation: the values handed over (ABI 1.1) agree with the
 * summaries — same count of finite values (string columns: of texts),
 * the same mean. */
static void h_check_values(const bc_column *cols, size_t n)
{
    for (size_t i = 0; i < n && i < BC_FAKE_MAX_COLUMNS; i++) {
        const bc_fake_summary *s = NULL;
        for (size_t k = 0; k < h_nsums; k++)
            if (cols[i].name && strcmp(h_sums[k].column, cols[i].name) == 0)
                s = &h_sums[k];
        if (!s)
            continue; /* the file could not be read: no summaries at all */
        const bc_fake_values *v = &H.values[i];
        int is_string = cols[i].type && strcmp(cols[i].type, "string") == 0;
        uint64_t got = is_string ? v->texts : v->finite;
        double mean = v->finite ? v->sum / (double)v->finite : 0;
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
    if (!h_ready)
        h_reset();
    H.plugin = h_plugin;
    bc_fake_core_minor(&H, h_old_core ? 1 : BC_ABI_MINOR);
    int undeclared = H.undeclared_reads;
    bc_validate_request req = {.size = sizeof req, .path = path, .columns = cols,
                               .n_columns = n};
    const bc_validator_ops *ops = h_plugin->ops;
    int rc = ops->validate(&H.ctx, &req);
    h_check_values(cols, n);
    for (size_t i = 0; i < BC_FAKE_MAX_COLUMNS; i++)
        if (H.values[i].max_batch > 256) {
            fprintf(stderr, "[%s] column_values: batch of %zu values (at most 256)\n", h_case,
                    H.values[i].max_batch);
            h_failures++;
        }
    if (H.bad_values_calls || H.undeclared_reads != undeclared) {
        fprintf(stderr, "[%s] bad column_values/column_text calls or undeclared options read\n",
                h_case);
        h_failures++;
    }
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
    const bc_fake_data_error *e = &h_errs[i];
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
        const bc_fake_summary *s = &h_sums[i];
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
    return bc_fake_logs_with(&H, level, needle);
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

static double h_now(void) { return (double)bc_mono_ns() / 1e9; }

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
