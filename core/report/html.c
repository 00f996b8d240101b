/*
 * The HTML reports' shared pieces: escaping, numbers, the page frame with
 * its inline style (light and dark, print, narrow windows) and sorting
 * script, embedded images, log tails and RFC 3339 times.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "report/html.h"

void h_escn(strbuf *sb, const char *s, size_t n)
{
    if (!s)
        return;
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        case '\0': rep = ""; break; /* never in a file's text, but not passed on */
        default: break;
        }
        if (!rep)
            continue;
        sb_add(sb, s + start, i - start);
        sb_puts(sb, rep);
        start = i + 1;
    }
    sb_add(sb, s + start, n - start);
}

void h_esc(strbuf *sb, const char *s)
{
    if (s)
        h_escn(sb, s, strlen(s));
}

void h_num(strbuf *sb, double x)
{
    if (!isfinite(x)) {
        sb_puts(sb, "-");
        return;
    }
    double a = fabs(x);
    if (a != 0 && (a >= 1e7 || a < 1e-3))
        sb_printf(sb, "%.4g", x);
    else if (a >= 1000 || x == floor(x))
        sb_printf(sb, "%.0f", x);
    else
        sb_printf(sb, "%.4g", x);
}

void h_dur(strbuf *sb, double s)
{
    if (!isfinite(s))
        sb_puts(sb, "-");
    else if (s < 1)
        sb_printf(sb, "%.0f ms", s * 1000);
    else if (s < 60)
        sb_printf(sb, "%.2f s", s);
    else if (s < 3600)
        sb_printf(sb, "%d min %d s", (int)(s / 60), (int)fmod(s, 60));
    else
        sb_printf(sb, "%d h %d min", (int)(s / 3600), (int)fmod(s / 60, 60));
}

