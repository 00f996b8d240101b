/*
 * Option schemas: how a plugin declares the YAML keys it accepts.
 *
 * The core validates the user's YAML against this table before the plugin
 * sees anything (unknown keys, required keys, types, ranges, choices) and
 * reports FILE:LINE:COL errors.  Plugins then read a typed, read-only view
 * through the services table (services.h).
 */
#ifndef BENCHCTL_OPTIONS_H
#define BENCHCTL_OPTIONS_H

#include <stdint.h>

typedef enum bc_opt_type {
    BC_OPT_STRING = 1,      /* any scalar, read as text */
    BC_OPT_INT = 2,         /* 64-bit integer; min/max apply */
    BC_OPT_FLOAT = 3,       /* double; min/max apply */
    BC_OPT_BOOL = 4,        /* true/false (also yes/no, on/off) */
    BC_OPT_DURATION = 5,    /* Go syntax ("500ms", "1m30s"); read in ms; min/max in ms */
    BC_OPT_ENUM = 6,        /* one of `choices`, a '|' separated list */
    BC_OPT_STRING_LIST = 7  /* a sequence of scalars, or one scalar */
} bc_opt_type;

#define BC_OPT_REQUIRED 0x1u /* the key must be present */
#define BC_OPT_SECRET 0x2u   /* never written to disk or logs (passwords) */

typedef struct bc_option {
    const char *name;          /* YAML key; NULL ends the table */
    uint32_t type;             /* bc_opt_type */
    uint32_t flags;            /* BC_OPT_* */
    const char *default_value; /* textual default, NULL for none */
    const char *choices;       /* BC_OPT_ENUM: "a|b|c" */
    double min, max;           /* numeric range; ignored when min > max */
    const char *help;          /* one line, shown by `benchctl plugins` */
} bc_option;

/* Range helper for option tables: BC_NO_RANGE means unbounded. */
#define BC_NO_RANGE 1.0, 0.0

#endif /* BENCHCTL_OPTIONS_H */
