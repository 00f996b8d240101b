/* `benchctl init [--template NAME]`: write a starter config (templates.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "run/engine.h"
#include "util/util.h"

int cmd_init(int argc, char **argv)
{
    cli_args a = {0};
    int code = cli_parse(argc, argv, &a);
    if (code >= 0)
        return code;
    const char *name = a.name ? a.name : "my-benchmark", *file = a.file ? a.file : "benchmark.yaml";
    bool force = a.force;
    const char *tname = a.template_name ? a.template_name : "starter";
    cli_args_free(&a);
    const cli_template *tpl = cli_template_find(tname);
    if (!tpl || strcmp(tname, "list") == 0) {
        if (strcmp(tname, "list") != 0)
            fprintf(stderr, "benchctl init: no template '%s'; the templates:\n", tname);
        FILE *f = strcmp(tname, "list") == 0 ? stdout : stderr;
        for (const cli_template *t = cli_templates(); t->name; t++)
            fprintf(f, "  %-8s %s\n", t->name, t->description);
        return strcmp(tname, "list") == 0 ? EXIT_OK : EXIT_USAGE;
    }
    for (const char *p = name; *p; p++)
        if (*p == '\n' || *p == ':' || *p == '#' || *p == '"')
            return cli_usage_error("init", "--name must not contain newlines, ':', '#' or '\"'");
    if (!*name)
        return cli_usage_error("init", "--name must not be empty");
    int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL), 0644);
    if (fd < 0) {
        if (errno == EEXIST)
            fprintf(stderr, "benchctl init: %s already exists; use --force to overwrite it\n", file);
        else
            fprintf(stderr, "benchctl init: cannot write %s: %s\n", file, strerror(errno));
        return EXIT_USAGE;
    }
    char *text = xasprintf(tpl->text, name);
    size_t len = strlen(text);
    bool ok = write(fd, text, len) == (ssize_t)len;
    ok = close(fd) == 0 && ok;
    free(text);
    if (!ok) {
        fprintf(stderr, "benchctl init: cannot write %s: %s\n", file, strerror(errno));
        return EXIT_USAGE;
    }
    printf("Wrote %s. Next: benchctl validate -c %s && benchctl run -c %s\n", file, file, file);
    return EXIT_OK;
}
