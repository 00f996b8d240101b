/*
 * The verdicts of `benchctl check` (core/store/noise.c) against recorded
 * /proc and /sys trees (tests/fixtures/noise): the real script
 * (NOISE_SCRIPT) run with /bin/sh under BENCHCTL_CHECK_ROOT, its output
 * parsed and judged.  noisy: powersave, turbo on, SMT on, ASLR on, a busy
 * process, swap in use, THP always, no isolation, no writable cgroup.
 * tuned: everything ok.  v1: no cpufreq, no SMT (n/a), cgroup v1
 * writable.  empty: nothing readable gives unknown, never an error.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/noise.h"
#include "util/util.h"

static int failures;

static const cJSON *find(const cJSON *res, const char *name)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(res, "checks"))
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "name")), name) == 0)
            return c;
    return NULL;
}

/* The check name has verdict want, its detail contains has (or NULL) and
 * it carries a fix exactly when it warns. */
static void expect(const char *tree, const cJSON *res, const char *name, const char *want,
                   const char *has)
{
    const cJSON *c = find(res, name);
    const char *got = c ? cJSON_GetStringValue(cJSON_GetObjectItem(c, "verdict")) : "(missing)";
    const char *detail = c ? cJSON_GetStringValue(cJSON_GetObjectItem(c, "detail")) : "";
    bool fix = c && cJSON_IsString(cJSON_GetObjectItem(c, "fix"));
    if (strcmp(got, want) != 0 || (has && !strstr(detail, has)) ||
        fix != (strcmp(want, "warn") == 0)) {
        fprintf(stderr, "%s: %s: got %s (%s)%s, want %s with '%s'\n", tree, name, got, detail,
                fix ? " with a fix" : "", want, has ? has : "");
        failures++;
    }
}

static cJSON *assess(const char *fixtures, const char *tree)
{
    char *root = xasprintf("%s/%s", fixtures, tree);
    setenv("BENCHCTL_CHECK_ROOT", root, 1);
    free(root);
    cJSON *res = noise_local();
    unsetenv("BENCHCTL_CHECK_ROOT");
    return res;
}

static void overall(const char *tree, const cJSON *res, const char *verdict, int warnings)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(res, "verdict"));
    int w = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(res, "warnings"));
    if (!v || strcmp(v, verdict) != 0 || w != warnings) {
        fprintf(stderr, "%s: overall %s with %d warnings, want %s with %d\n", tree, v ? v : "?",
                w, verdict, warnings);
        failures++;
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_noise FIXTURES_DIR\n");
        return 2;
    }
    const char *fx = argv[1];

    cJSON *n = assess(fx, "noisy");
    expect("noisy", n, "governor", "warn", "powersave:4");
    expect("noisy", n, "turbo", "warn", "no_turbo=0");
    expect("noisy", n, "smt", "warn", "SMT on");
    expect("noisy", n, "aslr", "warn", "randomize_va_space=2");
    expect("noisy", n, "load", "warn", "3.52 on 4 CPUs");
    expect("noisy", n, "busy_processes", "warn", "stress_ng (4242) 90%");
    expect("noisy", n, "swap", "warn", "1024.0 MiB of swap in use");
    expect("noisy", n, "swappiness", "warn", "60");
    expect("noisy", n, "thp", "warn", "always");
    expect("noisy", n, "isolated_cpus", "warn", NULL);
    expect("noisy", n, "nohz_full", "warn", NULL);
    expect("noisy", n, "cgroup", "warn", "no writable cgroup");
    const char *busy = cJSON_GetStringValue(cJSON_GetObjectItem(find(n, "busy_processes"), "value"));
    if (!busy || strstr(busy, "systemd")) { /* 0.4 % of a CPU: not busy */
        fprintf(stderr, "noisy: systemd listed as busy\n");
        failures++;
    }
    overall("noisy", n, "warn", 12);
    cJSON_Delete(n);

    cJSON *t = assess(fx, "tuned");
    expect("tuned", t, "governor", "ok", "all 8 CPUs");
    expect("tuned", t, "turbo", "ok", "boost off");
    expect("tuned", t, "smt", "ok", "SMT off");
    expect("tuned", t, "aslr", "ok", NULL);
    expect("tuned", t, "load", "ok", "0.02 on 8 CPUs");
    expect("tuned", t, "busy_processes", "ok", NULL);
    expect("tuned", t, "swap", "ok", "no swap");
    expect("tuned", t, "swappiness", "ok", NULL);
    expect("tuned", t, "thp", "ok", "never");
    expect("tuned", t, "isolated_cpus", "ok", "4-7");
    expect("tuned", t, "nohz_full", "ok", "4-7");
    expect("tuned", t, "cgroup", "ok", "cgroup v2 delegated");
    overall("tuned", t, "ok", 0);
    cJSON_Delete(t);

    cJSON *v = assess(fx, "v1");
    expect("v1", v, "governor", "unknown", "no cpufreq");
    expect("v1", v, "turbo", "unknown", NULL);
    expect("v1", v, "smt", "n/a", "no SMT");
    expect("v1", v, "nohz_full", "unknown", "CONFIG_NO_HZ_FULL");
    expect("v1", v, "cgroup", "ok", "cgroup v1 writable (cpuset memory pids freezer cpu)");
    expect("v1", v, "load", "ok", NULL);
    cJSON_Delete(v);

    /* nothing there at all: every check unknown, no warning, no crash */
    cJSON *e = assess(fx, "does-not-exist");
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(e, "checks"))
        expect("empty", e, cJSON_GetStringValue(cJSON_GetObjectItem(c, "name")), "unknown", NULL);
    overall("empty", e, "ok", 0);
    if (cJSON_GetArraySize(cJSON_GetObjectItem(e, "checks")) != 12) {
        fprintf(stderr, "empty: %d checks, want 12\n",
                cJSON_GetArraySize(cJSON_GetObjectItem(e, "checks")));
        failures++;
    }
    cJSON_Delete(e);

    /* the parser: only noise.* lines, arrays for busy and cgroup1 */
    cJSON *p = noise_parse("hostname=x\nnoise.aslr=0\nnoise.busy=5.0 1 a\nnoise.busy=2.0 2 b\n"
                           "noise.cgroup1=memory:1\nnoise.isolated=\nbroken\n");
    if (!p || cJSON_GetArraySize(cJSON_GetObjectItem(p, "busy")) != 2 ||
        strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(p, "isolated")), "") != 0 ||
        cJSON_GetObjectItem(p, "hostname")) {
        fprintf(stderr, "noise_parse: wrong result\n");
        failures++;
    }
    cJSON_Delete(p);
    if (noise_parse("hostname=x\n")) {
        fprintf(stderr, "noise_parse: an object from no noise line\n");
        failures++;
    }
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
