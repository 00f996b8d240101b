/* Fan-out keys of a stage (`nodes:`, `min_nodes:`, `prepare:`) and the
 * `thresholds:` of data_schema columns. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/parse.h"

/* nodes: {hosts: [..], per_host: K}: the stage's hosts become these. */
static void parse_node_map(vctx *v, cfg_stage *st, const ynode *sn, const ynode *nd,
                           const char *sw)
{
    static const cfg_key node_keys[] = {OTHER("hosts"), OTHER("per_host"), END};
    cfg_check_keys(v, nd, node_keys, "nodes");
    const ynode *hs = ynode_get(nd, "hosts"), *ph = ynode_get(nd, "per_host");
    int64_t per = 1;
    if (ph && (ph->type != Y_SCALAR || !parse_int64(ph->str, &per) || per < 1 || per > 10000)) {
        ERR(v, ph, "%s: 'nodes.per_host' must be a whole number from 1 to 10000", sw);
        return;
    }
    if (hs && !hs->is_null) {
        const ynode *h = ynode_get(sn, "hosts"), *h1 = ynode_get(sn, "host");
        if ((h && !h->is_null) || (h1 && !h1->is_null))
            ERR(v, hs, "%s: give the hosts either in 'nodes.hosts' or in 'hosts', not both", sw);
        if (!cfg_expect_type(v, hs, Y_SEQ, "nodes.hosts"))
            return;
        if (hs->n == 0) {
            ERR(v, hs, "%s: 'nodes.hosts' must list at least one host", sw);
            return;
        }
        free(st->hosts);
        st->hosts = xcalloc(hs->n + 1, sizeof *st->hosts);
        st->nhosts = 0;
        for (size_t i = 0; i < hs->n; i++) {
            const ynode *e = hs->vals[i];
            if (!cfg_expect_type(v, e, Y_SCALAR, "nodes.hosts[]"))
                continue;
            if (!config_host(v->c, e->str)) {
                ERR(v, e, "%s: unknown host '%s' in 'nodes.hosts'", sw, e->str);
                continue;
            }
            for (size_t j = 0; j < st->nhosts; j++)
                if (strcmp(st->hosts[j], e->str) == 0)
                    ERR(v, e, "%s: host '%s' is listed twice in 'nodes.hosts'", sw, e->str);
            st->hosts[st->nhosts++] = e->str;
        }
    }
    st->nnodes = per * (int64_t)st->nhosts;
}

void cfg_parse_nodes(vctx *v, cfg_stage *st, const ynode *sn, const char *sw)
{
    const ynode *nd = ynode_get(sn, "nodes");
    const ynode *mk = ynode_key(sn, "min_nodes"), *pk = ynode_key(sn, "prepare");
    if (!nd || nd->is_null) {
        if (mk)
            ERR(v, mk, "%s: 'min_nodes' needs 'nodes' (a fanned-out stage)", sw);
        if (pk && !ynode_get(sn, "repeat"))
            ERR(v, pk, "%s: 'prepare' needs 'nodes' (it runs on each node before the start "
                       "barrier) or 'repeat' (it runs before each repetition, unmeasured)", sw);
        return;
    }
    if (nd->type == Y_SCALAR) {
        int64_t n;
        if (!parse_int64(nd->str, &n) || n < 1 || n > 100000) {
            ERR(v, nd, "%s: 'nodes' must be a number of nodes (1 to 100000) or a mapping "
                       "{hosts: [..], per_host: K}", sw);
            return;
        }
        st->nnodes = n;
    } else if (nd->type == Y_MAP) {
        parse_node_map(v, st, sn, nd, sw);
    } else {
        ERR(v, nd, "%s: 'nodes' must be a number of nodes or a mapping {hosts: [..], "
                   "per_host: K}", sw);
        return;
    }
    const ynode *k = ynode_key(sn, "parallel");
    if (k)
        ERR(v, k, "%s: 'parallel' and 'nodes' cannot be combined (the nodes of a fanned-out "
                  "stage always run at once)", sw);
    k = ynode_key(sn, "background");
    if (k && st->background)
        ERR(v, k, "%s: a background stage cannot fan out over 'nodes'", sw);
    k = ynode_key(sn, "repeat");
    if (k)
        ERR(v, k, "%s: 'repeat' and 'nodes' cannot be combined", sw);
    k = ynode_key(sn, "append_metadata");
    if (k && st->append_metadata)
        ERR(v, k, "%s: 'append_metadata' does not apply to a fanned-out stage (each node may "
                  "write $BENCHCTL_METADATA_FILE instead)", sw);
    if (st->min_nodes > st->nnodes)
        ERR(v, mk, "%s: 'min_nodes: %lld' is more than its %lld nodes", sw,
            (long long)st->min_nodes, (long long)st->nnodes);
}

