/*
 * Bounded collections for the two passes over a data file: the distinct
 * keys of a category column, reservoirs, point lists, min/max decimation
 * and quantiles.  Allocation failures abort: the sizes are bounded by the
 * plugin's limits, so running out of memory here means the machine has.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gp.h"

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("plot-gnuplot: out of memory\n", stderr);
        abort();
    }
    return q;
}

static void *xcalloc(size_t n, size_t size)
{
    void *q = calloc(n ? n : 1, size);
    if (!q) {
        fputs("plot-gnuplot: out of memory\n", stderr);
        abort();
    }
    return q;
}

/* ---- keys --------------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

size_t gp_keys_find(const gp_keys *k, const char *s)
{
    if (!k->hcap)
        return SIZE_MAX;
    for (size_t i = hash_str(s) & (k->hcap - 1);; i = (i + 1) & (k->hcap - 1)) {
        size_t e = k->hash[i];
        if (!e)
            return SIZE_MAX;
        if (strcmp(k->names[e - 1], s) == 0)
            return e - 1;
    }
}

static void rehash(gp_keys *k, size_t cap)
{
    free(k->hash);
    k->hash = xcalloc(cap, sizeof *k->hash);
    k->hcap = cap;
    for (size_t j = 0; j < k->n; j++) {
        size_t i = hash_str(k->names[j]) & (cap - 1);
        while (k->hash[i])
            i = (i + 1) & (cap - 1);
        k->hash[i] = j + 1;
    }
}

size_t gp_keys_add(gp_keys *k, const char *s)
{
    size_t i = gp_keys_find(k, s);
    if (i != SIZE_MAX) {
        k->counts[i]++;
        return i;
    }
    if (k->n >= GP_TRACK_KEYS) {
        k->untracked++;
        return SIZE_MAX;
    }
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 16;
        k->names = xrealloc(k->names, k->cap * sizeof *k->names);
        k->counts = xrealloc(k->counts, k->cap * sizeof *k->counts);
    }
    size_t len = strlen(s);
    char *copy = xrealloc(NULL, len + 1);
    memcpy(copy, s, len + 1);
    k->names[k->n] = copy;
    k->counts[k->n] = 1;
    k->n++;
    if (k->n * 2 > k->hcap)
        rehash(k, k->hcap ? k->hcap * 2 : 64);
    else {
        size_t h = hash_str(copy) & (k->hcap - 1);
        while (k->hash[h])
            h = (h + 1) & (k->hcap - 1);
        k->hash[h] = k->n;
    }
    return k->n - 1;
}

/* Natural order: numbers by value before text, text by strcmp. */
static int natural_cmp(const char *a, const char *b)
{
    double x, y;
    bool na = gp_parse_number(a, &x), nb = gp_parse_number(b, &y);
    if (na && nb)
        return x < y ? -1 : x > y ? 1 : strcmp(a, b);
    if (na != nb)
        return na ? -1 : 1;
    return strcmp(a, b);
}

static const gp_keys *sort_keys; /* qsort has no user data argument */

static int by_count_desc(const void *pa, const void *pb)
{
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    uint64_t ca = sort_keys->counts[a], cb = sort_keys->counts[b];
    if (ca != cb)
        return ca > cb ? -1 : 1;
    return a < b ? -1 : 1; /* first seen first */
}

static int by_name(const void *pa, const void *pb)
{
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    return natural_cmp(sort_keys->names[a], sort_keys->names[b]);
}

