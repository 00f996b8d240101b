/* The benchmark configuration: parsing and validation of the core's keys. */
#define _GNU_SOURCE
#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- key tables ------------------------------------------------------ */

static const char *const top_keys[] = {"benchmark", "hosts", "stages", "plots", "cases", "matrix", "cleanup", NULL};
static const char *const bench_keys[] = {"name", "output_dir", "shell", "logging", "git", "plugin_paths", NULL};
static const char *const logging_keys[] = {"level", "path", NULL};
static const char *const git_keys[] = {"capture", "require_clean", "save_patch", NULL};
static const char *const stage_keys[] = {
    "name", "host", "hosts", "command", "script", "shell", "background", "append_metadata",
    "skip", "execute_only_for", "health_check", "outputs", "timeout", "continue_on_error",
    "stop_grace", "allow_exit", "parallel", "repeat", "warmup", NULL};
static const char *const cleanup_keys[] = {
    "name", "host", "hosts", "command", "script", "shell", "skip", "execute_only_for",
    "timeout", "continue_on_error", "parallel", NULL};
static const char *const column_keys[] = {"name", "type", "unit", "format", "better",
                                          "success_values", NULL};
static const char *const better_values[] = {"lower", "higher", NULL};
static const char *const plot_keys[] = {"name", "title", "source", "type", "x", "y", "groupby",
                                        "aggregation", "format", "engine", "export_path",
                                        "options", NULL};
static const char *const case_keys[] = {"name", "env", NULL};

static const char *const column_types[] = {"timestamp", "integer", "float", "string", NULL};
static const char *const ts_formats[] = {"unix", "unix_ms", "unix_us", "unix_ns", "rfc3339",
                                         "rfc3339_nano", "iso8601", NULL};
static const char *const plot_types[] = {"time_series", "histogram", "boxplot", "cdf", "scatter", NULL};
static const char *const plot_formats[] = {"png", "svg", "pdf", NULL};
static const char *const aggregations[] = {"avg", "median", "p95", "p99", NULL};
static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const on_invalid_values[] = {"fail", "warn", NULL};

typedef struct vctx {
    config *c;
    diag *d;
} vctx;

static bool in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

static char *join_list(const char *const *list)
{
    strbuf sb = {0};
    for (size_t i = 0; list[i]; i++)
        sb_printf(&sb, "%s%s", i ? ", " : "", list[i]);
    return sb_steal(&sb);
}

#define ERR(v, n, ...) diag_error((v)->d, (n) ? (n)->line : 0, (n) ? (n)->col : 0, __VA_ARGS__)
#define WARN(v, n, ...) diag_warn((v)->d, (n) ? (n)->line : 0, (n) ? (n)->col : 0, __VA_ARGS__)

/* Unknown and duplicate keys of a mapping.  `extra` adds keys handled by
 * someone else (NULL-terminated, may be NULL). */
