/*
 * Statistical comparison of runs or cases (see compare_stats.h).
 *
 * Memory: only the metric descriptions of every variant are kept; sample
 * arrays are loaded one metric at a time (the baseline's, then each
 * candidate's in turn) and freed at once, so 20 metrics of a million
 * samples each need the memory of one or two of them.
 */
#define _GNU_SOURCE
#include "analysis/compare_stats.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/compare_metrics.h"
#include "analysis/scaling.h"
#include "util/jsonget.h"
#include "analysis/stats/stats.h"
#include "util/util.h"

/* The outcome for one metric between the baseline and one candidate. */
typedef struct comparison {
    size_t metric;  /* index in the baseline's list */
    size_t variant; /* candidate index, >= 1 */
    size_t na, nb;
    double med_a, med_b;
    bool tested;
    bool proportion; /* a success rate: two-proportion test, else Mann-Whitney */
    bool in_family;  /* tested, and its smallest possible p is below alpha */
    double min_p;    /* the smallest p the test can give for na, nb */
    st_mwu mw;
    st_hl hl;
    double p_adj, rel;
    bool sig, prac;
    const char *verdict;
    char *note;
} comparison;

/* Run the tests for one pair of sorted sample arrays (a: baseline). */
static void test_pair(comparison *c, double med_a, const double *a, size_t na, const double *b,
                      size_t nb, const cs_options *o)
{
    c->na = na;
    c->nb = nb;
    c->med_a = med_a;
    c->med_b = st_quantile_sorted(b, nb, 0.5);
    c->mw.p = c->hl.shift = c->hl.lo = c->hl.hi = NAN;
    if (!na || !nb) {
        c->note = xstrdup("no finite values on one side");
        return;
    }
    if (st_mannwhitney_sorted(a, na, b, nb, &c->mw) != 0 ||
        st_hodges_lehmann_sorted(a, na, b, nb, o->confidence, &c->hl) != 0) {
        c->note = xstrdup("the tests could not be computed");
        c->mw.p = NAN;
        return;
    }
    c->tested = isfinite(c->mw.p);
}

/* Success rates: ka of na rows against kb of nb.  The "medians" are the
 * two rates, the shift their difference with Newcombe's interval. */
static void test_proportions(comparison *c, const cm_metric *a, const cm_metric *b,
                             const cs_options *o)
{
    st_prop pr;
    c->proportion = true;
    c->na = a->n > 0 ? (size_t)a->n : 0;
    c->nb = b->n > 0 ? (size_t)b->n : 0;
    c->med_a = c->na ? a->k / a->n : NAN;
    c->med_b = c->nb ? b->k / b->n : NAN;
    c->mw.p = c->mw.u = c->hl.shift = c->hl.lo = c->hl.hi = NAN;
    if (!c->na || !c->nb) {
        c->note = xstrdup("no rows with a status on one side");
        return;
    }
    if (st_two_proportions(a->k, a->n, b->k, b->n, o->confidence, &pr) != 0) {
        c->note = xstrdup("inconsistent success counts in results.json");
        return;
    }
    c->mw.p = pr.p;
    c->hl = (st_hl){.shift = pr.diff, .lo = pr.lo, .hi = pr.hi};
    c->tested = isfinite(pr.p);
}

/* A test whose sample sizes cannot give p < alpha whatever the data: out
 * of the BH family (it can never be a discovery, and would only make the
 * others' bar higher), with a note. */
static void family_check(comparison *c, const cs_options *o)
{
    c->min_p = c->proportion ? st_two_proportions_min_p((double)c->na, (double)c->nb)
                             : st_mannwhitney_min_p(c->na, c->nb);
    c->in_family = c->tested && c->min_p < o->alpha;
    if (!c->tested || c->in_family)
        return;
    char *note = xasprintf("n = %zu / %zu: the smallest p-value this test can give is %.3g, not "
                           "below alpha = %g, so it can never be significant (left out of the "
                           "BH family); measure more", c->na, c->nb, c->min_p, o->alpha);
    if (c->note) {
        char *both = xasprintf("%s; %s", c->note, note);
        free(note);
        note = both;
    }
    free(c->note);
    c->note = note;
}

/* Outputs read only in part (the run was interrupted while reading them):
 * their metrics are tested, and the reader is told. */
