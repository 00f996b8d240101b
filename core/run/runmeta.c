/*
 * metadata.json of a run: what it holds when the run starts (identity,
 * config, hosts, custom metadata, git, machine, plugins), its refreshes
 * while stages end (stages.jsonl gets each record at once), and its final
 * form.  The run's store boundary: the run directory's JSON is written here
 * and in the store layer, never read back by another step.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util/beneath.h"
#include "paths.h"
#include "run/run.h"
#include "store/hostfacts.h"
#include "store/reserve.h"
#include "store/runstore.h"
#include "util/log.h"
#include "util/wfail.h"
#include "util/utf8.h"

/* Keys `benchctl edit` changed in the stored metadata.json while the run
 * goes on (a stage may annotate its own run): what differs on disk from
 * what the run last wrote is theirs, and is kept. */
static void take_edits(run *r)
{
    if (!r->custom_written)
        return;
    char *err = NULL;
    cJSON *disk = runstore_read(r->cfg->output_dir, r->id, &err);
    free(err);
    const cJSON *dc = cJSON_GetObjectItemCaseSensitive(disk, "custom");
    const cJSON *kv;
    cJSON_ArrayForEach(kv, dc)
    {
        const cJSON *was = cJSON_GetObjectItemCaseSensitive(r->custom_written, kv->string);
        if (cJSON_IsString(kv) && (!was || !cJSON_Compare(was, kv, true)))
            meta_set_string(r->custom, kv->string, kv->valuestring);
    }
    cJSON_Delete(disk);
}

/* Keep room for the final metadata.json and results.json: four times
 * what metadata.json takes now (its new copy is written beside it). */
static void grow_reserve(run *r)
{
    if (r->final_write)
        return;
    char *path = path_join(r->dir, "metadata.json");
    struct stat st;
    size_t want = RESERVE_MIN;
    if (stat(path, &st) == 0 && (size_t)st.st_size * 4 > want)
        want = (size_t)st.st_size * 4;
    free(path);
    if (!reserve_ensure(r->dir, want))
        log_msg(BC_LOG_DEBUG, "cannot grow %s/%s to %zu bytes: %s", r->dir, RESERVE_FILE, want,
                strerror(errno));
}

bool run_save_meta(run *r, bool durable)
{
    /* The store's lock: `benchctl edit` may write this run's metadata.json
     * too.  Other threads add to meta under r->lock (custom metadata from
     * parallel stages, remote host facts). */
    int fd = -1;
    runstore_lock(r->cfg->output_dir, &fd);
    pthread_mutex_lock(&r->lock);
    take_edits(r);
    bool ok = runstore_write(r->dir, r->meta, durable);
    if (ok) { /* what is on disk now: the base an edit is told from */
        cJSON_Delete(r->custom_written);
        r->custom_written = cJSON_Duplicate(r->custom, true);
    }
    pthread_mutex_unlock(&r->lock);
    runstore_unlock(fd);
    if (!ok) {
        int e = errno;
        char *path = path_join(r->dir, "metadata.json");
        log_msg(BC_LOG_ERROR, "cannot write %s: %s", path, strerror(e));
        wfail_note(path, e);
        free(path);
    } else {
        grow_reserve(r);
    }
    r->last_save_ns = mono_ns();
    return ok;
}

/* After each stage: append its record to stages.jsonl (cheap, so even a
 * killed benchctl leaves every finished stage on disk) and refresh
 * metadata.json at most once a second (rewriting it after every stage
 * would cost O(stages^2) for long workflows). */
void run_stage_done(run *r, stage_rec *rec)
{
    pthread_mutex_lock(&r->lock);
    record_refresh(rec, r->stages_json);
    size_t bad = json_fix_utf8(rec->json);
    if (bad) { /* said in metadata.json, as runstore_write_json does */
        const cJSON *was = cJSON_GetObjectItemCaseSensitive(r->meta, "invalid_utf8_replaced");
        double total = (double)bad + (cJSON_IsNumber(was) ? was->valuedouble : 0);
        cJSON_DeleteItemFromObjectCaseSensitive(r->meta, "invalid_utf8_replaced");
        cJSON_AddNumberToObject(r->meta, "invalid_utf8_replaced", total);
        log_msg(BC_LOG_WARN, "stage '%s': %zu byte%s of invalid UTF-8 in its record replaced by "
                "U+FFFD", rec->st ? rec->st->name : "?", bad, bad == 1 ? "" : "s");
    }
    char *line = cJSON_PrintUnformatted(rec->json);
    pthread_mutex_unlock(&r->lock);
    if (line && r->journal_fd >= 0) {
        size_t len = strlen(line);
        line[len] = '\n';
        if (!write_full(r->journal_fd, line, len + 1)) {
            int e = errno;
            char *path = path_join(r->dir, LAYOUT_JOURNAL);
            log_msg(BC_LOG_ERROR, "cannot append to %s: %s", path, strerror(e));
            wfail_note(path, e);
            free(path);
        }
    }
    free(line);
    if (mono_ns() - r->last_save_ns >= 1000000000LL)
        run_save_meta(r, false);
}


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
    for (size_t i = 0; i < l->nplugins; i++)
        cJSON_AddItemToArray(a, loader_plugin_json(l->plugins[i]));
    return a;
}

static void json_add_time(cJSON *o, const char *key, int64_t wall)
{
    char buf[64];
    format_rfc3339(wall, buf, sizeof buf);
    cJSON_AddStringToObject(o, key, buf);
}

