/*
 * The fake host for plugin unit tests: a bc_services table and a context
 * that behave like the core's, without the core.  A test loads the plugin
 * it exercises with bc_fake_load, sets options and facts, calls an
 * operation with &fake.ctx, and asserts on what the fake recorded.
 *
 *     bc_fake f;
 *     const bc_plugin *p = bc_fake_load(argv[1], BC_KIND_PROBE, "command", err, sizeof err);
 *     bc_fake_init(&f, p);
 *     bc_fake_set_option(&f, "attempt_timeout", "2s");
 *     rc = ((const bc_probe_ops *)p->ops)->check(&f.ctx, NULL, "true", detail, sizeof detail);
 *     ... f.error, f.logs, f.data_errors, f.files ...
 *     bc_fake_free(&f);
 *
 * What the services do:
 *   options   set with bc_fake_set_option (text, as in the YAML); an unset
 *             option reads as the plugin's declared default; reading an
 *             option the plugin did not declare is counted in
 *             undeclared_reads and reported on stderr
 *   facts     set with bc_fake_set_fact; unknown keys read as NULL
 *   set_error / log / output / data_error / column_summary /
 *   column_values / column_text / record_file   recorded below
 *   cancelled / cancel_fd   bc_fake_cancel sets both
 *   host_exec  runs the command with /bin/sh -c in host_dir (its own
 *             process group, killed at the timeout), stdout and stderr
 *             captured together; exit status 128+N for a signal
 *   host_get_file / host_put_file   local copies; a relative host path
 *             is relative to host_dir
 * exec_rc / get_file_rc / put_file_rc, when non-zero, make the
 * corresponding service fail with that status (after set_error) instead.
 *
 * Test-only code: not part of the SDK's installed surface.  Not thread-safe.
 */
#ifndef BC_FAKEHOST_H
#define BC_FAKEHOST_H

#include <stddef.h>
#include <stdint.h>

#include <benchctl/plugin.h>

#define BC_FAKE_MAX_COLUMNS 64
#define BC_FAKE_MAX_PAIRS 64

typedef struct bc_fake_log {
    int level;
    char *text;
} bc_fake_log;

typedef struct bc_fake_data_error {
    char *path;
    uint64_t line;
    uint32_t column;
    char *value; /* NULL when the plugin passed none */
    char *message;
} bc_fake_data_error;

typedef struct bc_fake_summary {
    char *column;
    uint64_t count;
    double min, max, mean;
} bc_fake_summary;

/* What arrived through column_values / column_text for one column. */
typedef struct bc_fake_values {
    uint64_t finite, nonfinite, texts;
    double sum;         /* of the finite values */
    size_t max_batch;   /* the largest batch column_values passed */
} bc_fake_values;

typedef struct bc_fake_file {
    char *output;
    char *path;
} bc_fake_file;

typedef struct bc_fake_pair {
    char *name;
    char *value;
    const char **list; /* opt_list's split of value (on ','), made on demand */
    size_t list_len;
} bc_fake_pair;

typedef struct bc_fake {
    bc_ctx ctx;                /* first member: the services find the fake from it */
    const bc_plugin *plugin;   /* for declared option defaults; may be NULL */

    /* Set by the test. */
    const char *host_dir;      /* host_exec's directory, base of relative host paths */
    int exec_rc, get_file_rc, put_file_rc; /* non-zero: that service fails so */
    int verbose;               /* echo every recording to stderr */
    int64_t time_left_ms;      /* what time_left_ms answers (-1: no deadline; the default) */
    uint32_t host_caps;        /* what host_caps answers (BC_HOST_CAP_*; default 0) */

    /* Recorded (bc_fake_reset clears them). */
    int cancelled;
    char error[4096];          /* the last set_error text, "" when none */
    bc_fake_log *logs;
    size_t n_logs;
    bc_fake_data_error *data_errors;
    size_t n_data_errors;
    bc_fake_summary *summaries;
    size_t n_summaries;
    bc_fake_values values[BC_FAKE_MAX_COLUMNS];
    int bad_values_calls;      /* column index out of range, or an empty batch */
    uint64_t suppressed;       /* the sum of data_errors_suppressed calls (ABI 1.2) */
    bc_fake_file *files;       /* record_file calls */
    size_t n_files;
    char *output;              /* what the output service received, NUL-terminated */
    size_t output_len;
    size_t n_exec;             /* host_exec calls */
    char *last_command;        /* the last host_exec command */
    int64_t last_timeout_ms;   /* and its timeout */
    size_t n_get_file, n_put_file;
    int undeclared_reads;      /* options read that the plugin does not declare */

    /* Private. */
    bc_fake_pair opts[BC_FAKE_MAX_PAIRS];
    size_t n_opts;
    bc_fake_pair facts[BC_FAKE_MAX_PAIRS];
    size_t n_facts;
    int cancel_pipe[2];
    bc_services older;         /* the table as an older core has it (bc_fake_core_minor) */
} bc_fake;

/* Prepares f for plugin (NULL: no declared options); f needs bc_fake_free. */
void bc_fake_init(bc_fake *f, const bc_plugin *plugin);

/* Frees everything f owns (options, facts, recordings, the cancel pipe). */
void bc_fake_free(bc_fake *f);

/* Clears the recordings, the error and the cancelled flag (a fresh cancel
 * pipe); options, facts and the settings above stay. */
void bc_fake_reset(bc_fake *f);

/* Sets option name to value (copied; text as written in the YAML, a
 * string list as "a,b,c"); value NULL unsets it. */
void bc_fake_set_option(bc_fake *f, const char *name, const char *value);

/* Unsets every option. */
void bc_fake_clear_options(bc_fake *f);

/* Sets fact key to value (copied); value NULL removes it. */
void bc_fake_set_fact(bc_fake *f, const char *key, const char *value);

/* Makes the plugin see a core of ABI 1.minor: the services table ends
 * where that minor's did (members added later are absent), abi_minor says
 * minor.  A minor at or above this SDK's gives the full table again. */
void bc_fake_core_minor(bc_fake *f, int minor);

/* Marks the run cancelled: cancelled() returns 1, cancel_fd() is readable. */
void bc_fake_cancel(bc_fake *f);

/* How many log lines at level (-1: any level) contain needle. */
size_t bc_fake_logs_with(const bc_fake *f, int level, const char *needle);

/* dlopens path (never closed) and returns its descriptor when it is a
 * plugin of `kind` named `name` (NULL name: any); otherwise NULL with the
 * reason in err. */
const bc_plugin *bc_fake_load(const char *path, int kind, const char *name, char *err,
                              size_t err_size);

#endif /* BC_FAKEHOST_H */
