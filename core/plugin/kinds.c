/* The plugin kinds (kinds.h): one table, a row per kind. */
#define _GNU_SOURCE
#include "plugin/kinds.h"

#include <string.h>

#include "util/util.h"

#define END_OF(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))

static const kind_op host_ops[] = {{"open", offsetof(bc_host_ops, open)},
                                   {"close", offsetof(bc_host_ops, close)},
                                   {"start", offsetof(bc_host_ops, start)},
                                   {"wait", offsetof(bc_host_ops, wait)},
                                   {"stop", offsetof(bc_host_ops, stop)},
                                   {"release", offsetof(bc_host_ops, release)},
                                   {NULL, 0}};
static const kind_op probe_ops[] = {{"check", offsetof(bc_probe_ops, check)}, {NULL, 0}};
static const kind_op collector_ops[] = {{"collect", offsetof(bc_collector_ops, collect)},
                                        {NULL, 0}};
static const kind_op validator_ops[] = {{"validate", offsetof(bc_validator_ops, validate)},
                                        {NULL, 0}};
static const kind_op plot_ops[] = {{"render", offsetof(bc_plot_ops, render)}, {NULL, 0}};
static const kind_op publisher_ops[] = {{"open", offsetof(bc_publisher_ops, open)},
                                        {"send", offsetof(bc_publisher_ops, send)},
                                        {NULL, 0}};
static const kind_op monitor_ops[] = {{"run", offsetof(bc_monitor_ops, run)}, {NULL, 0}};
static const kind_op profiler_ops[] = {{"check", offsetof(bc_profiler_ops, check)},
                                       {"wrap", offsetof(bc_profiler_ops, wrap)},
                                       {"fold", offsetof(bc_profiler_ops, fold)},
                                       {NULL, 0}};

static const plugin_kind kinds[] = {
    {BC_KIND_HOST, "host", host_ops, END_OF(bc_host_ops, release), END_OF(bc_host_ops, put_file),
     END_OF(bc_host_ops, caps), 0},
    {BC_KIND_PROBE, "probe", probe_ops, END_OF(bc_probe_ops, check), sizeof(bc_probe_ops),
     sizeof(bc_probe_ops), 0},
    {BC_KIND_COLLECTOR, "collector", collector_ops, END_OF(bc_collector_ops, collect),
     sizeof(bc_collector_ops), sizeof(bc_collector_ops), 0},
    {BC_KIND_VALIDATOR, "validator", validator_ops, END_OF(bc_validator_ops, validate),
     sizeof(bc_validator_ops), sizeof(bc_validator_ops), 0},
    {BC_KIND_PLOT, "plot", plot_ops, END_OF(bc_plot_ops, render), sizeof(bc_plot_ops),
     sizeof(bc_plot_ops), 0},
    /* since ABI 1.4 */
    {BC_KIND_PUBLISHER, "publisher", publisher_ops, END_OF(bc_publisher_ops, send),
     sizeof(bc_publisher_ops), sizeof(bc_publisher_ops), 4},
    /* since ABI 1.5 */
    {BC_KIND_MONITOR, "monitor", monitor_ops, END_OF(bc_monitor_ops, run),
     sizeof(bc_monitor_ops), sizeof(bc_monitor_ops), 5},
    /* since ABI 1.6 */
    {BC_KIND_PROFILER, "profiler", profiler_ops, END_OF(bc_profiler_ops, fold),
     sizeof(bc_profiler_ops), sizeof(bc_profiler_ops), 6},
};

const plugin_kind *plugin_kind_of(uint32_t kind)
{
    for (size_t i = 0; i < ARRAY_LEN(kinds); i++)
        if (kinds[i].kind == kind)
            return &kinds[i];
    return NULL;
}

char *plugin_kinds_list(void)
{
    strbuf sb = {0};
    for (size_t i = 0; i < ARRAY_LEN(kinds); i++)
        sb_printf(&sb, "%s%s=%u", i ? ", " : "", kinds[i].name, kinds[i].kind);
    return sb_steal(&sb);
}

size_t plugin_kind_ops_size(const plugin_kind *k, uint32_t minor)
{
    return minor >= 2 ? k->size_1_2 : k->size_1_0;
}
