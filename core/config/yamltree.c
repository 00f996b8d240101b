/* A YAML document as a positioned node tree, built from libyaml events. */
#include "config/yamltree.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "util/util.h"

/* Arena: every node, array and string of a tree is freed at once. */
typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    _Alignas(max_align_t) unsigned char data[];
} chunk;

typedef struct anchor {
    char *name;
    ynode *node;
} anchor;

struct ytree {
    chunk *chunks;
    ynode *root;
    anchor *anchors;
    size_t n_anchors, cap_anchors;
};

static void *arena_alloc(ytree *t, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!t->chunks || t->chunks->used + n > t->chunks->cap) {
        size_t cap = n > 16384 ? n : 16384;
        chunk *c = xmalloc(sizeof(chunk) + cap);
        c->next = t->chunks;
        c->used = 0;
        c->cap = cap;
        t->chunks = c;
    }
    void *p = t->chunks->data + t->chunks->used;
    t->chunks->used += n;
    memset(p, 0, n);
    return p;
}

static char *arena_strndup(ytree *t, const char *s, size_t n)
{
    char *d = arena_alloc(t, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* A node being built: children accumulate in a temporary vector. */
typedef struct frame {
    ynode *node;
    ynode **items;
    size_t n, cap;
} frame;

static void frame_push_item(frame *f, ynode *child)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 8;
        f->items = xrealloc(f->items, f->cap * sizeof *f->items);
    }
    f->items[f->n++] = child;
}

/* A YAML 1.1 merge key: a plain `<<` whose value is a mapping or a list of
 * mappings. */
static bool is_merge(const ynode *k, const ynode *v)
{
    if (k->type != Y_SCALAR || k->quoted || strcmp(k->str, "<<") != 0)
        return false;
    if (v->type == Y_MAP)
        return true;
    if (v->type != Y_SEQ || v->n == 0)
        return false;
    for (size_t i = 0; i < v->n; i++)
        if (v->vals[i]->type != Y_MAP)
            return false;
    return true;
}

static bool has_key(ynode *const *keys, size_t n, const ynode *k)
{
    for (size_t i = 0; i < n; i++)
        if (keys[i]->type == Y_SCALAR && k->type == Y_SCALAR && strcmp(keys[i]->str, k->str) == 0)
            return true;
    return false;
}

/* Pairs of map m that keys[0..*n) lacks, appended (a merge: explicit keys
 * and earlier merged maps win).  The nodes keep their own positions, so
 * errors point where the merged key was written. */
static void merge_from(ynode **keys, ynode **vals, size_t *n, const ynode *m)
{
    for (size_t i = 0; i < m->n; i++)
        if (!has_key(keys, *n, m->keys[i])) {
            keys[*n] = m->keys[i];
            vals[(*n)++] = m->vals[i];
        }
}

static void map_finish(ytree *t, ynode *node, frame *f)
{
    size_t pairs = f->n / 2, total = 0;
    for (size_t i = 0; i < pairs; i++) {
        ynode *k = f->items[2 * i], *v = f->items[2 * i + 1];
        if (!is_merge(k, v))
            total++;
        else if (v->type == Y_MAP)
            total += v->n;
        else
            for (size_t j = 0; j < v->n; j++)
                total += v->vals[j]->n;
    }
    node->keys = arena_alloc(t, total * sizeof(ynode *) + 1);
    node->vals = arena_alloc(t, total * sizeof(ynode *) + 1);
    node->n = 0;
    for (size_t i = 0; i < pairs; i++) /* explicit keys first: they win */
        if (!is_merge(f->items[2 * i], f->items[2 * i + 1])) {
            node->keys[node->n] = f->items[2 * i];
            node->vals[node->n++] = f->items[2 * i + 1];
        }
    for (size_t i = 0; i < pairs; i++) {
        ynode *k = f->items[2 * i], *v = f->items[2 * i + 1];
        if (!is_merge(k, v))
            continue;
        if (v->type == Y_MAP)
            merge_from(node->keys, node->vals, &node->n, v);
        else
            for (size_t j = 0; j < v->n; j++)
                merge_from(node->keys, node->vals, &node->n, v->vals[j]);
    }
}

static void frame_finish(ytree *t, frame *f)
{
    ynode *node = f->node;
    if (node->type == Y_MAP) {
        map_finish(t, node, f);
    } else {
        node->n = f->n;
        node->vals = arena_alloc(t, node->n * sizeof(ynode *) + 1);
        for (size_t i = 0; i < node->n; i++)
            node->vals[i] = f->items[i];
    }
    free(f->items);
}

