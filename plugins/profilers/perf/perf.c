/*
 * Profiler "perf": a stage's measured command runs under `perf record`
 * (Linux perf, Debian's linux-perf) on its host, with its whole process
 * tree (children are inherited); the raw profile is folded on the host by
 * perf's own stackcollapse script (`perf script report stackcollapse`),
 * so symbols are resolved where the binaries are.  Everything goes through
 * the transport (host_exec): the same on the local host, over SSH and on
 * each fan-out node.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <benchctl/helpers.h>
#include <benchctl/plugin.h>

#include "textfold.h"

#define CHECK_LIMIT_MS 30000
#define FOLD_LIMIT_MS 600000

/* The `perf record` options of this section (after "perf record"). */
static bool record_options(bc_ctx *ctx, bc_sb *sb)
{
    const bc_services *s = ctx->svc;
    bc_sb_printf(sb, " -q -F %lld --call-graph %s", (long long)s->opt_int(ctx, "frequency"),
                 s->opt_string(ctx, "call_graph"));
    const char *const *events = NULL;
    size_t n = s->opt_list(ctx, "events", &events);
    for (size_t i = 0; i < n; i++) {
        bc_sb_append(sb, " -e ");
        bc_shell_quote(sb, events[i]);
    }
    return !bc_sb_failed(sb);
}

