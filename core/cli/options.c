/*
 * The one option parser of every command (cli_parse): getopt_long's arrays
 * are built from the command's row of the table (commands.c), so what is
 * parsed is what the help shows.  Also what the run-store commands share:
 * where the runs are (-c FILE | -o DIR) and which run an ID or tag names.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/log.h"
#include "util/term.h"
#include "config/config.h"
#include "run/engine.h"
#include "store/runstore.h"

/* getopt_long's value of an option without a letter: OPT_BASE + its row. */
#define OPT_BASE 256
/* getopt_long's value of --color (every command has it; below OPT_BASE). */
#define OPT_COLOR 200

int cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "benchctl %s: ", command);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry `benchctl %s --help`.\n", command);
    va_end(ap);
    return EXIT_USAGE;
}

int cli_check_kv(const char *command, const char *flag, const char *kv, int env_name)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv)
        return cli_usage_error(command, "%s expects KEY=VALUE, got '%s'", flag, kv);
    if (env_name) {
        bool ok = !isdigit((unsigned char)kv[0]);
        for (const char *p = kv; p < eq; p++)
            ok = ok && (isalnum((unsigned char)*p) || *p == '_');
        if (!ok)
            return cli_usage_error(command, "%s: '%.*s' is not a valid environment variable name",
                                   flag, (int)(eq - kv), kv);
    }
    return 0;
}

void cli_args_free(cli_args *a)
{
    sv_free(&a->metadata);
    sv_free(&a->env);
    sv_free(&a->skip);
    sv_free(&a->only_cases);
    sv_free(&a->plugin_paths);
}

/* The row of the option getopt_long returned as val, or NULL. */
static const cli_option *by_val(const cli_command *c, int val)
{
    for (size_t i = 0; c->options && c->options[i].name; i++)
        if (val == (c->options[i].letter ? c->options[i].letter : OPT_BASE + (int)i))
            return &c->options[i];
    return NULL;
}

/* What getopt_long refused: an unknown option, or a value given to an
 * option without one (--json=1). */
static int bad_option(const cli_command *c, char **argv)
{
    /* optopt is the bad letter of a short option (maybe in a cluster such
     * as -zq), or the value of a known long option that was given a value;
     * for an unknown long option it is 0 and argv[optind - 1] is it. */
    const cli_option *o = optopt ? by_val(c, optopt) : NULL;
    if (o || optopt == 'h')
        return cli_usage_error(c->name, "option --%s does not take a value", o ? o->name : "help");
    if (optopt && optopt != '?' && optopt < OPT_BASE)
        return cli_usage_error(c->name, "unknown option '-%c'", optopt);
    /* --jsno: did you mean --json? */
    const char *bad = argv[optind - 1], *names[64];
    size_t k = 0;
    for (size_t i = 0; c->options && c->options[i].name && k + 4 < 64; i++)
        names[k++] = c->options[i].name;
    names[k++] = "help";
    names[k++] = "verbose";
    names[k++] = "color";
    names[k] = NULL;
    char *word = xstrndup(bad + strspn(bad, "-"), strcspn(bad + strspn(bad, "-"), "="));
    const char *near = strncmp(bad, "--", 2) == 0 ? suggest_name(word, names) : NULL;
    free(word);
    if (near)
        return cli_usage_error(c->name, "unknown option '%s'; did you mean '--%s'?", bad, near);
    return cli_usage_error(c->name, "unknown option '%s'", bad);
}

static int take(const cli_command *c, const cli_option *o, const char *value, cli_args *a)
{
    void *field = (char *)a + o->offset;
    if (o->take)
        return o->take(c->name, o, value, field);
    switch (o->kind) {
    case CLI_FLAG:
        *(bool *)field = true;
        break;
    case CLI_VALUE:
        *(const char **)field = value;
        break;
    case CLI_VALUES:
        sv_push((strvec *)field, value);
        break;
    }
    return 0;
}

/* Two options of one exclusive group both given: the usage error. */
static int check_exclusive(const cli_command *c, const bool *given, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n && given[i]; j++)
            if (given[j] && c->options[i].exclusive &&
                c->options[i].exclusive == c->options[j].exclusive)
                return cli_usage_error(c->name, "give --%s or --%s, not both",
                                       c->options[i].name, c->options[j].name);
    return -1;
}

