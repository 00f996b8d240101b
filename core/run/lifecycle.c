/*
 * The life of one `benchctl run`: open (config, plugins, git, run
 * directory, metadata) -> the selected cases, each stage on each of its
 * hosts -> background stages stopped per case -> cleanup -> hosts closed
 * -> plots -> final status, metadata.json and results.json.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "run/publish.h"
#include "run/plots.h"
#include "run/run.h"
#include "run/live.h"
#include "report/report.h"
#include "report/summary.h"
#include "store/hostfacts.h"
#include "store/reserve.h"
#include "util/beneath.h"
#include "store/results.h"
#include "store/runstore.h"
#include "util/log.h"
#include "util/term.h"
#include "util/wfail.h"

/* ---- what plugins and stages ask of the run ---------------------------- */

/* r is NULL outside `benchctl run` (redrawing a stored run's plots). */
int run_cancelled(run *r) { return r ? cancel_requested(&r->cancel) : 0; }

int run_cancel_fd(run *r) { return r ? cancel_fd(&r->cancel) : -1; }

stage_status run_cancel_status(run *r)
{
    return cancel_by_failure(&r->cancel)   ? STAGE_FAILED
           : cancel_by_timeout(&r->cancel) ? STAGE_TIMEOUT
                                           : STAGE_INTERRUPTED;
}

const char *run_fact(run *r, const char *key)
{
    if (strcmp(key, "run_id") == 0)
        return r->id;
    if (strcmp(key, "run_dir") == 0)
        return r->dir;
    if (strcmp(key, "output_dir") == 0)
        return r->cfg->output_dir;
    if (strcmp(key, "config_path") == 0)
        return r->cfg->abs_path;
    if (strcmp(key, "config_dir") == 0)
        return r->cfg->dir;
    if (strcmp(key, "benchmark_name") == 0)
        return r->cfg->name;
    if (strcmp(key, "bin") == 0)
        return r->bin;
    if (strcmp(key, "host_facts_script") == 0)
        return hostfacts_script; /* a transport may run it while it opens */
    return NULL;
}

void run_fail(run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    pthread_mutex_lock(&r->lock);
    if (!r->first_error) {
        r->first_error = msg;
        msg = NULL;
    }
    pthread_mutex_unlock(&r->lock);
    free(msg);
}

/* --case NAME selects a case by its full name or its cases[] name. */
static bool case_selected(const run_options *o, const cfg_case *cs)
{
    for (size_t i = 0; i < o->cases.n; i++)
        if (config_case_matches(cs, o->cases.v[i]))
            return true;
    return false;
}

/* --memory-limit: no stage's limits.memory above it (a stage without one
 * gets it), so every stage of a queued task is held to the task's memory. */
static void cap_memory(const run_options *o, config *c)
{
    if (o->memory_limit <= 0)
        return;
    for (size_t i = 0; i < c->nstages; i++) {
        cfg_limits *l = &c->stages[i].limits;
        if (l->memory <= 0 || l->memory > o->memory_limit)
            l->memory = o->memory_limit;
        l->any = true;
    }
}

static bool check_run_options(const run_options *o, config *c)
{
    bool ok = true;
    for (size_t i = 0; i < o->skip.n; i++) {
        bool found = false;
        for (size_t j = 0; j < c->nstages; j++)
            if (strcmp(c->stages[j].name, o->skip.v[i]) == 0)
                found = true;
        if (!found) {
            fprintf(stderr, "benchctl: --skip %s: no stage of that name in %s\n", o->skip.v[i],
                    c->path);
            ok = false;
        }
    }
    for (size_t i = 0; i < o->cases.n; i++) {
        bool found = false;
        for (size_t j = 0; j < c->ncases; j++)
            if (config_case_matches(&c->cases[j], o->cases.v[i]))
                found = true;
        if (!found) {
            fprintf(stderr, "benchctl: --case %s: no case of that name in %s%s\n", o->cases.v[i],
                    c->path, c->ncases ? "" : " (it defines no cases)");
            ok = false;
        }
    }
    return ok;
}


/* Is case index ci of this run (all cases without --case)?  Without cases
 * there is one pseudo-case, index 0. */
static bool case_wanted(const run *r, size_t ci)
{
    return !r->cfg->ncases || !r->o->cases.n || case_selected(r->o, &r->cfg->cases[ci]);
}

static const cfg_case *case_at(const run *r, size_t ci)
{
    return r->cfg->ncases ? &r->cfg->cases[ci] : NULL;
}

