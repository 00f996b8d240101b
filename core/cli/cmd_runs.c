/* Stored runs: `benchctl inspect`, `list` and `edit` (alias `annotate`). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "config/config.h"
#include "run/engine.h"
#include "store/runstore.h"

char *cli_output_dir(const char *command, const char *config_path, const char *output_dir)
{
    if (output_dir)
        return abs_path(output_dir);
    if (strcmp(config_path, "benchmark.yaml") == 0 && access(config_path, F_OK) != 0) {
        /* Nothing given and no config here: one line, what to give. */
        fprintf(stderr, "benchctl %s: where are the runs? No benchmark.yaml in this directory: "
                        "give -o DIR (the runs' directory), or -c FILE (a config whose "
                        "benchmark.output_dir holds them)\n", command);
        return NULL;
    }
    diag d = {0};
    config *c = config_load(config_path, &d);
    char *dir = NULL;
    if (c && c->output_dir) {
        dir = xstrdup(c->output_dir);
    } else {
        diag_print(&d, stderr);
        fprintf(stderr, "benchctl %s: cannot find the runs: give -o DIR, or -c FILE for a config "
                        "with benchmark.output_dir\n", command);
    }
    config_free(c);
    diag_free(&d);
    return dir;
}

typedef struct common {
    const char *config_path, *output_dir;
    bool json;
    strvec metadata;
} common;

/* Parse the options shared by the run-store commands.  Returns -1 to go
 * on, or an exit code. */
static int parse_common(const char *cmd, int argc, char **argv, common *o, bool allow_json,
                        bool allow_meta)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"output-dir", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'j'},
        {"metadata", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    o->config_path = "benchmark.yaml";
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:o:m:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->config_path = optarg;
            break;
        case 'o':
            o->output_dir = optarg;
            break;
        case 'j':
            if (!allow_json)
                return cli_usage_error(cmd, "unknown option '--json'");
            o->json = true;
            break;
        case 'm':
            if (!allow_meta)
                return cli_bad_option(cmd, argv);
            if (cli_check_kv(cmd, "-m/--metadata", optarg, 0))
                return EXIT_USAGE;
            sv_push(&o->metadata, optarg);
            break;
        case 'h':
            cli_print_help(cmd);
            return EXIT_OK;
        case ':':
            return cli_usage_error(cmd, "option %s needs a value", argv[optind - 1]);
        default:
            return cli_bad_option(cmd, argv);
        }
    }
    return -1;
}

static const char *jstr(const cJSON *o, const char *key, const char *dflt)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, key));
    return s ? s : dflt;
}

static double jnum(const cJSON *o, const char *key, double dflt)
{
    const cJSON *n = cJSON_GetObjectItem(o, key);
    return cJSON_IsNumber(n) ? n->valuedouble : dflt;
}

static void print_duration(FILE *f, double s)
{
    if (s < 0)
        fprintf(f, "-");
    else if (s < 60)
        fprintf(f, "%.2fs", s);
    else
        fprintf(f, "%dm%04.1fs", (int)(s / 60), s - 60 * (int)(s / 60));
}

