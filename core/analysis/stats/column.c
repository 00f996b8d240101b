/*
 * Columns and sample files: exact summaries in bounded memory.
 *
 * Every value goes to the sample file.  At the end, when the values fit in
 * the memory budget they are read back: sorted (up to a million: 16 bytes
 * each, keys and the radix sort's scratch) or radix-selected in memory
 * (8 bytes each, in half the budget).  Otherwise the order statistics the
 * summary needs are found by a radix selection over the file itself
 * (select.c), in a few passes.  Its first pass (count, compensated sum,
 * extremes, histogram of the keys' top bits) is made while the values
 * arrive, so a column pays for it only once.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stats_file.h"

#define WBUF_VALUES 8192 /* 64 KiB write buffer */

/* The sample file is opened only to append a full buffer (and read back at
 * the end): an output with a thousand numeric columns must not hold a
 * thousand descriptors while its validator still needs one for the data. */
struct st_column {
    int fd;      /* 0 while open for values, -1 once finished */
    char *path;
    size_t mem;
    double *wbuf;
    size_t wfill;
    sti_acc acc;
    sti_hist0 h0;
    int err; /* errno of a failed write: the column stays failed */
};

size_t sti_mem_limit(size_t mem_limit)
{
    if (mem_limit == 0)
        return STI_DEFAULT_MEM;
    return mem_limit < STI_MIN_MEM ? STI_MIN_MEM : mem_limit;
}

int sti_hist0_init(sti_hist0 *h, size_t mem)
{
    /* Half the budget at most, 16 bits at most (512 KiB). */
    unsigned bits = 16;
    while (bits > 4 && ((size_t)8 << bits) > mem / 2)
        bits--;
    h->bits = bits;
    h->count = calloc((size_t)1 << bits, sizeof *h->count);
    return h->count ? 0 : -1;
}

static int write_all(int fd, const void *p, size_t len)
{
    const char *c = p;
    while (len > 0) {
        ssize_t w = write(fd, c, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c += w;
        len -= (size_t)w;
    }
    return 0;
}

static int summarize_fd(int fd, uint64_t nvals, size_t mem, const sti_acc *acc,
                        const sti_hist0 *h0, st_summary *out);

st_column *st_column_open(const char *path, size_t mem_limit)
{
    st_column *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = -1;
    c->mem = sti_mem_limit(mem_limit);
    sti_acc_init(&c->acc);
    c->wbuf = malloc(WBUF_VALUES * sizeof *c->wbuf);
    if (!c->wbuf || sti_hist0_init(&c->h0, c->mem) < 0) {
        st_column_free(c);
        errno = ENOMEM;
        return NULL;
    }
    size_t plen = strlen(path) + 1;
    c->path = malloc(plen);
    if (!c->path) {
        st_column_free(c);
        errno = ENOMEM;
        return NULL;
    }
    memcpy(c->path, path, plen);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0) {
        int e = errno;
        st_column_free(c);
        errno = e;
        return NULL;
    }
    close(fd);
    c->fd = 0;
    return c;
}

static int flush(st_column *c)
{
    if (c->err) {
        errno = c->err;
        return -1;
    }
    if (c->wfill == 0)
        return 0;
    int fd = open(c->path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) {
        c->err = errno;
        return -1;
    }
    int rc = write_all(fd, c->wbuf, c->wfill * sizeof *c->wbuf);
    int e = errno;
    if (close(fd) < 0 && rc == 0) { /* NFS and friends report late */
        rc = -1;
        e = errno;
    }
    if (rc < 0) {
        c->err = e;
        return -1;
    }
    c->wfill = 0;
    return 0;
}

int st_column_add(st_column *c, const double *v, size_t n)
{
    if (c->fd < 0) {
        errno = EBADF;
        return -1;
    }
    unsigned sh = 64 - c->h0.bits;
    for (size_t i = 0; i < n; i++) {
        if (c->wfill == WBUF_VALUES && flush(c) < 0)
            return -1;
        c->wbuf[c->wfill++] = v[i];
        if (sti_acc_add(&c->acc, v[i]))
            c->h0.count[sti_key(v[i]) >> sh]++;
    }
    return c->err ? (errno = c->err, -1) : 0;
}

int st_column_finish(st_column *c, st_summary *out)
{
    if (c->fd < 0) {
        errno = EBADF;
        return -1;
    }
    int rc = flush(c);
    int fd = rc == 0 ? open(c->path, O_RDONLY | O_CLOEXEC) : -1;
    if (rc == 0 && fd < 0)
        rc = -1;
    if (rc == 0)
        rc = summarize_fd(fd, c->acc.count + c->acc.non_finite, c->mem, &c->acc, &c->h0, out);
    int e = errno;
    if (fd >= 0 && close(fd) < 0 && rc == 0) {
        rc = -1;
        e = errno;
    }
    c->fd = -1;
    errno = e;
    return rc;
}

void st_column_free(st_column *c)
{
    if (!c)
        return;
    if (c->fd >= 0 && c->path) {
        /* Not finished: keep what was added (best effort). */
        int e = errno;
        (void)flush(c);
        errno = e;
    }
    free(c->path);
    free(c->wbuf);
    free(c->h0.count);
    free(c);
}

/* Open a sample file and check its size; -1 with errno. */
static int open_samples(const char *path, uint64_t *nvals)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    int e = 0;
    if (fstat(fd, &st) < 0)
        e = errno;
    else if (S_ISDIR(st.st_mode))
        e = EISDIR;
    else if (!S_ISREG(st.st_mode) || st.st_size % 8 != 0)
        e = EINVAL; /* not a sample file: raw doubles, 8 bytes each */
    if (e) {
        close(fd);
        errno = e;
        return -1;
    }
    *nvals = (uint64_t)st.st_size / 8;
    return fd;
}

/*
 * Summary of a sample file of nvals values; acc and h0: its first pass
 * when already made (a column's), else NULL.  Small files are read and
 * sorted; files whose values fit in half the budget are read and selected
 * in memory; larger ones are selected over the file itself.
 */
static int summarize_fd(int fd, uint64_t nvals, size_t mem, const sti_acc *acc,
                        const sti_hist0 *h0, st_summary *out)
{
    if (nvals <= mem / 16) {
        if (nvals <= STI_SORT_MAX)
            return sti_summarize_fd_memory(fd, nvals, out);
        size_t n;
        double *v = sti_load_finite(fd, nvals, &n);
        if (!v)
            return -1;
        int rc = sti_summarize_array_select(v, n, mem / 2, out);
        out->non_finite = nvals - n; /* left out by the loading */
        int e = errno;
        free(v);
        errno = e;
        return rc;
    }
    sti_source src = {.fd = fd};
    if (acc)
        return sti_summarize_select(&src, mem, acc, h0, out);
    return sti_summarize_source_select(&src, mem, out);
}

int st_summarize_file(const char *path, size_t mem_limit, st_summary *out)
{
    uint64_t nvals;
    int fd = open_samples(path, &nvals);
    if (fd < 0)
        return -1;
    int rc = summarize_fd(fd, nvals, sti_mem_limit(mem_limit), NULL, NULL, out);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

double *st_read_samples(const char *path, size_t *n)
{
    uint64_t nvals;
    int fd = open_samples(path, &nvals);
    if (fd < 0)
        return NULL;
    double *v = sti_load_finite(fd, nvals, n);
    int e = errno;
    close(fd);
    errno = e;
    return v;
}
