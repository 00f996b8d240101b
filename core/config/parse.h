/*
 * Internal to core/config: what the section parsers (config.c, stages.c,
 * cases.c, plots.c) share — the validation context, positioned errors,
 * and the small readers every section uses.
 */
#ifndef BENCHCTL_CONFIG_PARSE_H
#define BENCHCTL_CONFIG_PARSE_H

#include <stdbool.h>

#include "config/config.h"
#include "config/keys.h"

typedef struct vctx {
    config *c;
    diag *d;
} vctx;

#define ERR(v, n, ...) diag_error((v)->d, (n) ? (n)->line : 0, (n) ? (n)->col : 0, __VA_ARGS__)
#define WARN(v, n, ...) diag_warn((v)->d, (n) ? (n)->line : 0, (n) ? (n)->col : 0, __VA_ARGS__)

/* Table rows (keys.h) in a line each. */
#define OTHER(n) {.name = (n)}
#define STR(n, T, m) {.name = (n), .type = KEY_STR, .offset = KEY_AT(T, m)}
#define BOOL(n, T, m) {.name = (n), .type = KEY_BOOL, .offset = KEY_AT(T, m)}
#define DURATION(n, T, m) {.name = (n), .type = KEY_DURATION, .offset = KEY_AT(T, m)}
#define ENUM(n, T, m, list) {.name = (n), .type = KEY_ENUM, .offset = KEY_AT(T, m), .choices = (list)}
#define END {.name = NULL}

/* Unknown and duplicate keys of a mapping (table NULL: duplicates only). */
void cfg_check_keys(vctx *v, const ynode *m, const cfg_key *table, const char *what);
/* Is n of type t (and, for a scalar, not null)?  Reports it otherwise. */
bool cfg_expect_type(vctx *v, const ynode *n, ytype t, const char *what);
/* A scalar string value; NULL when absent (an error if required). */
const char *cfg_get_str(vctx *v, const ynode *m, const char *key, bool required,
                        const char *what);
/* Names that become file or directory names in the run directory. */
void cfg_check_file_name(vctx *v, const ynode *at, const char *what, const char *name);

/* The first output of any stage named name, or NULL. */
const cfg_output *cfg_find_output(const config *c, const char *name);

/* The sections (each file's own). */
void cfg_parse_stage_list(vctx *v, const ynode *list, const char *section, bool cleanup,
                          cfg_stage **out, size_t *nout);     /* stages.c */
void cfg_check_cross_refs(vctx *v);                           /* stages.c */
void cfg_parse_cases(vctx *v, const ynode *cs);               /* cases.c */
void cfg_parse_matrix(vctx *v, const ynode *m);               /* cases.c */
void cfg_parse_plots(vctx *v, const ynode *ps);               /* plots.c */
void cfg_parse_publish(vctx *v, const ynode *p);              /* publish.c */
/* `nodes:`, `min_nodes:` and `prepare:` of stage st (after its hosts and
 * typed keys are read); sw names it in messages. */
void cfg_parse_nodes(vctx *v, cfg_stage *st, const ynode *sn, const char *sw); /* nodes.c */
/* A column's `thresholds:` list (t may be NULL). */
void cfg_parse_thresholds(vctx *v, cfg_column *col, const ynode *t);          /* nodes.c */
void cfg_parse_monitor(vctx *v, const ynode *b);              /* monitor.c */
void cfg_check_monitor_hosts(vctx *v);                        /* monitor.c */
void cfg_parse_stage_monitor(vctx *v, cfg_stage *st, const ynode *mn); /* monitor.c */
void cfg_parse_stage_profile(vctx *v, cfg_stage *st, const ynode *pn, const char *sw); /* profile.c */

/* `limits:` mapping n (may be NULL) over the defaults dflt (NULL: none)
 * into *out; what names the section ("stage 'x'", "benchmark"). */
void cfg_parse_limits(vctx *v, const ynode *n, const cfg_limits *dflt, cfg_limits *out,
                      const char *what);                      /* limits.c */
/* Set l->any from its values. */
void cfg_limits_settle(cfg_limits *l);                        /* limits.c */

#endif
