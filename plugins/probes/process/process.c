/*
 * Probe "process": ready when at least `min_count` processes exist whose
 * full command line (argv joined by spaces, as `pgrep -f` sees it)
 * contains the target (or, with `regex: true`, matches it as a POSIX
 * extended regular expression).
 *
 * On the controller itself (BC_HOST_CAP_CONTROLLER) /proc is scanned
 * directly (benchctl's own process is never counted).  On any other host the check runs through the host's
 * transport with `pgrep -f`, or a /proc scan in sh where pgrep is missing.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <benchctl/helpers.h>
#include <benchctl/plugin.h>

#define CMDLINE_MAX (128 * 1024)
#define MARK "benchctl-process-probe:"

typedef struct pstate {
    int use_regex;
    regex_t re;
    char *buf; /* CMDLINE_MAX + 1 */
} pstate;

static int compile(bc_ctx *ctx, const char *target, regex_t *re)
{
    int e = regcomp(re, target, REG_EXTENDED | REG_NOSUB);
    if (e != 0) {
        char msg[256];
        regerror(e, re, msg, sizeof msg);
        bc_error(ctx, "not a valid extended regular expression: %s", msg);
        return BC_ERR;
    }
    return BC_OK;
}

static int process_check_target(bc_ctx *ctx, const char *target)
{
    if (!*target) {
        bc_error(ctx, "the pattern is empty (it would match every process)");
        return BC_ERR;
    }
    if (ctx->svc->opt_bool(ctx, "regex")) {
        regex_t re;
        if (compile(ctx, target, &re) != BC_OK)
            return BC_ERR;
        regfree(&re);
    }
    return BC_OK;
}

static int process_begin(bc_ctx *ctx, const char *target, void **state)
{
    pstate *s = calloc(1, sizeof *s);
    if (!s || !(s->buf = malloc(CMDLINE_MAX + 1))) {
        free(s);
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    if (ctx->svc->opt_bool(ctx, "regex")) {
        if (compile(ctx, target, &s->re) != BC_OK) {
            free(s->buf);
            free(s);
            return BC_ERR;
        }
        s->use_regex = 1;
    }
    *state = s;
    return BC_OK;
}

static void process_end(bc_ctx *ctx, void *state)
{
    (void)ctx;
    pstate *s = state;
    if (!s)
        return;
    if (s->use_regex)
        regfree(&s->re);
    free(s->buf);
    free(s);
}

/* Read /proc/<pid>/cmdline into buf as one line; its length, -1 if gone. */
static ssize_t read_cmdline(int dirfd, const char *pid, char *buf, size_t cap)
{
    char rel[288]; /* d_name is at most 255 bytes */
    snprintf(rel, sizeof rel, "%s/cmdline", pid);
    int fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    while (len < cap) {
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    while (len > 0 && buf[len - 1] == '\0')
        len--;
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    buf[len] = '\0';
    return (ssize_t)len;
}

static int scan_local(bc_ctx *ctx, pstate *s, const char *target, long *count)
{
    DIR *d = opendir("/proc");
    if (!d) {
        bc_error(ctx, "cannot read /proc: %s", strerror(errno));
        return BC_ERR;
    }
    char self[32];
    snprintf(self, sizeof self, "%ld", (long)getpid());
    size_t tlen = strlen(target);
    *count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)e->d_name[0]) || strcmp(e->d_name, self) == 0)
            continue;
        ssize_t len = read_cmdline(dirfd(d), e->d_name, s->buf, CMDLINE_MAX);
        if (len <= 0)
            continue; /* gone, a kernel thread, or a zombie */
        int hit = s->use_regex ? regexec(&s->re, s->buf, 0, NULL, 0) == 0
                               : memmem(s->buf, (size_t)len, target, tlen) != NULL;
        if (hit)
            (*count)++;
    }
    closedir(d);
    return BC_OK;
}

/* The remote command.  The pattern travels as octal escapes for printf so
 * that it does not appear in any command line on the host itself (the
 * wrapping shell would otherwise match a plain substring). */
