/*
 * Host transport "ssh": the plugin benchctl loads (host-ssh.so).
 *
 * It declares the transport and its options, and nothing else: the
 * implementation, which needs libssh (and through it libcrypto and
 * Kerberos), is a separate module, host-ssh.d/host-ssh-impl.so next to
 * this file, loaded when a run first connects to an SSH host.  So
 * `benchctl plugins`, `validate` and runs without SSH hosts never load
 * libssh, and a machine without libssh says so when an SSH host is used
 * instead of refusing the plugin.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <benchctl/plugin.h>

/* The plugin's state (init .. fini), reached as ctx->plugin_state: the
 * implementation, loaded once, on the first open. */
typedef struct shim_state {
    pthread_mutex_t mu;        /* parallel stages may open hosts at once */
    int tried;                 /* load_impl ran */
    const bc_host_ops *impl;   /* NULL until loaded, or when it failed */
    char error[5400];          /* why it could not be loaded */
} shim_state;

static int shim_init(bc_ctx *ctx, void **state)
{
    shim_state *s = calloc(1, sizeof *s);
    if (!s) {
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    pthread_mutex_init(&s->mu, NULL);
    *state = s;
    return BC_OK;
}

static void shim_fini(void *state)
{
    shim_state *s = state;
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static void load_impl(shim_state *s)
{
    Dl_info info;
    if (!dladdr((void *)&load_impl, &info) || !info.dli_fname) {
        snprintf(s->error, sizeof s->error, "cannot find where host-ssh.so is installed");
        return;
    }
    const char *slash = strrchr(info.dli_fname, '/');
    int dirlen = slash ? (int)(slash - info.dli_fname) : 1;
    char path[4096];
    snprintf(path, sizeof path, "%.*s/host-ssh.d/host-ssh-impl.so", dirlen,
             slash ? info.dli_fname : ".");
    /* NODELETE: libssh and libcrypto keep thread-local state and exit
     * handlers that must not outlive their code. */
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!h) {
        snprintf(s->error, sizeof s->error, "cannot load %s: %s", path, dlerror());
        return;
    }
    const bc_host_ops *(*get)(void) = (const bc_host_ops *(*)(void))dlsym(h, "benchctl_ssh_impl");
    const bc_host_ops *ops = get ? get() : NULL;
    if (!ops || ops->size < sizeof(bc_host_ops)) {
        snprintf(s->error, sizeof s->error, "%s is not this plugin's implementation", path);
        return;
    }
    s->impl = ops;
}

/* The implementation, once an open succeeded. */
static const bc_host_ops *impl_of(bc_ctx *ctx)
{
    return ((shim_state *)ctx->plugin_state)->impl;
}

static int shim_open(bc_ctx *ctx, void **conn)
{
    shim_state *s = ctx->plugin_state;
    pthread_mutex_lock(&s->mu);
    if (!s->tried) {
        s->tried = 1;
        load_impl(s);
    }
    pthread_mutex_unlock(&s->mu);
    if (!s->impl) {
        bc_error(ctx, "the ssh transport is not usable: %s (it needs libssh: apt-get install "
                 "libssh-4)", s->error);
        return BC_ERR;
    }
    return s->impl->open(ctx, conn);
}

/* Every other operation follows a successful open. */
static void shim_close(bc_ctx *ctx, void *conn) { impl_of(ctx)->close(ctx, conn); }
static int shim_start(bc_ctx *ctx, void *conn, const bc_exec_request *req, void **proc)
{
    return impl_of(ctx)->start(ctx, conn, req, proc);
}
static int shim_wait(bc_ctx *ctx, void *proc, int64_t timeout_ms, bc_exec_result *res)
{
    return impl_of(ctx)->wait(ctx, proc, timeout_ms, res);
}
static int shim_stop(bc_ctx *ctx, void *proc, int64_t grace_ms)
{
    return impl_of(ctx)->stop(ctx, proc, grace_ms);
}
static void shim_release(bc_ctx *ctx, void *proc) { impl_of(ctx)->release(ctx, proc); }
static int shim_get_file(bc_ctx *ctx, void *conn, const char *remote, const char *local)
{
    return impl_of(ctx)->get_file(ctx, conn, remote, local);
}
static int shim_put_file(bc_ctx *ctx, void *conn, const char *local, const char *remote, int mode)
{
    return impl_of(ctx)->put_file(ctx, conn, local, remote, mode);
}

/* The core keys (ip, port, username, password, key_file, key_password)
 * are read through ctx too; these are the transport's own. */
static const bc_option options[] = {
    /* The Go tool's connection keys (hosts.<alias>.ip is the core's). */
    {.name = "port", .type = BC_OPT_INT, .min = 1, .max = 65535,
     .help = "TCP port of the SSH server (default 22, or ~/.ssh/config's Port)"},
    {.name = "username", .type = BC_OPT_STRING,
     .help = "user to log in as (default ~/.ssh/config's User, else the local user)"},
    {.name = "password", .type = BC_OPT_STRING, .flags = BC_OPT_SECRET,
     .help = "password authentication (redacted in the stored config)"},
    {.name = "key_file", .type = BC_OPT_STRING,
     .help = "private key to authenticate with (~ is expanded)"},
    {.name = "key_password", .type = BC_OPT_STRING, .flags = BC_OPT_SECRET,
     .help = "passphrase of key_file (redacted in the stored config)"},
    {.name = "known_hosts", .type = BC_OPT_STRING,
     .help = "known_hosts file to check host keys against (default ~/.ssh/known_hosts)"},
    {.name = "host_key_check", .type = BC_OPT_ENUM, .default_value = "strict",
     .choices = "strict|accept-new|off",
     .help = "strict: refuse unknown or changed keys; accept-new: record unknown keys, refuse "
             "changed ones; off: warn only"},
    {.name = "connect_timeout", .type = BC_OPT_DURATION, .default_value = "10s", .min = 1,
     .max = 3600000, .help = "how long connecting and logging in may take"},
    {.name = "ssh_config", .type = BC_OPT_BOOL, .default_value = "true",
     .help = "apply ~/.ssh/config (HostName, User, Port, IdentityFile, ProxyJump...) for ip"},
    {.name = "keepalive", .type = BC_OPT_DURATION, .default_value = "30s", .min = 0,
     .max = 86400000,
     .help = "TCP keepalive idle time: a dead host is detected after about 3x this (0: off)"},
    {.name = "exec_mode", .type = BC_OPT_ENUM, .default_value = "dispatcher",
     .choices = "dispatcher|login_shell",
     .help = "dispatcher: one helper shell per host and run (one login) runs the stages, "
             "set-up, facts, stops and clean-up, and stops the run's processes if benchctl "
             "dies; login_shell: a login per stage and per step (as before)"},
    {0},
};

static const bc_host_ops ops = {
    .size = sizeof(bc_host_ops),
    .open = shim_open,
    .close = shim_close,
    .start = shim_start,
    .wait = shim_wait,
    .stop = shim_stop,
    .release = shim_release,
    .get_file = shim_get_file,
    .put_file = shim_put_file,
    /* Another machine: every command is a round trip, files are copied. */
    .caps = BC_HOST_CAP_POSIX_SHELL,
};

static const bc_plugin descriptor = {
    .abi = BC_PLUGIN_PREFIX,
    .kind = BC_KIND_HOST,
    .name = "ssh",
    .version = "1.0.0",
    .description = "runs stages on a remote host over one SSH connection per run (libssh)",
    .options = options,
    .init = shim_init,
    .fini = shim_fini,
    .ops = &ops,
};

BC_PLUGIN_ENTRY(descriptor)
