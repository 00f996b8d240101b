/*
 * results.json: the statistical summary of a run, written at its end (a
 * failed or interrupted run too) from the final metadata — the stage
 * records carry each output's statistics (outstats.c) and each repeated
 * stage's distribution (repeat.c).  Described by
 * docs/schema/results.schema.json; `benchctl stats` prints it and
 * `benchctl compare` tests it.
 *
 * Cleanup stages are left out: they tidy up, they do not measure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <benchctl/services.h>

#include "util/log.h"
#include "store/results.h"
#include "store/runstore.h"

static cJSON *dup_or_null(const cJSON *v)
{
    return v ? cJSON_Duplicate(v, true) : cJSON_CreateNull();
}

static void copy_key(cJSON *to, const cJSON *from, const char *key, const char *as)
{
    cJSON_AddItemToObject(to, as ? as : key, dup_or_null(cJSON_GetObjectItem(from, key)));
}

/* The case entry named name (NULL: the only one of a run without cases). */
static cJSON *case_entry(cJSON *cases, const char *name)
{
    cJSON *it;
    cJSON_ArrayForEach(it, cases)
    {
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(it, "name"));
        if ((!name && !n) || (name && n && strcmp(name, n) == 0))
            return it;
    }
    return NULL;
}

static cJSON *stage_entry(const cJSON *rec)
{
    cJSON *s = cJSON_CreateObject();
    copy_key(s, rec, "name", NULL);
    copy_key(s, rec, "kind", NULL);
    copy_key(s, rec, "host", NULL);
    const cJSON *node = cJSON_GetObjectItem(rec, "node");
    if (node)
        cJSON_AddItemToObject(s, "node", cJSON_Duplicate(node, true));
    const cJSON *nodes = cJSON_GetObjectItem(rec, "nodes");
    if (nodes)
        cJSON_AddItemToObject(s, "nodes", cJSON_Duplicate(nodes, true));
    const cJSON *fan = cJSON_GetObjectItem(rec, "fanout");
    if (fan)
        cJSON_AddItemToObject(s, "fanout", cJSON_Duplicate(fan, true));
    cJSON_AddBoolToObject(s, "background", cJSON_IsTrue(cJSON_GetObjectItem(rec, "background")));
    const cJSON *status = cJSON_GetObjectItem(rec, "status");
    cJSON_AddStringToObject(s, "status", cJSON_IsString(status) ? status->valuestring
                            : cJSON_IsTrue(cJSON_GetObjectItem(rec, "skipped")) ? "skipped"
                                                                               : "unknown");
    copy_key(s, rec, "duration_s", "wall_s");
    /* Transports that cannot measure CPU or memory leave them out: null. */
    copy_key(s, rec, "user_cpu_s", NULL);
    copy_key(s, rec, "system_cpu_s", NULL);
    copy_key(s, rec, "max_rss_kb", NULL);
    const cJSON *rep = cJSON_GetObjectItem(rec, "repeat");
    if (rep)
        cJSON_AddItemToObject(s, "repeat", cJSON_Duplicate(rep, true));
    /* What the system that ran the command accounted for it (a transport's
     * host_accounting: slurm's job and step, queue wait, elapsed, CPU). */
    const cJSON *acct = cJSON_GetObjectItem(rec, "accounting");
    if (cJSON_IsObject(acct))
        cJSON_AddItemToObject(s, "accounting", cJSON_Duplicate(acct, true));
    const cJSON *prof = cJSON_GetObjectItem(rec, "profile");
    if (prof)
        cJSON_AddItemToObject(s, "profile", cJSON_Duplicate(prof, true));
    return s;
}

/* An output's statistics object into o: partial, rows, columns, rates,
 * success. */
static void copy_statistics(cJSON *o, const cJSON *st)
{
    if (cJSON_IsTrue(cJSON_GetObjectItem(st, "partial")))
        cJSON_AddTrueToObject(o, "partial");
    copy_key(o, st, "rows", NULL);
    copy_key(o, st, "columns", NULL);
    copy_key(o, st, "rates", NULL);
    copy_key(o, st, "success", NULL);
}