void h_json_text(strbuf *sb, const cJSON *v)
{
    if (!v || cJSON_IsNull(v)) {
        sb_puts(sb, "-");
    } else if (cJSON_IsString(v)) {
        h_esc(sb, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        double x = v->valuedouble;
        if (x == floor(x) && fabs(x) < 1e15)
            sb_printf(sb, "%.0f", x);
        else
            sb_printf(sb, "%.10g", x);
    } else if (cJSON_IsBool(v)) {
        sb_puts(sb, cJSON_IsTrue(v) ? "true" : "false");
    } else {
        char *p = cJSON_PrintUnformatted(v);
        h_esc(sb, p);
        free(p);
    }
}

void h_kv_table(strbuf *sb, const cJSON *o, const char *empty)
{
    if (!cJSON_IsObject(o) || !o->child) {
        if (empty)
            sb_printf(sb, "<p class=muted>%s</p>\n", empty);
        return;
    }
    sb_puts(sb, "<table class=kv>\n");
    for (const cJSON *it = o->child; it; it = it->next) {
        sb_puts(sb, "<tr><th>");
        h_esc(sb, it->string);
        sb_puts(sb, "</th><td>");
        h_json_text(sb, it);
        sb_puts(sb, "</td></tr>\n");
    }
    sb_puts(sb, "</table>\n");
}

void h_badge(strbuf *sb, const char *status)
{
    const char *s = status ? status : "unknown";
    sb_puts(sb, "<span class=\"badge st-");
    for (const char *p = s; *p; p++) /* a class name: letters only */
        sb_add(sb, (*p >= 'a' && *p <= 'z') ? p : "x", 1);
    sb_puts(sb, "\">");
    h_esc(sb, s);
    sb_puts(sb, "</span>");
}

const char *h_color(size_t i)
{
    static const char *const c[] = {"#3b6fd4", "#e07b24", "#2f9e5b", "#b8448f",
                                    "#8a6d1f", "#1b9aaa", "#7a52c7", "#c23b3b"};
    return c[i % ARRAY_LEN(c)];
}

/* ---- the frame -------------------------------------------------------------------- */

static const char css[] =
    ":root{--bg:#fff;--fg:#1d2228;--muted:#667085;--line:#d8dde5;--panel:#f5f7fa;"
    "--ok:#1f8a4c;--bad:#c62828;--warn:#b26a00;--accent:#3b6fd4;--bar:#6d93e3}\n"
    "@media (prefers-color-scheme:dark){:root{--bg:#15181d;--fg:#e3e7ee;--muted:#98a2b3;"
    "--line:#343b46;--panel:#1e232a;--ok:#4cc47f;--bad:#ff6b6b;--warn:#f0a53a;"
    "--accent:#7ea6ff;--bar:#5b7fcf}img.plot{background:#fff}}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0 auto;max-width:1200px;padding:1rem 1.5rem 3rem;background:var(--bg);"
    "color:var(--fg);font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}\n"
    "h1{font-size:1.6rem;margin:.5rem 0 .2rem}h2{font-size:1.25rem;margin:2rem 0 .6rem;"
    "padding-bottom:.25rem;border-bottom:2px solid var(--line)}h3{font-size:1.05rem;"
    "margin:1.2rem 0 .4rem}\n"
    ".sub{color:var(--muted);margin:0 0 1rem}.muted{color:var(--muted)}\n"
    "nav.toc{display:flex;flex-wrap:wrap;gap:.3rem .9rem;font-size:.9rem;margin:.4rem 0 1rem}\n"
    "nav.toc a{color:var(--accent);text-decoration:none}\n"
    ".scroll{overflow-x:auto;max-width:100%}\n"
    "table{border-collapse:collapse;margin:.3rem 0 1rem;font-size:.9rem}\n"
    "th,td{border-bottom:1px solid var(--line);padding:.25rem .6rem;text-align:left;"
    "vertical-align:top}\n"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "table.kv th{font-weight:600;white-space:nowrap;color:var(--muted)}\n"
    "table.kv td{word-break:break-word}\n"
    "thead th{background:var(--panel);position:sticky;top:0}\n"
    "table.sortable thead th{cursor:pointer}table.sortable thead th:after{content:' \\2195';"
    "color:var(--muted);font-size:.8em}\n"
    "tr.regressed td{background:rgba(198,40,40,.12)}tr.improved td{background:rgba(31,138,76,.1)}\n"
    ".badge{display:inline-block;padding:.05rem .5rem;border-radius:1rem;font-size:.8rem;"
    "font-weight:600;border:1px solid currentColor}\n"
    ".st-success,.st-improved,.st-ready,.st-passed{color:var(--ok)}\n"
    ".st-failed,.st-regressed,.st-timeout,.st-crashed,.st-error{color:var(--bad)}\n"
    ".st-interrupted,.st-inconclusive,.st-different,.st-notxrun,.st-skipped{color:var(--warn)}\n"
    ".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:.7rem;"
    "margin:.6rem 0 1rem}\n"
    ".card{background:var(--panel);border:1px solid var(--line);border-radius:8px;"
    "padding:.6rem .8rem}.card>b{display:block;font-size:1.2rem}"
    ".card>span{color:var(--muted);font-size:.8rem}\n"
    ".alert{border-left:4px solid var(--bad);background:var(--panel);padding:.5rem .8rem;"
    "margin:.4rem 0}.note{border-left:4px solid var(--warn);background:var(--panel);"
    "padding:.4rem .8rem;margin:.3rem 0}\n"
    "pre{background:var(--panel);border:1px solid var(--line);border-radius:6px;"
    "padding:.6rem;overflow-x:auto;font-size:.8rem;line-height:1.35;max-height:28rem}\n"
    "details{margin:.3rem 0}summary{cursor:pointer;font-weight:600}\n"
    "img.plot{max-width:min(100%,760px);height:auto;border:1px solid var(--line);border-radius:6px}\n"
    ".figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:.5rem 1.2rem}\n"
    "figure{margin:.5rem 0 1rem}figcaption{color:var(--muted);font-size:.85rem}\n"
    "svg{max-width:100%;height:auto;font:11px system-ui,sans-serif}\n"
    "svg text{fill:var(--fg)}svg .grid{stroke:var(--line)}svg .axis{stroke:var(--muted)}\n"
    "svg .bar{fill:var(--bar)}svg .bar.bg{fill:var(--bar);opacity:.45}"
    "svg .bar.failed{fill:var(--bad)}svg .bar.not_run{fill:var(--muted);opacity:.5}\n"
    "svg .dot{fill:var(--accent)}svg .dot.out{fill:var(--bad)}svg .box{fill:none;"
    "stroke:var(--fg)}\n"
    ".legend span{display:inline-block;margin-right:1rem;font-size:.85rem}"
    ".legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;"
    "vertical-align:-1px;border-radius:2px}\n"
    "@media print{nav.toc{display:none}body{max-width:none;font-size:11px}"
    "pre{max-height:none}thead th{position:static}section{break-inside:auto}"
    "h2{break-after:avoid}}\n"
    "@media (max-width:640px){body{padding:.6rem}th,td{padding:.2rem .35rem}}\n";

/* Sorting only: a click on a header sorts by that column (numbers by the
 * cell's data-v, else by text); a second click reverses. */
static const char js[] =
    "document.querySelectorAll('table.sortable').forEach(function(t){\n"
    " t.querySelectorAll('thead th').forEach(function(th,i){\n"
    "  th.addEventListener('click',function(){\n"
    "   var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows);\n"
    "   var dir=th.getAttribute('data-dir')==='asc'?-1:1;\n"
    "   t.querySelectorAll('thead th').forEach(function(h){h.removeAttribute('data-dir')});\n"
    "   th.setAttribute('data-dir',dir>0?'asc':'desc');\n"
    "   function key(r){var c=r.cells[i];if(!c)return '';var v=c.getAttribute('data-v');\n"
    "    if(v!==null&&v!==''&&!isNaN(+v))return +v;return c.textContent.trim();}\n"
    "   rows.sort(function(x,y){var a=key(x),c=key(y);\n"
    "    if(typeof a==='number'&&typeof c==='number')return (a-c)*dir;\n"
    "    if(typeof a==='number')return -1;if(typeof c==='number')return 1;\n"
    "    return a.localeCompare(c)*dir;});\n"
    "   rows.forEach(function(r){b.appendChild(r)});\n"
    "  });\n"
    " });\n"
    "});\n";

void h_page_open(strbuf *sb, const char *title, const char *subtitle)
{
    sb_puts(sb, "<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n"
                "<meta name=viewport content=\"width=device-width,initial-scale=1\">\n"
                "<meta name=color-scheme content=\"light dark\">\n"
                /* nothing outside this file may be fetched */
                "<meta http-equiv=Content-Security-Policy content=\"default-src 'none'; "
                "img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
                "<meta name=generator content=benchctl>\n<title>");
    h_esc(sb, title);
    sb_puts(sb, "</title>\n<style>\n");
    sb_puts(sb, css);
    sb_puts(sb, "</style>\n</head>\n<body>\n<header>\n<h1>");
    h_esc(sb, title);
    sb_puts(sb, "</h1>\n");
    if (subtitle) {
        sb_puts(sb, "<p class=sub>");
        h_esc(sb, subtitle);
        sb_puts(sb, "</p>\n");
    }
    sb_puts(sb, "</header>\n<main>\n");
}

void h_page_close(strbuf *sb)
{
    sb_puts(sb, "</main>\n<footer class=muted><p>Written by benchctl. This page is one file: "
                "nothing is loaded from elsewhere.</p></footer>\n<script>\n");
    sb_puts(sb, js);
    sb_puts(sb, "</script>\n</body>\n</html>\n");
}

void h_section_open(strbuf *sb, const char *id, const char *title)
{
    sb_printf(sb, "<section id=\"%s\">\n<h2>", id);
    h_esc(sb, title);
    sb_puts(sb, "</h2>\n");
}

void h_section_close(strbuf *sb)
{
    sb_puts(sb, "</section>\n");
}

/* ---- files ------------------------------------------------------------------------ */

void h_base64(strbuf *sb, const unsigned char *d, size_t len)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char out[4];
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)d[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)d[i + 1] << 8;
        if (i + 2 < len)
            v |= d[i + 2];
        out[0] = t[(v >> 18) & 63];
        out[1] = t[(v >> 12) & 63];
        out[2] = i + 1 < len ? t[(v >> 6) & 63] : '=';
        out[3] = i + 2 < len ? t[v & 63] : '=';
        sb_add(sb, out, 4);
    }
}

