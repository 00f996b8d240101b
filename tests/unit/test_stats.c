/*
 * Unit tests of the statistics library (core/analysis/stats) against reference
 * values computed with numpy/scipy (tests/fixtures/stats/reference.json,
 * made by gen_reference.py there), plus checks that need no reference:
 * the radix selection over sample files against the in-memory sort (bit
 * for bit, with a 4 KiB budget), the Hodges-Lehmann selection against
 * brute force, the Mann-Whitney ranking against a plain one, file errors.
 *
 * usage: test_stats FIXTURE_DIR         the tests
 *        test_stats FIXTURE_DIR bench   timings (10M-value column summary,
 *                                       1M x 1M Hodges-Lehmann and
 *                                       Mann-Whitney); not a test
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "stats.h"
#include "stats_impl.h"

static int n_pass, n_fail;
static const char *cur_case = "";
static char tmpdir[256];

static void check(int ok, int line, const char *fmt, ...)
{
    if (ok) {
        n_pass++;
        return;
    }
    n_fail++;
    fprintf(stderr, "FAIL line %d [%s]: ", line, cur_case);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

#define CHECK(cond, ...) check(!!(cond), __LINE__, __VA_ARGS__)

/* got within max(abs_tol, rel * |want|) of want; NaN only matches NaN and
 * an infinity only itself. */
static int close_to(double got, double want, double rel, double abs_tol)
{
    if (isnan(want) || isnan(got))
        return isnan(want) && isnan(got);
    if (isinf(want) || isinf(got))
        return got == want;
    double tol = rel * fabs(want);
    if (tol < abs_tol)
        tol = abs_tol;
    return fabs(got - want) <= tol;
}

#define CHECK_CLOSE(got, want, rel, abs_tol, what)                                                 \
    do {                                                                                           \
        double g_ = (got), w_ = (want);                                                            \
        CHECK(close_to(g_, w_, rel, abs_tol), "%s: got %.17g, want %.17g", what, g_, w_);          \
    } while (0)

/* Same bits, or both NaN. */
static int same(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return memcmp(&a, &b, sizeof a) == 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char *tmp_path(const char *name)
{
    static char bufs[4][512];
    static int k;
    char *b = bufs[k++ & 3];
    snprintf(b, sizeof bufs[0], "%s/%s", tmpdir, name);
    return b;
}

/* ---- fixtures ------------------------------------------------------------ */

static cJSON *load_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno));
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    buf[len] = 0;
    fclose(f);
    cJSON *j = cJSON_Parse(buf);
    free(buf);
    if (!j) {
        fprintf(stderr, "%s: invalid JSON\n", path);
        exit(2);
    }
    return j;
}

/* A fixture number: null is NaN (undefined), non-finite are strings. */
static double num(const cJSON *j)
{
    if (!j || cJSON_IsNull(j))
        return NAN;
    if (cJSON_IsString(j)) {
        if (!strcmp(j->valuestring, "nan"))
            return NAN;
        if (!strcmp(j->valuestring, "inf"))
            return INFINITY;
        if (!strcmp(j->valuestring, "-inf"))
            return -INFINITY;
        fprintf(stderr, "bad number string %s\n", j->valuestring);
        exit(2);
    }
    return j->valuedouble;
}

static double field(const cJSON *o, const char *name)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!f) {
        fprintf(stderr, "fixture %s: no field %s\n", cur_case, name);
        exit(2);
    }
    return num(f);
}

static double *array(const cJSON *o, const char *name, size_t *n)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsArray(a)) {
        fprintf(stderr, "fixture %s: no array %s\n", cur_case, name);
        exit(2);
    }
    *n = (size_t)cJSON_GetArraySize(a);
    double *v = malloc((*n ? *n : 1) * sizeof *v);
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) v[i++] = num(e);
    return v;
}

static const char *name_of(const cJSON *o)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "name");
    return cJSON_IsString(n) ? n->valuestring : "?";
}

static const cJSON *section(const cJSON *root, const char *name)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, name);
    if (!s) {
        fprintf(stderr, "fixture: no section %s\n", name);
        exit(2);
    }
    return s;
}

/* ---- summaries against numpy --------------------------------------------- */

