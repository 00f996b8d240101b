/* The benchmark configuration: parsing and validation of the core's keys. */
#define _GNU_SOURCE
#include "config/config.h"
#include "config/keys.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/parse.h"
#include "util/log.h"

/* ---- key tables ------------------------------------------------------ */

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};

static const cfg_key top_keys[] = {OTHER("benchmark"), OTHER("hosts"), OTHER("stages"),
                                   OTHER("plots"), OTHER("cases"), OTHER("matrix"),
                                   OTHER("cleanup"), OTHER("publish"), END};
static const cfg_key bench_keys[] = {
    {.name = "name", .type = KEY_STR, .offset = KEY_AT(config, name), .flags = KEY_REQUIRED},
    OTHER("output_dir"), OTHER("shell"), OTHER("logging"), OTHER("git"), OTHER("plugin_paths"), OTHER("sync"),
    {.name = "report", .type = KEY_BOOL, .offset = KEY_AT(config, report), .dflt = 1},
    STR("concurrency_param", config, concurrency_param),
    OTHER("monitor"), OTHER("limits"), END};
static const cfg_key logging_keys[] = {ENUM("level", config, log_level, log_levels),
                                       STR("path", config, log_path),
                                       STR("time_format", config, log_time_format),
                                       {.name = "max_stage_log", .type = KEY_SIZE,
                                        .offset = KEY_AT(config, log_stage_max),
                                        .dflt = CONFIG_STAGE_LOG_MAX, .lo = 1,
                                        .hi = INT64_MAX / 2},
                                       END};
static const cfg_key git_keys[] = {
    {.name = "capture", .type = KEY_BOOL, .offset = KEY_AT(config, git_capture), .dflt = 1},
    BOOL("require_clean", config, git_require_clean), BOOL("save_patch", config, git_save_patch),
    END};
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

char *config_resolve_path(const config *c, const char *rel, bool *from_cwd)
{
    *from_cwd = false;
    if (rel[0] == '/')
        return xstrdup(rel);
    char *p = path_join(c->dir, rel);
    struct stat sb;
    if (stat(p, &sb) == 0 || stat(rel, &sb) != 0)
        return p;
    char *cwd = getcwd(NULL, 0);
    if (!cwd)
        return p;
    free(p);
    *from_cwd = true;
    p = path_join(cwd, rel);
    free(cwd);
    return p;
}

static const cfg_key sync_keys[] = {
    {.name = "remote", .type = KEY_STR, .offset = KEY_AT(config, sync_remote),
     .flags = KEY_REQUIRED},
    OTHER("args"), END};

/* benchmark.sync (v0.3.4): where `benchctl sync push` copies the runs. */
static void parse_sync(vctx *v, const ynode *b)
{
    config *c = v->c;
    const ynode *s = ynode_get(b, "sync");
    if (!s || s->is_null || !cfg_expect_type(v, s, Y_MAP, "benchmark.sync"))
        return;
    cfg_check_keys(v, s, sync_keys, "benchmark.sync");
    keys_bind(v->d, s, sync_keys, c, "benchmark.sync");
    const ynode *a = ynode_get(s, "args");
    if (!a || a->is_null)
        return;
    if (a->type == Y_SCALAR) {
        sv_push(&c->sync_args, a->str);
    } else if (cfg_expect_type(v, a, Y_SEQ, "benchmark.sync.args")) {
        for (size_t i = 0; i < a->n; i++)
            if (cfg_expect_type(v, a->vals[i], Y_SCALAR, "benchmark.sync.args[]"))
                sv_push(&c->sync_args, a->vals[i]->str);
    }
}

static void default_shell(strvec *out)
{
    /* Quiet default: the Go tool's `bash -lic` prints job-control noise
     * without a terminal and reads the user's profile; `bash -c` does not.
     * A command fails at its first failing command or pipeline element, as
     * CI systems run theirs (`sh` has no pipefail). */
    if (access("/bin/bash", X_OK) == 0 || access("/usr/bin/bash", X_OK) == 0) {
        sv_push(out, "bash");
        sv_push(out, "-e");
        sv_push(out, "-o");
        sv_push(out, "pipefail");
    } else {
        sv_push(out, "sh");
        sv_push(out, "-e");
    }
    sv_push(out, "-c");
}

