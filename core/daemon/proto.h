/*
 * The queue protocol: JSON lines over a unix stream socket, described by
 * docs/schema/queue-protocol.schema.json.  Every request carries
 * "v": PROTO_VERSION and an "op"; every reply and event carries "v".  A
 * line longer than PROTO_MAX_LINE bytes, one that is not a JSON object,
 * or an unknown op gets {"v":1,"ok":false,"error":"..."}; an oversized
 * line also ends the connection.  Shared by the daemon and the client
 * commands.
 */
#ifndef BENCHCTL_DAEMON_PROTO_H
#define BENCHCTL_DAEMON_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "util/util.h"

#define PROTO_VERSION 1
#define PROTO_MAX_LINE 65536
#define PROTO_MAX_REPLY (256u << 20) /* a queue listing of many tasks */

/* The socket to use: path if given, else $BENCHCTL_SOCKET, else
 * /run/benchctl/daemon.sock as root, else
 * $XDG_RUNTIME_DIR/benchctl/daemon.sock (or /tmp/benchctl-UID/daemon.sock).
 * Owned. */
char *proto_socket_path(const char *path);

/* A line reader over a blocking or non-blocking fd. */
typedef struct proto_reader {
    size_t max;   /* longest line taken; 0: PROTO_MAX_LINE (requests).
                     Clients read replies with PROTO_MAX_REPLY. */
    strbuf buf;   /* bytes read and not yet returned */
    size_t skip;  /* oversized line: bytes still to drop up to its newline */
    bool eof;
} proto_reader;

typedef enum proto_read_result {
    PROTO_LINE,     /* *line set (owned, without the newline) */
    PROTO_AGAIN,    /* no whole line yet (non-blocking fd) */
    PROTO_TOO_LONG, /* a line over the reader's max: dropped (up to its newline) */
    PROTO_EOF,      /* the peer closed (a last partial line is dropped) */
    PROTO_ERROR,    /* read failed: errno */
} proto_read_result;

/* Read from fd until a line is there (or, non-blocking, until read would
 * block). */
proto_read_result proto_read_line(proto_reader *r, int fd, char **line);
void proto_reader_free(proto_reader *r);

/* A new message object {"v": PROTO_VERSION}. */
cJSON *proto_msg(void);
/* The error reply {"v":1,"ok":false,"error":msg}. */
cJSON *proto_error(const char *msg);
/* msg as one line (newline-terminated), owned; msg is not freed. */
char *proto_line(const cJSON *msg);

/* Connect to the daemon's socket.  The fd, or -1 with *err (owned) saying
 * what to do (is the daemon running? may you use its socket?). */
int proto_connect(const char *path, char **err);
/* Write msg as a line to a blocking fd; false with errno. */
bool proto_send(int fd, const cJSON *msg);

#endif
