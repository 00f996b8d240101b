/*
 * The fake host of bc_fakehost.h: the services table plugin unit tests run
 * against.  See the header for what each service does.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <benchctl/helpers.h>

#include "bc_fakehost.h"

#define F(ctx) ((bc_fake *)(void *)(ctx))

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

/* Grows *arr (of elem bytes) to hold n + 1 elements; exits when it cannot. */
static void *grow(void *arr, size_t n, size_t elem)
{
    void *p = realloc(arr, (n + 1) * elem);
    if (!p) {
        fprintf(stderr, "fake host: out of memory\n");
        exit(2);
    }
    return p;
}

/* ---- options and facts -------------------------------------------------- */

static bc_fake_pair *find_pair(bc_fake_pair *pairs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(pairs[i].name, name) == 0)
            return &pairs[i];
    return NULL;
}

static void free_pair(bc_fake_pair *p)
{
    free(p->name);
    free(p->value);
    for (size_t i = 0; i < p->list_len; i++)
        free((void *)p->list[i]);
    free(p->list);
    memset(p, 0, sizeof *p);
}

static void set_pair(bc_fake_pair *pairs, size_t *n, const char *name, const char *value)
{
    bc_fake_pair *p = find_pair(pairs, *n, name);
    if (p) {
        free_pair(p);
        *p = pairs[--*n];
        memset(&pairs[*n], 0, sizeof pairs[*n]);
    }
    if (!value)
        return;
    if (*n >= BC_FAKE_MAX_PAIRS) {
        fprintf(stderr, "fake host: more than %d options or facts\n", BC_FAKE_MAX_PAIRS);
        exit(2);
    }
    pairs[*n].name = strdup(name);
    pairs[*n].value = strdup(value);
    (*n)++;
}

void bc_fake_set_option(bc_fake *f, const char *name, const char *value)
{
    set_pair(f->opts, &f->n_opts, name, value);
}

void bc_fake_clear_options(bc_fake *f)
{
    for (size_t i = 0; i < f->n_opts; i++)
        free_pair(&f->opts[i]);
    f->n_opts = 0;
}

void bc_fake_set_fact(bc_fake *f, const char *key, const char *value)
{
    set_pair(f->facts, &f->n_facts, key, value);
}

