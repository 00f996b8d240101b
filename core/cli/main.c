/* benchctl: entry point and command dispatch. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "config/config.h"
#include "run/engine.h"
#include "paths.h"

static const cli_command commands[] = {
    {"run", cmd_run,
     "[-c FILE] [-m K=V]... [-e K=V]... [--skip STAGE]... [--case NAME]... [-t DURATION] "
     "[--plugin-path DIR]... [--log-level LEVEL]",
     "run the benchmark described by a config file",
     "  -c, --config FILE       config file (default: benchmark.yaml)\n"
     "  -m, --metadata K=V      add custom metadata to the run (repeatable)\n"
     "  -e, --environment K=V   export K=V to every stage (repeatable; overrides case env)\n"
     "      --skip STAGE        do not run this stage (repeatable)\n"
     "      --case NAME         run only this case (repeatable)\n"
     "  -t, --timeout DURATION  stop the whole run after DURATION (e.g. 90s, 5m)\n"
     "      --plugin-path DIR   look for plugins in DIR first (repeatable)\n"
     "      --log-level LEVEL   debug, info, warn or error\n"},
    {"validate", cmd_validate, "[-c FILE] [--plugin-path DIR]...",
     "check a config file and its plugins without running anything",
     "  -c, --config FILE       config file (default: benchmark.yaml)\n"
     "      --plugin-path DIR   look for plugins in DIR first (repeatable)\n"},
    {"init", cmd_init, "[--name NAME] [--file FILE] [--force]", "write a starter config file",
     "      --name NAME         benchmark name (default: my-benchmark)\n"
     "      --file FILE         where to write it (default: benchmark.yaml)\n"
     "      --force             overwrite an existing file\n"},
    {"inspect", cmd_inspect, "ID [--json] [-c FILE | -o DIR]", "show one stored run",
     "      --json              print metadata.json as stored\n"
     "  -c, --config FILE       config whose output_dir holds the runs (default: benchmark.yaml)\n"
     "  -o, --output-dir DIR    the runs are in DIR (instead of the config's output_dir)\n"},
    {"list", cmd_list, "[--json] [-c FILE | -o DIR]", "list stored runs",
     "      --json              print a JSON array\n"
     "  -c, --config FILE       config whose output_dir holds the runs (default: benchmark.yaml)\n"
     "  -o, --output-dir DIR    the runs are in DIR\n"},
    {"edit", cmd_edit, "ID -m K=V... [-c FILE | -o DIR]",
     "add or change custom metadata of a stored run (alias: annotate)",
     "  -m, --metadata K=V      set custom key K to V (repeatable, at least one)\n"
     "  -c, --config FILE       config whose output_dir holds the runs (default: benchmark.yaml)\n"
     "  -o, --output-dir DIR    the runs are in DIR\n"},
    {"annotate", cmd_edit, "ID -m K=V... [-c FILE | -o DIR]", "same as edit", NULL},
    {"compare", cmd_compare,
     "ID1 ID2 [ID3...] | ID --cases [--baseline CASE] [--json | --markdown] [--alpha A] "
     "[--threshold T] [--fail-on-regression] [-c FILE | -o DIR]",
     "compare runs (IDs or tags; the first is the baseline) or the cases of one run",
     "      --cases             compare the cases of one run (the first case is the baseline)\n"
     "      --baseline CASE     with --cases: the baseline case\n"
     "      --alpha A           significance level of the BH-adjusted p-values (default 0.01)\n"
     "      --threshold T       smallest relative change that matters: 5% or 0.05 (default 5%)\n"
     "      --fail-on-regression  exit 3 when a metric regressed (without it: 0 even then)\n"
     "      --json              print a JSON object (docs/schema/compare.schema.json)\n"
     "      --markdown          print GitHub Markdown (for a pull request comment)\n"
     "  -c, --config FILE       config whose output_dir holds the runs (default: benchmark.yaml)\n"
     "  -o, --output-dir DIR    the runs are in DIR\n"
     "  verdicts: improved, regressed, unchanged, inconclusive, different (docs/statistics.md)\n"},
    {"stats", cmd_stats, "ID [--json | --markdown] [-c FILE | -o DIR]",
     "show the statistics of a run (its results.json)",
     "      --json              print results.json as stored\n"
     "      --markdown          print GitHub Markdown tables\n"
     "  -c, --config FILE       config whose output_dir holds the runs (default: benchmark.yaml)\n"
     "  -o, --output-dir DIR    the runs are in DIR\n"},
    {"tag", cmd_tag, "[ID NAME | --delete NAME] [--json] [-c FILE | -o DIR]",
     "name a run (then use the name wherever a run ID goes), or list the tags",
     "  -d, --delete            remove the tag NAME\n"
     "      --json              list the tags as a JSON object {NAME: ID}\n"
     "  -c, --config FILE       config whose output_dir holds the runs (default: benchmark.yaml)\n"
     "  -o, --output-dir DIR    the runs are in DIR\n"
     "  NAME                    letters, digits, '.', '_', '-'; up to 64, not all digits;\n"
     "                          a NAME already in use moves to the new run\n"},
    {"plot", cmd_plot, "ID [-c FILE] [-o DIR] [--out DIR] [--force] [--plugin-path DIR]...",
     "redraw the plots of a stored run without re-running it",
     "  -c, --config FILE       draw the plots section of FILE (default: the run's own config\n"
     "                          snapshot); a FILE with only `plots:` takes its sources from\n"
     "                          the run; a whole config's output_dir also locates the run\n"
     "  -o, --output-dir DIR    the runs are in DIR (default: benchmark.yaml's output_dir)\n"
     "      --out DIR           draw into DIR instead of the run's plots/ directory\n"
     "      --force             replace the run's existing plot files (refused without it)\n"
     "      --plugin-path DIR   look for plugins in DIR first (repeatable)\n"},
    {"plugins", cmd_plugins, "[--json] [-c FILE] [--plugin-path DIR]...",
     "list the plugins found on the search path, and files refused",
     "      --json              print a JSON object {search_path, plugins, refused}\n"
     "  -c, --config FILE       also search the config's benchmark.plugin_paths\n"
     "      --plugin-path DIR   look for plugins in DIR first (repeatable)\n"},
};

static void print_usage(FILE *out)
{
    fprintf(out, "usage: benchctl COMMAND [OPTIONS]\n\n"
                 "A benchmark orchestrator: declare a benchmark in YAML, run it, keep every run.\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "  %-10s %s\n  %-10s %s\n", "help", "show help for a command", "version",
            "show the version");
    fprintf(out, "\nRun `benchctl COMMAND --help` for a command's options.\n"
                 "Exit codes: 0 success, 1 the run failed, 2 usage or configuration error,\n"
                 "3 compare found a regression (--fail-on-regression), 130 interrupted.\n");
}

void cli_print_help(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0) {
            printf("usage: benchctl %s %s\n\n%s\n", name, commands[i].args, commands[i].summary);
            if (commands[i].help)
                printf("\nOptions:\n%s  -h, --help              show this help\n",
                       commands[i].help);
            return;
        }
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "benchctl %s: ", command);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry `benchctl %s --help`.\n", command);
    va_end(ap);
    return EXIT_USAGE;
}

int cli_bad_option(const char *command, char **argv)
{
    /* optopt is the bad letter of a short option (maybe in a cluster such
     * as -zq); for a long option it is 0 and argv[optind - 1] is it. */
    if (optopt && optopt != '?')
        return cli_usage_error(command, "unknown option '-%c'", optopt);
    return cli_usage_error(command, "unknown option '%s'", argv[optind - 1]);
}

