/*
 * Value checks, timestamp parsing and error reporting shared by the
 * validator plugins.  See vcheck.h.
 */
#include "vcheck.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ISDIGIT(c) ((unsigned)((unsigned char)(c) - '0') < 10u)

static const char *const ts_names[] = {"auto",    "unix",         "unix_ms", "unix_us",
                                       "unix_ns", "rfc3339",      "rfc3339_nano",
                                       "iso8601"};

const char *vts_name(tsfmt f) { return ts_names[f]; }

static const char *type_name(vtype t)
{
    switch (t) {
    case VT_INTEGER: return "integer";
    case VT_FLOAT: return "float";
    case VT_TIMESTAMP: return "timestamp";
    default: return "string";
    }
}

int vcols_init(vcol *cols, const bc_column *decl, size_t n, char *err, size_t errsize)
{
    for (size_t i = 0; i < n; i++) {
        vcol *c = &cols[i];
        memset(c, 0, sizeof *c);
        c->name = decl[i].name ? decl[i].name : "";
        const char *t = decl[i].type ? decl[i].type : "string";
        if (!strcmp(t, "string"))
            c->type = VT_STRING;
        else if (!strcmp(t, "integer"))
            c->type = VT_INTEGER;
        else if (!strcmp(t, "float"))
            c->type = VT_FLOAT;
        else if (!strcmp(t, "timestamp"))
            c->type = VT_TIMESTAMP;
        else {
            snprintf(err, errsize,
                     "column '%s': unknown type '%s' (one of: timestamp, integer, float, string)",
                     c->name, t);
            return -1;
        }
        const char *f = decl[i].format;
        if (c->type == VT_TIMESTAMP && f && *f) {
            size_t k;
            for (k = 1; k < sizeof ts_names / sizeof *ts_names; k++)
                if (!strcmp(f, ts_names[k]))
                    break;
            if (k == sizeof ts_names / sizeof *ts_names) {
                snprintf(err, errsize,
                         "column '%s': unknown timestamp format '%s' (one of: unix, unix_ms, "
                         "unix_us, unix_ns, rfc3339, rfc3339_nano, iso8601)",
                         c->name, f);
                return -1;
            }
            c->fmt = (tsfmt)k;
        }
    }
    return 0;
}

/* ---- error reporting --------------------------------------------------- */

void vr_error(vreport *r, uint64_t line, uint32_t column, const char *value, size_t vlen,
              const char *fmt, ...)
{
    if (r->errors++ == 0) {
        r->first_line = line;
        r->first_column = column;
    }
    if (r->errors > VR_MAX_SHOWN)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char shown[224];
    if (value) {
        /* Long values are cut: the message must stay readable. */
        size_t n = vlen;
        if (n > 200) {
            memcpy(shown, value, 200);
            memcpy(shown + 200, "...", 4);
        } else {
            memcpy(shown, value, n);
            shown[n] = '\0';
        }
        value = shown;
    }
    r->ctx->svc->data_error(r->ctx, r->path, line, column, value, msg);
}

void vcols_connect(vcol *cols, size_t n, bc_ctx *ctx)
{
    if (!BC_HAS_SERVICE(ctx->svc, column_values) || !BC_HAS_SERVICE(ctx->svc, column_text))
        return; /* an ABI 1.0 core: summaries only */
    for (size_t i = 0; i < n; i++) {
        cols[i].ctx = ctx;
        cols[i].index = (uint32_t)i;
    }
}

void vcol_flush(vcol *c)
{
    if (c->ctx && c->nbatch)
        c->ctx->svc->column_values(c->ctx, c->index, c->batch, c->nbatch);
    c->nbatch = 0;
}

