/*
 * Host transport "ssh" (libssh): the connection.  This is the
 * implementation module (host-ssh.d/host-ssh-impl.so), loaded by the
 * plugin (shim.c) on the first connection.
 *
 * open (once per host per run, on first use): connect, verify the host key
 * against known_hosts, authenticate (key_file, the agent or the default
 * keys, password), and create the run's private directory on the host.
 * close: stop what is still running there, remove that directory,
 * disconnect.  Commands are in exec.c, file transfers in sftp.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sshint.h"

/* ---- small helpers ------------------------------------------------------ */

char *ssh_strdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        abort();
    return d;
}

char *ssh_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    return s;
}

char *ssh_shquote(const char *s)
{
    char *q = bc_shell_quote_dup(s); /* the SDK helper; this module aborts on OOM */
    if (!q)
        abort();
    return q;
}

int ssh_signal_number(const char *name)
{
    static const struct {
        const char *n;
        int v;
    } sigs[] = {{"HUP", 1},   {"INT", 2},   {"QUIT", 3},  {"ILL", 4},   {"TRAP", 5},
                {"ABRT", 6},  {"BUS", 7},   {"FPE", 8},   {"KILL", 9},  {"USR1", 10},
                {"SEGV", 11}, {"USR2", 12}, {"PIPE", 13}, {"ALRM", 14}, {"TERM", 15},
                {"XCPU", 24}, {"XFSZ", 25}, {"SYS", 31}};
    if (!name)
        return 0;
    if (strncmp(name, "SIG", 3) == 0)
        name += 3;
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (strcmp(sigs[i].n, name) == 0)
            return sigs[i].v;
    return 0;
}

/* ---- locking ------------------------------------------------------------ */

/* Bytes read from the socket (libssh's counters): when they changed
 * during a thread's turn, that thread may have taken packets of other
 * channels off the socket, so their waiters must look again. */
typedef struct conn_counters {
    struct ssh_counter_struct raw, payload;
    uint64_t at_lock;
} conn_counters;

/* The counters live next to the connection (allocated with it). */
typedef struct sshconn_full {
    sshconn c;
    conn_counters k;
} sshconn_full;

static uint64_t bytes_in(sshconn *c)
{
    conn_counters *k = &((sshconn_full *)c)->k;
    return k->raw.in_bytes + k->payload.in_bytes;
}

void conn_lock(sshconn *c)
{
    pthread_mutex_lock(&c->mu);
    ((sshconn_full *)c)->k.at_lock = bytes_in(c);
}

void conn_unlock(sshconn *c, sshproc *self)
{
    if (bytes_in(c) != ((sshconn_full *)c)->k.at_lock) {
        /* We processed incoming packets: some may have been for channels
         * other threads are waiting on (their socket poll will not fire
         * for data already taken off the socket).  Wake them. */
        uint64_t one = 1;
        for (sshproc *p = c->procs; p; p = p->next)
            if (p != self && p->waiting && p->wake_fd >= 0)
                (void)!write(p->wake_fd, &one, sizeof one);
    }
    pthread_mutex_unlock(&c->mu);
}

void conn_mark_lost(sshconn *c)
{
    if (c->lost)
        return;
    c->lost = 1;
    const char *e = ssh_get_error(c->s);
    snprintf(c->lost_why, sizeof c->lost_why, "%s", e && *e ? e : "the connection was closed");
}

void conn_lost_error(bc_ctx *ctx, sshconn *c)
{
    bc_error(ctx, "connection to host '%s' (%s) lost: %s", c->alias, c->where, c->lost_why);
}

/* ---- options ------------------------------------------------------------ */

/* The home directory (or, with name_out, the name) of user (NULL: the
 * current user), thread-safely; "" when unknown. */
static void user_lookup(const char *user, char *home, size_t n, char *name_out, size_t nn)
{
    struct passwd pw, *res = NULL;
    char buf[16384];
    if (user)
        getpwnam_r(user, &pw, buf, sizeof buf, &res);
    else
        getpwuid_r(getuid(), &pw, buf, sizeof buf, &res);
    if (home && n)
        snprintf(home, n, "%s", res ? res->pw_dir : "");
    if (name_out && nn)
        snprintf(name_out, nn, "%s", res ? res->pw_name : "");
}

