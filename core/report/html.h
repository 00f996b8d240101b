/*
 * The pieces the HTML reports share: escaping, numbers, the page's frame
 * (inline CSS and the sorting script), embedded files, small SVG charts.
 * Every function appends to a strbuf; text from a run always goes through
 * h_esc (or a function documented to escape).
 */
#ifndef BENCHCTL_REPORT_HTML_H
#define BENCHCTL_REPORT_HTML_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "util/util.h"

/* Append s (NULL: nothing) with & < > " ' escaped: safe in text and in
 * quoted attribute values. */
void h_esc(strbuf *sb, const char *s);
/* h_esc of the first n bytes of s. */
void h_escn(strbuf *sb, const char *s, size_t n);
/* A number in a table cell: up to 4 significant digits ("-" when NaN). */
void h_num(strbuf *sb, double x);
/* A duration in seconds, e.g. "1.25 s", "3 min 4 s" ("-" when NaN). */
void h_dur(strbuf *sb, double s);
/* A JSON value as escaped text: strings as they are, null as "-",
 * objects and arrays as compact JSON. */
void h_json_text(strbuf *sb, const cJSON *v);
/* A table of an object's keys and values (h_json_text); nothing when o is
 * not an object with members.  empty: text shown for an empty object, or
 * NULL for nothing. */
void h_kv_table(strbuf *sb, const cJSON *o, const char *empty);
/* A status word as a coloured badge (class st-<status>). */
void h_badge(strbuf *sb, const char *status);

/* The document's start (doctype, <head> with the inline style, <body>,
 * the title as <h1>) and end (the inline sorting script). */
void h_page_open(strbuf *sb, const char *title, const char *subtitle);
void h_page_close(strbuf *sb);
/* <section id=ID><h2>TITLE</h2> ... </section>; the title is escaped. */
void h_section_open(strbuf *sb, const char *id, const char *title);
void h_section_close(strbuf *sb);

/* Embed the file at path as an <img> with a data: URI (PNG, SVG, JPEG, GIF
 * by extension), with alt text; a file over max_bytes, of another type or
 * unreadable becomes a link to href (escaped) with a note. */
void h_embed_image(strbuf *sb, const char *path, const char *href, const char *alt,
                   size_t max_bytes);
/* Append base64 of data. */
void h_base64(strbuf *sb, const unsigned char *data, size_t len);
/* The last max_lines lines of the file at path, escaped in a <pre>
 * (reads at most the last 64 KiB); false when it cannot be read. */
bool h_log_tail(strbuf *sb, const char *path, int max_lines);

/* Seconds since the epoch of an RFC 3339 time ("2026-12-07T16:05:07.5Z",
 * "+01:00" zones), or NaN. */
double h_parse_time(const char *s);

/* An inline SVG distribution strip: every value a dot (red when
 * outlier[i]), the median and quartiles as a box, an axis with min and
 * max.  outlier may be NULL. */
void h_strip_svg(strbuf *sb, const double *v, const bool *outlier, size_t n, const char *unit);

/* Overlaid empirical CDFs of k sample sets (xs[i] sorted ascending, ns[i]
 * values), named by labels (escaped). */
void h_cdf_svg(strbuf *sb, double *const *xs, const size_t *ns, const char *const *labels,
               size_t k, const char *unit);

/* The stage timeline of metadata.json meta: a Gantt chart of every
 * stage record (html_timeline.c). */
void h_timeline_svg(strbuf *sb, const cJSON *meta);

/* The palette of series (CSS colours). */
const char *h_color(size_t i);

#endif
