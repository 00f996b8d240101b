/* Queued tasks and their JSON form (task.h). */
#include "daemon/task.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[] = {
    [TASK_PENDING] = "pending",     [TASK_RUNNING] = "running",
    [TASK_SUCCEEDED] = "succeeded", [TASK_FAILED] = "failed",
    [TASK_CANCELLED] = "cancelled", [TASK_TIMEOUT] = "timeout",
    [TASK_INTERRUPTED] = "interrupted",
};

const char *task_state_name(task_state s)
{
    return (size_t)s < ARRAY_LEN(state_names) ? state_names[s] : "unknown";
}

bool task_state_from_name(const char *name, task_state *out)
{
    for (size_t i = 0; name && i < ARRAY_LEN(state_names); i++)
        if (strcmp(state_names[i], name) == 0) {
            *out = (task_state)i;
            return true;
        }
    return false;
}

bool task_finished(const task *t) { return t->state != TASK_PENDING && t->state != TASK_RUNNING; }

task *task_new(void)
{
    task *t = xcalloc(1, sizeof *t);
    t->exit_code = -1;
    return t;
}

void task_free(task *t)
{
    if (!t)
        return;
    free(t->name);
    free(t->user);
    free(t->config);
    sv_free(&t->args);
    free(t->output_dir);
    free(t->cwd);
    sv_free(&t->env);
    free(t->run_id);
    free(t->run_dir);
    free(t->cpu_list);
    free(t->reason);
    free(t->termination);
    free(t->cpu_ids);
    free(t);
}

static void add_str(cJSON *o, const char *key, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static void add_strvec(cJSON *o, const char *key, const strvec *sv)
{
    cJSON *a = cJSON_AddArrayToObject(o, key);
    for (size_t i = 0; i < sv->n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(sv->v[i]));
}

char *task_command_line(const task *t)
{
    strbuf sb = {0};
    for (size_t i = 0; i < t->args.n; i++) {
        char *q = shell_quote(t->args.v[i]);
        sb_printf(&sb, "%s%s", i ? " " : "", q);
        free(q);
    }
    return sb.buf ? sb_steal(&sb) : xstrdup("");
}

cJSON *task_to_json(const task *t, bool full, int64_t now_ms)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)t->id);
    add_str(o, "name", t->name);
    cJSON_AddStringToObject(o, "state", task_state_name(t->state));
    add_str(o, "user", t->user);
    cJSON_AddNumberToObject(o, "uid", t->uid);
    cJSON_AddNumberToObject(o, "gid", t->gid);
    cJSON_AddNumberToObject(o, "group", (double)t->group);
    cJSON_AddNumberToObject(o, "priority", (double)t->priority);
    cJSON_AddNumberToObject(o, "cpus", t->cpus);
    cJSON_AddNumberToObject(o, "memory", (double)t->memory);
    cJSON_AddNumberToObject(o, "walltime_ms", (double)t->walltime_ms);
    cJSON_AddStringToObject(o, "kind", t->kind == TASK_CONFIG ? "config" : "command");
    add_str(o, "config", t->config);
    if (t->kind == TASK_COMMAND) {
        char *line = task_command_line(t);
        cJSON_AddStringToObject(o, "command", line);
        free(line);
    }
    add_str(o, "output_dir", t->output_dir);
    cJSON_AddNumberToObject(o, "submitted_ms", (double)t->submitted_ms);
    cJSON_AddNumberToObject(o, "started_ms", (double)t->started_ms);
    cJSON_AddNumberToObject(o, "ended_ms", (double)t->ended_ms);
    if (!full) {
        int64_t until = t->started_ms ? t->started_ms : now_ms;
        cJSON_AddNumberToObject(o, "waiting_s", until > t->submitted_ms
                                                    ? (double)(until - t->submitted_ms) / 1000.0
                                                    : 0.0);
    }
    if (t->exit_code >= 0)
        cJSON_AddNumberToObject(o, "exit_code", t->exit_code);
    else
        cJSON_AddNullToObject(o, "exit_code");
    add_str(o, "run_id", t->run_id);
    add_str(o, "run_dir", t->run_dir);
    add_str(o, "cpu_list", t->cpu_list);
    add_str(o, "reason", t->reason);
    add_str(o, "termination", t->termination);
    if (full) {
        add_strvec(o, "args", &t->args);
        add_strvec(o, "env", &t->env);
        add_str(o, "cwd", t->cwd);
        cJSON_AddNumberToObject(o, "pid", t->pid);
    }
    return o;
}

/* ---- reading ------------------------------------------------------------ */

