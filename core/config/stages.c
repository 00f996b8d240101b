/* The stages and cleanup sections: commands, hosts, background and
 * repeated stages, health checks, outputs and their data schemas. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/parse.h"
#include "util/strmap.h"

static const char *const column_types[] = {"timestamp", "integer", "float", "string", NULL};
static const char *const ts_formats[] = {"unix", "unix_ms", "unix_us", "unix_ns", "rfc3339",
                                         "rfc3339_nano", "iso8601", NULL};
static const char *const better_values[] = {"lower", "higher", NULL};
static const char *const on_invalid_values[] = {"fail", "warn", NULL};
static const char *const probe_places[] = {"host", "controller", NULL};

static const cfg_key stage_keys[] = {
    OTHER("name"), OTHER("host"), OTHER("hosts"), STR("command", cfg_stage, command),
    STR("script", cfg_stage, script), STR("shell", cfg_stage, shell),
    BOOL("background", cfg_stage, background), BOOL("append_metadata", cfg_stage, append_metadata),
    BOOL("quiet", cfg_stage, quiet), BOOL("skip", cfg_stage, skip), STR("execute_only_for", cfg_stage, execute_only_for),
    OTHER("health_check"), OTHER("outputs"), DURATION("timeout", cfg_stage, timeout_ms),
    BOOL("continue_on_error", cfg_stage, continue_on_error),
    {.name = "stop_grace", .type = KEY_DURATION, .offset = KEY_AT(cfg_stage, stop_grace_ms),
     .dflt = 2000},
    BOOL("allow_exit", cfg_stage, allow_exit), BOOL("parallel", cfg_stage, parallel),
    {.name = "repeat", .type = KEY_COUNT, .offset = KEY_AT(cfg_stage, repeat), .dflt = 1, .lo = 1,
     .hi = 1000000},
    {.name = "warmup", .type = KEY_COUNT, .offset = KEY_AT(cfg_stage, warmup), .lo = 0,
     .hi = 1000000},
    OTHER("nodes"),
    {.name = "min_nodes", .type = KEY_COUNT, .offset = KEY_AT(cfg_stage, min_nodes), .lo = 1,
     .hi = 100000},
    STR("prepare", cfg_stage, prepare),
    OTHER("monitor"), OTHER("profile"), OTHER("limits"), STR("cleanup", cfg_stage, cleanup_cmd),
    END};
static const cfg_key cleanup_keys[] = {
    OTHER("name"), OTHER("host"), OTHER("hosts"), STR("command", cfg_stage, command),
    STR("script", cfg_stage, script), STR("shell", cfg_stage, shell),
    BOOL("skip", cfg_stage, skip), STR("execute_only_for", cfg_stage, execute_only_for),
    DURATION("timeout", cfg_stage, timeout_ms),
    BOOL("continue_on_error", cfg_stage, continue_on_error), BOOL("parallel", cfg_stage, parallel),
    END};
/* Sections that also carry a plugin's keys: these are the core's part
 * (bind.c checks the rest against the plugin's schema). */
const cfg_key config_health_keys[] = {
    {.name = "type", .type = KEY_STR, .offset = KEY_AT(cfg_health, type), .flags = KEY_REQUIRED},
    {.name = "target", .type = KEY_STR, .offset = KEY_AT(cfg_health, target),
     .flags = KEY_REQUIRED},
    {.name = "timeout", .type = KEY_DURATION, .offset = KEY_AT(cfg_health, timeout_ms),
     .dflt = 30000},
    {.name = "retries", .type = KEY_COUNT, .offset = KEY_AT(cfg_health, retries), .lo = 0,
     .hi = INT64_MAX},
    DURATION("interval", cfg_health, interval_ms),
    ENUM("on", cfg_health, on, probe_places), END};
