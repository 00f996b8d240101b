/*
 * The daemon's connections: accepting (with the peer's credentials),
 * reading requests (JSON lines), answering them, and sending events to
 * followers and waiters.  A bad request gets an error reply; nothing a
 * client sends can stop the daemon.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/daemon_impl.h"
#include "daemon/sched.h"
#include "util/cpulist.h"
#include "util/jsonget.h"

#define MAX_CLIENTS 512
#define MAX_OUT (8u << 20) /* a follower this far behind is dropped */
#define MAX_WORDS 4096

void conn_accept(qdaemon *d)
{
    int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    struct ucred cr;
    socklen_t len = sizeof cr;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) {
        close(fd);
        return;
    }
    client *c = xcalloc(1, sizeof *c);
    c->fd = fd;
    c->uid = cr.uid;
    c->gid = cr.gid;
    c->pid = cr.pid;
    if (d->nclients >= MAX_CLIENTS) {
        cJSON *e = proto_error("too many connections to the queue daemon; try again");
        conn_send(c, e);
        cJSON_Delete(e);
        c->closing = true;
    }
    if (d->nclients == d->cap_clients) {
        d->cap_clients = d->cap_clients ? d->cap_clients * 2 : 16;
        d->clients = xrealloc(d->clients, d->cap_clients * sizeof *d->clients);
    }
    d->clients[d->nclients++] = c;
}

