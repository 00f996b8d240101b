/*
 * The two-proportion test of compare's success rates and the smallest
 * p-value each of compare's tests can give for given sample sizes (see
 * stats.h).
 */
#include <errno.h>
#include <stdbool.h>

#include "stats.h"
#include "stats_impl.h"

/* Wilson score interval of k successes in n at normal quantile z. */
static void wilson(double k, double n, double z, double *lo, double *hi)
{
    double p = k / n, z2 = z * z;
    double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
    double half = z / (1 + z2 / n) * sqrt(p * (1 - p) / n + z2 / (4 * n * n));
    *lo = fmax(0, centre - half);
    *hi = fmin(1, centre + half);
}

int st_two_proportions(double ka, double na, double kb, double nb, double conf, st_prop *out)
{
    *out = (st_prop){.z = NAN, .p = NAN, .diff = NAN, .lo = NAN, .hi = NAN};
    if (!(na >= 1 && nb >= 1 && ka >= 0 && kb >= 0 && ka <= na && kb <= nb)) {
        errno = EINVAL;
        return -1;
    }
    double pa = ka / na, pb = kb / nb, pool = (ka + kb) / (na + nb);
    double se = sqrt(pool * (1 - pool) * (1 / na + 1 / nb));
    out->diff = pb - pa;
    if (se > 0) {
        out->z = out->diff / se;
        out->p = fmin(1, 2 * sti_norm_sf(fabs(out->z)));
    } else {
        out->z = 0; /* every row a success on both sides, or none */
        out->p = 1;
    }
    if (conf > 0 && conf < 1) {
        /* Newcombe's hybrid score interval of pb - pa (his method 10). */
        double z = sti_norm_ppf((1 + conf) / 2), la, ua, lb, ub;
        wilson(ka, na, z, &la, &ua);
        wilson(kb, nb, z, &lb, &ub);
        out->lo = out->diff - sqrt((pb - lb) * (pb - lb) + (ua - pa) * (ua - pa));
        out->hi = out->diff + sqrt((ub - pb) * (ub - pb) + (pa - la) * (pa - la));
    }
    return 0;
}

double st_two_proportions_min_p(double na, double nb)
{
    if (!(na >= 1 && nb >= 1))
        return 1;
    /* All successes on one side, none on the other: z = sqrt(na + nb). */
    return fmin(1, 2 * sti_norm_sf(sqrt(na + nb)));
}

/* The normal approximation's p for completely separated samples whose
 * values are all equal within each side (ties: tie groups of na and nb)
 * or all distinct. */
static double mwu_separated_asymptotic(double na, double nb, bool tied)
{
    double n = na + nb;
    double tie = tied ? (na * na * na - na) + (nb * nb * nb - nb) : 0;
    double inner = (n + 1) - tie / (n * (n - 1));
    double num = na * nb / 2 - 0.5;
    if (!(inner > 0) || num <= 0)
        return 1;
    return fmin(1, 2 * sti_norm_sf(num / sqrt(na * nb / 12 * inner)));
}

double st_mannwhitney_min_p(size_t na, size_t nb)
{
    if (na == 0 || nb == 0)
        return 1;
    double a = (double)na, b = (double)nb;
    double p = fmin(mwu_separated_asymptotic(a, b, false), mwu_separated_asymptotic(a, b, true));
    if (na <= 8 || nb <= 8) /* scipy's exact branch: 2 / C(na + nb, na) */
        p = fmin(p, fmin(1, 2 / sti_binom(na < nb ? na : nb, na < nb ? nb : na)));
    return p;
}