int vr_finish(vreport *r, vcol *cols, size_t n)
{
    bc_ctx *ctx = r->ctx;
    for (size_t i = 0; i < n; i++)
        vcol_flush(&cols[i]);
    if (r->errors > VR_MAX_SHOWN && BC_HAS_SERVICE(ctx->svc, data_errors_suppressed)) {
        ctx->svc->data_errors_suppressed(ctx, r->path, r->errors - VR_MAX_SHOWN);
    } else if (r->errors > VR_MAX_SHOWN) {
        /* A core before ABI 1.2 counts this line instead. */
        char msg[96];
        snprintf(msg, sizeof msg, "%llu more errors not shown",
                 (unsigned long long)(r->errors - VR_MAX_SHOWN));
        ctx->svc->data_error(ctx, r->path, 0, 0, NULL, msg);
    }
    for (size_t i = 0; i < n; i++) {
        const vcol *c = &cols[i];
        if (c->type == VT_FLOAT && c->nonfinite)
            bc_log(ctx, BC_LOG_WARN,
                   "%s: column '%s': %llu nan/inf values are valid but left out of the summary",
                   r->path, c->name, (unsigned long long)c->nonfinite);
        if (c->type == VT_STRING || c->count == 0)
            ctx->svc->column_summary(ctx, c->name, c->count, 0, 0, 0);
        else {
            double mean = c->base + (c->sum + c->comp) / (double)c->count;
            /* Rounding must not put the mean outside [min, max]. */
            if (mean < c->min)
                mean = c->min;
            if (mean > c->max)
                mean = c->max;
            ctx->svc->column_summary(ctx, c->name, c->count, c->min, c->max, mean);
        }
    }
    if (r->errors == 0)
        return BC_OK;
    bc_error(ctx, "%llu invalid value%s in %s (first at line %llu, column %u)",
             (unsigned long long)r->errors, r->errors == 1 ? "" : "s", r->path,
             (unsigned long long)r->first_line, r->first_column);
    return BC_ERR;
}

/* ---- numbers ----------------------------------------------------------- */

int vparse_int(const char *s, size_t n, int64_t *out)
{
    const char *p = s, *e = s + n;
    int neg = 0;
    if (p < e && (*p == '+' || *p == '-'))
        neg = *p++ == '-';
    if (p == e)
        return V_SYNTAX;
    uint64_t v = 0;
    const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    int range = 0;
    for (; p < e; p++) {
        unsigned d = (unsigned)((unsigned char)*p - '0');
        if (d > 9)
            return V_SYNTAX;
        if (v > (limit - d) / 10)
            range = 1; /* keep scanning: a later letter makes it a syntax error */
        else
            v = v * 10 + d;
    }
    if (range)
        return V_RANGE;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return V_OK;
}

static int ieq(const char *s, size_t n, const char *word)
{
    size_t k = strlen(word);
    if (n != k)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((s[i] | 0x20) != word[i])
            return 0;
    return 1;
}

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

int vparse_float(const char *s, size_t n, double *out)
{
    const char *p = s, *e = s + n;
    int neg = 0;
    if (p < e && (*p == '+' || *p == '-'))
        neg = *p++ == '-';
    if (p == e)
        return V_SYNTAX;
    if (!ISDIGIT(*p) && *p != '.') {
        size_t k = (size_t)(e - p);
        if (ieq(p, k, "inf") || ieq(p, k, "infinity"))
            *out = neg ? -INFINITY : INFINITY;
        else if (ieq(p, k, "nan"))
            *out = NAN;
        else
            return V_SYNTAX;
        return V_OK;
    }
    /* Fast path (Clinger): at most 15 significant digits and a power of
     * ten up to 22 are exact in a double, so one multiplication or division
     * gives the correctly rounded result.  Anything else goes to strtod. */
    uint64_t m = 0;
    int nd = 0, exp10 = 0, any = 0;
    for (; p < e && ISDIGIT(*p); p++) {
        any = 1;
        if (m == 0 && *p == '0')
            continue;
        if (nd < 19) {
            m = m * 10 + (uint64_t)(*p - '0');
            nd++;
        } else
            exp10++;
    }
    if (p < e && *p == '.') {
        for (p++; p < e && ISDIGIT(*p); p++) {
            any = 1;
            if (nd < 19) {
                if (m != 0 || *p != '0') {
                    m = m * 10 + (uint64_t)(*p - '0');
                    nd++;
                }
                exp10--;
            }
        }
    }
    if (!any)
        return V_SYNTAX;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < e && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        if (p == e || !ISDIGIT(*p))
            return V_SYNTAX;
        int ex = 0;
        for (; p < e && ISDIGIT(*p); p++)
            if (ex < 100000)
                ex = ex * 10 + (*p - '0');
        exp10 += eneg ? -ex : ex;
    }
    if (p != e)
        return V_SYNTAX;
    double v;
    if (m == 0)
        v = 0.0;
    else if (nd <= 15 && exp10 >= -22 && exp10 <= 22)
        v = exp10 < 0 ? (double)m / pow10_exact[-exp10] : (double)m * pow10_exact[exp10];
    else {
        errno = 0;
        char *end;
        v = strtod(s, &end); /* s[n] is NUL; the syntax is already checked */
        if (end != e)
            return V_SYNTAX; /* an embedded NUL byte */
        if (errno == ERANGE && isinf(v))
            return V_RANGE;
        *out = v; /* strtod applied the sign */
        return V_OK;
    }
    *out = neg ? -v : v;
    return V_OK;
}

