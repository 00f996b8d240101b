/*
 * Profilers (BC_KIND_PROFILER, since ABI 1.6): run a stage's measured
 * command under a profiler on its host and turn the raw profile into
 * folded stacks.  Selected with a stage's `profile: {with: NAME, ...}`;
 * the other keys of that mapping are the plugin's options.
 *
 * The core calls, for a stage run on a host (each fan-out node too):
 *   check  once per host and profiler in a run: can this host be profiled?
 *   wrap   once: the command to run instead of the stage's command, for
 *          every run of it (a `repeat:`'s warm-ups too; their profiles are
 *          removed unread); since 1.7 it may also stamp when the command
 *          itself starts and ends (req->span_path), which is then what a
 *          `repeat:` measures;
 *   fold   after each measured run (whatever its status): folded stacks
 *          from the raw profile, both left on the host at the request's
 *          paths.
 * The core fetches both files through the transport, keeps them under
 * profiles/ in the run directory and computes the top functions and the
 * flame graphs itself.  A profiler never fails a stage: when check or wrap
 * says no, the stage runs unprofiled and the run says why once.
 */
#ifndef BENCHCTL_PROFILER_H
#define BENCHCTL_PROFILER_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "services.h"

/* Allocated and filled by the core; grows at the end only. */
typedef struct bc_profile_request {
    uint32_t size;              /* sizeof(bc_profile_request) in the core */
    uint32_t reserved;          /* 0 */
    const char *const *shell;   /* the stage's shell words, NULL-terminated ("sh", "-c") */
    const char *command;        /* the stage's command, as that shell runs it */
    const char *data_path;      /* the raw profile on the host (absolute) */
    const char *folded_path;    /* fold: the folded stacks on the host (absolute) */
#if BC_TARGET_MINOR >= 7
    /* Since 1.7 (read it only when size covers it; NULL: not wanted).
     * wrap: the wrapped command also writes this file on the host
     * (replacing it), so the core times the command alone rather than the
     * profiler's start-up and write-out: lines "NAME NANOSECONDS" (one
     * clock of the host, e.g. date +%s%N), NAME being
     *   shell_start  just before an empty run of req->shell (optional:
     *                start - shell_start is the shell's own start-up,
     *                measured the same way and taken off)
     *   start        the profiler records; req->command starts now
     *   end          req->command has ended (the profiler not yet written)
     * A run whose file lacks start or end is timed whole. */
    const char *span_path;
#endif
} bc_profile_request;

typedef struct bc_profiler_ops {
    uint32_t size;
    /* Required.  Can the current host be profiled with the section's
     * options?  BC_OK, or BC_UNSUPPORTED with set_error saying why and how
     * to allow it (one sentence; the core prints it once per host).
     * BC_ERR: the check itself failed (connection lost). */
    int (*check)(bc_ctx *ctx);
    /* Required.  Write into buf (size bytes, NUL-terminated) one shell
     * command that runs req->shell + req->command under the profiler, with
     * its whole process tree, writing the raw profile to req->data_path
     * (replacing a file there), and exits with the command's exit status.  BC_ERR when it does not
     * fit or the options cannot be honoured (set_error). */
    int (*wrap)(bc_ctx *ctx, const bc_profile_request *req, char *buf, size_t size);
    /* Required.  The wrapped command has ended: write the folded stacks of
     * req->data_path to req->folded_path on the host, one line per stack,
     * "frame;frame;...;leaf COUNT" (root first), using the profiler's own
     * tools.  BC_ERR (set_error) when it cannot; the raw profile is kept. */
    int (*fold)(bc_ctx *ctx, const bc_profile_request *req);
} bc_profiler_ops;

#endif /* BENCHCTL_PROFILER_H */
