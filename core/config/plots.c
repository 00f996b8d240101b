/* The plots section, and its references to outputs and their columns. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/parse.h"

static const char *const plot_types[] = {"time_series", "histogram", "boxplot", "cdf", "scatter", NULL};
static const char *const plot_formats[] = {"png", "svg", "pdf", NULL};
static const char *const aggregations[] = {"avg", "median", "p95", "p99", NULL};
static const char *const x_axes[] = {"elapsed", "clock", NULL};
static const char *const across_what[] = {"cases", NULL};

static const cfg_key plot_keys[] = {
    {.name = "name", .type = KEY_STR, .offset = KEY_AT(cfg_plot, name), .flags = KEY_REQUIRED},
    STR("title", cfg_plot, title),
    {.name = "source", .type = KEY_STR, .offset = KEY_AT(cfg_plot, source), .flags = KEY_REQUIRED},
    ENUM("type", cfg_plot, type, plot_types), STR("x", cfg_plot, x), STR("y", cfg_plot, y),
    STR("groupby", cfg_plot, groupby), ENUM("aggregation", cfg_plot, aggregation, aggregations),
    {.name = "format", .type = KEY_ENUM, .offset = KEY_AT(cfg_plot, format),
     .choices = plot_formats, .dflt_str = "png"},
    STR("engine", cfg_plot, engine), STR("export_path", cfg_plot, export_path), OTHER("options"),
    BOOL("log_x", cfg_plot, log_x), BOOL("log_y", cfg_plot, log_y), OTHER("xlim"), OTHER("ylim"),
    STR("xlabel", cfg_plot, xlabel), STR("ylabel", cfg_plot, ylabel),
    ENUM("x_axis", cfg_plot, x_axis, x_axes), ENUM("across", cfg_plot, across, across_what),
    END};

/* ---- ${NAME} in titles and labels ---------------------------------------- */

/* The value of NAME (len bytes) in case cs, or NULL. */
static const char *case_var(const cfg_case *cs, const char *name, size_t len)
{
    if ((len == 4 && memcmp(name, "case", 4) == 0) ||
        (len == 18 && memcmp(name, "BENCHCTL_CASE_NAME", 18) == 0))
        return cs->name;
    for (size_t i = 0; cs->env && i < cs->env->n; i++)
        if (strlen(cs->env->keys[i]->str) == len && memcmp(cs->env->keys[i]->str, name, len) == 0)
            return cs->env->vals[i]->is_null ? "" : cs->env->vals[i]->str;
    bool prefixed = len > 15 && memcmp(name, "BENCHCTL_PARAM_", 15) == 0;
    for (size_t i = 0; i < cs->params.n; i++) {
        const char *p = cs->params.v[i], *eq = strchr(p, '=');
        size_t pl = (size_t)(eq - p);
        if (pl == len && memcmp(p, name, len) == 0)
            return eq + 1;
        if (prefixed && pl == len - 15 && strncasecmp(p, name + 15, pl) == 0)
            return eq + 1;
    }
    return NULL;
}

/* Length of the NAME of "${NAME}" at s (0 when s does not start one). */
static size_t var_at(const char *s)
{
    if (s[0] != '$' || s[1] != '{' || !(isalpha((unsigned char)s[2]) || s[2] == '_'))
        return 0;
    size_t n = 0;
    while (isalnum((unsigned char)s[2 + n]) || s[2 + n] == '_')
        n++;
    return s[2 + n] == '}' ? n : 0;
}

char *config_expand_plot_text(const char *text, const cfg_case *const *cs, size_t n)
{
    if (!text)
        return NULL;
    strbuf sb = {0};
    sb_puts(&sb, "");
    for (const char *s = text; *s;) {
        size_t len = var_at(s);
        const char *val = NULL;
        for (size_t i = 0; len && i < n; i++) {
            const char *v = case_var(cs[i], s + 2, len);
            if (!v || (val && strcmp(v, val) != 0)) {
                val = NULL;
                break;
            }
            val = v;
        }
        if (val) {
            sb_puts(&sb, val);
            s += len + 3;
        } else {
            sb_add(&sb, s, 1);
            s++;
        }
    }
    return sb_steal(&sb);
}

