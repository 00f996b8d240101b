/*
 * Host transport "ssh": file transfers over SFTP on the host's connection.
 *
 * get_file keeps many reads in flight (pipelined, like OpenSSH's sftp/scp)
 * and writes each answer at its offset into a temporary file next to the
 * destination, renamed when complete: a failed transfer never leaves a
 * truncated file under the final name.  put_file writes to a temporary
 * remote name and renames it.  Remote paths: absolute as given; `~` and
 * `~/...` in the login directory; other relative paths inside the run's
 * private directory ($BENCHCTL_HOST_TMPDIR; get_file falls back to the
 * login directory, where commands run, when the file is not there).
 *
 * The connection's lock is taken per SFTP request, so commands streaming
 * on the same connection from other threads keep flowing during a large
 * transfer.  On a terminal, transfers of large files show their progress
 * on stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sshint.h"

/* libssh 0.11 deprecates the async read API in favour of sftp_aio_*;
 * 0.10 (Debian 12) has only this one. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/* 32 reads of 32 KiB in flight: 1 MiB, inside libssh's receive window
 * (1.28 MB), so the server never stalls on it; more in flight measured
 * slower on loopback, not faster. */
#define XFER_CHUNK (32 * 1024)
#define XFER_DEPTH 32
#define PROGRESS_MIN_BYTES (16ull << 20)

/* ---- progress on a terminal -------------------------------------------- */

typedef struct progress {
    const char *verb, *name, *host;
    uint64_t total, done;
    int64_t t0, shown_at;
    int tty, shown;
} progress;

static void progress_init(progress *pg, const char *verb, const char *name, const char *host,
                          uint64_t total)
{
    memset(pg, 0, sizeof *pg);
    pg->verb = verb;
    const char *slash = strrchr(name, '/');
    pg->name = slash ? slash + 1 : name;
    pg->host = host;
    pg->total = total;
    pg->t0 = bc_mono_ms();
    pg->tty = total >= PROGRESS_MIN_BYTES && isatty(STDERR_FILENO);
}