static void check_summary_ref(const st_summary *s, const cJSON *c, const double *v, size_t n)
{
    double scale = 0, mabs = 0;
    size_t nf = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i])) {
            scale = fmax(scale, fabs(v[i]));
            mabs += fabs(v[i]);
            nf++;
        }
    mabs = nf ? mabs / (double)nf : 0;
    CHECK(s->count == (uint64_t)field(c, "count"), "count %llu", (unsigned long long)s->count);
    CHECK(s->non_finite == (uint64_t)field(c, "non_finite"), "non_finite %llu",
          (unsigned long long)s->non_finite);
    /* mean, stddev: numpy's accuracy (pairwise sums) is the limit. */
    CHECK_CLOSE(s->mean, field(c, "mean"), 1e-12, 1e-15 * mabs, "mean");
    CHECK_CLOSE(s->stddev, field(c, "stddev"), 1e-12, 1e-15 * scale, "stddev");
    CHECK_CLOSE(s->min, field(c, "min"), 0, 0, "min");
    CHECK_CLOSE(s->max, field(c, "max"), 0, 0, "max");
    /* Percentiles: numpy's own formula; MAD: scipy's median is the mean of
     * the middle two, ours the type-7 interpolation (last-bit apart). */
    CHECK_CLOSE(s->median, field(c, "median"), 1e-9, 1e-15 * scale, "median");
    CHECK_CLOSE(s->p90, field(c, "p90"), 1e-9, 1e-15 * scale, "p90");
    CHECK_CLOSE(s->p95, field(c, "p95"), 1e-9, 1e-15 * scale, "p95");
    CHECK_CLOSE(s->p99, field(c, "p99"), 1e-9, 1e-15 * scale, "p99");
    CHECK_CLOSE(s->p999, field(c, "p999"), 1e-9, 1e-15 * scale, "p999");
    CHECK_CLOSE(s->mad, field(c, "mad"), 1e-9, 2e-15 * scale, "mad");
}

/* Write v to a sample file through a column (in uneven batches). */
static int column_of(const char *path, const double *v, size_t n, size_t mem, st_summary *s)
{
    st_column *c = st_column_open(path, mem);
    if (!c)
        return -1;
    static const size_t batch[] = {1, 7, 1000, 3, 8192, 8191, 65536, 2};
    size_t i = 0, k = 0;
    while (i < n) {
        size_t b = batch[k++ % (sizeof batch / sizeof *batch)];
        if (b > n - i)
            b = n - i;
        if (st_column_add(c, v + i, b) < 0) {
            st_column_free(c);
            return -1;
        }
        i += b;
    }
    int rc = st_column_finish(c, s);
    st_column_free(c);
    return rc;
}

static void test_summary_fixtures(const cJSON *root)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, section(root, "summary"))
    {
        cur_case = name_of(c);
        size_t n;
        double *v = array(c, "data", &n);
        st_summary s;
        CHECK(st_summarize(v, n, &s) == 0, "st_summarize");
        check_summary_ref(&s, c, v, n);
        /* The same through a column, in memory and by radix selection. */
        st_summary s2;
        CHECK(column_of(tmp_path("fixture.f64"), v, n, 0, &s2) == 0, "column");
        check_summary_ref(&s2, c, v, n);
        CHECK(column_of(tmp_path("fixture.f64"), v, n, 4096, &s2) == 0, "column 4k");
        check_summary_ref(&s2, c, v, n);
        free(v);
    }
}

static void test_quantile_fixtures(const cJSON *root)
{
    const cJSON *c;
    cur_case = "quantile";
    cJSON_ArrayForEach(c, section(root, "quantile"))
    {
        size_t n, np_, nq;
        double *s = array(c, "sorted", &n);
        double *p = array(c, "p", &np_);
        double *q = array(c, "q", &nq);
        for (size_t i = 0; i < np_; i++)
            CHECK(same(st_quantile_sorted(s, n, p[i]), q[i]), "quantile %g: %.17g, numpy %.17g",
                  p[i], st_quantile_sorted(s, n, p[i]), q[i]);
        free(s);
        free(p);
        free(q);
    }
    double one = 1.0;
    CHECK(isnan(st_quantile_sorted(&one, 0, 0.5)), "quantile of nothing");
}

/* ---- tests against scipy --------------------------------------------------- */

#define P_CLOSE(got, want, what) CHECK_CLOSE(got, want, 1e-7, 1e-12, what)

/* Equal, or both NaN. */
static int same_bits(double x, double y)
{
    return x == y || (isnan(x) && isnan(y));
}

static void test_mwu_fixtures(const cJSON *root)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, section(root, "mannwhitney"))
    {
        cur_case = name_of(c);
        size_t na, nb;
        double *a = array(c, "a", &na), *b = array(c, "b", &nb);
        st_mwu r;
        CHECK(st_mannwhitney(a, na, b, nb, &r) == 0, "st_mannwhitney");
        CHECK(r.u == field(c, "u"), "u %.17g want %.17g", r.u, field(c, "u"));
        P_CLOSE(r.p, field(c, "p"), "p");
        int exact = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "exact"));
        CHECK(r.exact == exact, "exact %d want %d", r.exact, exact);
        /* The presorted entry point gives the same bits. */
        size_t ma, mb;
        double *sa = st_sort_finite(a, na, &ma), *sb = st_sort_finite(b, nb, &mb);
        st_mwu rs;
        if (ma && mb) {
            CHECK(st_mannwhitney_sorted(sa, ma, sb, mb, &rs) == 0, "st_mannwhitney_sorted");
            CHECK(rs.u == r.u && rs.p == r.p && rs.exact == r.exact, "sorted: u %.17g p %.17g",
                  rs.u, rs.p);
        }
        free(sa);
        free(sb);
        free(a);
        free(b);
    }
}

