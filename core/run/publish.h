/*
 * Publishing stored runs through a publisher plugin (BC_KIND_PUBLISHER,
 * ABI 1.4): one session (open ... close) sends any number of runs.  The
 * run store stays the source of truth: publishing only reads a run, then
 * records what happened in the run's published.json (what was sent: the
 * plugin's record) and in metadata.json's "publish" key (the last
 * attempt: status, error, how to retry).  Used by `benchctl publish` and at
 * the end of `benchctl run` (publish: {to: NAME, on: success}).
 */
#ifndef BENCHCTL_PUBLISH_H
#define BENCHCTL_PUBLISH_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "plugin/loader.h"

typedef enum publish_result {
    PUBLISH_SENT,     /* accepted by the server (or printed, on a dry run) */
    PUBLISH_ALREADY,  /* published before and not forced: nothing sent */
    PUBLISH_FAILED,   /* not (completely) accepted; the error says why */
    PUBLISH_DENIED,   /* the server refused the credentials */
} publish_result;

typedef struct publish_session publish_session;

/* Open a session of publisher p with its options from c's publish:
 * section when that section names p (c may be NULL: defaults and the
 * plugin's own environment variables only).  flags: BC_PUBLISH_DRY_RUN to
 * contact no server.  Returns the session, or NULL with *err (owned) and
 * *result (FAILED or DENIED). */
publish_session *publish_open(const plugin *p, const config *c, uint32_t flags, char **err,
                              publish_result *result);
/* Send run id of output_dir.  flags: BC_PUBLISH_FORCE sends again a run
 * already in published.json (replacing what was sent); BC_PUBLISH_DRY_RUN
 * prints the payload on stdout and records nothing.  Records the outcome
 * (published.json, metadata.json "publish") unless dry.  On FAILED *err
 * explains (owned). */
publish_result publish_send(publish_session *s, const char *output_dir, const char *id,
                            uint32_t flags, char **err);
/* End the session (NULL is fine). */
void publish_close(publish_session *s);
/* True when run id of output_dir has a published.json entry for
 * publisher name. */
bool publish_done(const char *output_dir, const char *id, const char *name);
/* Record a failed attempt (also of open) in the run's metadata.json
 * "publish" key, with the command that retries it. */
void publish_note_failure(const char *output_dir, const char *id, const char *name,
                          const char *error);

/* End of `benchctl run`: publish the run when its config says so
 * (publish.on: success and the run succeeded, or always).  Never changes
 * the run's exit code or data: a failure is a warning on stderr and a
 * note in metadata.json.  run_ok: the run's status is success. */
void publish_at_end(const config *c, const char *output_dir, const char *id, bool run_ok);

#endif
