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

void keys_check(diag *d, const ynode *m, const cfg_key *table, const char *what)
{
    if (!m || m->type != Y_MAP)
        return;
    for (size_t i = 0; i < m->n; i++) {
        const ynode *k = m->keys[i];
        if (k->type != Y_SCALAR) {
            ERR(d, k, "%s: keys must be plain names", what);
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (m->keys[j]->type == Y_SCALAR && strcmp(m->keys[j]->str, k->str) == 0)
                ERR(d, k, "%s: duplicate key '%s' (first at line %d)", what, k->str,
                    m->keys[j]->line);
        if (table && !find_key(table, k->str)) {
            const char **names = keys_names(table);
            char *list = join(names);
            ERR(d, k, "unknown key '%s' in %s; valid keys: %s", k->str, what, list);
            free(list);
            free(names);
        }
    }
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
    if (k->type == KEY_ENUM && !in_list(k->choices, n->str)) {
        char *list = join(k->choices);
        ERR(d, n, "%s: '%s' must be one of %s, not '%s'", what, k->name, list, n->str);
        free(list);
        return false;
    }
    *out = n->str;
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
    case KEY_DURATION: {
        int64_t ns;
        if (n->type != Y_SCALAR || !parse_duration_ns(n->str, &ns)) {
            ERR(d, n, "%s: '%s' must be a duration such as 500ms, 30s or 1m30s, not '%s'", what,
                k->name, shown(n));
            return false;
        }
        *(int64_t *)(void *)field = (ns + 999999) / 1000000;
        return true;
    }
    case KEY_COUNT: {
        int64_t x;
        if (n->type != Y_SCALAR || !parse_int64(n->str, &x) || x < k->lo || x > k->hi) {
            ERR(d, n, "%s: '%s' must be a whole number from %lld to %lld, not '%s'", what,
                k->name, (long long)k->lo, (long long)k->hi, shown(n));
            return false;
        }
        *(int64_t *)(void *)field = x;
        return true;
    }
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
        *(int64_t *)(void *)field = k->dflt;
        break;
    case KEY_OTHER:
        break;
    }
}

bool keys_bind(diag *d, const ynode *m, const cfg_key *table, void *out, const char *what)
{
    bool ok = true;
    for (const cfg_key *k = table; k->name; k++) {
        if (k->type == KEY_OTHER)
            continue;
        char *field = (char *)out + k->offset;
        set_default(k, field);
        const ynode *n = ynode_get(m, k->name);
        if (!n || (n->type == Y_SCALAR && n->is_null)) {
            if (k->flags & KEY_REQUIRED) {
                ERR(d, n ? n : m, "%s: missing required key '%s'", what, k->name);
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