static char *remote_command(const char *target, int use_regex)
{
    /* For pgrep (an ERE matcher) a fixed string is escaped. */
    size_t n = strlen(target);
    char *ere = malloc(2 * n + 1);
    if (!ere)
        return NULL;
    char *w = ere;
    for (const char *p = target; *p; p++) {
        if (!use_regex && strchr("\\.[]()*+?{}|^$", *p))
            *w++ = '\\';
        *w++ = *p;
    }
    *w = '\0';
    bc_sb cmd = BC_SB_INIT;
    for (int which = 0; which < 2; which++) {
        const char *src = which == 0 ? (use_regex ? target : ere) : target;
        bc_sb_append(&cmd, which == 0 ? "E=$(printf '" : "F=$(printf '");
        for (const unsigned char *p = (const unsigned char *)src; *p; p++)
            bc_sb_printf(&cmd, "\\%03o", *p);
        bc_sb_append(&cmd, "x'); ");
        bc_sb_append(&cmd, which == 0 ? "E=${E%x}; " : "F=${F%x}; ");
    }
    free(ere);
    /* Without pgrep: every command line is read by one grep (file name
     * prefixed, NULs made spaces by one tr) into a variable, so the scan is
     * a fixed number of processes however many the host runs, and it is
     * over before the matching grep (whose argv holds the pattern) starts. */
    bc_sb_append(&cmd, "n=0; "
                       "if command -v pgrep >/dev/null 2>&1; then "
                       "for p in $(pgrep -f -- \"$E\"); do [ \"$p\" = \"$$\" ] || n=$((n+1)); done; "
                       "elif [ -r /proc/self/cmdline ]; then "
                       "S=$$; L=$(grep -a -H -s '' /proc/[0-9]*/cmdline | tr '\\000' ' '); "
                       "n=$(printf '%s\\n' \"$L\" | while IFS= read -r l; do "
                       "p=${l#/proc/}; p=${p%%/*}; [ \"$p\" = \"$S\" ] && continue; "
                       "c=${l#*/cmdline:}; c=${c% }; [ -n \"$c\" ] || continue; ");
    bc_sb_append(&cmd, use_regex
                           ? "printf '%s\\n' \"$c\"; done | grep -c -E -e \"$E\"); "
                           : "case \"$c\" in *\"$F\"*) echo;; esac; done | grep -c ''); ");
    bc_sb_append(&cmd, "n=$((n+0)); "
                       "else echo " MARK "unsupported; exit 3; fi; "
                       "echo " MARK "count=$n");
    return bc_sb_steal(&cmd); /* NULL when out of memory */
}

static int scan_remote(bc_ctx *ctx, const char *target, int use_regex, long *count)
{
    char *cmd = remote_command(target, use_regex);
    if (!cmd) {
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    char out[2048];
    int status = -1;
    int rc = ctx->svc->host_exec(ctx, cmd, 10000, &status, out, sizeof out);
    free(cmd);
    if (rc == BC_TIMEOUT)
        return BC_TIMEOUT;
    if (rc != BC_OK)
        return rc;
    const char *host = ctx->svc->fact(ctx, "host");
    const char *c = strstr(out, MARK "count=");
    if (status == 0 && c) {
        *count = strtol(c + strlen(MARK "count="), NULL, 10);
        return BC_OK;
    }
    if (strstr(out, MARK "unsupported"))
        bc_error(ctx, "host '%s' has neither pgrep nor /proc: the process probe cannot list "
                 "its processes", host ? host : "?");
    else
        bc_error(ctx, "listing the processes on host '%s' failed (exit status %d): %.300s",
                 host ? host : "?", status, out);
    return BC_ERR;
}

static int process_check(bc_ctx *ctx, void *state, const char *target, char *detail, size_t n)
{
    pstate *s = state;
    int use_regex = ctx->svc->opt_bool(ctx, "regex");
    int64_t want = ctx->svc->opt_int(ctx, "min_count");
    if (want < 1)
        want = 1;
    long count = 0;
    int rc;
    if (ctx->svc->host_caps(ctx) & BC_HOST_CAP_CONTROLLER) { /* its processes are ours */
        if (!s) {
            bc_error(ctx, "the probe was not prepared");
            return BC_ERR;
        }
        rc = scan_local(ctx, s, target, &count);
    } else {
        rc = scan_remote(ctx, target, use_regex, &count);
    }
    if (rc == BC_TIMEOUT) {
        snprintf(detail, n, "listing the processes did not finish in time");
        return BC_NOT_READY;
    }
    if (rc != BC_OK)
        return rc;
    if (count >= want)
        return BC_OK;
    const char *how = use_regex ? "matches" : "contains";
    if (count == 0)
        snprintf(detail, n, "no process whose command line %s '%.100s'", how, target);
    else
        snprintf(detail, n, "%ld process%s whose command line %s '%.100s', min_count is %lld",
                 count, count == 1 ? "" : "es", how, target, (long long)want);
    return BC_NOT_READY;
}

static const bc_option options[] = {
    {.name = "regex",
     .type = BC_OPT_BOOL,
     .default_value = "false",
     .help = "treat the target as a POSIX extended regular expression (as pgrep -f does) "
             "instead of a fixed string"},
    {.name = "min_count",
     .type = BC_OPT_INT,
     .default_value = "1",
     .min = 1,
     .max = 1000000,
     .help = "how many matching processes must exist"},
    {0},
};

static const bc_probe_ops ops = {
    .size = sizeof(bc_probe_ops),
    .check_target = process_check_target,
    .begin = process_begin,
    .check = process_check,
    .end = process_end,
    .default_interval_ms = 10, /* a /proc scan: ~10 us per process */
};

static const bc_plugin descriptor = {
    .abi = BC_PLUGIN_PREFIX,
    .kind = BC_KIND_PROBE,
    .name = "process",
    .version = "1.0.0",
    .description = "ready when a process whose command line contains the target exists",
    .options = options,
    .ops = &ops,
};

BC_PLUGIN_ENTRY(descriptor)
