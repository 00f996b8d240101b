/*
 * `benchctl stats ID`: the statistics of one run, from its results.json
 * (docs/schema/results.schema.json): per case, the repeated stages' wall
 * time summaries, the other stages' wall/CPU/RSS, and per output its rows,
 * rates, success rates and the summary of every numeric column.  As a
 * table, as Markdown, or the file itself (--json).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "run/engine.h"
#include "util/jsonget.h"
#include "analysis/report.h"
#include "analysis/scaling.h"
#include "store/runstore.h"
#include "util/term.h"

static void heading(bool md, int level, const char *indent, const char *text)
{
    if (md)
        printf("\n%.*s %s\n\n", level, "######", text);
    else
        printf("\n%s%s\n", indent, text);
}

static void print_table(rtable *t, bool md, const char *indent)
{
    if (md)
        rt_print(t, stdout, true, indent);
    else
        rt_print_width(t, stdout, indent, term_width(STDOUT_FILENO));
    rt_free(t);
}

static void print_header(const cJSON *res, const char *id, const strvec *tags, bool md)
{
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(res, "run");
    const char *bench = jstr(run, "benchmark");
    strbuf tl = {0};
    for (size_t i = 0; i < tags->n; i++)
        sb_printf(&tl, "%s%s", i ? ", " : "", tags->v[i]);
    char *dur = rep_seconds(jnum(run, "duration_s"));
    const char *status = jstr(run, "status"), *error = jstr(run, "error");
    if (md) {
        printf("## Run %s: %s\n\n", id, bench ? bench : "(unnamed benchmark)");
        printf("**status** %s · **duration** %s · **tags** %s · **started** %s\n",
               status ? status : "?", dur, tl.len ? tl.buf : "none",
               jstr(run, "start_time") ? jstr(run, "start_time") : "?");
        if (error)
            printf("\n**error:** %s\n", error);
    } else {
        printf("Run %s: %s\n", id, bench ? bench : "(unnamed benchmark)");
        printf("  status     %s\n", status ? status : "?");
        if (error)
            printf("  error      %s\n", error);
        printf("  tags       %s\n", tl.len ? tl.buf : "-");
        printf("  started    %s (%s)\n", jstr(run, "start_time") ? jstr(run, "start_time") : "?",
               dur);
    }
    free(dur);
    sb_free(&tl);
}

/* The stages without repeat: one measurement each. */
static void print_plain_stages(const cJSON *stages, bool md, const char *indent)
{
    rtable t;
    rt_init(&t, "lllrrr", "STAGE", "HOST", "STATUS", "WALL", "CPU", "PEAK RSS", NULL);
    const cJSON *s;
    cJSON_ArrayForEach(s, stages)
    {
        if (cJSON_GetObjectItemCaseSensitive(s, "repeat"))
            continue;
        const char *kind = jstr(s, "kind");
        bool cleanup = kind && strcmp(kind, "cleanup") == 0;
        bool bg = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "background"));
        rt_addf(&t, "%s%s%s", cleanup ? "cleanup:" : "", jstr(s, "name") ? jstr(s, "name") : "?",
                bg ? " (background)" : "");
        rt_add(&t, xstrdup(jstr(s, "host")));
        rt_add(&t, xstrdup(jstr(s, "status")));
        rt_add(&t, rep_seconds(jnum(s, "wall_s")));
        rt_add(&t, rep_seconds(jnum(s, "user_cpu_s") + jnum(s, "system_cpu_s")));
        rt_add(&t, rep_kib(jnum(s, "max_rss_kb")));
    }
    if (rt_rows(&t)) {
        heading(md, 4, indent, "stages");
        print_table(&t, md, md ? NULL : "    ");
    } else {
        rt_free(&t);
    }
}

static char *join_notes(const cJSON *notes)
{
    strbuf sb = {0};
    sb_puts(&sb, "");
    const cJSON *n;
    cJSON_ArrayForEach(n, notes)
    {
        if (cJSON_IsString(n))
            sb_printf(&sb, "%s%s", sb.len ? "; " : "", n->valuestring);
    }
    return sb.len ? sb_steal(&sb) : (sb_free(&sb), xstrdup("-"));
}

