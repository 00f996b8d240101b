/* benchctl: entry point and command dispatch (the commands: commands.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        fprintf(stderr, "benchctl: unknown command '%s'\n", argv[optind]);
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

int main(int argc, char **argv)
{
    /* A closed terminal or pipe must not kill a run half-way. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        cli_print_usage(stderr);
        return EXIT_USAGE;
    }
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
    if (!c) {
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
