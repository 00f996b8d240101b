/*
 * Radix selection over a sample file (or an array): the exact order
 * statistics a summary needs, in bounded memory.
 *
 * The values are mapped to their ordered 64-bit keys (stats_impl.h).  Each
 * wanted rank lies in a "group": an interval of keys whose population and
 * the population below it are known.  A pass over the file either
 * histograms the next bits of every group's keys (which splits it into
 * narrower groups, one per bucket holding a wanted rank) or, once the
 * groups' keys fit in the budget, collects and sorts them, which gives the
 * ranks directly.  A group of a single key (a tie) is resolved at once.
 * With the default budget a column of ten million values typically takes
 * two passes after the one made while the values arrived, and three more
 * for the MAD (the median of |x - median|, selected the same way on the
 * transformed keys).  The sum of squares for the standard deviation is
 * taken during the first of them, in arrival order like the sum.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdlib.h>

#include "stats_file.h"

/* Ranks wanted at once: the two neighbours of each of five quantiles. */
#define MAXR (2 * STI_NQ)

enum { G_HIST, G_COLLECT };

typedef struct group {
    uint64_t lo, hi;       /* keys [lo, hi] */
    unsigned shift;        /* hi - lo + 1 == 2^shift (64: all keys) */
    uint64_t below, count; /* keys below lo, keys in [lo, hi] */
    int r0, r1;            /* its ranks: rank[r0 .. r1) */
    int mode;
    unsigned bits;   /* G_HIST: 2^bits buckets */
    uint64_t *hist;  /* G_HIST */
    uint64_t *keys;  /* G_COLLECT: room for count keys */
    uint64_t filled; /* G_COLLECT */
} group;

typedef struct selection {
    const uint64_t *rank; /* ascending, distinct */
    double *val;          /* out: value of each rank */
    group g[MAXR]; /* disjoint, by ascending lo */
    int ng;
    int dev;       /* select on |x - med| instead of x */
    double med;
    sti_m2 *m2;    /* accumulate the squares during the next pass */
    size_t hbytes; /* budget of the histograms */
    size_t ckeys;  /* budget of collected keys (plus as much scratch) */
    int bad;       /* the file changed under us */
    int8_t first[1 << 16]; /* first group meeting each top-16-bit bucket */
} selection;

/* Count or collect key k in the first group from j on holding it. */
static inline void route(selection *s, int j, uint64_t k)
{
    for (; j < s->ng && s->g[j].lo <= k; j++) {
        group *g = &s->g[j];
        if (k > g->hi)
            continue;
        if (g->mode == G_HIST)
            g->hist[(k - g->lo) >> (g->shift - g->bits)]++;
        else if (g->filled < g->count)
            g->keys[g->filled++] = k;
        else
            s->bad = 1;
        return;
    }
}

/*
 * One chunk of a pass: route every key to its group.  Most keys are in no
 * group: the table of the first group meeting each top-16-bit bucket turns
 * them away with one lookup (the groups' search is for the few others).
 */
static int sel_chunk(void *ctx, const double *v, size_t n)
{
    selection *s = ctx;
    const int8_t *first = s->first;
    if (s->m2)
        for (size_t i = 0; i < n; i++)
            if (isfinite(v[i]))
                sti_m2_add(s->m2, sti_canon(v[i]));
    if (s->dev) {
        double med = s->med;
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(v[i]))
                continue;
            uint64_t k = sti_key(fabs(sti_canon(v[i]) - med));
            int j = first[k >> 48];
            if (j >= 0)
                route(s, j, k);
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(v[i]))
                continue;
            uint64_t k = sti_key(v[i]);
            int j = first[k >> 48];
            if (j >= 0)
                route(s, j, k);
        }
    }
    return 0;
}

static void build_first(selection *s)
{
    memset(s->first, -1, sizeof s->first);
    for (int j = s->ng - 1; j >= 0; j--)
        for (uint64_t b = s->g[j].lo >> 48;; b++) {
            s->first[b] = (int8_t)j;
            if (b == s->g[j].hi >> 48)
                break;
        }
}

/* Split a histogrammed group into one group per bucket holding ranks.
 * Appends to out[*nout]; -1 if the counts do not add up. */