static void add_anchor(ytree *t, const unsigned char *name, ynode *node)
{
    if (!name)
        return;
    if (t->n_anchors == t->cap_anchors) {
        t->cap_anchors = t->cap_anchors ? t->cap_anchors * 2 : 8;
        t->anchors = xrealloc(t->anchors, t->cap_anchors * sizeof *t->anchors);
    }
    t->anchors[t->n_anchors++] = (anchor){xstrdup((const char *)name), node};
}

static ynode *find_anchor(ytree *t, const unsigned char *name)
{
    for (size_t i = t->n_anchors; i-- > 0;)
        if (strcmp(t->anchors[i].name, (const char *)name) == 0)
            return t->anchors[i].node;
    return NULL;
}

#define YAML_STD "tag:yaml.org,2002:"

/* A tag on a node: the standard ones are honoured (!!str makes a string of
 * a plain scalar, !!null a null; !!int, !!float, !!bool are checked;
 * !!map, !!seq must fit), any other is refused rather than ignored.
 * Returns false (reported) when it does not fit. */
static bool apply_tag(ynode *n, const unsigned char *utag, diag *d)
{
    const char *tag = (const char *)utag;
    if (!tag || strcmp(tag, "!") == 0) /* none, or the non-specific "!" */
        return true;
    const char *name = strncmp(tag, YAML_STD, strlen(YAML_STD)) == 0 ? tag + strlen(YAML_STD)
                                                                      : NULL;
    const char *want = NULL;
    if (name && n->type == Y_MAP && strcmp(name, "map") == 0)
        return true;
    if (name && n->type == Y_SEQ && strcmp(name, "seq") == 0)
        return true;
    if (name && n->type == Y_SCALAR) {
        if (strcmp(name, "str") == 0) {
            n->quoted = true; /* a string, whatever it looks like */
            n->is_null = false;
            return true;
        }
        if (strcmp(name, "null") == 0) {
            if (!*n->str || strcmp(n->str, "~") == 0 || strcasecmp(n->str, "null") == 0) {
                n->is_null = true;
                return true;
            }
            want = "a null";
        } else if (strcmp(name, "bool") == 0) {
            if (strcasecmp(n->str, "true") == 0 || strcasecmp(n->str, "false") == 0)
                return true;
            want = "true or false";
        } else if (strcmp(name, "int") == 0) {
            int64_t iv;
            if (parse_int64(n->str, &iv))
                return true;
            want = "an integer";
        } else if (strcmp(name, "float") == 0) {
            double dv;
            if (parse_double(n->str, &dv))
                return true;
            want = "a number";
        }
    }
    if (want)
        diag_error(d, n->line, n->col, "YAML tag !!%s on '%s', which is not %s", name, n->str,
                   want);
    else
        diag_error(d, n->line, n->col, "YAML tag '%s%s' is not supported here (benchctl knows "
                   "!!str, !!int, !!float, !!bool, !!null, !!map and !!seq)",
                   name ? "!!" : "", name ? name : tag);
    return false;
}

static ynode *new_node(ytree *t, ytype type, const yaml_event_t *ev)
{
    ynode *n = arena_alloc(t, sizeof *n);
    n->type = type;
    n->line = (int)ev->start_mark.line + 1;
    n->col = (int)ev->start_mark.column + 1;
    n->start = ev->start_mark.index;
    n->end = ev->end_mark.index;
    return n;
}

/* libyaml's syntax error at its position; a tab where indentation was
 * expected is named in plain words. */
static void syntax_error(const yaml_parser_t *parser, const char *text, size_t len, diag *d)
{
    const yaml_mark_t *m = parser->problem_mark.line || parser->problem_mark.column
                               ? &parser->problem_mark
                               : &parser->context_mark;
    if (m->index < len && text[m->index] == '\t')
        diag_error(d, (int)m->line + 1, (int)m->column + 1,
                   "invalid YAML: a tab where YAML expects spaces: YAML indents with spaces "
                   "only; replace the tab with spaces");
    else
        diag_error(d, (int)m->line + 1, (int)m->column + 1, "invalid YAML: %s%s%s",
                   parser->problem ? parser->problem : "syntax error",
                   parser->context ? " " : "", parser->context ? parser->context : "");
}

