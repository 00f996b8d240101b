/* Small helpers shared by the core: memory, strings, time, files. */
#define _GNU_SOURCE
#include "util/util.h"
#include "util/beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void oom(void)
{
    fputs("benchctl: out of memory\n", stderr);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        oom();
    return p;
}

char *xstrdup(const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        oom();
    return d;
}

char *xstrndup(const char *s, size_t n)
{
    char *d = strndup(s, n);
    if (!d)
        oom();
    return d;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *out = NULL;
    va_start(ap, fmt);
    int r = vasprintf(&out, fmt, ap);
    va_end(ap);
    if (r < 0)
        oom();
    return out;
}

static void sb_grow(strbuf *sb, size_t extra)
{
    if (sb->len + extra + 1 <= sb->cap)
        return;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < sb->len + extra + 1)
        cap *= 2;
    sb->buf = xrealloc(sb->buf, cap);
    sb->cap = cap;
}

void sb_add(strbuf *sb, const void *data, size_t len)
{
    sb_grow(sb, len);
    memcpy(sb->buf + sb->len, data, len);
    sb->len += len;
    sb->buf[sb->len] = '\0';
}

void sb_puts(strbuf *sb, const char *s) { sb_add(sb, s, strlen(s)); }

void sb_printf(strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    sb_grow(sb, (size_t)n);
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    sb->len += (size_t)n;
}

char *sb_steal(strbuf *sb)
{
    char *s = sb->buf ? sb->buf : xstrdup("");
    sb->buf = NULL;
    sb->len = sb->cap = 0;
    return s;
}

void sb_free(strbuf *sb)
{
    free(sb->buf);
    sb->buf = NULL;
    sb->len = sb->cap = 0;
}

void sv_push_owned(strvec *sv, char *s)
{
    if (sv->n + 2 > sv->cap) {
        sv->cap = sv->cap ? sv->cap * 2 : 8;
        sv->v = xrealloc(sv->v, sv->cap * sizeof(char *));
    }
    sv->v[sv->n++] = s;
    sv->v[sv->n] = NULL;
}

void sv_push(strvec *sv, const char *s) { sv_push_owned(sv, xstrdup(s)); }

void sv_free(strvec *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = sv->cap = 0;
}

bool sv_contains(const strvec *sv, const char *s)
{
    for (size_t i = 0; i < sv->n; i++)
        if (strcmp(sv->v[i], s) == 0)
            return true;
    return false;
}

bool parse_duration_ns(const char *s, int64_t *out)
{
    static const struct {
        const char *unit;
        double ns;
    } units[] = {{"ns", 1}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"ms", 1e6},
                 {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
    if (!s || !*s)
        return false;
    if (strcmp(s, "0") == 0) {
        *out = 0;
        return true;
    }
    double total = 0;
    const char *p = s;
    while (*p) {
        /* A decimal number: digits with at most one '.', nothing strtod
         * would also take (0x10, 1e3, inf). */
        size_t n = 0, digits = 0, dots = 0;
        for (; (p[n] >= '0' && p[n] <= '9') || p[n] == '.'; n++) {
            if (p[n] == '.')
                dots++;
            else
                digits++;
        }
        if (!digits || dots > 1 || n > 40)
            return false;
        char num[48];
        memcpy(num, p, n);
        num[n] = '\0';
        char *end;
        errno = 0;
        double v = strtod(num, &end);
        if (end != num + n || errno)
            return false;
        p += n;
        size_t best = 0, best_len = 0;
        for (size_t i = 0; i < ARRAY_LEN(units); i++) {
            size_t l = strlen(units[i].unit);
            if (strncmp(p, units[i].unit, l) == 0 && l > best_len) {
                best = i;
                best_len = l;
            }
        }
        if (!best_len)
            return false;
        /* "m" must not swallow the "m" of "ms": longest match above wins. */
        total += v * units[best].ns;
        p += best_len;
    }
    if (total > 9.2e18 || !isfinite(total))
        return false;
    *out = (int64_t)total;
    return true;
}

bool parse_size(const char *s, int64_t *out)
{
    static const struct {
        const char *unit;
        int64_t mult;
    } units[] = {{"", 1},          {"B", 1},
                 {"K", 1LL << 10}, {"KiB", 1LL << 10}, {"KB", 1000},
                 {"M", 1LL << 20}, {"MiB", 1LL << 20}, {"MB", 1000000},
                 {"G", 1LL << 30}, {"GiB", 1LL << 30}, {"GB", 1000000000},
                 {"T", 1LL << 40}, {"TiB", 1LL << 40}, {"TB", 1000000000000LL}};
    if (!s || !(*s >= '0' && *s <= '9'))
        return false;
    int64_t v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (INT64_MAX - (*p - '0')) / 10)
            return false;
        v = v * 10 + (*p - '0');
    }
    for (size_t i = 0; i < ARRAY_LEN(units); i++)
        if (strcmp(p, units[i].unit) == 0) {
            if (v > INT64_MAX / units[i].mult)
                return false;
            *out = v * units[i].mult;
            return true;
        }
    return false;
}

