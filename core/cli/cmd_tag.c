/*
 * `benchctl tag`: names for runs.  `tag ID NAME` sets (or moves) a tag,
 * `tag --delete NAME` removes one, `tag` lists them.  Every command that
 * takes a run ID accepts a tag instead (cli_store, cli_resolve_run).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "run/engine.h"
#include "store/runstore.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_tags(const char *out, bool json)
{
    char *err = NULL;
    cJSON *tags = runstore_tags_read(out, &err);
    if (!tags) {
        fprintf(stderr, "benchctl tag: %s\n", err);
        free(err);
        return EXIT_USAGE;
    }
    strvec names = {0};
    for (const cJSON *t = tags->child; t; t = t->next)
        sv_push(&names, t->string);
    if (names.n)
        qsort(names.v, names.n, sizeof *names.v, cmp_str);
    if (json) {
        cJSON *sorted = cJSON_CreateObject();
        for (size_t i = 0; i < names.n; i++)
            cJSON_AddStringToObject(
                sorted, names.v[i],
                cJSON_GetObjectItemCaseSensitive(tags, names.v[i])->valuestring);
        char *text = cJSON_Print(sorted);
        printf("%s\n", text);
        free(text);
        cJSON_Delete(sorted);
    } else if (names.n == 0) {
        printf("No tags in %s yet (`benchctl tag ID NAME` adds one).\n", out);
    } else {
        size_t w = 3;
        for (size_t i = 0; i < names.n; i++)
            if (strlen(names.v[i]) > w)
                w = strlen(names.v[i]);
        printf("%-*s  %s\n", (int)w, "TAG", "RUN");
        for (size_t i = 0; i < names.n; i++) {
            const char *id = cJSON_GetObjectItemCaseSensitive(tags, names.v[i])->valuestring;
            char *dir = xasprintf("%s/%s", out, id);
            char *meta = path_join(dir, "metadata.json");
            FILE *f = fopen(meta, "r");
            printf("%-*s  %s%s\n", (int)w, names.v[i], id, f ? "" : "  (run directory missing)");
            if (f)
                fclose(f);
            free(meta);
            free(dir);
        }
    }
    sv_free(&names);
    cJSON_Delete(tags);
    return EXIT_OK;
}

/* Read-modify-write of the tags file under the run store's lock, so two
 * `benchctl tag` at once cannot lose each other's change. */
static int change_tags(const char *out, const char *id_arg, const char *name, bool del)
{
    char *err = NULL;
    if (!runstore_tag_name_ok(name, &err)) {
        fprintf(stderr, "benchctl tag: %s\n", err);
        free(err);
        return EXIT_USAGE;
    }
    char *id = NULL;
    if (!del) {
        id = cli_resolve_run("tag", out, id_arg);
        cJSON *meta = id ? runstore_read(out, id, &err) : NULL;
        if (!meta) {
            if (err)
                fprintf(stderr, "benchctl tag: %s\n", err);
            free(err);
            free(id);
            return EXIT_USAGE;
        }
        cJSON_Delete(meta);
    }
    int lock = -1, code = EXIT_OK;
    if (!runstore_lock(out, &lock)) {
        fprintf(stderr, "benchctl tag: cannot lock %s/.benchctl.lock: %s\n", out, strerror(errno));
        free(id);
        return EXIT_USAGE;
    }
    cJSON *tags = runstore_tags_read(out, &err);
    if (!tags) {
        code = EXIT_USAGE;
        goto done;
    }
    const cJSON *old = cJSON_GetObjectItemCaseSensitive(tags, name);
    char *old_id = old ? xstrdup(old->valuestring) : NULL;
    if (del && !old) {
        err = xasprintf("no tag '%s' in %s (`benchctl tag` lists the tags)", name, out);
        code = EXIT_USAGE;
    } else if (!del && old_id && strcmp(old_id, id) == 0) {
        printf("tag %s already names run %s\n", name, id);
    } else {
        cJSON_DeleteItemFromObjectCaseSensitive(tags, name);
        if (!del)
            cJSON_AddStringToObject(tags, name, id);
        if (!runstore_tags_write(out, tags, &err))
            code = EXIT_RUN_FAILED;
        else if (del)
            printf("deleted tag %s (was run %s)\n", name, old_id);
        else if (old_id)
            printf("moved tag %s from %s to %s\n", name, old_id, id);
        else
            printf("tagged run %s as %s\n", id, name);
    }
    free(old_id);
done:
    if (err)
        fprintf(stderr, "benchctl tag: %s\n", err);
    free(err);
    cJSON_Delete(tags);
    runstore_unlock(lock);
    free(id);
    return code;
}

int cmd_tag(int argc, char **argv)
{
    cli_args o = {0};
    int code = cli_parse(argc, argv, &o);
    if (code >= 0)
        return code;
    int nargs = argc - optind;
    if (o.del && nargs != 1)
        return cli_usage_error("tag", "--delete takes exactly one tag name");
    if (!o.del && nargs != 0 && nargs != 2)
        return cli_usage_error("tag", nargs == 1 ? "give a run ID and a tag name (`tag ID NAME`)"
                                                 : "too many arguments: give ID NAME");
    if (o.json && nargs)
        return cli_usage_error("tag", "--json only applies to listing the tags");
    char *out = cli_store("tag", &o, 0, NULL, NULL);
    if (!out)
        return EXIT_USAGE;
    if (nargs == 0)
        code = list_tags(out, o.json);
    else if (o.del)
        code = change_tags(out, NULL, argv[optind], true);
    else
        code = change_tags(out, argv[optind], argv[optind + 1], false);
    free(out);
    return code;
}
