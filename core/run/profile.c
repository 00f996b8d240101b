/*
 * Profiling mode (a stage's `profile:`): its measured runs go under the
 * profiler plugin it names, on whatever host runs them.  The profiler
 * wraps the stage's command (its whole process tree) and folds the raw
 * profile on the host; the core keeps both under profiles/ (fetched
 * through the transport), sums the repetitions, and writes the top
 * functions into the stage's record and a flame graph beside them.
 *
 * Other wrappers (a fan-out node's barrier, resource limits) go around
 * the profiled command: profile_begin runs first, right after the command
 * is prepared, so the profile covers the stage's own command only.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/folded.h"
#include "report/flame.h"
#include "util/log.h"
#include "run/run.h"

#define PROF_TOP 20 /* functions in each of the record's top lists */
#define PROF_CMD_MAX (1u << 20)

typedef struct prof_run {
    char *data_rel, *folded_rel; /* in the run directory */
    char *data_host, *folded_host; /* on the host */
} prof_run;

typedef struct prof_job {
    run *r;
    stage_rec *rec;
    hostconn *h;
    const plugin *p;
    optview opts;
    strvec shell;
    char *plain;             /* the stage's own command (warm-ups) */
    prof_run *runs;          /* one per profiled run so far */
    size_t nruns;
    int64_t warmup;
    bool repeated;
    bool shared;             /* the host writes the run directory itself */
} prof_job;

static void prof_ctx(prof_job *pj, core_ctx *ctx)
{
    run_ctx_init(ctx, pj->p, &pj->opts, pj->r);
    ctx->host = pj->h;
    ctx->stage = pj->rec->st->name;
    ctx->case_name = pj->rec->cs ? pj->rec->cs->name : NULL;
    ctx_find_instance(ctx, pj->rec->st->profile);
}

static cJSON *prof_error_json(const prof_job *pj, const char *why)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "profiler", pj->p->desc.name);
    cJSON_AddStringToObject(o, "error", why);
    return o;
}

/* Can pj's host be profiled?  Asked once per host and profiler in a run;
 * the first "no" is said once, every record says it. */
static bool host_ok(prof_job *pj, char **why)
{
    hostconn *h = pj->h;
    pthread_mutex_lock(&h->lock);
    int state = h->prof_plugin == pj->p ? h->prof_state : 0;
    pthread_mutex_unlock(&h->lock);
    if (state == 1)
        return true;
    core_ctx ctx;
    prof_ctx(pj, &ctx);
    char *err = NULL;
    int rc = run_plugin_init((plugin *)pj->p, pj->r, &err);
    if (rc == BC_OK)
        rc = ctx_instance(&ctx, pj->rec->st->profile, &err);
    if (rc == BC_OK)
        rc = pj->p->ops.profiler.check(&ctx.pub);
    if (rc == BC_OK) {
        pthread_mutex_lock(&h->lock);
        h->prof_plugin = pj->p;
        h->prof_state = 1;
        pthread_mutex_unlock(&h->lock);
        return true;
    }
    *why = err ? err : xstrdup(ctx.error[0] ? ctx.error : "the profiler's check failed");
    pthread_mutex_lock(&h->lock);
    bool first = !(h->prof_plugin == pj->p && h->prof_state == 2);
    h->prof_plugin = pj->p;
    h->prof_state = 2;
    pthread_mutex_unlock(&h->lock);
    if (first)
        log_msg(BC_LOG_WARN, "host '%s': stages there run without a profile (profiler '%s'): %s",
                h->cfg->alias, pj->p->desc.name, *why);
    return false;
}

