/*
 * bc_sb: the growable string builder of <benchctl/helpers.h>.
 *
 * The buffer doubles as it grows (so n appends cost O(total length)); a
 * failed allocation marks the builder failed instead of aborting, and
 * every later append is a no-op, so callers check once at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <benchctl/helpers.h>

void bc_sb_init(bc_sb *sb)
{
    sb->buf = NULL;
    sb->len = 0;
    sb->cap = 0;
    sb->failed = false;
}

/* Room for `more` bytes plus the NUL; false (and failed) when it cannot. */
static bool reserve(bc_sb *sb, size_t more)
{
    if (sb->failed)
        return false;
    if (more > SIZE_MAX - sb->len - 1) {
        sb->failed = true;
        return false;
    }
    size_t need = sb->len + more + 1;
    if (need <= sb->cap)
        return true;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(sb->buf, cap);
    if (!p) {
        sb->failed = true;
        return false;
    }
    sb->buf = p;
    sb->cap = cap;
    return true;
}

bool bc_sb_append_n(bc_sb *sb, const char *s, size_t n)
{
    if (!reserve(sb, n))
        return false;
    if (n)
        memcpy(sb->buf + sb->len, s, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
    return true;
}

bool bc_sb_append(bc_sb *sb, const char *s)
{
    return bc_sb_append_n(sb, s ? s : "", s ? strlen(s) : 0);
}

bool bc_sb_vprintf(bc_sb *sb, const char *fmt, va_list ap)
{
    if (sb->failed)
        return false;
    va_list again;
    va_copy(again, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    bool ok = false;
    if (n < 0) {
        sb->failed = true;
    } else if ((size_t)n < sizeof small) {
        ok = bc_sb_append_n(sb, small, (size_t)n);
    } else if (reserve(sb, (size_t)n)) {
        vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, again);
        sb->len += (size_t)n;
        ok = true;
    }
    va_end(again);
    return ok;
}

bool bc_sb_printf(bc_sb *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool ok = bc_sb_vprintf(sb, fmt, ap);
    va_end(ap);
    return ok;
}

const char *bc_sb_str(const bc_sb *sb) { return sb->buf ? sb->buf : ""; }

bool bc_sb_failed(const bc_sb *sb) { return sb->failed; }

void bc_sb_clear(bc_sb *sb)
{
    sb->len = 0;
    if (sb->buf)
        sb->buf[0] = '\0';
    sb->failed = false;
}

char *bc_sb_steal(bc_sb *sb)
{
    char *out = NULL;
    if (!sb->failed)
        out = sb->buf ? sb->buf : calloc(1, 1);
    else
        free(sb->buf);
    bc_sb_init(sb);
    return out;
}

void bc_sb_free(bc_sb *sb)
{
    free(sb->buf);
    bc_sb_init(sb);
}
