/* Printing the statistics of `benchctl compare` (made by cs_compare) as
 * aligned tables or Markdown. */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/compare_stats.h"
#include "util/jsonget.h"
#include "analysis/report.h"

/* "run 3", "base (run 3)" or "case fast": a variant as a reader knows it. */
static char *variant_name(const cJSON *stats, const char *label)
{
    bool cases = strcmp(jstr(stats, "mode"), "cases") == 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(stats, "variants"))
    {
        if (strcmp(jstr(v, "label"), label) != 0)
            continue;
        if (cases)
            return xasprintf("case %s", label);
        if (strcmp(jstr(v, "run"), label) == 0)
            return xasprintf("run %s", label);
        return xasprintf("%s (run %s)", label, jstr(v, "run"));
    }
    return xstrdup(label);
}

static bool is_seconds(const char *unit)
{
    return unit && strcmp(unit, "s") == 0;
}

/* A success rate's values are shares: printed as percentages. */
static const char PROPORTION[] = "\x01proportion";

static char *value(double v, const char *unit)
{
    if (unit == PROPORTION)
        return rep_pct(v, false);
    return is_seconds(unit) ? rep_seconds(v) : rep_num_unit(v, unit);
}

static char *signed_value(double v, const char *unit)
{
    if (unit == PROPORTION)
        return rep_pct(v, true);
    char *s = value(fabs(v), unit);
    char *r = xasprintf("%s%s", isfinite(v) ? (v < 0 ? "-" : "+") : "", s);
    free(s);
    return r;
}

static char *p_text(double p)
{
    if (!isfinite(p))
        return xstrdup("-");
    if (p == 0)
        return xstrdup("<1e-300");
    return xasprintf(p < 1e-3 ? "%.2e" : "%.3f", p);
}

/* "+1.2 ms [+0.9 ms, +1.5 ms]": the HL shift and its interval. */
static char *shift_text(const cJSON *c, const char *unit)
{
    const cJSON *ci = cJSON_GetObjectItemCaseSensitive(c, "hl_ci");
    const cJSON *lo = cJSON_GetArrayItem(ci, 0), *hi = cJSON_GetArrayItem(ci, 1);
    char *s = signed_value(jnum(c, "hl_shift"), unit);
    if (!cJSON_IsNumber(lo) || !cJSON_IsNumber(hi)) {
        char *r = xasprintf("%s [no CI]", s);
        free(s);
        return r;
    }
    char *a = signed_value(lo->valuedouble, unit), *b = signed_value(hi->valuedouble, unit);
    char *r = xasprintf("%s [%s, %s]", s, a, b);
    free(s);
    free(a);
    free(b);
    return r;
}

static void print_summary(const cJSON *stats, FILE *f, bool md)
{
    rtable t;
    rt_init(&t, "lrrrrrrr", "VARIANT", "IMPROVED", "REGRESSED", "UNCHANGED", "INCONCLUSIVE",
            "DIFFERENT", "WON", "GEOMEAN IMPROVEMENT", NULL);
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(stats, "summary"))
    {
        bool base = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "baseline"));
        char *name = variant_name(stats, jstr(s, "variant"));
        size_t len = strlen(name);
        if (base && len && name[len - 1] == ')') /* "main (run 1)" -> "main (run 1, baseline)" */
            rt_addf(&t, "%.*s, baseline)", (int)(len - 1), name);
        else
            rt_addf(&t, "%s%s", name, base ? " (baseline)" : "");
        free(name);
        static const char *const keys[] = {"improved",     "regressed", "unchanged",
                                           "inconclusive", "different", NULL};
        for (int k = 0; keys[k]; k++) {
            if (base)
                rt_add(&t, NULL);
            else if (md && strcmp(keys[k], "regressed") == 0 && jnum(s, keys[k]) > 0)
                rt_addf(&t, "**%.0f**", jnum(s, keys[k]));
            else
                rt_addf(&t, "%.0f", jnum(s, keys[k]));
        }
        rt_addf(&t, "%.0f", jnum(s, "won"));
        double g = jnum(s, "geomean_improvement"), skipped = jnum(s, "geomean_skipped");
        if (base)
            rt_add(&t, NULL);
        else if (!isfinite(g))
            rt_addf(&t, "- (%.0f skipped)", skipped);
        else if (skipped > 0)
            rt_addf(&t, "×%.4g over %.0f (%.0f skipped)", g, jnum(s, "geomean_metrics"), skipped);
        else
            rt_addf(&t, "×%.4g over %.0f", g, jnum(s, "geomean_metrics"));
    }
    rt_print(&t, f, md, md ? NULL : "  ");
    rt_free(&t);
}