/* The command of the next profiled run into ex (false: wrap refused). */
static bool next_run(prof_job *pj, stage_exec *ex)
{
    const cfg_stage *st = pj->rec->st;
    int rep = pj->repeated ? (int)pj->nruns + 1 : 0;
    prof_run pr = {.data_rel = layout_profile(st, &pj->rec->where, pj->rec->cs, rep, ".perf.data"),
                   .folded_rel = layout_profile(st, &pj->rec->where, pj->rec->cs, rep,
                                                ".folded")};
    char *data_local = path_join(pj->r->dir, pr.data_rel);
    char *dir = dir_name(data_local);
    mkdir_p(dir, 0755);
    free(dir);
    if (pj->shared) {
        pr.data_host = data_local;
        pr.folded_host = path_join(pj->r->dir, pr.folded_rel);
    } else {
        free(data_local);
        const char *tmp = hostconn_tmpdir(pj->h);
        pthread_mutex_lock(&pj->h->lock);
        unsigned seq = ++pj->h->meta_seq;
        pthread_mutex_unlock(&pj->h->lock);
        pr.data_host = xasprintf("%s/profile-%u.perf.data", tmp ? tmp : "/tmp", seq);
        pr.folded_host = xasprintf("%s/profile-%u.folded", tmp ? tmp : "/tmp", seq);
    }
    bc_profile_request req = {.size = sizeof req,
                              .shell = (const char *const *)pj->shell.v,
                              .command = pj->plain,
                              .data_path = pr.data_host,
                              .folded_path = pr.folded_host};
    size_t cap = strlen(pj->plain) * 2 + 65536;
    if (cap > PROF_CMD_MAX)
        cap = PROF_CMD_MAX;
    char *buf = xmalloc(cap);
    core_ctx ctx;
    prof_ctx(pj, &ctx);
    if (pj->p->ops.profiler.wrap(&ctx.pub, &req, buf, cap) != BC_OK) {
        log_msg(BC_LOG_WARN, "stage '%s' on host '%s': runs without a profile: %s", st->name,
                pj->h->cfg->alias, ctx.error[0] ? ctx.error : "the profiler refused the command");
        free(buf);
        free(pr.data_rel);
        free(pr.folded_rel);
        free(pr.data_host);
        free(pr.folded_host);
        return false;
    }
    pj->runs = xrealloc(pj->runs, (pj->nruns + 1) * sizeof *pj->runs);
    pj->runs[pj->nruns++] = pr;
    free(ex->cmd);
    ex->cmd = buf;
    ex->req.command = ex->cmd;
    return true;
}

static void prof_free(prof_job *pj)
{
    for (size_t i = 0; i < pj->nruns; i++) {
        free(pj->runs[i].data_rel);
        free(pj->runs[i].folded_rel);
        free(pj->runs[i].data_host);
        free(pj->runs[i].folded_host);
    }
    free(pj->runs);
    free(pj->plain);
    sv_free(&pj->shell);
    opts_free(&pj->opts);
    free(pj);
}

prof_job *profile_begin(run *r, stage_rec *rec, hostconn *h, stage_exec *ex)
{
    const cfg_stage *st = rec->st;
    if (!st->profile || !st->profile->plugin)
        return NULL;
    prof_job *pj = xcalloc(1, sizeof *pj);
    *pj = (prof_job){.r = r, .rec = rec, .h = h, .p = st->profile->plugin,
                     .warmup = st->warmup, .repeated = st->repeat_set,
                     .shared = hostconn_caps(h) & BC_HOST_CAP_SHARED_FS};
    pj->opts = (optview){pj->p->desc.options, st->profile->node, NULL, 0};
    for (size_t i = 0; ex->req.shell && ex->req.shell[i]; i++)
        sv_push(&pj->shell, ex->req.shell[i]);
    pj->plain = xstrdup(ex->cmd);
    char *why = NULL;
    if (!host_ok(pj, &why)) {
        rec->profile = prof_error_json(pj, why);
        free(why);
        prof_free(pj);
        return NULL;
    }
    if (pj->warmup > 0)
        return pj; /* the first run is a warm-up: profile_select wraps later */
    if (!next_run(pj, ex)) {
        rec->profile = prof_error_json(pj, "the profiler refused the command");
        prof_free(pj);
        return NULL;
    }
    return pj;
}

void profile_select(prof_job *pj, stage_exec *ex, int64_t i)
{
    if (!pj || !pj->repeated)
        return;
    if (i < pj->warmup) {
        free(ex->cmd);
        ex->cmd = xstrdup(pj->plain);
        ex->req.command = ex->cmd;
        return;
    }
    if ((size_t)(i - pj->warmup) < pj->nruns)
        return; /* this run's command is ready (the first, from profile_begin) */
    if (!next_run(pj, ex)) {
        free(ex->cmd);
        ex->cmd = xstrdup(pj->plain);
        ex->req.command = ex->cmd;
    }
}

/* Bring one profiled run's files into the run directory: fold on the
 * host, then fetch (and remove there) unless the host wrote here. */
