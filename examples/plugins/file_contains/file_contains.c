/*
 * Probe "file_contains": an example of an out-of-tree benchctl plugin.
 *
 *     health_check:
 *       type: file_contains
 *       target: logs/server.log     # a file on the controller
 *       pattern: "listening on"     # required: a fixed string (not a regex)
 *       min_size: 0                 # optional: the file must have this many bytes
 *
 * Ready when the file exists, is at least min_size bytes long and contains
 * `pattern` somewhere (byte for byte; it may span lines).  A relative target
 * is resolved against the directory of the config file, the same directory
 * stages run in; the target is used as written (no shell expansion).
 *
 * The file is read on the machine running benchctl, whatever host the stage
 * ran on.  Only the public SDK headers are used: <benchctl/plugin.h>, and
 * <benchctl/helpers.h> for the SDK's static helper library, which is linked
 * into the plugin (pkg-config --libs benchctl; benchctl_add_plugin adds it).
 * Nothing of benchctl itself is linked: the core is reached through
 * ctx->svc.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <benchctl/helpers.h>
#include <benchctl/plugin.h>

/* Kept across the attempts of one health check (begin .. end). */
typedef struct fc_state {
    char *path;            /* the target, resolved */
    const char *pattern;   /* borrowed from the core (lives as long as the run) */
    size_t pattern_len;
    int64_t min_size;
} fc_state;

static int blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return 0;
    return 1;
}

static int fc_check_target(bc_ctx *ctx, const char *target)
{
    if (blank(target)) {
        bc_error(ctx, "the file name is empty");
        return BC_ERR;
    }
    return BC_OK;
}

/* target if absolute, else <config_dir>/<target>; NULL when out of memory. */
static char *resolve(bc_ctx *ctx, const char *target)
{
    const char *base = target[0] == '/' ? NULL : ctx->svc->fact(ctx, "config_dir");
    const char *rel = target;
    if (base && *base)
        while (rel[0] == '.' && rel[1] == '/') /* "./x" -> "x" for tidier messages */
            for (rel += 2; *rel == '/'; rel++)
                ;
    return bc_path_join_alloc(base, rel); /* from the SDK's helper library */
}

static int fc_begin(bc_ctx *ctx, const char *target, void **state)
{
    fc_state *s = calloc(1, sizeof *s);
    if (s)
        s->path = resolve(ctx, target);
    if (!s || !s->path) {
        free(s);
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    s->pattern = ctx->svc->opt_string(ctx, "pattern");
    if (!s->pattern)
        s->pattern = "";
    s->pattern_len = strlen(s->pattern);
    s->min_size = ctx->svc->opt_int(ctx, "min_size");
    bc_log(ctx, BC_LOG_DEBUG, "waiting for '%s' in %s (at least %lld bytes)", s->pattern, s->path,
           (long long)s->min_size);
    *state = s;
    return BC_OK;
}

static void fc_end(bc_ctx *ctx, void *state)
{
    (void)ctx;
    fc_state *s = state;
    if (s) {
        free(s->path);
        free(s);
    }
}

/* Naive search for needle in hay; returns 1 when found. */
static int contains(const char *hay, size_t hay_len, const char *needle, size_t needle_len)
{
    if (needle_len == 0)
        return 1;
    while (hay_len >= needle_len) {
        const char *p = memchr(hay, needle[0], hay_len - needle_len + 1);
        if (!p)
            return 0;
        if (memcmp(p, needle, needle_len) == 0)
            return 1;
        hay_len -= (size_t)(p + 1 - hay);
        hay = p + 1;
    }
    return 0;
}

/*
 * Stream the file looking for the pattern, keeping the last
 * pattern_len - 1 bytes of each chunk so a match across chunks is found.
 * Returns 1 found, 0 not found, -1 read error (errno set), -2 cancelled,
 * -3 out of memory.
 */
static int file_has(bc_ctx *ctx, FILE *f, const fc_state *s)
{
    if (s->pattern_len == 0)
        return 1;
    size_t keep = s->pattern_len - 1;
    size_t chunk = 64 * 1024;
    char *buf = malloc(keep + chunk);
    if (!buf)
        return -3;
    size_t have = 0;
    int found = 0;
    for (;;) {
        size_t n = fread(buf + have, 1, chunk, f);
        have += n;
        if (contains(buf, have, s->pattern, s->pattern_len)) {
            found = 1;
            break;
        }
        if (n < chunk) {
            if (ferror(f))
                found = -1;
            break;
        }
        if (ctx->svc->cancelled(ctx)) {
            found = -2;
            break;
        }
        size_t tail = have < keep ? have : keep;
        memmove(buf, buf + have - tail, tail);
        have = tail;
    }
    free(buf);
    return found;
}

static int fc_check(bc_ctx *ctx, void *state, const char *target, char *detail,
                    size_t detail_size)
{
    (void)target; /* already resolved into state->path by begin */
    const fc_state *s = state;
    struct stat st;
    if (stat(s->path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            snprintf(detail, detail_size, "%s does not exist yet", s->path);
        else
            snprintf(detail, detail_size, "cannot examine %s: %s", s->path, strerror(errno));
        return BC_NOT_READY;
    }
    if (S_ISDIR(st.st_mode)) {
        bc_error(ctx, "%s is a directory, not a file", s->path);
        return BC_ERR;
    }
    if ((int64_t)st.st_size < s->min_size) {
        snprintf(detail, detail_size, "%s is too small: %lld bytes, min_size is %lld", s->path,
                 (long long)st.st_size, (long long)s->min_size);
        return BC_NOT_READY;
    }
    FILE *f = fopen(s->path, "rb");
    if (!f) {
        snprintf(detail, detail_size, "cannot open %s: %s", s->path, strerror(errno));
        return BC_NOT_READY;
    }
    int found = file_has(ctx, f, s);
    int err = errno;
    fclose(f);
    switch (found) {
    case 1:
        bc_log(ctx, BC_LOG_DEBUG, "found '%s' in %s", s->pattern, s->path);
        return BC_OK;
    case 0:
        snprintf(detail, detail_size, "pattern '%.200s' not found yet in %s (%lld bytes)",
                 s->pattern, s->path, (long long)st.st_size);
        return BC_NOT_READY;
    case -1:
        snprintf(detail, detail_size, "cannot read %s: %s", s->path, strerror(err));
        return BC_NOT_READY;
    case -2:
        return BC_CANCELLED;
    default:
        bc_error(ctx, "out of memory reading %s", s->path);
        return BC_ERR;
    }
}

static const bc_option options[] = {
    {.name = "pattern",
     .type = BC_OPT_STRING,
     .flags = BC_OPT_REQUIRED,
     .help = "fixed string the file must contain (not a regular expression)"},
    {.name = "min_size",
     .type = BC_OPT_INT,
     .default_value = "0",
     .min = 0,
     .max = 1e15,
     .help = "smallest size in bytes the file must have"},
    {0},
};

static const bc_probe_ops ops = {
    .size = sizeof(bc_probe_ops),
    .check_target = fc_check_target,
    .begin = fc_begin,
    .check = fc_check,
    .end = fc_end,
};

static const bc_plugin descriptor = {
    .abi = BC_PLUGIN_PREFIX,
    .kind = BC_KIND_PROBE,
    .name = "file_contains",
    .version = "1.0.0",
    .description = "ready when a file on the controller exists and contains a fixed string",
    .options = options,
    .ops = &ops,
};

BC_PLUGIN_ENTRY(descriptor)
