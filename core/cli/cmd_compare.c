/*
 * `benchctl compare`: runs (ID1 the baseline, ID2... candidates) or the
 * cases of one run (--cases), in two parts:
 *  - metadata: status, duration, custom metadata (sorted keys, numeric
 *    changes in percent) and per-stage wall times side by side (runs mode);
 *  - statistics: every metric of results.json tested against the baseline
 *    (compare_stats.c), with verdicts, winners and a summary.
 * The JSON output keeps the keys of the metadata-only compare at the top
 * level (backward compatible) and adds the rest beside them
 * (docs/schema/compare.schema.json).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "analysis/compare_stats.h"
#include "run/engine.h"
#include "analysis/report.h"
#include "store/runstore.h"

/* The options, and the statistics' options made of them. */
typedef struct cmp_opts {
    const char *baseline;
    bool json, markdown, cases, fail_on_regression;
    cs_options stats;
} cmp_opts;

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

/* One row of the metadata comparison: the values of n runs, and the
 * change of each candidate from the baseline. */
typedef struct meta_row {
    const char *label;
    const cJSON *v[64];
    bool pct;
} meta_row;

/* Add {values-key: [...], change_pct (two runs, as before), changes_pct}. */
static void row_json(cJSON *e, const char *values_key, const meta_row *r, size_t n)
{
    cJSON *vals = cJSON_AddArrayToObject(e, values_key);
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(vals, r->v[i] ? cJSON_Duplicate(r->v[i], 1) : cJSON_CreateNull());
    double p;
    if (n == 2 && change_pct(r->v[0], r->v[1], &p))
        cJSON_AddNumberToObject(e, "change_pct", p);
    cJSON *ch = cJSON_AddArrayToObject(e, "changes_pct");
    for (size_t i = 1; i < n; i++)
        cJSON_AddItemToArray(ch, change_pct(r->v[0], r->v[i], &p) ? cJSON_CreateNumber(p)
                                                                  : cJSON_CreateNull());
}

static void row_text(const meta_row *r, size_t n, rtable *md)
{
    strbuf changes = {0};
    double p;
    for (size_t i = 1; i < n; i++) {
        if (r->pct && change_pct(r->v[0], r->v[i], &p))
            sb_printf(&changes, "%s%+.1f%%", changes.len ? " " : "", p);
        else if (n > 2)
            sb_printf(&changes, "%s-", changes.len ? " " : "");
    }
    if (md) {
        rt_add(md, xstrdup(r->label));
        for (size_t i = 0; i < n; i++)
            rt_add(md, value_text(r->v[i]));
        rt_add(md, xstrdup(changes.len ? changes.buf : ""));
    } else {
        printf("  %-30s", r->label);
        for (size_t i = 0; i < n; i++) {
            char *x = value_text(r->v[i]);
            printf(" %-28s", x);
            free(x);
        }
        printf(" %s\n", changes.len ? changes.buf : "");
    }
    sb_free(&changes);
}

/* The metadata section for n runs (metas[i], shown as names[i]).  Adds
 * the JSON keys of the metadata-only compare to json when given; prints
 * it as text or into the Markdown table md otherwise. */
