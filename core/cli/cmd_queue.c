/*
 * The queue's client commands: submit, queue, cancel.  Each connects to
 * the daemon's socket, sends one request (core/daemon/proto.h) and prints
 * the reply; `submit --wait` and `queue --follow` then read events.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "daemon/proto.h"
#include "run/engine.h"
#include "util/jsonget.h"

extern char **environ;

/* A connection and its line reader. */
typedef struct conn {
    int fd;
    proto_reader in;
    const char *command;
} conn;

static bool conn_open(conn *c, const char *command, const char *socket)
{
    char *path = proto_socket_path(socket), *err = NULL;
    c->command = command;
    memset(&c->in, 0, sizeof c->in);
    c->in.max = PROTO_MAX_REPLY;
    c->fd = proto_connect(path, &err);
    free(path);
    if (c->fd < 0) {
        fprintf(stderr, "benchctl %s: %s\n", command, err);
        free(err);
        return false;
    }
    return true;
}

static void conn_close(conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    proto_reader_free(&c->in);
}

/* The next message, or NULL after reporting a lost connection. */
static cJSON *conn_next(conn *c)
{
    for (;;) {
        char *line = NULL;
        proto_read_result r = proto_read_line(&c->in, c->fd, &line);
        if (r == PROTO_LINE) {
            cJSON *m = cJSON_Parse(line);
            free(line);
            if (cJSON_IsObject(m))
                return m;
            cJSON_Delete(m);
            fprintf(stderr, "benchctl %s: the daemon sent something that is not a JSON object\n",
                    c->command);
            return NULL;
        }
        if (r == PROTO_TOO_LONG) {
            fprintf(stderr, "benchctl %s: the daemon's reply is longer than %u bytes\n",
                    c->command, PROTO_MAX_REPLY);
            return NULL;
        }
        if (r == PROTO_ERROR && errno == EINTR)
            continue;
        fprintf(stderr, "benchctl %s: the connection to the daemon was lost\n", c->command);
        return NULL;
    }
}

/* Send req (freed) and read the reply: NULL (reported; *code set) unless
 * it says ok. */
static cJSON *request(conn *c, cJSON *req, int *code)
{
    bool sent = proto_send(c->fd, req);
    cJSON_Delete(req);
    if (!sent) {
        fprintf(stderr, "benchctl %s: cannot send to the daemon: %s\n", c->command,
                strerror(errno));
        *code = EXIT_RUN_FAILED;
        return NULL;
    }
    cJSON *m = conn_next(c);
    if (!m) {
        *code = EXIT_RUN_FAILED;
        return NULL;
    }
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "ok"))) {
        const char *e = jstr(m, "error");
        fprintf(stderr, "benchctl %s: %s\n", c->command, e ? e : "the daemon refused the request");
        cJSON_Delete(m);
        *code = EXIT_USAGE;
        return NULL;
    }
    return m;
}

static cJSON *new_request(const char *op)
{
    cJSON *r = proto_msg();
    cJSON_AddStringToObject(r, "op", op);
    return r;
}

/* ---- submit ------------------------------------------------------------------ */

static bool int_opt(const char *command, const char *flag, const char *v, int64_t lo, int64_t hi,
                    int64_t *out)
{
    if (!v)
        return true;
    if (!parse_int64(v, out) || *out < lo || *out > hi) {
        cli_usage_error(command, "%s '%s': give a whole number from %lld to %lld", flag, v,
                        (long long)lo, (long long)hi);
        return false;
    }
    return true;
}

static void add_words(cJSON *o, const char *key, const strvec *sv)
{
    cJSON *a = cJSON_AddArrayToObject(o, key);
    for (size_t i = 0; i < sv->n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(sv->v[i]));
}

/* The run options of a config task, as `benchctl run` arguments. */
static void run_args(const cli_args *a, strvec *args)
{
    for (size_t i = 0; i < a->metadata.n; i++)
        sv_push_owned(args, xasprintf("--metadata=%s", a->metadata.v[i]));
    for (size_t i = 0; i < a->env.n; i++)
        sv_push_owned(args, xasprintf("--environment=%s", a->env.v[i]));
    for (size_t i = 0; i < a->skip.n; i++)
        sv_push_owned(args, xasprintf("--skip=%s", a->skip.v[i]));
    for (size_t i = 0; i < a->only_cases.n; i++)
        sv_push_owned(args, xasprintf("--case=%s", a->only_cases.v[i]));
    for (size_t i = 0; i < a->plugin_paths.n; i++) {
        char *p = abs_path(a->plugin_paths.v[i]);
        sv_push_owned(args, xasprintf("--plugin-path=%s", p));
        free(p);
    }
    if (a->timeout_ms > 0)
        sv_push_owned(args, xasprintf("--timeout=%lldms", (long long)a->timeout_ms));
    if (a->max_nodes > 0)
        sv_push_owned(args, xasprintf("--nodes=%lld", (long long)a->max_nodes));
    if (a->monitor)
        sv_push(args, "--monitor");
    if (a->log_level)
        sv_push_owned(args, xasprintf("--log-level=%s", a->log_level));
    if (a->no_report)
        sv_push(args, "--no-report");
}

