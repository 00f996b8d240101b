/*
 * Probe "port": ready when a TCP connection to the target port succeeds.
 *
 * The target is "PORT" (host 127.0.0.1), "HOST:PORT" or "[IPV6]:PORT".
 * On the controller itself (BC_HOST_CAP_CONTROLLER, or with
 * `on: controller`) one attempt is a non-blocking
 * connect() to every address the host resolves to, in turn, within
 * `connect_timeout`; the connection is closed at once.  On any other
 * host the attempt runs through the host's transport with bash's
 * /dev/tcp, so the host needs nothing but bash.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <benchctl/helpers.h>
#include <benchctl/plugin.h>

#define DEFAULT_HOST "127.0.0.1"

typedef struct target {
    char host[256]; /* without brackets */
    char port[8];   /* digits, leading zeros dropped */
    long num;
} target;

static int valid_name_char(int c) { return isalnum(c) || c == '.' || c == '-' || c == '_'; }

/* Parse "PORT", "HOST:PORT" or "[V6]:PORT"; on error a message in err. */
static int parse_target(const char *s, target *t, char *err, size_t n)
{
    memset(t, 0, sizeof *t);
    const char *port;
    if (!*s) {
        snprintf(err, n, "empty; expected PORT, HOST:PORT or [IPV6]:PORT");
        return -1;
    }
    for (const char *p = s; *p; p++)
        if (isspace((unsigned char)*p)) {
            snprintf(err, n, "contains a space; expected PORT, HOST:PORT or [IPV6]:PORT");
            return -1;
        }
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close) {
            snprintf(err, n, "missing ']' after the IPv6 address");
            return -1;
        }
        size_t len = (size_t)(close - s - 1);
        if (len == 0 || len >= sizeof t->host) {
            snprintf(err, n, "invalid IPv6 address between '[' and ']'");
            return -1;
        }
        memcpy(t->host, s + 1, len);
        /* the address part, without a %zone */
        char addr[256];
        snprintf(addr, sizeof addr, "%s", t->host);
        char *pct = strchr(addr, '%');
        if (pct)
            *pct = '\0';
        struct in6_addr a6;
        if (inet_pton(AF_INET6, addr, &a6) != 1) {
            snprintf(err, n, "'%s' is not an IPv6 address", t->host);
            return -1;
        }
        if (close[1] != ':' || !close[2]) {
            snprintf(err, n, "missing port after ']'; expected [IPV6]:PORT");
            return -1;
        }
        port = close + 2;
    } else {
        const char *colon = strchr(s, ':');
        if (colon && strchr(colon + 1, ':')) {
            snprintf(err, n, "an IPv6 address needs brackets, e.g. [::1]:8080");
            return -1;
        }
        if (colon) {
            size_t len = (size_t)(colon - s);
            if (len == 0) {
                snprintf(err, n, "missing host before ':'; expected HOST:PORT (or just PORT)");
                return -1;
            }
            if (!colon[1]) {
                snprintf(err, n, "missing port after ':'; expected HOST:PORT");
                return -1;
            }
            if (len >= sizeof t->host) {
                snprintf(err, n, "the host name is too long");
                return -1;
            }
            memcpy(t->host, s, len);
            for (const char *p = t->host; *p; p++)
                if (!valid_name_char((unsigned char)*p)) {
                    snprintf(err, n, "'%s' is not a valid host name or address", t->host);
                    return -1;
                }
            port = colon + 1;
        } else {
            snprintf(t->host, sizeof t->host, "%s", DEFAULT_HOST);
            port = s;
        }
    }
    for (const char *p = port; *p; p++)
        if (!isdigit((unsigned char)*p)) {
            snprintf(err, n, "'%s' is not a port number; expected PORT, HOST:PORT or [IPV6]:PORT",
                     port);
            return -1;
        }
    while (port[0] == '0' && port[1])
        port++;
    char *end = NULL;
    long num = strlen(port) > 5 ? 0 : strtol(port, &end, 10);
    if (!end || *end || num < 1 || num > 65535) {
        snprintf(err, n, "port %s is out of range (1-65535)", port);
        return -1;
    }
    t->num = num;
    snprintf(t->port, sizeof t->port, "%ld", t->num);
    return 0;
}

static int port_check_target(bc_ctx *ctx, const char *s)
{
    target t;
    char err[300];
    if (parse_target(s, &t, err, sizeof err) != 0) {
        bc_error(ctx, "%s", err);
        return BC_ERR;
    }
    return BC_OK;
}

