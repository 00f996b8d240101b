/*
 * UTF-8 for what the store writes: JSON must be valid UTF-8, whatever
 * bytes a data file, a stage's output or a plugin handed over.
 */
#ifndef BENCHCTL_UTIL_UTF8_H
#define BENCHCTL_UTIL_UTF8_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when the
 * bytes there are not one (overlong forms, surrogates and code points past
 * U+10FFFF are invalid). */
size_t utf8_seq_len(const unsigned char *s, size_t n);
/* s with each invalid byte replaced by U+FFFD (owned); *replaced (may be
 * NULL) gets how many bytes were replaced. */
char *utf8_fix(const char *s, size_t *replaced);
/* Replace invalid UTF-8 in every string value and key of j (values by
 * U+FFFD, keys' bytes by '?'); returns how many bytes were replaced. */
size_t json_fix_utf8(cJSON *j);

#endif
