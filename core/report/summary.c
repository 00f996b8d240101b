/*
 * The end-of-run summary (summary.h): built from the stored record, then
 * printed for people or handed out as JSON.
 */
#define _GNU_SOURCE
#include "report/summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/report.h"
#include "util/human.h"
#include "util/jsonget.h"
#include "util/term.h"
#include "util/util.h"

/* ---- building the document ------------------------------------------------ */

static void add_str_or_null(cJSON *o, const char *key, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

/* One output of a case: rows, validity, its first rate and success rate,
 * and p50/p95/p99 of every numeric column. */
static cJSON *output_summary(const cJSON *o)
{
    cJSON *e = cJSON_CreateObject();
    add_str_or_null(e, "name", jstr(o, "name"));
    add_str_or_null(e, "stage", jstr(o, "stage"));
    add_str_or_null(e, "host", jstr(o, "host"));
    jadd_num(e, "rows", jnum(o, "rows"));
    const cJSON *valid = cJSON_GetObjectItemCaseSensitive(o, "valid");
    cJSON_AddItemToObject(e, "valid", cJSON_IsBool(valid) ? cJSON_CreateBool(cJSON_IsTrue(valid))
                                                          : cJSON_CreateNull());
    const cJSON *rate = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "rates"), 0);
    if (rate) {
        cJSON *r = cJSON_AddObjectToObject(e, "rate");
        add_str_or_null(r, "column", jstr(rate, "column"));
        jadd_num(r, "rows_per_s", jnum(rate, "rows_per_s"));
    } else {
        cJSON_AddNullToObject(e, "rate");
    }
    const cJSON *succ = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "success"), 0);
    if (succ) {
        cJSON *s = cJSON_AddObjectToObject(e, "success");
        add_str_or_null(s, "column", jstr(succ, "column"));
        jadd_num(s, "rate", jnum(succ, "rate"));
        jadd_num(s, "count", jnum(succ, "count"));
        jadd_num(s, "successes", jnum(succ, "successes"));
    } else {
        cJSON_AddNullToObject(e, "success");
    }
    cJSON *cols = cJSON_AddArrayToObject(e, "columns");
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(o, "columns"))
    {
        if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(c, "metric")))
            continue; /* declared not a metric (an index, an id) */
        cJSON *k = cJSON_CreateObject();
        cJSON_AddStringToObject(k, "name", c->string);
        if (jstr(c, "unit"))
            cJSON_AddStringToObject(k, "unit", jstr(c, "unit"));
        jadd_num(k, "count", jnum(c, "count"));
        jadd_num(k, "p50", jnum(c, "median"));
        jadd_num(k, "p95", jnum(c, "p95"));
        jadd_num(k, "p99", jnum(c, "p99"));
        jadd_num(k, "mean", jnum(c, "mean"));
        cJSON_AddItemToArray(cols, k);
    }
    return e;
}

/* A repeated stage: its wall time distribution, CPU, and quality notes. */
static cJSON *repeat_summary(const cJSON *s, const cJSON *rep)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(rep, "metrics");
    const cJSON *wall = cJSON_GetObjectItemCaseSensitive(m, "wall_s");
    cJSON *e = cJSON_CreateObject();
    add_str_or_null(e, "stage", jstr(s, "name"));
    add_str_or_null(e, "host", jstr(s, "host"));
    jadd_num(e, "runs", jnum(rep, "count"));
    jadd_num(e, "warmup", jnum(rep, "warmup"));
    jadd_num(e, "mean_s", jnum(wall, "mean"));
    jadd_num(e, "stddev_s", jnum(wall, "stddev"));
    jadd_num(e, "median_s", jnum(wall, "median"));
    jadd_num(e, "min_s", jnum(wall, "min"));
    jadd_num(e, "max_s", jnum(wall, "max"));
    jadd_num(e, "user_cpu_s", jnum(cJSON_GetObjectItemCaseSensitive(m, "user_cpu_s"), "mean"));
    jadd_num(e, "system_cpu_s", jnum(cJSON_GetObjectItemCaseSensitive(m, "system_cpu_s"), "mean"));
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(rep, "quality");
    jadd_num(e, "outliers", jnum(q, "outliers"));
    const cJSON *notes = cJSON_GetObjectItemCaseSensitive(q, "notes");
    cJSON_AddItemToObject(e, "notes", notes ? cJSON_Duplicate(notes, true) : cJSON_CreateArray());
    return e;
}

