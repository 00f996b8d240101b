/* benchmark.monitor: which hosts are sampled, how often, which metrics
 * (config.h's cfg_monitor).  The sampler plugin's own keys sit in the same
 * mapping and are checked against its schema by bind.c. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include <benchctl/monitor.h>

#include "config/config.h"
#include "config/parse.h"

#define MONITOR_DEFAULT_INTERVAL_MS 1000

static const struct {
    const char *name;
    uint32_t bit;
} metric_names[] = {{"cpu", BC_MON_CPU},   {"memory", BC_MON_MEMORY}, {"network", BC_MON_NETWORK},
                    {"disk", BC_MON_DISK}, {"load", BC_MON_LOAD},     {"pressure", BC_MON_PRESSURE}};

#define ALL_METRICS \
    (BC_MON_CPU | BC_MON_MEMORY | BC_MON_NETWORK | BC_MON_DISK | BC_MON_LOAD | BC_MON_PRESSURE)

static const char *const plot_formats[] = {"png", "svg", "pdf", "none", NULL};

const cfg_key config_monitor_keys[] = {
    {.name = "enabled", .type = KEY_BOOL, .offset = KEY_AT(cfg_monitor, enabled), .dflt = 1},
    {.name = "interval", .type = KEY_DURATION, .offset = KEY_AT(cfg_monitor, interval_ms),
     .flags = KEY_RANGE, .dflt = MONITOR_DEFAULT_INTERVAL_MS, .lo = 10, .hi = 3600000},
    {.name = "sampler", .type = KEY_STR, .offset = KEY_AT(cfg_monitor, sampler),
     .dflt_str = "proc"},
    {.name = "plot", .type = KEY_ENUM, .offset = KEY_AT(cfg_monitor, plot),
     .choices = plot_formats, .dflt_str = "png"},
    OTHER("hosts"),
    OTHER("metrics"),
    END};

char *config_monitor_metric_names(uint32_t metrics)
{
    strbuf sb = {0};
    for (size_t i = 0; i < ARRAY_LEN(metric_names); i++)
        if (metrics & metric_names[i].bit)
            sb_printf(&sb, "%s%s", sb.len ? "," : "", metric_names[i].name);
    return sb.buf ? sb_steal(&sb) : xstrdup("");
}

/* `metrics:` of `what` into *out (all when absent). */
static void parse_metrics(vctx *v, uint32_t *out, const ynode *mn, const char *what)
{
    *out = ALL_METRICS;
    if (!mn || mn->is_null)
        return;
    const ynode *const *items = mn->type == Y_SEQ ? (const ynode *const *)mn->vals : &mn;
    size_t n = mn->type == Y_SEQ ? mn->n : 1;
    if (mn->type != Y_SEQ && mn->type != Y_SCALAR) {
        ERR(v, mn, "%s.metrics must be a list of metric names "
                   "(cpu, memory, network, disk, load, pressure)", what);
        return;
    }
    *out = 0;
    for (size_t i = 0; i < n; i++) {
        const ynode *it = items[i];
        if (!cfg_expect_type(v, it, Y_SCALAR, "monitor.metrics[]"))
            continue;
        if (strcmp(it->str, "all") == 0) {
            *out = ALL_METRICS;
            continue;
        }
        uint32_t bit = 0;
        for (size_t k = 0; k < ARRAY_LEN(metric_names); k++)
            if (strcmp(metric_names[k].name, it->str) == 0)
                bit = metric_names[k].bit;
        if (!bit)
            ERR(v, it, "%s.metrics: unknown metric '%s'; valid: cpu, memory, "
                       "network, disk, load, pressure, all", what, it->str);
        *out |= bit;
    }
    if (!*out && n == 0)
        ERR(v, mn, "%s.metrics is empty; name at least one metric or leave "
                   "the key out (all of them)", what);
}

