/* `benchctl publish ID... | --pending`: send stored runs to a result server
 * through a publisher plugin (run/publish.h).  The publisher and its
 * options come from --to and the config's publish: section. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "run/engine.h"
#include "run/publish.h"
#include "store/runstore.h"

#include <cjson/cJSON.h>

/* Exit code when the server refused the credentials (docs: README). */
#define EXIT_DENIED 4

/* The runs to publish: the resolved IDs, or every stored run not yet
 * published to name (--pending). */
static bool pick_runs(const cli_args *o, int n, char **refs, const char *name, strvec *ids,
                      char **out)
{
    char **resolved = xcalloc((size_t)n + 1, sizeof *resolved);
    *out = cli_store("publish", o, (size_t)n, refs, resolved);
    bool ok = *out != NULL;
    for (int i = 0; ok && i < n; i++) {
        char *meta = xasprintf("%s/%s/metadata.json", *out, resolved[i]);
        if (access(meta, F_OK) != 0) {
            fprintf(stderr, "benchctl publish: no run %s in %s\n", resolved[i], *out);
            ok = false;
        }
        free(meta);
    }
    for (int i = 0; i < n; i++) {
        if (ok)
            sv_push_owned(ids, resolved[i]);
        else
            free(resolved[i]);
    }
    free(resolved);
    if (!ok || !o->pending)
        return ok;
    strvec all = {0};
    runstore_list(*out, &all);
    for (size_t i = 0; i < all.n; i++) {
        if (publish_done(*out, all.v[i], name))
            continue;
        /* a run still going is published when it ends, not half-way */
        char *err = NULL;
        cJSON *m = runstore_read(*out, all.v[i], &err);
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(m, "status");
        if (cJSON_IsString(st) && strcmp(st->valuestring, "running") == 0) {
            char *dir = path_join(*out, all.v[i]);
            bool alive = runstore_run_alive(dir) == 1;
            free(dir);
            if (alive)
                fprintf(stderr, "benchctl publish: run %s is still running; left for later\n",
                        all.v[i]);
            else
                sv_push(ids, all.v[i]);
        } else if (m) {
            sv_push(ids, all.v[i]);
        }
        cJSON_Delete(m);
        free(err);
    }
    sv_free(&all);
    return true;
}

int cmd_publish(int argc, char **argv)
{
    cli_args o = {0};
    int code = cli_parse(argc, argv, &o);
    if (code >= 0)
        return code;
    int nref = argc - optind;
    if (nref == 0 && !o.pending)
        code = cli_usage_error("publish", "give the run IDs (or tags) to publish, or --pending");
    else if (nref > 0 && o.pending)
        code = cli_usage_error("publish", "give run IDs or --pending, not both");
    if (code >= 0) {
        cli_args_free(&o);
        return code;
    }
    /* The config gives the publisher and its options; without a config
     * file (-o DIR only), --to and the publisher's environment must do. */
    const char *path = o.config ? o.config : "benchmark.yaml";
    loader ld;
    config *c = NULL;
    if (o.config || access(path, F_OK) == 0) {
        c = engine_load(path, &ld, &o.plugin_paths, false);
        if (!c) {
            loader_shutdown(&ld);
            cli_args_free(&o);
            return EXIT_USAGE;
        }
    } else {
        loader_init(&ld, &o.plugin_paths, NULL);
    }
    const char *name = o.to ? o.to : c ? c->publish.to : NULL;
    const plugin *p = NULL;
    strvec ids = {0};
    char *out = NULL;
    publish_session *s = NULL;
    code = EXIT_USAGE;
    if (!name) {
        fprintf(stderr, "benchctl publish: no publisher: give --to NAME (e.g. --to conbench) or "
                        "set publish.to in %s\n", path);
        goto done;
    }
    if (c && c->publish.plugin && strcmp(c->publish.to, name) == 0) {
        p = c->publish.plugin;
    } else {
        char *why = NULL;
        p = loader_find(&ld, BC_KIND_PUBLISHER, name, &why);
        if (!p) {
            fprintf(stderr, "benchctl publish: %s\n", why);
            free(why);
            goto done;
        }
    }
    if (!pick_runs(&o, nref, argv + optind, name, &ids, &out))
        goto done;
    code = EXIT_OK;
    if (ids.n == 0) {
        printf("Nothing to publish: every stored run is published to %s\n", name);
        goto done;
    }
    uint32_t flags = (o.dry_run ? BC_PUBLISH_DRY_RUN : 0) | (o.force ? BC_PUBLISH_FORCE : 0);
    char *err = NULL;
    publish_result res;
    s = publish_open(p, c, flags, &err, &res);
    if (!s) {
        fprintf(stderr, "benchctl publish: %s: %s\n", name, err);
        if (res == PUBLISH_DENIED)
            fprintf(stderr, "benchctl publish: check the publisher's credentials (for conbench: "
                            "CONBENCH_EMAIL and CONBENCH_PASSWORD)\n");
        for (size_t i = 0; i < ids.n && !o.dry_run; i++)
            publish_note_failure(out, ids.v[i], name, err);
        free(err);
        code = res == PUBLISH_DENIED ? EXIT_DENIED : EXIT_RUN_FAILED;
        goto done;
    }
    for (size_t i = 0; i < ids.n; i++) {
        res = publish_send(s, out, ids.v[i], flags, &err);
        switch (res) {
        case PUBLISH_SENT:
            if (!o.dry_run)
                fprintf(stderr, "Published run %s to %s (record: %s/%s/published.json)\n",
                        ids.v[i], name, out, ids.v[i]);
            break;
        case PUBLISH_ALREADY:
            fprintf(stderr, "Run %s is already published to %s (its published.json); nothing "
                            "sent. --force sends it again, replacing what was sent\n",
                    ids.v[i], name);
            break;
        case PUBLISH_FAILED:
        case PUBLISH_DENIED:
            fprintf(stderr, "benchctl publish: run %s: %s\n", ids.v[i], err);
            if (!o.dry_run)
                fprintf(stderr, "benchctl publish: run %s is unchanged; retry with: benchctl "
                                "publish %s --to %s\n", ids.v[i], ids.v[i], name);
            if (code == EXIT_OK)
                code = res == PUBLISH_DENIED ? EXIT_DENIED : EXIT_RUN_FAILED;
            break;
        }
        free(err);
        err = NULL;
    }
done:
    publish_close(s);
    sv_free(&ids);
    free(out);
    config_free(c);
    loader_shutdown(&ld);
    cli_args_free(&o);
    return code;
}