static void user_home(const char *user, char *home, size_t n)
{
    user_lookup(user, home, n, NULL, 0);
}

/* ~, ~user and $VAR / ${VAR} expansion of a local path; NULL (error set)
 * when a variable is not set. */
static char *expand_path(bc_ctx *ctx, const char *what, const char *in)
{
    size_t cap = strlen(in) + 256, n = 0;
    char *out = malloc(cap);
    if (!out)
        abort();
#define PUT(s, l)                                   \
    do {                                            \
        size_t l_ = (l);                            \
        while (n + l_ + 1 > cap)                    \
            out = realloc(out, cap *= 2);           \
        if (!out)                                   \
            abort();                                \
        memcpy(out + n, (s), l_);                   \
        n += l_;                                    \
    } while (0)
    const char *p = in;
    if (p[0] == '~') {
        const char *slash = strchr(p, '/');
        size_t ul = slash ? (size_t)(slash - p - 1) : strlen(p + 1);
        char home[4096] = "";
        if (ul == 0) {
            const char *h = getenv("HOME");
            if (h && *h)
                snprintf(home, sizeof home, "%s", h);
            else
                user_home(NULL, home, sizeof home);
        } else {
            char user[256];
            snprintf(user, sizeof user, "%.*s", (int)(ul < 255 ? ul : 255), p + 1);
            user_home(user, home, sizeof home);
        }
        if (home[0]) {
            PUT(home, strlen(home));
            p += 1 + ul;
        }
    }
    while (*p) {
        if (*p == '$' && (p[1] == '{' || p[1] == '_' || (p[1] >= 'A' && p[1] <= 'Z') ||
                          (p[1] >= 'a' && p[1] <= 'z'))) {
            const char *s = p + 1;
            int brace = *s == '{';
            if (brace)
                s++;
            const char *e = s;
            while (*e == '_' || (*e >= 'A' && *e <= 'Z') || (*e >= 'a' && *e <= 'z') ||
                   (*e >= '0' && *e <= '9'))
                e++;
            if (brace && *e != '}') {
                PUT(p, 1);
                p++;
                continue;
            }
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(e - s < 255 ? e - s : 255), s);
            const char *v = getenv(name);
            if (!v) {
                bc_error(ctx, "%s '%s': environment variable $%s is not set", what, in, name);
                free(out);
                return NULL;
            }
            PUT(v, strlen(v));
            p = e + brace;
            continue;
        }
        PUT(p, 1);
        p++;
    }
    out[n] = '\0';
#undef PUT
    return out;
}

/* A relative key_file or known_hosts: against the config's directory, or,
 * when nothing is there but the working directory has it, as the Go tool
 * resolved it (the working directory).  Takes path; returns the one to use. */
static char *config_relative(bc_ctx *ctx, char *path)
{
    const char *dir = ctx->svc->fact(ctx, "config_dir");
    if (!path || path[0] == '/' || !dir || !*dir)
        return path;
    bc_sb sb = BC_SB_INIT;
    bc_sb_append(&sb, dir);
    bc_sb_append(&sb, "/");
    bc_sb_append(&sb, path);
    char *in_dir = bc_sb_steal(&sb);
    if (!in_dir)
        return path;
    if (access(in_dir, F_OK) == 0 || access(path, F_OK) != 0) {
        free(path);
        return in_dir;
    }
    free(in_dir);
    return path;
}

/* ---- host keys ---------------------------------------------------------- */

static pthread_mutex_t known_hosts_lock = PTHREAD_MUTEX_INITIALIZER;

/* "[host]:port" or "host" as known_hosts and ssh-keyscan name it. */
static char *host_pattern(const char *host, unsigned port)
{
    return port == 22 ? ssh_strdup(host) : ssh_asprintf("[%s]:%u", host, port);
}

static void mkdir_parent(const char *path)
{
    char *d = ssh_strdup(path);
    char *slash = strrchr(d, '/');
    if (slash && slash != d) {
        *slash = '\0';
        for (char *q = d + 1; *q; q++) {
            if (*q == '/') {
                *q = '\0';
                mkdir(d, 0700);
                *q = '/';
            }
        }
        mkdir(d, 0700);
    }
    free(d);
}

