/*
 * The core side of the plugin services table: the context (core_ctx) that
 * wraps every plugin call, and the functions behind bc_services.
 */
#ifndef BENCHCTL_SERVICES_CORE_H
#define BENCHCTL_SERVICES_CORE_H

#include <benchctl/plugin.h>

#include "plugin/loader.h"
#include "config/optschema.h"

struct run;
struct hostconn;
struct core_ctx;

typedef void (*output_sink)(struct core_ctx *ctx, int stream, const void *data, size_t len);

typedef struct core_ctx {
    bc_ctx pub;               /* first: what the plugin sees */
    const plugin *plugin;     /* whose call this is (for log prefixes) */
    optview *opts;            /* the plugin's options here, may be NULL */
    struct run *run;          /* NULL outside `benchctl run` */
    struct hostconn *host;    /* the host of the current stage, or NULL */
    const char *stage, *case_name;
    int64_t deadline_ns;      /* mono_ns() limit for host_exec, 0 = none */
    output_sink sink;         /* where svc->output goes; NULL drops it */
    void *sink_data;
    /* Where collectors and validators report (NULL: logged only). */
    void (*on_file)(struct core_ctx *ctx, const char *output, const char *path);
    void (*on_data_error)(struct core_ctx *ctx, const char *path, uint64_t line, uint32_t column,
                          const char *value, const char *message);
    void (*on_summary)(struct core_ctx *ctx, const char *column, uint64_t count, double min,
                       double max, double mean);
    void (*on_values)(struct core_ctx *ctx, uint32_t column, const double *v, size_t n);
    void (*on_text)(struct core_ctx *ctx, uint32_t column, const char *text, size_t len);
    /* n problems of path were not reported one by one (ABI 1.2 service, or
     * the "N more errors not shown" line of an older validator). */
    void (*on_suppressed)(struct core_ctx *ctx, const char *path, uint64_t n);
    void *hook_data;
    char error[1024];         /* filled by svc->set_error */
    char factbuf[32];         /* computed facts (time_left_ms, before ABI 1.2) */
} core_ctx;

/* The one services table of this core. */
extern const bc_services core_services;

/* Prepare a context for a call into p.  All pointers are borrowed.  The
 * plugin's init state is handed on as pub.plugin_state; pub.instance stays
 * NULL until ctx_instance or ctx_find_instance. */
void ctx_init(core_ctx *ctx, const plugin *p, optview *opts, struct run *run);

/* The instance of ctx->plugin for one configured section (a cfg_host,
 * cfg_health, cfg_output or cfg_plot, used only as an identity): made with
 * the plugin's create, using ctx (options, host, run), the first time a
 * section is used in this process's run, then reused; set as
 * ctx->pub.instance.  BC_OK also when the plugin has no create.  A failed
 * create fails every use of that section: BC_ERR with the reason in *err
 * (owned by the caller). */
int ctx_instance(core_ctx *ctx, const void *section, char **err);
/* Set ctx->pub.instance to the section's instance if one was made. */
void ctx_find_instance(core_ctx *ctx, const void *section);
/* Call p's destroy for each instance made (newest first) and forget them.
 * Runs from loader_shutdown, after the run, before p's fini. */
void plugin_instances_destroy(plugin *p);

/* Make sure p's init has run (once); returns BC_OK or the plugin's error
 * (message in *err, owned by the caller). */
int plugin_ensure_init(plugin *p, struct run *run, char **err);

#endif
