/*
 * Plugin options: a plugin's declared schema (bc_option table) translated
 * into cfg_key rows after the core's own keys of the same section, so that
 * keys.c's one checker and binder validates both; and the typed read-only
 * view plugins get through the services table.
 */
#ifndef BENCHCTL_CORE_OPTIONS_H
#define BENCHCTL_CORE_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include <benchctl/options.h>

#include "config/config.h"
#include "config/keys.h"

typedef struct optview {
    const bc_option *schema; /* may be NULL */
    const ynode *map;        /* may be NULL */
    struct optlist {
        const char *name;
        const char **items;
        size_t n;
    } *lists;
    size_t nlists;
} optview;

/* The keys of a section that carries a plugin's options: core_keys' names
 * first (as KEY_OTHER rows: the section's parser bound them), then every
 * option of schema that the core does not declare, typed, with its range,
 * choices, textual default parsed, flags, and `owner` ("probe 'http'").
 * Either table may be NULL.  Owned by the caller: opts_keys_free. */
cfg_key *opts_keys(const bc_option *schema, const cfg_key *core_keys, const char *owner);
void opts_keys_free(cfg_key *keys);

/* Check map against schema and core_keys with keys.c (opts_keys, then
 * keys_check_names and keys_bind): unknown keys, required keys, types,
 * ranges, choices.  Duplicates are the section parser's (keys_check).
 * Errors go to d with positions; `what` names the place ("hosts.db",
 * "health_check").  Secret values are registered with config_add_secret.
 * Returns true when valid. */
bool opts_validate(config *c, diag *d, const bc_option *schema, const ynode *map,
                   const cfg_key *core_keys, const char *what, const char *owner);

/* Typed getters; unset options read as their declared default. */
int opts_is_set(const optview *v, const char *name);
const char *opts_string(const optview *v, const char *name);
int64_t opts_int(const optview *v, const char *name);
double opts_float(const optview *v, const char *name);
int opts_bool(const optview *v, const char *name);
int64_t opts_duration_ms(const optview *v, const char *name);
size_t opts_list(optview *v, const char *name, const char *const **items);
void opts_free(optview *v);

#endif
