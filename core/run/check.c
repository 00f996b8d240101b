/* `benchctl check`: what makes timings noisy on every host of a config
 * (or on this machine), through each host's transport: the noise script
 * (store/noise.h) run there, its verdicts computed here. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/run.h"
#include "store/noise.h"
#include "util/log.h"

/* One host's entry of the report. */
static cJSON *host_entry(const char *alias, const char *transport, bool controller)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "host", alias);
    cJSON_AddStringToObject(e, "transport", transport);
    cJSON_AddBoolToObject(e, "controller", controller);
    return e;
}

/* The assessment's members into e, and reachable: true. */
static void take_assessment(cJSON *e, cJSON *assessment)
{
    cJSON_AddBoolToObject(e, "reachable", true);
    cJSON *item;
    while ((item = assessment->child)) {
        cJSON_DetachItemViaPointer(assessment, item);
        cJSON_AddItemToObject(e, item->string, item);
    }
    cJSON_Delete(assessment);
}

static cJSON *check_host(hostconn *h)
{
    bool controller = hostconn_caps(h) & BC_HOST_CAP_CONTROLLER;
    cJSON *e = host_entry(h->cfg->alias, h->p->desc.name, controller);
    core_ctx ctx;
    hostconn_ctx(h, &ctx);
    enum { OUT_SIZE = 16384 };
    char *out = xcalloc(1, OUT_SIZE);
    int status = -1;
    int rc = hostconn_exec_capture(h, &ctx, noise_script, 60000, &status, out, OUT_SIZE);
    cJSON *facts = rc == BC_OK ? noise_parse(out) : NULL;
    free(out);
    if (!facts) {
        cJSON_AddBoolToObject(e, "reachable", rc == BC_OK);
        char *msg = rc != BC_OK ? xstrdup(ctx.error)
                                : xasprintf("host '%s': the check script printed nothing (exit "
                                            "status %d): is /bin/sh there a POSIX shell?",
                                            h->cfg->alias, status);
        cJSON_AddStringToObject(e, "error", msg);
        free(msg);
        return e;
    }
    take_assessment(e, noise_assess(facts));
    cJSON_Delete(facts);
    return e;
}

cJSON *engine_check(const char *config_path, const strvec *plugin_paths, int *code)
{
    cJSON *report = cJSON_CreateObject();
    cJSON *hosts = cJSON_CreateArray();
    cJSON_AddItemToObject(report, "hosts", hosts);
    *code = EXIT_OK;
    if (!config_path) {
        cJSON *e = host_entry("local", "local", true);
        take_assessment(e, noise_local());
        cJSON_AddItemToArray(hosts, e);
    } else {
        loader ld;
        config *c = engine_load(config_path, &ld, plugin_paths, false);
        if (!c) {
            loader_shutdown(&ld);
            cJSON_Delete(report);
            *code = EXIT_USAGE;
            return NULL;
        }
        run_options o = {.config_path = c->path};
        run r = {.cfg = c, .ld = &ld, .o = &o, .journal_fd = -1, .owner_fd = -1, .watch_fd = -1,
                 .watch_pid = -1, .lock = PTHREAD_MUTEX_INITIALIZER};
        r.id = xstrdup("check");
        r.bin = xstrdup("benchctl");
        r.meta = cJSON_CreateObject();
        snprintf(r.mark, sizeof r.mark, "check");
        cancel_start(&r.cancel, 0);
        run_open_hosts(&r);
        for (size_t i = 0; i < r.nhosts && !cancel_requested(&r.cancel); i++)
            cJSON_AddItemToArray(hosts, check_host(&r.hosts[i]));
        bool interrupted = cancel_requested(&r.cancel);
        for (size_t i = 0; i < r.nhosts; i++)
            hostconn_close(&r.hosts[i]);
        cancel_stop(&r.cancel);
        cJSON_Delete(r.meta);
        free(r.hosts);
        free(r.id);
        free(r.bin);
        config_free(c);
        loader_shutdown(&ld);
        if (interrupted) {
            cJSON_Delete(report);
            *code = EXIT_INTERRUPTED;
            return NULL;
        }
    }
    int warnings = 0, unreachable = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, hosts)
    {
        if (cJSON_GetObjectItem(e, "error"))
            unreachable++;
        warnings += (int)cJSON_GetNumberValue(cJSON_GetObjectItem(e, "warnings"));
    }
    cJSON_AddStringToObject(report, "verdict", unreachable ? "error" : warnings ? "warn" : "ok");
    cJSON_AddNumberToObject(report, "warnings", warnings);
    cJSON_AddNumberToObject(report, "unreachable", unreachable);
    *code = unreachable ? EXIT_RUN_FAILED : warnings ? EXIT_CHECK_WARN : EXIT_OK;
    return report;
}
