/*
 * The frozen plugin ABI (sdk/include/benchctl/abi.h, docs/ABI.md): the
 * descriptor prefix layout, the magic, the kind numbers, and that every
 * descriptor and operations table starts the way old and new cores expect.
 * The static asserts fail the build; main() repeats the checks at run time
 * and returns non-zero on any failure.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <benchctl/plugin.h>

/* ---- the frozen prefix: 16 bytes, never changes ------------------------- */
_Static_assert(offsetof(bc_abi_prefix, magic) == 0, "prefix: magic at 0");
_Static_assert(offsetof(bc_abi_prefix, abi_major) == 4, "prefix: abi_major at 4");
_Static_assert(offsetof(bc_abi_prefix, abi_minor) == 6, "prefix: abi_minor at 6");
_Static_assert(offsetof(bc_abi_prefix, struct_size) == 8, "prefix: struct_size at 8");
_Static_assert(offsetof(bc_abi_prefix, reserved) == 12, "prefix: reserved at 12");
_Static_assert(sizeof(bc_abi_prefix) == 16, "prefix: 16 bytes");
_Static_assert(sizeof(((bc_abi_prefix *)0)->magic) == 4, "prefix: magic is 32-bit");
_Static_assert(sizeof(((bc_abi_prefix *)0)->abi_major) == 2, "prefix: abi_major is 16-bit");
_Static_assert(sizeof(((bc_abi_prefix *)0)->abi_minor) == 2, "prefix: abi_minor is 16-bit");
_Static_assert(sizeof(((bc_abi_prefix *)0)->struct_size) == 4, "prefix: struct_size is 32-bit");
_Static_assert(sizeof(((bc_abi_prefix *)0)->reserved) == 4, "prefix: reserved is 32-bit");

/* ---- the descriptor starts with the prefix, then kind and flags ---------- */
_Static_assert(offsetof(bc_plugin, abi) == 0, "bc_plugin starts with the prefix");
_Static_assert(offsetof(bc_plugin, kind) == sizeof(bc_abi_prefix), "bc_plugin: kind after the prefix");
_Static_assert(sizeof(((bc_plugin *)0)->kind) == 4, "bc_plugin: kind is 32-bit");
_Static_assert(offsetof(bc_plugin, flags) == 20, "bc_plugin: flags at 20");
/* ABI 1.0 members in order; later versions only append after ops. */
_Static_assert(offsetof(bc_plugin, name) < offsetof(bc_plugin, version) &&
                   offsetof(bc_plugin, version) < offsetof(bc_plugin, description) &&
                   offsetof(bc_plugin, description) < offsetof(bc_plugin, options) &&
                   offsetof(bc_plugin, options) < offsetof(bc_plugin, init) &&
                   offsetof(bc_plugin, init) < offsetof(bc_plugin, fini) &&
                   offsetof(bc_plugin, fini) < offsetof(bc_plugin, ops),
               "bc_plugin: ABI 1.0 member order");
_Static_assert(offsetof(bc_plugin, ops) + sizeof(void *) == sizeof(bc_plugin),
               "bc_plugin: ops is the last ABI 1.0 member");

/* ---- every operations table starts with its own uint32_t size ----------- */
#define OPS_START_WITH_SIZE(type)                                                       \
    _Static_assert(offsetof(type, size) == 0, #type ": size at offset 0");             \
    _Static_assert(sizeof(((type *)0)->size) == sizeof(uint32_t), #type ": size is 32-bit")
OPS_START_WITH_SIZE(bc_host_ops);
OPS_START_WITH_SIZE(bc_probe_ops);
OPS_START_WITH_SIZE(bc_collector_ops);
OPS_START_WITH_SIZE(bc_validator_ops);
OPS_START_WITH_SIZE(bc_plot_ops);
/* The request/result structs and the services table are versioned the same way. */
OPS_START_WITH_SIZE(bc_exec_request);
OPS_START_WITH_SIZE(bc_exec_result);
OPS_START_WITH_SIZE(bc_collect_request);
OPS_START_WITH_SIZE(bc_validate_request);
OPS_START_WITH_SIZE(bc_plot_request);
OPS_START_WITH_SIZE(bc_services);

/* ---- magic, kinds, statuses: values never change ------------------------ */
_Static_assert(BC_ABI_MAGIC == 0x4c504342u, "magic is \"BCPL\" little-endian");
_Static_assert(BC_KIND_HOST == 1, "kind host = 1");
_Static_assert(BC_KIND_PROBE == 2, "kind probe = 2");
_Static_assert(BC_KIND_COLLECTOR == 3, "kind collector = 3");
_Static_assert(BC_KIND_VALIDATOR == 4, "kind validator = 4");
_Static_assert(BC_KIND_PLOT == 5, "kind plot = 5");
_Static_assert(BC_OK == 0 && BC_ERR == 1 && BC_NOT_READY == 2 && BC_TIMEOUT == 3 &&
                   BC_CANCELLED == 4 && BC_UNSUPPORTED == 5,
               "status codes");
_Static_assert(BC_ABI_MAJOR >= 1 && BC_ABI_MAJOR <= 0xffff && BC_ABI_MINOR >= 0 &&
                   BC_ABI_MINOR <= 0xffff,
               "ABI version fits the 16-bit prefix fields");

/* ---- run-time checks -------------------------------------------------- */
static int failures;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                      \
        }                                                                    \
    } while (0)