static int perf_check(bc_ctx *ctx)
{
    const bc_services *s = ctx->svc;
    const char *perf = s->opt_string(ctx, "perf");
    bc_sb sb;
    bc_sb_init(&sb);
    bc_sb_append(&sb, "P=");
    bc_shell_quote(&sb, perf);
    bc_sb_append(&sb, "\ncommand -v \"$P\" >/dev/null 2>&1 || { echo missing; exit 0; }\n"
                      "echo \"paranoid $(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null)\"\n"
                      "f=\"${BENCHCTL_HOST_TMPDIR:-/tmp}/.benchctl-perf-check.$$\"\n"
                      "\"$P\" record -o \"$f\"");
    record_options(ctx, &sb);
    bc_sb_append(&sb, " -- true 2>&1; rc=$?\nrm -f \"$f\" \"$f.old\"\necho \"rc $rc\"\n");
    if (bc_sb_failed(&sb)) {
        bc_sb_free(&sb);
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    char out[8192];
    int status = -1;
    int rc = s->host_exec(ctx, bc_sb_str(&sb), CHECK_LIMIT_MS, &status, out, sizeof out);
    bc_sb_free(&sb);
    if (rc != BC_OK)
        return rc == BC_CANCELLED ? BC_CANCELLED : BC_ERR;
    if (strncmp(out, "missing", 7) == 0) {
        bc_error(ctx, "'%s' was not found in PATH; install Linux perf there (Debian: apt-get "
                 "install linux-perf) or name it with profile.perf: /path/to/perf", perf);
        return BC_UNSUPPORTED;
    }
    const char *rcl = strstr(out, "rc ");
    while (rcl && rcl != out && rcl[-1] != '\n')
        rcl = strstr(rcl + 1, "rc ");
    if (rcl && strncmp(rcl, "rc 0", 4) == 0 && (rcl[4] == '\n' || rcl[4] == '\0'))
        return BC_OK;
    int paranoid = -99;
    const char *pl = strstr(out, "paranoid ");
    if (pl)
        sscanf(pl + 9, "%d", &paranoid);
    /* perf's own reason: its first line that is not ours */
    char reason[512] = "";
    for (const char *p = pl ? strchr(pl, '\n') : out; p && *p && !reason[0];) {
        p += *p == '\n';
        size_t n = strcspn(p, "\n");
        if (n > 0 && strncmp(p, "rc ", 3) != 0 && strspn(p, " \t") < n)
            snprintf(reason, sizeof reason, "%.*s", (int)(n < 300 ? n : 300), p);
        p += n;
    }
    if (paranoid != -99)
        bc_error(ctx, "perf cannot record here (kernel.perf_event_paranoid is %d%s%s); allow it "
                 "with 'sysctl -w kernel.perf_event_paranoid=1' (or give the user CAP_PERFMON), "
                 "or choose events this host has (profile.events: [cpu-clock])", paranoid,
                 reason[0] ? ": " : "", reason);
    else
        bc_error(ctx, "perf cannot record here%s%s", reason[0] ? ": " : "", reason);
    return BC_UNSUPPORTED;
}

/* Does req carry span_path (a core of 1.7 or newer)? */
static const char *span_path(const bc_profile_request *req)
{
    size_t end = offsetof(bc_profile_request, span_path) + sizeof req->span_path;
    return req->size >= end ? req->span_path : NULL;
}

/* The stage's shell words and `arg`, quoted, after a space. */
static void shell_words(bc_sb *sb, const bc_profile_request *req, const char *arg)
{
    for (size_t i = 0; req->shell && req->shell[i]; i++) {
        bc_sb_append(sb, " ");
        bc_shell_quote(sb, req->shell[i]);
    }
    bc_sb_append(sb, " ");
    bc_shell_quote(sb, arg);
}

static int perf_wrap(bc_ctx *ctx, const bc_profile_request *req, char *buf, size_t size)
{
    bc_sb sb;
    bc_sb_init(&sb);
    bc_sb_append(&sb, "exec ");
    bc_shell_quote(&sb, ctx->svc->opt_string(ctx, "perf"));
    bc_sb_append(&sb, " record -o ");
    bc_shell_quote(&sb, req->data_path);
    /* no side-band thread for BPF events: it costs each run most of a
     * second when the command ends */
    bc_sb_append(&sb, " --no-bpf-event");
    record_options(ctx, &sb);
    bc_sb_append(&sb, " --");
    const char *span = span_path(req);
    bool oom = false;
    if (span) {
        /* perf forks /bin/sh and releases it once its events are set up:
         * that shell stamps the span file around the stage's command (and
         * around an empty run of the stage's shell, the start-up the core
         * takes off), so perf's own start-up and write-out stay outside */
        bc_sb inner;
        bc_sb_init(&inner);
        bc_sb_append(&inner, "f=");
        bc_shell_quote(&inner, span);
        bc_sb_append(&inner, "\nt() { echo \"$1 $(date +%s%N)\" >>\"$f\"; }\n: >\"$f\"\n"
                             "t shell_start\n");
        shell_words(&inner, req, "");
        bc_sb_append(&inner, "\nt start\n");
        shell_words(&inner, req, req->command);
        bc_sb_append(&inner, "\nrc=$?\nt end\nexit $rc\n");
        bc_sb_append(&sb, " /bin/sh -c ");
        oom = bc_sb_failed(&inner);
        bc_shell_quote(&sb, bc_sb_str(&inner));
        bc_sb_free(&inner);
    } else {
        shell_words(&sb, req, req->command);
    }
    int rc = BC_OK;
    if (bc_sb_failed(&sb) || oom || strlen(bc_sb_str(&sb)) >= size) {
        bc_error(ctx, "the profiled command does not fit in %zu bytes", size);
        rc = BC_ERR;
    } else {
        memcpy(buf, bc_sb_str(&sb), strlen(bc_sb_str(&sb)) + 1);
    }
    bc_sb_free(&sb);
    return rc;
}

static int fold_line(void *arg, const char *line, size_t len)
{
    textfold_line(arg, line, len);
    return 0;
}

typedef struct stack_count {
    const char *key;
    uint64_t count;
} stack_count;

static int by_key(const void *a, const void *b)
{
    return strcmp(((const stack_count *)a)->key, ((const stack_count *)b)->key);
}

/* Write tf's stacks, sorted as perf's own folding writes them, to path on
 * the controller. */
static bool write_folded(const textfold *tf, const char *path)
{
    stack_count *v = calloc(tf->n + 1, sizeof *v);
    FILE *out = v ? fopen(path, "we") : NULL;
    if (!out) {
        free(v);
        return false;
    }
    size_t n = 0;
    for (size_t i = 0; i < tf->cap; i++)
        if (tf->keys[i])
            v[n++] = (stack_count){tf->keys[i], tf->counts[i]};
    qsort(v, n, sizeof *v, by_key);
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++)
        ok = fprintf(out, "%s %llu\n", v[i].key, (unsigned long long)v[i].count) > 0;
    free(v);
    return fclose(out) == 0 && ok;
}

/* perf without Python scripting: perf script's text output, streamed
 * from the host and folded here, then written to req->folded_path.  false
 * with why (a phrase) when it cannot. */
static bool fold_text(bc_ctx *ctx, const bc_profile_request *req, char *why, size_t why_size)
{
    const bc_services *s = ctx->svc;
    if (!BC_HAS_SERVICE(s, host_stream) || !BC_HAS_SERVICE(s, host_caps)) {
        snprintf(why, why_size, "this benchctl cannot stream perf script's output (ABI 1.5)");
        return false;
    }
    bc_sb sb;
    bc_sb_init(&sb);
    bc_sb_append(&sb, "exec ");
    bc_shell_quote(&sb, s->opt_string(ctx, "perf"));
    bc_sb_append(&sb, " script -i ");
    bc_shell_quote(&sb, req->data_path);
    bc_sb_append(&sb, " -F comm,ip,sym 2>/dev/null");
    textfold tf;
    textfold_init(&tf);
    int status = -1;
    int rc = bc_sb_failed(&sb) ? BC_ERR : s->host_stream(ctx, bc_sb_str(&sb), fold_line, &tf, &status);
    bc_sb_free(&sb);
    if (rc != BC_OK || status != 0 || tf.failed) {
        snprintf(why, why_size, "perf script %s (exit status %d)",
                 tf.failed ? "ran out of memory" : "failed", status);
        textfold_free(&tf);
        return false;
    }
    bool shared = s->host_caps(ctx) & BC_HOST_CAP_SHARED_FS;
    char tmp[4096];
    const char *dir = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/benchctl-perf-fold.XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = shared ? -1 : mkstemp(tmp);
    if (fd >= 0)
        close(fd);
    const char *local = shared ? req->folded_path : tmp;
    bool ok = (shared || fd >= 0) && write_folded(&tf, local);
    textfold_free(&tf);
    if (ok && !shared)
        ok = s->host_put_file(ctx, local, req->folded_path, 0644) == BC_OK;
    if (!shared && fd >= 0)
        unlink(tmp);
    if (!ok)
        snprintf(why, why_size, "cannot write the folded stacks to %s", req->folded_path);
    return ok;
}

