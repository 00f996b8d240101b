/*
 * Health-check probes (BC_KIND_PROBE): `health_check.type: NAME`.
 *
 * A probe makes ONE readiness attempt per check call.  The core owns the
 * loop: interval between attempts, timeout, retries, cancellation and the
 * reporting.  "Not ready yet" is a result (BC_NOT_READY), not an error.
 */
#ifndef BENCHCTL_PROBE_H
#define BENCHCTL_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "services.h"

typedef struct bc_probe_ops {
    uint32_t size; /* sizeof(bc_probe_ops) as the plugin saw it */

    /* Optional. Check the target's syntax at validation time; on error
     * call set_error and return BC_ERR. */
    int (*check_target)(bc_ctx *ctx, const char *target);

    /* Optional. Prepare state kept across the attempts of one check. */
    int (*begin)(bc_ctx *ctx, const char *target, void **state);

    /* Required. One attempt: BC_OK when ready, BC_NOT_READY with a short
     * reason in detail, BC_ERR when the probe itself cannot work. */
    int (*check)(bc_ctx *ctx, void *state, const char *target, char *detail,
                 size_t detail_size);

    /* Optional. Free what begin allocated. */
    void (*end)(bc_ctx *ctx, void *state);

    /* Optional. The pause between attempts when the config gives no
     * `interval` (0: the core's default, 100 ms).  Cheap probes (a stat, a
     * connect) use a few ms so that readiness is noticed at once. */
    uint32_t default_interval_ms;
} bc_probe_ops;

#endif /* BENCHCTL_PROBE_H */
