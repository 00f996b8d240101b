/*
 * Plugin-level tests of validator-json.so and validator-jsonl.so with a
 * fake services table (see test_validator_harness.h) on the fixtures in
 * tests/fixtures/data.
 *
 * usage: test_validator_json JSON_PLUGIN JSONL_PLUGIN FIXTURE_DIR [large [MB]]
 */
#include "test_validator_harness.h"

static const bc_plugin *json_plugin, *jsonl_plugin;

static const bc_column std_cols[] = {
    {"ts", "timestamp", "rfc3339", NULL},
    {"host", "string", NULL, NULL},
    {"latency_ms", "float", NULL, "ms"},
    {"requests", "integer", NULL, NULL},
};
#define NSTD (sizeof std_cols / sizeof *std_cols)

#define T0 1714564800.0 /* 2024-05-01T12:00:00Z */

static int run(const bc_plugin *p, const char *name, const char *fixture, const bc_column *cols,
               size_t n)
{
    h_plugin = p;
    h_case = name;
    return h_validate(h_fixture(fixture), cols, n);
}

static char *msg(const char *fmt, const char *arg)
{
    static char bufs[8][512];
    static int k;
    char *b = bufs[k++ & 7];
    snprintf(b, sizeof bufs[0], fmt, arg);
    return b;
}

