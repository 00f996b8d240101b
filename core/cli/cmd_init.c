/* `benchctl init`: write a starter config. */
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

static const char starter[] =
    "# benchctl config: see docs/config.md for every key.\n"
    "benchmark:\n"
    "  name: %s\n"
    "  output_dir: ./results   # each run goes to results/<id>/\n"
    "\n"
    "hosts:\n"
    "  local: {}               # stages without a host run here\n"
    "\n"
    "stages:\n"
    "  - name: prepare\n"
    "    command: echo \"preparing run $BENCHCTL_RUN_ID in $BENCHCTL_RUN_DIR\"\n"
    "\n"
    "  - name: benchmark\n"
    "    command: |\n"
    "      for i in 1 2 3; do\n"
    "        start=$(date +%%s%%N); sleep 0.1; end=$(date +%%s%%N)\n"
    "        echo \"iteration $i: $(( (end - start) / 1000000 )) ms\"\n"
    "      done\n"
    "    health_check:\n"
    "      type: command\n"
    "      target: test -d \"$BENCHCTL_RUN_DIR\"\n"
    "      timeout: 10s\n";

int cmd_init(int argc, char **argv)
{
    cli_args a = {0};
    int code = cli_parse(argc, argv, &a);
    if (code >= 0)
        return code;
    const char *name = a.name ? a.name : "my-benchmark", *file = a.file ? a.file : "benchmark.yaml";
    bool force = a.force;
    cli_args_free(&a);
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
    char *text = xasprintf(starter, name);
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