static void check_keys(vctx *v, const ynode *m, const char *const *valid, const char *what)
{
    if (!m || m->type != Y_MAP)
        return;
    for (size_t i = 0; i < m->n; i++) {
        const ynode *k = m->keys[i];
        if (k->type != Y_SCALAR) {
            ERR(v, k, "%s: keys must be plain names", what);
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (m->keys[j]->type == Y_SCALAR && strcmp(m->keys[j]->str, k->str) == 0)
                ERR(v, k, "%s: duplicate key '%s' (first at line %d)", what, k->str,
                    m->keys[j]->line);
        if (valid && !in_list(valid, k->str)) {
            char *list = join_list(valid);
            ERR(v, k, "unknown key '%s' in %s; valid keys: %s", k->str, what, list);
            free(list);
        }
    }
}

static bool expect_type(vctx *v, const ynode *n, ytype t, const char *what)
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
static const char *get_str(vctx *v, const ynode *m, const char *key, bool required,
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
    if (!expect_type(v, n, Y_SCALAR, buf))
        return NULL;
    if (required && !*n->str) {
        ERR(v, n, "%s must not be empty", buf);
        return NULL;
    }
    return n->str;
}

static const char *get_enum(vctx *v, const ynode *m, const char *key, const char *const *values,
                            const char *what)
{
    const char *s = get_str(v, m, key, false, what);
    if (s && !in_list(values, s)) {
        char *list = join_list(values);
        ERR(v, ynode_get(m, key), "%s: '%s' must be one of %s, not '%s'", what, key, list, s);
        free(list);
        return NULL;
    }
    return s;
}

bool config_parse_bool(const char *s, bool *out)
{
    static const char *const t[] = {"true", "True", "TRUE", "yes", "Yes", "on", "On", NULL};
    static const char *const f[] = {"false", "False", "FALSE", "no", "No", "off", "Off", NULL};
    if (in_list(t, s)) {
        *out = true;
        return true;
    }
    if (in_list(f, s)) {
        *out = false;
        return true;
    }
    return false;
}

static bool get_bool(vctx *v, const ynode *m, const char *key, bool dflt, const char *what)
{
    const ynode *n = ynode_get(m, key);
    if (!n || (n->type == Y_SCALAR && n->is_null))
        return dflt;
    bool b = dflt;
    if (n->type != Y_SCALAR || n->quoted || !config_parse_bool(n->str, &b))
        ERR(v, n, "%s: '%s' must be true or false, not %s%s%s", what, key,
            n->type == Y_SCALAR ? "'" : "", n->type == Y_SCALAR ? n->str : ynode_kind(n),
            n->type == Y_SCALAR ? "'" : "");
    return b;
}

static int64_t get_duration_ms(vctx *v, const ynode *m, const char *key, int64_t dflt,
                               const char *what)
{
    const ynode *n = ynode_get(m, key);
    if (!n || (n->type == Y_SCALAR && n->is_null))
        return dflt;
    int64_t ns;
    if (n->type != Y_SCALAR || !parse_duration_ns(n->str, &ns)) {
        ERR(v, n, "%s: '%s' must be a duration such as 500ms, 30s or 1m30s, not '%s'", what, key,
            n->type == Y_SCALAR ? n->str : ynode_kind(n));
        return dflt;
    }
    return (ns + 999999) / 1000000;
}

/* Names that become file or directory names in the run directory. */
static void check_file_name(vctx *v, const ynode *at, const char *what, const char *name)
{
    if (!name)
        return;
    if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        ERR(v, at, "%s name '%s' cannot be used: it names a file in the run directory, so it "
                   "must be non-empty, without '/', and not '.' or '..'", what, name);
}

/* ---- sections -------------------------------------------------------- */

void config_split_words(const char *s, strvec *out)
{
    const char *p = s;
    while (*p) {
        while (*p && isspace((unsigned char)*p))
            p++;
        const char *start = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        if (p > start)
            sv_push_owned(out, xstrndup(start, (size_t)(p - start)));
    }
}

static void default_shell(strvec *out)
{
    /* Quiet default: the Go tool's `bash -lic` prints job-control noise
     * without a terminal and reads the user's profile; `bash -c` does not. */
    if (access("/bin/bash", X_OK) == 0 || access("/usr/bin/bash", X_OK) == 0) {
        sv_push(out, "bash");
    } else {
        sv_push(out, "sh");
    }
    sv_push(out, "-c");
}

static void parse_benchmark(vctx *v, const ynode *b)
{
    config *c = v->c;
    if (!b) {
        diag_error(v->d, 1, 1, "missing required section 'benchmark'");
        return;
    }
    if (!expect_type(v, b, Y_MAP, "benchmark"))
        return;
    check_keys(v, b, bench_keys, "benchmark");
    c->name = get_str(v, b, "name", true, "benchmark");
    const char *out = get_str(v, b, "output_dir", true, "benchmark");
    c->output_dir_node = ynode_get(b, "output_dir");
    if (out)
        c->output_dir = out[0] == '/' ? xstrdup(out) : path_join(c->dir, out);
    const char *shell = get_str(v, b, "shell", false, "benchmark");
    if (shell)
        config_split_words(shell, &c->shell);
    if (shell && c->shell.n == 0)
        ERR(v, ynode_get(b, "shell"), "benchmark.shell must name a shell, e.g. 'bash -c'");
    if (c->shell.n == 0)
        default_shell(&c->shell);

    const ynode *lg = ynode_get(b, "logging");
    if (lg && !lg->is_null && expect_type(v, lg, Y_MAP, "benchmark.logging")) {
        check_keys(v, lg, logging_keys, "benchmark.logging");
        c->log_level = get_enum(v, lg, "level", log_levels, "benchmark.logging");
        c->log_path = get_str(v, lg, "path", false, "benchmark.logging");
    }
    c->git_capture = true;
    const ynode *g = ynode_get(b, "git");
    if (g && !g->is_null && expect_type(v, g, Y_MAP, "benchmark.git")) {
        check_keys(v, g, git_keys, "benchmark.git");
        c->git_capture = get_bool(v, g, "capture", true, "benchmark.git");
        c->git_require_clean = get_bool(v, g, "require_clean", false, "benchmark.git");
        c->git_save_patch = get_bool(v, g, "save_patch", false, "benchmark.git");
    }
    const ynode *pp = ynode_get(b, "plugin_paths");
    if (pp && !pp->is_null) {
        if (pp->type == Y_SCALAR) {
            sv_push_owned(&c->plugin_paths, path_join(c->dir, pp->str));
        } else if (expect_type(v, pp, Y_SEQ, "benchmark.plugin_paths")) {
            for (size_t i = 0; i < pp->n; i++)
                if (expect_type(v, pp->vals[i], Y_SCALAR, "benchmark.plugin_paths[]"))
                    sv_push_owned(&c->plugin_paths, path_join(c->dir, pp->vals[i]->str));
        }
    }
}

static void parse_hosts(vctx *v, const ynode *h)
{
    config *c = v->c;
    size_t n = (h && h->type == Y_MAP) ? h->n : 0;
    c->hosts = xcalloc(n + 1, sizeof *c->hosts);
    if (h && !h->is_null && expect_type(v, h, Y_MAP, "hosts")) {
        check_keys(v, h, NULL, "hosts");
        for (size_t i = 0; i < h->n; i++) {
            const ynode *k = h->keys[i], *hv = h->vals[i];
            if (k->type != Y_SCALAR)
                continue;
            cfg_host *host = &c->hosts[c->nhosts++];
            host->alias = k->str;
            host->node = hv;
            char what[200];
            snprintf(what, sizeof what, "hosts.%s", k->str);
            if (!*k->str)
                ERR(v, k, "host aliases must not be empty");
            if (hv->type == Y_SCALAR && hv->is_null) {
                host->node = NULL;
            } else if (!expect_type(v, hv, Y_MAP, what)) {
                host->node = NULL;
            }
            check_keys(v, host->node, NULL, what); /* duplicates; keys: bind.c */
            host->ip = get_str(v, host->node, "ip", false, what);
            if (host->ip && !*host->ip)
                host->ip = NULL;
            host->transport = get_str(v, host->node, "transport", false, what);
            /* The Go tool's connection keys are valid on every host; the
             * transport decides what they mean (local ignores them). */
            get_str(v, host->node, "username", false, what);
            get_str(v, host->node, "password", false, what);
            get_str(v, host->node, "key_file", false, what);
            get_str(v, host->node, "key_password", false, what);
            const ynode *port = ynode_get(host->node, "port");
            int64_t pv;
            if (port && !port->is_null &&
                (port->type != Y_SCALAR || !parse_int64(port->str, &pv) || pv < 1 || pv > 65535))
                ERR(v, port, "%s: 'port' must be a TCP port number (1-65535), not '%s'", what,
                    port->type == Y_SCALAR ? port->str : ynode_kind(port));
            if (!host->transport)
                host->transport = host->ip ? "ssh" : "local";
            /* Keys that carry secrets are redacted whatever the transport. */
            const char *secret_keys[] = {"password", "key_password"};
            for (size_t s = 0; s < 2; s++) {
                const ynode *sv = ynode_get(host->node, secret_keys[s]);
                if (sv)
                    config_add_secret(c, sv);
            }
        }
    }
    if (!config_host(c, "local")) {
        cfg_host *local = &c->hosts[c->nhosts++];
        local->alias = "local";
        local->transport = "local";
    }
}

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
        if (!expect_type(v, sv->vals[i], Y_SCALAR, "success_values[]"))
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
    if (!expect_type(v, cols, Y_SEQ, what))
        return;
    o->columns = xcalloc(cols->n + 1, sizeof *o->columns);
    for (size_t i = 0; i < cols->n; i++) {
        const ynode *cn = cols->vals[i];
        char cw[240];
        snprintf(cw, sizeof cw, "%s[%zu]", what, i);
        if (!expect_type(v, cn, Y_MAP, cw))
            continue;
        check_keys(v, cn, column_keys, "data_schema column");
        cfg_column *col = &o->columns[o->ncolumns++];
        col->node = cn;
        col->name = get_str(v, cn, "name", true, "column");
        col->type = get_enum(v, cn, "type", column_types, "column");
        if (!ynode_get(cn, "type"))
            ERR(v, cn, "column: missing required key 'type' (one of: timestamp, integer, float, string)");
        col->unit = get_str(v, cn, "unit", false, "column");
        col->format = get_enum(v, cn, "format", ts_formats, "column");
        if (col->format && col->type && strcmp(col->type, "timestamp") != 0)
            ERR(v, ynode_get(cn, "format"),
                "column '%s': 'format' only applies to timestamp columns", col->name ? col->name : "?");
        for (size_t j = 0; j + 1 < o->ncolumns; j++)
            if (col->name && o->columns[j].name && strcmp(col->name, o->columns[j].name) == 0)
                ERR(v, cn, "duplicate column name '%s'", col->name);
        col->better = get_enum(v, cn, "better", better_values, "column");
        if (col->better && col->type &&
            (strcmp(col->type, "integer") != 0 && strcmp(col->type, "float") != 0))
            ERR(v, ynode_get(cn, "better"),
                "column '%s': 'better' only applies to integer and float columns (it sets "
                "which way `benchctl compare` counts as an improvement)", col->name ? col->name : "?");
        parse_success_values(v, col, ynode_get(cn, "success_values"));
    }
}

