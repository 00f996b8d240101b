/*
 * The plugin helper library (<benchctl/helpers.h>, sdk/helpers/): string
 * builder growth and failure, shell quoting round-tripped through /bin/sh,
 * last-lines edge cases, path joining that reports truncation, and the
 * monotonic clock's direction (never its speed).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <benchctl/helpers.h>

static int failures, checks;

#define CHECK(cond)                                                               \
    do {                                                                          \
        checks++;                                                                 \
        if (!(cond)) {                                                            \
            failures++;                                                           \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                         \
    } while (0)

#define CHECK_STR(got, want)                                                               \
    do {                                                                                   \
        checks++;                                                                          \
        const char *g_ = (got), *w_ = (want);                                              \
        if (!g_ || strcmp(g_, w_) != 0) {                                                  \
            failures++;                                                                    \
            fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n", __FILE__, __LINE__,       \
                    g_ ? g_ : "(null)", w_);                                               \
        }                                                                                  \
    } while (0)

/* ---- string builder ---------------------------------------------------- */

static void test_sb(void)
{
    bc_sb sb = BC_SB_INIT;
    CHECK_STR(bc_sb_str(&sb), "");
    CHECK(!bc_sb_failed(&sb));

    /* Growth across many reallocations keeps every byte. */
    for (int i = 0; i < 10000; i++)
        CHECK(bc_sb_printf(&sb, "%d,", i % 10));
    CHECK(sb.len == 20000);
    CHECK(strlen(bc_sb_str(&sb)) == 20000);
    int ok = 1;
    for (size_t i = 0; i < 20000; i += 2)
        ok &= sb.buf[i] == (char)('0' + (i / 2) % 10) && sb.buf[i + 1] == ',';
    CHECK(ok);

    /* A printf longer than the internal first attempt. */
    bc_sb_clear(&sb);
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(bc_sb_printf(&sb, "<%s>", big));
    CHECK(sb.len == 1001 && sb.buf[0] == '<' && sb.buf[1000] == '>' && sb.buf[1001] == '\0');

    /* append_n with embedded text boundaries, NULL appends nothing. */
    bc_sb_clear(&sb);
    CHECK(bc_sb_append_n(&sb, "abcdef", 3));
    CHECK(bc_sb_append(&sb, NULL));
    CHECK(bc_sb_append(&sb, "!"));
    CHECK_STR(bc_sb_str(&sb), "abc!");

    /* steal hands over the text and leaves an empty builder. */
    char *s = bc_sb_steal(&sb);
    CHECK_STR(s, "abc!");
    free(s);
    CHECK(sb.buf == NULL && sb.len == 0);
    s = bc_sb_steal(&sb); /* an empty builder gives "" (not NULL) */
    CHECK_STR(s, "");
    free(s);

    /* A failed builder: appends refused, steal gives NULL and resets. */
    bc_sb_append(&sb, "partial");
    sb.failed = true; /* as after a failed realloc */
    CHECK(!bc_sb_append(&sb, "more"));
    CHECK(!bc_sb_printf(&sb, "%d", 1));
    CHECK(bc_sb_failed(&sb));
    CHECK(bc_sb_steal(&sb) == NULL);
    CHECK(!bc_sb_failed(&sb) && sb.buf == NULL);

    /* A request that cannot be satisfied fails instead of aborting. */
    CHECK(bc_sb_append(&sb, "x"));
    CHECK(!bc_sb_append_n(&sb, "y", SIZE_MAX - 1));
    CHECK(bc_sb_failed(&sb));
    bc_sb_clear(&sb);
    CHECK(!bc_sb_failed(&sb) && bc_sb_append(&sb, "ok"));
    CHECK_STR(bc_sb_str(&sb), "ok");
    bc_sb_free(&sb);
    CHECK(sb.buf == NULL && sb.len == 0 && sb.cap == 0);
}

/* ---- shell quoting ---------------------------------------------------- */

