/*
 * Monitor "proc": samples a Linux host's /proc (stat, meminfo, net/dev,
 * diskstats, loadavg, uptime, pressure/{cpu,memory,io}) every interval and derives
 * per-interval rates and percentages.
 *
 * On the controller itself (BC_HOST_CAP_CONTROLLER) it reads the files
 * directly.  On any other host it runs ONE long-lived POSIX sh loop over
 * the run's connection (svc->host_stream): each interval one awk prints
 * the lines it needs, tagged with their file, and a "." after them; the
 * same parser (procparse.c) reads both.  Nothing is installed on the host.
 */
#define _GNU_SOURCE
#include <benchctl/helpers.h>
#include <benchctl/plugin.h>

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "procparse.h"

static const char *const pressure_files[] = {"/proc/pressure/cpu", "/proc/pressure/memory",
                                             "/proc/pressure/io"};

/* The /proc files the metric groups need (uptime always: it is the clock
 * of the rates), as a space-separated list. */
static void files_for(uint32_t metrics, bc_sb *sb)
{
    bc_sb_append(sb, "/proc/uptime");
    if (metrics & BC_MON_CPU)
        bc_sb_append(sb, " /proc/stat");
    if (metrics & BC_MON_MEMORY)
        bc_sb_append(sb, " /proc/meminfo");
    if (metrics & BC_MON_NETWORK)
        bc_sb_append(sb, " /proc/net/dev");
    if (metrics & BC_MON_DISK)
        bc_sb_append(sb, " /proc/diskstats");
    if (metrics & BC_MON_LOAD)
        bc_sb_append(sb, " /proc/loadavg");
}

/* ---- local: read the files here -------------------------------------- */

static double thread_cpu_s(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return -1;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void read_file_into(proc_snap *s, const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\n");
        proc_snap_line(s, path, line, len, 0);
    }
    fclose(f);
}