static void partial_notes(cJSON *notes, const cs_variant *v, bool by_case)
{
    const cJSON *c, *o;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(v->results, "cases"))
    {
        const char *cname = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name"));
        if (by_case && !((!cname && !v->case_name) ||
                         (cname && v->case_name && strcmp(cname, v->case_name) == 0)))
            continue;
        cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(c, "outputs"))
        {
            if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "partial")))
                continue;
            const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "name"));
            char *note = xasprintf("%s%s: output '%s'%s%s was read only in part (the run was "
                                   "interrupted while reading it): its metrics cover the rows "
                                   "read", by_case ? "case " : "run ", v->label,
                                   name ? name : "?", cname && !by_case ? " of case " : "",
                                   cname && !by_case ? cname : "");
            cJSON_AddItemToArray(notes, cJSON_CreateString(note));
            free(note);
        }
    }
}

/* "key X vs Y" for each machine fact that differs, appended to diff. */
static void diff_facts(strbuf *diff, const char *host, const cJSON *fa, const cJSON *fb)
{
    /* Not the hostname: CI runners get a new one each time. */
    static const char *const keys[] = {"cpu_model", "cores", "memory_bytes", "kernel", NULL};
    for (size_t k = 0; fa && fb && keys[k]; k++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(fa, keys[k]);
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(fb, keys[k]);
        if (!x || !y || cJSON_Compare(x, y, true))
            continue;
        char *tx = cJSON_PrintUnformatted(x), *ty = cJSON_PrintUnformatted(y);
        if (diff->len)
            sb_puts(diff, "; ");
        if (host)
            sb_printf(diff, "host %s: ", host);
        sb_printf(diff, "%s %s vs %s", keys[k], tx ? tx : "?", ty ? ty : "?");
        free(tx);
        free(ty);
    }
}

/* Whether host h of a run's record (hosts.<alias>) is the controller: its
 * transport declared the capability "controller".  Runs recorded before
 * capabilities were: a host without remote machine facts (those are taken
 * only from hosts that are not the controller). */
static bool host_is_controller(const cJSON *h)
{
    const cJSON *caps = cJSON_GetObjectItemCaseSensitive(h, "capabilities");
    if (cJSON_IsArray(caps)) {
        const cJSON *c;
        cJSON_ArrayForEach(c, caps)
        if (cJSON_IsString(c) && strcmp(c->valuestring, "controller") == 0)
            return true;
        return false;
    }
    return !cJSON_GetObjectItemCaseSensitive(h, "facts");
}

/* Whether a stage of the run ran on the controller itself. */
static bool ran_locally(const cJSON *results)
{
    const cJSON *hosts = cJSON_GetObjectItemCaseSensitive(results, "hosts");
    const cJSON *c, *st;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(results, "cases"))
    cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(c, "stages"))
    {
        const char *alias = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "host"));
        const cJSON *h = alias ? cJSON_GetObjectItemCaseSensitive(hosts, alias) : NULL;
        if (!alias || !h || host_is_controller(h))
            return true;
    }
    return false;
}

/* Runs made on different machines (the controller, or a remote host both
 * name): say so, a difference may be theirs. */
static void machine_note(cJSON *notes, const cs_variant *a, const cs_variant *b)
{
    if (!a->results || !b->results)
        return;
    strbuf diff = {0};
    if (ran_locally(a->results) && ran_locally(b->results))
        diff_facts(&diff, NULL, cJSON_GetObjectItemCaseSensitive(a->results, "machine"),
                   cJSON_GetObjectItemCaseSensitive(b->results, "machine"));
    const cJSON *hb = cJSON_GetObjectItemCaseSensitive(b->results, "hosts");
    const cJSON *h;
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(a->results, "hosts"))
    diff_facts(&diff, h->string, cJSON_GetObjectItemCaseSensitive(h, "facts"),
               cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(hb, h->string),
                                                "facts"));
    if (diff.len) {
        char *note = xasprintf("runs %s and %s ran on different machines (%s): a difference "
                               "may come from the machines, not from what changed", a->label,
                               b->label, diff.buf);
        cJSON_AddItemToArray(notes, cJSON_CreateString(note));
        free(note);
    }
    sb_free(&diff);
}