void cfg_parse_monitor(vctx *v, const ynode *b)
{
    cfg_monitor *m = &v->c->monitor;
    const ynode *mn = ynode_get(b, "monitor");
    m->interval_ms = MONITOR_DEFAULT_INTERVAL_MS;
    m->sampler = "proc";
    m->plot = "png";
    m->metrics = ALL_METRICS;
    if (!mn || mn->is_null)
        return;
    if (mn->type == Y_SCALAR) {
        /* `monitor: true` is the whole section with its defaults. */
        bool on = false;
        if (!config_parse_bool(mn->str, &on))
            ERR(v, mn, "benchmark.monitor must be a mapping (interval, hosts, metrics) or "
                       "true/false, got '%s'", mn->str);
        m->enabled = on;
        return;
    }
    if (!cfg_expect_type(v, mn, Y_MAP, "benchmark.monitor"))
        return;
    m->node = mn;
    cfg_check_keys(v, mn, NULL, "benchmark.monitor"); /* duplicates; names: bind.c */
    keys_bind(v->d, mn, config_monitor_keys, m, "benchmark.monitor");
    parse_metrics(v, &m->metrics, ynode_get(mn, "metrics"), "benchmark.monitor");
}

/* `hosts:` of `what`: `all` (NULL) or known aliases, without repeats. */
static void parse_hosts_list(vctx *v, const ynode *hn, const char *what, const char ***out,
                             size_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (!hn || hn->is_null || (hn->type == Y_SCALAR && strcmp(hn->str, "all") == 0))
        return;
    const ynode *const *items = hn->type == Y_SEQ ? (const ynode *const *)hn->vals : &hn;
    size_t n = hn->type == Y_SEQ ? hn->n : 1;
    if (hn->type != Y_SEQ && hn->type != Y_SCALAR) {
        ERR(v, hn, "%s.hosts must be 'all' or a list of host aliases", what);
        return;
    }
    const char **hosts = xcalloc(n + 1, sizeof *hosts);
    size_t nh = 0;
    for (size_t i = 0; i < n; i++) {
        const ynode *it = items[i];
        if (!cfg_expect_type(v, it, Y_SCALAR, "monitor.hosts[]"))
            continue;
        if (!config_host(v->c, it->str)) {
            strbuf sb = {0};
            for (size_t k = 0; k < v->c->nhosts; k++)
                sb_printf(&sb, "%s%s", k ? ", " : "", v->c->hosts[k].alias);
            ERR(v, it, "%s.hosts: unknown host '%s'; hosts: %s", what, it->str,
                sb.buf ? sb.buf : "local");
            sb_free(&sb);
            continue;
        }
        bool dup = false;
        for (size_t k = 0; k < nh; k++)
            dup = dup || strcmp(hosts[k], it->str) == 0;
        if (!dup)
            hosts[nh++] = it->str;
    }
    *out = hosts;
    *nout = nh;
}

void cfg_check_monitor_hosts(vctx *v)
{
    cfg_monitor *m = &v->c->monitor;
    parse_hosts_list(v, m->node ? ynode_get(m->node, "hosts") : NULL, "benchmark.monitor",
                     &m->hosts, &m->nhosts);
}

static const cfg_key stage_monitor_keys[] = {OTHER("hosts"), OTHER("metrics"), END};

void cfg_parse_stage_monitor(vctx *v, cfg_stage *st, const ynode *mn)
{
    if (!mn || mn->is_null)
        return;
    char what[300];
    snprintf(what, sizeof what, "stage '%s': monitor", st->name ? st->name : "?");
    if (mn->type == Y_SCALAR) {
        bool on = true;
        if (!config_parse_bool(mn->str, &on))
            ERR(v, mn, "%s must be a mapping (hosts, metrics) or true/false, got '%s'", what,
                mn->str);
        st->monitor_off = !on;
        return;
    }
    if (!cfg_expect_type(v, mn, Y_MAP, what))
        return;
    cfg_check_keys(v, mn, stage_monitor_keys, what);
    parse_hosts_list(v, ynode_get(mn, "hosts"), what, &st->monitor_hosts, &st->nmonitor_hosts);
    if (ynode_get(mn, "metrics"))
        parse_metrics(v, &st->monitor_metrics, ynode_get(mn, "metrics"), what);
}

void config_monitor_enable(config *c)
{
    if (c->monitor.node || c->monitor.enabled)
        return;
    c->monitor.enabled = true;
}