static int check_host_key(bc_ctx *ctx, sshconn *c, const char *host, unsigned port)
{
    const char *mode = ctx->svc->opt_string(ctx, "host_key_check");
    if (!mode)
        mode = "strict";
    ssh_key key = NULL;
    if (ssh_get_server_publickey(c->s, &key) != SSH_OK) {
        bc_error(ctx, "cannot get the host key of %s: %s", c->where, ssh_get_error(c->s));
        return BC_ERR;
    }
    unsigned char *hash = NULL;
    size_t hlen = 0;
    char *fp = NULL;
    if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == SSH_OK) {
        fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
        ssh_clean_pubkey_hash(&hash);
    }
    const char *ktype = ssh_key_type_to_char(ssh_key_type(key));
    char *kh = NULL;
    ssh_options_get(c->s, SSH_OPTIONS_KNOWNHOSTS, &kh);
    char *pat = host_pattern(host, port);
    char keyscan[1024], portopt[32] = "";
    if (port != 22)
        snprintf(portopt, sizeof portopt, "-p %u ", port);
    snprintf(keyscan, sizeof keyscan, "ssh-keyscan %s%s >> %s", portopt, host,
             kh ? kh : "~/.ssh/known_hosts");
    int rc = BC_ERR;
    pthread_mutex_lock(&known_hosts_lock);
    enum ssh_known_hosts_e st = ssh_session_is_known_server(c->s);
    switch (st) {
    case SSH_KNOWN_HOSTS_OK:
        rc = BC_OK;
        break;
    case SSH_KNOWN_HOSTS_CHANGED:
    case SSH_KNOWN_HOSTS_OTHER:
        if (strcmp(mode, "off") == 0) {
            bc_log(ctx, BC_LOG_WARN,
                   "host '%s' (%s): the host key DIFFERS from the one in %s (%s %s); "
                   "continuing because host_key_check is off",
                   c->alias, c->where, kh ? kh : "known_hosts", ktype, fp ? fp : "?");
            rc = BC_OK;
            break;
        }
        bc_error(ctx,
                 "the host key of %s has CHANGED: the server offers %s %s, but %s records a "
                 "different key for %s. Someone may be intercepting the connection, or the host "
                 "was reinstalled. If the change is expected, remove the old key with "
                 "`ssh-keygen -R '%s' -f %s` and accept the new one (host_key_check: accept-new, "
                 "or %s). Refusing to connect.",
                 c->where, ktype, fp ? fp : "?", kh ? kh : "known_hosts", pat, pat,
                 kh ? kh : "~/.ssh/known_hosts", keyscan);
        break;
    case SSH_KNOWN_HOSTS_UNKNOWN:
    case SSH_KNOWN_HOSTS_NOT_FOUND:
        if (strcmp(mode, "off") == 0) {
            bc_log(ctx, BC_LOG_WARN,
                   "host '%s' (%s): host key %s %s is not verified (host_key_check: off)",
                   c->alias, c->where, ktype, fp ? fp : "?");
            rc = BC_OK;
        } else if (strcmp(mode, "accept-new") == 0) {
            if (kh)
                mkdir_parent(kh);
            if (ssh_session_update_known_hosts(c->s) != SSH_OK) {
                bc_error(ctx, "cannot record the host key of %s in %s: %s", c->where,
                         kh ? kh : "known_hosts", ssh_get_error(c->s));
            } else {
                bc_log(ctx, BC_LOG_INFO, "host '%s' (%s): recorded new host key %s %s in %s",
                       c->alias, c->where, ktype, fp ? fp : "?", kh ? kh : "known_hosts");
                rc = BC_OK;
            }
        } else {
            bc_error(ctx,
                     "the host key of %s is not known: %s %s is not in %s. Check the "
                     "fingerprint, then accept it: set `host_key_check: accept-new` on this "
                     "host (records it on the next connection), or run `%s`",
                     c->where, ktype, fp ? fp : "?", kh ? kh : "known_hosts", keyscan);
        }
        break;
    case SSH_KNOWN_HOSTS_ERROR:
    default:
        if (strcmp(mode, "off") == 0) {
            rc = BC_OK;
            break;
        }
        bc_error(ctx, "cannot check the host key of %s against %s: %s", c->where,
                 kh ? kh : "known_hosts", ssh_get_error(c->s));
        break;
    }
    pthread_mutex_unlock(&known_hosts_lock);
    ssh_string_free_char(fp);
    ssh_string_free_char(kh);
    ssh_key_free(key);
    free(pat);
    return rc;
}

