/*
 * Collector "files": copies an output's file(s) from the stage's host into
 * the run directory through the host transport (a direct copy when the
 * host shares the controller's files, BC_HOST_CAP_SHARED_FS; the
 * transport's get_file otherwise).
 *
 * remote_path without glob characters: one file, written to
 * <dest_dir>/<dest_base>.  With `*`, `?` or `[`: every match, written into
 * the directory <dest_dir>/<dest_base>/ under its own base name.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <benchctl/helpers.h>
#include <benchctl/plugin.h>

static int is_glob(const char *s) { return strpbrk(s, "*?[") != NULL; }

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* A relative remote_path on the local host is relative to the directory
 * stages run in (the config's).  malloc'ed; NULL when out of memory. */
static char *local_path(bc_ctx *ctx, const char *path)
{
    return bc_path_join_alloc(path[0] == '/' ? NULL : ctx->svc->fact(ctx, "config_dir"), path);
}

/* dir/name into buf (PATH_MAX bytes); a path that does not fit is an error
 * naming it (its start and its end: the core's message buffer is smaller
 * than such a path), never a shortened path. */
static int dest_path(bc_ctx *ctx, char *buf, const char *dir, const char *name)
{
    if (bc_path_join(buf, PATH_MAX, dir, name))
        return BC_OK;
    char *full = bc_path_join_alloc(dir, name);
    size_t len = full ? strlen(full) : 0;
    if (!full)
        bc_error(ctx, "the destination path for %s is too long (more than %d bytes)", name,
                 PATH_MAX - 1);
    else
        bc_error(ctx, "the destination path is too long (%zu bytes, more than %d): %.200s...%s",
                 len, PATH_MAX - 1, full, full + (len > 400 ? len - 200 : 200));
    free(full);
    return BC_ERR;
}

static int fetch(bc_ctx *ctx, const char *output, const char *remote, const char *dest)
{
    int rc = ctx->svc->host_get_file(ctx, remote, dest);
    if (rc == BC_OK)
        ctx->svc->record_file(ctx, output, dest);
    return rc;
}

/* Matches of pattern on the host, one per line in *list (malloc'd). */
static int remote_glob(bc_ctx *ctx, const char *pattern, char **list)
{
    /* Expanded by the host's shell: the pattern itself is not quoted. */
    bc_sb sb = BC_SB_INIT;
    bc_sb_printf(&sb, "for f in %s; do [ -f \"$f\" ] && printf '%%s\\n' \"$f\"; done; true",
                 pattern);
    char *cmd = bc_sb_steal(&sb);
    char *out = malloc(1 << 20);
    if (!cmd || !out) {
        free(cmd);
        free(out);
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    int status = 0;
    int rc = ctx->svc->host_exec(ctx, cmd, 60000, &status, out, 1 << 20);
    free(cmd);
    if (rc != BC_OK) {
        free(out);
        return rc;
    }
    *list = out;
    return BC_OK;
}

static int collect(bc_ctx *ctx, const bc_collect_request *req)
{
    /* A host that shares the controller's files: copy them directly. */
    int local = (ctx->svc->host_caps(ctx) & BC_HOST_CAP_SHARED_FS) != 0;
    if (!is_glob(req->remote_path)) {
        char dest[PATH_MAX];
        if (dest_path(ctx, dest, req->dest_dir, req->dest_base) != BC_OK)
            return BC_ERR;
        char *src = local ? local_path(ctx, req->remote_path) : NULL;
        if (local && !src) {
            bc_error(ctx, "out of memory");
            return BC_ERR;
        }
        struct stat st;
        if (local && stat(src, &st) != 0) {
            bc_error(ctx, "%s does not exist%s", src,
                     req->missing_is_error ? " (the stage did not write it)" : "");
            free(src);
            return BC_ERR;
        }
        int rc = fetch(ctx, req->name, local ? src : req->remote_path, dest);
        free(src);
        return rc;
    }

    char dir[PATH_MAX];
    if (dest_path(ctx, dir, req->dest_dir, req->dest_base) != BC_OK)
        return BC_ERR;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        bc_error(ctx, "cannot create %s: %s", dir, strerror(errno));
        return BC_ERR;
    }
    int rc = BC_OK, found = 0;
    if (local) {
        char *pattern = local_path(ctx, req->remote_path);
        glob_t g;
        int gr = pattern ? glob(pattern, GLOB_ERR, NULL, &g) : GLOB_NOSPACE;
        if (gr == 0) {
            for (size_t i = 0; i < g.gl_pathc && rc == BC_OK; i++) {
                struct stat st;
                if (stat(g.gl_pathv[i], &st) != 0 || !S_ISREG(st.st_mode))
                    continue;
                char dest[PATH_MAX];
                rc = dest_path(ctx, dest, dir, base_name(g.gl_pathv[i]));
                if (rc == BC_OK)
                    rc = fetch(ctx, req->name, g.gl_pathv[i], dest);
                found++;
            }
            globfree(&g);
        } else if (gr != GLOB_NOMATCH) {
            bc_error(ctx, "cannot expand %s", pattern ? pattern : req->remote_path);
            rc = BC_ERR;
        }
        free(pattern);
    } else {
        char *list = NULL;
        rc = remote_glob(ctx, req->remote_path, &list);
        char *save = NULL;
        for (char *line = list ? strtok_r(list, "\n", &save) : NULL; line && rc == BC_OK;
             line = strtok_r(NULL, "\n", &save)) {
            char dest[PATH_MAX];
            rc = dest_path(ctx, dest, dir, base_name(line));
            if (rc == BC_OK)
                rc = fetch(ctx, req->name, line, dest);
            found++;
        }
        free(list);
    }
    if (rc == BC_OK && found == 0) {
        bc_error(ctx, "no file matches %s", req->remote_path);
        return BC_ERR;
    }
    return rc;
}

static const bc_collector_ops ops = {
    .size = sizeof(bc_collector_ops),
    .collect = collect,
};

static const bc_plugin descriptor = {
    .abi = BC_PLUGIN_PREFIX,
    .kind = BC_KIND_COLLECTOR,
    .name = "files",
    .version = "1.0.0",
    .description = "copies output files (or glob matches) from the stage's host",
    .options = NULL,
    .ops = &ops,
};

BC_PLUGIN_ENTRY(descriptor)
