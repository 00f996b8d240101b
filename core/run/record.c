/* The typed run model (record.h) and its JSON form. */
#define _GNU_SOURCE
#include "run/record.h"

#include <stdlib.h>
#include <string.h>

#include <benchctl/services.h>

#include "util/log.h"
#include "util/util.h"

static const char *const status_names[] = {
    [STAGE_RUNNING] = "running",       [STAGE_SUCCESS] = "success",
    [STAGE_FAILED] = "failed",         [STAGE_TIMEOUT] = "timeout",
    [STAGE_INTERRUPTED] = "interrupted", [STAGE_SKIPPED] = "skipped",
    [STAGE_NOT_RUN] = "not_run",
};

const char *stage_status_name(stage_status s)
{
    return (size_t)s < ARRAY_LEN(status_names) ? status_names[s] : "failed";
}

bool stage_status_from_name(const char *name, stage_status *out)
{
    for (size_t i = 0; name && i < ARRAY_LEN(status_names); i++)
        if (strcmp(status_names[i], name) == 0) {
            *out = (stage_status)i;
            return true;
        }
    return false;
}

stage_rec *record_new(const cfg_stage *st, const char *host, const cfg_case *cs,
                      cJSON *stages_json)
{
    stage_rec *rec = xcalloc(1, sizeof *rec);
    rec->st = st;
    rec->cs = cs;
    rec->stage_name = st->name;
    rec->case_name = cs ? cs->name : NULL;
    rec->is_cleanup = st->is_cleanup;
    rec->where = layout_target(st, host);
    rec->result.user_us = rec->result.sys_us = rec->result.max_rss_kb = -1;
    rec->json = record_json(rec);
    if (stages_json)
        cJSON_AddItemToArray(stages_json, rec->json);
    return rec;
}

void record_set_status(stage_rec *rec, stage_status s, const char *reason)
{
    rec->status = s;
    if (reason) {
        free(rec->reason);
        rec->reason = xstrdup(reason);
    }
}

void record_set_error(stage_rec *rec, const char *error)
{
    if (rec->has_error || !error)
        return;
    rec->has_error = true;
    rec->error = xstrdup(error);
}

void record_set_accounting(stage_rec *rec, const char *json_text)
{
    if (!json_text || !json_text[0])
        return;
    cJSON *j = cJSON_Parse(json_text);
    if (!cJSON_IsObject(j)) {
        log_msg(BC_LOG_WARN, "stage '%s' on host '%s': the transport's accounting is not a JSON "
                "object; not recorded", rec->stage_name, rec->where.host);
        cJSON_Delete(j);
        return;
    }
    cJSON_Delete(rec->accounting);
    rec->accounting = j;
}

void record_set_result(stage_rec *rec, const exec_rec *res)
{
    rec->result = *res;
    rec->result.present = true;
}

void record_set_end(stage_rec *rec, int64_t m0_ns)
{
    rec->end_ns = wall_ns();
    rec->duration_s = (double)(mono_ns() - m0_ns) / 1e9;
}

void record_set_output(stage_rec *rec, int64_t bytes, const char *log_rel)
{
    rec->ended = true;
    rec->output_bytes = bytes;
    free(rec->log);
    rec->log = log_rel ? xstrdup(log_rel) : NULL;
}

out_rec *record_add_output(stage_rec *rec, const char *output, const char *name)
{
    rec->collected = true;
    rec->outputs = xrealloc(rec->outputs, (rec->noutputs + 1) * sizeof *rec->outputs);
    out_rec *o = &rec->outputs[rec->noutputs++];
    *o = (out_rec){.output = xstrdup(output), .name = xstrdup(name)};
    return o;
}

out_rec *record_find_output(stage_rec *rec, const char *output)
{
    for (size_t i = 0; i < rec->noutputs; i++)
        if (strcmp(rec->outputs[i].output, output) == 0)
            return &rec->outputs[i];
    return NULL;
}

out_file *record_add_file(out_rec *o, const char *path)
{
    o->files = xrealloc(o->files, (o->nfiles + 1) * sizeof *o->files);
    out_file *f = &o->files[o->nfiles++];
    *f = (out_file){.path = xstrdup(path), .validity = FILE_NOT_VALIDATED};
    return f;
}

