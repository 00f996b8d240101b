/*
 * Profiles in a run's report: for every profiled stage record (a stage's
 * `profile:`), a link to its flame graph (an SVG file of its own: it zooms
 * and searches with its script, which an <img> would not run) and its
 * hottest functions; or why it was not profiled.  From metadata.json.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/html.h"
#include "report/html_run.h"
#include "util/jsonget.h"

#define TOP_SHOWN 5

bool rr_has_profiles(const cJSON *meta)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(meta, "stages"))
    {
        if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(s, "profile")))
            return true;
    }
    return false;
}

static void top_rows(strbuf *sb, const cJSON *list, const char *what)
{
    int k = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, list)
    {
        if (k++ >= TOP_SHOWN)
            break;
        sb_puts(sb, "<tr><td>");
        if (k == 1)
            sb_puts(sb, what);
        sb_puts(sb, "</td><td><code>");
        h_esc(sb, jstr(e, "function"));
        sb_puts(sb, "</code></td><td class=n>");
        h_num(sb, jnum(e, "samples"));
        sb_puts(sb, "</td><td class=n>");
        h_num(sb, jnum(e, "share") * 100);
        sb_puts(sb, " %</td></tr>\n");
    }
}

void rr_section_profiles(strbuf *sb, const report_run_in *in)
{
    if (!rr_has_profiles(in->meta))
        return;
    h_section_open(sb, "profiles", "Profiles");
    sb_puts(sb, "<p class=muted>Measured runs sampled by a profiler (<code>profile:</code>). "
                "A flame graph opens on its own: click a frame to zoom, <em>Search</em> "
                "highlights functions. <code>benchctl profile ID</code> prints the tables, "
                "<code>benchctl profile ID1 ID2</code> compares two runs.</p>\n");
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(in->meta, "stages"))
    {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(s, "profile");
        if (!cJSON_IsObject(p))
            continue;
        char *label = rr_stage_label(s);
        sb_puts(sb, "<h3>");
        h_esc(sb, label);
        sb_puts(sb, "</h3>\n");
        free(label);
        if (jstr(p, "error")) {
            sb_puts(sb, "<p class=muted>Not profiled: ");
            h_esc(sb, jstr(p, "error"));
            sb_puts(sb, "</p>\n");
            continue;
        }
        sb_puts(sb, "<p>");
        h_num(sb, jnum(p, "samples"));
        sb_puts(sb, " samples by ");
        h_esc(sb, jstr(p, "profiler"));
        double runs = jnum(p, "runs");
        if (isfinite(runs) && runs > 1)
            sb_printf(sb, " over %.0f runs", runs);
        if (jstr(p, "flamegraph")) {
            char *href = rr_link(in, jstr(p, "flamegraph"));
            sb_puts(sb, " · <a href=\"");
            h_esc(sb, href);
            sb_puts(sb, "\">flame graph</a>");
            free(href);
        }
        if (jstr(p, "folded")) {
            char *href = rr_link(in, jstr(p, "folded"));
            sb_puts(sb, " · <a href=\"");
            h_esc(sb, href);
            sb_puts(sb, "\">folded stacks</a>");
            free(href);
        }
        sb_puts(sb, "</p>\n<table><tr><th></th><th>function</th><th>samples</th>"
                    "<th>share</th></tr>\n");
        top_rows(sb, cJSON_GetObjectItemCaseSensitive(p, "top_self"), "self");
        top_rows(sb, cJSON_GetObjectItemCaseSensitive(p, "top_total"), "total");
        sb_puts(sb, "</table>\n");
    }
    h_section_close(sb);
}
