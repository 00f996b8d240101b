/*
 * The typed run model: one stage_rec per stage run (stage, case, target),
 * with everything the steps of that run found: times, the command's result,
 * the health check, the outputs with their files and validation reports.
 * Steps hand results to each other through these structs and never read
 * back each other's JSON.
 *
 * JSON is made in one place: record_json() serialises a record for the
 * store (metadata.json's "stages", stages.jsonl); run_stage_done() calls it
 * when the stage run ends.  Two parts arrive as finished documents of the
 * analysis layer, which computes them for the store and nobody reads back:
 * a repeated stage's summary (repeat_finish) and an output's statistics
 * (outstats_finish).
 */
#ifndef BENCHCTL_RUN_RECORD_H
#define BENCHCTL_RUN_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* One problem a validator found in a file. */
typedef struct data_error {
    uint64_t line;
    uint32_t column;
    char *value;            /* may be NULL */
    char *message;
} data_error;

/* A validator's summary of one column of a file. */
typedef struct col_summary {
    char *column;
    uint64_t count;
    bool numeric;           /* min, max and mean are set */
    double min, max, mean;
} col_summary;

/* The validation report of one file. */
typedef struct file_check {
    bool checked;           /* a validator was asked (else no report at all) */
    const char *format;     /* the data_schema's format (borrowed) */
    bool read;              /* the validator ran: the counts below are set */
    bool interrupted;       /* not read to the end: neither valid nor invalid */
    uint64_t error_count;
    uint64_t rows;          /* data rows (the most values a declared column had) */
    double elapsed_ms;
    data_error *errors;     /* the first MAX_RECORDED_ERRORS */
    size_t nerrors;
    col_summary *summary;
    size_t nsummary;
    char *error;            /* why it is invalid, or NULL */
} file_check;

/* One collected file. */
typedef struct out_file {
    char *path;             /* relative to the run directory */
    int rep;                /* 0; n: collected after repetition n */
    bool truncated;         /* cut at the output's max_size */
    file_validity validity;
    file_check check;
} out_file;

/* The statistics of one repetition's files of an output. */
typedef struct rep_stats {
    int rep;
    cJSON *statistics;      /* the analysis layer's document */
} rep_stats;

/* One outputs[] entry of one stage run. */
typedef struct out_rec {
    char *output;           /* the configured outputs[].name (what plots name) */
    char *name;             /* expanded */
    char *remote_path;      /* expanded (NULL: not expanded, see error) */
    char *error;            /* why collecting it failed, or NULL */
    out_file *files;        /* of every repetition, for a repeated stage */
    size_t nfiles;
    cJSON *statistics;      /* the analysis layer's document (a repeated
                             * stage: pooled over its repetitions), or NULL */
    rep_stats *reps;        /* a repeated stage: each repetition's statistics */
    size_t nreps;
} out_rec;

/* The health check of a stage run. */
typedef struct health_rec {
    bool present;           /* the stage has one and it was started */
    const char *type, *target; /* borrowed from config */
    char *where;            /* the host that probed */
    bool ready;
    bool attempted;         /* attempts and elapsed_ms are set */
    long attempts;
    double elapsed_ms;
    char *last_error;       /* NULL when ready */
} health_rec;

/* The result of the stage's command (of all its runs, for a repeat). */
typedef struct exec_rec {
    bool present;
    int exit_status;
    int term_signal;
    int64_t user_us, sys_us; /* -1: unknown */
    int64_t max_rss_kb;      /* -1: unknown */
} exec_rec;