static void test_hl_fixtures(const cJSON *root)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, section(root, "hodges_lehmann"))
    {
        cur_case = name_of(c);
        size_t na, nb;
        double *a = array(c, "a", &na), *b = array(c, "b", &nb);
        st_hl r;
        CHECK(st_hodges_lehmann(a, na, b, nb, field(c, "conf"), &r) == 0, "st_hodges_lehmann");
        CHECK_CLOSE(r.shift, field(c, "shift"), 1e-12, 1e-300, "shift");
        CHECK_CLOSE(r.lo, field(c, "lo"), 1e-12, 1e-300, "lo");
        CHECK_CLOSE(r.hi, field(c, "hi"), 1e-12, 1e-300, "hi");
        size_t ma, mb;
        double *sa = st_sort_finite(a, na, &ma), *sb = st_sort_finite(b, nb, &mb);
        st_hl rs;
        CHECK(st_hodges_lehmann_sorted(sa, ma, sb, mb, field(c, "conf"), &rs) == 0,
              "st_hodges_lehmann_sorted");
        CHECK(same_bits(rs.shift, r.shift) && same_bits(rs.lo, r.lo) && same_bits(rs.hi, r.hi),
              "sorted: shift %.17g lo %.17g hi %.17g", rs.shift, rs.lo, rs.hi);
        free(sa);
        free(sb);
        free(a);
        free(b);
    }
}

static void test_bh_fixtures(const cJSON *root)
{
    const cJSON *c;
    cur_case = "bh";
    cJSON_ArrayForEach(c, section(root, "bh"))
    {
        size_t n, m;
        double *p = array(c, "p", &n), *want = array(c, "adj", &m);
        double *adj = malloc((n ? n : 1) * sizeof *adj);
        st_bh_adjust(p, n, adj);
        for (size_t i = 0; i < n; i++)
            CHECK_CLOSE(adj[i], want[i], 1e-12, 1e-300, "adjusted p");
        free(p);
        free(want);
        free(adj);
    }
}

static void test_outlier_fixtures(const cJSON *root)
{
    const cJSON *c;
    cur_case = "outliers";
    cJSON_ArrayForEach(c, section(root, "outliers"))
    {
        size_t n, m;
        double *v = array(c, "data", &n), *want = array(c, "flags", &m);
        unsigned char *flag = malloc(n ? n : 1);
        size_t expect = 0;
        for (size_t i = 0; i < n; i++)
            expect += want[i] != 0;
        CHECK(st_outliers(v, n, flag) == expect, "outlier count");
        for (size_t i = 0; i < n; i++)
            CHECK(flag[i] == (want[i] != 0), "flag %zu of %g", i, v[i]);
        free(v);
        free(want);
        free(flag);
    }
}

static void test_trend_fixtures(const cJSON *root)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, section(root, "trend"))
    {
        cur_case = name_of(c);
        size_t n;
        double *v = array(c, "data", &n), tau;
        double p = st_trend(v, n, &tau);
        CHECK_CLOSE(tau, field(c, "tau"), 1e-12, 1e-15, "tau");
        P_CLOSE(p, field(c, "p"), "p");
        CHECK(same(st_trend(v, n, NULL), p), "tau pointer optional");
        free(v);
    }
}

static void test_norm_fixtures(const cJSON *root)
{
    const cJSON *norm = section(root, "norm"), *e;
    cur_case = "norm.ppf";
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(norm, "ppf"))
    {
        double p = num(cJSON_GetArrayItem(e, 0)), want = num(cJSON_GetArrayItem(e, 1));
        CHECK_CLOSE(sti_norm_ppf(p), want, 1e-14, 1e-300, "ppf");
    }
    cur_case = "norm.sf";
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(norm, "sf"))
    {
        double z = num(cJSON_GetArrayItem(e, 0)), want = num(cJSON_GetArrayItem(e, 1));
        CHECK_CLOSE(sti_norm_sf(z), want, 1e-13, 1e-300, "sf");
    }
    cur_case = "norm.edges";
    CHECK(sti_norm_ppf(0) == -INFINITY && sti_norm_ppf(1) == INFINITY, "ppf ends");
    CHECK(isnan(sti_norm_ppf(-0.1)) && isnan(sti_norm_ppf(NAN)), "ppf outside [0, 1]");
}

