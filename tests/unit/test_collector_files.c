/*
 * collector-files.so on the fake host: one file or the matches of a glob,
 * copied into the run directory and recorded, on a "local" host (direct,
 * relative to config_dir) and on any other (host_exec + host_get_file);
 * missing files and empty globs are errors naming the path; a destination
 * path too long for the system is an error naming it, never a truncated
 * file name.
 */
#include "plugin_test.h"

#include <errno.h>
#include <limits.h>

static const bc_plugin *plugin;
static const bc_collector_ops *ops;
static bc_fake f;

static int collect(const char *name, const char *remote, const char *dest_dir,
                   const char *dest_base, int missing_is_error)
{
    bc_fake_reset(&f);
    bc_collect_request req = {.size = sizeof req, .missing_is_error = (uint32_t)missing_is_error,
                              .name = name, .remote_path = remote, .dest_dir = dest_dir,
                              .dest_base = dest_base};
    return ops->collect(&f.ctx, &req);
}

static int same_text(const char *path, const char *want)
{
    char *got = t_read(path);
    int ok = got && strcmp(got, want) == 0;
    free(got);
    return ok;
}

static void both_ways(const char *transport, const char *run)
{
    t_transport(&f, transport);
    t_case = transport;
    char dest[512];

    int rc = collect("results", "src/out.csv", run, "results.csv", 1);
    CHECK(rc == BC_OK, "rc %d, error '%s'", rc, f.error);
    bc_path_join(dest, sizeof dest, run, "results.csv");
    CHECK(same_text(dest, "a,b\n1,2\n"), "content of %s", dest);
    CHECK(f.n_files == 1 && strcmp(f.files[0].output, "results") == 0 &&
              strcmp(f.files[0].path, dest) == 0,
          "recorded %zu files", f.n_files);

    rc = collect("results", t_path("src/out.csv"), run, "abs.csv", 1); /* absolute */
    bc_path_join(dest, sizeof dest, run, "abs.csv");
    CHECK(rc == BC_OK && same_text(dest, "a,b\n1,2\n"), "rc %d, error '%s'", rc, f.error);

    rc = collect("logs", "src/*.log", run, "logs", 1);
    CHECK(rc == BC_OK, "rc %d, error '%s'", rc, f.error);
    bc_path_join(dest, sizeof dest, run, "logs/a.log");
    CHECK(same_text(dest, "A\n"), "content of %s", dest);
    bc_path_join(dest, sizeof dest, run, "logs/b.log");
    CHECK(same_text(dest, "B\n"), "content of %s", dest);
    CHECK(f.n_files == 2, "two matches recorded (the directory d.log is not a file): %zu",
          f.n_files);

    rc = collect("none", "src/*.nothing", run, "none", 1);
    CHECK(rc == BC_ERR && strstr(f.error, "no file matches src/*.nothing"), "rc %d, error '%s'",
          rc, f.error);
    CHECK(f.n_files == 0, "nothing recorded");

    rc = collect("gone", "src/missing.csv", run, "gone.csv", 1);
    CHECK(rc == BC_ERR && strstr(f.error, "missing.csv"), "rc %d, error '%s'", rc, f.error);
    CHECK(f.n_files == 0, "nothing recorded");
}

