/*
 * Host clocks: each host's clock offset against the controller's,
 * measured when its connection opens (hosts.c takes what the transport
 * measured then) or, failing that, by timed helper commands when first
 * needed; measured again once at the end of the run by the same method,
 * so that metadata.json records how far the clock drifted over the run
 * (hosts.<alias>.clock).  Times already written (monitor samples, release
 * times) keep the offset measured at the start; a drift larger than the
 * two measurements' uncertainty is a warning.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "run/run.h"

static double round3(double v) { return round(v * 1e3) / 1e3; }

/* The facts object of h in metadata.json's hosts (or NULL); run lock held. */
static cJSON *host_json(hostconn *h)
{
    return cJSON_GetObjectItem(cJSON_GetObjectItem(h->run->meta, "hosts"), h->cfg->alias);
}

/* The end measurement's keys of a clock object; clock lock held. */
static void add_end(const hostconn *h, cJSON *c)
{
    if (!h->clock_end_known)
        return;
    cJSON_AddNumberToObject(c, "end_offset_ms", round3(h->clock_end_offset_ms));
    cJSON_AddNumberToObject(c, "end_uncertainty_ms", round3(h->clock_end_unc_ms));
    double drift = h->clock_end_offset_ms - h->clock_offset_ms;
    double over_s = (double)(h->clock_end_at_ns - h->clock_at_ns) / 1e9;
    cJSON_AddNumberToObject(c, "drift_ms", round3(drift));
    cJSON_AddNumberToObject(c, "drift_interval_s", round3(over_s));
    if (over_s > 0)
        cJSON_AddNumberToObject(c, "drift_ppm", round3(drift / (over_s * 1e3) * 1e6));
    else
        cJSON_AddNullToObject(c, "drift_ppm");
    if (isfinite(h->clock_end_cost_ms))
        cJSON_AddNumberToObject(c, "end_cost_ms", round3(h->clock_end_cost_ms));
}

void hostconn_clock_record(hostconn *h)
{
    pthread_mutex_lock(&h->clock_lock);
    bool known = h->clock_known;
    cJSON *c = known ? cJSON_CreateObject() : NULL;
    if (c && strcmp(h->clock_method, "unknown") == 0) {
        cJSON_AddNullToObject(c, "offset_ms");
        cJSON_AddNullToObject(c, "uncertainty_ms");
    } else if (c) {
        cJSON_AddNumberToObject(c, "offset_ms", round3(h->clock_offset_ms));
        cJSON_AddNumberToObject(c, "uncertainty_ms", round3(h->clock_unc_ms));
    }
    if (c) {
        cJSON_AddStringToObject(c, "method", h->clock_method);
        add_end(h, c);
    }
    pthread_mutex_unlock(&h->clock_lock);
    if (!c)
        return;
    pthread_mutex_lock(&h->run->lock);
    cJSON *hj = host_json(h);
    if (hj) {
        cJSON_DeleteItemFromObjectCaseSensitive(hj, "clock");
        cJSON_AddItemToObject(hj, "clock", c);
        c = NULL;
    }
    pthread_mutex_unlock(&h->run->lock);
    cJSON_Delete(c);
}

/* Three helper commands that print the host's time; the one with the
 * shortest round trip wins: *off = host - (t0 + t1) / 2, *unc = rtt / 2,
 * *at = its midpoint (wall ns).  false when none could be read. */
