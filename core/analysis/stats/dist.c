/*
 * Distributions behind the tests: the standard normal (CDF from libm's
 * erfc, quantile by Halley refinement) and the exact null distribution of
 * the Mann-Whitney U.
 */
#include <errno.h>
#include <stdlib.h>

#include "stats_impl.h"

#define SQRT1_2 0.70710678118654752440 /* 1/sqrt(2) */
#define INV_SQRT_2PI 0.39894228040143267794

/* erfc keeps its relative accuracy in the tail, so both tails are
 * computed from it rather than as 1 - the other. */
double sti_norm_cdf(double z)
{
    return 0.5 * erfc(-z * SQRT1_2);
}

double sti_norm_sf(double z)
{
    return 0.5 * erfc(z * SQRT1_2);
}

/*
 * Quantile of the lower half, q in (0, 0.5]: the rational approximation of
 * Abramowitz & Stegun 26.2.23 (error < 4.5e-4) as the starting point, then
 * Halley's iteration on cdf(x) - q, which converges cubically: two or three
 * steps reach double precision.  cdf(x) is computed from erfc, accurate in
 * relative terms in the tail, so deep quantiles converge as well.
 */
static double lower_ppf(double q)
{
    double t = sqrt(-2.0 * log(q));
    double x = -(t - (2.515517 + t * (0.802853 + t * 0.010328)) /
                         (1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308))));
    /* Near the centre cdf(x) - q is computed as erf(x/sqrt2)/2 - (q - 1/2),
     * both terms exact or relatively accurate (q - 1/2 is exact for
     * q >= 1/4), so the root keeps its relative accuracy around 0. */
    int centre = q >= 0.25;
    for (int it = 0; it < 8; it++) {
        double f = centre ? 0.5 * erf(x * SQRT1_2) - (q - 0.5) : sti_norm_cdf(x) - q;
        double pdf = INV_SQRT_2PI * exp(-0.5 * x * x);
        if (pdf == 0)
            break;
        double u = f / pdf;
        /* Halley: cdf'' / cdf' = -x. */
        double dx = u / (1.0 + 0.5 * x * u);
        x -= dx;
        if (fabs(dx) <= 1e-15 * fabs(x) || dx == 0)
            break;
    }
    return x;
}

double sti_norm_ppf(double p)
{
    if (!(p >= 0 && p <= 1))
        return NAN;
    if (p == 0)
        return -INFINITY;
    if (p == 1)
        return INFINITY;
    /* For p > 1/2, 1 - p is exact (Sterbenz) and the symmetry keeps the
     * upper tail as accurate as the lower one. */
    if (p > 0.5)
        return -lower_ppf(1.0 - p);
    return lower_ppf(p);
}

double sti_binom(uint64_t m, uint64_t n)
{
    /* Each partial product is C(n+i, i) itself: exact while it fits in the
     * 53-bit mantissa. */
    double r = 1.0;
    for (uint64_t i = 1; i <= m; i++)
        r = r * (double)(n + i) / (double)i;
    return r;
}

/*
 * The number of arrangements with U = u is the number of partitions of u
 * into at most m parts of at most n, the coefficient of q^u of the Gaussian
 * binomial [m+n choose m]_q = prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i).
 * Multiplying by (1 - q^s) and dividing by (1 - q^i) only look at lower
 * coefficients, so truncating the polynomial at kmax is exact; with m small
 * (the exact test is used for min(na, nb) <= 8) this is O(m * kmax).  After
 * each factor i the array holds [n+i choose i]_q: non-negative integers,
 * exact in doubles below 2^53.
 */
double *sti_mwu_counts(uint64_t m, uint64_t n, uint64_t kmax)
{
    if (kmax >= SIZE_MAX / sizeof(double)) {
        errno = ENOMEM;
        return NULL;
    }
    double *c = calloc((size_t)kmax + 1, sizeof *c);
    if (!c)
        return NULL;
    c[0] = 1.0;
    for (uint64_t i = 1; i <= m; i++) {
        uint64_t s = n + i;
        for (uint64_t k = kmax; k >= s && k > 0; k--)
            c[k] -= c[k - s];
        for (uint64_t k = i; k <= kmax; k++)
            c[k] += c[k - i];
    }
    return c;
}