static int64_t get_count(vctx *v, const ynode *m, const char *key, int64_t dflt, int64_t lo,
                         int64_t hi, const char *what)
{
    const ynode *n = ynode_get(m, key);
    if (!n || (n->type == Y_SCALAR && n->is_null))
        return dflt;
    int64_t x;
    if (n->type != Y_SCALAR || !parse_int64(n->str, &x) || x < lo || x > hi) {
        ERR(v, n, "%s: '%s' must be a whole number from %lld to %lld, not '%s'", what, key,
            (long long)lo, (long long)hi, n->type == Y_SCALAR ? n->str : ynode_kind(n));
        return dflt;
    }
    return x;
}

/* repeat: N / warmup: K: a measured command with a distribution. */
static void parse_repeat(vctx *v, cfg_stage *st, const ynode *sn, const char *sw)
{
    st->repeat = get_count(v, sn, "repeat", 1, 1, 1000000, sw);
    st->warmup = get_count(v, sn, "warmup", 0, 0, 1000000, sw);
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
    if (!expect_type(v, outs, Y_SEQ, "outputs"))
        return;
    st->outputs = xcalloc(outs->n + 1, sizeof *st->outputs);
    for (size_t i = 0; i < outs->n; i++) {
        const ynode *on = outs->vals[i];
        if (!expect_type(v, on, Y_MAP, "outputs[]"))
            continue;
        check_keys(v, on, NULL, "output"); /* duplicates; keys: bind.c */
        cfg_output *o = &st->outputs[st->noutputs++];
        o->node = on;
        o->name = get_str(v, on, "name", true, "output");
        check_file_name(v, ynode_get(on, "name"), "output", o->name);
        o->remote_path = get_str(v, on, "remote_path", true, "output");
        o->collector = get_str(v, on, "collector", false, "output");
        if (!o->collector)
            o->collector = "files";
        const ynode *lp = ynode_key(on, "local_path");
        if (lp)
            ERR(v, lp, "output '%s': 'local_path' is not supported; collected files always go "
                       "to the run directory (remove the key)", o->name ? o->name : "?");
        const ynode *ds = ynode_get(on, "data_schema");
        if (ds && !ds->is_null && expect_type(v, ds, Y_MAP, "data_schema")) {
            check_keys(v, ds, NULL, "data_schema");
            o->schema = ds;
            o->schema_format = get_str(v, ds, "format", false, "data_schema");
            if (!o->schema_format)
                o->schema_format = "csv";
            o->on_invalid = get_enum(v, ds, "on_invalid", on_invalid_values, "data_schema");
            parse_columns(v, o, ynode_get(ds, "columns"), "data_schema.columns");
        }
        if (!o->on_invalid)
            o->on_invalid = "fail";
        /* Keys other than the core's belong to the collector / validator
         * and are checked against their schemas in bind.c. */
    }
}

