/*
 * Internals shared by the statistics sources (not part of the API; the unit
 * test includes it to check the pieces on their own).
 */
#ifndef BENCHCTL_STATS_IMPL_H
#define BENCHCTL_STATS_IMPL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "stats.h"

#define STI_SIGN UINT64_C(0x8000000000000000)

/* -0.0 and +0.0 are the same value for every statistic: all of them are
 * computed on +0.0 so that every path (sort, radix selection, file or
 * array) returns the same bits. */
static inline double sti_canon(double x)
{
    return x == 0 ? 0.0 : x;
}

/*
 * Order-preserving map of a (canonical, non-NaN) double to an unsigned
 * integer: positives get their sign bit set, negatives are complemented, so
 * that integer order is numeric order.  Sorting and radix selection work on
 * these keys.
 */
static inline uint64_t sti_key(double x)
{
    uint64_t u;
    x = sti_canon(x);
    memcpy(&u, &x, sizeof u);
    return (u & STI_SIGN) ? ~u : (u | STI_SIGN);
}

static inline double sti_unkey(uint64_t k)
{
    uint64_t u = (k & STI_SIGN) ? (k & ~STI_SIGN) : ~k;
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* Neumaier's compensated sum: the error stays about one rounding of the
 * total whatever the number of terms, which is what keeps the mean and the
 * standard deviation of ten million values at numpy's (pairwise) accuracy
 * or better. */
typedef struct sti_sum {
    double s, c;
} sti_sum;

static inline void sti_sum_add(sti_sum *a, double x)
{
    double t = a->s + x;
    if (fabs(a->s) >= fabs(x))
        a->c += (a->s - t) + x;
    else
        a->c += (x - t) + a->s;
    a->s = t;
}

static inline double sti_sum_get(const sti_sum *a)
{
    /* After an overflow the compensation is NaN (inf - inf): the sum is
     * the infinity itself. */
    return isfinite(a->s) ? a->s + a->c : a->s;
}

/* What one pass in arrival order gives: counts, sum, extremes. */
typedef struct sti_acc {
    uint64_t count, non_finite;
    sti_sum sum;
    double min, max;
} sti_acc;

void sti_acc_init(sti_acc *a);

/* x: any value; non-finite ones are only counted.  Returns 1 when x was
 * finite (and taken). */
static inline int sti_acc_add(sti_acc *a, double x)
{
    if (!isfinite(x)) {
        a->non_finite++;
        return 0;
    }
    x = sti_canon(x);
    a->count++;
    sti_sum_add(&a->sum, x);
    if (x < a->min)
        a->min = x;
    if (x > a->max)
        a->max = x;
    return 1;
}

double sti_acc_mean(const sti_acc *a);

/* Second-pass accumulator of the squared deviations from the mean, with
 * the correction term of the "corrected two-pass" algorithm (the sum of
 * the deviations, zero in exact arithmetic). */
typedef struct sti_m2 {
    sti_sum dev, sq;
    double mean;
} sti_m2;

static inline void sti_m2_add(sti_m2 *m, double x)
{
    double e = x - m->mean;
    sti_sum_add(&m->dev, e);
    sti_sum_add(&m->sq, e * e);
}

/* Sample standard deviation from the accumulated squares (NAN if n < 2). */
double sti_m2_stddev(const sti_m2 *m, uint64_t n);

/* Type-7 quantile position: rank i (0-based) and weight t of rank i + 1. */
void sti_qrank(uint64_t n, double p, uint64_t *i, double *t);
/* Interpolation between the order statistics lo (rank i) and hi (rank
 * i + 1), as numpy's _lerp does it (exact at both ends). */
double sti_lerp(double lo, double hi, double t);

/* The quantile levels of st_summary, in order: median, p90 .. p999. */
#define STI_NQ 5
extern const double sti_qlevels[STI_NQ];

/* Fill every field of out but count/non_finite/mean/stddev/min/max from an
 * ascending array of n finite canonical values (n >= 1). */
void sti_fill_quantiles(const double *sorted, size_t n, st_summary *out);
/* Summary of n finite canonical keys in any order (sorted in place, then
 * turned into doubles in place); acc and m2 come from the same values in
 * arrival order.  0, or -1 (ENOMEM). */
int sti_summarize_keys(uint64_t *keys, size_t n, const sti_acc *acc, const sti_m2 *m2,
                       st_summary *out);
/* Every field NAN / 0 for an empty column. */
void sti_summary_empty(st_summary *out, uint64_t non_finite);

/* LSD radix sort of keys; tmp: n more.  Result in keys. */
void sti_radix_sort(uint64_t *keys, uint64_t *tmp, size_t n);
/* The finite values of v, canonical, ascending, in a malloc'd array of
 * *m values (never NULL unless ENOMEM). */
double *sti_sorted_finite(const double *v, size_t n, size_t *m);
/* Rearranges x (no NaN) so that x[k] is its k-th smallest, smaller or
 * equal values before it, greater or equal after. */
void sti_select(double *x, size_t n, size_t k);

/* Standard normal distribution. */
double sti_norm_cdf(double z);
double sti_norm_sf(double z);
double sti_norm_ppf(double p);

/*
 * Null distribution of the Mann-Whitney U for samples of m and n values
 * (m the small one): counts[u] for u = 0..kmax (counts of the C(m+n, m)
 * equally likely arrangements), via the Gaussian binomial coefficient.
 * malloc'd; NULL (ENOMEM) on failure.  O(m * kmax) time.
 */
double *sti_mwu_counts(uint64_t m, uint64_t n, uint64_t kmax);
/* C(m+n, m) as a double (m small). */
double sti_binom(uint64_t m, uint64_t n);
/* Largest exact table the exact distribution is computed with (entries). */
#define STI_EXACT_MAX (UINT64_C(1) << 22)

#endif /* BENCHCTL_STATS_IMPL_H */
