/*
 * Stage isolation against recorded trees (tests/fixtures/sysfs,
 * tests/fixtures/cgroup2): the wrapper script's probe reads each CPU
 * topology (SMT siblings, two sockets, no SMT with an offline CPU), the
 * allocator (run/cputopo.c, compiled in) gives whole cores to even counts,
 * stays on one package, and keeps stages apart while it can; on a cgroup
 * v2 hierarchy (a systemd user service) the script picks the parent of its
 * own cgroup, and a limited run writes cpuset.cpus, memory.max and
 * pids.max there and joins the new cgroup.
 *
 * usage: test_isolate SCRIPT FIXTURES
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/cputopo.h"
#include "util/util.h"

static int failures;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
            failures++;                                                                \
        }                                                                              \
    } while (0)

static const char *script, *fixtures;

/* Run the script with env (a shell prefix of assignments); its stdout. */
static char *run_script(const char *env)
{
    char *cmd = xasprintf("env %s sh %s", env, script);
    FILE *p = popen(cmd, "r");
    free(cmd);
    strbuf sb = {0};
    char buf[4096];
    size_t n;
    while (p && (n = fread(buf, 1, sizeof buf, p)) > 0)
        sb_add(&sb, buf, n);
    if (p)
        pclose(p);
    return sb_steal(&sb);
}

/* The probe of a recorded sysfs tree, as a topology. */
static void load(cpu_topo *t, const char *tree)
{
    char *env = xasprintf("BC_LIM_MODE=probe BC_LIM_SYSROOT=%s/sysfs/%s BC_LIM_CGROOT=/nonexistent",
                          fixtures, tree);
    char *out = run_script(env);
    free(env);
    memset(t, 0, sizeof *t);
    cpuset_t online = {{0}};
    char *save = NULL;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "online=", 7) == 0)
            CHECK(cpuset_parse(line + 7, &online));
        else if (strncmp(line, "cpu=", 4) == 0)
            CHECK(cputopo_add(t, &online, line + 4));
    }
    free(out);
}

/* Allocate n CPUs and mark them used; returns the list (static buffer). */
static const char *take(const cpu_topo *t, unsigned *use, size_t n, bool *shared)
{
    static char text[64];
    cpuset_t got;
    bool sh = false;
    if (!cputopo_alloc(t, use, n, &got, &sh)) {
        snprintf(text, sizeof text, "fail");
        return text;
    }
    for (unsigned c = 0; c < CPUSET_MAX; c++)
        if (cpuset_has(&got, c))
            use[c]++;
    char *s = cpuset_format(&got);
    snprintf(text, sizeof text, "%s", s);
    free(s);
    if (shared)
        *shared = sh;
    return text;
}

static void test_smt(void)
{
    cpu_topo t;
    load(&t, "smt");
    CHECK(t.n == 8);
    unsigned use[CPUSET_MAX] = {0};
    /* 2: both threads of one core, never two halves of two cores */
    CHECK(strcmp(take(&t, use, 2, NULL), "0,4") == 0);
    /* the next 2: the next whole core */
    CHECK(strcmp(take(&t, use, 2, NULL), "1,5") == 0);
    /* 4: the two cores left, whole */
    CHECK(strcmp(take(&t, use, 4, NULL), "2-3,6-7") == 0);
    /* nothing free: shared, still whole cores, reported */
    bool shared = false;
    CHECK(strcmp(take(&t, use, 2, &shared), "0,4") == 0);
    CHECK(shared);
    /* odd counts: a whole core, then one thread */
    memset(use, 0, sizeof use);
    CHECK(strcmp(take(&t, use, 3, NULL), "0-1,4") == 0);
    /* a single CPU prefers a whole free core to the half-used one */
    CHECK(strcmp(take(&t, use, 1, NULL), "2") == 0);
    /* more than the host has: refused */
    CHECK(strcmp(take(&t, use, 9, NULL), "fail") == 0);
    cputopo_free(&t);
}