/* The option's text: set by the test, else the declared default. */
static const char *opt_text(bc_fake *f, const char *name)
{
    bc_fake_pair *p = find_pair(f->opts, f->n_opts, name);
    if (p)
        return p->value;
    for (const bc_option *o = f->plugin ? f->plugin->options : NULL; o && o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o->default_value;
    if (f->plugin) {
        fprintf(stderr, "fake host: the plugin read the undeclared option '%s'\n", name);
        f->undeclared_reads++;
    }
    return NULL;
}

static int s_opt_is_set(bc_ctx *ctx, const char *name)
{
    return find_pair(F(ctx)->opts, F(ctx)->n_opts, name) != NULL;
}

static const char *s_opt_string(bc_ctx *ctx, const char *name) { return opt_text(F(ctx), name); }

static int64_t s_opt_int(bc_ctx *ctx, const char *name)
{
    const char *s = opt_text(F(ctx), name);
    return s ? strtoll(s, NULL, 10) : 0;
}

static double s_opt_float(bc_ctx *ctx, const char *name)
{
    const char *s = opt_text(F(ctx), name);
    return s ? strtod(s, NULL) : 0;
}

static int s_opt_bool(bc_ctx *ctx, const char *name)
{
    const char *s = opt_text(F(ctx), name);
    return s && (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"));
}

/* "250ms", "2s", "1.5m", "1h", or a bare number of milliseconds. */
static int64_t s_opt_duration_ms(bc_ctx *ctx, const char *name)
{
    const char *s = opt_text(F(ctx), name);
    if (!s)
        return 0;
    char *end;
    double v = strtod(s, &end);
    double scale = !strcmp(end, "s") ? 1e3 : !strcmp(end, "m") ? 6e4 : !strcmp(end, "h") ? 3.6e6 : 1;
    return (int64_t)llround(v * scale);
}

static size_t s_opt_list(bc_ctx *ctx, const char *name, const char *const **items)
{
    static const char *const none[] = {NULL};
    bc_fake *f = F(ctx);
    bc_fake_pair *p = find_pair(f->opts, f->n_opts, name);
    if (!p || !*p->value) {
        (void)opt_text(f, name); /* counts an undeclared option */
        *items = none;
        return 0;
    }
    if (!p->list) {
        size_t n = 1;
        for (const char *c = p->value; *c; c++)
            n += *c == ',';
        p->list = calloc(n + 1, sizeof *p->list);
        if (!p->list)
            exit(2);
        p->list_len = 0;
        for (const char *c = p->value;; c++) {
            const char *e = strchr(c, ',');
            size_t len = e ? (size_t)(e - c) : strlen(c);
            if (len)
                p->list[p->list_len++] = strndup(c, len);
            if (!e)
                break;
            c = e;
        }
    }
    *items = p->list;
    return p->list_len;
}

static const char *s_fact(bc_ctx *ctx, const char *key)
{
    bc_fake_pair *p = find_pair(F(ctx)->facts, F(ctx)->n_facts, key);
    return p ? p->value : NULL;
}

/* ---- recordings -------------------------------------------------------- */

static void s_log(bc_ctx *ctx, int level, const char *fmt, ...)
{
    bc_fake *f = F(ctx);
    bc_sb sb = BC_SB_INIT;
    va_list ap;
    va_start(ap, fmt);
    bc_sb_vprintf(&sb, fmt, ap);
    va_end(ap);
    f->logs = grow(f->logs, f->n_logs, sizeof *f->logs);
    f->logs[f->n_logs++] = (bc_fake_log){level, bc_sb_steal(&sb)};
    if (f->verbose)
        fprintf(stderr, "log %d: %s\n", level, f->logs[f->n_logs - 1].text);
}

static void s_set_error(bc_ctx *ctx, const char *fmt, ...)
{
    bc_fake *f = F(ctx);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->error, sizeof f->error, fmt, ap);
    va_end(ap);
    if (f->verbose)
        fprintf(stderr, "set_error: %s\n", f->error);
}

static int s_cancelled(bc_ctx *ctx) { return F(ctx)->cancelled; }

static int s_cancel_fd(bc_ctx *ctx) { return F(ctx)->cancel_pipe[0]; }

static void s_output(bc_ctx *ctx, int stream, const void *data, size_t len)
{
    (void)stream;
    bc_fake *f = F(ctx);
    char *p = realloc(f->output, f->output_len + len + 1);
    if (!p)
        exit(2);
    memcpy(p + f->output_len, data, len);
    f->output_len += len;
    p[f->output_len] = '\0';
    f->output = p;
}

static void s_record_file(bc_ctx *ctx, const char *output_name, const char *local_path)
{
    bc_fake *f = F(ctx);
    f->files = grow(f->files, f->n_files, sizeof *f->files);
    f->files[f->n_files++] = (bc_fake_file){strdup(output_name), strdup(local_path)};
    if (f->verbose)
        fprintf(stderr, "record_file %s: %s\n", output_name, local_path);
}

static void s_data_error(bc_ctx *ctx, const char *path, uint64_t line, uint32_t column,
                         const char *value, const char *message)
{
    bc_fake *f = F(ctx);
    if (f->verbose)
        fprintf(stderr, "data_error %s:%llu:%u: %s%s%s%s\n", path, (unsigned long long)line,
                column, message, value ? " (value '" : "", value ? value : "",
                value ? "')" : "");
    f->data_errors = grow(f->data_errors, f->n_data_errors, sizeof *f->data_errors);
    f->data_errors[f->n_data_errors++] = (bc_fake_data_error){
        dup_or_null(path), line, column, dup_or_null(value), dup_or_null(message)};
}

static void s_column_summary(bc_ctx *ctx, const char *column, uint64_t count, double min,
                             double max, double mean)
{
    bc_fake *f = F(ctx);
    if (f->verbose)
        fprintf(stderr, "summary %s: count %llu min %.17g max %.17g mean %.17g\n", column,
                (unsigned long long)count, min, max, mean);
    f->summaries = grow(f->summaries, f->n_summaries, sizeof *f->summaries);
    f->summaries[f->n_summaries++] = (bc_fake_summary){strdup(column), count, min, max, mean};
}

static void s_column_values(bc_ctx *ctx, uint32_t column, const double *v, size_t n)
{
    bc_fake *f = F(ctx);
    if (column >= BC_FAKE_MAX_COLUMNS || n == 0) {
        fprintf(stderr, "fake host: column_values: bad column %u or empty batch\n", column);
        f->bad_values_calls++;
        return;
    }
    bc_fake_values *cv = &f->values[column];
    if (n > cv->max_batch)
        cv->max_batch = n;
    for (size_t i = 0; i < n; i++) {
        if (isfinite(v[i])) {
            cv->finite++;
            cv->sum += v[i];
        } else {
            cv->nonfinite++;
        }
    }
}

static void s_column_text(bc_ctx *ctx, uint32_t column, const char *text, size_t len)
{
    (void)text, (void)len;
    bc_fake *f = F(ctx);
    if (column >= BC_FAKE_MAX_COLUMNS) {
        fprintf(stderr, "fake host: column_text: bad column %u\n", column);
        f->bad_values_calls++;
        return;
    }
    f->values[column].texts++;
}

size_t bc_fake_logs_with(const bc_fake *f, int level, const char *needle)
{
    size_t k = 0;
    for (size_t i = 0; i < f->n_logs; i++)
        if ((level < 0 || f->logs[i].level == level) && strstr(f->logs[i].text, needle))
            k++;
    return k;
}

/* ---- the host: commands and files ---------------------------------------- */

static int s_host_exec(bc_ctx *ctx, const char *command, int64_t timeout_ms, int *exit_status,
                       char *out, size_t out_size)
{
    bc_fake *f = F(ctx);
    f->n_exec++;
    free(f->last_command);
    f->last_command = strdup(command);
    f->last_timeout_ms = timeout_ms;
    if (out_size)
        out[0] = '\0';
    if (f->exec_rc) {
        s_set_error(ctx, "fake host: host_exec fails (exec_rc %d)", f->exec_rc);
        return f->exec_rc;
    }
    if (f->cancelled)
        return BC_CANCELLED;
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        s_set_error(ctx, "fake host: pipe: %s", strerror(errno));
        return BC_ERR;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        s_set_error(ctx, "fake host: fork: %s", strerror(errno));
        return BC_ERR;
    }
    if (pid == 0) {
        setpgid(0, 0);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        if (f->host_dir && chdir(f->host_dir) != 0)
            _exit(126);
        execl("/bin/sh", "sh", "-c", command, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    close(pfd[1]);
    int64_t deadline = timeout_ms > 0 ? bc_mono_ms() + timeout_ms : -1;
    size_t have = 0;
    int rc = BC_OK;
    for (;;) {
        int wait_ms = -1;
        if (deadline >= 0) {
            int64_t left = deadline - bc_mono_ms();
            if (left <= 0) {
                rc = BC_TIMEOUT;
                break;
            }
            wait_ms = left > 1000000 ? 1000000 : (int)left;
        }
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        int r = poll(&p, 1, wait_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            continue; /* the deadline is checked at the top */
        char buf[4096];
        ssize_t n = read(pfd[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (out_size && have < out_size - 1) {
            size_t take = (size_t)n < out_size - 1 - have ? (size_t)n : out_size - 1 - have;
            memcpy(out + have, buf, take);
            have += take;
            out[have] = '\0';
        }
    }
    close(pfd[0]);
    if (rc == BC_TIMEOUT)
        kill(-pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (rc == BC_OK && exit_status)
        *exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return rc;
}

/* Copies src to dst through a temporary name (as the transports do). */
static int copy_file(bc_ctx *ctx, const char *src, const char *dst, int mode)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        s_set_error(ctx, "cannot open %s: %s", src, strerror(errno));
        return BC_ERR;
    }
    char *tmp = NULL;
    bc_sb sb = BC_SB_INIT;
    bc_sb_printf(&sb, "%s.part", dst);
    tmp = bc_sb_steal(&sb);
    int o = tmp ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode ? mode : 0644) : -1;
    if (o < 0) {
        s_set_error(ctx, "cannot create %s: %s", dst, strerror(errno));
        close(in);
        free(tmp);
        return BC_ERR;
    }
    int rc = BC_OK;
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(o, buf, (size_t)n) != n) {
            rc = BC_ERR;
            break;
        }
    if (n < 0)
        rc = BC_ERR;
    close(in);
    if (close(o) != 0)
        rc = BC_ERR;
    if (rc == BC_OK && rename(tmp, dst) != 0)
        rc = BC_ERR;
    if (rc != BC_OK) {
        s_set_error(ctx, "cannot copy %s to %s: %s", src, dst, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

static char *host_path(bc_fake *f, const char *path)
{
    return bc_path_join_alloc(path[0] == '/' ? NULL : f->host_dir, path);
}

static int s_host_get_file(bc_ctx *ctx, const char *remote, const char *local)
{
    bc_fake *f = F(ctx);
    f->n_get_file++;
    if (f->get_file_rc) {
        s_set_error(ctx, "fake host: get_file fails (get_file_rc %d)", f->get_file_rc);
        return f->get_file_rc;
    }
    char *src = host_path(f, remote);
    int rc = src ? copy_file(ctx, src, local, 0) : BC_ERR;
    free(src);
    return rc;
}

static int s_host_put_file(bc_ctx *ctx, const char *local, const char *remote, int mode)
{
    bc_fake *f = F(ctx);
    f->n_put_file++;
    if (f->put_file_rc) {
        s_set_error(ctx, "fake host: put_file fails (put_file_rc %d)", f->put_file_rc);
        return f->put_file_rc;
    }
    char *dst = host_path(f, remote);
    int rc = dst ? copy_file(ctx, local, dst, mode) : BC_ERR;
    free(dst);
    return rc;
}

static void s_data_errors_suppressed(bc_ctx *ctx, const char *path, uint64_t n)
{
    bc_fake *f = F(ctx);
    (void)path;
    f->suppressed += n;
    if (f->verbose)
        fprintf(stderr, "[fake] %s: %llu more problems not reported\n", path,
                (unsigned long long)n);
}

static int64_t s_time_left_ms(bc_ctx *ctx) { return F(ctx)->time_left_ms; }

static uint32_t s_host_caps(bc_ctx *ctx) { return F(ctx)->host_caps; }

/* ---- the table, setup, loading ------------------------------------------- */

static const bc_services fake_services = {
    .size = sizeof(bc_services),
    .abi_major = BC_ABI_MAJOR,
    .abi_minor = BC_ABI_MINOR,
    .log = s_log,
    .set_error = s_set_error,
    .cancelled = s_cancelled,
    .cancel_fd = s_cancel_fd,
    .opt_is_set = s_opt_is_set,
    .opt_string = s_opt_string,
    .opt_int = s_opt_int,
    .opt_float = s_opt_float,
    .opt_bool = s_opt_bool,
    .opt_duration_ms = s_opt_duration_ms,
    .opt_list = s_opt_list,
    .fact = s_fact,
    .output = s_output,
    .host_exec = s_host_exec,
    .host_get_file = s_host_get_file,
    .host_put_file = s_host_put_file,
    .record_file = s_record_file,
    .data_error = s_data_error,
    .column_summary = s_column_summary,
    .column_values = s_column_values,
    .column_text = s_column_text,
    .data_errors_suppressed = s_data_errors_suppressed,
    .time_left_ms = s_time_left_ms,
    .host_caps = s_host_caps,
};

void bc_fake_core_minor(bc_fake *f, int minor)
{
    if (minor >= BC_ABI_MINOR) {
        f->ctx.svc = &fake_services;
        return;
    }
    /* Where each minor's table ended (services.h: "since ABI 1.N"). */
    size_t end = minor >= 1 ? offsetof(bc_services, data_errors_suppressed)
                            : offsetof(bc_services, column_values);
    f->older = fake_services;
    memset((char *)&f->older + end, 0, sizeof f->older - end);
    f->older.size = (uint32_t)end;
    f->older.abi_minor = (uint16_t)minor;
    f->ctx.svc = &f->older;
}

static void open_cancel_pipe(bc_fake *f)
{
    if (pipe2(f->cancel_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        perror("fake host: pipe");
        exit(2);
    }
}

void bc_fake_init(bc_fake *f, const bc_plugin *plugin)
{
    memset(f, 0, sizeof *f);
    f->ctx.svc = &fake_services;
    f->time_left_ms = -1;
    f->plugin = plugin;
    open_cancel_pipe(f);
}

void bc_fake_reset(bc_fake *f)
{
    for (size_t i = 0; i < f->n_logs; i++)
        free(f->logs[i].text);
    for (size_t i = 0; i < f->n_data_errors; i++) {
        free(f->data_errors[i].path);
        free(f->data_errors[i].value);
        free(f->data_errors[i].message);
    }
    for (size_t i = 0; i < f->n_summaries; i++)
        free(f->summaries[i].column);
    for (size_t i = 0; i < f->n_files; i++) {
        free(f->files[i].output);
        free(f->files[i].path);
    }
    free(f->logs);
    free(f->data_errors);
    free(f->summaries);
    free(f->files);
    free(f->output);
    free(f->last_command);
    f->logs = NULL;
    f->data_errors = NULL;
    f->summaries = NULL;
    f->files = NULL;
    f->output = f->last_command = NULL;
    f->n_logs = f->n_data_errors = f->n_summaries = f->n_files = f->output_len = 0;
    f->n_exec = f->n_get_file = f->n_put_file = 0;
    f->last_timeout_ms = 0;
    memset(f->values, 0, sizeof f->values);
    f->bad_values_calls = 0;
    f->suppressed = 0;
    f->error[0] = '\0';
    if (f->cancelled) {
        close(f->cancel_pipe[0]);
        close(f->cancel_pipe[1]);
        open_cancel_pipe(f);
    }
    f->cancelled = 0;
}

void bc_fake_free(bc_fake *f)
{
    bc_fake_reset(f);
    bc_fake_clear_options(f);
    for (size_t i = 0; i < f->n_facts; i++)
        free_pair(&f->facts[i]);
    f->n_facts = 0;
    close(f->cancel_pipe[0]);
    close(f->cancel_pipe[1]);
    f->cancel_pipe[0] = f->cancel_pipe[1] = -1;
}

void bc_fake_cancel(bc_fake *f)
{
    if (!f->cancelled && write(f->cancel_pipe[1], "x", 1) != 1)
        perror("fake host: cancel pipe");
    f->cancelled = 1;
}

const bc_plugin *bc_fake_load(const char *path, int kind, const char *name, char *err,
                              size_t err_size)
{
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        snprintf(err, err_size, "cannot load %s: %s", path, dlerror());
        return NULL;
    }
    bc_plugin_entry_fn entry;
    *(void **)&entry = dlsym(dl, BC_ENTRY_SYMBOL);
    if (!entry) {
        snprintf(err, err_size, "%s does not export %s", path, BC_ENTRY_SYMBOL);
        return NULL;
    }
    const bc_plugin *p = entry();
    if (!p || p->abi.magic != BC_ABI_MAGIC || (int)p->kind != kind ||
        (name && (!p->name || strcmp(p->name, name) != 0))) {
        snprintf(err, err_size, "%s is not the plugin %d/%s", path, kind, name ? name : "*");
        return NULL;
    }
    return p;
}