/* ---- radix selection against the in-memory sort --------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static double unif(void)
{
    return (double)(rnd() >> 11) * 0x1p-53;
}

static double gauss(void)
{
    double u = unif(), w = unif();
    return sqrt(-2 * log(u + 0x1p-60)) * cos(6.283185307179586 * w);
}

enum { D_MIXED, D_TIES, D_CONST, D_MAGNITUDES, D_ZEROS, D_INTEGERS };

static void gen(int kind, double *v, size_t n)
{
    static const double tie_vals[] = {-3, -1, -0.0, 0.0, 1, 2.5, 1e10};
    for (size_t i = 0; i < n; i++) {
        double x = 0;
        switch (kind) {
        case D_MIXED:
            switch (rnd() % 5) {
            case 0: x = tie_vals[rnd() % 7]; break;
            case 1: x = gauss() * 100; break;
            case 2: x = (rnd() & 1 ? -1 : 1) * pow(10, unif() * 600 - 300); break;
            case 3: x = floor(gauss() * 3); break;
            default: x = exp(gauss() * 2); break;
            }
            break;
        case D_TIES: x = tie_vals[rnd() % 7]; break;
        case D_CONST: x = -7.125; break;
        case D_MAGNITUDES: x = (rnd() & 1 ? -1 : 1) * pow(10, unif() * 600 - 300); break;
        case D_ZEROS: x = rnd() & 1 ? -0.0 : 0.0; break;
        case D_INTEGERS: x = (double)(int)(rnd() % 2001) - 1000; break;
        }
        /* NaN and infinities interleaved. */
        if (rnd() % 97 == 0) {
            static const double nf[] = {NAN, INFINITY, -INFINITY};
            x = nf[rnd() % 3];
        }
        v[i] = x;
    }
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* Type-7 quantile of a sorted array, written from the definition. */
static double ref_quantile(const double *s, size_t n, double p)
{
    double h = (double)(n - 1) * p;
    size_t i = (size_t)floor(h);
    if (i >= n - 1)
        return s[n - 1];
    double t = h - (double)i;
    if (t == 0)
        return s[i];
    double d = s[i + 1] - s[i];
    return t >= 0.5 ? s[i + 1] - d * (1 - t) : s[i] + d * t;
}

/* Brute force: qsort, then the definitions. */
static void check_brute(const st_summary *s, const double *v, size_t n)
{
    double *f = malloc((n ? n : 1) * sizeof *f);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            f[m++] = v[i] == 0 ? 0.0 : v[i];
    CHECK(s->count == m && s->non_finite == n - m, "counts");
    if (m == 0) {
        free(f);
        return;
    }
    qsort(f, m, sizeof *f, cmp_double);
    CHECK(same(s->min, f[0]) && same(s->max, f[m - 1]), "min/max");
    CHECK(same(s->median, ref_quantile(f, m, 0.5)), "median %.17g", s->median);
    CHECK(same(s->p90, ref_quantile(f, m, 0.9)), "p90");
    CHECK(same(s->p95, ref_quantile(f, m, 0.95)), "p95");
    CHECK(same(s->p99, ref_quantile(f, m, 0.99)), "p99");
    CHECK(same(s->p999, ref_quantile(f, m, 0.999)), "p999");
    long double sum = 0;
    for (size_t i = 0; i < m; i++)
        sum += f[i];
    long double mean = sum / m, ss = 0;
    if (isfinite((double)mean)) {
        for (size_t i = 0; i < m; i++)
            ss += (f[i] - mean) * (f[i] - mean);
        CHECK_CLOSE(s->mean, (double)mean, 1e-12, 1e-300, "mean");
        if (m > 1 && isfinite((double)ss))
            CHECK_CLOSE(s->stddev, sqrt((double)(ss / (m - 1))), 1e-12, 1e-300, "stddev");
    }
    for (size_t i = 0; i < m; i++) {
        double d = fabs(f[i] - s->median);
        f[i] = d == 0 ? 0.0 : d;
    }
    qsort(f, m, sizeof *f, cmp_double);
    CHECK(same(s->mad, ref_quantile(f, m, 0.5)), "mad %.17g", s->mad);
    free(f);
}

static void check_same_summary(const st_summary *a, const st_summary *b, const char *what)
{
    CHECK(a->count == b->count && a->non_finite == b->non_finite, "%s: counts", what);
    CHECK(same(a->mean, b->mean), "%s: mean %.17g vs %.17g", what, a->mean, b->mean);
    CHECK(same(a->stddev, b->stddev), "%s: stddev %.17g vs %.17g", what, a->stddev, b->stddev);
    CHECK(same(a->min, b->min) && same(a->max, b->max), "%s: min/max", what);
    CHECK(same(a->median, b->median), "%s: median %.17g vs %.17g", what, a->median, b->median);
    CHECK(same(a->p90, b->p90) && same(a->p95, b->p95), "%s: p90/p95", what);
    CHECK(same(a->p99, b->p99) && same(a->p999, b->p999), "%s: p99/p999", what);
    CHECK(same(a->mad, b->mad), "%s: mad %.17g vs %.17g", what, a->mad, b->mad);
}