/* Warn about ${NAME}s of a plot's key that no case defines. */
static void check_plot_vars(vctx *v, const cfg_plot *p, const char *key, const char *text)
{
    const config *c = v->c;
    for (const char *s = text ? text : ""; *s; s++) {
        size_t len = var_at(s);
        if (!len)
            continue;
        bool known = false;
        for (size_t i = 0; i < c->ncases && !known; i++)
            known = case_var(&c->cases[i], s + 2, len) != NULL;
        bool is_case = len == 4 && memcmp(s + 2, "case", 4) == 0;
        if (!known)
            WARN(v, ynode_get(p->node, key), "plot '%s': %s: ${%.*s} is not a case variable, "
                 "matrix parameter or ${case}%s; it is shown as written", p->name ? p->name : "?",
                 key, (int)len, s + 2, c->ncases ? "" : " (the config has no cases)");
        else if (is_case && p->across && c->ncases > 1)
            WARN(v, ynode_get(p->node, key), "plot '%s': %s: ${case} names no single case in an "
                 "'across: cases' plot; it is shown as written", p->name ? p->name : "?", key);
    }
}

/* ---- xlim, ylim ------------------------------------------------------------ */

/* [lo, hi] with either end null or omitted (automatic). */
static void parse_limits(vctx *v, cfg_plot *p, const char *key, bool log, double out[2],
                         bool set[2])
{
    const ynode *n = ynode_get(p->node, key);
    const char *pn = p->name ? p->name : "?";
    if (!n || n->is_null)
        return;
    if (n->type != Y_SEQ || n->n > 2) {
        ERR(v, n, "plot '%s': %s must be a list [lo, hi] (null or omitted for automatic), "
                  "e.g. %s: [0, 100]", pn, key, key);
        return;
    }
    for (size_t i = 0; i < n->n; i++) {
        const ynode *e = n->vals[i];
        if (e->type == Y_SCALAR && e->is_null && !e->quoted)
            continue;
        if (e->type != Y_SCALAR || !parse_double(e->str, &out[i])) {
            ERR(v, e, "plot '%s': %s: '%s' is not a number (give a number, or null for "
                      "automatic)", pn, key, e->type == Y_SCALAR ? e->str : ynode_kind(e));
            return;
        }
        set[i] = true;
        if (log && out[i] <= 0) {
            ERR(v, e, "plot '%s': %s: %g is not above 0, and a log_%c axis needs positive "
                      "limits", pn, key, out[i], key[0]);
            set[i] = false;
        }
    }
    if (set[0] && set[1] && !(out[0] < out[1]))
        ERR(v, n->n > 1 ? n->vals[1] : n, "plot '%s': %s: the lower limit %g must be below the "
            "upper limit %g", pn, key, out[0], out[1]);
}

/* Is name one of the matrix's parameters? */
static bool is_matrix_param(const config *c, const char *name)
{
    for (size_t i = 0; c->matrix && i < c->matrix->n; i++)
        if (strcmp(c->matrix->keys[i]->str, name) == 0)
            return true;
    return false;
}