const cfg_key config_output_keys[] = {
    {.name = "name", .type = KEY_STR, .offset = KEY_AT(cfg_output, name), .flags = KEY_REQUIRED},
    {.name = "remote_path", .type = KEY_STR, .offset = KEY_AT(cfg_output, remote_path),
     .flags = KEY_REQUIRED},
    {.name = "collector", .type = KEY_STR, .offset = KEY_AT(cfg_output, collector),
     .dflt_str = "files"},
    {.name = "max_size", .type = KEY_SIZE, .offset = KEY_AT(cfg_output, max_size), .lo = 1,
     .hi = INT64_MAX / 2},
    OTHER("data_schema"), OTHER("local_path"), END};
const cfg_key config_schema_keys[] = {
    {.name = "format", .type = KEY_STR, .offset = KEY_AT(cfg_output, schema_format),
     .dflt_str = "csv"},
    OTHER("columns"),
    {.name = "on_invalid", .type = KEY_ENUM, .offset = KEY_AT(cfg_output, on_invalid),
     .choices = on_invalid_values, .dflt_str = "fail"},
    {.name = "min_rows", .type = KEY_COUNT, .offset = KEY_AT(cfg_output, min_rows), .dflt = -1,
     .lo = 0, .hi = INT64_MAX},
    END};
static const cfg_key column_keys[] = {
    {.name = "name", .type = KEY_STR, .offset = KEY_AT(cfg_column, name), .flags = KEY_REQUIRED},
    ENUM("type", cfg_column, type, column_types), STR("unit", cfg_column, unit),
    ENUM("format", cfg_column, format, ts_formats), ENUM("better", cfg_column, better, better_values),
    BOOL("metric", cfg_column, metric), OTHER("success_values"), OTHER("thresholds"), END};
/* success_values: [ok, 200]: the column is a status column; the share of
 * rows whose value is one of these is the output's success rate. */
static void parse_success_values(vctx *v, cfg_column *col, const ynode *sv)
{
    if (!sv || sv->is_null)
        return;
    if (col->type && strcmp(col->type, "string") != 0 && strcmp(col->type, "integer") != 0) {
        ERR(v, sv, "column '%s': 'success_values' applies to string and integer columns "
                   "(status codes), not %s", col->name ? col->name : "?", col->type);
        return;
    }
    if (sv->type != Y_SEQ || sv->n == 0) {
        ERR(v, sv, "column '%s': 'success_values' must be a non-empty list of values, "
                   "e.g. [ok, success]", col->name ? col->name : "?");
        return;
    }
    col->success_values = xcalloc(sv->n + 1, sizeof *col->success_values);
    for (size_t i = 0; i < sv->n; i++) {
        if (!cfg_expect_type(v, sv->vals[i], Y_SCALAR, "success_values[]"))
            continue;
        int64_t iv;
        if (col->type && strcmp(col->type, "integer") == 0 && !parse_int64(sv->vals[i]->str, &iv))
            ERR(v, sv->vals[i], "column '%s': '%s' in success_values is not an integer, but the "
                "column is (e.g. success_values: [200, 204])", col->name ? col->name : "?",
                sv->vals[i]->str);
        col->success_values[col->nsuccess++] = sv->vals[i]->str;
    }
}