/* The stages with repeat: the summary of their measured wall times. */
static void print_repeated_stages(const cJSON *stages, bool md, const char *indent)
{
    rtable t;
    rt_init(&t, "llrrrrrrr", "STAGE", "HOST", "N", "MEAN ± SD", "MEDIAN", "MIN – MAX", "P95", "CV",
            "OUTLIERS", NULL);
    strvec notes = {0}; /* long: printed under the table, not in a cell */
    const cJSON *s;
    cJSON_ArrayForEach(s, stages)
    {
        const cJSON *rep = cJSON_GetObjectItemCaseSensitive(s, "repeat");
        if (!rep)
            continue;
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(rep, "metrics"), "wall_s");
        const cJSON *q = cJSON_GetObjectItemCaseSensitive(rep, "quality");
        rt_add(&t, xstrdup(jstr(s, "name")));
        rt_add(&t, xstrdup(jstr(s, "host")));
        double req = jnum(rep, "requested");
        if (isfinite(req) && req != jnum(rep, "count"))
            rt_addf(&t, "%.0f of %.0f", jnum(rep, "count"), req);
        else
            rt_addf(&t, "%.0f", jnum(rep, "count"));
        char *mean = rep_seconds(jnum(w, "mean")), *sd = rep_seconds(jnum(w, "stddev"));
        rt_addf(&t, "%s ± %s", mean, sd);
        free(mean);
        free(sd);
        rt_add(&t, rep_seconds(jnum(w, "median")));
        char *lo = rep_seconds(jnum(w, "min")), *hi = rep_seconds(jnum(w, "max"));
        rt_addf(&t, "%s – %s", lo, hi);
        free(lo);
        free(hi);
        rt_add(&t, rep_seconds(jnum(w, "p95")));
        rt_add(&t, rep_pct(jnum(q, "cv"), false));
        rt_add(&t, rep_num(jnum(q, "outliers")));
        const cJSON *nj = cJSON_GetObjectItemCaseSensitive(q, "notes");
        if (cJSON_GetArraySize(nj)) {
            char *joined = join_notes(nj);
            sv_push_owned(&notes, xasprintf("%s on %s: %s", jstr(s, "name") ? jstr(s, "name") : "?",
                                            jstr(s, "host") ? jstr(s, "host") : "?", joined));
            free(joined);
        }
    }
    if (rt_rows(&t)) {
        heading(md, 4, indent, "repeated stages (measured wall time)");
        print_table(&t, md, md ? NULL : "    ");
        for (size_t i = 0; i < notes.n; i++)
            printf("%snote: %s\n", md ? "\n- " : "    ", notes.v[i]);
    } else {
        rt_free(&t);
    }
    sv_free(&notes);
}

static void print_rates(const cJSON *out, bool md, const char *indent)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(out, "rates"))
    {
        char *rate = rep_num(jnum(r, "rows_per_s")), *span = rep_seconds(jnum(r, "span_s"));
        printf("%srate (%s): %s rows/s (%.0f rows over %s)\n", md ? "- " : indent,
               jstr(r, "column") ? jstr(r, "column") : "?", rate, jnum(r, "rows"), span);
        free(rate);
        free(span);
    }
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(out, "success"))
    {
        strbuf vals = {0};
        const cJSON *v;
        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(s, "values"))
        {
            const char *text = cJSON_GetStringValue(v);
            sb_printf(&vals, "%s%s", vals.len ? ", " : "", text ? text : "?");
        }
        char *pct = rep_pct(jnum(s, "rate"), false);
        printf("%ssuccess (%s in [%s]): %.0f of %.0f (%s)\n", md ? "- " : indent,
               jstr(s, "column") ? jstr(s, "column") : "?", vals.len ? vals.buf : "",
               jnum(s, "successes"), jnum(s, "count"), pct);
        free(pct);
        sb_free(&vals);
    }
}