static void inspect_text(const cJSON *m, const char *dir)
{
    printf("Run %s: %s\n", jstr(m, "run_id", "?"), jstr(m, "benchmark_name", "?"));
    printf("  status     %s\n", jstr(m, "status", "?"));
    const char *err = jstr(m, "error", NULL);
    if (err)
        printf("  error      %s\n", err);
    printf("  started    %s\n", jstr(m, "start_time", "-"));
    printf("  ended      %s", jstr(m, "end_time", "-"));
    double dur = jnum(m, "duration_s", -1);
    if (dur >= 0) {
        printf(" (");
        print_duration(stdout, dur);
        printf(")");
    }
    printf("\n  config     %s\n", jstr(m, "config_path", "-"));
    const cJSON *git = cJSON_GetObjectItem(m, "git");
    if (cJSON_IsObject(git))
        printf("  git        %.12s%s%s%s%s\n", jstr(git, "commit", "(no commit)"),
               jstr(git, "branch", NULL) ? " on " : "", jstr(git, "branch", ""),
               cJSON_IsTrue(cJSON_GetObjectItem(git, "dirty")) ? ", uncommitted changes" : "", "");
    const cJSON *mach = cJSON_GetObjectItem(m, "machine");
    if (cJSON_IsObject(mach))
        printf("  machine    %s, %s %s, %s, %.0f cores, %.1f GiB\n", jstr(mach, "hostname", "?"),
               jstr(mach, "os", "?"), jstr(mach, "arch", "?"), jstr(mach, "cpu_model", "?"),
               jnum(mach, "cores", 0), jnum(mach, "memory_bytes", 0) / (1024.0 * 1024 * 1024));
    const cJSON *bc = cJSON_GetObjectItem(m, "benchctl");
    if (cJSON_IsObject(bc))
        printf("  benchctl   %s (plugin ABI %s)\n", jstr(bc, "version", "?"), jstr(bc, "abi", "?"));
    const cJSON *custom = cJSON_GetObjectItem(m, "custom");
    if (cJSON_IsObject(custom) && custom->child) {
        printf("  custom\n");
        for (const cJSON *kv = custom->child; kv; kv = kv->next)
            printf("    %s = %s\n", kv->string,
                   cJSON_IsString(kv) ? kv->valuestring : "(not a string)");
    }
    const cJSON *stages = cJSON_GetObjectItem(m, "stages");
    if (cJSON_IsArray(stages) && cJSON_GetArraySize(stages)) {
        printf("  stages\n    %-24s %-12s %-12s %-11s %5s %9s %9s %9s\n", "NAME", "HOST", "CASE",
               "STATUS", "EXIT", "WALL", "CPU", "RSS");
        const cJSON *s;
        cJSON_ArrayForEach(s, stages)
        {
            char exit_s[16] = "-", cpu[32] = "-", rss[32] = "-", wall[32] = "-";
            if (cJSON_IsNumber(cJSON_GetObjectItem(s, "exit_status")))
                snprintf(exit_s, sizeof exit_s, "%d", (int)jnum(s, "exit_status", 0));
            if (cJSON_IsNumber(cJSON_GetObjectItem(s, "user_cpu_s")))
                snprintf(cpu, sizeof cpu, "%.3fs",
                         jnum(s, "user_cpu_s", 0) + jnum(s, "system_cpu_s", 0));
            if (cJSON_IsNumber(cJSON_GetObjectItem(s, "max_rss_kb")))
                snprintf(rss, sizeof rss, "%.1fM", jnum(s, "max_rss_kb", 0) / 1024);
            if (cJSON_IsNumber(cJSON_GetObjectItem(s, "duration_s")))
                snprintf(wall, sizeof wall, "%.3fs", jnum(s, "duration_s", 0));
            printf("    %-24s %-12s %-12s %-11s %5s %9s %9s %9s\n", jstr(s, "name", "?"),
                   jstr(s, "host", "?"), jstr(s, "case", "-"), jstr(s, "status", "?"), exit_s, wall,
                   cpu, rss);
        }
    }
    printf("  directory  %s\n", dir);
    char *res = path_join(dir, "results.json");
    if (access(res, F_OK) == 0)
        printf("  statistics results.json (`benchctl stats %s`)\n", jstr(m, "run_id", "?"));
    free(res);
}

int cmd_inspect(int argc, char **argv)
{
    common o = {0};
    int code = parse_common("inspect", argc, argv, &o, true, false);
    if (code >= 0)
        return code;
    if (optind >= argc)
        return cli_usage_error("inspect", "missing run ID");
    if (optind + 1 < argc)
        return cli_usage_error("inspect", "unexpected argument '%s'", argv[optind + 1]);
    char *out = cli_output_dir("inspect", o.config_path, o.output_dir);
    char *id = out ? cli_resolve_run("inspect", out, argv[optind]) : NULL; /* ID or tag */
    if (!id) {
        free(out);
        return EXIT_USAGE;
    }
    char *err = NULL;
    cJSON *m = runstore_read(out, id, &err);
    if (!m) {
        fprintf(stderr, "benchctl inspect: %s\n", err);
        free(err);
        free(id);
        free(out);
        return EXIT_USAGE;
    }
    if (o.json) {
        char *text = cJSON_Print(m);
        printf("%s\n", text);
        free(text);
    } else {
        char *dir = xasprintf("%s/%s", out, id);
        inspect_text(m, dir);
        free(dir);
    }
    cJSON_Delete(m);
    free(id);
    free(out);
    return EXIT_OK;
}