static void metadata_section(cJSON **metas, const char *const *ids, const char *const *names,
                             size_t n, cJSON *json, rtable *md)
{
    static const char *const fields[] = {"benchmark_name", "status", "start_time", "duration_s",
                                         NULL};
    strvec keys = {0}, order = {0};
    cJSON *times[64];
    for (size_t i = 0; i < n; i++) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(metas[i], "custom"))
        {
            if (it->string && !sv_contains(&keys, it->string))
                sv_push(&keys, it->string);
        }
        times[i] = stage_times(metas[i], &order);
    }
    if (keys.n)
        qsort(keys.v, keys.n, sizeof *keys.v, cmp_str);
    meta_row r;
    if (json) {
        cJSON *runs = cJSON_AddArrayToObject(json, "runs");
        cJSON *nums = cJSON_AddArrayToObject(json, "run_numbers"); /* the same, as integers */
        for (size_t i = 0; i < n; i++) {
            int64_t num = 0;
            cJSON_AddItemToArray(runs, cJSON_CreateString(ids[i]));
            cJSON_AddItemToArray(nums, parse_int64(ids[i], &num) ? cJSON_CreateNumber((double)num)
                                                                 : cJSON_CreateNull());
        }
    } else if (!md) {
        printf("metadata\n  %-30s", "");
        for (size_t i = 0; i < n; i++)
            printf(" %-28s", names[i]);
        printf(" %s\n", "change");
    }
    for (int f = 0; fields[f]; f++) {
        r.label = fields[f];
        r.pct = strcmp(fields[f], "duration_s") == 0;
        for (size_t i = 0; i < n; i++)
            r.v[i] = cJSON_GetObjectItem(metas[i], fields[f]);
        if (json) {
            cJSON *arr = cJSON_AddArrayToObject(json, fields[f]);
            for (size_t i = 0; i < n; i++)
                cJSON_AddItemToArray(arr, r.v[i] ? cJSON_Duplicate(r.v[i], 1) : cJSON_CreateNull());
            double p;
            if (r.pct && n == 2 && change_pct(r.v[0], r.v[1], &p))
                cJSON_AddNumberToObject(json, "duration_change_pct", p);
        } else {
            row_text(&r, n, md);
        }
    }
    cJSON *cj = json ? cJSON_AddArrayToObject(json, "custom") : NULL;
    if (!json && !md && keys.n)
        printf("custom\n");
    char *label = NULL; /* Markdown has one table: say which part a row is from */
    for (size_t k = 0; k < keys.n; k++) {
        free(label);
        r.label = md ? (label = xasprintf("custom: %s", keys.v[k])) : keys.v[k];
        r.pct = true;
        for (size_t i = 0; i < n; i++)
            r.v[i] = cJSON_GetObjectItem(cJSON_GetObjectItem(metas[i], "custom"), keys.v[k]);
        if (json) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "key", keys.v[k]);
            row_json(e, "values", &r, n);
            cJSON_AddItemToArray(cj, e);
        } else {
            row_text(&r, n, md);
        }
    }
    cJSON *sj = json ? cJSON_AddArrayToObject(json, "stages") : NULL;
    if (!json && !md && order.n)
        printf("stages (wall time, s)\n");
    for (size_t k = 0; k < order.n; k++) {
        free(label);
        r.label = md ? (label = xasprintf("stage %s (s)", order.v[k])) : order.v[k];
        for (size_t i = 0; i < n; i++)
            r.v[i] = cJSON_GetObjectItem(times[i], order.v[k]);
        if (json) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "stage", order.v[k]);
            row_json(e, "duration_s", &r, n);
            cJSON_AddItemToArray(sj, e);
        } else {
            row_text(&r, n, md);
        }
    }
    free(label);
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(times[i]);
    sv_free(&keys);
    sv_free(&order);
}

#define MAX_RUNS 64

/* What the table cannot say: how many IDs go with --cases and --baseline.
 * -1 to go on, or an exit code. */
static int check_ids(int nids, const cli_args *o)
{
    if (o->cases && nids != 1)
        return cli_usage_error("compare", "--cases compares the cases of one run: give one run ID");
    if (!o->cases && o->baseline)
        return cli_usage_error("compare", "--baseline names a case and needs --cases (with runs, "
                                          "the first ID is the baseline)");
    if (!o->cases && nids < 2)
        return cli_usage_error("compare", "give at least two run IDs (the first is the baseline), "
                                          "or one run ID and --cases");
    if (nids > MAX_RUNS)
        return cli_usage_error("compare", "at most %d runs at once", MAX_RUNS);
    return -1;
}

/* The JSON output: format and version, then the metadata keys (also
 * under "metadata"), then the statistics' keys. */
static void print_json(cJSON *meta, cJSON *stats)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "format", "benchctl-compare");
    cJSON_AddNumberToObject(root, "version", 1);
    if (meta) {
        for (const cJSON *it = meta->child; it; it = it->next)
            cJSON_AddItemToObject(root, it->string, cJSON_Duplicate(it, 1));
        cJSON_AddItemToObject(root, "metadata", meta);
    } else {
        cJSON_AddNullToObject(root, "metadata");
    }
    while (stats->child) {
        cJSON *it = cJSON_DetachItemViaPointer(stats, stats->child);
        cJSON_AddItemToObject(root, it->string, it);
    }
    cJSON_Delete(stats);
    char *text = cJSON_Print(root);
    printf("%s\n", text);
    free(text);
    cJSON_Delete(root);
}

/* Was stage profiled (with folded stacks) in the run meta? */
static bool stage_profiled(const cJSON *meta, const char *stage)
{
    const cJSON *rec;
    cJSON_ArrayForEach(rec, cJSON_GetObjectItemCaseSensitive(meta, "stages"))
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "name"));
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(rec, "profile");
        if (name && strcmp(name, stage) == 0 &&
            cJSON_IsString(cJSON_GetObjectItemCaseSensitive(p, "folded")))
            return true;
    }
    return false;
}

/* A stage whose wall time regressed and that was profiled in both runs:
 * a note naming `benchctl profile BASE RUN --stage S`, and a "profiles"
 * entry (docs/schema/compare.schema.json). */