/*
 * The verdict (docs/statistics.md):
 *  - significant: BH-adjusted p < alpha;
 *  - practical: |relative change| >= threshold, the relative change being
 *    (median_c - median_b) / |median_b| (= ratio - 1 for a positive
 *    baseline).  A baseline median of 0 has no relative change: then
 *    practical means a non-zero Hodges-Lehmann shift.  Success rates:
 *    |rate_c - rate_b| / min(rate_b, 1 - rate_b) >= threshold (a change
 *    relative to the failures when they are the smaller share), any
 *    change from 0% or 100%;
 *  - significant and practical: improved/regressed by the direction of the
 *    change and the metric's `better`, "different" without `better`;
 *  - significant, not practical: unchanged;
 *  - not significant: unchanged when the whole HL confidence interval lies
 *    within +-threshold * |median_b| (success rates: the scale above; a
 *    zero-width band for a zero scale), else inconclusive (too few
 *    samples, too much noise).
 */
static void decide(comparison *c, int better, const cs_options *o)
{
    c->rel = NAN;
    if (!c->tested) {
        c->verdict = "inconclusive";
        return;
    }
    double base = fabs(c->med_a), dir;
    /* A success rate's change is measured against the smaller of the
     * baseline's success and failure shares: 99% -> 95% is five times
     * the failures, not a 4% change. */
    double scale = c->proportion ? fmin(c->med_a, 1 - c->med_a) : base;
    c->sig = isfinite(c->p_adj) && c->p_adj < o->alpha;
    if (base > 0)
        c->rel = (c->med_b - c->med_a) / base;
    if (scale > 0) {
        c->prac = fabs(c->med_b - c->med_a) / scale >= o->threshold;
        dir = c->med_b - c->med_a;
    } else {
        c->prac = c->hl.shift != 0;
        dir = c->hl.shift;
    }
    if (c->sig && c->prac) {
        if (better == BETTER_NONE)
            c->verdict = "different";
        else
            c->verdict = (dir < 0 ? -1 : 1) == better ? "improved" : "regressed";
    } else if (c->sig) {
        c->verdict = "unchanged";
    } else {
        double band = o->threshold * scale;
        bool inside =
            isfinite(c->hl.lo) && isfinite(c->hl.hi) && c->hl.lo >= -band && c->hl.hi <= band;
        c->verdict = inside ? "unchanged" : "inconclusive";
    }
}

static void add_str(cJSON *o, const char *key, const char *s)
{
    if (s)
        cJSON_AddStringToObject(o, key, s);
    else
        cJSON_AddNullToObject(o, key);
}

static const char *better_name(int better)
{
    return better == BETTER_LOWER ? "lower" : better == BETTER_HIGHER ? "higher" : NULL;
}

static cJSON *comparison_json(const comparison *c, const cs_variant *v)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "variant", v[c->variant].label);
    cJSON_AddNumberToObject(j, "n_baseline", (double)c->na);
    cJSON_AddNumberToObject(j, "n_candidate", (double)c->nb);
    jadd_num(j, "median_baseline", c->med_a);
    jadd_num(j, "median_candidate", c->med_b);
    jadd_num(j, "ratio", c->med_a != 0 ? c->med_b / c->med_a : NAN);
    jadd_num(j, "relative_change", c->rel);
    jadd_num(j, "u", c->tested && !c->proportion ? c->mw.u : NAN);
    jadd_num(j, "p", c->mw.p);
    if (c->tested && !c->proportion)
        cJSON_AddBoolToObject(j, "exact", c->mw.exact);
    jadd_num(j, "min_p", c->min_p);
    cJSON_AddBoolToObject(j, "in_family", c->in_family);
    jadd_num(j, "p_adjusted", c->p_adj);
    jadd_num(j, "hl_shift", c->hl.shift);
    cJSON *ci = cJSON_AddArrayToObject(j, "hl_ci");
    cJSON_AddItemToArray(ci,
                         isfinite(c->hl.lo) ? cJSON_CreateNumber(c->hl.lo) : cJSON_CreateNull());
    cJSON_AddItemToArray(ci,
                         isfinite(c->hl.hi) ? cJSON_CreateNumber(c->hl.hi) : cJSON_CreateNull());
    cJSON_AddBoolToObject(j, "significant", c->sig);
    cJSON_AddBoolToObject(j, "practical", c->prac);
    cJSON_AddStringToObject(j, "verdict", c->verdict);
    add_str(j, "note", c->note);
    return j;
}

