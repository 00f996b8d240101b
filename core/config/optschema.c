/* Plugin options: schema validation and the typed read-only view. */
#include "config/optschema.h"
#include "config/keys.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "util/util.h"


static const bc_option *find_opt(const bc_option *schema, const char *name)
{
    for (const bc_option *o = schema; o && o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o;
    return NULL;
}

static const char *type_name(uint32_t t)
{
    switch (t) {
    case BC_OPT_STRING: return "a string";
    case BC_OPT_INT: return "a whole number";
    case BC_OPT_FLOAT: return "a number";
    case BC_OPT_BOOL: return "true or false";
    case BC_OPT_DURATION: return "a duration (e.g. 500ms, 30s, 1m30s)";
    case BC_OPT_ENUM: return "one of the listed values";
    case BC_OPT_STRING_LIST: return "a list of strings";
    default: return "a value";
    }
}

static bool in_range(const bc_option *o, double v) { return o->min > o->max || (v >= o->min && v <= o->max); }

static bool check_value(diag *d, const bc_option *o, const ynode *n, const char *what)
{
    const char *s = n->type == Y_SCALAR ? n->str : NULL;
    bool ok = true;
    double num = 0;
    switch (o->type) {
    case BC_OPT_STRING:
        ok = s != NULL;
        break;
    case BC_OPT_INT: {
        int64_t iv = 0;
        ok = s && parse_int64(s, &iv);
        num = (double)iv;
        break;
    }
    case BC_OPT_FLOAT:
        ok = s && parse_double(s, &num);
        break;
    case BC_OPT_BOOL: {
        bool b;
        ok = s && !n->quoted && config_parse_bool(s, &b);
        break;
    }
    case BC_OPT_DURATION: {
        int64_t ns = 0;
        ok = s && parse_duration_ns(s, &ns);
        num = (double)ns / 1e6;
        break;
    }
    case BC_OPT_ENUM: {
        ok = false;
        if (s && o->choices) {
            size_t l = strlen(s);
            for (const char *c = o->choices; *c;) {
                const char *bar = strchr(c, '|');
                size_t cl = bar ? (size_t)(bar - c) : strlen(c);
                if (cl == l && strncmp(c, s, l) == 0)
                    ok = true;
                c += cl + (bar ? 1 : 0);
            }
        }
        if (!ok) {
            diag_error(d, n->line, n->col, "%s.%s: '%s' is not one of: %s", what, o->name,
                       s ? s : ynode_kind(n), o->choices ? o->choices : "");
            return false;
        }
        break;
    }
    case BC_OPT_STRING_LIST:
        if (n->type == Y_SEQ) {
            for (size_t i = 0; i < n->n; i++)
                if (n->vals[i]->type != Y_SCALAR) {
                    diag_error(d, n->vals[i]->line, n->vals[i]->col,
                               "%s.%s: list items must be strings", what, o->name);
                    return false;
                }
        } else {
            ok = s != NULL;
        }
        break;
    }
    if (!ok && o->type == BC_OPT_INT && o->min < o->max) {
        diag_error(d, n->line, n->col, "%s.%s must be a whole number from %g to %g, not %s%s%s",
                   what, o->name, o->min, o->max, s ? "'" : "", s ? s : ynode_kind(n),
                   s ? "'" : "");
        return false;
    }
    if (!ok) {
        diag_error(d, n->line, n->col, "%s.%s must be %s, not %s%s%s", what, o->name,
                   type_name(o->type), s ? "'" : "", s ? s : ynode_kind(n), s ? "'" : "");
        return false;
    }
    if ((o->type == BC_OPT_INT || o->type == BC_OPT_FLOAT || o->type == BC_OPT_DURATION) &&
        !in_range(o, num)) {
        diag_error(d, n->line, n->col, "%s.%s: %s is out of range (%g to %g%s)", what, o->name, s,
                   o->min, o->max, o->type == BC_OPT_DURATION ? " ms" : "");
        return false;
    }
    return true;
}

bool opts_validate(config *c, diag *d, const bc_option *schema, const ynode *map,
                   const cfg_key *core_keys, const char *what, const char *owner)
{
    size_t before = d->errors;
    if (map && map->type == Y_MAP) {
        for (size_t i = 0; i < map->n; i++) {
            const ynode *k = map->keys[i];
            if (k->type != Y_SCALAR)
                continue;
            bool core = false;
            for (const cfg_key *ck = core_keys; ck && ck->name; ck++)
                if (strcmp(ck->name, k->str) == 0)
                    core = true;
            if (core)
                continue;
            const bc_option *o = find_opt(schema, k->str);
            if (!o) {
                strbuf sb = {0};
                for (const cfg_key *ck = core_keys; ck && ck->name; ck++)
                    sb_printf(&sb, "%s%s", sb.len ? ", " : "", ck->name);
                for (const bc_option *s = schema; s && s->name; s++)
                    sb_printf(&sb, "%s%s", sb.len ? ", " : "", s->name);
                diag_error(d, k->line, k->col, "unknown key '%s' in %s (%s); valid keys: %s",
                           k->str, what, owner, sb.len ? sb.buf : "none");
                sb_free(&sb);
                continue;
            }
            const ynode *val = map->vals[i];
            if (val->type == Y_SCALAR && val->is_null)
                continue;
            if (check_value(d, o, val, what) && (o->flags & BC_OPT_SECRET))
                config_add_secret(c, val);
        }
    }
    for (const bc_option *o = schema; o && o->name; o++) {
        const ynode *v = ynode_get(map, o->name);
        if ((o->flags & BC_OPT_REQUIRED) && (!v || (v->type == Y_SCALAR && v->is_null)))
            diag_error(d, map ? map->line : 0, map ? map->col : 0,
                       "%s: missing required key '%s' (%s)", what, o->name, owner);
    }
    return d->errors == before;
}

/* The raw text of an option: the YAML scalar, or the declared default. */
static const char *raw(const optview *v, const char *name)
{
    const ynode *n = ynode_get(v->map, name);
    if (n && n->type == Y_SCALAR && !n->is_null)
        return n->str;
    const bc_option *o = find_opt(v->schema, name);
    return o ? o->default_value : NULL;
}

int opts_is_set(const optview *v, const char *name)
{
    const ynode *n = ynode_get(v->map, name);
    return n && !(n->type == Y_SCALAR && n->is_null);
}

const char *opts_string(const optview *v, const char *name) { return raw(v, name); }

int64_t opts_int(const optview *v, const char *name)
{
    int64_t x = 0;
    const char *s = raw(v, name);
    return s && parse_int64(s, &x) ? x : 0;
}

double opts_float(const optview *v, const char *name)
{
    double x = 0;
    const char *s = raw(v, name);
    return s && parse_double(s, &x) ? x : 0;
}

int opts_bool(const optview *v, const char *name)
{
    bool b = false;
    const char *s = raw(v, name);
    return s && config_parse_bool(s, &b) ? b : 0;
}

int64_t opts_duration_ms(const optview *v, const char *name)
{
    int64_t ns = 0;
    const char *s = raw(v, name);
    return s && parse_duration_ns(s, &ns) ? ns / 1000000 : 0;
}

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t opts_list_locked(optview *v, const char *name, const char *const **items);

size_t opts_list(optview *v, const char *name, const char *const **items)
{
    /* A host's view is shared by the threads of background and parallel
     * stages; the cache below grows. */
    pthread_mutex_lock(&list_lock);
    size_t n = opts_list_locked(v, name, items);
    pthread_mutex_unlock(&list_lock);
    return n;
}

static size_t opts_list_locked(optview *v, const char *name, const char *const **items)
{
    for (size_t i = 0; i < v->nlists; i++)
        if (strcmp(v->lists[i].name, name) == 0) {
            *items = v->lists[i].items;
            return v->lists[i].n;
        }
    const ynode *n = ynode_get(v->map, name);
    struct optlist l = {.name = name};
    if (n && n->type == Y_SEQ) {
        l.items = xcalloc(n->n + 1, sizeof *l.items);
        for (size_t i = 0; i < n->n; i++)
            if (n->vals[i]->type == Y_SCALAR)
                l.items[l.n++] = n->vals[i]->str;
    } else {
        const char *s = raw(v, name);
        l.items = xcalloc(2, sizeof *l.items);
        if (s)
            l.items[l.n++] = s;
    }
    v->lists = xrealloc(v->lists, (v->nlists + 1) * sizeof *v->lists);
    v->lists[v->nlists++] = l;
    *items = l.items;
    return l.n;
}

void opts_free(optview *v)
{
    for (size_t i = 0; i < v->nlists; i++)
        free(v->lists[i].items);
    free(v->lists);
    v->lists = NULL;
    v->nlists = 0;
}