static void test_radix_paths(void)
{
    static const struct {
        const char *name;
        int kind;
        size_t n;
    } cases[] = {
        {"radix.mixed", D_MIXED, 200003},    {"radix.ties", D_TIES, 250000},
        {"radix.constant", D_CONST, 200000}, {"radix.magnitudes", D_MAGNITUDES, 300001},
        {"radix.zeros", D_ZEROS, 200000},    {"radix.integers", D_INTEGERS, 222222},
        {"radix.small", D_MIXED, 1000},
        /* Past STI_SORT_MAX: arrays and loaded files are selected in
         * memory rather than sorted. */
        {"radix.large", D_MIXED, 1500000},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        cur_case = cases[k].name;
        rng_state = 1000 + k;
        size_t n = cases[k].n;
        double *v = malloc(n * sizeof *v);
        gen(cases[k].kind, v, n);
        const char *path = tmp_path("radix.f64");
        st_summary mem, col, file_small, file_big;
        CHECK(st_summarize(v, n, &mem) == 0, "st_summarize");
        check_brute(&mem, v, n);
        CHECK(column_of(path, v, n, 4096, &col) == 0, "column 4 KiB");
        check_same_summary(&col, &mem, "column 4 KiB");
        CHECK(st_summarize_file(path, 4096, &file_small) == 0, "file 4 KiB");
        check_same_summary(&file_small, &mem, "file 4 KiB");
        CHECK(st_summarize_file(path, (size_t)1 << 30, &file_big) == 0, "file in memory");
        check_same_summary(&file_big, &mem, "file in memory");
        CHECK(st_summarize_file(path, 200 << 10, &file_small) == 0, "file 200 KiB");
        check_same_summary(&file_small, &mem, "file 200 KiB");
        CHECK(st_summarize_file(path, n * 16, &file_small) == 0, "file loaded");
        check_same_summary(&file_small, &mem, "file loaded");

        /* The file holds every value, as given, in order. */
        struct stat stb;
        CHECK(stat(path, &stb) == 0 && (size_t)stb.st_size == n * 8, "file size");
        size_t m = 0;
        double *back = st_read_samples(path, &m);
        CHECK(back != NULL, "st_read_samples");
        size_t j = 0, bad = 0;
        for (size_t i = 0; back && i < n; i++)
            if (isfinite(v[i]) && (j >= m || memcmp(&back[j++], &v[i], 8) != 0))
                bad++;
        CHECK(back && bad == 0 && j == m, "read back: %zu differ", bad);
        free(back);
        free(v);
    }
}

static void test_column_edges(void)
{
    const char *path = tmp_path("edge.f64");
    st_summary s;

    cur_case = "column.empty";
    st_column *c = st_column_open(path, 0);
    CHECK(c != NULL, "open");
    CHECK(st_column_finish(c, &s) == 0, "finish");
    st_column_free(c);
    CHECK(s.count == 0 && s.non_finite == 0, "counts");
    CHECK(isnan(s.mean) && isnan(s.stddev) && isnan(s.min) && isnan(s.max) && isnan(s.median) &&
              isnan(s.p999) && isnan(s.mad),
          "all NAN");
    struct stat stb;
    CHECK(stat(path, &stb) == 0 && stb.st_size == 0, "empty file");
    size_t n = 99;
    double *back = st_read_samples(path, &n);
    CHECK(back != NULL && n == 0, "empty read");
    free(back);
    CHECK(st_summarize_file(path, 0, &s) == 0 && s.count == 0 && isnan(s.median), "empty file");

    cur_case = "column.one";
    double one = -2.5;
    c = st_column_open(path, 4096);
    CHECK(c && st_column_add(c, &one, 1) == 0, "add");
    CHECK(c && st_column_finish(c, &s) == 0, "finish");
    st_column_free(c);
    CHECK(s.count == 1 && s.mean == -2.5 && isnan(s.stddev) && s.min == -2.5 && s.max == -2.5,
          "one: mean/stddev/min/max");
    CHECK(s.median == -2.5 && s.p90 == -2.5 && s.p999 == -2.5 && s.mad == 0, "one: quantiles");

    cur_case = "column.nonfinite_only";
    double nf[] = {NAN, INFINITY, -INFINITY, NAN};
    CHECK(column_of(path, nf, 4, 4096, &s) == 0, "column");
    CHECK(s.count == 0 && s.non_finite == 4 && isnan(s.mean) && isnan(s.median), "summary");
    CHECK(st_summarize(nf, 4, &s) == 0 && s.count == 0 && s.non_finite == 4, "array");

    cur_case = "column.free_unfinished";
    double vals[] = {1, 2, 3};
    c = st_column_open(path, 0);
    CHECK(c && st_column_add(c, vals, 3) == 0, "add");
    st_column_free(c);
    CHECK(stat(path, &stb) == 0 && stb.st_size == 24, "kept what was added");
}

static void write_bytes(const char *path, const void *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
}

