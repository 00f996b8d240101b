/*
 * The plugin descriptor and entry point.  Include this one header to write
 * a benchctl plugin of any kind.
 *
 *     static const bc_probe_ops ops = { .size = sizeof ops, .check = my_check };
 *     static const bc_plugin desc = {
 *         .abi = BC_PLUGIN_PREFIX, .kind = BC_KIND_PROBE,
 *         .name = "myprobe", .version = "1.0.0", .ops = &ops };
 *     BC_PLUGIN_ENTRY(desc)
 *
 * The file must be installed as <kind>-<name>.so (e.g. probe-myprobe.so) in
 * a plugin directory; see docs/ABI.md.
 */
#ifndef BENCHCTL_PLUGIN_H
#define BENCHCTL_PLUGIN_H

#include "abi.h"
#include "collector.h"
#include "host.h"
#include "monitor.h"
#include "options.h"
#include "plot.h"
#include "probe.h"
#include "profiler.h"
#include "publisher.h"
#include "services.h"
#include "validator.h"

typedef struct bc_plugin {
    bc_abi_prefix abi;         /* frozen: use BC_PLUGIN_PREFIX */
    uint32_t kind;             /* bc_kind */
    uint32_t flags;            /* zero; reserved (a core refuses non-zero) */
    const char *name;          /* [a-z0-9_]+, unique within the kind */
    const char *version;       /* the plugin's own version */
    const char *description;   /* one line */
    const bc_option *options;  /* option schema, NULL or {NULL}-terminated */
    /* Optional: called once after loading, before any operation. */
    int (*init)(bc_ctx *ctx, void **state);
    /* Optional: called once before unloading. */
    void (*fini)(void *state);
    const void *ops;           /* bc_<kind>_ops; starts with its own size */
    /* Later minors append members here, never elsewhere. */
#if BC_TARGET_MINOR >= 2
    /* ---- since ABI 1.2 ---- */
    /* Optional: make the state of one configured instance (a hosts.<alias>,
     * health_check, outputs[] or plots[] section) once per run, before its
     * first use; *instance then reaches every operation on that section as
     * ctx->instance.  Options and facts of the section are readable here.
     * Return BC_ERR (with set_error) to fail every use of the section. */
    int (*create)(bc_ctx *ctx, void **instance);
    /* Optional: free an instance after its last use in the run.  ctx gives
     * plugin_state and instance; options and run facts are gone by now. */
    void (*destroy)(bc_ctx *ctx, void *instance);
#endif
} bc_plugin;

/* The prefix for the minor the plugin is built for (BC_TARGET_MINOR); the
 * size is that of bc_plugin as that minor defines it. */
#define BC_PLUGIN_PREFIX \
    { BC_ABI_MAGIC, BC_ABI_MAJOR, BC_TARGET_MINOR, (uint32_t)sizeof(bc_plugin), 0 }

typedef const bc_plugin *(*bc_plugin_entry_fn)(void);

/* Defines the exported entry symbol returning the descriptor. */
#define BC_PLUGIN_ENTRY(desc)                          \
    BC_EXPORT const bc_plugin *bc_plugin_entry(void);  \
    BC_EXPORT const bc_plugin *bc_plugin_entry(void) { return &(desc); }

/* Convenience wrappers over the services table. */
#define bc_log(ctx, level, ...) ((ctx)->svc->log((ctx), (level), __VA_ARGS__))
#define bc_error(ctx, ...) ((ctx)->svc->set_error((ctx), __VA_ARGS__))

#endif /* BENCHCTL_PLUGIN_H */
