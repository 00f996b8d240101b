/*
 * A stored run's metadata.json as Conbench benchmark results (conbench.h).
 *
 * One result per case x metric: a repeated stage's per-repetition wall
 * times; each numeric output column's chosen statistics (one result per
 * statistic); an output's rows per second; an `error` result for a stage
 * that failed.  Units are converted to the five Conbench accepts.
 */
#define _GNU_SOURCE
#include "conbench.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <benchctl/helpers.h>

static const char *const known_stats[] = {"mean", "median", "min", "max", "stddev", "mad",
                                          "p90", "p95", "p99", "p999", NULL};

int cb_stat_known(const char *name)
{
    for (size_t i = 0; known_stats[i]; i++)
        if (strcmp(known_stats[i], name) == 0)
            return 1;
    return 0;
}

/* ---- units ---------------------------------------------------------------- */

static const struct {
    const char *from, *to;
    double factor;
} units[] = {
    {"s", "s", 1},         {"sec", "s", 1},        {"second", "s", 1},     {"seconds", "s", 1},
    {"ms", "s", 1e-3},     {"us", "s", 1e-6},      {"\xc2\xb5s", "s", 1e-6}, {"ns", "ns", 1},
    {"B", "B", 1},         {"byte", "B", 1},       {"bytes", "B", 1},      {"KiB", "B", 1024},
    {"MiB", "B", 1048576}, {"GiB", "B", 1073741824.0}, {"kB", "B", 1e3},   {"KB", "B", 1e3},
    {"MB", "B", 1e6},      {"GB", "B", 1e9},       {"B/s", "B/s", 1},      {"b/s", "B/s", 1},
    {"bytes/s", "B/s", 1}, {"KiB/s", "B/s", 1024}, {"MiB/s", "B/s", 1048576}, {"kB/s", "B/s", 1e3},
    {"MB/s", "B/s", 1e6},  {"GB/s", "B/s", 1e9},   {"i/s", "i/s", 1},      {"/s", "i/s", 1},
    {"1/s", "i/s", 1},     {"ops/s", "i/s", 1},    {"op/s", "i/s", 1},     {"rows/s", "i/s", 1},
    {"req/s", "i/s", 1},   {"requests/s", "i/s", 1}, {"items/s", "i/s", 1}, {"Hz", "i/s", 1},
};

/* The Conbench unit for unit and the factor to it; NULL when none. */
static const char *convert_unit(const char *unit, double *factor)
{
    for (size_t i = 0; unit && i < sizeof units / sizeof units[0]; i++)
        if (strcmp(units[i].from, unit) == 0) {
            *factor = units[i].factor;
            return units[i].to;
        }
    return NULL;
}

/* ---- small JSON readers ------------------------------------------------------ */

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A name member, "?" when absent (never NULL). */
static const char *jname(const cJSON *o, const char *key)
{
    const char *s = jstr(o, key);
    return s ? s : "?";
}

