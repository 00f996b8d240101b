/* The plots section, and its references to outputs and their columns. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/parse.h"

static const char *const plot_types[] = {"time_series", "histogram", "boxplot", "cdf", "scatter", NULL};
static const char *const plot_formats[] = {"png", "svg", "pdf", NULL};
static const char *const aggregations[] = {"avg", "median", "p95", "p99", NULL};

static const cfg_key plot_keys[] = {
    {.name = "name", .type = KEY_STR, .offset = KEY_AT(cfg_plot, name), .flags = KEY_REQUIRED},
    STR("title", cfg_plot, title),
    {.name = "source", .type = KEY_STR, .offset = KEY_AT(cfg_plot, source), .flags = KEY_REQUIRED},
    ENUM("type", cfg_plot, type, plot_types), STR("x", cfg_plot, x), STR("y", cfg_plot, y),
    STR("groupby", cfg_plot, groupby), ENUM("aggregation", cfg_plot, aggregation, aggregations),
    {.name = "format", .type = KEY_ENUM, .offset = KEY_AT(cfg_plot, format),
     .choices = plot_formats, .dflt_str = "png"},
    STR("engine", cfg_plot, engine), STR("export_path", cfg_plot, export_path), OTHER("options"),
    END};


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
        check_plot_column(v, p, o, "x", p->x);
        check_plot_column(v, p, o, "y", p->y);
        check_plot_column(v, p, o, "groupby", p->groupby);
    }
}