/* The exit code of `submit --wait` for a finished task. */
static int task_exit(const cJSON *t)
{
    const char *state = jstr(t, "state");
    double code = jnum(t, "exit_code");
    if (!state)
        return EXIT_RUN_FAILED;
    if (strcmp(state, "succeeded") == 0)
        return EXIT_OK;
    if (strcmp(state, "cancelled") == 0 || strcmp(state, "interrupted") == 0)
        return EXIT_INTERRUPTED;
    /* the run's own code; 126/127 are the task's child failing to start */
    if (strcmp(state, "failed") == 0 && code >= 1 && code <= 255 && code != 126 && code != 127)
        return (int)code;
    return EXIT_RUN_FAILED;
}

static void print_end(const cJSON *t)
{
    const char *reason = jstr(t, "reason"), *run_dir = jstr(t, "run_dir");
    printf("task %.0f %s%s%s\n", jnum(t, "id"), jstr(t, "state") ? jstr(t, "state") : "?",
           reason ? ": " : "", reason ? reason : "");
    if (run_dir)
        printf("Results saved to: %s\n", run_dir);
}

/* Read events of the submitted task until it ends. */
static int wait_task(conn *c)
{
    for (;;) {
        cJSON *m = conn_next(c);
        if (!m)
            return EXIT_RUN_FAILED;
        const char *event = jstr(m, "event");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "task");
        if (event && strcmp(event, "started") == 0) {
            fprintf(stderr, "benchctl submit: task %.0f started on CPUs %s\n", jnum(t, "id"),
                    jstr(t, "cpu_list") ? jstr(t, "cpu_list") : "?");
        } else if (event && strcmp(event, "finished") == 0) {
            print_end(t);
            int code = task_exit(t);
            cJSON_Delete(m);
            return code;
        }
        cJSON_Delete(m);
    }
}

