/*
 * Statistics for benchctl: exact summaries of numeric columns in bounded
 * memory, and the two-sample tests behind `benchctl compare`.
 *
 * Plain C over arrays and sample files; no benchctl types, so it is unit
 * tested on its own (tests/unit/test_stats.c) against reference values
 * computed with numpy/scipy (tests/fixtures/stats/).
 *
 * Definitions (also in docs/statistics.md):
 *  - Non-finite values (NaN, +-inf) are left out of every statistic and
 *    counted in `non_finite`.  `count` is the number of finite values.
 *    The tests below drop them first too (scipy would rank infinities).
 *  - -0.0 and +0.0 are the same value (as for numpy): results are +0.0.
 *  - Percentiles: linear interpolation between the closest ranks
 *    (Hyndman & Fan type 7, numpy's default "linear"): for p in [0, 1],
 *    h = (n - 1) p, q = x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]).
 *  - stddev: sample standard deviation (n - 1 in the denominator).
 *  - mad: median of |x - median|, unscaled (scipy's median_abs_deviation
 *    with scale=1).
 *  - Undefined results are NAN (written as JSON null): every statistic when
 *    count == 0, stddev when count < 2.
 */
#ifndef BENCHCTL_STATS_H
#define BENCHCTL_STATS_H

#include <stddef.h>
#include <stdint.h>

typedef struct st_summary {
    uint64_t count;      /* finite values */
    uint64_t non_finite; /* NaN and +-inf values, left out */
    double mean, stddev, min, max;
    double median, p90, p95, p99, p999, mad;
} st_summary;

/* Summary of an array (the array is not modified). 0, or -1 (ENOMEM).
 * Up to 2^20 values a copy is sorted (16 bytes a value); beyond, the radix
 * selection below runs over the array, in the default 8 MiB. */
int st_summarize(const double *v, size_t n, st_summary *out);

/* Type-7 quantile of an ascending array without non-finite values; NAN
 * when n == 0. */
double st_quantile_sorted(const double *sorted, size_t n, double p);

/*
 * A column of values arriving in batches.  Every value (non-finite ones
 * too, in arrival order) is written to a sample file: raw IEEE-754 binary64
 * in the machine's byte order (little-endian on every supported target),
 * no header; the file's size / 8 is the number of values.  The summary is
 * then computed from that file, exactly, with at most about `mem_limit`
 * bytes of extra memory whatever the number of values (several passes over
 * the file: a radix selection on the values' ordered bit patterns).
 *
 * Memory: a budget below 4 KiB is raised to 4 KiB; a 64 KiB I/O buffer and
 * a few KiB of bookkeeping come on top.  Files of up to mem_limit / 16
 * values are read back into memory (sorted up to 2^20 values, else
 * radix-selected in memory); larger ones are radix-selected over the file:
 * typically, with the default budget, two passes for the percentiles and
 * three for the MAD after the column's own writing pass (which also makes
 * the first histogram), one more for st_summarize_file.  Every path gives
 * the same bits.
 */
typedef struct st_column st_column;

/* path: the sample file to create (truncated if it exists).  mem_limit: 0
 * for the default (8 MiB).  NULL with errno set when the file cannot be
 * created. */
st_column *st_column_open(const char *path, size_t mem_limit);
/* 0, or -1 with errno (write error: disk full ...). */
int st_column_add(st_column *c, const double *v, size_t n);
/* Flush and close the file, compute the summary. 0, or -1 with errno. */
int st_column_finish(st_column *c, st_summary *out);
/* Free (after finish, or instead of it: the values added so far are
 * flushed, best effort, and the file is then left as is). */
void st_column_free(st_column *c);

/* The summary of an existing sample file, in bounded memory (as above).
 * 0, or -1 with errno (unreadable; EISDIR; EINVAL when it is not a regular
 * file or its size is not a multiple of 8). */
int st_summarize_file(const char *path, size_t mem_limit, st_summary *out);

/* Read a whole sample file into a malloc'd array (non-finite values
 * dropped, the others as stored, in order); *n is set.  NULL with errno on
 * failure (as st_summarize_file; an empty file gives a non-NULL array with
 * *n == 0). */
double *st_read_samples(const char *path, size_t *n);

/*
 * Mann-Whitney U test, two-sided, as scipy.stats.mannwhitneyu(a, b) with
 * its defaults (scipy 1.10, method "auto"): u is U of sample a,
 * R_a - na(na+1)/2 with average ranks for ties.
 *  - Exact p-value when min(na, nb) <= 8 and no value occurs twice in the
 *    pooled sample (scipy's _mwu_choose_method: asymptotic as soon as both
 *    sizes exceed 8, or on any tie): p = 2 P(U >= max(U_a, U_b)) capped at
 *    1, from the exact null distribution of U.  Unlike scipy, when that
 *    table would exceed 2^22 entries (na nb - max(U_a, U_b) >= 2^22, e.g.
 *    8 against a million values) the normal approximation is used.
 *  - Otherwise the normal approximation: z = (max(U_a, U_b) - na nb / 2 -
 *    0.5) / s, s^2 = na nb / 12 ((n + 1) - sum(t^3 - t) / (n (n - 1))) over
 *    the tie groups t of the pooled n values, p = 2 sf(z) in [0, 1] (1 when
 *    every value is the same).
 * Non-finite values are dropped first.  O(n log n) (radix sorts, one merged
 * ranking).  Returns -1 (and p = NAN) when a sample is empty (EINVAL) or on
 * ENOMEM.
 */
