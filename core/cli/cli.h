/*
 * The command-line interface.  Every command is a row of the table in
 * commands.c: its synopsis, summary, options and notes.  One parser
 * (cli_parse, options.c) reads argv against that table into a cli_args,
 * and the help is printed from the same table, so an option cannot be
 * parsed without being documented or documented without being parsed.
 * One function per command (cmd_*.c) does the work.
 */
#ifndef BENCHCTL_CLI_H
#define BENCHCTL_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/util.h"

/* Exit code of `compare --fail-on-regression` when a metric regressed
 * (0, 1, 2 and 130 are in engine.h). */
#define EXIT_REGRESSION 3

/* What every command's options are parsed into.  A command initialises
 * the defaults it needs (compare's alpha, ...) before cli_parse; an option
 * not given leaves its field untouched.  NULL config means
 * "benchmark.yaml". */
typedef struct cli_args {
    const char *config, *output_dir; /* -c FILE, -o DIR */
    bool json, markdown;
    strvec metadata, env, skip, only_cases, plugin_paths; /* repeatable */
    int64_t timeout_ms;                                   /* run -t; 0 = none */
    int64_t max_nodes;                                    /* run --nodes; 0 = all */
    int64_t memory_limit;                                 /* run --memory-limit; 0 = none */
    bool monitor;                                         /* run --monitor */
    const char *log_level;
    const char *name, *file; /* init */
    const char *template_name; /* init --template */
    bool force;              /* init, plot */
    const char *out;         /* plot --out DIR, report --out FILE */
    bool no_report;          /* run --no-report */
    bool del;                /* tag --delete */
    bool cases, fail_on_regression; /* compare */
    const char *baseline;           /* compare --baseline */
    double alpha, threshold;        /* compare */
    const char *to;                 /* publish --to */
    bool dry_run, pending;          /* publish */
    int64_t runs, warmup;           /* exec --runs, --warmup */
    const char *prepare;            /* exec --prepare */
    const char *export_markdown, *export_json, *export_csv; /* exec --export-* */
    /* daemon, submit, queue, cancel (the queue; checked by the commands) */
    const char *socket, *state_dir, *cpus, *memory, *walltime, *priority, *group;
    const char *grace, *socket_group;
    bool foreground, no_pin, wait, follow;
    const char *stage;              /* profile --stage */
    int64_t top;                    /* profile --top (0: the default) */
} cli_args;

typedef enum cli_arg_kind {
    CLI_FLAG,   /* no value: sets a bool */
    CLI_VALUE,  /* one value: sets a const char * (the last one given wins) */
    CLI_VALUES, /* repeatable value: appends to a strvec */
} cli_arg_kind;

typedef struct cli_option cli_option;

/* Takes the value of an option instead of the default store: checks it
 * and writes it to field (the cli_args member at the option's offset).
 * Returns 0, or an exit code after reporting the problem. */
typedef int (*cli_take_fn)(const char *command, const cli_option *opt, const char *value,
                           void *field);

struct cli_option {
    const char *name;  /* long name without "--"; NULL ends a table */
    char letter;       /* short option, or 0 */
    cli_arg_kind kind;
    const char *value; /* the placeholder in the help (FILE); NULL for CLI_FLAG */
    const char *help;  /* one line; '\n' starts a continuation line */
    size_t offset;     /* offsetof(cli_args, field) */
    cli_take_fn take;  /* NULL: store by kind */
    int exclusive;     /* options of one command with the same nonzero group
                          cannot be given together */
};

typedef struct cli_command {
    const char *name;
    int (*fn)(int argc, char **argv); /* argv[0] is the command's name */
    const char *args;                 /* synopsis after the command name */
    const char *summary;              /* one line */
    const cli_option *options;        /* ends with a row whose name is NULL */
    const char *notes;                /* printed after the options, or NULL */
    int min_args, max_args;           /* positional arguments; max_args -1: any */
    const char *missing;              /* the usage error when fewer than min_args */
} cli_command;

int cmd_run(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_edit(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_plugins(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_tag(int argc, char **argv);
int cmd_publish(int argc, char **argv);
int cmd_daemon(int argc, char **argv);
int cmd_submit(int argc, char **argv);
int cmd_queue(int argc, char **argv);
int cmd_cancel(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);

/* A starter config of `benchctl init --template NAME` (templates.c). */
typedef struct cli_template {
    const char *name, *description;
    const char *text; /* a printf format: "%s" the benchmark's name */
} cli_template;
/* The templates, ending with a row whose name is NULL. */
const cli_template *cli_templates(void);
/* The template named name, or NULL. */
const cli_template *cli_template_find(const char *name);

/* The command named name, or NULL. */
const cli_command *cli_find(const char *name);
/* The command nearest to a misspelt name (did you mean), or NULL. */
const char *cli_suggest_command(const char *name);
/* Print the list of commands (benchctl --help) to out. */
void cli_print_usage(FILE *out);
/* Print the help of a command to stdout (nothing for an unknown name). */
void cli_print_help(const char *command);

/* Parse argv (argv[0] the command's name, a row of the table) into a:
 * options, the help (-h/--help prints it), exclusive groups and the count
 * of positional arguments.  Returns -1 to go on, the positional arguments
 * being argv[optind..argc-1]; or the exit code (0 after the help, 2 after
 * a usage error, printed), having freed a. */
int cli_parse(int argc, char **argv, cli_args *a);
/* Free the vectors of a. */
void cli_args_free(cli_args *a);

/* Report a usage error for a command ("benchctl run: ...") and return 2. */
int cli_usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Check "KEY=VALUE" (env_name: KEY must be a valid environment name);
 * flag names the option in the message.  Returns 0 or 2 (reported). */
int cli_check_kv(const char *command, const char *flag, const char *kv, int env_name);

/* The run store of a command: the output directory from -o DIR, or from
 * the benchmark.output_dir of -c FILE (default benchmark.yaml); then each
 * of the n run IDs or tags in refs resolved into ids[] (owned).  Returns
 * the owned output directory, or NULL after printing every problem
 * ("benchctl COMMAND: ..."; the caller exits 2), ids[] then all NULL. */
char *cli_store(const char *command, const cli_args *a, size_t n, char *const *refs, char **ids);
/* Resolve one run ID or tag (runstore_resolve).  Returns the owned run ID,
 * or NULL after printing "benchctl COMMAND: ...". */
char *cli_resolve_run(const char *command, const char *output_dir, const char *id_or_tag);

#endif