/* Remove dir and its subdirectories when they hold no file. */
static void remove_empty_dirs(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
            continue;
        if (de->d_type == DT_DIR) {
            char *sub = path_join(dir, de->d_name);
            remove_empty_dirs(sub);
            free(sub);
        }
    }
    closedir(d);
    rmdir(dir); /* fails, harmlessly, when something is left */
}

static char *self_exe(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return xstrdup("benchctl");
    buf[n] = '\0';
    return xstrdup(buf);
}

/* ---- open ---------------------------------------------------------------- */

static void set_logging(const run_options *o, const config *c)
{
    int level = o->log_level ? log_level_from_name(o->log_level)
                : c->log_level ? log_level_from_name(c->log_level) : BC_LOG_INFO;
    log_set_level(level < 0 ? BC_LOG_INFO : level);
    log_set_time_format(c->log_time_format);
    if (c->log_path) {
        char *lp = path_join(c->dir, c->log_path);
        if (!log_open_file(lp))
            log_msg(BC_LOG_WARN, "cannot open log file %s: %s", lp, strerror(errno));
        free(lp);
    }
}

/* config.yaml (secrets redacted) and git.patch into the run directory. */
static void save_inputs(run *r, const git_state *git)
{
    size_t clen;
    char *ctext = config_redacted_text(r->cfg, &clen);
    char *cpath = path_join(r->dir, LAYOUT_CONFIG_COPY);
    if (!write_file_atomic(cpath, ctext, clen, false)) {
        int e = errno;
        log_msg(BC_LOG_ERROR, "cannot save the config copy %s: %s", cpath, strerror(e));
        wfail_note(cpath, e);
    }
    free(cpath);
    free(ctext);
    if (!r->cfg->git_save_patch || !git->is_repo || !git->dirty)
        return;
    char *patch = git_diff(r->cfg->dir);
    if (patch) {
        char *pp = path_join(r->dir, LAYOUT_GIT_PATCH);
        if (!write_file_atomic(pp, patch, strlen(patch), false)) {
            int e = errno;
            log_msg(BC_LOG_ERROR, "cannot save %s: %s", pp, strerror(e));
            wfail_note(pp, e);
        }
        free(pp);
        free(patch);
    }
}

void run_open_hosts(run *r)
{
    const config *c = r->cfg;
    r->nhosts = c->nhosts;
    r->hosts = xcalloc(c->nhosts, sizeof *r->hosts);
    for (size_t i = 0; i < c->nhosts; i++) {
        r->hosts[i].cfg = &c->hosts[i];
        r->hosts[i].p = (plugin *)c->hosts[i].plugin;
        r->hosts[i].opts = (optview){c->hosts[i].plugin->desc.options, c->hosts[i].node, NULL, 0};
        r->hosts[i].run = r;
        pthread_mutex_init(&r->hosts[i].lock, NULL);
        pthread_mutex_init(&r->hosts[i].collect_lock, NULL);
        pthread_mutex_init(&r->hosts[i].clock_lock, NULL);
    }
}

/* Load and check everything, create the run directory and its first
 * metadata.  EXIT_OK, or the exit code (everything released). */
