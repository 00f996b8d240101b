/*
 * libFuzzer harness: one validator plugin (csv, json or jsonl: the plugin's
 * source is compiled into this binary, its descriptor reached through
 * bc_plugin_entry) on the shared fake host, over a fixed schema with every
 * column type.  The bytes go to a temporary regular file.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <benchctl/plugin.h>

#include "bc_fakehost.h"

const bc_plugin *bc_plugin_entry(void);

static bc_fake fake;
static int ready;
static char path[] = "/tmp/benchctl-fuzz-validator.XXXXXX";
static int fd = -1;

static const bc_column cols[] = {
    {"a", "integer", NULL, NULL},
    {"b", "float", NULL, "ms"},
    {"name", "string", NULL, NULL},
    {"t", "timestamp", "unix_ms", NULL},
    {"v", "integer", NULL, NULL},
    {"ts", "timestamp", "rfc3339", NULL},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const bc_plugin *p = bc_plugin_entry();
    if (!ready) {
        bc_fake_init(&fake, p);
        fd = mkstemp(path);
        if (fd < 0)
            abort();
        unlink(path);
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ready = 1;
    }
    bc_fake_reset(&fake);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    /* The first byte picks how many columns are declared (0: none). */
    size_t n = size ? data[0] % (sizeof cols / sizeof *cols + 1) : 0;
    bc_validate_request req = {.size = sizeof req, .path = path, .columns = cols,
                               .n_columns = n};
    const bc_validator_ops *ops = p->ops;
    ops->validate(&fake.ctx, &req);
    return 0;
}