int cmd_submit(int argc, char **argv)
{
    /* The words after "--" are the command; getopt must not see them. */
    int dash = argc;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--") == 0) {
            dash = i;
            break;
        }
    cli_args a = {0};
    int code = cli_parse(dash, argv, &a);
    if (code >= 0)
        return code;
    int64_t priority = 0, group = 0, cpus = 1, memory = 0, walltime = 0;
    bool command = dash < argc;
    if (optind < dash)
        code = cli_usage_error("submit", "unexpected argument '%s' (a command goes after --: "
                                         "benchctl submit -- COMMAND...)", argv[optind]);
    else if (command && a.config)
        code = cli_usage_error("submit", "give -c FILE or -- COMMAND, not both");
    else if (command && dash + 1 >= argc)
        code = cli_usage_error("submit", "no command after --");
    else if (!command && !a.config)
        code = cli_usage_error("submit", "nothing to run: give -c FILE (a config) or "
                                         "-- COMMAND...");
    else if (!int_opt("submit", "--priority", a.priority, -1000000000, 1000000000, &priority) ||
             !int_opt("submit", "--group", a.group, -1000000000, 1000000000, &group) ||
             !int_opt("submit", "--cpus", a.cpus, 1, 1024, &cpus))
        code = EXIT_USAGE;
    else if (a.memory && (!parse_size(a.memory, &memory) || memory < 0))
        code = cli_usage_error("submit", "--memory '%s' is not a size (e.g. 512M, 2G)", a.memory);
    else if (a.walltime && (!parse_duration_ns(a.walltime, &walltime) || walltime <= 0))
        code = cli_usage_error("submit", "--walltime '%s' is not a positive duration (e.g. 90s, "
                                         "10m, 2h)", a.walltime);
    if (code >= 0) {
        cli_args_free(&a);
        return code;
    }
    if (command && (a.metadata.n || a.env.n || a.skip.n || a.only_cases.n || a.timeout_ms ||
                    a.max_nodes || a.monitor || a.log_level || a.no_report)) {
        cli_args_free(&a);
        return cli_usage_error("submit", "run options go with -c FILE; a command task is a "
                                         "one-stage run (use --walltime to bound it)");
    }
    cJSON *req = new_request("submit");
    if (a.wait)
        cJSON_AddTrueToObject(req, "wait");
    cJSON *t = cJSON_AddObjectToObject(req, "task");
    cJSON_AddStringToObject(t, "kind", command ? "command" : "config");
    char *cwd = getcwd(NULL, 0);
    cJSON_AddStringToObject(t, "cwd", cwd ? cwd : "/");
    free(cwd);
    if (command) {
        strvec words = {0};
        for (int i = dash + 1; i < argc; i++)
            sv_push(&words, argv[i]);
        add_words(t, "argv", &words);
        sv_free(&words);
        char *out = abs_path(a.output_dir ? a.output_dir : "runs");
        cJSON_AddStringToObject(t, "output_dir", out);
        free(out);
    } else {
        char *cfg = abs_path(a.config);
        cJSON_AddStringToObject(t, "config", cfg);
        free(cfg);
        strvec args = {0};
        run_args(&a, &args);
        add_words(t, "args", &args);
        sv_free(&args);
    }
    strvec env = {0};
    for (char **e = environ; e && *e; e++)
        if (strchr(*e, '=') && **e != '=')
            sv_push(&env, *e);
    add_words(t, "env", &env);
    sv_free(&env);
    cJSON_AddNumberToObject(t, "priority", (double)priority);
    cJSON_AddNumberToObject(t, "group", (double)group);
    cJSON_AddNumberToObject(t, "cpus", (double)cpus);
    cJSON_AddNumberToObject(t, "memory", (double)memory);
    cJSON_AddNumberToObject(t, "walltime_ms", (double)((walltime + 999999) / 1000000));
    if (a.name)
        cJSON_AddStringToObject(t, "name", a.name);
    conn c;
    if (!conn_open(&c, "submit", a.socket)) {
        cJSON_Delete(req);
        cli_args_free(&a);
        return EXIT_RUN_FAILED;
    }
    cJSON *m = request(&c, req, &code);
    if (m) {
        printf("%.0f\n", jnum(m, "id"));
        fflush(stdout);
        cJSON_Delete(m);
        code = a.wait ? wait_task(&c) : EXIT_OK;
    }
    conn_close(&c);
    cli_args_free(&a);
    return code;
}

/* ---- queue --------------------------------------------------------------------- */

static void human_size(double bytes, char *buf, size_t size)
{
    static const char *const units[] = {"", "K", "M", "G", "T"};
    size_t u = 0;
    while (bytes >= 1024 && u + 1 < ARRAY_LEN(units)) {
        bytes /= 1024;
        u++;
    }
    snprintf(buf, size, u ? "%.1f%s" : "%.0f%s", bytes, units[u]);
}

static void print_task_row(const cJSON *t)
{
    char mem[32], wall[32];
    human_size(jnum(t, "memory"), mem, sizeof mem);
    double w = jnum(t, "walltime_ms");
    if (w > 0)
        snprintf(wall, sizeof wall, "%.0fs", w / 1000);
    else
        snprintf(wall, sizeof wall, "-");
    const char *name = jstr(t, "name");
    const char *what = jstr(t, "kind") && strcmp(jstr(t, "kind"), "command") == 0
                           ? jstr(t, "command") : jstr(t, "config");
    printf("%-6.0f %-11s %-10s %5.0f %5.0f %4.0f %7s %8s %8.1fs %-7s %s%s%s\n", jnum(t, "id"),
           jstr(t, "state") ? jstr(t, "state") : "?", jstr(t, "user") ? jstr(t, "user") : "?",
           jnum(t, "group"), jnum(t, "priority"), jnum(t, "cpus"), mem, wall, jnum(t, "waiting_s"),
           jstr(t, "cpu_list") ? jstr(t, "cpu_list") : "-", name ? name : "", name ? ": " : "",
           what ? what : "");
}