void meta_add_case(run *r, const cfg_case *cs, const char *status)
{
    cJSON *cj = cJSON_CreateObject();
    cJSON_AddStringToObject(cj, "name", cs->name);
    if (strcmp(status, "not_run") != 0) {
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
    }
    cJSON_AddStringToObject(cj, "status", status);
    pthread_mutex_lock(&r->lock);
    cJSON_AddItemToArray(r->cases_json, cj);
    pthread_mutex_unlock(&r->lock);
}

void meta_set_string(cJSON *o, const char *key, const char *val)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, key);
    if (val)
        cJSON_AddStringToObject(o, key, val);
    else
        cJSON_AddNullToObject(o, key);
}


/* "k=v" entries: their keys as a JSON array, or their pairs into obj. */
static void add_pairs(cJSON *obj, cJSON *keys, const strvec *kv)
{
    for (size_t i = 0; i < kv->n; i++) {
        const char *eq = strchr(kv->v[i], '=');
        char *k = xstrndup(kv->v[i], (size_t)(eq - kv->v[i]));
        if (obj)
            meta_set_string(obj, k, eq + 1);
        if (keys)
            cJSON_AddItemToArray(keys, cJSON_CreateString(k));
        free(k);
    }
}

/* A name that looks like it holds a secret (its value is not recorded). */
static bool secret_name(const char *name)
{
    static const char *const marks[] = {"PASS", "PWD",        "SECRET", "TOKEN",
                                        "KEY",  "CREDENTIAL", "AUTH",   NULL};
    for (size_t i = 0; marks[i]; i++)
        if (strcasestr(name, marks[i]))
            return true;
    return false;
}

/* -e K=V: the values, as parameters of the run (secrets redacted). */
static void add_parameters(cJSON *obj, const strvec *kv)
{
    for (size_t i = 0; i < kv->n; i++) {
        const char *eq = strchr(kv->v[i], '=');
        char *k = xstrndup(kv->v[i], (size_t)(eq - kv->v[i]));
        meta_set_string(obj, k, secret_name(k) ? "<redacted>" : eq + 1);
        free(k);
    }
}

void meta_begin(run *r, const git_state *git)
{
    const config *c = r->cfg;
    r->meta = cJSON_CreateObject();
    cJSON_AddStringToObject(r->meta, "run_id", r->id);
    int64_t num; /* run_id as a JSON integer (run_id stays a string: the Go tool's) */
    if (parse_int64(r->id, &num))
        cJSON_AddNumberToObject(r->meta, "run_number", (double)num);
    cJSON_AddStringToObject(r->meta, "benchmark_name", c->name);
    json_add_time(r->meta, "start_time", wall_ns());
    cJSON_AddNullToObject(r->meta, "end_time");
    cJSON_AddStringToObject(r->meta, "status", "running");
    /* BENCHCTL_RUN_MARK: how `benchctl gc` finds what a crashed run left */
    cJSON_AddStringToObject(r->meta, "run_mark", r->mark);
    cJSON_AddNullToObject(r->meta, "error");
    cJSON_AddItemToObject(r->meta, "config", yaml_to_json(c, ytree_root(c->tree)));
    cJSON_AddStringToObject(r->meta, "config_path", c->abs_path);
    cJSON_AddStringToObject(r->meta, "config_copy", LAYOUT_CONFIG_COPY);
    cJSON_AddItemToObject(r->meta, "hosts", hosts_json(r));
    r->custom = cJSON_AddObjectToObject(r->meta, "custom");
    add_pairs(r->custom, NULL, &r->o->metadata);
    cJSON_AddItemToObject(r->meta, "git", c->git_capture ? git_to_json(git) : cJSON_CreateNull());
    add_pairs(NULL, cJSON_AddArrayToObject(r->meta, "environment"), &r->o->env);
    add_parameters(cJSON_AddObjectToObject(r->meta, "parameters"), &r->o->env);
    cJSON *bj = cJSON_AddObjectToObject(r->meta, "benchctl");
    cJSON_AddStringToObject(bj, "version", BENCHCTL_VERSION);
    cJSON_AddStringToObject(bj, "abi", BENCHCTL_ABI_STRING);
    cJSON_AddItemToObject(r->meta, "machine", r->machine ? r->machine : hostfacts_collect());
    r->machine = NULL;
    cJSON_AddItemToObject(r->meta, "plugins", plugins_json(r->ld));
    r->stages_json = cJSON_AddArrayToObject(r->meta, "stages");
    if (c->ncases)
        r->cases_json = cJSON_AddArrayToObject(r->meta, "cases");
    run_save_meta(r, true);
    char *jpath = path_join(r->dir, LAYOUT_JOURNAL);
    r->journal_fd = open_beneath(jpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
    free(jpath);
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

bool meta_end(run *r, const char *status, double duration_s)
{
    meta_set_string(r->meta, "status", status);
    meta_set_string(r->meta, "error", r->first_error);
    json_add_time(r->meta, "end_time_tmp", wall_ns());
    cJSON *et = cJSON_DetachItemFromObject(r->meta, "end_time_tmp");
    cJSON_ReplaceItemInObject(r->meta, "end_time", et);
    cJSON_AddNumberToObject(r->meta, "duration_s", duration_s);
    /* What the orchestrator itself cost: its own peak RSS. */
    cJSON_AddNumberToObject(cJSON_GetObjectItem(r->meta, "benchctl"), "peak_rss_kb",
                            (double)self_peak_rss_kb());
    /* The room kept since the start is for this write. */
    r->final_write = true;
    reserve_release(r->dir);
    return run_save_meta(r, true);
}