static bool any_case(const cJSON *stats)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(stats, "metrics"))
    {
        if (jstr(m, "case"))
            return true;
    }
    return false;
}

static void add_comparison_row(rtable *t, const cJSON *stats, const cJSON *m, const cJSON *c,
                               bool with_case, bool with_vs, bool md)
{
    const char *test = jstr(m, "test");
    const char *unit = test && strcmp(test, "two-proportion") == 0 ? PROPORTION : jstr(m, "unit");
    if (with_case)
        rt_add(t, xstrdup(jstr(m, "case")));
    rt_add(t, xstrdup(jstr(m, "metric")));
    if (with_vs)
        rt_add(t, variant_name(stats, jstr(c, "variant")));
    rt_addf(t, "%.0f / %.0f", jnum(c, "n_baseline"), jnum(c, "n_candidate"));
    rt_add(t, value(jnum(c, "median_baseline"), unit));
    rt_add(t, value(jnum(c, "median_candidate"), unit));
    rt_add(t, rep_num(jnum(c, "ratio")));
    rt_add(t, rep_pct(jnum(c, "relative_change"), true));
    rt_add(t, p_text(jnum(c, "p")));
    rt_add(t, p_text(jnum(c, "p_adjusted")));
    rt_add(t, shift_text(c, unit));
    const char *verdict = jstr(c, "verdict");
    if (md && strcmp(verdict, "regressed") == 0)
        rt_add(t, xstrdup("**regressed**"));
    else
        rt_add(t, xstrdup(verdict));
    const char *w = jstr(m, "winner");
    rt_add(t, w ? variant_name(stats, w) : xstrdup("none"));
    const char *better = jstr(m, "better");
    rt_add(t, xstrdup(better ? better : "(none)"));
}

static void print_metrics(const cJSON *stats, FILE *f, bool md)
{
    bool with_case = any_case(stats);
    bool with_vs = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(stats, "variants")) > 2;
    const char *cols[16];
    int k = 0;
    strbuf align = {0};
    if (with_case) {
        cols[k++] = "CASE";
        sb_puts(&align, "l");
    }
    cols[k++] = "METRIC";
    sb_puts(&align, "l");
    if (with_vs) {
        cols[k++] = "CANDIDATE";
        sb_puts(&align, "l");
    }
    static const char *const rest[] = {
        "N (BASE / CAND)", "MEDIAN (BASE)", "MEDIAN (CAND)", "RATIO",  "CHANGE", "P",
        "P (BH)",          "HL SHIFT [CI]", "VERDICT",       "WINNER", "BETTER", NULL};
    for (int i = 0; rest[i]; i++)
        cols[k++] = rest[i];
    sb_puts(&align, "rrrrrrrrlll");
    cols[k] = NULL;
    rtable t;
    rt_init_list(&t, align.buf, cols);
    const cJSON *m, *c;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(stats, "metrics"))
    {
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(m, "comparisons"))
        {
            add_comparison_row(&t, stats, m, c, with_case, with_vs, md);
        }
    }
    if (rt_rows(&t))
        rt_print(&t, f, md, md ? NULL : "  ");
    else
        fprintf(f, "%sno metric in common to compare\n", md ? "" : "  ");
    rt_free(&t);
    sb_free(&align);
}

