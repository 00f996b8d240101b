/*
 * Summaries of values held in memory: mean/stddev by compensated sums,
 * percentiles and MAD from the sorted values.  The sample-file paths
 * (column.c) end here too when the values fit in their memory budget, and
 * the radix selection there uses the same formulas, so both give the same
 * bits.
 */
#include <errno.h>
#include <stdlib.h>

#include "stats_file.h"

const double sti_qlevels[STI_NQ] = {0.5, 0.9, 0.95, 0.99, 0.999};

void sti_acc_init(sti_acc *a)
{
    memset(a, 0, sizeof *a);
    a->min = INFINITY;
    a->max = -INFINITY;
}

double sti_acc_mean(const sti_acc *a)
{
    if (a->count == 0)
        return NAN;
    return sti_sum_get(&a->sum) / (double)a->count;
}

double sti_m2_stddev(const sti_m2 *m, uint64_t n)
{
    if (n < 2)
        return NAN;
    double dev = sti_sum_get(&m->dev);
    double ss = sti_sum_get(&m->sq) - dev * dev / (double)n;
    if (ss < 0) /* rounding, for a (nearly) constant column */
        ss = 0;
    return sqrt(ss / (double)(n - 1));
}

void sti_qrank(uint64_t n, double p, uint64_t *i, double *t)
{
    /* numpy: virtual index (n - 1) p, its floor, the fraction. */
    double h = (double)(n - 1) * p;
    double f = floor(h);
    if (f >= (double)(n - 1)) {
        *i = n - 1;
        *t = 0;
        return;
    }
    *i = (uint64_t)f;
    *t = h - f;
}

double sti_lerp(double lo, double hi, double t)
{
    if (t == 0)
        return lo;
    /* numpy's _lerp: from the nearer end, so that t = 1 gives hi exactly. */
    double d = hi - lo;
    return t >= 0.5 ? hi - d * (1 - t) : lo + d * t;
}

static double quantile_sorted(const double *s, size_t n, double p)
{
    uint64_t i;
    double t;
    sti_qrank(n, p, &i, &t);
    return sti_lerp(s[i], t == 0 ? s[i] : s[i + 1], t);
}

double st_quantile_sorted(const double *sorted, size_t n, double p)
{
    if (n == 0 || !(p >= 0 && p <= 1))
        return NAN;
    return quantile_sorted(sorted, n, p);
}

/*
 * The deviations |x - med| of a sorted array are two sorted runs: below
 * the median, read backwards, and from it on, read forwards (rounding of a
 * difference is monotone, so the computed deviations are sorted too).
 * The k-th smallest of two sorted runs is found by bisection on how many
 * come from the first run: O(log n), no copy.
 */
typedef struct devruns {
    const double *s;
    size_t split; /* s[split..] >= med */
    size_t n;
    double med;
} devruns;

static double dev_left(const devruns *d, size_t i)
{
    return fabs(d->s[d->split - 1 - i] - d->med);
}

static double dev_right(const devruns *d, size_t j)
{
    return fabs(d->s[d->split + j] - d->med);
}

static double dev_kth(const devruns *d, size_t k)
{
    size_t nl = d->split, nr = d->n - d->split;
    /* i values from the left run, k + 1 - i from the right. */
    size_t lo = k + 1 > nr ? k + 1 - nr : 0;
    size_t hi = k + 1 < nl ? k + 1 : nl;
    while (lo < hi) {
        size_t i = lo + (hi - lo) / 2;
        size_t j = k + 1 - i;
        /* Too few from the left when its next value is below the right's
         * last taken one. */
        if (j > 0 && dev_left(d, i) < dev_right(d, j - 1))
            lo = i + 1;
        else
            hi = i;
    }
    size_t i = lo, j = k + 1 - lo;
    double a = i > 0 ? dev_left(d, i - 1) : -INFINITY;
    double b = j > 0 ? dev_right(d, j - 1) : -INFINITY;
    return a > b ? a : b;
}

static double mad_sorted(const double *s, size_t n, double med)
{
    devruns d = {s, 0, n, med};
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s[mid] < med)
            lo = mid + 1;
        else
            hi = mid;
    }
    d.split = lo;
    uint64_t i;
    double t;
    sti_qrank(n, 0.5, &i, &t);
    double a = dev_kth(&d, (size_t)i);
    double b = t == 0 ? a : dev_kth(&d, (size_t)i + 1);
    return sti_canon(sti_lerp(a, b, t));
}

void sti_fill_quantiles(const double *sorted, size_t n, st_summary *out)
{
    double *q[STI_NQ] = {&out->median, &out->p90, &out->p95, &out->p99, &out->p999};
    for (int j = 0; j < STI_NQ; j++)
        *q[j] = quantile_sorted(sorted, n, sti_qlevels[j]);
    out->min = sorted[0];
    out->max = sorted[n - 1];
    out->mad = mad_sorted(sorted, n, out->median);
}

void sti_summary_empty(st_summary *out, uint64_t non_finite)
{
    out->count = 0;
    out->non_finite = non_finite;
    out->mean = out->stddev = out->min = out->max = NAN;
    out->median = out->p90 = out->p95 = out->p99 = out->p999 = out->mad = NAN;
}

int sti_summarize_keys(uint64_t *keys, size_t n, const sti_acc *acc, const sti_m2 *m2,
                       st_summary *out)
{
    if (n == 0) {
        sti_summary_empty(out, acc->non_finite);
        return 0;
    }
    uint64_t *tmp = malloc(n * sizeof *tmp);
    if (!tmp)
        return -1;
    sti_radix_sort(keys, tmp, n);
    free(tmp);
    /* Back to values in place: the buffer is malloc'd, so storing doubles
     * into it makes it an array of doubles. */
    double *v = (double *)(void *)keys;
    for (size_t i = 0; i < n; i++) {
        double x = sti_unkey(keys[i]);
        memcpy(&v[i], &x, sizeof x);
    }
    out->count = acc->count;
    out->non_finite = acc->non_finite;
    out->mean = sti_acc_mean(acc);
    out->stddev = sti_m2_stddev(m2, n);
    sti_fill_quantiles(v, n, out);
    return 0;
}

int st_summarize(const double *v, size_t n, st_summary *out)
{
    /* Millions of values: a few O(n) selection passes beat the sort, and
     * keep the extra memory to the default budget. */
    if (n > STI_SORT_MAX) {
        int rc = sti_summarize_array_select(v, n, STI_DEFAULT_MEM, out);
        if (rc < 0)
            errno = ENOMEM;
        return rc;
    }
    sti_acc acc;
    sti_acc_init(&acc);
    uint64_t *keys = malloc((n ? n : 1) * sizeof *keys);
    if (!keys) {
        errno = ENOMEM;
        return -1;
    }
    size_t nk = 0;
    for (size_t i = 0; i < n; i++)
        if (sti_acc_add(&acc, v[i]))
            keys[nk++] = sti_key(v[i]);
    sti_m2 m2 = {.mean = sti_acc_mean(&acc)};
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            sti_m2_add(&m2, sti_canon(v[i]));
    int rc = sti_summarize_keys(keys, nk, &acc, &m2, out);
    free(keys);
    if (rc < 0)
        errno = ENOMEM;
    return rc;
}