static int perf_fold(bc_ctx *ctx, const bc_profile_request *req)
{
    bc_sb sb;
    bc_sb_init(&sb);
    bc_sb_append(&sb, "P=");
    bc_shell_quote(&sb, ctx->svc->opt_string(ctx, "perf"));
    bc_sb_append(&sb, "\nd=");
    bc_shell_quote(&sb, req->data_path);
    bc_sb_append(&sb, "\nf=");
    bc_shell_quote(&sb, req->folded_path);
    /* perf's own folding: its stackcollapse script, without the process
     * name as the root frame */
    bc_sb_append(&sb, "\n\"$P\" script report stackcollapse -i \"$d\" -- --no-comm "
                      ">\"$f.tmp\" 2>\"$f.err\" && mv \"$f.tmp\" \"$f\" && rm -f \"$f.err\" && "
                      "exit 0\nrc=$?\ntail -n 3 \"$f.err\"\nrm -f \"$f.tmp\" \"$f.err\"\nexit $rc\n");
    if (bc_sb_failed(&sb)) {
        bc_sb_free(&sb);
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    char out[4096];
    int status = -1;
    int rc = ctx->svc->host_exec(ctx, bc_sb_str(&sb), FOLD_LIMIT_MS, &status, out, sizeof out);
    bc_sb_free(&sb);
    if (rc != BC_OK) {
        bc_error(ctx, "folding the stacks did not finish (status %d)", rc);
        return BC_ERR;
    }
    if (status != 0) {
        /* no Python scripting in this perf (or the script failed): fold
         * perf script's plain output here instead */
        char line[512];
        bc_last_lines(out, 1, line, sizeof line);
        char text_err[600];
        if (fold_text(ctx, req, text_err, sizeof text_err)) {
            ctx->svc->log(ctx, BC_LOG_INFO, "perf script report stackcollapse failed (exit "
                          "status %d%s%s); folded perf script's text output instead", status,
                          line[0] ? ": " : "", line);
            return BC_OK;
        }
        bc_error(ctx, "perf script report stackcollapse failed (exit status %d)%s%s, and so did "
                 "folding perf script's text output (%s); the raw profile is kept (perf report "
                 "-i FILE reads it)", status, line[0] ? ": " : "", line, text_err);
        return BC_ERR;
    }
    return BC_OK;
}

static const bc_option options[] = {
    {.name = "frequency",
     .type = BC_OPT_INT,
     .default_value = "99",
     .min = 1,
     .max = 100000,
     .help = "samples per second (perf record -F)"},
    {.name = "call_graph",
     .type = BC_OPT_ENUM,
     .default_value = "fp",
     .choices = "fp|dwarf|lbr",
     .help = "how stacks are unwound (perf record --call-graph): frame pointers, DWARF "
             "(larger profiles), or the CPU's last branch records"},
    {.name = "events",
     .type = BC_OPT_STRING_LIST,
     .help = "perf events to sample (perf record -e), e.g. [cpu-clock]; default: perf's own "
             "(cycles, or cpu-clock where the CPU has no counters)"},
    {.name = "perf",
     .type = BC_OPT_STRING,
     .default_value = "perf",
     .help = "the perf program on the host"},
    {0},
};

static const bc_profiler_ops ops = {
    .size = sizeof(bc_profiler_ops),
    .check = perf_check,
    .wrap = perf_wrap,
    .fold = perf_fold,
};

static const bc_plugin descriptor = {
    .abi = BC_PLUGIN_PREFIX,
    .kind = BC_KIND_PROFILER,
    .name = "perf",
    .version = "1.0.0",
    .description = "samples a stage's measured runs with Linux perf (perf record), folded by "
                   "perf's stackcollapse",
    .options = options,
    .ops = &ops,
};

BC_PLUGIN_ENTRY(descriptor)
