/*
 * The typed run model: one stage_rec per stage run (stage, case, target),
 * with its status and the files its outputs brought in.  Steps hand results
 * to each other through these structs and never read back each other's
 * JSON.  The JSON record of each (what metadata.json and stages.jsonl
 * hold) is rec->json: its identity and status are written here; the
 * pieces only the store reads (times, exit status, health check, repeat
 * summary, outputs with their validation and statistics) are added by the
 * step that measured them, as it ends.
 */
#ifndef BENCHCTL_RUN_RECORD_H
#define BENCHCTL_RUN_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "config/config.h"
#include "run/layout.h"

typedef enum stage_status {
    STAGE_RUNNING = 0,
    STAGE_SUCCESS,
    STAGE_FAILED,
    STAGE_TIMEOUT,     /* the stage's own timeout, or --timeout */
    STAGE_INTERRUPTED, /* a signal */
    STAGE_SKIPPED,     /* skip:, --skip, execute_only_for */
    STAGE_NOT_RUN      /* an earlier failure or a stop */
} stage_status;

/* "success", "failed", ... as stored in metadata.json. */
const char *stage_status_name(stage_status s);
/* The inverse (for stored runs); false for an unknown name. */
bool stage_status_from_name(const char *name, stage_status *out);

typedef enum { FILE_NOT_VALIDATED = -1, FILE_INVALID = 0, FILE_VALID = 1 } file_validity;

/* One collected file. */
typedef struct out_file {
    char *path;             /* relative to the run directory */
    file_validity validity;
} out_file;

/* One outputs[] entry of one stage run. */
typedef struct out_rec {
    char *output;           /* the configured outputs[].name (what plots name) */
    char *name;             /* expanded */
    out_file *files;
    size_t nfiles;
} out_rec;

typedef struct stage_rec {
    const cfg_stage *st;    /* NULL for a stored record the config lacks */
    const cfg_case *cs;     /* NULL without cases */
    const char *stage_name; /* st's name (or the stored one) */
    const char *case_name;  /* cs's name (or the stored one); NULL without cases */
    bool is_cleanup;        /* a cleanup step's record */
    target where;
    stage_status status;
    bool has_error;         /* an error was recorded */
    out_rec *outputs;
    size_t noutputs;
    cJSON *json;            /* its serialisation (owned by the array it is in) */
    char *owned[3];         /* stored records: their own strings */
} stage_rec;

/* A new record (status RUNNING) whose JSON is appended to stages_json. */
stage_rec *record_new(const cfg_stage *st, const char *host, const cfg_case *cs,
                      cJSON *stages_json);
/* Set the status (typed and in the JSON); reason may be NULL. */
void record_set_status(stage_rec *rec, stage_status s, const char *reason);
/* Record the error that failed the stage (the first one wins). */
void record_set_error(stage_rec *rec, const char *error);
/* Add an output entry (returns it; name is copied). */
out_rec *record_add_output(stage_rec *rec, const char *output, const char *name);
/* Add a collected file to an output entry (path copied). */
out_file *record_add_file(out_rec *o, const char *path);
void record_free(stage_rec *rec);

/* Records of a stored run (metadata.json's "stages"), typed again for
 * `benchctl plot`: the one place a stored record is read.  Records of
 * stages the config has borrow from c; *n receives their count.  Free each
 * with record_free, then the array. */
stage_rec **record_load(const config *c, const cJSON *stages, size_t *n);

#endif
