/*
 * Cancellation of a run: SIGINT, SIGTERM, SIGHUP and --timeout.  One
 * cancel object per run; the signal handler reaches the current one
 * through a single pointer (a process runs one run at a time).  Every
 * thread reads it without locks; plugins wait on its file descriptor.
 */
#ifndef BENCHCTL_RUN_CANCEL_H
#define BENCHCTL_RUN_CANCEL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct cancel {
    atomic_int signals; /* SIGINT/SIGTERM/SIGHUP received */
    atomic_int timeout; /* --timeout fired */
    atomic_int failed;  /* cancel_fail: the run cannot go on (its storage is full) */
    int pipe[2];        /* readable once cancelled */
} cancel;

/* Start listening: install the handlers and arm --timeout (0: none).
 * c must outlive cancel_stop. */
void cancel_start(cancel *c, int64_t timeout_ms);
/* Disarm the timer and close the pipe; later signals are ignored (the
 * handlers stay until the process exits). */
void cancel_stop(cancel *c);
/* Stop the run because it cannot go on (a write to its directory
 * failed): async-signal-safe, callable from any thread. */
void cancel_fail(cancel *c);
/* Was the stop a cancel_fail (no signal)? */
bool cancel_by_failure(const cancel *c);
/* Non-zero once the run is being stopped. */
int cancel_requested(const cancel *c);
/* Readable when cancelled (never close or read it); -1 when unavailable. */
int cancel_fd(const cancel *c);
/* Was the stop a --timeout alone (no signal, no failure)? */
bool cancel_by_timeout(const cancel *c);
/* Forget what was received so that cleanup can run; a later signal
 * cancels again (a second Ctrl-C skips the remaining cleanup).  Returns
 * the number of signals received before. */
int cancel_rearm(cancel *c);

#endif
