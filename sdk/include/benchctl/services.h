/*
 * The services table: the only way a plugin reaches the core.
 *
 * Every plugin operation receives a bc_ctx whose first member points to the
 * core's services.  Plugins never link against benchctl; they call through
 * this table.  The table only grows at the end; check `size` (or use
 * BC_HAS_SERVICE) before calling a member added after ABI 1.0.
 */
#ifndef BENCHCTL_SERVICES_H
#define BENCHCTL_SERVICES_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"

typedef struct bc_services bc_services;
struct bc_monitor_sample; /* monitor.h */

/* A line of a streamed command's standard output (host_stream, ABI 1.5),
 * without its newline; len bytes, not NUL-terminated.  Return 0 to go on,
 * non-zero to stop the command. */
typedef int (*bc_line_fn)(void *arg, const char *line, size_t len);

/* The context of one plugin call.  The core owns and allocates it; it is
 * only valid for the duration of the call (or, for a host process, until
 * release).  Because plugins never allocate one, it grows at the end like
 * the services table; members after svc exist when svc->abi_minor says so. */
typedef struct bc_ctx {
    const bc_services *svc;
    /* ---- since ABI 1.2 (svc->abi_minor >= 2) ---- */
    void *plugin_state; /* what the plugin's init stored; NULL without init */
    void *instance;     /* what create made for the configured section this
                         * call is about (hosts.<alias>, health_check,
                         * outputs[], plots[]); NULL without create, in init
                         * and fini, and at validation time */
} bc_ctx;

typedef enum bc_log_level {
    BC_LOG_DEBUG = 0,
    BC_LOG_INFO = 1,
    BC_LOG_WARN = 2,
    BC_LOG_ERROR = 3
} bc_log_level;

typedef enum bc_stream { BC_STREAM_STDOUT = 1, BC_STREAM_STDERR = 2 } bc_stream;

struct bc_services {
    uint32_t size;      /* sizeof(bc_services) in the core */
    uint16_t abi_major; /* the core's BC_ABI_MAJOR */
    uint16_t abi_minor; /* the core's BC_ABI_MINOR */

    /* Log a message; the core prefixes it with "[kind:name]" and applies
     * the configured level. */
    void (*log)(bc_ctx *ctx, int level, const char *fmt, ...) BC_PRINTF(3, 4);

    /* Describe why the current operation fails; the plugin then returns
     * BC_ERR.  The buffer is the core's; the last call wins. */
    void (*set_error)(bc_ctx *ctx, const char *fmt, ...) BC_PRINTF(2, 3);

    /* Non-zero once the run is being stopped (Ctrl-C, SIGTERM, --timeout). */
    int (*cancelled)(bc_ctx *ctx);

    /* A file descriptor that becomes readable when the run is cancelled,
     * for plugins that wait in poll().  Never close or read it. */
    int (*cancel_fd)(bc_ctx *ctx);

    /* Typed, read-only view of the plugin's options (validated against the
     * plugin's schema before the call).  Unset options read as their
     * declared default; strings are borrowed and live as long as the run. */
    int (*opt_is_set)(bc_ctx *ctx, const char *name);
    const char *(*opt_string)(bc_ctx *ctx, const char *name);
    int64_t (*opt_int)(bc_ctx *ctx, const char *name);
    double (*opt_float)(bc_ctx *ctx, const char *name);
    int (*opt_bool)(bc_ctx *ctx, const char *name);
    int64_t (*opt_duration_ms)(bc_ctx *ctx, const char *name);
    /* Sets *items to a NULL-terminated borrowed array; returns its length. */
    size_t (*opt_list)(bc_ctx *ctx, const char *name, const char *const **items);

    /* Facts about the run: "run_id", "run_dir", "output_dir", "config_path",
     * "config_dir", "benchmark_name", "bin", "host", "transport" (the name
     * of the host's transport plugin, for messages: branch on host_caps,
     * never on this name), "stage", "case".  A core before ABI 1.2 also
     * answers "time_left_ms" for probes (since 1.2: the time_left_ms
     * service; the fact remains for plugins built for 1.0 and 1.1).
     * Returns NULL for an unknown key or one that does not apply here. */
    const char *(*fact)(bc_ctx *ctx, const char *key);

    /* Host transports hand every chunk of a stage's output here, as it
     * arrives.  The core writes it to the terminal and the stage log. */
    void (*output)(bc_ctx *ctx, int stream, const void *data, size_t len);

    /* For probes and collectors: run a command on the current stage's host
     * through its transport and wait for it.  Output (stdout and stderr)
     * is captured into out (NUL-terminated, truncated to out_size).
     * Returns BC_OK when the command ran (its status is in *exit_status),
     * BC_TIMEOUT, BC_CANCELLED or BC_ERR. */
    int (*host_exec)(bc_ctx *ctx, const char *command, int64_t timeout_ms,
                     int *exit_status, char *out, size_t out_size);

