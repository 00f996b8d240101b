/*
 * Probe "http": ready when a request to the target URL answers with an
 * accepted status (default: any 2xx) and, optionally, a body containing a
 * given string.
 *
 * The request is made by libcurl from benchctl's own machine (the
 * controller), whatever the stage's host.  One easy handle is kept across
 * the attempts of a check (so a keep-alive connection is reused); each
 * attempt runs it on a multi handle whose wait also watches the run's
 * cancellation fd.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include <benchctl/plugin.h>

#define BODY_CAP (1024 * 1024)

typedef struct hstate {
    CURL *easy;
    CURLM *multi;
    char errbuf[CURL_ERROR_SIZE];
    unsigned char accept[600]; /* accepted status codes */
    char want_text[128];       /* the status option, for messages */
    const char *body_want;     /* NULL: the body is not checked */
    char *body;
    size_t len;
    int truncated;
    char *noproxy;
} hstate;

/* ---- the `status` option ------------------------------------------------ */

/* Parse the status items ("2xx", "200", "200,204", a YAML list of those)
 * into accept[]; on error a message in err. */
static int parse_status(bc_ctx *ctx, unsigned char *accept, char *text, size_t tn, char *err,
                        size_t en)
{
    memset(accept, 0, 600);
    const char *const *items = NULL;
    size_t n = ctx->svc->opt_list(ctx, "status", &items);
    size_t used = 0;
    text[0] = '\0';
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = items[i];
        while (*p) {
            while (*p == ' ' || *p == ',')
                p++;
            const char *start = p;
            while (*p && *p != ',' && *p != ' ')
                p++;
            size_t len = (size_t)(p - start);
            if (!len)
                continue;
            char tok[16];
            if (len >= sizeof tok) {
                snprintf(err, en, "status '%.20s...' is not an HTTP status code (e.g. 200) or class "
                         "(e.g. 2xx)", start);
                return -1;
            }
            memcpy(tok, start, len);
            tok[len] = '\0';
            int ok = len == 3 && tok[0] >= '1' && tok[0] <= '5';
            int cls = ok && tolower((unsigned char)tok[1]) == 'x' &&
                      tolower((unsigned char)tok[2]) == 'x';
            if (ok && !cls)
                ok = isdigit((unsigned char)tok[1]) && isdigit((unsigned char)tok[2]);
            if (!ok) {
                snprintf(err, en, "status '%s' is not an HTTP status code (100-599, e.g. 200) or "
                         "class (e.g. 2xx)", tok);
                return -1;
            }
            if (cls) {
                int base = (tok[0] - '0') * 100;
                memset(accept + base, 1, 100);
            } else {
                /* three digits, checked above */
                accept[(tok[0] - '0') * 100 + (tok[1] - '0') * 10 + (tok[2] - '0')] = 1;
            }
            any = 1;
            if (used < tn) {
                int w = snprintf(text + used, tn - used, "%s%s", used ? "," : "", tok);
                used += w > 0 ? (size_t)w : 0;
            }
        }
    }
    if (!any) {
        snprintf(err, en, "status is empty; give a code (200), a class (2xx) or a list (200,204)");
        return -1;
    }
    return 0;
}

/* ---- validation --------------------------------------------------------- */

static int check_url(const char *target, char *err, size_t en)
{
    if (!strstr(target, "://")) {
        snprintf(err, en, "not a URL: it must start with http:// or https://");
        return -1;
    }
    CURLU *u = curl_url();
    if (!u) {
        snprintf(err, en, "out of memory");
        return -1;
    }
    int rc = -1;
    char *scheme = NULL, *host = NULL;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, target, CURLU_NON_SUPPORT_SCHEME);
    if (uc != CURLUE_OK) {
#if LIBCURL_VERSION_NUM >= 0x075000
        snprintf(err, en, "not a valid URL: %s", curl_url_strerror(uc));
#else
        snprintf(err, en, "not a valid URL (error %d)", (int)uc);
#endif
        goto out;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK || !scheme ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        snprintf(err, en, "the scheme '%s' is not supported: use http:// or https://",
                 scheme ? scheme : "");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host) {
        snprintf(err, en, "not a valid URL: no host");
        goto out;
    }
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

static int http_check_target(bc_ctx *ctx, const char *target)
{
    char err[300];
    if (check_url(target, err, sizeof err) != 0) {
        bc_error(ctx, "%s", err);
        return BC_ERR;
    }
    /* Option values whose syntax the schema cannot express are checked
     * here too (the message names the option). */
    unsigned char accept[600];
    char text[128];
    if (parse_status(ctx, accept, text, sizeof text, err, sizeof err) != 0) {
        bc_error(ctx, "option %s", err);
        return BC_ERR;
    }
    const char *method = ctx->svc->opt_string(ctx, "method");
    if (ctx->svc->opt_is_set(ctx, "body") && method && strcmp(method, "HEAD") == 0) {
        bc_error(ctx, "option body cannot be checked with method HEAD (a HEAD response has no "
                 "body); use method GET");
        return BC_ERR;
    }
    return BC_OK;
}

