/* The run pipeline and the host connections. */
#define _GNU_SOURCE
#include "run/engine.h"

#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "plugin/bind.h"
#include "run/plots.h"
#include "run/run.h"
#include "store/hostfacts.h"
#include "util/log.h"
#include "store/results.h"
#include "paths.h"
#include "store/runstore.h"

/* ---- cancellation: signals and --timeout ------------------------------ */

/* Lock-free atomics: set in the handler, read by every thread. */
static atomic_int sig_count;   /* SIGINT/SIGTERM received */
static atomic_int sig_timeout; /* --timeout fired */
static int cancel_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGALRM)
        sig_timeout = 1;
    else
        sig_count++;
    if (cancel_pipe[1] >= 0) {
        char c = 1;
        ssize_t r = write(cancel_pipe[1], &c, 1);
        (void)r;
    }
    errno = saved;
}

static void install_signals(int64_t timeout_ms)
{
    if (cancel_pipe[0] < 0 && pipe2(cancel_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        cancel_pipe[0] = cancel_pipe[1] = -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    if (timeout_ms > 0) {
        struct itimerval it = {{0, 0}, {(time_t)(timeout_ms / 1000), (suseconds_t)((timeout_ms % 1000) * 1000)}};
        setitimer(ITIMER_REAL, &it, NULL);
    }
}

static void disarm_timer(void)
{
    struct itimerval it = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &it, NULL);
}

/* Forget a pending cancellation so that cleanup steps can run; a later
 * signal cancels again (a second Ctrl-C skips the remaining cleanup). */
static void rearm_cancel(void)
{
    char buf[64];
    while (cancel_pipe[0] >= 0 && read(cancel_pipe[0], buf, sizeof buf) > 0)
        ;
}

const char *run_cancel_status(void)
{
    return sig_timeout && !sig_count ? "timeout" : "interrupted";
}

/* ---- the run ------------------------------------------------------------ */

int run_cancelled(run *r)
{
    (void)r;
    return sig_count > 0 || sig_timeout;
}

int run_cancel_fd(run *r)
{
    (void)r;
    return cancel_pipe[0];
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
    return NULL;
}

void run_save_meta(run *r, bool durable)
{
    /* Other threads add to meta under this lock (custom metadata from
     * parallel stages, remote host facts). */
    pthread_mutex_lock(&r->lock);
    bool ok = runstore_write(r->dir, r->meta, durable);
    pthread_mutex_unlock(&r->lock);
    if (!ok)
        log_msg(BC_LOG_ERROR, "cannot write %s/metadata.json: %s", r->dir, strerror(errno));
    r->last_save_ns = mono_ns();
}

/* After each stage: append its record to stages.jsonl (cheap, so even a
 * killed benchctl leaves every finished stage on disk) and refresh
 * metadata.json at most once a second (rewriting it after every stage
 * would cost O(stages^2) for long workflows). */
void run_stage_done(run *r, const cJSON *rec)
{
    char *line = cJSON_PrintUnformatted(rec);
    if (line && r->journal_fd >= 0) {
        size_t len = strlen(line);
        line[len] = '\n';
        if (write(r->journal_fd, line, len + 1) < 0)
            log_msg(BC_LOG_WARN, "cannot append to %s/stages.jsonl: %s", r->dir, strerror(errno));
    }
    free(line);
    if (mono_ns() - r->last_save_ns >= 1000000000LL)
        run_save_meta(r, false);
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

/* ---- metadata ----------------------------------------------------------- */

static cJSON *yaml_to_json(const config *c, const ynode *n)
{
    if (!n)
        return cJSON_CreateNull();
    for (size_t i = 0; i < c->nsecrets; i++)
        if (c->secrets[i].start == n->start && n->type == Y_SCALAR)
            return cJSON_CreateString("<redacted>");
    if (n->type == Y_MAP) {
        cJSON *o = cJSON_CreateObject();
        for (size_t i = 0; i < n->n; i++)
            cJSON_AddItemToObject(o, n->keys[i]->type == Y_SCALAR ? n->keys[i]->str : "?",
                                  yaml_to_json(c, n->vals[i]));
        return o;
    }
    if (n->type == Y_SEQ) {
        cJSON *a = cJSON_CreateArray();
        for (size_t i = 0; i < n->n; i++)
            cJSON_AddItemToArray(a, yaml_to_json(c, n->vals[i]));
        return a;
    }
    if (n->is_null)
        return cJSON_CreateNull();
    if (!n->quoted) {
        int64_t iv;
        bool b;
        if (parse_int64(n->str, &iv))
            return cJSON_CreateNumber((double)iv);
        if (strcmp(n->str, "true") == 0 || strcmp(n->str, "false") == 0) {
            b = strcmp(n->str, "true") == 0;
            return cJSON_CreateBool(b);
        }
    }
    return cJSON_CreateString(n->str);
}

/* A transport's BC_HOST_CAP_* bits by name, for hosts.<alias>.capabilities
 * (what `compare` reads to tell the controller from other machines). */
static cJSON *host_caps_json(uint32_t caps)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {{BC_HOST_CAP_SHARED_FS, "shared_fs"},
                 {BC_HOST_CAP_CHEAP_EXEC, "cheap_exec"},
                 {BC_HOST_CAP_POSIX_SHELL, "posix_shell"},
                 {BC_HOST_CAP_CONTROLLER, "controller"}};
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < ARRAY_LEN(names); i++)
        if (caps & names[i].bit)
            cJSON_AddItemToArray(a, cJSON_CreateString(names[i].name));
    return a;
}