/*
 * The winner of one metric: the candidate improved over the baseline with
 * the best median (several may be), or the baseline when every compared
 * candidate regressed; -1 for none (also for metrics without `better`).
 */
static long winner(const comparison *cmp, size_t from, size_t to, int better)
{
    long best = -1;
    bool all_regressed = to > from;
    for (size_t i = from; i < to; i++) {
        const comparison *c = &cmp[i];
        if (strcmp(c->verdict, "regressed") != 0)
            all_regressed = false;
        if (strcmp(c->verdict, "improved") != 0)
            continue;
        if (best < 0 || (c->med_b - cmp[best].med_b) * better > 0)
            best = (long)i;
    }
    if (better == BETTER_NONE)
        return -1;
    if (best >= 0)
        return (long)cmp[best].variant;
    return all_regressed ? 0 : -1;
}

/* Per-variant totals for the summary. */
typedef struct tally {
    size_t improved, regressed, unchanged, inconclusive, different, won;
    double log_sum; /* of the improvement factors */
    size_t factors, skipped;
} tally;

static void count(tally *t, const comparison *c, int better)
{
    const char *v = c->verdict;
    size_t *slot = strcmp(v, "improved") == 0    ? &t->improved
                   : strcmp(v, "regressed") == 0 ? &t->regressed
                   : strcmp(v, "unchanged") == 0 ? &t->unchanged
                   : strcmp(v, "different") == 0 ? &t->different
                                                 : &t->inconclusive;
    (*slot)++;
    if (better == BETTER_NONE || !c->tested)
        return;
    /* The factor by which the candidate is better (> 1) or worse (< 1);
     * a ratio of non-positive medians means nothing. */
    if (!(c->med_a > 0 && c->med_b > 0)) {
        t->skipped++;
        return;
    }
    double f = better == BETTER_LOWER ? c->med_a / c->med_b : c->med_b / c->med_a;
    t->log_sum += log(f);
    t->factors++;
}

static cJSON *summary_json(const tally *t, const cs_variant *v, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "variant", v[i].label);
        cJSON_AddBoolToObject(s, "baseline", i == 0);
        cJSON_AddNumberToObject(s, "improved", (double)t[i].improved);
        cJSON_AddNumberToObject(s, "regressed", (double)t[i].regressed);
        cJSON_AddNumberToObject(s, "unchanged", (double)t[i].unchanged);
        cJSON_AddNumberToObject(s, "inconclusive", (double)t[i].inconclusive);
        cJSON_AddNumberToObject(s, "different", (double)t[i].different);
        cJSON_AddNumberToObject(s, "won", (double)t[i].won);
        jadd_num(s, "geomean_improvement",
                t[i].factors ? exp(t[i].log_sum / (double)t[i].factors) : NAN);
        cJSON_AddNumberToObject(s, "geomean_metrics", (double)t[i].factors);
        cJSON_AddNumberToObject(s, "geomean_skipped", (double)t[i].skipped);
        cJSON_AddItemToArray(arr, s);
    }
    return arr;
}

static void add_only_in(cJSON *arr, const char *present, const char *missing, const cm_metric *m,
                        bool by_case)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "variant", present);
    cJSON_AddStringToObject(e, "missing_in", missing);
    add_str(e, "case", by_case ? NULL : m->case_name);
    cJSON_AddStringToObject(e, "metric", m->key);
    cJSON_AddItemToArray(arr, e);
}

typedef struct cmp_vec {
    comparison *v;
    size_t n, cap;
} cmp_vec;

static comparison *cv_push(cmp_vec *cv)
{
    if (cv->n == cv->cap) {
        cv->cap = cv->cap ? 2 * cv->cap : 32;
        cv->v = xrealloc(cv->v, cv->cap * sizeof *cv->v);
    }
    comparison *c = &cv->v[cv->n++];
    memset(c, 0, sizeof *c);
    c->p_adj = NAN;
    return c;
}

/* Test every baseline metric against each candidate that has it.  One
 * baseline array and one candidate array are in memory at a time. */
