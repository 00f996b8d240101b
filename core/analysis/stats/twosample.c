/*
 * Two-sample comparisons behind `benchctl compare`: the Mann-Whitney U test
 * and the Hodges-Lehmann shift with its confidence interval, both for
 * samples of millions of values.
 */
#include <errno.h>
#include <stdlib.h>

#include "stats_impl.h"

/* ---- Mann-Whitney U ---------------------------------------------------- */

/* Ranks of the merged sorted samples, tie groups getting their average
 * rank.  Twice the rank sum of a is an integer: kept exact. */
typedef struct ranking {
    uint64_t rank2_a;  /* 2 R_a */
    long double tie;   /* sum of t^3 - t over tie groups */
    int ties;
} ranking;

static void rank_merged(const double *a, size_t na, const double *b, size_t nb, ranking *rk)
{
    size_t i = 0, j = 0;
    uint64_t pos = 0;
    rk->rank2_a = 0;
    rk->tie = 0;
    rk->ties = 0;
    while (i < na || j < nb) {
        double v = i == na ? b[j] : j == nb ? a[i] : (a[i] < b[j] ? a[i] : b[j]);
        uint64_t ca = 0, cb = 0;
        for (; i < na && a[i] == v; i++)
            ca++;
        for (; j < nb && b[j] == v; j++)
            cb++;
        uint64_t t = ca + cb;
        /* ranks pos+1 .. pos+t: average (2 pos + t + 1) / 2 */
        rk->rank2_a += ca * (2 * pos + t + 1);
        if (t > 1) {
            rk->ties = 1;
            rk->tie += (long double)t * t * t - t;
        }
        pos += t;
    }
}

/* Exact two-sided p-value, scipy's: 2 P(U >= u_max) = 2 P(U <= N - u_max),
 * capped at 1.  1 when done, 0 when the table would be too large, -1 on
 * ENOMEM. */
static int mwu_exact_p(uint64_t na, uint64_t nb, double umax, double *p)
{
    uint64_t m = na < nb ? na : nb, n = na < nb ? nb : na;
    uint64_t kmax = na * nb - (uint64_t)umax;
    if (kmax >= STI_EXACT_MAX)
        return 0;
    double *c = sti_mwu_counts(m, n, kmax);
    if (!c)
        return -1;
    double cum = 0;
    for (uint64_t k = 0; k <= kmax; k++)
        cum += c[k];
    free(c);
    *p = 2.0 * cum / sti_binom(m, n);
    if (*p > 1)
        *p = 1;
    return 1;
}

/* Normal approximation with tie and continuity corrections, as scipy's
 * _get_mwu_z: z = (u_max - na nb / 2 - 0.5) / s. */
static double mwu_asymptotic_p(uint64_t na, uint64_t nb, double umax, const ranking *rk)
{
    double n = (double)(na + nb);
    double inner = (n + 1) - (double)(rk->tie / ((long double)n * (n - 1)));
    double num = umax - (double)na * (double)nb / 2 - 0.5;
    /* inner is 0 only when every value is the same (u = na nb / 2). */
    if (!(inner > 0))
        return num <= 0 ? 1.0 : 0.0;
    double s = sqrt((double)na * (double)nb / 12 * inner);
    double p = 2 * sti_norm_sf(num / s);
    return p > 1 ? 1 : p < 0 ? 0 : p;
}

int st_mannwhitney_sorted(const double *sa, size_t ma, const double *sb, size_t mb,
                          st_mwu *out)
{
    out->u = NAN;
    out->p = NAN;
    out->exact = 0;
    int rc = -1;
    if (ma == 0 || mb == 0) {
        errno = EINVAL;
        goto out;
    }
    ranking rk;
    rank_merged(sa, ma, sb, mb, &rk);
    uint64_t u2a = rk.rank2_a - (uint64_t)ma * (ma + 1); /* 2 U_a */
    uint64_t n2 = 2 * (uint64_t)ma * mb;
    out->u = (double)u2a / 2;
    double umax = (double)(u2a > n2 - u2a ? u2a : n2 - u2a) / 2;
    rc = 0;
    if (!rk.ties && (ma <= 8 || mb <= 8)) {
        int e = mwu_exact_p(ma, mb, umax, &out->p);
        if (e < 0) {
            rc = -1;
            errno = ENOMEM;
            goto out;
        }
        out->exact = e;
    }
    if (!out->exact)
        out->p = mwu_asymptotic_p(ma, mb, umax, &rk);
out:
    return rc;
}