static double jnum(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static void add_str_or(cJSON *o, const char *key, const char *v, const char *dflt)
{
    cJSON_AddStringToObject(o, key, v && *v ? v : dflt);
}

/* FNV-1a, 64 bits: a stable digest for run IDs. */
static uint64_t fnv1a(const char *s, uint64_t h)
{
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

/* ---- the parts every result shares ------------------------------------------- */

/* machine_info: all 16 fields Conbench requires, from the host facts of
 * the stage's host (metadata hosts.<alias>.facts) or the controller's. */
static cJSON *machine_info(const cb_conf *conf, const cJSON *facts)
{
    cJSON *m = cJSON_CreateObject();
    add_str_or(m, "name", conf->machine_name ? conf->machine_name : jstr(facts, "hostname"),
               "unknown");
    add_str_or(m, "architecture_name", jstr(facts, "arch"), "unknown");
    add_str_or(m, "kernel_name", jstr(facts, "kernel"), "unknown");
    add_str_or(m, "os_name", jstr(facts, "os"), "unknown");
    add_str_or(m, "os_version", jstr(facts, "kernel"), "unknown");
    add_str_or(m, "cpu_model_name", jstr(facts, "cpu_model"), "unknown");
    static const char *const ints[][2] = {
        {"cpu_l1d_cache_bytes", "cpu_l1d_cache_bytes"}, {"cpu_l1i_cache_bytes", "cpu_l1i_cache_bytes"},
        {"cpu_l2_cache_bytes", "cpu_l2_cache_bytes"},   {"cpu_l3_cache_bytes", "cpu_l3_cache_bytes"},
        {"cpu_core_count", "cpu_core_count"},           {"cpu_thread_count", "cpu_thread_count"},
        {"cpu_frequency_max_hz", "cpu_frequency_max_hz"}, {"memory_bytes", "memory_bytes"},
        {"gpu_count", "gpu_count"}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        double v = jnum(facts, ints[i][1], -1);
        /* facts of an older benchctl: the online CPUs are the threads */
        if (v < 0 && strncmp(ints[i][0], "cpu_", 4) == 0 && strstr(ints[i][0], "_count"))
            v = jnum(facts, "cores", 0);
        cJSON_AddNumberToObject(m, ints[i][0], v < 0 ? 0 : v);
    }
    cJSON_AddArrayToObject(m, "gpu_product_names");
    return m;
}

/* github: repository (required by Conbench), commit, and a PR number or a
 * branch ("org:branch"). */
/* https://github.com/ORG/REPO from a clone URL of a GitHub repository
 * ("git@github.com:ORG/REPO.git", "https://github.com/ORG/REPO.git",
 * "ssh://git@github.com/ORG/REPO"), written to buf; NULL for any other. */
static const char *github_url(const char *remote, char *buf, size_t bn)
{
    if (!remote)
        return NULL;
    const char *p = strstr(remote, "github.com");
    if (!p || (p[10] != ':' && p[10] != '/'))
        return NULL;
    p += 11;
    size_t n = strlen(p);
    if (n > 4 && strcmp(p + n - 4, ".git") == 0)
        n -= 4;
    while (n > 0 && p[n - 1] == '/')
        n--;
    const char *slash = memchr(p, '/', n);
    if (!slash || slash == p || slash + 1 == p + n || memchr(slash + 1, '/', (size_t)(p + n - slash - 1)))
        return NULL; /* not ORG/REPO */
    int w = snprintf(buf, bn, "https://github.com/%.*s", (int)n, p);
    return w > 0 && (size_t)w < bn ? buf : NULL;
}

static cJSON *github(const cb_conf *conf, const cJSON *meta, char *err, size_t en)
{
    const cJSON *git = cJSON_GetObjectItemCaseSensitive(meta, "git");
    const char *repo = conf->repository;
    char derived[512];
    if (!repo || !*repo) /* else the run's own git remote, when it is on GitHub */
        repo = github_url(jstr(git, "remote_url"), derived, sizeof derived);
    if (!repo || !*repo) {
        snprintf(err, en, "Conbench needs the project's GitHub repository: set "
                          "CONBENCH_PROJECT_REPOSITORY (or publish.repository) to "
                          "https://github.com/ORG/REPO (the run's git remote is not on GitHub)");
        return NULL;
    }
    cJSON *g = cJSON_CreateObject();
    cJSON_AddStringToObject(g, "repository", repo);
    const char *commit = conf->commit && *conf->commit ? conf->commit : jstr(git, "commit");
    if (commit)
        cJSON_AddStringToObject(g, "commit", commit);
    if (conf->pr_number && *conf->pr_number) {
        char *end;
        long long pr = strtoll(conf->pr_number, &end, 10);
        if (*end || pr <= 0) {
            cJSON_Delete(g);
            snprintf(err, en, "CONBENCH_PROJECT_PR_NUMBER '%s' is not a pull request number",
                     conf->pr_number);
            return NULL;
        }
        cJSON_AddNumberToObject(g, "pr_number", (double)pr);
        return g;
    }
    const char *branch = conf->branch && *conf->branch ? conf->branch : jstr(git, "branch");
    if (branch && strchr(branch, ':')) {
        cJSON_AddStringToObject(g, "branch", branch);
    } else if (branch) { /* Conbench wants "org:branch": the org of the repository */
        const char *p = strstr(repo, "github.com");
        p = p ? p + strlen("github.com") + 1 : NULL;
        const char *slash = p ? strchr(p, '/') : NULL;
        if (slash) {
            char *b = NULL;
            if (asprintf(&b, "%.*s:%s", (int)(slash - p), p, branch) > 0) {
                cJSON_AddStringToObject(g, "branch", b);
                free(b);
            }
        }
    }
    return g;
}

typedef struct shared {
    const cb_conf *conf;
    const cJSON *meta;
    const char *bench;
    const char *run_id;
    cJSON *github;
    cJSON *not_sent;
} shared;

static const cJSON *case_of(const cJSON *meta, const char *name)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(meta, "cases")) {
        const char *n = jstr(c, "name");
        if (n && name && strcmp(n, name) == 0)
            return c;
    }
    return NULL;
}