int main(int argc, char **argv)
{
    plugin = t_load(argc, argv, BC_KIND_COLLECTOR, "files");
    ops = plugin->ops;
    t_mkdir();
    bc_fake_init(&f, plugin);
    f.host_dir = t_dir;
    bc_fake_set_fact(&f, "config_dir", t_dir);
    mkdir(t_path("src"), 0755);
    mkdir(t_path("src/d.log"), 0755);
    t_write("src/out.csv", "a,b\n1,2\n", 8);
    t_write("src/a.log", "A\n", 2);
    t_write("src/b.log", "B\n", 2);
    mkdir(t_path("run-local"), 0755);
    mkdir(t_path("run-ssh"), 0755);

    both_ways("local", t_path("run-local"));
    both_ways("ssh", t_path("run-ssh"));

    t_case = "local missing";
    t_transport(&f, "local");
    int rc = collect("gone", "src/missing.csv", t_path("run-local"), "gone.csv", 1);
    CHECK(rc == BC_ERR && strstr(f.error, t_path("src/missing.csv")) &&
              strstr(f.error, "does not exist (the stage did not write it)"),
          "error '%s'", f.error);
    rc = collect("gone", "src/missing.csv", t_path("run-local"), "gone.csv", 0);
    CHECK(rc == BC_ERR && strstr(f.error, "does not exist") && !strstr(f.error, "the stage"),
          "error '%s'", f.error);

    t_case = "transfer fails";
    t_transport(&f, "ssh");
    f.get_file_rc = BC_ERR;
    rc = collect("results", "src/out.csv", t_path("run-ssh"), "x.csv", 1);
    CHECK(rc == BC_ERR && f.n_files == 0, "rc %d, %zu recorded", rc, f.n_files);
    f.get_file_rc = 0;

    /* A destination longer than any path the system accepts: an error
     * naming it, no transfer, nothing recorded. */
    t_case = "path too long";
    bc_sb longdir = BC_SB_INIT;
    bc_sb_append(&longdir, t_dir);
    while (longdir.len < PATH_MAX + 100)
        bc_sb_append(&longdir, "/directory-name-that-repeats");
    for (int local = 0; local < 2; local++) {
        t_transport(&f, local ? "local" : "ssh");
        rc = collect("results", "src/out.csv", bc_sb_str(&longdir), "results.csv", 1);
        CHECK(rc == BC_ERR && strstr(f.error, "too long") && strstr(f.error, "results.csv") &&
                  strstr(f.error, "/directory-name-that-repeats/directory-name-that-repeats"),
              "error '%.200s'", f.error);
        CHECK(f.n_get_file == 0 && f.n_files == 0, "no transfer, nothing recorded");
        rc = collect("logs", "src/*.log", bc_sb_str(&longdir), "logs", 1);
        CHECK(rc == BC_ERR && strstr(f.error, "too long") && strstr(f.error, "/logs"),
              "glob: error '%.200s'", f.error);
    }

    /* The glob's directory fits, a match's name in it does not: that file
     * is an error naming it, not a shortened name. */
    bc_sb deep = BC_SB_INIT;
    bc_sb_append(&deep, t_path("run-local"));
    while (deep.len < PATH_MAX - 300) {
        bc_sb_append(&deep, "/");
        for (int i = 0; i < 200; i++)
            bc_sb_append(&deep, "d");
        if (mkdir(bc_sb_str(&deep), 0755) != 0 && errno != EEXIST) {
            perror(bc_sb_str(&deep));
            return 2;
        }
    }
    bc_sb_append(&deep, "/"); /* room for "/g" but not for "/g/<long name>" */
    while (deep.len < PATH_MAX - 60)
        bc_sb_append(&deep, "e");
    if (mkdir(bc_sb_str(&deep), 0755) != 0) {
        perror(bc_sb_str(&deep));
        return 2;
    }
    char longfile[128];
    memset(longfile, 'f', 100);
    snprintf(longfile + 100, sizeof longfile - 100, ".long");
    bc_sb srcname = BC_SB_INIT;
    bc_sb_printf(&srcname, "src/%s", longfile);
    t_write(bc_sb_str(&srcname), "x", 1);
    for (int local = 0; local < 2; local++) {
        t_transport(&f, local ? "local" : "ssh");
        rc = collect("long", "src/*.long", bc_sb_str(&deep), "g", 1);
        CHECK(rc == BC_ERR && strstr(f.error, "too long") && strstr(f.error, longfile),
              "error '%.200s'", f.error);
        CHECK(f.n_files == 0, "nothing recorded");
    }
    CHECK(f.undeclared_reads == 0, "undeclared options read");

    bc_sb_free(&longdir);
    bc_sb_free(&deep);
    bc_sb_free(&srcname);
    bc_fake_free(&f);
    return t_finish();
}