typedef struct st_mwu {
    double u;  /* U statistic of a */
    double p;  /* two-sided p-value */
    int exact; /* 1: exact distribution, 0: normal approximation */
} st_mwu;
int st_mannwhitney(const double *a, size_t na, const double *b, size_t nb, st_mwu *out);

/*
 * Hodges-Lehmann shift of b relative to a: the median of all na*nb
 * differences b_j - a_i (numpy's: the mean of the two middle ones when N
 * is even), with the distribution-free confidence interval from the
 * Mann-Whitney distribution at level conf (e.g. 0.95): with N = na*nb and
 * k the largest integer such that P(U <= k - 1) <= (1-conf)/2 (exact
 * distribution, ties ignored, when min(na, nb) <= 8 and N/2 < 2^22, the
 * comparison made as count(U <= k-1) <= (1-conf)/2 * C(na+nb, na) in
 * doubles; else the normal approximation
 * k = floor(N/2 - z_{(1+conf)/2} sqrt(na nb (na+nb+1)/12)), at least 1),
 * the interval is [d_(k), d_(N-k+1)] (1-based order statistics of the
 * differences).  When k < 1 (tiny samples), or conf is not in (0, 1), the
 * interval is (-inf, inf) (lo/hi = NAN).  Works for samples of millions
 * (O((na+nb) log) time: up to 2^22 differences they are formed and
 * selected, beyond a sampling-bracketed selection counts them by sweeps
 * and never forms more than 2^21).  Non-finite values dropped first;
 * -1 when a sample is empty (EINVAL) or on ENOMEM.
 */
typedef struct st_hl {
    double shift;  /* the estimate */
    double lo, hi; /* confidence interval (NAN when it cannot be had) */
} st_hl;
int st_hodges_lehmann(const double *a, size_t na, const double *b, size_t nb, double conf,
                      st_hl *out);

/*
 * The same two tests on samples prepared once with st_sort_finite, for a
 * caller that tests one sample against several (compare's baseline): no
 * copies, no sorting.  sa/sb must be ascending and finite, with -0.0 made
 * +0.0 — exactly what st_sort_finite returns.
 */
double *st_sort_finite(const double *v, size_t n, size_t *m); /* malloc'd; NULL: ENOMEM */
int st_mannwhitney_sorted(const double *sa, size_t ma, const double *sb, size_t mb,
                          st_mwu *out);
int st_hodges_lehmann_sorted(const double *sa, size_t ma, const double *sb, size_t mb,
                             double conf, st_hl *out);

/*
 * Two-proportion z-test, two-sided: ka successes of na against kb of nb,
 * z = (pb - pa) / sqrt(p (1 - p) (1/na + 1/nb)) with the pooled
 * p = (ka + kb) / (na + nb), p-value 2 sf(|z|) (1 when p is 0 or 1: both
 * sides all successes, or all failures).  diff = pb - pa with Newcombe's
 * hybrid score interval at level conf (his method 10: from the Wilson
 * intervals of each side; lo/hi NAN when conf is not in (0, 1)).  -1
 * (EINVAL) unless 0 <= k <= n and n >= 1 on both sides.
 */
typedef struct st_prop {
    double z, p;
    double diff, lo, hi;
} st_prop;
int st_two_proportions(double ka, double na, double kb, double nb, double conf, st_prop *out);

/* The smallest p-value the test can give for samples of these sizes,
 * whatever the values: for Mann-Whitney (as st_mannwhitney chooses its
 * method) completely separated samples, the least of the exact 2 /
 * C(na + nb, na) (when min(na, nb) <= 8), and the normal approximation
 * without ties and with each side one tie group; for the two-proportion
 * test, all successes against none: 2 sf(sqrt(na + nb)).  1 for an empty
 * side.  When it exceeds alpha, no data of that size can be significant. */
double st_mannwhitney_min_p(size_t na, size_t nb);
double st_two_proportions_min_p(double na, double nb);

/* Benjamini-Hochberg adjusted p-values (step-up, made monotone, capped at
 * 1), in the order of p: adj_(i) = min(1, min_{j >= i} p_(j) m / j) over
 * the ascending p_(j).  Equal p-values get equal adjusted values.  NAN
 * inputs stay NAN and do not count in m.  (All NAN if there is no memory
 * for n indexes.) */
void st_bh_adjust(const double *p, size_t n, double *adj);

/* Outliers of a small sample (repeated measurements): x is an outlier when
 * it lies outside [Q1 - 1.5 IQR, Q3 + 1.5 IQR] (type-7 quartiles of the
 * finite values).  Sets flag[i] to 1 for them (0 for the others) and
 * returns how many.  Non-finite values are never flagged; fewer than 4
 * finite values: none. */
size_t st_outliers(const double *v, size_t n, unsigned char *flag);

/* Mann-Kendall trend test of v in its order (drift over repetitions):
 * Kendall's tau-b between index and value and its two-sided p-value, as
 * scipy.stats.kendalltau(range(n), v) with scipy 1.10's defaults: exact
 * when v has no ties and (n <= 33 or min(concordant, discordant) <= 1),
 * scipy's _kendall_p_exact (2 P(C <= min(C, D)) from the distribution of
 * inversions of a permutation, capped at 1; 1 when C = D); otherwise
 * z = (C - D) / sqrt((n(n-1)(2n+5) - sum t(t-1)(2t+5)) / 18) over the tie
 * groups t of v, p = 2 sf(|z|).  Non-finite values are dropped first (the
 * others keep their order; n counts them).  Returns p; p = NAN (tau = NAN)
 * when n < 3 or v is constant.  tau may be NULL. */
double st_trend(const double *v, size_t n, double *tau);

#endif /* BENCHCTL_STATS_H */
