/*
 * A YAML document as a tree of nodes that remember where they came from
 * (line, column, byte offsets), built with libyaml's event parser.
 * Aliases resolve to the anchored node.  All nodes live in one arena that
 * ytree_free releases.
 */
#ifndef BENCHCTL_YAMLTREE_H
#define BENCHCTL_YAMLTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/diag.h"

typedef enum ytype { Y_SCALAR, Y_MAP, Y_SEQ } ytype;

typedef struct ynode ynode;
struct ynode {
    ytype type;
    int line, col;       /* 1-based position of the node */
    size_t start, end;   /* byte offsets of the node in the file */
    const char *str;     /* Y_SCALAR: the text ("" for null) */
    bool is_null;        /* plain "", "~", "null" */
    bool quoted;         /* scalar was quoted */
    size_t n;            /* Y_MAP: pairs; Y_SEQ: items */
    ynode **keys;        /* Y_MAP only */
    ynode **vals;        /* Y_MAP values / Y_SEQ items */
};

typedef struct ytree ytree;

/* Parse a whole file.  On a syntax error, records FILE:LINE:COL in d and
 * returns NULL.  An empty document gives a tree whose root is NULL. */
ytree *ytree_parse(const char *text, size_t len, diag *d);
const ynode *ytree_root(const ytree *t);
void ytree_free(ytree *t);

/* Map lookup by key; NULL when absent or m is not a map. */
const ynode *ynode_get(const ynode *m, const char *key);
const ynode *ynode_key(const ynode *m, const char *key); /* the key node */
/* Human name of a node type ("a mapping", "a list", "a scalar"). */
const char *ynode_kind(const ynode *n);

#endif