/* ---- timestamps -------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static unsigned days_in_month(int y, unsigned m)
{
    static const unsigned char dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

/* Exactly k digits at *p (advancing it), or -1. */
static int take(const char **p, const char *e, int k)
{
    if (e - *p < k)
        return -1;
    int v = 0;
    for (int i = 0; i < k; i++) {
        char c = (*p)[i];
        if (!ISDIGIT(c))
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += k;
    return v;
}

static const char *ts_example(tsfmt f)
{
    switch (f) {
    case TS_UNIX: return "seconds, e.g. 1714564800 or 1714564800.25";
    case TS_UNIX_MS: return "integer milliseconds, e.g. 1714564800123";
    case TS_UNIX_US: return "integer microseconds, e.g. 1714564800123456";
    case TS_UNIX_NS: return "integer nanoseconds, e.g. 1714564800123456789";
    case TS_RFC3339: return "e.g. 2024-05-01T12:00:00Z or 2024-05-01T14:00:00.5+02:00";
    case TS_RFC3339_NANO: return "e.g. 2024-05-01T12:00:00.123456789Z";
    case TS_ISO8601: return "e.g. 2024-05-01, 2024-05-01T12:00, 2024-05-01 12:00:00.5+02:00";
    default: return "";
    }
}

static const char *ts_article(tsfmt f) { return f >= TS_RFC3339 ? "an" : "a"; }

#define SYNTAX_ERR()                                                                    \
    do {                                                                                \
        snprintf(why, whysize, "not %s %s timestamp (%s)", ts_article(f), ts_names[f], \
                 ts_example(f));                                                        \
        return V_SYNTAX;                                                                \
    } while (0)

#define RANGE_ERR(...)                                                         \
    do {                                                                       \
        int k_ = snprintf(why, whysize, "invalid %s timestamp: ", ts_names[f]); \
        if (k_ > 0 && (size_t)k_ < whysize)                                    \
            snprintf(why + k_, whysize - (size_t)k_, __VA_ARGS__);             \
        return V_RANGE;                                                        \
    } while (0)

/* rfc3339, rfc3339_nano and iso8601 (see README.md for the accepted forms). */
static int parse_text_ts(tsfmt f, const char *s, size_t n, double *secs, char *why,
                         size_t whysize)
{
    const int iso = f == TS_ISO8601;
    const char *p = s, *e = s + n;
    int y = take(&p, e, 4), mo, d;
    if (y < 0)
        SYNTAX_ERR();
    int basic = 0;
    if (p < e && *p == '-') {
        p++;
        if ((mo = take(&p, e, 2)) < 0 || p >= e || *p++ != '-' || (d = take(&p, e, 2)) < 0)
            SYNTAX_ERR();
    } else if (iso) {
        basic = 1;
        if ((mo = take(&p, e, 2)) < 0 || (d = take(&p, e, 2)) < 0)
            SYNTAX_ERR();
    } else
        SYNTAX_ERR();
    if (mo < 1 || mo > 12)
        RANGE_ERR("month %02d out of range 01-12", mo);
    unsigned dim = days_in_month(y, (unsigned)mo);
    if (d < 1 || (unsigned)d > dim)
        RANGE_ERR("day %02d out of range for %04d-%02d (01-%02u)", d, y, mo, dim);
    int h = 0, mi = 0, sec = 0;
    double frac = 0;
    int off = 0; /* zone offset in seconds */
    if (p == e) {
        if (!iso)
            SYNTAX_ERR();
        goto done;
    }
    if (*p == 'T' || *p == 't' || (iso && *p == ' '))
        p++;
    else
        SYNTAX_ERR();
    if ((h = take(&p, e, 2)) < 0)
        SYNTAX_ERR();
    int have_sec = 0;
    if (p < e && *p == ':') {
        p++;
        if ((mi = take(&p, e, 2)) < 0)
            SYNTAX_ERR();
        if (p < e && *p == ':') {
            p++;
            if ((sec = take(&p, e, 2)) < 0)
                SYNTAX_ERR();
            have_sec = 1;
        }
    } else if (iso && basic && (mi = take(&p, e, 2)) >= 0) {
        if ((sec = take(&p, e, 2)) >= 0)
            have_sec = 1;
        else
            sec = 0;
    } else
        SYNTAX_ERR();
    if (!have_sec && !iso)
        SYNTAX_ERR();
    if (have_sec && p < e && (*p == '.' || (iso && *p == ','))) {
        p++;
        int nd = 0;
        uint64_t fv = 0, scale = 1;
        for (; p < e && ISDIGIT(*p); p++, nd++)
            if (nd < 18) {
                fv = fv * 10 + (uint64_t)(*p - '0');
                scale *= 10;
            }
        if (nd == 0)
            SYNTAX_ERR();
        if (f == TS_RFC3339_NANO && nd > 9)
            RANGE_ERR("fraction has %d digits, at most 9 allowed", nd);
        frac = (double)fv / (double)scale;
    }
    if (h > 23)
        RANGE_ERR("hour %02d out of range 00-23", h);
    if (mi > 59)
        RANGE_ERR("minute %02d out of range 00-59", mi);
    if (sec > 60)
        RANGE_ERR("second %02d out of range 00-60", sec);
    if (p == e) {
        if (!iso)
            RANGE_ERR("missing time zone (Z or +hh:mm)");
        goto done;
    }
    if (*p == 'Z' || *p == 'z')
        p++;
    else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1;
        int oh = take(&p, e, 2), om = 0;
        if (oh < 0)
            SYNTAX_ERR();
        if (p < e && *p == ':') {
            p++;
            if ((om = take(&p, e, 2)) < 0)
                SYNTAX_ERR();
        } else if (!iso)
            SYNTAX_ERR();
        else if (p < e && (om = take(&p, e, 2)) < 0)
            SYNTAX_ERR();
        if (oh > 23 || om > 59)
            RANGE_ERR("zone offset %c%02d:%02d out of range", sign < 0 ? '-' : '+', oh, om);
        off = sign * (oh * 3600 + om * 60);
    } else
        SYNTAX_ERR();
    if (p != e)
        SYNTAX_ERR();
done:
    *secs = (double)(days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 +
                     mi * 60 + sec - off) +
            frac;
    return V_OK;
}

