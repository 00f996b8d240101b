/* What the config's section parsers share (parse.h). */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/parse.h"

/* Unknown and duplicate keys of a mapping (table NULL: duplicates only). */
void cfg_check_keys(vctx *v, const ynode *m, const cfg_key *table, const char *what)
{
    keys_check(v->d, m, table, what);
}

bool cfg_expect_type(vctx *v, const ynode *n, ytype t, const char *what)
{
    if (!n)
        return false;
    if (n->type == t && !(t == Y_SCALAR && n->is_null))
        return true;
    const char *want = t == Y_MAP ? "a mapping" : t == Y_SEQ ? "a list" : "a value";
    ERR(v, n, "%s must be %s, not %s", what, want, ynode_kind(n));
    return false;
}

/* A scalar string value; NULL when absent (error if required). */
const char *cfg_get_str(vctx *v, const ynode *m, const char *key, bool required,
                        const char *what)
{
    const ynode *n = ynode_get(m, key);
    if (!n || (n->type == Y_SCALAR && n->is_null)) {
        if (required) {
            const ynode *at = n ? n : m;
            ERR(v, at, "%s: missing required key '%s'", what, key);
        }
        return NULL;
    }
    char buf[240];
    snprintf(buf, sizeof buf, "%s: '%s'", what, key);
    if (!cfg_expect_type(v, n, Y_SCALAR, buf))
        return NULL;
    if (required && !*n->str) {
        ERR(v, n, "%s must not be empty", buf);
        return NULL;
    }
    if (required && !n->str[strspn(n->str, " \t\r\n")]) {
        ERR(v, n, "%s must not be only white space", buf);
        return NULL;
    }
    return n->str;
}

/* Names that become file or directory names in the run directory. */
void cfg_check_file_name(vctx *v, const ynode *at, const char *what, const char *name)
{
    if (!name)
        return;
    size_t len = strlen(name);
    bool control = false;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            control = true;
    if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        ERR(v, at, "%s name '%s' cannot be used: it names a file in the run directory, so it "
                   "must be non-empty, without '/', and not '.' or '..'", what, name);
    else if (len > CONFIG_NAME_MAX)
        ERR(v, at, "%s name '%.40s...' is %zu bytes long: it names a file in the run directory, "
                   "so it must be at most %d bytes", what, name, len, CONFIG_NAME_MAX);
    else if (control) {
        char *shown = xstrdup(name);
        for (char *p = shown; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
        ERR(v, at, "%s name '%s' contains a control character (shown as '?': a tab, a newline "
                   "or another byte below 0x20): names must be printable", what, shown);
        free(shown);
    }
}


/* The first output of any stage named name, or NULL. */
const cfg_output *cfg_find_output(const config *c, const char *name)
{
    for (size_t i = 0; i < c->nstages; i++)
        for (size_t j = 0; j < c->stages[i].noutputs; j++)
            if (c->stages[i].outputs[j].name && strcmp(c->stages[i].outputs[j].name, name) == 0)
                return &c->stages[i].outputs[j];
    return NULL;
}
