/*
 * Validators "jsonl" (JSON Lines: one object per line, streamed) and "json"
 * (a top-level array of objects, read whole), on cJSON.  One source built
 * twice: BC_JSON_LINES selects the jsonl descriptor.  Each object must have
 * the declared columns as keys, with values of the declared types; every
 * problem names the line where its object starts.  See README.md.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include <benchctl/plugin.h>

#include "vcheck.h"

#define CHUNK (256 * 1024)

typedef struct jv {
    bc_ctx *ctx;
    vreport rep;
    vcol *cols;
    size_t ncols;
    int allow_extra;
    const cJSON **found; /* per declared column, in the current object */
    uint64_t objects;
} jv;

static const char *kind_of(const cJSON *x)
{
    if (cJSON_IsString(x))
        return "a string";
    if (cJSON_IsNumber(x))
        return "a number";
    if (cJSON_IsBool(x))
        return "a boolean";
    if (cJSON_IsNull(x))
        return "null";
    if (cJSON_IsObject(x))
        return "an object";
    if (cJSON_IsArray(x))
        return "an array";
    return "an invalid value";
}

/* The shortest "%g" text that reads back as v. */
static void number_text(double v, char *buf, size_t size)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* Report a problem with a JSON value (shown as its text). */
static void value_error(jv *v, uint64_t line, uint32_t column, const cJSON *x, const char *fmt,
                        const char *arg)
{
    char num[40];
    const char *text = NULL;
    char *printed = NULL;
    if (v->rep.errors < VR_MAX_SHOWN) { /* only render values that are shown */
        if (cJSON_IsString(x))
            text = x->valuestring;
        else if (cJSON_IsNumber(x)) {
            number_text(x->valuedouble, num, sizeof num);
            text = num;
        } else
            text = printed = cJSON_PrintUnformatted(x);
    }
    vr_error(&v->rep, line, column, text, text ? strlen(text) : 0, fmt, arg);
    cJSON_free(printed);
}

static const char *expected_of(vtype t)
{
    switch (t) {
    case VT_INTEGER: return "an integer";
    case VT_FLOAT: return "a float";
    case VT_TIMESTAMP: return "a timestamp (number or string)";
    default: return "a string";
    }
}

static void check_value(jv *v, size_t j, const cJSON *x, uint64_t line)
{
    vcol *c = &v->cols[j];
    const uint32_t col = (uint32_t)(j + 1);
    char why[200], msg[256];
    double secs;
    switch (c->type) {
    case VT_STRING:
        if (!cJSON_IsString(x))
            goto wrong_kind;
        c->count++;
        vcol_text(c, x->valuestring, strlen(x->valuestring));
        return;
    case VT_INTEGER:
    case VT_FLOAT:
        if (!cJSON_IsNumber(x))
            goto wrong_kind;
        if (c->type == VT_INTEGER) {
            double d = x->valuedouble;
            if (d != floor(d)) {
                value_error(v, line, col, x, "%s", "not an integer");
                return;
            }
            if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) {
                value_error(v, line, col, x, "%s", "integer out of range (64-bit)");
                return;
            }
        }
        if (isfinite(x->valuedouble)) {
            vcol_add(c, x->valuedouble);
            vcol_value(c, x->valuedouble);
        } else
            value_error(v, line, col, x, "%s", "number out of range");
        return;
    case VT_TIMESTAMP:
        if (cJSON_IsNumber(x)) {
            if (!isfinite(x->valuedouble)) {
                value_error(v, line, col, x, "%s", "number out of range");
                return;
            }
            if (c->fmt == TS_AUTO) {
                c->fmt = vts_detect_number(x->valuedouble);
                number_text(x->valuedouble, why, sizeof why);
                vts_log_detected(v->ctx, v->rep.path, c, line, why, strlen(why));
            }
            if (vts_number(c->fmt, x->valuedouble, &secs, why, sizeof why) != V_OK) {
                value_error(v, line, col, x, "%s", why);
                return;
            }
        } else if (cJSON_IsString(x)) {
            const char *s = x->valuestring;
            size_t n = strlen(s);
            if (n == 0) {
                value_error(v, line, col, x, "%s", "empty value, expected timestamp");
                return;
            }
            if (c->fmt == TS_AUTO) {
                c->fmt = vts_detect_text(s, n);
                if (c->fmt == TS_AUTO) {
                    value_error(v, line, col, x, "%s",
                                "cannot detect the timestamp format (expected a unix time or "
                                "an rfc3339/iso8601 date)");
                    return;
                }
                vts_log_detected(v->ctx, v->rep.path, c, line, s, n);
            }
            if (vts_parse(c->fmt, s, n, &secs, why, sizeof why) != V_OK) {
                value_error(v, line, col, x, "%s", why);
                return;
            }
        } else
            goto wrong_kind;
        vcol_add(c, secs);
        vcol_value(c, secs);
        return;
    }
