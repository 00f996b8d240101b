/* benchctl's own messages on stderr (and the optional log file). */
#define _GNU_SOURCE
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <benchctl/services.h>

static int threshold = BC_LOG_INFO;
static FILE *logfile;

void log_set_level(int level) { threshold = level; }

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
    bool tty = isatty(STDERR_FILENO);
    fprintf(stderr, "%sbenchctl: %s%s%s%s\n", tty ? colours[level] : "",
            level == BC_LOG_INFO ? "" : tags[level], level == BC_LOG_INFO ? "" : ": ", msg,
            tty && *colours[level] ? "\033[0m" : "");
    if (logfile) {
        fprintf(logfile, "%s: %s\n", tags[level], msg);
        fflush(logfile);
    }
}
