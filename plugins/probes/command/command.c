/*
 * Probe "command": the target is a shell command run on the stage's host
 * (through its transport); the service is ready when it exits 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <benchctl/helpers.h>
#include <benchctl/plugin.h>

static int command_check_target(bc_ctx *ctx, const char *target)
{
    for (const char *p = target; *p; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n')
            return BC_OK;
    bc_error(ctx, "the command is empty");
    return BC_ERR;
}

static int command_check(bc_ctx *ctx, void *state, const char *target, char *detail,
                         size_t detail_size)
{
    (void)state;
    int64_t limit = ctx->svc->opt_duration_ms(ctx, "attempt_timeout");
    int status = -1;
    char out[4096];
    int rc = ctx->svc->host_exec(ctx, target, limit, &status, out, sizeof out);
    if (rc == BC_TIMEOUT) {
        /* The core may have shortened the limit to the health check's
         * remaining time, so do not claim a number. */
        snprintf(detail, detail_size, "the command did not finish in time (attempt_timeout %lld ms)",
                 (long long)limit);
        return BC_NOT_READY;
    }
    if (rc != BC_OK)
        return rc; /* cancelled, or the host cannot run commands */
    if (status == 0)
        return BC_OK;
    char line[256];
    bc_last_lines(out, 1, line, sizeof line);
    snprintf(detail, detail_size, "exit status %d%s%s", status, line[0] ? ": " : "", line);
    return BC_NOT_READY;
}

static const bc_option options[] = {
    {.name = "attempt_timeout",
     .type = BC_OPT_DURATION,
     .default_value = "10s",
     .min = 1,
     .max = 86400000,
     .help = "longest time one run of the command may take before it counts as not ready"},
    {0},
};

static const bc_probe_ops ops = {
    .size = sizeof(bc_probe_ops),
    .check_target = command_check_target,
    .check = command_check,
    .default_interval_ms = 100, /* each attempt starts a process */
};

static const bc_plugin descriptor = {
    .abi = BC_PLUGIN_PREFIX,
    .kind = BC_KIND_PROBE,
    .name = "command",
    .version = "1.0.0",
    .description = "ready when a shell command run on the stage's host exits 0",
    .options = options,
    .ops = &ops,
};

BC_PLUGIN_ENTRY(descriptor)