int st_mannwhitney(const double *a, size_t na, const double *b, size_t nb, st_mwu *out)
{
    size_t ma = 0, mb = 0;
    double *sa = sti_sorted_finite(a, na, &ma);
    double *sb = sa ? sti_sorted_finite(b, nb, &mb) : NULL;
    int rc = -1;
    if (!sa || !sb) {
        out->u = out->p = NAN;
        out->exact = 0;
        errno = ENOMEM;
    } else {
        rc = st_mannwhitney_sorted(sa, ma, sb, mb, out);
    }
    free(sa);
    free(sb);
    return rc;
}

/* ---- Hodges-Lehmann ------------------------------------------------------ */

/* Up to this many differences they are formed and selected directly. */
#define HL_MATERIALISE (UINT64_C(1) << 22)
/* Pairs sampled per round of the selection. */
#define HL_SAMPLE 32768

/*
 * The k of the confidence interval (see stats.h): exact distribution for
 * min(na, nb) <= 8 (while its table stays under STI_EXACT_MAX entries),
 * normal approximation otherwise.  0 when there is no interval.
 */
static int hl_k(uint64_t na, uint64_t nb, double conf, uint64_t *k)
{
    *k = 0;
    if (!(conf > 0 && conf < 1))
        return 0;
    double a2 = (1 - conf) / 2;
    uint64_t m = na < nb ? na : nb, n = na < nb ? nb : na, N = na * nb;
    if (m <= 8 && N / 2 < STI_EXACT_MAX) {
        uint64_t kmax = N / 2;
        double *c = sti_mwu_counts(m, n, kmax);
        if (!c)
            return -1;
        double total = sti_binom(m, n), cum = 0;
        /* P(U <= u) = cum / total <= a2, compared as cum <= a2 * total. */
        for (uint64_t u = 0; u <= kmax; u++) {
            cum += c[u];
            if (!(cum <= a2 * total))
                break;
            *k = u + 1;
        }
        free(c);
        return 0;
    }
    double z = sti_norm_ppf((1 + conf) / 2);
    double kk = floor((double)N / 2 - z * sqrt((double)na * (double)nb * (double)(na + nb + 1) / 12));
    *k = kk < 1 ? 1 : (uint64_t)kk;
    return 0;
}

/* Materialised: all N differences, selected in place.  ranks: r1 <= r2
 * (the median's), klo <= r1 and khi >= r2 (the interval's, or unused). */
static int hl_direct(const double *a, size_t na, const double *b, size_t nb, const uint64_t *rank,
                     double *val)
{
    size_t N = na * nb;
    double *d = malloc(N * sizeof *d);
    if (!d)
        return -1;
    size_t w = 0;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++)
            d[w++] = b[j] - a[i];
    size_t r1 = (size_t)rank[0], r2 = (size_t)rank[1];
    sti_select(d, N, r1);
    val[0] = d[r1];
    /* Everything after r1 is >= d[r1]: rank r1 + 1 is their minimum. */
    double v2 = d[r1];
    if (r2 != r1) {
        v2 = d[r1 + 1];
        for (size_t i = r1 + 2; i < N; i++)
            if (d[i] < v2)
                v2 = d[i];
    }
    val[1] = v2;
    if (rank[2] != UINT64_MAX) {
        /* d[0 .. r1) holds the ranks below r1, d[r1 + 1 .. N) those above. */
        size_t lo = (size_t)rank[2], hi = (size_t)rank[3];
        if (lo < r1)
            sti_select(d, r1, lo);
        val[2] = d[lo];
        if (hi > r1)
            sti_select(d + r1 + 1, N - r1 - 1, hi - r1 - 1);
        val[3] = d[hi];
    }
    free(d);
    return 0;
}

