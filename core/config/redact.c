/*
 * The config copy saved with a run (config_redacted_text): the file as
 * written, each secret value replaced in place, when every secret is a
 * one-line scalar of its own (the common `password: s3cret`); otherwise
 * (a block scalar, an anchor, a tag: replacing text there could leak the
 * secret through an alias or break the copy) the parsed tree written back
 * by libyaml's emitter with every secret value replaced (aliases and
 * merges written out expanded).
 */
#include "config/config.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/util.h"

static bool is_secret(const config *c, const ynode *n)
{
    for (size_t i = 0; i < c->nsecrets; i++)
        if (c->secrets[i].start == n->start && n->type == Y_SCALAR)
            return true;
    return false;
}

static int to_buf(void *data, unsigned char *buf, size_t size)
{
    sb_add(data, buf, size);
    return 1;
}

static bool emit(yaml_emitter_t *em, yaml_event_t *ev) { return yaml_emitter_emit(em, ev) != 0; }

static bool emit_node(yaml_emitter_t *em, const config *c, const ynode *n, int depth)
{
    yaml_event_t ev;
    if (depth > 10000)
        return false;
    if (n->type == Y_SCALAR) {
        const char *v = is_secret(c, n) ? "<redacted>" : n->str;
        bool plain = !n->quoted && !is_secret(c, n);
        yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)v, (int)strlen(v), plain,
                                     !plain, plain ? YAML_ANY_SCALAR_STYLE
                                                   : YAML_DOUBLE_QUOTED_SCALAR_STYLE);
        return emit(em, &ev);
    }
    bool map = n->type == Y_MAP;
    if (map)
        yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_ANY_MAPPING_STYLE);
    else
        yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_ANY_SEQUENCE_STYLE);
    if (!emit(em, &ev))
        return false;
    for (size_t i = 0; i < n->n; i++) {
        if (map && !emit_node(em, c, n->keys[i], depth + 1))
            return false;
        if (!emit_node(em, c, n->vals[i], depth + 1))
            return false;
    }
    if (map)
        yaml_mapping_end_event_initialize(&ev);
    else
        yaml_sequence_end_event_initialize(&ev);
    return emit(em, &ev);
}

static int cmp_range(const void *a, const void *b)
{
    const cfg_range *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Can each secret be replaced in the text itself? */
static bool text_safe(const config *c)
{
    for (size_t i = 0; i < c->nsecrets; i++) {
        const cfg_range *r = &c->secrets[i];
        if (r->end > c->len || r->start >= r->end)
            return false;
        const char *s = c->text + r->start;
        if (strchr("&*!|>", s[0]) || memchr(s, '\n', r->end - r->start))
            return false;
    }
    return true;
}

static char *redact_text(const config *c, size_t *len)
{
    cfg_range *r = xmalloc((c->nsecrets + 1) * sizeof *r);
    for (size_t i = 0; i < c->nsecrets; i++)
        r[i] = c->secrets[i];
    qsort(r, c->nsecrets, sizeof *r, cmp_range);
    strbuf sb = {0};
    size_t pos = 0;
    for (size_t i = 0; i < c->nsecrets; i++) {
        if (r[i].start < pos)
            continue;
        sb_add(&sb, c->text + pos, r[i].start - pos);
        sb_puts(&sb, "\"<redacted>\"");
        pos = r[i].end;
    }
    sb_add(&sb, c->text + pos, c->len - pos);
    free(r);
    *len = sb.len;
    return sb_steal(&sb);
}

char *config_redacted_text(const config *c, size_t *len)
{
    const ynode *root = ytree_root(c->tree);
    if (!c->nsecrets || !root) {
        *len = c->len;
        return xstrndup(c->text, c->len);
    }
    if (text_safe(c))
        return redact_text(c, len);
    strbuf sb = {0};
    sb_puts(&sb, "# benchctl: the config as parsed, with its secrets redacted (comments, anchors "
                 "and layout are not kept)\n");
    yaml_emitter_t em;
    yaml_event_t ev;
    bool ok = yaml_emitter_initialize(&em);
    if (ok) {
        yaml_emitter_set_output(&em, to_buf, &sb);
        yaml_emitter_set_unicode(&em, 1);
        yaml_emitter_set_width(&em, -1);
        yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
        ok = emit(&em, &ev);
        yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
        ok = ok && emit(&em, &ev) && emit_node(&em, c, root, 0);
        yaml_document_end_event_initialize(&ev, 1);
        ok = ok && emit(&em, &ev);
        yaml_stream_end_event_initialize(&ev);
        ok = ok && emit(&em, &ev);
        yaml_emitter_delete(&em);
    }
    if (!ok) { /* never the secrets: nothing but a note */
        sb_free(&sb);
        sb_puts(&sb, "# benchctl: the config could not be written back with its secrets "
                     "redacted\n");
    }
    *len = sb.len;
    return sb_steal(&sb);
}
