/* benchctl: entry point and command dispatch (the commands: commands.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "config/config.h"
#include "run/engine.h"
#include "paths.h"

static void print_version(void)
{
    printf("benchctl %s (plugin ABI %s)\n", BENCHCTL_VERSION, BENCHCTL_ABI_STRING);
}

int cmd_help(int argc, char **argv)
{
    cli_args a = {0};
    int code = cli_parse(argc, argv, &a);
    if (code >= 0)
        return code;
    if (optind >= argc) {
        cli_print_usage(stdout);
        return EXIT_OK;
    }
    if (!cli_find(argv[optind])) {
        const char *near = cli_suggest_command(argv[optind]);
        fprintf(stderr, "benchctl: unknown command '%s'%s%s%s\n", argv[optind],
                near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
        return EXIT_USAGE;
    }
    cli_print_help(argv[optind]);
    return EXIT_OK;
}

int cmd_version(int argc, char **argv)
{
    cli_args a = {0};
    int code = cli_parse(argc, argv, &a);
    if (code >= 0)
        return code;
    print_version();
    return EXIT_OK;
}

/* How many words of argv, from i, are one option that may come before the
 * command (the Go tool's global options: `benchctl -c FILE run`); 0 when
 * argv[i] is not one. */
static int global_option(int argc, char **argv, int i)
{
    static const char *const with_value[] = {"-c", "--config", "-o", "--output-dir",
                                             "--log-level", "--plugin-path", "--color", NULL};
    const char *a = argv[i];
    if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
        return 1;
    for (size_t k = 0; with_value[k]; k++) {
        size_t n = strlen(with_value[k]);
        if (strcmp(a, with_value[k]) == 0)
            return i + 1 < argc ? 2 : 0;
        if (with_value[k][1] == '-' && strncmp(a, with_value[k], n) == 0 && a[n] == '=')
            return 1;
    }
    return 0;
}

/* argv with the options before the command moved after it:
 * {benchctl, -c, F, run, X} -> {benchctl, run, -c, F, X}.  In place. */
static void command_first(int argc, char **argv)
{
    int i = 1, w;
    while (i < argc && (w = global_option(argc, argv, i)) > 0)
        i += w;
    if (i == 1 || i >= argc)
        return;
    char *cmd = argv[i];
    memmove(&argv[2], &argv[1], (size_t)(i - 1) * sizeof *argv);
    argv[1] = cmd;
}

/* No core dump of benchctl itself: its memory may hold secrets (passwords,
 * key passphrases, -e values).  The soft RLIMIT_CORE goes to 0 unless
 * BENCHCTL_CORE_DUMPS=1; the value it had is handed to the stages (the
 * local transport gives it back to each one, BENCHCTL_STAGE_RLIMIT_CORE),
 * so a benchmark that dumps core still does. */
static void limit_core_dumps(void)
{
    const char *opt = getenv("BENCHCTL_CORE_DUMPS");
    struct rlimit rl;
    if ((opt && strcmp(opt, "1") == 0) || getrlimit(RLIMIT_CORE, &rl) != 0 || rl.rlim_cur == 0)
        return;
    char v[32];
    if (rl.rlim_cur == RLIM_INFINITY)
        snprintf(v, sizeof v, "unlimited");
    else
        snprintf(v, sizeof v, "%llu", (unsigned long long)rl.rlim_cur);
    rl.rlim_cur = 0;
    if (setrlimit(RLIMIT_CORE, &rl) == 0)
        setenv("BENCHCTL_STAGE_RLIMIT_CORE", v, 1);
}

int main(int argc, char **argv)
{
    /* A closed terminal or pipe must not kill a run half-way. */
    signal(SIGPIPE, SIG_IGN);
    limit_core_dumps();
    if (argc < 2) {
        cli_print_usage(stderr);
        return EXIT_USAGE;
    }
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "__watchdog") == 0) /* a run's */
        return engine_watchdog(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
    command_first(argc, argv);
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        cli_print_usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        print_version();
        return EXIT_OK;
    }
    const cli_command *c = cli_find(cmd);
    if (!c && cmd[0] == '-') {
        fprintf(stderr, "benchctl: '%s' is not a command (usage: benchctl [-c FILE] COMMAND "
                        "[OPTIONS])\n", cmd);
        return EXIT_USAGE;
    }
    if (!c) {
        const char *near = cli_suggest_command(cmd);
        if (near) {
            fprintf(stderr, "benchctl: unknown command '%s'; did you mean '%s'?\n"
                            "Run `benchctl --help` for the list of commands.\n", cmd, near);
            return EXIT_USAGE;
        }
        fprintf(stderr, "benchctl: unknown command '%s'\n\n", cmd);
        cli_print_usage(stderr);
        return EXIT_USAGE;
    }
    int code = c->fn(argc - 1, argv + 1);
    /* A report redirected to a full disk must not look written.  A reader
     * that stopped early (`| head`) is not an error, and `run`'s exit code
     * is the run's (its results are on disk). */
    if (strcmp(cmd, "run") != 0 && (fflush(stdout) == EOF || ferror(stdout)) && errno != EPIPE) {
        fprintf(stderr, "benchctl %s: writing the output failed: %s\n", cmd, strerror(errno));
        if (code == EXIT_OK)
            code = EXIT_RUN_FAILED;
    }
    return code;
}
