/*
 * probe-command.so on the fake host: the command runs with /bin/sh; ready
 * on exit 0, not ready with the exit status and the last line of output,
 * not ready when an attempt times out; transport errors and cancellation
 * pass through.
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

int main(int argc, char **argv)
{
    plugin = t_load(argc, argv, BC_KIND_PROBE, "command");
    ops = plugin->ops;
    t_mkdir();
    bc_fake_init(&f, plugin);
    f.host_dir = t_dir;

    t_case = "check_target";
    CHECK(ops->check_target(&f.ctx, "true") == BC_OK, "a command");
    CHECK(ops->check_target(&f.ctx, " \t\n") == BC_ERR && strstr(f.error, "the command is empty"),
          "blank command: %s", f.error);

    t_case = "ready";
    int rc = check("true");
    CHECK(rc == BC_OK, "rc %d, detail %s", rc, detail);
    CHECK(f.n_exec == 1 && f.last_timeout_ms == 10000, "one run, default attempt_timeout 10s: "
          "%zu runs, %lld ms", f.n_exec, (long long)f.last_timeout_ms);
    t_write("flag", "", 0);
    rc = check("test -e flag"); /* runs in the host's directory */
    CHECK(rc == BC_OK, "rc %d, detail %s", rc, detail);

    t_case = "not ready";
    rc = check("echo first; echo '  the last words  '; echo; echo '   '; exit 3");
    CHECK(rc == BC_NOT_READY, "rc %d", rc);
    CHECK(strcmp(detail, "exit status 3: the last words") == 0, "detail '%s'", detail);
    rc = check("exit 1");
    CHECK(rc == BC_NOT_READY && strcmp(detail, "exit status 1") == 0, "rc %d, detail '%s'", rc,
          detail);
    rc = check("echo 'it'\\''s' >&2; false");
    CHECK(rc == BC_NOT_READY && strcmp(detail, "exit status 1: it's") == 0,
          "stderr counts: rc %d, detail '%s'", rc, detail);
    rc = check("no-such-command-xyz");
    CHECK(rc == BC_NOT_READY && strstr(detail, "exit status 127") &&
              strstr(detail, "no-such-command-xyz"),
          "rc %d, detail '%s'", rc, detail);
    /* A very long last line is cut to fit the detail. */
    rc = check("printf 'x%.0s' $(seq 1 2000); exit 2");
    CHECK(rc == BC_NOT_READY && strncmp(detail, "exit status 2: xxx", 18) == 0 &&
              strlen(detail) < sizeof detail,
          "rc %d, detail '%s'", rc, detail);

    t_case = "attempt timeout";
    bc_fake_set_option(&f, "attempt_timeout", "200ms");
    rc = check("sleep 30");
    CHECK(rc == BC_NOT_READY && strstr(detail, "did not finish in time") &&
              strstr(detail, "attempt_timeout 200 ms"),
          "rc %d, detail '%s'", rc, detail);
    bc_fake_clear_options(&f);

    t_case = "errors pass through";
    f.exec_rc = BC_ERR;
    rc = check("true");
    CHECK(rc == BC_ERR && strstr(f.error, "host_exec fails"), "rc %d, error '%s'", rc, f.error);
    f.exec_rc = BC_UNSUPPORTED;
    rc = check("true");
    CHECK(rc == BC_UNSUPPORTED, "rc %d", rc);
    f.exec_rc = 0;
    bc_fake_reset(&f);
    bc_fake_cancel(&f);
    rc = ops->check(&f.ctx, NULL, "true", detail, sizeof detail);
    CHECK(rc == BC_CANCELLED, "rc %d", rc);
    CHECK(f.undeclared_reads == 0, "undeclared options read");

    bc_fake_free(&f);
    return t_finish();
}
