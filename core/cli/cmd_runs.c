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
#include "analysis/report.h"
#include "util/human.h"
#include "util/term.h"

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

/* A duration from metadata (-1: none) through the one formatter. */
static char *duration_text(double s)
{
    return s < 0 ? xstrdup("-") : human_duration(s);
}

/* The stages that had `limits:`: how each ended, its CPUs, what held and
 * what was only measured, and the whole tree's peak memory and CPU time. */
static void print_limits(const cJSON *stages)
{
    const cJSON *s, *it;
    bool any = false;
    cJSON_ArrayForEach(s, stages)
    {
        const cJSON *l = cJSON_GetObjectItem(s, "limits");
        if (!cJSON_IsObject(l))
            continue;
        if (!any)
            printf("  limits\n");
        any = true;
        printf("    %-24s %-12s termination %s, cgroup %s", jstr(s, "name", "?"),
               jstr(s, "host", "?"), jstr(s, "termination", "-"), jstr(l, "cgroup", "-"));
        if (jstr(l, "cpus", NULL))
            printf(", cpus %s", jstr(l, "cpus", ""));
        const char *sep = "; enforced ";
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(l, "enforced"))
        {
            printf("%s%s (%s)", sep, it->string,
                   cJSON_IsString(it) ? it->valuestring : "?");
            sep = ", ";
        }
        sep = "; only measured ";
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(l, "measured"))
        {
            printf("%s%s", sep, cJSON_IsString(it) ? it->valuestring : "?");
            sep = ", ";
        }
        if (cJSON_IsNumber(cJSON_GetObjectItem(l, "peak_memory_bytes"))) {
            char *v = human_size(jnum(l, "peak_memory_bytes", 0));
            printf("; peak %s", v);
            free(v);
        }
        if (cJSON_IsNumber(cJSON_GetObjectItem(l, "cpu_time_s"))) {
            char *v = human_duration(jnum(l, "cpu_time_s", 0));
            printf("; cpu %s", v);
            free(v);
        }
        printf("\n");
    }
}

/* One line of the timing-noise verdicts of a host (its facts' "noise",
 * as `benchctl check` gives them): the checks that warned, or ok. */
static void print_noise(const char *label, const cJSON *noise, bool *first)
{
    if (!cJSON_IsObject(noise))
        return;
    printf("  %-10s %s: ", *first ? "noise" : "", label);
    *first = false;
    int n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(noise, "checks"))
        if (strcmp(jstr(c, "verdict", ""), "warn") == 0)
            printf("%s%s", n++ ? ", " : "warn ", jstr(c, "name", "?"));
    printf("%s\n", n ? "" : "ok");
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
        char *d = duration_text(dur);
        printf(" (%s)", d);
        free(d);
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
    bool first = true;
    print_noise("this machine", cJSON_GetObjectItem(mach, "noise"), &first);
    const cJSON *hj;
    cJSON_ArrayForEach(hj, cJSON_GetObjectItem(m, "hosts"))
    {
        char *label = xasprintf("host %s", hj->string ? hj->string : "?");
        print_noise(label, cJSON_GetObjectItem(cJSON_GetObjectItem(hj, "facts"), "noise"), &first);
        free(label);
    }
    if (!first)
        printf("  %-10s (the details and fixes: metadata.json, or `benchctl check` now)\n", "");
    const cJSON *bc = cJSON_GetObjectItem(m, "benchctl");
    if (cJSON_IsObject(bc))
        printf("  benchctl   %s (plugin ABI %s)\n", jstr(bc, "version", "?"), jstr(bc, "abi", "?"));
    const cJSON *params = cJSON_GetObjectItem(m, "parameters");
    if (cJSON_IsObject(params) && params->child) {
        printf("  parameters (-e)\n");
        for (const cJSON *kv = params->child; kv; kv = kv->next)
            printf("    %s = %s\n", kv->string,
                   cJSON_IsString(kv) ? kv->valuestring : "(not a string)");
    }
    const cJSON *custom = cJSON_GetObjectItem(m, "custom");
    if (cJSON_IsObject(custom) && custom->child) {
        printf("  custom\n");
        for (const cJSON *kv = custom->child; kv; kv = kv->next)
            printf("    %s = %s\n", kv->string,
                   cJSON_IsString(kv) ? kv->valuestring : "(not a string)");
    }
    const cJSON *stages = cJSON_GetObjectItem(m, "stages");
    if (cJSON_IsArray(stages) && cJSON_GetArraySize(stages)) {
        printf("  stages\n");
        rtable t;
        rt_init(&t, "llllrrrr", "NAME", "HOST", "CASE", "STATUS", "EXIT", "WALL", "CPU", "RSS",
                NULL);
        const cJSON *s;
        cJSON_ArrayForEach(s, stages)
        {
            rt_add(&t, xstrdup(jstr(s, "name", "?")));
            rt_add(&t, xstrdup(jstr(s, "host", "?")));
            rt_add(&t, xstrdup(jstr(s, "case", "-")));
            rt_add(&t, xstrdup(jstr(s, "status", "?")));
            const cJSON *ex = cJSON_GetObjectItem(s, "exit_status");
            rt_add(&t, cJSON_IsNumber(ex) ? xasprintf("%d", ex->valueint) : NULL);
            rt_add(&t, cJSON_IsNumber(cJSON_GetObjectItem(s, "duration_s"))
                           ? human_duration(jnum(s, "duration_s", 0)) : NULL);
            rt_add(&t, cJSON_IsNumber(cJSON_GetObjectItem(s, "user_cpu_s"))
                           ? human_duration(jnum(s, "user_cpu_s", 0) + jnum(s, "system_cpu_s", 0))
                           : NULL);
            rt_add(&t, cJSON_IsNumber(cJSON_GetObjectItem(s, "max_rss_kb"))
                           ? human_size(jnum(s, "max_rss_kb", 0) * 1024) : NULL);
        }
        rt_print_width(&t, stdout, "    ", term_width(STDOUT_FILENO));
        rt_free(&t);
        print_limits(stages);
    }
    printf("  directory  %s\n", dir);
    char *res = path_join(dir, "results.json");
    if (access(res, F_OK) == 0)
        printf("  statistics results.json (`benchctl stats %s`)\n", jstr(m, "run_id", "?"));
    free(res);
}

