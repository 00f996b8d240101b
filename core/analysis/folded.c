/* Folded stacks as a tree of frames (folded.h). */
#define _GNU_SOURCE
#include "analysis/folded.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static uint32_t hash_str(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static uint32_t hash_pair(uint32_t parent, uint32_t name)
{
    uint64_t x = (uint64_t)parent << 32 | name; /* a 64-bit finaliser (splitmix64) */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return (uint32_t)x;
}

void folded_init(folded *f)
{
    memset(f, 0, sizeof *f);
}

void folded_free(folded *f)
{
    for (uint32_t i = 0; i < f->nnames; i++)
        free(f->names[i]);
    free(f->names);
    free(f->name_hash);
    free(f->nodes);
    free(f->child_hash);
    free(f->last_text);
    free(f->last_off);
    free(f->last_len);
    free(f->last_node);
    memset(f, 0, sizeof *f);
}

/* The index of name s[0..n), or UINT32_MAX when add is false and it is new
 * (a lookup changes nothing: it is safe on a shared profile). */
static uint32_t intern(folded *f, const char *s, size_t n, bool add)
{
    if (!add && f->name_hash_cap == 0)
        return UINT32_MAX;
    if (add && f->nnames * 2 >= f->name_hash_cap) {
        uint32_t cap = f->name_hash_cap ? f->name_hash_cap * 2 : 1024;
        uint32_t *t = xcalloc(cap, sizeof *t);
        for (uint32_t i = 0; i < f->nnames; i++) {
            uint32_t k = hash_str(f->names[i], strlen(f->names[i])) & (cap - 1);
            while (t[k])
                k = (k + 1) & (cap - 1);
            t[k] = i + 1;
        }
        free(f->name_hash);
        f->name_hash = t;
        f->name_hash_cap = cap;
    }
    uint32_t k = hash_str(s, n) & (f->name_hash_cap - 1);
    while (f->name_hash[k]) {
        const char *c = f->names[f->name_hash[k] - 1];
        if (strncmp(c, s, n) == 0 && c[n] == '\0')
            return f->name_hash[k] - 1;
        k = (k + 1) & (f->name_hash_cap - 1);
    }
    if (!add)
        return UINT32_MAX;
    if (f->nnames == f->names_cap) {
        f->names_cap = f->names_cap ? f->names_cap * 2 : 256;
        f->names = xrealloc(f->names, f->names_cap * sizeof *f->names);
    }
    f->names[f->nnames] = xstrndup(s, n);
    f->name_hash[k] = f->nnames + 1;
    return f->nnames++;
}

static void child_hash_put(fslot *t, uint32_t cap, uint32_t parent, uint32_t name, uint32_t idx)
{
    uint32_t k = hash_pair(parent, name) & (cap - 1);
    while (t[k].idx)
        k = (k + 1) & (cap - 1);
    t[k] = (fslot){parent, name, idx + 1};
}

/* The child of parent named name, or UINT32_MAX when add is false and
 * there is none. */
static uint32_t child_of(folded *f, uint32_t parent, uint32_t name, bool add)
{
    if (!add && f->child_hash_cap == 0)
        return UINT32_MAX;
    if (f->nnodes == 0) {
        f->nodes_cap = 1024;
        f->nodes = xcalloc(f->nodes_cap, sizeof *f->nodes);
        f->nnodes = 1; /* the root */
    }
    /* grown at 70 % full: linear probing stays short, and the table (the
     * largest part of a big profile after the nodes) smaller */
    if (add && (uint64_t)f->nnodes * 10 >= (uint64_t)f->child_hash_cap * 7) {
        uint32_t cap = f->child_hash_cap ? f->child_hash_cap * 2 : 2048;
        fslot *t = xcalloc(cap, sizeof *t);
        for (uint32_t i = 1; i < f->nnodes; i++)
            child_hash_put(t, cap, f->nodes[i].parent, f->nodes[i].name, i);
        free(f->child_hash);
        f->child_hash = t;
        f->child_hash_cap = cap;
    }
    uint32_t k = hash_pair(parent, name) & (f->child_hash_cap - 1);
    while (f->child_hash[k].idx) {
        const fslot *c = &f->child_hash[k];
        if (c->parent == parent && c->name == name)
            return c->idx - 1;
        k = (k + 1) & (f->child_hash_cap - 1);
    }
    if (!add)
        return UINT32_MAX;
    if (f->nnodes == f->nodes_cap) {
        f->nodes_cap *= 2;
        f->nodes = xrealloc(f->nodes, f->nodes_cap * sizeof *f->nodes);
    }
    uint32_t idx = f->nnodes++;
    fnode *p = &f->nodes[parent];
    f->nodes[idx] = (fnode){.name = name, .parent = parent, .next = p->child,
                            .depth = p->depth + 1};
    p->child = idx;
    f->child_hash[k] = (fslot){parent, name, idx + 1};
    if (f->nodes[idx].depth > f->max_depth)
        f->max_depth = f->nodes[idx].depth;
    return idx;
}

