/*
 * Profiling mode (a stage's `profile:`): its measured runs go under the
 * profiler plugin it names, on whatever host runs them.  The profiler
 * wraps the stage's command (its whole process tree) and folds the raw
 * profile on the host; the core keeps both under profiles/ (fetched
 * through the transport), sums the repetitions, and writes the top
 * functions into the stage's record and a flame graph beside them.
 *
 * The command is wrapped once, before any other wrapper (a fan-out node's
 * start barrier, resource limits) goes around it, and every run of the
 * stage runs that same command: a warm-up's profile is discarded after it,
 * each measured run's is folded and fetched right after it, before the
 * next run writes the next one.  A profiler may also stamp when the
 * command itself started and ended under it (the request's span_path,
 * since ABI 1.7): a repeated stage's runs are then timed by that span, so
 * the profiler's start-up and write-out are not part of the measurement.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/folded.h"
#include "report/flame.h"
#include "util/beneath.h"
#include "util/log.h"
#include "run/run.h"

#define PROF_TOP 20 /* functions in each of the record's top lists */
#define PROF_CMD_MAX (1u << 20)

typedef struct prof_job {
    run *r;
    stage_rec *rec;
    hostconn *h;
    const plugin *p;
    optview opts;
    strvec shell;
    char *plain;             /* the stage's own command */
    char *data_host;         /* where every run writes its raw profile on the host */
    char *folded_host;       /* ... and where its stacks are folded (not shared) */
    char *span_host;         /* ... and where the profiler stamps the command's span */
    strvec data_rels, folded_rels; /* measured runs' files kept, in the run directory */
    size_t nruns;            /* measured runs profiled */
    char *why;               /* the first reason a run's profile was lost */
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

static void prof_free(prof_job *pj)
{
    free(pj->plain);
    free(pj->data_host);
    free(pj->folded_host);
    free(pj->span_host);
    free(pj->why);
    sv_free(&pj->data_rels);
    sv_free(&pj->folded_rels);
    sv_free(&pj->shell);
    opts_free(&pj->opts);
    free(pj);
}

static bc_profile_request prof_request(const prof_job *pj, const char *data, const char *folded_path)
{
    return (bc_profile_request){.size = sizeof(bc_profile_request),
                                .shell = (const char *const *)pj->shell.v,
                                .command = pj->plain,
                                .data_path = data,
                                .folded_path = folded_path,
                                .span_path = pj->span_host};
}

/* Wrap ex->cmd (the stage's command) with the profiler; false when it
 * refused (*why, owned). */
static bool wrap_command(prof_job *pj, stage_exec *ex, char **why)
{
    bc_profile_request req = prof_request(pj, pj->data_host, pj->folded_host);
    size_t cap = strlen(pj->plain) * 2 + 65536;
    if (cap > PROF_CMD_MAX)
        cap = PROF_CMD_MAX;
    char *buf = xmalloc(cap);
    core_ctx ctx;
    prof_ctx(pj, &ctx);
    if (pj->p->ops.profiler.wrap(&ctx.pub, &req, buf, cap) != BC_OK) {
        *why = xstrdup(ctx.error[0] ? ctx.error : "the profiler refused the command");
        free(buf);
        return false;
    }
    free(ex->cmd);
    ex->cmd = buf;
    ex->req.command = ex->cmd;
    return true;
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
    if (!host_ok(pj, &why))
        goto refused;
    if (pj->shared) {
        /* straight into the run directory: <stem>.perf.data, renamed per
         * repetition after it */
        char *ext = xasprintf(".%s.data", pj->p->desc.name); /* .perf.data */
        char *rel = layout_profile(st, &rec->where, rec->cs, 0, ext);
        free(ext);
        pj->data_host = path_join(r->dir, rel);
        free(rel);
        char *dir = dir_name(pj->data_host);
        mkdir_p(dir, 0755);
        free(dir);
        pj->span_host = xasprintf("%s.span", pj->data_host);
    } else {
        const char *tmp = hostconn_tmpdir(h);
        pthread_mutex_lock(&h->lock);
        unsigned seq = ++h->meta_seq;
        pthread_mutex_unlock(&h->lock);
        pj->data_host = xasprintf("%s/profile-%u.%s.data", tmp ? tmp : "/tmp", seq,
                                  pj->p->desc.name);
        pj->folded_host = xasprintf("%s/profile-%u.folded", tmp ? tmp : "/tmp", seq);
        pj->span_host = xasprintf("%s/profile-%u.span", tmp ? tmp : "/tmp", seq);
    }
    if (wrap_command(pj, ex, &why))
        return pj;
    log_msg(BC_LOG_WARN, "stage '%s' on host '%s': runs without a profile: %s", st->name,
            h->cfg->alias, why);
refused:
    rec->profile = prof_error_json(pj, why);
    free(why);
    prof_free(pj);
    return NULL;
}

/* Remove files on the host (not shared). */
static void host_rm(prof_job *pj, const char *a, const char *b)
{
    core_ctx hc;
    hostconn_ctx(pj->h, &hc);
    char *qa = shell_quote(a), *qb = shell_quote(b);
    char *cmd = xasprintf("rm -f %s %s %s.old", qa, qb, qa);
    int status;
    hostconn_exec_capture(pj->h, &hc, cmd, HELPER_LIMIT_MS, &status, NULL, 0);
    free(cmd);
    free(qa);
    free(qb);
}

/* Keep measured run rep's profile (rep 0: the stage's only run): fold it,
 * bring both files into the run directory.  false with *why (owned). */
static bool keep_run(prof_job *pj, int rep, char **why)
{
    const cfg_stage *st = pj->rec->st;
    char *ext = xasprintf(".%s.data", pj->p->desc.name); /* .perf.data */
    char *data_rel = layout_profile(st, &pj->rec->where, pj->rec->cs, rep, ext);
    free(ext);
    char *folded_rel = layout_profile(st, &pj->rec->where, pj->rec->cs, rep, ".folded");
    char *data_local = path_join(pj->r->dir, data_rel);
    char *folded_local = path_join(pj->r->dir, folded_rel);
    char *dir = dir_name(data_local);
    mkdir_p(dir, 0755);
    free(dir);
    core_ctx ctx;
    prof_ctx(pj, &ctx);
    bool data_kept, kept_folded = false;
    if (pj->shared) {
        data_kept = strcmp(data_local, pj->data_host) == 0 || rename(pj->data_host, data_local) == 0;
        /* The folded file is the plugin's to write: through a fresh
         * directory, moved into place (util/beneath.h). */
        beneath_put bp;
        char *perr = NULL;
        if (data_kept && beneath_put_begin(&bp, folded_local, &perr)) {
            bc_profile_request req = prof_request(pj, data_local, bp.path);
            kept_folded = pj->p->ops.profiler.fold(&ctx.pub, &req) == BC_OK;
            if (kept_folded && !beneath_put_commit(&bp, &perr))
                kept_folded = false;
            beneath_put_end(&bp);
        }
        if (perr)
            snprintf(ctx.error, sizeof ctx.error, "%s", perr);
        free(perr);
    } else {
        bc_profile_request req = prof_request(pj, pj->data_host, pj->folded_host);
        bool on_host = pj->p->ops.profiler.fold(&ctx.pub, &req) == BC_OK;
        core_ctx hc;
        hostconn_ctx(pj->h, &hc);
        data_kept = hostconn_fetch(pj->h, &hc, pj->data_host, data_local) == BC_OK;
        kept_folded = on_host && data_kept &&
                      hostconn_fetch(pj->h, &hc, pj->folded_host, folded_local) == BC_OK;
        if (!data_kept && !ctx.error[0])
            snprintf(ctx.error, sizeof ctx.error, "cannot fetch the raw profile from host '%s': "
                     "%.600s", pj->h->cfg->alias, hc.error[0] ? hc.error : "no get_file");
        host_rm(pj, pj->data_host, pj->folded_host);
    }
    if (data_kept)
        sv_push(&pj->data_rels, data_rel);
    if (kept_folded)
        sv_push(&pj->folded_rels, folded_rel);
    else
        *why = xstrdup(ctx.error[0] ? ctx.error : "the raw profile is missing");
    free(data_rel);
    free(folded_rel);
    free(data_local);
    free(folded_local);
    return kept_folded;
}

/* The span file's lines "NAME NANOSECONDS" into *sp; true when it has
 * both start and end (end not before start). */
static bool parse_span(const char *text, prof_span *sp)
{
    *sp = (prof_span){.start_ns = -1, .end_ns = -1, .shell_ns = -1};
    int64_t shell_start = -1;
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        char line[80];
        snprintf(line, sizeof line, "%.*s", (int)(n < 79 ? n : 79), p);
        p += n;
        p += *p == '\n';
        char *blank = strchr(line, ' '), *end = NULL;
        if (!blank)
            continue;
        *blank = '\0';
        long long v = strtoll(blank + 1, &end, 10);
        if (end == blank + 1 || *end != '\0' || v <= 0)
            continue;
        if (strcmp(line, "shell_start") == 0)
            shell_start = v;
        else if (strcmp(line, "start") == 0)
            sp->start_ns = v;
        else if (strcmp(line, "end") == 0)
            sp->end_ns = v;
    }
    if (sp->start_ns < 0 || sp->end_ns < sp->start_ns)
        return false;
    if (shell_start > 0 && shell_start <= sp->start_ns)
        sp->shell_ns = sp->start_ns - shell_start;
    return true;
}

