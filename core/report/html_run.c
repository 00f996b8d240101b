/*
 * The report of one run: summary, what ran, hosts, the stage timeline,
 * cases, outputs (statistics, plots, validation problems), repeated
 * stages, logs, and whatever else metadata.json records (fan-out,
 * monitoring, ...) in a section that appears only when it is there.  The
 * record parts are read from metadata.json and results.json as stored
 * (docs/schema/results.schema.json); a part that is missing leaves its
 * section out or says so.  Sections of outputs and repeats are in
 * html_outputs.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/scaling.h"
#include "report/html.h"
#include "report/html_run.h"
#include "report/report.h"
#include "util/jsonget.h"

/* Top-level keys of metadata.json the sections below show; any other key
 * (a later feature's data) gets a section of its own. */
static const char *const known_keys[] = {
    "run_id", "benchmark_name", "start_time", "end_time", "config", "config_path",
    "config_copy", "hosts", "custom", "git", "environment", "parameters", "benchctl",
    "machine", "plugins", "stages", "cases", "plots", "status", "error", "duration_s",
    "only_cases", "skipped", "format", "version", "run_mark", "run_number", "monitor",
    "thresholds_failed", NULL};

char *rr_link(const report_run_in *in, const char *rel)
{
    if (!rel)
        return NULL;
    if (in->links_relative || rel[0] == '/')
        return xstrdup(rel);
    return path_join(in->run_dir, rel);
}

static bool is_failed(const char *st)
{
    return st && strcmp(st, "success") != 0 && strcmp(st, "skipped") != 0 &&
           strcmp(st, "not_run") != 0;
}

static void card(strbuf *sb, const char *label, const char *value_html)
{
    sb_printf(sb, "<div class=card><span>%s</span><b>%s</b></div>\n", label, value_html);
}

/* Count stage records by outcome. */
static void count_stages(const cJSON *meta, int *ran, int *failed, int *not_run)
{
    const cJSON *s;
    *ran = *failed = *not_run = 0;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(meta, "stages"))
    {
        const char *st = jstr(s, "status");
        if (st && (strcmp(st, "not_run") == 0 || strcmp(st, "skipped") == 0))
            (*not_run)++;
        else if (is_failed(st))
            (*failed)++;
        else
            (*ran)++;
    }
}

/* The things nobody may miss: the run's error, failed stages, invalid
 * outputs, failed plots, measurement-quality notes. */
static void summary_alerts(strbuf *sb, const cJSON *meta)
{
    const char *err = jstr(meta, "error");
    if (err) {
        sb_puts(sb, "<div class=alert><b>Error:</b> ");
        h_esc(sb, err);
        sb_puts(sb, "</div>\n");
    }
    const cJSON *s, *o, *f;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(meta, "stages"))
    {
        char *label = rr_stage_label(s);
        const char *st = jstr(s, "status");
        if (is_failed(st)) {
            sb_puts(sb, "<div class=alert>Stage <b>");
            h_esc(sb, label);
            sb_puts(sb, "</b> ");
            h_esc(sb, st);
            const cJSON *ex = cJSON_GetObjectItemCaseSensitive(s, "exit_status");
            if (cJSON_IsNumber(ex))
                sb_printf(sb, " (exit status %d)", ex->valueint);
            const char *why = jstr(s, "error");
            if (why && !(err && strcmp(why, err) == 0)) {
                sb_puts(sb, ": ");
                h_esc(sb, why);
            }
            sb_puts(sb, " — <a href=\"#logs\">log</a></div>\n");
        }
        cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(s, "outputs"))
        {
            cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(o, "files"))
            {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(f, "validation");
                if (!cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(v, "valid")))
                    continue;
                sb_puts(sb, "<div class=alert>Output <b>");
                h_esc(sb, jstr(o, "name"));
                sb_puts(sb, "</b> (");
                h_esc(sb, label);
                sb_printf(sb, ") is not valid: %.0f problem(s) in ", jnum(v, "error_count"));
                h_esc(sb, jstr(f, "path"));
                sb_puts(sb, " — <a href=\"#outputs\">details</a></div>\n");
            }
        }
        const cJSON *notes = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s, "repeat"),
                                             "quality"),
            "notes"),
                    *nt;
        cJSON_ArrayForEach(nt, notes)
        {
            sb_puts(sb, "<div class=note><b>Measurement quality</b>, ");
            h_esc(sb, label);
            sb_puts(sb, ": ");
            h_esc(sb, cJSON_GetStringValue(nt));
            sb_puts(sb, "</div>\n");
        }
        free(label);
    }
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(meta, "plots"))
    {
        const char *st = jstr(s, "status");
        if (!is_failed(st))
            continue;
        sb_puts(sb, "<div class=alert>Plot <b>");
        h_esc(sb, jstr(s, "name"));
        sb_puts(sb, "</b> failed");
        if (jstr(s, "error")) {
            sb_puts(sb, ": ");
            h_esc(sb, jstr(s, "error"));
        }
        sb_puts(sb, "</div>\n");
    }
}

