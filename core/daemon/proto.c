/* The queue protocol's framing and connection helpers (proto.h). */
#define _GNU_SOURCE
#include "daemon/proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

char *proto_socket_path(const char *path)
{
    if (path && *path)
        return xstrdup(path);
    const char *env = getenv("BENCHCTL_SOCKET");
    if (env && *env)
        return xstrdup(env);
    if (geteuid() == 0)
        return xstrdup("/run/benchctl/daemon.sock");
    const char *rt = getenv("XDG_RUNTIME_DIR");
    if (rt && *rt)
        return xasprintf("%s/benchctl/daemon.sock", rt);
    return xasprintf("/tmp/benchctl-%u/daemon.sock", (unsigned)geteuid());
}

/* A whole line in r->buf: returns it and removes it from the buffer. */
static char *take_line(proto_reader *r)
{
    char *nl = r->buf.len ? memchr(r->buf.buf, '\n', r->buf.len) : NULL;
    if (!nl)
        return NULL;
    size_t len = (size_t)(nl - r->buf.buf);
    char *line = xstrndup(r->buf.buf, len);
    memmove(r->buf.buf, nl + 1, r->buf.len - len - 1);
    r->buf.len -= len + 1;
    return line;
}

proto_read_result proto_read_line(proto_reader *r, int fd, char **line)
{
    size_t max = r->max ? r->max : PROTO_MAX_LINE;
    for (;;) {
        if (r->skip == 0 && (*line = take_line(r)) != NULL) {
            if (strlen(*line) > max) {
                free(*line);
                *line = NULL;
                return PROTO_TOO_LONG;
            }
            return PROTO_LINE;
        }
        if (r->skip == 0 && r->buf.len > max) {
            /* Drop what there is; skip the rest of the line when it comes. */
            r->buf.len = 0;
            r->skip = 1;
            return PROTO_TOO_LONG;
        }
        if (r->skip && r->buf.len) {
            char *nl = memchr(r->buf.buf, '\n', r->buf.len);
            if (nl) {
                size_t drop = (size_t)(nl - r->buf.buf) + 1;
                memmove(r->buf.buf, nl + 1, r->buf.len - drop);
                r->buf.len -= drop;
                r->skip = 0;
                continue;
            }
            r->buf.len = 0;
        }
        if (r->eof)
            return PROTO_EOF;
        char chunk[16384];
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return PROTO_AGAIN;
        if (n < 0)
            return PROTO_ERROR;
        if (n == 0) {
            r->eof = true;
            continue;
        }
        sb_add(&r->buf, chunk, (size_t)n);
    }
}

void proto_reader_free(proto_reader *r) { sb_free(&r->buf); }

cJSON *proto_msg(void)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "v", PROTO_VERSION);
    return m;
}

cJSON *proto_error(const char *msg)
{
    cJSON *m = proto_msg();
    cJSON_AddFalseToObject(m, "ok");
    cJSON_AddStringToObject(m, "error", msg);
    return m;
}

char *proto_line(const cJSON *msg)
{
    char *text = cJSON_PrintUnformatted(msg);
    char *line = xasprintf("%s\n", text);
    free(text);
    return line;
}

int proto_connect(const char *path, char **err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        *err = xasprintf("socket path %s is too long (at most %zu bytes)", path,
                         sizeof sa.sun_path - 1);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err = xasprintf("cannot create a socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(fd);
        if (e == ENOENT || e == ECONNREFUSED)
            *err = xasprintf("no queue daemon listens on %s (start one with `benchctl daemon "
                             "--cpus LIST --memory SIZE`, or give its --socket)", path);
        else if (e == EACCES)
            *err = xasprintf("%s: permission denied (the socket is for its owner and group: "
                             "ask to be added to its group)", path);
        else
            *err = xasprintf("cannot connect to %s: %s", path, strerror(e));
        return -1;
    }
    return fd;
}

bool proto_send(int fd, const cJSON *msg)
{
    char *line = proto_line(msg);
    size_t len = strlen(line), off = 0;
    bool ok = true;
    while (off < len) {
        ssize_t w = send(fd, line + off, len - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            ok = false;
            break;
        }
        off += (size_t)w;
    }
    free(line);
    return ok;
}
