/* `benchctl run` and `benchctl validate`. */
#define _GNU_SOURCE
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "run/engine.h"
#include "util/log.h"

int cli_check_kv(const char *command, const char *flag, const char *kv, int env_name)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv)
        return cli_usage_error(command, "%s expects KEY=VALUE, got '%s'", flag, kv);
    if (env_name) {
        bool ok = !isdigit((unsigned char)kv[0]);
        for (const char *p = kv; p < eq; p++)
            ok = ok && (isalnum((unsigned char)*p) || *p == '_');
        if (!ok)
            return cli_usage_error(command, "%s: '%.*s' is not a valid environment variable name",
                                   flag, (int)(eq - kv), kv);
    }
    return 0;
}

enum { OPT_SKIP = 256, OPT_CASE, OPT_PLUGIN_PATH, OPT_LOG_LEVEL };

int cmd_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"metadata", required_argument, NULL, 'm'},
        {"environment", required_argument, NULL, 'e'},
        {"skip", required_argument, NULL, OPT_SKIP},
        {"case", required_argument, NULL, OPT_CASE},
        {"timeout", required_argument, NULL, 't'},
        {"plugin-path", required_argument, NULL, OPT_PLUGIN_PATH},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    run_options o = {.config_path = "benchmark.yaml"};
    int code = 0, c;
    optind = 0;
    opterr = 0;
    while (code == 0 && (c = getopt_long(argc, argv, ":c:m:e:t:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o.config_path = optarg;
            break;
        case 'm':
            code = cli_check_kv("run", "-m/--metadata", optarg, 0);
            sv_push(&o.metadata, optarg);
            break;
        case 'e':
            code = cli_check_kv("run", "-e/--environment", optarg, 1);
            sv_push(&o.env, optarg);
            break;
        case OPT_SKIP:
            sv_push(&o.skip, optarg);
            break;
        case OPT_CASE:
            sv_push(&o.cases, optarg);
            break;
        case 't': {
            int64_t ns;
            if (!parse_duration_ns(optarg, &ns) || ns <= 0)
                code = cli_usage_error("run", "-t/--timeout: '%s' is not a positive duration "
                                              "(use e.g. 90s, 5m, 1h30m)", optarg);
            else
                o.timeout_ms = (ns + 999999) / 1000000;
            break;
        }
        case OPT_PLUGIN_PATH:
            sv_push(&o.plugin_paths, optarg);
            break;
        case OPT_LOG_LEVEL:
            if (log_level_from_name(optarg) < 0)
                code = cli_usage_error("run", "--log-level: '%s' is not one of debug, info, warn, "
                                              "error", optarg);
            o.log_level = optarg;
            break;
        case 'h':
            cli_print_help("run");
            code = -1;
            break;
        case ':':
            code = cli_usage_error("run", "option %s needs a value", argv[optind - 1]);
            break;
        default:
            code = cli_bad_option("run", argv);
        }
    }
    if (code == 0 && optind < argc)
        code = cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
    if (code == 0)
        code = engine_run(&o);
    sv_free(&o.metadata);
    sv_free(&o.env);
    sv_free(&o.skip);
    sv_free(&o.cases);
    sv_free(&o.plugin_paths);
    return code < 0 ? 0 : code;
}

int cmd_validate(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"plugin-path", required_argument, NULL, OPT_PLUGIN_PATH},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = "benchmark.yaml";
    strvec dirs = {0};
    int code = 0, c;
    optind = 0;
    opterr = 0;
    while (code == 0 && (c = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case OPT_PLUGIN_PATH:
            sv_push(&dirs, optarg);
            break;
        case 'h':
            cli_print_help("validate");
            code = -1;
            break;
        case ':':
            code = cli_usage_error("validate", "option %s needs a value", argv[optind - 1]);
            break;
        default:
            code = cli_bad_option("validate", argv);
        }
    }
    if (code == 0 && optind < argc)
        path = argv[optind++]; /* `benchctl validate FILE` reads naturally too */
    if (code == 0 && optind < argc)
        code = cli_usage_error("validate", "unexpected argument '%s'", argv[optind]);
    if (code == 0)
        code = engine_validate(path, &dirs);
    sv_free(&dirs);
    return code < 0 ? 0 : code;
}
