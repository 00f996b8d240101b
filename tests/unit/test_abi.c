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

/* ---- every published member offset (x86_64, LP64) ----------------------
 * A member inserted, removed, reordered or retyped anywhere breaks the
 * build here; growth is only ever a new member after the last one, pinned
 * by a new line and the new size.  Values are for LP64 (the published
 * platform); the generic checks above and below hold everywhere. */
#define PIN(type, member, off) \
    _Static_assert(offsetof(type, member) == (off), #type "." #member " at " #off)
#define PIN_SIZE(type, n) _Static_assert(sizeof(type) == (n), "sizeof(" #type ") == " #n)

#if defined(__x86_64__) && defined(__LP64__)
PIN(bc_plugin, abi, 0);
PIN(bc_plugin, kind, 16);
PIN(bc_plugin, flags, 20);
PIN(bc_plugin, name, 24);
PIN(bc_plugin, version, 32);
PIN(bc_plugin, description, 40);
PIN(bc_plugin, options, 48);
PIN(bc_plugin, init, 56);
PIN(bc_plugin, fini, 64);
PIN(bc_plugin, ops, 72);            /* the last member of 1.0 and 1.1 */
PIN(bc_plugin, create, 80);         /* 1.2 */
PIN(bc_plugin, destroy, 88);        /* 1.2 */
PIN_SIZE(bc_plugin, 96);

PIN(bc_ctx, svc, 0);
PIN(bc_ctx, plugin_state, 8);       /* 1.2 */
PIN(bc_ctx, instance, 16);          /* 1.2 */
PIN_SIZE(bc_ctx, 24);

PIN(bc_services, size, 0);
PIN(bc_services, abi_major, 4);
PIN(bc_services, abi_minor, 6);
PIN(bc_services, log, 8);
PIN(bc_services, set_error, 16);
PIN(bc_services, cancelled, 24);
PIN(bc_services, cancel_fd, 32);
PIN(bc_services, opt_is_set, 40);
PIN(bc_services, opt_string, 48);
PIN(bc_services, opt_int, 56);
PIN(bc_services, opt_float, 64);
PIN(bc_services, opt_bool, 72);
PIN(bc_services, opt_duration_ms, 80);
PIN(bc_services, opt_list, 88);
PIN(bc_services, fact, 96);
PIN(bc_services, output, 104);
PIN(bc_services, host_exec, 112);
PIN(bc_services, host_get_file, 120);
PIN(bc_services, host_put_file, 128);
PIN(bc_services, record_file, 136);
PIN(bc_services, data_error, 144);
PIN(bc_services, column_summary, 152);
PIN(bc_services, column_values, 160);           /* 1.1 */
PIN(bc_services, column_text, 168);             /* 1.1 */
PIN(bc_services, data_errors_suppressed, 176);  /* 1.2 */
PIN(bc_services, time_left_ms, 184);            /* 1.2 */
PIN(bc_services, host_caps, 192);               /* 1.2 */
PIN(bc_services, host_stream, 200);             /* 1.5 */
PIN(bc_services, monitor_sample, 208);          /* 1.5 */
PIN(bc_services, host_accounting, 216);         /* 1.6 */
PIN_SIZE(bc_services, 224);

PIN(bc_monitor_ops, size, 0);                   /* 1.5 */
PIN(bc_monitor_ops, run, 8);
PIN_SIZE(bc_monitor_ops, 16);

PIN(bc_monitor_request, size, 0);               /* 1.5 */
PIN(bc_monitor_request, metrics, 4);
PIN(bc_monitor_request, interval_ms, 8);
PIN_SIZE(bc_monitor_request, 16);

PIN(bc_monitor_sample, size, 0);                /* 1.5 */
PIN(bc_monitor_sample, reserved, 4);
PIN(bc_monitor_sample, cpu_user_pct, 8);
PIN(bc_monitor_sample, sampler_cpu_pct, 128);
PIN(bc_monitor_sample, host_time_s, 136);        /* 1.6 */
PIN_SIZE(bc_monitor_sample, 144);

PIN(bc_profiler_ops, size, 0);                  /* 1.6 */
PIN(bc_profiler_ops, check, 8);
PIN(bc_profiler_ops, wrap, 16);
PIN(bc_profiler_ops, fold, 24);
PIN_SIZE(bc_profiler_ops, 32);

PIN(bc_profile_request, size, 0);               /* 1.6 */
PIN(bc_profile_request, reserved, 4);
PIN(bc_profile_request, shell, 8);
PIN(bc_profile_request, command, 16);
PIN(bc_profile_request, data_path, 24);
PIN(bc_profile_request, folded_path, 32);
PIN(bc_profile_request, span_path, 40);         /* 1.7 */
PIN_SIZE(bc_profile_request, 48);

PIN(bc_host_ops, size, 0);
PIN(bc_host_ops, open, 8);
PIN(bc_host_ops, close, 16);
PIN(bc_host_ops, start, 24);
PIN(bc_host_ops, wait, 32);
PIN(bc_host_ops, stop, 40);
PIN(bc_host_ops, release, 48);
PIN(bc_host_ops, get_file, 56);
PIN(bc_host_ops, put_file, 64);
PIN(bc_host_ops, caps, 72);         /* 1.2 */
PIN_SIZE(bc_host_ops, 80);

PIN(bc_probe_ops, size, 0);
PIN(bc_probe_ops, check_target, 8);
PIN(bc_probe_ops, begin, 16);
PIN(bc_probe_ops, check, 24);
PIN(bc_probe_ops, end, 32);
PIN(bc_probe_ops, default_interval_ms, 40);
PIN_SIZE(bc_probe_ops, 48);

PIN(bc_collector_ops, size, 0);
PIN(bc_collector_ops, collect, 8);
PIN_SIZE(bc_collector_ops, 16);

PIN(bc_validator_ops, size, 0);
PIN(bc_validator_ops, validate, 8);
PIN_SIZE(bc_validator_ops, 16);

PIN(bc_plot_ops, size, 0);
PIN(bc_plot_ops, render, 8);
PIN_SIZE(bc_plot_ops, 16);

PIN(bc_exec_request, size, 0);
PIN(bc_exec_request, flags, 4);
PIN(bc_exec_request, shell, 8);
PIN(bc_exec_request, command, 16);
PIN(bc_exec_request, env, 24);
PIN(bc_exec_request, workdir, 32);
PIN(bc_exec_request, tty_rows, 40);
PIN(bc_exec_request, tty_cols, 42);
PIN_SIZE(bc_exec_request, 48);

PIN(bc_exec_result, size, 0);
PIN(bc_exec_result, exit_status, 4);
PIN(bc_exec_result, term_signal, 8);
PIN(bc_exec_result, user_us, 16);
PIN(bc_exec_result, sys_us, 24);
PIN(bc_exec_result, max_rss_kb, 32);
PIN_SIZE(bc_exec_result, 40);

PIN(bc_collect_request, size, 0);
PIN(bc_collect_request, missing_is_error, 4);
PIN(bc_collect_request, name, 8);
PIN(bc_collect_request, remote_path, 16);
PIN(bc_collect_request, dest_dir, 24);
PIN(bc_collect_request, dest_base, 32);
PIN_SIZE(bc_collect_request, 40);

PIN(bc_column, name, 0);
PIN(bc_column, type, 8);
PIN(bc_column, format, 16);
PIN(bc_column, unit, 24);
PIN_SIZE(bc_column, 32);

PIN(bc_validate_request, size, 0);
PIN(bc_validate_request, path, 8);
PIN(bc_validate_request, columns, 16);
PIN(bc_validate_request, n_columns, 24);
PIN_SIZE(bc_validate_request, 32);

PIN(bc_plot_request, size, 0);
PIN(bc_plot_request, name, 8);
PIN(bc_plot_request, title, 16);
PIN(bc_plot_request, type, 24);
PIN(bc_plot_request, x, 32);
PIN(bc_plot_request, y, 40);
PIN(bc_plot_request, groupby, 48);
PIN(bc_plot_request, aggregation, 56);
PIN(bc_plot_request, format, 64);
PIN(bc_plot_request, output_path, 72);
PIN(bc_plot_request, source_path, 80);
PIN(bc_plot_request, columns, 88);
PIN(bc_plot_request, n_columns, 96);
PIN(bc_plot_request, flags, 104);      /* 1.3 */
PIN(bc_plot_request, xlim, 112);       /* 1.3 */
PIN(bc_plot_request, ylim, 128);       /* 1.3 */
PIN(bc_plot_request, xlabel, 144);     /* 1.3 */
PIN(bc_plot_request, ylabel, 152);     /* 1.3 */
PIN(bc_plot_request, x_axis, 160);     /* 1.3 */
PIN(bc_plot_request, across, 168);     /* 1.3 */
PIN(bc_plot_request, series, 176);     /* 1.3 */
PIN(bc_plot_request, n_series, 184);   /* 1.3 */
PIN(bc_plot_request, panels, 192);     /* 1.5 */
PIN(bc_plot_request, n_panels, 200);   /* 1.5 */
PIN(bc_plot_request, spans, 208);      /* 1.5 */
PIN(bc_plot_request, n_spans, 216);    /* 1.5 */
PIN_SIZE(bc_plot_request, 224);
PIN(bc_plot_panel, label, 0);          /* 1.5 */
PIN(bc_plot_panel, columns, 8);
PIN_SIZE(bc_plot_panel, 16);
PIN(bc_plot_span, label, 0);           /* 1.5 */
PIN(bc_plot_span, start, 8);
PIN(bc_plot_span, end, 16);
PIN_SIZE(bc_plot_span, 24);

PIN(bc_plot_series, label, 0);         /* 1.3 */
PIN(bc_plot_series, source_path, 8);   /* 1.3 */
PIN(bc_plot_series, x_value, 16);      /* 1.3 */
PIN_SIZE(bc_plot_series, 24);

PIN(bc_option, name, 0);
PIN(bc_option, type, 8);
PIN(bc_option, flags, 12);
PIN(bc_option, default_value, 16);
PIN(bc_option, choices, 24);
PIN(bc_option, min, 32);
PIN(bc_option, max, 40);
PIN(bc_option, help, 48);
PIN_SIZE(bc_option, 56);
#endif

/* ---- on every platform: the descriptor starts with the prefix, then kind
 * and flags; ABI 1.0 members in order, later minors only append. -------- */
_Static_assert(offsetof(bc_plugin, abi) == 0, "bc_plugin starts with the prefix");
_Static_assert(offsetof(bc_plugin, kind) == sizeof(bc_abi_prefix), "bc_plugin: kind after the prefix");
_Static_assert(sizeof(((bc_plugin *)0)->kind) == 4, "bc_plugin: kind is 32-bit");
_Static_assert(offsetof(bc_plugin, flags) == 20, "bc_plugin: flags at 20");
_Static_assert(offsetof(bc_plugin, name) < offsetof(bc_plugin, version) &&
                   offsetof(bc_plugin, version) < offsetof(bc_plugin, description) &&
                   offsetof(bc_plugin, description) < offsetof(bc_plugin, options) &&
                   offsetof(bc_plugin, options) < offsetof(bc_plugin, init) &&
                   offsetof(bc_plugin, init) < offsetof(bc_plugin, fini) &&
                   offsetof(bc_plugin, fini) < offsetof(bc_plugin, ops) &&
                   offsetof(bc_plugin, ops) < offsetof(bc_plugin, create) &&
                   offsetof(bc_plugin, create) < offsetof(bc_plugin, destroy),
               "bc_plugin: member order");
_Static_assert(offsetof(bc_plugin, create) == offsetof(bc_plugin, ops) + sizeof(void *),
               "bc_plugin: 1.2 members follow ops, the last 1.0 member");
_Static_assert(offsetof(bc_plugin, destroy) + sizeof(void *) == sizeof(bc_plugin),
               "bc_plugin: destroy is the last 1.2 member");
_Static_assert(offsetof(bc_host_ops, caps) == offsetof(bc_host_ops, put_file) + sizeof(void *),
               "bc_host_ops: caps follows put_file, the last 1.0 member");

/* ---- every operations table starts with its own uint32_t size ----------- */
#define OPS_START_WITH_SIZE(type)                                                       \
    _Static_assert(offsetof(type, size) == 0, #type ": size at offset 0");             \
    _Static_assert(sizeof(((type *)0)->size) == sizeof(uint32_t), #type ": size is 32-bit")
OPS_START_WITH_SIZE(bc_host_ops);
OPS_START_WITH_SIZE(bc_probe_ops);
OPS_START_WITH_SIZE(bc_collector_ops);
OPS_START_WITH_SIZE(bc_validator_ops);
OPS_START_WITH_SIZE(bc_plot_ops);
OPS_START_WITH_SIZE(bc_publisher_ops);
OPS_START_WITH_SIZE(bc_publish_request);
/* The request/result structs and the services table are versioned the same way. */
OPS_START_WITH_SIZE(bc_exec_request);
OPS_START_WITH_SIZE(bc_exec_result);
OPS_START_WITH_SIZE(bc_collect_request);
OPS_START_WITH_SIZE(bc_validate_request);
OPS_START_WITH_SIZE(bc_plot_request);
OPS_START_WITH_SIZE(bc_services);

/* ---- publisher (1.4): layout and flag values never change -------------- */
_Static_assert(BC_PUBLISH_DRY_RUN == 0x1u && BC_PUBLISH_FORCE == 0x2u, "publish flags");
#if defined(__x86_64__) && defined(__LP64__)
PIN(bc_publisher_ops, open, 8);
PIN(bc_publisher_ops, send, 16);
PIN(bc_publisher_ops, close, 24);
PIN_SIZE(bc_publisher_ops, 32);
PIN(bc_publish_request, flags, 4);
PIN(bc_publish_request, run_id, 8);
PIN(bc_publish_request, run_dir, 16);
PIN(bc_publish_request, previous, 24);
PIN(bc_publish_request, record_path, 32);
PIN(bc_publish_request, out_fd, 40);
PIN_SIZE(bc_publish_request, 48);
#endif

/* ---- plot request flags (1.3): values never change ----------------------- */
_Static_assert(BC_PLOT_LOG_X == 0x1u && BC_PLOT_LOG_Y == 0x2u && BC_PLOT_XLO == 0x4u &&
                   BC_PLOT_XHI == 0x8u && BC_PLOT_YLO == 0x10u && BC_PLOT_YHI == 0x20u &&
                   BC_PLOT_X_PARAM == 0x40u,
               "plot request flags");
_Static_assert(offsetof(bc_plot_request, flags) == offsetof(bc_plot_request, n_columns) +
                                                       sizeof(size_t),
               "bc_plot_request: the 1.3 members follow n_columns, the last 1.0 member");

/* ---- capability bits: values never change ------------------------------ */
_Static_assert(BC_HOST_CAP_SHARED_FS == 0x1u && BC_HOST_CAP_CHEAP_EXEC == 0x2u &&
                   BC_HOST_CAP_POSIX_SHELL == 0x4u && BC_HOST_CAP_CONTROLLER == 0x8u,
               "host capability bits");

/* ---- magic, kinds, statuses: values never change ------------------------ */
_Static_assert(BC_ABI_MAGIC == 0x4c504342u, "magic is \"BCPL\" little-endian");
_Static_assert(BC_KIND_HOST == 1, "kind host = 1");
_Static_assert(BC_KIND_PROBE == 2, "kind probe = 2");
_Static_assert(BC_KIND_COLLECTOR == 3, "kind collector = 3");
_Static_assert(BC_KIND_VALIDATOR == 4, "kind validator = 4");
_Static_assert(BC_KIND_PLOT == 5, "kind plot = 5");
_Static_assert(BC_KIND_PUBLISHER == 6, "kind publisher = 6 (1.4)");
_Static_assert(BC_OK == 0 && BC_ERR == 1 && BC_NOT_READY == 2 && BC_TIMEOUT == 3 &&
                   BC_CANCELLED == 4 && BC_UNSUPPORTED == 5 && BC_DENIED == 6,
               "status codes");
_Static_assert(BC_ABI_MAJOR >= 1 && BC_ABI_MAJOR <= 0xffff && BC_ABI_MINOR >= 0 &&
                   BC_ABI_MINOR <= 0xffff,
               "ABI version fits the 16-bit prefix fields");

/* ---- run-time checks -------------------------------------------------- */
int abi_target_check(void); /* test_abi_target.c */

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
    CHECK(sample.abi.abi_minor == BC_ABI_MINOR && BC_TARGET_MINOR == BC_ABI_MINOR);
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

    /* A descriptor and tables built for an older minor (test_abi_target.c). */
    CHECK(abi_target_check() == 0);

    /* The entry symbol's name is part of the contract too. */
    CHECK(strcmp(BC_ENTRY_SYMBOL, "bc_plugin_entry") == 0);

    if (failures) {
        fprintf(stderr, "test_abi: %d check%s failed\n", failures, failures == 1 ? "" : "s");
        return 1;
    }
    printf("test_abi: all checks passed\n");
    return 0;
}
