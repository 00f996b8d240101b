/*
 * benchctl plugin helpers: small utilities that plugins link INTO
 * themselves (the static library benchctl_helpers, compiled with hidden
 * visibility).  They are not part of the plugin ABI: the core never calls
 * them, never exports them, and a plugin built with an older copy keeps
 * working with a newer benchctl.
 *
 *   CMake:       benchctl_add_plugin() links benchctl::helpers already.
 *   pkg-config:  cc ... plugin.c $(pkg-config --libs benchctl)
 *
 * What is here: a growable string builder (bc_sb_*), POSIX shell quoting
 * (bc_shell_quote*), a monotonic clock (bc_mono_*), the last lines of a
 * command's output (bc_last_lines), path joining that reports
 * truncation (bc_path_join*), and child processes for host transports
 * (bc_env_merge, bc_spawnattr_session, bc_fd_pump, bc_child_*) and a
 * bounded, atomic file copy (bc_copy_file).  Nothing here aborts: allocation failures
 * and truncation are reported to the caller.
 */
#ifndef BENCHCTL_HELPERS_H
#define BENCHCTL_HELPERS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/types.h>

#if defined(__GNUC__)
#define BC_HELPERS_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define BC_HELPERS_PRINTF(fmt, args)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- string builder ------------------------------------------------------ */

/*
 * A growable, always NUL-terminated string.  Zero-initialise it (or use
 * BC_SB_INIT / bc_sb_init); it owns its buffer until bc_sb_steal or
 * bc_sb_free.  Once an allocation fails the builder is "failed": every
 * later append is a no-op returning false, bc_sb_failed says so, and
 * bc_sb_steal returns NULL, so a sequence of appends needs one check at
 * the end.
 */
typedef struct bc_sb {
    char *buf;   /* NULL until the first append; read it with bc_sb_str */
    size_t len;  /* bytes in buf, without the NUL */
    size_t cap;  /* bytes allocated */
    bool failed; /* an allocation failed; the content is incomplete */
} bc_sb;

#define BC_SB_INIT {NULL, 0, 0, false}

/* Makes sb empty without freeing anything (use on a fresh builder). */
void bc_sb_init(bc_sb *sb);

/* Appends the NUL-terminated s (NULL appends nothing).  Returns false when
 * the builder is, or becomes, failed. */
bool bc_sb_append(bc_sb *sb, const char *s);

/* Appends n bytes of s (which need not be NUL-terminated; they must not
 * contain NUL if the result is used as a C string).  false when failed. */
bool bc_sb_append_n(bc_sb *sb, const char *s, size_t n);

/* Appends printf-formatted text.  false when failed (also when the format
 * itself fails, e.g. an invalid multibyte conversion). */
bool bc_sb_printf(bc_sb *sb, const char *fmt, ...) BC_HELPERS_PRINTF(2, 3);

/* bc_sb_printf with a va_list (ap is consumed). */
bool bc_sb_vprintf(bc_sb *sb, const char *fmt, va_list ap) BC_HELPERS_PRINTF(2, 0);

/* The content so far: borrowed, valid until the next change; "" when
 * nothing was appended.  Never NULL. */
const char *bc_sb_str(const bc_sb *sb);

/* True when an allocation failed (the content is incomplete). */
bool bc_sb_failed(const bc_sb *sb);

/* Empties the content (keeping the allocation) and clears the failed
 * state. */
void bc_sb_clear(bc_sb *sb);

/* Hands the content over: a malloc'ed string the caller frees ("" when
 * empty), or NULL when the builder failed or "" cannot be allocated.  The
 * builder is empty and reusable afterwards. */
char *bc_sb_steal(bc_sb *sb);

/* Frees the content; the builder is empty and reusable afterwards. */
void bc_sb_free(bc_sb *sb);

/* ---- shell quoting --------------------------------------------------------- */

/* Appends s as one word for a POSIX shell: in single quotes, each ' written
 * as '\'' (so "it's" becomes 'it'\''s').  NULL quotes as ''.  Returns false
 * when the builder is, or becomes, failed. */
bool bc_shell_quote(bc_sb *sb, const char *s);

/* s quoted as by bc_shell_quote, as a malloc'ed string the caller frees;
 * NULL when out of memory. */
char *bc_shell_quote_dup(const char *s);

/* ---- monotonic clock ------------------------------------------------------- */

/* Milliseconds / nanoseconds on CLOCK_MONOTONIC: only differences mean
 * anything (never affected by changes to the wall clock). */
int64_t bc_mono_ms(void);
int64_t bc_mono_ns(void);

/* ---- command output -------------------------------------------------------- */

/*
 * The last n_lines non-blank lines of text (NULL reads as ""), each
 * trimmed of leading and trailing blanks (space, tab, CR), joined by '\n',
 * into out (NUL-terminated; out_size 0 writes nothing).  A result longer
 * than out_size - 1 keeps its beginning.  Returns the length of the whole
 * result, like snprintf: a value >= out_size means it was truncated.
 */
size_t bc_last_lines(const char *text, size_t n_lines, char *out, size_t out_size);

/* ---- paths ----------------------------------------------------------------- */

/*
 * dir and name joined with one '/' into buf (size bytes): "dir/name", or
 * "dir/name" without doubling the slash when dir ends with '/', or just
 * name when dir is NULL or "", or just dir when name is NULL or "".
 * Returns true when the whole path fits; otherwise false with buf set to
 * "" (never a silently shortened path), so the caller reports it, e.g.
 * with bc_path_join_alloc's result or dir and name themselves.
 */