wrong_kind:
    snprintf(msg, sizeof msg, "expected %s, found %s", expected_of(c->type), kind_of(x));
    value_error(v, line, col, x, "%s", msg);
}

static int find_declared(const jv *v, const char *name)
{
    for (size_t j = 0; j < v->ncols; j++)
        if (!strcmp(v->cols[j].name, name))
            return (int)j;
    return -1;
}

/* One object (a line of jsonl, an element of json) starting at `line`. */
static void check_object(jv *v, const cJSON *obj, uint64_t line)
{
    v->objects++;
    if (!cJSON_IsObject(obj)) {
        value_error(v, line, 0, obj, "expected a JSON object, found %s", kind_of(obj));
        return;
    }
    for (size_t j = 0; j < v->ncols; j++)
        v->found[j] = NULL;
    for (const cJSON *k = obj->child; k; k = k->next) {
        const char *key = k->string ? k->string : "";
        int j = find_declared(v, key);
        if (j < 0) {
            if (!v->allow_extra)
                vr_error(&v->rep, line, 0, key, strlen(key),
                         "unexpected key '%s' (not in data_schema.columns)", key);
        } else if (v->found[j])
            vr_error(&v->rep, line, (uint32_t)j + 1, key, strlen(key), "duplicate key '%s'", key);
        else
            v->found[j] = k;
    }
    for (size_t j = 0; j < v->ncols; j++) {
        if (v->found[j])
            check_value(v, j, v->found[j], line);
        else
            vr_error(&v->rep, line, (uint32_t)j + 1, NULL, 0, "missing key '%s'",
                     v->cols[j].name);
    }
}

static int only_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

#ifdef BC_JSON_LINES

/* ---- jsonl ------------------------------------------------------------- */

static void check_line(jv *v, const char *s, size_t n, uint64_t line)
{
    if (n && s[n - 1] == '\r')
        n--;
    if (line == 1 && n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) {
        s += 3; /* a UTF-8 byte order mark */
        n -= 3;
    }
    if (only_space(s, n))
        return; /* blank lines are ignored */
    const char *end = NULL;
    cJSON *obj = cJSON_ParseWithLengthOpts(s, n, &end, 0);
    if (!obj) {
        size_t at = end && end >= s && end <= s + n ? (size_t)(end - s) : n;
        /* cJSON points at the last byte when the line ends inside a value. */
        vr_error(&v->rep, line, 0, s, n, "invalid JSON (at byte %zu of the line)",
                 at < n ? at + 1 : n);
        v->objects++;
        return;
    }
    if (end && !only_space(end, (size_t)(s + n - end)))
        vr_error(&v->rep, line, 0, s, n, "unexpected text after the JSON value (at byte %zu of "
                 "the line); JSON Lines holds one value per line",
                 (size_t)(end - s) + 1);
    check_object(v, obj, line);
    cJSON_Delete(obj);
}