/* strerror in lower case ("connection refused"). */
static void errtext(int e, char *out, size_t n)
{
    snprintf(out, n, "%s", strerror(e));
    if (out[0])
        out[0] = (char)tolower((unsigned char)out[0]);
}

static int same_endpoint(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return 0;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
        return x->sin6_port == y->sin6_port &&
               memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
    }
    return 0;
}

enum { C_READY, C_FAILED, C_TIMEOUT, C_CANCELLED };

/* One non-blocking connect to ai before deadline (monotonic ms). */
static int connect_one(bc_ctx *ctx, const struct addrinfo *ai, int64_t deadline, char *why,
                       size_t n)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
    if (fd < 0) {
        errtext(errno, why, n);
        return C_FAILED;
    }
    int rc = C_FAILED;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            errtext(errno, why, n);
            goto out;
        }
        int cfd = ctx->svc->cancel_fd(ctx);
        for (;;) {
            int64_t left = deadline - bc_mono_ms();
            if (left <= 0) {
                snprintf(why, n, "no answer");
                rc = C_TIMEOUT;
                goto out;
            }
            struct pollfd p[2] = {{.fd = fd, .events = POLLOUT}, {.fd = cfd, .events = POLLIN}};
            int r = poll(p, cfd >= 0 ? 2 : 1, (int)left);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                errtext(errno, why, n);
                goto out;
            }
            if (cfd >= 0 && (p[1].revents & POLLIN)) {
                rc = C_CANCELLED;
                goto out;
            }
            if (p[0].revents)
                break;
        }
        int e = 0;
        socklen_t el = sizeof e;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
            e = errno;
        if (e) {
            errtext(e, why, n);
            goto out;
        }
    }
    /* A connect to a closed port in the ephemeral range can pick that very
     * port as its source and "connect" to itself (TCP simultaneous open). */
    struct sockaddr_storage me, peer;
    socklen_t ml = sizeof me, pl = sizeof peer;
    if (getsockname(fd, (struct sockaddr *)&me, &ml) == 0 &&
        getpeername(fd, (struct sockaddr *)&peer, &pl) == 0 && same_endpoint(&me, &peer)) {
        snprintf(why, n, "connection refused (connected to itself)");
        goto out;
    }
    rc = C_READY;
out:
    close(fd);
    return rc;
}

static void addr_text(const struct addrinfo *ai, char *out, size_t n)
{
    char h[INET6_ADDRSTRLEN] = "?";
    if (ai->ai_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr, h,
                  sizeof h);
    else if (ai->ai_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)ai->ai_addr)->sin6_addr,
                  h, sizeof h);
    snprintf(out, n, ai->ai_family == AF_INET6 ? "[%s]" : "%s", h);
}

/* limit_what: what set limit_ms, for the message ("connect_timeout"). */
static int check_local(bc_ctx *ctx, const target *t, int64_t limit_ms, const char *limit_what,
                       char *detail, size_t n)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int g = getaddrinfo(t->host, t->port, &hints, &res);
    if (g != 0) {
        /* A name that does not resolve yet (a container starting) may later. */
        snprintf(detail, n, "cannot resolve '%s': %s", t->host,
                 g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
        return BC_NOT_READY;
    }
    int64_t deadline = bc_mono_ms() + limit_ms;
    int many = res->ai_next != NULL, timed_out = 0;
    size_t used = 0;
    detail[0] = '\0';
    int result = BC_NOT_READY;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        char why[160];
        int c = connect_one(ctx, ai, deadline, why, sizeof why);
        if (c == C_READY) {
            result = BC_OK;
            break;
        }
        if (c == C_CANCELLED) {
            bc_error(ctx, "cancelled");
            result = BC_CANCELLED;
            break;
        }
        if (c == C_TIMEOUT) {
            timed_out = 1;
            snprintf(why, sizeof why, "no answer within %lld ms (%s)", (long long)limit_ms,
                     limit_what);
        }
        char a[INET6_ADDRSTRLEN + 4] = "";
        if (many)
            addr_text(ai, a, sizeof a);
        if (used < n) {
            int w = snprintf(detail + used, n - used, "%s%s%s%s", used ? "; " : "", a,
                             many ? ": " : "", why);
            used += w > 0 ? (size_t)w : 0;
        }
        if (timed_out)
            break; /* the attempt's time is used up */
    }
    freeaddrinfo(res);
    return result;
}