bool parse_int64(const char *s, int64_t *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s)
        return false;
    *out = v;
    return true;
}

bool parse_double(const char *s, double *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !isfinite(v))
        return false;
    *out = v;
    return true;
}

int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void format_rfc3339(int64_t wall, char *buf, size_t size)
{
    time_t secs = (time_t)(wall / 1000000000);
    long usec = (long)((wall % 1000000000) / 1000);
    struct tm tm;
    localtime_r(&secs, &tm);
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    long off = tm.tm_gmtoff;
    if (off == 0) {
        snprintf(buf, size, "%s.%06ldZ", date, usec);
    } else {
        char sign = off < 0 ? '-' : '+';
        if (off < 0)
            off = -off;
        snprintf(buf, size, "%s.%06ld%c%02ld:%02ld", date, usec, sign, off / 3600,
                 (off % 3600) / 60);
    }
}

bool mkdir_p(const char *path, int mode)
{
    if (beneath_root_has(path) && strcmp(path, beneath_root()) != 0)
        return mkdir_beneath(path); /* inside the run directory: no links */
    char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
            free(p);
            return false;
        }
        *s = '/';
    }
    bool ok = mkdir(p, (mode_t)mode) == 0 || errno == EEXIST;
    if (ok) {
        struct stat st;
        if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            ok = false;
        }
    }
    free(p);
    return ok;
}

char *read_file(const char *path, size_t *len_out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    strbuf sb = {0};
    char tmp[65536];
    for (;;) {
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            sb_free(&sb);
            errno = e;
            return NULL;
        }
        if (n == 0)
            break;
        sb_add(&sb, tmp, (size_t)n);
    }
    close(fd);
    if (len_out)
        *len_out = sb.len;
    return sb_steal(&sb);
}

char *read_regular_file(const char *path, size_t max, size_t *len_out, char **why)
{
    *why = NULL;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        *why = xstrdup(strerror(e));
        errno = e;
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        *why = xasprintf("not a regular file (%s)", S_ISDIR(st.st_mode)    ? "a directory"
                                                    : S_ISFIFO(st.st_mode) ? "a FIFO"
                                                    : S_ISCHR(st.st_mode)  ? "a character device"
                                                    : S_ISBLK(st.st_mode)  ? "a block device"
                                                    : S_ISSOCK(st.st_mode) ? "a socket"
                                                                           : "not a file");
        close(fd);
        return NULL;
    }
    if ((uint64_t)st.st_size > max) {
        *why = xasprintf("too large (%lld bytes; at most %zu)", (long long)st.st_size, max);
        close(fd);
        return NULL;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *buf = xmalloc(cap + 1);
    for (;;) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *why = xstrdup(strerror(errno));
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > max) {
            *why = xasprintf("too large (more than %zu bytes)", max);
            break;
        }
        if (len == cap) { /* it grew while read */
            cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            buf = xrealloc(buf, cap + 1);
        }
    }
    close(fd);
    if (*why) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    if (len_out)
        *len_out = len;
    return buf;
}

bool write_file_atomic(const char *path, const void *data, size_t len, bool do_fsync)
{
    /* Never through a link planted at the temporary name or in a directory
     * below the run directory (a stage can write there: beneath.h); the
     * rename replaces a link at path itself instead of following it. */
    const char *last;
    int dfd = open_parent_beneath(path, false, &last);
    if (dfd < 0)
        return false;
    char *tmp = xasprintf("%s.tmp.%ld", last, (long)getpid());
    unlinkat(dfd, tmp, 0);
    int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        goto fail;
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            goto fail;
        }
        p += n;
        left -= (size_t)n;
    }
    if (do_fsync && fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (renameat(dfd, tmp, dfd, last) != 0)
        goto fail;
    free(tmp);
    close(dfd);
    return true;
fail: {
    int e = errno;
    if (fd >= 0)
        close(fd);
    unlinkat(dfd, tmp, 0);
    free(tmp);
    close(dfd);
    errno = e;
    return false;
}
}

/* Lexically remove "." segments, repeated slashes and "dir/.." pairs from
 * an absolute path, in place. */