int cmd_list(int argc, char **argv)
{
    common o = {0};
    int code = parse_common("list", argc, argv, &o, true, false);
    if (code >= 0)
        return code;
    if (optind < argc)
        return cli_usage_error("list", "unexpected argument '%s'", argv[optind]);
    char *out = cli_output_dir("list", o.config_path, o.output_dir);
    if (!out)
        return EXIT_USAGE;
    struct stat sb;
    if (o.output_dir && stat(out, &sb) != 0) {
        fprintf(stderr, "benchctl list: %s: %s\n", out, strerror(errno));
        free(out);
        return EXIT_USAGE;
    }
    strvec ids = {0};
    runstore_list(out, &ids);
    cJSON *arr = cJSON_CreateArray();
    char *terr = NULL;
    cJSON *tags = runstore_tags_read(out, &terr); /* a broken tags file: no tags shown */
    free(terr);
    if (!o.json && ids.n)
        printf("%-6s %-28s %-12s %-32s %-10s %s\n", "ID", "NAME", "STATUS", "START", "DURATION",
               "TAGS");
    for (size_t i = 0; i < ids.n; i++) {
        char *err = NULL;
        cJSON *m = runstore_read(out, ids.v[i], &err);
        if (!m) {
            fprintf(stderr, "benchctl list: skipping run %s: %s\n", ids.v[i], err);
            free(err);
            continue;
        }
        if (o.json) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "run_id", ids.v[i]);
            cJSON_AddStringToObject(e, "benchmark_name", jstr(m, "benchmark_name", ""));
            cJSON_AddStringToObject(e, "status", jstr(m, "status", "unknown"));
            cJSON_AddStringToObject(e, "start_time", jstr(m, "start_time", ""));
            double d = jnum(m, "duration_s", -1);
            if (d >= 0)
                cJSON_AddNumberToObject(e, "duration_s", d);
            else
                cJSON_AddNullToObject(e, "duration_s");
            cJSON *tj = cJSON_AddArrayToObject(e, "tags");
            strvec names = {0};
            runstore_tags_naming(tags, ids.v[i], &names);
            for (size_t k = 0; k < names.n; k++)
                cJSON_AddItemToArray(tj, cJSON_CreateString(names.v[k]));
            sv_free(&names);
            cJSON_AddItemToArray(arr, e);
        } else {
            printf("%-6s %-28s %-12s %-32s ", ids.v[i], jstr(m, "benchmark_name", "?"),
                   jstr(m, "status", "?"), jstr(m, "start_time", "-"));
            char dur[32];
            FILE *df = fmemopen(dur, sizeof dur, "w");
            if (df) {
                print_duration(df, jnum(m, "duration_s", -1));
                fclose(df);
            } else {
                snprintf(dur, sizeof dur, "-");
            }
            strvec names = {0};
            runstore_tags_naming(tags, ids.v[i], &names);
            printf(names.n ? "%-10s " : "%s", dur);
            for (size_t k = 0; k < names.n; k++)
                printf("%s%s", k ? "," : "", names.v[k]);
            printf("\n");
            sv_free(&names);
        }
        cJSON_Delete(m);
    }
    if (o.json) {
        char *text = cJSON_Print(arr);
        printf("%s\n", text);
        free(text);
    } else if (ids.n == 0) {
        printf("No runs in %s yet.\n", out);
    }
    cJSON_Delete(arr);
    cJSON_Delete(tags);
    sv_free(&ids);
    free(out);
    return EXIT_OK;
}

