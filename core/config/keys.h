/*
 * Declarative key tables for the config's own sections, and the one binder
 * that reads them: unknown and duplicate keys, required keys, types,
 * choices and ranges, defaults, and typed values stored at each key's
 * offset in the section's struct.  Errors carry FILE:LINE:COL.
 *
 *     static const cfg_key plot_keys[] = {
 *         {.name = "name", .type = KEY_STR, .offset = KEY_AT(cfg_plot, name),
 *          .flags = KEY_REQUIRED},
 *         {.name = "format", .type = KEY_ENUM, .offset = KEY_AT(cfg_plot, format),
 *          .choices = plot_formats, .dflt_str = "png"},
 *         {.name = "options"},         // KEY_OTHER: read by the section's own code
 *         {.name = NULL}};
 *
 * The same sections' plugin keys (host transports, probes, collectors,
 * validators) are declared by each plugin as bc_option tables and checked
 * by optschema.c with these tables' names as the core's part.
 */
#ifndef BENCHCTL_CONFIG_KEYS_H
#define BENCHCTL_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/diag.h"
#include "config/yamltree.h"

typedef enum key_type {
    KEY_OTHER = 0, /* a known key the section's code reads itself */
    KEY_STR,       /* const char *: a scalar */
    KEY_ENUM,      /* const char *: one of choices */
    KEY_BOOL,      /* bool: true/false (yes/no, on/off) */
    KEY_DURATION,  /* int64_t: milliseconds, from "500ms", "30s", "1m30s" */
    KEY_COUNT      /* int64_t: a whole number from lo to hi */
} key_type;

#define KEY_REQUIRED 0x1u /* missing or empty is an error */

#define KEY_AT(type, member) offsetof(type, member)

typedef struct cfg_key {
    const char *name;
    key_type type;
    size_t offset;               /* where the value goes (not for KEY_OTHER) */
    unsigned flags;              /* KEY_* */
    const char *const *choices;  /* KEY_ENUM: NULL-terminated */
    int64_t dflt;                /* KEY_BOOL, KEY_DURATION (ms), KEY_COUNT: when unset */
    const char *dflt_str;        /* KEY_STR, KEY_ENUM: when unset (may be NULL) */
    int64_t lo, hi;              /* KEY_COUNT: the range */
} cfg_key;

/* Unknown and duplicate keys of mapping m.  table NULL: duplicates only
 * (the section's other keys belong to a plugin).  what names the section
 * in messages ("stage", "benchmark.git"). */
void keys_check(diag *d, const ynode *m, const cfg_key *table, const char *what);

/* Read every typed key of table from m (NULL: all unset) into out, with
 * defaults; value errors say "<what>: '<key>' ...".  Returns false when a
 * value was wrong (its field keeps the default). */
bool keys_bind(diag *d, const ynode *m, const cfg_key *table, void *out, const char *what);


#endif