static void print_only_in(const cJSON *stats, FILE *f, bool md)
{
    const cJSON *only = cJSON_GetObjectItemCaseSensitive(stats, "only_in"), *e;
    if (!cJSON_GetArraySize(only))
        return;
    fprintf(f, md ? "\n#### Not compared (only on one side)\n\n"
                  : "\nnot compared (only on one side)\n");
    cJSON_ArrayForEach(e, only)
    {
        char *in = variant_name(stats, jstr(e, "variant"));
        char *out = variant_name(stats, jstr(e, "missing_in"));
        const char *cs = jstr(e, "case");
        fprintf(
            f, md ? "- `%s`%s%s%s only in %s (not in %s)\n" : "  %s%s%s%s only in %s (not in %s)\n",
            jstr(e, "metric"), cs ? " (case " : "", cs ? cs : "", cs ? ")" : "", in, out);
        free(in);
        free(out);
    }
}

/* The columns left out, and why (docs/statistics.md, "Metrics"). */
static void print_not_metrics(const cJSON *stats, FILE *f, bool md)
{
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(stats, "not_metrics"), *e;
    if (!cJSON_GetArraySize(nm))
        return;
    fprintf(f, md ? "\n#### Not metrics (not tested)\n\n" : "\nnot metrics (not tested)\n");
    cJSON_ArrayForEach(e, nm)
        fprintf(f, md ? "- `%s`: %s\n" : "  %s: %s\n", jstr(e, "metric"), jstr(e, "reason"));
}

/* Why some metrics could not be tested (also said on stderr). */
static void print_notes(const cJSON *stats, FILE *f, bool md)
{
    const cJSON *m, *c;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(stats, "metrics"))
    {
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(m, "comparisons"))
        {
            const char *note = jstr(c, "note");
            if (note)
                fprintf(f, md ? "- `%s`: %s\n" : "  note: %s: %s\n", jstr(m, "metric"), note);
        }
    }
}

static void print_intro(const cJSON *stats, FILE *f, bool md)
{
    char *base = variant_name(stats, jstr(stats, "baseline"));
    char *thr = rep_pct(jnum(stats, "threshold"), false);
    double tests = jnum(stats, "tests");
    if (md)
        fprintf(f,
                "### benchctl compare: baseline %s\n\n"
                "Mann-Whitney U (success rates: two-proportion z) tests with Benjamini-Hochberg "
                "adjusted p-values over a family of %.0f test%s; "
                "significant: adjusted p < %g; practical: a change of at least %s; "
                "Hodges-Lehmann shift with a %g%% confidence interval.\n\n",
                base, tests, tests == 1 ? "" : "s", jnum(stats, "alpha"), thr,
                jnum(stats, "confidence") * 100);
    else
        fprintf(f,
                "statistics (baseline %s; a BH family of %.0f test%s, adjusted p < %g is significant, a change "
                "of %s or more is practical, HL shift with %g%% CI)\n",
                base, tests, tests == 1 ? "" : "s", jnum(stats, "alpha"), thr,
                jnum(stats, "confidence") * 100);
    const cJSON *n;
    cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(stats, "notes"))
        fprintf(f, md ? "> **note:** %s\n\n" : "  note: %s\n", n->valuestring);
    free(base);
    free(thr);
}

void cs_print(const cJSON *stats, FILE *f, bool md)
{
    bool any = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(stats, "metrics")) > 0;
    const cJSON *base = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(stats, "variants"), 0);
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(base, "statistics"))) {
        /* Nothing to test against; the note says why. */
        const cJSON *n;
        fprintf(f, md ? "### benchctl compare: no statistics\n\n" : "statistics: none\n");
        cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(stats, "notes"))
            fprintf(f, md ? "> **note:** %s\n\n" : "  note: %s\n", n->valuestring);
        return;
    }
    print_intro(stats, f, md);
    if (md) {
        print_summary(stats, f, true);
        fprintf(f, "\n#### Metrics\n\n");
        print_metrics(stats, f, true);
    } else {
        print_metrics(stats, f, false);
    }
    if (md)
        fprintf(f, "\n");
    print_notes(stats, f, md);
    print_only_in(stats, f, md);
    print_not_metrics(stats, f, md);
    if (!md && any) {
        fprintf(f, "\nsummary\n");
        print_summary(stats, f, false);
    }
}
