/*
 * Host monitoring in a run's report, right below the stage timeline: the
 * monitoring figure (plots/monitor.<fmt>: one panel per metric, one line
 * per host, the stages shaded), each host's series summarised (mean, p95,
 * max per column, and a gap when its sampler stopped early), and what
 * every stage cost its hosts over its span.  All of it from metadata.json
 * "monitor"; nothing when the run was not monitored.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/html.h"
#include "report/html_run.h"
#include "util/jsonget.h"

#define MAX_EMBED (2u * 1024 * 1024)

/* The columns a reader looks at first, with their units (the CSV has
 * more: every one is in the host's table). */
static const struct {
    const char *col, *title;
    double scale;
    const char *unit;
} headline[] = {
    {"cpu_busy_pct", "CPU busy", 1, "%"},
    {"mem_used_bytes", "memory used", 1.0 / (1024 * 1024), "MiB"},
    {"net_rx_bps", "net rx", 1.0 / 1024, "KiB/s"},
    {"net_tx_bps", "net tx", 1.0 / 1024, "KiB/s"},
    {"disk_read_bps", "disk read", 1.0 / 1024, "KiB/s"},
    {"disk_write_bps", "disk write", 1.0 / 1024, "KiB/s"},
    {"load1", "load1", 1, ""},
};
#define NHEAD (sizeof headline / sizeof headline[0])

static void stat_cell(strbuf *sb, const cJSON *cols, size_t i, const char *stat)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(cols, headline[i].col);
    double v = jnum(c, stat);
    sb_puts(sb, "<td class=num>");
    if (isfinite(v))
        h_num(sb, v * headline[i].scale);
    sb_puts(sb, "</td>");
}

static void head_row(strbuf *sb, const char *first)
{
    sb_printf(sb, "<thead><tr>%s", first);
    for (size_t i = 0; i < NHEAD; i++) {
        sb_puts(sb, "<th>");
        h_esc(sb, headline[i].title);
        if (*headline[i].unit) {
            sb_puts(sb, " (");
            h_esc(sb, headline[i].unit);
            sb_puts(sb, ")");
        }
        sb_puts(sb, "</th>");
    }
    sb_puts(sb, "</tr></thead>\n");
}

/* Per host: samples, span, any gap, and mean / p95 / max of the headline
 * columns. */
static void hosts_table(strbuf *sb, const report_run_in *in, const cJSON *hosts)
{
    sb_puts(sb, "<h3>Per host</h3>\n<div class=scroll><table class=sortable>");
    head_row(sb, "<th>host</th><th>samples</th><th>statistic</th>");
    sb_puts(sb, "<tbody>\n");
    const cJSON *h;
    cJSON_ArrayForEach(h, hosts)
    {
        const cJSON *cols = cJSON_GetObjectItemCaseSensitive(h, "columns");
        static const char *const stats[] = {"mean", "p95", "max"};
        for (size_t k = 0; k < 3; k++) {
            sb_puts(sb, "<tr><td>");
            h_esc(sb, h->string);
            if (k == 0 && jstr(h, "file")) {
                char *href = rr_link(in, jstr(h, "file"));
                sb_puts(sb, " <a href=\"");
                h_esc(sb, href);
                sb_puts(sb, "\">csv</a>");
                free(href);
            }
            if (k == 0 && (jstr(h, "error") || jstr(h, "stopped_at"))) {
                sb_puts(sb, "<br><span class=st-failed>stopped ");
                h_esc(sb, jstr(h, "stopped_at") ? jstr(h, "stopped_at") : "");
                if (jstr(h, "error")) {
                    sb_puts(sb, ": ");
                    h_esc(sb, jstr(h, "error"));
                }
                sb_puts(sb, "</span>");
            }
            sb_puts(sb, "</td><td class=num>");
            double n = jnum(h, "samples");
            if (isfinite(n))
                h_num(sb, n);
            sb_printf(sb, "</td><td>%s</td>", stats[k]);
            for (size_t i = 0; i < NHEAD; i++)
                stat_cell(sb, cols, i, stats[k]);
            sb_puts(sb, "</tr>\n");
        }
    }
    sb_puts(sb, "</tbody></table></div>\n");
}

/* Per stage and host: the mean of each headline column over the stage's
 * span (peak memory: its max). */
static void stages_table(strbuf *sb, const cJSON *stages)
{
    if (cJSON_GetArraySize(stages) <= 0)
        return;
    sb_puts(sb, "<h3>What each stage cost its hosts</h3>\n"
                "<p class=muted>Means over the stage's span (memory: the peak); empty when "
                "the stage was shorter than one sampling interval.</p>\n"
                "<div class=scroll><table class=sortable>");
    head_row(sb, "<th>stage</th><th>case</th><th>host</th>");
    sb_puts(sb, "<tbody>\n");
    const cJSON *s;
    cJSON_ArrayForEach(s, stages)
    {
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(s, "resources"), *h;
        cJSON_ArrayForEach(h, res)
        {
            sb_puts(sb, "<tr><td>");
            h_esc(sb, jstr(s, "stage") ? jstr(s, "stage") : "?");
            sb_puts(sb, "</td><td>");
            h_esc(sb, jstr(s, "case") ? jstr(s, "case") : "");
            sb_puts(sb, "</td><td>");
            h_esc(sb, h->string);
            sb_puts(sb, "</td>");
            for (size_t i = 0; i < NHEAD; i++)
                stat_cell(sb, h, i, strcmp(headline[i].col, "mem_used_bytes") == 0 ? "max" : "mean");
            sb_puts(sb, "</tr>\n");
        }
    }
    sb_puts(sb, "</tbody></table></div>\n");
}

bool rr_has_monitor(const cJSON *meta)
{
    return cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(meta, "monitor"));
}

void rr_section_monitor(strbuf *sb, const report_run_in *in)
{
    const cJSON *mon = cJSON_GetObjectItemCaseSensitive(in->meta, "monitor");
    if (!cJSON_IsObject(mon))
        return;
    h_section_open(sb, "monitor", "Host monitoring");
    sb_puts(sb, "<p class=muted>Sampled by ");
    h_esc(sb, jstr(mon, "sampler") ? jstr(mon, "sampler") : "?");
    double iv = jnum(mon, "interval_ms");
    if (isfinite(iv)) {
        sb_puts(sb, " every ");
        h_dur(sb, iv / 1000);
    }
    sb_puts(sb, " on the controller's clock, on the timeline above.</p>\n");
    const char *plot = jstr(mon, "plot");
    if (plot) {
        char *abs = path_join(in->run_dir, plot), *href = rr_link(in, plot);
        sb_puts(sb, "<figure>\n");
        h_embed_image(sb, abs, href, "host monitoring: one panel per metric, stages shaded",
                      MAX_EMBED);
        sb_puts(sb, "</figure>\n");
        free(abs);
        free(href);
    }
    hosts_table(sb, in, cJSON_GetObjectItemCaseSensitive(mon, "hosts"));
    stages_table(sb, cJSON_GetObjectItemCaseSensitive(mon, "stages"));
    h_section_close(sb);
}
