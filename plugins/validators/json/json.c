/*
 * Validators "jsonl" (JSON Lines: one object per line, streamed) and "json"
 * (a top-level array of objects, streamed element by element), on cJSON.  One source built
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

#ifdef BC_JSON_LINES

static int only_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

/* The offset of the first raw control byte (below 0x20: NUL, tab, …) in
 * the line, inside or outside a string, or n: JSON allows them nowhere
 * but as white space between tokens, and never NUL. */
static size_t raw_control(const char *s, size_t n)
{
    int in_str = 0, esc = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (in_str) {
            if (esc)
                esc = 0;
            else if (c == '\\')
                esc = 1;
            else if (c == '"')
                in_str = 0;
            else if (c < 0x20)
                return i;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == 0) {
            return i;
        }
    }
    return n;
}

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
    size_t bad = raw_control(s, n);
    if (bad < n) {
        vr_error(&v->rep, line, 0, NULL, 0, "a raw control character (byte 0x%02x) at byte %zu "
                 "of the line: JSON needs it escaped", (unsigned char)s[bad], bad + 1);
        v->objects++;
        return;
    }
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

/*
 * Streamed: the array's text is read in chunks and cut into its elements
 * by a small scanner (strings, escapes, nesting); each element alone goes
 * to cJSON.  Memory is bounded by the largest element (max_bytes), not by
 * the file.  The scanner checks the array's own syntax (the '[', the
 * commas, the ']', nothing after it); cJSON checks each element's.
 */
typedef struct arr {
    jv *v;
    enum { A_START, A_FIRST, A_ELEM, A_AFTER, A_END } state;
    char *el;            /* the current element's text */
    size_t len, cap, max;
    int depth, in_str, esc, skipping;
    uint64_t line, el_line;
    int bad;             /* the file's structure is broken: stop checking */
    int comma;           /* an element must follow (after a ',') */
    uint64_t text_line;  /* the last line with text on it */
} arr;

static void arr_error(arr *a, uint64_t line, const char *msg)
{
    vr_error(&a->v->rep, line, 0, NULL, 0, "%s", msg);
}

/* One whole element: parse and check it. */
static void arr_element(arr *a)
{
    if (a->skipping) {
        a->skipping = 0;
        a->len = 0;
        return;
    }
    size_t n = a->len;
    while (n && (a->el[n - 1] == ' ' || a->el[n - 1] == '\t' || a->el[n - 1] == '\r' ||
                 a->el[n - 1] == '\n'))
        n--;
    const char *end = NULL;
    cJSON *x = cJSON_ParseWithLengthOpts(a->el, n, &end, 0);
    if (!x || (end && end != a->el + n)) {
        size_t at = end && end >= a->el && end <= a->el + n ? (size_t)(end - a->el) : 0;
        uint64_t line = a->el_line;
        for (size_t i = 0; i < at; i++)
            line += a->el[i] == '\n';
        vr_error(&a->v->rep, line, 0, a->el + at, n - at > 40 ? 40 : n - at, "invalid JSON");
    } else {
        check_object(a->v, x, a->el_line);
    }
    cJSON_Delete(x);
    a->len = 0;
}