static void parse_columns(vctx *v, cfg_output *o, const ynode *cols, const char *what)
{
    if (!cols || cols->is_null)
        return;
    if (!cfg_expect_type(v, cols, Y_SEQ, what))
        return;
    o->columns = xcalloc(cols->n + 1, sizeof *o->columns);
    for (size_t i = 0; i < cols->n; i++) {
        const ynode *cn = cols->vals[i];
        char cw[240];
        snprintf(cw, sizeof cw, "%s[%zu]", what, i);
        if (!cfg_expect_type(v, cn, Y_MAP, cw))
            continue;
        cfg_check_keys(v, cn, column_keys, "data_schema column");
        cfg_column *col = &o->columns[o->ncolumns++];
        col->node = cn;
        keys_bind(v->d, cn, column_keys, col, "column");
        col->metric_set = ynode_get(cn, "metric") != NULL;
        if (!ynode_get(cn, "type"))
            ERR(v, cn, "column: missing required key 'type' (one of: timestamp, integer, float, string)");
        if (col->format && col->type && strcmp(col->type, "timestamp") != 0)
            ERR(v, ynode_get(cn, "format"),
                "column '%s': 'format' only applies to timestamp columns", col->name ? col->name : "?");
        for (size_t j = 0; j + 1 < o->ncolumns; j++)
            if (col->name && o->columns[j].name && strcmp(col->name, o->columns[j].name) == 0)
                ERR(v, cn, "duplicate column name '%s'", col->name);
        if (col->better && col->type &&
            (strcmp(col->type, "integer") != 0 && strcmp(col->type, "float") != 0))
            ERR(v, ynode_get(cn, "better"),
                "column '%s': 'better' only applies to integer and float columns (it sets "
                "which way `benchctl compare` counts as an improvement)", col->name ? col->name : "?");
        parse_success_values(v, col, ynode_get(cn, "success_values"));
        cfg_parse_thresholds(v, col, ynode_get(cn, "thresholds"));
    }
}

/* repeat: N / warmup: K: a measured command with a distribution. */
static void parse_repeat(vctx *v, cfg_stage *st, const ynode *sn, const char *sw)
{
    st->repeat_set = ynode_get(sn, "repeat") != NULL;
    const ynode *k = ynode_key(sn, "warmup");
    if (k && !st->repeat_set)
        ERR(v, k, "%s: 'warmup' needs 'repeat' (warm-up runs precede repeated measurements)", sw);
    k = ynode_key(sn, "repeat");
    if (k && st->background)
        ERR(v, k, "%s: 'repeat' does not apply to background stages (they run until the "
                  "foreground stages end)", sw);
    if (k && st->parallel)
        ERR(v, k, "%s: 'repeat' and 'parallel' cannot be combined (concurrent runs would "
                  "disturb each other's timings); list the hosts without 'parallel'", sw);
}

static void parse_outputs(vctx *v, cfg_stage *st, const ynode *outs)
{
    if (!outs || outs->is_null)
        return;
    if (!cfg_expect_type(v, outs, Y_SEQ, "outputs"))
        return;
    st->outputs = xcalloc(outs->n + 1, sizeof *st->outputs);
    for (size_t i = 0; i < outs->n; i++) {
        const ynode *on = outs->vals[i];
        if (!cfg_expect_type(v, on, Y_MAP, "outputs[]"))
            continue;
        cfg_check_keys(v, on, NULL, "output"); /* duplicates; keys: bind.c */
        cfg_output *o = &st->outputs[st->noutputs++];
        o->node = on;
        keys_bind(v->d, on, config_output_keys, o, "output");
        cfg_check_file_name(v, ynode_get(on, "name"), "output", o->name);
        const ynode *lp = ynode_key(on, "local_path");
        if (lp)
            ERR(v, lp, "output '%s': 'local_path' is not supported; collected files always go "
                       "to the run directory (remove the key)", o->name ? o->name : "?");
        const ynode *ds = ynode_get(on, "data_schema");
        if (ds && !ds->is_null && cfg_expect_type(v, ds, Y_MAP, "data_schema")) {
            cfg_check_keys(v, ds, NULL, "data_schema");
            o->schema = ds;
            parse_columns(v, o, ynode_get(ds, "columns"), "data_schema.columns");
        }
        keys_bind(v->d, o->schema, config_schema_keys, o, "data_schema");
        /* Keys other than the core's belong to the collector / validator
         * and are checked against their schemas in bind.c. */
    }
}

/* A fanned-out stage's thresholds are checked over the merged data, and
 * only csv and jsonl outputs are merged (run/collate.c): thresholds on any
 * other would never be checked. */