/* Remember frames[0..n) and their nodes path[0..n) as the last stack. */
static void remember(folded *f, const char *const *frames, const size_t *lens, size_t n,
                     const uint32_t *path)
{
    size_t text = 0;
    for (size_t i = 0; i < n; i++)
        text += lens[i];
    if (text > f->last_text_cap) {
        f->last_text_cap = text * 2;
        f->last_text = xrealloc(f->last_text, f->last_text_cap);
    }
    if (n > f->last_cap) {
        f->last_cap = n * 2;
        f->last_off = xrealloc(f->last_off, f->last_cap * sizeof *f->last_off);
        f->last_len = xrealloc(f->last_len, f->last_cap * sizeof *f->last_len);
        f->last_node = xrealloc(f->last_node, f->last_cap * sizeof *f->last_node);
    }
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (lens[i])
            memcpy(f->last_text + at, frames[i], lens[i]);
        f->last_off[i] = (uint32_t)at;
        f->last_len[i] = (uint32_t)lens[i];
        f->last_node[i] = path[i];
        at += lens[i];
    }
    f->last_n = n;
}

/* Add count samples of frames[0..n).  eager:
 * add them to every node's total on the path now; otherwise only to the
 * leaf's self (the caller then sums the totals once, sum_totals: a random
 * write per frame saved). */
static void add_path(folded *f, const char *const *frames, const size_t *lens, size_t n,
                     uint64_t count, bool eager)
{
    if (n == 0 || count == 0)
        return;
    /* The path this stack shares with the last one (perf's folded stacks
     * come sorted, so most of it) is already known: no name lookups for
     * it.  The tree only grows, so a remembered node stays valid. */
    uint32_t path_buf[256];
    uint32_t *path = n <= 256 ? path_buf : xmalloc(n * sizeof *path);
    size_t same = 0;
    while (same < n && same < f->last_n && lens[same] == f->last_len[same] &&
           memcmp(frames[same], f->last_text + f->last_off[same], lens[same]) == 0) {
        path[same] = f->last_node[same];
        same++;
    }
    uint32_t at = same ? path[same - 1] : 0;
    for (size_t i = same; i < n; i++) {
        at = child_of(f, at, intern(f, frames[i], lens[i], true), true);
        path[i] = at;
    }
    if (eager) {
        f->nodes[0].total += count;
        for (size_t i = 0; i < n; i++)
            f->nodes[path[i]].total += count;
    }
    f->nodes[at].self += count;
    f->samples += count;
    if (same < n || same != f->last_n)
        remember(f, frames, lens, n, path);
    if (path != path_buf)
        free(path);
}

void folded_add_stack(folded *f, const char *const *frames, const size_t *lens, size_t n,
                      uint64_t count)
{
    add_path(f, frames, lens, n, count, true);
}

/* Every node's total from the selfs: a node's index is larger than its
 * parent's, so one pass from the last node up. */
static void sum_totals(folded *f)
{
    if (f->nnodes == 0)
        return;
    for (uint32_t i = 0; i < f->nnodes; i++)
        f->nodes[i].total = f->nodes[i].self;
    for (uint32_t i = f->nnodes - 1; i > 0; i--)
        f->nodes[f->nodes[i].parent].total += f->nodes[i].total;
}