static void progress_show(progress *pg, int final)
{
    if (!pg->tty)
        return;
    int64_t now = bc_mono_ms();
    if (final) {
        if (pg->shown)
            (void)!write(STDERR_FILENO, "\r\033[K", 4);
        return;
    }
    if (now - pg->t0 < 500 || now - pg->shown_at < 200)
        return;
    double secs = (double)(now - pg->t0) / 1000.0;
    double mib = (double)pg->done / 1048576.0, tot = (double)pg->total / 1048576.0;
    char line[256];
    int n = snprintf(line, sizeof line, "\r\033[K  %s %s %s %s: %.0f/%.0f MiB (%d%%) %.0f MiB/s",
                     pg->verb, pg->name, strcmp(pg->verb, "fetching") == 0 ? "from" : "to",
                     pg->host, mib, tot, pg->total ? (int)(100.0 * mib / tot) : 100,
                     secs > 0 ? mib / secs : 0.0);
    if (n > 0)
        (void)!write(STDERR_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    pg->shown = 1;
    pg->shown_at = now;
}

/* ---- helpers ------------------------------------------------------------ */

/* Lock held. */
static int sftp_ready(bc_ctx *ctx, sshconn *c)
{
    if (c->lost) {
        conn_lost_error(ctx, c);
        return BC_ERR;
    }
    if (c->sftp)
        return BC_OK;
    c->sftp = sftp_new(c->s);
    if (!c->sftp || sftp_init(c->sftp) != SSH_OK) {
        if (!ssh_is_connected(c->s)) {
            conn_mark_lost(c);
            conn_lost_error(ctx, c);
        } else {
            bc_error(ctx, "cannot start SFTP on %s: %s (is the sftp subsystem enabled in the "
                     "server's sshd_config?)", c->where, ssh_get_error(c->s));
        }
        if (c->sftp)
            sftp_free(c->sftp);
        c->sftp = NULL;
        return BC_ERR;
    }
    return BC_OK;
}

static const char *sftp_errtext(int code)
{
    switch (code) {
    case SSH_FX_NO_SUCH_FILE:
    case SSH_FX_NO_SUCH_PATH:
        return "no such file";
    case SSH_FX_PERMISSION_DENIED:
        return "permission denied";
    case SSH_FX_FILE_ALREADY_EXISTS:
        return "file exists";
    case SSH_FX_OP_UNSUPPORTED:
        return "operation not supported by the server";
    case SSH_FX_EOF:
        return "unexpected end of file";
    default:
        return "failure";
    }
}

/* Lock held: describe the last SFTP failure (or a lost connection). */
static void sftp_fail(bc_ctx *ctx, sshconn *c, const char *what, const char *path)
{
    if (!ssh_is_connected(c->s)) {
        conn_mark_lost(c);
        conn_lost_error(ctx, c);
        return;
    }
    int code = c->sftp ? sftp_get_error(c->sftp) : -1;
    bc_error(ctx, "cannot %s %s on host '%s': %s", what, path, c->alias,
             code >= 0 ? sftp_errtext(code) : ssh_get_error(c->s));
}

typedef enum { IN_TMPDIR, IN_HOME } where_t;

/* The SFTP path for a remote path (malloc'd). */
static char *sftp_path(sshconn *c, const char *path, where_t w)
{
    if (path[0] == '/')
        return ssh_strdup(path);
    if (strcmp(path, "~") == 0)
        return ssh_strdup(".");
    if (strncmp(path, "~/", 2) == 0)
        return ssh_strdup(path + 2); /* SFTP starts in the login directory */
    if (w == IN_TMPDIR && c->tmpdir)
        return ssh_asprintf("%s/%s", c->tmpdir, path);
    return ssh_strdup(path);
}

/* ---- get ---------------------------------------------------------------- */

typedef struct req {
    uint32_t id, len;
    uint64_t off;
} req;

/* One download: the remote file, the local temporary file, the requests in
 * flight (a ring) and the progress shown. */
typedef struct getjob {
    bc_ctx *ctx;
    sshconn *c;
    const char *remote, *tmp;
    sftp_file f;
    int fd;
    char *buf;
    req q[XFER_DEPTH * 2];
    int qh, qn; /* ring: head, count */
    uint64_t size;
    progress pg;
} getjob;

/* Open the remote file (a relative path in the run's directory, else the
 * login directory) and learn its size; BC_OK or BC_ERR (message set). */
static int get_open(getjob *g, char **path)
{
    sshconn *c = g->c;
    const char *remote = g->remote;
    conn_lock(c);
    if (sftp_ready(g->ctx, c) != BC_OK) {
        conn_unlock(c, NULL);
        return BC_ERR;
    }
    int relative = remote[0] != '/' && remote[0] != '~';
    *path = sftp_path(c, remote, relative ? IN_TMPDIR : IN_HOME);
    g->f = sftp_open(c->sftp, *path, O_RDONLY, 0);
    if (!g->f && relative && sftp_get_error(c->sftp) == SSH_FX_NO_SUCH_FILE &&
        ssh_is_connected(c->s)) {
        free(*path);
        *path = sftp_path(c, remote, IN_HOME);
        g->f = sftp_open(c->sftp, *path, O_RDONLY, 0);
    }
    if (!g->f) {
        if (ssh_is_connected(c->s) && sftp_get_error(c->sftp) == SSH_FX_NO_SUCH_FILE)
            bc_error(g->ctx, "%s does not exist on host '%s'%s", remote, c->alias,
                     relative ? " (looked in the run's directory and the login directory)" : "");
        else
            sftp_fail(g->ctx, c, "open", remote);
        conn_unlock(c, NULL);
        return BC_ERR;
    }
    sftp_attributes a = sftp_fstat(g->f);
    if (a) {
        int dir = a->type == SSH_FILEXFER_TYPE_DIRECTORY;
        g->size = a->size;
        sftp_attributes_free(a);
        if (dir) {
            bc_error(g->ctx, "%s on host '%s' is a directory, not a file", remote, c->alias);
            conn_unlock(c, NULL);
            return BC_ERR;
        }
    }
    conn_unlock(c, NULL);
    return BC_OK;
}

/* Lock held: ask for len bytes at off; false (message set) on failure. */
static int get_request(getjob *g, uint64_t off, uint32_t len)
{
    sftp_seek64(g->f, off);
    int id = sftp_async_read_begin(g->f, len);
    if (id < 0) {
        sftp_fail(g->ctx, g->c, "read", g->remote);
        return 0;
    }
    g->q[(g->qh + g->qn) % (XFER_DEPTH * 2)] = (req){(uint32_t)id, len, off};
    g->qn++;
    return 1;
}

/* Write n bytes read at off into the temporary file; 0 on failure. */
static int get_write(getjob *g, uint64_t at, int n)
{
    size_t off = 0;
    while (off < (size_t)n) {
        ssize_t w = pwrite(g->fd, g->buf + off, (size_t)n - off, (off_t)(at + off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            bc_error(g->ctx, "cannot write %s: %s", g->tmp, strerror(errno));
            return 0;
        }
        off += (size_t)w;
    }
    return 1;
}

/* Keep XFER_DEPTH reads in flight; answers come back in order.  A short
 * answer (a server with a smaller read limit, or a file that shrank) is
 * completed by a new request for the rest; an end of file answer ends the
 * file there.  Returns where the file ended (UINT64_MAX: at its size), or
 * sets *failed. */
static uint64_t get_pipelined(getjob *g, int *failed)
{
    sshconn *c = g->c;
    uint64_t next = 0, eof_at = UINT64_MAX;
    for (;;) {
        conn_lock(c);
        if (c->lost) {
            conn_lost_error(g->ctx, c);
            conn_unlock(c, NULL);
            *failed = 1;
            break;
        }
        /* issue: up to the known size (plus one request to see the end),
         * further while no end has been seen */
        while (g->qn < XFER_DEPTH && eof_at == UINT64_MAX &&
               next <= g->size + (g->qn == 0 ? XFER_CHUNK : 0)) {
            if (!get_request(g, next, XFER_CHUNK)) {
                *failed = 1;
                break;
            }
            next += XFER_CHUNK;
        }
        if (*failed || g->qn == 0) {
            conn_unlock(c, NULL);
            break;
        }
        req r = g->q[g->qh];
        g->qh = (g->qh + 1) % (XFER_DEPTH * 2);
        g->qn--;
        int n = sftp_async_read(g->f, g->buf, r.len, r.id);
        if (n < 0) {
            sftp_fail(g->ctx, c, "read", g->remote);
            conn_unlock(c, NULL);
            *failed = 1;
            break;
        }
        if (n == 0) {
            if (r.off < eof_at)
                eof_at = r.off;
        } else if ((uint32_t)n < r.len && r.off + (uint64_t)n < eof_at && g->qn < XFER_DEPTH * 2) {
            /* short read: ask for the rest of this piece */
            if (!get_request(g, r.off + (uint64_t)n, r.len - (uint32_t)n)) {
                conn_unlock(c, NULL);
                *failed = 1;
                break;
            }
        }
        conn_unlock(c, NULL);
        if (n > 0 && r.off < eof_at) { /* beyond an end already seen: the file shrank */
            if (!get_write(g, r.off, n)) {
                *failed = 1;
                break;
            }
            g->pg.done += (uint64_t)n;
            progress_show(&g->pg, 0);
        }
        if (eof_at == UINT64_MAX && g->qn == 0 && next > g->size)
            g->size = next; /* it grew: keep reading */
    }
    return eof_at;
}

/* Drain the answers still in flight (libssh keeps them otherwise). */
static void get_drain(getjob *g)
{
    sshconn *c = g->c;
    conn_lock(c);
    while (g->qn > 0 && !c->lost && ssh_is_connected(c->s)) {
        req r = g->q[g->qh];
        g->qh = (g->qh + 1) % (XFER_DEPTH * 2);
        g->qn--;
        if (sftp_async_read(g->f, g->buf, r.len, r.id) < 0 && !ssh_is_connected(c->s))
            break;
    }
    conn_unlock(c, NULL);
}

int ssh_op_get_file(bc_ctx *ctx, void *cv, const char *remote, const char *local)
{
    sshconn *c = cv;
    char *tmp = ssh_asprintf("%s.part.%d", local, (int)getpid());
    char *path = NULL;
    int rc = BC_ERR, failed = 0;
    getjob *g = calloc(1, sizeof *g);
    char *buf = malloc(XFER_CHUNK);
    if (!buf || !g)
        abort();
    *g = (getjob){.ctx = ctx, .c = c, .remote = remote, .tmp = tmp, .fd = -1, .buf = buf};
    if (get_open(g, &path) != BC_OK)
        goto out;
    g->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (g->fd < 0) {
        bc_error(ctx, "cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    progress_init(&g->pg, "fetching", remote, c->alias, g->size);
    uint64_t eof_at = get_pipelined(g, &failed);
    progress_show(&g->pg, 1);
    if (failed) {
        get_drain(g);
        goto out;
    }
    if (eof_at != UINT64_MAX && ftruncate(g->fd, (off_t)eof_at) != 0) {
        bc_error(ctx, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    int fd = g->fd;
    g->fd = -1;
    if (close(fd) != 0) {
        bc_error(ctx, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (rename(tmp, local) != 0) {
        bc_error(ctx, "cannot rename %s to %s: %s", tmp, local, strerror(errno));
        goto out;
    }
    rc = BC_OK;
out:
    if (g->f) {
        conn_lock(c);
        sftp_close(g->f); /* frees f; fails at once on a broken connection */
        conn_unlock(c, NULL);
    }
    if (g->fd >= 0)
        close(g->fd);
    if (rc != BC_OK)
        unlink(tmp);
    free(tmp);
    free(path);
    free(buf);
    free(g);
    return rc;
}

/* ---- put ---------------------------------------------------------------- */

/* Lock held: create the missing parents of path (inside the run's
 * directory only). */
static void mkdir_parents(sshconn *c, const char *path)
{
    if (!c->tmpdir || strncmp(path, c->tmpdir, strlen(c->tmpdir)) != 0)
        return;
    char *d = ssh_strdup(path);
    for (char *q = d + strlen(c->tmpdir) + 1; (q = strchr(q, '/')); q++) {
        *q = '\0';
        sftp_mkdir(c->sftp, d, 0700);
        *q = '/';
    }
    free(d);
}

/* Lock held: explain a failed write; a full disk says so. */
static void write_failed(bc_ctx *ctx, sshconn *c, const char *remote, const char *path,
                         uint64_t left)
{
    if (!ssh_is_connected(c->s)) {
        conn_mark_lost(c);
        conn_lost_error(ctx, c);
        return;
    }
    char *dir = ssh_strdup(path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    sftp_statvfs_t v = sftp_extension_supported(c->sftp, "statvfs@openssh.com", "2")
                           ? sftp_statvfs(c->sftp, slash ? (dir[0] ? dir : "/") : ".")
                           : NULL;
    if (v && v->f_bavail * v->f_frsize < left + 65536) {
        bc_error(ctx, "cannot write %s on host '%s': no space left on the remote file system "
                 "(%llu KiB free, %llu KiB still to write)", remote, c->alias,
                 (unsigned long long)(v->f_bavail * v->f_frsize / 1024),
                 (unsigned long long)(left / 1024));
    } else {
        sftp_fail(ctx, c, "write", remote);
    }
    if (v)
        sftp_statvfs_free(v);
    free(dir);
}

int ssh_op_put_file(bc_ctx *ctx, void *cv, const char *local, const char *remote, int mode)
{
    sshconn *c = cv;
    int fd = open(local, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        bc_error(ctx, "cannot open %s: %s", local, strerror(errno));
        return BC_ERR;
    }
    struct stat st;
    uint64_t size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    char *buf = malloc(XFER_CHUNK);
    if (!buf)
        abort();
    char *path = NULL, *tmp = NULL;
    sftp_file f = NULL;
    int rc = BC_ERR, created = 0;
    progress pg;

    conn_lock(c);
    if (sftp_ready(ctx, c) != BC_OK) {
        conn_unlock(c, NULL);
        goto out;
    }
    path = sftp_path(c, remote, IN_TMPDIR);
    tmp = ssh_asprintf("%s.part.%d", path, (int)getpid());
    mkdir_parents(c, path);
    f = sftp_open(c->sftp, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (!f) {
        sftp_fail(ctx, c, "create", remote);
        conn_unlock(c, NULL);
        goto out;
    }
    created = 1;
    conn_unlock(c, NULL);

    progress_init(&pg, "uploading", local, c->alias, size);
    uint64_t sent = 0;
    for (;;) {
        ssize_t n = read(fd, buf, XFER_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            bc_error(ctx, "cannot read %s: %s", local, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        conn_lock(c);
        for (ssize_t off = 0; off < n;) {
            ssize_t w = c->lost ? -1 : sftp_write(f, buf + off, (size_t)(n - off));
            if (w <= 0) {
                if (c->lost)
                    conn_lost_error(ctx, c);
                else
                    write_failed(ctx, c, remote, path, size > sent ? size - sent : 0);
                conn_unlock(c, NULL);
                goto out;
            }
            off += w;
            sent += (uint64_t)w;
        }
        conn_unlock(c, NULL);
        pg.done = sent;
        progress_show(&pg, 0);
    }
    progress_show(&pg, 1);
    conn_lock(c);
    int cr = sftp_close(f);
    f = NULL;
    if (cr != SSH_OK) {
        write_failed(ctx, c, remote, path, 0);
        conn_unlock(c, NULL);
        goto out;
    }
    if (mode > 0 && sftp_chmod(c->sftp, tmp, (mode_t)mode) != SSH_OK) {
        sftp_fail(ctx, c, "set the mode of", remote);
        conn_unlock(c, NULL);
        goto out;
    }
    if (sftp_rename(c->sftp, tmp, path) != SSH_OK) {
        /* SSH_FXP_RENAME refuses to replace an existing file. */
        if (!ssh_is_connected(c->s) || sftp_unlink(c->sftp, path) != SSH_OK ||
            sftp_rename(c->sftp, tmp, path) != SSH_OK) {
            sftp_fail(ctx, c, "rename the upload to", remote);
            conn_unlock(c, NULL);
            goto out;
        }
    }
    created = 0;
    conn_unlock(c, NULL);
    rc = BC_OK;
out:
    if (f || created) {
        conn_lock(c);
        if (f)
            sftp_close(f); /* frees f; fails at once on a broken connection */
        if (created && !c->lost && ssh_is_connected(c->s))
            sftp_unlink(c->sftp, tmp);
        conn_unlock(c, NULL);
    }
    close(fd);
    free(buf);
    free(path);
    free(tmp);
    return rc;
}