static bool get_int(const cJSON *j, const char *key, int64_t *out, char **err)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!cJSON_IsNumber(n) || !isfinite(n->valuedouble) || n->valuedouble != floor(n->valuedouble) ||
        fabs(n->valuedouble) > 9007199254740992.0) {
        *err = xasprintf("'%s' must be a whole number", key);
        return false;
    }
    *out = (int64_t)n->valuedouble;
    return true;
}

static bool get_str(const cJSON *j, const char *key, char **out, bool required, char **err)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, key);
    if ((!s || cJSON_IsNull(s)) && !required)
        return true;
    if (!cJSON_IsString(s)) {
        *err = xasprintf("'%s' must be a string", key);
        return false;
    }
    *out = xstrdup(s->valuestring);
    return true;
}

static bool get_strvec(const cJSON *j, const char *key, strvec *out, char **err)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!a)
        return true;
    if (!cJSON_IsArray(a)) {
        *err = xasprintf("'%s' must be an array of strings", key);
        return false;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        if (!cJSON_IsString(e)) {
            *err = xasprintf("'%s' must be an array of strings", key);
            return false;
        }
        sv_push(out, e->valuestring);
    }
    return true;
}

task *task_from_json(const cJSON *j, char **err)
{
    task *t = task_new();
    int64_t v;
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "kind"));
    const char *state = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "state"));
    if (!cJSON_IsObject(j)) {
        *err = xstrdup("a task must be an object");
        goto fail;
    }
    if (!get_int(j, "id", &t->id, err) || !get_int(j, "group", &t->group, err) ||
        !get_int(j, "priority", &t->priority, err) || !get_int(j, "memory", &t->memory, err) ||
        !get_int(j, "walltime_ms", &t->walltime_ms, err) ||
        !get_int(j, "submitted_ms", &t->submitted_ms, err))
        goto fail;
    if (!get_int(j, "cpus", &v, err))
        goto fail;
    t->cpus = (int)v;
    if (!get_int(j, "uid", &v, err))
        goto fail;
    t->uid = (uid_t)v;
    if (!get_int(j, "gid", &v, err))
        goto fail;
    t->gid = (gid_t)v;
    if (get_int(j, "started_ms", &v, err))
        t->started_ms = v;
    if (get_int(j, "ended_ms", &v, err))
        t->ended_ms = v;
    if (get_int(j, "exit_code", &v, err))
        t->exit_code = (int)v;
    if (get_int(j, "pid", &v, err))
        t->pid = (pid_t)v;
    free(*err);
    *err = NULL;
    if (!kind || (strcmp(kind, "config") != 0 && strcmp(kind, "command") != 0)) {
        *err = xstrdup("'kind' must be \"config\" or \"command\"");
        goto fail;
    }
    t->kind = strcmp(kind, "config") == 0 ? TASK_CONFIG : TASK_COMMAND;
    if (!task_state_from_name(state, &t->state)) {
        *err = xstrdup("'state' is not a task state");
        goto fail;
    }
    if (!get_str(j, "name", &t->name, false, err) || !get_str(j, "user", &t->user, false, err) ||
        !get_str(j, "config", &t->config, false, err) ||
        !get_str(j, "output_dir", &t->output_dir, false, err) ||
        !get_str(j, "cwd", &t->cwd, true, err) || !get_str(j, "run_id", &t->run_id, false, err) ||
        !get_str(j, "run_dir", &t->run_dir, false, err) ||
        !get_str(j, "cpu_list", &t->cpu_list, false, err) ||
        !get_str(j, "reason", &t->reason, false, err) ||
        !get_str(j, "termination", &t->termination, false, err) ||
        !get_strvec(j, "args", &t->args, err) ||
        !get_strvec(j, "env", &t->env, err))
        goto fail;
    return t;
fail:
    task_free(t);
    return NULL;
}

/* ---- the list ----------------------------------------------------------- */

void tasklist_push(tasklist *l, task *t)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = t;
}

task *tasklist_find(const tasklist *l, int64_t id)
{
    /* IDs ascend: a binary search (journal replay may append out of
     * order only for IDs already present, which it replaces in place). */
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->v[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < l->n && l->v[lo]->id == id ? l->v[lo] : NULL;
}

void tasklist_trim(tasklist *l, size_t keep)
{
    size_t finished = 0;
    for (size_t i = 0; i < l->n; i++)
        finished += task_finished(l->v[i]);
    if (finished <= keep)
        return;
    size_t drop = finished - keep, w = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (drop > 0 && task_finished(l->v[i])) {
            task_free(l->v[i]);
            drop--;
            continue;
        }
        l->v[w++] = l->v[i];
    }
    l->n = w;
}

void tasklist_free(tasklist *l)
{
    for (size_t i = 0; i < l->n; i++)
        task_free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}
