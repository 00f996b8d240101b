/* The run store: run directories, IDs and metadata.json. */
#define _GNU_SOURCE
#include "store/runstore.h"
#include "store/reserve.h"
#include "util/utf8.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static bool is_run_id(const char *s)
{
    if (!*s || (s[0] == '0') || strlen(s) > 19) /* a long long */
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

bool runstore_lock(const char *output_dir, int *fd)
{
    char *lock = path_join(output_dir, ".benchctl.lock");
    *fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    free(lock);
    if (*fd < 0)
        return false;
    while (flock(*fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            close(*fd);
            return false;
        }
    }
    return true;
}

int runstore_own_run(const char *run_dir)
{
    char *lock = path_join(run_dir, ".benchctl.lock");
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        /* No lock here (a file system without locks): no lock file
         * either, or readers would take the run for crashed. */
        close(fd);
        fd = -1;
        unlink(lock);
    }
    free(lock);
    return fd;
}

int runstore_run_alive(const char *run_dir)
{
    char *lock = path_join(run_dir, ".benchctl.lock");
    int fd = open(lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    free(lock);
    if (fd < 0)
        return -1;
    int alive = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd); /* releases the shared lock when we got it */
    return alive;
}

/* A run whose metadata says "running" but whose owner is gone (killed, or
 * the machine went down): say so in its metadata.json, once. */
static bool says_running(const cJSON *meta)
{
    const cJSON *st = cJSON_GetObjectItem(meta, "status");
    return cJSON_IsString(st) && strcmp(st->valuestring, "running") == 0;
}

static cJSON *read_meta(const char *dir)
{
    char *path = path_join(dir, "metadata.json");
    char *text = read_file(path, NULL);
    free(path);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    return j;
}

/* *meta says "running": if nobody holds the run's owner lock, the owner
 * ended.  It writes its final metadata.json before it lets the lock go, so
 * the file is read again now: only a copy that still says "running" is
 * marked (and replaces *meta). */
static void mark_crashed(const char *output_dir, const char *id, cJSON **metap)
{
    if (!says_running(*metap))
        return;
    char *dir = xasprintf("%s/%s", output_dir, id);
    cJSON *meta = runstore_run_alive(dir) == 0 ? read_meta(dir) : NULL;
    if (meta && !cJSON_IsObject(meta)) {
        cJSON_Delete(meta);
        meta = NULL;
    }
    if (meta && !says_running(meta)) { /* it finished meanwhile */
        cJSON_Delete(*metap);
        *metap = meta;
        meta = NULL;
    }
    if (meta) {
        reserve_release(dir); /* the room it kept for its last write */
        cJSON_ReplaceItemInObject(meta, "status", cJSON_CreateString("crashed"));
        cJSON_DeleteItemFromObject(meta, "error");
        cJSON_AddStringToObject(meta, "error",
                                "the benchctl process running it ended without finishing (killed, "
                                "or the machine stopped); stages.jsonl holds every stage that "
                                "finished");
        if (!runstore_write(dir, meta, true))
            fprintf(stderr, "benchctl: cannot mark run %s crashed: %s\n", id, strerror(errno));
        cJSON_Delete(*metap);
        *metap = meta;
    }
    free(dir);
}

void runstore_unlock(int fd)
{
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
}

/* The run ID in a run directory's name, or in the name of one still being
 * made (NEW_PREFIX "<id>.XXXXXX"); 0 for other names. */
static long long id_in_name(const char *name)
{
    if (is_run_id(name))
        return strtoll(name, NULL, 10);
    size_t pl = strlen(RUNSTORE_NEW_PREFIX);
    if (strncmp(name, RUNSTORE_NEW_PREFIX, pl) != 0)
        return 0;
    const char *dot = strchr(name + pl, '.');
    if (!dot)
        return 0;
    char *num = xstrndup(name + pl, (size_t)(dot - name - (ptrdiff_t)pl));
    long long v = is_run_id(num) ? strtoll(num, NULL, 10) : 0;
    free(num);
    return v;
}