static void check_fanout_thresholds(vctx *v, const cfg_stage *st, const char *sw)
{
    if (st->nnodes <= 0)
        return;
    for (size_t i = 0; i < st->noutputs; i++) {
        const cfg_output *o = &st->outputs[i];
        bool thr = false;
        for (size_t c = 0; c < o->ncolumns; c++)
            thr = thr || o->columns[c].nthresholds > 0;
        if (!thr || !o->schema_format || strcmp(o->schema_format, "csv") == 0 ||
            strcmp(o->schema_format, "jsonl") == 0)
            continue;
        const ynode *f = ynode_get(o->schema, "format");
        ERR(v, f ? f : o->node, "%s: output '%s': thresholds on a fanned-out stage need a csv "
            "or jsonl output (only those are merged across nodes), not %s", sw,
            o->name ? o->name : "?", o->schema_format);
    }
}

static void parse_health(vctx *v, cfg_stage *st, const ynode *hc)
{
    if (!hc || hc->is_null)
        return;
    if (!cfg_expect_type(v, hc, Y_MAP, "health_check"))
        return;
    cfg_check_keys(v, hc, NULL, "health_check"); /* duplicates; keys: bind.c */
    cfg_health *h = xcalloc(1, sizeof *h);
    st->health = h;
    h->node = hc;
    keys_bind(v->d, hc, config_health_keys, h, "health_check");
    h->on_controller = h->on && strcmp(h->on, "controller") == 0;
    if (ynode_get(hc, "timeout") && h->timeout_ms == 0)
        h->timeout_ms = 30000; /* the Go tool's zero value: keep the default */
    const ynode *iv = ynode_get(hc, "interval");
    if (iv && !iv->is_null && h->interval_ms <= 0)
        ERR(v, iv, "health_check: 'interval' must be greater than 0");
}

static void parse_hostref(vctx *v, cfg_stage *st, const ynode *sn, const char *what)
{
    config *c = v->c;
    const ynode *h = ynode_get(sn, "host"), *hs = ynode_get(sn, "hosts");
    if (h && hs && !h->is_null && !hs->is_null)
        ERR(v, hs, "%s '%s': use either 'host' or 'hosts', not both", what,
            st->name ? st->name : "?");
    size_t cap = hs && hs->type == Y_SEQ ? hs->n + 1 : 2;
    const ynode **refs = xcalloc(cap, sizeof *refs);
    size_t nref = 0;
    if (hs && !hs->is_null) {
        if (hs->type == Y_SCALAR) {
            refs[nref++] = hs;
        } else if (cfg_expect_type(v, hs, Y_SEQ, "hosts")) {
            if (hs->n == 0)
                ERR(v, hs, "%s '%s': 'hosts' must list at least one host", what,
                    st->name ? st->name : "?");
            for (size_t i = 0; i < hs->n; i++)
                if (cfg_expect_type(v, hs->vals[i], Y_SCALAR, "hosts[]"))
                    refs[nref++] = hs->vals[i];
        }
    } else if (h && !h->is_null && cfg_expect_type(v, h, Y_SCALAR, "host")) {
        refs[nref++] = h;
    }
    st->hosts = xcalloc(nref + 1, sizeof *st->hosts);
    for (size_t i = 0; i < nref; i++) {
        if (!config_host(c, refs[i]->str)) {
            strbuf sb = {0};
            for (size_t j = 0; j < c->nhosts; j++)
                sb_printf(&sb, "%s%s", j ? ", " : "", c->hosts[j].alias);
            ERR(v, refs[i], "%s '%s': unknown host '%s'; defined hosts: %s", what,
                st->name ? st->name : "?", refs[i]->str, sb.buf ? sb.buf : "local");
            sb_free(&sb);
            continue;
        }
        for (size_t j = 0; j < st->nhosts; j++)
            if (strcmp(st->hosts[j], refs[i]->str) == 0)
                ERR(v, refs[i], "%s '%s': host '%s' is listed twice", what,
                    st->name ? st->name : "?", refs[i]->str);
        st->hosts[st->nhosts++] = refs[i]->str;
    }
    if (nref == 0)
        st->hosts[st->nhosts++] = "local";
    free(refs);
}