static int run_open(run *r, const run_options *o, loader *ld)
{
    config *c = engine_load_in(o->config_path, o->base_dir, ld, &o->plugin_paths, false);
    if (!c) {
        loader_shutdown(ld); /* engine_load always starts the loader */
        return EXIT_USAGE;
    }
    set_logging(o, c);
    /* A secret in memory (a password, a key passphrase, -e values) must not
     * end up in a core dump.  Stages are not affected (exec resets it). */
    if (c->nsecrets || o->env.n)
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    git_state git = {0};
    int code = EXIT_USAGE;
    if (!check_run_options(o, c))
        goto fail;
    cap_memory(o, c);
    if (c->git_capture || c->git_require_clean || c->git_save_patch)
        git_inspect(c->dir, &git);
    if (c->git_require_clean && git.is_repo && git.dirty) {
        fprintf(stderr, "benchctl: %s: benchmark.git.require_clean is set and the git work tree "
                        "in %s has uncommitted changes; commit or stash them first\n",
                c->path, c->dir);
        goto fail;
    }
    r->cfg = c;
    r->ld = ld;
    r->o = o;
    /* The machine's facts (and its noise script) before the run directory
     * exists: a kill in between leaves no directory without metadata. */
    r->machine = hostfacts_collect();
    if (run_cancelled(r)) { /* Ctrl-C while loading: no run directory */
        fprintf(stderr, "benchctl: interrupted before the run started; nothing was run\n");
        code = EXIT_INTERRUPTED;
        goto fail;
    }
    char *err = NULL;
    /* The directory is made under a temporary name and renamed into its
     * numbered place once its metadata.json is on disk: a kill at any
     * moment leaves either no run or a run with metadata (`gc` removes a
     * temporary one whose creator is gone).  Held for the run's life, its
     * owner lock tells a reader whether the run crashed. */
    if (!runstore_create(c->output_dir, &r->id, &r->dir, &r->owner_fd, &err)) {
        fprintf(stderr, "benchctl: %s\n", err);
        free(err);
        goto fail;
    }
    /* Room for the last metadata.json, whatever fills the disk later. */
    if (!reserve_ensure(r->dir, RESERVE_MIN)) {
        fprintf(stderr, "benchctl: %s: no room for a run (%s); nothing was run\n",
                c->output_dir, strerror(errno));
        goto discard;
    }
    /* From now on nothing benchctl writes in there follows a link a stage
     * planted (util/beneath.h). */
    beneath_set_root(r->dir);
    r->m0 = mono_ns(); /* duration_s: from the run directory's creation */
    r->bin = self_exe();
    random_token(r->mark, sizeof r->mark);
    r->tty = isatty(STDOUT_FILENO);
    if (r->tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &r->ws) != 0)
        memset(&r->ws, 0, sizeof r->ws);
    save_inputs(r, &git);
    meta_begin(r, &git);
    if (!runstore_publish(c->output_dir, r->id, &r->dir, &err)) {
        fprintf(stderr, "benchctl: %s; nothing was run\n", err);
        free(err);
        if (r->journal_fd >= 0)
            close(r->journal_fd);
        r->journal_fd = -1;
        cJSON_Delete(r->meta);
        r->meta = NULL;
        r->custom = r->stages_json = r->cases_json = NULL;
        cJSON_Delete(r->custom_written);
        r->custom_written = NULL;
        free(r->bin);
        r->bin = NULL;
        goto discard;
    }
    beneath_set_root(r->dir);
    leftovers_watch(r);
    printf("Run ID: %s\n", r->id);
    fflush(stdout);
    git_state_free(&git);
    run_open_hosts(r);
    return EXIT_OK;
discard:
    beneath_set_root(NULL);
    runstore_discard(r->dir, r->owner_fd);
    r->owner_fd = -1;
    free(r->dir);
    free(r->id);
    r->dir = r->id = NULL;
fail:
    git_state_free(&git);
    cJSON_Delete(r->machine);
    r->machine = NULL;
    config_free(c);
    loader_shutdown(ld);
    return code;
}

/* ---- cases --------------------------------------------------------------- */

/* The case's entry in metadata.json's "cases": parameters, env, and its
 * status from the typed records of its stages (from index rec_from). */
static void record_case(run *r, const cfg_case *cs, size_t rec_from)
{
    bool ok = true;
    for (size_t k = rec_from; k < r->nrecs; k++) {
        stage_status s = r->recs[k]->status;
        if (s != STAGE_SUCCESS && s != STAGE_SKIPPED && s != STAGE_RUNNING)
            ok = false;
    }
    meta_add_case(r, cs, ok ? "success" : "failed");
}

static void record_case_not_run(run *r, const cfg_case *cs)
{
    for (size_t si = 0; si < r->cfg->nstages; si++)
        stage_record_not_run(r, &r->cfg->stages[si], cs, STAGE_NOT_RUN,
                             "an earlier stage failed or the run was stopped");
    meta_add_case(r, cs, "not_run");
}

/* Every selected case's stages, in order, until one fails the run.
 * Returns how many cases (by index) were started. */
static size_t run_cases(run *r)
{
    const config *c = r->cfg;
    size_t ncases = c->ncases ? c->ncases : 1;
    bool stop = false;
    size_t started = 0;
    for (size_t ci = 0; ci < ncases && !stop; ci++) {
        if (!case_wanted(r, ci))
            continue;
        const cfg_case *cs = case_at(r, ci);
        started = ci + 1;
        size_t rec_from = r->nrecs;
        for (size_t si = 0; si < c->nstages; si++) {
            if (stop) {
                stage_record_not_run(r, &c->stages[si], cs, STAGE_NOT_RUN,
                                     "an earlier stage failed or the run was stopped");
                continue;
            }
            if (!stage_run(r, &c->stages[si], cs))
                stop = true;
            if (!bg_check(r))
                stop = true; /* a monitor died: fail fast */
        }
        /* The case's foreground stages are done: stop its background ones. */
        if (!bg_stop_all(r))
            stop = true;
        if (cs)
            record_case(r, cs, rec_from);
    }
    /* Cases never reached are recorded as such. */
    for (size_t ci = started; c->ncases && ci < c->ncases; ci++)
        if (case_wanted(r, ci))
            record_case_not_run(r, case_at(r, ci));
    return started;
}

