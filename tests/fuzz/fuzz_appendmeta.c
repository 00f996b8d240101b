/*
 * libFuzzer harness: the append_metadata reader (the first JSON object in a
 * stage's output merged into custom metadata, values kept as written), then
 * the UTF-8 repair and printing the store does with the result.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "run/run.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run r;
    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.lock, NULL);
    r.custom = cJSON_CreateObject();
    char *err = NULL;
    append_metadata(&r, (const char *)data, size, "fuzz", &err);
    free(err);
    json_fix_utf8(r.custom);
    char *out = cJSON_Print(r.custom);
    free(out);
    cJSON_Delete(r.custom);
    pthread_mutex_destroy(&r.lock);
    return 0;
}
