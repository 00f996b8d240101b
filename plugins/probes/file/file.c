/*
 * Probe "file": ready when a file exists (optionally: is not empty, or
 * contains a fixed string).
 *
 * On a host that shares the controller's files (BC_HOST_CAP_SHARED_FS)
 * the file is checked directly (stat, then read in chunks for `contains`);
 * a relative path starts at the config file's directory.
 * On any other host the check runs through the host's transport with
 * `test` and `grep -F`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <benchctl/helpers.h>
#include <benchctl/plugin.h>

#define CHUNK (64 * 1024)
#define MARK "benchctl-file-probe:"

static int file_check_target(bc_ctx *ctx, const char *target)
{
    if (!*target) {
        bc_error(ctx, "the path is empty");
        return BC_ERR;
    }
    return BC_OK;
}

/* At most 60 bytes of s, for messages. */
static void shorten(const char *s, char *out, size_t n)
{
    size_t len = strlen(s);
    if (n > 64)
        n = 64;
    if (len < n) {
        memcpy(out, s, len + 1);
        return;
    }
    memcpy(out, s, n - 4);
    memcpy(out + n - 4, "...", 4);
}

/* 1: the file contains pat; 0: it does not; -1: read error (errno). */
static int stream_contains(int fd, const char *pat, size_t plen, bc_ctx *ctx)
{
    char *buf = malloc(CHUNK + plen);
    if (!buf)
        return -1;
    size_t keep = 0; /* bytes carried over from the previous chunk */
    int found = 0;
    for (;;) {
        ssize_t r = read(fd, buf + keep, CHUNK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            found = -1;
            break;
        }
        if (r == 0)
            break;
        size_t have = keep + (size_t)r;
        if (memmem(buf, have, pat, plen)) {
            found = 1;
            break;
        }
        /* A match across the boundary starts in the last plen-1 bytes. */
        keep = plen - 1 < have ? plen - 1 : have;
        memmove(buf, buf + have - keep, keep);
        if (ctx->svc->cancelled(ctx))
            break;
    }
    int e = errno;
    free(buf);
    errno = e;
    return found;
}

static int check_local(bc_ctx *ctx, const char *target, char *detail, size_t n)
{
    char *path = bc_path_join_alloc(target[0] == '/' ? NULL : ctx->svc->fact(ctx, "config_dir"),
                                    target);
    if (!path) {
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    const char *p = path;
    char shown[64];
    shorten(target, shown, sizeof shown);
    int rc = BC_NOT_READY;
    struct stat sb;
    if (stat(p, &sb) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            snprintf(detail, n, "%s does not exist", shown);
        else
            snprintf(detail, n, "cannot stat %s: %s", shown, strerror(errno));
        goto out;
    }
    if (ctx->svc->opt_bool(ctx, "non_empty") && sb.st_size == 0) {
        snprintf(detail, n, "%s is empty", shown);
        goto out;
    }
    const char *pat = ctx->svc->opt_is_set(ctx, "contains") ? ctx->svc->opt_string(ctx, "contains")
                                                            : NULL;
    if (pat && *pat) {
        if (S_ISDIR(sb.st_mode)) {
            snprintf(detail, n, "%s is a directory", shown);
            goto out;
        }
        int fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) {
            snprintf(detail, n, "cannot open %s: %s", shown, strerror(errno));
            goto out;
        }
        int f = stream_contains(fd, pat, strlen(pat), ctx);
        int e = errno;
        close(fd);
        if (f < 0) {
            snprintf(detail, n, "cannot read %s: %s", shown, strerror(e));
            goto out;
        }
        if (f == 0) {
            char sp[64];
            shorten(pat, sp, sizeof sp);
            snprintf(detail, n, "%s does not contain '%s'", shown, sp);
            goto out;
        }
    }
    rc = BC_OK;
out:
    free(path);
    return rc;
}