void record_add_data_error(file_check *fc, uint64_t line, uint32_t column, const char *value,
                           const char *message)
{
    fc->errors = xrealloc(fc->errors, (fc->nerrors + 1) * sizeof *fc->errors);
    fc->errors[fc->nerrors++] = (data_error){.line = line, .column = column,
                                             .value = value ? xstrdup(value) : NULL,
                                             .message = xstrdup(message ? message : "")};
}

void record_set_summary(file_check *fc, const char *column, uint64_t count, bool numeric,
                        double min, double max, double mean)
{
    col_summary *c = NULL;
    for (size_t i = 0; i < fc->nsummary && !c; i++)
        if (strcmp(fc->summary[i].column, column) == 0)
            c = &fc->summary[i];
    if (!c) {
        fc->summary = xrealloc(fc->summary, (fc->nsummary + 1) * sizeof *fc->summary);
        c = &fc->summary[fc->nsummary++];
        c->column = xstrdup(column);
    }
    c->count = count;
    c->numeric = numeric;
    c->min = min;
    c->max = max;
    c->mean = mean;
}

/* ---- The store's form of a record ---- */

static void add_str_or_null(cJSON *o, const char *key, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

cJSON *record_check_json(const file_check *fc, file_validity validity)
{
    cJSON *vj = cJSON_CreateObject();
    cJSON_AddStringToObject(vj, "format", fc->format ? fc->format : "");
    if (fc->interrupted)
        cJSON_AddNullToObject(vj, "valid"); /* not read to the end: neither */
    else
        cJSON_AddBoolToObject(vj, "valid", validity == FILE_VALID);
    if (fc->read) {
        cJSON_AddNumberToObject(vj, "error_count", (double)fc->error_count);
        cJSON_AddNumberToObject(vj, "rows", (double)fc->rows);
        cJSON_AddNumberToObject(vj, "elapsed_ms", fc->elapsed_ms);
        cJSON *errs = cJSON_AddArrayToObject(vj, "errors");
        for (size_t i = 0; i < fc->nerrors; i++) {
            const data_error *e = &fc->errors[i];
            cJSON *ej = cJSON_CreateObject();
            cJSON_AddNumberToObject(ej, "line", (double)e->line);
            cJSON_AddNumberToObject(ej, "column", e->column);
            if (e->value)
                cJSON_AddStringToObject(ej, "value", e->value);
            cJSON_AddStringToObject(ej, "message", e->message);
            cJSON_AddItemToArray(errs, ej);
        }
        cJSON *sum = cJSON_AddObjectToObject(vj, "summary");
        for (size_t i = 0; i < fc->nsummary; i++) {
            const col_summary *c = &fc->summary[i];
            cJSON *cj = cJSON_AddObjectToObject(sum, c->column);
            cJSON_AddNumberToObject(cj, "count", (double)c->count);
            if (c->numeric) {
                cJSON_AddNumberToObject(cj, "min", c->min);
                cJSON_AddNumberToObject(cj, "max", c->max);
                cJSON_AddNumberToObject(cj, "mean", c->mean);
            }
        }
    }
    if (fc->error)
        cJSON_AddStringToObject(vj, "error", fc->error);
    return vj;
}

static cJSON *outputs_json(const stage_rec *rec)
{
    cJSON *outs = cJSON_CreateArray();
    for (size_t i = 0; i < rec->noutputs; i++) {
        const out_rec *o = &rec->outputs[i];
        cJSON *oj = cJSON_CreateObject();
        cJSON_AddStringToObject(oj, "name", o->name);
        cJSON_AddStringToObject(oj, "output", o->output);
        if (o->remote_path)
            cJSON_AddStringToObject(oj, "remote_path", o->remote_path);
        cJSON *files = cJSON_AddArrayToObject(oj, "files");
        for (size_t f = 0; f < o->nfiles; f++) {
            cJSON *fj = cJSON_CreateObject();
            cJSON_AddStringToObject(fj, "path", o->files[f].path);
            if (o->files[f].rep)
                cJSON_AddNumberToObject(fj, "repetition", o->files[f].rep);
            if (o->files[f].truncated)
                cJSON_AddTrueToObject(fj, "truncated");
            if (o->files[f].check.checked)
                cJSON_AddItemToObject(fj, "validation",
                                      record_check_json(&o->files[f].check, o->files[f].validity));
            cJSON_AddItemToArray(files, fj);
        }
        if (o->error)
            cJSON_AddStringToObject(oj, "error", o->error);
        if (o->statistics)
            cJSON_AddItemToObject(oj, "statistics", cJSON_Duplicate(o->statistics, true));
        if (o->nreps) {
            cJSON *reps = cJSON_AddArrayToObject(oj, "repetitions");
            for (size_t k = 0; k < o->nreps; k++) {
                cJSON *rj = cJSON_CreateObject();
                cJSON_AddNumberToObject(rj, "repetition", o->reps[k].rep);
                if (o->reps[k].statistics)
                    cJSON_AddItemToObject(rj, "statistics",
                                          cJSON_Duplicate(o->reps[k].statistics, true));
                cJSON_AddItemToArray(reps, rj);
            }
        }
        cJSON_AddItemToArray(outs, oj);
    }
    return outs;
}

static cJSON *health_json(const health_rec *h)
{
    cJSON *hj = cJSON_CreateObject();
    cJSON_AddStringToObject(hj, "type", h->type ? h->type : "");
    cJSON_AddStringToObject(hj, "target", h->target ? h->target : "");
    cJSON_AddStringToObject(hj, "where", h->where ? h->where : "");
    cJSON_AddBoolToObject(hj, "ready", h->ready);
    if (h->attempted) {
        cJSON_AddNumberToObject(hj, "attempts", (double)h->attempts);
        cJSON_AddNumberToObject(hj, "elapsed_ms", h->elapsed_ms);
    }
    if (h->last_error)
        cJSON_AddStringToObject(hj, "last_error", h->last_error);
    return hj;
}

static void add_time(cJSON *o, const char *key, int64_t wall)
{
    char buf[64];
    format_rfc3339(wall, buf, sizeof buf);
    cJSON_AddStringToObject(o, key, buf);
}

static void add_result(cJSON *o, const exec_rec *res)
{
    cJSON_AddNumberToObject(o, "exit_status", res->exit_status);
    if (res->term_signal)
        cJSON_AddNumberToObject(o, "signal", res->term_signal);
    if (res->user_us >= 0) {
        cJSON_AddNumberToObject(o, "user_cpu_s", (double)res->user_us / 1e6);
        cJSON_AddNumberToObject(o, "system_cpu_s", (double)res->sys_us / 1e6);
    }
    if (res->max_rss_kb >= 0)
        cJSON_AddNumberToObject(o, "max_rss_kb", (double)res->max_rss_kb);
}

cJSON *record_json(const stage_rec *rec)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", rec->stage_name);
    cJSON_AddStringToObject(o, "kind", rec->is_cleanup ? "cleanup" : "stage");
    cJSON_AddStringToObject(o, "host", rec->where.host);
    add_str_or_null(o, "case", rec->case_name);
    if (rec->where.node >= 0)
        cJSON_AddNumberToObject(o, "node", rec->where.node);
    if (rec->nodes > 0)
        cJSON_AddNumberToObject(o, "nodes", rec->nodes);
    if (rec->collated)
        cJSON_AddBoolToObject(o, "collated", true);
    if (rec->released_at > 0) {
        cJSON_AddNumberToObject(o, "released_at", rec->released_at);
        cJSON_AddNumberToObject(o, "clock_offset_ms", rec->clock_offset_ms);
    }
    if (rec->fanout)
        cJSON_AddItemToObject(o, "fanout", cJSON_Duplicate(rec->fanout, true));
    if (rec->parallel)
        cJSON_AddBoolToObject(o, "parallel", true);
    if (rec->background)
        cJSON_AddBoolToObject(o, "background", true);
    if (rec->start_ns)
        add_time(o, "start_time", rec->start_ns);
    if (rec->repeat)
        cJSON_AddItemToObject(o, "repeat", cJSON_Duplicate(rec->repeat, true));
    if (rec->profile)
        cJSON_AddItemToObject(o, "profile", cJSON_Duplicate(rec->profile, true));
    if (rec->result.present)
        add_result(o, &rec->result);
    if (rec->accounting)
        cJSON_AddItemToObject(o, "accounting", cJSON_Duplicate(rec->accounting, true));
    if (rec->health.present)
        cJSON_AddItemToObject(o, "health_check", health_json(&rec->health));
    if (rec->collected)
        cJSON_AddItemToObject(o, "outputs", outputs_json(rec));
    if (rec->end_ns) {
        add_time(o, "end_time", rec->end_ns);
        cJSON_AddNumberToObject(o, "duration_s", rec->duration_s);
    }
    if (rec->stopped_by)
        cJSON_AddStringToObject(o, "stopped_by", rec->stopped_by);
    cJSON_AddStringToObject(o, "status", stage_status_name(rec->status));
    if (rec->termination)
        cJSON_AddStringToObject(o, "termination", rec->termination);
    if (rec->isolation)
        cJSON_AddItemToObject(o, "limits", cJSON_Duplicate(rec->isolation, true));
    if (rec->cleanup)
        cJSON_AddItemToObject(o, "cleanup_command", cJSON_Duplicate(rec->cleanup, true));
    if (rec->reason)
        cJSON_AddStringToObject(o, "reason", rec->reason);
    if (rec->ended) {
        cJSON_AddNumberToObject(o, "output_bytes", (double)rec->output_bytes);
        add_str_or_null(o, "log", rec->log);
        if (rec->log_dropped > 0)
            cJSON_AddNumberToObject(o, "log_dropped_bytes", (double)rec->log_dropped);
    }
    if (rec->error)
        cJSON_AddStringToObject(o, "error", rec->error);
    if (rec->thresholds)
        cJSON_AddItemToObject(o, "thresholds", cJSON_Duplicate(rec->thresholds, true));
    return o;
}