void conn_flush(client *c)
{
    while (c->out.len > 0) {
        ssize_t w = send(c->fd, c->out.buf, c->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (w <= 0) { /* the peer is gone */
            c->out.len = 0;
            c->closing = true;
            c->follow = false;
            c->wait_id = 0;
            return;
        }
        memmove(c->out.buf, c->out.buf + w, c->out.len - (size_t)w);
        c->out.len -= (size_t)w;
    }
}

void conn_send(client *c, const cJSON *msg)
{
    char *line = proto_line(msg);
    if (c->out.len + strlen(line) > MAX_OUT) { /* too slow a reader */
        c->out.len = 0;
        c->closing = true;
        c->follow = false;
        c->wait_id = 0;
    } else {
        sb_puts(&c->out, line);
    }
    free(line);
    conn_flush(c);
}

void conn_reap(qdaemon *d)
{
    size_t w = 0;
    for (size_t i = 0; i < d->nclients; i++) {
        client *c = d->clients[i];
        if (c->closing && c->out.len == 0) {
            close(c->fd);
            proto_reader_free(&c->in);
            sb_free(&c->out);
            free(c);
            continue;
        }
        d->clients[w++] = c;
    }
    d->nclients = w;
}

/* ---- the queue as JSON ------------------------------------------------------ */

static int cmp_pending(const void *pa, const void *pb)
{
    const task *a = *(task *const *)pa, *b = *(task *const *)pb;
    if (a->group != b->group)
        return a->group > b->group ? -1 : 1;
    if (a->priority != b->priority)
        return a->priority > b->priority ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

static void counts(const qdaemon *d, size_t *running, size_t *pending)
{
    *running = *pending = 0;
    for (size_t i = 0; i < d->tasks.n; i++) {
        *running += d->tasks.v[i]->state == TASK_RUNNING;
        *pending += d->tasks.v[i]->state == TASK_PENDING;
    }
}

cJSON *conn_queue_json(qdaemon *d)
{
    int64_t now = dmn_wall_ms();
    cJSON *q = cJSON_CreateObject();
    cJSON *cpus = cJSON_AddObjectToObject(q, "cpus");
    char *list = cpuset_format_ids(d->o->cpus, d->o->ncpus);
    cJSON_AddStringToObject(cpus, "list", list);
    free(list);
    cJSON_AddNumberToObject(cpus, "total", (double)d->o->ncpus);
    cJSON_AddNumberToObject(cpus, "free", d->free_cpus);
    cJSON *mem = cJSON_AddObjectToObject(q, "memory");
    cJSON_AddNumberToObject(mem, "total", (double)d->o->memory);
    cJSON_AddNumberToObject(mem, "free", (double)d->free_memory);
    cJSON *running = cJSON_AddArrayToObject(q, "running");
    cJSON *pending = cJSON_AddArrayToObject(q, "pending");
    cJSON *finished = cJSON_AddArrayToObject(q, "finished");
    size_t np = 0;
    task **p = xmalloc((d->tasks.n + 1) * sizeof *p);
    for (size_t i = 0; i < d->tasks.n; i++) {
        task *t = d->tasks.v[i];
        if (t->state == TASK_RUNNING)
            cJSON_AddItemToArray(running, task_to_json(t, false, now));
        else if (t->state == TASK_PENDING)
            p[np++] = t;
        else
            cJSON_AddItemToArray(finished, task_to_json(t, false, now));
    }
    qsort(p, np, sizeof *p, cmp_pending);
    for (size_t i = 0; i < np; i++)
        cJSON_AddItemToArray(pending, task_to_json(p[i], false, now));
    free(p);
    return q;
}

void conn_event(qdaemon *d, const char *event, const task *t)
{
    cJSON *m = proto_msg();
    cJSON_AddStringToObject(m, "event", event);
    cJSON_AddNumberToObject(m, "time_ms", (double)dmn_wall_ms());
    cJSON_AddItemToObject(m, "task", task_to_json(t, false, dmn_wall_ms()));
    size_t running, pending;
    counts(d, &running, &pending);
    cJSON_AddNumberToObject(m, "running", (double)running);
    cJSON_AddNumberToObject(m, "pending", (double)pending);
    bool done = task_finished(t);
    for (size_t i = 0; i < d->nclients; i++) {
        client *c = d->clients[i];
        if (c->follow || c->wait_id == t->id)
            conn_send(c, m);
        if (c->wait_id == t->id && done) {
            c->wait_id = 0;
            c->closing = true;
        }
    }
    cJSON_Delete(m);
}

/* ---- requests ----------------------------------------------------------------- */

static void reply_error(client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply_error(client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    cJSON *e = proto_error(msg ? msg : "error");
    free(msg);
    conn_send(c, e);
    cJSON_Delete(e);
}

static cJSON *reply_ok(void)
{
    cJSON *m = proto_msg();
    cJSON_AddTrueToObject(m, "ok");
    return m;
}

/* A whole number member in [lo, hi], or dflt when absent.  false (and an
 * error reply) otherwise. */
static bool int_member(client *c, const cJSON *o, const char *key, int64_t lo, int64_t hi,
                       int64_t dflt, int64_t *out)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!n) {
        *out = dflt;
        return true;
    }
    if (!cJSON_IsNumber(n) || !isfinite(n->valuedouble) || n->valuedouble != floor(n->valuedouble) ||
        n->valuedouble < (double)lo || n->valuedouble > (double)hi) {
        reply_error(c, "'%s' must be a whole number from %lld to %lld", key, (long long)lo,
                    (long long)hi);
        return false;
    }
    *out = (int64_t)n->valuedouble;
    return true;
}

static bool words_member(client *c, const cJSON *o, const char *key, strvec *out, bool env)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!a)
        return true;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > MAX_WORDS) {
        reply_error(c, "'%s' must be an array of at most %d strings", key, MAX_WORDS);
        return false;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        if (!cJSON_IsString(e) || (env && (!strchr(e->valuestring, '=') ||
                                           e->valuestring[0] == '='))) {
            reply_error(c, env ? "'%s' must be an array of \"KEY=VALUE\" strings"
                               : "'%s' must be an array of strings", key);
            return false;
        }
        sv_push(out, e->valuestring);
    }
    return true;
}

static const char *abs_member(client *c, const cJSON *o, const char *key, bool required)
{
    const char *s = jstr(o, key);
    if (!s && !required && !cJSON_GetObjectItemCaseSensitive(o, key))
        return "";
    if (!s || s[0] != '/') {
        reply_error(c, "'%s' must be an absolute path", key);
        return NULL;
    }
    return s;
}