/* The stage's `limits:` over benchmark.limits, and its `cleanup:`. */
static void parse_stage_limits(vctx *v, cfg_stage *st, const ynode *sn, const char *sw)
{
    const ynode *ln = ynode_get(sn, "limits");
    cfg_parse_limits(v, ln, &v->c->limits, &st->limits, sw);
    if (st->background) {
        /* A background stage runs until the foreground stages end. */
        const ynode *k = ln && ln->type == Y_MAP ? ynode_key(ln, "walltime") : NULL;
        if (k)
            ERR(v, k, "%s: limits: 'walltime' does not apply to background stages (they run "
                      "until the foreground stages end)", sw);
        st->limits.walltime_ms = -1;
    }
    const ynode *cn = ynode_get(sn, "cleanup");
    if (cn && cn->type == Y_SCALAR && (cn->is_null || !*cn->str)) {
        ERR(v, cn, "%s: 'cleanup' is empty; give a command to run after the stage", sw);
        st->cleanup_cmd = NULL;
    }
    cfg_limits_settle(&st->limits);
}

void cfg_parse_stage_list(vctx *v, const ynode *list, const char *section, bool cleanup,
                             cfg_stage **out, size_t *nout)
{
    config *c = v->c;
    *out = NULL;
    *nout = 0;
    if (!list || list->is_null) {
        if (!cleanup)
            diag_error(v->d, 1, 1, "missing required section 'stages' (a list of stages)");
        return;
    }
    if (!cfg_expect_type(v, list, Y_SEQ, section))
        return;
    /* `stages: []` is a run that records only its metadata (as in the Go
     * tool). */
    *out = xcalloc(list->n + 1, sizeof **out);
    const char *what = cleanup ? "cleanup step" : "stage";
    strmap names = {0}; /* name -> index in *out: linear in the number of stages */
    for (size_t i = 0; i < list->n; i++) {
        const ynode *sn = list->vals[i];
        char w[64];
        snprintf(w, sizeof w, "%s[%zu]", section, i);
        if (!cfg_expect_type(v, sn, Y_MAP, w))
            continue;
        cfg_stage *st = &(*out)[(*nout)++];
        st->node = sn;
        st->is_cleanup = cleanup;
        cfg_check_keys(v, sn, cleanup ? cleanup_keys : stage_keys, what);
        st->name = cfg_get_str(v, sn, "name", true, what);
        if (st->name) {
            size_t j;
            if (!strmap_put(&names, st->name, *nout - 1, &j))
                ERR(v, ynode_get(sn, "name"), "duplicate %s name '%s' (first at line %d)",
                    what, st->name, (*out)[j].node->line);
            cfg_check_file_name(v, ynode_get(sn, "name"), what, st->name);
        }
        char sw[200];
        snprintf(sw, sizeof sw, "%s '%s'", what, st->name ? st->name : "?");
        parse_hostref(v, st, sn, what);
        keys_bind(v->d, sn, cleanup ? cleanup_keys : stage_keys, st, sw);
        if (st->command && st->script)
            ERR(v, ynode_get(sn, "script"), "%s '%s': give either 'command' or 'script', not both",
                what, st->name ? st->name : "?");
        if (!ynode_get(sn, "command") && !ynode_get(sn, "script"))
            ERR(v, sn, "%s '%s': needs a 'command' or a 'script'", what, st->name ? st->name : "?");
        for (int which = 0; which < 2; which++) { /* `command: ~` or '' runs nothing */
            const char *key = which ? "script" : "command";
            const ynode *cn = ynode_get(sn, key);
            if (cn && cn->type == Y_SCALAR && (cn->is_null || !*cn->str))
                ERR(v, cn, "%s '%s': '%s' is empty; give the %s to run", what,
                    st->name ? st->name : "?", key, key);
        }
        if (st->script) {
            bool cwd = false;
            char *p = config_resolve_path(c, st->script, &cwd);
            struct stat sb;
            if (cwd)
                WARN(v, ynode_get(sn, "script"), "%s '%s': script '%s' is not in the config's "
                     "directory (%s); the working directory's is used, as the Go tool did", what,
                     st->name ? st->name : "?", st->script, c->dir);
            if (stat(p, &sb) != 0)
                WARN(v, ynode_get(sn, "script"), "%s '%s': script '%s' does not exist (yet)",
                     what, st->name ? st->name : "?", p);
            free(p);
        }
        if (!cleanup) {
            if (!st->background) {
                const ynode *k = ynode_key(sn, "stop_grace");
                if (!k)
                    k = ynode_key(sn, "allow_exit");
                if (k)
                    ERR(v, k, "%s: '%s' only applies to background stages", sw, k->str);
            } else {
                /* A background stage runs until the case's stages end. */
                const ynode *k = ynode_key(sn, "timeout");
                if (k)
                    ERR(v, k, "%s: 'timeout' does not apply to background stages (they run "
                              "until the foreground stages end; 'stop_grace' sets how long a "
                              "stop may take)", sw);
                k = ynode_key(sn, "parallel");
                if (k)
                    ERR(v, k, "%s: 'parallel' does not apply to background stages (they already "
                              "run on all their hosts at once)", sw);
            }
        }
        if (!cleanup)
            cfg_parse_nodes(v, st, sn, sw);
        if (!cleanup)
            parse_repeat(v, st, sn, sw);
        else
            st->repeat = 1;
        if (st->background && st->append_metadata)
            ERR(v, ynode_get(sn, "append_metadata"),
                "stage '%s': append_metadata cannot be used on a background stage",
                st->name ? st->name : "?");
        if (!cleanup) {
            parse_health(v, st, ynode_get(sn, "health_check"));
            parse_outputs(v, st, ynode_get(sn, "outputs"));
            check_fanout_thresholds(v, st, sw);
            cfg_parse_stage_monitor(v, st, ynode_get(sn, "monitor"));
            cfg_parse_stage_profile(v, st, ynode_get(sn, "profile"), sw);
            parse_stage_limits(v, st, sn, sw);
        } else {
            cfg_parse_limits(v, NULL, NULL, &st->limits, sw);
        }
    }
    strmap_free(&names);
}

