/* Failed writes to the run's storage (wfail.h). */
#define _GNU_SOURCE
#include "util/wfail.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *first;            /* "cannot write PATH: REASON" */
static void (*hook)(void *);
static void *hook_arg;

void wfail_watch(void (*fn)(void *arg), void *arg)
{
    pthread_mutex_lock(&lock);
    free(first);
    first = NULL;
    hook = fn;
    hook_arg = arg;
    pthread_mutex_unlock(&lock);
}

void wfail_note(const char *path, int err)
{
    void (*fn)(void *) = NULL;
    void *arg = NULL;
    pthread_mutex_lock(&lock);
    if (!first) {
        const char *why = err == ENOSPC || err == EDQUOT ? "the file system is full ("
                          : err == ELOOP ? "a symbolic link is in its path inside the run "
                                           "directory, not followed ("
                                         : "";
        first = xasprintf("cannot write %s: %s%s%s", path, why, strerror(err), *why ? ")" : "");
        fn = hook;
        arg = hook_arg;
    }
    pthread_mutex_unlock(&lock);
    if (fn)
        fn(arg);
}

bool wfail_happened(void)
{
    pthread_mutex_lock(&lock);
    bool f = first != NULL;
    pthread_mutex_unlock(&lock);
    return f;
}

char *wfail_message(void)
{
    pthread_mutex_lock(&lock);
    char *m = first ? xstrdup(first) : NULL;
    pthread_mutex_unlock(&lock);
    return m;
}

bool write_full(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        if (n == 0) {
            errno = ENOSPC;
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}