/* Read and remove the span file of the run that just ended. */
static bool take_span(prof_job *pj, prof_span *sp)
{
    char *text = NULL;
    if (pj->shared) {
        size_t len;
        text = read_file(pj->span_host, &len);
        unlink(pj->span_host);
    } else {
        core_ctx hc;
        hostconn_ctx(pj->h, &hc);
        char *q = shell_quote(pj->span_host);
        char *cmd = xasprintf("cat %s 2>/dev/null; rm -f %s", q, q);
        char out[1024] = "";
        int status;
        if (hostconn_exec_capture(pj->h, &hc, cmd, HELPER_LIMIT_MS, &status, out, sizeof out) ==
            BC_OK)
            text = xstrdup(out);
        free(cmd);
        free(q);
    }
    bool ok = text && parse_span(text, sp);
    free(text);
    return ok;
}

bool profile_after_run(prof_job *pj, int64_t i, bool started, prof_span *span)
{
    if (!pj || !started)
        return false;
    bool spanned = take_span(pj, span);
    if (i < pj->warmup) {
        /* a warm-up: not part of the profile */
        if (pj->shared)
            unlink(pj->data_host);
        else
            host_rm(pj, pj->data_host, pj->folded_host);
        return false;
    }
    pj->nruns++;
    char *why = NULL;
    if (!keep_run(pj, pj->repeated ? (int)(i - pj->warmup + 1) : 0, &why) && !pj->why)
        pj->why = why, why = NULL;
    free(why);
    return spanned;
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

void profile_end(prof_job *pj)
{
    if (!pj)
        return;
    stage_rec *rec = pj->rec;
    const cfg_stage *st = rec->st;
    char *merged = layout_profile(st, &rec->where, rec->cs, 0, ".folded");
    size_t nf = pj->folded_rels.n;
    if (nf > 0 && pj->repeated && !concat_files(pj->r->dir, pj->folded_rels.v, nf, merged))
        log_msg(BC_LOG_WARN, "stage '%s': cannot write %s", st->name, merged);
    cJSON *p = NULL;
    char *why = pj->why;
    pj->why = NULL;
    if (nf > 0) {
        /* the merged file when there are repetitions, else the run's own */
        char *one[1] = {merged};
        p = summarise(pj->r, pj->p->desc.name, rec, pj->repeated ? one : pj->folded_rels.v,
                      pj->repeated ? 1 : nf, merged, &why);
    }
    if (!p) {
        p = prof_error_json(pj, why ? why : pj->nruns ? "no folded stacks" : "no profiled run");
        if (pj->nruns)
            log_msg(BC_LOG_WARN, "stage '%s' on host '%s': no profile: %s", st->name,
                    pj->h->cfg->alias, why ? why : "no folded stacks");
    } else if (why) {
        log_msg(BC_LOG_WARN, "stage '%s' on host '%s': a run's profile was lost: %s", st->name,
                pj->h->cfg->alias, why);
    }
    cJSON_AddNumberToObject(p, "runs", (double)pj->nruns);
    cJSON *data = cJSON_AddArrayToObject(p, "data");
    for (size_t i = 0; i < pj->data_rels.n; i++)
        cJSON_AddItemToArray(data, cJSON_CreateString(pj->data_rels.v[i]));
    cJSON_Delete(rec->profile);
    rec->profile = p;
    if (pj->shared)
        unlink(pj->span_host); /* a stopped run's */
    free(why);
    free(merged);
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
