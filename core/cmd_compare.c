/*
 * `benchctl compare ID1 ID2`: two stored runs side by side — status,
 * duration, custom metadata (in sorted key order, numeric changes in
 * percent) and per-stage wall times.  Statistics over the collected data
 * belong to the statistics feature.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "engine.h"
#include "runstore.h"

static bool as_number(const cJSON *v, double *out)
{
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return true;
    }
    return cJSON_IsString(v) && parse_double(v->valuestring, out);
}

/* Change from a to b in percent; false when not meaningful. */
static bool change_pct(const cJSON *a, const cJSON *b, double *pct)
{
    double x, y;
    if (!as_number(a, &x) || !as_number(b, &y) || x == 0)
        return false;
    *pct = (y - x) / fabs(x) * 100.0;
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted union of the keys of two objects. */
static void union_keys(const cJSON *a, const cJSON *b, strvec *out)
{
    const cJSON *objs[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        const cJSON *it;
        cJSON_ArrayForEach(it, objs[i]) if (it->string && !sv_contains(out, it->string))
            sv_push(out, it->string);
    }
    if (out->n)
        qsort(out->v, out->n, sizeof *out->v, cmp_str);
}

static char *value_text(const cJSON *v)
{
    if (!v || cJSON_IsNull(v))
        return xstrdup("-");
    if (cJSON_IsString(v))
        return xstrdup(v->valuestring);
    if (cJSON_IsNumber(v))
        return xasprintf("%.6g", v->valuedouble);
    char *p = cJSON_PrintUnformatted(v);
    char *s = xstrdup(p);
    free(p);
    return s;
}

static char *stage_key(const cJSON *s)
{
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(s, "name"));
    const char *host = cJSON_GetStringValue(cJSON_GetObjectItem(s, "host"));
    const char *cs = cJSON_GetStringValue(cJSON_GetObjectItem(s, "case"));
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItem(s, "kind"));
    return xasprintf("%s%s@%s%s%s%s", kind && strcmp(kind, "cleanup") == 0 ? "cleanup:" : "",
                     name ? name : "?", host ? host : "?", cs ? " [" : "", cs ? cs : "",
                     cs ? "]" : "");
}

/* {stage key: duration_s} of a run, in the run's order (keys in *order). */
static cJSON *stage_times(const cJSON *meta, strvec *order)
{
    cJSON *o = cJSON_CreateObject();
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(meta, "stages"))
    {
        char *k = stage_key(s);
        const cJSON *d = cJSON_GetObjectItem(s, "duration_s");
        if (!cJSON_GetObjectItem(o, k))
            cJSON_AddItemToObject(o, k, d ? cJSON_Duplicate(d, 1) : cJSON_CreateNull());
        if (!sv_contains(order, k))
            sv_push(order, k);
        free(k);
    }
    return o;
}

static void print_row(const char *label, const cJSON *a, const cJSON *b, bool pct)
{
    char *x = value_text(a), *y = value_text(b);
    double p;
    char change[32] = "";
    if (pct && change_pct(a, b, &p))
        snprintf(change, sizeof change, "%+.1f%%", p);
    printf("  %-30s %-28s %-28s %s\n", label, x, y, change);
    free(x);
    free(y);
}