void record_refresh(stage_rec *rec, cJSON *stages_json)
{
    cJSON *fresh = record_json(rec);
    if (stages_json && rec->json && cJSON_ReplaceItemViaPointer(stages_json, rec->json, fresh)) {
        rec->json = fresh;
        return;
    }
    if (stages_json)
        cJSON_AddItemToArray(stages_json, fresh);
    else
        cJSON_Delete(fresh);
    rec->json = stages_json ? fresh : NULL;
}

void record_check_free(file_check *fc)
{
    for (size_t i = 0; i < fc->nerrors; i++) {
        free(fc->errors[i].value);
        free(fc->errors[i].message);
    }
    free(fc->errors);
    for (size_t i = 0; i < fc->nsummary; i++)
        free(fc->summary[i].column);
    free(fc->summary);
    free(fc->error);
}

void record_free(stage_rec *rec)
{
    if (!rec)
        return;
    for (size_t i = 0; i < rec->noutputs; i++) {
        out_rec *o = &rec->outputs[i];
        for (size_t j = 0; j < o->nfiles; j++) {
            free(o->files[j].path);
            record_check_free(&o->files[j].check);
        }
        free(o->files);
        free(o->name);
        free(o->output);
        free(o->remote_path);
        free(o->error);
        cJSON_Delete(o->statistics);
        for (size_t k = 0; k < o->nreps; k++)
            cJSON_Delete(o->reps[k].statistics);
        free(o->reps);
    }
    free(rec->outputs);
    free(rec->error);
    free(rec->reason);
    free(rec->workdir);
    cJSON_Delete(rec->fanout);
    cJSON_Delete(rec->thresholds);
    cJSON_Delete(rec->isolation);
    cJSON_Delete(rec->cleanup);
    cJSON_Delete(rec->accounting);
    free(rec->log);
    free(rec->health.where);
    free(rec->health.last_error);
    cJSON_Delete(rec->repeat);
    cJSON_Delete(rec->profile);
    for (size_t i = 0; i < ARRAY_LEN(rec->owned); i++)
        free(rec->owned[i]);
    free(rec);
}