int vts_parse(tsfmt f, const char *s, size_t n, double *secs, char *why, size_t whysize)
{
    int64_t iv;
    int rc;
    switch (f) {
    case TS_UNIX: {
        /* Integer or decimal seconds: [+-]?digits(.digits)?, no exponent. */
        const char *p = s, *e = s + n;
        if (p < e && (*p == '-' || *p == '+'))
            p++;
        const char *d0 = p;
        while (p < e && ISDIGIT(*p))
            p++;
        if (p == d0)
            SYNTAX_ERR();
        if (p < e && *p == '.') {
            const char *f0 = ++p;
            while (p < e && ISDIGIT(*p))
                p++;
            if (p == f0)
                SYNTAX_ERR();
        }
        if (p != e)
            SYNTAX_ERR();
        if (vparse_float(s, n, secs) != V_OK)
            SYNTAX_ERR();
        return V_OK;
    }
    case TS_UNIX_MS:
    case TS_UNIX_US:
    case TS_UNIX_NS:
        rc = vparse_int(s, n, &iv);
        if (rc == V_SYNTAX)
            SYNTAX_ERR();
        if (rc == V_RANGE) {
            snprintf(why, whysize, "%s timestamp out of range (64-bit)", ts_names[f]);
            return V_RANGE;
        }
        *secs = f == TS_UNIX_MS ? (double)iv / 1e3
              : f == TS_UNIX_US ? (double)iv / 1e6
                                : (double)iv / 1e9;
        return V_OK;
    case TS_RFC3339:
    case TS_RFC3339_NANO:
    case TS_ISO8601:
        return parse_text_ts(f, s, n, secs, why, whysize);
    default:
        snprintf(why, whysize, "no timestamp format");
        return V_SYNTAX;
    }
}

