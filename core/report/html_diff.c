/*
 * The differential report: the statistics of `benchctl compare`
 * (cs_compare) as a page: a summary per candidate, every comparison with
 * medians, ratio, confidence interval, adjusted p and verdict (regressions
 * first and highlighted), overlaid CDFs per metric from the sample files,
 * and the differences of configuration and metadata between the runs.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/compare_metrics.h"
#include "report/html.h"
#include "report/report.h"
#include "util/jsonget.h"

/* CDF charts drawn at most (the table lists every metric). */
#define MAX_CDFS 60
#define MAX_VARIANTS 64

static int verdict_rank(const char *v)
{
    static const char *const order[] = {"regressed", "different", "improved", "inconclusive",
                                        "unchanged", NULL};
    for (int i = 0; order[i]; i++)
        if (v && strcmp(v, order[i]) == 0)
            return i;
    return 9;
}

typedef struct cmp_row {
    const cJSON *metric, *cmp;
    int rank;
    size_t seq;
} cmp_row;

static int cmp_rows(const void *a, const void *b)
{
    const cmp_row *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank - y->rank;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void num_td(strbuf *sb, double x, const char *suffix)
{
    if (isfinite(x))
        sb_printf(sb, "<td class=n data-v=\"%.17g\">", x);
    else
        sb_puts(sb, "<td class=n>");
    h_num(sb, x);
    if (isfinite(x) && suffix)
        sb_puts(sb, suffix);
    sb_puts(sb, "</td>");
}

static void summary(strbuf *sb, const cJSON *stats)
{
    const cJSON *s;
    int reg = (int)jnum(stats, "regressions");
    if (reg > 0)
        sb_printf(sb, "<div class=alert><b>%d regression%s</b> (listed first below)</div>\n",
                  reg, reg == 1 ? "" : "s");
    sb_puts(sb, "<div class=cards>\n");
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(stats, "summary"))
    {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "baseline")))
            continue;
        sb_puts(sb, "<div class=card><span>");
        h_esc(sb, jstr(s, "variant"));
        sb_puts(sb, " vs ");
        h_esc(sb, jstr(stats, "baseline"));
        double nreg = jnum(s, "regressed"), nimp = jnum(s, "improved");
        sb_printf(sb, "</span><b><span class=%s>%.0f regressed</span> · "
                      "<span class=%s>%.0f improved</span></b>"
                      "<span>%.0f unchanged · %.0f inconclusive · %.0f different",
                  nreg > 0 ? "st-regressed" : "muted", nreg, nimp > 0 ? "st-improved" : "muted",
                  nimp, jnum(s, "unchanged"),
                  jnum(s, "inconclusive"), jnum(s, "different"));
        double g = jnum(s, "geomean_improvement");
        if (isfinite(g))
            sb_printf(sb, " · geomean ×%.4g", g);
        sb_puts(sb, "</span></div>\n");
    }
    sb_puts(sb, "</div>\n");
    sb_printf(sb, "<p class=muted>Mann-Whitney U tests, Benjamini-Hochberg adjusted over %.0f "
                  "tests; significant below α = %g, practical from a %g%% change; "
                  "%g%% Hodges-Lehmann intervals (docs/statistics.md).</p>\n",
              jnum(stats, "tests"), jnum(stats, "alpha"), jnum(stats, "threshold") * 100,
              jnum(stats, "confidence") * 100);
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(stats, "notes"))
    {
        sb_puts(sb, "<div class=note>");
        h_esc(sb, cJSON_GetStringValue(s));
        sb_puts(sb, "</div>\n");
    }
}

