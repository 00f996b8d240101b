/*
 * Table tests of the validators' shared value checks
 * (plugins/validators/common/vcheck.c, compiled into this test): which
 * integers, floats and timestamps are accepted, what they are worth, and
 * that the float fast path agrees with strtod.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vcheck.h"

static int failures;

#define CHECK(cond)                                                               \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                           \
        }                                                                         \
    } while (0)

#define T0 1714564800.0

typedef struct ts_case {
    tsfmt fmt;
    const char *text;
    int rc;      /* V_OK, V_SYNTAX or V_RANGE */
    double secs; /* when V_OK */
} ts_case;

static const ts_case ts_cases[] = {
    /* rfc3339 */
    {TS_RFC3339, "2024-05-01T12:00:00Z", V_OK, T0},
    {TS_RFC3339, "2024-05-01t12:00:00z", V_OK, T0},
    {TS_RFC3339, "2024-05-01T12:00:00.5Z", V_OK, T0 + 0.5},
    {TS_RFC3339, "2024-05-01T12:00:00.123456789123Z", V_OK, T0 + 0.123456789123},
    {TS_RFC3339, "2024-05-01T14:00:00+02:00", V_OK, T0},
    {TS_RFC3339, "2024-05-01T07:30:00-04:30", V_OK, T0},
    {TS_RFC3339, "1970-01-01T00:00:00Z", V_OK, 0},
    {TS_RFC3339, "1969-12-31T23:59:59Z", V_OK, -1},
    {TS_RFC3339, "2016-12-31T23:59:60Z", V_OK, 1483228800}, /* leap second */
    {TS_RFC3339, "2000-02-29T00:00:00Z", V_OK, 951782400},
    {TS_RFC3339, "2100-02-29T00:00:00Z", V_RANGE, 0},
    {TS_RFC3339, "2024-04-31T00:00:00Z", V_RANGE, 0},
    {TS_RFC3339, "2024-00-10T00:00:00Z", V_RANGE, 0},
    {TS_RFC3339, "2024-05-00T00:00:00Z", V_RANGE, 0},
    {TS_RFC3339, "2024-05-01T12:00:61Z", V_RANGE, 0},
    {TS_RFC3339, "2024-05-01T12:00:00+24:00", V_RANGE, 0},
    {TS_RFC3339, "2024-05-01T12:00:00", V_RANGE, 0}, /* no zone */
    {TS_RFC3339, "2024-05-01T12:00Z", V_SYNTAX, 0},
    {TS_RFC3339, "2024-5-01T12:00:00Z", V_SYNTAX, 0},
    {TS_RFC3339, "2024-05-01T12:00:00+0200", V_SYNTAX, 0},
    {TS_RFC3339, "2024-05-01T12:00:00.Z", V_SYNTAX, 0},
    {TS_RFC3339, "2024-05-01T12:00:00Z ", V_SYNTAX, 0},
    {TS_RFC3339, " 2024-05-01T12:00:00Z", V_SYNTAX, 0},
    {TS_RFC3339, "2024-05-01", V_SYNTAX, 0},
    {TS_RFC3339, "20240501T120000Z", V_SYNTAX, 0},
    {TS_RFC3339, "", V_SYNTAX, 0},
    /* rfc3339_nano */
    {TS_RFC3339_NANO, "2024-05-01T12:00:00.123456789Z", V_OK, T0 + 0.123456789},
    {TS_RFC3339_NANO, "2024-05-01T12:00:00.1Z", V_OK, T0 + 0.1},
    {TS_RFC3339_NANO, "2024-05-01T12:00:00Z", V_OK, T0},
    {TS_RFC3339_NANO, "2024-05-01T12:00:00.1234567890Z", V_RANGE, 0},
    /* iso8601 */
    {TS_ISO8601, "2024-05-01", V_OK, T0 - 43200},
    {TS_ISO8601, "20240501", V_OK, T0 - 43200},
    {TS_ISO8601, "2024-05-01T12:00", V_OK, T0},
    {TS_ISO8601, "2024-05-01 12:00:00", V_OK, T0},
    {TS_ISO8601, "2024-05-01T12:00:00,5Z", V_OK, T0 + 0.5},
    {TS_ISO8601, "2024-05-01T12:00:00.25", V_OK, T0 + 0.25},
    {TS_ISO8601, "20240501T120000Z", V_OK, T0},
    {TS_ISO8601, "20240501T1200", V_OK, T0},
    {TS_ISO8601, "2024-05-01T14:00+02", V_OK, T0},
    {TS_ISO8601, "2024-05-01T14:00:00+0200", V_OK, T0},
    {TS_ISO8601, "2024-05-01T14:00:00+02:00", V_OK, T0},
    {TS_ISO8601, "2024-05-01T12:00:00Z", V_OK, T0},
    {TS_ISO8601, "2024-05-01T12", V_SYNTAX, 0},
    {TS_ISO8601, "2024-05-01T", V_SYNTAX, 0},
    {TS_ISO8601, "2024-W18-3", V_SYNTAX, 0},
    {TS_ISO8601, "2024-122", V_SYNTAX, 0},
    {TS_ISO8601, "2024-05-01T24:00", V_RANGE, 0},
    {TS_ISO8601, "2024-05-01T12:00,5", V_SYNTAX, 0}, /* fraction only after seconds */
    /* unix family */
    {TS_UNIX, "1714564800", V_OK, T0},
    {TS_UNIX, "1714564800.25", V_OK, T0 + 0.25},
    {TS_UNIX, "-1", V_OK, -1},
    {TS_UNIX, "+5", V_OK, 5},
    {TS_UNIX, "1e9", V_SYNTAX, 0},
    {TS_UNIX, ".5", V_SYNTAX, 0},
    {TS_UNIX, "5.", V_SYNTAX, 0},
    {TS_UNIX, "nan", V_SYNTAX, 0},
    {TS_UNIX, "", V_SYNTAX, 0},
    {TS_UNIX_MS, "1714564800123", V_OK, T0 + 0.123},
    {TS_UNIX_MS, "1714564800123.0", V_SYNTAX, 0},
    {TS_UNIX_US, "1714564800123456", V_OK, T0 + 0.123456},
    {TS_UNIX_NS, "1714564800123456789", V_OK, T0 + 0.123456789},
    {TS_UNIX_NS, "9223372036854775808", V_RANGE, 0},
};