static cJSON *hosts_json(run *r)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; i < r->cfg->nhosts; i++) {
        cfg_host *h = &r->cfg->hosts[i];
        cJSON *hj = h->node ? yaml_to_json(r->cfg, h->node) : cJSON_CreateObject();
        if (!cJSON_GetObjectItem(hj, "transport"))
            cJSON_AddStringToObject(hj, "transport", h->transport);
        if (h->plugin)
            cJSON_AddItemToObject(hj, "capabilities",
                                  host_caps_json(((const plugin *)h->plugin)->ops.host.caps));
        cJSON_AddItemToObject(o, h->alias, hj);
    }
    return o;
}

static cJSON *plugins_json(const loader *l)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < l->nplugins; i++) {
        const plugin *p = l->plugins[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kind", loader_kind_name(p->desc.kind));
        cJSON_AddStringToObject(o, "name", p->desc.name);
        cJSON_AddStringToObject(o, "version", p->desc.version);
        char abi[32];
        snprintf(abi, sizeof abi, "%u.%u", p->desc.abi.abi_major, p->desc.abi.abi_minor);
        cJSON_AddStringToObject(o, "abi", abi);
        cJSON_AddStringToObject(o, "path", p->path);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

void json_add_time(cJSON *o, const char *key, int64_t wall)
{
    char buf[64];
    format_rfc3339(wall, buf, sizeof buf);
    cJSON_AddStringToObject(o, key, buf);
}

static void set_string(cJSON *o, const char *key, const char *val)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, key);
    if (val)
        cJSON_AddStringToObject(o, key, val);
    else
        cJSON_AddNullToObject(o, key);
}

/* ---- entry points ------------------------------------------------------- */

config *engine_load(const char *config_path, loader *ld, const strvec *plugin_paths,
                    bool print_warnings)
{
    return engine_load_in(config_path, NULL, ld, plugin_paths, print_warnings);
}

config *engine_load_in(const char *config_path, const char *base_dir, loader *ld,
                       const strvec *plugin_paths, bool print_warnings)
{
    diag d = {0};
    config *c = config_load_in(config_path, base_dir, &d);
    if (c)
        loader_init(ld, plugin_paths, &c->plugin_paths);
    else
        loader_init(ld, plugin_paths, NULL);
    if (c)
        bind_plugins(c, ld, &d);
    if (d.errors || print_warnings)
        diag_print(&d, stderr);
    if (d.errors) {
        fprintf(stderr, "benchctl: %zu error%s in %s\n", d.errors, d.errors == 1 ? "" : "s",
                config_path);
        config_free(c);
        c = NULL;
    }
    diag_free(&d);
    return c;
}

int engine_validate(const char *config_path, const strvec *plugin_paths)
{
    loader ld;
    config *c = engine_load(config_path, &ld, plugin_paths, true);
    int code = EXIT_USAGE;
    if (c) {
        size_t n = 0;
        for (size_t i = 0; i < c->nstages; i++)
            n += c->stages[i].nhosts;
        printf("%s: valid (benchmark '%s', %zu stage%s, %zu host%s, %zu plugin%s)\n", config_path,
               c->name, c->nstages, c->nstages == 1 ? "" : "s", c->nhosts,
               c->nhosts == 1 ? "" : "s", ld.nplugins, ld.nplugins == 1 ? "" : "s");
        code = EXIT_OK;
    }
    config_free(c);
    loader_shutdown(&ld);
    return code;
}

