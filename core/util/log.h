/* benchctl's own messages on stderr (and the optional log file). */
#ifndef BENCHCTL_LOG_H
#define BENCHCTL_LOG_H

#include <stdbool.h>

/* Levels are bc_log_level values (benchctl/services.h). */
void log_set_level(int level);
/* Prefix every message with the time in a Go time layout ("2006-01-02
 * 15:04:05.000", "RFC3339", ...), as the Go tool's logging.time_format
 * did; NULL: no time.  false when the layout has no time field. */
bool log_set_time_format(const char *go_layout);
int log_level_from_name(const char *name); /* -1 if unknown */
/* Also append every message (any level >= the threshold) to path. */
bool log_open_file(const char *path);
void log_close_file(void);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