static cJSON *output_entry(const cJSON *rec, const cJSON *out)
{
    const cJSON *st = cJSON_GetObjectItem(out, "statistics");
    cJSON *o = cJSON_CreateObject();
    copy_key(o, out, "name", NULL);
    copy_key(o, out, "output", NULL);
    copy_key(o, rec, "name", "stage");
    copy_key(o, rec, "host", NULL);
    const cJSON *node = cJSON_GetObjectItem(rec, "node");
    if (node)
        cJSON_AddItemToObject(o, "node", cJSON_Duplicate(node, true));
    if (cJSON_IsTrue(cJSON_GetObjectItem(rec, "collated")))
        cJSON_AddTrueToObject(o, "merged");
    cJSON *files = cJSON_AddArrayToObject(o, "files");
    int valid = -1; /* -1: nothing validated */
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItem(out, "files"))
    {
        const cJSON *p = cJSON_GetObjectItem(f, "path");
        if (cJSON_IsString(p))
            cJSON_AddItemToArray(files, cJSON_CreateString(p->valuestring));
        const cJSON *v = cJSON_GetObjectItem(f, "validation");
        if (v) {
            const char *fmt = cJSON_GetStringValue(cJSON_GetObjectItem(v, "format"));
            if (fmt && !cJSON_GetObjectItem(o, "format"))
                cJSON_AddStringToObject(o, "format", fmt);
            const cJSON *vv = cJSON_GetObjectItem(v, "valid");
            if (cJSON_IsNull(vv))
                continue; /* an interrupted read: "partial" says so */
            bool ok = cJSON_IsTrue(vv);
            valid = valid == -1 ? ok : valid && ok;
        }
    }
    if (valid == -1)
        cJSON_AddNullToObject(o, "valid");
    else
        cJSON_AddBoolToObject(o, "valid", valid);
    copy_statistics(o, st);
    const cJSON *reps = cJSON_GetObjectItem(out, "repetitions");
    if (cJSON_IsArray(reps)) {
        cJSON *ra = cJSON_AddArrayToObject(o, "repetitions");
        const cJSON *rj;
        cJSON_ArrayForEach(rj, reps)
        {
            const cJSON *rs = cJSON_GetObjectItem(rj, "statistics");
            if (!rs)
                continue;
            cJSON *e = cJSON_CreateObject();
            copy_key(e, rj, "repetition", NULL);
            copy_statistics(e, rs);
            cJSON_AddItemToArray(ra, e);
        }
    }
    return o;
}

/* What each stage ran, from the config copy in metadata.json: its command,
 * or "script: PATH" (NULL when the config has no stages). */
static cJSON *stage_commands(const cJSON *config)
{
    const cJSON *stages = cJSON_GetObjectItem(config, "stages");
    if (!cJSON_IsArray(stages))
        return NULL;
    cJSON *o = cJSON_CreateObject();
    const cJSON *st;
    cJSON_ArrayForEach(st, stages)
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(st, "name"));
        const char *cmd = cJSON_GetStringValue(cJSON_GetObjectItem(st, "command"));
        const char *script = cJSON_GetStringValue(cJSON_GetObjectItem(st, "script"));
        if (!name || cJSON_GetObjectItem(o, name))
            continue;
        if (cmd) {
            cJSON_AddStringToObject(o, name, cmd);
        } else if (script) {
            char *s = xasprintf("script: %s", script);
            cJSON_AddStringToObject(o, name, s);
            free(s);
        }
    }
    return o;
}

