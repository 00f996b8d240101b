/*
 * The plugin kinds: one row per kind with everything the core knows of
 * it — its name (in file names, messages and metadata), its required
 * operations, and the size of its operations table in each ABI minor.
 * A new kind (a minor bump, docs/ABI.md) is one row here, its ops member
 * in loader.h's union, and its binding in bind.c.
 */
#ifndef BENCHCTL_PLUGIN_KINDS_H
#define BENCHCTL_PLUGIN_KINDS_H

#include <stddef.h>
#include <stdint.h>

#include <benchctl/plugin.h>

typedef struct kind_op {
    const char *name;
    size_t offset; /* of the function pointer in the ops table */
} kind_op;

typedef struct plugin_kind {
    uint32_t kind;            /* bc_kind */
    const char *name;         /* "host", "probe", ... */
    const kind_op *required;  /* {NULL}-terminated */
    size_t min_size;          /* the smallest table any minor allows (last required member) */
    size_t size_1_0;          /* the table as ABI 1.0 and 1.1 define it */
    size_t size_1_2;          /* ... and 1.2 and later */
    uint32_t since_minor;     /* the first ABI 1.minor with this kind */
} plugin_kind;

/* The row of kind, or NULL for a kind this core does not know. */
const plugin_kind *plugin_kind_of(uint32_t kind);
/* "host=1, probe=2, ...": every kind this core knows (owned). */
char *plugin_kinds_list(void);
/* The size of kind k's ops table as ABI 1.minor defines it. */
size_t plugin_kind_ops_size(const plugin_kind *k, uint32_t minor);

#endif
