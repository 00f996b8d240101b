/*
 * libFuzzer harness: the config loader (libyaml -> positioned tree -> typed
 * sections, every diagnostic) and the redacted copy, on arbitrary bytes.
 * The bytes go to a temporary regular file (config_load reads a path).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/diag.h"

static char path[] = "/tmp/benchctl-fuzz-config.XXXXXX";
static int fd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fd < 0) {
        fd = mkstemp(path);
        if (fd < 0)
            abort();
        unlink(path); /* reached through /proc/self/fd */
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    diag d = {0};
    config *c = config_load(path, &d);
    if (c) {
        size_t len;
        free(config_redacted_text(c, &len));
        config_free(c);
    }
    diag_free(&d);
    return 0;
}
