/* Publishing stored runs through a publisher plugin (publish.h). */
#define _GNU_SOURCE
#include "run/publish.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "config/optschema.h"
#include "plugin/coresvc.h"
#include "store/runstore.h"
#include "util/log.h"

struct publish_session {
    const plugin *p;
    optview opts;
    core_ctx ctx;
    void *session;
};

static void now_rfc3339(char *buf, size_t n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

publish_session *publish_open(const plugin *p, const config *c, uint32_t flags, char **err,
                              publish_result *result)
{
    *err = NULL;
    *result = PUBLISH_FAILED;
    if (plugin_ensure_init((plugin *)p, NULL, NULL, err) != BC_OK)
        return NULL;
    publish_session *s = xcalloc(1, sizeof *s);
    s->p = p;
    s->opts.schema = p->desc.options;
    /* the config's options belong to the publisher it names */
    if (c && c->publish.node && c->publish.to && strcmp(c->publish.to, p->desc.name) == 0)
        s->opts.map = c->publish.node;
    ctx_init(&s->ctx, p, &s->opts, NULL, NULL);
    int rc = p->ops.publisher.open(&s->ctx.pub, flags & BC_PUBLISH_DRY_RUN, &s->session);
    if (rc != BC_OK) {
        *err = xstrdup(s->ctx.error[0] ? s->ctx.error : "the session could not be opened");
        *result = rc == BC_DENIED ? PUBLISH_DENIED : PUBLISH_FAILED;
        opts_free(&s->opts);
        free(s);
        return NULL;
    }
    return s;
}

void publish_close(publish_session *s)
{
    if (!s)
        return;
    if (s->p->ops.publisher.close) {
        s->ctx.error[0] = '\0';
        s->p->ops.publisher.close(&s->ctx.pub, s->session);
    }
    opts_free(&s->opts);
    free(s);
}

/* The published.json of a run dir ({} when there is none yet). */
static cJSON *read_published(const char *dir)
{
    char *path = path_join(dir, "published.json");
    char *text = read_file(path, NULL);
    free(path);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        j = cJSON_CreateObject();
    }
    return j;
}

bool publish_done(const char *output_dir, const char *id, const char *name)
{
    char *dir = path_join(output_dir, id);
    cJSON *j = read_published(dir);
    free(dir);
    bool done = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, name));
    cJSON_Delete(j);
    return done;
}

/* Set metadata.json's "publish" to what this attempt did (under the
 * store's lock: `edit` and other publishers read-modify-write it too). */
static void note(const char *output_dir, const char *id, const char *name, const char *status,
                 const char *error)
{
    int lock = -1;
    runstore_lock(output_dir, &lock);
    char *err = NULL;
    cJSON *m = runstore_read(output_dir, id, &err);
    if (!m) {
        log_msg(BC_LOG_WARN, "publish: cannot record the result in run %s's metadata.json: %s", id, err);
        free(err);
        runstore_unlock(lock);
        return;
    }
    char at[32];
    now_rfc3339(at, sizeof at);
    cJSON *pub = cJSON_CreateObject();
    cJSON_AddStringToObject(pub, "to", name);
    cJSON_AddStringToObject(pub, "status", status);
    cJSON_AddStringToObject(pub, "at", at);
    if (error) {
        cJSON_AddStringToObject(pub, "error", error);
        char *retry = xasprintf("benchctl publish %s --to %s", id, name);
        cJSON_AddStringToObject(pub, "retry", retry);
        free(retry);
    } else {
        cJSON_AddStringToObject(pub, "record", "published.json");
    }
    cJSON_DeleteItemFromObjectCaseSensitive(m, "publish");
    cJSON_AddItemToObject(m, "publish", pub);
    char *dir = path_join(output_dir, id);
    if (!runstore_write(dir, m, true))
        log_msg(BC_LOG_WARN, "publish: cannot write %s/metadata.json: %s", dir, strerror(errno));
    free(dir);
    cJSON_Delete(m);
    runstore_unlock(lock);
}

void publish_note_failure(const char *output_dir, const char *id, const char *name,
                          const char *error)
{
    note(output_dir, id, name, "failed", error);
}