static void test_timestamps(void)
{
    for (size_t i = 0; i < sizeof ts_cases / sizeof *ts_cases; i++) {
        const ts_case *c = &ts_cases[i];
        double secs = -12345;
        char why[256] = "";
        int rc = vts_parse(c->fmt, c->text, strlen(c->text), &secs, why, sizeof why);
        if (rc != c->rc || (rc == V_OK && fabs(secs - c->secs) > 1e-6)) {
            fprintf(stderr, "%s '%s': got rc %d (%s) secs %.9f, want rc %d secs %.9f\n",
                    vts_name(c->fmt), c->text, rc, why, secs, c->rc, c->secs);
            failures++;
        }
        if (rc != V_OK)
            CHECK(why[0] != '\0');
    }
}

static void test_detect(void)
{
    static const struct {
        const char *text;
        tsfmt want;
    } cases[] = {
        {"1714564800", TS_UNIX},
        {"-5", TS_UNIX},
        {"1714564800.5", TS_UNIX},
        {"1714564800123", TS_UNIX_MS},
        {"1714564800123456", TS_UNIX_US},
        {"1714564800123456789", TS_UNIX_NS},
        {"2024-05-01T12:00:00Z", TS_RFC3339},
        {"2024-05-01T12:00:00.123456789+02:00", TS_RFC3339},
        {"2024-05-01", TS_ISO8601},
        {"2024-05-01 12:00:00", TS_ISO8601},
        {"hello", TS_AUTO},
        {"1.5e9", TS_AUTO},
        {"2024-13-01", TS_AUTO},
        {"", TS_AUTO},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tsfmt got = vts_detect_text(cases[i].text, strlen(cases[i].text));
        if (got != cases[i].want) {
            fprintf(stderr, "detect '%s': got %s, want %s\n", cases[i].text, vts_name(got),
                    vts_name(cases[i].want));
            failures++;
        }
    }
    CHECK(vts_detect_number(1714564800) == TS_UNIX);
    CHECK(vts_detect_number(1714564800.5) == TS_UNIX);
    CHECK(vts_detect_number(1714564800123.0) == TS_UNIX_MS);
    CHECK(vts_detect_number(1.714564800123456e15) == TS_UNIX_US);
    CHECK(vts_detect_number(1.714564800123456e18) == TS_UNIX_NS);
}