static void print_version(void)
{
    printf("benchctl %s (plugin ABI %s)\n", BENCHCTL_VERSION, BENCHCTL_ABI_STRING);
}

int main(int argc, char **argv)
{
    /* A closed terminal or pipe must not kill a run half-way. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        print_usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0) {
        if (argc > 2) {
            for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
                if (strcmp(commands[i].name, argv[2]) == 0) {
                    cli_print_help(argv[2]);
                    return EXIT_OK;
                }
            fprintf(stderr, "benchctl: unknown command '%s'\n", argv[2]);
            return EXIT_USAGE;
        }
        print_usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        print_version();
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, cmd) == 0) {
            int code = commands[i].fn(argc - 1, argv + 1);
            /* A report redirected to a full disk must not look written.  A
             * reader that stopped early (`| head`) is not an error, and
             * `run`'s exit code is the run's (its results are on disk). */
            if (strcmp(cmd, "run") != 0 && (fflush(stdout) == EOF || ferror(stdout)) &&
                errno != EPIPE) {
                fprintf(stderr, "benchctl %s: writing the output failed: %s\n", cmd,
                        strerror(errno));
                if (code == EXIT_OK)
                    code = EXIT_RUN_FAILED;
            }
            return code;
        }
    fprintf(stderr, "benchctl: unknown command '%s'\n\n", cmd);
    print_usage(stderr);
    return EXIT_USAGE;
}