static void parse_health(vctx *v, cfg_stage *st, const ynode *hc)
{
    if (!hc || hc->is_null)
        return;
    if (!expect_type(v, hc, Y_MAP, "health_check"))
        return;
    check_keys(v, hc, NULL, "health_check"); /* duplicates; keys: bind.c */
    cfg_health *h = xcalloc(1, sizeof *h);
    st->health = h;
    h->node = hc;
    h->type = get_str(v, hc, "type", true, "health_check");
    h->target = get_str(v, hc, "target", true, "health_check");
    h->timeout_ms = get_duration_ms(v, hc, "timeout", 30000, "health_check");
    h->interval_ms = get_duration_ms(v, hc, "interval", 0, "health_check");
    static const char *const where[] = {"host", "controller", NULL};
    const char *on = get_enum(v, hc, "on", where, "health_check");
    h->on_controller = on && strcmp(on, "controller") == 0;
    if (ynode_get(hc, "timeout") && h->timeout_ms == 0)
        h->timeout_ms = 30000; /* the Go tool's zero value: keep the default */
    const ynode *iv = ynode_get(hc, "interval");
    if (iv && !iv->is_null && h->interval_ms <= 0)
        ERR(v, iv, "health_check: 'interval' must be greater than 0");
    const ynode *r = ynode_get(hc, "retries");
    if (r && !r->is_null) {
        if (r->type != Y_SCALAR || !parse_int64(r->str, &h->retries) || h->retries < 0)
            ERR(v, r, "health_check: 'retries' must be a whole number >= 0, not '%s'",
                r->type == Y_SCALAR ? r->str : ynode_kind(r));
    }
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
        } else if (expect_type(v, hs, Y_SEQ, "hosts")) {
            if (hs->n == 0)
                ERR(v, hs, "%s '%s': 'hosts' must list at least one host", what,
                    st->name ? st->name : "?");
            for (size_t i = 0; i < hs->n; i++)
                if (expect_type(v, hs->vals[i], Y_SCALAR, "hosts[]"))
                    refs[nref++] = hs->vals[i];
        }
    } else if (h && !h->is_null && expect_type(v, h, Y_SCALAR, "host")) {
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

static void parse_stage_list(vctx *v, const ynode *list, const char *section, bool cleanup,
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
    if (!expect_type(v, list, Y_SEQ, section))
        return;
    if (!cleanup && list->n == 0)
        ERR(v, list, "stages: at least one stage is required");
    *out = xcalloc(list->n + 1, sizeof **out);
    const char *what = cleanup ? "cleanup step" : "stage";
    for (size_t i = 0; i < list->n; i++) {
        const ynode *sn = list->vals[i];
        char w[64];
        snprintf(w, sizeof w, "%s[%zu]", section, i);
        if (!expect_type(v, sn, Y_MAP, w))
            continue;
        cfg_stage *st = &(*out)[(*nout)++];
        st->node = sn;
        st->is_cleanup = cleanup;
        check_keys(v, sn, cleanup ? cleanup_keys : stage_keys, what);
        st->name = get_str(v, sn, "name", true, what);
        if (st->name) {
            for (size_t j = 0; j + 1 < *nout; j++)
                if ((*out)[j].name && strcmp((*out)[j].name, st->name) == 0)
                    ERR(v, ynode_get(sn, "name"), "duplicate %s name '%s' (first at line %d)",
                        what, st->name, (*out)[j].node->line);
            check_file_name(v, ynode_get(sn, "name"), what, st->name);
        }
        char sw[200];
        snprintf(sw, sizeof sw, "%s '%s'", what, st->name ? st->name : "?");
        parse_hostref(v, st, sn, what);
        st->command = get_str(v, sn, "command", false, sw);
        st->script = get_str(v, sn, "script", false, sw);
        if (st->command && st->script)
            ERR(v, ynode_get(sn, "script"), "%s '%s': give either 'command' or 'script', not both",
                what, st->name ? st->name : "?");
        if (!ynode_get(sn, "command") && !ynode_get(sn, "script"))
            ERR(v, sn, "%s '%s': needs a 'command' or a 'script'", what, st->name ? st->name : "?");
        if (st->script) {
            char *p = path_join(c->dir, st->script);
            struct stat sb;
            if (stat(p, &sb) != 0)
                WARN(v, ynode_get(sn, "script"), "%s '%s': script '%s' does not exist (yet)",
                     what, st->name ? st->name : "?", p);
            free(p);
        }
        st->shell = get_str(v, sn, "shell", false, sw);
        st->background = get_bool(v, sn, "background", false, sw);
        st->append_metadata = get_bool(v, sn, "append_metadata", false, sw);
        st->skip = get_bool(v, sn, "skip", false, sw);
        st->parallel = get_bool(v, sn, "parallel", false, sw);
        st->continue_on_error = get_bool(v, sn, "continue_on_error", false, sw);
        st->execute_only_for = get_str(v, sn, "execute_only_for", false, sw);
        st->timeout_ms = get_duration_ms(v, sn, "timeout", 0, sw);
        if (!cleanup) {
            st->stop_grace_ms = get_duration_ms(v, sn, "stop_grace", 2000, sw);
            st->allow_exit = get_bool(v, sn, "allow_exit", false, sw);
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
        }
    }
}

static void parse_cases(vctx *v, const ynode *cs)
{
    config *c = v->c;
    if (!cs || cs->is_null)
        return;
    if (!expect_type(v, cs, Y_SEQ, "cases"))
        return;
    c->cases = xcalloc(cs->n + 1, sizeof *c->cases);
    for (size_t i = 0; i < cs->n; i++) {
        const ynode *cn = cs->vals[i];
        if (!expect_type(v, cn, Y_MAP, "cases[]"))
            continue;
        check_keys(v, cn, case_keys, "case");
        cfg_case *cc = &c->cases[c->ncases++];
        cc->node = cn;
        cc->name = get_str(v, cn, "name", true, "case");
        check_file_name(v, ynode_get(cn, "name"), "case", cc->name);
        for (size_t j = 0; cc->name && j + 1 < c->ncases; j++)
            if (c->cases[j].name && strcmp(c->cases[j].name, cc->name) == 0)
                ERR(v, ynode_get(cn, "name"), "duplicate case name '%s'", cc->name);
        const ynode *env = ynode_get(cn, "env");
        if (env && !env->is_null && expect_type(v, env, Y_MAP, "case.env")) {
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
}

/* matrix: {NAME: [v1, v2, ...], ...} -> one case per combination, crossed
 * with cases[] (each case runs every combination). */
static void parse_matrix(vctx *v, const ynode *m)
{
    config *c = v->c;
    if (!m || m->is_null)
        return;
    if (!expect_type(v, m, Y_MAP, "matrix"))
        return;
    c->matrix = m;
    check_keys(v, m, NULL, "matrix");
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
            continue; /* a single value */
        }
        if (!expect_type(v, vals, Y_SEQ, "matrix parameter"))
            return;
        if (vals->n == 0) {
            ERR(v, vals, "matrix: '%s' needs at least one value", k->str);
            return;
        }
        for (size_t j = 0; j < vals->n; j++) {
            if (vals->vals[j]->type != Y_SCALAR) {
                ERR(v, vals->vals[j], "matrix: the values of '%s' must be scalars", k->str);
                return;
            }
            for (size_t q = 0; q < j; q++)
                if (strcmp(vals->vals[q]->str, vals->vals[j]->str) == 0) {
                    ERR(v, vals->vals[j], "matrix: '%s' lists '%s' twice", k->str,
                        vals->vals[j]->str);
                    return;
                }
        }
        combos *= vals->n;
        if (combos > 100000) {
            ERR(v, m, "matrix: more than 100000 combinations");
            return;
        }
    }
    size_t nbase = c->ncases ? c->ncases : 1;
    cfg_case *out = xcalloc(nbase * combos + 1, sizeof *out);
    size_t n = 0;
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
            if (strchr(cc->name, '/'))
                ERR(v, m, "matrix: case '%s' would contain '/'; use values without '/'", cc->name);
        }
    }
    free(c->cases);
    c->cases = out;
    c->ncases = n;
}