int cmd_inspect(int argc, char **argv)
{
    cli_args o = {0};
    int code = cli_parse(argc, argv, &o);
    if (code >= 0)
        return code;
    char *id;
    char *out = cli_store("inspect", &o, 1, argv + optind, &id); /* ID or tag */
    cli_args_free(&o);
    if (!out)
        return EXIT_USAGE;
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
        int64_t num; /* runs stored before run_number existed get it here */
        if (!cJSON_GetObjectItemCaseSensitive(m, "run_number") && parse_int64(id, &num))
            cJSON_AddNumberToObject(m, "run_number", (double)num);
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
    cli_args o = {0};
    int code = cli_parse(argc, argv, &o);
    if (code >= 0)
        return code;
    char *out = cli_store("list", &o, 0, NULL, NULL);
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
    rtable t;
    rt_init(&t, "llllll", "ID", "NAME", "STATUS", "START", "DURATION", "TAGS", NULL);
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
            int64_t num;
            if (parse_int64(ids.v[i], &num))
                cJSON_AddNumberToObject(e, "run_number", (double)num);
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
            rt_add(&t, xstrdup(ids.v[i]));
            rt_add(&t, xstrdup(jstr(m, "benchmark_name", "?")));
            rt_add(&t, xstrdup(jstr(m, "status", "?")));
            rt_add(&t, xstrdup(jstr(m, "start_time", "-")));
            rt_add(&t, duration_text(jnum(m, "duration_s", -1)));
            strvec names = {0};
            runstore_tags_naming(tags, ids.v[i], &names);
            strbuf tl = {0};
            sb_puts(&tl, "");
            for (size_t k = 0; k < names.n; k++)
                sb_printf(&tl, "%s%s", k ? "," : "", names.v[k]);
            rt_add(&t, sb_steal(&tl));
            sv_free(&names);
        }
        cJSON_Delete(m);
    }
    if (!o.json && rt_rows(&t)) {
        rt_print_width(&t, stdout, NULL, term_width(STDOUT_FILENO));
    }
    rt_free(&t);
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
    cli_args o = {0};
    const char *name = argv[0]; /* edit or annotate */
    int code = cli_parse(argc, argv, &o);
    if (code >= 0)
        return code;
    if (o.metadata.n == 0)
        return cli_usage_error(name, "nothing to change: give at least one -m KEY=VALUE");
    char *id;
    char *out = cli_store(name, &o, 1, argv + optind, &id); /* ID or tag */
    if (!out) {
        cli_args_free(&o);
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
    cli_args_free(&o);
    return code;
}

int cmd_plot(int argc, char **argv)
{
    cli_args o = {0};
    int code = cli_parse(argc, argv, &o);
    if (code >= 0)
        return code;
    char *id;
    /* A plots-only file has no output_dir: the runs are found as without -c. */
    const char *cfg = o.config;
    if (cfg && config_is_plots_file(cfg) == 1)
        o.config = NULL;
    char *out = cli_store("plot", &o, 1, argv + optind, &id); /* ID or tag */
    code = out ? engine_plot(id, out, cfg, o.out, o.force, &o.plugin_paths) : EXIT_USAGE;
    free(id);
    free(out);
    cli_args_free(&o);
    return code;
}

int cmd_gc(int argc, char **argv)
{
    cli_args o = {0};
    int code = cli_parse(argc, argv, &o);
    if (code >= 0)
        return code;
    char *out = cli_store("gc", &o, 0, NULL, NULL);
    code = out ? engine_gc(out, &o.plugin_paths) : EXIT_USAGE;
    free(out);
    cli_args_free(&o);
    return code;
}
