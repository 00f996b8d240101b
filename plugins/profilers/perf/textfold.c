/*
 * Folding without perf's Python scripting: perf script's plain text
 * output (its documented per-sample format: a header line starting in
 * column 0, then one line per call-chain frame, "<TAB>ADDRESS SYMBOL",
 * leaf first, then an empty line) read line by line as the host streams
 * it, and summed here into one "root;...;leaf COUNT" line per distinct
 * stack.  No unwinding: perf resolved every frame.
 */
#define _GNU_SOURCE
#include "textfold.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_str(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

void textfold_init(textfold *tf)
{
    memset(tf, 0, sizeof *tf);
    bc_sb_init(&tf->frames);
    bc_sb_init(&tf->key);
}

void textfold_free(textfold *tf)
{
    for (size_t i = 0; i < tf->cap; i++)
        free(tf->keys[i]);
    free(tf->keys);
    free(tf->counts);
    free(tf->starts);
    bc_sb_free(&tf->frames);
    bc_sb_free(&tf->key);
    memset(tf, 0, sizeof *tf);
}

static bool grow(textfold *tf)
{
    size_t cap = tf->cap ? tf->cap * 2 : 1024;
    char **keys = calloc(cap, sizeof *keys);
    uint64_t *counts = calloc(cap, sizeof *counts);
    if (!keys || !counts) {
        free(keys);
        free(counts);
        return false;
    }
    for (size_t i = 0; i < tf->cap; i++) {
        if (!tf->keys[i])
            continue;
        size_t k = hash_str(tf->keys[i], strlen(tf->keys[i])) & (cap - 1);
        while (keys[k])
            k = (k + 1) & (cap - 1);
        keys[k] = tf->keys[i];
        counts[k] = tf->counts[i];
    }
    free(tf->keys);
    free(tf->counts);
    tf->keys = keys;
    tf->counts = counts;
    tf->cap = cap;
    return true;
}

/* The sample read so far (its frames, leaf first) counted once. */
static void flush(textfold *tf)
{
    size_t n = tf->nframes;
    tf->nframes = 0;
    if (n == 0 || tf->failed)
        return;
    const char *text = bc_sb_str(&tf->frames);
    bc_sb_clear(&tf->key);
    for (size_t i = n; i-- > 0;) {
        if (i + 1 < n)
            bc_sb_append(&tf->key, ";");
        bc_sb_append_n(&tf->key, text + tf->starts[2 * i], tf->starts[2 * i + 1]);
    }
    bc_sb_clear(&tf->frames);
    if (bc_sb_failed(&tf->key) || ((tf->n + 1) * 2 > tf->cap && !grow(tf))) {
        tf->failed = true;
        return;
    }
    const char *key = bc_sb_str(&tf->key);
    size_t len = strlen(key);
    size_t k = hash_str(key, len) & (tf->cap - 1);
    while (tf->keys[k] && strcmp(tf->keys[k], key) != 0)
        k = (k + 1) & (tf->cap - 1);
    if (!tf->keys[k]) {
        tf->keys[k] = strdup(key);
        if (!tf->keys[k]) {
            tf->failed = true;
            return;
        }
        tf->n++;
    }
    tf->counts[k]++;
    tf->samples++;
}

void textfold_line(textfold *tf, const char *line, size_t len)
{
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
    if (len == 0) {
        flush(tf); /* the end of a sample */
        return;
    }
    if (line[0] != '\t' && line[0] != ' ') {
        flush(tf); /* a sample's header: a new sample */
        return;
    }
    /* "<TAB>   ADDRESS SYMBOL": the symbol is the rest after the address */
    size_t i = 0;
    while (i < len && (line[i] == '\t' || line[i] == ' '))
        i++;
    while (i < len && line[i] != ' ')
        i++;
    while (i < len && line[i] == ' ')
        i++;
    const char *sym = i < len ? line + i : "[unknown]";
    size_t slen = i < len ? len - i : strlen("[unknown]");
    if (tf->nframes == tf->starts_cap) {
        size_t cap = tf->starts_cap ? tf->starts_cap * 2 : 64;
        size_t *st = realloc(tf->starts, 2 * cap * sizeof *st);
        if (!st) {
            tf->failed = true;
            return;
        }
        tf->starts = st;
        tf->starts_cap = cap;
    }
    /* starts[2i], starts[2i+1]: frame i's place and length in frames */
    size_t at = tf->frames.len;
    tf->starts[2 * tf->nframes] = at;
    tf->starts[2 * tf->nframes + 1] = slen;
    tf->nframes++;
    if (!bc_sb_append_n(&tf->frames, sym, slen)) {
        tf->failed = true;
        return;
    }
    /* ';' separates frames in the folded format */
    for (size_t k = at; k < at + slen; k++)
        if (tf->frames.buf[k] == ';')
            tf->frames.buf[k] = ':';
}

bool textfold_write(textfold *tf, FILE *out)
{
    flush(tf);
    if (tf->failed)
        return false;
    for (size_t i = 0; i < tf->cap; i++)
        if (tf->keys[i] && fprintf(out, "%s %llu\n", tf->keys[i],
                                   (unsigned long long)tf->counts[i]) < 0)
            return false;
    return true;
}