/* ---- authentication ----------------------------------------------------- */

static int kbdint_password(ssh_session s, const char *password)
{
    int rc = ssh_userauth_kbdint(s, NULL, NULL);
    for (int rounds = 0; rc == SSH_AUTH_INFO && rounds < 5; rounds++) {
        int n = ssh_userauth_kbdint_getnprompts(s);
        for (int i = 0; i < n; i++) {
            char echo = 0;
            ssh_userauth_kbdint_getprompt(s, (unsigned)i, &echo);
            if (ssh_userauth_kbdint_setanswer(s, (unsigned)i, echo ? "" : password) < 0)
                return SSH_AUTH_ERROR;
        }
        rc = ssh_userauth_kbdint(s, NULL, NULL);
    }
    return rc;
}

static void methods_text(int m, char *buf, size_t n)
{
    buf[0] = '\0';
    const struct {
        int bit;
        const char *name;
    } names[] = {{SSH_AUTH_METHOD_PUBLICKEY, "publickey"},
                 {SSH_AUTH_METHOD_PASSWORD, "password"},
                 {SSH_AUTH_METHOD_INTERACTIVE, "keyboard-interactive"},
                 {SSH_AUTH_METHOD_GSSAPI_MIC, "gssapi-with-mic"},
                 {SSH_AUTH_METHOD_HOSTBASED, "hostbased"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (m & names[i].bit)
            snprintf(buf + strlen(buf), n - strlen(buf), "%s%s", buf[0] ? ", " : "", names[i].name);
    if (!buf[0])
        snprintf(buf, n, "none");
}

static int authenticate(bc_ctx *ctx, sshconn *c)
{
    ssh_session s = c->s;
    const char *key_file = ctx->svc->opt_string(ctx, "key_file");
    const char *key_pass = ctx->svc->opt_string(ctx, "key_password");
    const char *password = ctx->svc->opt_string(ctx, "password");
    if (key_file && !*key_file)
        key_file = NULL;
    if (key_pass && !*key_pass)
        key_pass = NULL;
    if (password && !*password)
        password = NULL;

    int rc = ssh_userauth_none(s, NULL);
    if (rc == SSH_AUTH_SUCCESS)
        return BC_OK;
    if (rc == SSH_AUTH_ERROR) {
        bc_error(ctx, "cannot log in to %s: %s", c->where, ssh_get_error(s));
        return BC_ERR;
    }
    int methods = ssh_userauth_list(s, NULL);
    char tried[1024] = "";
#define TRIED(...) snprintf(tried + strlen(tried), sizeof tried - strlen(tried), __VA_ARGS__)

    if (key_file) {
        char *path = config_relative(ctx, expand_path(ctx, "key_file", key_file));
        if (!path)
            return BC_ERR;
        if (access(path, R_OK) != 0) {
            bc_error(ctx, "cannot read key_file %s: %s", path, strerror(errno));
            free(path);
            return BC_ERR;
        }
        ssh_key key = NULL;
        if (ssh_pki_import_privkey_file(path, key_pass, NULL, NULL, &key) != SSH_OK) {
            if (key_pass)
                bc_error(ctx, "cannot load key_file %s: wrong key_password, or not a private key",
                         path);
            else
                bc_error(ctx, "cannot load key_file %s: it is encrypted (set key_password) or "
                         "not a private key", path);
            free(path);
            return BC_ERR;
        }
        rc = SSH_AUTH_DENIED;
        if (methods & SSH_AUTH_METHOD_PUBLICKEY)
            rc = ssh_userauth_publickey(s, NULL, key);
        ssh_key_free(key);
        TRIED("%skey_file %s", tried[0] ? ", " : "", path);
        free(path);
    } else if (methods & SSH_AUTH_METHOD_PUBLICKEY) {
        /* The agent ($SSH_AUTH_SOCK), then ~/.ssh/id_* and IdentityFile. */
        rc = ssh_userauth_publickey_auto(s, NULL, NULL);
        TRIED("%s%s", tried[0] ? ", " : "",
              getenv("SSH_AUTH_SOCK") ? "the ssh agent and default keys"
                                      : "default keys (no ssh agent: SSH_AUTH_SOCK is not set)");
    } else {
        rc = SSH_AUTH_DENIED;
    }
    if (rc == SSH_AUTH_ERROR) {
        bc_error(ctx, "cannot log in to %s: %s", c->where, ssh_get_error(s));
        return BC_ERR;
    }
    if (rc != SSH_AUTH_SUCCESS && password) {
        if (rc == SSH_AUTH_PARTIAL)
            methods = ssh_userauth_list(s, NULL);
        if (methods & SSH_AUTH_METHOD_PASSWORD) {
            rc = ssh_userauth_password(s, NULL, password);
            TRIED("%spassword", tried[0] ? ", " : "");
        }
        if (rc != SSH_AUTH_SUCCESS && rc != SSH_AUTH_ERROR &&
            (methods & SSH_AUTH_METHOD_INTERACTIVE)) {
            rc = kbdint_password(s, password);
            TRIED("%spassword (keyboard-interactive)", tried[0] ? ", " : "");
        }
        if (rc == SSH_AUTH_ERROR) {
            bc_error(ctx, "cannot log in to %s: %s", c->where, ssh_get_error(s));
            return BC_ERR;
        }
    }
    if (rc == SSH_AUTH_SUCCESS)
        return BC_OK;
    char accepts[128];
    methods_text(methods, accepts, sizeof accepts);
    bc_error(ctx, "authentication failed for %s: tried %s; the server accepts: %s%s", c->where,
             tried[0] ? tried : "nothing (no key_file, password or agent)", accepts,
             rc == SSH_AUTH_PARTIAL ? " (partial success: more factors required)" : "");
#undef TRIED
    return BC_ERR;
}

/* ---- open / close ------------------------------------------------------- */

static void set_keepalive(int fd, int64_t ms)
{
    if (fd < 0 || ms <= 0)
        return;
    int on = 1, idle = (int)((ms + 999) / 1000), cnt = 3;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof idle);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
#ifdef TCP_USER_TIMEOUT
    unsigned ut = (unsigned)(ms * 4 > 0xffffffffLL ? 0xffffffffu : (unsigned)(ms * 4));
    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof ut);
#endif
}

