/* Room kept for a run's last writes (reserve.h). */
#define _GNU_SOURCE
#include "store/reserve.h"
#include "util/beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"
#include "util/wfail.h"

/* Without fallocate (some file systems): zeros, written for real. */
static bool fill_zeros(int fd, off_t from, off_t to)
{
    static const char zeros[65536];
    if (lseek(fd, from, SEEK_SET) < 0)
        return false;
    while (from < to) {
        size_t n = (size_t)(to - from) < sizeof zeros ? (size_t)(to - from) : sizeof zeros;
        if (!write_full(fd, zeros, n))
            return false;
        from += (off_t)n;
    }
    return true;
}

bool reserve_ensure(const char *run_dir, size_t bytes)
{
    char *path = path_join(run_dir, RESERVE_FILE);
    int fd = open_beneath(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    free(path);
    if (fd < 0)
        return false;
    struct stat st;
    bool ok = fstat(fd, &st) == 0;
    if (ok && st.st_size < (off_t)bytes) {
        int rc = posix_fallocate(fd, 0, (off_t)bytes);
        if (rc == EOPNOTSUPP || rc == EINVAL)
            ok = fill_zeros(fd, st.st_size, (off_t)bytes);
        else if (rc != 0) {
            errno = rc;
            ok = false;
        }
    }
    int e = errno;
    close(fd);
    errno = e;
    return ok;
}

void reserve_release(const char *run_dir)
{
    char *path = path_join(run_dir, RESERVE_FILE);
    unlink(path);
    free(path);
}