static int split(const selection *s, const group *g, group *out, int *nout)
{
    unsigned sub = g->shift - g->bits;
    uint64_t cum = g->below;
    int r = g->r0;
    size_t nb = (size_t)1 << g->bits;
    for (size_t b = 0; b < nb && r < g->r1; b++) {
        uint64_t c = g->hist[b];
        if (c && s->rank[r] < cum + c) {
            group *ng = &out[(*nout)++];
            memset(ng, 0, sizeof *ng);
            ng->lo = g->lo + ((uint64_t)b << sub);
            ng->hi = ng->lo + ((UINT64_C(1) << sub) - 1);
            ng->shift = sub;
            ng->below = cum;
            ng->count = c;
            ng->r0 = r;
            while (r < g->r1 && s->rank[r] < cum + c)
                r++;
            ng->r1 = r;
        }
        cum += c;
    }
    return r == g->r1 ? 0 : -1;
}

/* Groups of one key are ties: every rank in them is that value. */
static void resolve_single(selection *s)
{
    int w = 0;
    for (int j = 0; j < s->ng; j++) {
        group *g = &s->g[j];
        if (g->lo == g->hi) {
            for (int r = g->r0; r < g->r1; r++)
                s->val[r] = sti_unkey(g->lo);
        } else {
            s->g[w++] = *g;
        }
    }
    s->ng = w;
}

/* Collect the smallest groups while their keys fit; histogram the rest
 * with as many bits as the budget allows.  Returns the number of keys to
 * collect. */
static uint64_t plan(selection *s, unsigned *bits)
{
    int order[MAXR];
    for (int j = 0; j < s->ng; j++) {
        int k = j;
        while (k > 0 && s->g[order[k - 1]].count > s->g[j].count) {
            order[k] = order[k - 1];
            k--;
        }
        order[k] = j;
    }
    uint64_t ncollect = 0;
    int nhist = 0;
    for (int k = 0; k < s->ng; k++) {
        group *g = &s->g[order[k]];
        if (ncollect + g->count <= s->ckeys) {
            g->mode = G_COLLECT;
            ncollect += g->count;
        } else {
            g->mode = G_HIST;
            nhist++;
        }
    }
    unsigned b = 16;
    while (b > 1 && (size_t)nhist * ((size_t)8 << b) > s->hbytes)
        b--;
    *bits = b;
    return ncollect;
}

static int rank_values(const selection *s, const group *g, uint64_t *keys)
{
    uint64_t *tmp = malloc((g->count ? g->count : 1) * sizeof *tmp);
    if (!tmp)
        return -1;
    sti_radix_sort(keys, tmp, (size_t)g->count);
    free(tmp);
    for (int r = g->r0; r < g->r1; r++)
        s->val[r] = sti_unkey(keys[s->rank[r] - g->below]);
    return 0;
}

/* After a pass: values of the collected groups, splits of the others. */
static int conclude(selection *s)
{
    group next[MAXR];
    int nn = 0;
    for (int j = 0; j < s->ng; j++) {
        group *g = &s->g[j];
        if (g->mode == G_COLLECT) {
            if (g->filled != g->count)
                return -2;
            if (rank_values(s, g, g->keys) < 0)
                return -1;
        } else if (split(s, g, next, &nn) < 0) {
            return -2;
        }
    }
    memcpy(s->g, next, (size_t)nn * sizeof *next);
    s->ng = nn;
    return 0;
}

static int one_pass(selection *s, const sti_source *src)
{
    unsigned bits;
    uint64_t ncollect = plan(s, &bits);
    int nhist = 0;
    for (int j = 0; j < s->ng; j++)
        nhist += s->g[j].mode == G_HIST;
    uint64_t *hist = calloc(((size_t)nhist << bits) + 1, sizeof *hist);
    uint64_t *keys = malloc((size_t)(ncollect ? ncollect : 1) * sizeof *keys);
    int rc = -1;
    if (!hist || !keys) {
        errno = ENOMEM;
        goto out;
    }
    uint64_t *h = hist, *k = keys;
    for (int j = 0; j < s->ng; j++) {
        group *g = &s->g[j];
        if (g->mode == G_HIST) {
            g->bits = bits < g->shift ? bits : g->shift;
            g->hist = h;
            h += (size_t)1 << bits;
        } else {
            g->keys = k;
            g->filled = 0;
            k += g->count;
        }
    }
    build_first(s);
    if (sti_source_pass(src, sel_chunk, s) < 0)
        goto out;
    s->m2 = NULL;
    rc = s->bad ? -2 : conclude(s);
    if (rc == -1)
        errno = ENOMEM;
out:
    if (rc == -2) {
        errno = EIO; /* counts differ from the first pass's */
        rc = -1;
    }
    free(hist);
    free(keys);
    return rc;
}

static int run(selection *s, const sti_source *src)
{
    for (;;) {
        resolve_single(s);
        if (s->ng == 0 && !s->m2)
            return 0;
        if (one_pass(s, src) < 0)
            return -1;
    }
}

