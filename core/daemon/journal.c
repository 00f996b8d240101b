/* The queue's journal (journal.h). */
#define _GNU_SOURCE
#include "daemon/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/jsonget.h"

static void replace_str(char **dst, const char *v)
{
    if (!v)
        return;
    free(*dst);
    *dst = xstrdup(v);
}

/* Apply one record to the tasks.  false when it is not a record. */
static bool apply(const cJSON *rec, tasklist *tasks, int64_t *next_id)
{
    const char *kind = jstr(rec, "j");
    if (!kind)
        return false;
    if (strcmp(kind, "next") == 0) {
        double n = jnum(rec, "id");
        if (!(n >= 1))
            return false;
        if ((int64_t)n > *next_id)
            *next_id = (int64_t)n;
        return true;
    }
    if (strcmp(kind, "task") == 0) {
        char *err = NULL;
        task *t = task_from_json(cJSON_GetObjectItemCaseSensitive(rec, "task"), &err);
        if (!t) {
            free(err);
            return false;
        }
        task *old = tasklist_find(tasks, t->id);
        if (old) {
            for (size_t i = 0; i < tasks->n; i++)
                if (tasks->v[i] == old)
                    tasks->v[i] = t;
            task_free(old);
        } else if (tasks->n == 0 || tasks->v[tasks->n - 1]->id < t->id) {
            tasklist_push(tasks, t);
        } else {
            task_free(t); /* out of order: IDs only grow */
            return false;
        }
        if (t->id >= *next_id)
            *next_id = t->id + 1;
        return true;
    }
    double id = jnum(rec, "id");
    task *t = id >= 1 ? tasklist_find(tasks, (int64_t)id) : NULL;
    if (!t)
        return false;
    if (strcmp(kind, "start") == 0) {
        t->state = TASK_RUNNING;
        t->started_ms = (int64_t)jnum(rec, "t");
        double pid = jnum(rec, "pid");
        t->pid = pid > 0 ? (pid_t)pid : 0;
        replace_str(&t->cpu_list, jstr(rec, "cpu_list"));
        return true;
    }
    if (strcmp(kind, "run") == 0) {
        replace_str(&t->run_id, jstr(rec, "run_id"));
        replace_str(&t->run_dir, jstr(rec, "run_dir"));
        return true;
    }
    if (strcmp(kind, "end") == 0) {
        task_state s;
        if (!task_state_from_name(jstr(rec, "state"), &s))
            return false;
        t->state = s;
        t->ended_ms = (int64_t)jnum(rec, "t");
        double code = jnum(rec, "exit_code");
        t->exit_code = code >= 0 ? (int)code : -1;
        replace_str(&t->reason, jstr(rec, "reason"));
        replace_str(&t->termination, jstr(rec, "termination"));
        replace_str(&t->run_id, jstr(rec, "run_id"));
        replace_str(&t->run_dir, jstr(rec, "run_dir"));
        t->pid = 0;
        return true;
    }
    return false;
}

bool journal_open(journal *j, const char *dir, tasklist *tasks, int64_t *next_id,
                  void (*warn)(const char *msg), char **err)
{
    j->fd = -1;
    j->lines = 0;
    j->path = path_join(dir, "journal.jsonl");
    *next_id = 1;
    /* Never through a link: a root daemon would read or append to its target. */
    int rfd = open(j->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    FILE *f = rfd >= 0 ? fdopen(rfd, "r") : NULL;
    if (rfd >= 0 && !f)
        close(rfd);
    if (!f && errno != ENOENT) {
        *err = xasprintf("cannot read %s: %s", j->path, strerror(errno));
        return false;
    }
    if (f) {
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        size_t lineno = 0;
        while ((len = getline(&line, &cap, f)) >= 0) {
            lineno++;
            if (len <= 1)
                continue;
            cJSON *rec = cJSON_ParseWithLength(line, (size_t)len);
            if (!rec || !apply(rec, tasks, next_id)) {
                char *msg = xasprintf("%s:%zu: skipped a record that does not parse (a write cut "
                                      "short when the daemon was killed?)", j->path, lineno);
                warn(msg);
                free(msg);
            }
            cJSON_Delete(rec);
            j->lines++;
        }
        free(line);
        fclose(f);
    }
    j->fd = open(j->path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (j->fd < 0) {
        *err = xasprintf("cannot open %s: %s", j->path, strerror(errno));
        return false;
    }
    return true;
}

bool journal_append(journal *j, cJSON *rec)
{
    char *text = cJSON_PrintUnformatted(rec);
    cJSON_Delete(rec);
    size_t len = strlen(text);
    text[len] = '\n'; /* replaces the NUL: written with its length */
    size_t off = 0;
    bool ok = true;
    off_t start = lseek(j->fd, 0, SEEK_END); /* a torn line is cut back to here */
    while (off < len + 1) {
        ssize_t w = write(j->fd, text + off, len + 1 - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            ok = false;
            break;
        }
        off += (size_t)w;
    }
    int saved = errno;
    free(text);
    /* A line written in part (disk full) would swallow the next one. */
    if (!ok && off > 0 && start >= 0 && ftruncate(j->fd, start) != 0)
        saved = errno; /* the next start skips the torn line with a warning */
    if (ok && fdatasync(j->fd) != 0)
        ok = false;
    else
        errno = saved;
    j->lines++;
    return ok;
}

bool journal_compact(journal *j, const tasklist *tasks, int64_t next_id)
{
    strbuf sb = {0};
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "j", "next");
    cJSON_AddNumberToObject(rec, "id", (double)next_id);
    char *text = cJSON_PrintUnformatted(rec);
    sb_printf(&sb, "%s\n", text);
    free(text);
    cJSON_Delete(rec);
    for (size_t i = 0; i < tasks->n; i++) {
        rec = cJSON_CreateObject();
        cJSON_AddStringToObject(rec, "j", "task");
        cJSON_AddItemToObject(rec, "task", task_to_json(tasks->v[i], true, 0));
        text = cJSON_PrintUnformatted(rec);
        sb_printf(&sb, "%s\n", text);
        free(text);
        cJSON_Delete(rec);
    }
    /* A temporary file of mode 0600 (the journal holds environments),
     * synced, renamed over the journal. */
    char *tmp = xasprintf("%s.tmp", j->path);
    unlink(tmp);
    int tfd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    bool ok = tfd >= 0;
    for (size_t off = 0; ok && off < sb.len;) {
        ssize_t w = write(tfd, sb.buf + off, sb.len - off);
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        off += ok ? (size_t)w : 0;
    }
    ok = ok && fsync(tfd) == 0;
    int saved = errno;
    if (tfd >= 0)
        close(tfd);
    ok = ok && rename(tmp, j->path) == 0;
    if (!ok) {
        saved = errno;
        unlink(tmp);
    }
    free(tmp);
    sb_free(&sb);
    if (!ok) {
        errno = saved;
        return false;
    }
    int fd = open(j->path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return false;
    close(j->fd);
    j->fd = fd;
    j->lines = tasks->n + 1;
    return true;
}

void journal_close(journal *j)
{
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
    free(j->path);
    j->path = NULL;
}