static void check_plot_extras(vctx *v, cfg_plot *p)
{
    const char *pn = p->name ? p->name : "?";
    parse_limits(v, p, "xlim", p->log_x, p->xlim, p->xlim_set);
    parse_limits(v, p, "ylim", p->log_y, p->ylim, p->ylim_set);
    check_plot_vars(v, p, "title", p->title);
    check_plot_vars(v, p, "xlabel", p->xlabel);
    check_plot_vars(v, p, "ylabel", p->ylabel);
    if (p->across && v->c->ncases == 0)
        WARN(v, ynode_get(p->node, "across"), "plot '%s': 'across: cases' but the config has "
             "no cases or matrix; the plot has one series", pn);
    p->x_is_param = p->across && p->x && is_matrix_param(v->c, p->x);
    if (p->x_is_param && p->type && strcmp(p->type, "time_series") != 0 &&
        strcmp(p->type, "scatter") != 0)
        ERR(v, ynode_get(p->node, "type"), "plot '%s': x '%s' is a matrix parameter: the plot "
            "needs type time_series (a line) or scatter (points) of the aggregated y per case",
            pn, p->x);
    if (p->x_is_param && p->groupby)
        ERR(v, ynode_get(p->node, "groupby"), "plot '%s': groupby cannot be combined with a "
            "matrix parameter as x (the series are the cases)", pn);
    if (p->across && p->type && strcmp(p->type, "boxplot") == 0 && (p->x || p->groupby))
        ERR(v, ynode_get(p->node, p->x ? "x" : "groupby"), "plot '%s': a boxplot across cases "
            "draws one box per case; drop %s", pn, p->x ? "x" : "groupby");
    if (p->x_axis && p->type && strcmp(p->type, "boxplot") == 0)
        WARN(v, ynode_get(p->node, "x_axis"), "plot '%s': x_axis has no effect on a boxplot", pn);
}


/* "a, b, c" for an output's columns (a static buffer: for messages). */
static const char *declared_columns(const cfg_output *o)
{
    static char buf[512];
    buf[0] = '\0';
    size_t len = 0;
    for (size_t i = 0; i < o->ncolumns && len < sizeof buf - 1; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", i ? ", " : "",
                                o->columns[i].name ? o->columns[i].name : "?");
    return buf;
}

static void check_plot_column(vctx *v, const cfg_plot *p, const cfg_output *o, const char *key,
                              const char *col)
{
    if (!col || !o || o->ncolumns == 0)
        return;
    for (size_t i = 0; i < o->ncolumns; i++)
        if (o->columns[i].name && strcmp(o->columns[i].name, col) == 0)
            return;
    /* A boxplot's x is an optional category: without it the plot draws one
     * box (the Go tool's example names an undeclared one). */
    bool optional = p->type && strcmp(p->type, "boxplot") == 0 && strcmp(key, "x") == 0;
    if (optional)
        WARN(v, ynode_get(p->node, key), "plot '%s': column '%s' is not declared in the "
             "data_schema of output '%s'; the boxplot will not be grouped by it unless the file "
             "has it", p->name ? p->name : "?", col, o->name);
    else
        ERR(v, ynode_get(p->node, key), "plot '%s': %s column '%s' is not declared in the "
            "data_schema of output '%s' (declared: %s)", p->name ? p->name : "?", key, col,
            o->name, declared_columns(o));
}

void cfg_parse_plots(vctx *v, const ynode *ps)
{
    config *c = v->c;
    if (!ps || ps->is_null)
        return;
    if (!cfg_expect_type(v, ps, Y_SEQ, "plots"))
        return;
    c->plots = xcalloc(ps->n + 1, sizeof *c->plots);
    for (size_t i = 0; i < ps->n; i++) {
        const ynode *pn = ps->vals[i];
        if (!cfg_expect_type(v, pn, Y_MAP, "plots[]"))
            continue;
        cfg_check_keys(v, pn, plot_keys, "plot");
        cfg_plot *p = &c->plots[c->nplots++];
        p->node = pn;
        keys_bind(v->d, pn, plot_keys, p, "plot");
        cfg_check_file_name(v, ynode_get(pn, "name"), "plot", p->name);
        for (size_t j = 0; p->name && j + 1 < c->nplots; j++)
            if (c->plots[j].name && strcmp(c->plots[j].name, p->name) == 0)
                ERR(v, ynode_get(pn, "name"), "duplicate plot name '%s'", p->name);
        if (!ynode_get(pn, "type"))
            ERR(v, pn, "plot '%s': missing required key 'type'", p->name ? p->name : "?");
        p->options = ynode_get(pn, "options");
        if (p->options && p->options->is_null)
            p->options = NULL;
        if (p->options && cfg_expect_type(v, p->options, Y_MAP, "plot options"))
            cfg_check_keys(v, p->options, NULL, "plot options");
        if (p->type) {
            bool need_x = strcmp(p->type, "boxplot") != 0;
            bool need_y = strcmp(p->type, "time_series") == 0 || strcmp(p->type, "boxplot") == 0 ||
                          strcmp(p->type, "scatter") == 0;
            if (need_x && !p->x)
                ERR(v, pn, "plot '%s': a %s plot needs 'x'", p->name ? p->name : "?", p->type);
            if (need_y && !p->y)
                ERR(v, pn, "plot '%s': a %s plot needs 'y'", p->name ? p->name : "?", p->type);
        }
        const cfg_output *o = p->source ? cfg_find_output(c, p->source) : NULL;
        if (p->source && !o)
            ERR(v, ynode_get(pn, "source"), "plot '%s': source '%s' is not the name of any "
                                            "stage output", p->name ? p->name : "?", p->source);
        check_plot_extras(v, p);
        if (!p->x_is_param)
            check_plot_column(v, p, o, "x", p->x);
        check_plot_column(v, p, o, "y", p->y);
        check_plot_column(v, p, o, "groupby", p->groupby);
    }
}