/* The last non-empty line of s, without a leading "bash: ...: " chain. */
static void last_reason(const char *s, char *out, size_t n)
{
    bc_last_lines(s, 1, out, n);
    const char *start = out;
    for (const char *p = out; p[0] && p[1]; p++)
        if (p[0] == ':' && p[1] == ' ')
            start = p + 2;
    memmove(out, start, strlen(start) + 1);
    if (out[0])
        out[0] = (char)tolower((unsigned char)out[0]);
}

#define NO_BASH "benchctl-port-probe: no bash"

static int check_remote(bc_ctx *ctx, const target *t, int64_t limit_ms, char *detail, size_t n)
{
    /* The host was validated to [A-Za-z0-9._-] or an IPv6 address (hex,
     * ':', '.', '%' and a zone name), so it needs no quoting inside '...'. */
    for (const char *p = t->host; *p; p++)
        if (*p == '\'' || *p == '\\' || *p == '/') {
            bc_error(ctx, "host '%s' cannot be probed through a transport", t->host);
            return BC_ERR;
        }
    char cmd[600];
    snprintf(cmd, sizeof cmd,
             "command -v bash >/dev/null 2>&1 || { echo '" NO_BASH "'; exit 127; }; "
             "exec bash -c 'exec 3<>/dev/tcp/%s/%s' 2>&1",
             t->host, t->port);
    char out[2048];
    int status = -1;
    int rc = ctx->svc->host_exec(ctx, cmd, limit_ms, &status, out, sizeof out);
    if (rc == BC_TIMEOUT) {
        snprintf(detail, n, "no answer within %lld ms (connect_timeout)", (long long)limit_ms);
        return BC_NOT_READY;
    }
    if (rc != BC_OK)
        return rc;
    if (status == 0)
        return BC_OK;
    const char *host = ctx->svc->fact(ctx, "host");
    if (strstr(out, NO_BASH)) {
        bc_error(ctx, "host '%s' has no bash: on a host other than the local one the port probe "
                 "connects with bash's /dev/tcp; install bash there, or probe from benchctl's "
                 "machine with `on: controller`", host ? host : "?");
        return BC_ERR;
    }
    if (strstr(out, "/dev/tcp") && strstr(out, "No such file or directory")) {
        bc_error(ctx, "bash on host '%s' was built without /dev/tcp support, which the port probe "
                 "needs on a host other than the local one", host ? host : "?");
        return BC_ERR;
    }
    char why[256];
    last_reason(out, why, sizeof why);
    snprintf(detail, n, "%s", why[0] ? why : "cannot connect");
    return BC_NOT_READY;
}

static int port_check(bc_ctx *ctx, void *state, const char *s, char *detail, size_t n)
{
    (void)state;
    target t;
    char err[300];
    if (parse_target(s, &t, err, sizeof err) != 0) {
        bc_error(ctx, "target '%s': %s", s, err);
        return BC_ERR;
    }
    int64_t limit = ctx->svc->opt_duration_ms(ctx, "connect_timeout");
    if (limit < 1)
        limit = 1000;
    /* The controller itself: connect from here, no command on the host. */
    if (ctx->svc->host_caps(ctx) & BC_HOST_CAP_CONTROLLER) {
        /* An attempt never outlives the health check's timeout. */
        int64_t left = ctx->svc->time_left_ms(ctx);
        if (left >= 0 && left < limit)
            return check_local(ctx, &t, left > 0 ? left : 1, "the health check's timeout",
                               detail, n);
        return check_local(ctx, &t, limit, "connect_timeout", detail, n);
    }
    return check_remote(ctx, &t, limit, detail, n);
}

static const bc_option options[] = {
    {.name = "connect_timeout",
     .type = BC_OPT_DURATION,
     .default_value = "1s",
     .min = 1,
     .max = 3600000,
     .help = "longest time one connection attempt may take (all addresses of the host "
             "together) before it counts as not ready"},
    {0},
};

static const bc_probe_ops ops = {
    .size = sizeof(bc_probe_ops),
    .check_target = port_check_target,
    .check = port_check,
    .default_interval_ms = 10, /* a connect() to loopback costs microseconds */
};

static const bc_plugin descriptor = {
    .abi = BC_PLUGIN_PREFIX,
    .kind = BC_KIND_PROBE,
    .name = "port",
    .version = "1.0.0",
    .description = "ready when a TCP connection to a port succeeds",
    .options = options,
    .ops = &ops,
};

BC_PLUGIN_ENTRY(descriptor)
