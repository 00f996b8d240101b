/*
 * The terminal: whether to colour (NO_COLOR, --color=auto|always|never),
 * how wide it is, and the one live status line (progress during repeat,
 * long stages, fan-out, the health-check countdown) that is cleared before
 * other output and redrawn after it.  Nothing here writes escapes to a
 * file or a pipe unless --color=always asked for colours.
 */
#ifndef BENCHCTL_TERM_H
#define BENCHCTL_TERM_H

#include <stdbool.h>
#include <stdio.h>

typedef enum term_color_mode { TERM_COLOR_AUTO, TERM_COLOR_ALWAYS, TERM_COLOR_NEVER } term_color_mode;

/* Parse "auto", "always" or "never" into *m; false for anything else. */
bool term_color_parse(const char *s, term_color_mode *m);
/* Set the process-wide mode (--color); the default is auto. */
void term_set_color(term_color_mode m);
/* Colours on fd: never with --color=never or NO_COLOR set to a non-empty
 * value (unless --color=always), always with --color=always, else when fd
 * is a terminal whose TERM is not "dumb". */
bool term_color(int fd);
/* "\033[<code>m" when fd gets colours, else "" (static strings). */
const char *term_sgr(int fd, const char *code);
/* The SGR reset, or "" as term_sgr. */
const char *term_reset(int fd);
/* Columns of the terminal on fd; $COLUMNS when fd is not a terminal but
 * COLUMNS is set to a number; 0 (no limit) otherwise. */
int term_width(int fd);

/* ---- the live status line (stderr, a terminal only) ---------------------- */

/* Whether live lines are drawn at all: stderr is a terminal. */
bool term_live(void);
/* Show text (one line, cut to the width) as the live status line,
 * replacing the previous one; NULL removes it.  Nothing when stderr is
 * not a terminal.  Thread-safe. */
void term_status(const char *text);
/* The ticker's line (a long stage, a fan-out): shown while no
 * term_status line is set; NULL removes it.  Thread-safe. */
void term_tick(const char *text);
/* Before writing other output to the terminal: erase the live line (it is
 * remembered).  Call term_status_restore after the write.  Thread-safe;
 * the two bracket a critical section (hold no other lock between them
 * that term_status's callers hold). */
void term_status_clear(void);
/* Draw the remembered live line again after other output. */
void term_status_restore(void);
/* Write output meant for the terminal (stage output, headers) to fd: the
 * live line is erased first and drawn again after, unless the output
 * left a line unfinished (the live line waits for its newline). */
void term_write(int fd, const void *data, size_t len);

#endif
