/*
 * The data sections of a run's report: per case and output the statistics
 * of results.json (a sortable table of every column, the rates and
 * success rates), the output's plots embedded, its validation problems
 * from metadata.json; then the repeated stages with their distribution.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/html.h"
#include "report/html_run.h"
#include "util/jsonget.h"

/* Plots bigger than this are linked, not embedded. */
#define MAX_EMBED (2u * 1024 * 1024)

static void num_cell(strbuf *sb, double x)
{
    if (isfinite(x))
        sb_printf(sb, "<td class=n data-v=\"%.17g\">", x);
    else
        sb_puts(sb, "<td class=n>");
    h_num(sb, x);
    sb_puts(sb, "</td>");
}

static const char *const stat_keys[] = {"count", "mean", "stddev", "min", "median",
                                        "p90", "p99", "max", "mad", NULL};

static void columns_table(strbuf *sb, const cJSON *cols)
{
    if (!cJSON_IsObject(cols) || !cols->child) {
        sb_puts(sb, "<p class=muted>No numeric column.</p>\n");
        return;
    }
    sb_puts(sb, "<div class=scroll><table class=\"sortable stats\"><thead><tr><th>column</th>"
                "<th>unit</th><th>better</th>");
    for (int i = 0; stat_keys[i]; i++)
        sb_printf(sb, "<th class=n>%s</th>", stat_keys[i]);
    sb_puts(sb, "</tr></thead><tbody>\n");
    const cJSON *c;
    cJSON_ArrayForEach(c, cols)
    {
        sb_puts(sb, "<tr><td>");
        h_esc(sb, c->string);
        sb_puts(sb, "</td><td>");
        h_esc(sb, jstr(c, "unit"));
        sb_puts(sb, "</td><td>");
        h_esc(sb, jstr(c, "better"));
        sb_puts(sb, "</td>");
        for (int i = 0; stat_keys[i]; i++)
            num_cell(sb, jnum(c, stat_keys[i]));
        sb_puts(sb, "</tr>\n");
    }
    sb_puts(sb, "</tbody></table></div>\n");
}

static void rates_table(strbuf *sb, const cJSON *rates, const cJSON *success)
{
    const cJSON *r;
    if (cJSON_GetArraySize(rates) > 0) {
        sb_puts(sb, "<table class=rates><thead><tr><th>rate of</th><th class=n>rows</th>"
                    "<th class=n>span</th><th class=n>rows/s</th></tr></thead><tbody>\n");
        cJSON_ArrayForEach(r, rates)
        {
            sb_puts(sb, "<tr><td>");
            h_esc(sb, jstr(r, "column"));
            sb_puts(sb, "</td>");
            num_cell(sb, jnum(r, "rows"));
            num_cell(sb, jnum(r, "span_s"));
            num_cell(sb, jnum(r, "rows_per_s"));
            sb_puts(sb, "</tr>\n");
        }
        sb_puts(sb, "</tbody></table>\n");
    }
    if (cJSON_GetArraySize(success) > 0) {
        sb_puts(sb, "<table class=success><thead><tr><th>success of</th><th class=n>ok</th>"
                    "<th class=n>rows</th><th class=n>rate</th></tr></thead><tbody>\n");
        cJSON_ArrayForEach(r, success)
        {
            sb_puts(sb, "<tr><td>");
            h_esc(sb, jstr(r, "column"));
            sb_puts(sb, "</td>");
            num_cell(sb, jnum(r, "successes"));
            num_cell(sb, jnum(r, "rows"));
            num_cell(sb, jnum(r, "rate"));
            sb_puts(sb, "</tr>\n");
        }
        sb_puts(sb, "</tbody></table>\n");
    }
}

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The validation problems of output `name` of case cs (metadata.json). */
static void validation_problems(strbuf *sb, const cJSON *meta, const char *cs, const char *name)
{
    const cJSON *s, *o, *f, *e;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(meta, "stages"))
    {
        if (!same(jstr(s, "case"), cs))
            continue;
        cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(s, "outputs"))
        {
            if (!same(jstr(o, "name"), name))
                continue;
            cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(o, "files"))
            {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(f, "validation");
                const cJSON *errs = cJSON_GetObjectItemCaseSensitive(v, "errors");
                const char *ferr = jstr(v, "error");
                if (cJSON_GetArraySize(errs) == 0 && !ferr &&
                    !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(v, "valid")))
                    continue;
                sb_puts(sb, "<div class=alert><b>Validation problems</b> in ");
                h_esc(sb, jstr(f, "path"));
                sb_printf(sb, " (%.0f in all)", jnum(v, "error_count"));
                if (ferr) {
                    sb_puts(sb, ": ");
                    h_esc(sb, ferr);
                }
                sb_puts(sb, "</div>\n");
                if (cJSON_GetArraySize(errs) == 0)
                    continue;
                sb_puts(sb, "<div class=scroll><table class=\"sortable problems\"><thead><tr>"
                            "<th class=n>line</th><th class=n>column</th><th>value</th>"
                            "<th>problem</th></tr></thead><tbody>\n");
                cJSON_ArrayForEach(e, errs)
                {
                    sb_puts(sb, "<tr>");
                    num_cell(sb, jnum(e, "line"));
                    num_cell(sb, jnum(e, "column"));
                    sb_puts(sb, "<td><code>");
                    h_esc(sb, jstr(e, "value"));
                    sb_puts(sb, "</code></td><td>");
                    h_esc(sb, jstr(e, "message"));
                    sb_puts(sb, "</td></tr>\n");
                }
                sb_puts(sb, "</tbody></table></div>\n");
            }
        }
    }
}

