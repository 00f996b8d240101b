/* `benchctl daemon`: the benchmark queue (core/daemon). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "daemon/confine.h"
#include "daemon/daemon.h"
#include "run/engine.h"
#include "util/cpulist.h"

int cmd_daemon(int argc, char **argv)
{
    cli_args a = {0};
    int code = cli_parse(argc, argv, &a);
    if (code >= 0)
        return code;
    daemon_options o = {.socket_path = a.socket, .state_dir = a.state_dir,
                        .foreground = a.foreground, .pin = !a.no_pin, .grace_ms = 30000,
                        .socket_group = a.socket_group, .keep_finished = 1000};
    cpuset_t set;
    int *cpus = NULL;
    size_t ncpus = 0;
    char *err = NULL;
    int64_t v;
    if (!a.cpus)
        code = cli_usage_error("daemon", "--cpus LIST is required (the CPUs tasks run on, "
                                         "e.g. --cpus 2-7)");
    else if (!cpuset_parse(a.cpus, &set) || !(cpus = cpuset_ids(&set, &ncpus)))
        code = cli_usage_error("daemon", "--cpus '%s' is not a list of CPUs and ranges of CPUs "
                               "(e.g. 0-3,6; CPUs 0 to %d)", a.cpus, CPUSET_MAX - 1);
    else if (o.pin && !confine_check_cpus(cpus, ncpus, &err))
        code = cli_usage_error("daemon", "--cpus '%s': %s", a.cpus, err);
    else if (!a.memory)
        code = cli_usage_error("daemon", "--memory SIZE is required (the memory budget, e.g. "
                                         "--memory 16G)");
    else if (!parse_size(a.memory, &v) || v <= 0)
        code = cli_usage_error("daemon", "--memory '%s' is not a size (e.g. 512M, 16G)",
                               a.memory);
    else if (a.grace && (!parse_duration_ns(a.grace, &o.grace_ms) || o.grace_ms < 0))
        code = cli_usage_error("daemon", "--grace '%s' is not a duration (e.g. 30s)", a.grace);
    if (code < 0) {
        o.memory = v;
        if (a.grace)
            o.grace_ms /= 1000000;
        o.cpus = cpus;
        o.ncpus = ncpus;
        code = daemon_main(&o);
    }
    free(err);
    free(cpus);
    cli_args_free(&a);
    return code;
}
