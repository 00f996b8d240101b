/*
 * Publisher "conbench": sends a stored run to a Conbench server as
 * benchmark results, the way the benchconnect CLI does.
 *
 * Settings come from the environment first (CONBENCH_URL, CONBENCH_EMAIL,
 * CONBENCH_PASSWORD, CONBENCH_PROJECT_REPOSITORY, CONBENCH_PROJECT_COMMIT,
 * CONBENCH_PROJECT_PR_NUMBER, CONBENCH_PROJECT_BRANCH,
 * CONBENCH_MACHINE_INFO_NAME), then the config's publish: section.  The
 * password is only ever sent in the login request body: never logged,
 * never in a record.
 *
 * A session logs in once (POST /api/login/, session cookie kept by
 * libcurl's cookie engine) and reuses one connection for every request.
 * Connection errors and 5xx answers are retried with exponential backoff;
 * a 4xx is final and reported with the server's description.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include <benchctl/helpers.h>
#include <benchctl/plugin.h>

#include "conbench.h"

#define RESP_CAP (4 * 1024 * 1024)

typedef struct session {
    cb_conf conf;
    CURL *easy;
    struct curl_slist *headers;
    char errbuf[CURL_ERROR_SIZE];
    char *noproxy;
    bc_sb resp;
    size_t resp_len;
    long retries;
    int64_t timeout_ms;
    int dry;
} session;

/* ---- settings ------------------------------------------------------------------ */

/* The environment variable wins over the option. */
static const char *setting(bc_ctx *ctx, const char *env, const char *opt)
{
    const char *v = getenv(env);
    if (v && *v)
        return v;
    v = ctx->svc->opt_is_set(ctx, opt) ? ctx->svc->opt_string(ctx, opt) : NULL;
    return v && *v ? v : NULL;
}

static int read_conf(bc_ctx *ctx, cb_conf *c)
{
    c->url = setting(ctx, "CONBENCH_URL", "url");
    c->email = setting(ctx, "CONBENCH_EMAIL", "email");
    c->password = setting(ctx, "CONBENCH_PASSWORD", "password");
    c->repository = setting(ctx, "CONBENCH_PROJECT_REPOSITORY", "repository");
    c->commit = setting(ctx, "CONBENCH_PROJECT_COMMIT", "commit");
    c->pr_number = setting(ctx, "CONBENCH_PROJECT_PR_NUMBER", "pr_number");
    c->branch = setting(ctx, "CONBENCH_PROJECT_BRANCH", "branch");
    c->machine_name = setting(ctx, "CONBENCH_MACHINE_INFO_NAME", "machine_name");
    c->run_reason = ctx->svc->opt_string(ctx, "run_reason");
    if (!c->run_reason || !*c->run_reason)
        c->run_reason = "benchctl";
    const char *const *items = NULL;
    size_t n = ctx->svc->opt_list(ctx, "statistics", &items);
    c->nstats = 0;
    if (n == 0) {
        c->stats[c->nstats++] = "median";
        c->stats[c->nstats++] = "p99";
    }
    for (size_t i = 0; i < n; i++) {
        if (!cb_stat_known(items[i])) {
            bc_error(ctx, "publish.statistics: '%s' is not a statistic of results.json (use "
                          "mean, median, min, max, stddev, mad, p90, p95, p99, p999)", items[i]);
            return BC_ERR;
        }
        if (c->nstats == CB_MAX_STATS) {
            bc_error(ctx, "publish.statistics: at most %d statistics", CB_MAX_STATS);
            return BC_ERR;
        }
        c->stats[c->nstats++] = items[i];
    }
    return BC_OK;
}

/* ---- HTTP ------------------------------------------------------------------------ */

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
    session *s = user;
    size_t len = size * n;
    if (s->resp_len + len <= RESP_CAP) {
        bc_sb_append_n(&s->resp, data, len);
        s->resp_len += len;
    }
    return len;
}

/* The server's description of a failed request: {"description": "..."}
 * or {"description": {"field": ["message"]}} as one line (owned). */