static const struct {
    const char *name;
    thr_stat stat;
} thr_names[] = {{"max", THR_MAX},       {"min", THR_MIN},   {"mean", THR_MEAN},
                 {"avg", THR_MEAN},      {"median", THR_MEDIAN}, {"rate", THR_RATE},
                 {"success_rate", THR_SUCCESS}};

static const struct {
    const char *text;
    thr_op op;
} thr_ops[] = {{"<=", THR_LE}, {">=", THR_GE}, {"==", THR_EQ}, {"!=", THR_NE},
               {"<", THR_LT},  {">", THR_GT}};

/* "p95 < 200" into *t; false when it does not read as a threshold. */
static bool parse_threshold(const char *text, cfg_threshold *t)
{
    const char *p = text;
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, " <>=!");
    char *stat = xstrndup(p, n);
    bool ok = false;
    for (size_t i = 0; i < sizeof thr_names / sizeof *thr_names; i++)
        if (strcmp(stat, thr_names[i].name) == 0) {
            t->stat = thr_names[i].stat;
            ok = true;
        }
    if (!ok && stat[0] == 'p' && stat[1]) {
        /* p95, p99.9, p999 (= 99.9, as in results.json) */
        ok = parse_double(stat + 1, &t->pct);
        if (ok && strcmp(stat, "p999") == 0)
            t->pct = 99.9;
        ok = ok && t->pct >= 0 && t->pct <= 100;
        t->stat = THR_PCT;
    }
    free(stat);
    if (!ok)
        return false;
    p += n;
    while (*p == ' ')
        p++;
    ok = false;
    for (size_t i = 0; i < sizeof thr_ops / sizeof *thr_ops; i++) {
        size_t l = strlen(thr_ops[i].text);
        if (strncmp(p, thr_ops[i].text, l) == 0) {
            t->op = thr_ops[i].op;
            p += l;
            ok = true;
            break;
        }
    }
    while (*p == ' ')
        p++;
    return ok && parse_double(p, &t->value);
}

void cfg_parse_thresholds(vctx *v, cfg_column *col, const ynode *t)
{
    if (!t || t->is_null)
        return;
    const char *cn = col->name ? col->name : "?";
    if (t->type == Y_SCALAR) {
        ERR(v, t, "column '%s': 'thresholds' is a list, e.g. [\"p95 < 200\", \"mean < 50\"]", cn);
        return;
    }
    if (!cfg_expect_type(v, t, Y_SEQ, "thresholds"))
        return;
    col->thresholds = xcalloc(t->n + 1, sizeof *col->thresholds);
    for (size_t i = 0; i < t->n; i++) {
        const ynode *e = t->vals[i];
        if (!cfg_expect_type(v, e, Y_SCALAR, "thresholds[]"))
            continue;
        cfg_threshold th = {.node = e, .text = e->str};
        if (!parse_threshold(e->str, &th)) {
            ERR(v, e, "column '%s': threshold '%s' does not read as '<statistic> <op> <number>' "
                      "(statistic: max, min, mean, median, pNN, rate, success_rate; op: <, <=, "
                      ">, >=, ==, !=), e.g. \"p95 < 200\"", cn, e->str);
            continue;
        }
        bool num = col->type && (strcmp(col->type, "integer") == 0 ||
                                 strcmp(col->type, "float") == 0);
        bool ts = col->type && strcmp(col->type, "timestamp") == 0;
        if (th.stat == THR_RATE && !ts)
            ERR(v, e, "column '%s': 'rate' (rows per second) applies to timestamp columns", cn);
        else if (th.stat == THR_SUCCESS && !col->nsuccess)
            ERR(v, e, "column '%s': 'success_rate' needs the column's 'success_values'", cn);
        else if (th.stat != THR_RATE && th.stat != THR_SUCCESS && !num)
            ERR(v, e, "column '%s': '%s' needs an integer or float column", cn, e->str);
        col->thresholds[col->nthresholds++] = th;
    }
}