static const cfg_output *find_output(const config *c, const char *name)
{
    for (size_t i = 0; i < c->nstages; i++)
        for (size_t j = 0; j < c->stages[i].noutputs; j++)
            if (c->stages[i].outputs[j].name && strcmp(c->stages[i].outputs[j].name, name) == 0)
                return &c->stages[i].outputs[j];
    return NULL;
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

static void parse_plots(vctx *v, const ynode *ps)
{
    config *c = v->c;
    if (!ps || ps->is_null)
        return;
    if (!expect_type(v, ps, Y_SEQ, "plots"))
        return;
    c->plots = xcalloc(ps->n + 1, sizeof *c->plots);
    for (size_t i = 0; i < ps->n; i++) {
        const ynode *pn = ps->vals[i];
        if (!expect_type(v, pn, Y_MAP, "plots[]"))
            continue;
        check_keys(v, pn, plot_keys, "plot");
        cfg_plot *p = &c->plots[c->nplots++];
        p->node = pn;
        p->name = get_str(v, pn, "name", true, "plot");
        check_file_name(v, ynode_get(pn, "name"), "plot", p->name);
        for (size_t j = 0; p->name && j + 1 < c->nplots; j++)
            if (c->plots[j].name && strcmp(c->plots[j].name, p->name) == 0)
                ERR(v, ynode_get(pn, "name"), "duplicate plot name '%s'", p->name);
        p->title = get_str(v, pn, "title", false, "plot");
        p->source = get_str(v, pn, "source", true, "plot");
        p->type = get_enum(v, pn, "type", plot_types, "plot");
        if (!ynode_get(pn, "type"))
            ERR(v, pn, "plot '%s': missing required key 'type'", p->name ? p->name : "?");
        p->x = get_str(v, pn, "x", false, "plot");
        p->y = get_str(v, pn, "y", false, "plot");
        p->groupby = get_str(v, pn, "groupby", false, "plot");
        p->aggregation = get_enum(v, pn, "aggregation", aggregations, "plot");
        p->format = get_enum(v, pn, "format", plot_formats, "plot");
        if (!p->format)
            p->format = "png";
        p->engine = get_str(v, pn, "engine", false, "plot");
        p->export_path = get_str(v, pn, "export_path", false, "plot");
        p->options = ynode_get(pn, "options");
        if (p->options && p->options->is_null)
            p->options = NULL;
        if (p->options && expect_type(v, p->options, Y_MAP, "plot options"))
            check_keys(v, p->options, NULL, "plot options");
        if (p->type) {
            bool need_x = strcmp(p->type, "boxplot") != 0;
            bool need_y = strcmp(p->type, "time_series") == 0 || strcmp(p->type, "boxplot") == 0 ||
                          strcmp(p->type, "scatter") == 0;
            if (need_x && !p->x)
                ERR(v, pn, "plot '%s': a %s plot needs 'x'", p->name ? p->name : "?", p->type);
            if (need_y && !p->y)
                ERR(v, pn, "plot '%s': a %s plot needs 'y'", p->name ? p->name : "?", p->type);
        }
        const cfg_output *o = p->source ? find_output(c, p->source) : NULL;
        if (p->source && !o)
            ERR(v, ynode_get(pn, "source"), "plot '%s': source '%s' is not the name of any "
                                            "stage output", p->name ? p->name : "?", p->source);
        check_plot_column(v, p, o, "x", p->x);
        check_plot_column(v, p, o, "y", p->y);
        check_plot_column(v, p, o, "groupby", p->groupby);
    }
}

static void check_cross_refs(vctx *v)
{
    config *c = v->c;
    /* Output names are unique across all stages. */
    for (size_t i = 0; i < c->nstages; i++)
        for (size_t j = 0; j < c->stages[i].noutputs; j++) {
            const cfg_output *o = &c->stages[i].outputs[j];
            if (!o->name)
                continue;
            const cfg_output *first = find_output(c, o->name);
            if (first != o)
                ERR(v, ynode_get(o->node, "name"), "duplicate output name '%s' (first at line %d)",
                    o->name, first->node->line);
        }
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

/* ---- public ---------------------------------------------------------- */

config *config_load(const char *path, diag *d) { return config_load_in(path, NULL, d); }

config *config_load_in(const char *path, const char *base_dir, diag *d)
{
    d->file = path;
    config *c = xcalloc(1, sizeof *c);
    c->path = xstrdup(path);
    c->abs_path = abs_path(path);
    c->dir = base_dir ? xstrdup(base_dir) : dir_name(c->abs_path);
    c->text = read_file(path, &c->len);
    if (!c->text) {
        diag_error(d, 0, 0, "cannot read config file: %s%s", strerror(errno),
                   errno == ENOENT ? " (create one with `benchctl init`)" : "");
        config_free(c);
        return NULL;
    }
    c->tree = ytree_parse(c->text, c->len, d);
    if (!c->tree) {
        config_free(c);
        return NULL;
    }
    const ynode *root = ytree_root(c->tree);
    vctx v = {c, d};
    if (!root || root->is_null) {
        diag_error(d, 1, 1, "the config file is empty; it needs 'benchmark' and 'stages'");
        config_free(c);
        return NULL;
    }
    if (!expect_type(&v, root, Y_MAP, "the config file")) {
        config_free(c);
        return NULL;
    }
    check_keys(&v, root, top_keys, "the top level");
    parse_benchmark(&v, ynode_get(root, "benchmark"));
    parse_hosts(&v, ynode_get(root, "hosts"));
    parse_cases(&v, ynode_get(root, "cases"));
    parse_matrix(&v, ynode_get(root, "matrix"));
    parse_stage_list(&v, ynode_get(root, "stages"), "stages", false, &c->stages, &c->nstages);
    parse_stage_list(&v, ynode_get(root, "cleanup"), "cleanup", true, &c->cleanup, &c->ncleanup);
    parse_plots(&v, ynode_get(root, "plots"));
    check_cross_refs(&v);
    return c;
}

static void free_stages(cfg_stage *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(s[i].hosts);
        free(s[i].health);
        for (size_t j = 0; j < s[i].noutputs; j++) {
            for (size_t k = 0; k < s[i].outputs[j].ncolumns; k++)
                free(s[i].outputs[j].columns[k].success_values);
            free(s[i].outputs[j].columns);
        }
        free(s[i].outputs);
    }
    free(s);
}

void config_free(config *c)
{
    if (!c)
        return;
    free_stages(c->stages, c->nstages);
    free_stages(c->cleanup, c->ncleanup);
    free(c->hosts);
    for (size_t i = 0; i < c->ncases; i++) {
        sv_free(&c->cases[i].params);
        free(c->cases[i].owned_name);
    }
    free(c->cases);
    free(c->plots);
    free(c->secrets);
    sv_free(&c->shell);
    sv_free(&c->plugin_paths);
    ytree_free(c->tree);
    free(c->output_dir);
    free(c->text);
    free(c->dir);
    free(c->abs_path);
    free(c->path);
    free(c);
}

bool config_case_matches(const cfg_case *cs, const char *name)
{
    return (cs->name && strcmp(cs->name, name) == 0) || (cs->base && strcmp(cs->base, name) == 0);
}

cfg_host *config_host(config *c, const char *alias)
{
    for (size_t i = 0; i < c->nhosts; i++)
        if (strcmp(c->hosts[i].alias, alias) == 0)
            return &c->hosts[i];
    return NULL;
}

void config_add_secret(config *c, const ynode *n)
{
    if (!n || n->type != Y_SCALAR || n->is_null)
        return;
    for (size_t i = 0; i < c->nsecrets; i++)
        if (c->secrets[i].start == n->start)
            return;
    c->secrets = xrealloc(c->secrets, (c->nsecrets + 1) * sizeof *c->secrets);
    c->secrets[c->nsecrets++] = (cfg_range){n->start, n->end};
}

static int cmp_range(const void *a, const void *b)
{
    const cfg_range *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

char *config_redacted_text(const config *c, size_t *len)
{
    cfg_range *r = xmalloc((c->nsecrets + 1) * sizeof *r);
    for (size_t i = 0; i < c->nsecrets; i++)
        r[i] = c->secrets[i];
    qsort(r, c->nsecrets, sizeof *r, cmp_range);
    strbuf sb = {0};
    size_t pos = 0;
    for (size_t i = 0; i < c->nsecrets; i++) {
        if (r[i].start < pos || r[i].end > c->len)
            continue;
        sb_add(&sb, c->text + pos, r[i].start - pos);
        sb_puts(&sb, "\"<redacted>\"");
        pos = r[i].end;
    }
    sb_add(&sb, c->text + pos, c->len - pos);
    free(r);
    *len = sb.len;
    return sb_steal(&sb);
}
