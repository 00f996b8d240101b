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

/* Summary of an array (the array is not modified). 0, or -1 (ENOMEM). */
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
/* Free (after finish, or instead of it: the file is then left as is). */
void st_column_free(st_column *c);

/* The summary of an existing sample file, in bounded memory (as above).
 * 0, or -1 with errno (unreadable, or its size is not a multiple of 8). */
int st_summarize_file(const char *path, size_t mem_limit, st_summary *out);

/* Read a whole sample file into a malloc'd array (non-finite values
 * dropped); *n is set.  NULL with errno on failure (an empty file gives a
 * non-NULL array with *n == 0). */
double *st_read_samples(const char *path, size_t *n);

/*
 * Mann-Whitney U test, two-sided, as scipy.stats.mannwhitneyu(a, b) with
 * its defaults (scipy 1.10): u is U of sample a (R_a - na(na+1)/2);
 * exact p-value when min(na, nb) <= 8 and there are no ties, otherwise the
 * normal approximation with tie correction and continuity correction.
 * Non-finite values are dropped first.  Returns -1 (and p = NAN) when a
 * sample is empty.
 */
typedef struct st_mwu {
    double u;  /* U statistic of a */
    double p;  /* two-sided p-value */
    int exact; /* 1: exact distribution, 0: normal approximation */
} st_mwu;
int st_mannwhitney(const double *a, size_t na, const double *b, size_t nb, st_mwu *out);

/*
 * Hodges-Lehmann shift of b relative to a: the median of all na*nb
 * differences b_j - a_i, with the distribution-free confidence interval
 * from the Mann-Whitney distribution at level conf (e.g. 0.95): with
 * N = na*nb and k the largest integer such that P(U <= k - 1) <= (1-conf)/2
 * (exact distribution when min(na, nb) <= 8, else the normal approximation
 * k = floor(N/2 - z_{(1+conf)/2} sqrt(na nb (na+nb+1)/12)), at least 1),
 * the interval is [d_(k), d_(N-k+1)] (1-based order statistics of the
 * differences).  When k < 1 the interval is (-inf, inf) (lo/hi = NAN).
 * Works for samples of millions (O((na+nb) log) time, never forms the N
 * differences when N is large).  Non-finite values dropped first;
 * -1 when a sample is empty.
 */
typedef struct st_hl {
    double shift;  /* the estimate */
    double lo, hi; /* confidence interval (NAN when it cannot be had) */
} st_hl;
int st_hodges_lehmann(const double *a, size_t na, const double *b, size_t nb, double conf,
                      st_hl *out);

/* Benjamini-Hochberg adjusted p-values (step-up, made monotone, capped at
 * 1), in the order of p.  NAN inputs stay NAN and do not count in m. */
void st_bh_adjust(const double *p, size_t n, double *adj);

/* Outliers of a small sample (repeated measurements): x is an outlier when
 * it lies outside [Q1 - 1.5 IQR, Q3 + 1.5 IQR] (type-7 quartiles).  Sets
 * flag[i] to 1 for them and returns how many.  n < 4: none. */
size_t st_outliers(const double *v, size_t n, unsigned char *flag);

/* Mann-Kendall trend test of v in its order (drift over repetitions):
 * Kendall's tau-b between index and value and its two-sided p-value, as
 * scipy.stats.kendalltau(range(n), v) with scipy 1.10's defaults (exact
 * distribution without ties for small n, else the normal approximation
 * with tie correction).  Returns p; p = NAN (tau = NAN) when n < 3 or v is
 * constant. */
double st_trend(const double *v, size_t n, double *tau);

#endif /* BENCHCTL_STATS_H */