static void conn_free(sshconn *c)
{
    if (c->sftp)
        sftp_free(c->sftp);
    if (c->s) {
        if (ssh_is_connected(c->s))
            ssh_disconnect(c->s);
        ssh_free(c->s);
    }
    pthread_mutex_destroy(&c->mu);
    free(c->alias);
    free(c->where);
    free(c->tmpdir);
    free(c->dbuf);
    free(c->sbuf[0]);
    free(c->sbuf[1]);
    free(c);
}

/* The run's private directory on the host: scripts, pgid files, removed
 * at close (c->tmpdir).  BC_OK or BC_ERR (message set). */
static int make_private_dir(bc_ctx *ctx, sshconn *c, int64_t timeout_ms)
{
    /* Its name comes back on a marked line: the login shell's startup
     * files may print too. */
    int status = -1;
    char *o = NULL;
    int rc = ssh_run_script(ctx, c,
                        "umask 077; d=$(mktemp -d /tmp/benchctl.XXXXXXXX 2>/dev/null) || "
                        "{ d=/tmp/benchctl.$$$(date +%N 2>/dev/null); mkdir -m 700 \"$d\" || exit 1; }; "
                        "chmod 700 \"$d\" && printf 'BENCHCTL_TMPDIR=%s\\n' \"$d\"",
                        timeout_ms, &status, &o);
    if (rc == BC_OK) {
        char *d = o ? strstr(o, "BENCHCTL_TMPDIR=/tmp/benchctl.") : NULL;
        if (d && (d == o || d[-1] == '\n')) {
            d += strlen("BENCHCTL_TMPDIR=");
            d[strcspn(d, "\r\n")] = '\0';
        } else {
            d = NULL;
        }
        if (status != 0 || !d || strpbrk(d, "'\\ ")) {
            bc_error(ctx, "cannot create a private directory in /tmp on %s (exit status %d)",
                     c->where, status);
            rc = BC_ERR;
        } else {
            c->tmpdir = ssh_strdup(d);
        }
    }
    free(o);
    return rc;
}

