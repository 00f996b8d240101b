/*
 * benchctl profile ID [ID2]: the profiles a run kept (`profile:` stages):
 * the hottest functions of each profiled stage and host, or — with two
 * runs — the change in each function's share of samples and a
 * differential flame graph per stage (analysis/folded.h, report/flame.h).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "analysis/folded.h"
#include "cli/cli.h"
#include "report/flame.h"
#include "run/engine.h"
#include "store/runstore.h"

#define DEFAULT_TOP 10

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* "stage on host [case]" / "stage node N on host": a record's place. */
static char *rec_label(const cJSON *rec)
{
    const char *host = jstr(rec, "host");
    const char *cs = jstr(rec, "case");
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(rec, "node");
    char nodebuf[32] = "";
    if (cJSON_IsNumber(node))
        snprintf(nodebuf, sizeof nodebuf, " node %d", node->valueint);
    bool all = host && strcmp(host, "*") == 0;
    return xasprintf("%s%s%s%s%s%s%s", jstr(rec, "name") ? jstr(rec, "name") : "?", nodebuf,
                     all ? " (all nodes)" : " on ", all ? "" : host ? host : "?",
                     cs ? " [case " : "", cs ? cs : "", cs ? "]" : "");
}

/* The records of meta with a profile (of stage only, when given). */
static size_t profiled(const cJSON *meta, const char *stage, const cJSON **out, size_t cap)
{
    size_t n = 0;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, cJSON_GetObjectItemCaseSensitive(meta, "stages"))
    {
        if (!cJSON_GetObjectItemCaseSensitive(rec, "profile"))
            continue;
        if (stage && (!jstr(rec, "name") || strcmp(jstr(rec, "name"), stage) != 0))
            continue;
        if (n < cap)
            out[n++] = rec;
    }
    return n;
}

static void print_list(const cJSON *list, const char *what, int64_t top)
{
    printf("  %-6s %8s %7s  %s\n", what, "samples", "share", "function");
    int64_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, list)
    {
        if (i++ >= top)
            break;
        printf("  %-6s %8.0f %6.1f%%  %s\n", "", jnum(e, "samples"), jnum(e, "share") * 100,
               jstr(e, "function") ? jstr(e, "function") : "?");
    }
}

/* A copy of a profile with its top lists cut to top entries. */
static cJSON *cut_profile(const cJSON *prof, int64_t top)
{
    cJSON *p = cJSON_Duplicate(prof, true);
    const char *lists[] = {"top_self", "top_total"};
    for (int k = 0; k < 2; k++) {
        cJSON *l = cJSON_GetObjectItemCaseSensitive(p, lists[k]);
        while (cJSON_IsArray(l) && cJSON_GetArraySize(l) > top)
            cJSON_DeleteItemFromArray(l, cJSON_GetArraySize(l) - 1);
    }
    return p;
}

static int show_one(const char *out, const char *id, const cJSON *meta, const cli_args *o,
                    int64_t top)
{
    const cJSON *recs[4096];
    size_t n = profiled(meta, o->stage, recs, 4096);
    if (n == 0) {
        fprintf(stderr, "benchctl profile: run %s has no profiled stage%s%s%s (a stage's "
                "`profile:` key records one)\n", id, o->stage ? " named '" : "",
                o->stage ? o->stage : "", o->stage ? "'" : "");
        return EXIT_RUN_FAILED;
    }
    if (o->json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "run", id);
        cJSON *arr = cJSON_AddArrayToObject(root, "stages");
        for (size_t i = 0; i < n; i++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "stage", jstr(recs[i], "name"));
            cJSON_AddStringToObject(e, "host", jstr(recs[i], "host") ? jstr(recs[i], "host") : "");
            if (jstr(recs[i], "case"))
                cJSON_AddStringToObject(e, "case", jstr(recs[i], "case"));
            const cJSON *node = cJSON_GetObjectItemCaseSensitive(recs[i], "node");
            if (cJSON_IsNumber(node))
                cJSON_AddNumberToObject(e, "node", node->valuedouble);
            cJSON_AddItemToObject(e, "profile",
                                  cut_profile(cJSON_GetObjectItem(recs[i], "profile"), top));
            cJSON_AddItemToArray(arr, e);
        }
        char *text = cJSON_Print(root);
        puts(text);
        free(text);
        cJSON_Delete(root);
        return EXIT_OK;
    }
    for (size_t i = 0; i < n; i++) {
        const cJSON *p = cJSON_GetObjectItem(recs[i], "profile");
        char *label = rec_label(recs[i]);
        printf("%s%s\n", i ? "\n" : "", label);
        free(label);
        if (jstr(p, "error")) {
            printf("  no profile: %s\n", jstr(p, "error"));
            continue;
        }
        printf("  %.0f samples (profiler %s)", jnum(p, "samples"), jstr(p, "profiler"));
        if (jstr(p, "flamegraph"))
            printf(", flame graph: %s/%s/%s", out, id, jstr(p, "flamegraph"));
        printf("\n");
        print_list(cJSON_GetObjectItem(p, "top_self"), "self", top);
        print_list(cJSON_GetObjectItem(p, "top_total"), "total", top);
    }
    return EXIT_OK;
}