/* ---- cleanup ------------------------------------------------------------- */

/* One cleanup step; a failing one is recorded but never hides the run's
 * original error. */
static void run_cleanup_step(run *r, const cfg_stage *st, const cfg_case *cs)
{
    char *first = r->first_error;
    r->first_error = NULL;
    stage_run(r, st, cs);
    if (first) {
        free(r->first_error);
        r->first_error = first;
    } else if (r->first_error) {
        char *e = xasprintf("cleanup: %s", r->first_error);
        free(r->first_error);
        r->first_error = e;
    }
}

/* Cleanup steps of every started case, even after a failure or an
 * interrupt.  skip: a second Ctrl-C came while the run was stopping.  A
 * signal during cleanup skips what is left; returns true when one came. */
static bool run_cleanup(run *r, size_t cases_started, bool skip)
{
    const config *c = r->cfg;
    size_t ncases = c->ncases ? c->ncases : 1;
    for (size_t ci = 0; ci < ncases; ci++) {
        if (!case_wanted(r, ci) || (c->ncases && ci >= cases_started))
            continue;
        const cfg_case *cs = case_at(r, ci);
        for (size_t si = 0; si < c->ncleanup; si++) {
            if (skip)
                stage_record_not_run(r, &c->cleanup[si], cs, STAGE_NOT_RUN,
                                     "skipped by a second Ctrl-C");
            else if (run_cancelled(r))
                stage_record_not_run(r, &c->cleanup[si], cs, STAGE_NOT_RUN,
                                     "cleanup interrupted");
            else
                run_cleanup_step(r, &c->cleanup[si], cs);
        }
    }
    return !skip && c->ncleanup && run_cancelled(r);
}

/* ---- finish -------------------------------------------------------------- */

/* Plots, from whatever was collected; skipped when the user stopped the
 * run.  A failed plot fails the run but never loses data or metadata. */
static void run_plots(run *r)
{
    cJSON *pj = cJSON_AddArrayToObject(r->meta, "plots");
    char *why = NULL;
    plots_render(r->cfg, r->dir, (const stage_rec *const *)r->recs, r->nrecs, pj, NULL, r, NULL,
                 &why);
    if (why && !r->first_error)
        r->first_error = why;
    else
        free(why);
}

/* report.html from the run's stored record (report/): a failure to write
 * it is a warning, never a failed run. */
static void run_report(const char *dir)
{
    char *path = path_join(dir, REPORT_FILE), *err = NULL;
    if (!report_write_run(dir, path, &err))
        log_msg(BC_LOG_WARN, "report: %s", err);
    free(err);
    free(path);
}

/* Final status, metadata.json, results.json and the last lines printed.
 * Returns the exit code. */
static int run_finish(run *r, bool interrupted, bool timed_out)
{
    const char *status = interrupted ? "interrupted" : timed_out ? "timeout"
                         : r->first_error ? "failed" : "success";
    if (timed_out && !r->first_error)
        r->first_error = xasprintf("the run exceeded --timeout %lld ms",
                                   (long long)r->o->timeout_ms);
    if (interrupted && !r->first_error)
        r->first_error = xstrdup("interrupted by a signal");
    if (r->thresholds_failed)
        cJSON_AddNumberToObject(r->meta, "thresholds_failed", r->thresholds_failed);
    bool saved = meta_end(r, status, (double)(mono_ns() - r->m0) / 1e9);
    cJSON *results = saved ? results_build(r->meta) : NULL;
    if (saved && !results_write_doc(r->dir, results)) {
        fprintf(stderr, "benchctl: cannot write %s/results.json: %s\n", r->dir, strerror(errno));
        saved = false;
    }
    if (!saved) {
        fprintf(stderr, "benchctl: run %s %s, but its final metadata could not be written "
                        "(see above)\n", r->id, status);
        printf("Results saved to: %s\n", r->dir);
        fflush(stdout);
        cJSON_Delete(results);
        return interrupted ? EXIT_INTERRUPTED : EXIT_RUN_FAILED;
    }
    if (r->cfg->report && !r->o->no_report)
        run_report(r->dir);
    int code = interrupted ? EXIT_INTERRUPTED : (timed_out || r->first_error) ? EXIT_RUN_FAILED
                                                                              : EXIT_OK;
    if (code == EXIT_OK && r->thresholds_failed)
        code = EXIT_THRESHOLDS;
    cJSON *summary = summary_build(r->dir, r->meta, results, code);
    cJSON_Delete(results);
    term_status(NULL);
    summary_print(summary, stdout, STDOUT_FILENO, term_width(STDOUT_FILENO));
    if (r->o->summary)
        *r->o->summary = summary;
    else
        cJSON_Delete(summary);
    if (r->first_error && !interrupted)
        fprintf(stderr, "benchctl: run %s %s (details in %s/metadata.json)\n", r->id, status,
                r->dir);
    else if (interrupted)
        fprintf(stderr, "benchctl: run %s interrupted; stages stopped, metadata written\n", r->id);
    if (code == EXIT_THRESHOLDS)
        fprintf(stderr, "benchctl: run %s: %d threshold%s failed (see results.json)\n", r->id,
                r->thresholds_failed, r->thresholds_failed == 1 ? "" : "s");
    printf("Results saved to: %s\n", r->dir);
    fflush(stdout);
    return code;
}

