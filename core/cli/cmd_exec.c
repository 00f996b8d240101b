/*
 * `benchctl exec 'cmd A' ['cmd B' ...]`: measure commands without writing a
 * config, as command-line timing tools do.  The commands become the cases
 * of a generated config (one repeated stage, `eval` of the case's command,
 * in the current directory), so the measurement is a stored run like any
 * other (inspect, stats, compare, report work on it) and the comparison is
 * compare --cases's: the fastest command is the baseline, each other one
 * gets "ran X ± Y times faster than" and the significance verdict of the
 * Mann-Whitney test on the wall times.  Exports: Markdown, JSON, CSV.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <csv.h>

#include "analysis/compare_stats.h"
#include "analysis/report.h"
#include "cli/cli.h"
#include "report/summary.h"
#include "run/engine.h"
#include "store/runstore.h"
#include "util/human.h"
#include "util/jsonget.h"
#include "util/term.h"

/* The stage every command runs as (metrics "stage:command.wall_s"). */
#define EXEC_STAGE "command"
#define EXEC_ENV "BENCHCTL_EXEC_COMMAND"

/* The generated config as JSON text (YAML 1.2 reads it; owned). */
static char *exec_config(char **cmds, size_t n, const cli_args *a, const char *out_dir)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *b = cJSON_AddObjectToObject(root, "benchmark");
    cJSON_AddStringToObject(b, "name", "exec");
    cJSON_AddStringToObject(b, "output_dir", out_dir);
    cJSON *cases = cJSON_AddArrayToObject(root, "cases");
    for (size_t i = 0; i < n; i++) {
        cJSON *c = cJSON_CreateObject();
        char name[32];
        snprintf(name, sizeof name, "command-%zu", i + 1);
        cJSON_AddStringToObject(c, "name", name);
        cJSON_AddStringToObject(cJSON_AddObjectToObject(c, "env"), EXEC_ENV, cmds[i]);
        cJSON_AddItemToArray(cases, c);
    }
    cJSON *st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "name", EXEC_STAGE);
    cJSON_AddStringToObject(st, "command", "eval \"$" EXEC_ENV "\"");
    cJSON_AddNumberToObject(st, "repeat", (double)a->runs);
    if (a->warmup)
        cJSON_AddNumberToObject(st, "warmup", (double)a->warmup);
    if (a->prepare)
        cJSON_AddStringToObject(st, "prepare", a->prepare);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "stages"), st);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}

/* One measured command, from results.json. */
typedef struct exec_cmd {
    const char *command, *case_name;
    double mean, sd, median, min, max, user, sys;
    const cJSON *runs; /* repeat.runs[] */
} exec_cmd;

static bool read_cmds(const cJSON *results, char **cmds, size_t n, exec_cmd *out)
{
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(results, "cases");
    for (size_t i = 0; i < n; i++) {
        const cJSON *c = cJSON_GetArrayItem(cases, (int)i);
        const cJSON *st = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "stages"), 0);
        const cJSON *rep = cJSON_GetObjectItemCaseSensitive(st, "repeat");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(rep, "metrics");
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(m, "wall_s");
        if (!w)
            return false;
        out[i] = (exec_cmd){
            .command = cmds[i],
            .case_name = jstr(c, "name"),
            .mean = jnum(w, "mean"),
            .sd = jnum(w, "stddev"),
            .median = jnum(w, "median"),
            .min = jnum(w, "min"),
            .max = jnum(w, "max"),
            .user = jnum(cJSON_GetObjectItemCaseSensitive(m, "user_cpu_s"), "mean"),
            .sys = jnum(cJSON_GetObjectItemCaseSensitive(m, "system_cpu_s"), "mean"),
            .runs = cJSON_GetObjectItemCaseSensitive(rep, "runs"),
        };
    }
    return true;
}

/* The fastest command by mean wall time. */
static size_t fastest(const exec_cmd *c, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (c[i].mean < c[best].mean)
            best = i;
    return best;
}

/* ratio = slow / fast and its standard deviation (propagated from both
 * standard deviations, as for a quotient of independent means). */
static void ratio_of(const exec_cmd *slow, const exec_cmd *fast, double *r, double *sd)
{
    *r = slow->mean / fast->mean;
    double a = isfinite(slow->sd) ? slow->sd / slow->mean : 0;
    double b = isfinite(fast->sd) ? fast->sd / fast->mean : 0;
    *sd = *r * sqrt(a * a + b * b);
}

