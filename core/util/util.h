/* Small helpers shared by the core: memory, strings, time, files. */
#ifndef BENCHCTL_UTIL_H
#define BENCHCTL_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation that aborts with a message on exhaustion; never returns NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);         /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Growable string.  Zero-initialise; sb_free releases. */
typedef struct strbuf {
    char *buf;
    size_t len, cap;
} strbuf;
void sb_add(strbuf *sb, const void *data, size_t len);
void sb_puts(strbuf *sb, const char *s);
void sb_printf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *sb_steal(strbuf *sb); /* returns the NUL-terminated text, resets sb */
void sb_free(strbuf *sb);

/* Growable array of owned strings, NULL-terminated in `v`. */
typedef struct strvec {
    char **v;
    size_t n, cap;
} strvec;
void sv_push(strvec *sv, const char *s); /* copies s */
void sv_push_owned(strvec *sv, char *s);
void sv_free(strvec *sv);
bool sv_contains(const strvec *sv, const char *s);

/* Parse a Go-style duration ("1h2m3.5s", "500ms", "250us", "10ns") into
 * nanoseconds. A bare "0" is accepted. Returns false on bad syntax. */
bool parse_duration_ns(const char *s, int64_t *out);
/* Read a regular file of at most max bytes (NUL-terminated, length in
 * *len_out).  NULL with *why (owned) when it is not a regular file (a
 * FIFO or device is refused at once, never read), is larger than max, or
 * cannot be read. */
char *read_regular_file(const char *path, size_t max, size_t *len_out, char **why);
/* Parse a size in bytes: a whole number with an optional unit, "B", "K"
 * "M" "G" "T" (or "KiB" ... "TiB": powers of 1024) or "KB" ... "TB"
 * (powers of 1000): "100M", "64KiB", "1GB", "4096".  false on bad syntax
 * or overflow. */
bool parse_size(const char *s, int64_t *out);
/* Parse a whole decimal integer with range checks. */
bool parse_int64(const char *s, int64_t *out);
/* size - 1 random hex digits and a NUL into buf (getrandom; the clock and
 * pid when that fails). */
void random_token(char *buf, size_t size);
bool parse_double(const char *s, double *out);
/* The edit distance (insertions, deletions, substitutions) of a and b,
 * counted up to cap (cap when larger, or when either is over 64 bytes). */
size_t edit_distance(const char *a, const char *b, size_t cap);
/* The name of names (NULL-terminated) closest to word within 2 edits, and
 * closer than the name's own length: the "did you mean" of a misspelt
 * command, option or key; NULL when none is near. */
const char *suggest_name(const char *word, const char *const *names);

/* Monotonic and wall clocks in nanoseconds. */
int64_t mono_ns(void);
int64_t wall_ns(void);
/* RFC 3339 with microseconds and the local UTC offset. Writes into buf. */
void format_rfc3339(int64_t wall, char *buf, size_t size);

/* Files. Each returns false and sets errno on failure. */
bool mkdir_p(const char *path, int mode);
char *read_file(const char *path, size_t *len_out); /* NULL on error */
/* Write via a temporary file in the same directory and rename(2). */
bool write_file_atomic(const char *path, const void *data, size_t len, bool do_fsync);
char *path_join(const char *dir, const char *name);
char *abs_path(const char *path); /* absolute (not resolving symlinks) */
char *dir_name(const char *path);

/* Write everything, retrying on EINTR; errors are ignored (used for the
 * terminal and logs, which must never stop a run). */
void write_all(int fd, const void *data, size_t len);

/* Expand $VAR and ${VAR} in s from env ("NAME=value" entries, the last
 * wins) and then the process environment.  An unset variable is an error
 * (*err, owned): a silently empty path is worse than a clear message. */
char *expand_vars(const char *s, const char *const *env, char **err);

/* Quote s for a POSIX shell (single quotes). */
char *shell_quote(const char *s);

#endif
