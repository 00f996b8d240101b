/* Binding a config to its plugins and validating their options. */
#define _GNU_SOURCE
#include "plugin/bind.h"
#include "config/keys.h"

#include <stdlib.h>
#include <string.h>

#include "config/optschema.h"
#include "plugin/coresvc.h"

/* The core's keys of hosts.<alias>: which transport, and the address the
 * Go tool's default transport rule reads (ssh when `ip` is set).  Every
 * other key is the transport's, declared in its option schema. */
static const cfg_key host_core_keys[] = {{.name = "transport"}, {.name = "ip"}, {.name = NULL}};

/* The Go tool's connection keys were valid on every host.  A transport
 * that declares one (ssh) checks it with its own schema; on a transport
 * that does not (local), it is checked as the Go tool's key and ignored. */
static const bc_option go_host_keys[] = {
    {.name = "port", .type = BC_OPT_INT, .min = 1, .max = 65535, .help = "SSH port (Go tool)"},
    {.name = "username", .type = BC_OPT_STRING, .help = "login user (Go tool)"},
    {.name = "password", .type = BC_OPT_STRING, .flags = BC_OPT_SECRET,
     .help = "login password (Go tool)"},
    {.name = "key_file", .type = BC_OPT_STRING, .help = "private key (Go tool)"},
    {.name = "key_password", .type = BC_OPT_STRING, .flags = BC_OPT_SECRET,
     .help = "private key passphrase (Go tool)"},
    {.name = NULL}};

static bool declares(const bc_option *schema, const char *name)
{
    for (const bc_option *o = schema; o && o->name; o++)
        if (strcmp(o->name, name) == 0)
            return true;
    return false;
}

/* Transport p's schema with the Go tool's keys it does not declare added
 * (owned by the caller: free it). */
static bc_option *host_schema(const plugin *p)
{
    size_t n = 0;
    for (const bc_option *o = p->desc.options; o && o->name; o++)
        n++;
    bc_option *s = xcalloc(n + ARRAY_LEN(go_host_keys), sizeof *s);
    for (size_t i = 0; i < n; i++)
        s[i] = p->desc.options[i];
    for (const bc_option *g = go_host_keys; g->name; g++)
        if (!declares(p->desc.options, g->name))
            s[n++] = *g;
    return s; /* the calloc'ed tail is the {NULL} end */
}

/* Plugins that ship with benchctl: naming one that this installation lacks
 * (a minimal package, a partial install) is a missing plugin, not a typo. */
static const struct {
    bc_kind kind;
    const char *name;
} shipped[] = {
    {BC_KIND_HOST, "ssh"},         {BC_KIND_PROBE, "port"},       {BC_KIND_PROBE, "http"},
    {BC_KIND_PROBE, "file"},       {BC_KIND_PROBE, "process"},    {BC_KIND_COLLECTOR, "files"},
    {BC_KIND_VALIDATOR, "csv"},    {BC_KIND_VALIDATOR, "json"},   {BC_KIND_VALIDATOR, "jsonl"},
    {BC_KIND_PLOT, "gnuplot"},     {BC_KIND_PUBLISHER, "conbench"}, {BC_KIND_MONITOR, "proc"},
    {BC_KIND_PROFILER, "perf"},
};

static bool is_shipped(bc_kind k, const char *name)
{
    for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++)
        if (shipped[i].kind == k && strcmp(shipped[i].name, name) == 0)
            return true;
    return false;
}

/* Resolve one plugin; on failure add an error at node n. */
static const plugin *need(loader *l, diag *d, const ynode *n, bc_kind k, const char *name,
                          const char *what)
{
    char *why = NULL;
    const plugin *p = loader_find(l, k, name, &why);
    if (p)
        return p;
    int line = n ? n->line : 0, col = n ? n->col : 0;
    bool absent = strncmp(why, "no ", 3) == 0;
    if (is_shipped(k, name) && absent) {
        diag_error(d, line, col, "%s '%s': %s; it ships with benchctl but is missing from this "
                   "installation: install benchctl's %s plugins or name their directory with "
                   "--plugin-path", what, name, why, loader_kind_name(k));
    } else if (absent) {
        /* A typo or a plugin that is not installed: name the ones that are. */
        loader_scan_all(l);
        strbuf sb = {0};
        for (size_t i = 0; i < l->nplugins; i++)
            if (l->plugins[i]->desc.kind == (uint32_t)k)
                sb_printf(&sb, "%s%s", sb.len ? ", " : "", l->plugins[i]->desc.name);
        diag_error(d, line, col, "%s '%s': %s; installed %s plugins: %s", what, name, why,
                   loader_kind_name(k), sb.len ? sb.buf : "none");
        sb_free(&sb);
    } else {
        diag_error(d, line, col, "%s '%s': %s", what, name, why);
    }
    free(why);
    return NULL;
}