static int read_lines(jv *v, int fd, const char *path)
{
    bc_ctx *ctx = v->ctx;
    int64_t max_line = ctx->svc->opt_int(ctx, "max_line_bytes");
    if (max_line <= 0)
        max_line = 16 << 20;
    char *buf = malloc(CHUNK);
    char *carry = NULL; /* a line that spans reads */
    size_t clen = 0, ccap = 0;
    int skipping = 0;   /* inside a line that is too long */
    uint64_t line = 1;
    int rc = BC_OK;
    if (!buf) {
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    for (;;) {
        if (ctx->svc->cancelled(ctx)) {
            rc = BC_CANCELLED;
            break;
        }
        ssize_t got = read(fd, buf, CHUNK);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            bc_error(ctx, "cannot read %s: %s", path, strerror(errno));
            rc = BC_ERR;
            break;
        }
        if (got == 0)
            break;
        const char *p = buf, *e = buf + got;
        while (p < e) {
            const char *nl = memchr(p, '\n', (size_t)(e - p));
            const char *seg_end = nl ? nl : e;
            size_t seg = (size_t)(seg_end - p);
            if (skipping) {
                /* drop the rest of an overlong line */
            } else if (clen + seg > (size_t)max_line) {
                vr_error(&v->rep, line, 0, NULL, 0,
                         "line longer than max_line_bytes (%lld); skipped", (long long)max_line);
                clen = 0;
                skipping = 1;
            } else if (clen == 0 && nl) {
                check_line(v, p, seg, line); /* the whole line is in the buffer */
            } else {
                if (clen + seg > ccap) {
                    size_t ncap = ccap ? ccap : 64 * 1024;
                    while (ncap < clen + seg)
                        ncap *= 2;
                    char *nc = realloc(carry, ncap);
                    if (!nc) {
                        bc_error(ctx, "out of memory");
                        rc = BC_ERR;
                        goto out;
                    }
                    carry = nc;
                    ccap = ncap;
                }
                memcpy(carry + clen, p, seg);
                clen += seg;
                if (nl) {
                    check_line(v, carry, clen, line);
                    clen = 0;
                }
            }
            if (!nl)
                break;
            skipping = 0;
            line++;
            p = nl + 1;
        }
    }
    if (rc == BC_OK && clen)
        check_line(v, carry, clen, line); /* the last line has no newline */
out:
    free(carry);
    free(buf);
    if (rc == BC_OK && v->objects == 0 && v->rep.errors == 0)
        vr_error(&v->rep, 1, 0, NULL, 0, "empty file: no objects");
    return rc;
}

#else

/* ---- json -------------------------------------------------------------- */

/* Walks the array's text next to cJSON's tree to learn the line where each
 * element starts (cJSON keeps no positions).  The text is valid JSON. */
typedef struct scan {
    const char *p, *e;
    uint64_t line;
} scan;

static void skip_ws(scan *s)
{
    for (; s->p < s->e; s->p++) {
        char c = *s->p;
        if (c == '\n')
            s->line++;
        else if (c != ' ' && c != '\t' && c != '\r')
            break;
    }
}

/* Past one value; JSON strings hold no raw line breaks. */
static void skip_value(scan *s)
{
    int depth = 0;
    for (; s->p < s->e; s->p++) {
        char c = *s->p;
        if (c == '"') {
            for (s->p++; s->p < s->e && *s->p != '"'; s->p++)
                if (*s->p == '\\')
                    s->p++;
        } else if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']') {
            if (depth == 0)
                return;
            depth--;
        } else if (c == ',' && depth == 0)
            return;
        else if (c == '\n')
            s->line++;
    }
}

static uint64_t line_at(const char *s, const char *at)
{
    uint64_t line = 1;
    for (const char *p = s; p < at; p++)
        line += *p == '\n';
    return line;
}

static int read_array(jv *v, int fd, const char *path)
{
    bc_ctx *ctx = v->ctx;
    int64_t max_bytes = ctx->svc->opt_int(ctx, "max_bytes");
    if (max_bytes <= 0)
        max_bytes = 256 << 20;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > max_bytes) {
        bc_error(ctx, "%s is %lld bytes, more than max_bytes (%lld): JSON arrays are read whole; "
                 "raise max_bytes or write JSON Lines (format jsonl)",
                 path, (long long)st.st_size, (long long)max_bytes);
        return BC_ERR;
    }
    size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : CHUNK;
    size_t len = 0;
    char *text = malloc(cap);
    if (!text) {
        bc_error(ctx, "out of memory reading %s", path);
        return BC_ERR;
    }
    for (;;) {
        if (ctx->svc->cancelled(ctx)) {
            free(text);
            return BC_CANCELLED;
        }
        if (len + 1 >= cap) {
            size_t ncap = cap * 2;
            char *nt = realloc(text, ncap);
            if (!nt) {
                free(text);
                bc_error(ctx, "out of memory reading %s", path);
                return BC_ERR;
            }
            text = nt;
            cap = ncap;
        }
        size_t want = cap - 1 - len;
        ssize_t got = read(fd, text + len, want > CHUNK ? CHUNK : want);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            bc_error(ctx, "cannot read %s: %s", path, strerror(errno));
            free(text);
            return BC_ERR;
        }
        if (got == 0)
            break;
        len += (size_t)got;
        if (len > (size_t)max_bytes) {
            bc_error(ctx, "%s is more than max_bytes (%lld) long: JSON arrays are read whole; "
                     "raise max_bytes or write JSON Lines (format jsonl)",
                     path, (long long)max_bytes);
            free(text);
            return BC_ERR;
        }
    }
    text[len] = '\0';

    scan s = {text, text + len, 1};
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
        s.p += 3;
    skip_ws(&s);
    if (s.p == s.e) {
        vr_error(&v->rep, 1, 0, NULL, 0, "empty file: no JSON array");
        free(text);
        return BC_OK;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        const char *at = end && end >= text && end <= text + len ? end : text;
        size_t k = (size_t)(text + len - at);
        if (only_space(at, k)) {
            /* Name the last line with text on it. */
            while (at > text && (at[-1] == ' ' || at[-1] == '\t' || at[-1] == '\r' ||
                                 at[-1] == '\n'))
                at--;
            vr_error(&v->rep, line_at(text, at), 0, NULL, 0,
                     "invalid JSON: the file ends inside a value");
        }
        else
            vr_error(&v->rep, line_at(text, at), 0, at, k > 40 ? 40 : k, "invalid JSON");
        free(text);
        return BC_OK;
    }
    if (end && !only_space(end, (size_t)(text + len - end)))
        vr_error(&v->rep, line_at(text, end), 0, NULL, 0,
                 "unexpected text after the JSON array");
    if (!cJSON_IsArray(root)) {
        vr_error(&v->rep, s.line, 0, NULL, 0, "expected a JSON array of objects, found %s",
                 kind_of(root));
    } else {
        s.p++; /* '[' */
        for (const cJSON *el = root->child; el; el = el->next) {
            skip_ws(&s);
            check_object(v, el, s.line);
            skip_value(&s);
            if (s.p < s.e && *s.p == ',')
                s.p++;
        }
    }
    cJSON_Delete(root);
    free(text);
    return BC_OK;
}