static void print_columns(const cJSON *cols, bool md)
{
    static const char *const keys[] = {"mean", "stddev", "min", "median", "p90", "p95",
                                       "p99",  "p999",   "max", "mad",    NULL};
    rtable t;
    rt_init(&t, "llrrrrrrrrrrrl", "COLUMN", "UNIT", "COUNT", "MEAN", "STDDEV", "MIN", "MEDIAN",
            "P90", "P95", "P99", "P99.9", "MAX", "MAD", "BETTER", NULL);
    const cJSON *c;
    cJSON_ArrayForEach(c, cols)
    {
        rt_add(&t, xstrdup(c->string));
        rt_add(&t, xstrdup(jstr(c, "unit")));
        double nf = jnum(c, "non_finite");
        if (isfinite(nf) && nf > 0)
            rt_addf(&t, "%.0f (+%.0f non-finite)", jnum(c, "count"), nf);
        else
            rt_addf(&t, "%.0f", jnum(c, "count")); /* a count, never 2e+06 */
        for (int k = 0; keys[k]; k++)
            rt_add(&t, rep_num(jnum(c, keys[k])));
        rt_add(&t, xstrdup(jstr(c, "better")));
    }
    if (rt_rows(&t))
        print_table(&t, md, md ? NULL : "    ");
    else
        rt_free(&t);
}

/* A repeated stage's output: one row per repetition (rows, success rate,
 * rows per second, and the median and p99 of each numeric column), the
 * spread that compare tests. */
static void print_repetitions(const cJSON *o, bool md, const char *indent)
{
    const cJSON *reps = cJSON_GetObjectItemCaseSensitive(o, "repetitions");
    if (!cJSON_GetArraySize(reps))
        return;
    strvec heads = {0}, cols = {0};
    sv_push(&heads, "REP");
    sv_push(&heads, "ROWS");
    sv_push(&heads, "SUCCESS");
    sv_push(&heads, "ROWS/S");
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(o, "columns"))
    if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(c, "median"))) {
        sv_push(&cols, c->string);
        sv_push_owned(&heads, xasprintf("%s P50", c->string));
        sv_push_owned(&heads, xasprintf("%s P99", c->string));
    }
    char *align = xmalloc(heads.n + 1);
    memset(align, 'r', heads.n);
    align[heads.n] = '\0';
    rtable t;
    rt_init_list(&t, align, (const char *const *)heads.v);
    const cJSON *r;
    cJSON_ArrayForEach(r, reps)
    {
        rt_addf(&t, "%.0f", jnum(r, "repetition"));
        rt_addf(&t, "%.0f", jnum(r, "rows"));
        const cJSON *s = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "success"), 0);
        rt_add(&t, s ? rep_pct(jnum(s, "rate"), false) : NULL);
        const cJSON *rt = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "rates"), 0);
        rt_add(&t, rt ? rep_num(jnum(rt, "rows_per_s")) : NULL);
        for (size_t k = 0; k < cols.n; k++) {
            const cJSON *cc = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(r, "columns"), cols.v[k]);
            rt_add(&t, cc ? rep_num(jnum(cc, "median")) : NULL);
            rt_add(&t, cc ? rep_num(jnum(cc, "p99")) : NULL);
        }
    }
    printf(md ? "\n%sper repetition (%d; the table above pools them):\n\n"
              : "%sper repetition (%d; the table above pools them):\n",
           md ? "" : indent, cJSON_GetArraySize(reps));
    print_table(&t, md, md ? NULL : "    ");
    free(align);
    sv_free(&heads);
    sv_free(&cols);
}

