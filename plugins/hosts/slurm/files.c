/*
 * Files on the nodes when they share no directory with this machine
 * (`shared: false`): the private directory is on the first node of the
 * allocation (node_dir), every step runs there, and files move through the
 * transport as steps: `srun --jobid J --overlap -N1 -n1 -w NODE` running
 * `head -c` (fetch: its stdout into a temporary file here) or `cat >`
 * (upload: its stdin from the local file).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "slurmint.h"

#define NODE_CMD_MS 600000 /* one file transfer or directory command */

extern char **environ;

char *sl_node_tmpdir_name(const char *node_dir)
{
    static const char abc[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char r[8];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return NULL;
    char tail[sizeof r + 1];
    for (size_t i = 0; i < sizeof r; i++)
        tail[i] = abc[r[i] % (sizeof abc - 1)];
    tail[sizeof r] = '\0';
    bc_sb sb = BC_SB_INIT;
    bc_sb_printf(&sb, "%s/.benchctl-slurm.%s", node_dir, tail);
    return bc_sb_steal(&sb);
}

/* What a wait on a node command looks at: the run (cancelled?) and the
 * end of srun's stderr (for the message). */
typedef struct node_wait {
    bc_ctx *ctx;
    char text[512];
    size_t len;
} node_wait;

static void errtail_sink(void *arg, int stream, const char *buf, size_t len)
{
    (void)stream;
    node_wait *t = arg;
    bc_tail_keep(t->text, sizeof t->text, &t->len, buf, len);
}

static int run_cancelled(void *arg)
{
    node_wait *t = arg;
    return t->ctx->svc->cancelled(t->ctx);
}

int sl_node_run(bc_ctx *ctx, sl_conn *c, const char *script, int in_fd, int out_fd,
                char *err, size_t err_size)
{
    char jobarg[64], nodearg[96];
    snprintf(jobarg, sizeof jobarg, "--jobid=%s", c->job);
    snprintf(nodearg, sizeof nodearg, "--nodelist=%s", c->nodes[0]);
    /* (without overcommit, --quiet again holds the place) */
    char *argv[] = {"srun", jobarg, "--overlap", "--nodes=1", "--ntasks=1", "--quiet",
                    "--job-name=benchctl-files", nodearg,
                    c->overcommit ? "--overcommit" : "--quiet", "/bin/sh", "-c",
                    (char *)script, NULL};
    int errp[2] = {-1, -1};
    if (pipe2(errp, O_CLOEXEC) != 0) {
        snprintf(err, err_size, "cannot create a pipe: %s", strerror(errno));
        return BC_ERR;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    if (in_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
    else
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (out_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    else
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
    bc_spawnattr_session(&attr);
    bc_child ch = {.out_fd = -1, .err_fd = errp[0], .pidfd = -1};
    int e = posix_spawnp(&ch.pid, "srun", &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(errp[1]);
    if (e != 0) {
        close(errp[0]);
        snprintf(err, err_size, "cannot run 'srun': %s", strerror(e));
        return BC_ERR;
    }
    ch.pidfd = (int)syscall(SYS_pidfd_open, ch.pid, 0);
    bc_fd_nonblock(ch.err_fd);
    node_wait tail = {.ctx = ctx, .len = 0};
    int w = bc_child_wait(&ch, NODE_CMD_MS, ctx->svc->cancel_fd(ctx), run_cancelled,
                          BC_STREAM_STDERR, BC_STREAM_STDERR, errtail_sink, &tail);
    if (w != BC_CHILD_EXITED) {
        kill(-ch.pid, SIGKILL);
        bc_child_reap(&ch, 0);
    }
    if (ch.err_fd >= 0)
        close(ch.err_fd);
    if (ch.pidfd >= 0)
        close(ch.pidfd);
    if (w == BC_CHILD_CANCELLED || w == BC_CHILD_TIMEOUT) {
        snprintf(err, err_size, "%s on node %s", w == BC_CHILD_CANCELLED ? "interrupted"
                                                  : "timed out", c->nodes[0]);
        return w == BC_CHILD_CANCELLED ? BC_CANCELLED : BC_TIMEOUT;
    }
    if (!WIFEXITED(ch.status) || WEXITSTATUS(ch.status) != 0) {
        char last[400];
        bc_last_lines(tail.text, 2, last, sizeof last);
        for (char *q = last; *q; q++)
            if (*q == '\n')
                *q = ' ';
        snprintf(err, err_size, "%s (on node %s, srun exit %d)", last[0] ? last : "failed",
                 c->nodes[0], WIFEXITED(ch.status) ? WEXITSTATUS(ch.status) : -1);
        return BC_ERR;
    }
    return BC_OK;
}

/* A relative host path is inside the private directory. */
static char *node_path(sl_conn *c, const char *path)
{
    return path[0] == '/' ? strdup(path) : bc_path_join_alloc(c->tmpdir, path);
}

int sl_node_get(bc_ctx *ctx, sl_conn *c, const char *remote, const char *local)
{
    char *src = node_path(c, remote);
    bc_sb sb = BC_SB_INIT;
    bc_sb_printf(&sb, "%s.part.%d", local, (int)getpid());
    char *tmp = bc_sb_steal(&sb);
    char *q = src ? bc_shell_quote_dup(src) : NULL;
    int rc = BC_ERR;
    if (!src || !tmp || !q) {
        bc_error(ctx, "out of memory");
        goto out;
    }
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        bc_error(ctx, "cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    /* at most max_file_bytes + 1 (the core cuts a longer file and says so) */
    const char *maxs = ctx->svc->fact(ctx, "max_file_bytes");
    long long maxb = maxs ? strtoll(maxs, NULL, 10) : 0;
    if (maxb > 0)
        bc_sb_printf(&sb, "exec head -c %lld -- %s", maxb + 1, q);
    else
        bc_sb_printf(&sb, "exec cat -- %s", q);
    char err[600] = "";
    rc = bc_sb_failed(&sb) ? BC_ERR : sl_node_run(ctx, c, bc_sb_str(&sb), -1, fd, err, sizeof err);
    bc_sb_free(&sb);
    if (close(fd) != 0 && rc == BC_OK) {
        snprintf(err, sizeof err, "cannot write %s: %s", tmp, strerror(errno));
        rc = BC_ERR;
    }
    if (rc == BC_OK && rename(tmp, local) != 0) {
        snprintf(err, sizeof err, "cannot rename %s to %s: %s", tmp, local, strerror(errno));
        rc = BC_ERR;
    }
    if (rc != BC_OK) {
        unlink(tmp);
        bc_error(ctx, "cannot fetch %s: %s", src, err[0] ? err : "out of memory");
    }
out:
    free(q);
    free(tmp);
    free(src);
    return rc;
}

int sl_node_put(bc_ctx *ctx, sl_conn *c, const char *local, const char *remote, int mode)
{
    int in = open(local, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        bc_error(ctx, "cannot open %s: %s", local, strerror(errno));
        return BC_ERR;
    }
    char *dst = node_path(c, remote);
    char *q = dst ? bc_shell_quote_dup(dst) : NULL;
    bc_sb sb = BC_SB_INIT;
    /* written beside, renamed when complete; parents inside the private
     * directory made (0700) */
    bc_sb_printf(&sb,
                 "umask 077; d=%s; mkdir -p -- \"$(dirname -- \"$d\")\" && "
                 "cat >\"$d.part.$$\" && chmod %o \"$d.part.$$\" && mv -f -- \"$d.part.$$\" \"$d\" "
                 "|| { rm -f -- \"$d.part.$$\"; exit 1; }",
                 q ? q : "", (unsigned)(mode > 0 ? mode : 0644));
    char err[600] = "";
    int rc = !q || bc_sb_failed(&sb) ? BC_ERR
                                     : sl_node_run(ctx, c, bc_sb_str(&sb), in, -1, err, sizeof err);
    if (rc != BC_OK)
        bc_error(ctx, "cannot upload %s to %s: %s", local, dst ? dst : remote,
                 err[0] ? err : "out of memory");
    bc_sb_free(&sb);
    free(q);
    free(dst);
    close(in);
    return rc;
}

int sl_node_read(bc_ctx *ctx, sl_conn *c, const char *path, char *buf, size_t size)
{
    buf[0] = '\0';
    if (c->shared) {
        FILE *f = fopen(path, "re");
        if (!f)
            return BC_ERR;
        size_t n = fread(buf, 1, size - 1, f);
        buf[n] = '\0';
        fclose(f);
        return BC_OK;
    }
    char jobarg[64], nodearg[96];
    snprintf(jobarg, sizeof jobarg, "--jobid=%s", c->job);
    snprintf(nodearg, sizeof nodearg, "--nodelist=%s", c->nodes[0]);
    char *argv[] = {"srun", jobarg, "--overlap", "--nodes=1", "--ntasks=1", "--quiet",
                    "--job-name=benchctl-files", nodearg,
                    c->overcommit ? "--overcommit" : "--quiet", "cat", "--", (char *)path, NULL};
    int status = -1;
    if (sl_capture(ctx, argv, 60000, 0, &status, buf, size, NULL, 0) != BC_OK || status != 0) {
        buf[0] = '\0';
        return BC_ERR;
    }
    return BC_OK;
}