/* ---- a plots file over a stored run's config --------------------------------- */

int config_is_plots_file(const char *path)
{
    size_t len;
    char *why = NULL;
    char *text = read_regular_file(path, CONFIG_MAX_BYTES, &len, &why);
    free(why);
    if (!text)
        return -1;
    diag d = {.file = path};
    ytree *t = ytree_parse(text, len, &d);
    const ynode *root = t ? ytree_root(t) : NULL;
    int r = !t ? -1 : root && root->type == Y_MAP && !ynode_get(root, "stages") ? 1 : 0;
    ytree_free(t);
    diag_free(&d);
    free(text);
    return r;
}

bool config_load_plots(config *c, const char *path, diag *d)
{
    static const cfg_key file_keys[] = {OTHER("benchmark"), OTHER("plots"), END};
    static const cfg_key bench_keys[] = {OTHER("name"), END};
    d->file = path;
    vctx v = {c, d};
    size_t len;
    ytree_free(c->plots_tree);
    free(c->plots_text);
    c->plots_tree = NULL;
    char *why = NULL;
    c->plots_text = read_regular_file(path, CONFIG_MAX_BYTES, &len, &why);
    if (!c->plots_text) {
        diag_error(d, 0, 0, "cannot read the plots file: %s", why);
        free(why);
        return false;
    }
    c->plots_tree = ytree_parse(c->plots_text, len, d);
    const ynode *root = c->plots_tree ? ytree_root(c->plots_tree) : NULL;
    if (!root || !cfg_expect_type(&v, root, Y_MAP, "a plots file")) {
        if (c->plots_tree && !root)
            diag_error(d, 1, 1, "the plots file is empty; it needs a 'plots' section");
        return false;
    }
    cfg_check_keys(&v, root, file_keys, "a plots file (its outputs come from the run)");
    const ynode *b = ynode_get(root, "benchmark");
    if (b && cfg_expect_type(&v, b, Y_MAP, "benchmark")) {
        cfg_check_keys(&v, b, bench_keys, "benchmark (in a plots file)");
        const ynode *nm = ynode_get(b, "name");
        if (nm && nm->type == Y_SCALAR && c->name && strcmp(nm->str, c->name) != 0)
            WARN(&v, nm, "the run is of benchmark '%s', not '%s'", c->name, nm->str);
    }
    free(c->plots);
    c->plots = NULL;
    c->nplots = 0;
    const ynode *ps = ynode_get(root, "plots");
    if (!ps)
        ERR(&v, root, "a plots file needs a 'plots' section");
    cfg_parse_plots(&v, ps);
    char *abs = abs_path(path);
    free(c->plots_dir);
    c->plots_dir = dir_name(abs);
    free(abs);
    return d->errors == 0;
}