/* results.json "thresholds": each failed one an alert, then every check in
 * a table (nothing when the run declared none). */
static void summary_thresholds(strbuf *sb, const cJSON *results)
{
    const cJSON *ths = cJSON_GetObjectItemCaseSensitive(results, "thresholds"), *t;
    if (cJSON_GetArraySize(ths) <= 0)
        return;
    int failed = 0;
    cJSON_ArrayForEach(t, ths)
    {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "passed")))
            continue;
        failed++;
        sb_puts(sb, "<div class=alert><b>Threshold failed</b>: ");
        h_esc(sb, jstr(t, "output") ? jstr(t, "output") : "?");
        sb_puts(sb, ".");
        h_esc(sb, jstr(t, "column") ? jstr(t, "column") : "?");
        sb_puts(sb, " <code>");
        h_esc(sb, jstr(t, "threshold") ? jstr(t, "threshold") : "?");
        sb_puts(sb, "</code> (");
        h_esc(sb, jstr(t, "stage") ? jstr(t, "stage") : "?");
        if (jstr(t, "case")) {
            sb_puts(sb, ", case ");
            h_esc(sb, jstr(t, "case"));
        }
        sb_puts(sb, "): the value is ");
        h_num(sb, jnum(t, "value"));
        sb_puts(sb, "</div>\n");
    }
    sb_printf(sb, "<details%s><summary>Thresholds: %d of %d passed</summary>\n"
                  "<table class=sortable><thead><tr><th>stage</th><th>case</th><th>output</th>"
                  "<th>column</th><th>threshold</th><th>value</th><th>verdict</th></tr></thead>"
                  "<tbody>\n",
              failed ? " open" : "", cJSON_GetArraySize(ths) - failed, cJSON_GetArraySize(ths));
    cJSON_ArrayForEach(t, ths)
    {
        static const char *const keys[] = {"stage", "case", "output", "column", "threshold"};
        sb_puts(sb, "<tr>");
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            sb_puts(sb, "<td>");
            h_esc(sb, jstr(t, keys[k]) ? jstr(t, keys[k]) : "");
            sb_puts(sb, "</td>");
        }
        sb_puts(sb, "<td class=num>");
        h_num(sb, jnum(t, "value"));
        sb_puts(sb, "</td><td>");
        h_badge(sb, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "passed")) ? "passed"
                                                                                : "failed");
        sb_puts(sb, "</td></tr>\n");
    }
    sb_puts(sb, "</tbody></table></details>\n");
}