/* ssh_connect (TCP, banner, key exchange) without blocking, so that
 * Ctrl-C and --timeout end a connection attempt to a host that does not
 * answer at once, not after connect_timeout.  BC_OK or BC_ERR (message
 * set; "interrupted" when the run was cancelled). */
static int connect_cancellable(bc_ctx *ctx, sshconn *c, int64_t timeout_ms)
{
    ssh_session s = c->s;
    int cfd = ctx->svc->cancel_fd(ctx);
    int64_t deadline = bc_mono_ms() + timeout_ms;
    ssh_set_blocking(s, 0);
    int r;
    for (;;) {
        r = ssh_connect(s);
        if (r != SSH_AGAIN)
            break;
        if (ctx->svc->cancelled(ctx)) {
            ssh_set_blocking(s, 1);
            bc_error(ctx, "connecting to %s: interrupted", c->where);
            return BC_ERR;
        }
        int64_t now = bc_mono_ms();
        if (now >= deadline) {
            ssh_set_blocking(s, 1);
            bc_error(ctx, "cannot connect to %s: no answer within %lld ms (connect_timeout)",
                     c->where, (long long)timeout_ms);
            return BC_ERR;
        }
        int fd = ssh_get_fd(s);
        struct pollfd fds[2];
        nfds_t n = 0;
        if (fd >= 0)
            fds[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
        if (cfd >= 0)
            fds[n++] = (struct pollfd){.fd = cfd, .events = POLLIN};
        /* Readable: the server spoke.  A TCP connect still in progress is
         * not seen by POLLIN (and POLLOUT is always true after it): look
         * again every 20 ms. */
        int wait_ms = deadline - now < 20 ? (int)(deadline - now) : 20;
        if (n)
            poll(fds, n, wait_ms);
        else
            usleep(10000);
    }
    ssh_set_blocking(s, 1);
    if (r != SSH_OK) {
        bc_error(ctx, "cannot connect to %s: %s", c->where, ssh_get_error(s));
        return BC_ERR;
    }
    return BC_OK;
}

static int ssh_op_open(bc_ctx *ctx, void **out)
{
    const char *ip = ctx->svc->opt_string(ctx, "ip");
    if (!ip || !*ip) {
        bc_error(ctx, "no ip: the ssh transport needs the host's address (hosts.<alias>.ip)");
        return BC_ERR;
    }
    sshconn_full *cf = calloc(1, sizeof *cf);
    if (!cf) {
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    sshconn *c = &cf->c;
    pthread_mutex_init(&c->mu, NULL);
    c->fd = -1;
    const char *alias = ctx->svc->fact(ctx, "host");
    c->alias = ssh_strdup(alias ? alias : ip);
    c->where = ssh_strdup(ip);
    c->s = ssh_new();
    if (!c->s) {
        bc_error(ctx, "cannot create an SSH session (libssh)");
        conn_free(c);
        return BC_ERR;
    }
    ssh_session s = c->s;
    int verbosity = SSH_LOG_NOLOG;
    ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
    ssh_options_set(s, SSH_OPTIONS_HOST, ip);
    if (ctx->svc->opt_bool(ctx, "ssh_config")) {
        if (ssh_options_parse_config(s, NULL) != SSH_OK)
            bc_log(ctx, BC_LOG_WARN, "host '%s': cannot apply ~/.ssh/config: %s", c->alias,
                   ssh_get_error(s));
    } else {
        int no = 0;
        ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no);
    }
    /* Explicit YAML keys win over ~/.ssh/config. */
    int64_t port = ctx->svc->opt_int(ctx, "port");
    if (port > 0) {
        unsigned p = (unsigned)port;
        ssh_options_set(s, SSH_OPTIONS_PORT, &p);
    }
    const char *user = ctx->svc->opt_string(ctx, "username");
    if (user && *user)
        ssh_options_set(s, SSH_OPTIONS_USER, user);
    const char *kh = ctx->svc->opt_string(ctx, "known_hosts");
    if (kh && *kh) {
        char *path = config_relative(ctx, expand_path(ctx, "known_hosts", kh));
        if (!path) {
            conn_free(c);
            return BC_ERR;
        }
        ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, path);
        free(path);
    }
    int64_t ct = ctx->svc->opt_duration_ms(ctx, "connect_timeout");
    if (ct <= 0)
        ct = 10000;
    long sec = (long)(ct / 1000), usec = (long)(ct % 1000) * 1000;
    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &sec);
    ssh_options_set(s, SSH_OPTIONS_TIMEOUT_USEC, &usec);
    int nodelay = 1;
    ssh_options_set(s, SSH_OPTIONS_NODELAY, &nodelay);
    ssh_set_counters(s, &cf->k.raw, &cf->k.payload);

    char *host = NULL, *uname = NULL;
    unsigned uport = 22;
    ssh_options_get(s, SSH_OPTIONS_HOST, &host);
    ssh_options_get(s, SSH_OPTIONS_USER, &uname);
    ssh_options_get_port(s, &uport);
    if (!uname) {
        /* libssh's default: the local user */
        char me[256];
        user_lookup(NULL, NULL, 0, me, sizeof me);
        if (me[0])
            ssh_options_set(s, SSH_OPTIONS_USER, me);
        ssh_options_get(s, SSH_OPTIONS_USER, &uname);
    }
    free(c->where);
    c->where = ssh_asprintf("%s%s%s:%u", uname ? uname : "", uname ? "@" : "",
                            host ? host : ip, uport);

    int rc = BC_ERR;
    int64_t t0 = bc_mono_ms();
    if (connect_cancellable(ctx, c, ct) != BC_OK)
        goto fail;
    if (check_host_key(ctx, c, host ? host : ip, uport) != BC_OK)
        goto fail;
    if (authenticate(ctx, c) != BC_OK)
        goto fail;
    c->fd = ssh_get_fd(s);
    set_keepalive(c->fd, ctx->svc->opt_duration_ms(ctx, "keepalive"));

    c->connect_ms = bc_mono_ms() - t0;
    const char *mode = ctx->svc->opt_string(ctx, "exec_mode");
    if (mode && strcmp(mode, "login_shell") == 0) {
        rc = make_private_dir(ctx, c, ct + 10000);
        if (rc == BC_OK) {
            char *o = ssh_asprintf("BENCHCTL_HOST_TMPDIR=%s\nconnect_ms=%lld\n", c->tmpdir,
                                   (long long)c->connect_ms);
            ctx->svc->output(ctx, BC_STREAM_STDOUT, o, strlen(o));
            free(o);
        }
    } else {
        rc = ssh_dispatch_start(ctx, c, ct + 10000);
    }
    if (rc != BC_OK)
        goto fail;
    bc_log(ctx, BC_LOG_DEBUG, "connected to %s, private directory %s", c->where, c->tmpdir);
    ssh_string_free_char(host);
    ssh_string_free_char(uname);
    *out = c;
    return BC_OK;
fail:
    ssh_string_free_char(host);
    ssh_string_free_char(uname);
    conn_free(c);
    return BC_ERR;
}

static void ssh_op_close(bc_ctx *ctx, void *cv)
{
    sshconn *c = cv;
    if (!c)
        return;
    const char *clk = ctx->svc->fact(ctx, "clock_at_close");
    if (clk && strcmp(clk, "1") == 0)
        ssh_dispatch_clock_report(ctx, c);
    ssh_exec_shutdown(ctx, c);
    conn_free(c);
}

/* The implementation's entry point, looked up by the plugin (shim.c) when
 * it first connects to an SSH host. */
__attribute__((visibility("default"))) const bc_host_ops *benchctl_ssh_impl(void);

static const bc_host_ops ops = {
    .size = sizeof(bc_host_ops),
    .open = ssh_op_open,
    .close = ssh_op_close,
    .start = ssh_op_start,
    .wait = ssh_op_wait,
    .stop = ssh_op_stop,
    .release = ssh_op_release,
    .get_file = ssh_op_get_file,
    .put_file = ssh_op_put_file,
};

const bc_host_ops *benchctl_ssh_impl(void)
{
    ssh_init(); /* once; libssh's destructor finalizes at exit */
    return &ops;
}