int cmd_compare(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"output-dir", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cfg = "benchmark.yaml", *outdir = NULL;
    bool json = false;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            cfg = optarg;
            break;
        case 'o':
            outdir = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            cli_print_help("compare");
            return EXIT_OK;
        case ':':
            return cli_usage_error("compare", "option %s needs a value", argv[optind - 1]);
        default:
            return cli_bad_option("compare", argv);
        }
    }
    if (argc - optind != 2)
        return cli_usage_error("compare", "give exactly two run IDs");
    char *out = cli_output_dir("compare", cfg, outdir);
    if (!out)
        return EXIT_USAGE;
    cJSON *m[2] = {NULL, NULL};
    int code = EXIT_OK;
    for (int i = 0; i < 2; i++) {
        char *err = NULL;
        m[i] = runstore_read(out, argv[optind + i], &err);
        if (!m[i]) {
            fprintf(stderr, "benchctl compare: %s\n", err);
            free(err);
            code = EXIT_USAGE;
        }
    }
    if (code != EXIT_OK)
        goto done;

    const char *fields[] = {"benchmark_name", "status", "start_time", "duration_s", NULL};
    strvec keys = {0}, order = {0};
    const cJSON *ca = cJSON_GetObjectItem(m[0], "custom"), *cb = cJSON_GetObjectItem(m[1], "custom");
    union_keys(ca, cb, &keys);
    cJSON *ta = stage_times(m[0], &order), *tb = stage_times(m[1], &order);

    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON *runs = cJSON_AddArrayToObject(root, "runs");
        for (int i = 0; i < 2; i++)
            cJSON_AddItemToArray(runs, cJSON_CreateString(argv[optind + i]));
        for (int f = 0; fields[f]; f++) {
            cJSON *pair = cJSON_AddArrayToObject(root, fields[f]);
            for (int i = 0; i < 2; i++) {
                const cJSON *v = cJSON_GetObjectItem(m[i], fields[f]);
                cJSON_AddItemToArray(pair, v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
            }
        }
        double p;
        if (change_pct(cJSON_GetObjectItem(m[0], "duration_s"),
                       cJSON_GetObjectItem(m[1], "duration_s"), &p))
            cJSON_AddNumberToObject(root, "duration_change_pct", p);
        cJSON *cj = cJSON_AddArrayToObject(root, "custom");
        for (size_t k = 0; k < keys.n; k++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "key", keys.v[k]);
            cJSON *vals = cJSON_AddArrayToObject(e, "values");
            const cJSON *va = cJSON_GetObjectItem(ca, keys.v[k]), *vb = cJSON_GetObjectItem(cb, keys.v[k]);
            cJSON_AddItemToArray(vals, va ? cJSON_Duplicate(va, 1) : cJSON_CreateNull());
            cJSON_AddItemToArray(vals, vb ? cJSON_Duplicate(vb, 1) : cJSON_CreateNull());
            if (change_pct(va, vb, &p))
                cJSON_AddNumberToObject(e, "change_pct", p);
            cJSON_AddItemToArray(cj, e);
        }
        cJSON *sj = cJSON_AddArrayToObject(root, "stages");
        for (size_t k = 0; k < order.n; k++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "stage", order.v[k]);
            cJSON *vals = cJSON_AddArrayToObject(e, "duration_s");
            const cJSON *va = cJSON_GetObjectItem(ta, order.v[k]), *vb = cJSON_GetObjectItem(tb, order.v[k]);
            cJSON_AddItemToArray(vals, va ? cJSON_Duplicate(va, 1) : cJSON_CreateNull());
            cJSON_AddItemToArray(vals, vb ? cJSON_Duplicate(vb, 1) : cJSON_CreateNull());
            if (change_pct(va, vb, &p))
                cJSON_AddNumberToObject(e, "change_pct", p);
            cJSON_AddItemToArray(sj, e);
        }
        char *text = cJSON_Print(root);
        printf("%s\n", text);
        free(text);
        cJSON_Delete(root);
    } else {
        char ha[32], hb[32];
        snprintf(ha, sizeof ha, "run %s", argv[optind]);
        snprintf(hb, sizeof hb, "run %s", argv[optind + 1]);
        printf("  %-30s %-28s %-28s %s\n", "", ha, hb, "change");
        for (int f = 0; fields[f]; f++)
            print_row(fields[f], cJSON_GetObjectItem(m[0], fields[f]),
                      cJSON_GetObjectItem(m[1], fields[f]), strcmp(fields[f], "duration_s") == 0);
        if (keys.n) {
            printf("custom\n");
            for (size_t k = 0; k < keys.n; k++)
                print_row(keys.v[k], cJSON_GetObjectItem(ca, keys.v[k]),
                          cJSON_GetObjectItem(cb, keys.v[k]), true);
        }
        if (order.n) {
            printf("stages (wall time, s)\n");
            for (size_t k = 0; k < order.n; k++)
                print_row(order.v[k], cJSON_GetObjectItem(ta, order.v[k]),
                          cJSON_GetObjectItem(tb, order.v[k]), true);
        }
    }
    cJSON_Delete(ta);
    cJSON_Delete(tb);
    sv_free(&keys);
    sv_free(&order);
done:
    cJSON_Delete(m[0]);
    cJSON_Delete(m[1]);
    free(out);
    return code;
}
