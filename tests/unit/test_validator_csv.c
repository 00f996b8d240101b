/*
 * Plugin-level tests of validator-csv.so: load the built plugin, call its
 * validate operation on the fixtures in tests/fixtures/data with a fake
 * services table, and check every reported problem (line, column, value,
 * message) and every column summary.
 *
 * usage: test_validator_csv PLUGIN FIXTURE_DIR          the unit tests
 *        test_validator_csv PLUGIN FIXTURE_DIR large [MB] a generated CSV
 *            streamed through a pipe: bounded peak RSS, exact line numbers
 *        test_validator_csv PLUGIN - bench FILE          validate FILE as
 *            (timestamp unix_ms, float, float, string); print one JSON line
 */
#include "test_validator_harness.h"

static const bc_column std_cols[] = {
    {"ts", "timestamp", "rfc3339", NULL},
    {"host", "string", NULL, NULL},
    {"latency_ms", "float", NULL, "ms"},
    {"requests", "integer", NULL, NULL},
};
#define NSTD (sizeof std_cols / sizeof *std_cols)

#define T0 1714564800.0 /* 2024-05-01T12:00:00Z */

static const char *const RFC_EX = "(e.g. 2024-05-01T12:00:00Z or 2024-05-01T14:00:00.5+02:00)";

static char *msg(const char *fmt, const char *arg)
{
    static char bufs[8][512];
    static int k;
    char *b = bufs[k++ & 7];
    snprintf(b, sizeof bufs[0], fmt, arg);
    return b;
}

static int run(const char *name, const char *fixture, const bc_column *cols, size_t n)
{
    h_case = name;
    return h_validate(h_fixture(fixture), cols, n);
}

static void test_good(void)
{
    h_reset();
    int rc = run("good", "good.csv", std_cols, NSTD);
    CHECK(rc == BC_OK);
    EXPECT_NERRS(0);
    CHECK(h_error[0] == '\0');
    CHECK(h_nsums == 4);
    double ts[] = {T0, T0 + 1, T0 + 2.5 - 7200, T0 + 3};
    EXPECT_SUM("ts", 4, T0 + 2.5 - 7200, T0 + 3, (ts[0] + ts[1] + ts[2] + ts[3]) / 4);
    EXPECT_SUM("host", 4, 0, 0, 0);
    EXPECT_SUM("latency_ms", 4, 0, 3.25, 1.8125);
    EXPECT_SUM("requests", 4, -5, 20, 6.25);
    /* Summaries come in declared order. */
    CHECK(h_nsums == 4 && !strcmp(h_sums[0].column, "ts") && !strcmp(h_sums[3].column, "requests"));
    CHECK(h_logs_with(BC_LOG_INFO, "detected") == 0);
}

