/* Colours, width and the live status line (term.h). */
#define _GNU_SOURCE
#include "util/term.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/util.h"

static term_color_mode mode = TERM_COLOR_AUTO;

bool term_color_parse(const char *s, term_color_mode *m)
{
    static const char *const names[] = {"auto", "always", "never"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *m = (term_color_mode)i;
            return true;
        }
    return false;
}

void term_set_color(term_color_mode m) { mode = m; }

bool term_color(int fd)
{
    if (mode == TERM_COLOR_ALWAYS)
        return true;
    if (mode == TERM_COLOR_NEVER)
        return false;
    const char *nc = getenv("NO_COLOR");
    if (nc && *nc)
        return false;
    const char *t = getenv("TERM");
    return isatty(fd) && !(t && strcmp(t, "dumb") == 0);
}

const char *term_sgr(int fd, const char *code)
{
    static const struct {
        const char *code, *seq;
    } known[] = {{"1", "\033[1m"},       {"2", "\033[2m"},       {"31", "\033[31m"},
                 {"32", "\033[32m"},     {"33", "\033[33m"},     {"36", "\033[36m"},
                 {"1;31", "\033[1;31m"}, {"1;32", "\033[1;32m"}, {"1;36", "\033[1;36m"}};
    if (!term_color(fd))
        return "";
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(known[i].code, code) == 0)
            return known[i].seq;
    return "";
}

const char *term_reset(int fd) { return term_color(fd) ? "\033[0m" : ""; }

int term_width(int fd)
{
    struct winsize ws;
    if (isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    int64_t n;
    const char *c = getenv("COLUMNS");
    if (c && parse_int64(c, &n) && n > 0 && n < 10000)
        return (int)n;
    return 0;
}

/* ---- the live status line ------------------------------------------------ */

static pthread_mutex_t status_lock = PTHREAD_MUTEX_INITIALIZER;
static char *status_text;   /* the line shown (or hidden by a clear) */
static char *owner_text;    /* term_status's line: goes before the ticker's */
static char *tick_text;     /* term_tick's line */
static bool status_shown;   /* drawn on the terminal now */
static int live = -1;       /* -1: not decided yet */
static bool mid_line;       /* the terminal's last output left a line unfinished */

bool term_live(void)
{
    if (live < 0)
        live = isatty(STDERR_FILENO) ? 1 : 0;
    return live == 1;
}

/* The line, cut to the terminal's width (one column kept free so the
 * cursor never wraps). */
static void draw(void)
{
    int w = term_width(STDERR_FILENO);
    size_t len = strlen(status_text), cols = 0, cut = len;
    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)status_text[i] & 0xC0) == 0x80)
            continue;
        if (w > 1 && cols == (size_t)w - 1) {
            cut = i;
            break;
        }
        cols++;
    }
    fprintf(stderr, "\r\033[K%.*s", (int)cut, status_text);
    fflush(stderr);
    status_shown = true;
}

static void erase(void)
{
    if (status_shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        status_shown = false;
    }
}

/* status_text from the owner's line, else the ticker's; under the lock. */
static void choose(void)
{
    free(status_text);
    status_text = xstrdup(owner_text ? owner_text : tick_text);
}

void term_tick(const char *text)
{
    if (!term_live())
        return;
    pthread_mutex_lock(&status_lock);
    free(tick_text);
    tick_text = xstrdup(text);
    choose();
    if (status_text && !mid_line)
        draw();
    else if (!status_text)
        erase();
    pthread_mutex_unlock(&status_lock);
}

void term_status(const char *text)
{
    if (!term_live())
        return;
    pthread_mutex_lock(&status_lock);
    free(owner_text);
    owner_text = xstrdup(text);
    choose();
    if (status_text && !mid_line)
        draw();
    else if (!status_text)
        erase();
    pthread_mutex_unlock(&status_lock);
}

void term_status_clear(void)
{
    if (!term_live())
        return;
    pthread_mutex_lock(&status_lock);
    erase();
    pthread_mutex_unlock(&status_lock);
}

void term_status_restore(void)
{
    if (!term_live())
        return;
    pthread_mutex_lock(&status_lock);
    if (status_text && !status_shown && !mid_line)
        draw();
    pthread_mutex_unlock(&status_lock);
}

void term_write(int fd, const void *data, size_t len)
{
    if (!term_live()) {
        write_all(fd, data, len);
        return;
    }
    pthread_mutex_lock(&status_lock);
    erase();
    write_all(fd, data, len);
    static int fd_tty[3] = {-1, -1, -1}; /* fd 1 and 2: a terminal? (asked once) */
    bool tty = fd > 0 && fd < 3 ? (fd_tty[fd] < 0 ? (fd_tty[fd] = isatty(fd)) : fd_tty[fd])
                                : isatty(fd);
    if (len && tty)
        mid_line = ((const char *)data)[len - 1] != '\n';
    if (status_text && !mid_line)
        draw();
    pthread_mutex_unlock(&status_lock);
}