static cJSON *case_summary(const cJSON *c)
{
    cJSON *e = cJSON_CreateObject();
    add_str_or_null(e, "name", jstr(c, "name"));
    add_str_or_null(e, "status", jstr(c, "status"));
    cJSON *outs = cJSON_AddArrayToObject(e, "outputs");
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(c, "outputs"))
    {
        /* A fanned-out stage: its merged dataset stands for the nodes. */
        if (cJSON_GetObjectItemCaseSensitive(o, "node"))
            continue;
        cJSON_AddItemToArray(outs, output_summary(o));
    }
    cJSON *reps = cJSON_AddArrayToObject(e, "repeated_stages");
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(c, "stages"))
    {
        const cJSON *rep = cJSON_GetObjectItemCaseSensitive(s, "repeat");
        if (rep)
            cJSON_AddItemToArray(reps, repeat_summary(s, rep));
    }
    return e;
}

static bool is_failure(const char *status)
{
    return status && strcmp(status, "success") != 0 && strcmp(status, "skipped") != 0 &&
           strcmp(status, "running") != 0 && strcmp(status, "not_run") != 0;
}

/* The name of an output of rec whose file failed validation, or NULL. */
static const char *invalid_output(const cJSON *rec)
{
    const cJSON *o, *f;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(rec, "outputs"))
    {
        cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(o, "files"))
        {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(f, "validation");
            if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(v, "valid")))
                return jstr(o, "output") ? jstr(o, "output") : jstr(o, "name");
        }
    }
    return NULL;
}

/* The likely next step after a failed stage (owned), from its record. */
static char *next_step(const cJSON *rec, const char *log)
{
    const char *err = jstr(rec, "error") ? jstr(rec, "error") : "";
    const char *name = jstr(rec, "name") ? jstr(rec, "name") : "?";
    const char *out = invalid_output(rec);
    if (strstr(err, "(stage timeout"))
        return xasprintf("stage '%s' ran out of time: raise its `timeout:` in the config", name);
    if (strstr(err, "health check") && strstr(err, "timed out"))
        return xasprintf("stage '%s' never became ready: check its log%s%s, or raise "
                         "`health_check.timeout`", name, log ? " " : "", log ? log : "");
    if (out)
        return xasprintf("output '%s' of stage '%s' does not match its data_schema: fix the "
                         "data or the schema, or set `on_invalid: warn` on it to keep such "
                         "files and go on", out, name);
    if (log)
        return xasprintf("see what stage '%s' printed: %s", name, log);
    return NULL;
}

/* Stages that failed (timed out, were interrupted): where to look next. */
static void add_failed_stages(cJSON *doc, const char *run_dir, const cJSON *meta)
{
    cJSON *arr = cJSON_AddArrayToObject(doc, "failed_stages");
    const cJSON *rec;
    cJSON_ArrayForEach(rec, cJSON_GetObjectItemCaseSensitive(meta, "stages"))
    {
        if (!is_failure(jstr(rec, "status")))
            continue;
        cJSON *e = cJSON_CreateObject();
        add_str_or_null(e, "stage", jstr(rec, "name"));
        add_str_or_null(e, "case", jstr(rec, "case"));
        add_str_or_null(e, "host", jstr(rec, "host"));
        const cJSON *node = cJSON_GetObjectItemCaseSensitive(rec, "node");
        if (cJSON_IsNumber(node))
            cJSON_AddNumberToObject(e, "node", node->valuedouble);
        add_str_or_null(e, "status", jstr(rec, "status"));
        add_str_or_null(e, "error", jstr(rec, "error"));
        char *log = jstr(rec, "log") ? path_join(run_dir, jstr(rec, "log")) : NULL;
        add_str_or_null(e, "log", log);
        char *next = next_step(rec, log);
        add_str_or_null(e, "next_step", next);
        free(next);
        free(log);
        cJSON_AddItemToArray(arr, e);
    }
}