/* folded_add_line; eager as for add_path. */
static bool add_line(folded *f, const char *line, size_t len, bool eager)
{
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    size_t sp = len;
    while (sp && line[sp - 1] != ' ' && line[sp - 1] != '\t')
        sp--;
    if (sp == 0 || sp == len)
        return len == 0; /* an empty line is no stack, and no error */
    char num[32];
    size_t nl = len - sp;
    if (nl >= sizeof num)
        return false;
    memcpy(num, line + sp, nl);
    num[nl] = '\0';
    char *end;
    errno = 0;
    unsigned long long count = strtoull(num, &end, 10);
    if (errno || *end || num[0] == '-')
        return false;
    size_t slen = sp - 1;
    enum { MAXF = 1024 };
    const char *fr[MAXF];
    size_t fl[MAXF];
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= slen && n < MAXF; i++)
        if (i == slen || line[i] == ';') {
            if (i > start) {
                fr[n] = line + start;
                fl[n++] = i - start;
            }
            start = i + 1;
        }
    add_path(f, fr, fl, n, (uint64_t)count, eager);
    return n > 0;
}

bool folded_add_line(folded *f, const char *line, size_t len)
{
    return add_line(f, line, len, true);
}

bool folded_load(folded *f, const char *path, char **err)
{
    FILE *fp = fopen(path, "re");
    if (!fp) {
        *err = xasprintf("cannot read %s: %s", path, strerror(errno));
        return false;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, fp)) >= 0)
        if (!add_line(f, line, (size_t)n, false))
            f->bad_lines++;
    free(line);
    sum_totals(f);
    bool ok = !ferror(fp);
    fclose(fp);
    if (!ok)
        *err = xasprintf("cannot read %s", path);
    return ok;
}

ffunc *folded_functions(const folded *f, size_t *n)
{
    ffunc *out = xcalloc(f->nnames ? f->nnames : 1, sizeof *out);
    for (uint32_t i = 0; i < f->nnames; i++)
        out[i].name = f->names[i];
    *n = f->nnames;
    if (f->nnodes <= 1)
        return out;
    /* Depth first, counting how often each name is on the current path:
     * a node's total counts once per stack, so not again under an
     * ancestor of the same name (recursion). */
    uint32_t *open = xcalloc(f->nnames ? f->nnames : 1, sizeof *open);
    uint32_t *stack = xmalloc((size_t)(f->max_depth + 2) * sizeof *stack);
    size_t sp = 0;
    uint32_t i = f->nodes[0].child;
    while (i) {
        const fnode *nd = &f->nodes[i];
        out[nd->name].self += nd->self;
        if (open[nd->name]++ == 0)
            out[nd->name].total += nd->total;
        if (nd->child) {
            stack[sp++] = i;
            i = nd->child;
            continue;
        }
        /* a leaf: close it, then every ancestor whose children are done */
        open[nd->name]--;
        while (!f->nodes[i].next && sp > 0) {
            i = stack[--sp];
            open[f->nodes[i].name]--;
        }
        i = f->nodes[i].next;
    }
    free(stack);
    free(open);
    return out;
}

static int by_self(const void *a, const void *b)
{
    const ffunc *x = a, *y = b;
    if (x->self != y->self)
        return x->self < y->self ? 1 : -1;
    return strcmp(x->name, y->name);
}

static int by_total(const void *a, const void *b)
{
    const ffunc *x = a, *y = b;
    if (x->total != y->total)
        return x->total < y->total ? 1 : -1;
    return strcmp(x->name, y->name);
}

static cJSON *top_list(ffunc *fs, size_t nf, size_t n, bool self, uint64_t samples)
{
    qsort(fs, nf, sizeof *fs, self ? by_self : by_total);
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < nf && i < n; i++) {
        uint64_t v = self ? fs[i].self : fs[i].total;
        if (v == 0)
            break;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "function", fs[i].name);
        cJSON_AddNumberToObject(o, "samples", (double)v);
        cJSON_AddNumberToObject(o, "share", samples ? (double)v / (double)samples : 0.0);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