static void test_jsonl(void)
{
    h_reset();
    int rc = run(jsonl_plugin, "good.jsonl", "good.jsonl", std_cols, NSTD);
    CHECK(rc == BC_OK);
    EXPECT_NERRS(0);
    CHECK(h_nsums == 4);
    EXPECT_SUM("ts", 4, T0 - 7200 + 2.5, T0 + 3, T0 + (1 - 7200 + 2.5 + 3) / 4);
    EXPECT_SUM("host", 4, 0, 0, 0);
    EXPECT_SUM("latency_ms", 4, 0, 3.25, 1.8125);
    EXPECT_SUM("requests", 4, -5, 20, 6.25);

    h_reset();
    rc = run(jsonl_plugin, "missing_key.jsonl", "missing_key.jsonl", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, 1, 3, NULL, "missing key 'latency_ms'");
    EXPECT_SUM("latency_ms", 1, 2.5, 2.5, 2.5);
    CHECK(!strcmp(h_error, msg("1 invalid value in %s (first at line 1, column 3)",
                               h_fixture("missing_key.jsonl"))));

    h_reset();
    rc = run(jsonl_plugin, "extra_key.jsonl", "extra_key.jsonl", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(2);
    EXPECT_ERR(0, 1, 0, "extra", "unexpected key 'extra' (not in data_schema.columns)");
    EXPECT_ERR(1, 2, 2, "host", "duplicate key 'host'");
    EXPECT_SUM("host", 2, 0, 0, 0);

    h_reset();
    h_opt("allow_extra_keys", "true");
    rc = run(jsonl_plugin, "extra_key.jsonl allowed", "extra_key.jsonl", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, 2, 2, "host", "duplicate key 'host'");

    h_reset();
    rc = run(jsonl_plugin, "wrong_type.jsonl", "wrong_type.jsonl", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(7);
    EXPECT_ERR(0, 2, 3, "fast", "expected a float, found a string");
    EXPECT_ERR(1, 3, 4, "1.5", "not an integer");
    EXPECT_ERR(2, 4, 2, "7", "expected a string, found a number");
    EXPECT_ERR(3, 4, 3, "null", "expected a float, found null");
    EXPECT_ERR(4, 4, 4, "1e+19", "integer out of range (64-bit)");
    EXPECT_ERR(5, 5, 3, "inf", "number out of range");
    EXPECT_ERR(6, 5, 4, "[1]", "expected an integer, found an array");
    EXPECT_SUM("latency_ms", 3, 1.5, 3, 7.0 / 3);
    EXPECT_SUM("requests", 3, 3, 20, 11); /* 3.0 is an integral number */
    EXPECT_SUM("host", 5, 0, 0, 0);

    static const bc_column ts_cols[] = {
        {"unix", "timestamp", "unix", NULL},       {"unix_ms", "timestamp", "unix_ms", NULL},
        {"rfc3339", "timestamp", "rfc3339", NULL}, {"iso8601", "timestamp", "iso8601", NULL},
        {"auto", "timestamp", NULL, NULL},
    };
    h_reset();
    rc = run(jsonl_plugin, "bad_timestamp.jsonl", "bad_timestamp.jsonl", ts_cols, 5);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(5);
    EXPECT_ERR(0, 3, 1, "soon", "not a unix timestamp (seconds, e.g. 1714564800 or 1714564800.25)");
    EXPECT_ERR(1, 3, 2, "1714564800000.5",
               "not a unix_ms timestamp (integer milliseconds, e.g. 1714564800123)");
    EXPECT_ERR(2, 3, 3, "1714564800",
               "not an rfc3339 timestamp: a number, expected a string (e.g. 2024-05-01T12:00:00Z "
               "or 2024-05-01T14:00:00.5+02:00)");
    EXPECT_ERR(3, 3, 4, "2024-02-30",
               "invalid iso8601 timestamp: day 30 out of range for 2024-02 (01-29)");
    EXPECT_ERR(4, 3, 5, "true", "expected a timestamp (number or string), found a boolean");
    EXPECT_SUM("unix", 2, T0, T0 + 0.5, T0 + 0.25);
    EXPECT_SUM("unix_ms", 2, T0, T0 + 0.123, T0 + 0.0615); /* a numeric string is accepted */
    EXPECT_SUM("rfc3339", 2, T0, T0, T0);
    EXPECT_SUM("iso8601", 2, T0 - 43200, T0, T0 - 21600);
    EXPECT_SUM("auto", 2, T0, T0 + 1, T0 + 0.5);
    CHECK(h_logs_with(BC_LOG_INFO, "detected") == 1);
    CHECK(h_logs_with(BC_LOG_INFO, "column 'auto' declares no timestamp format; detected unix_ms "
                                   "from '1714564800000' (line 1)") == 1);

    h_reset();
    rc = run(jsonl_plugin, "invalid.jsonl", "invalid.jsonl", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(3);
    EXPECT_ERR(0, 2, 0,
               "{\"ts\":\"2024-05-01T12:00:01Z\",\"host\":\"beta\",\"latency_ms\":2.5,\"requests\":20",
               "invalid JSON (at byte 73 of the line)");
    EXPECT_ERR(1, 3, 0, "[1,2]", "expected a JSON object, found an array");
    EXPECT_ERR(2, 4, 0,
               "{\"ts\":\"2024-05-01T12:00:02Z\",\"host\":\"gamma\",\"latency_ms\":3.5,\"requests\":30} "
               "{\"x\":1}",
               "unexpected text after the JSON value (at byte 76 of the line); JSON Lines holds "
               "one value per line");
    EXPECT_SUM("requests", 2, 10, 30, 20);

    h_reset();
    rc = run(jsonl_plugin, "crlf.jsonl", "crlf.jsonl", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, 3, 4, "30", "expected an integer, found a string");
    EXPECT_SUM("latency_ms", 3, 1.5, 3.5, 2.5);

    h_reset();
    rc = run(jsonl_plugin, "empty.jsonl", "empty.jsonl", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, 1, 0, NULL, "empty file: no objects");
    EXPECT_SUM("ts", 0, 0, 0, 0);

    h_reset();
    rc = run(jsonl_plugin, "blank.jsonl", "blank.jsonl", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, 1, 0, NULL, "empty file: no objects");
}

/* Lines longer than the read buffer, and longer than max_line_bytes. */
static void test_jsonl_long_lines(void)
{
    size_t big = 700 * 1024;
    size_t cap = big + 1024;
    char *text = malloc(cap);
    if (!text) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    static const char head[] = "{\"host\":\"a\",\"n\":1}\n{\"host\":\"";
    static const char tail[] = "\",\"n\":2}\n{\"host\":\"c\",\"n\":\"three\"}\n"
                               "{\"host\":\"d\",\"n\":4}";
    size_t n = sizeof head - 1;
    memcpy(text, head, n);
    memset(text + n, 'x', big);
    n += big;
    memcpy(text + n, tail, sizeof tail - 1);
    n += sizeof tail - 1;
    const char *path = h_tempfile(text, n);
    free(text);
    static const bc_column cols[] = {{"host", "string", NULL, NULL},
                                     {"n", "integer", NULL, NULL}};
    h_reset();
    h_plugin = jsonl_plugin;
    h_case = "long line";
    int rc = h_validate(path, cols, 2);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, 3, 2, "three", "expected an integer, found a string");
    EXPECT_SUM("n", 3, 1, 4, 7.0 / 3);

    h_reset();
    h_case = "max_line_bytes";
    h_opt("max_line_bytes", "1024");
    rc = h_validate(path, cols, 2);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(2);
    EXPECT_ERR(0, 2, 0, NULL, "line longer than max_line_bytes (1024); skipped");
    EXPECT_ERR(1, 3, 2, "three", "expected an integer, found a string");
    EXPECT_SUM("n", 2, 1, 4, 2.5);
    unlink(path);
}

static void test_json(void)
{
    h_reset();
    int rc = run(json_plugin, "good.json", "good.json", std_cols, NSTD);
    CHECK(rc == BC_OK);
    EXPECT_NERRS(0);
    EXPECT_SUM("ts", 3, T0, T0 + 2, T0 + 1);
    EXPECT_SUM("host", 3, 0, 0, 0);
    EXPECT_SUM("requests", 3, 10, 30, 20);

    h_reset();
    rc = run(json_plugin, "bad.json", "bad.json", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(4);
    EXPECT_ERR(0, 3, 3, "x", "expected a float, found a string");
    EXPECT_ERR(1, 9, 4, NULL, "missing key 'requests'");
    EXPECT_ERR(2, 10, 0, "[1,2]", "expected a JSON object, found an array");
    EXPECT_ERR(3, 11, 0, "more", "unexpected key 'more' (not in data_schema.columns)");
    EXPECT_SUM("latency_ms", 3, 1.5, 4.5, 3.1666666666666665);
    CHECK(!strcmp(h_error, msg("4 invalid values in %s (first at line 3, column 3)",
                               h_fixture("bad.json"))));

    h_reset();
    rc = run(json_plugin, "invalid.json", "invalid.json", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    /* Streamed: the first element is checked before the second is read. */
    EXPECT_NERRS(6);
    EXPECT_ERR(0, 2, 0, "a", "unexpected key 'a' (not in data_schema.columns)");
    EXPECT_ERR(5, 3, 0, "}", "invalid JSON");

    /* Truncated: the file ends inside the array. */
    h_reset();
    h_case = "truncated json";
    const char cut[] = "[\n {\"host\": \"a\", \"n\": 1},\n {\"host\": \"b\",\n";
    const char *path = h_tempfile(cut, sizeof cut - 1);
    static const bc_column cols[] = {{"host", "string", NULL, NULL}, {"n", "integer", NULL, NULL}};
    rc = h_validate(path, cols, 2);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, 3, 0, NULL, "invalid JSON: the file ends inside a value");
    unlink(path);

    h_reset();
    rc = run(json_plugin, "not_array.json", "not_array.json", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, 1, 0, NULL, "expected a JSON array of objects, found an object");

    h_reset();
    rc = run(json_plugin, "empty.json", "empty.json", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, 1, 0, NULL, "empty file: no JSON array");

    h_reset();
    rc = run(json_plugin, "empty_array.json", "empty_array.json", std_cols, NSTD);
    CHECK(rc == BC_OK);
    EXPECT_NERRS(0);
    EXPECT_SUM("requests", 0, 0, 0, 0);

}

static void test_json_limits(void)
{
    char text[3000];
    size_t n = (size_t)snprintf(text, sizeof text, "[");
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%s{\"n\": %d}\n", i ? "," : "", i);
    n += (size_t)snprintf(text + n, sizeof text - n, "]\n");
    const char *path = h_tempfile(text, n);
    static const bc_column cols[] = {{"n", "integer", NULL, NULL}};
    h_reset();
    h_plugin = json_plugin;
    h_case = "max_bytes";
    h_opt("max_bytes", "1024");
    int rc = h_validate(path, cols, 1); /* streamed: small elements fit */
    CHECK(rc == BC_OK);
    EXPECT_NERRS(0);
    EXPECT_SUM("n", 100, 0, 99, 49.5);

    /* An element larger than max_bytes is reported and skipped. */
    char big[2600];
    size_t bn = (size_t)snprintf(big, sizeof big, "[{\"n\": 1},\n{\"n\": 2, \"pad\": \"");
    while (bn < 2400)
        big[bn++] = 'x';
    bn += (size_t)snprintf(big + bn, sizeof big - bn, "\"},\n{\"n\": 3}]\n");
    const char *bpath = h_tempfile(big, bn);
    h_reset();
    h_case = "max_bytes element";
    h_opt("max_bytes", "1024");
    rc = h_validate(bpath, cols, 1);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, 2, 0, NULL, "an element longer than max_bytes (1024); skipped");
    EXPECT_SUM("n", 2, 1, 3, 2);
    unlink(bpath);

    h_reset();
    h_case = "100 elements";
    rc = h_validate(path, cols, 1);
    CHECK(rc == BC_OK);
    EXPECT_SUM("n", 100, 0, 99, 49.5);
    unlink(path);
}

static void test_file_problems(void)
{
    const bc_plugin *both[] = {json_plugin, jsonl_plugin};
    for (int i = 0; i < 2; i++) {
        h_plugin = both[i];
        h_reset();
        h_case = "missing file";
        int rc = h_validate("/nonexistent/x.json", std_cols, NSTD);
        CHECK(rc == BC_ERR);
        CHECK(!strcmp(h_error, "cannot open /nonexistent/x.json: No such file or directory"));
        CHECK(h_nerrs == 0 && h_nsums == 0);

        h_reset();
        h_case = "directory";
        rc = h_validate(h_fixtures, std_cols, NSTD);
        CHECK(rc == BC_ERR);
        CHECK(!strcmp(h_error, msg("cannot read %s: Is a directory", h_fixtures)));

        h_reset();
        h_case = "cancelled";
        h_cancel = 1;
        rc = h_validate(h_fixture(i ? "good.jsonl" : "good.json"), std_cols, NSTD);
        CHECK(rc == BC_CANCELLED);
        CHECK(h_nsums == 0);
    }
}

/* JSON Lines through a pipe: bounded memory, exact line numbers. */
static void test_large(double mb)
{
    static char block[63 * 1024 + 77];
    size_t n = 0;
    uint64_t lines = 0;
    for (int i = 0; n + 200 < sizeof block; i++, lines++)
        n += (size_t)snprintf(block + n, sizeof block - n,
                              "{\"ts\":%lld,\"a\":%d.%03d,\"b\":%d.5,\"name\":\"host-%d\"}%s",
                              1714564800000LL + i, i % 1000, i % 997, i % 50, i % 17,
                              i % 5 == 2 ? "\r\n\n" : "\n");
    uint64_t per_block = 0;
    for (size_t i = 0; i < n; i++)
        per_block += block[i] == '\n';
    uint64_t blocks = (uint64_t)(mb * 1048576.0 / (double)n) + 1;
    int fds[2];
    if (pipe(fds) != 0)
        exit(2);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        FILE *w = fdopen(fds[1], "w");
        for (uint64_t i = 0; i < blocks; i++)
            fwrite(block, 1, n, w);
        fputs("{\"ts\":1714564800000,\"a\":\"oops\",\"b\":1,\"name\":\"end\"}\n", w);
        fclose(w);
        _exit(0);
    }
    close(fds[1]);
    char path[64];
    snprintf(path, sizeof path, "/dev/fd/%d", fds[0]);
    static const bc_column cols[] = {
        {"ts", "timestamp", "unix_ms", NULL},
        {"a", "float", NULL, NULL},
        {"b", "float", NULL, NULL},
        {"name", "string", NULL, NULL},
    };
    h_reset();
    h_plugin = jsonl_plugin;
    h_case = "large jsonl";
    double t0 = h_now();
    int rc = h_validate(path, cols, 4);
    double dt = h_now() - t0;
    close(fds[0]);
    waitpid(pid, NULL, 0);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, blocks * per_block + 1, 2, "oops", "expected a float, found a string");
    EXPECT_SUM("name", blocks * lines + 1, 0, 0, 0);
    long rss = h_peak_rss_kb();
    fprintf(stderr, "large jsonl: %.0f MiB in %.2f s (%.0f MB/s), peak RSS %ld KiB\n",
            (double)(blocks * n) / 1048576, dt, (double)(blocks * n) / 1e6 / dt, rss);
    if (!H_SANITIZED)
        CHECK(rss < 16 * 1024);
}

