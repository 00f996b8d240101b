/*
 * Collation of a fanned-out stage (fanout.h): the nodes' files of each
 * output with a data_schema, <output>/node-<k><ext>, merged in node order
 * into one dataset <output><ext> with two columns added, `node` and
 * `host`, then validated as one file against the schema plus those two
 * columns; its statistics (exact: every value of every node) are the
 * stage's.  CSV (libcsv: the first file's header, then every file's rows)
 * and JSON Lines (cJSON: each object gets the two keys).  Streaming: the
 * memory does not depend on the files' sizes.
 *
 * Timestamps are put on the controller's clock: in the columns the schema
 * declares `type: timestamp` with a numeric format (unix, unix_ms, unix_us,
 * unix_ns, or none: the unit by magnitude, as the validators detect it),
 * each node's values are moved by its host's clock offset (hosts.c),
 * rounded to the value's own precision (the digits it has after the
 * point; whole numbers stay whole).  Text timestamps (rfc3339, iso8601)
 * are kept as written, with a warning when their host's offset is not 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <csv.h>
#include <cjson/cJSON.h>

#include "util/beneath.h"
#include "util/log.h"
#include "util/wfail.h"
#include "run/run.h"
#include "run/fanout.h"

#define CHUNK (256 * 1024)

/* One CSV field as written: quoted only when it must be. */
static void put_field(strbuf *sb, const char *s, size_t len)
{
    bool quote = len == 0 ? false : memchr(s, ',', len) || memchr(s, '"', len) ||
                                        memchr(s, '\n', len) || memchr(s, '\r', len);
    if (!quote) {
        sb_add(sb, s, len);
        return;
    }
    sb_add(sb, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            sb_add(sb, "\"", 1);
        sb_add(sb, s + i, 1);
    }
    sb_add(sb, "\"", 1);
}

/* ---- timestamps onto the controller's clock ------------------------------ */

/* Seconds per unit of a numeric timestamp column's format (by the
 * magnitude of v when it declares none); 0: a text format. */
static double ts_unit(const char *format, double v)
{
    if (!format) {
        v = fabs(v);
        return v < 1e11 ? 1 : v < 1e14 ? 1e-3 : v < 1e17 ? 1e-6 : 1e-9;
    }
    static const struct { const char *name; double unit; } units[] = {
        {"unix", 1}, {"unix_ms", 1e-3}, {"unix_us", 1e-6}, {"unix_ns", 1e-9}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(format, units[i].name) == 0)
            return units[i].unit;
    return 0;
}

static bool ts_text_format(const cfg_column *c)
{
    return c->format && ts_unit(c->format, 0) == 0;
}

/* The CSV field s[0..len) of timestamp column c moved back by off_s
 * seconds into out; false (out untouched) when it is not a plain number:
 * the field is then written as it is (the validator judges it). */
static bool ts_shift_text(const cfg_column *c, const char *s, size_t len, double off_s,
                          strbuf *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    size_t i = buf[0] == '-' || buf[0] == '+';
    size_t digits = 0, decimals = 0;
    bool dot = false;
    for (; i < len; i++) {
        if (buf[i] >= '0' && buf[i] <= '9')
            digits++, decimals += dot;
        else if (buf[i] == '.' && !dot)
            dot = true;
        else
            return false;
    }
    if (!digits)
        return false;
    char *end;
    double v = strtod(buf, &end);
    double unit = ts_unit(c->format, v);
    if (end != buf + len || unit == 0)
        return false;
    double shift = off_s / unit;
    if (!dot) {
        errno = 0;
        long long iv = strtoll(buf, &end, 10);
        if (errno || end != buf + len)
            return false;
        sb_printf(out, "%lld", iv - llround(shift));
    } else {
        sb_printf(out, "%.*f", (int)decimals, v - shift);
    }
    return true;
}

/* The JSON value of timestamp column c moved back by off_s seconds (a
 * number only: text is kept). */
static void ts_shift_json(const cfg_column *c, cJSON *v, double off_s)
{
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return;
    double x = v->valuedouble, unit = ts_unit(c->format, x);
    if (unit == 0)
        return;
    double shift = off_s / unit;
    if (x == floor(x) && fabs(x) < 9007199254740992.0)
        cJSON_SetNumberValue(v, x - (double)llround(shift));
    else
        cJSON_SetNumberValue(v, x - shift);
}