static void test_file_errors(void)
{
    cur_case = "file.errors";
    st_summary s;
    errno = 0;
    st_column *c = st_column_open("/nonexistent-dir-benchctl/x.f64", 0);
    CHECK(c == NULL && errno == ENOENT, "unwritable path: errno %d", errno);
    char dir[600];
    snprintf(dir, sizeof dir, "%s", tmpdir);
    errno = 0;
    c = st_column_open(dir, 0);
    CHECK(c == NULL && errno == EISDIR, "directory: errno %d", errno);

    double v[2] = {1, 2};
    const char *bad = tmp_path("bad.f64");
    write_bytes(bad, v, 12);
    errno = 0;
    CHECK(st_summarize_file(bad, 0, &s) == -1 && errno == EINVAL, "size 12: errno %d", errno);
    size_t n;
    errno = 0;
    CHECK(st_read_samples(bad, &n) == NULL && errno == EINVAL, "read size 12: errno %d", errno);
    errno = 0;
    CHECK(st_summarize_file(tmp_path("missing.f64"), 0, &s) == -1 && errno == ENOENT,
          "missing: errno %d", errno);
    errno = 0;
    CHECK(st_read_samples(tmp_path("missing.f64"), &n) == NULL && errno == ENOENT,
          "read missing: errno %d", errno);
    errno = 0;
    CHECK(st_summarize_file(tmpdir, 0, &s) == -1 && errno == EISDIR, "directory: errno %d", errno);

    /* A write error (disk full) fails the add that flushes, and the finish. */
    if (access("/dev/full", W_OK) == 0) {
        cur_case = "file.disk_full";
        c = st_column_open("/dev/full", 0);
        CHECK(c != NULL, "open /dev/full: %s", strerror(errno));
        double many[10000] = {0};
        errno = 0;
        CHECK(c && st_column_add(c, many, 10000) == -1 && errno == ENOSPC, "add: errno %d", errno);
        errno = 0;
        CHECK(c && st_column_finish(c, &s) == -1 && errno == ENOSPC, "finish: errno %d", errno);
        st_column_free(c);
    }

    cur_case = "empty.samples";
    st_mwu m;
    st_hl h;
    CHECK(st_mannwhitney(v, 0, v, 2, &m) == -1 && isnan(m.p), "mwu empty a");
    double nanv = NAN;
    CHECK(st_mannwhitney(v, 2, &nanv, 1, &m) == -1 && isnan(m.p), "mwu b all NaN");
    CHECK(st_hodges_lehmann(v, 2, v, 0, 0.95, &h) == -1 && isnan(h.shift), "hl empty b");
}

/* ---- Hodges-Lehmann selection against brute force ------------------------- */

static void check_hl_brute(const char *name, const double *a, size_t na, const double *b,
                           size_t nb, double conf, double z)
{
    cur_case = name;
    size_t N = na * nb;
    double *d = malloc(N * sizeof *d);
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++)
            d[i * nb + j] = b[j] - a[i];
    qsort(d, N, sizeof *d, cmp_double);
    double shift = (d[(N - 1) / 2] + d[N / 2]) / 2;
    double kk = floor((double)N / 2 - z * sqrt((double)na * (double)nb * (double)(na + nb + 1) / 12));
    size_t k = kk < 1 ? 1 : (size_t)kk;
    st_hl h;
    double t0 = now();
    CHECK(st_hodges_lehmann(a, na, b, nb, conf, &h) == 0, "st_hodges_lehmann");
    double dt = now() - t0;
    CHECK(same(h.shift, shift == 0 ? 0.0 : shift), "shift %.17g want %.17g", h.shift, shift);
    CHECK(same(h.lo, d[k - 1]), "lo %.17g want %.17g", h.lo, d[k - 1]);
    CHECK(same(h.hi, d[N - k]), "hi %.17g want %.17g", h.hi, d[N - k]);
    printf("# %s: %zu x %zu in %.3f s\n", name, na, nb, dt);
    free(d);
}

static void test_hl_large(void)
{
    /* norm.ppf(0.975), norm.ppf(0.995) (scipy) */
    const double z95 = 1.959963984540054, z99 = 2.5758293035489004;
    rng_state = 77;
    size_t na = 3000, nb = 3000;
    double *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b);
    for (size_t i = 0; i < na; i++)
        a[i] = gauss() * 10;
    for (size_t j = 0; j < nb; j++)
        b[j] = gauss() * 12 + 0.5;
    check_hl_brute("hl.3000x3000", a, na, b, nb, 0.95, z95);

    /* Heavy ties: integer timings, an even and an odd N. */
    for (size_t i = 0; i < 2500; i++)
        a[i] = (double)(rnd() % 20);
    for (size_t j = 0; j < 2000; j++)
        b[j] = (double)(rnd() % 23);
    check_hl_brute("hl.ties.2500x2000", a, 2500, b, 2000, 0.99, z99);
    check_hl_brute("hl.ties.2499x2001", a, 2499, b, 2001, 0.95, z95);

    /* Constant samples: every difference the same. */
    for (size_t i = 0; i < 2100; i++)
        a[i] = 5;
    for (size_t j = 0; j < 2100; j++)
        b[j] = 5;
    check_hl_brute("hl.constant", a, 2100, b, 2100, 0.95, z95);

    /* Lopsided sizes, many magnitudes. */
    free(b);
    b = malloc(60000 * sizeof *b);
    for (size_t i = 0; i < 90; i++)
        a[i] = (rnd() & 1 ? -1 : 1) * pow(10, unif() * 20 - 10);
    for (size_t j = 0; j < 60000; j++)
        b[j] = (rnd() & 1 ? -1 : 1) * pow(10, unif() * 20 - 10);
    check_hl_brute("hl.magnitudes.90x60000", a, 90, b, 60000, 0.95, z95);
    check_hl_brute("hl.magnitudes.60000x90", b, 60000, a, 90, 0.95, z95);
    free(a);
    free(b);
}