/* A JSON array of mb MiB (one object per line, commas between them) fed
 * through a pipe: streamed element by element, in bounded memory. */
static void test_large_array(double mb)
{
    static char block[63 * 1024 + 77];
    size_t n = 0;
    uint64_t objs = 0;
    for (int i = 0; n + 200 < sizeof block; i++, objs++)
        n += (size_t)snprintf(block + n, sizeof block - n,
                              "{\"ts\":%lld,\"a\":%d.%03d,\"name\":\"host-%d\"},\n",
                              1714564800000LL + i, i % 1000, i % 997, i % 17);
    uint64_t blocks = (uint64_t)(mb * 1048576.0 / (double)n) + 1;
    int fds[2];
    if (pipe(fds) != 0)
        exit(2);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        FILE *w = fdopen(fds[1], "w");
        fputs("[\n", w);
        for (uint64_t i = 0; i < blocks; i++)
            fwrite(block, 1, n, w);
        fputs("{\"ts\":1714564800000,\"a\":\"oops\",\"name\":\"end\"}\n]\n", w);
        fclose(w);
        _exit(0);
    }
    close(fds[1]);
    char path[64];
    snprintf(path, sizeof path, "/dev/fd/%d", fds[0]);
    static const bc_column cols[] = {
        {"ts", "timestamp", "unix_ms", NULL},
        {"a", "float", NULL, NULL},
        {"name", "string", NULL, NULL},
    };
    h_reset();
    h_plugin = json_plugin;
    h_case = "large json";
    double t0 = h_now();
    int rc = h_validate(path, cols, 3);
    double dt = h_now() - t0;
    close(fds[0]);
    waitpid(pid, NULL, 0);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, blocks * objs + 2, 2, "oops", "expected a float, found a string");
    EXPECT_SUM("name", blocks * objs + 1, 0, 0, 0);
    long rss = h_peak_rss_kb();
    fprintf(stderr, "large json: %.0f MiB in %.2f s (%.0f MB/s), peak RSS %ld KiB\n",
            (double)(blocks * n) / 1048576, dt, (double)(blocks * n) / 1e6 / dt, rss);
    if (!H_SANITIZED)
        CHECK(rss < 16 * 1024);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s JSON_PLUGIN JSONL_PLUGIN FIXTURE_DIR [large [MB]]\n", argv[0]);
        return 2;
    }
    h_plugin = json_plugin = h_load(argv[1], "json");
    jsonl_plugin = h_load(argv[2], "jsonl");
    h_fixtures = argv[3];
    if (argc >= 5 && !strcmp(argv[4], "large")) {
        test_large(argc >= 6 ? atof(argv[5]) : (H_SANITIZED ? 20 : 100));
        test_large_array(argc >= 6 ? atof(argv[5]) : (H_SANITIZED ? 20 : 100));
    } else {
        test_jsonl();
        test_jsonl_long_lines();
        test_json();
        test_json_limits();
        test_file_problems();
        test_large(4);
        test_large_array(4);
    }
    h_reset();
    if (h_failures) {
        fprintf(stderr, "%d check(s) failed\n", h_failures);
        return 1;
    }
    fprintf(stderr, "all checks passed\n");
    return 0;
}