static void plot_figure(strbuf *sb, const report_run_in *in, const cJSON *p)
{
    const char *path = jstr(p, "path");
    sb_puts(sb, "<figure>\n");
    if (path) {
        char *abs = path_join(in->run_dir, path), *href = rr_link(in, path);
        strbuf alt = {0};
        sb_printf(&alt, "plot %s", jstr(p, "name") ? jstr(p, "name") : "?");
        h_embed_image(sb, abs, href, alt.buf, MAX_EMBED);
        sb_free(&alt);
        free(abs);
        free(href);
    } else {
        sb_puts(sb, "<p class=muted>No file was drawn.</p>\n");
    }
    sb_puts(sb, "<figcaption>");
    h_esc(sb, jstr(p, "name"));
    sb_puts(sb, " (");
    h_esc(sb, jstr(p, "type"));
    sb_puts(sb, ") ");
    h_badge(sb, jstr(p, "status"));
    if (jstr(p, "error")) {
        sb_puts(sb, " ");
        h_esc(sb, jstr(p, "error"));
    }
    sb_puts(sb, "</figcaption>\n</figure>\n");
}

/* The plots of case cs drawn from one of files; marks them in shown[]. */
static void output_plots(strbuf *sb, const report_run_in *in, const char *cs,
                         const cJSON *files, bool *shown)
{
    const cJSON *p, *f;
    int i = 0;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(in->meta, "plots"))
    {
        bool match = false;
        cJSON_ArrayForEach(f, files)
        {
            match = match || same(cJSON_GetStringValue(f), jstr(p, "source"));
        }
        if (match && same(jstr(p, "case"), cs) && !shown[i]) {
            shown[i] = true;
            plot_figure(sb, in, p);
        }
        i++;
    }
}

static void one_output(strbuf *sb, const report_run_in *in, const char *cs, const cJSON *o,
                       bool *shown)
{
    sb_puts(sb, "<h3>");
    h_esc(sb, jstr(o, "name"));
    sb_puts(sb, " <span class=muted>from ");
    h_esc(sb, jstr(o, "stage"));
    sb_puts(sb, " on ");
    h_esc(sb, jstr(o, "host"));
    if (cs) {
        sb_puts(sb, ", case ");
        h_esc(sb, cs);
    }
    sb_puts(sb, "</span></h3>\n<p>");
    const cJSON *valid = cJSON_GetObjectItemCaseSensitive(o, "valid");
    h_badge(sb, cJSON_IsTrue(valid) ? "success" : cJSON_IsFalse(valid) ? "failed" : "unknown");
    sb_puts(sb, cJSON_IsTrue(valid) ? " valid" : cJSON_IsFalse(valid) ? " not valid" : "");
    double rows = jnum(o, "rows");
    if (isfinite(rows))
        sb_printf(sb, " · %.0f rows", rows);
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(o, "files"))
    {
        sb_puts(sb, " · <code>");
        h_json_text(sb, f);
        sb_puts(sb, "</code>");
    }
    sb_puts(sb, "</p>\n");
    columns_table(sb, cJSON_GetObjectItemCaseSensitive(o, "columns"));
    rates_table(sb, cJSON_GetObjectItemCaseSensitive(o, "rates"),
                cJSON_GetObjectItemCaseSensitive(o, "success"));
    validation_problems(sb, in->meta, cs, jstr(o, "name"));
    output_plots(sb, in, cs, cJSON_GetObjectItemCaseSensitive(o, "files"), shown);
}