static void print_queue(const cJSON *q)
{
    const cJSON *cpus = cJSON_GetObjectItemCaseSensitive(q, "cpus");
    const cJSON *mem = cJSON_GetObjectItemCaseSensitive(q, "memory");
    char total[32], freem[32];
    human_size(jnum(mem, "total"), total, sizeof total);
    human_size(jnum(mem, "free"), freem, sizeof freem);
    printf("CPUs %s: %.0f of %.0f free; memory %s of %s free\n",
           jstr(cpus, "list") ? jstr(cpus, "list") : "?", jnum(cpus, "free"), jnum(cpus, "total"),
           freem, total);
    printf("%-6s %-11s %-10s %5s %5s %4s %7s %8s %9s %-7s %s\n", "ID", "STATE", "USER", "GROUP",
           "PRIO", "CPUS", "MEMORY", "WALLTIME", "WAITING", "ON", "NAME: WHAT");
    static const char *const parts[] = {"running", "pending"};
    for (size_t k = 0; k < ARRAY_LEN(parts); k++) {
        const cJSON *t;
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(q, parts[k]))
            print_task_row(t);
    }
}

static void print_event(const cJSON *m)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "task");
    char ts[64];
    format_rfc3339((int64_t)jnum(m, "time_ms") * 1000000, ts, sizeof ts);
    const char *event = jstr(m, "event"), *name = jstr(t, "name");
    printf("%s %s task %.0f%s%s%s (%s)", ts, event ? event : "?", jnum(t, "id"), name ? " (" : "",
           name ? name : "", name ? ")" : "", jstr(t, "state") ? jstr(t, "state") : "?");
    if (event && strcmp(event, "started") == 0)
        printf(" on CPUs %s", jstr(t, "cpu_list") ? jstr(t, "cpu_list") : "?");
    if (jstr(t, "reason") && event && strcmp(event, "started") != 0)
        printf(": %s", jstr(t, "reason"));
    printf("; running %.0f, pending %.0f\n", jnum(m, "running"), jnum(m, "pending"));
}

int cmd_queue(int argc, char **argv)
{
    cli_args a = {0};
    int code = cli_parse(argc, argv, &a);
    if (code >= 0)
        return code;
    conn c;
    if (!conn_open(&c, "queue", a.socket)) {
        cli_args_free(&a);
        return EXIT_RUN_FAILED;
    }
    cJSON *m = request(&c, new_request(a.follow ? "follow" : "queue"), &code);
    if (m) {
        const cJSON *q = cJSON_GetObjectItemCaseSensitive(m, "queue");
        if (a.json) {
            char *text = a.follow ? cJSON_PrintUnformatted(q) : cJSON_Print(q);
            printf("%s\n", text);
            free(text);
        } else {
            print_queue(q);
        }
        fflush(stdout);
        cJSON_Delete(m);
        code = EXIT_OK;
        while (a.follow && (m = conn_next(&c)) != NULL) {
            if (a.json) {
                char *text = cJSON_PrintUnformatted(m);
                printf("%s\n", text);
                free(text);
            } else {
                print_event(m);
            }
            cJSON_Delete(m);
            if (fflush(stdout) == EOF)
                break;
        }
        if (a.follow)
            code = EXIT_RUN_FAILED; /* the daemon went away */
    }
    conn_close(&c);
    cli_args_free(&a);
    return code;
}

/* ---- cancel -------------------------------------------------------------------- */

int cmd_cancel(int argc, char **argv)
{
    cli_args a = {0};
    int code = cli_parse(argc, argv, &a);
    if (code >= 0)
        return code;
    cJSON *req = new_request("cancel");
    cJSON *ids = cJSON_AddArrayToObject(req, "ids");
    for (int i = optind; i < argc; i++) {
        int64_t id;
        if (!parse_int64(argv[i], &id) || id < 1) {
            cJSON_Delete(req);
            cli_args_free(&a);
            return cli_usage_error("cancel", "'%s' is not a task ID (a positive number)", argv[i]);
        }
        cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)id));
    }
    conn c;
    if (!conn_open(&c, "cancel", a.socket)) {
        cJSON_Delete(req);
        cli_args_free(&a);
        return EXIT_RUN_FAILED;
    }
    cJSON *m = request(&c, req, &code);
    if (m) {
        code = EXIT_OK;
        const cJSON *r;
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(m, "results")) {
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok"))) {
                const char *st = jstr(r, "state");
                printf("task %.0f %s\n", jnum(r, "id"),
                       st && strcmp(st, "stopping") == 0 ? "stopping (its cleanup runs)"
                                                         : "cancelled");
            } else {
                fprintf(stderr, "benchctl cancel: %.0f: %s\n", jnum(r, "id"),
                        jstr(r, "error") ? jstr(r, "error") : "refused");
                code = EXIT_RUN_FAILED;
            }
        }
        cJSON_Delete(m);
    } else if (code == EXIT_USAGE) {
        code = EXIT_RUN_FAILED;
    }
    conn_close(&c);
    cli_args_free(&a);
    return code;
}
