/*
 * probe-file.so on the fake host, both ways it works: directly on a
 * "local" host (a relative path starts at config_dir), and through
 * host_exec with test/grep on any other host.  Ready / not ready (missing,
 * empty, no match, a directory) and a pattern that straddles the read
 * buffer; quotes in paths and patterns survive the remote shell.
 */
#include "plugin_test.h"

static const bc_plugin *plugin;
static const bc_probe_ops *ops;
static bc_fake f;
static char detail[512];

static int check(const char *target)
{
    return t_probe_check(&f, plugin, target, detail, sizeof detail);
}

static void both_ways(const char *transport)
{
    t_transport(&f, transport);
    int remote = strcmp(transport, "local") != 0;
    static char name[64];
    snprintf(name, sizeof name, "%s", transport);
    t_case = name;

    bc_fake_clear_options(&f);
    int rc = check("missing.txt");
    CHECK(rc == BC_NOT_READY && strcmp(detail, "missing.txt does not exist") == 0,
          "rc %d, detail '%s'", rc, detail);
    CHECK((f.n_exec == 1) == remote, "host_exec used only for a remote host (%zu)", f.n_exec);

    t_write("it's here.txt", "hello\nworld\n", 12);
    rc = check("it's here.txt");
    CHECK(rc == BC_OK, "rc %d, detail '%s'", rc, detail);
    rc = check(t_path("it's here.txt")); /* absolute */
    CHECK(rc == BC_OK, "rc %d, detail '%s'", rc, detail);

    t_write("empty.txt", "", 0);
    rc = check("empty.txt");
    CHECK(rc == BC_OK, "an empty file exists: rc %d, detail '%s'", rc, detail);
    bc_fake_set_option(&f, "non_empty", "true");
    rc = check("empty.txt");
    CHECK(rc == BC_NOT_READY && strcmp(detail, "empty.txt is empty") == 0, "rc %d, detail '%s'",
          rc, detail);
    rc = check("it's here.txt");
    CHECK(rc == BC_OK, "rc %d, detail '%s'", rc, detail);
    bc_fake_clear_options(&f);

    bc_fake_set_option(&f, "contains", "world");
    rc = check("it's here.txt");
    CHECK(rc == BC_OK, "rc %d, detail '%s'", rc, detail);
    bc_fake_set_option(&f, "contains", "o'w -- $x");
    t_write("q.txt", "foo'w -- $x bar", 15);
    rc = check("q.txt");
    CHECK(rc == BC_OK, "a quote and a $ in the pattern: rc %d, detail '%s'", rc, detail);
    bc_fake_set_option(&f, "contains", "planet");
    rc = check("it's here.txt");
    CHECK(rc == BC_NOT_READY && strcmp(detail, "it's here.txt does not contain 'planet'") == 0,
          "rc %d, detail '%s'", rc, detail);
    mkdir(t_path("adir"), 0755);
    rc = check("adir");
    CHECK(rc == BC_NOT_READY && strcmp(detail, "adir is a directory") == 0, "rc %d, detail '%s'",
          rc, detail);

    /* A pattern across the 64 KiB read boundary, and one past it. */
    size_t big = 200 * 1024;
    char *text = malloc(big);
    memset(text, 'a', big);
    memcpy(text + 64 * 1024 - 3, "NEEDLE", 6);
    memcpy(text + big - 5, "TAIL!", 5);
    t_write("big.bin", text, big);
    free(text);
    bc_fake_set_option(&f, "contains", "NEEDLE");
    rc = check("big.bin");
    CHECK(rc == BC_OK, "across the boundary: rc %d, detail '%s'", rc, detail);
    bc_fake_set_option(&f, "contains", "TAIL!");
    rc = check("big.bin");
    CHECK(rc == BC_OK, "at the end: rc %d, detail '%s'", rc, detail);
    bc_fake_set_option(&f, "contains", "NEEDLES");
    rc = check("big.bin");
    CHECK(rc == BC_NOT_READY && strstr(detail, "does not contain 'NEEDLES'"),
          "rc %d, detail '%s'", rc, detail);
    bc_fake_clear_options(&f);

    /* A long target is shortened in the message. */
    char longname[200];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    rc = check(longname);
    CHECK(rc == BC_NOT_READY && strstr(detail, "...") && strstr(detail, "does not exist") &&
              strlen(detail) < 100,
          "rc %d, detail '%s'", rc, detail);
}

int main(int argc, char **argv)
{
    plugin = t_load(argc, argv, BC_KIND_PROBE, "file");
    ops = plugin->ops;
    t_mkdir();
    bc_fake_init(&f, plugin);
    f.host_dir = t_dir;                     /* remote: commands run here */
    bc_fake_set_fact(&f, "config_dir", t_dir); /* local: relative paths start here */

    t_case = "check_target";
    CHECK(ops->check_target(&f.ctx, "") == BC_ERR && strstr(f.error, "the path is empty"),
          "error '%s'", f.error);
    CHECK(ops->check_target(&f.ctx, "x") == BC_OK, "a path");

    both_ways("local");
    both_ways("ssh");

    t_case = "remote errors";
    t_transport(&f, "ssh");
    f.exec_rc = BC_ERR;
    int rc = check("x");
    CHECK(rc == BC_ERR && f.error[0], "rc %d", rc);
    f.exec_rc = 0;
    bc_fake_cancel(&f);
    CHECK(ops->check(&f.ctx, NULL, "x", detail, sizeof detail) == BC_CANCELLED, "cancelled");
    CHECK(f.undeclared_reads == 0, "undeclared options read");

    bc_fake_free(&f);
    return t_finish();
}