static int run_local(bc_ctx *ctx, const bc_monitor_request *req)
{
    if (access("/proc/stat", R_OK) != 0) {
        bc_error(ctx, "this host has no /proc/stat (not Linux?): nothing to sample");
        return BC_ERR;
    }
    bc_sb files = BC_SB_INIT;
    files_for(req->metrics, &files);
    if (bc_sb_failed(&files)) {
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    proc_snap prev, cur;
    bool have_prev = false;
    int cfd = ctx->svc->cancel_fd(ctx);
    int64_t next = bc_mono_ms();
    while (!ctx->svc->cancelled(ctx)) {
        proc_snap_reset(&cur);
        struct timespec now_ts;
        if (clock_gettime(CLOCK_REALTIME, &now_ts) == 0)
            cur.host_time = (double)now_ts.tv_sec + (double)now_ts.tv_nsec / 1e9;
        char *list = strdup(bc_sb_str(&files)), *save = NULL;
        for (char *p = list ? strtok_r(list, " ", &save) : NULL; p; p = strtok_r(NULL, " ", &save))
            read_file_into(&cur, p);
        free(list);
        if (req->metrics & BC_MON_PRESSURE)
            for (size_t i = 0; i < 3; i++)
                read_file_into(&cur, pressure_files[i]);
        cur.self_cpu_s = thread_cpu_s();
        bc_monitor_sample smp;
        proc_sample(have_prev ? &prev : NULL, &cur, &smp);
        ctx->svc->monitor_sample(ctx, &smp);
        prev = cur;
        have_prev = true;
        /* On a fixed schedule: a slow read does not shift later samples. */
        next += req->interval_ms;
        int64_t now = bc_mono_ms();
        if (next <= now)
            next = now + req->interval_ms; /* fell behind: skip, never bunch samples */
        struct pollfd pfd = {.fd = cfd, .events = POLLIN};
        if (poll(&pfd, cfd >= 0 ? 1 : 0, (int)(next - now)) < 0 && errno != EINTR)
            break;
    }
    bc_sb_free(&files);
    return BC_OK;
}

/* ---- remote: one long-lived loop over the host's transport ------------- */

typedef struct remote {
    bc_ctx *ctx;
    proc_snap prev, cur;
    bool have_prev;
    long hz;
    char error[512];
} remote;

static int on_line(void *arg, const char *line, size_t len)
{
    remote *st = arg;
    if (len == 1 && line[0] == '.') {
        bc_monitor_sample smp;
        proc_sample(st->have_prev ? &st->prev : NULL, &st->cur, &smp);
        st->ctx->svc->monitor_sample(st->ctx, &smp);
        st->prev = st->cur;
        st->have_prev = true;
        proc_snap_reset(&st->cur);
        return 0;
    }
    if (len > 2 && line[0] == 'E' && line[1] == ' ') {
        snprintf(st->error, sizeof st->error, "%.*s", (int)(len - 2), line + 2);
        return 1;
    }
    if (len > 2 && line[0] == 'H' && line[1] == ' ') {
        st->hz = strtol(line + 2, NULL, 10);
        return 0;
    }
    const char *sp = memchr(line, ' ', len);
    if (!sp)
        return 0;
    char file[64];
    size_t fl = (size_t)(sp - line);
    if (fl >= sizeof file)
        return 0;
    memcpy(file, line, fl);
    file[fl] = '\0';
    proc_snap_line(&st->cur, file, sp + 1, len - fl - 1, st->hz);
    return 0;
}

/* The loop: POSIX sh and awk, nothing else (getconf and sleep aside).  A
 * ticker shell wakes ONE long-lived awk every interval (no process is
 * started per sample where bash is found; else sleep); awk reads the files itself and prints the
 * lines the parser needs, tagged with their file, then the CPU time of
 * itself ("self") and of the ticker ("tick"), then ".".  Both end when
 * their output goes away, and the transport stops the group on request. */
static char *remote_script(const bc_monitor_request *req)
{
    bc_sb sb = BC_SB_INIT;
    bc_sb files = BC_SB_INIT;
    files_for(req->metrics, &files);
    bc_sb_printf(&sb,
                 "[ -r /proc/stat ] || { echo 'E this host has no /proc/stat (not Linux?): "
                 "nothing to sample'; exit 3; }\n"
                 "hz=$(getconf CLK_TCK 2>/dev/null) || hz=100\n"
                 "echo \"H ${hz:-100}\"\n"
                 /* mawk reads a pipe in blocks unless told otherwise */
                 "aw=awk; awk -W interactive 'BEGIN { exit }' </dev/null >/dev/null 2>&1 && "
                 "aw='awk -W interactive'\n"
                 "f='%s'\n",
                 bc_sb_str(&files));
    if (req->metrics & BC_MON_PRESSURE)
        bc_sb_append(&sb, "for p in /proc/pressure/cpu /proc/pressure/memory /proc/pressure/io; "
                          "do [ -r \"$p\" ] && f=\"$f $p\"; done\n");
    /* The ticker: bash waits with its read builtin's timeout on a pipe
     * nobody writes (no process per sample), on a fixed schedule where it
     * has EPOCHREALTIME (bash 5: slow rounds do not shift later ticks);
     * any other sh forks sleep. */
    long long sec = (long long)(req->interval_ms / 1000), ms = (long long)(req->interval_ms % 1000);
    bc_sb_printf(&sb,
                 "posix='read -r me rest </proc/self/stat\n"
                 "while :; do echo \"$me $(date +%%s.%%N)\" || exit 0; sleep %lld.%03lld || exit 0; done'\n"
                 "fast='read -r me rest </proc/self/stat\n"
                 "exec 3<> <(:) || exit 9\n"
                 "iv=%lld; t=${EPOCHREALTIME//[!0-9]/}\n"
                 "while :; do echo \"$me $EPOCHREALTIME\" || exit 0\n"
                 "  w=$iv\n"
                 "  if [ -n \"$t\" ]; then t=$((t + iv)); n=${EPOCHREALTIME//[!0-9]/}; "
                 "w=$((t - n)); [ $w -ge 0 ] || { t=$n; w=0; }; fi\n"
                 "  printf -v s %%d.%%06d $((w / 1000000)) $((w %% 1000000))\n"
                 "  if [ $w -gt 0 ]; then read -t $s -u 3 _; [ $? -gt 128 ] || sleep $s || exit 0; fi\n"
                 "done'\n"
                 "if command -v bash >/dev/null 2>&1 && bash -c 'exec 3<> <(:)' 2>/dev/null; "
                 "then bash -c \"$fast\"; else sh -c \"$posix\"; fi |\n",
                 sec, ms, (long long)req->interval_ms * 1000);
    bc_sb_printf(&sb,
                 "$aw -v files=\"$f\" '\n"
                 "BEGIN { n = split(files, F, \" \") }\n"
                 "function emit(fn, tag,   line, a, k) {\n"
                 "  while ((getline line < fn) > 0) {\n"
                 "    k = split(line, a, \" \")\n"
                 "    if (fn == \"/proc/stat\" && a[1] != \"cpu\") continue\n"
                 "    if (fn == \"/proc/meminfo\" && a[1] != \"MemTotal:\" && a[1] != "
                 "\"MemAvailable:\" && a[1] != \"SwapTotal:\" && a[1] != \"SwapFree:\") continue\n"
                 "    if (fn == \"/proc/net/dev\" && index(line, \":\") == 0) continue\n"
                 "    if (fn == \"/proc/diskstats\" && a[3] ~ /^(loop|ram|zram)/) continue\n"
                 "    if (fn ~ /^\\/proc\\/pressure\\// && a[1] != \"some\") continue\n"
                 "    print tag, line\n"
                 "  }\n"
                 "  close(fn)\n"
                 "}\n"
                 "{ if ($2 != \"\") print \"time\", $2\n"
                 "  for (i = 1; i <= n; i++) emit(F[i], F[i])\n"
                 "  emit(\"/proc/\" $1 \"/stat\", \"tick\")\n"
                 "  emit(\"/proc/self/stat\", \"self\")\n"
                 "  print \".\"; fflush() }'\n");
    bc_sb_free(&files);
    return bc_sb_steal(&sb);
}

static int run_remote(bc_ctx *ctx, const bc_monitor_request *req)
{
    if (!BC_HAS_SERVICE(ctx->svc, host_stream)) {
        bc_error(ctx, "this benchctl cannot stream commands (ABI 1.5 host_stream)");
        return BC_ERR;
    }
    char *script = remote_script(req);
    if (!script) {
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    remote *st = calloc(1, sizeof *st);
    if (!st) {
        free(script);
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    bc_log(ctx, BC_LOG_DEBUG, "the sampler loop on host '%s':\n%s",
           ctx->svc->fact(ctx, "host") ? ctx->svc->fact(ctx, "host") : "?", script);
    st->ctx = ctx;
    st->hz = 100;
    proc_snap_reset(&st->cur);
    int status = -1;
    int rc = ctx->svc->host_stream(ctx, script, on_line, st, &status);
    free(script);
    if (st->error[0]) {
        bc_error(ctx, "%s", st->error);
        rc = BC_ERR;
    } else if (rc == BC_OK) {
        /* It never ends on its own: something killed it, or the host went. */
        bc_error(ctx, "the sampler on the host ended (exit status %d)", status);
        rc = BC_ERR;
    } else if (rc == BC_CANCELLED) {
        rc = BC_OK;
    }
    free(st);
    return rc;
}

static int proc_run(bc_ctx *ctx, const bc_monitor_request *req)
{
    if (req->interval_ms <= 0) {
        bc_error(ctx, "interval must be positive");
        return BC_ERR;
    }
    const char *via = ctx->svc->opt_string(ctx, "via");
    bool here = ctx->svc->host_caps(ctx) & BC_HOST_CAP_CONTROLLER;
    if (via && strcmp(via, "stream") == 0)
        here = false;
    if (here)
        return run_local(ctx, req);
    return run_remote(ctx, req);
}


static const bc_option options[] = {
    {.name = "via", .type = BC_OPT_ENUM, .choices = "auto|stream", .default_value = "auto",
     .help = "auto: read /proc in process on the controller, stream a sh/awk loop elsewhere; "
             "stream: the streamed loop on every host (to measure or test it locally)"},
    {0},
};

static const bc_monitor_ops ops = {.size = sizeof ops, .run = proc_run};

static const bc_plugin descriptor = {
    .abi = BC_PLUGIN_PREFIX,
    .kind = BC_KIND_MONITOR,
    .name = "proc",
    .version = "1.0.0",
    .description = "samples CPU, memory, network, disk, load and pressure from /proc "
                   "(directly here; one streamed sh/awk loop per remote host)",
    .options = options,
    .ops = &ops,
};

BC_PLUGIN_ENTRY(descriptor)