static int check_remote(bc_ctx *ctx, const char *target, char *detail, size_t n)
{
    const char *pat = ctx->svc->opt_is_set(ctx, "contains") ? ctx->svc->opt_string(ctx, "contains")
                                                            : NULL;
    bc_sb sb = BC_SB_INIT;
    /* f=PATH; test -e, test -s, grep -qF; a marker line says which failed. */
    bc_sb_append(&sb, "f=");
    bc_shell_quote(&sb, target);
    bc_sb_append(&sb, "; test -e \"$f\" || { echo " MARK "missing; exit 1; }; ");
    if (ctx->svc->opt_bool(ctx, "non_empty"))
        bc_sb_append(&sb, "test -s \"$f\" || { echo " MARK "empty; exit 1; }; ");
    if (pat && *pat) {
        bc_sb_append(&sb, "test -d \"$f\" && { echo " MARK "dir; exit 1; }; grep -qF -- ");
        bc_shell_quote(&sb, pat);
        bc_sb_append(&sb, " \"$f\" 2>&1; r=$?; [ $r = 1 ] && echo " MARK "nomatch; exit $r");
    }
    char *cmd = bc_sb_steal(&sb);
    if (!cmd) {
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    char out[2048];
    int status = -1;
    int rc = ctx->svc->host_exec(ctx, cmd, 10000, &status, out, sizeof out);
    free(cmd);
    char shown[64];
    shorten(target, shown, sizeof shown);
    if (rc == BC_TIMEOUT) {
        snprintf(detail, n, "checking %s did not finish in time", shown);
        return BC_NOT_READY;
    }
    if (rc != BC_OK)
        return rc;
    if (status == 0)
        return BC_OK;
    if (strstr(out, MARK "missing")) {
        snprintf(detail, n, "%s does not exist", shown);
    } else if (strstr(out, MARK "empty")) {
        snprintf(detail, n, "%s is empty", shown);
    } else if (strstr(out, MARK "dir")) {
        snprintf(detail, n, "%s is a directory", shown);
    } else if (strstr(out, MARK "nomatch")) {
        char sp[64];
        shorten(pat ? pat : "", sp, sizeof sp);
        snprintf(detail, n, "%s does not contain '%s'", shown, sp);
    } else if (status == 127) {
        const char *host = ctx->svc->fact(ctx, "host");
        char line[256];
        bc_last_lines(out, 1, line, sizeof line);
        bc_error(ctx, "host '%s' cannot run the file check (grep missing?): %s",
                 host ? host : "?", line);
        return BC_ERR;
    } else {
        char line[256];
        bc_last_lines(out, 1, line, sizeof line);
        snprintf(detail, n, "cannot read %s: %s", shown, line[0] ? line : "grep failed");
    }
    return BC_NOT_READY;
}

static int file_check(bc_ctx *ctx, void *state, const char *target, char *detail, size_t n)
{
    (void)state;
    /* A host that shares the controller's files: look at the file here. */
    if (ctx->svc->host_caps(ctx) & BC_HOST_CAP_SHARED_FS)
        return check_local(ctx, target, detail, n);
    return check_remote(ctx, target, detail, n);
}

static const bc_option options[] = {
    {.name = "non_empty",
     .type = BC_OPT_BOOL,
     .default_value = "false",
     .help = "the file must also have a size greater than zero"},
    {.name = "contains",
     .type = BC_OPT_STRING,
     .help = "a fixed string (not a pattern) the file's content must contain"},
    {0},
};

static const bc_probe_ops ops = {
    .size = sizeof(bc_probe_ops),
    .check_target = file_check_target,
    .check = file_check,
    .default_interval_ms = 10, /* a stat costs microseconds */
};

static const bc_plugin descriptor = {
    .abi = BC_PLUGIN_PREFIX,
    .kind = BC_KIND_PROBE,
    .name = "file",
    .version = "1.0.0",
    .description = "ready when a file exists (optionally non-empty, or containing a string)",
    .options = options,
    .ops = &ops,
};

BC_PLUGIN_ENTRY(descriptor)