static bool fetch_run(prof_job *pj, const prof_run *pr, char **why)
{
    core_ctx ctx;
    prof_ctx(pj, &ctx);
    bc_profile_request req = {.size = sizeof req,
                              .shell = (const char *const *)pj->shell.v,
                              .command = pj->plain,
                              .data_path = pr->data_host,
                              .folded_path = pr->folded_host};
    bool ok_fold = pj->p->ops.profiler.fold(&ctx.pub, &req) == BC_OK;
    if (!ok_fold)
        *why = xstrdup(ctx.error[0] ? ctx.error : "the stacks could not be folded");
    if (pj->shared)
        return ok_fold;
    core_ctx hc;
    hostconn_ctx(pj->h, &hc);
    const char *rels[2] = {pr->data_rel, pr->folded_rel};
    const char *hosts[2] = {pr->data_host, pr->folded_host};
    strbuf rm = {0};
    sb_puts(&rm, "rm -f");
    for (int k = 0; k < 2; k++) {
        char *q = shell_quote(hosts[k]);
        sb_printf(&rm, " %s", q);
        free(q);
        if (k == 1 && !ok_fold)
            continue;
        char *local = path_join(pj->r->dir, rels[k]);
        if (!pj->h->p->ops.host.get_file ||
            pj->h->p->ops.host.get_file(&hc.pub, pj->h->conn, hosts[k], local) != BC_OK) {
            if (!*why)
                *why = xasprintf("cannot fetch %s from host '%s': %s", hosts[k],
                                 pj->h->cfg->alias, hc.error[0] ? hc.error : "no get_file");
            ok_fold = false;
        }
        free(local);
    }
    int status;
    hostconn_exec_capture(pj->h, &hc, rm.buf, HELPER_LIMIT_MS, &status, NULL, 0);
    sb_free(&rm);
    return ok_fold;
}

/* Title of a flame graph: stage, case, target. */
static char *graph_title(const stage_rec *rec, const char *what)
{
    const cfg_stage *st = rec->st;
    char where[160] = "";
    if (rec->where.node >= 0)
        snprintf(where, sizeof where, " node %d on %s", rec->where.node, rec->where.host);
    else if (rec->where.host && strcmp(rec->where.host, "*") != 0)
        snprintf(where, sizeof where, " on %s", rec->where.host);
    return xasprintf("%s: stage %s%s%s%s%s", what, st->name, where, rec->cs ? " [case " : "",
                     rec->cs ? rec->cs->name : "", rec->cs ? "]" : "");
}

/* The record's "profile" from the merged stacks f: paths, samples, top. */
static cJSON *summary_json(const char *profiler, const folded *f, const char *folded_rel,
                           const char *svg_rel)
{
    cJSON *o = folded_top_json(f, PROF_TOP);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "profiler", profiler);
    cJSON_AddStringToObject(p, "folded", folded_rel);
    if (svg_rel)
        cJSON_AddStringToObject(p, "flamegraph", svg_rel);
    cJSON *child = o->child;
    o->child = NULL;
    cJSON_Delete(o);
    while (child) {
        cJSON *next = child->next;
        child->prev = child->next = NULL;
        cJSON_AddItemToObject(p, child->string, cJSON_Duplicate(child, true));
        cJSON_Delete(child);
        child = next;
    }
    return p;
}

/* Concatenate the files rels into out_rel (folded stacks add up); false
 * when it cannot be written. */
static bool concat_files(const char *dir, char *const *rels, size_t n, const char *out_rel)
{
    char *out = path_join(dir, out_rel);
    char *tmp = xasprintf("%s.tmp", out);
    FILE *w = fopen(tmp, "we");
    bool ok = w != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        char *in = path_join(dir, rels[i]);
        FILE *rf = fopen(in, "re");
        free(in);
        if (!rf)
            continue;
        char buf[65536];
        size_t k;
        while ((k = fread(buf, 1, sizeof buf, rf)) > 0)
            ok = ok && fwrite(buf, 1, k, w) == k;
        fclose(rf);
    }
    if (w && fclose(w) != 0)
        ok = false;
    ok = ok && rename(tmp, out) == 0;
    if (!ok)
        unlink(tmp);
    free(tmp);
    free(out);
    return ok;
}

/* Load the folded files rels, write their sum's flame graph and return
 * the summary for a record (NULL with *why when nothing could be read). */