#endif

/* ---- the operation ----------------------------------------------------- */

static int json_validate(bc_ctx *ctx, const bc_validate_request *req)
{
    jv v = {.ctx = ctx, .rep = {.ctx = ctx, .path = req->path}, .ncols = req->n_columns,
            .allow_extra = ctx->svc->opt_bool(ctx, "allow_extra_keys")};
    v.cols = calloc(v.ncols ? v.ncols : 1, sizeof *v.cols);
    v.found = calloc(v.ncols ? v.ncols : 1, sizeof *v.found);
    if (!v.cols || !v.found) {
        free(v.cols);
        free(v.found);
        bc_error(ctx, "out of memory");
        return BC_ERR;
    }
    char err[256];
    if (vcols_init(v.cols, req->columns, v.ncols, err, sizeof err)) {
        bc_error(ctx, "%s", err);
        free(v.cols);
        free(v.found);
        return BC_ERR;
    }
    vcols_connect(v.cols, v.ncols, ctx);
    int rc;
    int fd = open(req->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        bc_error(ctx, "cannot open %s: %s", req->path, strerror(errno));
        rc = BC_ERR;
    } else {
#ifdef BC_JSON_LINES
        rc = read_lines(&v, fd, req->path);
#else
        rc = read_array(&v, fd, req->path);
#endif
        close(fd);
        if (rc == BC_OK)
            rc = vr_finish(&v.rep, v.cols, v.ncols);
    }
    free(v.cols);
    free(v.found);
    return rc;
}

static const bc_option options[] = {
    {.name = "allow_extra_keys",
     .type = BC_OPT_BOOL,
     .default_value = "false",
     .min = 1, .max = 0,
     .help = "accept keys that are not in data_schema.columns"},
#ifdef BC_JSON_LINES
    {.name = "max_line_bytes",
     .type = BC_OPT_INT,
     .default_value = "16777216",
     .min = 1024,
     .max = 1073741824,
     .help = "longest line accepted (memory bound); longer lines are reported and skipped"},
#else
    {.name = "max_bytes",
     .type = BC_OPT_INT,
     .default_value = "268435456",
     .min = 1024,
     .max = 17179869184.0,
     .help = "largest file accepted: a JSON array is read whole (use jsonl for big outputs)"},
#endif
    {0},
};

static const bc_validator_ops ops = {
    .size = sizeof(bc_validator_ops),
    .validate = json_validate,
};

static const bc_plugin descriptor = {
    .abi = BC_PLUGIN_PREFIX,
    .kind = BC_KIND_VALIDATOR,
#ifdef BC_JSON_LINES
    .name = "jsonl",
    .description = "JSON Lines: one object per line with the declared keys and types, streamed",
#else
    .name = "json",
    .description = "a JSON array of objects with the declared keys and types (read whole)",
#endif
    .version = "1.0.0",
    .options = options,
    .ops = &ops,
};

BC_PLUGIN_ENTRY(descriptor)