    /* For collectors: copy a file from / to the current host through its
     * transport.  Returns BC_OK, BC_UNSUPPORTED or BC_ERR. */
    int (*host_get_file)(bc_ctx *ctx, const char *remote_path, const char *local_path);
    int (*host_put_file)(bc_ctx *ctx, const char *local_path, const char *remote_path,
                         int mode);

    /* For collectors: record a file placed in the run directory. */
    void (*record_file)(bc_ctx *ctx, const char *output_name, const char *local_path);

    /* For validators: report one problem in a data file (line 1 is the
     * first line of the file, column is 1-based, 0 when the problem is not
     * one column's; value may be NULL), and a per-column summary once the
     * file is read (for string columns only count is meaningful).  A
     * validator that stops reporting after many problems says how many it
     * left out with data_errors_suppressed (ABI 1.2).  In a core before
     * 1.2 it says so with one last data_error call instead: line 0,
     * column 0, value NULL, message "<N> more errors not shown"; cores
     * still count that line from plugins built for 1.0 and 1.1. */
    void (*data_error)(bc_ctx *ctx, const char *path, uint64_t line, uint32_t column,
                       const char *value, const char *message);
    void (*column_summary)(bc_ctx *ctx, const char *column, uint64_t count, double min,
                           double max, double mean);

    /* ---- ABI 1.1 (check with BC_HAS_SERVICE) ---- */

    /* For validators: the valid values of declared column `column` (an
     * index into bc_validate_request.columns), in file order, in batches.
     * Integer and float columns as numbers (a float column's nan/inf too),
     * timestamp columns as seconds since the epoch.  Invalid values are
     * not passed.  The core computes the run's statistics (results.json)
     * from them; a validator that never calls this gives summaries without
     * percentiles. */
    void (*column_values)(bc_ctx *ctx, uint32_t column, const double *values, size_t n);
    /* For validators: one valid value of a string column, as text (len
     * bytes, not necessarily NUL-terminated).  Used for success rates. */
    void (*column_text)(bc_ctx *ctx, uint32_t column, const char *text, size_t len);

    /* ---- ABI 1.2 (check with BC_HAS_SERVICE) ---- */

    /* For validators: n more problems were found in path but not reported
     * one by one (the validator stopped calling data_error); the core adds
     * n to the file's problem count. */
    void (*data_errors_suppressed)(bc_ctx *ctx, const char *path, uint64_t n);
    /* For probes: milliseconds left of the health check's timeout (0 when
     * it has passed), so in-process waits can respect it; -1 when no
     * deadline applies to this call. */
    int64_t (*time_left_ms)(bc_ctx *ctx);
    /* For probes and collectors: the BC_HOST_CAP_* bits (host.h) the
     * current host's transport declares; 0 when there is no host or the
     * transport declares none. */
    uint32_t (*host_caps)(bc_ctx *ctx);

    /* ---- ABI 1.5 (check with BC_HAS_SERVICE) ---- */

    /* For monitors (and probes and collectors): run one long-lived command
     * on the current host through its transport (the run's connection:
     * one exec, no new login) and call on_line for every line of its
     * standard output as it arrives (standard error is logged).  Returns
     * BC_OK when the command ended on its own (*exit_status set; may be
     * NULL), BC_CANCELLED when the call was stopped (the run ends, the
     * monitor is stopped, or on_line returned non-zero) -- the command and
     * everything it started are stopped then -- or BC_ERR (the command
     * could not start, the connection was lost). */
    int (*host_stream)(bc_ctx *ctx, const char *command, bc_line_fn on_line, void *arg,
                       int *exit_status);
    /* For monitors: one sample of the current host, stamped by the core on
     * the controller's clock when it is called.  Members that are NaN were
     * not measured (empty in the CSV). */
    void (*monitor_sample)(bc_ctx *ctx, const struct bc_monitor_sample *sample);

    /* ---- ABI 1.6 (check with BC_HAS_SERVICE) ---- */

    /* For host transports, from wait or stop of a stage's command: what
     * the system that ran it accounted for it, as the text of one JSON
     * object (e.g. a batch scheduler's job and step ids, queue wait,
     * elapsed and CPU time; flat keys, numbers in seconds or KiB).  The
     * core keeps it as the stage record's "accounting" object (the last
     * call for a command wins; text that is not a JSON object is dropped
     * with a warning).  Calls for helper commands are ignored. */
    void (*host_accounting)(bc_ctx *ctx, const char *json_object);
};

/* True when ctx has the members plugin_state and instance (a core of ABI
 * 1.2 or later); needed only by plugins built for an older minor. */
#define BC_CTX_HAS_STATE(ctx) ((ctx)->svc->abi_minor >= 2)

/* True when the core's table has member `m` (for members after ABI 1.0). */
#define BC_HAS_SERVICE(svc, m) \
    ((svc)->size >= offsetof(bc_services, m) + sizeof((svc)->m) && (svc)->m != NULL)

#endif /* BENCHCTL_SERVICES_H */
