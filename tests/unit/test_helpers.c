/*
 * The plugin helper library (<benchctl/helpers.h>, sdk/helpers/): string
 * builder growth and failure, shell quoting round-tripped through /bin/sh,
 * last-lines edge cases, path joining that reports truncation, the
 * monotonic clock's direction (never its speed), and child processes (the
 * environment, the output tail, waiting: exit, deadline, a leftover holding
 * the pipes), and the bounded, atomic file copy.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

/* ---- child processes ---------------------------------------------------- */

typedef struct got {
    char out[256], err[256];
    size_t olen, elen;
    int calls;
} got;

static void got_sink(void *arg, int stream, const char *buf, size_t len)
{
    got *g = arg;
    g->calls++;
    if (stream == 1)
        bc_tail_keep(g->out, sizeof g->out, &g->olen, buf, len);
    else
        bc_tail_keep(g->err, sizeof g->err, &g->elen, buf, len);
}

static int never(void *arg)
{
    (void)arg;
    return 0;
}

/* sh -c script as a child: own session, stdout and stderr on pipes. */
static bool start_child(bc_child *c, const char *script, char **envp)
{
    int o[2], e[2];
    if (pipe2(o, O_CLOEXEC) != 0 || pipe2(e, O_CLOEXEC) != 0)
        return false;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&fa, o[1], 1);
    posix_spawn_file_actions_adddup2(&fa, e[1], 2);
    bc_spawnattr_session(&attr);
    char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
    *c = (bc_child){.out_fd = o[0], .err_fd = e[0], .pidfd = -1};
    int err = posix_spawn(&c->pid, "/bin/sh", &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(o[1]);
    close(e[1]);
    c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
    bc_fd_nonblock(c->out_fd);
    bc_fd_nonblock(c->err_fd);
    return err == 0;
}

static void child_close(bc_child *c)
{
    if (c->out_fd >= 0)
        close(c->out_fd);
    if (c->err_fd >= 0)
        close(c->err_fd);
    if (c->pidfd >= 0)
        close(c->pidfd);
}

static void test_child(void)
{
    /* the tail keeps the last size - 1 bytes, however they arrive */
    char tail[6] = "";
    size_t tl = 0;
    bc_tail_keep(tail, sizeof tail, &tl, "abc", 3);
    CHECK_STR(tail, "abc");
    bc_tail_keep(tail, sizeof tail, &tl, "defg", 4);
    CHECK_STR(tail, "cdefg");
    bc_tail_keep(tail, sizeof tail, &tl, "0123456789", 10);
    CHECK_STR(tail, "56789");
    CHECK(tl == 5);

    /* the environment: ours, extra added or replacing, own appended */
    setenv("BC_T_KEEP", "kept", 1);
    setenv("BC_T_REPL", "old", 1);
    const char *extra[] = {"BC_T_REPL=new", "BC_T_ADD=added", NULL};
    char **env = bc_env_merge(extra, "BC_T_OWN=own");
    CHECK(env != NULL);
    int keep = 0, repl_old = 0, repl_new = 0, add = 0, own = 0;
    for (size_t i = 0; env && env[i]; i++) {
        keep += strcmp(env[i], "BC_T_KEEP=kept") == 0;
        repl_old += strcmp(env[i], "BC_T_REPL=old") == 0;
        repl_new += strcmp(env[i], "BC_T_REPL=new") == 0;
        add += strcmp(env[i], "BC_T_ADD=added") == 0;
        own += strcmp(env[i], "BC_T_OWN=own") == 0;
    }
    CHECK(keep == 1 && repl_old == 0 && repl_new == 1 && add == 1 && own == 1);

    /* a child: its output on both streams, its environment, its session,
     * its exit status */
    bc_child c;
    got g = {0};
    CHECK(start_child(&c, "echo \"$BC_T_REPL $BC_T_ADD\"; echo oops >&2; "
                          "read -r _ _ _ _ _ sid _ </proc/$$/stat; [ \"$sid\" = $$ ] || echo no-session; "
                          "exit 3",
                      env));
    CHECK(bc_child_wait(&c, -1, -1, never, 1, 2, got_sink, &g) == BC_CHILD_EXITED);
    CHECK(c.exited && WIFEXITED(c.status) && WEXITSTATUS(c.status) == 3);
    CHECK_STR(g.out, "new added\n");
    CHECK_STR(g.err, "oops\n");
    CHECK(bc_child_reap(&c, WNOHANG) == 1);
    child_close(&c);
    free(env);

    /* a deadline: the child is still running, then its end after a stop */
    got g2 = {0};
    CHECK(start_child(&c, "echo started; exec sleep 30", NULL));
    int w = BC_CHILD_TIMEOUT;
    for (int i = 0; i < 600 && w == BC_CHILD_TIMEOUT && g2.olen == 0; i++)
        w = bc_child_wait(&c, 50, -1, never, 1, 2, got_sink, &g2);
    CHECK(w == BC_CHILD_TIMEOUT);
    CHECK(!c.exited);
    kill(-c.pid, SIGKILL);
    CHECK(bc_child_wait(&c, -1, -1, never, 1, 2, got_sink, &g2) == BC_CHILD_EXITED);
    CHECK(WIFSIGNALED(c.status) && WTERMSIG(c.status) == SIGKILL);
    CHECK_STR(g2.out, "started\n");
    child_close(&c);

    /* a leftover holding the pipes does not delay the end (with a pidfd) */
    got g3 = {0};
    CHECK(start_child(&c, "sleep 30 & echo $! ; exit 0", NULL));
    CHECK(bc_child_wait(&c, 20000, -1, never, 1, 2, got_sink, &g3) == BC_CHILD_EXITED);
    CHECK(c.exited && WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0);
    kill(-c.pid, SIGKILL);
    bc_child_drain(&c, 1, 2, got_sink, &g3);
    child_close(&c);
}