static int probe_check(bc_ctx *ctx, void *state, const char *target, char *detail, size_t size)
{
    (void)ctx, (void)state, (void)target, (void)detail, (void)size;
    return BC_OK;
}

static const bc_probe_ops probe_ops = {.size = sizeof probe_ops, .check = probe_check};

/* A descriptor written the documented way, as a plugin would. */
static const bc_plugin sample = {
    .abi = BC_PLUGIN_PREFIX,
    .kind = BC_KIND_PROBE,
    .name = "sample",
    .version = "1.0.0",
    .ops = &probe_ops,
};

int main(void)
{
    /* The layout, again at run time (also catches a miscompiled header). */
    CHECK(offsetof(bc_abi_prefix, magic) == 0);
    CHECK(offsetof(bc_abi_prefix, abi_major) == 4);
    CHECK(offsetof(bc_abi_prefix, abi_minor) == 6);
    CHECK(offsetof(bc_abi_prefix, struct_size) == 8);
    CHECK(offsetof(bc_abi_prefix, reserved) == 12);
    CHECK(sizeof(bc_abi_prefix) == 16);
    CHECK(offsetof(bc_plugin, abi) == 0);
    CHECK(offsetof(bc_host_ops, size) == 0);
    CHECK(offsetof(bc_probe_ops, size) == 0);
    CHECK(offsetof(bc_collector_ops, size) == 0);
    CHECK(offsetof(bc_validator_ops, size) == 0);
    CHECK(offsetof(bc_plot_ops, size) == 0);

    /* BC_PLUGIN_PREFIX fills the prefix with this SDK's values. */
    CHECK(sample.abi.magic == BC_ABI_MAGIC);
    CHECK(sample.abi.abi_major == BC_ABI_MAJOR);
    CHECK(sample.abi.abi_minor == BC_ABI_MINOR);
    CHECK(sample.abi.struct_size == sizeof(bc_plugin));
    CHECK(sample.abi.reserved == 0);
    CHECK(*(const uint32_t *)sample.ops == sizeof(bc_probe_ops));

    /* The magic's bytes are "BCPL" in memory on a little-endian machine,
     * and the prefix's bytes are exactly its fields, without padding. */
    unsigned char bytes[sizeof(bc_abi_prefix)];
    memcpy(bytes, &sample.abi, sizeof bytes);
    const uint16_t one = 1;
    if (*(const unsigned char *)&one == 1)
        CHECK(memcmp(bytes, "BCPL", 4) == 0);
    uint16_t major, minor;
    uint32_t size, reserved;
    memcpy(&major, bytes + 4, 2);
    memcpy(&minor, bytes + 6, 2);
    memcpy(&size, bytes + 8, 4);
    memcpy(&reserved, bytes + 12, 4);
    CHECK(major == BC_ABI_MAJOR && minor == BC_ABI_MINOR);
    CHECK(size == sizeof(bc_plugin) && reserved == 0);

    /* The entry symbol's name is part of the contract too. */
    CHECK(strcmp(BC_ENTRY_SYMBOL, "bc_plugin_entry") == 0);

    if (failures) {
        fprintf(stderr, "test_abi: %d check%s failed\n", failures, failures == 1 ? "" : "s");
        return 1;
    }
    printf("test_abi: all checks passed\n");
    return 0;
}
