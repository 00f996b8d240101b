/*
 * Sorting and selection on the statistics' values: an LSD radix sort of
 * ordered keys (millions of values: several times faster than qsort) and a
 * quickselect for the Hodges-Lehmann differences.
 */
#include <stdlib.h>

#include "stats_impl.h"

/* Radix digits: 11 bits (2048 buckets: the counters and the scatter
 * targets stay in L1/L2), six passes for 64 bits. */
#define RADIX_BITS 11
#define RADIX_SIZE (1u << RADIX_BITS)
#define RADIX_PASSES 6

static int cmp_key(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
    return (a > b) - (a < b);
}

static void insertion_sort(uint64_t *k, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint64_t v = k[i];
        size_t j = i;
        for (; j > 0 && k[j - 1] > v; j--)
            k[j] = k[j - 1];
        k[j] = v;
    }
}

void sti_radix_sort(uint64_t *keys, uint64_t *tmp, size_t n)
{
    if (n <= 32) {
        insertion_sort(keys, n);
        return;
    }
    if (n < 1024) {
        qsort(keys, n, sizeof *keys, cmp_key);
        return;
    }
    /* All the digit histograms in one pass over the keys. */
    static const unsigned shift_of[RADIX_PASSES] = {0, 11, 22, 33, 44, 55};
    size_t (*count)[RADIX_SIZE] = calloc(RADIX_PASSES, sizeof *count);
    if (!count) {
        /* Out of memory for 100 KB: sort anyway, more slowly. */
        qsort(keys, n, sizeof *keys, cmp_key);
        return;
    }
    for (size_t i = 0; i < n; i++)
        for (int p = 0; p < RADIX_PASSES; p++)
            count[p][(keys[i] >> shift_of[p]) & (RADIX_SIZE - 1)]++;

    uint64_t *src = keys, *dst = tmp;
    for (int p = 0; p < RADIX_PASSES; p++) {
        size_t *c = count[p];
        unsigned sh = shift_of[p];
        /* A digit every key shares (typical of the exponent bits) orders
         * nothing: skip the pass. */
        if (c[(src[0] >> sh) & (RADIX_SIZE - 1)] == n)
            continue;
        size_t sum = 0;
        for (unsigned d = 0; d < RADIX_SIZE; d++) {
            size_t t = c[d];
            c[d] = sum;
            sum += t;
        }
        for (size_t i = 0; i < n; i++)
            dst[c[(src[i] >> sh) & (RADIX_SIZE - 1)]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != keys)
        memcpy(keys, src, n * sizeof *keys);
    free(count);
}

double *sti_sorted_finite(const double *v, size_t n, size_t *m)
{
    uint64_t *keys = malloc((n ? n : 1) * sizeof *keys);
    uint64_t *tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!keys || !tmp) {
        free(keys);
        free(tmp);
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            keys[k++] = sti_key(v[i]);
    sti_radix_sort(keys, tmp, k);
    free(tmp);
    /* Keys to values in place (malloc'd storage takes the type stored). */
    double *out = (double *)(void *)keys;
    for (size_t i = 0; i < k; i++) {
        double x = sti_unkey(keys[i]);
        memcpy(&out[i], &x, sizeof x);
    }
    *m = k;
    return out;
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

static void swap_d(double *x, size_t i, size_t j)
{
    double t = x[i];
    x[i] = x[j];
    x[j] = t;
}

/* Median of three values, as the pivot: a value of the range, which keeps
 * the partition scans inside it. */
static double median3(double a, double b, double c)
{
    if (a < b)
        return b < c ? b : (a < c ? c : a);
    return a < c ? a : (b < c ? c : b);
}

void sti_select(double *x, size_t n, size_t k)
{
    if (k >= n)
        return;
    /* Quickselect with a median-of-three pivot and a three-way partition
     * (less / equal / greater: heavy ties, common in differences of
     * quantised timings, end a round at once).  After too many rounds (an
     * adversarial order) sort what is left: the worst case stays
     * O(n log n). */
    size_t l = 0, r = n; /* [l, r) holds rank k */
    unsigned rounds = 0;
    while (r - l > 16 && rounds++ < 64) {
        double pv = median3(x[l], x[l + (r - l) / 2], x[r - 1]);
        size_t lt = l, i = l, gt = r;
        while (i < gt) {
            if (x[i] < pv)
                swap_d(x, lt++, i++);
            else if (x[i] > pv)
                swap_d(x, i, --gt);
            else
                i++;
        }
        /* [l, lt) < pv, [lt, gt) == pv (not empty), [gt, r) > pv */
        if (k < lt)
            r = lt;
        else if (k >= gt)
            l = gt;
        else
            return;
    }
    qsort(x + l, r - l, sizeof *x, cmp_double);
}