/* ---- Mann-Whitney ranking against a plain one ------------------------------ */

typedef struct tagged {
    double v;
    int from_a;
} tagged;

static int cmp_tagged(const void *pa, const void *pb)
{
    return cmp_double(&((const tagged *)pa)->v, &((const tagged *)pb)->v);
}

static void test_mwu_large(void)
{
    cur_case = "mwu.large";
    rng_state = 99;
    size_t na = 20000, nb = 30001, n = na + nb;
    double *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b);
    tagged *t = malloc(n * sizeof *t);
    for (size_t i = 0; i < na; i++)
        a[i] = floor(gauss() * 30);
    for (size_t j = 0; j < nb; j++)
        b[j] = floor(gauss() * 30 + 1);
    for (size_t i = 0; i < na; i++)
        t[i] = (tagged){a[i], 1};
    for (size_t j = 0; j < nb; j++)
        t[na + j] = (tagged){b[j], 0};
    qsort(t, n, sizeof *t, cmp_tagged);
    double ra = 0, tie = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && t[j].v == t[i].v)
            j++;
        double avg = ((double)i + 1 + (double)j) / 2, cnt = (double)(j - i);
        for (size_t k = i; k < j; k++)
            if (t[k].from_a)
                ra += avg;
        tie += cnt * cnt * cnt - cnt;
        i = j;
    }
    double u = ra - (double)na * (double)(na + 1) / 2;
    double umax = fmax(u, (double)na * (double)nb - u);
    double s = sqrt((double)na * (double)nb / 12 * ((double)n + 1 - tie / ((double)n * (double)(n - 1))));
    double p = erfc((umax - (double)na * (double)nb / 2 - 0.5) / s / sqrt(2.0));
    st_mwu r;
    CHECK(st_mannwhitney(a, na, b, nb, &r) == 0, "st_mannwhitney");
    CHECK(r.u == u, "u %.17g want %.17g", r.u, u);
    P_CLOSE(r.p, p, "p");
    CHECK(r.exact == 0, "asymptotic");
    free(a);
    free(b);
    free(t);
}

/* Exact distribution: the counts against Mann & Whitney's recurrence. */
static void test_exact_counts(void)
{
    cur_case = "mwu.counts";
    enum { M = 6, N = 9 };
    static double f[M + 1][N + 1][M * N + 1];
    for (int m = 0; m <= M; m++)
        for (int n = 0; n <= N; n++)
            for (int k = 0; k <= m * n; k++) {
                if (m == 0 || n == 0) {
                    f[m][n][k] = k == 0;
                    continue;
                }
                double x = k - n >= 0 && k - n <= (m - 1) * n ? f[m - 1][n][k - n] : 0;
                double y = k <= m * (n - 1) ? f[m][n - 1][k] : 0;
                f[m][n][k] = x + y;
            }
    for (int m = 1; m <= M; m++)
        for (int n = m; n <= N; n++) {
            double *c = sti_mwu_counts((uint64_t)m, (uint64_t)n, (uint64_t)(m * n));
            int bad = 0;
            double total = 0;
            for (int k = 0; k <= m * n; k++) {
                bad += c[k] != f[m][n][k];
                total += c[k];
            }
            CHECK(bad == 0 && total == sti_binom((uint64_t)m, (uint64_t)n), "m=%d n=%d", m, n);
            free(c);
        }
}

/* ---- timings (not a test) ----------------------------------------------- */

