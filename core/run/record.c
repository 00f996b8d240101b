/* The typed run model (record.h) and its JSON form. */
#define _GNU_SOURCE
#include "run/record.h"

#include <stdlib.h>
#include <string.h>

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
    rec->json = cJSON_CreateObject();
    cJSON_AddStringToObject(rec->json, "name", st->name);
    cJSON_AddStringToObject(rec->json, "kind", st->is_cleanup ? "cleanup" : "stage");
    cJSON_AddStringToObject(rec->json, "host", host);
    if (cs)
        cJSON_AddStringToObject(rec->json, "case", cs->name);
    else
        cJSON_AddNullToObject(rec->json, "case");
    if (stages_json)
        cJSON_AddItemToArray(stages_json, rec->json);
    return rec;
}

void record_set_status(stage_rec *rec, stage_status s, const char *reason)
{
    rec->status = s;
    cJSON_DeleteItemFromObjectCaseSensitive(rec->json, "status");
    cJSON_AddStringToObject(rec->json, "status", stage_status_name(s));
    if (reason)
        cJSON_AddStringToObject(rec->json, "reason", reason);
}

void record_set_error(stage_rec *rec, const char *error)
{
    if (rec->has_error || !error)
        return;
    rec->has_error = true;
    cJSON_AddStringToObject(rec->json, "error", error);
}

out_rec *record_add_output(stage_rec *rec, const char *output, const char *name)
{
    rec->outputs = xrealloc(rec->outputs, (rec->noutputs + 1) * sizeof *rec->outputs);
    out_rec *o = &rec->outputs[rec->noutputs++];
    *o = (out_rec){.output = xstrdup(output), .name = xstrdup(name)};
    return o;
}

out_file *record_add_file(out_rec *o, const char *path)
{
    o->files = xrealloc(o->files, (o->nfiles + 1) * sizeof *o->files);
    out_file *f = &o->files[o->nfiles++];
    *f = (out_file){.path = xstrdup(path), .validity = FILE_NOT_VALIDATED};
    return f;
}

void record_free(stage_rec *rec)
{
    if (!rec)
        return;
    for (size_t i = 0; i < rec->noutputs; i++) {
        for (size_t j = 0; j < rec->outputs[i].nfiles; j++)
            free(rec->outputs[i].files[j].path);
        free(rec->outputs[i].files);
        free(rec->outputs[i].name);
        free(rec->outputs[i].output);
    }
    free(rec->outputs);
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
        rec->where = (target){.host = rec->owned[2] = xstrdup(host), .node = -1};
        stage_status s;
        rec->status = stage_status_from_name(str(sj, "status"), &s) ? s : STAGE_FAILED;
        rec->has_error = cJSON_GetObjectItem(sj, "error") != NULL;
        load_outputs(rec, cJSON_GetObjectItem(sj, "outputs"));
        v = xrealloc(v, (*n + 1) * sizeof *v);
        v[(*n)++] = rec;
    }
    for (size_t i = 0; i < *n; i++)
        v[i]->where.tagged = stored_tagged(v, *n, v[i]);
    return v;
}