static const char *image_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot)
        return NULL;
    if (strcasecmp(dot, ".png") == 0)
        return "image/png";
    if (strcasecmp(dot, ".svg") == 0)
        return "image/svg+xml";
    if (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0)
        return "image/jpeg";
    if (strcasecmp(dot, ".gif") == 0)
        return "image/gif";
    return NULL;
}

void h_embed_image(strbuf *sb, const char *path, const char *href, const char *alt,
                   size_t max_bytes)
{
    const char *type = image_type(path);
    struct stat st;
    const char *why = NULL;
    if (!type)
        why = "not an image format a page can show";
    else if (stat(path, &st) != 0)
        why = "the file is missing";
    else if ((size_t)st.st_size > max_bytes)
        why = "too big to embed";
    size_t len = 0;
    char *data = why ? NULL : read_file(path, &len);
    if (!why && !data)
        why = "the file cannot be read";
    if (why) {
        sb_puts(sb, "<p class=muted>");
        h_esc(sb, alt);
        sb_puts(sb, ": <a href=\"");
        h_esc(sb, href);
        sb_puts(sb, "\">");
        h_esc(sb, href);
        sb_printf(sb, "</a> (%s)</p>\n", why);
        return;
    }
    sb_printf(sb, "<img class=plot loading=lazy alt=\"");
    h_esc(sb, alt);
    sb_printf(sb, "\" src=\"data:%s;base64,", type);
    h_base64(sb, (const unsigned char *)data, len);
    sb_puts(sb, "\">\n");
    free(data);
}

