/* Writing under the run directory without following planted links
 * (beneath.h). */
#define _GNU_SOURCE
#include "util/beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"

static char *root;
static size_t root_len;

void beneath_set_root(const char *dir)
{
    free(root);
    root = dir ? xstrdup(dir) : NULL;
    root_len = root ? strlen(root) : 0;
    while (root_len > 1 && root[root_len - 1] == '/')
        root[--root_len] = '\0';
}

const char *beneath_root(void) { return root; }

bool beneath_root_has(const char *path)
{
    return root && strncmp(path, root, root_len) == 0 &&
           (path[root_len] == '\0' || path[root_len] == '/');
}

/* One directory below dfd, never through a link; made first when create
 * and missing.  Consumes nothing; returns the new descriptor or -1. */
static int step(int dfd, const char *name, bool create)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = openat(dfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
            return fd;
        int e = errno;
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
            errno = ELOOP; /* a link where a directory should be */
            return -1;
        }
        if (e != ENOENT || !create)
            break;
        if (mkdirat(dfd, name, 0755) != 0 && errno != EEXIST)
            return -1;
        errno = e;
    }
    return -1;
}

int open_parent_beneath(const char *path, bool create, const char **last)
{
    const char *slash = strrchr(path, '/');
    *last = slash ? slash + 1 : path;
    if (!beneath_root_has(path) || path[root_len] == '\0') {
        if (!slash)
            return open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        char *dir = slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
        if (create)
            mkdir_p(dir, 0755);
        int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        free(dir);
        return fd;
    }
    int dfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    const char *p = path + root_len;
    while (dfd >= 0 && *p) {
        while (*p == '/')
            p++;
        const char *end = strchr(p, '/');
        if (!end || p == *last)
            break; /* p is the last component */
        char *name = xstrndup(p, (size_t)(end - p));
        int fd = -1;
        if (strcmp(name, "..") == 0)
            errno = EACCES; /* never out of the root */
        else if (*name && strcmp(name, ".") != 0)
            fd = step(dfd, name, create);
        else
            fd = dup(dfd);
        int e = errno;
        free(name);
        close(dfd);
        dfd = fd;
        errno = e;
        p = end;
    }
    return dfd;
}

int open_beneath(const char *path, int flags, mode_t mode)
{
    const char *last;
    int dfd = open_parent_beneath(path, (flags & O_CREAT) != 0, &last);
    if (dfd < 0)
        return -1;
    if (beneath_root_has(path) && strcmp(last, "..") == 0) {
        close(dfd);
        errno = EACCES;
        return -1;
    }
    int fd = openat(dfd, last, flags | O_NOFOLLOW | O_CLOEXEC, mode);
    int e = errno;
    close(dfd);
    errno = e;
    return fd;
}

bool mkdir_beneath(const char *path)
{
    const char *last;
    int dfd = open_parent_beneath(path, true, &last);
    if (dfd < 0)
        return false;
    int fd = *last && strcmp(last, ".") != 0 ? step(dfd, last, true) : dup(dfd);
    int e = errno;
    close(dfd);
    if (fd >= 0)
        close(fd);
    errno = e;
    return fd >= 0;
}