/* The highest run ID in output_dir, counting runs still being made. */
static long long max_existing(const char *output_dir)
{
    long long max = 0;
    DIR *d = opendir(output_dir);
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        long long v = id_in_name(de->d_name);
        if (v > max)
            max = v;
    }
    closedir(d);
    return max;
}

bool runstore_is_new_dir(const char *name) { return id_in_name(name) > 0 && !is_run_id(name); }

bool runstore_create(const char *output_dir, char **id, char **dir, int *owner_fd, char **err)
{
    *id = *dir = *err = NULL;
    *owner_fd = -1;
    if (!mkdir_p(output_dir, 0755)) {
        *err = xasprintf("cannot create output directory %s: %s", output_dir, strerror(errno));
        return false;
    }
    int fd;
    if (!runstore_lock(output_dir, &fd)) {
        *err = xasprintf("cannot lock output directory %s: %s", output_dir, strerror(errno));
        return false;
    }
    char *counter = path_join(output_dir, ".benchctl-last-id");
    long long last = 0;
    char *text = read_file(counter, NULL);
    if (text) {
        last = strtoll(text, NULL, 10);
        free(text);
    }
    long long existing = max_existing(output_dir);
    long long top = last > existing ? last : existing;
    char *tmp = NULL;
    if (top < 0 || top >= LLONG_MAX - 1000) { /* never wrap into negative IDs */
        *err = xasprintf("no run ID left in %s (the last is %lld, from %s or a run directory); "
                         "move the runs to a new output_dir", output_dir, top, counter);
        goto out;
    }
    long long next = top + 1;
    /* Made under a name `list` never shows, its owner lock taken before
     * the store's lock is let go: `gc` (which looks under that lock) never
     * takes it for a dead one. */
    tmp = xasprintf("%s/%s%lld.XXXXXX", output_dir, RUNSTORE_NEW_PREFIX, next);
    if (!mkdtemp(tmp)) { /* the name then is not ours: nothing to remove */
        *err = xasprintf("cannot create a run directory in %s: %s", output_dir, strerror(errno));
        goto out;
    }
    if (chmod(tmp, 0755) != 0) {
        *err = xasprintf("cannot create a run directory in %s: %s", output_dir, strerror(errno));
        rmdir(tmp);
        goto out;
    }
    *owner_fd = runstore_own_run(tmp);
    char num[32];
    int n = snprintf(num, sizeof num, "%lld\n", next);
    if (!write_file_atomic(counter, num, (size_t)n, false)) {
        *err = xasprintf("cannot write %s: %s", counter, strerror(errno));
        runstore_discard(tmp, *owner_fd);
        *owner_fd = -1;
        goto out;
    }
    *id = xasprintf("%lld", next);
    *dir = tmp;
    tmp = NULL;
out:
    free(tmp);
    free(counter);
    runstore_unlock(fd);
    return *dir != NULL;
}