/* The offset (seconds) to take off the timestamps of node files from h:
 * 0 on the controller or when unknown.  Warns once per output and host
 * when a text timestamp column cannot be moved. */
static double node_offset_s(const cfg_stage *st, const cfg_output *o, hostconn *h, bool *warned)
{
    double off_ms = hostconn_clock(h);
    if (off_ms == 0)
        return 0;
    for (size_t c = 0; c < o->ncolumns && !*warned; c++)
        if (o->columns[c].type && strcmp(o->columns[c].type, "timestamp") == 0 &&
            ts_text_format(&o->columns[c])) {
            *warned = true;
            log_msg(BC_LOG_WARN, "stage '%s': output '%s': column '%s' (%s) is kept as written: "
                    "only numeric timestamps are moved onto the controller's clock (host '%s' "
                    "is %.3f ms off)", st->name, o->name, o->columns[c].name,
                    o->columns[c].format, h->cfg->alias, off_ms);
        }
    return off_ms / 1e3;
}

typedef struct csv_merge {
    FILE *out;
    const cfg_output *o;
    const cfg_column **ts; /* per field of the first header: its timestamp column */
    size_t nts;
    double off_s;         /* the current file's host's clock offset */
    bool warned;          /* text timestamps not moved: said once */
    strbuf row;       /* the current record, encoded */
    size_t fields;    /* in the current record */
    bool in_header;   /* the current file's first record */
    strbuf header;    /* the first file's header, encoded */
    strbuf suffix;    /* ",<node>,<host>\n" */
    char *error;      /* the first problem (owned) */
    const char *path; /* the file being read (relative) */
    uint64_t rows;
} csv_merge;

static void csv_field(void *s, size_t len, void *data)
{
    csv_merge *m = data;
    size_t idx = m->fields++;
    if (idx)
        sb_add(&m->row, ",", 1);
    if (m->in_header && !m->header.buf && s) {
        /* the first header: which fields are timestamp columns */
        const cfg_column *tc = NULL;
        for (size_t c = 0; c < m->o->ncolumns; c++) {
            const cfg_column *col = &m->o->columns[c];
            if (col->type && strcmp(col->type, "timestamp") == 0 && strlen(col->name) == len &&
                memcmp(col->name, s, len) == 0 && !ts_text_format(col))
                tc = col;
        }
        if (tc) {
            m->ts = xrealloc(m->ts, (idx + 1) * sizeof *m->ts);
            for (size_t k = m->nts; k < idx; k++)
                m->ts[k] = NULL;
            m->ts[idx] = tc;
            m->nts = idx + 1;
        }
    } else if (!m->in_header && m->off_s != 0 && idx < m->nts && m->ts[idx] && s) {
        strbuf v = {0};
        bool moved = ts_shift_text(m->ts[idx], s, len, m->off_s, &v);
        if (moved)
            put_field(&m->row, v.buf, v.len);
        sb_free(&v);
        if (moved)
            return;
    }
    put_field(&m->row, s ? s : "", s ? len : 0);
}

static void csv_record(int c, void *data)
{
    csv_merge *m = data;
    (void)c;
    if (m->in_header) {
        m->in_header = false;
        if (!m->header.buf) {
            sb_add(&m->header, m->row.buf ? m->row.buf : "", m->row.len);
            fwrite(m->row.buf, 1, m->row.len, m->out);
            fputs(",node,host\n", m->out);
        } else if (m->header.len != m->row.len ||
                   memcmp(m->header.buf, m->row.buf, m->row.len) != 0) {
            if (!m->error)
                m->error = xasprintf("%s: its header differs from the first node's (%.200s)",
                                     m->path, m->header.buf);
        }
    } else {
        sb_add(&m->row, m->suffix.buf, m->suffix.len);
        fwrite(m->row.buf, 1, m->row.len, m->out);
        m->rows++;
    }
    m->row.len = 0;
    m->fields = 0;
}

