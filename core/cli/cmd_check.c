/* `benchctl check [-c FILE] [--json]`: what makes timings noisy on each
 * host (run/check.c), as a table of verdicts with the fix of each
 * warning, or as JSON. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "run/engine.h"

static const char *jstr(const cJSON *o, const char *key)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, key));
    return s ? s : "";
}

static void print_host(const cJSON *h)
{
    printf("%s (%s%s)\n", jstr(h, "host"), jstr(h, "transport"),
           cJSON_IsTrue(cJSON_GetObjectItem(h, "controller")) ? ", this machine" : "");
    if (cJSON_GetObjectItem(h, "error")) {
        printf("  error    %s\n", jstr(h, "error"));
        return;
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(h, "checks"))
    {
        printf("  %-8s %-15s %s\n", jstr(c, "verdict"), jstr(c, "name"), jstr(c, "detail"));
        if (cJSON_GetObjectItem(c, "fix"))
            printf("  %-8s %-15s fix: %s\n", "", "", jstr(c, "fix"));
    }
}

int cmd_check(int argc, char **argv)
{
    cli_args o = {0};
    int code = cli_parse(argc, argv, &o);
    if (code >= 0)
        return code;
    cJSON *report = engine_check(o.config, &o.plugin_paths, &code);
    if (!report && code == EXIT_INTERRUPTED)
        fprintf(stderr, "benchctl check: interrupted\n");
    if (report && o.json) {
        char *text = cJSON_Print(report);
        printf("%s\n", text);
        free(text);
    } else if (report) {
        const cJSON *h;
        cJSON_ArrayForEach(h, cJSON_GetObjectItem(report, "hosts"))
            print_host(h);
        int warnings = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(report, "warnings"));
        int unreachable = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(report, "unreachable"));
        int nhosts = cJSON_GetArraySize(cJSON_GetObjectItem(report, "hosts"));
        printf("%d warning%s on %d host%s", warnings, warnings == 1 ? "" : "s", nhosts,
               nhosts == 1 ? "" : "s");
        if (unreachable)
            printf("; %d host%s not checked", unreachable, unreachable == 1 ? "" : "s");
        printf("\n");
    }
    const cJSON *h;
    cJSON_ArrayForEach(h, cJSON_GetObjectItem(report, "hosts"))
        if (cJSON_GetObjectItem(h, "error"))
            fprintf(stderr, "benchctl check: %s\n", jstr(h, "error"));
    cJSON_Delete(report);
    cli_args_free(&o);
    return code;
}
