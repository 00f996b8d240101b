/* Flame graphs as SVG (flame.h). */
#define _GNU_SOURCE
#include "report/flame.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/html.h"
#include "util/utf8.h"

#define FG_WIDTH 1200.0
#define FG_PAD 10.0
#define FG_FRAME 16
#define FG_TOP 48
#define FG_BOTTOM 28
#define FG_MIN_PX 0.1 /* narrower frames are not drawn (they could not be seen) */
#define FG_CHAR_PX 6.6 /* average width of a 11px monospace character */

/* The script: zoom on click, search, reset.  Each frame is a <g> whose
 * data-x and data-w give its place as a fraction of the whole. */
static const char script[] =
    "<script><![CDATA[\n"
    "(function(){\n"
    "var W=" "1180" ",P=10,svg=document.documentElement,gs=svg.querySelectorAll('g.f');\n"
    "function lab(g,w){var t=g.querySelector('text'),n=g.getAttribute('data-n');"
    "var c=Math.floor((w-6)/6.6);t.textContent=c<3?'':(n.length<=c?n:n.substr(0,c-2)+'..');}\n"
    "function place(x0,w0){for(var i=0;i<gs.length;i++){var g=gs[i],x=+g.getAttribute('data-x'),"
    "w=+g.getAttribute('data-w'),r=g.querySelector('rect'),t=g.querySelector('text');"
    "if(x+w<=x0||x>=x0+w0){g.style.display='none';continue;}"
    "var a=Math.max(x,x0),b=Math.min(x+w,x0+w0),px=P+(a-x0)/w0*W,pw=(b-a)/w0*W;"
    "g.style.display='';r.setAttribute('x',px);r.setAttribute('width',pw);"
    "t.setAttribute('x',px+3);lab(g,pw);}}\n"
    "for(var i=0;i<gs.length;i++)gs[i].addEventListener('click',function(e){"
    "place(+this.getAttribute('data-x'),+this.getAttribute('data-w'));"
    "document.getElementById('reset').style.display='';});\n"
    "document.getElementById('reset').addEventListener('click',function(){place(0,1);"
    "this.style.display='none';});\n"
    "document.getElementById('search').addEventListener('click',function(){"
    "var q=prompt('Search (regular expression)','');var m=document.getElementById('matched');"
    "var re=null;try{re=q?new RegExp(q):null}catch(e){m.textContent='invalid expression';return}"
    "var s=0,seen=[];for(var i=0;i<gs.length;i++){var g=gs[i],r=g.querySelector('rect'),"
    "hit=re&&re.test(g.getAttribute('data-n'));"
    "if(hit){if(!r.getAttribute('data-c'))r.setAttribute('data-c',r.getAttribute('fill'));"
    "r.setAttribute('fill','#e040fb');"
    "var x=+g.getAttribute('data-x'),w=+g.getAttribute('data-w'),inside=false;"
    "for(var k=0;k<seen.length;k++)if(x>=seen[k][0]&&x+w<=seen[k][0]+seen[k][1]+1e-12)inside=true;"
    "if(!inside){seen.push([x,w]);s+=w;}}"
    "else if(r.getAttribute('data-c'))r.setAttribute('fill',r.getAttribute('data-c'));}"
    "m.textContent=re?'matched: '+(s*100).toFixed(1)+'% of samples':'';});\n"
    "})();\n"
    "]]></script>\n";

/* A warm colour from the name (stable across graphs). */
static void warm(strbuf *sb, const char *name)
{
    uint32_t h = 2166136261u;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    int r = 205 + (int)(h % 50), g = 80 + (int)((h >> 8) % 140), b = 30 + (int)((h >> 16) % 40);
    sb_printf(sb, "rgb(%d,%d,%d)", r, g, b);
}

/* Differential colour: red for a share grown, blue for shrunk, by how much
 * of the whole the change is (saturated at 5 percentage points). */
static void diff_colour(strbuf *sb, double delta)
{
    double k = fabs(delta) / 0.05;
    if (k > 1)
        k = 1;
    int fade = (int)(220 - 190 * k);
    if (fabs(delta) < 0.001)
        sb_puts(sb, "rgb(225,225,225)");
    else if (delta > 0)
        sb_printf(sb, "rgb(240,%d,%d)", fade, fade);
    else
        sb_printf(sb, "rgb(%d,%d,240)", fade, fade);
}