bool runstore_publish(const char *output_dir, const char *id, char **dir, char **err)
{
    *err = NULL;
    char *final = xasprintf("%s/%s", output_dir, id);
    /* Never onto an existing run (a directory made by hand with that
     * number): renameat2 refuses; where the file system cannot say so,
     * rename(2) still refuses a directory that holds anything. */
    int rc = renameat2(AT_FDCWD, *dir, AT_FDCWD, final, RENAME_NOREPLACE);
    if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
        struct stat st;
        if (lstat(final, &st) == 0)
            errno = EEXIST;
        else
            rc = rename(*dir, final);
    }
    if (rc != 0) {
        *err = xasprintf("cannot move the new run directory %s to %s: %s", *dir, final,
                         strerror(errno));
        free(final);
        return false;
    }
    int dfd = open(output_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { /* the new name survives a crash of the machine */
        if (fsync(dfd) != 0 && errno != EINVAL)
            fprintf(stderr, "benchctl: warning: cannot sync %s: %s\n", output_dir,
                    strerror(errno));
        close(dfd);
    }
    free(*dir);
    *dir = final;
    return true;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

bool runstore_discard(const char *dir, int owner_fd)
{
    runstore_unlock(owner_fd);
    return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0;
}

void runstore_stale_new(const char *output_dir, strvec *dirs)
{
    int fd;
    if (!runstore_lock(output_dir, &fd))
        return;
    DIR *d = opendir(output_dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (!runstore_is_new_dir(de->d_name))
            continue;
        char *p = path_join(output_dir, de->d_name);
        struct stat st;
        /* Dead: its owner lock is not held.  No lock file at all is a
         * creator killed before it took the lock -- or a file system
         * without flock, where a live run has none either: only once the
         * directory is older than any creation takes (publishing follows
         * the first metadata write within seconds). */
        int alive = lstat(p, &st) == 0 && S_ISDIR(st.st_mode) ? runstore_run_alive(p) : 1;
        if (alive == 0 || (alive < 0 && time(NULL) - st.st_mtime > 600))
            sv_push(dirs, de->d_name);
        free(p);
    }
    if (d)
        closedir(d);
    runstore_unlock(fd);
}

cJSON *runstore_read(const char *output_dir, const char *id, char **err)
{
    *err = NULL;
    if (!is_run_id(id)) {
        *err = xasprintf("'%s' is not a run ID (run IDs are positive whole numbers)", id);
        return NULL;
    }
    char *path = xasprintf("%s/%s/metadata.json", output_dir, id);
    char *text = read_file(path, NULL);
    if (!text) {
        if (errno == ENOENT)
            *err = xasprintf("run %s not found in %s", id, output_dir);
        else
            *err = xasprintf("cannot read %s: %s", path, strerror(errno));
        free(path);
        return NULL;
    }
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j || !cJSON_IsObject(j)) {
        *err = xasprintf("%s is not valid JSON", path);
        cJSON_Delete(j);
        j = NULL;
    } else {
        mark_crashed(output_dir, id, &j);
    }
    free(path);
    return j;
}

bool runstore_write_json(const char *path, cJSON *json, bool durable)
{
    /* Valid UTF-8 only: bytes a data file or a stage's output handed over
     * are replaced (U+FFFD), counted, and said so. */
    size_t bad = json_fix_utf8(json);
    if (bad && cJSON_IsObject(json)) {
        const cJSON *was = cJSON_GetObjectItemCaseSensitive(json, "invalid_utf8_replaced");
        double total = (double)bad + (cJSON_IsNumber(was) ? was->valuedouble : 0);
        cJSON_DeleteItemFromObjectCaseSensitive(json, "invalid_utf8_replaced");
        cJSON_AddNumberToObject(json, "invalid_utf8_replaced", total);
        fprintf(stderr, "benchctl: warning: %zu byte%s of invalid UTF-8 in values written to %s "
                        "were replaced by U+FFFD (\"invalid_utf8_replaced\")\n",
                bad, bad == 1 ? "" : "s", path);
    }
    char *text = cJSON_Print(json);
    if (!text) {
        errno = ENOMEM;
        return false;
    }
    size_t len = strlen(text);
    text = xrealloc(text, len + 2);
    text[len++] = '\n';
    text[len] = '\0';
    bool ok = write_file_atomic(path, text, len, durable);
    free(text);
    return ok;
}

bool runstore_write(const char *dir, cJSON *meta, bool durable)
{
    char *path = path_join(dir, "metadata.json");
    bool ok = runstore_write_json(path, meta, durable);
    free(path);
    return ok;
}

static int cmp_ids(const void *a, const void *b)
{
    long long x = strtoll(*(char *const *)a, NULL, 10), y = strtoll(*(char *const *)b, NULL, 10);
    return x < y ? -1 : x > y;
}

void runstore_list(const char *output_dir, strvec *ids)
{
    DIR *d = opendir(output_dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)))
        if (is_run_id(de->d_name))
            sv_push(ids, de->d_name);
    closedir(d);
    if (ids->n)
        qsort(ids->v, ids->n, sizeof *ids->v, cmp_ids);
}

/* ---- Tags ---------------------------------------------------------------- */

#define TAGS_FILE ".benchctl-tags.json"
#define TAG_MAX 64

static long latest_offset(const char *ref);