static bool clock_by_commands(hostconn *h, double *off, double *unc, int64_t *at)
{
    double best_rtt = INFINITY;
    for (int i = 0; i < 3; i++) {
        core_ctx ctx;
        hostconn_ctx(h, &ctx);
        char out[128];
        int status = -1;
        int64_t t0 = wall_ns();
        int rc = hostconn_exec_capture(h, &ctx, "printf '%s\\n' \"${EPOCHREALTIME:-$(date "
                                       "+%s.%N)}\"", HELPER_LIMIT_MS, &status, out, sizeof out);
        int64_t t1 = wall_ns();
        out[strcspn(out, "\r\n")] = '\0';
        for (char *p = out; *p; p++)
            if (*p == ',')
                *p = '.';
        double remote;
        if (rc != BC_OK || status != 0 || !parse_double(out, &remote))
            break;
        double rtt = (double)(t1 - t0) / 1e6;
        if (rtt > h->exec_rtt_ms)
            h->exec_rtt_ms = rtt;
        if (rtt < best_rtt) {
            best_rtt = rtt;
            *off = remote * 1e3 - ((double)t0 + (double)(t1 - t0) / 2) / 1e6;
            *at = t0 + (t1 - t0) / 2;
        }
    }
    *unc = best_rtt / 2;
    return isfinite(best_rtt);
}

double hostconn_clock(hostconn *h)
{
    if (!hostconn_open(h))
        return 0;
    pthread_mutex_lock(&h->clock_lock);
    bool measure = !h->clock_known;
    if (measure) {
        h->clock_known = true;
        if (clock_by_commands(h, &h->clock_offset_ms, &h->clock_unc_ms, &h->clock_at_ns)) {
            h->clock_method = "commands";
        } else {
            h->clock_method = "unknown";
            h->clock_offset_ms = h->clock_unc_ms = 0;
            log_msg(BC_LOG_WARN, "host '%s': its clock could not be read; its times are taken "
                    "as the controller's (offset unknown)", h->cfg->alias);
        }
    }
    double off = h->clock_offset_ms;
    pthread_mutex_unlock(&h->clock_lock);
    if (measure)
        hostconn_clock_record(h);
    return off;
}

double hostconn_to_controller(hostconn *h, double t)
{
    return t - hostconn_clock(h) / 1e3;
}

bool hostconn_clock_end_begin(hostconn *h)
{
    if (!h->opened)
        return false;
    pthread_mutex_lock(&h->clock_lock);
    const char *method = h->clock_known ? h->clock_method : "";
    pthread_mutex_unlock(&h->clock_lock);
    if (strcmp(method, "transport") == 0) {
        h->clock_end_wanted = true; /* the transport measures it as it closes */
        return false;
    }
    if (strcmp(method, "commands") != 0)
        return false; /* the controller, an unknown clock, or never needed */
    double off, unc;
    int64_t at, t0 = mono_ns();
    bool ok = clock_by_commands(h, &off, &unc, &at);
    if (ok)
        hostconn_clock_end_set(h, off, unc, at, (double)(mono_ns() - t0) / 1e6);
    return ok;
}

void hostconn_clock_end_set(hostconn *h, double off_ms, double unc_ms, int64_t at_ns,
                            double cost_ms)
{
    pthread_mutex_lock(&h->clock_lock);
    h->clock_end_known = true;
    h->clock_end_offset_ms = off_ms;
    h->clock_end_unc_ms = unc_ms;
    h->clock_end_at_ns = at_ns;
    h->clock_end_cost_ms = cost_ms;
    double drift = off_ms - h->clock_offset_ms, bound = unc_ms + h->clock_unc_ms;
    double start = h->clock_offset_ms, start_unc = h->clock_unc_ms;
    double over_s = (double)(at_ns - h->clock_at_ns) / 1e9;
    pthread_mutex_unlock(&h->clock_lock);
    if (fabs(drift) > bound)
        log_msg(BC_LOG_WARN, "host '%s': its clock drifted %+.3f ms against the controller's "
                "over %.1f s of the run (offset %.3f +/- %.3f ms at connect, %.3f +/- %.3f ms at "
                "the end): its times (monitor samples, fan-out release times) were placed with "
                "the offset at connect, so late ones may be off by up to that much",
                h->cfg->alias, drift, over_s, start, start_unc, off_ms, unc_ms);
    hostconn_clock_record(h);
}