static void profile_links(cJSON *stats, cJSON **metas, char **ids, size_t n)
{
    const cJSON *variants = cJSON_GetObjectItemCaseSensitive(stats, "variants");
    cJSON *links = NULL;
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(stats, "metrics"))
    {
        const char *metric = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "metric"));
        size_t ml = metric ? strlen(metric) : 0;
        if (ml < 14 || strncmp(metric, "stage:", 6) != 0 || strcmp(metric + ml - 7, ".wall_s") != 0)
            continue;
        char *stage = xstrndup(metric + 6, ml - 13);
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(m, "comparisons"))
        {
            const char *verdict = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "verdict"));
            const char *label = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "variant"));
            if (!verdict || strcmp(verdict, "regressed") != 0 || !label)
                continue;
            size_t k = n;
            const cJSON *v;
            int i = 0;
            cJSON_ArrayForEach(v, variants)
            {
                const char *vl = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "label"));
                if (vl && strcmp(vl, label) == 0 && (size_t)i < n)
                    k = (size_t)i;
                i++;
            }
            if (k == n || k == 0 || !stage_profiled(metas[0], stage) ||
                !stage_profiled(metas[k], stage))
                continue;
            char *cmd = xasprintf("benchctl profile %s %s --stage %s", ids[0], ids[k], stage);
            char *note = xasprintf("stage '%s' regressed in run %s and was profiled in both runs: "
                                   "'%s' shows which functions grew", stage, ids[k], cmd);
            cJSON *notes = cJSON_GetObjectItemCaseSensitive(stats, "notes");
            if (cJSON_IsArray(notes))
                cJSON_AddItemToArray(notes, cJSON_CreateString(note));
            if (!links)
                links = cJSON_AddArrayToObject(stats, "profiles");
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "stage", stage);
            const cJSON *cs = cJSON_GetObjectItemCaseSensitive(m, "case");
            if (cJSON_IsString(cs))
                cJSON_AddStringToObject(e, "case", cs->valuestring);
            cJSON_AddStringToObject(e, "before", ids[0]);
            cJSON_AddStringToObject(e, "after", ids[k]);
            cJSON_AddStringToObject(e, "command", cmd);
            cJSON_AddItemToArray(links, e);
            free(note);
            free(cmd);
        }
        free(stage);
    }
}

static int finish(cJSON *stats, const cmp_opts *o)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(stats, "regressions");
    return o->fail_on_regression && cJSON_IsNumber(r) && r->valuedouble > 0 ? EXIT_REGRESSION
                                                                            : EXIT_OK;
}

/* Markdown: the metadata table folded away below the statistics. */
static void print_metadata_md(cJSON **metas, const char *const *ids, const char *const *names,
                              size_t n)
{
    const char *headers[MAX_RUNS + 3];
    headers[0] = "";
    for (size_t i = 0; i < n; i++)
        headers[i + 1] = names[i];
    headers[n + 1] = "change";
    headers[n + 2] = NULL;
    rtable t;
    rt_init_list(&t, NULL, headers);
    metadata_section(metas, ids, names, n, NULL, &t);
    printf("\n<details><summary>Run metadata</summary>\n\n");
    rt_print(&t, stdout, true, NULL);
    printf("\n</details>\n");
    rt_free(&t);
}

static int compare_runs(const char *out, char **ids, char **labels, size_t n, const cmp_opts *o)
{
    cJSON *metas[MAX_RUNS] = {0}, *results[MAX_RUNS] = {0};
    char *notes[MAX_RUNS] = {0}, *dirs[MAX_RUNS] = {0}, *names[MAX_RUNS] = {0};
    int code = EXIT_OK;
    for (size_t i = 0; i < n; i++) {
        char *err = NULL;
        metas[i] = runstore_read(out, ids[i], &err);
        if (metas[i]) {
            runstore_results_status st = runstore_read_results(out, ids[i], &results[i], &err);
            if (st == RUNSTORE_RESULTS_MISSING) {
                notes[i] = err; /* not an error: compared by metadata only */
                err = NULL;
            }
        }
        if (err) {
            fprintf(stderr, "benchctl compare: %s\n", err);
            free(err);
            code = EXIT_USAGE;
        }
        dirs[i] = xasprintf("%s/%s", out, ids[i]);
        names[i] = strcmp(ids[i], labels[i]) == 0 ? xasprintf("run %s", ids[i])
                                                  : xasprintf("run %s (%s)", ids[i], labels[i]);
    }
    if (code != EXIT_OK)
        goto done;
    cs_variant v[MAX_RUNS];
    for (size_t i = 0; i < n; i++)
        v[i] = (cs_variant){.label = labels[i],
                            .run_id = ids[i],
                            .run_dir = dirs[i],
                            .results = results[i],
                            .note = notes[i]};
    cJSON *stats = cs_compare(v, n, false, &o->stats);
    profile_links(stats, metas, ids, n);
    code = finish(stats, o);
    if (o->json) {
        cJSON *meta = cJSON_CreateObject();
        metadata_section(metas, (const char *const *)ids, (const char *const *)names, n, meta,
                         NULL);
        print_json(meta, stats);
        stats = NULL;
    } else if (o->markdown) {
        cs_print(stats, stdout, true);
        print_metadata_md(metas, (const char *const *)ids, (const char *const *)names, n);
    } else {
        metadata_section(metas, (const char *const *)ids, (const char *const *)names, n, NULL,
                         NULL);
        printf("\n");
        cs_print(stats, stdout, false);
    }
    cJSON_Delete(stats);
done:
    for (size_t i = 0; i < n; i++) {
        cJSON_Delete(metas[i]);
        cJSON_Delete(results[i]);
        free(notes[i]);
        free(dirs[i]);
        free(names[i]);
    }
    return code;
}

