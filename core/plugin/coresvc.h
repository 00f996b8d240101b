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

/*
 * What a plugin call reaches beyond the plugin layer: the run around it
 * (cancellation, facts) and the current stage's host.  The run layer
 * provides it (run/hosts.c); this layer only calls through it, so the
 * dependency points one way.  Every member takes the calling context,
 * whose run and host it acts on.
 */
typedef struct ctx_env {
    int (*cancelled)(struct core_ctx *ctx);
    int (*cancel_fd)(struct core_ctx *ctx);
    const char *(*run_fact)(struct core_ctx *ctx, const char *key);
    const char *(*host_alias)(struct core_ctx *ctx);
    const char *(*host_transport)(struct core_ctx *ctx);
    uint32_t (*host_caps)(struct core_ctx *ctx); /* the transport's BC_HOST_CAP_* */
    int (*host_exec)(struct core_ctx *ctx, const char *command, int64_t timeout_ms,
                     int *exit_status, char *out, size_t out_size);
    int (*host_get_file)(struct core_ctx *ctx, const char *remote, const char *local);
    int (*host_put_file)(struct core_ctx *ctx, const char *local, const char *remote, int mode);
    /* The host_stream service (ABI 1.5); NULL: unsupported here. */
    int (*host_stream)(struct core_ctx *ctx, const char *command, bc_line_fn on_line, void *arg,
                       int *exit_status);
} ctx_env;

typedef struct core_ctx {
    bc_ctx pub;               /* first: what the plugin sees */
    const plugin *plugin;     /* whose call this is (for log prefixes) */
    optview *opts;            /* the plugin's options here, may be NULL */
    const ctx_env *env;       /* the run's side of the services; NULL outside a run */
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
    /* Where monitors' samples go (NULL: dropped). */
    void (*on_sample)(struct core_ctx *ctx, const bc_monitor_sample *s);
    void *hook_data;
    int64_t max_bytes;        /* host_get_file: the copy's limit (fact max_file_bytes); 0: none */
    char error[1024];         /* filled by svc->set_error */
    char factbuf[32];         /* computed facts (time_left_ms, before ABI 1.2) */
    char accounting[2048];    /* svc->host_accounting's last JSON text ("": none) */
} core_ctx;

/* The one services table of this core. */
extern const bc_services core_services;

/* Prepare a context for a call into p.  All pointers are borrowed; env
 * and run may be NULL (outside a run: no cancellation, facts or host).
 * The plugin's init state is handed on as pub.plugin_state; pub.instance
 * stays NULL until ctx_instance or ctx_find_instance. */
void ctx_init(core_ctx *ctx, const plugin *p, optview *opts, const ctx_env *env,
              struct run *run);

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
 * (message in *err, owned by the caller).  env/run as for ctx_init. */
int plugin_ensure_init(plugin *p, const ctx_env *env, struct run *run, char **err);

#endif
