/* `benchctl plugins`: what is on the search path, and what was refused. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "config/config.h"
#include "run/engine.h"
#include "plugin/loader.h"

/* --json: the search path, every plugin with its options, every refusal. */
static void print_json(const loader *ld)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *sp = cJSON_AddArrayToObject(root, "search_path");
    for (size_t i = 0; i < ld->dirs.n; i++)
        cJSON_AddItemToArray(sp, cJSON_CreateString(ld->dirs.v[i]));
    cJSON *pl = cJSON_AddArrayToObject(root, "plugins");
    for (size_t i = 0; i < ld->nplugins; i++) {
        const plugin *p = ld->plugins[i];
        cJSON *o = loader_plugin_json(p);
        cJSON_AddStringToObject(o, "description", p->desc.description ? p->desc.description : "");
        cJSON *opts = cJSON_AddArrayToObject(o, "options");
        for (const bc_option *op = p->desc.options; op && op->name; op++) {
            cJSON *oj = cJSON_CreateObject();
            cJSON_AddStringToObject(oj, "name", op->name);
            if (op->default_value)
                cJSON_AddStringToObject(oj, "default", op->default_value);
            cJSON_AddBoolToObject(oj, "required", (op->flags & BC_OPT_REQUIRED) != 0);
            cJSON_AddBoolToObject(oj, "secret", (op->flags & BC_OPT_SECRET) != 0);
            if (op->help)
                cJSON_AddStringToObject(oj, "help", op->help);
            cJSON_AddItemToArray(opts, oj);
        }
        cJSON_AddItemToArray(pl, o);
    }
    cJSON *rf = cJSON_AddArrayToObject(root, "refused");
    for (size_t i = 0; i < ld->nrefused; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "path", ld->refused[i].path);
        cJSON_AddStringToObject(o, "reason", ld->refused[i].reason);
        cJSON_AddItemToArray(rf, o);
    }
    char *text = cJSON_Print(root);
    printf("%s\n", text);
    free(text);
    cJSON_Delete(root);
}

/* The table a person reads. */
static void print_text(const loader *ld)
{
    printf("Search path:\n");
    for (size_t i = 0; i < ld->dirs.n; i++)
        printf("  %s\n", ld->dirs.v[i]);
    printf("\n%-10s %-12s %-9s %-5s %s\n", "KIND", "NAME", "VERSION", "ABI", "PATH");
    for (size_t i = 0; i < ld->nplugins; i++) {
        const plugin *p = ld->plugins[i];
        printf("%-10s %-12s %-9s %u.%-3u %s\n", loader_kind_name(p->desc.kind), p->desc.name,
               p->desc.version, p->desc.abi.abi_major, p->desc.abi.abi_minor, p->path);
        for (const bc_option *op = p->desc.options; op && op->name; op++)
            printf("%-10s   option %s%s%s%s: %s\n", "", op->name,
                   op->default_value ? " (default " : "", op->default_value ? op->default_value : "",
                   op->default_value ? ")" : "", op->help ? op->help : "");
    }
    if (ld->nplugins == 0)
        printf("(no plugins found)\n");
    if (ld->nrefused) {
        printf("\nRefused:\n");
        for (size_t i = 0; i < ld->nrefused; i++)
            printf("  %s\n", ld->refused[i].reason);
    }
}

int cmd_plugins(int argc, char **argv)
{
    cli_args a = {0};
    int code = cli_parse(argc, argv, &a);
    if (code >= 0)
        return code;
    config *cfg = NULL;
    if (a.config) {
        diag d = {0};
        cfg = config_load(a.config, &d);
        if (!cfg) {
            diag_print(&d, stderr);
            diag_free(&d);
            cli_args_free(&a);
            return EXIT_USAGE;
        }
        diag_free(&d);
    }
    loader ld;
    loader_init(&ld, &a.plugin_paths, cfg ? &cfg->plugin_paths : NULL);
    loader_scan_all(&ld);
    if (a.json)
        print_json(&ld);
    else
        print_text(&ld);
    loader_shutdown(&ld);
    config_free(cfg);
    cli_args_free(&a);
    return EXIT_OK;
}