/* --cases: the cases of one run; the baseline is the first case or
 * --baseline. */
static int compare_cases(const char *out, const char *id, const char *label, const cmp_opts *o)
{
    cJSON *res = NULL;
    char *err = NULL;
    runstore_results_status st = runstore_read_results(out, id, &res, &err);
    if (st != RUNSTORE_RESULTS_OK) {
        fprintf(stderr, "benchctl compare: %s%s\n", err,
                st == RUNSTORE_RESULTS_MISSING ? "; --cases needs the statistics of results.json"
                                               : "");
        free(err);
        return EXIT_USAGE;
    }
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(res, "cases"), *cs;
    size_t n = 0, base = 0;
    strvec list = {0};
    cJSON_ArrayForEach(cs, cases)
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cs, "name"));
        sv_push(&list, name ? name : "");
        if (o->baseline && name && strcmp(name, o->baseline) == 0)
            base = n;
        n++;
    }
    int code = EXIT_USAGE;
    strbuf known = {0};
    for (size_t i = 0; i < list.n; i++)
        sb_printf(&known, "%s%s", i ? ", " : "", list.v[i]);
    if (n < 2) {
        fprintf(stderr, "benchctl compare: run %s has %s; --cases compares the cases "
                "(cases: or matrix: in its config) of one run and needs at least two\n", id,
                n ? "a single case" : "no cases");
        goto done;
    }
    if (o->baseline && !sv_contains(&list, o->baseline)) {
        fprintf(stderr, "benchctl compare: run %s has no case '%s' (its cases: %s)\n", id,
                o->baseline, known.buf);
        goto done;
    }
    if (n > MAX_RUNS) {
        fprintf(stderr, "benchctl compare: run %s has %zu cases; --cases compares at most %d\n", id,
                n, MAX_RUNS);
        goto done;
    }
    char *dir = xasprintf("%s/%s", out, id);
    cs_variant v[MAX_RUNS];
    size_t k = 0;
    v[k++] = (cs_variant){.label = list.v[base],
                          .run_id = id,
                          .run_dir = dir,
                          .case_name = list.v[base],
                          .results = res};
    for (size_t i = 0; i < n; i++)
        if (i != base)
            v[k++] = (cs_variant){.label = list.v[i],
                                  .run_id = id,
                                  .run_dir = dir,
                                  .case_name = list.v[i],
                                  .results = res};
    cJSON *stats = cs_compare(v, n, true, &o->stats);
    code = finish(stats, o);
    if (o->json) {
        print_json(NULL, stats);
    } else {
        if (o->markdown)
            printf("## Run %s%s%s%s: its cases compared\n\n", id, strcmp(id, label) ? " (" : "",
                   strcmp(id, label) ? label : "", strcmp(id, label) ? ")" : "");
        else
            printf("run %s: its cases compared\n\n", id);
        cs_print(stats, stdout, o->markdown);
        cJSON_Delete(stats);
    }
    free(dir);
done:
    sb_free(&known);
    sv_free(&list);
    cJSON_Delete(res);
    return code;
}

int cmd_compare(int argc, char **argv)
{
    cli_args a = {.alpha = 0.01, .threshold = 0.05};
    int code = cli_parse(argc, argv, &a);
    if (code >= 0)
        return code;
    int nids = argc - optind;
    code = check_ids(nids, &a);
    if (code >= 0)
        return code;
    cmp_opts o = {.baseline = a.baseline,
                  .json = a.json,
                  .markdown = a.markdown,
                  .cases = a.cases,
                  .fail_on_regression = a.fail_on_regression,
                  .stats = {.alpha = a.alpha, .threshold = a.threshold, .confidence = 0.95}};
    size_t n = (size_t)nids;
    char **ids = xcalloc(n, sizeof *ids);
    char *out = cli_store("compare", &a, n, argv + optind, ids);
    if (out)
        code = o.cases ? compare_cases(out, ids[0], argv[optind], &o)
                       : compare_runs(out, ids, argv + optind, n, &o);
    else
        code = EXIT_USAGE;
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    free(out);
    return code;
}