cJSON *folded_top_json(const folded *f, size_t n)
{
    size_t nf;
    ffunc *fs = folded_functions(f, &nf);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "samples", (double)f->samples);
    cJSON_AddItemToObject(o, "top_self", top_list(fs, nf, n, true, f->samples));
    cJSON_AddItemToObject(o, "top_total", top_list(fs, nf, n, false, f->samples));
    free(fs);
    return o;
}

typedef struct dent {
    const char *name;
    double sb, sa, tb, ta;
} dent;

static double absd(double x) { return x < 0 ? -x : x; }

static int by_change(const void *a, const void *b)
{
    const dent *x = a, *y = b;
    double cx = absd(x->sa - x->sb) > absd(x->ta - x->tb) ? absd(x->sa - x->sb)
                                                            : absd(x->ta - x->tb);
    double cy = absd(y->sa - y->sb) > absd(y->ta - y->tb) ? absd(y->sa - y->sb)
                                                            : absd(y->ta - y->tb);
    if (cx != cy)
        return cx < cy ? 1 : -1;
    return strcmp(x->name, y->name);
}

cJSON *folded_diff_json(const folded *before, const folded *after, size_t n)
{
    size_t nb, na;
    ffunc *fb = folded_functions(before, &nb);
    ffunc *fa = folded_functions(after, &na);
    dent *d = xcalloc(nb + na + 1, sizeof *d);
    size_t nd = 0;
    double sb = before->samples ? (double)before->samples : 1.0;
    double sa = after->samples ? (double)after->samples : 1.0;
    for (size_t i = 0; i < na; i++) {
        uint32_t j = intern((folded *)before, fa[i].name, strlen(fa[i].name), false);
        d[nd++] = (dent){fa[i].name, j == UINT32_MAX ? 0 : (double)fb[j].self / sb,
                         (double)fa[i].self / sa, j == UINT32_MAX ? 0 : (double)fb[j].total / sb,
                         (double)fa[i].total / sa};
    }
    for (size_t j = 0; j < nb; j++)
        if (intern((folded *)after, fb[j].name, strlen(fb[j].name), false) == UINT32_MAX)
            d[nd++] = (dent){fb[j].name, (double)fb[j].self / sb, 0, (double)fb[j].total / sb, 0};
    qsort(d, nd, sizeof *d, by_change);
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < nd && (n == 0 || i < n); i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "function", d[i].name);
        cJSON_AddNumberToObject(o, "self_before", d[i].sb);
        cJSON_AddNumberToObject(o, "self_after", d[i].sa);
        cJSON_AddNumberToObject(o, "self_delta", d[i].sa - d[i].sb);
        cJSON_AddNumberToObject(o, "total_before", d[i].tb);
        cJSON_AddNumberToObject(o, "total_after", d[i].ta);
        cJSON_AddNumberToObject(o, "total_delta", d[i].ta - d[i].tb);
        cJSON_AddItemToArray(a, o);
    }
    free(d);
    free(fa);
    free(fb);
    return a;
}

void folded_mark_base(folded *after, const folded *before)
{
    if (after->nnodes == 0)
        return;
    uint32_t *map = xcalloc(after->nnodes, sizeof *map); /* before's node, UINT32_MAX: none */
    map[0] = before->nnodes ? 0 : UINT32_MAX;
    double sb = before->samples ? (double)before->samples : 1.0;
    after->nodes[0].base = before->samples ? 1.0 : 0.0;
    /* a parent's index is always smaller than its children's */
    for (uint32_t i = 1; i < after->nnodes; i++) {
        fnode *nd = &after->nodes[i];
        uint32_t pm = map[nd->parent];
        uint32_t m = UINT32_MAX;
        if (pm != UINT32_MAX) {
            const char *name = after->names[nd->name];
            uint32_t bn = intern((folded *)before, name, strlen(name), false);
            if (bn != UINT32_MAX)
                m = child_of((folded *)before, pm, bn, false);
        }
        map[i] = m;
        nd->base = m == UINT32_MAX ? 0.0 : (double)before->nodes[m].total / sb;
    }
    free(map);
}