static void section_summary(strbuf *sb, const cJSON *meta, const cJSON *results)
{
    h_section_open(sb, "summary", "Summary");
    strbuf v = {0};
    sb_puts(sb, "<div class=cards>\n");
    h_badge(&v, jstr(meta, "status") ? jstr(meta, "status") : "running");
    card(sb, "status", v.buf);
    v.len = 0;
    h_dur(&v, jnum(meta, "duration_s"));
    card(sb, "duration", v.buf);
    int ran, failed, not_run;
    count_stages(meta, &ran, &failed, &not_run);
    v.len = 0;
    sb_printf(&v, "%d ran", ran);
    if (failed)
        sb_printf(&v, ", <span class=st-failed>%d failed</span>", failed);
    if (not_run)
        sb_printf(&v, ", %d not run", not_run);
    card(sb, "stages", v.buf);
    /* status success with failed thresholds: the run exited 4 */
    double thr = jnum(meta, "thresholds_failed");
    if (thr >= 1 && thr < 1e9) {
        v.len = 0;
        sb_printf(&v, "<span class=st-failed>%d failed</span> (results.json)", (int)thr);
        card(sb, "thresholds", v.buf);
    }
    int ncases = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(meta, "cases"));
    v.len = 0;
    sb_printf(&v, "%d", ncases ? ncases : 1);
    card(sb, "cases", v.buf);
    v.len = 0;
    const char *st = jstr(meta, "start_time");
    if (st && strlen(st) >= 19) { /* 2026-12-07T16:05:07.5Z: date and time to the second */
        h_escn(&v, st, 10);
        sb_puts(&v, " ");
        h_escn(&v, st + 11, 8);
    }
    card(sb, "started (UTC)", v.len ? v.buf : "-");
    sb_puts(sb, "</div>\n");
    sb_free(&v);
    summary_alerts(sb, meta);
    summary_thresholds(sb, results);
    h_section_close(sb);
}

static void section_what_ran(strbuf *sb, const report_run_in *in)
{
    const cJSON *meta = in->meta;
    h_section_open(sb, "what", "What ran");
    cJSON *facts = cJSON_CreateObject();
    const char *keys[] = {"run_id", "benchmark_name", "config_path", "start_time", "end_time",
                          NULL};
    for (int i = 0; keys[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, keys[i]);
        if (v)
            cJSON_AddItemToObject(facts, keys[i], cJSON_Duplicate(v, 1));
    }
    const cJSON *bc = cJSON_GetObjectItemCaseSensitive(meta, "benchctl"), *it;
    cJSON_ArrayForEach(it, bc)
    {
        char *k = xasprintf("benchctl %s", it->string);
        cJSON_AddItemToObject(facts, k, cJSON_Duplicate(it, 1));
        free(k);
    }
    h_kv_table(sb, facts, NULL);
    cJSON_Delete(facts);
    sb_puts(sb, "<h3>Git</h3>\n");
    h_kv_table(sb, cJSON_GetObjectItemCaseSensitive(meta, "git"), "Not captured.");
    sb_puts(sb, "<h3>Custom metadata</h3>\n");
    h_kv_table(sb, cJSON_GetObjectItemCaseSensitive(meta, "custom"), "None.");
    sb_puts(sb, "<h3>Parameters</h3>\n");
    h_kv_table(sb, cJSON_GetObjectItemCaseSensitive(meta, "parameters"), "None.");
    sb_puts(sb, "<h3>Environment (-e)</h3>\n");
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(meta, "environment");
    if (cJSON_GetArraySize(env) > 0) {
        sb_puts(sb, "<ul>\n");
        cJSON_ArrayForEach(it, env)
        {
            sb_puts(sb, "<li><code>");
            h_json_text(sb, it);
            sb_puts(sb, "</code></li>\n");
        }
        sb_puts(sb, "</ul>\n");
    } else if (cJSON_IsObject(env)) {
        h_kv_table(sb, env, "None.");
    } else {
        sb_puts(sb, "<p class=muted>None.</p>\n");
    }
    const cJSON *pl = cJSON_GetObjectItemCaseSensitive(meta, "plugins");
    if (cJSON_GetArraySize(pl) > 0) {
        sb_puts(sb, "<h3>Plugins</h3>\n<div class=scroll><table class=sortable><thead><tr>"
                    "<th>kind</th><th>name</th><th>version</th><th>ABI</th><th>path</th>"
                    "</tr></thead><tbody>\n");
        cJSON_ArrayForEach(it, pl)
        {
            const char *f[] = {"kind", "name", "version", "abi", "path"};
            sb_puts(sb, "<tr>");
            for (int i = 0; i < 5; i++) {
                sb_puts(sb, "<td>");
                h_json_text(sb, cJSON_GetObjectItemCaseSensitive(it, f[i]));
                sb_puts(sb, "</td>");
            }
            sb_puts(sb, "</tr>\n");
        }
        sb_puts(sb, "</tbody></table></div>\n");
    }
    /* The config as given (secrets already redacted in the copy). */
    const char *copy = jstr(meta, "config_copy");
    char *path = copy ? path_join(in->run_dir, copy) : NULL;
    size_t len = 0;
    char *text = path ? read_file(path, &len) : NULL;
    sb_puts(sb, "<details><summary>Config</summary>\n");
    if (text) {
        sb_puts(sb, "<pre>");
        h_escn(sb, text, len);
        sb_puts(sb, "</pre>\n");
    } else {
        char *j = cJSON_Print(cJSON_GetObjectItemCaseSensitive(meta, "config"));
        sb_puts(sb, "<pre>");
        h_esc(sb, j ? j : "(not recorded)");
        sb_puts(sb, "</pre>\n");
        free(j);
    }
    sb_puts(sb, "</details>\n");
    free(text);
    free(path);
    h_section_close(sb);
}

