/*
 * The run store: output_dir/<id>/ directories with sequential integer IDs
 * that are never reused and never collide, and their metadata.json.
 *
 * IDs come from output_dir/.benchctl-last-id under an flock(2) on
 * output_dir/.benchctl.lock, so concurrent `benchctl run`s get distinct IDs
 * and deleting a run directory does not free its number.
 */
#ifndef BENCHCTL_RUNSTORE_H
#define BENCHCTL_RUNSTORE_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "util.h"

/* Create output_dir (if needed) and a new run directory in it.  On success
 * *id and *dir are set (owned); on failure *err explains (owned). */
bool runstore_create(const char *output_dir, char **id, char **dir, char **err);
/* Read output_dir/<id>/metadata.json; NULL with *err on failure. */
cJSON *runstore_read(const char *output_dir, const char *id, char **err);
/* Write dir/metadata.json atomically. */
bool runstore_write(const char *dir, const cJSON *meta, bool durable);
/* The numeric run IDs in output_dir, ascending. */
void runstore_list(const char *output_dir, strvec *ids);
/* Run f with output_dir's lock held (for read-modify-write of metadata). */
bool runstore_lock(const char *output_dir, int *fd);
void runstore_unlock(int fd);

#endif
