/* The declarative key tables of the config (keys.h). */
#define _GNU_SOURCE
#include "config/keys.h"
#include "config/config.h"

#include <stdlib.h>
#include <string.h>

#include "util/util.h"

#define ERR(d, n, ...) diag_error((d), (n) ? (n)->line : 0, (n) ? (n)->col : 0, __VA_ARGS__)

static bool in_list(const char *const *list, const char *s)
{
    for (; list && *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

static char *join(const char *const *list)
{
    strbuf sb = {0};
    for (size_t i = 0; list && list[i]; i++)
        sb_printf(&sb, "%s%s", i ? ", " : "", list[i]);
    return sb.buf ? sb_steal(&sb) : xstrdup("");
}

bool config_parse_bool(const char *s, bool *out)
{
    static const char *const t[] = {"true", "True", "TRUE", "yes", "Yes", "on", "On", NULL};
    static const char *const f[] = {"false", "False", "FALSE", "no", "No", "off", "Off", NULL};
    if (in_list(t, s)) {
        *out = true;
        return true;
    }
    if (in_list(f, s)) {
        *out = false;
        return true;
    }
    return false;
}

/* The names of table, NULL-terminated (owned; free it). */
static const char **keys_names(const cfg_key *table)
{
    size_t n = 0;
    while (table && table[n].name)
        n++;
    const char **v = xcalloc(n + 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = table[i].name;
    return v;
}

static const cfg_key *find_key(const cfg_key *table, const char *name)
{
    for (; table && table->name; table++)
        if (strcmp(table->name, name) == 0)
            return table;
    return NULL;
}

/* "unknown key 'K' in WHAT (OWNER); valid keys: ...; did you mean 'N'?" */
static void unknown_key(diag *d, const ynode *k, const cfg_key *table, const char *what)
{
    const char *owner = NULL, *near = NULL;
    size_t best = 3;
    for (const cfg_key *t = table; t->name; t++) {
        if (!owner && t->owner)
            owner = t->owner;
        size_t dist = edit_distance(k->str, t->name, 3);
        if (dist < best && dist < strlen(t->name)) {
            best = dist;
            near = t->name;
        }
    }
    const char **names = keys_names(table);
    char *list = join(names);
    ERR(d, k, "unknown key '%s' in %s%s%s%s; valid keys: %s%s%s%s", k->str, what,
        owner ? " (" : "", owner ? owner : "", owner ? ")" : "", *list ? list : "none",
        near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
    free(list);
    free(names);
}

static void check_keys(diag *d, const ynode *m, const cfg_key *table, const char *what, bool dups)
{
    if (!m || m->type != Y_MAP)
        return;
    for (size_t i = 0; i < m->n; i++) {
        const ynode *k = m->keys[i];
        if (k->type != Y_SCALAR) {
            if (dups)
                ERR(d, k, "%s: keys must be plain names", what);
            continue;
        }
        for (size_t j = 0; dups && j < i; j++)
            if (m->keys[j]->type == Y_SCALAR && strcmp(m->keys[j]->str, k->str) == 0)
                ERR(d, k, "%s: duplicate key '%s' (first at line %d)", what, k->str,
                    m->keys[j]->line);
        if (table && !find_key(table, k->str))
            unknown_key(d, k, table, what);
    }
}

void keys_check(diag *d, const ynode *m, const cfg_key *table, const char *what)
{
    check_keys(d, m, table, what, true);
}

void keys_check_names(diag *d, const ynode *m, const cfg_key *table, const char *what)
{
    check_keys(d, m, table, what, false);
}

/* The text to show of a wrong value: the scalar, or what the node is. */
static const char *shown(const ynode *n) { return n->type == Y_SCALAR ? n->str : ynode_kind(n); }

static bool bind_str(diag *d, const cfg_key *k, const ynode *n, const char **out, const char *what)
{
    if (n->type != Y_SCALAR) {
        ERR(d, n, "%s: '%s' must be a value, not %s", what, k->name, ynode_kind(n));
        return false;
    }
    if ((k->flags & KEY_REQUIRED) && !*n->str) {
        ERR(d, n, "%s: '%s' must not be empty", what, k->name);
        return false;
    }
    /* A name (of the benchmark, an output, a plot, a column) names files
     * and tables: not only white space.  Other values are the plugins' to
     * judge (a probe's target). */
    if ((k->flags & KEY_REQUIRED) && strcmp(k->name, "name") == 0 &&
        !n->str[strspn(n->str, " \t\r\n")]) {
        ERR(d, n, "%s: '%s' must not be only white space", what, k->name);
        return false;
    }
    if (k->type == KEY_ENUM && !in_list(k->choices, n->str)) {
        char *list = join(k->choices);
        ERR(d, n, "%s: '%s' must be one of %s, not '%s'", what, k->name, list, n->str);
        free(list);
        return false;
    }
    *out = n->str;
    return true;
}

/* "a whole number from 1 to 10", "... >= 0", "a whole number". */
static void count_kind(char *buf, size_t size, const cfg_key *k)
{
    if (k->lo == INT64_MIN && k->hi == INT64_MAX)
        snprintf(buf, size, "a whole number");
    else if (k->hi == INT64_MAX)
        snprintf(buf, size, "a whole number >= %lld", (long long)k->lo);
    else if (k->lo == INT64_MIN)
        snprintf(buf, size, "a whole number <= %lld", (long long)k->hi);
    else
        snprintf(buf, size, "a whole number from %lld to %lld", (long long)k->lo,
                 (long long)k->hi);
}

/* A duration bound as written in a config: "30s", "2m", "500ms". */
static void ms_text(char *buf, size_t size, int64_t ms)
{
    if (ms != 0 && ms % 60000 == 0)
        snprintf(buf, size, "%lldm", (long long)(ms / 60000));
    else if (ms != 0 && ms % 1000 == 0)
        snprintf(buf, size, "%llds", (long long)(ms / 1000));
    else
        snprintf(buf, size, "%lldms", (long long)ms);
}

/* What a numeric key must be, for its message: "a duration from 1s to 5m". */
static void number_kind(char *buf, size_t size, const cfg_key *k)
{
    char lo[32], hi[32];
    switch (k->type) {
    case KEY_COUNT:
        count_kind(buf, size, k);
        break;
    case KEY_SIZE:
        if (k->lo <= 1)
            snprintf(buf, size, "a size such as 4096, 64K, 100M, 2G or 1GB");
        else
            snprintf(buf, size, "a size of at least %lld bytes, such as 64K, 100M or 2G",
                     (long long)k->lo);
        break;
    case KEY_FLOAT:
        if (k->flags & KEY_RANGE)
            snprintf(buf, size, "a number from %g to %g", k->flo, k->fhi);
        else
            snprintf(buf, size, "a number");
        break;
    default:
        if (k->flags & KEY_RANGE) {
            ms_text(lo, sizeof lo, k->lo);
            ms_text(hi, sizeof hi, k->hi);
            snprintf(buf, size, "a duration from %s to %s", lo, hi);
        } else {
            snprintf(buf, size, "a duration such as 500ms, 30s or 1m30s");
        }
        break;
    }
}

/* A count, number or duration into its field (int64_t, or double). */
static bool bind_number(diag *d, const cfg_key *k, const ynode *n, char *field, const char *what)
{
    const char *s = n->type == Y_SCALAR ? n->str : NULL;
    int64_t x = 0;
    double f = 0;
    bool ok;
    if (k->type == KEY_FLOAT) {
        ok = s && parse_double(s, &f) &&
             (!(k->flags & KEY_RANGE) || (f >= k->flo && f <= k->fhi));
    } else if (k->type == KEY_COUNT) {
        ok = s && parse_int64(s, &x) && x >= k->lo && x <= k->hi;
    } else if (k->type == KEY_SIZE) {
        ok = s && parse_size(s, &x) && x >= k->lo && x <= k->hi;
    } else {
        int64_t ns;
        ok = s && parse_duration_ns(s, &ns);
        x = ok ? (ns + 999999) / 1000000 : 0;
        ok = ok && (!(k->flags & KEY_RANGE) || (x >= k->lo && x <= k->hi));
    }
    if (!ok) {
        char kind[96];
        number_kind(kind, sizeof kind, k);
        ERR(d, n, "%s: '%s' must be %s, not '%s'", what, k->name, kind, shown(n));
        return false;
    }
    if (k->type == KEY_FLOAT)
        *(double *)(void *)field = f;
    else
        *(int64_t *)(void *)field = x;
    return true;
}

/* A list of values, or one value (kept as its node). */
static bool bind_list(diag *d, const cfg_key *k, const ynode *n, char *field, const char *what)
{
    if (n->type == Y_MAP) {
        ERR(d, n, "%s: '%s' must be a list of values or one value, not a mapping", what,
            k->name);
        return false;
    }
    for (size_t i = 0; n->type == Y_SEQ && i < n->n; i++)
        if (n->vals[i]->type != Y_SCALAR) {
            ERR(d, n->vals[i], "%s: '%s' must be a list of values, not of %ss", what, k->name,
                ynode_kind(n->vals[i]));
            return false;
        }
    *(const ynode **)(void *)field = n;
    return true;
}

static bool bind_one(diag *d, const cfg_key *k, const ynode *n, char *field, const char *what)
{
    switch (k->type) {
    case KEY_STR:
    case KEY_ENUM:
        return bind_str(d, k, n, (const char **)(void *)field, what);
    case KEY_BOOL: {
        bool b;
        if (n->type != Y_SCALAR || n->quoted || !config_parse_bool(n->str, &b)) {
            ERR(d, n, "%s: '%s' must be true or false, not %s%s%s", what, k->name,
                n->type == Y_SCALAR ? "'" : "", shown(n), n->type == Y_SCALAR ? "'" : "");
            return false;
        }
        *(bool *)(void *)field = b;
        return true;
    }
    case KEY_DURATION:
    case KEY_COUNT:
    case KEY_SIZE:
    case KEY_FLOAT:
        return bind_number(d, k, n, field, what);
    case KEY_LIST:
        return bind_list(d, k, n, field, what);
    case KEY_OTHER:
        break;
    }
    return true;
}

/* The default of an unset key into its field. */
static void set_default(const cfg_key *k, char *field)
{
    switch (k->type) {
    case KEY_STR:
    case KEY_ENUM:
        *(const char **)(void *)field = k->dflt_str;
        break;
    case KEY_BOOL:
        *(bool *)(void *)field = k->dflt != 0;
        break;
    case KEY_DURATION:
    case KEY_COUNT:
    case KEY_SIZE:
        *(int64_t *)(void *)field = k->dflt;
        break;
    case KEY_FLOAT:
        *(double *)(void *)field = k->fdflt;
        break;
    case KEY_LIST:
        *(const ynode **)(void *)field = NULL;
        break;
    case KEY_OTHER:
        break;
    }
}

/* Room for any key's value: where keys_bind checks values it does not store. */
typedef union key_value {
    const char *s;
    bool b;
    int64_t i;
    double f;
    const ynode *n;
} key_value;

static bool unset(const ynode *n) { return !n || (n->type == Y_SCALAR && n->is_null); }

bool keys_bind(diag *d, const ynode *m, const cfg_key *table, void *out, const char *what)
{
    bool ok = true;
    for (const cfg_key *k = table; k->name; k++) {
        if (k->type == KEY_OTHER)
            continue;
        key_value scratch;
        char *field = out ? (char *)out + k->offset : (char *)&scratch;
        set_default(k, field);
        const ynode *n = ynode_get(m, k->name);
        if (unset(n)) {
            if (k->flags & KEY_REQUIRED) {
                ERR(d, n ? n : m, "%s: missing required key '%s'%s%s%s", what, k->name,
                    k->owner ? " (" : "", k->owner ? k->owner : "", k->owner ? ")" : "");
                ok = false;
            }
            continue;
        }
        if (!bind_one(d, k, n, field, what)) {
            set_default(k, field);
            ok = false;
        }
    }
    return ok;
}

void keys_secrets(config *c, const ynode *m, const cfg_key *table)
{
    for (const cfg_key *k = table; k && k->name; k++) {
        const ynode *n = ynode_get(m, k->name);
        if ((k->flags & KEY_SECRET) && !unset(n))
            config_add_secret(c, n);
    }
}
