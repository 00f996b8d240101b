/*
 * Failed writes to the run's storage (the run directory): the first one is
 * remembered with its path and errno, and a hook (the run's cancellation)
 * is called once, so that a full disk stops the run with a clear message
 * instead of losing what comes next.  Thread-safe; the hook may be called
 * from any thread.
 */
#ifndef BENCHCTL_UTIL_WFAIL_H
#define BENCHCTL_UTIL_WFAIL_H

#include <stdbool.h>
#include <stddef.h>

/* Call fn(arg) once on the first wfail_note from now on (NULL: no hook);
 * forgets an earlier failure. */
void wfail_watch(void (*fn)(void *arg), void *arg);
/* A write to path failed with err (an errno).  The first one is kept. */
void wfail_note(const char *path, int err);
/* Has a write failed since wfail_watch? */
bool wfail_happened(void);
/* The first failure as a sentence ("cannot write PATH: REASON"), owned by
 * the caller; NULL when none. */
char *wfail_message(void);
/* write(2) all of len bytes to fd (retrying EINTR); false with errno set. */
bool write_full(int fd, const void *data, size_t len);

#endif
