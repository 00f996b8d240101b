/* The run directory's layout (layout.h): every naming rule in one place. */
#define _GNU_SOURCE
#include "run/layout.h"

#include <stdlib.h>
#include <string.h>

#include "util/util.h"

target layout_target(const cfg_stage *st, const char *host)
{
    return (target){.host = host, .node = -1, .tagged = st->nhosts > 1};
}

char *layout_tag(const target *t)
{
    if (t && t->node >= 0)
        return xasprintf("/node-%d", t->node);
    if (!t || !t->tagged)
        return xstrdup("");
    return xasprintf("__%s", t->host);
}

/* [<case>/][cleanup-]<stage>[<tag>]: a stage run's own name. */
static char *stage_stem(const cfg_stage *st, const target *t, const cfg_case *cs)
{
    char *tag = layout_tag(t);
    char *s = xasprintf("%s%s%s%s%s", cs ? cs->name : "", cs ? "/" : "",
                        st->is_cleanup ? "cleanup-" : "", st->name, tag);
    free(tag);
    return s;
}

char *layout_log(const cfg_stage *st, const target *t, const cfg_case *cs)
{
    char *stem = stage_stem(st, t, cs);
    char *p = xasprintf("logs/%s.log", stem);
    free(stem);
    return p;
}

char *layout_metadata(const cfg_stage *st, const target *t, const cfg_case *cs)
{
    char *stem = stage_stem(st, t, cs);
    char *p = xasprintf(LAYOUT_METADATA_DIR "/%s.json", stem);
    free(stem);
    return p;
}

char *layout_profile(const cfg_stage *st, const target *t, const cfg_case *cs, int rep,
                     const char *ext)
{
    char *stem = stage_stem(st, t, cs);
    char *p = rep > 0 ? xasprintf("profiles/%s.rep-%d%s", stem, rep, ext)
                      : xasprintf("profiles/%s%s", stem, ext);
    free(stem);
    return p;
}

/* "rep-<n>/" for a repetition's files, "" otherwise. */
static char *rep_dir(const target *t)
{
    return t && t->rep > 0 ? xasprintf("rep-%d/", t->rep) : xstrdup("");
}

char *layout_output_dir(const cfg_case *cs, const target *t)
{
    char *rep = rep_dir(t);
    size_t n = strlen(rep);
    if (n)
        rep[n - 1] = '\0'; /* no trailing slash */
    char *p = xasprintf("%s%s%s%s", cs ? "cases/" : "", cs ? cs->name : "", cs && n ? "/" : "",
                        rep);
    free(rep);
    return p;
}

/* Does s contain a glob character (*?[)? */
static bool is_glob(const char *s) { return strpbrk(s, "*?[") != NULL; }

/* The extension of path's last component ("" when none). */
static const char *extension(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    return dot && dot != base ? dot : "";
}

char *layout_output_base(const char *output, const target *t, const char *remote_path)
{
    char *tag = layout_tag(t);
    char *p = xasprintf("%s%s%s", output, tag,
                        is_glob(remote_path) ? "" : extension(remote_path));
    free(tag);
    return p;
}

char *layout_samples_dir(const char *output, const target *t, const cfg_case *cs)
{
    char *tag = layout_tag(t), *rep = rep_dir(t);
    char *p = xasprintf("samples/%s%s%s%s%s", cs ? cs->name : "", cs ? "/" : "", rep, output, tag);
    free(tag);
    free(rep);
    return p;
}

char *layout_plot(const cfg_plot *p, const target *t, const char *case_name, const char *source,
                  bool several_files)
{
    char *tag = layout_tag(t), *rep = rep_dir(t);
    strbuf sb = {0};
    sb_printf(&sb, "plots/%s%s%s%s%s", case_name ? case_name : "", case_name ? "/" : "", rep,
              p->name, tag);
    free(rep);
    if (several_files) {
        const char *b = strrchr(source, '/');
        b = b ? b + 1 : source;
        const char *dot = strrchr(b, '.');
        size_t n = dot && dot != b ? (size_t)(dot - b) : strlen(b);
        sb_puts(&sb, "__");
        sb_add(&sb, b, n);
    }
    sb_printf(&sb, ".%s", p->format);
    free(tag);
    return sb_steal(&sb);
}

char *layout_remote_script(const cfg_stage *st, const char *script_path)
{
    const char *base = strrchr(script_path, '/');
    return xasprintf("scripts/%s-%s", st->name, base ? base + 1 : script_path);
}