static void op_submit(qdaemon *d, client *c, const cJSON *req)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(req, "task");
    if (!cJSON_IsObject(spec)) {
        reply_error(c, "submit: 'task' must be an object");
        return;
    }
    if (geteuid() != 0 && c->uid != geteuid()) {
        reply_error(c, "this daemon runs as uid %u and cannot run tasks as uid %u (run it as "
                       "root to serve several users)", (unsigned)geteuid(), (unsigned)c->uid);
        return;
    }
    struct passwd *pw = getpwuid(c->uid);
    if (!pw) {
        reply_error(c, "uid %u has no passwd entry: tasks cannot run as it", (unsigned)c->uid);
        return;
    }
    task *t = task_new();
    int64_t cpus;
    const char *kind = jstr(spec, "kind"), *cwd, *config = NULL, *out_dir = NULL;
    if (!kind || (strcmp(kind, "config") != 0 && strcmp(kind, "command") != 0)) {
        reply_error(c, "submit: 'kind' must be \"config\" or \"command\"");
        goto fail;
    }
    t->kind = strcmp(kind, "config") == 0 ? TASK_CONFIG : TASK_COMMAND;
    if (!int_member(c, spec, "cpus", 1, (int64_t)d->o->ncpus, 1, &cpus) ||
        !int_member(c, spec, "memory", 0, d->o->memory, 0, &t->memory) ||
        !int_member(c, spec, "walltime_ms", 0, INT64_C(1) << 50, 0, &t->walltime_ms) ||
        !int_member(c, spec, "priority", -1000000000, 1000000000, 0, &t->priority) ||
        !int_member(c, spec, "group", -1000000000, 1000000000, 0, &t->group))
        goto fail;
    t->cpus = (int)cpus;
    if (t->memory > 0 && t->memory < (1 << 20)) {
        reply_error(c, "submit: 'memory' must be 0 (none) or at least 1 MiB (1048576), the "
                       "smallest memory limit a task's stages can be held to");
        goto fail;
    }
    if (!(cwd = abs_member(c, spec, "cwd", true)))
        goto fail;
    if (t->kind == TASK_CONFIG && !(config = abs_member(c, spec, "config", true)))
        goto fail;
    if (t->kind == TASK_COMMAND && !(out_dir = abs_member(c, spec, "output_dir", true)))
        goto fail;
    if (!words_member(c, spec, t->kind == TASK_CONFIG ? "args" : "argv", &t->args, false) ||
        !words_member(c, spec, "env", &t->env, true))
        goto fail;
    if (t->kind == TASK_COMMAND && t->args.n == 0) {
        reply_error(c, "submit: a command task needs 'argv' (the command and its arguments)");
        goto fail;
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(spec, "name");
    if (name && !cJSON_IsNull(name) &&
        (!cJSON_IsString(name) || strlen(name->valuestring) > 200 ||
         strpbrk(name->valuestring, "\n\r\t"))) {
        reply_error(c, "submit: 'name' must be a string of at most 200 characters on one line");
        goto fail;
    }
    t->name = cJSON_IsString(name) ? xstrdup(name->valuestring) : NULL;
    t->cwd = xstrdup(cwd);
    t->config = config ? xstrdup(config) : NULL;
    t->output_dir = out_dir ? xstrdup(out_dir) : NULL;
    t->uid = c->uid;
    t->gid = pw->pw_gid;
    t->user = xstrdup(pw->pw_name);
    t->id = d->next_id++;
    t->submitted_ms = dmn_wall_ms();
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "j", "task");
    cJSON_AddItemToObject(rec, "task", task_to_json(t, true, 0));
    dmn_journal(d, rec);
    tasklist_push(&d->tasks, t);
    cJSON *m = reply_ok();
    cJSON_AddNumberToObject(m, "id", (double)t->id);
    conn_send(c, m);
    cJSON_Delete(m);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "wait")))
        c->wait_id = t->id;
    dmn_log("task %lld submitted by %s: %s, %d CPU%s", (long long)t->id, t->user, kind, t->cpus,
            t->cpus == 1 ? "" : "s");
    conn_event(d, "submitted", t);
    d->dirty = true;
    return;
fail:
    task_free(t);
}