/*
 * Selection without forming the differences.  For a threshold t the
 * differences b_j - a_i <= t of row i (a ascending) are a prefix of b, and
 * that prefix only grows with i: counting them all is a two-pointer sweep,
 * O(na + nb).  The wanted ranks are found by keeping a bracket [lo, hi] of
 * values around them, with the counts below and within it and, per row,
 * the bounds of the bracket's pairs (jlo, jhi).  Each round draws pairs
 * uniformly inside the bracket, takes the sample's order statistics a few
 * standard deviations either side of the ranks as new bounds (one sweep
 * counts both), which shrinks the bracket about sixtyfold; when it holds
 * few enough pairs they are collected and selected.  All ranks (interval
 * and median) share the first rounds until they spread over much of the
 * bracket; then each (the median's one or two adjacent ranks, each end of
 * the interval) goes on from a copy of it.  A round that fails to halve
 * the bracket (heavy ties, bad luck) is followed by a bisection of its key
 * range, which always progresses.  Rounding is monotone, so the computed
 * differences obey the same order as the exact ones and every count is
 * exact for the values returned.
 */
typedef struct bracket {
    double lo, hi;     /* values */
    uint64_t clo, chi; /* #(d < lo) and #(d <= hi) */
} bracket;

typedef struct hl_sel {
    const double *a, *b;
    size_t na, nb;
    bracket br;
    size_t *jlo, *jhi; /* per row: first j with d >= lo, first with d > hi */
    size_t *t1, *t2;   /* sweep outputs */
    bracket saved;     /* the shared bracket, while each group goes on */
    size_t *slo, *shi;
    uint64_t *spos, *skeys, *stmp; /* samples */
    double *buf;                   /* collected differences */
    size_t cap;
    uint64_t rng;
} hl_sel;