static int arr_keep(arr *a, char c)
{
    if (a->skipping)
        return BC_OK;
    if (a->len == a->max) {
        char msg[160];
        snprintf(msg, sizeof msg, "an element longer than max_bytes (%zu); skipped", a->max);
        arr_error(a, a->el_line, msg);
        a->skipping = 1;
        return BC_OK;
    }
    if (a->len == a->cap) {
        size_t ncap = a->cap ? a->cap * 2 : 64 * 1024;
        if (ncap > a->max)
            ncap = a->max;
        char *ne = realloc(a->el, ncap);
        if (!ne)
            return BC_ERR;
        a->el = ne;
        a->cap = ncap;
    }
    a->el[a->len++] = c;
    return BC_OK;
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* One byte of the file. */
static int arr_byte(arr *a, char c)
{
    if (a->bad)
        return BC_OK;
    switch (a->state) {
    case A_START:
        if (is_ws(c))
            break;
        if (c != '[') {
            arr_error(a, a->line, c == '{' ? "expected a JSON array of objects, found an object"
                                           : "expected a JSON array of objects");
            a->bad = 1;
            break;
        }
        a->state = A_FIRST;
        break;
    case A_FIRST:
    case A_AFTER:
        if (is_ws(c))
            break;
        if (c == ']') {
            if (a->comma) {
                arr_error(a, a->line, "invalid JSON: a ',' before the array's ']'");
                a->bad = 1;
            }
            a->state = A_END;
            break;
        }
        if (a->state == A_AFTER) {
            if (c != ',') {
                arr_error(a, a->line, "invalid JSON: expected ',' or ']' between the array's "
                                      "elements");
                a->bad = 1;
            } else {
                a->state = A_FIRST;
                a->comma = 1; /* an element must follow */
            }
            break;
        }
        if (c == ',') {
            arr_error(a, a->line, "invalid JSON: an element is missing (',' here)");
            a->bad = 1;
            break;
        }
        a->state = A_ELEM;
        a->depth = 0;
        a->comma = 0;
        a->el_line = a->line;
        /* fall through: the element's first byte */
        /* FALLTHROUGH */
    case A_ELEM:
        if (a->in_str) {
            if (a->esc)
                a->esc = 0;
            else if (c == '\\')
                a->esc = 1;
            else if (c == '"')
                a->in_str = 0;
            else if ((unsigned char)c < 0x20) {
                char msg[160];
                snprintf(msg, sizeof msg, "a raw control character (byte 0x%02x) inside a "
                         "string: JSON needs it escaped", (unsigned char)c);
                arr_error(a, a->line, msg);
                a->skipping = 1; /* this element is not checked further */
            }
            return arr_keep(a, c);
        }
        if (a->depth == 0 && (c == ',' || c == ']')) {
            arr_element(a);
            a->state = c == ']' ? A_END : A_FIRST;
            a->comma = c == ',';
            break;
        }
        if (c == '"')
            a->in_str = 1;
        else if (c == '{' || c == '[')
            a->depth++;
        else if (c == '}' || c == ']')
            a->depth--;
        else if (c == '\0') {
            arr_error(a, a->line, "invalid JSON: a NUL byte");
            a->bad = 1;
            break;
        }
        return arr_keep(a, c);
    case A_END:
        if (!is_ws(c)) {
            arr_error(a, a->line, "unexpected text after the JSON array");
            a->bad = 1;
        }
        break;
    }
    return BC_OK;
}

static int read_array(jv *v, int fd, const char *path)
{
    bc_ctx *ctx = v->ctx;
    int64_t max_bytes = ctx->svc->opt_int(ctx, "max_bytes");
    if (max_bytes <= 0)
        max_bytes = 16 << 20;
    char *buf = malloc(CHUNK);
    if (!buf) {
        bc_error(ctx, "out of memory reading %s", path);
        return BC_ERR;
    }
    arr a = {.v = v, .state = A_START, .max = (size_t)max_bytes, .line = 1};
    int rc = BC_OK, first = 1, any = 0;
    for (;;) {
        if (ctx->svc->cancelled(ctx)) {
            rc = BC_CANCELLED;
            break;
        }
        ssize_t got = read(fd, buf, CHUNK);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            bc_error(ctx, "cannot read %s: %s", path, strerror(errno));
            rc = BC_ERR;
            break;
        }
        if (got == 0)
            break;
        size_t i = 0;
        if (first && got >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
            i = 3; /* a UTF-8 byte order mark */
        first = 0;
        for (; i < (size_t)got && rc == BC_OK; i++) {
            if (!is_ws(buf[i])) {
                any = 1;
                a.text_line = a.line;
            }
            rc = arr_byte(&a, buf[i]);
            if (buf[i] == '\n')
                a.line++;
        }
        if (rc != BC_OK) {
            bc_error(ctx, "out of memory reading %s", path);
            break;
        }
    }
    if (rc == BC_OK && !a.bad) {
        if (!any)
            vr_error(&v->rep, 1, 0, NULL, 0, "empty file: no JSON array");
        else if (a.state != A_END)
            vr_error(&v->rep, a.text_line, 0, NULL, 0,
                     "invalid JSON: the file ends inside a value");
    }
    free(a.el);
    free(buf);
    return rc;
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
     .default_value = "16777216",
     .min = 1024,
     .max = 1073741824,
     .help = "largest element of the array accepted (memory bound); a larger one is reported "
             "and skipped"},
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
    .description = "a JSON array of objects with the declared keys and types, streamed",
#endif
    .version = "1.0.0",
    .options = options,
    .ops = &ops,
};

BC_PLUGIN_ENTRY(descriptor)