static void test_two_sockets(void)
{
    cpu_topo t;
    load(&t, "two_sockets");
    CHECK(t.n == 8);
    unsigned use[CPUSET_MAX] = {0};
    /* 4 fit on one package: 0-3 (package 0), not spread */
    CHECK(strcmp(take(&t, use, 4, NULL), "0-3") == 0);
    /* the next 2 on the other package, one whole core */
    CHECK(strcmp(take(&t, use, 2, NULL), "4-5") == 0);
    /* 2 more: the last whole core */
    CHECK(strcmp(take(&t, use, 2, NULL), "6-7") == 0);
    memset(use, 0, sizeof use);
    use[1] = 1; /* package 0 has one thread in use: 4 go to package 1 whole */
    CHECK(strcmp(take(&t, use, 4, NULL), "4-7") == 0);
    /* 6: more than a package: package by package */
    memset(use, 0, sizeof use);
    CHECK(strcmp(take(&t, use, 6, NULL), "0-5") == 0);
    cputopo_free(&t);
}

static void test_nosmt(void)
{
    cpu_topo t;
    load(&t, "nosmt");
    CHECK(t.n == 3); /* cpu3 is offline */
    unsigned use[CPUSET_MAX] = {0};
    CHECK(strcmp(take(&t, use, 1, NULL), "0") == 0);
    CHECK(strcmp(take(&t, use, 2, NULL), "1-2") == 0);
    CHECK(strcmp(take(&t, use, 4, NULL), "fail") == 0);
    cputopo_free(&t);
}

/* The v2 logic on a copy of the recorded hierarchy. */
static void test_cgroup2(void)
{
    char dir[] = "/tmp/benchctl-isotest.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char *cmd = xasprintf("cp -r %s/cgroup2/root %s/cg", fixtures, dir);
    CHECK(system(cmd) == 0);
    free(cmd);
    char *env = xasprintf("BC_LIM_MODE=probe BC_LIM_CGROOT=%s/cg BC_LIM_PROCCG=%s/cgroup2/"
                          "proc_self_cgroup BC_LIM_SYSROOT=%s/sysfs/nosmt",
                          dir, fixtures, fixtures);
    char *out = run_script(env);
    free(env);
    CHECK(strstr(out, "cgroup=v2\n") != NULL);
    char *want = xasprintf("v2=%s/cg/user.slice/user-1000.slice/user@1000.service/app.slice\n",
                           dir);
    CHECK(strstr(out, want) != NULL); /* the parent of its own cgroup */
    free(want);
    CHECK(strstr(out, "ctl=cpuset cpu memory pids\n") != NULL);
    CHECK(strstr(out, "kill=1\n") != NULL);
    free(out);
    /* A limited run: the command reads back what the wrapper wrote. */
    char *app = xasprintf("%s/cg/user.slice/user-1000.slice/user@1000.service/app.slice", dir);
    env = xasprintf("BC_LIM_MODE=run BC_LIM_NAME=benchctl-t BC_LIM_CGROOT=%s/cg "
                    "BC_LIM_PROCCG=%s/cgroup2/proc_self_cgroup BENCHCTL_HOST_TMPDIR=%s "
                    "BC_LIM_CPUS=1-2 BC_LIM_MEM=67108864 BC_LIM_PIDS=10 BC_LIM_SHELL='sh -c' "
                    "BC_LIM_CMD='cd %s/benchctl-t-* && echo $(cat cpuset.cpus memory.max "
                    "pids.max) $(cat cgroup.procs)=$$'",
                    dir, fixtures, dir, app);
    out = run_script(env);
    free(env);
    char pid[32] = "";
    const char *eq = strchr(out, '=');
    CHECK(strncmp(out, "1-2 67108864 10 ", 16) == 0);
    if (eq) /* the stage's shell is the process that joined the cgroup */
        snprintf(pid, sizeof pid, "%.*s", (int)strcspn(eq + 1, "\n"), eq + 1);
    CHECK(pid[0] && strncmp(out + 16, pid, strlen(pid)) == 0);
    free(out);
    char *res_path = xasprintf("%s/benchctl-t.lim", dir);
    size_t len;
    char *res = read_file(res_path, &len);
    CHECK(res && strstr(res, "enforced=cpus=cgroup2 memory=cgroup2 pids=cgroup2\n"));
    CHECK(res && strstr(res, "status=0\n"));
    free(res);
    free(res_path);
    free(app);
    cmd = xasprintf("rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    free(cmd);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_isolate SCRIPT FIXTURES\n");
        return 2;
    }
    script = argv[1];
    fixtures = argv[2];
    test_smt();
    test_two_sockets();
    test_nosmt();
    test_cgroup2();
    if (failures) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("ok - isolation: topology, allocation, cgroup v2\n");
    return 0;
}