void rr_section_outputs(strbuf *sb, const report_run_in *in)
{
    h_section_open(sb, "outputs", "Outputs");
    const cJSON *plots = cJSON_GetObjectItemCaseSensitive(in->meta, "plots"), *c, *o;
    int np = cJSON_GetArraySize(plots);
    bool *shown = xcalloc((size_t)np + 1, sizeof *shown);
    int nout = 0;
    if (!in->results)
        sb_puts(sb, "<p class=muted>This run has no results.json (the run did not finish, or an "
                    "older benchctl made it): no statistics.</p>\n");
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(in->results, "cases"))
    {
        cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(c, "outputs"))
        {
            one_output(sb, in, jstr(c, "name"), o, shown);
            nout++;
        }
    }
    if (in->results && !nout)
        sb_puts(sb, "<p class=muted>The run collected no outputs.</p>\n");
    int rest = 0;
    const cJSON *p;
    int i = 0;
    cJSON_ArrayForEach(p, plots)
    {
        if (!shown[i]) {
            if (!rest++)
                sb_puts(sb, "<h3>Plots</h3>\n");
            plot_figure(sb, in, p);
        }
        i++;
    }
    free(shown);
    h_section_close(sb);
}

static const char *const rep_keys[] = {"wall_s", "user_cpu_s", "system_cpu_s", "max_rss_kb",
                                       NULL};

static void one_repeat(strbuf *sb, const cJSON *s, const cJSON *rep)
{
    char *label = rr_stage_label(s);
    sb_puts(sb, "<h3>");
    h_esc(sb, label);
    sb_puts(sb, "</h3>\n<p>");
    sb_printf(sb, "%.0f timed runs after %.0f warm-up run(s)", jnum(rep, "count"),
              jnum(rep, "warmup"));
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(rep, "quality");
    if (q) {
        sb_puts(sb, " · CV ");
        h_num(sb, jnum(q, "cv") * 100);
        sb_printf(sb, "%% · %.0f outlier(s)", jnum(q, "outliers"));
    }
    sb_puts(sb, "</p>\n");
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(rep, "runs"), *r;
    size_t n = (size_t)cJSON_GetArraySize(runs), k = 0;
    double *v = xcalloc(n + 1, sizeof *v);
    bool *out = xcalloc(n + 1, sizeof *out);
    cJSON_ArrayForEach(r, runs)
    {
        v[k] = jnum(r, "wall_s");
        out[k++] = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "outlier"));
    }
    h_strip_svg(sb, v, out, n, "s");
    free(v);
    free(out);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(rep, "metrics");
    sb_puts(sb, "<div class=scroll><table class=\"sortable stats\"><thead><tr><th>metric</th>");
    for (int i = 0; stat_keys[i]; i++)
        sb_printf(sb, "<th class=n>%s</th>", stat_keys[i]);
    sb_puts(sb, "</tr></thead><tbody>\n");
    for (int j = 0; rep_keys[j]; j++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(m, rep_keys[j]);
        if (!x)
            continue;
        sb_printf(sb, "<tr><td>%s</td>", rep_keys[j]);
        for (int i = 0; stat_keys[i]; i++)
            num_cell(sb, jnum(x, stat_keys[i]));
        sb_puts(sb, "</tr>\n");
    }
    sb_puts(sb, "</tbody></table></div>\n");
    const cJSON *nt;
    cJSON_ArrayForEach(nt, cJSON_GetObjectItemCaseSensitive(q, "notes"))
    {
        sb_puts(sb, "<div class=note>");
        h_esc(sb, cJSON_GetStringValue(nt));
        sb_puts(sb, "</div>\n");
    }
    free(label);
}

void rr_section_repeats(strbuf *sb, const cJSON *meta)
{
    const cJSON *s;
    h_section_open(sb, "repeats", "Repeated stages");
    int n = 0;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(meta, "stages"))
    {
        const cJSON *rep = cJSON_GetObjectItemCaseSensitive(s, "repeat");
        if (cJSON_IsObject(rep)) {
            one_repeat(sb, s, rep);
            n++;
        }
    }
    if (!n)
        sb_puts(sb, "<p class=muted>No stage was repeated (<code>repeat:</code>).</p>\n");
    h_section_close(sb);
}