static char *describe(const char *body)
{
    cJSON *j = body ? cJSON_Parse(body) : NULL;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "description");
    bc_sb sb = BC_SB_INIT;
    if (cJSON_IsString(d)) {
        bc_sb_append(&sb, d->valuestring);
    } else if (cJSON_IsObject(d)) {
        const cJSON *f;
        int first = 1;
        cJSON_ArrayForEach(f, d) {
            /* "_errors" holds messages about no field in particular */
            if (strcmp(f->string, "_errors") != 0)
                bc_sb_printf(&sb, "%sfield '%s': ", first ? "" : "; ", f->string);
            else if (!first)
                bc_sb_append(&sb, "; ");
            const cJSON *m;
            int firstm = 1;
            if (cJSON_IsArray(f)) {
                cJSON_ArrayForEach(m, f) {
                    char *t = cJSON_IsString(m) ? NULL : cJSON_PrintUnformatted(m);
                    bc_sb_printf(&sb, "%s%s", firstm ? "" : " ",
                                 t ? t : cJSON_IsString(m) ? m->valuestring : "?");
                    free(t);
                    firstm = 0;
                }
            } else {
                char *t = cJSON_IsString(f) ? NULL : cJSON_PrintUnformatted(f);
                bc_sb_append(&sb, t ? t : cJSON_IsString(f) ? f->valuestring : "?");
                free(t);
            }
            first = 0;
        }
    } else if (body && *body) { /* not JSON (a 5xx page): its first line */
        size_t n = strcspn(body, "\r\n");
        bc_sb_printf(&sb, "%.*s%s", (int)(n > 200 ? 200 : n), body, body[n] ? " ..." : "");
    } else {
        bc_sb_append(&sb, "no description");
    }
    cJSON_Delete(j);
    return bc_sb_steal(&sb);
}

/* Wait ms, or less when the run is cancelled; 0 when cancelled. */
static int backoff(bc_ctx *ctx, long ms)
{
    struct pollfd p = {.fd = ctx->svc->cancel_fd(ctx), .events = POLLIN};
    if (p.fd < 0) {
        usleep((useconds_t)ms * 1000);
        return !ctx->svc->cancelled(ctx);
    }
    return poll(&p, 1, (int)ms) == 0 && !ctx->svc->cancelled(ctx);
}

/* One request with retries on connection errors and 5xx.  Returns the
 * HTTP status (the body in s->resp), or -1 with the error set. */
static long request(bc_ctx *ctx, session *s, const char *method, const char *path,
                    const char *body)
{
    char url[2048];
    size_t ul = strlen(s->conf.url);
    snprintf(url, sizeof url, "%.*s%s", (int)(ul && s->conf.url[ul - 1] == '/' ? ul - 1 : ul),
             s->conf.url, path);
    long delay = 250;
    for (long attempt = 0;; attempt++) {
        bc_sb_free(&s->resp);
        s->resp = (bc_sb)BC_SB_INIT;
        s->resp_len = 0;
        s->errbuf[0] = '\0';
        curl_easy_setopt(s->easy, CURLOPT_URL, url);
        curl_easy_setopt(s->easy, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(s->easy, CURLOPT_HTTPGET, body ? 0L : 1L);
        if (!body)
            curl_easy_setopt(s->easy, CURLOPT_CUSTOMREQUEST, method);
        CURLcode rc = curl_easy_perform(s->easy);
        long status = 0;
        if (rc == CURLE_OK)
            curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
        if (rc == CURLE_OK && status < 500)
            return status;
        char why[512];
        if (rc != CURLE_OK)
            snprintf(why, sizeof why, "%s", s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc));
        else {
            char *d = describe(s->resp.buf);
            snprintf(why, sizeof why, "HTTP %ld: %s", status, d ? d : "");
            free(d);
        }
        if (attempt >= s->retries) {
            bc_error(ctx, "%s %s failed after %ld attempt%s: %s", method, url, attempt + 1,
                     attempt ? "s" : "", why);
            return -1;
        }
        bc_log(ctx, BC_LOG_WARN, "%s %s: %s; retrying in %ld ms (attempt %ld of %ld)", method,
               url, why, delay, attempt + 2, s->retries + 1);
        if (!backoff(ctx, delay)) {
            bc_error(ctx, "%s %s: cancelled while retrying (%s)", method, url, why);
            return -1;
        }
        delay = delay * 2 > 8000 ? 8000 : delay * 2;
    }
}

/* ---- operations -------------------------------------------------------------- */

static void sess_free(session *s)
{
    if (!s)
        return;
    if (s->easy)
        curl_easy_cleanup(s->easy);
    curl_slist_free_all(s->headers);
    bc_sb_free(&s->resp);
    free(s->noproxy);
    free(s);
}