static tsfmt by_magnitude(double a)
{
    if (a < 0)
        a = -a;
    if (a < 1e11)
        return TS_UNIX; /* seconds up to the year 5138 */
    if (a < 1e14)
        return TS_UNIX_MS;
    if (a < 1e17)
        return TS_UNIX_US;
    return TS_UNIX_NS;
}

tsfmt vts_detect_text(const char *s, size_t n)
{
    double v;
    char why[160];
    const char *p = s, *e = s + n;
    if (p < e && (*p == '-' || *p == '+'))
        p++;
    int dot = 0, digits = 0;
    for (; p < e; p++) {
        if (ISDIGIT(*p))
            digits++;
        else if (*p == '.' && !dot)
            dot = 1;
        else
            break;
    }
    if (p == e && digits > 0) {
        if (dot)
            return vts_parse(TS_UNIX, s, n, &v, why, sizeof why) == V_OK ? TS_UNIX : TS_AUTO;
        if (digits > 19)
            return TS_AUTO;
        if (vparse_float(s, n, &v) != V_OK)
            return TS_AUTO;
        return by_magnitude(v);
    }
    if (parse_text_ts(TS_RFC3339, s, n, &v, why, sizeof why) == V_OK)
        return TS_RFC3339;
    if (parse_text_ts(TS_ISO8601, s, n, &v, why, sizeof why) == V_OK)
        return TS_ISO8601;
    return TS_AUTO;
}

tsfmt vts_detect_number(double v)
{
    if (!isfinite(v))
        return TS_AUTO;
    if (v != floor(v))
        return TS_UNIX;
    return by_magnitude(v);
}

int vts_number(tsfmt f, double v, double *secs, char *why, size_t whysize)
{
    switch (f) {
    case TS_UNIX:
        *secs = v;
        return V_OK;
    case TS_UNIX_MS:
    case TS_UNIX_US:
    case TS_UNIX_NS:
        if (v != floor(v) || !(fabs(v) < 9223372036854775808.0)) {
            snprintf(why, whysize, "not a %s timestamp (%s)", ts_names[f], ts_example(f));
            return V_SYNTAX;
        }
        *secs = f == TS_UNIX_MS ? v / 1e3 : f == TS_UNIX_US ? v / 1e6 : v / 1e9;
        return V_OK;
    default:
        snprintf(why, whysize, "not an %s timestamp: a number, expected a string (%s)",
                 ts_names[f], ts_example(f));
        return V_SYNTAX;
    }
}

void vts_log_detected(bc_ctx *ctx, const char *path, vcol *c, uint64_t line, const char *value,
                      size_t vlen)
{
    c->detected = 1;
    int k = vlen > 64 ? 64 : (int)vlen;
    bc_log(ctx, BC_LOG_INFO,
           "%s: column '%s' declares no timestamp format; detected %s from '%.*s' (line %llu)",
           path, c->name, ts_names[c->fmt], k, value, (unsigned long long)line);
}

/* ---- generic value check ---------------------------------------------- */

int vcheck_text(const vcol *c, const char *s, size_t n, double *x, char *why, size_t whysize)
{
    int rc;
    if (n == 0 && c->type != VT_STRING) {
        snprintf(why, whysize, "empty value, expected %s", type_name(c->type));
        return V_SYNTAX;
    }
    switch (c->type) {
    case VT_INTEGER: {
        int64_t v;
        rc = vparse_int(s, n, &v);
        if (rc == V_OK)
            *x = (double)v;
        else
            snprintf(why, whysize, rc == V_RANGE ? "integer out of range (64-bit)"
                                                 : "not an integer");
        return rc;
    }
    case VT_FLOAT:
        rc = vparse_float(s, n, x);
        if (rc != V_OK)
            snprintf(why, whysize, rc == V_RANGE ? "float out of range" : "not a float");
        return rc;
    case VT_TIMESTAMP:
        return vts_parse(c->fmt, s, n, x, why, whysize);
    default:
        return V_OK;
    }
}

uint64_t vcount_breaks(const char *s, size_t n)
{
    uint64_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            k++;
        else if (s[i] == '\r') {
            k++;
            if (i + 1 < n && s[i + 1] == '\n')
                i++;
        }
    }
    return k;
}