/* Append node k's CSV file abs to m->out. */
static bool merge_csv_file(csv_merge *m, const char *abs, int k, const char *host)
{
    FILE *in = fopen(abs, "rb");
    if (!in) {
        m->error = xasprintf("cannot read %s: %s", m->path, strerror(errno));
        return false;
    }
    struct csv_parser p;
    csv_init(&p, 0);
    m->in_header = true;
    m->suffix.len = 0;
    sb_printf(&m->suffix, ",%d,", k);
    put_field(&m->suffix, host, strlen(host));
    sb_add(&m->suffix, "\n", 1);
    char *buf = xmalloc(CHUNK);
    size_t n;
    bool ok = true;
    while ((n = fread(buf, 1, CHUNK, in)) > 0 && ok)
        if (csv_parse(&p, buf, n, csv_field, csv_record, m) != n) {
            m->error = xasprintf("%s: %s", m->path, csv_strerror(csv_error(&p)));
            ok = false;
        }
    if (ok)
        csv_fini(&p, csv_field, csv_record, m);
    csv_free(&p);
    free(buf);
    fclose(in);
    return ok && !m->error;
}

/* Append node k's JSON Lines file abs to out. */
static bool merge_jsonl_file(FILE *out, const cfg_output *o, double off_s, const char *abs,
                             const char *rel, int k, const char *host, uint64_t *rows, char **err)
{
    FILE *in = fopen(abs, "rb");
    if (!in) {
        *err = xasprintf("cannot read %s: %s", rel, strerror(errno));
        return false;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    uint64_t lineno = 0;
    bool ok = true;
    while (ok && (n = getline(&line, &cap, in)) >= 0) {
        lineno++;
        cJSON *obj = cJSON_ParseWithLength(line, (size_t)n);
        if (!obj) {
            bool blank = strspn(line, " \t\r\n") == (size_t)n;
            if (!blank) {
                *err = xasprintf("%s:%llu: not a JSON object", rel, (unsigned long long)lineno);
                ok = false;
            }
            continue;
        }
        if (!cJSON_IsObject(obj)) {
            *err = xasprintf("%s:%llu: not a JSON object", rel, (unsigned long long)lineno);
            ok = false;
        } else {
            for (size_t c = 0; off_s != 0 && c < o->ncolumns; c++)
                if (o->columns[c].type && strcmp(o->columns[c].type, "timestamp") == 0)
                    ts_shift_json(&o->columns[c],
                                  cJSON_GetObjectItemCaseSensitive(obj, o->columns[c].name), off_s);
            cJSON_DeleteItemFromObjectCaseSensitive(obj, "node");
            cJSON_DeleteItemFromObjectCaseSensitive(obj, "host");
            cJSON_AddNumberToObject(obj, "node", k);
            cJSON_AddStringToObject(obj, "host", host);
            char *text = cJSON_PrintUnformatted(obj);
            fputs(text, out);
            fputc('\n', out);
            free(text);
            (*rows)++;
        }
        cJSON_Delete(obj);
    }
    free(line);
    fclose(in);
    return ok;
}

/* The extension of path's last component ("" when none). */
static const char *ext_of(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strrchr(b, '.');
    return dot && dot != b ? dot : "";
}

/* Close the merged file; a failed write (a full disk) replaces *err and
 * is a failed write into the run directory (util/wfail.h). */
static void close_merged(FILE *out, const char *abs, const char *rel, char **err)
{
    /* A write that failed mid-way sets the error flag even when the last
     * flush succeeds. */
    bool bad = ferror(out) != 0;
    int e = bad ? (errno ? errno : EIO) : 0;
    if (fclose(out) != 0) {
        bad = true;
        e = errno;
    }
    if (bad) {
        free(*err);
        *err = xasprintf("cannot write %s: %s", rel, strerror(e));
        wfail_note(abs, e);
    }
}

/* Merge output oi of the nodes into all's record. */
static void collate_one(run *r, const cfg_stage *st, const cfg_case *cs, stage_rec *all,
                        stage_rec *const *nodes, size_t n, size_t oi)
{
    const cfg_output *o = &st->outputs[oi];
    bool csv = strcmp(o->schema_format, "csv") == 0;
    bool jsonl = strcmp(o->schema_format, "jsonl") == 0;
    if (!csv && !jsonl) {
        log_msg(BC_LOG_WARN, "stage '%s': output '%s': only csv and jsonl outputs are merged "
                "(%s is kept per node)", st->name, o->name, o->schema_format);
        return;
    }
    /* The nodes' files, in node order (one file each: globs are not merged). */
    const char *name = NULL;
    const out_file **files = xcalloc(n + 1, sizeof *files);
    const stage_rec **owners = xcalloc(n + 1, sizeof *owners);
    size_t nf = 0;
    for (size_t k = 0; k < n; k++) {
        out_rec *orec = record_find_output(nodes[k], o->name);
        if (!orec || orec->nfiles != 1)
            continue;
        if (!name)
            name = orec->name;
        else if (strcmp(name, orec->name) != 0)
            continue; /* a name of its own (${BENCHCTL_NODE}): not the same dataset */
        files[nf] = &orec->files[0];
        owners[nf++] = nodes[k];
    }
    if (!nf) {
        free(files);
        free(owners);
        return;
    }
    out_rec *orec = record_add_output(all, o->name, name);
    all->collected = true;
    target t = {.host = "*", .node = -1};
    char *dir = layout_output_dir(cs, &t);
    char *base = xasprintf("%s%s", name, ext_of(files[0]->path));
    char *rel = *dir ? xasprintf("%s/%s", dir, base) : xstrdup(base);
    char *abs = path_join(r->dir, rel);
    char *err = NULL;
    /* Never through a link planted in the run directory. */
    int ofd = open_beneath(abs, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    FILE *out = ofd >= 0 ? fdopen(ofd, "wb") : NULL;
    uint64_t rows = 0;
    int64_t t0 = mono_ns();
    if (!out) {
        int e = errno;
        if (ofd >= 0)
            close(ofd);
        err = xasprintf("cannot write %s: %s", rel, strerror(e));
        wfail_note(abs, e); /* a failed write into the run directory */
    }
    csv_merge m = {.out = out, .o = o};
    for (size_t i = 0; out && !err && i < nf; i++) {
        char *in = path_join(r->dir, files[i]->path);
        int k = owners[i]->where.node;
        m.off_s = node_offset_s(st, o, run_host(r, owners[i]->where.host), &m.warned);
        if (csv) {
            m.path = files[i]->path;
            merge_csv_file(&m, in, k, owners[i]->where.host);
            if (m.error) {
                err = m.error;
                m.error = NULL;
            }
        } else {
            merge_jsonl_file(out, o, m.off_s, in, files[i]->path, k, owners[i]->where.host, &rows,
                             &err);
        }
        free(in);
    }
    rows += m.rows;
    sb_free(&m.row);
    sb_free(&m.header);
    sb_free(&m.suffix);
    free(m.ts);
    if (out)
        close_merged(out, abs, rel, &err);
    if (err) {
        char *e = xasprintf("stage '%s': merging output '%s': %s", st->name, name, err);
        orec->error = xstrdup(e);
        record_set_error(all, e);
        log_msg(BC_LOG_ERROR, "%s", e);
        free(e);
        free(err);
    } else {
        log_msg(BC_LOG_INFO, "stage '%s': %s: %llu rows of %zu node%s merged in %.3f s", st->name,
                rel, (unsigned long long)rows, nf, nf == 1 ? "" : "s",
                (double)(mono_ns() - t0) / 1e9);
        /* Validated as one: the schema's columns, node and host. */
        cfg_output mo = *o;
        mo.columns = xcalloc(o->ncolumns + 2, sizeof *mo.columns);
        memcpy(mo.columns, o->columns, o->ncolumns * sizeof *o->columns);
        mo.columns[o->ncolumns] = (cfg_column){.name = "node", .type = "integer",
                                               .metric_set = true};
        mo.columns[o->ncolumns + 1] = (cfg_column){.name = "host", .type = "string",
                                                   .metric_set = true};
        mo.ncolumns = o->ncolumns + 2;
        char *sdir = layout_samples_dir(name, &t, cs);
        char *why = NULL;
        hostconn *h = run_host(r, owners[0]->where.host);
        if (!collect_validate_file(r, st, &mo, h, cs, orec, rel, sdir, &why)) {
            char *e = xasprintf("stage '%s': the merged %s", st->name, why);
            if (strcmp(o->on_invalid, "warn") == 0) {
                log_msg(BC_LOG_WARN, "%s (on_invalid: warn)", e);
            } else {
                record_set_error(all, e);
                log_msg(BC_LOG_ERROR, "%s", e);
            }
            free(e);
        }
        free(why);
        free(sdir);
        free(mo.columns);
    }
    free(abs);
    free(rel);
    free(base);
    free(dir);
    free(files);
    free(owners);
}

void collate_outputs(run *r, const cfg_stage *st, const cfg_case *cs, stage_rec *all,
                     stage_rec *const *nodes, size_t n)
{
    for (size_t i = 0; i < st->noutputs; i++)
        if (st->outputs[i].ncolumns && st->outputs[i].validator_plugin)
            collate_one(r, st, cs, all, nodes, n, i);
}
