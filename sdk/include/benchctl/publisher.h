/*
 * Publishers (BC_KIND_PUBLISHER, since ABI 1.4): export a stored run to a
 * result server.  Selected by the config's `publish.to: NAME` or by
 * `benchctl publish ID --to NAME`; the plugin's options sit in the
 * config's `publish:` section next to `to` and `on`.
 *
 * The run store stays the source of truth: a publisher only reads the run
 * directory (metadata.json, results.json and what they name) and never
 * changes it.  The core keeps the record of what was published
 * (published.json) from what the plugin writes to req->record_path.
 *
 * Sequence, one session per command: open (log in: options and secrets
 * are readable through ctx->svc->opt_*), then send for each run, then
 * close.  A plugin built for ABI 1.3 or older cannot be a publisher: the
 * kind does not exist before 1.4 and the loader refuses it.
 */
#ifndef BENCHCTL_PUBLISHER_H
#define BENCHCTL_PUBLISHER_H

#include <stdint.h>

#include "abi.h"
#include "services.h"

/* bc_publish_request.flags */
#define BC_PUBLISH_DRY_RUN 0x1u /* build what would be sent, write it to
                                 * out_fd, send nothing (no server needed:
                                 * open was called with the same flag) */
#define BC_PUBLISH_FORCE 0x2u   /* send even if the run was published
                                 * before: replace what the server holds of
                                 * it (never duplicate it) */

typedef struct bc_publish_request {
    uint32_t size;           /* sizeof(bc_publish_request) in the core */
    uint32_t flags;          /* BC_PUBLISH_* */
    const char *run_id;      /* the stored run's ID ("12") */
    const char *run_dir;     /* absolute: metadata.json, results.json, ... */
    const char *previous;    /* the plugin's own record of an earlier send of
                              * this run (the JSON text it wrote then), or NULL */
    const char *record_path; /* write the record of this send here: one JSON
                              * object (server, ids, counts) that the core
                              * keeps in published.json; not written on
                              * dry runs */
    int out_fd;              /* dry run: where the payload JSON goes */
} bc_publish_request;

typedef struct bc_publisher_ops {
    uint32_t size;
    /* Required.  Open a session (log in) with the options and secrets the
     * plugin reads through ctx->svc->opt_*; *session reaches send and
     * close.  flags: BC_PUBLISH_DRY_RUN when nothing will be sent (do not
     * contact the server).  BC_ERR with set_error when the session cannot
     * be opened; BC_DENIED (with set_error) when the server refused the
     * credentials, so the core can tell a wrong password from an outage. */
    int (*open)(bc_ctx *ctx, uint32_t flags, void **session);
    /* Required.  Send one stored run.  BC_OK when everything was accepted
     * (record_path written); BC_ERR with set_error otherwise.  Retrying
     * transient failures is the plugin's job; it honours cancellation. */
    int (*send)(bc_ctx *ctx, void *session, const bc_publish_request *req);
    /* Optional.  End the session and free it. */
    void (*close)(bc_ctx *ctx, void *session);
} bc_publisher_ops;

#endif /* BENCHCTL_PUBLISHER_H */
