/* `limits:` of a stage and benchmark.limits (every stage's defaults):
 * cpus (a count or a list), memory, walltime, cputime, pids, private_tmp,
 * nice.  Enforced by the run (run/isolate.c). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/parse.h"
#include "util/cpulist.h"

static const cfg_key limit_keys[] = {
    OTHER("cpus"),
    {.name = "memory", .type = KEY_SIZE, .offset = KEY_AT(cfg_limits, memory), .dflt = -1,
     .lo = 1 << 20, .hi = INT64_MAX / 2},
    {.name = "walltime", .type = KEY_DURATION, .offset = KEY_AT(cfg_limits, walltime_ms),
     .flags = KEY_RANGE, .dflt = -1, .lo = 1, .hi = INT64_MAX / 2},
    {.name = "cputime", .type = KEY_DURATION, .offset = KEY_AT(cfg_limits, cputime_ms),
     .flags = KEY_RANGE, .dflt = -1, .lo = 1000, .hi = INT64_MAX / 2},
    {.name = "pids", .type = KEY_COUNT, .offset = KEY_AT(cfg_limits, pids), .lo = 1,
     .hi = 4194304},
    BOOL("private_tmp", cfg_limits, private_tmp),
    {.name = "nice", .type = KEY_COUNT, .offset = KEY_AT(cfg_limits, nice),
     .dflt = LIMITS_NICE_UNSET, .lo = -20, .hi = 19},
    END};

/* `cpus:` — a count (2), a list as text ("2-3", "0,2") or a YAML list of
 * numbers ([0, 2]). */
static void parse_cpus(vctx *v, const ynode *n, cfg_limits *l, const char *what)
{
    if (!n || n->is_null)
        return;
    cpuset_t set;
    bool ok = false;
    if (n->type == Y_SCALAR) {
        int64_t count;
        if (!strchr(n->str, '-') && !strchr(n->str, ',') && parse_int64(n->str, &count)) {
            if (count < 1 || count > CPUSET_MAX) {
                ERR(v, n, "%s: 'cpus' must be a count from 1 to %d or a list of CPUs such as "
                          "'2-3', not '%s'", what, CPUSET_MAX, n->str);
                return;
            }
            l->cpus = count;
            return;
        }
        ok = cpuset_parse(n->str, &set);
    } else if (n->type == Y_SEQ) {
        strbuf sb = {0};
        ok = n->n > 0;
        for (size_t i = 0; ok && i < n->n; i++) {
            ok = n->vals[i]->type == Y_SCALAR && !n->vals[i]->is_null;
            if (ok)
                sb_printf(&sb, "%s%s", i ? "," : "", n->vals[i]->str);
        }
        char *text = sb_steal(&sb);
        ok = ok && cpuset_parse(text, &set);
        free(text);
    }
    if (!ok || cpuset_count(&set) == 0) {
        ERR(v, n, "%s: 'cpus' must be a count (2) or a list of CPUs such as '2-3' or '0,2' "
                  "(CPU numbers below %d), not '%s'", what, CPUSET_MAX,
            n->type == Y_SCALAR ? n->str : "a mapping");
        return;
    }
    char *norm = cpuset_format(&set);
    sv_push_owned(&v->c->owned_strs, norm);
    l->cpu_list = norm;
    l->cpus = (int64_t)cpuset_count(&set);
}

void cfg_parse_limits(vctx *v, const ynode *n, const cfg_limits *dflt, cfg_limits *out,
                      const char *what)
{
    cfg_limits mine = {.memory = -1, .walltime_ms = -1, .cputime_ms = -1,
                       .nice = LIMITS_NICE_UNSET};
    if (dflt)
        *out = *dflt;
    else
        *out = mine;
    if (!n || n->is_null)
        return;
    char w[240];
    snprintf(w, sizeof w, "%s: limits", what);
    if (!cfg_expect_type(v, n, Y_MAP, w))
        return;
    cfg_check_keys(v, n, limit_keys, w);
    keys_bind(v->d, n, limit_keys, &mine, w);
    parse_cpus(v, ynode_get(n, "cpus"), &mine, w);
    /* What the stage gives replaces the benchmark's default, key by key. */
    out->node = n;
    if (ynode_get(n, "cpus")) {
        out->cpus = mine.cpus;
        out->cpu_list = mine.cpu_list;
    }
    if (ynode_get(n, "memory"))
        out->memory = mine.memory;
    if (ynode_get(n, "walltime"))
        out->walltime_ms = mine.walltime_ms;
    if (ynode_get(n, "cputime"))
        out->cputime_ms = mine.cputime_ms;
    if (ynode_get(n, "pids"))
        out->pids = mine.pids;
    if (ynode_get(n, "private_tmp"))
        out->private_tmp = mine.private_tmp;
    if (ynode_get(n, "nice"))
        out->nice = mine.nice;
}

void cfg_limits_settle(cfg_limits *l)
{
    l->any = l->cpus > 0 || l->memory > 0 || l->walltime_ms > 0 || l->cputime_ms > 0 ||
             l->pids > 0 || l->private_tmp || l->nice != LIMITS_NICE_UNSET;
}
