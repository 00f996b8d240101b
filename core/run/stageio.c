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

#include "util/beneath.h"
#include "util/log.h"
#include "util/term.h"
#include "util/wfail.h"
#include "run/run.h"

/* The stage's log: created on the first byte of output, so silent stages
 * (common in big sweeps) cost no file; kept up to the run's
 * max_stage_log (what is cut is counted, and said at the cut); a failed
 * write (a full disk) stops the log and is noted for the run. */
static void log_write(stage_io *io, const void *data, size_t len)
{
    if (io->log_failed)
        return;
    if (io->log_fd < 0) {
        char *dir = dir_name(io->log_path);
        if (mkdir(dir, 0755) != 0 && errno == ENOENT)
            mkdir_p(dir, 0755);
        free(dir);
        io->log_fd =
            open_beneath(io->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (io->log_fd < 0) {
            io->log_failed = true;
            int e = errno;
            log_msg(BC_LOG_ERROR, "cannot write stage log %s: %s", io->log_path, strerror(e));
            wfail_note(io->log_path, e);
            return;
        }
    }
    uint64_t cap = io->log_max;
    size_t keep = len;
    if (cap && io->log_kept + len > cap)
        keep = io->log_kept >= cap ? 0 : (size_t)(cap - io->log_kept);
    if (keep && !write_full(io->log_fd, data, keep)) {
        int e = errno;
        io->log_failed = true;
        log_msg(BC_LOG_ERROR, "cannot write stage log %s: %s", io->log_path, strerror(e));
        wfail_note(io->log_path, e);
        return;
    }
    io->log_kept += keep;
    if (keep == len)
        return;
    if (!io->log_dropped) {
        char note[200];
        int n = snprintf(note, sizeof note,
                         "\n[benchctl: this log stops at %llu bytes "
                         "(benchmark.logging.max_stage_log); the rest is not kept]\n",
                         (unsigned long long)cap);
        if (!write_full(io->log_fd, note, (size_t)n))
            wfail_note(io->log_path, errno);
        log_msg(BC_LOG_WARN, "stage log %s reached benchmark.logging.max_stage_log (%llu "
                "bytes): the rest of the stage's output is not kept", io->log_path,
                (unsigned long long)cap);
    }
    io->log_dropped += len - keep;
}

/* Where a stage's output goes. */
void stage_sink(core_ctx *ctx, int stream, const void *data, size_t len)
{
    stage_io *io = ctx->sink_data;
    if (ctx->run)
        io->log_max = (uint64_t)ctx->run->cfg->log_stage_max;
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
    log_write(io, data, len);
    if (!io->to_terminal)
        return;
    int fd = stream == BC_STREAM_STDERR ? STDERR_FILENO : STDOUT_FILENO;
    if (!io->prefix) {
        term_write(fd, data, len);
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
        term_write(fd, out.buf, out.len);
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
            term_write(s == 2 ? STDERR_FILENO : STDOUT_FILENO, out.buf, out.len);
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


void stage_io_record(const stage_io *io, stage_rec *rec, const char *log_rel)
{
    record_set_output(rec, (int64_t)io->bytes, io->log_fd >= 0 ? log_rel : NULL);
    rec->log_dropped = (int64_t)io->log_dropped;
}