static void comparison_row(strbuf *sb, const cmp_row *r)
{
    const char *v = jstr(r->cmp, "verdict");
    sb_printf(sb, "<tr class=\"%s\"><td>", v && (strcmp(v, "regressed") == 0 ||
                                                 strcmp(v, "improved") == 0) ? v : "");
    h_esc(sb, jstr(r->metric, "metric"));
    if (jstr(r->metric, "unit")) {
        sb_puts(sb, " <span class=muted>(");
        h_esc(sb, jstr(r->metric, "unit"));
        sb_puts(sb, ")</span>");
    }
    sb_puts(sb, "</td><td>");
    h_esc(sb, jstr(r->metric, "case"));
    sb_puts(sb, "</td><td>");
    h_esc(sb, jstr(r->cmp, "variant"));
    sb_puts(sb, "</td>");
    sb_printf(sb, "<td data-v=\"%d\">", verdict_rank(v));
    h_badge(sb, v);
    if (jstr(r->cmp, "note")) {
        sb_puts(sb, " <span class=muted>");
        h_esc(sb, jstr(r->cmp, "note"));
        sb_puts(sb, "</span>");
    }
    sb_puts(sb, "</td>");
    num_td(sb, jnum(r->cmp, "median_baseline"), NULL);
    num_td(sb, jnum(r->cmp, "median_candidate"), NULL);
    num_td(sb, jnum(r->cmp, "ratio"), NULL);
    num_td(sb, jnum(r->cmp, "relative_change") * 100, "%");
    const cJSON *ci = cJSON_GetObjectItemCaseSensitive(r->cmp, "hl_ci");
    sb_puts(sb, "<td class=n>");
    if (cJSON_GetArraySize(ci) == 2) {
        sb_puts(sb, "[");
        h_num(sb, cJSON_IsNumber(ci->child) ? ci->child->valuedouble : NAN);
        sb_puts(sb, ", ");
        h_num(sb, cJSON_IsNumber(ci->child->next) ? ci->child->next->valuedouble : NAN);
        sb_puts(sb, "]");
    } else {
        sb_puts(sb, "-");
    }
    sb_puts(sb, "</td>");
    num_td(sb, jnum(r->cmp, "p_adjusted"), NULL);
    sb_puts(sb, "</tr>\n");
}

static void comparisons(strbuf *sb, const cJSON *stats)
{
    const cJSON *metrics = cJSON_GetObjectItemCaseSensitive(stats, "metrics"), *m, *c;
    size_t n = 0, cap = 16;
    cmp_row *rows = xmalloc(cap * sizeof *rows);
    cJSON_ArrayForEach(m, metrics)
    {
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(m, "comparisons"))
        {
            if (n == cap)
                rows = xrealloc(rows, (cap *= 2) * sizeof *rows);
            rows[n] = (cmp_row){.metric = m, .cmp = c, .rank = verdict_rank(jstr(c, "verdict")),
                            .seq = n};
            n++;
        }
    }
    qsort(rows, n, sizeof *rows, cmp_rows);
    if (!n) {
        sb_puts(sb, "<p class=muted>No metric to compare.</p>\n");
    } else {
        sb_puts(sb, "<div class=scroll><table class=\"sortable verdicts\"><thead><tr>"
                    "<th>metric</th><th>case</th><th>candidate</th><th>verdict</th>"
                    "<th class=n>median, baseline</th><th class=n>median, candidate</th>"
                    "<th class=n>ratio</th><th class=n>change</th><th class=n>CI of the shift"
                    "</th><th class=n>p adj.</th></tr></thead><tbody>\n");
        for (size_t i = 0; i < n; i++)
            comparison_row(sb, &rows[i]);
        sb_puts(sb, "</tbody></table></div>\n");
    }
    free(rows);
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(stats, "only_in");
    if (cJSON_GetArraySize(o) > 0) {
        sb_puts(sb, "<h3>Metrics on one side only (not tested)</h3>\n<ul>\n");
        cJSON_ArrayForEach(c, o)
        {
            sb_puts(sb, "<li>");
            h_esc(sb, jstr(c, "metric"));
            if (jstr(c, "case")) {
                sb_puts(sb, " [case ");
                h_esc(sb, jstr(c, "case"));
                sb_puts(sb, "]");
            }
            sb_puts(sb, ": in ");
            h_esc(sb, jstr(c, "variant"));
            sb_puts(sb, ", not in ");
            h_esc(sb, jstr(c, "missing_in"));
            sb_puts(sb, "</li>\n");
        }
        sb_puts(sb, "</ul>\n");
    }
}