bool h_log_tail(strbuf *sb, const char *path, int max_lines)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return false;
    }
    const off_t cap = 64 * 1024;
    off_t from = st.st_size > cap ? st.st_size - cap : 0;
    size_t want = (size_t)(st.st_size - from), got = 0;
    char *buf = xmalloc(want + 1);
    while (got < want) {
        ssize_t r = pread(fd, buf + got, want - got, from + (off_t)got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    size_t end = got;
    while (end > 0 && buf[end - 1] == '\n')
        end--;
    size_t start = end;
    int lines = 0;
    while (start > 0) {
        if (buf[start - 1] == '\n' && ++lines >= max_lines)
            break;
        start--;
    }
    sb_puts(sb, "<pre class=log>");
    if (start > 0 || from > 0)
        sb_puts(sb, "<span class=muted>…</span>\n");
    h_escn(sb, buf + start, end - start);
    sb_puts(sb, "</pre>\n");
    free(buf);
    return true;
}

double h_parse_time(const char *s)
{
    if (!s)
        return NAN;
    struct tm tm = {0};
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return NAN;
    double t = (double)timegm(&tm);
    if (*p == '.') {
        char *end;
        double frac = strtod(p, &end);
        t += frac;
        p = end;
    }
    if (*p == '+' || *p == '-') {
        int hh = 0, mm = 0;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) == 2)
            t -= (*p == '+' ? 1 : -1) * (hh * 3600.0 + mm * 60.0);
    }
    return t;
}