/* The keys benchctl puts in tags; a case parameter with one of these
 * names is tagged param_<name>. */
static int reserved_tag(const char *k)
{
    static const char *const r[] = {"name", "benchmark", "stage", "case", "metric", "output",
                                    "column", "statistic", "host", "node", NULL};
    for (size_t i = 0; r[i]; i++)
        if (strcmp(r[i], k) == 0)
            return 1;
    return 0;
}

/* A result with everything but stats/error; tags name the metric. */
static cJSON *result_base(const shared *sh, const cJSON *stage, const char *name,
                          const char *metric)
{
    cJSON *r = cJSON_CreateObject();
    const char *cs = jstr(stage, "case");
    cJSON_AddStringToObject(r, "run_id", sh->run_id);
    char batch[256];
    snprintf(batch, sizeof batch, "%s-%s", sh->run_id, cs ? cs : "run");
    cJSON_AddStringToObject(r, "batch_id", batch);
    const char *ts = jstr(stage, "start_time");
    cJSON_AddStringToObject(r, "timestamp", ts ? ts : jstr(sh->meta, "start_time"));
    cJSON_AddStringToObject(r, "run_reason", sh->conf->run_reason);
    cJSON *tags = cJSON_AddObjectToObject(r, "tags");
    cJSON_AddStringToObject(tags, "name", name);
    cJSON_AddStringToObject(tags, "benchmark", sh->bench);
    cJSON_AddStringToObject(tags, "stage", jname(stage, "name"));
    cJSON_AddStringToObject(tags, "metric", metric);
    if (cs)
        cJSON_AddStringToObject(tags, "case", cs);
    /* A fanned-out stage's node: its results are not the merged ones (the
     * record without "node") nor another node's. */
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(stage, "node");
    if (cJSON_IsNumber(node)) {
        char nb[32];
        snprintf(nb, sizeof nb, "%d", node->valueint);
        cJSON_AddStringToObject(tags, "node", nb);
    }
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(case_of(sh->meta, cs), "parameters")) {
        char key[160];
        snprintf(key, sizeof key, "%s%s", reserved_tag(p->string) ? "param_" : "", p->string);
        if (cJSON_IsString(p))
            cJSON_AddStringToObject(tags, key, p->valuestring);
        else if (cJSON_IsNumber(p) || cJSON_IsBool(p)) {
            char *t = cJSON_PrintUnformatted(p);
            if (t)
                cJSON_AddStringToObject(tags, key, t);
            free(t);
        }
    }
    const char *host = jstr(stage, "host");
    cJSON *ctx = cJSON_AddObjectToObject(r, "context");
    cJSON_AddStringToObject(ctx, "benchmark_language", "benchctl");
    cJSON_AddStringToObject(ctx, "benchmark", sh->bench);
    if (host)
        cJSON_AddStringToObject(ctx, "host", host);
    cJSON *info = cJSON_AddObjectToObject(r, "info");
    const cJSON *bc = cJSON_GetObjectItemCaseSensitive(sh->meta, "benchctl");
    add_str_or(info, "benchctl_version", jstr(bc, "version"), "unknown");
    add_str_or(info, "benchctl_run_id", jstr(sh->meta, "run_id"), "unknown");
    add_str_or(info, "run_status", jstr(sh->meta, "status"), "unknown");
    const cJSON *git = cJSON_GetObjectItemCaseSensitive(sh->meta, "git");
    if (cJSON_IsObject(git))
        cJSON_AddBoolToObject(info, "git_dirty",
                              cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(git, "dirty")));
    const cJSON *hosts = cJSON_GetObjectItemCaseSensitive(sh->meta, "hosts");
    const cJSON *h = host ? cJSON_GetObjectItemCaseSensitive(hosts, host) : NULL;
    if (jstr(h, "transport"))
        cJSON_AddStringToObject(info, "transport", jstr(h, "transport"));
    const cJSON *facts = cJSON_GetObjectItemCaseSensitive(h, "facts"); /* a remote host */
    if (!cJSON_IsObject(facts))
        facts = cJSON_GetObjectItemCaseSensitive(sh->meta, "machine");
    cJSON_AddItemToObject(r, "machine_info", machine_info(sh->conf, facts));
    cJSON_AddItemToObject(r, "github", cJSON_Duplicate(sh->github, 1));
    return r;
}