static void section_hosts(strbuf *sb, const cJSON *meta)
{
    h_section_open(sb, "hosts", "Hosts");
    const cJSON *hosts = cJSON_GetObjectItemCaseSensitive(meta, "hosts"), *h;
    cJSON_ArrayForEach(h, hosts)
    {
        sb_puts(sb, "<h3>");
        h_esc(sb, h->string);
        sb_puts(sb, "</h3>\n");
        h_kv_table(sb, h, "No facts recorded.");
    }
    const cJSON *machine = cJSON_GetObjectItemCaseSensitive(meta, "machine");
    if (machine) {
        sb_puts(sb, "<h3>The machine benchctl ran on</h3>\n");
        h_kv_table(sb, machine, NULL);
    }
    h_section_close(sb);
}

static void section_cases(strbuf *sb, const cJSON *meta)
{
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(meta, "cases"), *c, *it;
    if (cJSON_GetArraySize(cases) < 1)
        return;
    h_section_open(sb, "cases", "Cases");
    sb_puts(sb, "<div class=scroll><table class=sortable><thead><tr><th>case</th>"
                "<th>parameters</th><th>env</th><th>status</th></tr></thead><tbody>\n");
    cJSON_ArrayForEach(c, cases)
    {
        sb_puts(sb, "<tr><td>");
        h_esc(sb, jstr(c, "name"));
        sb_puts(sb, "</td><td>");
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(c, "parameters"))
        {
            sb_puts(sb, "<code>");
            h_esc(sb, it->string);
            sb_puts(sb, "=");
            h_json_text(sb, it);
            sb_puts(sb, "</code> ");
        }
        sb_puts(sb, "</td><td>");
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(c, "env"))
        {
            sb_puts(sb, "<code>");
            h_esc(sb, it->string);
            sb_puts(sb, "=");
            h_json_text(sb, it);
            sb_puts(sb, "</code> ");
        }
        sb_puts(sb, "</td><td>");
        h_badge(sb, jstr(c, "status"));
        sb_puts(sb, "</td></tr>\n");
    }
    sb_puts(sb, "</tbody></table></div>\n");
    h_section_close(sb);
}