/* Run a probe's optional check_target on a validated target. */
static void probe_target(const plugin *p, optview *v, diag *d, const ynode *at, const char *target)
{
    if (!p->ops.probe.check_target || !target)
        return;
    /* Like every operation, check_target runs after init (its state). */
    char *err = NULL;
    if (plugin_ensure_init((plugin *)p, NULL, NULL, &err) != BC_OK) {
        diag_error(d, at ? at->line : 0, at ? at->col : 0, "health_check.target '%s': %s", target,
                   err);
        free(err);
        return;
    }
    core_ctx ctx;
    ctx_init(&ctx, p, v, NULL, NULL);
    if (p->ops.probe.check_target(&ctx.pub, target) != BC_OK)
        diag_error(d, at ? at->line : 0, at ? at->col : 0, "health_check.target '%s': %s", target,
                   ctx.error[0] ? ctx.error : "invalid target");
}

/* A plot engine built before ABI 1.3 never sees the 1.3 plot keys: it
 * cannot overlay cases (an error) and ignores the others (a warning). */
static void check_plot_minor(diag *d, const cfg_plot *p)
{
    if (!p->plugin || p->plugin->desc.abi.abi_minor >= 3)
        return;
    static const char *const keys[] = {"log_x", "log_y", "xlim", "ylim", "xlabel", "ylabel",
                                       "x_axis"};
    const ynode *n = ynode_get(p->node, "across");
    if (n)
        diag_error(d, n->line, n->col, "plot '%s': engine '%s' is built for plugin ABI 1.%u and "
                   "cannot draw 'across: cases' (ABI 1.3); update the plugin", p->name,
                   p->plugin->desc.name, p->plugin->desc.abi.abi_minor);
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if ((n = ynode_get(p->node, keys[i])))
            diag_warn(d, n->line, n->col, "plot '%s': engine '%s' is built for plugin ABI 1.%u "
                      "and ignores '%s' (ABI 1.3)", p->name, p->plugin->desc.name,
                      p->plugin->desc.abi.abi_minor, keys[i]);
}

void bind_plots(config *c, loader *l, diag *d)
{
    for (size_t i = 0; i < c->nplots; i++) {
        cfg_plot *p = &c->plots[i];
        const char *engine = p->engine ? p->engine : "gnuplot";
        const ynode *en = ynode_get(p->node, "engine");
        if (strcmp(engine, "seaborn") == 0 || strcmp(engine, "gonum") == 0)
            engine = "gnuplot"; /* the Go tool's renderers: drawn by gnuplot */
        p->plugin = need(l, d, en ? en : p->node, BC_KIND_PLOT, engine, "plot engine");
        if (p->plugin) {
            char owner[128];
            snprintf(owner, sizeof owner, "plot engine '%s'", engine);
            opts_validate(c, d, p->plugin->desc.options, p->options, NULL, "plot options", owner);
            check_plot_minor(d, p);
        }
    }
}

/* publish.to and the publisher's options beside `to` and `on`. */
static void bind_publisher(config *c, loader *l, diag *d)
{
    cfg_publish *pub = &c->publish;
    if (!pub->node || !pub->to)
        return;
    pub->plugin = need(l, d, ynode_get(pub->node, "to"), BC_KIND_PUBLISHER, pub->to,
                       "publish.to");
    if (pub->plugin) {
        char owner[128];
        snprintf(owner, sizeof owner, "publisher '%s'", pub->to);
        opts_validate(c, d, pub->plugin->desc.options, pub->node, config_publish_keys, "publish",
                      owner);
    }
}