static void print_outputs(const cJSON *outputs, bool md, const char *indent)
{
    const cJSON *o;
    cJSON_ArrayForEach(o, outputs)
    {
        const cJSON *valid = cJSON_GetObjectItemCaseSensitive(o, "valid");
        bool partial = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "partial"));
        char *title = xasprintf(md ? "output `%s` (stage `%s` on `%s`, %.0f rows%s%s)"
                                   : "output %s (stage %s on %s, %.0f rows%s%s)",
                                jstr(o, "name") ? jstr(o, "name") : "?",
                                jstr(o, "stage") ? jstr(o, "stage") : "?",
                                jstr(o, "host") ? jstr(o, "host") : "?", jnum(o, "rows"),
                                cJSON_IsTrue(valid)    ? ", valid"
                                : cJSON_IsFalse(valid) ? ", INVALID against its data_schema"
                                                       : "",
                                partial ? "; PARTIAL: reading it was interrupted" : "");
        heading(md, 4, indent, title);
        free(title);
        char *sub = xasprintf("%s  ", indent);
        print_rates(o, md, sub);
        if (md && (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "rates")) ||
                   cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "success"))))
            printf("\n");
        print_columns(cJSON_GetObjectItemCaseSensitive(o, "columns"), md);
        print_repetitions(o, md, sub);
        free(sub);
    }
}

static void print_case(const cJSON *cs, bool md, bool named)
{
    const char *indent = named ? "  " : "";
    if (named) {
        strbuf t = {0};
        sb_printf(&t, md ? "Case `%s`" : "case %s", jstr(cs, "name"));
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(cs, "parameters");
        for (const cJSON *kv = p ? p->child : NULL; kv; kv = kv->next)
            sb_printf(&t, "%s%s=%s", kv == p->child ? " (" : ", ", kv->string,
                      cJSON_GetStringValue(kv) ? kv->valuestring : "?");
        if (p && p->child)
            sb_puts(&t, ")");
        if (jstr(cs, "status"))
            sb_printf(&t, ": %s", jstr(cs, "status"));
        printf(md ? "\n### %s\n" : "\n%s\n", t.buf);
        sb_free(&t);
    }
    const cJSON *stages = cJSON_GetObjectItemCaseSensitive(cs, "stages");
    print_repeated_stages(stages, md, indent);
    print_plain_stages(stages, md, indent);
    print_outputs(cJSON_GetObjectItemCaseSensitive(cs, "outputs"), md, indent);
}

static int print_json(const char *out, const char *id)
{
    /* The file as written by the run; it was parsed (validated) first. */
    char *path = xasprintf("%s/%s/results.json", out, id);
    size_t len = 0;
    char *text = read_file(path, &len);
    free(path);
    if (!text)
        return EXIT_USAGE;
    fwrite(text, 1, len, stdout);
    if (len == 0 || text[len - 1] != '\n')
        putchar('\n');
    free(text);
    return EXIT_OK;
}

int cmd_stats(int argc, char **argv)
{
    cli_args o = {0};
    int code = cli_parse(argc, argv, &o);
    if (code >= 0)
        return code;
    bool json = o.json, md = o.markdown;
    char *id;
    char *out = cli_store("stats", &o, 1, argv + optind, &id);
    cJSON *res = NULL;
    char *err = NULL;
    code = EXIT_USAGE;
    if (!id || runstore_read_results(out, id, &res, &err) != RUNSTORE_RESULTS_OK)
        goto done;
    if (json) {
        code = print_json(out, id);
        goto done;
    }
    strvec tags = {0};
    runstore_tags_of(out, id, &tags);
    print_header(res, id, &tags, md);
    sv_free(&tags);
    if (scaling_applies(res)) /* a matrix: read along its parameters */
        scaling_print(res, stdout, md, "  ");
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(res, "cases");
    bool named =
        cJSON_GetArraySize(cases) > 1 || (cases && cases->child && jstr(cases->child, "name"));
    const cJSON *cs;
    cJSON_ArrayForEach(cs, cases)
    {
        print_case(cs, md, named);
    }
    code = EXIT_OK;
done:
    if (err)
        fprintf(stderr, "benchctl stats: %s\n", err);
    free(err);
    cJSON_Delete(res);
    free(id);
    free(out);
    return code;
}