static bool same_place(const cJSON *a, const cJSON *b)
{
    const char *keys[] = {"name", "host", "case"};
    for (int k = 0; k < 3; k++) {
        const char *x = jstr(a, keys[k]), *y = jstr(b, keys[k]);
        if ((x == NULL) != (y == NULL) || (x && strcmp(x, y) != 0))
            return false;
    }
    const cJSON *na = cJSON_GetObjectItem(a, "node"), *nb = cJSON_GetObjectItem(b, "node");
    return cJSON_IsNumber(na) == cJSON_IsNumber(nb) &&
           (!cJSON_IsNumber(na) || na->valueint == nb->valueint);
}

/* A record's folded stacks; false when it has none. */
static bool load_folded(const char *run_dir, const cJSON *rec, folded *f)
{
    const char *rel = jstr(cJSON_GetObjectItem(rec, "profile"), "folded");
    if (!rel)
        return false;
    char *path = path_join(run_dir, rel);
    char *err = NULL;
    bool ok = folded_load(f, path, &err);
    free(err);
    free(path);
    return ok;
}

/* "profiles/x.folded" -> "x.svg" (its path below profiles/, '/' kept) */
static char *diff_svg_name(const char *folded_rel)
{
    const char *s = strncmp(folded_rel, "profiles/", 9) == 0 ? folded_rel + 9 : folded_rel;
    char *n = xstrdup(s);
    size_t l = strlen(n);
    if (l > 7 && strcmp(n + l - 7, ".folded") == 0)
        n[l - 7] = '\0';
    char *r = xasprintf("%s.svg", n);
    free(n);
    return r;
}

