/* `benchctl run` and `benchctl validate`. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "run/engine.h"

int cmd_run(int argc, char **argv)
{
    cli_args a = {0};
    int code = cli_parse(argc, argv, &a);
    if (code >= 0)
        return code;
    run_options o = {
        .config_path = a.config ? a.config : "benchmark.yaml",
        .metadata = a.metadata,
        .env = a.env,
        .skip = a.skip,
        .cases = a.only_cases,
        .timeout_ms = a.timeout_ms,
        .max_nodes = a.max_nodes,
        .memory_limit = a.memory_limit,
        .plugin_paths = a.plugin_paths,
        .log_level = a.log_level,
        .no_report = a.no_report,
        .monitor = a.monitor,
    };
    if (!a.json) {
        code = engine_run(&o);
        cli_args_free(&a);
        return code;
    }
    /* --json: stdout carries the summary document alone; everything a run
     * prints for people (stage output, "Run ID", the summary) goes to
     * stderr. */
    cJSON *summary = NULL;
    o.summary = &summary;
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    if (saved < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        fprintf(stderr, "benchctl run: --json: cannot redirect stdout: %s\n", strerror(errno));
        cli_args_free(&a);
        return EXIT_USAGE;
    }
    code = engine_run(&o);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    if (summary) {
        char *text = cJSON_Print(summary);
        printf("%s\n", text);
        free(text);
        cJSON_Delete(summary);
    }
    cli_args_free(&a);
    return code;
}

int cmd_validate(int argc, char **argv)
{
    cli_args a = {0};
    int code = cli_parse(argc, argv, &a);
    if (code >= 0)
        return code;
    /* `benchctl validate FILE` reads naturally too */
    const char *path = optind < argc ? argv[optind] : a.config ? a.config : "benchmark.yaml";
    code = engine_validate(path, &a.plugin_paths);
    cli_args_free(&a);
    return code;
}