static int bench(void)
{
    size_t n = 10000000;
    double *v = malloc(n * sizeof *v);
    rng_state = 5;
    for (size_t i = 0; i < n; i++)
        v[i] = exp(gauss()) * 1000;
    const char *path = tmp_path("bench.f64");
    st_column *c = st_column_open(path, 0);
    double t0 = now();
    for (size_t i = 0; i < n; i += 100000)
        st_column_add(c, v + i, 100000);
    double t1 = now();
    st_summary s;
    st_column_finish(c, &s);
    double t2 = now();
    st_column_free(c);
    printf("column 10M: add %.3f s, finish %.3f s (default 8 MiB budget), median %g\n", t1 - t0,
           t2 - t1, s.median);
    t0 = now();
    st_summarize_file(path, 0, &s);
    printf("st_summarize_file 10M (8 MiB): %.3f s\n", now() - t0);
    t0 = now();
    st_summarize_file(path, (size_t)1 << 30, &s);
    printf("st_summarize_file 10M (in memory): %.3f s\n", now() - t0);
    t0 = now();
    st_summarize(v, n, &s);
    printf("st_summarize 10M array: %.3f s\n", now() - t0);

    size_t m = 1000000;
    double *a = v, *b = v + m;
    for (size_t i = 0; i < m; i++)
        b[i] = b[i] * 1.01;
    st_hl h;
    st_mwu r;
    for (int k = 0; k < 3; k++) {
        t0 = now();
        st_hodges_lehmann(a, m, b, m, 0.95, &h);
        t1 = now();
        st_mannwhitney(a, m, b, m, &r);
        t2 = now();
        printf("1M x 1M: hodges_lehmann %.3f s (shift %g [%g, %g]), mannwhitney %.3f s (p %g)\n",
               t1 - t0, h.shift, h.lo, h.hi, t2 - t1, r.p);
    }
    for (size_t i = 0; i < 2 * m; i++)
        v[i] = floor(v[i] / 100);
    t0 = now();
    st_hodges_lehmann(a, m, b, m, 0.95, &h);
    t1 = now();
    st_mannwhitney(a, m, b, m, &r);
    t2 = now();
    printf("1M x 1M ties: hodges_lehmann %.3f s, mannwhitney %.3f s\n", t1 - t0, t2 - t1);
    free(v);
    unlink(path);
    return 0;
}

/* The two-proportion test and the smallest p-values behind compare's
 * family: values worked out by hand from the formulas (stats.h), and
 * Newcombe's own example (Stat. Med. 1998, 17:873, method 10: 56/70
 * against 48/80, difference 0.2, interval 0.0524 to 0.3339). */
static void test_proportions(void)
{
    st_prop r;
    CHECK(st_two_proportions(99, 100, 95, 100, 0.95, &r) == 0, "two proportions");
    P_CLOSE(r.p, 0.09730669970643886, "p of 99/100 vs 95/100");
    CHECK_CLOSE(r.diff, -0.04, 1e-12, 1e-15, "difference");
    CHECK(st_two_proportions(48, 80, 56, 70, 0.95, &r) == 0, "Newcombe's example");
    CHECK_CLOSE(r.diff, 0.2, 1e-12, 1e-15, "difference of Newcombe's example");
    CHECK(fabs(r.lo - 0.0524) < 5e-5 && fabs(r.hi - 0.3339) < 5e-5, "Newcombe: [%g, %g]", r.lo,
          r.hi);
    CHECK(st_two_proportions(10, 10, 20, 20, 0.95, &r) == 0 && r.p == 1, "all successes: p 1");
    CHECK(st_two_proportions(11, 10, 1, 2, 0.95, &r) == -1 && isnan(r.p), "k > n refused");
    CHECK(st_mannwhitney_min_p(1, 1) == 1, "1 vs 1 can never be significant");
    P_CLOSE(st_mannwhitney_min_p(3, 3), 0.046854177603873774, "3 vs 3: tied approximation");
    P_CLOSE(st_mannwhitney_min_p(5, 5), 0.003976751709788652, "5 vs 5: tied approximation");
    /* ties make the normal approximation reach far below the exact 2 / C(102, 2) */
    CHECK_CLOSE(st_mannwhitney_min_p(2, 100), 1.5297331869789626e-23, 1e-6, 0, "2 vs 100: tied approximation");
    CHECK(st_mannwhitney_min_p(0, 5) == 1, "empty side");
    P_CLOSE(st_two_proportions_min_p(5, 5), 0.0015654022580025488, "2 sf(sqrt(10))");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_stats FIXTURE_DIR [bench]\n");
        return 2;
    }
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmpdir, sizeof tmpdir, "%s/test_stats.XXXXXX", base);
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    int rc;
    if (argc > 2 && !strcmp(argv[2], "bench")) {
        rc = bench();
    } else {
        char path[4096];
        snprintf(path, sizeof path, "%s/reference.json", argv[1]);
        cJSON *root = load_json(path);
        test_summary_fixtures(root);
        test_quantile_fixtures(root);
        test_mwu_fixtures(root);
        test_hl_fixtures(root);
        test_bh_fixtures(root);
        test_outlier_fixtures(root);
        test_trend_fixtures(root);
        test_norm_fixtures(root);
        cJSON_Delete(root);
        test_exact_counts();
        test_column_edges();
        test_file_errors();
        test_radix_paths();
        test_mwu_large();
        test_hl_large();
        test_proportions();
        printf("%d passed, %d failed\n", n_pass, n_fail);
        rc = n_fail ? 1 : 0;
    }
    static const char *const files[] = {"fixture.f64", "radix.f64", "edge.f64", "bad.f64"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        unlink(tmp_path(files[i]));
    rmdir(tmpdir);
    return rc;
}