typedef struct stage_rec {
    const cfg_stage *st;    /* NULL for a stored record the config lacks */
    const cfg_case *cs;     /* NULL without cases */
    const char *stage_name; /* st's name (or the stored one) */
    const char *case_name;  /* cs's name (or the stored one); NULL without cases */
    bool is_cleanup;        /* a cleanup step's record */
    target where;
    stage_status status;
    bool has_error;         /* an error was recorded */
    char *error;            /* the error that failed it (the first), or NULL */
    char *reason;           /* why it was skipped or not run, or NULL */
    bool parallel, background;
    int64_t start_ns, end_ns; /* wall clock; 0: not yet */
    double duration_s;      /* set with end_ns */
    exec_rec result;
    health_rec health;
    cJSON *repeat;          /* a repeated stage's summary (analysis), or NULL */
    cJSON *profile;         /* `profile:`: files, samples, top functions (profile.c), or NULL */
    out_rec *outputs;
    size_t noutputs;
    bool collected;         /* outputs were collected (the list may be empty) */
    const char *stopped_by; /* a background stage: "SIGTERM" | "SIGKILL" | NULL */
    bool ended;             /* output_bytes and log are set */
    int64_t output_bytes;
    int64_t log_dropped;    /* bytes of output past max_stage_log, not in the log */
    char *log;              /* relative to the run directory; NULL: no log */
    int nodes;              /* fan-out: the stage's node count (0: not fanned out) */
    char *workdir;          /* a node: its working directory on its host (owned) */
    double released_at;     /* a node: barrier release, controller clock (unix s); 0: none */
    double clock_offset_ms; /* a node: its host's clock minus the controller's */
    bool collated;          /* the record of a fanned-out stage's merged outputs */
    cJSON *fanout;          /* a collated record: nodes, barrier (owned) */
    cJSON *thresholds;      /* threshold verdicts of its outputs (owned), or NULL */
    const char *termination; /* how the command ended (BenchExec's words: success,
                             * failed, signal, killed, memory, walltime, cputime,
                             * pids), or NULL: it never ran */
    cJSON *isolation;       /* limits: enforced and measured (run/isolate.c, owned) */
    cJSON *cleanup;         /* the stage's cleanup: command's result (owned) */
    cJSON *accounting;      /* what the host's transport accounted (ABI 1.6; owned), or NULL */
    cJSON *json;            /* its serialisation in the stages array (owned by it) */
    char *owned[3];         /* stored records: their own strings */
} stage_rec;

/* A new record (status RUNNING); its first JSON form (identity and
 * status) is appended to stages_json. */
stage_rec *record_new(const cfg_stage *st, const char *host, const cfg_case *cs,
                      cJSON *stages_json);
/* Set the status; reason (may be NULL) is copied. */
void record_set_status(stage_rec *rec, stage_status s, const char *reason);
/* Keep a transport's accounting (svc->host_accounting's JSON text; "" is
 * nothing) as the record's "accounting" object; text that is not a JSON
 * object is dropped with a warning naming the stage. */
void record_set_accounting(stage_rec *rec, const char *json_text);
/* Record the error that failed the stage (the first one wins). */
void record_set_error(stage_rec *rec, const char *error);
/* Add an output entry (returns it; name is copied). */
out_rec *record_add_output(stage_rec *rec, const char *output, const char *name);
/* The entry of configured output `output`, or NULL. */
out_rec *record_find_output(stage_rec *rec, const char *output);
/* Add a collected file to an output entry (path copied). */
out_file *record_add_file(out_rec *o, const char *path);
/* Record the command's result. */
void record_set_result(stage_rec *rec, const exec_rec *res);
/* Mark the end: wall time now, duration since the monotonic m0_ns. */
void record_set_end(stage_rec *rec, int64_t m0_ns);
/* The stage's own output: bytes seen, its log (NULL: none; copied). */
void record_set_output(stage_rec *rec, int64_t bytes, const char *log_rel);
/* Add a problem to a file's report (copied; the count is the caller's). */
void record_add_data_error(file_check *fc, uint64_t line, uint32_t column, const char *value,
                           const char *message);
/* Set a column's summary in a file's report (replacing an earlier one). */
void record_set_summary(file_check *fc, const char *column, uint64_t count, bool numeric,
                        double min, double max, double mean);

/* A file's validation report as the store keeps it (a new object: format,
 * valid, error_count, rows, elapsed_ms, errors, summary, error). */
cJSON *record_check_json(const file_check *fc, file_validity validity);
/* Free what a file's report owns (not fc itself). */
void record_check_free(file_check *fc);
/* The record as the store keeps it (a new object). */
cJSON *record_json(const stage_rec *rec);
/* Serialise rec again in place of its JSON in stages_json (which holds it). */
void record_refresh(stage_rec *rec, cJSON *stages_json);
void record_free(stage_rec *rec);

/* Records of a stored run (metadata.json's "stages"), typed again for
 * `benchctl plot`: the one place a stored record is read.  Records of
 * stages the config has borrow from c; *n receives their count.  Free each
 * with record_free, then the array. */
stage_rec **record_load(const config *c, const cJSON *stages, size_t *n);

#endif