/* The comparison of every command with the fastest: compare --cases's
 * statistics (owned), with the fastest the baseline. */
static cJSON *compare_cmds(const exec_cmd *c, size_t n, size_t best, const char *run_dir,
                           const char *id, const cJSON *results)
{
    cs_variant *v = xcalloc(n, sizeof *v);
    size_t k = 0;
    v[k++] = (cs_variant){.label = c[best].case_name, .run_id = id, .run_dir = run_dir,
                          .case_name = c[best].case_name, .results = results};
    for (size_t i = 0; i < n; i++)
        if (i != best)
            v[k++] = (cs_variant){.label = c[i].case_name, .run_id = id, .run_dir = run_dir,
                                  .case_name = c[i].case_name, .results = results};
    cs_options o = {.alpha = 0.01, .threshold = 0.05, .confidence = 0.95};
    cJSON *stats = cs_compare(v, n, true, &o);
    free(v);
    return stats;
}

/* The wall-time comparison of case_name against the baseline, or NULL. */
static const cJSON *wall_comparison(const cJSON *stats, const char *case_name)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(stats, "metrics"))
    {
        if (!jstr(m, "metric") || strcmp(jstr(m, "metric"), "stage:" EXEC_STAGE ".wall_s") != 0)
            continue;
        const cJSON *cmp;
        cJSON_ArrayForEach(cmp, cJSON_GetObjectItemCaseSensitive(m, "comparisons"))
        {
            if (jstr(cmp, "variant") && strcmp(jstr(cmp, "variant"), case_name) == 0)
                return cmp;
        }
    }
    return NULL;
}

/* The verdict of compare's test on the wall times, in words. */
static char *verdict_text(const cJSON *cmp)
{
    if (!cmp)
        return xstrdup("no verdict: too few runs to compare");
    char *p = rep_num(jnum(cmp, "p_adjusted"));
    bool sig = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cmp, "significant"));
    bool practical = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cmp, "practical"));
    char *s = sig && practical
                  ? xasprintf("a significant difference (Mann-Whitney U, p = %s < 0.01)", p)
              : sig ? xasprintf("significant (p = %s) but under 5%%: no practical difference", p)
                    : xasprintf("not significant (Mann-Whitney U, p = %s): more runs may tell "
                                "them apart", p);
    free(p);
    return s;
}

/* The comparison as a JSON object: the fastest and, per other command,
 * ratio, its σ and the verdict. */
static cJSON *comparison_json(const exec_cmd *c, size_t n, size_t best, const cJSON *stats)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "fastest", c[best].command);
    cJSON *arr = cJSON_AddArrayToObject(o, "slower");
    for (size_t i = 0; i < n; i++) {
        if (i == best)
            continue;
        double r, sd;
        ratio_of(&c[i], &c[best], &r, &sd);
        const cJSON *cmp = wall_comparison(stats, c[i].case_name);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "command", c[i].command);
        jadd_num(e, "ratio", r);
        jadd_num(e, "ratio_stddev", sd);
        cJSON_AddItemToObject(e, "significant",
                              cmp ? cJSON_CreateBool(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
                                        cmp, "significant")))
                                  : cJSON_CreateNull());
        jadd_num(e, "p_adjusted", cmp ? jnum(cmp, "p_adjusted") : NAN);
        if (cmp && jstr(cmp, "verdict"))
            cJSON_AddStringToObject(e, "verdict", jstr(cmp, "verdict"));
        else
            cJSON_AddNullToObject(e, "verdict");
        cJSON_AddItemToArray(arr, e);
    }
    return o;
}

