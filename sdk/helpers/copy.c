/*
 * A file copy on this machine for host transports whose files are local
 * (local, and slurm's shared directory): written to a temporary name and
 * renamed when complete, bounded in size, interruptible while reading a
 * pipe or device.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <benchctl/helpers.h>

static int write_all_fd(int fd, const char *buf, size_t n)
{
    for (size_t off = 0; off < n;) {
        ssize_t w = write(fd, buf + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        off += (size_t)w;
    }
    return 0;
}

int bc_copy_file(const char *from, const char *to, int mode, int64_t max_bytes,
                 int (*cancelled)(void *), void *arg, char *err, size_t err_size)
{
    char dummy[2];
    if (!err || err_size < 2) {
        err = dummy;
        err_size = sizeof dummy;
    }
    err[0] = '\0';
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        snprintf(err, err_size, "cannot open %s: %s", from, strerror(errno));
        return BC_COPY_FAILED;
    }
    bc_sb sb = BC_SB_INIT;
    bc_sb_printf(&sb, "%s.part.%d", to, (int)getpid());
    char *tmp = bc_sb_steal(&sb);
    int out = -1, rc = BC_COPY_FAILED;
    if (!tmp) {
        snprintf(err, err_size, "out of memory");
        goto done;
    }
    unlink(tmp); /* never write through a link planted at the temporary name */
    out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode > 0 ? mode : 0644);
    if (out < 0) {
        snprintf(err, err_size, "cannot create %s: %s", tmp, strerror(errno));
        goto done;
    }
    /* Bounded: a regular file up to its size now (a writer that goes on
     * does not make the copy endless), anything at most max_bytes + 1 (the
     * caller sees a longer source was cut); a pipe or device is read until
     * cancelled. */
    struct stat st = {0};
    int64_t left = fstat(in, &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : -1;
    if (max_bytes > 0 && (left < 0 || left > max_bytes + 1))
        left = max_bytes + 1;
    int regular = S_ISREG(st.st_mode);
    char buf[1 << 16];
    while (left != 0) {
        if (!regular && cancelled && cancelled(arg)) {
            snprintf(err, err_size, "copying %s was interrupted", from);
            rc = BC_COPY_CANCELLED;
            goto done;
        }
        size_t want = left > 0 && (uint64_t)left < sizeof buf ? (size_t)left : sizeof buf;
        ssize_t n = read(in, buf, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, err_size, "cannot read %s: %s", from, strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        if (left > 0)
            left -= n;
        if (write_all_fd(out, buf, (size_t)n) != 0) {
            snprintf(err, err_size, "cannot write %s: %s", to, strerror(errno));
            goto done;
        }
    }
    int cerr = close(out);
    out = -1;
    if (cerr != 0) {
        snprintf(err, err_size, "cannot write %s: %s", to, strerror(errno));
        goto done;
    }
    if (rename(tmp, to) != 0) {
        snprintf(err, err_size, "cannot rename %s to %s: %s", tmp, to, strerror(errno));
        goto done;
    }
    rc = BC_COPY_DONE;
done:
    if (out >= 0)
        close(out);
    if (rc != BC_COPY_DONE && tmp)
        unlink(tmp);
    free(tmp);
    close(in);
    return rc;
}
