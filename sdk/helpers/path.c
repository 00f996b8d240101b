/*
 * Path joining for <benchctl/helpers.h>: never a silently shortened path;
 * a result that does not fit is reported to the caller.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <benchctl/helpers.h>

/* The separator to put between dir and name ("" or "/"), and the parts. */
static const char *separator(const char **dir, const char **name)
{
    if (!*dir)
        *dir = "";
    if (!*name)
        *name = "";
    size_t dl = strlen(*dir);
    return dl == 0 || **name == '\0' || (*dir)[dl - 1] == '/' ? "" : "/";
}

bool bc_path_join(char *buf, size_t size, const char *dir, const char *name)
{
    const char *sep = separator(&dir, &name);
    if (size == 0)
        return false;
    int n = snprintf(buf, size, "%s%s%s", dir, sep, name);
    if (n < 0 || (size_t)n >= size) {
        buf[0] = '\0';
        return false;
    }
    return true;
}

char *bc_path_join_alloc(const char *dir, const char *name)
{
    const char *sep = separator(&dir, &name);
    bc_sb sb = BC_SB_INIT;
    bc_sb_append(&sb, dir);
    bc_sb_append(&sb, sep);
    bc_sb_append(&sb, name);
    return bc_sb_steal(&sb);
}