/* Overlaid CDFs of every metric, from the sample files. */
static void cdfs(strbuf *sb, const cJSON *stats, const cs_variant *v, size_t n, bool by_case)
{
    cm_list *lists = xcalloc(n, sizeof *lists);
    for (size_t i = 0; i < n; i++)
        cm_collect(&lists[i], &v[i], by_case);
    const cJSON *m;
    int drawn = 0;
    sb_puts(sb, "<div class=figs>\n");
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(stats, "metrics"))
    {
        if (drawn >= MAX_CDFS)
            break;
        double *xs[MAX_VARIANTS] = {0};
        size_t ns[MAX_VARIANTS] = {0}, have = 0;
        const char *labels[MAX_VARIANTS];
        for (size_t i = 0; i < n; i++) {
            labels[i] = v[i].label;
            cm_metric *cm = cm_find(&lists[i], by_case ? v[i].case_name : jstr(m, "case"),
                                    jstr(m, "metric"), by_case);
            char *why = NULL;
            if (cm && cm->kind == CM_SAMPLES)
                xs[i] = cm_load(cm, &ns[i], &why);
            free(why);
            have += xs[i] && ns[i];
        }
        if (have >= 2) {
            sb_puts(sb, "<figure class=cdf><figcaption><b>");
            h_esc(sb, jstr(m, "metric"));
            sb_puts(sb, "</b>");
            if (!by_case && jstr(m, "case")) {
                sb_puts(sb, " [case ");
                h_esc(sb, jstr(m, "case"));
                sb_puts(sb, "]");
            }
            sb_puts(sb, "</figcaption>\n");
            h_cdf_svg(sb, xs, ns, labels, n, jstr(m, "unit"));
            sb_puts(sb, "</figure>\n");
            drawn++;
        }
        for (size_t i = 0; i < n; i++)
            free(xs[i]);
    }
    sb_puts(sb, "</div>\n");
    if (!drawn)
        sb_puts(sb, "<p class=muted>No metric has samples on two sides.</p>\n");
    for (size_t i = 0; i < n; i++)
        cm_free(&lists[i]);
    free(lists);
}

/* Flatten the JSON value v under prefix into keys[] / one value text per
 * run (col of ncol). */
static void flatten(cJSON *table, const char *prefix, const cJSON *v, size_t col, size_t ncol)
{
    if ((cJSON_IsObject(v) || cJSON_IsArray(v)) && v->child) {
        const cJSON *it;
        int i = 0;
        cJSON_ArrayForEach(it, v)
        {
            char *k = it->string ? xasprintf("%s.%s", prefix, it->string)
                                 : xasprintf("%s[%d]", prefix, i);
            flatten(table, k, it, col, ncol);
            free(k);
            i++;
        }
        return;
    }
    cJSON *row = cJSON_GetObjectItemCaseSensitive(table, prefix);
    if (!row) {
        row = cJSON_AddArrayToObject(table, prefix);
        for (size_t i = 0; i < ncol; i++)
            cJSON_AddItemToArray(row, cJSON_CreateNull());
    }
    char *text = cJSON_IsString(v) ? xstrdup(v->valuestring) : cJSON_PrintUnformatted(v);
    cJSON_ReplaceItemInArray(row, (int)col, cJSON_CreateString(text));
    free(text);
}