bool runstore_tag_name_ok(const char *name, char **err)
{
    size_t len = strlen(name);
    bool digits_only = true;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        bool ok = isalnum(ch) || (i > 0 && (ch == '.' || ch == '_' || ch == '-'));
        if (!ok || ch >= 0x80) {
            *err = xasprintf("'%s' is not a valid tag: use letters, digits, '.', '_' and '-', "
                             "starting with a letter or digit", name);
            return false;
        }
        if (!isdigit(ch))
            digits_only = false;
    }
    if (len == 0 || len > TAG_MAX) {
        *err = xasprintf("'%s' is not a valid tag: it must have 1 to %d characters", name, TAG_MAX);
        return false;
    }
    if (digits_only) {
        *err = xasprintf("'%s' is not a valid tag: a tag cannot be all digits (that would look "
                         "like a run ID)", name);
        return false;
    }
    if (latest_offset(name) != -1) {
        *err = xasprintf("'%s' is not a valid tag: latest and latest~N always name the newest "
                         "runs", name);
        return false;
    }
    return true;
}

cJSON *runstore_tags_read(const char *output_dir, char **err)
{
    *err = NULL;
    char *path = path_join(output_dir, TAGS_FILE);
    char *text = read_file(path, NULL);
    if (!text) {
        cJSON *empty = NULL;
        if (errno == ENOENT || errno == ENOTDIR)
            empty = cJSON_CreateObject();
        else
            *err = xasprintf("cannot read %s: %s", path, strerror(errno));
        free(path);
        return empty;
    }
    cJSON *root = cJSON_Parse(text);
    free(text);
    cJSON *tags = cJSON_DetachItemFromObjectCaseSensitive(root, "tags");
    cJSON_Delete(root);
    bool ok = cJSON_IsObject(tags);
    for (const cJSON *t = ok ? tags->child : NULL; t; t = t->next)
        if (!cJSON_IsString(t) || !is_run_id(t->valuestring))
            ok = false;
    if (!ok) {
        *err = xasprintf("%s is corrupt (expected {\"version\": 1, \"tags\": {\"NAME\": \"ID\"}}); "
                         "fix or delete it", path);
        cJSON_Delete(tags);
        tags = NULL;
    }
    free(path);
    return tags;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

bool runstore_tags_write(const char *output_dir, const cJSON *tags, char **err)
{
    *err = NULL;
    /* Written in name order so the file diffs well and reads like `tag`. */
    strvec names = {0};
    for (const cJSON *t = tags->child; t; t = t->next)
        sv_push(&names, t->string);
    if (names.n)
        qsort(names.v, names.n, sizeof *names.v, cmp_names);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON *sorted = cJSON_AddObjectToObject(root, "tags");
    for (size_t i = 0; i < names.n; i++) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(tags, names.v[i]);
        cJSON_AddStringToObject(sorted, names.v[i], cJSON_GetStringValue(id));
    }
    sv_free(&names);
    char *path = path_join(output_dir, TAGS_FILE);
    bool ok = runstore_write_json(path, root, true);
    cJSON_Delete(root);
    if (!ok)
        *err = xasprintf("cannot write %s: %s", path, strerror(errno));
    free(path);
    return ok;
}

void runstore_tags_naming(const cJSON *tags, const char *id, strvec *names)
{
    size_t first = names->n;
    for (const cJSON *t = tags ? tags->child : NULL; t; t = t->next)
        if (cJSON_IsString(t) && strcmp(t->valuestring, id) == 0)
            sv_push(names, t->string);
    if (names->n - first > 1)
        qsort(names->v + first, names->n - first, sizeof *names->v, cmp_names);
}

void runstore_tags_of(const char *output_dir, const char *id, strvec *names)
{
    char *err = NULL;
    cJSON *tags = runstore_tags_read(output_dir, &err);
    free(err);
    runstore_tags_naming(tags, id, names);
    cJSON_Delete(tags);
}

/* "latest" (0) or "latest~N" (N): how far back from the newest run;
 * -1 when ref is neither, -2 when it is "latest~" with a bad N. */
static long latest_offset(const char *ref)
{
    if (strncmp(ref, "latest", 6) != 0)
        return -1;
    if (!ref[6])
        return 0;
    if (ref[6] != '~')
        return -1;
    int64_t n;
    return parse_int64(ref + 7, &n) && n >= 0 && n < 1000000000 && isdigit((unsigned char)ref[7])
               ? (long)n
               : -2;
}

