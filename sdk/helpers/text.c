/*
 * bc_last_lines of <benchctl/helpers.h>: the end of a command's output,
 * for messages ("exit status 1: grep: x: No such file or directory").
 */
#include <string.h>

#include <benchctl/helpers.h>

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* Writes s[0..n) at out+at when it fits (keeping the NUL slot). */
static void put(char *out, size_t out_size, size_t at, const char *s, size_t n)
{
    if (at >= out_size)
        return;
    size_t room = out_size - 1 - at;
    memcpy(out + at, s, n < room ? n : room);
}

size_t bc_last_lines(const char *text, size_t n_lines, char *out, size_t out_size)
{
    if (!text)
        text = "";
    /* Walk back from the end to the start of the n_lines-th non-blank line. */
    const char *end = text + strlen(text);
    const char *from = end;
    size_t found = 0;
    for (const char *line_end = end; found < n_lines && line_end > text;) {
        const char *line = line_end;
        while (line > text && line[-1] != '\n')
            line--;
        for (const char *p = line; p < line_end; p++)
            if (!blank(*p)) {
                found++;
                from = line;
                break;
            }
        line_end = line > text ? line - 1 : text;
    }
    /* Copy forward, line by line, trimmed, skipping blank ones. */
    size_t len = 0;
    for (const char *line = from; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *stop = nl ? nl : end;
        const char *a = line, *b = stop;
        while (a < b && blank(*a))
            a++;
        while (b > a && blank(b[-1]))
            b--;
        if (a < b) {
            if (len)
                put(out, out_size, len++, "\n", 1);
            put(out, out_size, len, a, (size_t)(b - a));
            len += (size_t)(b - a);
        }
        line = nl ? nl + 1 : end;
    }
    if (out_size)
        out[len < out_size ? len : out_size - 1] = '\0';
    return len;
}