static void add_stats(cJSON *r, const double *v, size_t n, const char *unit)
{
    cJSON *st = cJSON_AddObjectToObject(r, "stats");
    cJSON_AddItemToObject(st, "data", cJSON_CreateDoubleArray(v, (int)n));
    cJSON_AddStringToObject(st, "unit", unit);
    cJSON_AddNumberToObject(st, "iterations", (double)n);
}

/* Say once which metric cannot be sent, and why. */
static void not_sent(const shared *sh, const char *what, const char *why)
{
    char line[512];
    if (snprintf(line, sizeof line, "%s: %s", what, why) < 0) /* a long name is cut */
        return;
    const cJSON *e;
    cJSON_ArrayForEach(e, sh->not_sent) {
        if (cJSON_IsString(e) && strcmp(e->valuestring, line) == 0)
            return;
    }
    cJSON_AddItemToArray(sh->not_sent, cJSON_CreateString(line));
}

/* ---- the results of one stage record ------------------------------------------ */

static void repeated(const shared *sh, const cJSON *stage, cJSON *out)
{
    const cJSON *rep = cJSON_GetObjectItemCaseSensitive(stage, "repeat");
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(rep, "runs");
    int n = cJSON_GetArraySize(runs);
    if (!cJSON_IsObject(rep) || n <= 0)
        return;
    double *v = calloc((size_t)n, sizeof *v);
    if (!v)
        return;
    size_t k = 0;
    const cJSON *run;
    cJSON_ArrayForEach(run, runs) {
        double w = jnum(run, "wall_s", -1);
        if (w >= 0)
            v[k++] = w;
    }
    if (k > 0) {
        char name[512];
        snprintf(name, sizeof name, "%s.%s.wall_time", sh->bench, jname(stage, "name"));
        cJSON *r = result_base(sh, stage, name, "wall_time");
        add_stats(r, v, k, "s");
        cJSON_AddItemToArray(out, r);
    }
    free(v);
}