static int login(bc_ctx *ctx, session *s)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "email", s->conf.email);
    cJSON_AddStringToObject(b, "password", s->conf.password);
    char *body = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    if (!body) {
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    long st = request(ctx, s, "POST", "/api/login/", body);
    memset(body, 0, strlen(body)); /* the password: not left in freed memory */
    free(body);
    if (st < 0)
        return BC_ERR;
    if (st == 204 || st == 200)
        return BC_OK;
    char *d = describe(s->resp.buf);
    bc_error(ctx, "Conbench at %s refused the login of %s (HTTP %ld: %s)", s->conf.url,
             s->conf.email, st, d ? d : "");
    free(d);
    return st == 400 || st == 401 || st == 403 ? BC_DENIED : BC_ERR;
}

static int op_open(bc_ctx *ctx, uint32_t flags, void **out)
{
    *out = NULL;
    session *s = calloc(1, sizeof *s);
    if (!s) {
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    s->dry = (flags & BC_PUBLISH_DRY_RUN) != 0;
    s->retries = (long)ctx->svc->opt_int(ctx, "retries");
    s->timeout_ms = ctx->svc->opt_duration_ms(ctx, "timeout");
    if (read_conf(ctx, &s->conf) != BC_OK) {
        sess_free(s);
        return BC_ERR;
    }
    if (s->dry) { /* nothing is sent: no server, no login */
        *out = s;
        return BC_OK;
    }
    const char *missing = !s->conf.url ? "CONBENCH_URL (or publish.url)"
                          : !s->conf.email ? "CONBENCH_EMAIL (or publish.email)"
                          : !s->conf.password ? "CONBENCH_PASSWORD (or publish.password)"
                                              : NULL;
    if (missing) {
        bc_error(ctx, "no %s: set it to publish to Conbench", missing);
        sess_free(s);
        return BC_ERR;
    }
    if (strncmp(s->conf.url, "http://", 7) != 0 && strncmp(s->conf.url, "https://", 8) != 0) {
        bc_error(ctx, "CONBENCH_URL '%s' is not an http:// or https:// URL", s->conf.url);
        sess_free(s);
        return BC_ERR;
    }
    s->easy = curl_easy_init();
    s->headers = curl_slist_append(NULL, "Content-Type: application/json");
    const char *np = getenv("NO_PROXY") ? getenv("NO_PROXY") : getenv("no_proxy");
    if (asprintf(&s->noproxy, "%s%slocalhost,127.0.0.1,::1", np && *np ? np : "",
                 np && *np ? "," : "") < 0)
        s->noproxy = NULL;
    if (!s->easy || !s->headers || !s->noproxy) {
        bc_error(ctx, "out of memory");
        sess_free(s);
        return BC_ERR;
    }
    CURL *e = s->easy;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers);
    curl_easy_setopt(e, CURLOPT_COOKIEFILE, ""); /* the session cookie, in memory only */
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(e, CURLOPT_NOPROXY, s->noproxy);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "benchctl-conbench/1.0");
    int rc = login(ctx, s);
    if (rc != BC_OK) {
        sess_free(s);
        return rc;
    }
    *out = s;
    return BC_OK;
}

static void op_close(bc_ctx *ctx, void *sess)
{
    (void)ctx;
    sess_free(sess);
}

static cJSON *read_json(bc_ctx *ctx, const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        bc_error(ctx, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    bc_sb sb = BC_SB_INIT;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        bc_sb_append_n(&sb, buf, n);
    fclose(f);
    char *text = bc_sb_steal(&sb);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!j)
        bc_error(ctx, "%s is not valid JSON", path);
    return j;
}

static int write_all(int fd, const char *s)
{
    size_t len = strlen(s);
    while (len > 0) {
        ssize_t w = write(fd, s, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        len -= (size_t)w;
    }
    return 0;
}

/* The ids of results the server holds for run_id (every page), appended
 * to ids.  BC_OK or BC_ERR (set). */
static int server_results(bc_ctx *ctx, session *s, const char *run_id, cJSON *ids)
{
    char *cursor = NULL;
    for (int page = 0; page < 1000; page++) {
        char path[1024];
        snprintf(path, sizeof path, "/api/benchmark-results/?run_id=%s&page_size=1000%s%s",
                 run_id, cursor ? "&cursor=" : "", cursor ? cursor : "");
        free(cursor);
        cursor = NULL;
        long st = request(ctx, s, "GET", path, NULL);
        if (st != 200) {
            if (st > 0) {
                char *d = describe(s->resp.buf);
                bc_error(ctx, "GET %s: HTTP %ld: %s", path, st, d ? d : "");
                free(d);
            }
            return BC_ERR;
        }
        cJSON *j = cJSON_Parse(s->resp.buf ? s->resp.buf : "");
        const cJSON *r;
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(j, "data")) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
            if (cJSON_IsString(id))
                cJSON_AddItemToArray(ids, cJSON_CreateString(id->valuestring));
        }
        const cJSON *next = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(j, "metadata"), "next_page_cursor");
        if (cJSON_IsString(next) && *next->valuestring) {
            char *esc = curl_easy_escape(s->easy, next->valuestring, 0);
            cursor = esc ? strdup(esc) : NULL;
            curl_free(esc);
        }
        cJSON_Delete(j);
        if (!cursor)
            return BC_OK;
    }
    free(cursor);
    bc_error(ctx, "GET results of run %s: more than 1000 pages", run_id);
    return BC_ERR;
}