static void run_tests(cm_list *ml, const cs_variant *v, size_t n, bool by_case, const cs_options *o,
                      cmp_vec *out, cJSON *only_in)
{
    for (size_t i = 0; i < ml[0].n; i++) {
        const cm_metric *bm = &ml[0].v[i];
        double *a = NULL;
        size_t na = 0;
        double med_a = NAN;
        char *a_why = NULL;
        bool a_loaded = false;
        for (size_t k = 1; k < n; k++) {
            if (!v[k].results)
                continue;
            cm_metric *cm = cm_find(&ml[k], bm->case_name, bm->key, by_case);
            if (!cm) {
                add_only_in(only_in, v[0].label, v[k].label, bm, by_case);
                continue;
            }
            cm->matched = true;
            if (!a_loaded) {
                a = cm_load(bm, &na, &a_why);
                med_a = a ? st_quantile_sorted(a, na, 0.5) : NAN;
                a_loaded = true;
            }
            comparison *c = cv_push(out);
            c->metric = i;
            c->variant = k;
            if (bm->kind == CM_PROPORTION || cm->kind == CM_PROPORTION) {
                test_proportions(c, bm, cm, o);
                family_check(c, o);
                continue;
            }
            size_t nb = 0;
            char *b_why = NULL;
            double *b = NULL;
            if (a && (bm->rep_what != REP_NONE) != (cm->rep_what != REP_NONE))
                /* one side's samples are repetitions, the other's rows */
                b_why = xasprintf("one run measured %s once per repetition of a repeated "
                                  "stage, the other over its rows: not comparable",
                                  bm->key);
            else if (a)
                b = cm_load(cm, &nb, &b_why);
            if (a && b) {
                test_pair(c, med_a, a, na, b, nb, o);
            } else {
                c->mw.p = c->hl.shift = c->hl.lo = c->hl.hi = c->med_b = NAN;
                c->na = a ? na : 0;
                c->med_a = a ? med_a : NAN;
                c->note = xasprintf("%s: %s", a ? v[k].label : v[0].label, a ? b_why : a_why);
                fprintf(stderr, "benchctl compare: %s%s%s: %s\n", bm->key,
                        bm->case_name ? " in case " : "", bm->case_name ? bm->case_name : "",
                        c->note);
            }
            family_check(c, o);
            free(b);
            free(b_why);
        }
        free(a);
        free(a_why);
    }
    for (size_t k = 1; k < n; k++)
        for (size_t j = 0; j < ml[k].n; j++)
            if (!ml[k].v[j].matched)
                add_only_in(only_in, v[k].label, v[0].label, &ml[k].v[j], by_case);
}

/* The baseline's columns that are not metrics and why, each key once. */
static cJSON *not_metrics_json(const cm_list *l)
{
    cJSON *arr = cJSON_CreateArray();
    strvec seen = {0};
    for (size_t i = 0; i + 1 < l->skipped.n; i += 2) {
        if (sv_contains(&seen, l->skipped.v[i]))
            continue;
        sv_push(&seen, l->skipped.v[i]);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "metric", l->skipped.v[i]);
        cJSON_AddStringToObject(e, "reason", l->skipped.v[i + 1]);
        cJSON_AddItemToArray(arr, e);
    }
    sv_free(&seen);
    return arr;
}

static cJSON *variants_json(const cs_variant *v, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "label", v[i].label);
        cJSON_AddStringToObject(e, "run", v[i].run_id);
        int64_t num;
        if (parse_int64(v[i].run_id, &num))
            cJSON_AddNumberToObject(e, "run_number", (double)num);
        else
            cJSON_AddNullToObject(e, "run_number");
        add_str(e, "case", v[i].case_name);
        cJSON_AddBoolToObject(e, "baseline", i == 0);
        cJSON_AddBoolToObject(e, "statistics", v[i].results != NULL);
        add_str(e, "note", v[i].note);
        cJSON_AddItemToArray(arr, e);
    }
    return arr;
}