/* One plugin_paths entry: a missing one is a warning at its position (a
 * typo would otherwise only show later as a missing plugin); one that is
 * not a directory is an error. */
static void add_plugin_path(vctx *v, const ynode *n)
{
    char *p = path_join(v->c->dir, n->str);
    struct stat sb;
    if (stat(p, &sb) != 0)
        WARN(v, n, "benchmark.plugin_paths: %s: %s (no plugins from it)", p, strerror(errno));
    else if (!S_ISDIR(sb.st_mode))
        ERR(v, n, "benchmark.plugin_paths: %s is not a directory", p);
    sv_push_owned(&v->c->plugin_paths, p);
}

static void parse_benchmark(vctx *v, const ynode *b)
{
    config *c = v->c;
    if (!b) {
        diag_error(v->d, 1, 1, "missing required section 'benchmark'");
        return;
    }
    if (!cfg_expect_type(v, b, Y_MAP, "benchmark"))
        return;
    cfg_check_keys(v, b, bench_keys, "benchmark");
    keys_bind(v->d, b, bench_keys, c, "benchmark");
    const char *out = cfg_get_str(v, b, "output_dir", true, "benchmark");
    c->output_dir_node = ynode_get(b, "output_dir");
    if (out)
        c->output_dir = out[0] == '/' ? xstrdup(out) : path_join(c->dir, out);
    const char *shell = cfg_get_str(v, b, "shell", false, "benchmark");
    if (shell)
        config_split_words(shell, &c->shell);
    if (shell && c->shell.n == 0)
        ERR(v, ynode_get(b, "shell"), "benchmark.shell must name a shell, e.g. 'bash -c'");
    if (c->shell.n == 0) {
        default_shell(&c->shell);
        /* Helper commands (probes, collectors) are written for a plain
         * shell: a failing test inside them is data, not an error. */
        sv_push(&c->helper_shell, c->shell.v[0]);
        sv_push(&c->helper_shell, "-c");
    } else {
        for (size_t i = 0; i < c->shell.n; i++)
            sv_push(&c->helper_shell, c->shell.v[i]);
    }

    c->log_stage_max = CONFIG_STAGE_LOG_MAX;
    const ynode *lg = ynode_get(b, "logging");
    if (lg && !lg->is_null && cfg_expect_type(v, lg, Y_MAP, "benchmark.logging")) {
        cfg_check_keys(v, lg, logging_keys, "benchmark.logging");
        keys_bind(v->d, lg, logging_keys, c, "benchmark.logging");
        /* checked here, applied by the run */
        if (c->log_time_format && !log_set_time_format(c->log_time_format))
            ERR(v, ynode_get(lg, "time_format"), "benchmark.logging.time_format: '%s' has no "
                "time field (a Go layout such as '2006-01-02 15:04:05.000', or RFC3339)",
                c->log_time_format);
        log_set_time_format(NULL);
    }
    const ynode *g = ynode_get(b, "git");
    if (g && !g->is_null && cfg_expect_type(v, g, Y_MAP, "benchmark.git"))
        cfg_check_keys(v, g, git_keys, "benchmark.git");
    else
        g = NULL;
    keys_bind(v->d, g, git_keys, c, "benchmark.git"); /* defaults without the section */
    parse_sync(v, b);
    cfg_parse_monitor(v, b);
    cfg_parse_limits(v, ynode_get(b, "limits"), NULL, &c->limits, "benchmark");
    const ynode *pp = ynode_get(b, "plugin_paths");
    if (pp && !pp->is_null) {
        if (pp->type == Y_SCALAR) {
            add_plugin_path(v, pp);
        } else if (cfg_expect_type(v, pp, Y_SEQ, "benchmark.plugin_paths")) {
            for (size_t i = 0; i < pp->n; i++)
                if (cfg_expect_type(v, pp->vals[i], Y_SCALAR, "benchmark.plugin_paths[]"))
                    add_plugin_path(v, pp->vals[i]);
        }
    }
    /* output_dir is made by the run; one that exists must be a directory. */
    struct stat od;
    if (c->output_dir && stat(c->output_dir, &od) == 0 && !S_ISDIR(od.st_mode))
        ERR(v, c->output_dir_node, "benchmark.output_dir: %s exists and is not a directory",
            c->output_dir);
}