static int show_diff(const char *out, char *const *ids, const cJSON *m1, const cJSON *m2,
                     const cli_args *o, int64_t top)
{
    const cJSON *r1[4096], *r2[4096];
    size_t n1 = profiled(m1, o->stage, r1, 4096), n2 = profiled(m2, o->stage, r2, 4096);
    char *dir1 = path_join(out, ids[0]), *dir2 = path_join(out, ids[1]);
    char *outdir = o->out ? xstrdup(o->out) : xasprintf("%s/profiles/diff-%s", dir2, ids[0]);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "before", ids[0]);
    cJSON_AddStringToObject(root, "after", ids[1]);
    cJSON *arr = cJSON_AddArrayToObject(root, "stages");
    size_t shown = 0;
    for (size_t i = 0; i < n2; i++) {
        const cJSON *b = NULL;
        for (size_t k = 0; k < n1 && !b; k++)
            if (same_place(r1[k], r2[i]))
                b = r1[k];
        folded fb, fa;
        folded_init(&fb);
        folded_init(&fa);
        if (b && load_folded(dir1, b, &fb) && load_folded(dir2, r2[i], &fa)) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "stage", jstr(r2[i], "name"));
            cJSON_AddStringToObject(e, "host", jstr(r2[i], "host") ? jstr(r2[i], "host") : "");
            if (jstr(r2[i], "case"))
                cJSON_AddStringToObject(e, "case", jstr(r2[i], "case"));
            cJSON_AddNumberToObject(e, "samples_before", (double)fb.samples);
            cJSON_AddNumberToObject(e, "samples_after", (double)fa.samples);
            cJSON_AddItemToObject(e, "functions", folded_diff_json(&fb, &fa, (size_t)top));
            folded_mark_base(&fa, &fb);
            char *name = diff_svg_name(jstr(cJSON_GetObjectItem(r2[i], "profile"), "folded"));
            char *svg = path_join(outdir, name);
            char *d = dir_name(svg);
            mkdir_p(d, 0755);
            free(d);
            char *label = rec_label(r2[i]);
            char *title = xasprintf("Differential flame graph: %s, run %s against %s", label,
                                    ids[1], ids[0]);
            char *err = NULL;
            if (flame_write(svg, &fa, title, true, &err))
                cJSON_AddStringToObject(e, "flamegraph", svg);
            else
                fprintf(stderr, "benchctl profile: %s\n", err);
            free(err);
            free(title);
            cJSON_AddItemToArray(arr, e);
            shown++;
            if (!o->json) {
                printf("%s%s: %llu samples in %s, %llu in %s\n", shown > 1 ? "\n" : "", label,
                       (unsigned long long)fb.samples, ids[0], (unsigned long long)fa.samples,
                       ids[1]);
                printf("  %21s   %21s\n", "self share", "total share");
                printf("  %6s %6s %7s   %6s %6s %7s  %s\n", "before", "after", "change", "before",
                       "after", "change", "function");
                const cJSON *f;
                cJSON_ArrayForEach(f, cJSON_GetObjectItem(e, "functions"))
                {
                    printf("  %5.1f%% %5.1f%% %+6.1f%%   %5.1f%% %5.1f%% %+6.1f%%  %s\n",
                           jnum(f, "self_before") * 100, jnum(f, "self_after") * 100,
                           jnum(f, "self_delta") * 100, jnum(f, "total_before") * 100,
                           jnum(f, "total_after") * 100, jnum(f, "total_delta") * 100,
                           jstr(f, "function"));
                }
                if (jstr(e, "flamegraph"))
                    printf("  differential flame graph: %s\n", jstr(e, "flamegraph"));
            }
            free(label);
            free(svg);
            free(name);
        }
        folded_free(&fb);
        folded_free(&fa);
    }
    int code = EXIT_OK;
    if (shown == 0) {
        fprintf(stderr, "benchctl profile: runs %s and %s have no profiled stage%s%s%s in common "
                "(same stage, host and case, with folded stacks in both)\n", ids[0], ids[1],
                o->stage ? " named '" : "", o->stage ? o->stage : "", o->stage ? "'" : "");
        code = EXIT_RUN_FAILED;
    } else if (o->json) {
        char *text = cJSON_Print(root);
        puts(text);
        free(text);
    }
    cJSON_Delete(root);
    free(outdir);
    free(dir1);
    free(dir2);
    return code;
}

int cmd_profile(int argc, char **argv)
{
    cli_args o = {0};
    int code = cli_parse(argc, argv, &o);
    if (code >= 0)
        return code;
    int n = argc - optind;
    char *ids[2] = {NULL, NULL};
    cJSON *meta[2] = {NULL, NULL};
    char *out = cli_store("profile", &o, (size_t)n, argv + optind, ids);
    code = EXIT_USAGE;
    if (!out)
        goto done;
    for (int i = 0; i < n; i++) {
        char *err = NULL;
        meta[i] = runstore_read(out, ids[i], &err);
        if (!meta[i]) {
            fprintf(stderr, "benchctl profile: %s\n", err ? err : "cannot read the run");
            free(err);
            goto done;
        }
    }
    int64_t top = o.top > 0 ? o.top : DEFAULT_TOP;
    code = n == 1 ? show_one(out, ids[0], meta[0], &o, top)
                  : show_diff(out, ids, meta[0], meta[1], &o, top);
done:
    for (int i = 0; i < 2; i++) {
        cJSON_Delete(meta[i]);
        free(ids[i]);
    }
    free(out);
    cli_args_free(&o);
    return code;
}
