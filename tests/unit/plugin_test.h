/*
 * Small shared pieces of the plugin unit tests that run on the fake host
 * (sdk/testing/bc_fakehost.h): check macros, a scratch directory, files.
 */
#ifndef PLUGIN_TEST_H
#define PLUGIN_TEST_H

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <benchctl/helpers.h>
#include <benchctl/plugin.h>

#include "bc_fakehost.h"

/* Not every test uses every helper. */
#pragma GCC diagnostic ignored "-Wunused-function"

static int t_failures, t_checks;
static const char *t_case = "";

#define CHECK(cond, ...)                                                                 \
    do {                                                                                 \
        t_checks++;                                                                      \
        if (!(cond)) {                                                                   \
            t_failures++;                                                                \
            fprintf(stderr, "%s:%d: [%s] check failed: %s: ", __FILE__, __LINE__, t_case, \
                    #cond);                                                              \
            fprintf(stderr, __VA_ARGS__);                                                \
            fputc('\n', stderr);                                                         \
        }                                                                                \
    } while (0)

/* The plugin named by argv[1], which must be of `kind` and named `name`;
 * exits 2 (with the reason) otherwise. */
static const bc_plugin *t_load(int argc, char **argv, int kind, const char *name)
{
    char err[512];
    const bc_plugin *p = argc >= 2 ? bc_fake_load(argv[1], kind, name, err, sizeof err) : NULL;
    if (!p) {
        fprintf(stderr, "%s\n", argc < 2 ? "usage: TEST PLUGIN.so" : err);
        exit(2);
    }
    return p;
}

/* One probe attempt on a fresh recording: the probe's status; its reason
 * in detail. */
static int t_probe_check(bc_fake *f, const bc_plugin *p, const char *target, char *detail,
                         size_t n)
{
    bc_fake_reset(f);
    detail[0] = '\0';
    return ((const bc_probe_ops *)p->ops)->check(&f->ctx, NULL, target, detail, n);
}

/* A fresh scratch directory (removed by t_cleanup). */
/* The host's transport as plugins see it since ABI 1.2: its declared
 * capabilities ("local": this machine, everything; any other name: a
 * remote POSIX host), and the transport fact for messages. */
static void t_transport(bc_fake *f, const char *name)
{
    bc_fake_set_fact(f, "transport", name);
    f->host_caps = strcmp(name, "local") == 0 ? BC_HOST_CAP_SHARED_FS | BC_HOST_CAP_CHEAP_EXEC |
                                                    BC_HOST_CAP_POSIX_SHELL |
                                                    BC_HOST_CAP_CONTROLLER
                                              : BC_HOST_CAP_POSIX_SHELL;
}

static char t_dir[64];
static void t_mkdir(void)
{
    snprintf(t_dir, sizeof t_dir, "/tmp/bc-plugin-test.XXXXXX");
    if (!mkdtemp(t_dir)) {
        perror("mkdtemp");
        exit(2);
    }
}

static void t_cleanup(void)
{
    char *q = bc_shell_quote_dup(t_dir);
    bc_sb cmd = BC_SB_INIT;
    bc_sb_printf(&cmd, "rm -rf %s", q ? q : "/nonexistent");
    if (system(bc_sb_str(&cmd)) != 0)
        fprintf(stderr, "could not remove %s\n", t_dir);
    bc_sb_free(&cmd);
    free(q);
}

/* <t_dir>/<name> (rotating static buffers, four live at once). */
static const char *t_path(const char *name)
{
    static char bufs[4][512];
    static int k;
    char *b = bufs[k++ & 3];
    if (!bc_path_join(b, sizeof bufs[0], t_dir, name)) {
        fprintf(stderr, "test path too long: %s\n", name);
        exit(2);
    }
    return b;
}

/* Writes len bytes of text to <t_dir>/<name>. */
static void t_write(const char *name, const char *text, size_t len)
{
    FILE *f = fopen(t_path(name), "wb");
    if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
        perror(name);
        exit(2);
    }
}

/* The content of a file (malloc'ed), NULL when it cannot be read. */
static char *t_read(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    bc_sb sb = BC_SB_INIT;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        bc_sb_append_n(&sb, buf, n);
    fclose(f);
    return bc_sb_steal(&sb);
}

static int t_finish(void)
{
    t_cleanup();
    if (t_failures) {
        fprintf(stderr, "%d of %d checks failed\n", t_failures, t_checks);
        return 1;
    }
    printf("all %d checks passed\n", t_checks);
    return 0;
}

#endif /* PLUGIN_TEST_H */