cJSON *results_build(const cJSON *meta)
{
    cJSON *res = cJSON_CreateObject();
    cJSON_AddStringToObject(res, "format", "benchctl-results");
    cJSON_AddNumberToObject(res, "version", 1);
    cJSON *run = cJSON_AddObjectToObject(res, "run");
    copy_key(run, meta, "run_id", "id");
    int64_t num; /* the ID as a JSON integer beside the string */
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(meta, "run_id"));
    if (id && parse_int64(id, &num))
        cJSON_AddNumberToObject(run, "run_number", (double)num);
    copy_key(run, meta, "benchmark_name", "benchmark");
    copy_key(run, meta, "status", NULL);
    copy_key(run, meta, "error", NULL);
    copy_key(run, meta, "start_time", NULL);
    copy_key(run, meta, "end_time", NULL);
    copy_key(run, meta, "duration_s", NULL);
    copy_key(run, meta, "git", NULL);
    copy_key(run, meta, "parameters", NULL);
    const char *cp = cJSON_GetStringValue(cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(meta, "config"), "benchmark"), "concurrency_param"));
    if (cp)
        cJSON_AddStringToObject(run, "concurrency_param", cp);
    cJSON *cmds = stage_commands(cJSON_GetObjectItem(meta, "config"));
    if (cmds)
        cJSON_AddItemToObject(run, "commands", cmds);
    const cJSON *bc = cJSON_GetObjectItem(meta, "benchctl");
    const char *ver = cJSON_GetStringValue(cJSON_GetObjectItem(bc, "version"));
    if (ver)
        cJSON_AddStringToObject(run, "benchctl_version", ver);
    const cJSON *machine = cJSON_GetObjectItem(meta, "machine");
    cJSON_AddItemToObject(res, "machine", machine ? cJSON_Duplicate(machine, true)
                                                  : cJSON_CreateObject());
    const cJSON *hosts = cJSON_GetObjectItem(meta, "hosts");
    if (hosts)
        cJSON_AddItemToObject(res, "hosts", cJSON_Duplicate(hosts, true));
    const cJSON *mon = cJSON_GetObjectItem(meta, "monitor"); /* host monitoring, if on */
    if (mon)
        cJSON_AddItemToObject(res, "monitor", cJSON_Duplicate(mon, true));

    cJSON *cases = cJSON_AddArrayToObject(res, "cases");
    const cJSON *mc = cJSON_GetObjectItem(meta, "cases");
    const cJSON *c;
    cJSON_ArrayForEach(c, mc)
    {
        cJSON *e = cJSON_CreateObject();
        copy_key(e, c, "name", NULL);
        const cJSON *params = cJSON_GetObjectItem(c, "parameters");
        cJSON_AddItemToObject(e, "parameters", params ? cJSON_Duplicate(params, true)
                                                      : cJSON_CreateObject());
        copy_key(e, c, "status", NULL);
        cJSON_AddArrayToObject(e, "stages");
        cJSON_AddArrayToObject(e, "outputs");
        cJSON_AddItemToArray(cases, e);
    }
    if (cJSON_GetArraySize(cases) == 0) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNullToObject(e, "name");
        copy_key(e, meta, "status", NULL);
        cJSON_AddArrayToObject(e, "stages");
        cJSON_AddArrayToObject(e, "outputs");
        cJSON_AddItemToArray(cases, e);
    }
    bool single = cJSON_GetArraySize(mc) == 0;
    cJSON *thresholds = cJSON_AddArrayToObject(res, "thresholds");
    const cJSON *rec;
    cJSON_ArrayForEach(rec, cJSON_GetObjectItem(meta, "stages"))
    {
        const char *kind = cJSON_GetStringValue(cJSON_GetObjectItem(rec, "kind"));
        if (kind && strcmp(kind, "cleanup") == 0)
            continue;
        const char *cname = cJSON_GetStringValue(cJSON_GetObjectItem(rec, "case"));
        cJSON *e = case_entry(cases, single ? NULL : cname);
        if (!e)
            continue;
        cJSON_AddItemToArray(cJSON_GetObjectItem(e, "stages"), stage_entry(rec));
        const cJSON *th;
        cJSON_ArrayForEach(th, cJSON_GetObjectItem(rec, "thresholds"))
        {
            cJSON *t = cJSON_Duplicate(th, true);
            copy_key(t, rec, "name", "stage");
            copy_key(t, rec, "case", NULL);
            cJSON_AddItemToArray(thresholds, t);
        }
        const cJSON *out;
        cJSON_ArrayForEach(out, cJSON_GetObjectItem(rec, "outputs"))
        if (cJSON_GetObjectItem(out, "statistics"))
            cJSON_AddItemToArray(cJSON_GetObjectItem(e, "outputs"), output_entry(rec, out));
    }
    return res;
}

bool results_write(const char *run_dir, const cJSON *meta)
{
    cJSON *res = results_build(meta);
    bool ok = results_write_doc(run_dir, res);
    cJSON_Delete(res);
    return ok;
}

bool results_write_doc(const char *run_dir, cJSON *results)
{
    char *path = path_join(run_dir, "results.json");
    bool ok = runstore_write_json(path, results, true);
    if (!ok)
        log_msg(BC_LOG_ERROR, "cannot write %s: %s", path, strerror(errno));
    free(path);
    return ok;
}
