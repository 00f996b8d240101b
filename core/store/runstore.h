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

#include "util/util.h"

/* A run directory being made: output_dir/RUNSTORE_NEW_PREFIX<id>.XXXXXX
 * until its first metadata.json is on disk, then renamed to output_dir/<id>
 * (so a run directory never lacks its metadata, even after kill -9). */
#define RUNSTORE_NEW_PREFIX ".benchctl-new."

/* Create output_dir (if needed), take the next run ID and make the new
 * run's directory under its temporary name (RUNSTORE_NEW_PREFIX), with
 * its owner lock held (*owner_fd, as runstore_own_run; -1 where the file
 * system has no locks).  IDs are taken under the store's lock and never
 * reused: the temporary name carries the ID.  On success *id and *dir
 * (the temporary path) are set (owned); on failure *err explains (owned). */
bool runstore_create(const char *output_dir, char **id, char **dir, int *owner_fd, char **err);
/* Move the new run directory *dir (from runstore_create, its metadata.json
 * written) to output_dir/<id>, never onto an existing one, and sync
 * output_dir.  On success *dir is replaced by the final path (owned);
 * false with *err (owned) otherwise (*dir unchanged). */
bool runstore_publish(const char *output_dir, const char *id, char **dir, char **err);
/* Remove a run directory that never started (a temporary one) and all it
 * holds; owner_fd (its owner lock, or -1) is released first.  false with
 * errno when something could not be removed. */
bool runstore_discard(const char *dir, int owner_fd);
/* Is name a temporary run directory's name (RUNSTORE_NEW_PREFIX<id>.*)? */
bool runstore_is_new_dir(const char *name);
/* The names of the temporary run directories in output_dir whose creator
 * is gone (their owner lock not held: killed before the run started; with
 * no lock file at all, only once older than 10 minutes, as on a file
 * system without flock a live run has none), appended to dirs; looked at
 * under the store's lock. */
void runstore_stale_new(const char *output_dir, strvec *dirs);
/* Read output_dir/<id>/metadata.json; NULL with *err on failure. */
cJSON *runstore_read(const char *output_dir, const char *id, char **err);
/* Write a JSON document (pretty, newline-terminated) to path atomically
 * (temporary file + rename; fsync when durable).  Invalid UTF-8 in its
 * strings is replaced first (in json itself: U+FFFD, counted in its
 * "invalid_utf8_replaced" when it is an object, and warned about).  false
 * with errno. */
bool runstore_write_json(const char *path, cJSON *json, bool durable);
/* Write dir/metadata.json atomically (as runstore_write_json). */
bool runstore_write(const char *dir, cJSON *meta, bool durable);
/* The numeric run IDs in output_dir, ascending. */
void runstore_list(const char *output_dir, strvec *ids);
/* Run f with output_dir's lock held (for read-modify-write of metadata). */
bool runstore_lock(const char *output_dir, int *fd);
void runstore_unlock(int fd);

/* How reading a run's results.json went. */
typedef enum runstore_results_status {
    RUNSTORE_RESULTS_OK,      /* *results set */
    RUNSTORE_RESULTS_MISSING, /* the run exists but has no results.json (older benchctl) */
    RUNSTORE_RESULTS_ERROR,   /* no such run, unreadable or corrupt file: *err */
} runstore_results_status;
/* Read output_dir/<id>/results.json.  On OK *results is owned by the
 * caller; on MISSING and ERROR *err explains (owned), naming the path. */
runstore_results_status runstore_read_results(const char *output_dir, const char *id,
                                              cJSON **results, char **err);

/*
 * Tags: names for runs, kept in output_dir/.benchctl-tags.json as
 * {"version": 1, "tags": {"NAME": "ID", ...}}.  A tag names one run; a run
 * may have several tags.  Writers hold runstore_lock.
 */

/* True when name is a valid tag: [A-Za-z0-9][A-Za-z0-9._-]{0,63} and not
 * all digits (so a tag never shadows a run ID).  Otherwise *err explains
 * (owned). */
bool runstore_tag_name_ok(const char *name, char **err);
/* The tags object {"NAME": "ID"} of output_dir (empty when there is no tags
 * file yet); NULL with *err (owned) when the file cannot be read or is
 * corrupt.  The caller owns the result. */
cJSON *runstore_tags_read(const char *output_dir, char **err);
/* Replace the tags file with tags ({"NAME": "ID"}), atomically.  false with
 * *err (owned) on failure.  Call with runstore_lock held. */
bool runstore_tags_write(const char *output_dir, const cJSON *tags, char **err);
/* The tags of a tags object naming run id, sorted, appended to names. */
void runstore_tags_naming(const cJSON *tags, const char *id, strvec *names);
/* The tags naming run id, sorted, appended to names (nothing on error). */
void runstore_tags_of(const char *output_dir, const char *id, strvec *names);
/* Turn what a user typed for a run into a run ID: a run ID stays as it is
 * (whether the run exists is checked when it is read), `latest` becomes
 * the newest stored run's ID and `latest~N` the Nth before it (counting
 * the runs that exist), a tag becomes the ID it names.  The one resolver
 * of every command that takes a run.  true with *id (owned); false with *err (owned) for a string
 * that is neither an ID nor a known tag. */
bool runstore_resolve(const char *output_dir, const char *id_or_tag, char **id, char **err);

/* The run's owner lock (<run dir>/.benchctl.lock), held by the benchctl
 * running it for the run's whole life (close-on-exec: stages never hold
 * it).  Returns the fd, or -1. */
int runstore_own_run(const char *run_dir);
/* Is the run's owner alive?  1: its lock is held; 0: nobody holds it (the
 * owner ended); -1: the run has no owner lock (made before it existed). */
int runstore_run_alive(const char *run_dir);

#endif
