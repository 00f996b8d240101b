/* `benchctl sync push`: copy the stored runs to benchmark.sync.remote with
 * rclone (the Go tool's v0.3.4 command), as `rclone copy OUTPUT_DIR REMOTE
 * ARGS...`.  Copy, never sync: nothing at the remote is deleted. */
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cli/cli.h"
#include "config/config.h"
#include "run/engine.h"

extern char **environ;

/* rclone's exit status (127: not installed, 128+N: killed by signal N). */
static int rclone_copy(const config *c)
{
    strvec argv = {0};
    sv_push(&argv, "rclone");
    sv_push(&argv, "copy");
    sv_push(&argv, c->output_dir);
    sv_push(&argv, c->sync_remote);
    /* the store's lock is of this machine, not of the copy */
    sv_push(&argv, "--exclude");
    sv_push(&argv, ".benchctl.lock"); /* the store's and each run's */
    for (size_t i = 0; i < c->sync_args.n; i++)
        sv_push(&argv, c->sync_args.v[i]);
    pid_t pid;
    int rc = posix_spawnp(&pid, "rclone", NULL, NULL, argv.v, environ);
    sv_free(&argv);
    if (rc != 0)
        return rc == ENOENT ? 127 : 126;
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int cmd_sync(int argc, char **argv)
{
    cli_args o = {0};
    int code = cli_parse(argc, argv, &o);
    if (code >= 0)
        return code;
    if (strcmp(argv[optind], "push") != 0) {
        code = cli_usage_error("sync", "unknown action '%s' (the one action is push)",
                               argv[optind]);
        cli_args_free(&o);
        return code;
    }
    const char *path = o.config ? o.config : "benchmark.yaml";
    diag d = {0};
    config *c = config_load(path, &d);
    diag_print(&d, stderr);
    if (!c || d.errors) {
        code = EXIT_USAGE;
    } else if (!c->sync_remote) {
        fprintf(stderr, "benchctl sync: %s has no benchmark.sync.remote (where to push the "
                        "runs, an rclone remote such as 's3:bucket/benchmarks' or a directory)\n",
                path);
        code = EXIT_USAGE;
    } else {
        printf("Pushing %s to %s (rclone copy)\n", c->output_dir, c->sync_remote);
        fflush(stdout);
        int rc = rclone_copy(c);
        if (rc == 127)
            fprintf(stderr, "benchctl sync: rclone is not installed (Debian: apt-get install "
                            "rclone)\n");
        else if (rc != 0)
            fprintf(stderr, "benchctl sync: rclone failed (exit status %d); nothing local was "
                            "changed\n", rc);
        code = rc == 0 ? EXIT_OK : rc == 127 ? EXIT_USAGE : EXIT_RUN_FAILED;
    }
    config_free(c);
    diag_free(&d);
    cli_args_free(&o);
    return code;
}