static cJSON *summarise(run *r, const char *profiler, const stage_rec *rec, char *const *rels,
                        size_t n, const char *folded_rel, char **why)
{
    folded f;
    folded_init(&f);
    size_t loaded = 0;
    for (size_t i = 0; i < n; i++) {
        char *path = path_join(r->dir, rels[i]);
        char *err = NULL;
        if (folded_load(&f, path, &err))
            loaded++;
        free(err);
        free(path);
    }
    cJSON *p = NULL;
    if (loaded == 0) {
        *why = xstrdup("no folded stacks to read");
    } else {
        char *svg_rel = xstrdup(folded_rel);
        size_t l = strlen(svg_rel);
        if (l > 7 && strcmp(svg_rel + l - 7, ".folded") == 0)
            memcpy(svg_rel + l - 7, ".svg", 5);
        char *svg = path_join(r->dir, svg_rel);
        char *title = graph_title(rec, "Flame graph");
        char *err = NULL;
        bool drawn = flame_write(svg, &f, title, false, &err);
        if (!drawn) {
            log_msg(BC_LOG_WARN, "stage '%s': %s", rec->st->name, err);
            free(err);
        }
        p = summary_json(profiler, &f, folded_rel, drawn ? svg_rel : NULL);
        free(title);
        free(svg);
        free(svg_rel);
    }
    folded_free(&f);
    return p;
}

void profile_end(prof_job *pj, bool started)
{
    if (!pj)
        return;
    stage_rec *rec = pj->rec;
    const cfg_stage *st = rec->st;
    size_t nrun = started ? pj->nruns : 0;
    char **folded_rels = xcalloc(nrun + 1, sizeof *folded_rels);
    size_t nf = 0;
    cJSON *data = cJSON_CreateArray();
    char *why = NULL;
    for (size_t i = 0; i < nrun; i++) {
        const prof_run *pr = &pj->runs[i];
        char *err = NULL;
        bool ok = fetch_run(pj, pr, &err);
        struct stat sb;
        char *local = path_join(pj->r->dir, pr->data_rel);
        if (stat(local, &sb) == 0)
            cJSON_AddItemToArray(data, cJSON_CreateString(pr->data_rel));
        free(local);
        if (ok)
            folded_rels[nf++] = pr->folded_rel;
        else if (!why)
            why = err, err = NULL;
        free(err);
    }
    char *merged = layout_profile(st, &rec->where, rec->cs, 0, ".folded");
    if (nf > 0 && pj->repeated && !concat_files(pj->r->dir, folded_rels, nf, merged))
        log_msg(BC_LOG_WARN, "stage '%s': cannot write %s", st->name, merged);
    cJSON *p = NULL;
    if (nf > 0) {
        /* the merged file when there are repetitions, else the run's own */
        char *one[1] = {merged};
        p = summarise(pj->r, pj->p->desc.name, rec, pj->repeated ? one : folded_rels,
                      pj->repeated ? 1 : nf, merged, &why);
    }
    if (!p) {
        p = prof_error_json(pj, why ? why : started ? "no profiled run" : "the command did not start");
        if (started && why)
            log_msg(BC_LOG_WARN, "stage '%s' on host '%s': no profile: %s", st->name,
                    pj->h->cfg->alias, why);
    }
    cJSON_AddNumberToObject(p, "runs", (double)nrun);
    cJSON_AddItemToObject(p, "data", data);
    cJSON_Delete(rec->profile);
    rec->profile = p;
    free(why);
    free(merged);
    free(folded_rels);
    prof_free(pj);
}

void profile_merge_nodes(run *r, stage_rec *all, stage_rec *const *nodes, size_t n)
{
    const cfg_stage *st = all->st;
    if (!st->profile || !st->profile->plugin)
        return;
    char **rels = xcalloc(n + 1, sizeof *rels);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const cJSON *fr = nodes[i]->profile ? cJSON_GetObjectItem(nodes[i]->profile, "folded")
                                            : NULL;
        if (cJSON_IsString(fr))
            rels[k++] = fr->valuestring;
    }
    if (k > 0) {
        char *merged = layout_profile(st, &all->where, all->cs, 0, ".folded");
        char *why = NULL;
        if (concat_files(r->dir, rels, k, merged)) {
            char *one[1] = {merged};
            all->profile = summarise(r, st->profile->plugin->desc.name, all, one, 1, merged, &why);
            if (all->profile)
                cJSON_AddNumberToObject(all->profile, "nodes", (double)k);
        }
        free(why);
        free(merged);
    }
    free(rels);
}
