/*
 * Passes over sample files and arrays of values: reading a file in chunks,
 * loading its finite values, the first pass of the radix selection.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "stats_file.h"

int sti_read_pass(int fd, sti_chunk_fn fn, void *ctx)
{
    double *buf = malloc(STI_IOBUF_VALUES * sizeof *buf);
    if (!buf)
        return -1;
    char *b = (char *)buf;
    size_t cap = STI_IOBUF_VALUES * sizeof *buf, have = 0;
    off_t off = 0;
    int rc = 0;
    for (;;) {
        ssize_t r = pread(fd, b + have, cap - have, off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = -1;
            break;
        }
        if (r == 0)
            break;
        off += r;
        have += (size_t)r;
        size_t nv = have / 8;
        if (nv && fn(ctx, buf, nv) < 0) {
            rc = -1;
            break;
        }
        /* A read ending inside a value (not on a regular file in
         * practice): keep the partial value for the next read. */
        memmove(b, b + nv * 8, have - nv * 8);
        have -= nv * 8;
    }
    if (rc == 0 && have != 0) {
        errno = EINVAL;
        rc = -1;
    }
    int e = errno;
    free(buf);
    errno = e;
    return rc;
}

/* In-memory path: keys of the finite values, in file order. */
typedef struct load_ctx {
    uint64_t *keys;
    size_t n, cap;
    sti_acc acc;
} load_ctx;

static int load_chunk(void *ctx, const double *v, size_t n)
{
    load_ctx *l = ctx;
    for (size_t i = 0; i < n; i++) {
        if (!sti_acc_add(&l->acc, v[i]))
            continue;
        if (l->n == l->cap) {
            errno = EIO; /* the file grew while being read */
            return -1;
        }
        l->keys[l->n++] = sti_key(v[i]);
    }
    return 0;
}

int sti_summarize_fd_memory(int fd, uint64_t nvals, st_summary *out)
{
    load_ctx l = {.cap = (size_t)nvals};
    sti_acc_init(&l.acc);
    l.keys = malloc((nvals ? nvals : 1) * sizeof *l.keys);
    if (!l.keys) {
        errno = ENOMEM;
        return -1;
    }
    int rc = sti_read_pass(fd, load_chunk, &l);
    if (rc == 0) {
        /* The squares in the same (file) order as the selection path. */
        sti_m2 m2 = {.mean = sti_acc_mean(&l.acc)};
        for (size_t i = 0; i < l.n; i++)
            sti_m2_add(&m2, sti_unkey(l.keys[i]));
        rc = sti_summarize_keys(l.keys, l.n, &l.acc, &m2, out);
        if (rc < 0)
            errno = ENOMEM;
    }
    int e = errno;
    free(l.keys);
    errno = e;
    return rc;
}

int sti_source_pass(const sti_source *src, sti_chunk_fn fn, void *ctx)
{
    if (!src->v)
        return sti_read_pass(src->fd, fn, ctx);
    /* In chunks, like a file: each stays in cache between the loops of a
     * pass (squares, keys). */
    for (size_t off = 0; off < src->n; off += STI_IOBUF_VALUES) {
        size_t len = src->n - off < STI_IOBUF_VALUES ? src->n - off : STI_IOBUF_VALUES;
        if (fn(ctx, src->v + off, len) < 0)
            return -1;
    }
    return 0;
}

/* The first pass of the selection: counts, sum, extremes, top bits. */
typedef struct pass1_ctx {
    sti_acc acc;
    sti_hist0 *h0;
} pass1_ctx;

static int pass1_chunk(void *ctx, const double *v, size_t n)
{
    pass1_ctx *p = ctx;
    unsigned sh = 64 - p->h0->bits;
    for (size_t i = 0; i < n; i++)
        if (sti_acc_add(&p->acc, v[i]))
            p->h0->count[sti_key(v[i]) >> sh]++;
    return 0;
}

/* The selection path with its first pass. */
int sti_summarize_source_select(const sti_source *src, size_t mem, st_summary *out)
{
    pass1_ctx p;
    sti_hist0 h0;
    sti_acc_init(&p.acc);
    p.h0 = &h0;
    if (sti_hist0_init(&h0, mem) < 0) {
        errno = ENOMEM;
        return -1;
    }
    int rc = sti_source_pass(src, pass1_chunk, &p);
    if (rc == 0)
        rc = sti_summarize_select(src, mem, &p.acc, &h0, out);
    int e = errno;
    free(h0.count);
    errno = e;
    return rc;
}

int sti_summarize_array_select(const double *v, size_t n, size_t mem, st_summary *out)
{
    sti_source src = {.fd = -1, .v = v, .n = n};
    return sti_summarize_source_select(&src, mem, out);
}

typedef struct read_ctx {
    double *v;
    size_t n, cap;
} read_ctx;

static int read_chunk(void *ctx, const double *v, size_t n)
{
    read_ctx *r = ctx;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            continue;
        if (r->n == r->cap) {
            errno = EIO; /* the file grew while being read */
            return -1;
        }
        r->v[r->n++] = v[i];
    }
    return 0;
}

/* The finite values of a file of nvals values, malloc'd; NULL on error. */
double *sti_load_finite(int fd, uint64_t nvals, size_t *n)
{
    read_ctx r = {.cap = (size_t)nvals};
    r.v = malloc((nvals ? nvals : 1) * sizeof *r.v);
    if (!r.v) {
        errno = ENOMEM;
        return NULL;
    }
    if (sti_read_pass(fd, read_chunk, &r) < 0) {
        int e = errno;
        free(r.v);
        errno = e;
        return NULL;
    }
    *n = r.n;
    return r.v;
}
