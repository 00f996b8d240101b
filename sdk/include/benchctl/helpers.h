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
 * command's output (bc_last_lines) and path joining that reports
 * truncation (bc_path_join*).  Nothing here aborts: allocation failures
 * and truncation are reported to the caller.
 */
#ifndef BENCHCTL_HELPERS_H
#define BENCHCTL_HELPERS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#ifdef __cplusplus
}
#endif

#endif /* BENCHCTL_HELPERS_H */
