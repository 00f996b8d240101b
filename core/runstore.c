/* The run store: run directories, IDs and metadata.json. */
#define _GNU_SOURCE
#include "runstore.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_run_id(const char *s)
{
    if (!*s || (s[0] == '0'))
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

void runstore_unlock(int fd)
{
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
}

static long long max_existing(const char *output_dir)
{
    long long max = 0;
    DIR *d = opendir(output_dir);
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (is_run_id(de->d_name)) {
            long long v = strtoll(de->d_name, NULL, 10);
            if (v > max)
                max = v;
        }
    closedir(d);
    return max;
}

bool runstore_create(const char *output_dir, char **id, char **dir, char **err)
{
    *id = *dir = *err = NULL;
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
    long long next = (last > existing ? last : existing) + 1;
    bool ok = false;
    for (int tries = 0; tries < 1000; tries++, next++) {
        char *path = xasprintf("%s/%lld", output_dir, next);
        if (mkdir(path, 0755) == 0) {
            *dir = path;
            ok = true;
            break;
        }
        int e = errno;
        free(path);
        if (e != EEXIST) {
            *err = xasprintf("cannot create run directory in %s: %s", output_dir, strerror(e));
            break;
        }
    }
    if (ok) {
        char num[32];
        int n = snprintf(num, sizeof num, "%lld\n", next);
        if (!write_file_atomic(counter, num, (size_t)n, false)) {
            *err = xasprintf("cannot write %s: %s", counter, strerror(errno));
            rmdir(*dir);
            free(*dir);
            *dir = NULL;
            ok = false;
        } else {
            *id = xasprintf("%lld", next);
        }
    } else if (!*err) {
        *err = xasprintf("cannot find a free run ID in %s", output_dir);
    }
    free(counter);
    runstore_unlock(fd);
    return ok;
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
    }
    free(path);
    return j;
}

bool runstore_write(const char *dir, const cJSON *meta, bool durable)
{
    char *text = cJSON_Print(meta);
    if (!text)
        return false;
    size_t len = strlen(text);
    text = xrealloc(text, len + 2);
    text[len++] = '\n';
    text[len] = '\0';
    char *path = path_join(dir, "metadata.json");
    bool ok = write_file_atomic(path, text, len, durable);
    free(path);
    free(text);
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
