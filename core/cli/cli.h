/* The command-line interface: one function per command (cmd_*.c). */
#ifndef BENCHCTL_CLI_H
#define BENCHCTL_CLI_H

/* Exit code of `compare --fail-on-regression` when a metric regressed
 * (0, 1, 2 and 130 are in engine.h). */
#define EXIT_REGRESSION 3

typedef struct cli_command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *args;    /* synopsis after the command name */
    const char *summary; /* one line */
    const char *help;    /* options, one per line */
} cli_command;

int cmd_run(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_edit(int argc, char **argv);
int cmd_plugins(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_tag(int argc, char **argv);

/* Print the help of a command to stdout. */
void cli_print_help(const char *command);
/* Report a usage error for a command ("benchctl run: ...") and return 2. */
int cli_usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Report an unknown option found by getopt_long; returns 2. */
int cli_bad_option(const char *command, char **argv);
/* Check "KEY=VALUE" (env_name: KEY must be a valid environment name). */
int cli_check_kv(const char *command, const char *flag, const char *kv, int env_name);
/* Resolve the output directory for inspect/list/edit: --output-dir, or the
 * config's benchmark.output_dir.  Returns an owned path or NULL (message
 * printed). */
char *cli_output_dir(const char *command, const char *config_path, const char *output_dir);
/* Resolve a run ID or tag typed by the user (runstore_resolve).  Returns
 * the owned run ID, or NULL after printing "benchctl COMMAND: ..." (the
 * caller exits 2). */
char *cli_resolve_run(const char *command, const char *output_dir, const char *id_or_tag);

#endif