static void test_header_problems(void)
{
    h_reset();
    int rc = run("missing_column", "missing_column.csv", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(2);
    EXPECT_ERR(0, 1, 3, NULL, "missing column 'latency_ms'");
    /* Values are still checked by name: requests is the file's column 3. */
    EXPECT_ERR(1, 3, 3, "x20", "not an integer");
    EXPECT_SUM("latency_ms", 0, 0, 0, 0);
    EXPECT_SUM("requests", 1, 10, 10, 10);
    CHECK(!strcmp(h_error, msg("2 invalid values in %s (first at line 1, column 3)",
                               h_fixture("missing_column.csv"))));

    h_reset();
    rc = run("extra_column", "extra_column.csv", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, 1, 5, "extra", "unexpected column 'extra' (not in data_schema.columns)");
    EXPECT_SUM("latency_ms", 2, 1.5, 2.5, 2);

    h_reset();
    rc = run("renamed_column", "renamed_column.csv", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, 1, 2, "hostname", "column is named 'hostname', expected 'host'");
    EXPECT_SUM("host", 0, 0, 0, 0);
    EXPECT_SUM("requests", 1, 10, 10, 10);

    h_reset();
    rc = run("misordered", "misordered.csv", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(2);
    EXPECT_ERR(0, 1, 3, "host", "column 'host' out of order: declared as column 2");
    EXPECT_ERR(1, 3, 2, "beta", "not a float");
    EXPECT_SUM("latency_ms", 1, 1.5, 1.5, 1.5);
    EXPECT_SUM("host", 2, 0, 0, 0);

    /* Duplicates, and no columns declared at all (shape only). */
    h_reset();
    h_case = "duplicate";
    const char dup[] = "ts,host,host,latency_ms,requests\n";
    const char *dpath = h_tempfile(dup, sizeof dup - 1);
    rc = h_validate(dpath, std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, 1, 3, "host", "duplicate column 'host'");
    unlink(dpath);

    h_reset();
    h_case = "no columns";
    rc = h_validate(h_fixture("ragged.csv"), NULL, 0);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(3);
    EXPECT_ERR(0, 2, 4, NULL, "row has 3 fields, expected 4");
    EXPECT_ERR(1, 3, 5, "surplus", "row has 6 fields, expected 4");
    EXPECT_ERR(2, 6, 2, NULL, "row has 1 field, expected 4");
    CHECK(h_nsums == 0);
}

static void test_wrong_type(void)
{
    h_reset();
    int rc = run("wrong_type", "wrong_type.csv", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(7);
    EXPECT_ERR(0, 3, 3, "fast", "not a float");
    EXPECT_ERR(1, 4, 4, "1.5", "not an integer");
    EXPECT_ERR(2, 5, 4, "99999999999999999999", "integer out of range (64-bit)");
    EXPECT_ERR(3, 6, 3, "1e400", "float out of range");
    EXPECT_ERR(4, 6, 4, "", "empty value, expected integer");
    EXPECT_ERR(5, 7, 3, " 3.5", "not a float");
    EXPECT_ERR(6, 8, 4, "0x10", "not an integer");
    /* nan and -inf are valid floats, left out of the summary (and said so). */
    EXPECT_SUM("latency_ms", 2, 1.5, 2.5, 2);
    EXPECT_SUM("requests", 3, 7, 20, 37.0 / 3);
    EXPECT_SUM("ts", 7, T0, T0 + 6, T0 + 3);
    CHECK(h_logs_with(BC_LOG_WARN, "column 'latency_ms': 2 nan/inf values are valid but left "
                                   "out of the summary") == 1);
    CHECK(!strcmp(h_error, msg("7 invalid values in %s (first at line 3, column 3)",
                               h_fixture("wrong_type.csv"))));
}

static void test_bad_timestamps(void)
{
    static const bc_column cols[] = {
        {"unix", "timestamp", "unix", NULL},
        {"unix_ms", "timestamp", "unix_ms", NULL},
        {"unix_us", "timestamp", "unix_us", NULL},
        {"unix_ns", "timestamp", "unix_ns", NULL},
        {"rfc3339", "timestamp", "rfc3339", NULL},
        {"rfc3339_nano", "timestamp", "rfc3339_nano", NULL},
        {"iso8601", "timestamp", "iso8601", NULL},
    };
    h_reset();
    int rc = run("bad_timestamp", "bad_timestamp.csv", cols, 7);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(14);
    const char *unix_ex = "(seconds, e.g. 1714564800 or 1714564800.25)";
    EXPECT_ERR(0, 4, 1, "1714564800.", msg("not a unix timestamp %s", unix_ex));
    EXPECT_ERR(1, 5, 1, "1.7e9", msg("not a unix timestamp %s", unix_ex));
    EXPECT_ERR(2, 6, 2, "1714564800123.5",
               "not a unix_ms timestamp (integer milliseconds, e.g. 1714564800123)");
    EXPECT_ERR(3, 7, 3, "abc",
               "not a unix_us timestamp (integer microseconds, e.g. 1714564800123456)");
    EXPECT_ERR(4, 8, 4, "99999999999999999999", "unix_ns timestamp out of range (64-bit)");
    EXPECT_ERR(5, 9, 5, "2024-13-01T00:00:00Z",
               "invalid rfc3339 timestamp: month 13 out of range 01-12");
    EXPECT_ERR(6, 10, 5, "2024-02-30T00:00:00Z",
               "invalid rfc3339 timestamp: day 30 out of range for 2024-02 (01-29)");
    EXPECT_ERR(7, 11, 5, "2024-05-01T12:00:00",
               "invalid rfc3339 timestamp: missing time zone (Z or +hh:mm)");
    EXPECT_ERR(8, 12, 5, "2024-05-01 12:00:00Z", msg("not an rfc3339 timestamp %s", RFC_EX));
    EXPECT_ERR(9, 13, 5, "2024-05-01T24:00:00Z",
               "invalid rfc3339 timestamp: hour 24 out of range 00-23");
    EXPECT_ERR(10, 14, 6, "2024-05-01T12:00:00.1234567891Z",
               "invalid rfc3339_nano timestamp: fraction has 10 digits, at most 9 allowed");
    EXPECT_ERR(11, 15, 7, "2024-05-01T12:60",
               "invalid iso8601 timestamp: minute 60 out of range 00-59");
    EXPECT_ERR(12, 16, 7, "01/05/2024",
               "not an iso8601 timestamp (e.g. 2024-05-01, 2024-05-01T12:00, 2024-05-01 "
               "12:00:00.5+02:00)");
    EXPECT_ERR(13, 17, 7, "2023-02-29",
               "invalid iso8601 timestamp: day 29 out of range for 2023-02 (01-28)");
    /* 16 data rows; timestamps as seconds since the epoch. */
    EXPECT_SUM("unix", 14, T0, T0 + 0.5, T0 + 0.5 / 14);
    EXPECT_SUM("unix_ms", 15, T0, T0 + 0.123, T0 + 0.123 / 15);
    EXPECT_SUM("unix_us", 15, T0, T0 + 0.123456, T0 + 0.123456 / 15);
    EXPECT_SUM("unix_ns", 15, T0, T0 + 0.123456789, T0 + 0.123456789 / 15);
    EXPECT_SUM("rfc3339", 11, T0, T0, T0);
    EXPECT_SUM("rfc3339_nano", 15, T0, T0 + 0.123456789, T0 + 0.123456789 / 15);
    /* 2024-05-01 is midnight UTC; 12:00:00.5+02:00 is 10:00:00.5Z. */
    EXPECT_SUM("iso8601", 13, T0 - 43200, T0 - 7200 + 0.5,
               T0 - 43200 + (43200 - 7200 + 0.5) / 13);
}

static void test_empty_and_header_only(void)
{
    h_reset();
    int rc = run("empty", "empty.csv", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, 1, 0, NULL, "empty file: no header");
    EXPECT_SUM("ts", 0, 0, 0, 0);
    CHECK(!strcmp(h_error, msg("1 invalid value in %s (first at line 1, column 0)",
                               h_fixture("empty.csv"))));

    h_reset();
    h_opt("header", "false");
    rc = run("empty, no header", "empty.csv", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, 1, 0, NULL, "empty file: no rows");

    h_reset();
    rc = run("header_only", "header_only.csv", std_cols, NSTD);
    CHECK(rc == BC_OK);
    EXPECT_NERRS(0);
    CHECK(h_nsums == 4);
    EXPECT_SUM("ts", 0, 0, 0, 0);
    EXPECT_SUM("host", 0, 0, 0, 0);
    EXPECT_SUM("requests", 0, 0, 0, 0);
}

static void test_line_counting(void)
{
    h_reset();
    int rc = run("multiline_quoted", "multiline_quoted.csv", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, 7, 3, "oops", "not a float"); /* records start at lines 2, 4 and 7 */
    EXPECT_SUM("host", 3, 0, 0, 0);
    EXPECT_SUM("requests", 3, 10, 30, 20);

    h_reset();
    rc = run("crlf", "crlf.csv", std_cols, NSTD);
    CHECK(rc == BC_OK);
    EXPECT_NERRS(0);
    /* An integer last column: a trailing CR in a value would be an error. */
    EXPECT_SUM("requests", 3, 10, 30, 20);
    EXPECT_SUM("latency_ms", 3, 1.5, 3.5, 2.5);

    h_reset();
    rc = run("crlf_bad", "crlf_bad.csv", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, 5, 4, "x", "not an integer"); /* CRLF inside quotes, a blank CRLF line */

    h_reset();
    rc = run("ragged", "ragged.csv", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(4);
    EXPECT_ERR(0, 2, 4, NULL, "row has 3 fields, expected 4");
    EXPECT_ERR(1, 3, 5, "surplus", "row has 6 fields, expected 4");
    EXPECT_ERR(2, 6, 1, "lonely", msg("not an rfc3339 timestamp %s", RFC_EX));
    EXPECT_ERR(3, 6, 2, NULL, "row has 1 field, expected 4");
    EXPECT_SUM("requests", 2, 20, 30, 25);

    /* Lone CRs (old Mac line ends) are line breaks too. */
    h_reset();
    h_case = "cr only";
    const char cr[] = "ts,host,latency_ms,requests\r2024-05-01T12:00:00Z,a,1,2\r\r"
                      "2024-05-01T12:00:00Z,\"b\rc\",1,x\r";
    const char *path = h_tempfile(cr, sizeof cr - 1);
    rc = h_validate(path, std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, 4, 4, "x", "not an integer");
    unlink(path);
}

static void test_quoting(void)
{
    h_reset();
    int rc = run("stray_quote", "stray_quote.csv", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(2);
    EXPECT_ERR(0, 2, 2, NULL, "quote character inside an unquoted field");
    EXPECT_ERR(1, 3, 2, NULL, "unexpected character after a closing quote");
    /* Parsing goes on with the lenient reading of those fields. */
    EXPECT_SUM("requests", 3, 10, 30, 20);

    h_reset();
    rc = run("unterminated", "unterminated.csv", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, 3, 2, NULL, "unterminated quoted field at the end of the file");
    EXPECT_SUM("requests", 1, 10, 10, 10);

    /* A quote that never closes cannot make memory grow past max_field_bytes. */
    h_reset();
    h_case = "max_field_bytes";
    size_t n = 300000;
    char *big = malloc(n);
    memcpy(big, "host\n\"", 6);
    memset(big + 6, 'x', n - 6);
    const char *path = h_tempfile(big, n);
    free(big);
    h_opt("max_field_bytes", "1024");
    static const bc_column one[] = {{"host", "string", NULL, NULL}};
    rc = h_validate(path, one, 1);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, 2, 1, NULL,
               "field longer than 1024 bytes (an unterminated quote?); the rest of the file is "
               "not checked");
    unlink(path);
}

/* The reader gives libcsv a "no spaces" rule only in 16 KiB blocks that
 * contain spaces or tabs: values with spaces must be reported wherever they
 * fall against those blocks (and the 256 KiB read chunks). */
static void test_space_blocks(void)
{
    static const struct {
        long ws_at;       /* file offset of the space or tab */
        const char *row;  /* the row */
        int ws_in_row;    /* offset of the space in the row */
        const char *value;
    } special[] = {
        {16384, "x, 7\n", 2, " 7"},          /* first byte of a block */
        {5 * 16384 - 1, "y, 8\n", 2, " 8"},  /* last byte of a block */
        {9 * 16384, "z,9 \n", 3, "9 "},      /* trailing, first byte of a block */
        {300000, "w,\t5\n", 2, "\t5"},     /* in the second read chunk */
    };
    size_t cap = 320000;
    char *text = malloc(cap);
    size_t n = (size_t)snprintf(text, cap, "name,n\n");
    uint64_t line = 2, lines[4];
    for (int k = 0; k < 4; k++) {
        size_t start = (size_t)(special[k].ws_at - special[k].ws_in_row);
        while (n + 64 < start) {
            n += (size_t)snprintf(text + n, cap - n, "%s,1\n",
                                  line % 50 == 0 ? "has space" : "abc");
            line++;
        }
        size_t pad = start - n - 3; /* a row of `pad` letters, a comma, a digit, LF */
        memset(text + n, 'p', pad);
        n += pad;
        n += (size_t)snprintf(text + n, cap - n, ",1\n");
        line++;
        n += (size_t)snprintf(text + n, cap - n, "%s", special[k].row);
        lines[k] = line++;
    }
    n += (size_t)snprintf(text + n, cap - n, "last,2\n");
    const char *path = h_tempfile(text, n);
    free(text);
    static const bc_column cols[] = {{"name", "string", NULL, NULL}, {"n", "integer", NULL, NULL}};
    h_reset();
    h_case = "space blocks";
    int rc = h_validate(path, cols, 2);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(4);
    for (int k = 0; k < 4; k++)
        EXPECT_ERR((size_t)k, lines[k], 2, special[k].value, "not an integer");
    EXPECT_SUM("name", line - 1, 0, 0, 0);
    unlink(path);
}

static void test_variants(void)
{
    h_reset();
    int rc = run("bom", "bom.csv", std_cols, NSTD);
    CHECK(rc == BC_OK);
    EXPECT_NERRS(0);
    EXPECT_SUM("requests", 1, 10, 10, 10);

    h_reset();
    rc = run("no_newline", "no_newline.csv", std_cols, NSTD);
    CHECK(rc == BC_OK);
    EXPECT_NERRS(0);
    EXPECT_SUM("requests", 1, 10, 10, 10);

    h_reset();
    h_opt("header", "false");
    rc = run("noheader", "noheader.csv", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, 2, 4, "twenty", "not an integer");
    EXPECT_SUM("ts", 2, T0, T0 + 1, T0 + 0.5);

    h_reset();
    h_opt("delimiter", ";");
    h_opt("quote", "'");
    rc = run("semicolon", "semicolon.csv", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, 3, 3, "2,5", "not a float");
    EXPECT_SUM("host", 2, 0, 0, 0);

    h_reset();
    h_opt("delimiter", "ab");
    rc = run("bad delimiter", "good.csv", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    CHECK(!strcmp(h_error, "option delimiter must be a single character other than CR and LF, "
                           "not 'ab'"));
    CHECK(h_nerrs == 0 && h_nsums == 0);

    h_reset();
    h_opt("quote", ",");
    rc = run("quote = delimiter", "good.csv", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    CHECK(!strcmp(h_error, "options delimiter and quote must differ (both are ',')"));
}

static void test_autodetect(void)
{
    static const bc_column cols[] = {
        {"ms", "timestamp", NULL, NULL},  {"rfc", "timestamp", NULL, NULL},
        {"iso", "timestamp", NULL, NULL}, {"sec", "timestamp", "", NULL},
        {"bad", "timestamp", NULL, NULL},
    };
    h_reset();
    int rc = run("autodetect", "autodetect.csv", cols, 5);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, 2, 5, "what",
               "cannot detect the timestamp format (expected a unix time or an rfc3339/iso8601 "
               "date)");
    const char *p = h_fixture("autodetect.csv");
    CHECK(h_logs_with(BC_LOG_INFO, "detected") == 5);
    CHECK(h_logs_with(BC_LOG_INFO,
                      msg("%s: column 'ms' declares no timestamp format; detected unix_ms from "
                          "'1714564800000' (line 2)", p)) == 1);
    CHECK(h_logs_with(BC_LOG_INFO, "column 'rfc' declares no timestamp format; detected "
                                   "rfc3339 from '2024-05-01T12:00:00Z' (line 2)") == 1);
    CHECK(h_logs_with(BC_LOG_INFO, "column 'iso' declares no timestamp format; detected "
                                   "iso8601 from '2024-05-01 12:00:00' (line 2)") == 1);
    CHECK(h_logs_with(BC_LOG_INFO, "column 'sec' declares no timestamp format; detected unix "
                                   "from '1714564800.5' (line 2)") == 1);
    CHECK(h_logs_with(BC_LOG_INFO, "column 'bad' declares no timestamp format; detected unix "
                                   "from '1714564800' (line 3)") == 1);
    EXPECT_SUM("ms", 3, T0, T0 + 2, T0 + 1);
    EXPECT_SUM("rfc", 3, T0, T0 + 2, T0 + 3.5 / 3);
    EXPECT_SUM("iso", 3, T0, T0 + 2, T0 + 1);
    EXPECT_SUM("sec", 3, T0 + 0.5, T0 + 2, T0 + 3.5 / 3);
    EXPECT_SUM("bad", 2, T0, T0 + 1, T0 + 0.5);
}

static void test_file_problems(void)
{
    h_reset();
    h_case = "missing file";
    int rc = h_validate("/nonexistent/x.csv", std_cols, NSTD);
    CHECK(rc == BC_ERR);
    CHECK(!strcmp(h_error, "cannot open /nonexistent/x.csv: No such file or directory"));
    CHECK(h_nerrs == 0 && h_nsums == 0);

    h_reset();
    h_case = "directory";
    rc = h_validate(h_fixtures, std_cols, NSTD);
    CHECK(rc == BC_ERR);
    CHECK(!strcmp(h_error, msg("cannot read %s: Is a directory", h_fixtures)));

    h_reset();
    h_case = "cancelled";
    h_cancel = 1;
    rc = h_validate(h_fixture("good.csv"), std_cols, NSTD);
    CHECK(rc == BC_CANCELLED);
    CHECK(h_nsums == 0);

    h_reset();
    h_case = "unknown type";
    static const bc_column badcol[] = {{"x", "double", NULL, NULL}};
    rc = h_validate(h_fixture("good.csv"), badcol, 1);
    CHECK(rc == BC_ERR);
    CHECK(!strcmp(h_error, "column 'x': unknown type 'double' (one of: timestamp, integer, float, "
                           "string)"));

    h_reset();
    h_case = "unknown format";
    static const bc_column badfmt[] = {{"x", "timestamp", "unix_s", NULL}};
    rc = h_validate(h_fixture("good.csv"), badfmt, 1);
    CHECK(rc == BC_ERR);
    CHECK(!strcmp(h_error, "column 'x': unknown timestamp format 'unix_s' (one of: unix, unix_ms, "
                           "unix_us, unix_ns, rfc3339, rfc3339_nano, iso8601)"));
}

static void test_error_cap(void)
{
    h_reset();
    h_case = "error cap";
    size_t cap = 16 + 150 * 2;
    char *text = malloc(cap);
    size_t n = (size_t)snprintf(text, cap, "n\n");
    for (int i = 0; i < 150; i++)
        n += (size_t)snprintf(text + n, cap - n, "x\n");
    const char *path = h_tempfile(text, n);
    free(text);
    static const bc_column cols[] = {{"n", "integer", NULL, NULL}};
    int rc = h_validate(path, cols, 1);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(100);
    EXPECT_ERR(0, 2, 1, "x", "not an integer");
    EXPECT_ERR(99, 101, 1, "x", "not an integer");
    CHECK(h_suppressed == 50); /* data_errors_suppressed, ABI 1.2 */
    CHECK(!strcmp(h_error, msg("150 invalid values in %s (first at line 2, column 1)", path)));
    /* A core before 1.2 has no such service: the count goes as one line. */
    h_reset();
    h_old_core = 1;
    rc = h_validate(path, cols, 1);
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(101);
    EXPECT_ERR(100, 0, 0, NULL, "50 more errors not shown");
    CHECK(h_suppressed == 0);
    unlink(path);
}

/* ---- generated input ---------------------------------------------------- */

/* One block of rows: every 7th has a quoted field holding a line break. */
static size_t gen_block(char *buf, size_t cap, const char *eol, int *rows, int *lines)
{
    size_t n = 0;
    *rows = *lines = 0;
    for (int i = 0; n + 128 < cap; i++) {
        if (i % 7 == 3) {
            n += (size_t)snprintf(buf + n, cap - n, "%lld,%d.%03d,%d.5,\"host%sline\"%s",
                                  1714564800000LL + i, i % 1000, i % 997, i % 50, eol, eol);
            *lines += 2;
        } else {
            n += (size_t)snprintf(buf + n, cap - n, "%lld,%d.%03d,%d.5,host-%d%s",
                                  1714564800000LL + i, i % 1000, i % 997, i % 50, i % 17, eol);
            *lines += 1;
        }
        ++*rows;
    }
    return n;
}

static const bc_column bench_cols[] = {
    {"ts", "timestamp", "unix_ms", NULL},
    {"a", "float", NULL, NULL},
    {"b", "float", NULL, NULL},
    {"name", "string", NULL, NULL},
};

/* Stream `mb` MiB of generated CSV through a pipe (CRLF line ends, quoted
 * fields spanning lines), then one bad row: the validator's memory must
 * stay bounded and the bad row's line number exact. */
static void test_large(double mb)
{
    h_reset();
    h_case = "large";
    static char block[61 * 1024 + 123]; /* not a divisor of the reader's chunk */
    int rows, lines;
    size_t bn = gen_block(block, sizeof block, "\r\n", &rows, &lines);
    uint64_t blocks = (uint64_t)(mb * 1048576.0 / (double)bn) + 1;
    int fds[2];
    if (pipe(fds) != 0) {
        perror("pipe");
        exit(2);
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        FILE *w = fdopen(fds[1], "w");
        fputs("ts,a,b,name\r\n", w);
        for (uint64_t i = 0; i < blocks; i++)
            fwrite(block, 1, bn, w);
        fputs("1714564800000,oops,1,end\r\n", w);
        fclose(w);
        _exit(0);
    }
    close(fds[1]);
    char path[64];
    snprintf(path, sizeof path, "/dev/fd/%d", fds[0]);
    long rss0 = h_peak_rss_kb();
    double t0 = h_now();
    int rc = h_validate(path, bench_cols, 4);
    double dt = h_now() - t0;
    long rss1 = h_peak_rss_kb();
    close(fds[0]);
    waitpid(pid, NULL, 0);
    uint64_t want_line = 1 + blocks * (uint64_t)lines + 1;
    CHECK(rc == BC_ERR);
    EXPECT_NERRS(1);
    EXPECT_ERR(0, want_line, 2, "oops", "not a float");
    uint64_t nrows = blocks * (uint64_t)rows + 1;
    EXPECT_SUM("name", nrows, 0, 0, 0);
    CHECK(h_nsums == 4 && h_sums[0].count == nrows && h_sums[1].count == nrows - 1);
    double bytes = (double)(blocks * bn);
    fprintf(stderr, "large: %.0f MiB, %llu lines in %.2f s (%.0f MB/s), peak RSS %ld KiB "
            "(before: %ld KiB)\n", bytes / 1048576, (unsigned long long)want_line, dt,
            bytes / 1e6 / dt, rss1, rss0);
    if (!H_SANITIZED)
        CHECK(rss1 < 16 * 1024);
}

/* Validate FILE as the benchmark's shape; one JSON line on stdout. */
static int bench(const char *file)
{
    h_case = "bench";
    struct stat st;
    if (stat(file, &st) != 0) {
        perror(file);
        return 2;
    }
    double t0 = h_now();
    int rc = h_validate(file, bench_cols, 4);
    double dt = h_now() - t0;
    printf("{\"bytes\": %lld, \"seconds\": %.3f, \"mb_per_s\": %.1f, \"peak_rss_kb\": %ld, "
           "\"rows\": %llu, \"errors\": %zu, \"status\": %d}\n",
           (long long)st.st_size, dt, (double)st.st_size / 1e6 / dt, h_peak_rss_kb(),
           (unsigned long long)(h_nsums ? h_sums[3].count : 0), h_nerrs, rc);
    return rc == BC_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s PLUGIN FIXTURE_DIR [large [MB] | bench FILE]\n", argv[0]);
        return 2;
    }
    h_plugin = h_load(argv[1], "csv");
    h_fixtures = argv[2];
    if (argc >= 4 && !strcmp(argv[3], "bench"))
        return argc == 5 ? bench(argv[4]) : 2;
    if (argc >= 4 && !strcmp(argv[3], "large")) {
        double mb = argc >= 5 ? atof(argv[4]) : (H_SANITIZED ? 40 : 200);
        test_large(mb);
    } else {
        test_good();
        test_header_problems();
        test_wrong_type();
        test_bad_timestamps();
        test_empty_and_header_only();
        test_line_counting();
        test_quoting();
        test_space_blocks();
        test_variants();
        test_autodetect();
        test_file_problems();
        test_error_cap();
        test_large(8); /* a small run of the generated input, for line counting */
    }
    h_reset();
    if (h_failures) {
        fprintf(stderr, "%d check(s) failed\n", h_failures);
        return 1;
    }
    fprintf(stderr, "all checks passed\n");
    return 0;
}