int cmd_edit(int argc, char **argv)
{
    common o = {0};
    const char *name = argv[0];
    int code = parse_common(name, argc, argv, &o, false, true);
    if (code >= 0) {
        sv_free(&o.metadata);
        return code;
    }
    if (optind >= argc) {
        sv_free(&o.metadata);
        return cli_usage_error(name, "missing run ID");
    }
    if (optind + 1 < argc) {
        sv_free(&o.metadata);
        return cli_usage_error(name, "unexpected argument '%s'", argv[optind + 1]);
    }
    if (o.metadata.n == 0)
        return cli_usage_error(name, "nothing to change: give at least one -m KEY=VALUE");
    char *out = cli_output_dir(name, o.config_path, o.output_dir);
    char *id = out ? cli_resolve_run(name, out, argv[optind]) : NULL; /* ID or tag */
    if (!id) {
        free(out);
        sv_free(&o.metadata);
        return EXIT_USAGE;
    }
    int lock = -1;
    runstore_lock(out, &lock);
    char *err = NULL;
    cJSON *m = runstore_read(out, id, &err);
    code = EXIT_OK;
    if (!m) {
        fprintf(stderr, "benchctl %s: %s\n", name, err);
        free(err);
        code = EXIT_USAGE;
        goto done;
    }
    cJSON *custom = cJSON_GetObjectItem(m, "custom");
    if (!cJSON_IsObject(custom)) {
        /* Runs stored without custom metadata get an empty object. */
        cJSON_DeleteItemFromObjectCaseSensitive(m, "custom");
        custom = cJSON_AddObjectToObject(m, "custom");
    }
    for (size_t i = 0; i < o.metadata.n; i++) {
        const char *kv = o.metadata.v[i], *eq = strchr(kv, '=');
        char *k = xstrndup(kv, (size_t)(eq - kv));
        cJSON_DeleteItemFromObjectCaseSensitive(custom, k);
        cJSON_AddStringToObject(custom, k, eq + 1);
        free(k);
    }
    char *dir = xasprintf("%s/%s", out, id);
    if (!runstore_write(dir, m, true)) {
        fprintf(stderr, "benchctl %s: cannot write %s/metadata.json: %s\n", name, dir,
                strerror(errno));
        code = EXIT_RUN_FAILED;
    } else {
        printf("Updated run %s: %zu key%s\n", id, o.metadata.n, o.metadata.n == 1 ? "" : "s");
    }
    free(dir);
    cJSON_Delete(m);
done:
    runstore_unlock(lock);
    free(id);
    free(out);
    sv_free(&o.metadata);
    return code;
}

int cmd_plot(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"output-dir", required_argument, NULL, 'o'},
        {"plugin-path", required_argument, NULL, 'p'},
        {"out", required_argument, NULL, 'O'},
        {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cfg = NULL, *out_dir = NULL, *dest = NULL;
    bool force = false;
    strvec dirs = {0};
    int c, code = -1;
    optind = 0;
    opterr = 0;
    while (code < 0 && (c = getopt_long(argc, argv, ":c:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            cfg = optarg;
            break;
        case 'o':
            out_dir = optarg;
            break;
        case 'p':
            sv_push(&dirs, optarg);
            break;
        case 'O':
            dest = optarg;
            break;
        case 'f':
            force = true;
            break;
        case 'h':
            cli_print_help("plot");
            code = EXIT_OK;
            break;
        case ':':
            code = cli_usage_error("plot", "option %s needs a value", argv[optind - 1]);
            break;
        default:
            code = cli_bad_option("plot", argv);
        }
    }
    if (code < 0 && optind >= argc)
        code = cli_usage_error("plot", "missing run ID");
    if (code < 0 && optind + 1 < argc)
        code = cli_usage_error("plot", "unexpected argument '%s'", argv[optind + 1]);
    if (code < 0) {
        /* A plots file has no output_dir: the runs are found as without -c. */
        bool whole = cfg && config_is_plots_file(cfg) != 1;
        char *out = cli_output_dir("plot", whole ? cfg : "benchmark.yaml", out_dir);
        char *id = out ? cli_resolve_run("plot", out, argv[optind]) : NULL; /* ID or tag */
        code = id ? engine_plot(id, out, cfg, dest, force, &dirs) : EXIT_USAGE;
        free(id);
        free(out);
    }
    sv_free(&dirs);
    return code;
}
