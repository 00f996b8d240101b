/* benchctl's own messages on stderr (and the optional log file). */
#ifndef BENCHCTL_LOG_H
#define BENCHCTL_LOG_H

#include <stdbool.h>

/* Levels are bc_log_level values (benchctl/services.h). */
void log_set_level(int level);
int log_level_from_name(const char *name); /* -1 if unknown */
/* Also append every message (any level >= the threshold) to path. */
bool log_open_file(const char *path);
void log_close_file(void);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