static void test_integers(void)
{
    static const struct {
        const char *text;
        int rc;
        long long v;
    } cases[] = {
        {"0", V_OK, 0},
        {"+0", V_OK, 0},
        {"-17", V_OK, -17},
        {"007", V_OK, 7},
        {"9223372036854775807", V_OK, 9223372036854775807LL},
        {"-9223372036854775808", V_OK, -9223372036854775807LL - 1},
        {"9223372036854775808", V_RANGE, 0},
        {"-9223372036854775809", V_RANGE, 0},
        {"99999999999999999999x", V_SYNTAX, 0},
        {"", V_SYNTAX, 0},
        {"-", V_SYNTAX, 0},
        {"1_000", V_SYNTAX, 0},
        {"12a", V_SYNTAX, 0},
        {" 1", V_SYNTAX, 0},
        {"1.0", V_SYNTAX, 0},
        {"1e3", V_SYNTAX, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int64_t v = 0;
        int rc = vparse_int(cases[i].text, strlen(cases[i].text), &v);
        if (rc != cases[i].rc || (rc == V_OK && v != cases[i].v)) {
            fprintf(stderr, "int '%s': got rc %d v %lld\n", cases[i].text, rc, (long long)v);
            failures++;
        }
    }
}

static void test_floats(void)
{
    static const struct {
        const char *text;
        int rc;
    } cases[] = {
        {"1.5", V_OK},   {"-0.0", V_OK},  {".5", V_OK},      {"5.", V_OK},
        {"1e3", V_OK},   {"1E-3", V_OK},  {"+2", V_OK},      {"inf", V_OK},
        {"-Infinity", V_OK}, {"NaN", V_OK}, {"1e-400", V_OK}, {"1.7976931348623157e308", V_OK},
        {"123456789012345678901234567890", V_OK},
        {"1e400", V_RANGE}, {"-1e400", V_RANGE},
        {"1e", V_SYNTAX}, {"e5", V_SYNTAX}, {".", V_SYNTAX}, {"-", V_SYNTAX},
        {"0x10", V_SYNTAX}, {"1,5", V_SYNTAX}, {" 1", V_SYNTAX}, {"1 ", V_SYNTAX},
        {"infx", V_SYNTAX}, {"1e+", V_SYNTAX}, {"", V_SYNTAX}, {"1.2.3", V_SYNTAX},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double v = 0;
        const char *t = cases[i].text;
        int rc = vparse_float(t, strlen(t), &v);
        if (rc != cases[i].rc) {
            fprintf(stderr, "float '%s': got rc %d\n", t, rc);
            failures++;
        } else if (rc == V_OK && !isnan(v) && v != strtod(t, NULL)) {
            fprintf(stderr, "float '%s': got %.17g, strtod says %.17g\n", t, v, strtod(t, NULL));
            failures++;
        }
    }
    /* The fast path must round exactly like strtod. */
    srand(12345);
    char buf[64];
    for (int i = 0; i < 200000; i++) {
        int intdigits = rand() % 12, fracdigits = rand() % 12, n = 0;
        if (rand() % 4 == 0)
            buf[n++] = '-';
        for (int k = 0; k < intdigits; k++)
            buf[n++] = (char)('0' + rand() % 10);
        if (fracdigits || intdigits == 0) {
            buf[n++] = '.';
            for (int k = 0; k < fracdigits + (intdigits == 0); k++)
                buf[n++] = (char)('0' + rand() % 10);
        }
        if (rand() % 5 == 0)
            n += snprintf(buf + n, sizeof buf - (size_t)n, "e%d", rand() % 60 - 30);
        buf[n] = '\0';
        double v;
        if (vparse_float(buf, (size_t)n, &v) != V_OK || v != strtod(buf, NULL)) {
            fprintf(stderr, "float '%s': got %.17g, strtod says %.17g\n", buf, v,
                    strtod(buf, NULL));
            if (++failures > 20)
                return;
        }
    }
}

static void test_breaks(void)
{
    CHECK(vcount_breaks("", 0) == 0);
    CHECK(vcount_breaks("a\nb", 3) == 1);
    CHECK(vcount_breaks("a\r\nb", 4) == 1);
    CHECK(vcount_breaks("a\rb\r", 4) == 2);
    CHECK(vcount_breaks("\n\r\n\r", 4) == 3);
}

int main(void)
{
    test_timestamps();
    test_detect();
    test_integers();
    test_floats();
    test_breaks();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    fprintf(stderr, "all checks passed\n");
    return 0;
}