/* latest, latest~N: the newest stored run, or the Nth before it (among the
 * runs that exist: a deleted run is not counted). */
static bool resolve_latest(const char *output_dir, const char *ref, long back, char **id,
                           char **err)
{
    if (back == -2) {
        *err = xasprintf("'%s': write latest~N with N a whole number (latest~1 is the run "
                         "before the newest)", ref);
        return false;
    }
    strvec ids = {0};
    runstore_list(output_dir, &ids);
    if ((size_t)back < ids.n)
        *id = xstrdup(ids.v[ids.n - 1 - (size_t)back]);
    else if (!ids.n)
        *err = xasprintf("'%s': there are no runs in %s yet", ref, output_dir);
    else
        *err = xasprintf("'%s': there %s only %zu run%s in %s (latest~%zu is the oldest)", ref,
                         ids.n == 1 ? "is" : "are", ids.n, ids.n == 1 ? "" : "s", output_dir,
                         ids.n - 1);
    sv_free(&ids);
    return *id != NULL;
}

bool runstore_resolve(const char *output_dir, const char *id_or_tag, char **id, char **err)
{
    *id = *err = NULL;
    if (is_run_id(id_or_tag)) {
        *id = xstrdup(id_or_tag);
        return true;
    }
    long back = latest_offset(id_or_tag);
    if (back != -1)
        return resolve_latest(output_dir, id_or_tag, back, id, err);
    char *why = NULL;
    if (!runstore_tag_name_ok(id_or_tag, &why)) {
        free(why);
        *err = xasprintf("'%s' is neither a run ID (a positive whole number) nor a tag", id_or_tag);
        return false;
    }
    cJSON *tags = runstore_tags_read(output_dir, err);
    if (!tags)
        return false;
    const char *target = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tags, id_or_tag));
    if (target)
        *id = xstrdup(target);
    else
        *err = xasprintf("no run ID or tag '%s' in %s (`benchctl tag` lists the tags)", id_or_tag,
                         output_dir);
    cJSON_Delete(tags);
    return target != NULL;
}

/* ---- results.json -------------------------------------------------------- */

runstore_results_status runstore_read_results(const char *output_dir, const char *id,
                                              cJSON **results, char **err)
{
    *results = NULL;
    *err = NULL;
    char *path = xasprintf("%s/%s/results.json", output_dir, id);
    char *text = is_run_id(id) ? read_file(path, NULL) : NULL;
    runstore_results_status st = RUNSTORE_RESULTS_ERROR;
    if (!text) {
        int e = errno;
        /* Tell "no such run" (same words as inspect) from "a run made
         * before results.json existed". */
        cJSON *meta = runstore_read(output_dir, id, err);
        const char *status = cJSON_GetStringValue(cJSON_GetObjectItem(meta, "status"));
        if (meta && e == ENOENT && status && strcmp(status, "running") == 0) {
            *err = xasprintf("run %s has no results.json yet: it is still running, or benchctl "
                             "was killed before it could finish it (`benchctl inspect %s` "
                             "shows how far it got)", id, id);
            st = RUNSTORE_RESULTS_MISSING;
        } else if (meta && e == ENOENT) {
            *err = xasprintf("run %s has no results.json: it was made by a benchctl that did not "
                             "write statistics yet (`benchctl inspect %s` shows its metadata)",
                             id, id);
            st = RUNSTORE_RESULTS_MISSING;
        } else if (meta) {
            *err = xasprintf("cannot read %s: %s", path, strerror(e));
        }
        cJSON_Delete(meta);
        free(path);
        return st;
    }
    cJSON *j = cJSON_Parse(text);
    free(text);
    const char *fmt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "format"));
    if (!cJSON_IsObject(j) || !fmt || strcmp(fmt, "benchctl-results") != 0 ||
        !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "cases"))) {
        *err = xasprintf("%s is not valid JSON in the benchctl-results format (a damaged or "
                         "foreign file)", path);
        cJSON_Delete(j);
    } else {
        *results = j;
        st = RUNSTORE_RESULTS_OK;
    }
    free(path);
    return st;
}
