/*
 * Plugin-level tests of plot-gnuplot.so: dlopen the built plugin and call its
 * render operation on the shared fake host (sdk/testing/bc_fakehost.h:
 * set_error and log recorded, options over the plugin's declared defaults), on
 * the fixtures in tests/fixtures/plotdata, with the real gnuplot.
 *
 *   test_plot_gnuplot PLUGIN FIXTURES_DIR            run the tests
 *   test_plot_gnuplot render PLUGIN --source CSV --out FILE --type T
 *        [--x C] [--y C] [--groupby C] [--agg A] [--format F] [--title T]
 *        [--col NAME:TYPE[:FORMAT[:UNIT]]]... [--opt KEY=VALUE]...
 *                                                   draw one plot, print the
 *                                                   seconds it took (used by
 *                                                   tests/bench/plot_series.py)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <benchctl/helpers.h>
#include <benchctl/plugin.h>

#include "bc_fakehost.h"

/* ---- the fake core: the shared fake host (sdk/testing/bc_fakehost.h) ----- */

#define MAX_OPTS 32
static const bc_plugin *plugin;
static bc_fake fake;

static const bc_option *schema_opt(const char *name)
{
    for (const bc_option *o = plugin->options; o && o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o;
    return NULL;
}
#define last_error (fake.error)

/* Every log line of the last render, "[level] text\n" each. */
static const char *logs_text(void)
{
    static bc_sb sb = BC_SB_INIT;
    bc_sb_clear(&sb);
    for (size_t i = 0; i < fake.n_logs; i++)
        bc_sb_printf(&sb, "[%d] %s\n", fake.logs[i].level, fake.logs[i].text);
    return bc_sb_str(&sb);
}

/* Options as a NULL-terminated name, value, name, value... list. */
static void set_opts(const char *const *kv)
{
    bc_fake_clear_options(&fake);
    for (; kv && kv[0]; kv += 2)
        bc_fake_set_option(&fake, kv[0], kv[1]);
}

static int load(const char *path)
{
    char err[512];
    plugin = bc_fake_load(path, BC_KIND_PLOT, NULL, err, sizeof err);
    if (!plugin) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    bc_fake_init(&fake, plugin);
    fake.verbose = getenv("PLOT_VERBOSE") != NULL;
    return 0;
}

/* One render; the recordings start afresh (a cancellation set before the
 * call stays). */
static int render(const bc_plot_request *req)
{
    int cancelled = fake.cancelled;
    bc_fake_reset(&fake);
    if (cancelled)
        bc_fake_cancel(&fake);
    const bc_plot_ops *ops = plugin->ops;
    int rc = ops->render(&fake.ctx, req);
    if (fake.undeclared_reads)
        abort(); /* the fake host said which option */
    return rc;
}

/* ---- checks ------------------------------------------------------------- */

static int failures, checks;
static const char *current = "";

#define CHECK(cond, ...)                                                                  \
    do {                                                                                  \
        checks++;                                                                         \
        if (!(cond)) {                                                                    \
            failures++;                                                                   \
            fprintf(stderr, "FAIL %s (%s:%d): %s: ", current, __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                                 \
            fprintf(stderr, "\n  error: %s\n", last_error);                               \
        }                                                                                 \
    } while (0)

static const char *fixtures;
static char outdir[512];

static const bc_column requests_cols[] = {
    {.name = "timestamp_ms", .type = "timestamp", .format = "unix_ms", .unit = "ms"},
    {.name = "latency_ms", .type = "float", .unit = "ms"},
    {.name = "status", .type = "string"},
    {.name = "endpoint", .type = "string"},
};
static const bc_column scatter_cols[] = {
    {.name = "payload_kb", .type = "float", .unit = "KiB"},
    {.name = "latency_ms", .type = "float", .unit = "ms"},
    {.name = "protocol", .type = "string"},
};
static const bc_column rfc_cols[] = {
    {.name = "time", .type = "timestamp", .format = "rfc3339"},
    {.name = "cpu_percent", .type = "integer", .unit = "%"},
    {.name = "host", .type = "string"},
};

static char *fixture(const char *name)
{
    static char buf[8][1024];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", fixtures, name);
    return buf[k];
}

static char *outpath(const char *name)
{
    static char buf[8][1024];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", outdir, name);
    return buf[k];
}

static long read_head(const char *path, unsigned char *buf, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    return (long)got;
}

static unsigned be32(const unsigned char *p)
{
    return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
}

/* The file has the format's magic bytes; a PNG has the given size. */
static void check_file(const char *path, const char *format, unsigned w, unsigned h)
{
    unsigned char head[1024];
    long n = read_head(path, head, sizeof head - 1);
    CHECK(n > 0, "%s exists and is not empty", path);
    if (n <= 0)
        return;
    head[n] = '\0';
    if (strcmp(format, "png") == 0) {
        CHECK(n >= 24 && memcmp(head, "\x89PNG\r\n\x1a\n", 8) == 0, "%s is a PNG", path);
        CHECK(n >= 24 && memcmp(head + 12, "IHDR", 4) == 0, "%s has an IHDR", path);
        CHECK(be32(head + 16) == w && be32(head + 20) == h, "%s is %ux%u, not %ux%u", path, w, h,
              be32(head + 16), be32(head + 20));
    } else if (strcmp(format, "svg") == 0) {
        CHECK(strstr((char *)head, "<svg") != NULL, "%s is an SVG", path);
    } else {
        CHECK(memcmp(head, "%PDF", 4) == 0, "%s is a PDF", path);
    }
}

/* No file in the output directory but the expected ones (no temporaries). */
static void check_no_leftovers(void)
{
    DIR *d = opendir(outdir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        CHECK(strstr(e->d_name, ".tmp-") == NULL, "temporary file %s left behind", e->d_name);
    if (d)
        closedir(d);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

typedef struct tcase {
    const char *name, *type, *x, *y, *groupby, *agg;
    const char *source;
    const bc_column *cols;
    size_t ncols;
} tcase;

static int draw(const tcase *t, const char *format, const char *out, const char *title)
{
    bc_plot_request req = {
        .size = sizeof req,
        .name = t->name,
        .title = title,
        .type = t->type,
        .x = t->x,
        .y = t->y,
        .groupby = t->groupby,
        .aggregation = t->agg,
        .format = format,
        .output_path = out,
        .source_path = fixture(t->source),
        .columns = t->cols,
        .n_columns = t->ncols,
    };
    return render(&req);
}

#define REQ_COLS requests_cols, 4
static const tcase cases[] = {
    {"ts", "time_series", "timestamp_ms", "latency_ms", NULL, NULL, "requests.csv", REQ_COLS},
    {"ts_by_status", "time_series", "timestamp_ms", "latency_ms", "status", NULL, "requests.csv",
     REQ_COLS},
    {"ts_p95", "time_series", "timestamp_ms", "latency_ms", "endpoint", "p95", "requests.csv",
     REQ_COLS},
    {"hist", "histogram", "latency_ms", NULL, NULL, NULL, "requests.csv", REQ_COLS},
    {"hist_by_endpoint", "histogram", "latency_ms", NULL, "endpoint", NULL, "requests.csv",
     REQ_COLS},
    {"box", "boxplot", "endpoint", "latency_ms", NULL, NULL, "requests.csv", REQ_COLS},
    {"box_by_status", "boxplot", "endpoint", "latency_ms", "status", NULL, "requests.csv",
     REQ_COLS},
    {"cdf", "cdf", "latency_ms", NULL, NULL, NULL, "requests.csv", REQ_COLS},
    {"cdf_by_endpoint", "cdf", "latency_ms", NULL, "endpoint", NULL, "requests.csv", REQ_COLS},
    {"scatter", "scatter", "payload_kb", "latency_ms", NULL, NULL, "scatter.csv", scatter_cols, 3},
    {"scatter_by_protocol", "scatter", "payload_kb", "latency_ms", "protocol", NULL,
     "scatter.csv", scatter_cols, 3},
    {"rfc3339_by_host", "time_series", "time", "cpu_percent", "host", NULL, "rfc3339.csv",
     rfc_cols, 3},
    /* No data_schema: types inferred from the data. */
    {"noschema_ts", "time_series", "timestamp_ms", "latency_ms", "status", NULL, "requests.csv",
     NULL, 0},
    {"noschema_rfc", "time_series", "time", "cpu_percent", NULL, "avg", "rfc3339.csv", NULL, 0},
};

static void test_every_type_and_format(void)
{
    static const char *const formats[] = {"png", "svg", "pdf"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        for (size_t f = 0; f < 3; f++) {
            char name[128];
            snprintf(name, sizeof name, "%s.%s", cases[i].name, formats[f]);
            current = name;
            set_opts((const char *const[]){"x_label_angle", "30", NULL});
            int rc = draw(&cases[i], formats[f], outpath(name), NULL);
            CHECK(rc == BC_OK, "render returned %d", rc);
            check_file(outpath(name), formats[f], 1200, 600);
        }
    }
    check_no_leftovers();
}

static void test_sizes(void)
{
    current = "sizes";
    set_opts((const char *const[]){"width_px", "800", "height_px", "450", "dpi", "100", NULL});
    int rc = draw(&cases[1], "png", outpath("size_800x450.png"), "Latency (800x450)");
    CHECK(rc == BC_OK, "render returned %d", rc);
    check_file(outpath("size_800x450.png"), "png", 800, 450);
    set_opts((const char *const[]){"width_px", "1600", "height_px", "400", "dpi", "200",
                                   "x_timestamp_format", "full", "x_label_angle", "45", NULL});
    rc = draw(&cases[0], "png", outpath("size_1600x400.png"), NULL);
    CHECK(rc == BC_OK, "render returned %d", rc);
    check_file(outpath("size_1600x400.png"), "png", 1600, 400);
}

/* Every option of the Go tool's plots[].options exists with its default. */
static void test_option_schema(void)
{
    current = "option schema";
    static const char *const compat[][2] = {
        {"style", NULL},        {"dpi", "150"},          {"width_px", "1200"},
        {"height_px", "600"},   {"x_label_angle", "0"},  {"x_timestamp_format", NULL},
        {"bins", "16"},         {"legend", NULL},        {"legend_loc", NULL},
        {"max_points", NULL},   {"max_rows", NULL},      {"sampling", NULL},
        {"random_state", NULL}, {"hist_element", NULL},  {"hist_common_norm", NULL},
    };
    for (size_t i = 0; i < sizeof compat / sizeof *compat; i++) {
        const bc_option *o = schema_opt(compat[i][0]);
        CHECK(o != NULL, "option %s is declared", compat[i][0]);
        if (o && compat[i][1])
            CHECK(o->default_value && strcmp(o->default_value, compat[i][1]) == 0,
                  "option %s defaults to %s", compat[i][0], compat[i][1]);
    }
    const bc_option *loc = schema_opt("legend_loc");
    CHECK(loc && loc->type == BC_OPT_ENUM && strstr(loc->choices, "upper right"),
          "legend_loc accepts 'upper right'");
    const bc_option *ts = schema_opt("x_timestamp_format");
    CHECK(ts && strstr(ts->choices, "medium") && strstr(ts->choices, "full") &&
              strstr(ts->choices, "short"),
          "x_timestamp_format accepts full|medium|short");
    const bc_option *st = schema_opt("style");
    CHECK(st && strstr(st->choices, "whitegrid"), "style accepts whitegrid");
}

/* Options of the compat example, and every sampling mode. */
static void test_options(void)
{
    struct {
        const char *name;
        size_t tcase;
        const char *opts[16];
    } runs[] = {
        {"compat_latency_over_time", 0,
         {"style", "whitegrid", "dpi", "150", "width_px", "1200", "height_px", "600",
          "x_label_angle", "45", "x_timestamp_format", "medium"}},
        {"compat_by_status", 1, {"legend", "true", "legend_loc", "upper right", "max_points", "400"}},
        {"sampling_random", 1, {"max_points", "300", "sampling", "random", "random_state", "3"}},
        {"sampling_minmax", 0, {"max_points", "200", "sampling", "minmax"}},
        {"sampling_uniform", 0, {"max_points", "100", "sampling", "uniform"}},
        {"hist_bins30", 3, {"style", "whitegrid", "bins", "30"}},
        {"hist_step", 4, {"hist_element", "step", "hist_common_norm", "true", "legend_loc", "0"}},
        {"hist_poly", 4, {"hist_element", "poly", "max_rows", "500", "style", "darkgrid"}},
        {"box_white", 5, {"style", "white", "max_rows", "300"}},
        {"cdf_ticks", 8, {"style", "ticks", "legend_loc", "outside right"}},
        {"ts_nolegend", 1, {"legend", "false", "style", "dark"}},
        {"short_format", 11, {"x_timestamp_format", "short", "legend_loc", "lower left"}},
        {"legend_bottom", 1, {"legend_loc", "outside bottom", "x_label_angle", "45"}},
    };
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
        char name[128];
        snprintf(name, sizeof name, "%s.png", runs[i].name);
        current = name;
        const char *kv[17] = {0};
        memcpy(kv, runs[i].opts, sizeof runs[i].opts);
        set_opts(kv);
        int rc = draw(&cases[runs[i].tcase], "png", outpath(name), NULL);
        CHECK(rc == BC_OK, "render returned %d", rc);
        check_file(outpath(name), "png", 1200, 600);
    }
    set_opts(NULL);
}

static void test_errors(void)
{
    tcase t = cases[0];
    set_opts(NULL);

    current = "missing x column";
    t.x = "no_such_column";
    int rc = draw(&t, "png", outpath("err_missing.png"), NULL);
    CHECK(rc == BC_ERR, "returned %d", rc);
    CHECK(strstr(last_error, "no_such_column") && strstr(last_error, "timestamp_ms"),
          "the error names the column and lists the real ones");
    CHECK(!exists(outpath("err_missing.png")), "no output file");

    current = "missing groupby column";
    t = cases[1];
    t.groupby = "colour";
    rc = draw(&t, "png", outpath("err_group.png"), NULL);
    CHECK(rc == BC_ERR && strstr(last_error, "colour") && strstr(last_error, "groupby"),
          "returned %d", rc);

    current = "string column as y";
    t = cases[0];
    t.y = "status";
    rc = draw(&t, "png", outpath("err_string.png"), NULL);
    CHECK(rc == BC_ERR && strstr(last_error, "status"), "returned %d", rc);

    current = "unreadable source";
    t = cases[0];
    t.source = "does-not-exist.csv";
    rc = draw(&t, "png", outpath("err_source.png"), NULL);
    CHECK(rc == BC_ERR && strstr(last_error, "does-not-exist.csv") &&
              strstr(last_error, "No such file"),
          "returned %d", rc);
    CHECK(!exists(outpath("err_source.png")), "no output file");

    current = "source is a directory";
    bc_plot_request req = {.size = sizeof req, .name = "dir", .type = "histogram",
                           .x = "latency_ms", .format = "png",
                           .output_path = outpath("err_dir.png"), .source_path = fixtures};
    rc = render(&req);
    CHECK(rc == BC_ERR && strstr(last_error, fixtures), "returned %d", rc);

    current = "output directory missing";
    t = cases[0];
    rc = draw(&t, "png", outpath("no/such/dir/x.png"), NULL);
    CHECK(rc == BC_ERR && strstr(last_error, "no/such/dir/x.png"), "returned %d", rc);

    current = "gnuplot_path does not exist";
    set_opts((const char *const[]){"gnuplot_path", "/nonexistent/bin/gnuplot", NULL});
    rc = draw(&cases[0], "png", outpath("err_path.png"), NULL);
    CHECK(rc == BC_ERR && strstr(last_error, "/nonexistent/bin/gnuplot") &&
              strstr(last_error, "No such file"),
          "returned %d", rc);
    CHECK(!exists(outpath("err_path.png")), "no output file");

    current = "gnuplot not on PATH";
    set_opts(NULL);
    char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    setenv("PATH", outdir, 1);
    rc = draw(&cases[0], "png", outpath("err_nopath.png"), NULL);
    if (old) {
        setenv("PATH", old, 1);
        free(old);
    }
    CHECK(rc == BC_ERR && strstr(last_error, "gnuplot not found on PATH") &&
              strstr(last_error, "gnuplot-nox"),
          "returned %d", rc);

    current = "gnuplot fails";
    char script[1100];
    snprintf(script, sizeof script, "%s/fake-gnuplot.sh", outdir);
    FILE *f = fopen(script, "w");
    if (f) {
        fputs("#!/bin/sh\ncat >/dev/null\necho 'line 7: boom, something broke' >&2\nexit 3\n", f);
        fclose(f);
        chmod(script, 0755);
    }
    set_opts((const char *const[]){"gnuplot_path", script, NULL});
    rc = draw(&cases[0], "png", outpath("err_fail.png"), NULL);
    CHECK(rc == BC_ERR && strstr(last_error, "boom, something broke") &&
              strstr(last_error, "exit status 3"),
          "returned %d", rc);
    CHECK(!exists(outpath("err_fail.png")), "a failed plot leaves no file");

    current = "gnuplot dies early";
    f = fopen(script, "w");
    if (f) {
        fputs("#!/bin/sh\necho 'gave up' >&2\nexit 1\n", f);
        fclose(f);
    }
    rc = draw(&cases[0], "png", outpath("err_early.png"), NULL);
    CHECK(rc == BC_ERR && strstr(last_error, "gave up"), "returned %d", rc);
    unlink(script);

    current = "cancelled";
    set_opts(NULL);
    bc_fake_cancel(&fake);
    rc = draw(&cases[0], "png", outpath("err_cancel.png"), NULL);
    bc_fake_reset(&fake);
    CHECK(rc == BC_CANCELLED, "returned %d", rc);
    CHECK(!exists(outpath("err_cancel.png")), "no output file");

    current = "unknown type";
    t = cases[0];
    t.type = "pie";
    rc = draw(&t, "png", outpath("err_type.png"), NULL);
    CHECK(rc == BC_ERR && strstr(last_error, "pie"), "returned %d", rc);

    current = "quotes in titles and names";
    rc = draw(&cases[1], "png", outpath("quote's \"title\".png"), "it's a \"title\" with 'quotes'\n");
    CHECK(rc == BC_OK, "returned %d", rc);
    check_file(outpath("quote's \"title\".png"), "png", 1200, 600);

    check_no_leftovers();
}

static const bc_column bad_cols[] = {
    /* As in the Go tool's example: a timestamp with a unit and no format. */
    {.name = "ts", .type = "timestamp", .unit = "s"},
    {.name = "latency_ms", .type = "float", .unit = "ms"},
    {.name = "constant", .type = "integer"},
    {.name = "status", .type = "string"},
};

static void test_edge_cases(void)
{
    set_opts(NULL);
    current = "header only";
    tcase t = {"empty", "histogram", "latency_ms", NULL, NULL, NULL, "header_only.csv",
               requests_cols, 4};
    int rc = draw(&t, "png", outpath("edge_empty.png"), NULL);
    CHECK(rc == BC_ERR && strstr(last_error, "no data rows"), "returned %d", rc);
    CHECK(!exists(outpath("edge_empty.png")), "no output file");

    current = "unusable values are skipped with a warning";
    t = (tcase){"bad", "time_series", "ts", "latency_ms", "status", NULL, "bad_values.csv",
                bad_cols, 4};
    rc = draw(&t, "png", outpath("edge_bad.png"), NULL);
    CHECK(rc == BC_OK, "returned %d", rc);
    CHECK(strstr(logs_text(), "skipped 3 row(s)") && strstr(logs_text(), "latency_ms"), "logs: %s", logs_text());
    check_file(outpath("edge_bad.png"), "png", 1200, 600);

    static const char *const types[] = {"histogram", "cdf", "boxplot"};
    for (size_t i = 0; i < 3; i++) {
        char name[64];
        snprintf(name, sizeof name, "edge_constant_%s.png", types[i]);
        current = name;
        t = (tcase){"constant", types[i], i == 2 ? NULL : "constant", i == 2 ? "constant" : NULL,
                    NULL, NULL, "bad_values.csv", bad_cols, 4};
        rc = draw(&t, "png", outpath(name), NULL);
        CHECK(rc == BC_OK, "a single distinct value draws (%d)", rc);
        check_file(outpath(name), "png", 1200, 600);
    }

    current = "more groups than shown";
    t = (tcase){"groups", "histogram", "latency_ms", NULL, "ts", NULL, "bad_values.csv",
                bad_cols, 4};
    rc = draw(&t, "png", outpath("edge_groups.png"), NULL);
    CHECK(rc == BC_OK, "returned %d", rc);
    CHECK(strstr(logs_text(), "the rest as 'other'") != NULL, "logs: %s", logs_text());
    check_no_leftovers();
}

/* ---- driver mode (benchmarks) -------------------------------------------- */

static int driver(int argc, char **argv)
{
    bc_plot_request req = {.size = sizeof req, .name = "bench", .format = "png"};
    static bc_column cols[32];
    size_t ncols = 0;
    static const char *kv[2 * MAX_OPTS + 1];
    size_t nkv = 0;
    for (int i = 3; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--source"))
            req.source_path = v;
        else if (!strcmp(k, "--out"))
            req.output_path = v;
        else if (!strcmp(k, "--type"))
            req.type = v;
        else if (!strcmp(k, "--x"))
            req.x = v;
        else if (!strcmp(k, "--y"))
            req.y = v;
        else if (!strcmp(k, "--groupby"))
            req.groupby = v;
        else if (!strcmp(k, "--agg"))
            req.aggregation = v;
        else if (!strcmp(k, "--format"))
            req.format = v;
        else if (!strcmp(k, "--title"))
            req.title = v;
        else if (!strcmp(k, "--col") && ncols < 32) {
            /* NAME:TYPE[:FORMAT[:UNIT]]; an empty part is NULL. */
            char *s = strdup(v), *part[4] = {NULL, NULL, NULL, NULL};
            for (int q = 0; q < 4 && s; q++) {
                part[q] = s;
                s = strchr(s, ':');
                if (s)
                    *s++ = '\0';
            }
            for (int q = 0; q < 4; q++)
                if (part[q] && !*part[q])
                    part[q] = NULL;
            cols[ncols].name = part[0];
            cols[ncols].type = part[1];
            cols[ncols].format = part[2];
            cols[ncols].unit = part[3];
            ncols++;
        } else if (!strcmp(k, "--opt") && nkv + 2 < 2 * MAX_OPTS) {
            char *s = strdup(v), *eq = strchr(s, '=');
            if (!eq)
                return 2;
            *eq = '\0';
            kv[nkv++] = s;
            kv[nkv++] = eq + 1;
        } else {
            fprintf(stderr, "unknown argument %s\n", k);
            return 2;
        }
    }
    kv[nkv] = NULL;
    set_opts(kv);
    req.columns = cols;
    req.n_columns = ncols;
    int64_t t0 = bc_mono_ns();
    int rc = render(&req);
    int64_t t1 = bc_mono_ns();
    if (rc != BC_OK) {
        fprintf(stderr, "render failed (%d): %s\n", rc, last_error);
        return 1;
    }
    printf("%.3f\n", (double)(t1 - t0) / 1e9);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "render") == 0) {
        if (load(argv[2]) != 0)
            return 2;
        return driver(argc, argv);
    }
    if (argc < 3) {
        fprintf(stderr, "usage: %s PLUGIN FIXTURES_DIR [OUT_DIR]\n", argv[0]);
        return 2;
    }
    if (load(argv[1]) != 0)
        return 1;
    fixtures = argv[2];
    if (argc > 3) {
        snprintf(outdir, sizeof outdir, "%s", argv[3]);
        mkdir(outdir, 0755);
    } else {
        snprintf(outdir, sizeof outdir, "/tmp/test_plot_gnuplot.XXXXXX");
        if (!mkdtemp(outdir)) {
            perror("mkdtemp");
            return 1;
        }
    }
    CHECK(plugin->kind == BC_KIND_PLOT && strcmp(plugin->name, "gnuplot") == 0,
          "the plugin is plot 'gnuplot'");
    test_option_schema();
    test_every_type_and_format();
    test_sizes();
    test_options();
    test_errors();
    test_edge_cases();
    printf("%d checks, %d failures; plots in %s\n", checks, failures, outdir);
    if (failures == 0 && argc <= 3) {
        /* Clean up the temporary directory. */
        DIR *d = opendir(outdir);
        struct dirent *e;
        char p[1400];
        while (d && (e = readdir(d)))
            if (e->d_name[0] != '.') {
                snprintf(p, sizeof p, "%s/%s", outdir, e->d_name);
                unlink(p);
            }
        if (d)
            closedir(d);
        rmdir(outdir);
    }
    return failures ? 1 : 0;
}