void cfg_check_cross_refs(vctx *v)
{
    config *c = v->c;
    /* Output names are unique across all stages. */
    strmap seen = {0}; /* name -> line of its first use */
    for (size_t i = 0; i < c->nstages; i++)
        for (size_t j = 0; j < c->stages[i].noutputs; j++) {
            const cfg_output *o = &c->stages[i].outputs[j];
            size_t line;
            if (o->name && !strmap_put(&seen, o->name, (size_t)o->node->line, &line))
                ERR(v, ynode_get(o->node, "name"), "duplicate output name '%s' (first at line %zu)",
                    o->name, line);
        }
    strmap_free(&seen);
    /* benchmark.concurrency_param names a matrix parameter. */
    if (c->concurrency_param && !(c->matrix && ynode_get(c->matrix, c->concurrency_param)))
        ERR(v, ynode_get(ynode_get(ytree_root(c->tree), "benchmark"), "concurrency_param"),
            "benchmark: concurrency_param '%s' is not a parameter of 'matrix'",
            c->concurrency_param);
    /* execute_only_for names a case. */
    cfg_stage *lists[2] = {c->stages, c->cleanup};
    size_t counts[2] = {c->nstages, c->ncleanup};
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < counts[l]; i++) {
            const cfg_stage *st = &lists[l][i];
            if (!st->execute_only_for)
                continue;
            bool found = false;
            for (size_t k = 0; k < c->ncases; k++)
                if (config_case_matches(&c->cases[k], st->execute_only_for))
                    found = true;
            if (!found)
                ERR(v, ynode_get(st->node, "execute_only_for"),
                    "stage '%s': execute_only_for names case '%s', which is not in 'cases'",
                    st->name ? st->name : "?", st->execute_only_for);
        }
}