static uint64_t next_random(uint64_t *s)
{
    /* splitmix64 */
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static double above(double x)
{
    return sti_canon(nextafter(x, INFINITY));
}

static double below(double x)
{
    return sti_canon(nextafter(x, -INFINITY));
}

static void swap_rows(size_t **x, size_t **y)
{
    size_t *t = *x;
    *x = *y;
    *y = t;
}

/*
 * One sweep: per row, #(d < u1) into t1 and #(d <= u2) into t2 (either
 * skipped when NAN), with lo <= u1 <= u2 <= hi so that only the bracket's
 * pairs are looked at.  Totals in *c1, *c2.
 */
static void sweep(hl_sel *h, double u1, double u2, uint64_t *c1, uint64_t *c2)
{
    int do1 = !isnan(u1), do2 = !isnan(u2);
    size_t j1 = 0, j2 = 0;
    uint64_t s1 = 0, s2 = 0;
    for (size_t i = 0; i < h->na; i++) {
        double ai = h->a[i];
        size_t lo = h->jlo[i], end = h->jhi[i];
        if (do1) {
            if (j1 < lo)
                j1 = lo;
            while (j1 < end && h->b[j1] - ai < u1)
                j1++;
            h->t1[i] = j1;
            s1 += j1;
        }
        if (do2) {
            if (j2 < lo)
                j2 = lo;
            if (do1 && j2 < j1)
                j2 = j1;
            while (j2 < end && h->b[j2] - ai <= u2)
                j2++;
            h->t2[i] = j2;
            s2 += j2;
        }
    }
    *c1 = s1;
    *c2 = s2;
}

static void full_bracket(hl_sel *h)
{
    for (size_t i = 0; i < h->na; i++) {
        h->jlo[i] = 0;
        h->jhi[i] = h->nb;
    }
    h->br.lo = h->b[0] - h->a[h->na - 1];
    h->br.hi = h->b[h->nb - 1] - h->a[0];
    h->br.clo = 0;
    h->br.chi = (uint64_t)h->na * h->nb;
}

/* Sorted keys of HL_SAMPLE differences drawn uniformly from the bracket's
 * m pairs: sorted positions, then one walk over the rows. */
static void draw_sample(hl_sel *h, uint64_t m)
{
    for (size_t s = 0; s < HL_SAMPLE; s++)
        h->spos[s] = next_random(&h->rng) % m;
    sti_radix_sort(h->spos, h->stmp, HL_SAMPLE);
    size_t s = 0;
    uint64_t acc = 0;
    for (size_t i = 0; i < h->na && s < HL_SAMPLE; i++) {
        uint64_t w = h->jhi[i] - h->jlo[i];
        for (; s < HL_SAMPLE && h->spos[s] < acc + w; s++)
            h->skeys[s] = sti_key(h->b[h->jlo[i] + (size_t)(h->spos[s] - acc)] - h->a[i]);
        acc += w;
    }
    sti_radix_sort(h->skeys, h->stmp, HL_SAMPLE);
}

/* Sample values below rank rlo and above rank rhi, with a margin of three
 * standard deviations of the sample's count (NAN past its ends). */
static void sample_bounds(hl_sel *h, uint64_t rlo, uint64_t rhi, double *u1, double *u2)
{
    uint64_t m = h->br.chi - h->br.clo;
    draw_sample(h, m);
    double q1 = ((double)(rlo - h->br.clo) + 0.5) / (double)m;
    double q2 = ((double)(rhi - h->br.clo) + 0.5) / (double)m;
    double i1 = floor(q1 * HL_SAMPLE - 3 * sqrt(HL_SAMPLE * q1 * (1 - q1)) - 3);
    double i2 = ceil(q2 * HL_SAMPLE + 3 * sqrt(HL_SAMPLE * q2 * (1 - q2)) + 3);
    *u1 = i1 >= 0 ? sti_unkey(h->skeys[(size_t)i1]) : NAN;
    *u2 = i2 < HL_SAMPLE ? sti_unkey(h->skeys[(size_t)i2]) : NAN;
}

/* A value in [lo, hi) halving the bracket's key range. */
static double key_midpoint(double lo, double hi)
{
    uint64_t klo = sti_key(lo), khi = sti_key(hi);
    double u = sti_canon(sti_unkey(klo + (khi - klo) / 2));
    return u < hi ? u : below(hi);
}

/* Collect the bracket's pairs and select the ranks r[0..nr) (ascending). */
static void collect_select(hl_sel *h, const uint64_t *r, int nr, double *v)
{
    size_t n = 0;
    for (size_t i = 0; i < h->na; i++)
        for (size_t j = h->jlo[i]; j < h->jhi[i]; j++)
            h->buf[n++] = h->b[j] - h->a[i];
    /* After selecting rank k, buf[k + 1 ..] holds exactly the ranks above. */
    size_t base = 0;
    for (int k = 0; k < nr; k++) {
        size_t idx = (size_t)(r[k] - h->br.clo);
        sti_select(h->buf + base, n - base, idx - base);
        v[k] = h->buf[idx];
        base = idx + 1;
    }
}

/* The difference of rank r + 1 given v, the one of rank r (one sweep). */
static double next_value(hl_sel *h, double v, uint64_t r)
{
    uint64_t c1, c2;
    full_bracket(h);
    sweep(h, NAN, v, &c1, &c2);
    if (c2 > r + 1)
        return v;
    double best = INFINITY;
    for (size_t i = 0; i < h->na; i++)
        if (h->t2[i] < h->nb) {
            double d = h->b[h->t2[i]] - h->a[i];
            if (d < best)
                best = d;
        }
    return best;
}

static void solve(hl_sel *h, const uint64_t *r, int nr, double *v);

/* Each run of adjacent ranks goes on from a copy of the shared bracket. */
static void split_runs(hl_sel *h, const uint64_t *r, int nr, double *v)
{
    h->saved = h->br;
    memcpy(h->slo, h->jlo, h->na * sizeof *h->slo);
    memcpy(h->shi, h->jhi, h->na * sizeof *h->shi);
    for (int k = 0; k < nr;) {
        int e = k + 1;
        while (e < nr && r[e] == r[e - 1] + 1)
            e++;
        h->br = h->saved;
        memcpy(h->jlo, h->slo, h->na * sizeof *h->jlo);
        memcpy(h->jhi, h->shi, h->na * sizeof *h->jhi);
        solve(h, r + k, e - k, v + k);
        k = e;
    }
}

/* A run whose ranks a bound fell between: the first alone, then each next
 * one from the previous value. */
static void solve_run_apart(hl_sel *h, const uint64_t *r, int nr, double *v)
{
    solve(h, r, 1, v);
    for (int k = 1; k < nr; k++)
        v[k] = next_value(h, v[k - 1], r[k - 1]);
}

/* Values of the ranks r[0..nr) (ascending, distinct) into v, from the
 * current bracket. */
static void solve(hl_sel *h, const uint64_t *r, int nr, double *v)
{
    bracket *br = &h->br;
    int run = r[nr - 1] - r[0] == (uint64_t)(nr - 1);
    uint64_t prev = UINT64_MAX;
    for (;;) {
        /* Invariant: br->clo <= r[0] and r[nr - 1] < br->chi. */
        uint64_t m = br->chi - br->clo, rlo = r[0], rhi = r[nr - 1];
        if (br->lo == br->hi) {
            for (int k = 0; k < nr; k++)
                v[k] = br->lo;
            return;
        }
        if (m <= h->cap) {
            collect_select(h, r, nr, v);
            return;
        }
        if (!run && rhi - rlo > m / 8) {
            split_runs(h, r, nr, v);
            return;
        }
        double u1 = NAN, u2 = NAN;
        if (m <= prev / 2)
            sample_bounds(h, rlo, rhi, &u1, &u2);
        else
            u2 = key_midpoint(br->lo, br->hi);
        prev = m;
        if (!(u1 > br->lo))
            u1 = NAN; /* no use */
        if (!(u2 < br->hi))
            u2 = NAN;
        uint64_t c1, c2;
        sweep(h, u1, u2, &c1, &c2);
        int straddle = 0;
        if (!isnan(u1)) {
            if (c1 <= rlo) {
                br->lo = u1;
                br->clo = c1;
                swap_rows(&h->jlo, &h->t1);
            } else if (c1 > rhi) {
                br->hi = below(u1);
                br->chi = c1;
                swap_rows(&h->jhi, &h->t1);
            } else {
                straddle = 1;
            }
        }
        if (!isnan(u2) && u2 >= br->lo && u2 < br->hi) {
            if (c2 > rhi) {
                br->hi = u2;
                br->chi = c2;
                swap_rows(&h->jhi, &h->t2);
            } else if (c2 <= rlo) {
                br->lo = above(u2);
                br->clo = c2;
                swap_rows(&h->jlo, &h->t2);
            } else {
                straddle = 1;
            }
        }
        /* A bound between the ranks: they part here (a bisection would
         * only meet it again). */
        if (straddle && run) {
            solve_run_apart(h, r, nr, v);
            return;
        }
        if (straddle) {
            split_runs(h, r, nr, v);
            return;
        }
    }
}

static void hl_sel_free(hl_sel *h)
{
    free(h->jlo);
    free(h->jhi);
    free(h->t1);
    free(h->t2);
    free(h->slo);
    free(h->shi);
    free(h->spos);
    free(h->skeys);
    free(h->stmp);
    free(h->buf);
}

/* rank/val: the median's two ranks, the interval's two (or UINT64_MAX). */
static int hl_large(const double *a, size_t na, const double *b, size_t nb, const uint64_t *rank,
                    double *val)
{
    hl_sel h = {.a = a, .b = b, .na = na, .nb = nb, .rng = UINT64_C(0x853C49E6748FEA9B)};
    /* Collect once the bracket holds about as many pairs as a sweep
     * visits: both then cost about the same. */
    h.cap = 2 * (na + nb) + 65536;
    if (h.cap > ((size_t)1 << 21))
        h.cap = (size_t)1 << 21;
    size_t rows = na * sizeof(size_t);
    h.jlo = malloc(rows);
    h.jhi = malloc(rows);
    h.t1 = malloc(rows);
    h.t2 = malloc(rows);
    h.slo = malloc(rows);
    h.shi = malloc(rows);
    h.spos = malloc(HL_SAMPLE * sizeof *h.spos);
    h.skeys = malloc(HL_SAMPLE * sizeof *h.skeys);
    h.stmp = malloc(HL_SAMPLE * sizeof *h.stmp);
    h.buf = malloc(h.cap * sizeof *h.buf);
    if (!h.jlo || !h.jhi || !h.t1 || !h.t2 || !h.slo || !h.shi || !h.spos || !h.skeys ||
        !h.stmp || !h.buf) {
        hl_sel_free(&h);
        return -1;
    }
    /* The distinct ranks, ascending: interval low, median (1 or 2), high. */
    uint64_t r[4];
    double v[4];
    int nr = 0;
    if (rank[2] != UINT64_MAX)
        r[nr++] = rank[2];
    if (nr == 0 || rank[0] != r[nr - 1])
        r[nr++] = rank[0];
    if (rank[1] != r[nr - 1])
        r[nr++] = rank[1];
    if (rank[3] != UINT64_MAX && rank[3] != r[nr - 1])
        r[nr++] = rank[3];
    full_bracket(&h);
    solve(&h, r, nr, v);
    for (int j = 0; j < 4; j++)
        for (int k = 0; k < nr; k++)
            if (rank[j] == r[k])
                val[j] = v[k];
    hl_sel_free(&h);
    return 0;
}

int st_hodges_lehmann_sorted(const double *sa, size_t ma, const double *sb, size_t mb,
                             double conf, st_hl *out)
{
    out->shift = out->lo = out->hi = NAN;
    int rc = -1;
    if (ma == 0 || mb == 0) {
        errno = EINVAL;
        goto out;
    }
    if (mb > UINT64_MAX / ma) {
        errno = EOVERFLOW;
        goto out;
    }
    uint64_t N = (uint64_t)ma * mb, k;
    if (hl_k(ma, mb, conf, &k) < 0) {
        errno = ENOMEM;
        goto out;
    }
    /* Ranks (0-based): the median's one or two, the interval's two. */
    uint64_t rank[4] = {(N - 1) / 2, N / 2, UINT64_MAX, UINT64_MAX};
    if (k >= 1) {
        rank[2] = k - 1;
        rank[3] = N - k;
    }
    double val[4] = {NAN, NAN, NAN, NAN};
    if (N <= HL_MATERIALISE)
        rc = hl_direct(sa, ma, sb, mb, rank, val);
    else
        rc = hl_large(sa, ma, sb, mb, rank, val);
    if (rc < 0) {
        errno = ENOMEM;
        goto out;
    }
    out->shift = sti_canon((val[0] + val[1]) / 2);
    if (k >= 1) {
        out->lo = val[2];
        out->hi = val[3];
    }
out:
    return rc;
}

int st_hodges_lehmann(const double *a, size_t na, const double *b, size_t nb, double conf,
                      st_hl *out)
{
    size_t ma = 0, mb = 0;
    double *sa = sti_sorted_finite(a, na, &ma);
    double *sb = sa ? sti_sorted_finite(b, nb, &mb) : NULL;
    int rc = -1;
    if (!sa || !sb) {
        out->shift = out->lo = out->hi = NAN;
        errno = ENOMEM;
    } else {
        rc = st_hodges_lehmann_sorted(sa, ma, sb, mb, conf, out);
    }
    free(sa);
    free(sb);
    return rc;
}

double *st_sort_finite(const double *v, size_t n, size_t *m)
{
    double *s = sti_sorted_finite(v, n, m);
    if (!s)
        errno = ENOMEM;
    return s;
}
