/*
 * libFuzzer harness: the small parsers of the core — durations, sizes,
 * integers, numbers — and the UTF-8 repair every store write goes through
 * (on a string and on a cJSON tree parsed from the bytes).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/utf8.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    int64_t i;
    double d;
    if (parse_duration_ns(s, &i) && i < 0)
        abort(); /* a duration is never negative */
    if (parse_size(s, &i) && i < 0)
        abort();
    parse_int64(s, &i);
    parse_double(s, &d);
    size_t bad = 0;
    char *fixed = utf8_fix(s, &bad);
    /* The repaired text is valid UTF-8 through and through. */
    for (size_t k = 0, n = strlen(fixed); k < n;) {
        size_t l = utf8_seq_len((const unsigned char *)fixed + k, n - k);
        if (!l)
            abort();
        k += l;
    }
    free(fixed);
    cJSON *j = cJSON_ParseWithLength(s, size);
    if (j) {
        json_fix_utf8(j);
        char *out = cJSON_PrintUnformatted(j);
        free(out);
        cJSON_Delete(j);
    }
    free(s);
    return 0;
}