/* Keep the plugin's record (record_path) in published.json under name. */
static bool keep_record(const char *dir, const char *name, const char *record_path,
                        char **err)
{
    char *text = read_file(record_path, NULL);
    cJSON *rec = text ? cJSON_Parse(text) : NULL;
    free(text);
    unlink(record_path);
    if (!cJSON_IsObject(rec)) {
        cJSON_Delete(rec);
        *err = xstrdup("the publisher reported success but wrote no record of what it sent");
        return false;
    }
    char at[32];
    now_rfc3339(at, sizeof at);
    cJSON_AddStringToObject(rec, "published_at", at);
    cJSON *all = read_published(dir);
    cJSON_DeleteItemFromObjectCaseSensitive(all, name);
    cJSON_AddItemToObject(all, name, rec);
    char *path = path_join(dir, "published.json");
    bool ok = runstore_write_json(path, all, true);
    if (!ok)
        *err = xasprintf("cannot write %s: %s", path, strerror(errno));
    free(path);
    cJSON_Delete(all);
    return ok;
}

publish_result publish_send(publish_session *s, const char *output_dir, const char *id,
                            uint32_t flags, char **err)
{
    *err = NULL;
    const char *name = s->p->desc.name;
    bool dry = flags & BC_PUBLISH_DRY_RUN;
    char *dir = path_join(output_dir, id);
    char *meta = path_join(dir, "metadata.json");
    publish_result res = PUBLISH_FAILED;
    char *previous = NULL, *record_path = NULL;
    if (access(meta, R_OK) != 0) {
        *err = xasprintf("run %s has no readable %s", id, meta);
        goto out;
    }
    cJSON *all = read_published(dir);
    cJSON *prev = cJSON_GetObjectItemCaseSensitive(all, name);
    if (cJSON_IsObject(prev))
        previous = cJSON_PrintUnformatted(prev);
    cJSON_Delete(all);
    if (previous && !(flags & BC_PUBLISH_FORCE) && !dry) {
        res = PUBLISH_ALREADY;
        goto out;
    }
    record_path = xasprintf("%s/.published-%s.%ld.tmp", dir, name, (long)getpid());
    bc_publish_request req = {
        .size = sizeof req,
        .flags = flags & (BC_PUBLISH_DRY_RUN | BC_PUBLISH_FORCE),
        .run_id = id,
        .run_dir = dir,
        .previous = previous,
        .record_path = record_path,
        .out_fd = STDOUT_FILENO,
    };
    fflush(stdout);
    s->ctx.error[0] = '\0';
    int rc = s->p->ops.publisher.send(&s->ctx.pub, s->session, &req);
    if (rc != BC_OK) {
        unlink(record_path);
        *err = xstrdup(s->ctx.error[0] ? s->ctx.error : "the publisher failed without a reason");
        res = rc == BC_DENIED ? PUBLISH_DENIED : PUBLISH_FAILED;
        if (!dry)
            note(output_dir, id, name, "failed", *err);
        goto out;
    }
    if (dry) {
        res = PUBLISH_SENT;
        goto out;
    }
    if (!keep_record(dir, name, record_path, err)) {
        note(output_dir, id, name, "failed", *err);
        goto out;
    }
    note(output_dir, id, name, "published", NULL);
    res = PUBLISH_SENT;
out:
    free(previous);
    free(record_path);
    free(meta);
    free(dir);
    return res;
}

void publish_at_end(const config *c, const char *output_dir, const char *id, bool run_ok)
{
    const cfg_publish *pub = &c->publish;
    if (!pub->plugin || !pub->on || strcmp(pub->on, "never") == 0)
        return;
    if (strcmp(pub->on, "success") == 0 && !run_ok) {
        log_msg(BC_LOG_INFO, "publish: run %s did not succeed, so it is not published (publish.on: "
                 "success); send it anyway with: benchctl publish %s --to %s", id, id, pub->to);
        return;
    }
    char *err = NULL;
    publish_result res;
    publish_session *s = publish_open(pub->plugin, c, 0, &err, &res);
    if (s) {
        res = publish_send(s, output_dir, id, 0, &err);
        publish_close(s);
    } else {
        publish_note_failure(output_dir, id, pub->to, err);
    }
    if (res == PUBLISH_SENT)
        log_msg(BC_LOG_INFO, "publish: run %s published to %s", id, pub->to);
    else if (res != PUBLISH_ALREADY)
        log_msg(BC_LOG_WARN, "publish: run %s was stored but not published to %s: %s; the run's data and "
                 "status are unchanged; retry with: benchctl publish %s --to %s (or "
                 "benchctl publish --pending)", id, pub->to, err, id, pub->to);
    free(err);
}
