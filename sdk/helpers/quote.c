/*
 * POSIX shell quoting for <benchctl/helpers.h>: a word in single quotes,
 * where nothing is special except the quote itself, which closes the
 * quoted part, adds an escaped quote and opens a new one ('\'').
 */
#include <string.h>

#include <benchctl/helpers.h>

bool bc_shell_quote(bc_sb *sb, const char *s)
{
    if (!s)
        s = "";
    bc_sb_append_n(sb, "'", 1);
    for (;;) {
        const char *q = strchr(s, '\'');
        if (!q)
            break;
        bc_sb_append_n(sb, s, (size_t)(q - s));
        bc_sb_append_n(sb, "'\\''", 4);
        s = q + 1;
    }
    bc_sb_append(sb, s);
    return bc_sb_append_n(sb, "'", 1);
}

char *bc_shell_quote_dup(const char *s)
{
    bc_sb sb = BC_SB_INIT;
    bc_shell_quote(&sb, s);
    return bc_sb_steal(&sb);
}