static void add_plots(cJSON *doc, const char *run_dir, const cJSON *meta)
{
    cJSON *ok = cJSON_AddArrayToObject(doc, "plots");
    cJSON *bad = cJSON_AddArrayToObject(doc, "plots_failed");
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(meta, "plots"))
    {
        const char *st = jstr(p, "status"), *path = jstr(p, "path");
        if (st && strcmp(st, "success") == 0 && path) {
            char *abs = path_join(run_dir, path);
            cJSON_AddItemToArray(ok, cJSON_CreateString(abs));
            free(abs);
        } else {
            cJSON *e = cJSON_CreateObject();
            add_str_or_null(e, "name", jstr(p, "name"));
            add_str_or_null(e, "case", jstr(p, "case"));
            add_str_or_null(e, "error", jstr(p, "error"));
            cJSON_AddItemToArray(bad, e);
        }
    }
    /* A monitored run's timeline figure. */
    const char *mplot = jstr(cJSON_GetObjectItemCaseSensitive(meta, "monitor"), "plot");
    if (mplot) {
        char *abs = path_join(run_dir, mplot);
        cJSON_AddItemToArray(ok, cJSON_CreateString(abs));
        free(abs);
    }
}

static void add_thresholds(cJSON *doc, const cJSON *results)
{
    cJSON *arr = cJSON_AddArrayToObject(doc, "thresholds_failed");
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(results, "thresholds"))
    {
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "passed")))
            cJSON_AddItemToArray(arr, cJSON_Duplicate(t, true));
    }
}

cJSON *summary_build(const char *run_dir, const cJSON *meta, const cJSON *results, int exit_code)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "format", "benchctl-summary");
    cJSON_AddNumberToObject(doc, "version", 1);
    const char *id = jstr(meta, "run_id");
    int64_t num;
    if (id && parse_int64(id, &num))
        cJSON_AddNumberToObject(doc, "run_number", (double)num);
    else
        cJSON_AddNullToObject(doc, "run_number");
    add_str_or_null(doc, "run_id", id);
    add_str_or_null(doc, "benchmark", jstr(meta, "benchmark_name"));
    add_str_or_null(doc, "status", jstr(meta, "status"));
    add_str_or_null(doc, "error", jstr(meta, "error"));
    cJSON_AddNumberToObject(doc, "exit_code", exit_code);
    jadd_num(doc, "duration_s", jnum(meta, "duration_s"));
    cJSON_AddStringToObject(doc, "run_dir", run_dir);
    char *report = path_join(run_dir, "report.html");
    FILE *f = fopen(report, "r");
    add_str_or_null(doc, "report", f ? report : NULL);
    if (f)
        fclose(f);
    free(report);
    cJSON *cases = cJSON_AddArrayToObject(doc, "cases");
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(results, "cases"))
    cJSON_AddItemToArray(cases, case_summary(c));
    add_failed_stages(doc, run_dir, meta);
    add_thresholds(doc, results);
    add_plots(doc, run_dir, meta);
    return doc;
}

/* ---- printing ------------------------------------------------------------- */

/* A column's value in its unit: times and sizes through the one formatter. */
static char *value_in(double v, const char *unit)
{
    static const struct {
        const char *unit;
        double seconds;
    } times[] = {{"s", 1}, {"ms", 1e-3}, {"us", 1e-6}, {"µs", 1e-6}, {"ns", 1e-9}};
    if (unit) {
        for (size_t i = 0; i < sizeof times / sizeof times[0]; i++)
            if (strcmp(unit, times[i].unit) == 0)
                return human_duration(v * times[i].seconds);
        if (strcmp(unit, "bytes") == 0 || strcmp(unit, "B") == 0)
            return human_size(v);
    }
    return rep_num_unit(v, unit);
}

/* Columns printed per output (the JSON has every one). */
#define MAX_COLUMNS 6

