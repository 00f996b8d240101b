/*
 * Room kept for a run's last writes.  A run directory holds a reserve file
 * (.benchctl-reserve, allocated blocks, not a sparse file) from its start;
 * it is released just before the final metadata.json and results.json are
 * written, so a file system filled by the run's logs, samples or outputs
 * still takes the metadata that says why the run failed.
 */
#ifndef BENCHCTL_STORE_RESERVE_H
#define BENCHCTL_STORE_RESERVE_H

#include <stdbool.h>
#include <stddef.h>

#define RESERVE_FILE ".benchctl-reserve"
#define RESERVE_MIN ((size_t)256 << 10) /* bytes, at least */

/* Make run_dir's reserve at least bytes long (allocated, not sparse).
 * false with errno when the file system has no room for it. */
bool reserve_ensure(const char *run_dir, size_t bytes);
/* Give the reserve's space back (before the final writes); harmless when
 * there is none. */
void reserve_release(const char *run_dir);

#endif