bool bc_path_join(char *buf, size_t size, const char *dir, const char *name);

/* The same join into a malloc'ed string the caller frees; NULL when out of
 * memory. */
char *bc_path_join_alloc(const char *dir, const char *name);

/* ---- child processes (host transports) ------------------------------------ */

/*
 * The environment for a child: this process's (environ), with each
 * "NAME=value" of extra (NULL-terminated, may be NULL) added or replacing
 * the entry of that name, plus own ("NAME=value", may be NULL).  The array
 * is the caller's to free(); its strings are borrowed (environ, extra,
 * own), so they must outlive it.  NULL when out of memory.
 */
char **bc_env_merge(const char *const *extra, const char *own);

/* Sets O_NONBLOCK on fd (errors ignored: fd is then left as it was). */
void bc_fd_nonblock(int fd);

/*
 * Prepares attr (already posix_spawnattr_init'ed) so the child starts in a
 * session and process group of its own (the whole tree can be signalled,
 * and a Ctrl-C on the terminal reaches only benchctl), with the default
 * disposition of SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGALRM, SIGQUIT and
 * SIGCHLD and an empty signal mask (whatever benchctl ignores or blocks).
 */
void bc_spawnattr_session(posix_spawnattr_t *attr);

/*
 * Appends buf[0..n) to tail (size bytes, NUL-terminated, *len bytes used),
 * keeping only the last size - 1 bytes.  Nothing when tail is NULL or size
 * is below 2.
 */
void bc_tail_keep(char *tail, size_t size, size_t *len, const char *buf, size_t n);

/* Where bc_fd_pump hands what it read: stream is the caller's tag. */
typedef void (*bc_sink_fn)(void *arg, int stream, const char *buf, size_t len);

/*
 * Reads what is available now on the non-blocking *fd and hands it to sink
 * (when not NULL) tagged with stream; at end of file (or a read error,
 * such as EIO from a PTY whose last slave closed) closes it and sets *fd to
 * -1.  Returns the bytes read (0: nothing available, or *fd was -1).
 */
ssize_t bc_fd_pump(int *fd, int stream, bc_sink_fn sink, void *arg);

/* A child started by a plugin, its output on non-blocking pipes. */
typedef struct bc_child {
    pid_t pid;        /* the child (with bc_spawnattr_session: its group and session) */
    int out_fd;       /* its stdout (or a PTY master), -1 when none or closed */
    int err_fd;       /* its stderr, -1 when none or closed */
    int pidfd;        /* pidfd_open(pid), -1 when the kernel has none */
    int exited;       /* reaped */
    int status;       /* its wait status, once exited */
    struct rusage ru; /* its resource usage (and its waited-for children's), once exited */
} bc_child;

/*
 * Reaps c when it has ended (options: 0 blocks, WNOHANG does not), filling
 * status and ru.  Returns 1 when c is reaped (now or before), else 0.
 */
int bc_child_reap(bc_child *c, int options);

/* Reads c's pipes until they are empty or closed (out_fd tagged
 * out_stream, err_fd err_stream) into sink. */
void bc_child_drain(bc_child *c, int out_stream, int err_stream, bc_sink_fn sink, void *arg);

enum { BC_CHILD_EXITED = 0, BC_CHILD_CANCELLED = 1, BC_CHILD_TIMEOUT = 2, BC_CHILD_ERROR = -1 };

/*
 * Streams c's output into sink while waiting for it to end, at most
 * timeout_ms (-1: no limit).  cancel_fd (-1: none) wakes the wait, and
 * cancelled(arg) (may be NULL) is asked after each wake-up -- arg is the
 * same for sink and cancelled, so both read what they need from it.  Returns
 * BC_CHILD_EXITED once c is reaped and its pipes drained (leftover
 * children still holding the pipes never delay it when c has a pidfd),
 * BC_CHILD_CANCELLED or BC_CHILD_TIMEOUT with c still running, or
 * BC_CHILD_ERROR when poll failed (errno says why).
 */
int bc_child_wait(bc_child *c, int64_t timeout_ms, int cancel_fd, int (*cancelled)(void *),
                  int out_stream, int err_stream, bc_sink_fn sink, void *arg);

/* ---- file copies (host transports whose files are on this machine) -------- */

enum { BC_COPY_DONE = 0, BC_COPY_CANCELLED = 1, BC_COPY_FAILED = -1 };

/*
 * Copies from to to (mode for a new file; 0: 0644), written to
 * "<to>.part.<pid>" (a link planted there is removed, never followed) and
 * renamed to to when complete, so a failed copy never leaves a truncated
 * file under the final name.  A regular file is copied up to its size when
 * the copy starts; with max_bytes > 0 at most max_bytes + 1 bytes are
 * copied (so the caller can tell a longer source was cut).  While reading
 * something that is not a regular file (a pipe, a device), cancelled(arg)
 * (may be NULL) is asked before each read.  Returns BC_COPY_DONE,
 * BC_COPY_CANCELLED or BC_COPY_FAILED, with the message in err (cut to
 * err_size; may be NULL) in the last two cases.
 */
int bc_copy_file(const char *from, const char *to, int mode, int64_t max_bytes,
                 int (*cancelled)(void *), void *arg, char *err, size_t err_size);

#ifdef __cplusplus
}
#endif

#endif /* BENCHCTL_HELPERS_H */
