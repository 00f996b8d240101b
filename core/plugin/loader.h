/*
 * The plugin loader: finds <kind>-<name>.so files on the search path,
 * checks their descriptors against the ABI and keeps them loaded.
 * libltdl is used here and nowhere else.
 *
 * Search order: --plugin-path DIRs, $BENCHCTL_PLUGIN_PATH, the config's
 * benchmark.plugin_paths, the installed plugin directory, and the build
 * tree's plugin directory when benchctl runs uninstalled.  The first file
 * that provides a kind+name wins; later ones are refused as duplicates.
 */
#ifndef BENCHCTL_LOADER_H
#define BENCHCTL_LOADER_H

#include <pthread.h>
#include <stdbool.h>

#include <benchctl/plugin.h>

#include "util/util.h"

typedef struct plugin {
    char *path;         /* the .so file */
    bc_plugin desc;     /* zero-filled copy of what the plugin provides */
    union {             /* zero-filled copy of its operations table */
        bc_host_ops host;
        bc_probe_ops probe;
        bc_collector_ops collector;
        bc_validator_ops validator;
        bc_plot_ops plot;
        bc_publisher_ops publisher; /* since ABI 1.4 */
        bc_monitor_ops monitor;
        bc_profiler_ops profiler;
    } ops;
    void *handle;       /* lt_dlhandle */
    void *state;        /* from desc.init */
    bool initialised;
    char *init_error;   /* why desc.init failed, or NULL */
    struct plugin_instance {
        const void *section; /* the config section the instance serves */
        void *ptr;           /* what desc.create returned */
        char *error;         /* why desc.create failed, or NULL */
    } *instances;       /* made by desc.create, in order (coresvc.c) */
    size_t ninstances;
    pthread_mutex_t lock; /* guards instances */
} plugin;

typedef struct refusal {
    char *path;
    char *reason; /* one sentence naming the file and the versions */
} refusal;

typedef struct loader {
    strvec dirs;       /* search path, in order */
    plugin **plugins;  /* loaded so far */
    size_t nplugins;
    refusal *refused;
    size_t nrefused;
} loader;

/* Build the search path.  cli_dirs and config_dirs may be NULL. */
void loader_init(loader *l, const strvec *cli_dirs, const strvec *config_dirs);
/* Load the plugin of this kind and name.  Returns NULL when none is
 * installed or the file was refused; *why (owned by the caller) says which. */
const plugin *loader_find(loader *l, bc_kind kind, const char *name, char **why);
/* Load every .so on the search path (for `benchctl plugins`); loaded ones
 * land in l->plugins, refused ones in l->refused. */
void loader_scan_all(loader *l);
/* Call every plugin's fini, unload them and free everything. */
void loader_shutdown(loader *l);

const char *loader_kind_name(uint32_t kind); /* "host", ...; NULL if unknown */

/* A loaded plugin as metadata.json and `benchctl plugins --json` show it:
 * kind, name, version, abi, path (owned by the caller). */
struct cJSON *loader_plugin_json(const plugin *p);

#endif