int cli_parse(int argc, char **argv, cli_args *a)
{
    const cli_command *c = cli_find(argv[0]);
    if (!c) { /* a command function outside the table: a bug of benchctl */
        fprintf(stderr, "benchctl: internal error: no option table for '%s'\n", argv[0]);
        abort();
    }
    size_t n = 0;
    while (c->options && c->options[n].name)
        n++;
    struct option *lo = xcalloc(n + 4, sizeof *lo);
    char *shorts = xcalloc(2 * n + 5, 1), *sp = shorts;
    bool *given = xcalloc(n + 1, sizeof *given);
    *sp++ = ':'; /* a missing value is ':', not '?' */
    for (size_t i = 0; i < n; i++) {
        const cli_option *o = &c->options[i];
        lo[i] = (struct option){o->name, o->kind == CLI_FLAG ? no_argument : required_argument,
                                NULL, o->letter ? o->letter : OPT_BASE + (int)i};
        if (o->letter) {
            *sp++ = o->letter;
            if (o->kind != CLI_FLAG)
                *sp++ = ':';
        }
    }
    lo[n] = (struct option){"help", no_argument, NULL, 'h'};
    lo[n + 1] = (struct option){"verbose", no_argument, NULL, 'v'};
    lo[n + 2] = (struct option){"color", required_argument, NULL, OPT_COLOR};
    *sp++ = 'h';
    *sp = 'v';
    int code = -1, ch;
    optind = 0;
    opterr = 0;
    while (code < 0 && (ch = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
        const cli_option *o = by_val(c, ch);
        if (ch == 'v') { /* every command: the Go tool's -v, debug messages */
            a->log_level = "debug";
            log_set_level(BC_LOG_DEBUG);
        } else if (ch == OPT_COLOR) { /* every command: --color=auto|always|never */
            term_color_mode m;
            if (term_color_parse(optarg, &m))
                term_set_color(m);
            else
                code = cli_usage_error(c->name, "--color: '%s' is not one of auto, always, never",
                                       optarg);
        } else if (ch == 'h') {
            cli_print_help(c->name);
            code = EXIT_OK;
        } else if (ch == ':') {
            code = cli_usage_error(c->name, "option %s needs a value", argv[optind - 1]);
        } else if (!o) {
            code = bad_option(c, argv);
        } else {
            given[o - c->options] = true;
            int r = take(c, o, optarg, a);
            code = r ? r : -1;
        }
    }
    if (code < 0)
        code = check_exclusive(c, given, n);
    /* As in the Go tool, $BENCHCTL_CONFIG_PATH (which a run exports to its
     * stages) names the config of the store commands when -c is not given:
     * `benchctl annotate "$BENCHCTL_RUN_ID" -m k=v` in a stage finds the
     * run's store whatever the config's name.  Never for run or validate:
     * a stage's `benchctl run` would run its own run again. */
    static const char *const store_cmds[] = {"inspect", "list", "edit",  "annotate",
                                             "compare", "stats", "tag", NULL};
    const char *env_config = getenv("BENCHCTL_CONFIG_PATH");
    bool store_cmd = false;
    for (size_t i = 0; store_cmds[i]; i++)
        store_cmd = store_cmd || strcmp(argv[0], store_cmds[i]) == 0;
    if (code < 0 && store_cmd && !a->config && !a->output_dir && env_config && *env_config)
        a->config = env_config;
    int nargs = argc - optind;
    if (code < 0 && nargs < c->min_args)
        code = cli_usage_error(c->name, "%s", c->missing ? c->missing : "missing argument");
    if (code < 0 && c->max_args >= 0 && nargs > c->max_args)
        code = cli_usage_error(c->name, "unexpected argument '%s'", argv[optind + c->max_args]);
    free(given);
    free(shorts);
    free(lo);
    if (code >= 0)
        cli_args_free(a);
    return code;
}

/* --output-dir, or the config's benchmark.output_dir.  Returns an owned
 * path or NULL (message printed). */
static char *output_dir(const char *command, const char *config_path, const char *output_dir)
{
    if (output_dir)
        return abs_path(output_dir);
    if (strcmp(config_path, "benchmark.yaml") == 0 && access(config_path, F_OK) != 0) {
        /* Nothing given and no config here: one line, what to give. */
        fprintf(stderr, "benchctl %s: where are the runs? No benchmark.yaml in this directory: "
                        "give -o DIR (the runs' directory), or -c FILE (a config whose "
                        "benchmark.output_dir holds them)\n", command);
        return NULL;
    }
    diag d = {0};
    config *c = config_load(config_path, &d);
    char *dir = NULL;
    if (c && c->output_dir) {
        dir = xstrdup(c->output_dir);
    } else {
        diag_print(&d, stderr);
        fprintf(stderr, "benchctl %s: cannot find the runs: give -o DIR, or -c FILE for a config "
                        "with benchmark.output_dir\n", command);
    }
    config_free(c);
    diag_free(&d);
    return dir;
}

char *cli_resolve_run(const char *command, const char *output_dir, const char *id_or_tag)
{
    char *id = NULL, *err = NULL;
    if (!runstore_resolve(output_dir, id_or_tag, &id, &err)) {
        fprintf(stderr, "benchctl %s: %s\n", command, err);
        free(err);
        return NULL;
    }
    return id;
}

char *cli_store(const char *command, const cli_args *a, size_t n, char *const *refs, char **ids)
{
    for (size_t i = 0; i < n; i++)
        ids[i] = NULL;
    char *out = output_dir(command, a->config ? a->config : "benchmark.yaml", a->output_dir);
    if (!out)
        return NULL;
    bool ok = true;
    for (size_t i = 0; i < n; i++) /* every ID or tag, each problem reported */
        if (!(ids[i] = cli_resolve_run(command, out, refs[i])))
            ok = false;
    if (ok)
        return out;
    for (size_t i = 0; i < n; i++) {
        free(ids[i]);
        ids[i] = NULL;
    }
    free(out);
    return NULL;
}