static void print_outputs(const cJSON *outs, FILE *out, int width)
{
    rtable t;
    rt_init(&t, "lrrrlrrr", "output", "rows", "rate", "success", "column", "p50", "p95", "p99",
            NULL);
    const cJSON *o;
    cJSON_ArrayForEach(o, outs)
    {
        const cJSON *rate = cJSON_GetObjectItemCaseSensitive(o, "rate");
        const cJSON *succ = cJSON_GetObjectItemCaseSensitive(o, "success");
        const cJSON *cols = cJSON_GetObjectItemCaseSensitive(o, "columns");
        int ncols = cJSON_GetArraySize(cols), shown = 0;
        bool valid_false = cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "valid"));
        for (int i = 0; i == 0 || i < ncols; i++) {
            const cJSON *c = cJSON_GetArrayItem(cols, i);
            if (i == 0) {
                rt_addf(&t, "%s%s", jstr(o, "name") ? jstr(o, "name") : "?",
                        valid_false ? " (invalid)" : "");
                rt_add(&t, rep_num(jnum(o, "rows")));
                char *r = rep_num(jnum(rate, "rows_per_s"));
                rt_add(&t, cJSON_IsObject(rate) ? xasprintf("%s/s", r) : NULL);
                free(r);
                rt_add(&t, cJSON_IsObject(succ) ? rep_pct(jnum(succ, "rate"), false) : NULL);
            } else if (shown == MAX_COLUMNS) {
                for (int k = 0; k < 4; k++)
                    rt_add(&t, xstrdup(""));
                rt_addf(&t, "(+%d more)", ncols - i);
                for (int k = 0; k < 3; k++)
                    rt_add(&t, xstrdup(""));
                break;
            } else {
                for (int k = 0; k < 4; k++)
                    rt_add(&t, xstrdup(""));
            }
            if (!c) {
                for (int k = 0; k < 4; k++)
                    rt_add(&t, NULL);
                continue;
            }
            const char *unit = jstr(c, "unit");
            rt_add(&t, xstrdup(jstr(c, "name")));
            rt_add(&t, value_in(jnum(c, "p50"), unit));
            rt_add(&t, value_in(jnum(c, "p95"), unit));
            rt_add(&t, value_in(jnum(c, "p99"), unit));
            shown++;
        }
    }
    if (rt_rows(&t))
        rt_print_width(&t, out, "  ", width);
    rt_free(&t);
}

static void print_repeated(const cJSON *reps, FILE *out, int width, strvec *notes)
{
    rtable t;
    rt_init(&t, "lrrrrr", "stage", "runs", "mean ± σ", "min … max", "user", "system", NULL);
    const cJSON *s;
    cJSON_ArrayForEach(s, reps)
    {
        const char *name = jstr(s, "stage") ? jstr(s, "stage") : "?";
        rt_add(&t, xstrdup(name));
        rt_add(&t, rep_num(jnum(s, "runs")));
        char *m = human_duration(jnum(s, "mean_s")), *sd = human_duration(jnum(s, "stddev_s"));
        rt_addf(&t, "%s ± %s", m, sd);
        free(m);
        free(sd);
        char *lo = human_duration(jnum(s, "min_s")), *hi = human_duration(jnum(s, "max_s"));
        rt_addf(&t, "%s … %s", lo, hi);
        free(lo);
        free(hi);
        rt_add(&t, human_duration(jnum(s, "user_cpu_s")));
        rt_add(&t, human_duration(jnum(s, "system_cpu_s")));
        const cJSON *n;
        cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(s, "notes"))
        {
            if (cJSON_IsString(n))
                sv_push_owned(notes, xasprintf("%s: %s", name, n->valuestring));
        }
    }
    if (rt_rows(&t))
        rt_print_width(&t, out, "  ", width);
    rt_free(&t);
}

static void print_header(const cJSON *doc, FILE *out, int fd)
{
    const char *status = jstr(doc, "status") ? jstr(doc, "status") : "?";
    bool ok = strcmp(status, "success") == 0 && jnum(doc, "exit_code") == 0;
    char *dur = human_duration(jnum(doc, "duration_s"));
    fprintf(out, "\n%sSummary of run %s%s (%s): %s%s%s in %s\n", term_sgr(fd, "1"),
            jstr(doc, "run_id") ? jstr(doc, "run_id") : "?", term_reset(fd),
            jstr(doc, "benchmark") ? jstr(doc, "benchmark") : "unnamed",
            term_sgr(fd, ok ? "32" : "1;31"), status, term_reset(fd), dur);
    free(dur);
    if (jstr(doc, "error"))
        fprintf(out, "  error: %s\n", jstr(doc, "error"));
    if (jstr(doc, "error") && strstr(jstr(doc, "error"), "exceeded --timeout"))
        fprintf(out, "    next: give the run more time (-t/--timeout) or none (-t 0)\n");
}