/* DELETE every result in ids (an absent one is fine). */
static int delete_results(bc_ctx *ctx, session *s, const cJSON *ids)
{
    const cJSON *id;
    cJSON_ArrayForEach(id, ids) {
        char path[512];
        snprintf(path, sizeof path, "/api/benchmark-results/%s/", id->valuestring);
        long st = request(ctx, s, "DELETE", path, NULL);
        if (st < 0)
            return BC_ERR;
        if (st != 204 && st != 200 && st != 404) {
            char *d = describe(s->resp.buf);
            bc_error(ctx, "DELETE %s: HTTP %ld: %s", path, st, d ? d : "");
            free(d);
            return BC_ERR;
        }
    }
    return BC_OK;
}

static int write_record(bc_ctx *ctx, const char *path, const session *s, const char *run_id,
                        const cJSON *ids, const cJSON *not_sent)
{
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "server", s->conf.url);
    cJSON_AddStringToObject(rec, "run_id", run_id);
    cJSON_AddNumberToObject(rec, "results", cJSON_GetArraySize(ids));
    cJSON_AddItemToObject(rec, "ids", cJSON_Duplicate(ids, 1));
    cJSON_AddItemToObject(rec, "not_sent", cJSON_Duplicate(not_sent, 1));
    char *text = cJSON_Print(rec);
    cJSON_Delete(rec);
    FILE *f = text ? fopen(path, "we") : NULL;
    int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0)
        ok = 0;
    free(text);
    if (!ok) {
        bc_error(ctx, "cannot write the publish record %s: %s", path, strerror(errno));
        return BC_ERR;
    }
    return BC_OK;
}

static int op_send(bc_ctx *ctx, void *sess, const bc_publish_request *req)
{
    session *s = sess;
    char path[4096];
    if (!bc_path_join(path, sizeof path, req->run_dir, "metadata.json")) {
        bc_error(ctx, "run directory path too long: %s", req->run_dir);
        return BC_ERR;
    }
    cJSON *meta = read_json(ctx, path);
    if (!meta)
        return BC_ERR;
    cJSON *not_sent = cJSON_CreateArray();
    cJSON *ids = cJSON_CreateArray();
    cJSON *existing = cJSON_CreateArray();
    char run_id[160], err[512] = "";
    int rc = BC_ERR;
    cJSON *results = cb_build(&s->conf, meta, req->run_id, not_sent, run_id, sizeof run_id, err,
                              sizeof err);
    if (!results) {
        bc_error(ctx, "%s", err);
        goto out;
    }
    const cJSON *ns;
    cJSON_ArrayForEach(ns, not_sent)
        bc_log(ctx, BC_LOG_WARN, "run %s: not sent: %s", req->run_id, ns->valuestring);
    if (s->dry) {
        char *text = cJSON_Print(results);
        rc = text && write_all(req->out_fd, text) == 0 && write_all(req->out_fd, "\n") == 0
                 ? BC_OK : BC_ERR;
        if (rc != BC_OK)
            bc_error(ctx, "cannot write the payload: %s", strerror(errno));
        free(text);
        goto out;
    }
    if (cJSON_GetArraySize(results) == 0) {
        bc_error(ctx, "run %s has nothing Conbench can take: no repeated stage, no output "
                      "column with a convertible unit, no failed stage", req->run_id);
        goto out;
    }
    /* Idempotence: the server may already hold this run (sent before, its
     * record lost, or a forced re-send): never duplicate it. */
    if (server_results(ctx, s, run_id, existing) != BC_OK)
        goto out;
    if (cJSON_GetArraySize(existing) > 0) {
        if (!(req->flags & BC_PUBLISH_FORCE)) {
            bc_error(ctx, "Conbench at %s already has %d results of run %s (Conbench run %s); "
                          "--force replaces them", s->conf.url, cJSON_GetArraySize(existing),
                     req->run_id, run_id);
            goto out;
        }
    }
    const cJSON *r;
    cJSON_ArrayForEach(r, results) {
        char *body = cJSON_PrintUnformatted(r);
        long st = body ? request(ctx, s, "POST", "/api/benchmark-results/", body) : -1;
        free(body);
        if (st == 201 || st == 200) {
            cJSON *j = cJSON_Parse(s->resp.buf ? s->resp.buf : "");
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
            cJSON_AddItemToArray(ids, cJSON_CreateString(cJSON_IsString(id) ? id->valuestring
                                                                              : "?"));
            cJSON_Delete(j);
            continue;
        }
        if (st > 0) {
            char *d = describe(s->resp.buf);
            const cJSON *tags = cJSON_GetObjectItemCaseSensitive(r, "tags");
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(tags, "name");
            bc_error(ctx, "Conbench rejected result '%s' of run %s (HTTP %ld): %s",
                     cJSON_IsString(name) ? name->valuestring : "?", req->run_id, st,
                     d ? d : "");
            free(d);
        }
        /* all or nothing: take back what this attempt created, so that a
         * retry does not duplicate it */
        delete_results(ctx, s, ids);
        goto out;
    }
    /* a forced re-send replaces the old results only once the new ones
     * are all in: a failure leaves the server as it was */
    if (delete_results(ctx, s, existing) != BC_OK) {
        delete_results(ctx, s, ids);
        goto out;
    }
    rc = write_record(ctx, req->record_path, s, run_id, ids, not_sent);
out:
    cJSON_Delete(results);
    cJSON_Delete(meta);
    cJSON_Delete(not_sent);
    cJSON_Delete(ids);
    cJSON_Delete(existing);
    return rc;
}