/* --case NAME selects a case by its full name or its cases[] name. */
static bool case_selected(const run_options *o, const cfg_case *cs)
{
    for (size_t i = 0; i < o->cases.n; i++)
        if (config_case_matches(cs, o->cases.v[i]))
            return true;
    return false;
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

static long self_peak_rss_kb(void)
{
    char *status = read_file("/proc/self/status", NULL);
    long kb = -1;
    char *p = status ? strstr(status, "VmHWM:") : NULL;
    if (p)
        kb = strtol(p + 6, NULL, 10);
    free(status);
    return kb;
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

int engine_run(const run_options *o)
{
    loader ld;
    config *c = engine_load(o->config_path, &ld, &o->plugin_paths, false);
    if (!c) {
        loader_shutdown(&ld);
        return EXIT_USAGE;
    }
    int level = o->log_level ? log_level_from_name(o->log_level)
                : c->log_level ? log_level_from_name(c->log_level) : BC_LOG_INFO;
    log_set_level(level < 0 ? BC_LOG_INFO : level);
    if (c->log_path) {
        char *lp = path_join(c->dir, c->log_path);
        if (!log_open_file(lp))
            log_msg(BC_LOG_WARN, "cannot open log file %s: %s", lp, strerror(errno));
        free(lp);
    }
    if (!check_run_options(o, c)) {
        config_free(c);
        loader_shutdown(&ld);
        return EXIT_USAGE;
    }
    git_state git = {0};
    if (c->git_capture || c->git_require_clean || c->git_save_patch)
        git_inspect(c->dir, &git);
    if (c->git_require_clean && git.is_repo && git.dirty) {
        fprintf(stderr, "benchctl: %s: benchmark.git.require_clean is set and the git work tree "
                        "in %s has uncommitted changes; commit or stash them first\n",
                c->path, c->dir);
        git_state_free(&git);
        config_free(c);
        loader_shutdown(&ld);
        return EXIT_USAGE;
    }

    run r = {.cfg = c, .ld = &ld, .o = o, .journal_fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER};
    char *err = NULL;
    if (!runstore_create(c->output_dir, &r.id, &r.dir, &err)) {
        fprintf(stderr, "benchctl: %s\n", err);
        free(err);
        git_state_free(&git);
        config_free(c);
        loader_shutdown(&ld);
        return EXIT_USAGE;
    }
    r.bin = self_exe();
    r.tty = isatty(STDOUT_FILENO);
    if (r.tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &r.ws) != 0)
        memset(&r.ws, 0, sizeof r.ws);
    printf("Run ID: %s\n", r.id);
    fflush(stdout);

    /* The config as given, secrets redacted. */
    size_t clen;
    char *ctext = config_redacted_text(c, &clen);
    char *cpath = path_join(r.dir, "config.yaml");
    if (!write_file_atomic(cpath, ctext, clen, false))
        log_msg(BC_LOG_WARN, "cannot save the config copy %s: %s", cpath, strerror(errno));
    free(cpath);
    free(ctext);
    if (c->git_save_patch && git.is_repo && git.dirty) {
        char *patch = git_diff(c->dir);
        if (patch) {
            char *pp = path_join(r.dir, "git.patch");
            write_file_atomic(pp, patch, strlen(patch), false);
            free(pp);
            free(patch);
        }
    }

    int64_t start = wall_ns(), m0 = mono_ns();
    r.meta = cJSON_CreateObject();
    cJSON_AddStringToObject(r.meta, "run_id", r.id);
    cJSON_AddStringToObject(r.meta, "benchmark_name", c->name);
    json_add_time(r.meta, "start_time", start);
    cJSON_AddNullToObject(r.meta, "end_time");
    cJSON_AddStringToObject(r.meta, "status", "running");
    cJSON_AddNullToObject(r.meta, "error");
    cJSON_AddItemToObject(r.meta, "config", yaml_to_json(c, ytree_root(c->tree)));
    cJSON_AddStringToObject(r.meta, "config_path", c->abs_path);
    cJSON_AddStringToObject(r.meta, "config_copy", "config.yaml");
    cJSON_AddItemToObject(r.meta, "hosts", hosts_json(&r));
    r.custom = cJSON_AddObjectToObject(r.meta, "custom");
    for (size_t i = 0; i < o->metadata.n; i++) {
        const char *kv = o->metadata.v[i];
        const char *eq = strchr(kv, '=');
        char *k = xstrndup(kv, (size_t)(eq - kv));
        set_string(r.custom, k, eq + 1);
        free(k);
    }
    cJSON_AddItemToObject(r.meta, "git", c->git_capture ? git_to_json(&git) : cJSON_CreateNull());
    cJSON *env_names = cJSON_AddArrayToObject(r.meta, "environment");
    for (size_t i = 0; i < o->env.n; i++) {
        const char *eq = strchr(o->env.v[i], '=');
        char *k = xstrndup(o->env.v[i], (size_t)(eq - o->env.v[i]));
        cJSON_AddItemToArray(env_names, cJSON_CreateString(k));
        free(k);
    }
    cJSON *bj = cJSON_AddObjectToObject(r.meta, "benchctl");
    cJSON_AddStringToObject(bj, "version", BENCHCTL_VERSION);
    cJSON_AddStringToObject(bj, "abi", BENCHCTL_ABI_STRING);
    cJSON_AddItemToObject(r.meta, "machine", hostfacts_collect());
    cJSON_AddItemToObject(r.meta, "plugins", plugins_json(&ld));
    r.stages_json = cJSON_AddArrayToObject(r.meta, "stages");
    if (c->ncases)
        r.cases_json = cJSON_AddArrayToObject(r.meta, "cases");
    run_save_meta(&r, true);
    git_state_free(&git);
    char *jpath = path_join(r.dir, "stages.jsonl");
    r.journal_fd = open(jpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    free(jpath);

    r.nhosts = c->nhosts;
    r.hosts = xcalloc(c->nhosts, sizeof *r.hosts);
    for (size_t i = 0; i < c->nhosts; i++) {
        r.hosts[i].cfg = &c->hosts[i];
        r.hosts[i].p = (plugin *)c->hosts[i].plugin;
        r.hosts[i].opts = (optview){c->hosts[i].plugin->desc.options, c->hosts[i].node, NULL, 0};
        r.hosts[i].run = &r;
        pthread_mutex_init(&r.hosts[i].lock, NULL);
    }

    install_signals(o->timeout_ms);

    /* Cases: the selected ones (all by default), or one run without. */
    size_t ncases = c->ncases ? c->ncases : 1;
    bool stop = false;
    size_t cases_started = 0;
    for (size_t ci = 0; ci < ncases && !stop; ci++) {
        const cfg_case *cs = c->ncases ? &c->cases[ci] : NULL;
        if (cs && o->cases.n && !case_selected(o, cs))
            continue;
        cases_started = ci + 1;
        size_t rec_from = (size_t)cJSON_GetArraySize(r.stages_json);
        for (size_t si = 0; si < c->nstages; si++) {
            if (stop) {
                stage_record_not_run(&r, &c->stages[si], cs, "not_run",
                               "an earlier stage failed or the run was stopped");
                continue;
            }
            if (!stage_run(&r, &c->stages[si], cs))
                stop = true;
            if (!bg_check(&r))
                stop = true; /* a monitor died: fail fast */
        }
        /* The case's foreground stages are done: stop its background ones. */
        if (!bg_stop_all(&r))
            stop = true;
        if (cs) {
            cJSON *cj = cJSON_CreateObject();
            cJSON_AddStringToObject(cj, "name", cs->name);
            if (cs->base)
                cJSON_AddStringToObject(cj, "case", cs->base);
            cJSON *pj = cJSON_AddObjectToObject(cj, "parameters");
            for (size_t k = 0; k < cs->params.n; k++) {
                const char *eq = strchr(cs->params.v[k], '=');
                char *pk = xstrndup(cs->params.v[k], (size_t)(eq - cs->params.v[k]));
                cJSON_AddStringToObject(pj, pk, eq + 1);
                free(pk);
            }
            cJSON *ej = cJSON_AddObjectToObject(cj, "env");
            for (size_t k = 0; cs->env && k < cs->env->n; k++)
                cJSON_AddStringToObject(ej, cs->env->keys[k]->str, cs->env->vals[k]->str);
            size_t rec_to = (size_t)cJSON_GetArraySize(r.stages_json);
            bool case_ok = true;
            for (size_t k = rec_from; k < rec_to; k++) {
                const cJSON *st = cJSON_GetObjectItem(cJSON_GetArrayItem(r.stages_json, (int)k),
                                                      "status");
                const char *s = cJSON_GetStringValue(st);
                if (s && strcmp(s, "success") != 0 && strcmp(s, "skipped") != 0)
                    case_ok = false;
            }
            cJSON_AddStringToObject(cj, "status", case_ok ? "success" : "failed");
            cJSON_AddItemToArray(r.cases_json, cj);
        }
    }
    /* Cases never reached are recorded as such. */
    for (size_t ci = cases_started; c->ncases && ci < c->ncases; ci++) {
        const cfg_case *cs = &c->cases[ci];
        if (o->cases.n && !case_selected(o, cs))
            continue;
        for (size_t si = 0; si < c->nstages; si++)
            stage_record_not_run(&r, &c->stages[si], cs, "not_run",
                                 "an earlier stage failed or the run was stopped");
        cJSON *cj = cJSON_CreateObject();
        cJSON_AddStringToObject(cj, "name", cs->name);
        cJSON_AddStringToObject(cj, "status", "not_run");
        cJSON_AddItemToArray(r.cases_json, cj);
    }

    /* Why did we stop?  Decided before cleanup can be interrupted again. */
    bool interrupted = sig_count > 0;
    bool timed_out = sig_timeout && !interrupted;
    /* A second Ctrl-C while the run was still stopping skips cleanup. */
    bool skip_cleanup = sig_count > 1;
    disarm_timer();
    /* From here on a new signal means "stop what is left" (cleanup, plots). */
    rearm_cancel();
    sig_timeout = 0;
    sig_count = 0;

    /* Cleanup runs even after a failure or an interrupt; a further signal
     * during cleanup skips what is left. */
    if (skip_cleanup) {
        for (size_t ci = 0; ci < ncases; ci++)
            for (size_t si = 0; si < c->ncleanup; si++)
                if (!c->ncases || (ci < cases_started && (!o->cases.n || case_selected(o, &c->cases[ci]))))
                    stage_record_not_run(&r, &c->cleanup[si], c->ncases ? &c->cases[ci] : NULL,
                                         "not_run", "skipped by a second Ctrl-C");
    } else if (c->ncleanup) {
        for (size_t ci = 0; ci < ncases; ci++) {
            const cfg_case *cs = c->ncases ? &c->cases[ci] : NULL;
            if (cs && o->cases.n && !case_selected(o, cs))
                continue;
            if (cs && ci >= cases_started)
                continue;
            for (size_t si = 0; si < c->ncleanup; si++) {
                if (sig_count) {
                    stage_record_not_run(&r, &c->cleanup[si], cs, "not_run", "cleanup interrupted");
                    continue;
                }
                char *first = r.first_error;
                r.first_error = NULL;
                stage_run(&r, &c->cleanup[si], cs);
                /* A failing cleanup step is recorded; it never hides the
                 * original error. */
                if (first) {
                    free(r.first_error);
                    r.first_error = first;
                } else if (r.first_error) {
                    char *e = xasprintf("cleanup: %s", r.first_error);
                    free(r.first_error);
                    r.first_error = e;
                }
            }
        }
        if (sig_count)
            interrupted = true;
    }

    for (size_t i = 0; i < r.nhosts; i++)
        hostconn_close(&r.hosts[i]);

    /* Plots, from whatever was collected; skipped when the user stopped the
     * run.  A failed plot fails the run but never loses data or metadata. */
    if (c->nplots && !interrupted) {
        cJSON *pj = cJSON_AddArrayToObject(r.meta, "plots");
        int failed = plots_render(c, r.dir, r.stages_json, pj, &r);
        if (failed && !r.first_error)
            r.first_error = plots_first_failure(pj);
    }

    const char *status = interrupted ? "interrupted" : timed_out ? "timeout"
                         : r.first_error ? "failed" : "success";
    if (timed_out && !r.first_error)
        r.first_error = xasprintf("the run exceeded --timeout %lld ms", (long long)o->timeout_ms);
    if (interrupted && !r.first_error)
        r.first_error = xstrdup("interrupted by a signal");
    set_string(r.meta, "status", status);
    set_string(r.meta, "error", r.first_error);
    json_add_time(r.meta, "end_time_tmp", wall_ns());
    cJSON *et = cJSON_DetachItemFromObject(r.meta, "end_time_tmp");
    cJSON_ReplaceItemInObject(r.meta, "end_time", et);
    cJSON_AddNumberToObject(r.meta, "duration_s", (double)(mono_ns() - m0) / 1e9);
    /* What the orchestrator itself cost: its own peak RSS. */
    cJSON_AddNumberToObject(cJSON_GetObjectItem(r.meta, "benchctl"), "peak_rss_kb",
                            (double)self_peak_rss_kb());
    run_save_meta(&r, true);
    results_write(r.dir, r.meta);

    if (r.first_error && !interrupted)
        fprintf(stderr, "benchctl: run %s %s (details in %s/metadata.json)\n", r.id, status, r.dir);
    else if (interrupted)
        fprintf(stderr, "benchctl: run %s interrupted; stages stopped, metadata written\n", r.id);
    printf("Results saved to: %s\n", r.dir);
    fflush(stdout);

    int code = interrupted ? EXIT_INTERRUPTED : (timed_out || r.first_error) ? EXIT_RUN_FAILED
                                                                              : EXIT_OK;
    if (r.journal_fd >= 0)
        close(r.journal_fd);
    char *mdir = path_join(r.dir, "metadata");
    remove_empty_dirs(mdir); /* only what no stage wrote into */
    free(mdir);
    cJSON_Delete(r.meta);
    free(r.hosts);
    free(r.first_error);
    free(r.id);
    free(r.dir);
    free(r.bin);
    config_free(c);
    loader_shutdown(&ld);
    log_close_file();
    return code;
}

int engine_plot(const char *id, const char *output_dir, const char *plots_config,
                const strvec *plugin_paths)
{
    char *err = NULL;
    cJSON *meta = runstore_read(output_dir, id, &err);
    if (!meta) {
        fprintf(stderr, "benchctl plot: %s\n", err);
        free(err);
        return EXIT_USAGE;
    }
    char *run_dir = xasprintf("%s/%s", output_dir, id);
    char *snapshot = path_join(run_dir, "config.yaml");
    loader ld;
    /* The snapshot is read as if it were the original file, so relative
     * paths (plugin_paths, export_path) mean what they meant for the run. */
    const char *orig = cJSON_GetStringValue(cJSON_GetObjectItem(meta, "config_path"));
    char *orig_dir = !plots_config && orig ? dir_name(orig) : NULL;
    config *c = engine_load_in(plots_config ? plots_config : snapshot, orig_dir, &ld, plugin_paths,
                               false);
    free(orig_dir);
    int code = EXIT_USAGE;
    if (c) {
        if (c->nplots == 0) {
            fprintf(stderr, "benchctl plot: %s has no plots section\n",
                    plots_config ? plots_config : snapshot);
        } else {
            int lock = -1;
            runstore_lock(output_dir, &lock);
            cJSON *pj = cJSON_CreateArray();
            int failed = plots_render(c, run_dir, cJSON_GetObjectItem(meta, "stages"), pj, NULL);
            const cJSON *it;
            cJSON_ArrayForEach(it, pj)
            {
                const char *path = cJSON_GetStringValue(cJSON_GetObjectItem(it, "path"));
                const char *st = cJSON_GetStringValue(cJSON_GetObjectItem(it, "status"));
                if (path && st && strcmp(st, "success") == 0)
                    printf("%s/%s\n", run_dir, path);
            }
            cJSON_DeleteItemFromObjectCaseSensitive(meta, "plots");
            cJSON_AddItemToObject(meta, "plots", pj);
            if (!runstore_write(run_dir, meta, true))
                fprintf(stderr, "benchctl plot: cannot update %s/metadata.json: %s\n", run_dir,
                        strerror(errno));
            runstore_unlock(lock);
            code = failed ? EXIT_RUN_FAILED : EXIT_OK;
        }
    }
    config_free(c);
    loader_shutdown(&ld);
    cJSON_Delete(meta);
    free(snapshot);
    free(run_dir);
    return code;
}
