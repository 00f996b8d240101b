/*
 * benchctl plugin ABI: version numbers, the frozen descriptor prefix,
 * plugin kinds and status codes.
 *
 * Everything in this header is part of the frozen ABI contract described in
 * docs/ABI.md.  Values are never renumbered; new ones are appended.
 */
#ifndef BENCHCTL_ABI_H
#define BENCHCTL_ABI_H

#include <stddef.h>
#include <stdint.h>

/* "BCPL" read as a little-endian 32-bit word. Never changes. */
#define BC_ABI_MAGIC 0x4c504342u

/* A plugin built against MAJOR.MINOR loads into a core with the same MAJOR
 * and a MINOR that is equal or newer. */
#define BC_ABI_MAJOR 1
#define BC_ABI_MINOR 7

/*
 * The minor a plugin is built for.  Define it before including any benchctl
 * header to build for an older core with this SDK, e.g.
 *
 *     #define BC_TARGET_MINOR 0
 *     #include <benchctl/plugin.h>
 *
 * BC_PLUGIN_PREFIX then stamps that minor, and the descriptor and operations
 * tables have the members (and so the sizes) they had in that minor: the
 * plugin is a 1.0 plugin and loads into every 1.x core.  The services table
 * keeps every member, so such a plugin can still use newer services where
 * the core has them (BC_HAS_SERVICE).  Default: this SDK's minor.
 */
#ifndef BC_TARGET_MINOR
#define BC_TARGET_MINOR BC_ABI_MINOR
#endif
#if BC_TARGET_MINOR < 0 || BC_TARGET_MINOR > BC_ABI_MINOR
#error "BC_TARGET_MINOR must be a minor this SDK knows (0 to BC_ABI_MINOR)"
#endif

/* The one symbol every plugin exports (see BC_PLUGIN_ENTRY in plugin.h). */
#define BC_ENTRY_SYMBOL "bc_plugin_entry"

#if defined(__GNUC__)
#define BC_EXPORT __attribute__((visibility("default")))
#define BC_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define BC_EXPORT
#define BC_PRINTF(fmt, args)
#endif

/* Plugin kinds.  Numbers are stable. */
typedef enum bc_kind {
    BC_KIND_HOST = 1,      /* host transport: runs commands, moves files */
    BC_KIND_PROBE = 2,     /* health-check probe: one readiness attempt */
    BC_KIND_COLLECTOR = 3, /* brings result files into the run directory */
    BC_KIND_VALIDATOR = 4, /* checks a collected file against data_schema */
    BC_KIND_PLOT = 5,      /* draws plots[] entries */
    BC_KIND_PUBLISHER = 6, /* since ABI 1.4: exports a stored run to a result
                            * server (publisher.h) */
    BC_KIND_MONITOR = 7,   /* since ABI 1.5: samples a host's resources (monitor.h) */
    BC_KIND_PROFILER = 8   /* since ABI 1.6: runs a stage under a profiler (profiler.h) */
} bc_kind;

/* Status codes returned by plugin operations and core services. */
typedef enum bc_status {
    BC_OK = 0,
    BC_ERR = 1,         /* failed; the message is in the ctx error buffer */
    BC_NOT_READY = 2,   /* probe: target not ready yet (a result, not an error) */
    BC_TIMEOUT = 3,     /* the operation's time limit passed */
    BC_CANCELLED = 4,   /* the run is being stopped (Ctrl-C, --timeout) */
    BC_UNSUPPORTED = 5, /* this plugin cannot do the requested thing */
    BC_DENIED = 6       /* since ABI 1.4: a server refused the credentials
                         * (publisher open) */
} bc_status;

/*
 * The frozen prefix: the first 16 bytes of every descriptor.  Its layout
 * never changes in any ABI version, so any core can read any plugin's
 * versions and refuse it with a precise message.
 */
typedef struct bc_abi_prefix {
    uint32_t magic;       /* BC_ABI_MAGIC */
    uint16_t abi_major;   /* BC_ABI_MAJOR the plugin was built with */
    uint16_t abi_minor;   /* BC_ABI_MINOR the plugin was built with */
    uint32_t struct_size; /* sizeof(bc_plugin) as the plugin saw it */
    uint32_t reserved;    /* zero: a core refuses a plugin that sets it */
} bc_abi_prefix;

#endif /* BENCHCTL_ABI_H */