void gp_keys_finish(gp_keys *k, size_t max)
{
    size_t *idx = xcalloc(k->n, sizeof *idx);
    for (size_t i = 0; i < k->n; i++)
        idx[i] = i;
    sort_keys = k;
    qsort(idx, k->n, sizeof *idx, by_count_desc);
    size_t keep = k->n < max ? k->n : max;
    qsort(idx, keep, sizeof *idx, by_name);
    sort_keys = NULL;
    k->has_other = keep < k->n || k->untracked > 0;
    k->nshown = keep + (k->has_other ? 1 : 0);
    k->order = xcalloc(k->nshown, sizeof *k->order);
    k->slot = xcalloc(k->n, sizeof *k->slot);
    k->shown_counts = xcalloc(k->nshown, sizeof *k->shown_counts);
    for (size_t i = 0; i < k->n; i++)
        k->slot[i] = keep; /* other */
    for (size_t s = 0; s < keep; s++) {
        k->order[s] = idx[s];
        k->slot[idx[s]] = s;
        k->shown_counts[s] = k->counts[idx[s]];
    }
    if (k->has_other) {
        k->order[keep] = SIZE_MAX;
        uint64_t rest = k->untracked;
        for (size_t s = keep; s < k->n; s++)
            rest += k->counts[idx[s]];
        k->shown_counts[keep] = rest;
    }
    free(idx);
}

size_t gp_keys_slot(const gp_keys *k, const char *s)
{
    size_t i = gp_keys_find(k, s);
    if (i != SIZE_MAX)
        return k->slot[i];
    return k->has_other ? k->nshown - 1 : SIZE_MAX;
}

const char *gp_keys_label(const gp_keys *k, size_t slot)
{
    if (k->order[slot] == SIZE_MAX)
        return "other";
    const char *s = k->names[k->order[slot]];
    return *s ? s : "(empty)";
}

void gp_keys_free(gp_keys *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->names[i]);
    free(k->names);
    free(k->counts);
    free(k->hash);
    free(k->order);
    free(k->slot);
    free(k->shown_counts);
    memset(k, 0, sizeof *k);
}

/* ---- random numbers and reservoirs -------------------------------------- */

uint64_t gp_rng_next(gp_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull); /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t gp_rng_below(gp_rng *r, uint64_t n)
{
    /* Lemire's multiply-shift; the bias is below 2^-32 for our n. */
    return (uint64_t)(((unsigned __int128)gp_rng_next(r) * n) >> 64);
}

void gp_res_init(gp_reservoir *r, size_t cap)
{
    memset(r, 0, sizeof *r);
    r->cap = cap ? cap : 1;
}

void gp_res_add(gp_reservoir *r, gp_rng *rng, double x)
{
    r->seen++;
    if (r->n < r->cap) {
        if (r->n % 1024 == 0) {
            size_t want = r->n + 1024 < r->cap ? r->n + 1024 : r->cap;
            /* grow geometrically up to cap */
            size_t dbl = r->n * 2 > want ? r->n * 2 : want;
            if (dbl > r->cap)
                dbl = r->cap;
            r->v = xrealloc(r->v, dbl * sizeof *r->v);
        }
        r->v[r->n++] = x;
        return;
    }
    uint64_t j = gp_rng_below(rng, r->seen);
    if (j < r->cap)
        r->v[j] = x;
}

void gp_res_free(gp_reservoir *r)
{
    free(r->v);
    memset(r, 0, sizeof *r);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void gp_sort_doubles(double *v, size_t n) { qsort(v, n, sizeof *v, cmp_double); }

double gp_quantile(const double *s, size_t n, double q)
{
    if (n == 0)
        return NAN;
    double pos = q * (double)(n - 1);
    size_t i = (size_t)pos;
    if (i + 1 >= n)
        return s[n - 1];
    double f = pos - (double)i;
    return s[i] + (s[i + 1] - s[i]) * f;
}

/* ---- points ------------------------------------------------------------- */

void gp_pts_push(gp_pts *v, double x, double y)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 256;
        v->p = xrealloc(v->p, v->cap * sizeof *v->p);
    }
    v->p[v->n++] = (gp_pt){x, y};
}

static int cmp_pt_x(const void *a, const void *b)
{
    const gp_pt *p = a, *q = b;
    return p->x < q->x ? -1 : p->x > q->x;
}

void gp_pts_sort_x(gp_pts *v)
{
    for (size_t i = 1; i < v->n; i++)
        if (v->p[i].x < v->p[i - 1].x) {
            qsort(v->p, v->n, sizeof *v->p, cmp_pt_x);
            return;
        }
}

void gp_pts_free(gp_pts *v)
{
    free(v->p);
    memset(v, 0, sizeof *v);
}