cJSON *cs_compare(const cs_variant *v, size_t n, bool by_case, const cs_options *o)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "mode", by_case ? "cases" : "runs");
    cJSON_AddNumberToObject(root, "alpha", o->alpha);
    cJSON_AddNumberToObject(root, "threshold", o->threshold);
    cJSON_AddNumberToObject(root, "confidence", o->confidence);
    cJSON_AddStringToObject(root, "baseline", v[0].label);
    cJSON_AddItemToObject(root, "variants", variants_json(v, n));
    cJSON *notes = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        if (v[i].note)
            cJSON_AddItemToArray(notes, cJSON_CreateString(v[i].note));
    for (size_t i = 1; !by_case && i < n; i++) {
        machine_note(notes, &v[0], &v[i]);
        setup_note(notes, &v[0], &v[i]);
    }
    if (by_case && v[0].results && scaling_applies(v[0].results))
        cJSON_AddItemToArray(notes, cJSON_CreateString(
            "these cases are a matrix sweep: read it along its parameters with `benchctl stats "
            "ID` (its scaling table); compare --cases tests each case against the baseline as a "
            "variant of one workload, so a higher load can come out \"regressed\""));
    for (size_t i = 0; i < n; i++)
        partial_notes(notes, &v[i], by_case);

    cm_list *ml = xcalloc(n, sizeof *ml);
    for (size_t i = 0; i < n; i++)
        if (v[i].results && (i == 0 || v[0].results))
            cm_collect(&ml[i], &v[i], by_case);
    cmp_vec cv = {0};
    cJSON *only_in = cJSON_CreateArray();
    if (v[0].results)
        run_tests(ml, v, n, by_case, o, &cv, only_in);

    /* One BH family: every test of this invocation. */
    double *p = xcalloc(cv.n + 1, sizeof *p), *adj = xcalloc(cv.n + 1, sizeof *adj);
    size_t tests = 0;
    for (size_t i = 0; i < cv.n; i++) {
        p[i] = cv.v[i].in_family ? cv.v[i].mw.p : NAN;
        tests += cv.v[i].in_family;
    }
    st_bh_adjust(p, cv.n, adj);
    tally *t = xcalloc(n, sizeof *t);
    size_t regressions = 0;
    cJSON *metrics = cJSON_CreateArray();
    for (size_t i = 0; i < cv.n;) {
        /* Comparisons of one metric are adjacent (run_tests' loop order). */
        size_t end = i;
        while (end < cv.n && cv.v[end].metric == cv.v[i].metric)
            end++;
        const cm_metric *bm = &ml[0].v[cv.v[i].metric];
        cJSON *mj = cJSON_CreateObject();
        add_str(mj, "case", by_case ? NULL : bm->case_name); /* cases: matched across them */
        cJSON_AddStringToObject(mj, "metric", bm->key);
        add_str(mj, "unit", bm->unit);
        add_str(mj, "better", better_name(bm->better));
        cJSON_AddStringToObject(mj, "test",
                                bm->kind == CM_PROPORTION ? "two-proportion" : "mann-whitney");
        cJSON *cj = cJSON_AddArrayToObject(mj, "comparisons");
        for (size_t k = i; k < end; k++) {
            cv.v[k].p_adj = cv.v[k].in_family ? adj[k] : NAN;
            decide(&cv.v[k], bm->better, o);
            count(&t[cv.v[k].variant], &cv.v[k], bm->better);
            regressions += strcmp(cv.v[k].verdict, "regressed") == 0;
            cJSON_AddItemToArray(cj, comparison_json(&cv.v[k], v));
        }
        long w = winner(cv.v, i, end, bm->better);
        if (w >= 0)
            t[w].won++;
        add_str(mj, "winner", w >= 0 ? v[w].label : NULL);
        cJSON_AddItemToArray(metrics, mj);
        i = end;
    }
    cJSON_AddNumberToObject(root, "tests", (double)tests);
    cJSON_AddItemToObject(root, "metrics", metrics);
    cJSON_AddItemToObject(root, "only_in", only_in);
    cJSON_AddItemToObject(root, "not_metrics", not_metrics_json(&ml[0]));
    cJSON_AddItemToObject(root, "summary", summary_json(t, v, n));
    cJSON_AddNumberToObject(root, "regressions", (double)regressions);
    cJSON_AddItemToObject(root, "notes", notes);

    for (size_t i = 0; i < cv.n; i++)
        free(cv.v[i].note);
    free(cv.v);
    for (size_t i = 0; i < n; i++)
        cm_free(&ml[i]);
    free(ml);
    free(p);
    free(adj);
    free(t);
    return root;
}
