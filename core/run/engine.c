/* The commands around a run: load (config + plugins), validate, and redraw
 * a stored run's plots.  `benchctl run` itself is lifecycle.c. */
#define _GNU_SOURCE
#include "run/engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "plugin/bind.h"
#include "run/plots.h"
#include "run/layout.h"
#include "run/record.h"
#include "store/runstore.h"


config *engine_load(const char *config_path, loader *ld, const strvec *plugin_paths,
                    bool print_warnings)
{
    return engine_load_in(config_path, NULL, ld, plugin_paths, print_warnings);
}

/* Print d (always when it holds errors) and drop c when it does; "N
 * errors in PATH" ends the list.  Frees d.  Returns c or NULL. */
static config *diag_verdict(config *c, diag *d, const char *path, bool print_warnings)
{
    if (d->errors || print_warnings)
        diag_print(d, stderr);
    if (d->errors) {
        fprintf(stderr, "benchctl: %zu error%s in %s\n", d->errors, d->errors == 1 ? "" : "s",
                path);
        config_free(c);
        c = NULL;
    }
    diag_free(d);
    return c;
}

config *engine_load_in(const char *config_path, const char *base_dir, loader *ld,
                       const strvec *plugin_paths, bool print_warnings)
{
    diag d = {0};
    config *c = config_load_in(config_path, base_dir, &d);
    if (c)
        loader_init(ld, plugin_paths, &c->plugin_paths);
    else
        loader_init(ld, plugin_paths, NULL);
    if (c)
        bind_plugins(c, ld, &d);
    return diag_verdict(c, &d, config_path, print_warnings);
}

int engine_validate(const char *config_path, const strvec *plugin_paths)
{
    loader ld;
    config *c = engine_load(config_path, &ld, plugin_paths, true);
    int code = EXIT_USAGE;
    if (c) {
        printf("%s: valid (benchmark '%s', %zu stage%s, %zu host%s, %zu plugin%s)\n", config_path,
               c->name, c->nstages, c->nstages == 1 ? "" : "s", c->nhosts,
               c->nhosts == 1 ? "" : "s", ld.nplugins, ld.nplugins == 1 ? "" : "s");
        code = EXIT_OK;
    }
    config_free(c);
    loader_shutdown(&ld);
    return code;
}

/* The config `benchctl plot` draws from: the snapshot (relative paths as
 * for the run), a whole config, or the snapshot with a plots file's plots. */
static config *plot_config(const char *snapshot, const char *orig, const char *plots_config,
                           loader *ld, const strvec *plugin_paths)
{
    int plots_file = plots_config ? config_is_plots_file(plots_config) : 0;
    bool whole = plots_config && plots_file != 1;
    char *orig_dir = !whole && orig ? dir_name(orig) : NULL;
    config *c = engine_load_in(whole ? plots_config : snapshot, orig_dir, ld, plugin_paths,
                               false);
    free(orig_dir);
    if (c && plots_file == 1) {
        diag d = {0};
        config_load_plots(c, plots_config, &d);
        bind_plots(c, ld, &d);
        c = diag_verdict(c, &d, plots_config, true);
    }
    return c;
}

int engine_plot(const char *id, const char *output_dir, const char *plots_config,
                const char *dest_dir, bool force, const strvec *plugin_paths)
{
    char *err = NULL;
    cJSON *meta = runstore_read(output_dir, id, &err);
    if (!meta) {
        fprintf(stderr, "benchctl plot: %s\n", err);
        free(err);
        return EXIT_USAGE;
    }
    char *run_dir = xasprintf("%s/%s", output_dir, id);
    char *snapshot = path_join(run_dir, LAYOUT_CONFIG_COPY);
    loader ld;
    const char *orig = cJSON_GetStringValue(cJSON_GetObjectItem(meta, "config_path"));
    config *c = plot_config(snapshot, orig, plots_config, &ld, plugin_paths);
    char *dest_abs = dest_dir ? abs_path(dest_dir) : NULL;
    int code = EXIT_USAGE;
    if (c && c->nplots == 0) {
        fprintf(stderr, "benchctl plot: %s has no plots section\n",
                plots_config ? plots_config : snapshot);
    } else if (c) {
        int lock = -1;
        runstore_lock(output_dir, &lock);
        cJSON *pj = cJSON_CreateArray();
        size_t nrecs;
        stage_rec **recs = record_load(c, cJSON_GetObjectItem(meta, "stages"), &nrecs);
        strvec drawn = {0};
        plots_dest dest = {.dir = dest_abs, .force = force || dest_abs};
        int failed = plots_render(c, run_dir, (const stage_rec *const *)recs, nrecs, pj, &drawn,
                                  NULL, &dest, NULL);
        for (size_t i = 0; i < nrecs; i++)
            record_free(recs[i]);
        free(recs);
        for (size_t i = 0; i < drawn.n; i++)
            printf("%s\n", drawn.v[i]);
        sv_free(&drawn);
        /* The run's record of its plots: only when they were all redrawn in it. */
        if (!dest_abs && !dest.refused) {
            cJSON_DeleteItemFromObjectCaseSensitive(meta, "plots");
            cJSON_AddItemToObject(meta, "plots", pj);
            pj = NULL;
            if (!runstore_write(run_dir, meta, true))
                fprintf(stderr, "benchctl plot: cannot update %s/metadata.json: %s\n", run_dir,
                        strerror(errno));
        }
        cJSON_Delete(pj);
        runstore_unlock(lock);
        code = dest.refused ? EXIT_USAGE : failed ? EXIT_RUN_FAILED : EXIT_OK;
    }
    config_free(c);
    loader_shutdown(&ld);
    cJSON_Delete(meta);
    free(dest_abs);
    free(snapshot);
    free(run_dir);
    return code;
}
