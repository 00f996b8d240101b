/*
 * Folding perf script's plain text output into "root;...;leaf COUNT"
 * lines (textfold.c): the perf profiler's fold where perf has no Python
 * scripting.
 */
#ifndef BENCHCTL_PERF_TEXTFOLD_H
#define BENCHCTL_PERF_TEXTFOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <benchctl/helpers.h>

typedef struct textfold {
    char **keys;         /* distinct stacks, root first (open addressing) */
    uint64_t *counts;
    size_t cap, n;
    uint64_t samples;
    bc_sb frames;        /* the current sample's frames, leaf first */
    size_t *starts;      /* ... each one's offset and length in frames */
    size_t nframes, starts_cap;
    bc_sb key;
    bool failed;         /* out of memory: the result would be wrong */
} textfold;

/* An empty fold. */
void textfold_init(textfold *tf);
void textfold_free(textfold *tf);
/* Feed one line of `perf script -F comm,ip,sym` output (without or with
 * its newline). */
void textfold_line(textfold *tf, const char *line, size_t len);
/* Write the folded stacks to out (the last sample counted first); false
 * when writing failed or memory ran out. */
bool textfold_write(textfold *tf, FILE *out);

#endif