static void sel_init(selection *s, size_t mem, const uint64_t *rank, double *val, int nr,
                     uint64_t n)
{
    memset(s, 0, sizeof *s);
    s->rank = rank;
    s->val = val;
    s->hbytes = mem / 2;
    /* The collected keys and the radix sort's scratch share the rest; past
     * a quarter million keys, sorting costs more than another pass. */
    s->ckeys = mem / 2 / 16;
    if (s->ckeys > ((size_t)1 << 18))
        s->ckeys = (size_t)1 << 18;
    s->ng = 1;
    s->g[0] = (group){.lo = 0, .hi = UINT64_MAX, .shift = 64, .count = n, .r0 = 0, .r1 = nr};
}

/* Distinct ascending ranks of the neighbours of the quantiles. */
static int quantile_ranks(uint64_t n, uint64_t *rank)
{
    int nr = 0;
    for (int q = 0; q < STI_NQ; q++) {
        uint64_t i;
        double t;
        sti_qrank(n, sti_qlevels[q], &i, &t);
        for (uint64_t r = i; r <= i + (t != 0); r++) {
            int k = nr;
            while (k > 0 && rank[k - 1] > r)
                k--;
            if (k > 0 && rank[k - 1] == r)
                continue;
            memmove(rank + k + 1, rank + k, (size_t)(nr - k) * sizeof *rank);
            rank[k] = r;
            nr++;
        }
    }
    return nr;
}

static double value_of(const uint64_t *rank, const double *val, int nr, uint64_t r)
{
    for (int k = 0; k < nr; k++)
        if (rank[k] == r)
            return val[k];
    return NAN; /* not reached: every needed rank was selected */
}

/* Type-7 quantile p from the selected ranks. */
static double quantile_of(const uint64_t *rank, const double *val, int nr, uint64_t n, double p)
{
    uint64_t i;
    double t;
    sti_qrank(n, p, &i, &t);
    double lo = value_of(rank, val, nr, i);
    return sti_lerp(lo, t == 0 ? lo : value_of(rank, val, nr, i + 1), t);
}

/* The quantiles (and min, max, mean, stddev) of out. */
static int select_quantiles(selection *s, const sti_source *src, size_t mem, const sti_acc *acc,
                            const sti_hist0 *h0, st_summary *out)
{
    uint64_t n = acc->count, rank[MAXR];
    double val[MAXR];
    int nr = quantile_ranks(n, rank);
    sel_init(s, mem, rank, val, nr, n);
    /* The first level is already histogrammed. */
    group g0 = s->g[0];
    g0.bits = h0->bits;
    g0.hist = h0->count;
    s->ng = 0;
    if (split(s, &g0, s->g, &s->ng) < 0) {
        errno = EIO;
        return -1;
    }
    sti_m2 m2 = {.mean = sti_acc_mean(acc)};
    s->m2 = &m2;
    if (run(s, src) < 0)
        return -1;
    out->count = n;
    out->non_finite = acc->non_finite;
    out->mean = m2.mean;
    out->stddev = sti_m2_stddev(&m2, n);
    out->min = acc->min;
    out->max = acc->max;
    double *q[STI_NQ] = {&out->median, &out->p90, &out->p95, &out->p99, &out->p999};
    for (int j = 0; j < STI_NQ; j++)
        *q[j] = quantile_of(rank, val, nr, n, sti_qlevels[j]);
    return 0;
}

/* MAD: the same selection on |x - median|. */
static int select_mad(selection *s, const sti_source *src, size_t mem, uint64_t n, st_summary *out)
{
    uint64_t mrank[2], i;
    double mval[2], t;
    sti_qrank(n, 0.5, &i, &t);
    mrank[0] = i;
    mrank[1] = i + 1;
    sel_init(s, mem, mrank, mval, t != 0 ? 2 : 1, n);
    s->dev = 1;
    s->med = out->median;
    if (run(s, src) < 0)
        return -1;
    out->mad = sti_canon(sti_lerp(mval[0], t == 0 ? mval[0] : mval[1], t));
    return 0;
}

int sti_summarize_select(const sti_source *src, size_t mem, const sti_acc *acc, const sti_hist0 *h0,
                            st_summary *out)
{
    if (acc->count == 0) {
        sti_summary_empty(out, acc->non_finite);
        return 0;
    }
    /* Not on the stack: 64 KiB of bucket table. */
    selection *s = malloc(sizeof *s);
    if (!s) {
        errno = ENOMEM;
        return -1;
    }
    int rc = select_quantiles(s, src, mem, acc, h0, out);
    if (rc == 0)
        rc = select_mad(s, src, mem, acc->count, out);
    int e = errno;
    free(s);
    errno = e;
    return rc;
}