/* Failed stages (with their logs), thresholds and plots that failed. */
static void print_failures(const cJSON *doc, FILE *out, int fd)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "failed_stages"))
    {
        fprintf(out, "  %sfailed%s stage %s on %s%s%s%s: %s\n", term_sgr(fd, "31"), term_reset(fd),
                jstr(e, "stage") ? jstr(e, "stage") : "?", jstr(e, "host") ? jstr(e, "host") : "?",
                jstr(e, "case") ? " [case " : "", jstr(e, "case") ? jstr(e, "case") : "",
                jstr(e, "case") ? "]" : "", jstr(e, "status") ? jstr(e, "status") : "?");
        const char *run_err = jstr(doc, "error");
        if (jstr(e, "error") && !(run_err && strcmp(run_err, jstr(e, "error")) == 0))
            fprintf(out, "    %s\n", jstr(e, "error"));
        if (jstr(e, "log"))
            fprintf(out, "    log: %s\n", jstr(e, "log"));
        if (jstr(e, "next_step"))
            fprintf(out, "    next: %s\n", jstr(e, "next_step"));
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "thresholds_failed"))
    {
        char *v = rep_num(jnum(e, "value"));
        fprintf(out, "  %sthreshold failed%s: %s.%s %s (value %s; stage %s%s%s)\n",
                term_sgr(fd, "31"), term_reset(fd), jstr(e, "output") ? jstr(e, "output") : "?",
                jstr(e, "column") ? jstr(e, "column") : "?",
                jstr(e, "threshold") ? jstr(e, "threshold") : "?", v,
                jstr(e, "stage") ? jstr(e, "stage") : "?", jstr(e, "case") ? ", case " : "",
                jstr(e, "case") ? jstr(e, "case") : "");
        free(v);
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "plots_failed"))
    {
        fprintf(out, "  %splot failed%s: %s%s%s: %s\n", term_sgr(fd, "31"), term_reset(fd),
                jstr(e, "name") ? jstr(e, "name") : "?", jstr(e, "case") ? " case " : "",
                jstr(e, "case") ? jstr(e, "case") : "", jstr(e, "error") ? jstr(e, "error") : "?");
    }
}

/* Plots shown by name before "and N more". */
#define MAX_PLOTS 4

static void print_where(const cJSON *doc, FILE *out)
{
    const cJSON *plots = cJSON_GetObjectItemCaseSensitive(doc, "plots");
    int n = cJSON_GetArraySize(plots);
    for (int i = 0; i < n && i < MAX_PLOTS; i++)
        fprintf(out, "  %-6s %s\n", i ? "" : "plots", cJSON_GetArrayItem(plots, i)->valuestring);
    if (n > MAX_PLOTS)
        fprintf(out, "         … and %d more in %s/plots\n", n - MAX_PLOTS, jstr(doc, "run_dir"));
    if (jstr(doc, "report"))
        fprintf(out, "  %-6s %s\n", "report", jstr(doc, "report"));
}

void summary_print(const cJSON *doc, FILE *out, int fd, int width)
{
    print_header(doc, out, fd);
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(doc, "cases");
    strvec notes = {0};
    const cJSON *c;
    cJSON_ArrayForEach(c, cases)
    {
        const cJSON *outs = cJSON_GetObjectItemCaseSensitive(c, "outputs");
        const cJSON *reps = cJSON_GetObjectItemCaseSensitive(c, "repeated_stages");
        if (!cJSON_GetArraySize(outs) && !cJSON_GetArraySize(reps))
            continue;
        if (jstr(c, "name"))
            fprintf(out, "%scase %s%s\n", term_sgr(fd, "1"), jstr(c, "name"), term_reset(fd));
        print_outputs(outs, out, width);
        size_t from = notes.n;
        print_repeated(reps, out, width, &notes);
        for (size_t i = from; i < notes.n; i++)
            fprintf(out, "  %snote%s: %s\n", term_sgr(fd, "33"), term_reset(fd), notes.v[i]);
    }
    sv_free(&notes);
    print_failures(doc, out, fd);
    print_where(doc, out);
    fflush(out);
}
