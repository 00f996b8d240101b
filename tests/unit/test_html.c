/*
 * The HTML reports' shared pieces (core/report/html.c): escaping of every
 * character that could end a text or an attribute, base64 against known
 * vectors, RFC 3339 times with zones, numbers, and log tails (last lines,
 * escaped).
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/html.h"

static int failures;

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond);          \
            failures++;                                                                 \
        }                                                                               \
    } while (0)

static void check_text(void (*fn)(strbuf *), const char *want, const char *what)
{
    strbuf sb = {0};
    fn(&sb);
    if (strcmp(sb.buf ? sb.buf : "", want) != 0) {
        fprintf(stderr, "%s: got '%s', want '%s'\n", what, sb.buf ? sb.buf : "", want);
        failures++;
    }
    sb_free(&sb);
}

static void esc_hostile(strbuf *sb) { h_esc(sb, "<script>a('x') & \"y\"</script>"); }
static void esc_null(strbuf *sb) { h_esc(sb, NULL); }
static void esc_nul(strbuf *sb) { h_escn(sb, "a\0<b", 4); }
static void b64_0(strbuf *sb) { h_base64(sb, (const unsigned char *)"", 0); }
static void b64_1(strbuf *sb) { h_base64(sb, (const unsigned char *)"f", 1); }
static void b64_2(strbuf *sb) { h_base64(sb, (const unsigned char *)"fo", 2); }
static void b64_3(strbuf *sb) { h_base64(sb, (const unsigned char *)"foo", 3); }
static void b64_6(strbuf *sb) { h_base64(sb, (const unsigned char *)"foobar", 6); }
static void b64_bin(strbuf *sb) { h_base64(sb, (const unsigned char *)"\xff\xfe\x00", 3); }
static void num_nan(strbuf *sb) { h_num(sb, NAN); }
static void num_small(strbuf *sb) { h_num(sb, 0.0001234); }
static void num_int(strbuf *sb) { h_num(sb, 3302003); }
static void num_frac(strbuf *sb) { h_num(sb, 0.28967); }
static void badge_hostile(strbuf *sb) { h_badge(sb, "x\"><b>"); }

int main(void)
{
    check_text(esc_hostile, "&lt;script&gt;a(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;",
               "escape");
    check_text(esc_null, "", "escape NULL");
    check_text(esc_nul, "a&lt;b", "escape NUL byte");
    check_text(b64_0, "", "base64 ''");
    check_text(b64_1, "Zg==", "base64 f");
    check_text(b64_2, "Zm8=", "base64 fo");
    check_text(b64_3, "Zm9v", "base64 foo");
    check_text(b64_6, "Zm9vYmFy", "base64 foobar");
    check_text(b64_bin, "//4A", "base64 binary");
    check_text(num_nan, "-", "NaN");
    check_text(num_small, "0.0001234", "small");
    check_text(num_int, "3302003", "integer");
    check_text(num_frac, "0.2897", "fraction");
    /* a status never leaves its class or its text */
    check_text(badge_hostile, "<span class=\"badge st-xxxxbx\">x&quot;&gt;&lt;b&gt;</span>",
               "badge");

    CHECK(h_parse_time("2026-12-07T16:05:07Z") == 1796659507.0);
    CHECK(fabs(h_parse_time("2026-12-07T16:05:07.513110Z") - 1796659507.51311) < 1e-6);
    CHECK(h_parse_time("2026-12-07T17:05:07+01:00") == 1796659507.0);
    CHECK(h_parse_time("2026-12-07T15:35:07-00:30") == 1796659507.0);
    CHECK(isnan(h_parse_time("yesterday")));
    CHECK(isnan(h_parse_time(NULL)));

    char path[] = "/tmp/test_html.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    for (int i = 1; i <= 100; i++)
        fprintf(f, "line %d%s\n", i, i == 99 ? " <tag>" : "");
    fclose(f);
    strbuf sb = {0};
    CHECK(h_log_tail(&sb, path, 3));
    CHECK(sb.buf && strstr(sb.buf, "line 98\nline 99 &lt;tag&gt;\nline 100</pre>"));
    CHECK(sb.buf && !strstr(sb.buf, "line 97"));
    sb_free(&sb);
    unlink(path);
    CHECK(!h_log_tail(&sb, "/nonexistent/log", 3));

    if (failures)
        return 1;
    printf("test_html: all passed\n");
    return 0;
}