static const cfg_stage *find_stage(const config *c, const char *name, bool cleanup)
{
    size_t n = cleanup ? c->ncleanup : c->nstages;
    const cfg_stage *v = cleanup ? c->cleanup : c->stages;
    for (size_t i = 0; name && i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

static const cfg_case *find_case(const config *c, const char *name)
{
    for (size_t i = 0; name && i < c->ncases; i++)
        if (strcmp(c->cases[i].name, name) == 0)
            return &c->cases[i];
    return NULL;
}

static const char *str(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItem(o, key));
}

static bool same(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

/* A stored record's outputs[] into rec: which configured output each
 * entry is of, its files and their validation verdicts. */
static void load_outputs(stage_rec *rec, const cJSON *outs)
{
    const cJSON *oj;
    cJSON_ArrayForEach(oj, outs)
    {
        const char *output = str(oj, "output");
        if (!output)
            continue;
        out_rec *o = record_add_output(rec, output, str(oj, "name") ? str(oj, "name") : output);
        const cJSON *fj;
        cJSON_ArrayForEach(fj, cJSON_GetObjectItem(oj, "files"))
        {
            const char *path = str(fj, "path");
            if (!path)
                continue;
            out_file *f = record_add_file(o, path);
            const cJSON *rj = cJSON_GetObjectItem(fj, "repetition");
            f->rep = cJSON_IsNumber(rj) ? (int)rj->valuedouble : 0;
            const cJSON *val = cJSON_GetObjectItem(fj, "validation");
            if (val)
                f->validity = cJSON_IsTrue(cJSON_GetObjectItem(val, "valid")) ? FILE_VALID
                                                                               : FILE_INVALID;
        }
    }
}

/* Did the stored run name its files after their host?  Yes when it ran
 * the stage on several hosts in one case (what the run's own config said
 * then, whatever the config used to redraw says now). */
static bool stored_tagged(stage_rec *const *v, size_t n, const stage_rec *rec)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] != rec && same(v[i]->stage_name, rec->stage_name) &&
            same(v[i]->case_name, rec->case_name) && !same(v[i]->where.host, rec->where.host) &&
            v[i]->is_cleanup == rec->is_cleanup)
            return true;
    return false;
}