void bind_monitor(config *c, loader *l, diag *d)
{
    cfg_monitor *m = &c->monitor;
    if (!m->node && !m->enabled)
        return;
    const ynode *sn = m->node ? ynode_get(m->node, "sampler") : NULL;
    m->plugin = need(l, d, sn ? sn : m->node, BC_KIND_MONITOR, m->sampler, "monitor sampler");
    if (m->plugin) {
        char owner[128];
        snprintf(owner, sizeof owner, "monitor '%s'", m->sampler);
        opts_validate(c, d, m->plugin->desc.options, m->node, config_monitor_keys,
                      "benchmark.monitor", owner);
    }
}

bool bind_plugins(config *c, loader *l, diag *d)
{
    size_t before = d->errors;
    bind_publisher(c, l, d);
    for (size_t i = 0; i < c->nhosts; i++) {
        cfg_host *h = &c->hosts[i];
        const ynode *at = ynode_get(h->node, "transport");
        if (!at)
            at = h->node;
        char what[256];
        snprintf(what, sizeof what, "hosts.%s", h->alias);
        h->plugin = need(l, d, at, BC_KIND_HOST, h->transport, "host transport");
        if (h->plugin) {
            char owner[128];
            snprintf(owner, sizeof owner, "transport '%s'", h->transport);
            bc_option *schema = host_schema(h->plugin);
            opts_validate(c, d, schema, h->node, host_core_keys, what, owner);
            free(schema);
        }
    }
    cfg_stage *lists[2] = {c->stages, c->cleanup};
    size_t counts[2] = {c->nstages, c->ncleanup};
    for (int li = 0; li < 2; li++)
        for (size_t i = 0; i < counts[li]; i++) {
            cfg_stage *st = &lists[li][i];
            cfg_health *hc = st->health;
            if (hc && hc->type) {
                hc->plugin = need(l, d, ynode_get(hc->node, "type"), BC_KIND_PROBE, hc->type,
                                  "health_check type");
                if (hc->plugin) {
                    char owner[128];
                    snprintf(owner, sizeof owner, "probe '%s'", hc->type);
                    if (opts_validate(c, d, hc->plugin->desc.options, hc->node,
                                      config_health_keys, "health_check", owner)) {
                        optview v = {hc->plugin->desc.options, hc->node, NULL, 0};
                        probe_target(hc->plugin, &v, d, ynode_get(hc->node, "target"), hc->target);
                        opts_free(&v);
                    }
                }
            }
            if (st->profile) {
                cfg_profile *pr = st->profile;
                const ynode *wn = ynode_get(pr->node, "with");
                pr->plugin = need(l, d, wn ? wn : pr->node, BC_KIND_PROFILER, pr->with,
                                  "profile.with");
                if (pr->plugin) {
                    char owner[128];
                    snprintf(owner, sizeof owner, "profiler '%s'", pr->with);
                    opts_validate(c, d, pr->plugin->desc.options, pr->node, config_profile_keys,
                                  "profile", owner);
                }
            }
            for (size_t j = 0; j < st->noutputs; j++) {
                cfg_output *o = &st->outputs[j];
                const ynode *cn = ynode_get(o->node, "collector");
                o->collector_plugin = need(l, d, cn ? cn : o->node, BC_KIND_COLLECTOR,
                                           o->collector, "outputs collector");
                if (o->collector_plugin) {
                    char owner[128];
                    snprintf(owner, sizeof owner, "collector '%s'", o->collector);
                    opts_validate(c, d, o->collector_plugin->desc.options, o->node,
                                  config_output_keys, "output", owner);
                }
                if (o->schema) {
                    const ynode *fn = ynode_get(o->schema, "format");
                    o->validator_plugin = need(l, d, fn ? fn : o->schema, BC_KIND_VALIDATOR,
                                               o->schema_format, "data_schema format");
                    if (o->validator_plugin) {
                        char owner[128];
                        snprintf(owner, sizeof owner, "validator '%s'", o->schema_format);
                        opts_validate(c, d, o->validator_plugin->desc.options, o->schema,
                                      config_schema_keys, "data_schema", owner);
                    }
                }
            }
        }
    bind_monitor(c, l, d);
    bind_plots(c, l, d);
    return d->errors == before;
}