/* The name as XML text: escaped, valid UTF-8, no control characters. */
static void xml_text(strbuf *sb, const char *s)
{
    char *fixed = utf8_fix(s, NULL);
    for (char *p = fixed; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    h_esc(sb, fixed);
    free(fixed);
}

/* Draw node i at x (fraction of the whole) and its children. */
static void draw(strbuf *sb, const folded *f, bool diff, int height, double total)
{
    /* Depth-first without recursion: x of every node from its parent's
     * x plus its earlier siblings' widths. */
    double *xs = xcalloc(f->nnodes, sizeof *xs);
    uint32_t *stack = xmalloc((f->nnodes + 1) * sizeof *stack);
    size_t sp = 0;
    for (uint32_t c = f->nodes[0].child; c; c = f->nodes[c].next)
        stack[sp++] = c;
    /* siblings are laid out from the parent's x in list order */
    double x = 0;
    for (uint32_t c = f->nodes[0].child; c; c = f->nodes[c].next) {
        xs[c] = x;
        x += (double)f->nodes[c].total / total;
    }
    while (sp) {
        uint32_t i = stack[--sp];
        const fnode *nd = &f->nodes[i];
        double w = (double)nd->total / total;
        double px = w * (FG_WIDTH - 2 * FG_PAD);
        if (px < FG_MIN_PX)
            continue; /* nor its children: they are narrower */
        double cx = xs[i];
        for (uint32_t c = nd->child; c; c = f->nodes[c].next) {
            xs[c] = cx;
            cx += (double)f->nodes[c].total / total;
            stack[sp++] = c;
        }
        const char *name = f->names[nd->name];
        double share = (double)nd->total / total;
        int y = height - FG_BOTTOM - (int)nd->depth * FG_FRAME;
        double rx = FG_PAD + xs[i] * (FG_WIDTH - 2 * FG_PAD);
        sb_puts(sb, "<g class=\"f\" data-n=\"");
        xml_text(sb, name);
        sb_printf(sb, "\" data-x=\"%.9g\" data-w=\"%.9g\"><title>", xs[i], w);
        xml_text(sb, name);
        sb_printf(sb, " (%llu samples, %.2f%%", (unsigned long long)nd->total, share * 100);
        if (diff)
            sb_printf(sb, "; was %.2f%%, %+.2f points", nd->base * 100, (share - nd->base) * 100);
        sb_printf(sb, ")</title><rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"", rx,
                  y, px, FG_FRAME - 1);
        if (diff)
            diff_colour(sb, share - nd->base);
        else
            warm(sb, name);
        sb_printf(sb, "\" rx=\"2\"/><text x=\"%.2f\" y=\"%d\">", rx + 3, y + 11);
        int chars = (int)((px - 6) / FG_CHAR_PX);
        size_t len = strlen(name);
        if (chars >= 3) {
            if (len <= (size_t)chars) {
                xml_text(sb, name);
            } else {
                /* cut on a character boundary */
                size_t cut = (size_t)chars - 2;
                while (cut > 0 && ((unsigned char)name[cut] & 0xC0) == 0x80)
                    cut--;
                char *s = xstrndup(name, cut);
                xml_text(sb, s);
                free(s);
                sb_puts(sb, "..");
            }
        }
        sb_puts(sb, "</text></g>\n");
    }
    free(stack);
    free(xs);
}

void flame_svg(strbuf *sb, const folded *f, const char *title, bool diff)
{
    int height = FG_TOP + FG_BOTTOM + (int)(f->max_depth + 1) * FG_FRAME;
    sb_printf(sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
              "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
              "height=\"%d\" viewBox=\"0 0 %d %d\">\n",
              (int)FG_WIDTH, height, (int)FG_WIDTH, height);
    sb_puts(sb, "<style>text{font:11px monospace;fill:#000;pointer-events:none}"
                "g.f{cursor:pointer}g.f:hover rect{stroke:#000;stroke-width:0.5}"
                ".h{font:bold 15px sans-serif}.u{font:12px sans-serif;fill:#333;cursor:pointer}"
                "</style>\n");
    sb_printf(sb, "<rect width=\"100%%\" height=\"100%%\" fill=\"%s\"/>\n",
              diff ? "#f8f8ff" : "#fdf6ec");
    sb_printf(sb, "<text class=\"h\" x=\"%d\" y=\"22\" text-anchor=\"middle\">", (int)FG_WIDTH / 2);
    xml_text(sb, title);
    sb_puts(sb, "</text>\n");
    sb_printf(sb, "<text class=\"u\" x=\"%d\" y=\"40\">%llu samples%s; click a frame to zoom"
              "</text>\n", (int)FG_PAD, (unsigned long long)f->samples,
              diff ? "; red: a larger share than before, blue: a smaller one" : "");
    sb_printf(sb, "<text id=\"search\" class=\"u\" x=\"%d\" y=\"22\" text-anchor=\"end\">"
              "Search</text>\n", (int)(FG_WIDTH - FG_PAD));
    sb_printf(sb, "<text id=\"reset\" class=\"u\" x=\"%d\" y=\"40\" text-anchor=\"end\" "
              "style=\"display:none\">Reset zoom</text>\n", (int)(FG_WIDTH - FG_PAD));
    sb_printf(sb, "<text id=\"matched\" class=\"u\" x=\"%d\" y=\"%d\"></text>\n",
              (int)(FG_WIDTH - FG_PAD - 300), height - 8);
    if (f->samples > 0)
        draw(sb, f, diff, height, (double)f->samples);
    else
        sb_printf(sb, "<text class=\"u\" x=\"%d\" y=\"%d\">no samples</text>\n", (int)FG_PAD,
                  height - FG_BOTTOM);
    sb_puts(sb, script);
    sb_puts(sb, "</svg>\n");
}

bool flame_write(const char *path, const folded *f, const char *title, bool diff, char **err)
{
    strbuf sb = {0};
    flame_svg(&sb, f, title, diff);
    bool ok = write_file_atomic(path, sb.buf, sb.len, false);
    if (!ok)
        *err = xasprintf("cannot write %s", path);
    sb_free(&sb);
    return ok;
}