static char *path_clean(char *path)
{
    if (path[0] != '/')
        return path;
    char *out = path, *seg = path;
    size_t len = 0;
    while (*seg) {
        while (*seg == '/')
            seg++;
        char *end = seg;
        while (*end && *end != '/')
            end++;
        size_t n = (size_t)(end - seg);
        if (n == 0 || (n == 1 && seg[0] == '.')) {
            /* skip */
        } else if (n == 2 && seg[0] == '.' && seg[1] == '.') {
            while (len > 0 && out[len - 1] != '/')
                len--;
            if (len > 0)
                len--;
        } else {
            out[len++] = '/';
            memmove(out + len, seg, n);
            len += n;
        }
        seg = end;
    }
    if (len == 0)
        out[len++] = '/';
    out[len] = '\0';
    return path;
}

char *path_join(const char *dir, const char *name)
{
    if (!dir || !*dir || name[0] == '/')
        return path_clean(xstrdup(name));
    size_t dl = strlen(dir);
    return path_clean(xasprintf("%s%s%s", dir, dir[dl - 1] == '/' ? "" : "/", name));
}

char *abs_path(const char *path)
{
    if (path[0] == '/')
        return path_clean(xstrdup(path));
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return xstrdup(path);
    const char *p = path;
    while (p[0] == '.' && p[1] == '/')
        p += 2;
    if (strcmp(p, ".") == 0 || !*p)
        return xstrdup(cwd);
    return path_join(cwd, p);
}

char *dir_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return xstrdup(".");
    if (slash == path)
        return xstrdup("/");
    return xstrndup(path, (size_t)(slash - path));
}

char *shell_quote(const char *s)
{
    strbuf sb = {0};
    sb_puts(&sb, "'");
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            sb_puts(&sb, "'\\''");
        else
            sb_add(&sb, p, 1);
    }
    sb_puts(&sb, "'");
    return sb_steal(&sb);
}

void write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return; /* a closed terminal must not stop the run */
        }
        p += n;
        len -= (size_t)n;
    }
}

static const char *env_lookup(const char *const *env, const char *name, size_t len)
{
    const char *found = NULL;
    for (size_t i = 0; env && env[i]; i++)
        if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
            found = env[i] + len + 1; /* the last definition wins */
    if (found)
        return found;
    char *n = xstrndup(name, len);
    const char *v = getenv(n);
    free(n);
    return v;
}

char *expand_vars(const char *s, const char *const *env, char **err)
{
    strbuf sb = {0};
    *err = NULL;
    for (const char *p = s; *p;) {
        if (*p != '$') {
            sb_add(&sb, p++, 1);
            continue;
        }
        const char *name = p + 1;
        size_t len = 0;
        bool braced = *name == '{';
        if (braced) {
            name++;
            const char *close = strchr(name, '}');
            if (!close) {
                *err = xasprintf("unterminated ${ in '%s'", s);
                sb_free(&sb);
                return NULL;
            }
            len = (size_t)(close - name);
        } else {
            while (name[len] == '_' || (name[len] >= 'A' && name[len] <= 'Z') ||
                   (name[len] >= 'a' && name[len] <= 'z') || (len && name[len] >= '0' && name[len] <= '9'))
                len++;
        }
        if (len == 0) { /* a lone '$' stays as it is */
            sb_add(&sb, p++, 1);
            continue;
        }
        const char *v = env_lookup(env, name, len);
        if (!v) {
            *err = xasprintf("$%s%.*s%s is not set", braced ? "{" : "", (int)len, name,
                             braced ? "}" : "");
            sb_free(&sb);
            return NULL;
        }
        sb_puts(&sb, v);
        p = name + len + (braced ? 1 : 0);
    }
    return sb_steal(&sb);
}

void random_token(char *buf, size_t size)
{
    unsigned char raw[32];
    size_t want = (size - 1 + 1) / 2 < sizeof raw ? (size - 1 + 1) / 2 : sizeof raw;
    if (getrandom(raw, want, 0) != (ssize_t)want) {
        uint64_t x = (uint64_t)wall_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)mono_ns();
        for (size_t i = 0; i < want; i++, x = x * 6364136223846793005ULL + 1442695040888963407ULL)
            raw[i] = (unsigned char)(x >> 56);
    }
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < want && o + 1 < size; i++) {
        buf[o++] = hex[raw[i] >> 4];
        if (o + 1 < size)
            buf[o++] = hex[raw[i] & 15];
    }
    buf[o] = '\0';
}

size_t edit_distance(const char *a, const char *b, size_t cap)
{
    /* Optimal string alignment: a swap of two neighbours ("lsit") is one
     * edit, as people make them. */
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return cap;
    size_t d[65][65];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb] < cap ? d[la][lb] : cap;
}

const char *suggest_name(const char *word, const char *const *names)
{
    const char *near = NULL;
    size_t best = 3;
    for (; *names; names++) {
        size_t d = edit_distance(word, *names, 3);
        if (d < best && d < strlen(*names)) {
            best = d;
            near = *names;
        }
    }
    return near;
}
