/*
 * Host transport plugins (BC_KIND_HOST): run stage commands on a host and
 * move files to and from it.  Selected per host with `transport: NAME`
 * (default `ssh` when `ip` is set, `local` otherwise).
 *
 * Life cycle: open (once per host per run, on first use) -> any number of
 * start / wait / stop / release, get_file, put_file -> close.  The host's
 * options (hosts.<alias> keys) are readable through ctx in every call.
 */
#ifndef BENCHCTL_HOST_H
#define BENCHCTL_HOST_H

#include <stdint.h>

#include "abi.h"
#include "services.h"

/*
 * Host capabilities (bc_host_ops.caps, svc->host_caps; since ABI 1.2).
 * A transport declares what holds for every host it reaches; 0 promises
 * nothing (what a transport built for 1.0 or 1.1 gets).
 */
/* Paths on the host name the controller's files: a file the host writes
 * is readable at the same path here and the reverse, so nothing needs
 * copying (get_file / put_file are not needed for it). */
#define BC_HOST_CAP_SHARED_FS 0x1u
/* Starting a command costs about a fork: no login, no network round trip. */
#define BC_HOST_CAP_CHEAP_EXEC 0x2u
/* Commands run under a POSIX shell with the usual utilities (sh, test, cat,
 * kill, ps): probes may send short shell scripts through host_exec. */
#define BC_HOST_CAP_POSIX_SHELL 0x4u
/* The host is the controller machine itself: the same processes, network
 * and filesystem, so a probe may look in process (connect, stat, /proc)
 * instead of running a command there. */
#define BC_HOST_CAP_CONTROLLER 0x8u

/* Flags of a bc_exec_request. */
#define BC_EXEC_TTY 0x1u /* give the command a terminal (colours survive) */

typedef struct bc_exec_request {
    uint32_t size;            /* sizeof(bc_exec_request) in the core */
    uint32_t flags;           /* BC_EXEC_* */
    const char *const *shell; /* shell words, e.g. {"bash","-c",NULL} */
    const char *command;      /* the text handed to the shell as one argument */
    const char *const *env;   /* "NAME=value" to add, NULL-terminated */
    const char *workdir;      /* NULL: the transport's default */
    uint16_t tty_rows;        /* BC_EXEC_TTY: window size (0 = unknown) */
    uint16_t tty_cols;
} bc_exec_request;

typedef struct bc_exec_result {
    uint32_t size;        /* sizeof(bc_exec_result) in the core */
    int32_t exit_status;  /* valid when term_signal == 0 */
    int32_t term_signal;  /* signal that ended the process, or 0 */
    int64_t user_us;      /* CPU time (-1 when the transport cannot tell) */
    int64_t sys_us;
    int64_t max_rss_kb;   /* peak resident set size (-1 when unknown) */
} bc_exec_result;

typedef struct bc_host_ops {
    uint32_t size; /* sizeof(bc_host_ops) as the plugin saw it */

    /* Required. Connect / prepare; *conn is the plugin's handle. */
    int (*open)(bc_ctx *ctx, void **conn);
    /* Required. Stop anything still running there and free conn. */
    void (*close)(bc_ctx *ctx, void *conn);

    /* Required. Start req->command; *proc is the plugin's handle.  The ctx
     * stays valid until release: output goes to ctx->svc->output. */
    int (*start)(bc_ctx *ctx, void *conn, const bc_exec_request *req, void **proc);
    /* Required. Stream output until the process ends (BC_OK, *res filled),
     * timeout_ms passes (BC_TIMEOUT; -1 waits forever) or the run is
     * cancelled (BC_CANCELLED).  May be called again after BC_TIMEOUT. */
    int (*wait)(bc_ctx *ctx, void *proc, int64_t timeout_ms, bc_exec_result *res);
    /* Required. Stop the process and everything it started: SIGTERM, up to
     * grace_ms, then SIGKILL. Returns once they are gone. */
    int (*stop)(bc_ctx *ctx, void *proc, int64_t grace_ms);
    /* Required. Free proc (after wait returned BC_OK, or after stop). */
    void (*release)(bc_ctx *ctx, void *proc);

    /* Optional. Copy files between the controller and the host. */
    int (*get_file)(bc_ctx *ctx, void *conn, const char *remote_path, const char *local_path);
    int (*put_file)(bc_ctx *ctx, void *conn, const char *local_path, const char *remote_path,
                    int mode);

#if BC_TARGET_MINOR >= 2
    /* ---- since ABI 1.2 ---- */
    /* What the transport can do: BC_HOST_CAP_* bits.  The core, probes and
     * collectors branch on these (svc->host_caps), never on the name. */
    uint32_t caps;
#endif
} bc_host_ops;

#endif /* BENCHCTL_HOST_H */