ytree *ytree_parse(const char *text, size_t len, diag *d)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        diag_error(d, 0, 0, "cannot initialise the YAML parser");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);

    ytree *t = xcalloc(1, sizeof *t);
    frame *stack = NULL;
    size_t depth = 0, cap = 0;
    bool done = false, ok = true, seen_doc = false;

    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            syntax_error(&parser, text, len, d);
            ok = false;
            break;
        }
        ynode *value = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (seen_doc) {
                diag_error(d, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
                           "only one YAML document is allowed per config file");
                ok = false;
                done = true;
            }
            seen_doc = true;
            break;
        case YAML_SCALAR_EVENT: {
            value = new_node(t, Y_SCALAR, &ev);
            value->str = arena_strndup(t, (const char *)ev.data.scalar.value,
                                       ev.data.scalar.length);
            value->quoted = ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
            value->is_null = !value->quoted &&
                             (ev.data.scalar.length == 0 || strcmp(value->str, "~") == 0 ||
                              strcmp(value->str, "null") == 0 || strcmp(value->str, "Null") == 0 ||
                              strcmp(value->str, "NULL") == 0);
            if (memchr(ev.data.scalar.value, '\0', ev.data.scalar.length)) {
                diag_error(d, value->line, value->col, "a NUL character (\\0) in a value is "
                           "not allowed");
                ok = false;
                done = true;
            } else if (!apply_tag(value, ev.data.scalar.tag, d)) {
                ok = false;
                done = true;
            }
            add_anchor(t, ev.data.scalar.anchor, value);
            break;
        }
        case YAML_ALIAS_EVENT:
            value = find_anchor(t, ev.data.alias.anchor);
            if (!value) {
                diag_error(d, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
                           "unknown YAML alias *%s", (const char *)ev.data.alias.anchor);
                ok = false;
                done = true;
            }
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
            bool is_map = ev.type == YAML_MAPPING_START_EVENT;
            ynode *n = new_node(t, is_map ? Y_MAP : Y_SEQ, &ev);
            add_anchor(t, is_map ? ev.data.mapping_start.anchor : ev.data.sequence_start.anchor,
                       n);
            if (!apply_tag(n, is_map ? ev.data.mapping_start.tag : ev.data.sequence_start.tag,
                           d)) {
                ok = false;
                done = true;
            }
            if (depth == cap) {
                cap = cap ? cap * 2 : 16;
                stack = xrealloc(stack, cap * sizeof *stack);
            }
            stack[depth++] = (frame){.node = n};
            break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: {
            frame f = stack[--depth];
            f.node->end = ev.end_mark.index;
            frame_finish(t, &f);
            value = f.node;
            break;
        }
        default:
            break;
        }
        if (value) {
            if (depth > 0)
                frame_push_item(&stack[depth - 1], value);
            else
                t->root = value;
        }
        yaml_event_delete(&ev);
    }
    while (depth > 0)
        free(stack[--depth].items);
    free(stack);
    yaml_parser_delete(&parser);
    if (!ok) {
        ytree_free(t);
        return NULL;
    }
    return t;
}

const ynode *ytree_root(const ytree *t) { return t->root; }

void ytree_free(ytree *t)
{
    if (!t)
        return;
    for (chunk *c = t->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    for (size_t i = 0; i < t->n_anchors; i++)
        free(t->anchors[i].name);
    free(t->anchors);
    free(t);
}

const ynode *ynode_key(const ynode *m, const char *key)
{
    if (!m || m->type != Y_MAP)
        return NULL;
    for (size_t i = 0; i < m->n; i++)
        if (m->keys[i]->type == Y_SCALAR && strcmp(m->keys[i]->str, key) == 0)
            return m->keys[i];
    return NULL;
}

const ynode *ynode_get(const ynode *m, const char *key)
{
    if (!m || m->type != Y_MAP)
        return NULL;
    for (size_t i = 0; i < m->n; i++)
        if (m->keys[i]->type == Y_SCALAR && strcmp(m->keys[i]->str, key) == 0)
            return m->vals[i];
    return NULL;
}

const char *ynode_kind(const ynode *n)
{
    if (!n)
        return "nothing";
    switch (n->type) {
    case Y_MAP:
        return "a mapping";
    case Y_SEQ:
        return "a list";
    default:
        return n->is_null ? "empty" : "a scalar";
    }
}