static void test_copy(void)
{
    char dir[] = "/tmp/bc-helpers-copy.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char src[128], dst[128], part[160], err[256];
    snprintf(src, sizeof src, "%s/src", dir);
    snprintf(dst, sizeof dst, "%s/dst", dir);
    FILE *f = fopen(src, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs("0123456789", f);
    fclose(f);
    CHECK(bc_copy_file(src, dst, 0600, 0, NULL, NULL, err, sizeof err) == BC_COPY_DONE);
    char buf[160] = "";
    f = fopen(dst, "r");
    CHECK(f && fgets(buf, sizeof buf, f));
    if (f)
        fclose(f);
    CHECK_STR(buf, "0123456789");
    struct stat st;
    CHECK(stat(dst, &st) == 0 && (st.st_mode & 0777) == 0600);
    /* bounded: max_bytes + 1 bytes, so the caller sees the cut */
    CHECK(bc_copy_file(src, dst, 0, 4, NULL, NULL, err, sizeof err) == BC_COPY_DONE);
    CHECK(stat(dst, &st) == 0 && st.st_size == 5);
    /* a missing source: the message names it, the destination is kept */
    snprintf(buf, sizeof buf, "%s/nope", dir);
    CHECK(bc_copy_file(buf, dst, 0, 0, NULL, NULL, err, sizeof err) == BC_COPY_FAILED);
    CHECK(strstr(err, "cannot open") && strstr(err, "nope"));
    CHECK(stat(dst, &st) == 0 && st.st_size == 5);
    /* an unwritable destination: no temporary file left */
    snprintf(buf, sizeof buf, "%s/no/dir", dir);
    CHECK(bc_copy_file(src, buf, 0, 0, NULL, NULL, err, sizeof err) == BC_COPY_FAILED);
    CHECK(strstr(err, "cannot create") != NULL);
    snprintf(part, sizeof part, "%s.part.%d", dst, (int)getpid());
    CHECK(access(part, F_OK) != 0);
    unlink(src);
    unlink(dst);
    rmdir(dir);
}

int main(void)
{
    test_sb();
    test_quote();
    test_last_lines();
    test_path_join();
    test_clock();
    test_child();
    test_copy();
    if (failures) {
        fprintf(stderr, "%d of %d checks failed\n", failures, checks);
        return 1;
    }
    printf("all %d checks passed\n", checks);
    return 0;
}