static int plugin_init(bc_ctx *ctx, void **state)
{
    (void)state;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        bc_error(ctx, "libcurl could not be initialised");
        return BC_ERR;
    }
    return BC_OK;
}

static void plugin_fini(void *state)
{
    (void)state;
    curl_global_cleanup();
}

static const bc_option options[] = {
    {.name = "url", .type = BC_OPT_STRING, .help = "Conbench server (env CONBENCH_URL wins)"},
    {.name = "email", .type = BC_OPT_STRING, .help = "login (env CONBENCH_EMAIL wins)"},
    {.name = "password", .type = BC_OPT_STRING, .flags = BC_OPT_SECRET,
     .help = "login password (env CONBENCH_PASSWORD wins; prefer the environment)"},
    {.name = "repository", .type = BC_OPT_STRING,
     .help = "https://github.com/ORG/REPO (env CONBENCH_PROJECT_REPOSITORY wins)"},
    {.name = "commit", .type = BC_OPT_STRING,
     .help = "commit sha (env CONBENCH_PROJECT_COMMIT; default: the run's git commit)"},
    {.name = "pr_number", .type = BC_OPT_STRING,
     .help = "pull request number (env CONBENCH_PROJECT_PR_NUMBER)"},
    {.name = "branch", .type = BC_OPT_STRING,
     .help = "branch, ORG:BRANCH or BRANCH (env CONBENCH_PROJECT_BRANCH; default: the run's "
             "git branch)"},
    {.name = "machine_name", .type = BC_OPT_STRING,
     .help = "machine_info.name (env CONBENCH_MACHINE_INFO_NAME; default: the host name)"},
    {.name = "run_reason", .type = BC_OPT_STRING, .default_value = "benchctl",
     .help = "Conbench run_reason (commit, pull request, ...)"},
    {.name = "statistics", .type = BC_OPT_STRING_LIST,
     .help = "statistics of each output column to send (default: median, p99)"},
    {.name = "retries", .type = BC_OPT_INT, .default_value = "4", .min = 0, .max = 20,
     .help = "retries of a request after a connection error or a 5xx answer"},
    {.name = "timeout", .type = BC_OPT_DURATION, .default_value = "30s", .min = 100,
     .max = 3600000, .help = "time limit of one HTTP request"},
    {0},
};

static const bc_publisher_ops ops = {
    .size = sizeof ops, .open = op_open, .send = op_send, .close = op_close};

static const bc_plugin descriptor = {
    .abi = BC_PLUGIN_PREFIX,
    .kind = BC_KIND_PUBLISHER,
    .name = "conbench",
    .version = "1.0.0",
    .description = "send stored runs to a Conbench server as benchmark results",
    .options = options,
    .init = plugin_init,
    .fini = plugin_fini,
    .ops = &ops,
};

BC_PLUGIN_ENTRY(descriptor)
