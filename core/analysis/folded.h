/*
 * Folded stacks ("frame;frame;...;leaf COUNT" per line, root first, as
 * profilers' own folding tools write them) as a tree of frames, the top
 * functions by self and total samples, and the per-function difference
 * between two profiles.  The flame graphs (report/flame.h) draw this tree.
 */
#ifndef BENCHCTL_ANALYSIS_FOLDED_H
#define BENCHCTL_ANALYSIS_FOLDED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* One frame of the tree: a function called along one path.  Node 0 is
 * the root (no name), its children the stacks' first frames. */
typedef struct fnode {
    uint32_t name;         /* index into folded.names */
    uint32_t parent;
    uint32_t child, next;  /* first child, next sibling (0: none) */
    uint32_t depth;        /* root 0 */
    uint64_t total;        /* samples in this subtree */
    uint64_t self;         /* samples whose leaf is this node */
    double base;           /* differential: this path's share in the baseline (0..1) */
} fnode;

/* A slot of the (parent, name) -> child table (idx: node index + 1; 0: empty). */
typedef struct fslot {
    uint32_t parent, name, idx;
} fslot;

typedef struct folded {
    char **names;          /* interned function names */
    uint32_t nnames, names_cap;
    uint32_t *name_hash;   /* open addressing: name index + 1 */
    uint32_t name_hash_cap;
    fnode *nodes;
    uint32_t nnodes, nodes_cap;
    fslot *child_hash;     /* (parent, name) -> node */
    uint32_t child_hash_cap;
    /* the last stack added: its frames' text, where each starts, its
     * length and node (the next stack reuses the path they share) */
    char *last_text;
    uint32_t *last_off, *last_len, *last_node;
    size_t last_n, last_text_cap, last_cap;
    uint64_t samples;      /* the root's total */
    uint64_t bad_lines;    /* lines that were not "stack COUNT" */
    uint32_t max_depth;
} folded;

/* An empty profile (all zero is one too). */
void folded_init(folded *f);
void folded_free(folded *f);
/* Add the stacks of the folded file at path (several files add up).
 * false with *err (owned) when it cannot be read. */
bool folded_load(folded *f, const char *path, char **err);
/* Add one line's stack ("a;b;c 12"); false when it is not one. */
bool folded_add_line(folded *f, const char *line, size_t len);
/* Add count samples of the stack frames[0..n-1] (root first). */
void folded_add_stack(folded *f, const char *const *frames, const size_t *lens, size_t n,
                      uint64_t count);

/* One function's figures over the whole profile. */
typedef struct ffunc {
    const char *name;      /* borrowed from the profile */
    uint64_t self, total;  /* total: samples whose stack contains it (once) */
} ffunc;
/* Every function with its self and total samples (owned array of
 * f->nnames entries, *n set), in name order of first appearance. */
ffunc *folded_functions(const folded *f, size_t *n);
/* {"samples": N, "top_self": [...], "top_total": [...]}: the top n
 * functions by self and by total samples, each {"function", "samples",
 * "share"} (share of all samples, 0..1). */
cJSON *folded_top_json(const folded *f, size_t n);

/* The differential of two profiles, per function: the change in share of
 * samples (self and total), largest changes first; each entry {"function",
 * "self_before", "self_after", "self_delta", "total_before", "total_after",
 * "total_delta"} (shares 0..1, deltas after - before).  At most n entries
 * (0: all). */
cJSON *folded_diff_json(const folded *before, const folded *after, size_t n);
/* Set after's nodes' base to the share the same path (by names) has in
 * before (0 where before lacks it), for the differential flame graph. */
void folded_mark_base(folded *after, const folded *before);

#endif
