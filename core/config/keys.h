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
 * validators, plot engines) are declared by each plugin as bc_option
 * tables; optschema.c translates such a table into cfg_key rows (with
 * `owner` set) after the core's rows of the section, and the result goes
 * through this same checker and binder, so a key's errors read the same
 * whichever table declared it.
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
    KEY_COUNT,     /* int64_t: a whole number from lo to hi (INT64_MIN/MAX: open) */
    KEY_FLOAT,     /* double: a number; from flo to fhi with KEY_RANGE */
    KEY_LIST,      /* const ynode *: a list of values, or one value */
    KEY_SIZE       /* int64_t: bytes, from "100M", "64KiB", "1GB" (parse_size); from lo to hi */
} key_type;

#define KEY_REQUIRED 0x1u /* missing or empty is an error */
#define KEY_SECRET 0x2u   /* redacted from saved copies (keys_secrets) */
#define KEY_RANGE 0x4u    /* KEY_DURATION: from lo to hi ms; KEY_FLOAT: from flo to fhi */

#define KEY_AT(type, member) offsetof(type, member)

typedef struct cfg_key {
    const char *name;
    key_type type;
    size_t offset;               /* where the value goes (not for KEY_OTHER) */
    unsigned flags;              /* KEY_* */
    const char *const *choices;  /* KEY_ENUM: NULL-terminated */
    int64_t dflt;                /* KEY_BOOL, KEY_DURATION (ms), KEY_COUNT: when unset */
    const char *dflt_str;        /* KEY_STR, KEY_ENUM: when unset (may be NULL) */
    int64_t lo, hi;              /* KEY_COUNT (always), KEY_DURATION (KEY_RANGE): the range */
    double fdflt;                /* KEY_FLOAT: when unset */
    double flo, fhi;             /* KEY_FLOAT with KEY_RANGE: the range */
    const char *owner;           /* a plugin's key: "probe 'http'", named in messages; NULL: the core's */
} cfg_key;

/* Unknown and duplicate keys of mapping m.  table NULL: duplicates only
 * (the section's other keys belong to a plugin, checked by keys_check_names
 * once it is bound).  what names the section in messages ("stage",
 * "benchmark.git"); an unknown key lists every name of table, and names
 * the owner of its plugin rows, if any ("(probe 'http')"), and the
 * closest name when one is near. */
void keys_check(diag *d, const ynode *m, const cfg_key *table, const char *what);
/* keys_check without duplicates: for a mapping whose duplicates were
 * reported when it was parsed. */
void keys_check_names(diag *d, const ynode *m, const cfg_key *table, const char *what);

/* Read every typed key of table from m (NULL: all unset) into out, with
 * defaults; value errors say "<what>: '<key>' ...".  out NULL: check the
 * values without storing them.  Returns false when a value was wrong (its
 * field keeps the default). */
bool keys_bind(diag *d, const ynode *m, const cfg_key *table, void *out, const char *what);

/* Register the values of table's KEY_SECRET keys set in m with
 * config_add_secret (redacted from the saved config and metadata). */
struct config;
void keys_secrets(struct config *c, const ynode *m, const cfg_key *table);


#endif