/* ---- decimation --------------------------------------------------------- */

void gp_decim_init(gp_decim *d, double x0, double x1, size_t ncols)
{
    d->x0 = x0;
    d->x1 = x1 > x0 ? x1 : x0 + 1;
    d->ncols = ncols ? ncols : 1;
    d->xmin = xcalloc(d->ncols, sizeof(double));
    d->ymin = xcalloc(d->ncols, sizeof(double));
    d->xmax = xcalloc(d->ncols, sizeof(double));
    d->ymax = xcalloc(d->ncols, sizeof(double));
    for (size_t i = 0; i < d->ncols; i++) {
        d->ymin[i] = INFINITY;
        d->ymax[i] = -INFINITY;
    }
}

void gp_decim_add(gp_decim *d, double x, double y)
{
    double f = (x - d->x0) / (d->x1 - d->x0) * (double)d->ncols;
    size_t i = f <= 0 ? 0 : f >= (double)d->ncols ? d->ncols - 1 : (size_t)f;
    if (y < d->ymin[i]) {
        d->ymin[i] = y;
        d->xmin[i] = x;
    }
    if (y > d->ymax[i]) {
        d->ymax[i] = y;
        d->xmax[i] = x;
    }
}

void gp_decim_emit(const gp_decim *d, gp_pts *out)
{
    for (size_t i = 0; i < d->ncols; i++) {
        if (d->ymin[i] > d->ymax[i])
            continue; /* empty */
        if (d->xmin[i] == d->xmax[i] && d->ymin[i] == d->ymax[i]) {
            gp_pts_push(out, d->xmin[i], d->ymin[i]);
        } else if (d->xmin[i] <= d->xmax[i]) {
            gp_pts_push(out, d->xmin[i], d->ymin[i]);
            gp_pts_push(out, d->xmax[i], d->ymax[i]);
        } else {
            gp_pts_push(out, d->xmax[i], d->ymax[i]);
            gp_pts_push(out, d->xmin[i], d->ymin[i]);
        }
    }
}

void gp_decim_free(gp_decim *d)
{
    free(d->xmin);
    free(d->ymin);
    free(d->xmax);
    free(d->ymax);
    memset(d, 0, sizeof *d);
}

/* ---- steps -------------------------------------------------------------- */

static const double time_steps[] = {
    1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 0.001, 0.002, 0.005, 0.01,
    0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600,
    7200, 10800, 21600, 43200, 86400, 172800, 604800, 1209600, 2592000, 7776000,
    15552000, 31536000,
};

double gp_nice_step(double want, bool time)
{
    if (!(want > 0))
        return 1;
    if (time) {
        for (size_t i = 0; i < sizeof time_steps / sizeof *time_steps; i++)
            if (time_steps[i] >= want * (1 - 1e-12))
                return time_steps[i];
        return ceil(want / 31536000.0) * 31536000.0;
    }
    double e = pow(10, floor(log10(want)));
    double f = want / e;
    double m = f <= 1 + 1e-12 ? 1 : f <= 2 + 1e-12 ? 2 : f <= 5 + 1e-12 ? 5 : 10;
    return m * e;
}

void gp_format_step(double step, bool time, char *out, size_t n)
{
    if (!time) {
        snprintf(out, n, "%g", step);
        return;
    }
    static const struct {
        double secs;
        const char *unit;
    } units[] = {{86400 * 7, "week"}, {86400, "d"}, {3600, "h"}, {60, "min"}, {1, "s"},
                 {1e-3, "ms"},        {1e-6, "us"}};
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (step >= units[i].secs * (1 - 1e-9)) {
            double v = step / units[i].secs;
            if (fabs(v - round(v)) < 1e-6 * v || i == sizeof units / sizeof *units - 1) {
                snprintf(out, n, "%g %s%s", round(v * 1e6) / 1e6, units[i].unit,
                         strcmp(units[i].unit, "week") == 0 && v != 1 ? "s" : "");
                return;
            }
        }
    snprintf(out, n, "%g s", step);
}
