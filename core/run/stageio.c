/* Where a stage's output goes: the terminal (whole lines labelled with
 * their host for parallel stages), its log, a stdout capture for
 * append_metadata, and the last bytes to explain a death. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "run/run.h"

/* Where a stage's output goes.  The log file is created on the first byte
 * of output, so silent stages (common in big sweeps) cost no file. */
void stage_sink(core_ctx *ctx, int stream, const void *data, size_t len)
{
    stage_io *io = ctx->sink_data;
    if (io->node && stream == BC_STREAM_STDOUT)
        fanout_stdout(io, data, len);
    else
        stage_io_write(io, stream, data, len);
}

void stage_io_write(stage_io *io, int stream, const void *data, size_t len)
{
    io->bytes += len;
    if (io->capture && stream == BC_STREAM_STDOUT && io->capture->len < STAGE_CAPTURE_LIMIT)
        sb_add(io->capture, data,
               len < STAGE_CAPTURE_LIMIT - io->capture->len ? len
                                                            : STAGE_CAPTURE_LIMIT - io->capture->len);
    /* The last bytes, to show when a background stage dies. */
    if (len >= sizeof io->tail) {
        memcpy(io->tail, (const char *)data + len - sizeof io->tail, sizeof io->tail);
        io->tail_len = sizeof io->tail;
    } else {
        size_t keep = io->tail_len + len > sizeof io->tail ? sizeof io->tail - len : io->tail_len;
        memmove(io->tail, io->tail + io->tail_len - keep, keep);
        memcpy(io->tail + keep, data, len);
        io->tail_len = keep + len;
    }
    if (io->log_fd < 0 && !io->log_failed) {
        char *dir = dir_name(io->log_path);
        if (mkdir(dir, 0755) != 0 && errno == ENOENT)
            mkdir_p(dir, 0755);
        free(dir);
        io->log_fd = open(io->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (io->log_fd < 0) {
            io->log_failed = true;
            log_msg(BC_LOG_WARN, "cannot write stage log %s: %s", io->log_path, strerror(errno));
        }
    }
    if (io->log_fd >= 0)
        write_all(io->log_fd, data, len);
    if (!io->to_terminal)
        return;
    int fd = stream == BC_STREAM_STDERR ? STDERR_FILENO : STDOUT_FILENO;
    if (!io->prefix) {
        write_all(fd, data, len);
        return;
    }
    /* Parallel hosts: whole lines, each labelled with its host. */
    strbuf *lb = &io->line[stream == BC_STREAM_STDERR ? 2 : 1];
    sb_add(lb, data, len);
    size_t start = 0;
    for (size_t i = 0; i < lb->len; i++) {
        if (lb->buf[i] != '\n')
            continue;
        strbuf out = {0};
        sb_puts(&out, io->prefix);
        sb_add(&out, lb->buf + start, i + 1 - start);
        write_all(fd, out.buf, out.len);
        sb_free(&out);
        start = i + 1;
    }
    memmove(lb->buf, lb->buf + start, lb->len - start);
    lb->len -= start;
    lb->buf[lb->len] = '\0';
}

/* Print what is left of unfinished lines (parallel output) and free. */
void stage_io_flush(stage_io *io)
{
    for (int s = 1; s <= 2; s++) {
        if (io->line[s].len && io->to_terminal) {
            strbuf out = {0};
            sb_printf(&out, "%s%s\n", io->prefix ? io->prefix : "", io->line[s].buf);
            write_all(s == 2 ? STDERR_FILENO : STDOUT_FILENO, out.buf, out.len);
            sb_free(&out);
        }
        sb_free(&io->line[s]);
    }
}



char *stage_tail_lines(const stage_io *io, int lines)
{
    size_t end = io->tail_len;
    while (end > 0 && (io->tail[end - 1] == '\n' || io->tail[end - 1] == '\r'))
        end--;
    size_t start = end;
    int seen = 0;
    while (start > 0) {
        if (io->tail[start - 1] == '\n' && ++seen == lines)
            break;
        start--;
    }
    return xstrndup(io->tail + start, end - start);
}

