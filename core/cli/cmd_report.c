/*
 * `benchctl report`: the HTML report of a stored run (report.html in its
 * directory, or --out FILE), or with two or more runs (or one run and
 * --cases) the differential report of the compare analysis (default
 * report-<ID1>-<ID2>....html in the runs' directory).
 *
 * Exit codes: 0 written; 1 the file could not be written; 2 usage, an
 * unknown run or an unreadable record; 3 a regression with
 * --fail-on-regression (differential reports).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "report/report.h"
#include "run/engine.h"
#include "store/runstore.h"

#define MAX_RUNS 64

static int single(const char *out, const char *id, const cli_args *a)
{
    char *dir = path_join(out, id);
    char *file = a->out ? xstrdup(a->out) : path_join(dir, REPORT_FILE);
    char *err = NULL;
    int code = EXIT_OK;
    char *mp = path_join(dir, "metadata.json");
    if (access(mp, R_OK) != 0) {
        fprintf(stderr, "benchctl report: run %s has no readable metadata.json (%s)\n", id, mp);
        code = EXIT_USAGE;
    } else if (!report_write_run(dir, file, &err)) {
        fprintf(stderr, "benchctl report: %s\n", err);
        code = strstr(err, "cannot write") ? EXIT_RUN_FAILED : EXIT_USAGE;
    } else {
        printf("Report written to: %s\n", file);
    }
    free(mp);
    free(err);
    free(file);
    free(dir);
    return code;
}

static int write_diff(const char *file, const report_diff_run *runs, size_t n, bool by_case,
                      const cli_args *a)
{
    cs_options o = {.alpha = a->alpha, .threshold = a->threshold, .confidence = 0.95};
    int regressions = 0;
    size_t len;
    char *html = report_diff_html(runs, n, by_case, &o, &len, &regressions);
    int code = EXIT_OK;
    if (!write_file_atomic(file, html, len, false)) {
        fprintf(stderr, "benchctl report: cannot write %s: %s\n", file, strerror(errno));
        code = EXIT_RUN_FAILED;
    } else {
        printf("Report written to: %s (%d regression%s)\n", file, regressions,
               regressions == 1 ? "" : "s");
        if (a->fail_on_regression && regressions > 0)
            code = EXIT_REGRESSION;
    }
    free(html);
    return code;
}

/* The cases of one run as the variants (the first case, or --baseline,
 * first). */
static int cases_diff(const char *out, const char *id, const cli_args *a)
{
    char *err = NULL;
    cJSON *meta = runstore_read(out, id, &err), *res = NULL;
    if (meta && runstore_read_results(out, id, &res, &err) != RUNSTORE_RESULTS_OK) {
        cJSON_Delete(meta);
        meta = NULL;
    }
    if (!meta) {
        fprintf(stderr, "benchctl report: %s\n", err);
        free(err);
        return EXIT_USAGE;
    }
    report_diff_run runs[MAX_RUNS];
    size_t n = 0;
    char *dir = path_join(out, id);
    const cJSON *c;
    bool base_found = !a->baseline;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(res, "cases"))
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name"));
        if (!name || n >= MAX_RUNS)
            continue;
        runs[n] = (report_diff_run){.label = name, .id = id, .dir = dir, .meta = meta,
                                    .results = res};
        if (a->baseline && strcmp(name, a->baseline) == 0) {
            report_diff_run t = runs[0];
            runs[0] = runs[n];
            runs[n] = t;
            base_found = true;
        }
        n++;
    }
    int code = EXIT_USAGE;
    if (n < 2)
        fprintf(stderr, "benchctl report: run %s has fewer than two named cases; --cases "
                        "compares the cases of one run\n", id);
    else if (!base_found)
        fprintf(stderr, "benchctl report: run %s has no case '%s'\n", id, a->baseline);
    else {
        char *file = a->out ? xstrdup(a->out) : path_join(dir, "report-cases.html");
        code = write_diff(file, runs, n, true, a);
        free(file);
    }
    free(dir);
    cJSON_Delete(res);
    cJSON_Delete(meta);
    return code;
}

static int runs_diff(const char *out, char **ids, char **labels, size_t n, const cli_args *a)
{
    report_diff_run runs[MAX_RUNS];
    cJSON *metas[MAX_RUNS] = {0}, *results[MAX_RUNS] = {0};
    char *dirs[MAX_RUNS] = {0}, *notes[MAX_RUNS] = {0};
    int code = EXIT_OK;
    strbuf name = {0};
    sb_puts(&name, "report");
    for (size_t i = 0; i < n; i++) {
        char *err = NULL;
        metas[i] = runstore_read(out, ids[i], &err);
        if (metas[i] && runstore_read_results(out, ids[i], &results[i], &err) ==
                            RUNSTORE_RESULTS_MISSING) {
            notes[i] = err;
            err = NULL;
        }
        if (err) {
            fprintf(stderr, "benchctl report: %s\n", err);
            free(err);
            code = EXIT_USAGE;
        }
        dirs[i] = path_join(out, ids[i]);
        runs[i] = (report_diff_run){.label = labels[i], .id = ids[i], .dir = dirs[i],
                                    .meta = metas[i], .results = results[i], .note = notes[i]};
        sb_printf(&name, "-%s", ids[i]);
    }
    sb_puts(&name, ".html");
    if (code == EXIT_OK) {
        char *file = a->out ? xstrdup(a->out) : path_join(out, name.buf);
        code = write_diff(file, runs, n, false, a);
        free(file);
    }
    for (size_t i = 0; i < n; i++) {
        cJSON_Delete(metas[i]);
        cJSON_Delete(results[i]);
        free(dirs[i]);
        free(notes[i]);
    }
    sb_free(&name);
    return code;
}

int cmd_report(int argc, char **argv)
{
    cli_args a = {.alpha = 0.01, .threshold = 0.05};
    int code = cli_parse(argc, argv, &a);
    if (code >= 0)
        return code;
    int nids = argc - optind;
    if (nids > MAX_RUNS)
        code = cli_usage_error("report", "at most %d runs at once", MAX_RUNS);
    else if (a.cases && nids != 1)
        code = cli_usage_error("report", "--cases reports the cases of one run: give one run ID");
    else if (a.baseline && !a.cases)
        code = cli_usage_error("report", "--baseline names a case and needs --cases (with runs, "
                                         "the first ID is the baseline)");
    if (code >= 0) {
        cli_args_free(&a);
        return code;
    }
    size_t n = (size_t)nids;
    char **ids = xcalloc(n, sizeof *ids);
    char *out = cli_store("report", &a, n, argv + optind, ids);
    if (!out)
        code = EXIT_USAGE;
    else if (a.cases)
        code = cases_diff(out, ids[0], &a);
    else if (n == 1)
        code = single(out, ids[0], &a);
    else
        code = runs_diff(out, ids, argv + optind, n, &a);
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    free(out);
    cli_args_free(&a);
    return code;
}