/* ---- the attempts ------------------------------------------------------- */

static size_t on_data(char *data, size_t size, size_t nmemb, void *user)
{
    hstate *s = user;
    size_t len = size * nmemb;
    if (!s->body_want)
        return len; /* discarded: nothing ever goes to stdout */
    size_t room = BODY_CAP - s->len;
    size_t take = len < room ? len : room;
    if (take < len)
        s->truncated = 1;
    if (take) {
        memcpy(s->body + s->len, data, take);
        s->len += take;
    }
    return len;
}

static void http_end(bc_ctx *ctx, void *state)
{
    (void)ctx;
    hstate *s = state;
    if (!s)
        return;
    if (s->multi)
        curl_multi_cleanup(s->multi);
    if (s->easy)
        curl_easy_cleanup(s->easy);
    free(s->body);
    free(s->noproxy);
    free(s);
}

static int http_begin(bc_ctx *ctx, const char *target, void **state)
{
    hstate *s = calloc(1, sizeof *s);
    if (!s) {
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    char err[300];
    if (parse_status(ctx, s->accept, s->want_text, sizeof s->want_text, err, sizeof err) != 0) {
        bc_error(ctx, "option %s", err);
        http_end(ctx, s);
        return BC_ERR;
    }
    if (ctx->svc->opt_is_set(ctx, "body")) {
        s->body_want = ctx->svc->opt_string(ctx, "body");
        s->body = malloc(BODY_CAP);
    }
    /* Loopback never goes through a proxy (as with Go's http client);
     * $no_proxy is kept. */
    const char *np = getenv("no_proxy");
    if (!np || !*np)
        np = getenv("NO_PROXY");
    size_t nl = (np ? strlen(np) : 0) + 64;
    s->noproxy = malloc(nl);
    s->easy = curl_easy_init();
    s->multi = curl_multi_init();
    if (!s->easy || !s->multi || !s->noproxy || (s->body_want && !s->body)) {
        bc_error(ctx, "cannot set up libcurl (out of memory?)");
        http_end(ctx, s);
        return BC_ERR;
    }
    snprintf(s->noproxy, nl, "%s%slocalhost,127.0.0.1,::1", np && *np ? np : "",
             np && *np ? "," : "");
    if (!(ctx->svc->host_caps(ctx) & BC_HOST_CAP_CONTROLLER)) {
        const char *host = ctx->svc->fact(ctx, "host");
        bc_log(ctx, BC_LOG_INFO, "requesting %s from benchctl's machine, not from host '%s' "
               "(the http probe always runs on the controller)", target, host ? host : "?");
    }
    const char *method = ctx->svc->opt_string(ctx, "method");
    int verify = ctx->svc->opt_bool(ctx, "tls_verify");
    int64_t limit = ctx->svc->opt_duration_ms(ctx, "request_timeout");
    CURL *e = s->easy;
    curl_easy_setopt(e, CURLOPT_URL, target);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(limit > 0 ? limit : 2000));
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "benchctl-probe-http/1.0.0");
    curl_easy_setopt(e, CURLOPT_NOPROXY, s->noproxy);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* decompress what the server sends */
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
    if (method && strcmp(method, "HEAD") == 0)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    *state = s;
    return BC_OK;
}

/* Run the transfer once; BC_OK with *res, or BC_CANCELLED / BC_ERR. */
static int perform(bc_ctx *ctx, hstate *s, CURLcode *res)
{
    CURLMcode mc = curl_multi_add_handle(s->multi, s->easy);
    if (mc != CURLM_OK) {
        bc_error(ctx, "libcurl: %s", curl_multi_strerror(mc));
        return BC_ERR;
    }
    int cfd = ctx->svc->cancel_fd(ctx);
    int rc = BC_ERR, done = 0;
    for (;;) {
        int running = 0;
        mc = curl_multi_perform(s->multi, &running);
        if (mc != CURLM_OK) {
            bc_error(ctx, "libcurl: %s", curl_multi_strerror(mc));
            break;
        }
        CURLMsg *m;
        int queued;
        while ((m = curl_multi_info_read(s->multi, &queued)) != NULL)
            if (m->msg == CURLMSG_DONE) {
                *res = m->data.result;
                done = 1;
            }
        if (done) {
            rc = BC_OK;
            break;
        }
        if (!running) {
            bc_error(ctx, "libcurl ended the transfer without a result");
            break;
        }
        struct curl_waitfd extra = {.fd = cfd, .events = CURL_WAIT_POLLIN};
        mc = curl_multi_poll(s->multi, cfd >= 0 ? &extra : NULL, cfd >= 0 ? 1 : 0, 1000, NULL);
        if (mc != CURLM_OK) {
            bc_error(ctx, "libcurl: %s", curl_multi_strerror(mc));
            break;
        }
        if ((cfd >= 0 && (extra.revents & CURL_WAIT_POLLIN)) || ctx->svc->cancelled(ctx)) {
            bc_error(ctx, "cancelled");
            rc = BC_CANCELLED;
            break;
        }
    }
    curl_multi_remove_handle(s->multi, s->easy);
    return rc;
}