static void differences(strbuf *sb, const report_diff_run *runs, size_t n)
{
    static const char *const roots[] = {"status", "duration_s", "config", "custom",
                                        "parameters", "environment", "git", "benchctl",
                                        "machine", "hosts", NULL};
    cJSON *table = cJSON_CreateObject();
    for (size_t i = 0; i < n; i++)
        for (int r = 0; roots[r]; r++)
            flatten(table, roots[r], cJSON_GetObjectItemCaseSensitive(runs[i].meta, roots[r]),
                    i, n);
    const cJSON *row;
    int differ = 0, same = 0;
    cJSON_ArrayForEach(row, table)
    {
        const char *first = cJSON_GetStringValue(row->child);
        bool all = true;
        for (const cJSON *c = row->child; c; c = c->next) {
            const char *s = cJSON_GetStringValue(c);
            all = all && ((!s && !first) || (s && first && strcmp(s, first) == 0));
        }
        if (all || strstr(row->string, "peak_rss") || strcmp(row->string, "duration_s") == 0) {
            same += all;
            continue;
        }
        if (!differ++) {
            sb_puts(sb, "<div class=scroll><table class=\"sortable diffs\"><thead><tr>"
                        "<th>key</th>");
            for (size_t i = 0; i < n; i++) {
                sb_puts(sb, "<th>");
                h_esc(sb, runs[i].label);
                sb_puts(sb, "</th>");
            }
            sb_puts(sb, "</tr></thead><tbody>\n");
        }
        sb_puts(sb, "<tr><td><code>");
        h_esc(sb, row->string);
        sb_puts(sb, "</code></td>");
        for (const cJSON *c = row->child; c; c = c->next) {
            sb_puts(sb, "<td>");
            h_json_text(sb, c);
            sb_puts(sb, "</td>");
        }
        sb_puts(sb, "</tr>\n");
    }
    if (differ)
        sb_puts(sb, "</tbody></table></div>\n");
    sb_printf(sb, "<p class=muted>%d key(s) differ, %d are the same (the duration and "
                  "benchctl's own memory use are left out: they always differ).</p>\n",
              differ, same);
    cJSON_Delete(table);
}

char *report_diff_html(const report_diff_run *runs, size_t n, bool by_case,
                       const cs_options *o, size_t *len, int *regressions)
{
    if (n > MAX_VARIANTS)
        n = MAX_VARIANTS;
    cs_variant *v = xcalloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = (cs_variant){.label = runs[i].label, .run_id = runs[i].id, .run_dir = runs[i].dir,
                            .case_name = by_case ? runs[i].label : NULL,
                            .results = runs[i].results, .note = runs[i].note};
    cJSON *stats = cs_compare(v, n, by_case, o);
    *regressions = (int)jnum(stats, "regressions");
    strbuf sb = {0}, t = {0};
    if (by_case)
        sb_printf(&t, "Run %s: its cases compared", runs[0].id);
    else
        sb_printf(&t, "Runs compared: %zu runs", n);
    strbuf sub = {0};
    sb_puts(&sub, "benchctl differential report · baseline ");
    sb_puts(&sub, runs[0].label);
    sb_puts(&sub, by_case ? " · cases " : " · runs ");
    for (size_t i = 0; i < n; i++)
        sb_printf(&sub, "%s%s", i ? ", " : "", runs[i].label);
    h_page_open(&sb, t.buf, sub.buf);
    sb_puts(&sb, "<nav class=toc><a href=\"#summary\">Summary</a><a href=\"#metrics\">Metrics"
                 "</a><a href=\"#distributions\">Distributions</a><a href=\"#differences\">"
                 "Differences</a></nav>\n");
    h_section_open(&sb, "summary", "Summary");
    summary(&sb, stats);
    h_section_close(&sb);
    h_section_open(&sb, "metrics", "Metrics (regressions first)");
    comparisons(&sb, stats);
    h_section_close(&sb);
    h_section_open(&sb, "distributions", "Distributions (CDF)");
    cdfs(&sb, stats, v, n, by_case);
    h_section_close(&sb);
    h_section_open(&sb, "differences", by_case ? "Cases" : "Configuration and metadata "
                                                           "differences");
    if (by_case) {
        cJSON *cases = cJSON_GetObjectItemCaseSensitive(runs[0].meta, "cases");
        cJSON *wrap = cJSON_CreateObject();
        const cJSON *c;
        cJSON_ArrayForEach(c, cases)
        {
            if (jstr(c, "name"))
                cJSON_AddItemToObject(wrap, jstr(c, "name"), cJSON_Duplicate(c, 1));
        }
        h_kv_table(&sb, wrap, "No cases recorded.");
        cJSON_Delete(wrap);
    } else {
        differences(&sb, runs, n);
    }
    h_section_close(&sb);
    h_page_close(&sb);
    sb_free(&t);
    sb_free(&sub);
    cJSON_Delete(stats);
    free(v);
    if (len)
        *len = sb.len;
    return sb_steal(&sb);
}
