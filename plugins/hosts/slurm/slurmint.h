/*
 * Host transport "slurm", internals shared by its files (not installed).
 *
 *   slurm.c   the descriptor, the options, the allocation (open / close)
 *             and file transfer
 *   step.c    stage commands as job steps (start / wait / stop / release)
 *             and their accounting
 *   spawn.c   running Slurm's commands (salloc, srun, scancel, scontrol,
 *             sacct) as child processes in sessions of their own
 *   files.c   files through steps when the nodes share no directory with
 *             this machine (shared: false)
 */
#ifndef BENCHCTL_SLURM_INT_H
#define BENCHCTL_SLURM_INT_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include <benchctl/helpers.h>
#include <benchctl/plugin.h>

/* One host: one allocation (a job), shared by every stage of the run. */
typedef struct sl_conn {
    char job[32];            /* the allocation's job id */
    pid_t salloc;            /* salloc, holding the allocation while its command runs */
    int hold_fd;             /* that command's stdin: closing it releases the job */
    int salloc_err;          /* salloc's stderr (read at the end, so it never blocks) */
    char **nodes;            /* its nodes, in Slurm's order (owned) */
    size_t nnodes;
    char *tmpdir;            /* private per-run directory, on the shared directory */
    char *tmpdir_env;        /* "BENCHCTL_HOST_TMPDIR=..." */
    double queue_wait_s;     /* submission to grant, on the controller's clock */
    int sacct;               /* accounting storage is configured: ask sacct */
    int overcommit;          /* steps get --overcommit */
    int shared;              /* tmpdir is on a directory this machine shares (else on
                                nodes[0] only: files move through steps, files.c) */
    pthread_mutex_t lock;    /* seq */
    unsigned seq;            /* step names */
} sl_conn;

/* One stage command: one job step (an srun on the controller). */
typedef struct sl_proc {
    bc_ctx *ctx;
    sl_conn *c;
    bc_child ch;            /* srun (also its session and group), its stdout and stderr */
    int accounted;          /* the accounting was handed to the core */
    char *base;             /* <tmpdir>/steps/<n>: the step's files (.id, .acct) */
    char step[64];          /* "<job>.<step>" once known, else "" */
    char node[64];          /* the node it was pinned to, or "" */
    int64_t t0_ms;          /* when srun started (controller's monotonic clock) */
    char errtail[512];      /* the end of its stderr (messages) */
    size_t errlen;
} sl_proc;

/* ---- spawn.c ---- */

/* Starts argv (argv[0] looked up in PATH) in a session of its own with
 * stdin from a pipe whose writing end is *in_fd (NULL: /dev/null), stdout
 * and stderr on two non-blocking pipes (*out_fd, *err_fd; either may be
 * NULL for /dev/null); all three ends are close-on-exec.  envp as
 * its environment (NULL: ours) and workdir as its directory (NULL: ours).
 * Returns BC_OK with *pid set, or BC_ERR with the error set on ctx. */
int sl_spawn(bc_ctx *ctx, char *const argv[], char *const envp[], const char *workdir,
             pid_t *pid, int *in_fd, int *out_fd, int *err_fd);

/* Runs argv to its end and captures its stdout into out and its stderr
 * into err (either may be NULL; both NUL-terminated and cut to their
 * sizes), waiting at most timeout_ms (-1: no limit) and, when
 * cancellable, giving up once the run is cancelled (clean-up commands are
 * not).  Returns BC_OK (*status: its exit status, -1 if killed by a
 * signal), BC_TIMEOUT or BC_CANCELLED (the command is then killed) or
 * BC_ERR (it could not start). */
int sl_capture(bc_ctx *ctx, char *const argv[], int64_t timeout_ms, int cancellable, int *status,
               char *out, size_t out_size, char *err, size_t err_size);

/* Reads what is available on *fd (bc_fd_pump) into the core's output
 * (stream; not when ctx is NULL) and into tail (the last tail_size - 1
 * bytes, when tail is not NULL); closes it and sets *fd to -1 at end of
 * file.  Returns the bytes read. */
ssize_t sl_pump(bc_ctx *ctx, int *fd, int stream, char *tail, size_t tail_size,
                size_t *tail_len);

/* ---- files.c (shared: false) ---- */

/* "<node_dir>/.benchctl-slurm.<8 random letters>" (malloc'ed; NULL when out
 * of memory or without randomness). */
char *sl_node_tmpdir_name(const char *node_dir);

/* Runs /bin/sh -c script as a step on the allocation's first node, stdin
 * from in_fd and stdout into out_fd (-1: /dev/null), bounded (10 min) and
 * cancellable.  BC_OK when it exited 0; else BC_ERR / BC_TIMEOUT /
 * BC_CANCELLED with a message (srun's last lines) in err. */
int sl_node_run(bc_ctx *ctx, sl_conn *c, const char *script, int in_fd, int out_fd,
                char *err, size_t err_size);

/* get_file / put_file through steps on the first node (relative paths in
 * the private directory; at most max_file_bytes + 1 fetched; written to a
 * temporary name and renamed on both sides).  BC_OK or an error on ctx. */
int sl_node_get(bc_ctx *ctx, sl_conn *c, const char *remote, const char *local);
int sl_node_put(bc_ctx *ctx, sl_conn *c, const char *local, const char *remote, int mode);

/* A small file of the private directory (a step's .id / .acct) into buf
 * (NUL-terminated, cut to size): read here when shared, else with `cat`
 * as a step on the first node.  BC_OK, or BC_ERR with buf "". */
int sl_node_read(bc_ctx *ctx, sl_conn *c, const char *path, char *buf, size_t size);

/* ---- step.c ---- */

/* The host operations on steps (see host.h). */
int sl_start(bc_ctx *ctx, void *conn, const bc_exec_request *req, void **proc);
int sl_wait(bc_ctx *ctx, void *proc, int64_t timeout_ms, bc_exec_result *res);
int sl_stop(bc_ctx *ctx, void *proc, int64_t grace_ms);
void sl_release(bc_ctx *ctx, void *proc);

/* Is the allocation still there?  Fills state (JobState, e.g. RUNNING,
 * TIMEOUT, NODE_FAIL, CANCELLED) and reason (Reason) from `scontrol show
 * job`; returns 1 when it is running, 0 when it ended, -1 when scontrol
 * could not tell. */
int sl_job_state(bc_ctx *ctx, const char *job, char *state, size_t state_size, char *reason,
                 size_t reason_size);

#endif /* BENCHCTL_SLURM_INT_H */