static void section_logs(strbuf *sb, const report_run_in *in)
{
    h_section_open(sb, "logs", "Logs");
    const cJSON *s;
    int shown = 0, failed = 0;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(in->meta, "stages"))
    {
        const char *log = jstr(s, "log");
        if (!is_failed(jstr(s, "status")))
            continue;
        failed++;
        char *label = rr_stage_label(s);
        sb_puts(sb, "<h3>");
        h_esc(sb, label);
        sb_puts(sb, " ");
        h_badge(sb, jstr(s, "status"));
        sb_puts(sb, "</h3>\n");
        char *path = log ? path_join(in->run_dir, log) : NULL;
        if (!path || !h_log_tail(sb, path, 30))
            sb_puts(sb, "<p class=muted>No log was kept.</p>\n");
        if (log) {
            char *href = rr_link(in, log);
            sb_puts(sb, "<p><a href=\"");
            h_esc(sb, href);
            sb_puts(sb, "\">full log</a></p>\n");
            free(href);
        }
        free(path);
        free(label);
        shown++;
    }
    if (!failed)
        sb_puts(sb, "<p class=muted>No stage failed.</p>\n");
    sb_puts(sb, "<details><summary>Every stage's log</summary>\n<ul>\n");
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(in->meta, "stages"))
    {
        const char *log = jstr(s, "log");
        if (!log)
            continue;
        char *label = rr_stage_label(s), *href = rr_link(in, log);
        sb_puts(sb, "<li><a href=\"");
        h_esc(sb, href);
        sb_puts(sb, "\">");
        h_esc(sb, label);
        sb_puts(sb, "</a></li>\n");
        free(label);
        free(href);
    }
    sb_puts(sb, "</ul></details>\n");
    h_section_close(sb);
    (void)shown;
}

/* Fan-out: when stage records carry "node" (a stage fanned out over the
 * nodes of a host), a row per host and node with its stage counts;
 * nothing otherwise. */
static void section_nodes(strbuf *sb, const cJSON *meta)
{
    const cJSON *stages = cJSON_GetObjectItemCaseSensitive(meta, "stages"), *s, *t;
    cJSON *rows = cJSON_CreateObject();
    cJSON_ArrayForEach(s, stages)
    {
        const cJSON *node = cJSON_GetObjectItemCaseSensitive(s, "node");
        if (!node || cJSON_IsNull(node))
            continue;
        char *nt = cJSON_IsString(node) ? xstrdup(node->valuestring) : cJSON_PrintUnformatted(node);
        char *key = xasprintf("%s\x1f%s", jstr(s, "host") ? jstr(s, "host") : "?", nt);
        cJSON *r = cJSON_GetObjectItemCaseSensitive(rows, key);
        if (!r) {
            r = cJSON_AddObjectToObject(rows, key);
            cJSON_AddStringToObject(r, "host", jstr(s, "host") ? jstr(s, "host") : "?");
            cJSON_AddStringToObject(r, "node", nt);
            cJSON_AddNumberToObject(r, "stages", 0);
            cJSON_AddNumberToObject(r, "failed", 0);
            cJSON_AddNumberToObject(r, "busy_s", 0);
        }
        cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "stages"), jnum(r, "stages") + 1);
        if (is_failed(jstr(s, "status")))
            cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "failed"),
                                 jnum(r, "failed") + 1);
        double d = jnum(s, "duration_s");
        if (isfinite(d))
            cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "busy_s"),
                                 jnum(r, "busy_s") + d);
        free(key);
        free(nt);
    }
    if (rows->child) {
        h_section_open(sb, "nodes", "Nodes (fan-out)");
        sb_puts(sb, "<div class=scroll><table class=sortable><thead><tr><th>host</th>"
                    "<th>node</th><th class=n>stages</th><th class=n>failed</th>"
                    "<th class=n>busy (s)</th></tr></thead><tbody>\n");
        cJSON_ArrayForEach(t, rows)
        {
            sb_puts(sb, "<tr><td>");
            h_esc(sb, jstr(t, "host"));
            sb_puts(sb, "</td><td>");
            h_esc(sb, jstr(t, "node"));
            sb_printf(sb, "</td><td class=n>%.0f</td><td class=n>%.0f</td><td class=n>",
                      jnum(t, "stages"), jnum(t, "failed"));
            h_num(sb, jnum(t, "busy_s"));
            sb_puts(sb, "</td></tr>\n");
        }
        sb_puts(sb, "</tbody></table></div>\n");
        h_section_close(sb);
    }
    cJSON_Delete(rows);
}

