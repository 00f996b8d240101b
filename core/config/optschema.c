/* Plugin options: a plugin's schema as key rows (checked and bound by
 * keys.c, like the core's own) and the typed read-only view. */
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

/* A numeric bound of a schema as a whole number: the smallest one >= x
 * (up false: the largest one <= x), clamped to int64_t. */
static int64_t whole(double x, bool up)
{
    if (x <= -9.2e18)
        return INT64_MIN;
    if (x >= 9.2e18)
        return INT64_MAX;
    int64_t t = (int64_t)x;
    if (up && (double)t < x)
        t++;
    if (!up && (double)t > x)
        t--;
    return t;
}

/* "a|b|c" as a NULL-terminated list, in one allocation (free it). */
static const char *const *split_choices(const char *text)
{
    size_t n = 1, len = text ? strlen(text) : 0;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '|';
    char **v = xmalloc((n + 1) * sizeof *v + len + 1);
    char *buf = (char *)(v + n + 1);
    size_t i = 0;
    if (text) {
        memcpy(buf, text, len + 1);
        v[i++] = buf;
        for (char *p = buf; *p; p++)
            if (*p == '|') {
                *p = '\0';
                v[i++] = p + 1;
            }
    }
    v[i] = NULL;
    return (const char *const *)v;
}

/* One declared option as a key row; its defaults typed as keys_bind's. */
static cfg_key option_key(const bc_option *o, const char *owner)
{
    cfg_key k = {.name = o->name, .owner = owner, .dflt_str = o->default_value};
    const char *dv = o->default_value;
    bool ranged = o->min <= o->max;
    int64_t ns = 0;
    bool b = false;
    k.flags = ((o->flags & BC_OPT_REQUIRED) ? KEY_REQUIRED : 0u) |
              ((o->flags & BC_OPT_SECRET) ? KEY_SECRET : 0u);
    switch (o->type) {
    case BC_OPT_STRING:
        k.type = KEY_STR;
        break;
    case BC_OPT_ENUM:
        k.type = KEY_ENUM;
        k.choices = split_choices(o->choices);
        break;
    case BC_OPT_BOOL:
        k.type = KEY_BOOL;
        k.dflt = dv && config_parse_bool(dv, &b) && b;
        break;
    case BC_OPT_INT:
        k.type = KEY_COUNT;
        k.lo = ranged ? whole(o->min, true) : INT64_MIN;
        k.hi = ranged ? whole(o->max, false) : INT64_MAX;
        if (!dv || !parse_int64(dv, &k.dflt))
            k.dflt = 0;
        break;
    case BC_OPT_FLOAT:
        k.type = KEY_FLOAT;
        k.flags |= ranged ? KEY_RANGE : 0u;
        k.flo = o->min;
        k.fhi = o->max;
        if (!dv || !parse_double(dv, &k.fdflt))
            k.fdflt = 0;
        break;
    case BC_OPT_DURATION:
        k.type = KEY_DURATION;
        k.flags |= ranged ? KEY_RANGE : 0u;
        k.lo = ranged ? whole(o->min, true) : 0;
        k.hi = ranged ? whole(o->max, false) : 0;
        k.dflt = dv && parse_duration_ns(dv, &ns) ? (ns + 999999) / 1000000 : 0;
        break;
    case BC_OPT_STRING_LIST:
        k.type = KEY_LIST;
        break;
    default:
        k.type = KEY_OTHER; /* a type this core does not know: accepted as is */
        break;
    }
    return k;
}

cfg_key *opts_keys(const bc_option *schema, const cfg_key *core_keys, const char *owner)
{
    size_t n = 0, cap = 1;
    for (const cfg_key *k = core_keys; k && k->name; k++)
        cap++;
    for (const bc_option *o = schema; o && o->name; o++)
        cap++;
    cfg_key *t = xcalloc(cap, sizeof *t);
    for (const cfg_key *k = core_keys; k && k->name; k++)
        t[n++] = (cfg_key){.name = k->name};
    for (const bc_option *o = schema; o && o->name; o++) {
        bool known = false;
        for (size_t i = 0; i < n && !known; i++)
            known = strcmp(t[i].name, o->name) == 0;
        if (!known)
            t[n++] = option_key(o, owner);
    }
    return t; /* the calloc'ed tail is the {NULL} end */
}

void opts_keys_free(cfg_key *keys)
{
    for (cfg_key *k = keys; k && k->name; k++)
        if (k->type == KEY_ENUM)
            free((void *)k->choices);
    free(keys);
}

bool opts_validate(config *c, diag *d, const bc_option *schema, const ynode *map,
                   const cfg_key *core_keys, const char *what, const char *owner)
{
    size_t before = d->errors;
    cfg_key *keys = opts_keys(schema, core_keys, owner);
    keys_check_names(d, map, keys, what);
    keys_bind(d, map, keys, NULL, what);
    keys_secrets(c, map, keys);
    opts_keys_free(keys);
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
