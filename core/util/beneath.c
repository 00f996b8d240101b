/* Writing under the run directory without following planted links
 * (beneath.h). */
#define _GNU_SOURCE
#include "util/beneath.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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

/* ---- files written by others (beneath_put) ------------------------------ */

#define PUT_PREFIX ".benchctl-put."

/* "<path> is a symbolic link (to TARGET)": why benchctl will not use it. */
static char *link_message(int dfd, const char *name, const char *path)
{
    char target[512];
    ssize_t n = readlinkat(dfd, name, target, sizeof target - 1);
    target[n > 0 ? n : 0] = '\0';
    return xasprintf("%s is a symbolic link%s%s%s planted in the run directory; benchctl does "
                     "not write through links there, so nothing was written (remove the link)",
                     path, n > 0 ? " (to " : "", target, n > 0 ? ")" : "");
}

bool beneath_put_begin(beneath_put *bp, const char *dest, char **why)
{
    *bp = (beneath_put){.dest = xstrdup(dest), .pdfd = -1, .sdfd = -1};
    *why = NULL;
    if (!beneath_root_has(dest) || dest[root_len] == '\0') {
        bp->path = xstrdup(dest);
        return true;
    }
    const char *last;
    bp->pdfd = open_parent_beneath(bp->dest, true, &last);
    struct stat st;
    if (bp->pdfd < 0) {
        *why = errno == ELOOP
                   ? xasprintf("a directory on the way to %s is a symbolic link planted in the run "
                               "directory; benchctl does not write through links there, so "
                               "nothing was written (remove the link)", dest)
                   : xasprintf("cannot make the directory of %s: %s", dest, strerror(errno));
        goto fail;
    }
    if (!*last || strcmp(last, ".") == 0 || strcmp(last, "..") == 0) {
        *why = xasprintf("%s does not name a file", dest);
        goto fail;
    }
    if (fstatat(bp->pdfd, last, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
        *why = link_message(bp->pdfd, last, dest);
        goto fail;
    }
    fstat(bp->pdfd, &st);
    bp->pdev = st.st_dev;
    bp->pino = st.st_ino;
    for (int tries = 0; tries < 16 && !bp->stage_name; tries++) {
        char tok[9];
        random_token(tok, sizeof tok);
        char *name = xasprintf(PUT_PREFIX "%s", tok);
        if (mkdirat(bp->pdfd, name, 0700) == 0)
            bp->stage_name = name;
        else if (errno != EEXIST) {
            *why = xasprintf("cannot make a directory beside %s: %s", dest, strerror(errno));
            free(name);
            goto fail;
        } else {
            free(name);
        }
    }
    if (!bp->stage_name) {
        *why = xasprintf("cannot make a directory beside %s", dest);
        goto fail;
    }
    bp->sdfd = openat(bp->pdfd, bp->stage_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (bp->sdfd < 0 || fstat(bp->sdfd, &st) != 0) {
        *why = xasprintf("cannot open a directory beside %s: %s", dest, strerror(errno));
        goto fail;
    }
    bp->sdev = st.st_dev;
    bp->sino = st.st_ino;
    char *dir = xstrndup(bp->dest, (size_t)(last - bp->dest));
    bp->path = xasprintf("%s%s/%s", dir, bp->stage_name, last);
    free(dir);
    return true;
fail:
    beneath_put_end(bp);
    return false;
}

/* Is fd's directory (dev, ino)? */
static bool same_dir(int fd, dev_t dev, ino_t ino)
{
    struct stat st;
    return fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

/* Move the regular file name from the fresh directory to the
 * destination's, never onto a link; true when moved or not a regular file
 * (what else a writer leaves is removed with the directory). */
static bool move_one(beneath_put *bp, const char *name, char **why)
{
    struct stat st;
    if (fstatat(bp->sdfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
        return true;
    const char *last = strrchr(bp->dest, '/') + 1;
    char *path = xasprintf("%.*s%s", (int)(last - bp->dest), bp->dest, name);
    bool ok = true;
    if (fstatat(bp->pdfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
        *why = link_message(bp->pdfd, name, path);
        ok = false;
    } else if (renameat(bp->sdfd, name, bp->pdfd, name) != 0) {
        *why = xasprintf("cannot move %s into place: %s", path, strerror(errno));
        ok = false;
    }
    free(path);
    return ok;
}

bool beneath_put_commit(beneath_put *bp, char **why)
{
    *why = NULL;
    if (!bp->stage_name)
        return true;
    const char *last = strrchr(bp->dest, '/') + 1;
    /* The way is still the one prepared: no directory on it was swapped
     * for a link or another directory while the writer wrote. */
    const char *l2;
    int now = open_parent_beneath(bp->dest, false, &l2);
    int snow = now >= 0 ? openat(now, bp->stage_name, O_PATH | O_DIRECTORY | O_NOFOLLOW |
                                                          O_CLOEXEC)
                        : -1;
    bool same = same_dir(now, bp->pdev, bp->pino) && same_dir(snow, bp->sdev, bp->sino);
    if (now >= 0)
        close(now);
    if (snow >= 0)
        close(snow);
    if (!same) {
        *why = xasprintf("a directory on the way to %s was replaced (by a symbolic link?) while "
                         "it was written; benchctl does not write through links in the run "
                         "directory, so the file was not kept", bp->dest);
        return false;
    }
    struct stat st;
    if (fstatat(bp->sdfd, last, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        *why = xasprintf("nothing was written at %s", bp->dest);
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        *why = S_ISLNK(st.st_mode)
                   ? xasprintf("the writer of %s left a symbolic link instead of a file; it was "
                               "not kept", bp->dest)
                   : xasprintf("%s is not a regular file; it was not kept", bp->dest);
        return false;
    }
    /* The file first, then what the writer wrote beside it. */
    if (!move_one(bp, last, why))
        return false;
    int dfd = dup(bp->sdfd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        char *side = NULL;
        if (strcmp(de->d_name, last) != 0 && !move_one(bp, de->d_name, &side)) {
            fprintf(stderr, "benchctl: warning: %s\n", side);
            free(side);
        }
    }
    if (d)
        closedir(d);
    else if (dfd >= 0)
        close(dfd);
    return true;
}

void beneath_put_end(beneath_put *bp)
{
    if (bp->sdfd >= 0) {
        int dfd = dup(bp->sdfd);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        struct dirent *de;
        while (d && (de = readdir(d)))
            if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
                unlinkat(bp->sdfd, de->d_name, 0) != 0)
                unlinkat(bp->sdfd, de->d_name, AT_REMOVEDIR);
        if (d)
            closedir(d);
        else if (dfd >= 0)
            close(dfd);
        close(bp->sdfd);
    }
    if (bp->stage_name && bp->pdfd >= 0)
        unlinkat(bp->pdfd, bp->stage_name, AT_REMOVEDIR);
    if (bp->pdfd >= 0)
        close(bp->pdfd);
    free(bp->stage_name);
    free(bp->path);
    free(bp->dest);
    *bp = (beneath_put){.pdfd = -1, .sdfd = -1};
}
