/* The cases and matrix sections: one case per cases[] entry and matrix
 * combination. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/parse.h"
#include "util/strmap.h"

static const cfg_key case_keys[] = {
    {.name = "name", .type = KEY_STR, .offset = KEY_AT(cfg_case, name), .flags = KEY_REQUIRED},
    OTHER("env"), END};

void cfg_parse_cases(vctx *v, const ynode *cs)
{
    config *c = v->c;
    if (!cs || cs->is_null)
        return;
    if (!cfg_expect_type(v, cs, Y_SEQ, "cases"))
        return;
    c->cases = xcalloc(cs->n + 1, sizeof *c->cases);
    strmap names = {0};
    for (size_t i = 0; i < cs->n; i++) {
        const ynode *cn = cs->vals[i];
        if (!cfg_expect_type(v, cn, Y_MAP, "cases[]"))
            continue;
        cfg_check_keys(v, cn, case_keys, "case");
        cfg_case *cc = &c->cases[c->ncases++];
        cc->node = cn;
        keys_bind(v->d, cn, case_keys, cc, "case");
        cfg_check_file_name(v, ynode_get(cn, "name"), "case", cc->name);
        if (cc->name && !strmap_put(&names, cc->name, c->ncases - 1, NULL))
            ERR(v, ynode_get(cn, "name"), "duplicate case name '%s'", cc->name);
        const ynode *env = ynode_get(cn, "env");
        if (env && !env->is_null && cfg_expect_type(v, env, Y_MAP, "case.env")) {
            cc->env = env;
            for (size_t j = 0; j < env->n; j++) {
                const ynode *k = env->keys[j];
                bool ok = k->type == Y_SCALAR && *k->str &&
                          !isdigit((unsigned char)k->str[0]);
                for (const char *p = k->type == Y_SCALAR ? k->str : ""; ok && *p; p++)
                    ok = isalnum((unsigned char)*p) || *p == '_';
                if (!ok)
                    ERR(v, k, "case env: '%s' is not a valid environment variable name",
                        k->type == Y_SCALAR ? k->str : "?");
                if (env->vals[j]->type != Y_SCALAR)
                    ERR(v, env->vals[j], "case env: the value of '%s' must be a scalar",
                        k->type == Y_SCALAR ? k->str : "?");
            }
        }
    }
    strmap_free(&names);
}

/* matrix: {NAME: [v1, v2, ...], ...} -> one case per combination, crossed
 * with cases[] (each case runs every combination). */
void cfg_parse_matrix(vctx *v, const ynode *m)
{
    config *c = v->c;
    if (!m || m->is_null)
        return;
    if (!cfg_expect_type(v, m, Y_MAP, "matrix"))
        return;
    c->matrix = m;
    cfg_check_keys(v, m, NULL, "matrix");
    if (m->n == 0) {
        ERR(v, m, "matrix: give at least one parameter, e.g. {concurrency: [10, 20]}");
        return;
    }
    size_t combos = 1;
    for (size_t i = 0; i < m->n; i++) {
        const ynode *k = m->keys[i], *vals = m->vals[i];
        bool ok = k->type == Y_SCALAR && *k->str && !isdigit((unsigned char)k->str[0]);
        for (const char *p = k->type == Y_SCALAR ? k->str : ""; ok && *p; p++)
            ok = isalnum((unsigned char)*p) || *p == '_';
        if (!ok) {
            ERR(v, k, "matrix: '%s' is not a valid parameter name (letters, digits and '_')",
                k->type == Y_SCALAR ? k->str : "?");
            return;
        }
        if (vals->type == Y_SCALAR && !vals->is_null) {
            if (strchr(vals->str, '/')) {
                ERR(v, vals, "matrix: '%s' value '%s' contains '/' (it is part of case names, "
                             "which name directories); use values without '/'", k->str, vals->str);
                return;
            }
            continue; /* a single value */
        }
        if (!cfg_expect_type(v, vals, Y_SEQ, "matrix parameter"))
            return;
        if (vals->n == 0) {
            ERR(v, vals, "matrix: '%s' needs at least one value", k->str);
            return;
        }
        strmap seen = {0};
        bool bad = false;
        for (size_t j = 0; j < vals->n && !bad; j++) {
            const ynode *val = vals->vals[j];
            bad = true; /* one error for one bad value, not one per combination */
            if (val->type != Y_SCALAR)
                ERR(v, val, "matrix: the values of '%s' must be scalars", k->str);
            else if (!strmap_put(&seen, val->str, j, NULL))
                ERR(v, val, "matrix: '%s' lists '%s' twice", k->str, val->str);
            else if (strchr(val->str, '/'))
                ERR(v, val, "matrix: '%s' value '%s' contains '/' (it is part of case names, which "
                            "name directories); use values without '/'", k->str, val->str);
            else
                bad = false;
        }
        strmap_free(&seen);
        if (bad)
            return;
        combos *= vals->n;
        if (combos > 100000) {
            ERR(v, m, "matrix: more than 100000 combinations");
            return;
        }
    }
    size_t nbase = c->ncases ? c->ncases : 1;
    cfg_case *out = xcalloc(nbase * combos + 1, sizeof *out);
    size_t n = 0;
    bool long_name = false;
    for (size_t b = 0; b < nbase; b++) {
        for (size_t k = 0; k < combos; k++) {
            cfg_case *cc = &out[n++];
            if (c->ncases) {
                cc->node = c->cases[b].node;
                cc->env = c->cases[b].env;
                cc->base = c->cases[b].name;
            }
            strbuf name = {0};
            if (cc->base)
                sb_puts(&name, cc->base);
            size_t rest = k;
            /* the first parameter varies slowest */
            size_t stride = combos;
            for (size_t i = 0; i < m->n; i++) {
                const ynode *vals = m->vals[i];
                size_t cnt = vals->type == Y_SEQ ? vals->n : 1;
                stride /= cnt;
                const ynode *val = vals->type == Y_SEQ ? vals->vals[rest / stride] : vals;
                rest %= stride;
                sv_push_owned(&cc->params, xasprintf("%s=%s", m->keys[i]->str, val->str));
                sb_printf(&name, "%s%s=%s", name.len ? "," : "", m->keys[i]->str, val->str);
            }
            cc->owned_name = sb_steal(&name);
            cc->name = cc->owned_name;
            if (!long_name && strlen(cc->name) > CONFIG_NAME_MAX) {
                long_name = true; /* said once, for the first such case */
                ERR(v, m, "matrix: case names would be too long (the first is %zu bytes, at most "
                          "%d): use shorter parameter names or values", strlen(cc->name),
                    CONFIG_NAME_MAX);
            }
        }
    }
    free(c->cases);
    c->cases = out;
    c->ncases = n;
}