static void columns(const shared *sh, const cJSON *stage, const cJSON *output, cJSON *out)
{
    const char *oname = jname(output, "name");
    const cJSON *stats = cJSON_GetObjectItemCaseSensitive(output, "statistics");
    const cJSON *col;
    const char *host = jstr(stage, "host");
    bool merged = host && strcmp(host, "*") == 0; /* the nodes' outputs merged */
    cJSON_ArrayForEach(col, cJSON_GetObjectItemCaseSensitive(stats, "columns")) {
        if (merged && (strcmp(col->string, "node") == 0 || strcmp(col->string, "host") == 0))
            continue; /* the columns the merge added: which node, not a measurement */
        const char *unit = jstr(col, "unit");
        double factor = 1;
        const char *cu = convert_unit(unit, &factor);
        char what[512];
        snprintf(what, sizeof what, "%s/%s.%s", jname(stage, "name"), oname, col->string);
        if (!cu) {
            char why[256];
            if (unit)
                snprintf(why, sizeof why, "unit '%s' has no Conbench equivalent (Conbench "
                         "takes s, ns, B, B/s and i/s)", unit);
            else
                snprintf(why, sizeof why, "no unit declared (add unit: to its data_schema "
                         "column; Conbench takes s, ns, B, B/s and i/s)");
            not_sent(sh, what, why);
            continue;
        }
        for (size_t i = 0; i < sh->conf->nstats; i++) {
            const char *stat = sh->conf->stats[i];
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(col, stat);
            if (!cJSON_IsNumber(v)) {
                not_sent(sh, what, "the column has no values (its statistics are null)");
                continue;
            }
            char name[768];
            snprintf(name, sizeof name, "%s.%s.%s.%s.%s", sh->bench, jname(stage, "name"), oname,
                     col->string, stat);
            cJSON *r = result_base(sh, stage, name, col->string);
            cJSON *tags = cJSON_GetObjectItemCaseSensitive(r, "tags");
            cJSON_AddStringToObject(tags, "output", oname);
            cJSON_AddStringToObject(tags, "column", col->string);
            cJSON_AddStringToObject(tags, "statistic", stat);
            double x = v->valuedouble * factor;
            add_stats(r, &x, 1, cu);
            cJSON_AddItemToArray(out, r);
        }
    }
    const cJSON *rate;
    cJSON_ArrayForEach(rate, cJSON_GetObjectItemCaseSensitive(stats, "rates")) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(rate, "rows_per_s");
        if (!cJSON_IsNumber(v))
            continue;
        char name[768];
        snprintf(name, sizeof name, "%s.%s.%s.rows_per_s", sh->bench, jname(stage, "name"), oname);
        cJSON *r = result_base(sh, stage, name, "rows_per_s");
        cJSON *tags = cJSON_GetObjectItemCaseSensitive(r, "tags");
        cJSON_AddStringToObject(tags, "output", oname);
        add_str_or(tags, "column", jstr(rate, "column"), "");
        double x = v->valuedouble;
        add_stats(r, &x, 1, "i/s");
        cJSON_AddItemToArray(out, r);
    }
}

static void failed(const shared *sh, const cJSON *stage, const char *status, cJSON *out)
{
    char name[512];
    snprintf(name, sizeof name, "%s.%s", sh->bench, jname(stage, "name"));
    cJSON *r = result_base(sh, stage, name, "status");
    cJSON *e = cJSON_AddObjectToObject(r, "error");
    cJSON_AddStringToObject(e, "status", status);
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(stage, "exit_status");
    if (cJSON_IsNumber(x))
        cJSON_AddNumberToObject(e, "exit_status", x->valuedouble);
    const char *msg = jstr(stage, "error");
    if (msg)
        cJSON_AddStringToObject(e, "message", msg);
    cJSON_AddItemToArray(out, r);
}

cJSON *cb_build(const cb_conf *conf, const cJSON *meta, const char *store_id, cJSON *not_sent_out,
                char *run_id, size_t n, char *err, size_t en)
{
    const char *bench = jstr(meta, "benchmark_name");
    if (!bench)
        bench = "benchmark";
    /* Derived from the stored run only: the same run always maps to the
     * same Conbench run. */
    uint64_t h = fnv1a(jstr(meta, "start_time"), 1469598103934665603ull);
    h = fnv1a(jstr(meta, "config_path"), h);
    char clean[40];
    size_t k = 0;
    for (const char *p = bench; *p && k < sizeof clean - 1; p++)
        clean[k++] = isalnum((unsigned char)*p) || *p == '-' || *p == '_' ? *p : '-';
    clean[k] = '\0';
    snprintf(run_id, n, "benchctl-%s-%s-%016llx", clean, store_id, (unsigned long long)h);

    shared sh = {conf, meta, bench, run_id, NULL, not_sent_out};
    sh.github = github(conf, meta, err, en);
    if (!sh.github)
        return NULL;
    cJSON *out = cJSON_CreateArray();
    const cJSON *stage;
    cJSON_ArrayForEach(stage, cJSON_GetObjectItemCaseSensitive(meta, "stages")) {
        const char *status = jstr(stage, "status");
        if (status && (strcmp(status, "failed") == 0 || strcmp(status, "timeout") == 0 ||
                       strcmp(status, "interrupted") == 0)) {
            failed(&sh, stage, status, out);
            continue;
        }
        if (status && strcmp(status, "success") != 0) /* skipped, not_run: nothing measured */
            continue;
        repeated(&sh, stage, out);
        const cJSON *o;
        cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(stage, "outputs"))
            columns(&sh, stage, o, out);
    }
    cJSON_Delete(sh.github);
    return out;
}