/* Stages with `limits:`: how each ended, its CPUs, what held, what the
 * cgroup measured (only when some stage had limits). */
static void section_limits(strbuf *sb, const cJSON *meta)
{
    const cJSON *s, *it;
    bool any = false;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(meta, "stages"))
    {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(s, "limits");
        if (!cJSON_IsObject(l))
            continue;
        if (!any) {
            h_section_open(sb, "limits", "Limits");
            sb_puts(sb, "<div class=scroll><table class=sortable><thead><tr><th>stage</th>"
                        "<th>host</th><th>termination</th><th>cgroup</th><th>cpus</th>"
                        "<th>enforced</th><th>only measured</th><th class=n>peak memory (MiB)"
                        "</th><th class=n>CPU (s)</th></tr></thead><tbody>\n");
            any = true;
        }
        char *label = rr_stage_label(s);
        sb_puts(sb, "<tr><td>");
        h_esc(sb, label);
        free(label);
        sb_puts(sb, "</td><td>");
        h_esc(sb, jstr(s, "host") ? jstr(s, "host") : "?");
        sb_puts(sb, "</td><td>");
        h_esc(sb, jstr(s, "termination") ? jstr(s, "termination") : "-");
        sb_puts(sb, "</td><td>");
        h_esc(sb, jstr(l, "cgroup") ? jstr(l, "cgroup") : "-");
        sb_puts(sb, "</td><td>");
        h_esc(sb, jstr(l, "cpus") ? jstr(l, "cpus") : "-");
        sb_puts(sb, "</td><td>");
        bool first = true;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(l, "enforced"))
        {
            sb_puts(sb, first ? "" : ", ");
            h_esc(sb, it->string);
            sb_puts(sb, " (");
            h_esc(sb, cJSON_GetStringValue(it) ? cJSON_GetStringValue(it) : "?");
            sb_puts(sb, ")");
            first = false;
        }
        sb_puts(sb, "</td><td>");
        first = true;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(l, "measured"))
        {
            sb_puts(sb, first ? "" : ", ");
            h_esc(sb, cJSON_GetStringValue(it) ? cJSON_GetStringValue(it) : "?");
            first = false;
        }
        sb_puts(sb, "</td><td class=n>");
        h_num(sb, jnum(l, "peak_memory_bytes") / (1024.0 * 1024.0));
        sb_puts(sb, "</td><td class=n>");
        h_num(sb, jnum(l, "cpu_time_s"));
        sb_puts(sb, "</td></tr>\n");
    }
    if (any) {
        sb_puts(sb, "</tbody></table></div>\n");
        h_section_close(sb);
    }
}

/* Data of features this page does not know by name: one collapsed JSON
 * block per key, so nothing recorded is hidden. */
static void section_other(strbuf *sb, const cJSON *meta)
{
    const cJSON *it;
    bool any = false;
    cJSON_ArrayForEach(it, meta)
    {
        bool known = false;
        for (int i = 0; known_keys[i]; i++)
            known = known || (it->string && strcmp(it->string, known_keys[i]) == 0);
        if (known || cJSON_IsNull(it))
            continue;
        if (!any)
            h_section_open(sb, "other", "Other recorded data");
        any = true;
        char *j = cJSON_Print(it);
        sb_puts(sb, "<details><summary>");
        h_esc(sb, it->string);
        sb_puts(sb, "</summary>\n<pre>");
        h_esc(sb, j);
        sb_puts(sb, "</pre></details>\n");
        free(j);
    }
    if (any)
        h_section_close(sb);
}

char *rr_stage_label(const cJSON *s)
{
    const char *cs = jstr(s, "case"), *kind = jstr(s, "kind"), *host = jstr(s, "host");
    strbuf b = {0};
    if (kind && strcmp(kind, "stage") != 0)
        sb_printf(&b, "%s ", kind);
    sb_puts(&b, jstr(s, "name") ? jstr(s, "name") : "?");
    if (host)
        sb_printf(&b, " on %s", host);
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(s, "node");
    if (cJSON_IsNumber(node))
        sb_printf(&b, " node %d", node->valueint);
    if (cs)
        sb_printf(&b, " [case %s]", cs);
    return sb_steal(&b);
}

