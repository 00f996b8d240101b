/* benchctl's own messages on stderr (and the optional log file). */
#define _GNU_SOURCE
#include "util/log.h"
#include "util/term.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <benchctl/services.h>

static int threshold = BC_LOG_INFO;
static FILE *logfile;
/* strftime format, "" none; ours: %f the fraction, %K the offset as
 * +hh:mm, %Q the same or "Z" at UTC (Go's -07:00 and Z07:00). */
static char time_fmt[128];
static int time_frac;      /* digits of the fraction of a second */

void log_set_level(int level) { threshold = level; }

/* Go's reference time, Mon Jan 2 15:04:05 MST 2006, field by field. */
static const struct {
    const char *go, *c;
} go_fields[] = {
    {"2006", "%Y"}, {"Z07:00", "%Q"}, {"-07:00", "%K"}, {"-0700", "%z"}, {"Z0700", "%z"},
    {"MST", "%Z"},  {"January", "%B"}, {"Jan", "%b"},     {"Monday", "%A"}, {"Mon", "%a"},
    {"01", "%m"},   {"02", "%d"},      {"_2", "%e"},      {"15", "%H"},     {"03", "%I"},
    {"04", "%M"},   {"05", "%S"},      {"PM", "%p"},      {"06", "%y"},
};

bool log_set_time_format(const char *layout)
{
    time_fmt[0] = '\0';
    time_frac = 0;
    if (!layout || !*layout)
        return true;
    if (strcmp(layout, "RFC3339") == 0)
        layout = "2006-01-02T15:04:05Z07:00";
    else if (strcmp(layout, "RFC3339Nano") == 0 || strcmp(layout, "RFC3339Milli") == 0)
        layout = "2006-01-02T15:04:05.000Z07:00";
    else if (strcmp(layout, "Kitchen") == 0)
        layout = "3:04PM";
    else if (strcmp(layout, "DateTime") == 0)
        layout = "2006-01-02 15:04:05";
    size_t o = 0;
    bool any = false;
    for (const char *p = layout; *p && o + 8 < sizeof time_fmt;) {
        bool hit = false;
        for (size_t i = 0; i < sizeof go_fields / sizeof go_fields[0] && !hit; i++) {
            size_t n = strlen(go_fields[i].go);
            if (strncmp(p, go_fields[i].go, n) == 0) {
                o += (size_t)snprintf(time_fmt + o, sizeof time_fmt - o, "%s", go_fields[i].c);
                p += n;
                hit = any = true;
            }
        }
        if (hit)
            continue;
        if ((*p == '.' || *p == ',') && (p[1] == '0' || p[1] == '9') && !time_frac) {
            size_t d = strspn(p + 1, p[1] == '0' ? "0" : "9");
            time_frac = d > 9 ? 9 : (int)d;
            o += (size_t)snprintf(time_fmt + o, sizeof time_fmt - o, "%c%%f", *p);
            p += 1 + d;
            continue;
        }
        if (*p == '3' || *p == '4' || *p == '5') { /* unpadded hour, minute, second */
            o += (size_t)snprintf(time_fmt + o, sizeof time_fmt - o, "%s",
                                  *p == '3' ? "%l" : *p == '4' ? "%M" : "%S");
            p++;
            any = true;
            continue;
        }
        if (*p == '%')
            time_fmt[o++] = '%';
        time_fmt[o++] = *p++;
        time_fmt[o] = '\0';
    }
    if (!any)
        time_fmt[0] = '\0';
    return any;
}

/* "<time> " in the configured format, or "". */
static void time_prefix(char *buf, size_t size)
{
    buf[0] = '\0';
    if (!time_fmt[0])
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    localtime_r(&ts.tv_sec, &tm);
    char fmt[160], frac[16];
    snprintf(frac, sizeof frac, "%09ld", ts.tv_nsec);
    frac[time_frac] = '\0';
    /* %f (ours) becomes the fraction before strftime sees the format */
    size_t o = 0;
    for (const char *p = time_fmt; *p && o + 12 < sizeof fmt; p++) {
        if (p[0] == '%' && p[1] == 'f') {
            o += (size_t)snprintf(fmt + o, sizeof fmt - o, "%s", frac);
            p++;
        } else if (p[0] == '%' && (p[1] == 'K' || p[1] == 'Q')) {
            long off = tm.tm_gmtoff / 60;
            if (off == 0 && p[1] == 'Q')
                o += (size_t)snprintf(fmt + o, sizeof fmt - o, "Z");
            else
                o += (size_t)snprintf(fmt + o, sizeof fmt - o, "%c%02ld:%02ld", off < 0 ? '-' : '+',
                                      labs(off) / 60, labs(off) % 60);
            p++;
        } else if (p[0] == '%' && p[1]) {
            fmt[o++] = *p++;
            fmt[o++] = *p;
        } else {
            fmt[o++] = *p;
        }
    }
    fmt[o] = '\0';
    size_t n = strftime(buf, size - 1, fmt, &tm);
    buf[n] = ' ';
    buf[n + 1] = '\0';
}

int log_level_from_name(const char *name)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

bool log_open_file(const char *path)
{
    logfile = fopen(path, "ae");
    return logfile != NULL;
}

void log_close_file(void)
{
    if (logfile)
        fclose(logfile);
    logfile = NULL;
}

void log_msg(int level, const char *fmt, ...)
{
    if (level < threshold)
        return;
    static const char *const tags[] = {"debug", "info", "warning", "error"};
    static const char *const colours[] = {"\033[2m", "", "\033[33m", "\033[31m"};
    if (level < 0 || level > 3)
        level = BC_LOG_ERROR;
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    bool tty = term_color(STDERR_FILENO);
    char when[128];
    time_prefix(when, sizeof when);
    term_status_clear(); /* the live line, drawn again below the message */
    fprintf(stderr, "%s%sbenchctl: %s%s%s%s\n", when, tty ? colours[level] : "",
            level == BC_LOG_INFO ? "" : tags[level], level == BC_LOG_INFO ? "" : ": ", msg,
            tty && *colours[level] ? "\033[0m" : "");
    fflush(stderr);
    term_status_restore();
    if (logfile) {
        fprintf(logfile, "%s%s: %s\n", when, tags[level], msg);
        fflush(logfile);
    }
}