static void run_free(run *r)
{
    if (r->journal_fd >= 0)
        close(r->journal_fd);
    if (r->owner_fd >= 0)
        close(r->owner_fd); /* after the final metadata.json */
    char *mdir = path_join(r->dir, LAYOUT_METADATA_DIR);
    remove_empty_dirs(mdir); /* only what no stage wrote into */
    free(mdir);
    for (size_t i = 0; i < r->nrecs; i++)
        record_free(r->recs[i]);
    free(r->recs);
    cJSON_Delete(r->meta);
    cJSON_Delete(r->custom_written);
    free(r->hosts);
    free(r->first_error);
    free(r->id);
    free(r->dir);
    free(r->bin);
    config_free(r->cfg);
    loader_shutdown(r->ld);
    log_close_file();
}

/* A failed write into the run directory (a full disk): stop the run. */
static void on_write_failure(void *arg) { cancel_fail(arg); }

int engine_run(const run_options *o)
{
    loader ld;
    run r = {.journal_fd = -1, .owner_fd = -1, .watch_fd = -1, .watch_pid = -1,
             .lock = PTHREAD_MUTEX_INITIALIZER};
    /* Signals are taken from the start: a Ctrl-C while the run directory
     * is made never leaves it without metadata. */
    cancel_start(&r.cancel, o->timeout_ms);
    wfail_watch(on_write_failure, &r.cancel);
    int code = run_open(&r, o, &ld);
    if (code != EXIT_OK) {
        wfail_watch(NULL, NULL);
        cancel_stop(&r.cancel);
        return code;
    }
    monitor_start(&r);
    live_start(&r);
    size_t started = run_cases(&r);
    live_stop(&r);
    /* Why did we stop?  Decided before cleanup can be interrupted again;
     * from here on a new signal means "stop what is left". */
    bool timed_out = cancel_by_timeout(&r.cancel);
    int signals = cancel_rearm(&r.cancel);
    bool interrupted = signals > 0;
    timed_out = timed_out && !interrupted;
    if (run_cleanup(&r, started, signals > 1))
        interrupted = true;
    monitor_stop(&r); /* before the connections it streams over close */
    for (size_t i = 0; i < r.nhosts; i++) {
        if (!interrupted)
            hostconn_clock_end_begin(&r.hosts[i]); /* the drift over the run */
        hostconn_close(&r.hosts[i]);
    }
    leftovers_stop(&r);
    if (r.cfg->nplots && !interrupted && !wfail_happened()) {
        run_plots(&r);
        if (cancel_rearm(&r.cancel) > 0) { /* Ctrl-C while plotting */
            interrupted = true;
            free(r.first_error);
            r.first_error = xstrdup("interrupted by a signal while drawing the plots");
        }
    }
    /* A full disk: its first failed write is why the run failed. */
    char *full = wfail_message();
    if (full) {
        free(r.first_error);
        r.first_error = xasprintf("%s; the run was stopped", full);
        fprintf(stderr, "benchctl: %s\n", r.first_error);
        free(full);
    }
    code = run_finish(&r, interrupted, timed_out);
    wfail_watch(NULL, NULL);
    if (!interrupted) /* a failed threshold is a verdict on good data: still a success */
        publish_at_end(r.cfg, r.cfg->output_dir, r.id,
                       code == EXIT_OK || code == EXIT_THRESHOLDS);
    cancel_stop(&r.cancel);
    run_free(&r);
    return code;
}
