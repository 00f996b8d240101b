/*
 * Internals of the sample-file paths (column.c, select.c).
 */
#ifndef BENCHCTL_STATS_FILE_H
#define BENCHCTL_STATS_FILE_H

#include "stats_impl.h"

#define STI_DEFAULT_MEM ((size_t)8 << 20)
/* Below this the selection would need a pass per few bits: the budget is
 * raised to it. */
#define STI_MIN_MEM ((size_t)4096)
/* Read buffer of a pass over a file (64 KiB), outside the budget. */
#define STI_IOBUF_VALUES 8192

size_t sti_mem_limit(size_t mem_limit);

/* Histogram of the top `bits` bits of the finite values' keys: the first
 * level of the radix selection. */
typedef struct sti_hist0 {
    unsigned bits;
    uint64_t *count;
} sti_hist0;

/* bits as the budget allows (<= 16); -1 on ENOMEM. */
int sti_hist0_init(sti_hist0 *h, size_t mem);

/* Arrays up to this size are sorted (radix); beyond, a radix selection
 * over the values in memory is faster (a few passes, O(n)). */
#define STI_SORT_MAX ((size_t)1 << 20)

/* One pass over a whole sample file, a chunk of values at a time. */
typedef int (*sti_chunk_fn)(void *ctx, const double *v, size_t n);
int sti_read_pass(int fd, sti_chunk_fn fn, void *ctx);

/* What the selection reads: values in memory (v, n), else the file fd. */
typedef struct sti_source {
    int fd;
    const double *v;
    size_t n;
} sti_source;

int sti_source_pass(const sti_source *src, sti_chunk_fn fn, void *ctx);

/* Summary of the file by reading its finite values into memory and
 * sorting them (16 bytes a value). */
int sti_summarize_fd_memory(int fd, uint64_t nvals, st_summary *out);
/* The finite values of a sample file of nvals values, malloc'd (*n of
 * them); NULL with errno on failure. */
double *sti_load_finite(int fd, uint64_t nvals, size_t *n);
/* Summary by radix selection, its first pass included. */
int sti_summarize_source_select(const sti_source *src, size_t mem, st_summary *out);
/* Summary of an array by radix selection in memory (mem: the budget of
 * the selection). */
int sti_summarize_array_select(const double *v, size_t n, size_t mem, st_summary *out);
/* Summary by radix selection; acc and h0: the source's first pass. */
int sti_summarize_select(const sti_source *src, size_t mem, const sti_acc *acc,
                         const sti_hist0 *h0, st_summary *out);

#endif /* BENCHCTL_STATS_FILE_H */