static void print_human(const exec_cmd *c, size_t n, size_t best, const cJSON *stats)
{
    int fd = STDOUT_FILENO;
    for (size_t i = 0; i < n; i++) {
        char *m = human_duration(c[i].mean), *sd = human_duration(c[i].sd);
        char *lo = human_duration(c[i].min), *hi = human_duration(c[i].max);
        char *u = human_duration(c[i].user), *s = human_duration(c[i].sys);
        printf("\n%sBenchmark %zu%s: %s\n", term_sgr(fd, "1"), i + 1, term_reset(fd), c[i].command);
        printf("  Time (mean ± σ):   %s%s%s ± %s    [User: %s, System: %s]\n", term_sgr(fd, "32"),
               m, term_reset(fd), sd, u, s);
        printf("  Range (min … max): %s … %s    %d runs\n", lo, hi, cJSON_GetArraySize(c[i].runs));
        free(m);
        free(sd);
        free(lo);
        free(hi);
        free(u);
        free(s);
    }
    if (n < 2)
        return;
    printf("\n%sSummary%s\n  %s%s%s ran\n", term_sgr(fd, "1"), term_reset(fd), term_sgr(fd, "36"),
           c[best].command, term_reset(fd));
    for (size_t i = 0; i < n; i++) {
        if (i == best)
            continue;
        double r, sd;
        ratio_of(&c[i], &c[best], &r, &sd);
        char *v = verdict_text(wall_comparison(stats, c[i].case_name));
        printf("    %s%.2f%s ± %.2f times faster than %s%s%s\n      %s\n", term_sgr(fd, "1;32"),
               r, term_reset(fd), sd, term_sgr(fd, "35"), c[i].command, term_reset(fd), v);
        free(v);
    }
}

/* ---- exports ------------------------------------------------------------- */

static FILE *open_export(const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!f)
        fprintf(stderr, "benchctl exec: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

static bool close_export(FILE *f, const char *path)
{
    bool ok = !ferror(f);
    if (f == stdout)
        ok = fflush(f) == 0 && ok;
    else
        ok = fclose(f) == 0 && ok;
    if (!ok)
        fprintf(stderr, "benchctl exec: writing %s failed: %s\n", path, strerror(errno));
    return ok;
}

static bool export_markdown(const char *path, const exec_cmd *c, size_t n, size_t best)
{
    FILE *f = open_export(path);
    if (!f)
        return false;
    rtable t;
    rt_init(&t, "lrrrr", "Command", "Mean [s]", "Min [s]", "Max [s]", "Relative", NULL);
    for (size_t i = 0; i < n; i++) {
        double r, sd;
        ratio_of(&c[i], &c[best], &r, &sd);
        char *cmd = xasprintf("`%s`", c[i].command);
        rt_add(&t, cmd);
        rt_addf(&t, "%.4f ± %.4f", c[i].mean, isfinite(c[i].sd) ? c[i].sd : 0);
        rt_addf(&t, "%.4f", c[i].min);
        rt_addf(&t, "%.4f", c[i].max);
        if (i == best)
            rt_addf(&t, "1.00");
        else
            rt_addf(&t, "%.2f ± %.2f", r, sd);
    }
    rt_print(&t, f, true, NULL);
    rt_free(&t);
    return close_export(f, path);
}

static bool export_csv(const char *path, const exec_cmd *c, size_t n)
{
    FILE *f = open_export(path);
    if (!f)
        return false;
    fputs("command,mean,stddev,median,user,system,min,max\n", f);
    for (size_t i = 0; i < n; i++) {
        csv_fwrite(f, c[i].command, strlen(c[i].command)); /* quoted as CSV needs */
        double v[] = {c[i].mean, c[i].sd, c[i].median, c[i].user, c[i].sys, c[i].min, c[i].max};
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
            if (isfinite(v[k]))
                fprintf(f, ",%.9g", v[k]);
            else
                fputs(",", f);
        }
        fputs("\n", f);
    }
    return close_export(f, path);
}

/* {run_number, run_id, results: [{command, mean, stddev, median, user,
 * system, min, max, times}], comparison} */
static cJSON *export_doc(const cJSON *summary, const exec_cmd *c, size_t n, const cJSON *cmp)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddItemToObject(doc, "run_number",
                          cJSON_Duplicate(cJSON_GetObjectItem(summary, "run_number"), true));
    cJSON_AddItemToObject(doc, "run_id",
                          cJSON_Duplicate(cJSON_GetObjectItem(summary, "run_id"), true));
    cJSON *arr = cJSON_AddArrayToObject(doc, "results");
    for (size_t i = 0; i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "command", c[i].command);
        jadd_num(e, "mean", c[i].mean);
        jadd_num(e, "stddev", c[i].sd);
        jadd_num(e, "median", c[i].median);
        jadd_num(e, "user", c[i].user);
        jadd_num(e, "system", c[i].sys);
        jadd_num(e, "min", c[i].min);
        jadd_num(e, "max", c[i].max);
        cJSON *times = cJSON_AddArrayToObject(e, "times");
        const cJSON *r;
        cJSON_ArrayForEach(r, c[i].runs)
        cJSON_AddItemToArray(times, cJSON_CreateNumber(jnum(r, "wall_s")));
        cJSON_AddItemToArray(arr, e);
    }
    if (cmp)
        cJSON_AddItemToObject(doc, "comparison", cJSON_Duplicate(cmp, true));
    return doc;
}