static void toc(strbuf *sb, const cJSON *meta, const cJSON *results)
{
    sb_puts(sb, "<nav class=toc><a href=\"#summary\">Summary</a><a href=\"#what\">What ran</a>"
                "<a href=\"#hosts\">Hosts</a><a href=\"#timeline\">Timeline</a>");
    if (rr_has_monitor(meta))
        sb_puts(sb, "<a href=\"#monitor\">Monitoring</a>");
    if (rr_has_profiles(meta))
        sb_puts(sb, "<a href=\"#profiles\">Profiles</a>");
    if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(meta, "cases")) > 0)
        sb_puts(sb, "<a href=\"#cases\">Cases</a>");
    if (results && scaling_applies(results))
        sb_puts(sb, "<a href=\"#sweep\">Sweep</a>");
    sb_puts(sb, "<a href=\"#outputs\">Outputs</a><a href=\"#repeats\">Repeated stages</a>"
                "<a href=\"#logs\">Logs</a></nav>\n");
}

char *report_run_html(const report_run_in *in, size_t *len)
{
    strbuf sb = {0};
    const cJSON *meta = in->meta;
    char *title = xasprintf("Run %s — %s", jstr(meta, "run_id") ? jstr(meta, "run_id") : "?",
                            jstr(meta, "benchmark_name") ? jstr(meta, "benchmark_name") : "?");
    char *sub = xasprintf("benchctl run report · %s", in->run_dir);
    h_page_open(&sb, title, sub);
    toc(&sb, meta, in->results);
    section_summary(&sb, meta, in->results);
    section_what_ran(&sb, in);
    section_hosts(&sb, meta);
    section_nodes(&sb, meta);
    section_limits(&sb, meta);
    h_section_open(&sb, "timeline", "Stage timeline");
    h_timeline_svg(&sb, meta);
    h_section_close(&sb);
    rr_section_monitor(&sb, in);
    section_cases(&sb, meta);
    rr_section_sweep(&sb, in->results);
    rr_section_outputs(&sb, in);
    rr_section_repeats(&sb, meta);
    rr_section_profiles(&sb, in);
    section_logs(&sb, in);
    section_other(&sb, meta);
    h_page_close(&sb);
    free(title);
    free(sub);
    if (len)
        *len = sb.len;
    return sb_steal(&sb);
}

bool report_write_run(const char *run_dir, const char *out_path, char **err)
{
    char *mp = path_join(run_dir, "metadata.json"), *rp = path_join(run_dir, "results.json");
    size_t n = 0;
    char *text = read_file(mp, &n);
    bool readable = text != NULL;
    cJSON *meta = text ? cJSON_ParseWithLength(text, n) : NULL;
    free(text);
    bool ok = false;
    if (!meta) {
        *err = xasprintf("%s: %s", mp, readable ? "not valid JSON" : "cannot be read");
        goto done;
    }
    text = read_file(rp, &n);
    cJSON *results = text ? cJSON_ParseWithLength(text, n) : NULL;
    free(text);
    char *rd = abs_path(run_dir), *od = abs_path(out_path), *odir = dir_name(od);
    report_run_in in = {.run_dir = rd, .meta = meta, .results = results,
                        .links_relative = strcmp(odir, rd) == 0};
    size_t len;
    char *html = report_run_html(&in, &len);
    ok = write_file_atomic(out_path, html, len, false);
    if (!ok)
        *err = xasprintf("cannot write %s: %s", out_path, strerror(errno));
    free(html);
    free(rd);
    free(od);
    free(odir);
    cJSON_Delete(results);
    cJSON_Delete(meta);
done:
    free(mp);
    free(rp);
    return ok;
}
