/* CPU topology and the allocation of CPUs to stages (cputopo.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/cputopo.h"
#include "util/util.h"

bool cputopo_add(cpu_topo *t, const cpuset_t *online, const char *value)
{
    unsigned cpu;
    int core, pkg, used = 0;
    char sib[256];
    if (sscanf(value, "%u %d %d %255s%n", &cpu, &core, &pkg, sib, &used) != 4 ||
        cpu >= CPUSET_MAX)
        return false;
    if (cpuset_count(online) > 0 && !cpuset_has(online, cpu))
        return true;
    if (cpuset_has(&t->online, cpu))
        return true;
    t->cpus = xrealloc(t->cpus, (t->n + 1) * sizeof *t->cpus);
    size_t at = t->n;
    while (at > 0 && t->cpus[at - 1].cpu > cpu) {
        t->cpus[at] = t->cpus[at - 1];
        at--;
    }
    t->cpus[at] = (topo_cpu){.cpu = cpu, .core = core, .pkg = pkg};
    t->n++;
    cpuset_add(&t->online, cpu);
    return true;
}

void cputopo_free(cpu_topo *t)
{
    free(t->cpus);
    memset(t, 0, sizeof *t);
}

/* A physical core: its CPUs (SMT threads) in order of number. */
typedef struct core_grp {
    int pkg, core;
    unsigned cpus[16];
    size_t n;
} core_grp;

/* The cores of t in order of their first CPU (a CPU whose core is unknown
 * is a core of its own). */
static core_grp *cores_of(const cpu_topo *t, size_t *ncores)
{
    core_grp *g = xcalloc(t->n ? t->n : 1, sizeof *g);
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        const topo_cpu *c = &t->cpus[i];
        size_t k = n;
        if (c->core >= 0)
            for (k = 0; k < n; k++)
                if (g[k].core == c->core && g[k].pkg == c->pkg && g[k].n < 16)
                    break;
        if (k == n)
            g[n++] = (core_grp){.pkg = c->pkg, .core = c->core};
        g[k].cpus[g[k].n++] = c->cpu;
    }
    *ncores = n;
    return g;
}

static size_t free_in(const core_grp *g, const unsigned *use)
{
    size_t f = 0;
    for (size_t i = 0; i < g->n; i++)
        f += !use || use[g->cpus[i]] == 0;
    return f;
}

/* Take up to *left CPUs of the cores of package pkg (of any package with
 * any_pkg) into out: whole free cores first, then the free threads of
 * partly used cores. */
static void take(const core_grp *g, size_t ng, int pkg, bool any_pkg, const unsigned *use,
                 size_t *left, cpuset_t *out)
{
    for (int pass = 0; pass < 2 && *left > 0; pass++)
        for (size_t k = 0; k < ng && *left > 0; k++) {
            if (!any_pkg && g[k].pkg != pkg)
                continue;
            size_t f = free_in(&g[k], use);
            if (f == 0 || (pass == 0 && f != g[k].n) || (pass == 1 && f == g[k].n))
                continue;
            for (size_t i = 0; i < g[k].n && *left > 0; i++) {
                unsigned c = g[k].cpus[i];
                if ((!use || use[c] == 0) && !cpuset_has(out, c)) {
                    cpuset_add(out, c);
                    (*left)--;
                }
            }
        }
}

bool cputopo_alloc(const cpu_topo *t, const unsigned *use, size_t n, cpuset_t *out,
                   bool *shared)
{
    memset(out, 0, sizeof *out);
    *shared = false;
    if (n == 0 || n > t->n)
        return false;
    size_t ng;
    core_grp *g = cores_of(t, &ng);
    size_t nfree = 0;
    for (size_t k = 0; k < ng; k++)
        nfree += free_in(&g[k], use);
    if (nfree < n) {
        use = NULL; /* not enough free CPUs: share, but still by whole cores */
        *shared = true;
    }
    /* The first package that holds them all in whole free cores, else the
     * first that holds them at all, else several packages in order. */
    int best = -1;
    for (int pass = 0; pass < 2 && best < 0; pass++)
        for (size_t k = 0; k < ng && best < 0; k++) {
            size_t whole = 0, any = 0;
            for (size_t m = 0; m < ng; m++) {
                if (g[m].pkg != g[k].pkg)
                    continue;
                size_t f = free_in(&g[m], use);
                any += f;
                whole += f == g[m].n ? f : 0;
            }
            if ((pass == 0 ? whole : any) >= n)
                best = (int)k;
        }
    size_t left = n;
    if (best >= 0)
        take(g, ng, g[best].pkg, false, use, &left, out);
    take(g, ng, 0, true, use, &left, out);
    free(g);
    return left == 0;
}