static bool export_json(const char *path, const cJSON *doc)
{
    FILE *f = open_export(path);
    if (!f)
        return false;
    char *text = cJSON_Print(doc);
    fprintf(f, "%s\n", text);
    free(text);
    return close_export(f, path);
}

/* ---- the command ----------------------------------------------------------- */

/* The measurements of the run in summary (exit code of the run given):
 * printed, compared, exported.  Returns the exit code. */
static int report_run(cJSON *summary, char **cmds, size_t n, const cli_args *a, int code)
{
    const char *dir = jstr(summary, "run_dir"), *id = jstr(summary, "run_id");
    char *out = dir ? dir_name(dir) : NULL, *err = NULL;
    cJSON *results = NULL;
    if (!out || !id || runstore_read_results(out, id, &results, &err) != RUNSTORE_RESULTS_OK) {
        fprintf(stderr, "benchctl exec: no results to report%s%s\n", err ? ": " : "",
                err ? err : "");
        free(err);
        free(out);
        return code ? code : EXIT_RUN_FAILED;
    }
    exec_cmd *c = xcalloc(n, sizeof *c);
    cJSON *stats = NULL, *cmp = NULL;
    if (code == EXIT_OK && read_cmds(results, cmds, n, c)) {
        size_t best = fastest(c, n);
        if (n > 1) {
            stats = compare_cmds(c, n, best, dir, id, results);
            cmp = comparison_json(c, n, best, stats);
        }
        if (!a->json)
            print_human(c, n, best, stats);
        cJSON *doc = export_doc(summary, c, n, cmp);
        if (a->export_markdown && !export_markdown(a->export_markdown, c, n, best))
            code = EXIT_RUN_FAILED;
        if (a->export_csv && !export_csv(a->export_csv, c, n))
            code = EXIT_RUN_FAILED;
        if (a->export_json && !export_json(a->export_json, doc))
            code = EXIT_RUN_FAILED;
        cJSON_Delete(doc);
    }
    if (a->json) {
        if (cmp)
            cJSON_AddItemToObject(summary, "comparison", cJSON_Duplicate(cmp, true));
        char *text = cJSON_Print(summary);
        printf("%s\n", text);
        free(text);
    }
    cJSON_Delete(cmp);
    cJSON_Delete(stats);
    cJSON_Delete(results);
    free(c);
    free(out);
    return code;
}

int cmd_exec(int argc, char **argv)
{
    cli_args a = {.runs = 10};
    int code = cli_parse(argc, argv, &a);
    if (code >= 0)
        return code;
    size_t n = (size_t)(argc - optind);
    char **cmds = argv + optind;
    for (size_t i = 0; i < n; i++)
        if (!*cmds[i]) {
            cli_args_free(&a);
            return cli_usage_error("exec", "command %zu is empty", i + 1);
        }
    char *out_dir = abs_path(a.output_dir ? a.output_dir : "results");
    char *cwd = getcwd(NULL, 0);
    char *text = exec_config(cmds, n, &a, out_dir);
    char tmpl[] = "/tmp/benchctl-exec-XXXXXX.yaml";
    int fd = mkstemps(tmpl, 5);
    if (fd < 0 || !cwd) {
        fprintf(stderr, "benchctl exec: cannot write the generated config: %s\n", strerror(errno));
        code = EXIT_USAGE;
        goto done;
    }
    write_all(fd, text, strlen(text));
    close(fd);
    cJSON *summary = NULL;
    run_options o = {.config_path = tmpl, .base_dir = cwd, .summary = &summary};
    /* The run's own lines (stage headers, the summary) go to stderr: the
     * measurements are exec's output. */
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    if (saved < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        fprintf(stderr, "benchctl exec: cannot redirect stdout: %s\n", strerror(errno));
        code = EXIT_USAGE;
        unlink(tmpl);
        goto done;
    }
    code = engine_run(&o);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    unlink(tmpl);
    if (summary)
        code = report_run(summary, cmds, n, &a, code);
    cJSON_Delete(summary);
done:
    free(text);
    free(cwd);
    free(out_dir);
    cli_args_free(&a);
    return code;
}