static const char *errtext(hstate *s, CURLcode c)
{
    size_t n = strlen(s->errbuf);
    while (n && s->errbuf[n - 1] == '\n')
        s->errbuf[--n] = '\0';
    return n ? s->errbuf : curl_easy_strerror(c);
}

static int http_check(bc_ctx *ctx, void *state, const char *target, char *detail, size_t n)
{
    hstate *s = state;
    if (!s) {
        bc_error(ctx, "the probe was not prepared");
        return BC_ERR;
    }
    s->errbuf[0] = '\0';
    s->len = 0;
    s->truncated = 0;
    CURLcode res = CURLE_OK;
    int rc = perform(ctx, s, &res);
    if (rc != BC_OK)
        return rc;
    switch (res) {
    case CURLE_OK: {
        long code = 0;
        curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
        if (code < 100 || code > 599 || !s->accept[code]) {
            snprintf(detail, n, "HTTP %ld (expected %s)", code, s->want_text);
            return BC_NOT_READY;
        }
        if (s->body_want && *s->body_want &&
            !memmem(s->body, s->len, s->body_want, strlen(s->body_want))) {
            snprintf(detail, n, "HTTP %ld, but the body does not contain '%.100s'%s", code,
                     s->body_want, s->truncated ? " (in its first 1 MiB)" : "");
            return BC_NOT_READY;
        }
        return BC_OK;
    }
    case CURLE_COULDNT_CONNECT: {
        long os_errno = 0;
        curl_easy_getinfo(s->easy, CURLINFO_OS_ERRNO, &os_errno);
        if (os_errno > 0) {
            /* "connection refused", "no route to host", ... */
            snprintf(detail, n, "%s", strerror((int)os_errno));
            detail[0] = (char)tolower((unsigned char)detail[0]);
        } else {
            snprintf(detail, n, "cannot connect: %s", errtext(s, res));
        }
        return BC_NOT_READY;
    }
    case CURLE_OPERATION_TIMEDOUT:
        snprintf(detail, n, "no complete response within %lld ms (request_timeout)",
                 (long long)ctx->svc->opt_duration_ms(ctx, "request_timeout"));
        return BC_NOT_READY;
    case CURLE_COULDNT_RESOLVE_HOST:
        snprintf(detail, n, "cannot resolve the host: %s", errtext(s, res));
        return BC_NOT_READY;
    case CURLE_PEER_FAILED_VERIFICATION:
        bc_error(ctx, "the server's TLS certificate is not trusted: %s (set tls_verify: false "
                 "to accept it)", errtext(s, res));
        return BC_ERR;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
        bc_error(ctx, "cannot request %s: %s", target, errtext(s, res));
        return BC_ERR;
    default:
        snprintf(detail, n, "%s", errtext(s, res));
        return BC_NOT_READY;
    }
}

/* ---- the plugin --------------------------------------------------------- */

static int http_init(bc_ctx *ctx, void **state)
{
    (void)state;
    CURLcode c = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (c != CURLE_OK) {
        bc_error(ctx, "libcurl failed to initialise: %s", curl_easy_strerror(c));
        return BC_ERR;
    }
    return BC_OK;
}

static void http_fini(void *state)
{
    (void)state;
    curl_global_cleanup();
}

static const bc_option options[] = {
    {.name = "status",
     .type = BC_OPT_STRING_LIST,
     .default_value = "2xx",
     .help = "accepted status: a code (200), a class (2xx), or several (\"200,204\" or a list)"},
    {.name = "body",
     .type = BC_OPT_STRING,
     .help = "a fixed string the response body must contain (its first 1 MiB is searched)"},
    {.name = "tls_verify",
     .type = BC_OPT_BOOL,
     .default_value = "true",
     .help = "verify the server's TLS certificate and name (https)"},
    {.name = "method",
     .type = BC_OPT_ENUM,
     .default_value = "GET",
     .choices = "GET|HEAD",
     .help = "the request method"},
    {.name = "request_timeout",
     .type = BC_OPT_DURATION,
     .default_value = "2s",
     .min = 1,
     .max = 3600000,
     .help = "longest time one request (connect, send, full response) may take before it "
             "counts as not ready"},
    {0},
};

static const bc_probe_ops ops = {
    .size = sizeof(bc_probe_ops),
    .check_target = http_check_target,
    .begin = http_begin,
    .check = http_check,
    .end = http_end,
    .default_interval_ms = 10, /* a refused connect costs microseconds */
};

static const bc_plugin descriptor = {
    .abi = BC_PLUGIN_PREFIX,
    .kind = BC_KIND_PROBE,
    .name = "http",
    .version = "1.0.0",
    .description = "ready when an HTTP(S) request answers with an accepted status (and body)",
    .options = options,
    .init = http_init,
    .fini = http_fini,
    .ops = &ops,
};

BC_PLUGIN_ENTRY(descriptor)
