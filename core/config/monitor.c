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

static void parse_metrics(vctx *v, cfg_monitor *m, const ynode *mn)
{
    m->metrics = ALL_METRICS;
    if (!mn || mn->is_null)
        return;
    const ynode *const *items = mn->type == Y_SEQ ? (const ynode *const *)mn->vals : &mn;
    size_t n = mn->type == Y_SEQ ? mn->n : 1;
    if (mn->type != Y_SEQ && mn->type != Y_SCALAR) {
        ERR(v, mn, "benchmark.monitor.metrics must be a list of metric names "
                   "(cpu, memory, network, disk, load, pressure)");
        return;
    }
    m->metrics = 0;
    for (size_t i = 0; i < n; i++) {
        const ynode *it = items[i];
        if (!cfg_expect_type(v, it, Y_SCALAR, "benchmark.monitor.metrics[]"))
            continue;
        if (strcmp(it->str, "all") == 0) {
            m->metrics = ALL_METRICS;
            continue;
        }
        uint32_t bit = 0;
        for (size_t k = 0; k < ARRAY_LEN(metric_names); k++)
            if (strcmp(metric_names[k].name, it->str) == 0)
                bit = metric_names[k].bit;
        if (!bit)
            ERR(v, it, "benchmark.monitor.metrics: unknown metric '%s'; valid: cpu, memory, "
                       "network, disk, load, pressure, all", it->str);
        m->metrics |= bit;
    }
    if (!m->metrics && n == 0)
        ERR(v, mn, "benchmark.monitor.metrics is empty; name at least one metric or leave "
                   "the key out (all of them)");
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
    parse_metrics(v, m, ynode_get(mn, "metrics"));
}

void cfg_check_monitor_hosts(vctx *v)
{
    cfg_monitor *m = &v->c->monitor;
    const ynode *hn = m->node ? ynode_get(m->node, "hosts") : NULL;
    if (!hn || hn->is_null || (hn->type == Y_SCALAR && strcmp(hn->str, "all") == 0))
        return;
    const ynode *const *items = hn->type == Y_SEQ ? (const ynode *const *)hn->vals : &hn;
    size_t n = hn->type == Y_SEQ ? hn->n : 1;
    if (hn->type != Y_SEQ && hn->type != Y_SCALAR) {
        ERR(v, hn, "benchmark.monitor.hosts must be 'all' or a list of host aliases");
        return;
    }
    m->hosts = xcalloc(n + 1, sizeof *m->hosts);
    for (size_t i = 0; i < n; i++) {
        const ynode *it = items[i];
        if (!cfg_expect_type(v, it, Y_SCALAR, "benchmark.monitor.hosts[]"))
            continue;
        if (!config_host(v->c, it->str)) {
            strbuf sb = {0};
            for (size_t k = 0; k < v->c->nhosts; k++)
                sb_printf(&sb, "%s%s", k ? ", " : "", v->c->hosts[k].alias);
            ERR(v, it, "benchmark.monitor.hosts: unknown host '%s'; hosts: %s", it->str,
                sb.buf ? sb.buf : "local");
            sb_free(&sb);
            continue;
        }
        bool dup = false;
        for (size_t k = 0; k < m->nhosts; k++)
            dup = dup || strcmp(m->hosts[k], it->str) == 0;
        if (!dup)
            m->hosts[m->nhosts++] = it->str;
    }
}

void config_monitor_enable(config *c)
{
    if (c->monitor.node || c->monitor.enabled)
        return;
    c->monitor.enabled = true;
}
