/* `benchctl run` and `benchctl validate`. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        .plugin_paths = a.plugin_paths,
        .log_level = a.log_level,
        .no_report = a.no_report,
    };
    code = engine_run(&o);
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
