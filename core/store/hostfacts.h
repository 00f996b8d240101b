/* Facts about the controller machine and the git state of the config. */
#ifndef BENCHCTL_HOSTFACTS_H
#define BENCHCTL_HOSTFACTS_H

#include <stdbool.h>

#include <cjson/cJSON.h>

/* {hostname, os, kernel, arch, cpu_model, cores, memory_bytes}, the CPU
 * facts below, and "noise": this machine's timing-noise verdicts
 * (noise_local, store/noise.h). */
cJSON *hostfacts_collect(void);
/* Add the controller's cpu_thread_count, cpu_core_count (physical),
 * cpu_l1d/l1i/l2/l3_cache_bytes, cpu_frequency_max_hz (cpufreq's maximum,
 * else the fastest current clock; 0 unknown) and gpu_count to o
 * (hostfacts_cpu.c). */
void hostfacts_add_cpu(cJSON *o);

/* The same facts of a remote host (with hostfacts_add_cpu's, where the
 * host has the tools, and NOISE_SCRIPT's): a POSIX sh script printing
 * KEY=value lines, and the parser of its output (unknown, missing or zero
 * numbers left out; "noise": noise_assess of the noise.* lines). */
extern const char hostfacts_script[];
cJSON *hostfacts_parse(const char *text);

typedef struct git_state {
    bool is_repo;
    char *commit, *branch; /* owned; NULL when unknown */
    char *remote_url;      /* owned: the upstream's (or origin's) URL without any
                            * user or password in it; NULL when there is none */
    bool dirty;
} git_state;

/* Inspect the git work tree that contains dir (one `git status` call). */
void git_inspect(const char *dir, git_state *out);
/* The output of `git diff HEAD` in dir (owned), or NULL. */
char *git_diff(const char *dir);
void git_state_free(git_state *g);
cJSON *git_to_json(const git_state *g);

/* Run argv (PATH lookup), capture stdout (owned, NUL-terminated) and
 * return the exit status, or -1 if it could not run. */
int run_capture(const char *const *argv, char **out);

#endif
