/*
 * Statistics of repeated measurements and of many tests: outliers among
 * repetitions, drift over repetitions (Mann-Kendall), Benjamini-Hochberg.
 */
#include <stdlib.h>

#include "stats_impl.h"

/* ---- Benjamini-Hochberg -------------------------------------------------- */

typedef struct pidx {
    double p;
    size_t i;
} pidx;

static int cmp_pidx(const void *x, const void *y)
{
    const pidx *a = x, *b = y;
    if (a->p != b->p)
        return a->p < b->p ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

void st_bh_adjust(const double *p, size_t n, double *adj)
{
    pidx *s = malloc((n ? n : 1) * sizeof *s);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        adj[i] = NAN;
        if (s && !isnan(p[i]))
            s[m++] = (pidx){p[i], i};
    }
    if (!s)
        return; /* no memory for n pointers and indexes: all NAN */
    qsort(s, m, sizeof *s, cmp_pidx);
    /* adj_(i) = min over j >= i of p_(j) m / j, capped at 1: a running
     * minimum from the largest p down.  Tied p-values get the same
     * adjusted value whatever their order. */
    double run = INFINITY;
    for (size_t k = m; k > 0; k--) {
        double v = s[k - 1].p * (double)m / (double)k;
        if (v < run)
            run = v;
        adj[s[k - 1].i] = run < 1 ? run : 1;
    }
    free(s);
}

/* ---- Outliers ------------------------------------------------------------ */

size_t st_outliers(const double *v, size_t n, unsigned char *flag)
{
    for (size_t i = 0; i < n; i++)
        flag[i] = 0;
    size_t m = 0;
    double *s = sti_sorted_finite(v, n, &m);
    if (!s || m < 4) {
        free(s);
        return 0;
    }
    double q1 = st_quantile_sorted(s, m, 0.25), q3 = st_quantile_sorted(s, m, 0.75);
    free(s);
    double iqr = q3 - q1, lo = q1 - 1.5 * iqr, hi = q3 + 1.5 * iqr;
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]) && (v[i] < lo || v[i] > hi)) {
            flag[i] = 1;
            count++;
        }
    return count;
}

/* ---- Mann-Kendall trend -------------------------------------------------- */

/* Merge sort of x (scratch t) counting the pairs i < j with x_i > x_j:
 * the discordant pairs against the index (equal values are neither). */
static uint64_t count_inversions(double *x, double *t, size_t n)
{
    if (n < 2)
        return 0;
    size_t h = n / 2;
    uint64_t inv = count_inversions(x, t, h) + count_inversions(x + h, t, n - h);
    size_t i = 0, j = h, w = 0;
    while (i < h && j < n) {
        if (x[i] <= x[j]) {
            t[w++] = x[i++];
        } else {
            inv += h - i; /* x[j] is below every x[i..h) */
            t[w++] = x[j++];
        }
    }
    while (i < h)
        t[w++] = x[i++];
    while (j < n)
        t[w++] = x[j++];
    memcpy(x, t, n * sizeof *x);
    return inv;
}

/* Exact two-sided p-value without ties, scipy 1.10's _kendall_p_exact:
 * c concordant pairs among n values. */
static double kendall_exact_p(uint64_t n, uint64_t c)
{
    uint64_t tot = n * (n - 1) / 2;
    if (tot - c < c)
        c = tot - c;
    if (n <= 2)
        return 1.0;
    double fact = 1; /* n! */
    for (uint64_t i = 2; i <= n; i++)
        fact *= (double)i;
    if (c == 0)
        return n < 171 ? 2.0 / fact : 0.0;
    if (c == 1)
        return n < 172 ? 2.0 / (fact / (double)n) : 0.0;
    if (4 * c == n * (n - 1))
        return 1.0;
    /* Permutations of n by number of inversions, truncated at c: multiply
     * by (1 + q + ... + q^(j-1)) for j = 3..n (n <= 33 here). */
    double *cnt = calloc(c + 1, sizeof *cnt);
    if (!cnt)
        return NAN;
    cnt[0] = cnt[1] = 1;
    for (uint64_t j = 3; j <= n; j++) {
        for (uint64_t k = 1; k <= c; k++)
            cnt[k] += cnt[k - 1];
        if (j <= c)
            for (uint64_t k = c; k >= j; k--)
                cnt[k] -= cnt[k - j];
    }
    double sum = 0;
    for (uint64_t k = 0; k <= c; k++)
        sum += cnt[k];
    free(cnt);
    double p = 2.0 * sum / fact;
    return p > 1 ? 1 : p;
}

/* Ties of the values (sorted): sum of t(t-1)/2 and of t(t-1)(2t+5). */
static void tie_terms(const double *s, size_t n, uint64_t *pairs, double *v1)
{
    *pairs = 0;
    *v1 = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && s[j] == s[i])
            j++;
        uint64_t t = j - i;
        *pairs += t * (t - 1) / 2;
        *v1 += (double)t * (double)(t - 1) * (double)(2 * t + 5);
        i = j;
    }
}

double st_trend(const double *v, size_t n, double *tau)
{
    if (tau)
        *tau = NAN;
    double *x = malloc((n ? n : 1) * sizeof *x);
    double *t = malloc((n ? n : 1) * sizeof *t);
    double p = NAN;
    size_t m = 0;
    if (!x || !t)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            x[m++] = v[i];
    if (m < 3)
        goto out;
    uint64_t dis = count_inversions(x, t, m); /* x is now sorted */
    uint64_t ytie;
    double y1;
    tie_terms(x, m, &ytie, &y1);
    uint64_t tot = (uint64_t)m * (m - 1) / 2;
    if (ytie == tot)
        goto out;
    /* The index has no ties: con - dis = tot - ytie - 2 dis. */
    double cmd = (double)tot - (double)ytie - 2.0 * (double)dis;
    double tb = cmd / sqrt((double)tot) / sqrt((double)(tot - ytie));
    if (tau)
        *tau = tb > 1 ? 1 : tb < -1 ? -1 : tb;
    uint64_t cmin = dis < tot - dis ? dis : tot - dis;
    if (ytie == 0 && (m <= 33 || cmin <= 1)) {
        p = kendall_exact_p(m, tot - dis);
    } else {
        double mm = (double)m * ((double)m - 1);
        double var = (mm * (2.0 * (double)m + 5) - y1) / 18;
        p = 2 * sti_norm_sf(fabs(cmd / sqrt(var)));
    }
out:
    free(x);
    free(t);
    return p;
}