static void op_cancel(qdaemon *d, client *c, const cJSON *req)
{
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(req, "ids");
    if (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) == 0 || cJSON_GetArraySize(ids) > MAX_WORDS) {
        reply_error(c, "cancel: 'ids' must be a non-empty array of task IDs");
        return;
    }
    cJSON *m = reply_ok();
    cJSON *results = cJSON_AddArrayToObject(m, "results");
    const cJSON *e;
    cJSON_ArrayForEach(e, ids) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddItemToArray(results, r);
        double v = cJSON_IsNumber(e) ? e->valuedouble : NAN;
        task *t = v >= 1 && v == floor(v) && v < 9e15 ? tasklist_find(&d->tasks, (int64_t)v) : NULL;
        cJSON_AddItemToObject(r, "id", cJSON_Duplicate(e, true));
        const char *err = NULL;
        char buf[256];
        if (!t) {
            err = "no such task";
        } else if (c->uid != 0 && c->uid != t->uid) {
            snprintf(buf, sizeof buf, "task %lld belongs to %s: only its owner or root may "
                                      "cancel it", (long long)t->id, t->user ? t->user : "?");
            err = buf;
        } else if (task_finished(t)) {
            snprintf(buf, sizeof buf, "task %lld has already ended (%s)", (long long)t->id,
                     task_state_name(t->state));
            err = buf;
        }
        if (err) {
            cJSON_AddFalseToObject(r, "ok");
            cJSON_AddStringToObject(r, "error", err);
            continue;
        }
        cJSON_AddTrueToObject(r, "ok");
        struct passwd *pw = getpwuid(c->uid);
        char *why = xasprintf("cancelled by %s", pw ? pw->pw_name : "?");
        if (t->state == TASK_PENDING) {
            runner_end(d, t, TASK_CANCELLED, -1, why);
            cJSON_AddStringToObject(r, "state", "cancelled");
        } else {
            runner_stop(d, t, TASK_CANCELLED, why);
            cJSON_AddStringToObject(r, "state", "stopping");
        }
        free(why);
    }
    conn_send(c, m);
    cJSON_Delete(m);
}

static void op_wait(qdaemon *d, client *c, const cJSON *req)
{
    double v = jnum(req, "id");
    task *t = v >= 1 && v == floor(v) && v < 9e15 ? tasklist_find(&d->tasks, (int64_t)v) : NULL;
    if (!t) {
        reply_error(c, "wait: no such task (finished tasks are remembered for a while only)");
        return;
    }
    cJSON *m = reply_ok();
    cJSON_AddItemToObject(m, "task", task_to_json(t, false, dmn_wall_ms()));
    conn_send(c, m);
    cJSON_Delete(m);
    if (task_finished(t))
        c->closing = true;
    else
        c->wait_id = t->id;
}

static void serve(qdaemon *d, client *c, const char *line)
{
    cJSON *req = cJSON_Parse(line);
    if (!cJSON_IsObject(req)) {
        reply_error(c, "a request must be one JSON object on one line "
                       "(docs/schema/queue-protocol.schema.json)");
        goto done;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, "v");
    if (!cJSON_IsNumber(v) || v->valuedouble != PROTO_VERSION) {
        reply_error(c, "unsupported protocol version (this daemon speaks \"v\": %d)",
                    PROTO_VERSION);
        goto done;
    }
    const char *op = jstr(req, "op");
    if (!op) {
        reply_error(c, "a request needs an 'op' (submit, queue, follow, cancel, wait, ping)");
    } else if (strcmp(op, "submit") == 0) {
        op_submit(d, c, req);
    } else if (strcmp(op, "cancel") == 0) {
        op_cancel(d, c, req);
    } else if (strcmp(op, "wait") == 0) {
        op_wait(d, c, req);
    } else if (strcmp(op, "queue") == 0 || strcmp(op, "follow") == 0) {
        cJSON *m = reply_ok();
        cJSON_AddItemToObject(m, "queue", conn_queue_json(d));
        conn_send(c, m);
        cJSON_Delete(m);
        c->follow = strcmp(op, "follow") == 0;
    } else if (strcmp(op, "ping") == 0) {
        cJSON *m = reply_ok();
        cJSON_AddNumberToObject(m, "protocol", PROTO_VERSION);
        cJSON_AddNumberToObject(m, "pid", getpid());
        conn_send(c, m);
        cJSON_Delete(m);
    } else {
        reply_error(c, "unknown op '%.64s' (submit, queue, follow, cancel, wait, ping)", op);
    }
done:
    cJSON_Delete(req);
}

void conn_input(qdaemon *d, client *c)
{
    for (int n = 0; n < 64 && !c->closing; n++) {
        char *line = NULL;
        proto_read_result r = proto_read_line(&c->in, c->fd, &line);
        if (r == PROTO_AGAIN)
            return;
        if (r == PROTO_LINE) {
            serve(d, c, line);
            free(line);
            continue;
        }
        if (r == PROTO_TOO_LONG) {
            reply_error(c, "request longer than %d bytes", PROTO_MAX_LINE);
            c->closing = true;
            return;
        }
        /* EOF or error: a follower or waiter that closed its end */
        c->closing = true;
        c->follow = false;
        c->wait_id = 0;
        return;
    }
}