static void parse_hosts(vctx *v, const ynode *h)
{
    config *c = v->c;
    size_t n = (h && h->type == Y_MAP) ? h->n : 0;
    c->hosts = xcalloc(n + 1, sizeof *c->hosts);
    if (h && !h->is_null && cfg_expect_type(v, h, Y_MAP, "hosts")) {
        cfg_check_keys(v, h, NULL, "hosts");
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
            } else if (!cfg_expect_type(v, hv, Y_MAP, what)) {
                host->node = NULL;
            }
            cfg_check_keys(v, host->node, NULL, what); /* duplicates; keys: bind.c */
            host->ip = cfg_get_str(v, host->node, "ip", false, what);
            if (host->ip && !*host->ip)
                host->ip = NULL;
            host->transport = cfg_get_str(v, host->node, "transport", false, what);
            /* The Go tool's one rule for the transport.  Its connection keys
             * (port, username, key_file, ...) belong to the transport's
             * option schema (bind.c), which checks them. */
            if (!host->transport)
                host->transport = host->ip ? "ssh" : "local";
            /* The Go tool's secret keys are redacted whatever the transport
             * (one that ignores them too). */
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

/* ---- public ---------------------------------------------------------- */

config *config_load(const char *path, diag *d) { return config_load_in(path, NULL, d); }

config *config_load_in(const char *path, const char *base_dir, diag *d)
{
    d->file = path;
    config *c = xcalloc(1, sizeof *c);
    c->path = xstrdup(path);
    c->abs_path = abs_path(path);
    c->dir = base_dir ? xstrdup(base_dir) : dir_name(c->abs_path);
    char *why = NULL;
    errno = 0;
    c->text = read_regular_file(path, CONFIG_MAX_BYTES, &c->len, &why);
    if (!c->text) {
        diag_error(d, 0, 0, "cannot read config file: %s%s", why,
                   errno == ENOENT ? " (create one with `benchctl init`)" : "");
        free(why);
        config_free(c);
        return NULL;
    }
    diag_set_source(d, c->text, c->len);
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
    if (!cfg_expect_type(&v, root, Y_MAP, "the config file")) {
        config_free(c);
        return NULL;
    }
    cfg_check_keys(&v, root, top_keys, "the top level");
    cfg_parse_limits(&v, NULL, NULL, &c->limits, "benchmark"); /* none, unless given */
    parse_benchmark(&v, ynode_get(root, "benchmark"));
    parse_hosts(&v, ynode_get(root, "hosts"));
    cfg_check_monitor_hosts(&v);
    cfg_parse_cases(&v, ynode_get(root, "cases"));
    cfg_parse_matrix(&v, ynode_get(root, "matrix"));
    cfg_parse_stage_list(&v, ynode_get(root, "stages"), "stages", false, &c->stages, &c->nstages);
    cfg_parse_stage_list(&v, ynode_get(root, "cleanup"), "cleanup", true, &c->cleanup, &c->ncleanup);
    cfg_parse_plots(&v, ynode_get(root, "plots"));
    cfg_parse_publish(&v, ynode_get(root, "publish"));
    cfg_check_cross_refs(&v);
    return c;
}

static void free_stages(cfg_stage *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(s[i].hosts);
        free(s[i].monitor_hosts);
        free(s[i].profile);
        free(s[i].health);
        for (size_t j = 0; j < s[i].noutputs; j++) {
            for (size_t k = 0; k < s[i].outputs[j].ncolumns; k++) {
                free(s[i].outputs[j].columns[k].success_values);
                free(s[i].outputs[j].columns[k].thresholds);
            }
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
    free(c->monitor.hosts);
    for (size_t i = 0; i < c->ncases; i++) {
        sv_free(&c->cases[i].params);
        free(c->cases[i].owned_name);
    }
    free(c->cases);
    free(c->plots);
    ytree_free(c->plots_tree);
    free(c->plots_text);
    free(c->plots_dir);
    free(c->secrets);
    sv_free(&c->shell);
    sv_free(&c->helper_shell);
    sv_free(&c->sync_args);
    sv_free(&c->plugin_paths);
    sv_free(&c->owned_strs);
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