stage_rec **record_load(const config *c, const cJSON *stages, size_t *n)
{
    stage_rec **v = NULL;
    *n = 0;
    const cJSON *sj;
    cJSON_ArrayForEach(sj, stages)
    {
        const char *kind = str(sj, "kind"), *name = str(sj, "name"), *host = str(sj, "host");
        if (!name || !host)
            continue;
        stage_rec *rec = xcalloc(1, sizeof *rec);
        rec->is_cleanup = kind && strcmp(kind, "cleanup") == 0;
        rec->st = find_stage(c, name, rec->is_cleanup);
        rec->cs = find_case(c, str(sj, "case"));
        rec->stage_name = rec->owned[0] = xstrdup(name);
        rec->case_name = rec->owned[1] = xstrdup(str(sj, "case"));
        const cJSON *nj = cJSON_GetObjectItem(sj, "node");
        rec->where = (target){.host = rec->owned[2] = xstrdup(host),
                              .node = cJSON_IsNumber(nj) ? nj->valueint : -1};
        rec->collated = cJSON_IsTrue(cJSON_GetObjectItem(sj, "collated"));
        stage_status s;
        rec->status = stage_status_from_name(str(sj, "status"), &s) ? s : STAGE_FAILED;
        rec->has_error = cJSON_GetObjectItem(sj, "error") != NULL;
        load_outputs(rec, cJSON_GetObjectItem(sj, "outputs"));
        v = xrealloc(v, (*n + 1) * sizeof *v);
        v[(*n)++] = rec;
    }
    for (size_t i = 0; i < *n; i++)
        v[i]->where.tagged = !v[i]->collated && stored_tagged(v, *n, v[i]);
    return v;
}