/* Runs `printf %s <quoted s>` with /bin/sh and returns what it printed. */
static char *through_sh(const char *s)
{
    bc_sb cmd = BC_SB_INIT;
    bc_sb_append(&cmd, "printf %s ");
    bc_shell_quote(&cmd, s);
    CHECK(!bc_sb_failed(&cmd));
    int pfd[2];
    if (pipe(pfd) != 0)
        abort();
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        execl("/bin/sh", "sh", "-c", bc_sb_str(&cmd), (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    bc_sb out = BC_SB_INIT;
    char buf[4096];
    ssize_t n;
    while ((n = read(pfd[0], buf, sizeof buf)) > 0)
        bc_sb_append_n(&out, buf, (size_t)n);
    close(pfd[0]);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    bc_sb_free(&cmd);
    return bc_sb_steal(&out);
}

static void test_quote(void)
{
    static const char *const words[] = {
        "", "plain", "two words", "it's", "'", "''", "'leading", "trailing'",
        "$HOME `id` $(id) \\ \" ; & | < > * ? [a] ~ # !", "tab\there", "new\nline",
        "%s %d", "-n", "--", "\xc3\xa9t\xc3\xa9",
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        char *back = through_sh(words[i]);
        CHECK_STR(back, words[i]);
        free(back);
    }
    /* Every byte from 1 to 255 in one word. */
    char all[256];
    for (int i = 1; i < 256; i++)
        all[i - 1] = (char)i;
    all[255] = '\0';
    char *back = through_sh(all);
    CHECK(back && strcmp(back, all) == 0);
    free(back);

    char *q = bc_shell_quote_dup("it's");
    CHECK_STR(q, "'it'\\''s'");
    free(q);
    q = bc_shell_quote_dup(NULL);
    CHECK_STR(q, "''");
    free(q);

    bc_sb sb = BC_SB_INIT;
    bc_sb_append(&sb, "f=");
    CHECK(bc_shell_quote(&sb, "a b"));
    bc_sb_append(&sb, "; echo");
    CHECK_STR(bc_sb_str(&sb), "f='a b'; echo");
    sb.failed = true;
    CHECK(!bc_shell_quote(&sb, "x"));
    bc_sb_free(&sb);
}

/* ---- last lines -------------------------------------------------------- */

static void test_last_lines(void)
{
    char out[64];
    CHECK(bc_last_lines("", 1, out, sizeof out) == 0);
    CHECK_STR(out, "");
    CHECK(bc_last_lines(NULL, 1, out, sizeof out) == 0);
    CHECK_STR(out, "");
    CHECK(bc_last_lines("\n \r\n\t\n", 1, out, sizeof out) == 0);
    CHECK_STR(out, "");

    bc_last_lines("one", 1, out, sizeof out);
    CHECK_STR(out, "one");
    bc_last_lines("one\ntwo\n", 1, out, sizeof out);
    CHECK_STR(out, "two");
    bc_last_lines("one\r\ntwo  \r\n\r\n  \n", 1, out, sizeof out);
    CHECK_STR(out, "two");
    bc_last_lines("  indented\t\n", 1, out, sizeof out);
    CHECK_STR(out, "indented");
    bc_last_lines("a\n\n b \n\nc\n", 2, out, sizeof out);
    CHECK_STR(out, "b\nc");
    bc_last_lines("a\nb\n", 5, out, sizeof out); /* fewer lines than asked */
    CHECK_STR(out, "a\nb");
    bc_last_lines("a\nb\n", 0, out, sizeof out);
    CHECK_STR(out, "");
    bc_last_lines("\n\nfirst line\nsecond", 2, out, sizeof out); /* starts at the text */
    CHECK_STR(out, "first line\nsecond");

    /* Truncation keeps the beginning and reports the whole length. */
    char small[6];
    CHECK(bc_last_lines("x\nhello world\n", 1, small, sizeof small) == 11);
    CHECK_STR(small, "hello");
    CHECK(bc_last_lines("ab\ncd\n", 2, small, 4) == 5);
    CHECK_STR(small, "ab\n");
    char one[1] = {'z'};
    CHECK(bc_last_lines("abc", 1, one, 1) == 3 && one[0] == '\0');
    CHECK(bc_last_lines("abc", 1, NULL, 0) == 3);
}

/* ---- paths -------------------------------------------------------------- */

static void test_path_join(void)
{
    char buf[16];
    CHECK(bc_path_join(buf, sizeof buf, "dir", "file"));
    CHECK_STR(buf, "dir/file");
    CHECK(bc_path_join(buf, sizeof buf, "dir/", "file"));
    CHECK_STR(buf, "dir/file");
    CHECK(bc_path_join(buf, sizeof buf, "/", "etc"));
    CHECK_STR(buf, "/etc");
    CHECK(bc_path_join(buf, sizeof buf, NULL, "file"));
    CHECK_STR(buf, "file");
    CHECK(bc_path_join(buf, sizeof buf, "", "file"));
    CHECK_STR(buf, "file");
    CHECK(bc_path_join(buf, sizeof buf, "dir", ""));
    CHECK_STR(buf, "dir");
    CHECK(bc_path_join(buf, sizeof buf, "dir", NULL));
    CHECK_STR(buf, "dir");

    /* Exactly fitting (15 chars + NUL), one byte too long, far too long. */
    CHECK(bc_path_join(buf, sizeof buf, "0123456", "89abcde"));
    CHECK_STR(buf, "0123456/89abcde");
    CHECK(!bc_path_join(buf, sizeof buf, "0123456", "89abcdef"));
    CHECK_STR(buf, ""); /* never a shortened path */
    CHECK(!bc_path_join(buf, sizeof buf, "a-very-long-directory", "f"));
    CHECK_STR(buf, "");
    CHECK(!bc_path_join(buf, 0, "a", "b"));

    char *p = bc_path_join_alloc("dir", "file");
    CHECK_STR(p, "dir/file");
    free(p);
    p = bc_path_join_alloc(NULL, "file");
    CHECK_STR(p, "file");
    free(p);
    char longname[10000];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    p = bc_path_join_alloc("/d/", longname);
    CHECK(p && strlen(p) == 3 + sizeof longname - 1 && strncmp(p, "/d/nnn", 6) == 0);
    free(p);
}

/* ---- clock ---------------------------------------------------------------- */

static void test_clock(void)
{
    int64_t a = bc_mono_ns(), am = bc_mono_ms();
    usleep(2000);
    int64_t b = bc_mono_ns(), bm = bc_mono_ms();
    CHECK(a > 0 && b > a);   /* monotonic and advancing */
    CHECK(am >= 0 && bm > am); /* 2 ms passed at the least */
    CHECK(bm >= b / 1000000); /* read after b */
}

int main(void)
{
    test_sb();
    test_quote();
    test_last_lines();
    test_path_join();
    test_clock();
    if (failures) {
        fprintf(stderr, "%d of %d checks failed\n", failures, checks);
        return 1;
    }
    printf("all %d checks passed\n", checks);
    return 0;
}
