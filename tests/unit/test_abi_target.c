/*
 * BC_TARGET_MINOR: this file is compiled as a plugin built for ABI 1.0 by
 * the current SDK.  BC_PLUGIN_PREFIX must stamp minor 0 and the 1.0 size
 * of the descriptor, and the descriptor and operations tables must have
 * their 1.0 layout (no create/destroy, no host caps), so that a 1.0 or 1.1
 * core accepts and reads it exactly as one built with SDK 1.0.  The
 * services table keeps every member: such a plugin tests for newer
 * services at run time.
 */
#define BC_TARGET_MINOR 0
#include <benchctl/plugin.h>

#include <stdio.h>

int abi_target_check(void);

_Static_assert(sizeof(bc_plugin) == offsetof(bc_plugin, ops) + sizeof(void *),
               "a 1.0 descriptor ends with ops");
_Static_assert(sizeof(bc_host_ops) == offsetof(bc_host_ops, put_file) + sizeof(void *),
               "a 1.0 host table ends with put_file");
#if defined(__x86_64__) && defined(__LP64__)
_Static_assert(sizeof(bc_plugin) == 80, "the 1.0 descriptor is 80 bytes");
_Static_assert(sizeof(bc_host_ops) == 72, "the 1.0 host table is 72 bytes");
_Static_assert(offsetof(bc_services, host_caps) == 192, "services keep the 1.2 members");
_Static_assert(sizeof(bc_ctx) == 24, "bc_ctx keeps its 1.2 members");
_Static_assert(sizeof(bc_plot_request) == 224, "requests come from the core: every member");
#endif

static int op_open(bc_ctx *ctx, void **conn) { (void)ctx, (void)conn; return BC_OK; }

static const bc_host_ops ops = {.size = sizeof ops, .open = op_open};

static const bc_plugin old = {
    .abi = BC_PLUGIN_PREFIX,
    .kind = BC_KIND_HOST,
    .name = "old",
    .version = "1.0.0",
    .ops = &ops,
};

/* 0 when the stamped values are those of a 1.0 plugin. */
int abi_target_check(void)
{
    int bad = 0;
    if (old.abi.abi_major != 1 || old.abi.abi_minor != 0) {
        fprintf(stderr, "BC_TARGET_MINOR 0 stamped ABI %u.%u\n", old.abi.abi_major,
                old.abi.abi_minor);
        bad++;
    }
    if (old.abi.struct_size != offsetof(bc_plugin, ops) + sizeof(void *)) {
        fprintf(stderr, "BC_TARGET_MINOR 0 stamped struct_size %u\n", old.abi.struct_size);
        bad++;
    }
    if (*(const uint32_t *)old.ops != offsetof(bc_host_ops, put_file) + sizeof(void *)) {
        fprintf(stderr, "BC_TARGET_MINOR 0: host ops size %u\n", *(const uint32_t *)old.ops);
        bad++;
    }
    return bad;
}
