/* Verdicts on what makes timings noisy (noise.h): from the facts the
 * script printed, one check each, with the one-line fix of a warning. */
#define _GNU_SOURCE
#include "store/noise.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/hostfacts.h"
#include "util/cpulist.h"
#include "util/util.h"

const char noise_script[] = NOISE_SCRIPT;

cJSON *noise_parse(const char *text)
{
    cJSON *o = NULL;
    const char *line = text;
    while (line && *line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *eq = memchr(line, '=', len);
        if (len > 6 && strncmp(line, "noise.", 6) == 0 && eq) {
            char *key = xstrndup(line + 6, (size_t)(eq - line - 6));
            char *val = xstrndup(eq + 1, len - (size_t)(eq - line) - 1);
            val[strcspn(val, "\r")] = '\0';
            if (!o)
                o = cJSON_CreateObject();
            if (strcmp(key, "busy") == 0 || strcmp(key, "cgroup1") == 0) {
                cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
                if (!a)
                    a = cJSON_AddArrayToObject(o, key);
                cJSON_AddItemToArray(a, cJSON_CreateString(val));
            } else if (*key && !cJSON_GetObjectItemCaseSensitive(o, key)) {
                cJSON_AddStringToObject(o, key, val);
            }
            free(key);
            free(val);
        }
        line = end ? end + 1 : NULL;
    }
    return o;
}

typedef enum { V_OK, V_WARN, V_UNKNOWN, V_NA } verdict;
static const char *const verdict_names[] = {"ok", "warn", "unknown", "n/a"};

static const char *fact(const cJSON *facts, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(facts, key));
}

/* A fact as a number (its first word); false when absent or not one. */
static bool fact_num(const cJSON *facts, const char *key, double *out)
{
    const char *s = fact(facts, key);
    if (!s)
        return false;
    char *word = xstrndup(s, strcspn(s, " \t"));
    bool ok = parse_double(word, out);
    free(word);
    return ok;
}

/* Add one check to the array; detail is a printf format. */
static void add(cJSON *checks, const char *name, verdict v, const char *value, const char *fix,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void add(cJSON *checks, const char *name, verdict v, const char *value, const char *fix,
                const char *fmt, ...)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "name", name);
    cJSON_AddStringToObject(c, "verdict", verdict_names[v]);
    if (value)
        cJSON_AddStringToObject(c, "value", value);
    else
        cJSON_AddNullToObject(c, "value");
    va_list ap;
    va_start(ap, fmt);
    char *detail = NULL;
    if (vasprintf(&detail, fmt, ap) < 0)
        detail = NULL;
    va_end(ap);
    cJSON_AddStringToObject(c, "detail", detail ? detail : "");
    free(detail);
    if (v == V_WARN && fix)
        cJSON_AddStringToObject(c, "fix", fix);
    cJSON_AddItemToArray(checks, c);
}

/* The number of CPUs in a list such as "0-3,6,8-9"; 0 when not one. */
static long cpu_list_count(const char *s)
{
    cpuset_t set;
    return s && cpuset_parse(s, &set) ? (long)cpuset_count(&set) : 0;
}

static void check_governor(cJSON *checks, const cJSON *f)
{
    const char *g = fact(f, "governors"); /* "performance:2 powersave:2" */
    const char *fix = "cpupower frequency-set -g performance";
    if (!g) {
        add(checks, "governor", V_UNKNOWN, NULL, fix,
            "no cpufreq here (a virtual machine, or no frequency driver loaded): the clock is "
            "not under this kernel's control");
        return;
    }
    long total = 0, perf = 0;
    char *copy = xstrdup(g), *save = NULL;
    for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        char *colon = strrchr(w, ':');
        long n = colon ? strtol(colon + 1, NULL, 10) : 0;
        total += n;
        if (colon && strncmp(w, "performance", (size_t)(colon - w)) == 0 &&
            colon - w == (long)strlen("performance"))
            perf += n;
    }
    free(copy);
    if (total > 0 && perf == total)
        add(checks, "governor", V_OK, g, fix, "CPU frequency governor performance on all %ld CPUs",
            total);
    else
        add(checks, "governor", V_WARN, g, fix,
            "CPU frequency governor not performance on %ld of %ld CPUs (%s): the clock follows "
            "the load", total - perf, total, g);
}

static void check_turbo(cJSON *checks, const cJSON *f)
{
    const char *nt = fact(f, "no_turbo"), *boost = fact(f, "boost");
    if (nt) {
        if (strcmp(nt, "1") == 0)
            add(checks, "turbo", V_OK, nt, NULL, "turbo off (intel_pstate no_turbo=1)");
        else
            add(checks, "turbo", V_WARN, nt,
                "echo 1 | sudo tee /sys/devices/system/cpu/intel_pstate/no_turbo",
                "turbo on (intel_pstate no_turbo=%s): the clock depends on temperature and on "
                "how many cores are busy", nt);
    } else if (boost) {
        if (strcmp(boost, "0") == 0)
            add(checks, "turbo", V_OK, boost, NULL, "frequency boost off (cpufreq boost=0)");
        else
            add(checks, "turbo", V_WARN, boost,
                "echo 0 | sudo tee /sys/devices/system/cpu/cpufreq/boost",
                "frequency boost on (cpufreq boost=%s): the clock depends on temperature and on "
                "how many cores are busy", boost);
    } else {
        add(checks, "turbo", V_UNKNOWN, NULL, NULL,
            "no boost or turbo control here (no intel_pstate/no_turbo, no cpufreq/boost)");
    }
}

static void check_smt(cJSON *checks, const cJSON *f)
{
    const char *ctl = fact(f, "smt_control"), *active = fact(f, "smt_active");
    if (ctl && (strcmp(ctl, "notsupported") == 0 || strcmp(ctl, "notimplemented") == 0)) {
        add(checks, "smt", V_NA, ctl, NULL, "no SMT here (smt/control: %s)", ctl);
    } else if (active && strcmp(active, "0") == 0) {
        add(checks, "smt", V_OK, ctl ? ctl : active, NULL, "SMT off (no sibling threads share a core)");
    } else if (active) {
        add(checks, "smt", V_WARN, ctl ? ctl : active,
            "echo off | sudo tee /sys/devices/system/cpu/smt/control",
            "SMT on: a sibling thread shares each core's caches and units with the benchmark");
    } else {
        add(checks, "smt", V_UNKNOWN, NULL, NULL, "no SMT control here (no /sys/devices/system/cpu/smt)");
    }
}

static void check_aslr(cJSON *checks, const cJSON *f)
{
    const char *a = fact(f, "aslr");
    if (!a)
        add(checks, "aslr", V_UNKNOWN, NULL, NULL, "kernel.randomize_va_space cannot be read");
    else if (strcmp(a, "0") == 0)
        add(checks, "aslr", V_OK, a, NULL, "address space layout randomization off");
    else
        add(checks, "aslr", V_WARN, a, "sudo sysctl -w kernel.randomize_va_space=0",
            "address space layout randomization on (randomize_va_space=%s): code and data move "
            "between runs, and with them cache and alignment effects", a);
}

static void check_load(cJSON *checks, const cJSON *f)
{
    double load;
    long cpus = cpu_list_count(fact(f, "cpus_online"));
    const char *la = fact(f, "loadavg");
    char value[64] = "";
    if (la)
        snprintf(value, sizeof value, "%.*s", (int)strcspn(la, " "), la);
    if (!fact_num(f, "loadavg", &load)) {
        add(checks, "load", V_UNKNOWN, NULL, NULL, "/proc/loadavg cannot be read");
        return;
    }
    char of[48] = "";
    if (cpus > 0)
        snprintf(of, sizeof of, " on %ld CPUs", cpus);
    if (load < 1.0)
        add(checks, "load", V_OK, value, NULL, "load average %.2f%s (1 minute)", load, of);
    else
        add(checks, "load", V_WARN, value, "stop what else runs there (see busy_processes)",
            "load average %.2f%s (1 minute): other work competes for the CPUs", load, of);
}

static void check_busy(cJSON *checks, const cJSON *f)
{
    const cJSON *busy = cJSON_GetObjectItemCaseSensitive(f, "busy"), *b;
    if (!fact(f, "loadavg") && !busy) {
        add(checks, "busy_processes", V_UNKNOWN, NULL, NULL, "/proc cannot be read");
        return;
    }
    strbuf sb = {0};
    int heavy = 0;
    cJSON_ArrayForEach(b, busy)
    {
        double pct = 0;
        char pid[32] = "", comm[64] = "";
        if (!cJSON_IsString(b) || sscanf(b->valuestring, "%lf %31s %63s", &pct, pid, comm) != 3)
            continue;
        sb_printf(&sb, "%s%s (%s) %.0f%%", sb.len ? ", " : "", comm, pid, pct);
        if (pct >= 10)
            heavy++;
    }
    char *list = sb_steal(&sb);
    if (heavy)
        add(checks, "busy_processes", V_WARN, list,
            "stop or pause them (kill -STOP PID) while measuring",
            "%d process%s used at least 10%% of a CPU over %s life: %s", heavy,
            heavy == 1 ? "" : "es", heavy == 1 ? "its" : "their", list);
    else
        add(checks, "busy_processes", V_OK, list && *list ? list : NULL, NULL,
            "no process used 10%% of a CPU or more over its life%s%s",
            list && *list ? "; the busiest: " : "", list ? list : "");
    free(list);
}

static void check_swap(cJSON *checks, const cJSON *f)
{
    double total, freekb, swappiness;
    bool have_sw = fact_num(f, "swappiness", &swappiness);
    if (!fact_num(f, "swap_total_kb", &total) || !fact_num(f, "swap_free_kb", &freekb)) {
        add(checks, "swap", V_UNKNOWN, NULL, NULL, "/proc/meminfo cannot be read");
    } else if (total <= 0) {
        add(checks, "swap", V_OK, "0", NULL, "no swap configured");
    } else {
        double used = total - freekb;
        char value[64];
        snprintf(value, sizeof value, "%.0f", used * 1024);
        if (used > 0)
            add(checks, "swap", V_WARN, value, "sudo swapoff -a && sudo swapon -a",
                "%.1f MiB of swap in use: pages of a benchmark may have to come back from disk",
                used / 1024);
        else
            add(checks, "swap", V_OK, value, NULL, "swap configured (%.0f MiB), none in use",
                total / 1024);
    }
    if (!have_sw)
        add(checks, "swappiness", V_UNKNOWN, NULL, NULL, "vm.swappiness cannot be read");
    else if (swappiness <= 10 || (fact_num(f, "swap_total_kb", &total) && total <= 0))
        add(checks, "swappiness", V_OK, fact(f, "swappiness"), NULL, "vm.swappiness %.0f%s",
            swappiness, swappiness > 10 ? " (no swap configured)" : "");
    else
        add(checks, "swappiness", V_WARN, fact(f, "swappiness"), "sudo sysctl -w vm.swappiness=1",
            "vm.swappiness %.0f: the kernel swaps out idle pages eagerly", swappiness);
}

static void check_thp(cJSON *checks, const cJSON *f)
{
    const char *t = fact(f, "thp"); /* "always [madvise] never" */
    const char *open = t ? strchr(t, '[') : NULL, *close = open ? strchr(open, ']') : NULL;
    if (!open || !close) {
        add(checks, "thp", V_UNKNOWN, NULL, NULL,
            "no transparent huge pages setting here (/sys/kernel/mm/transparent_hugepage)");
        return;
    }
    char *mode = xstrndup(open + 1, (size_t)(close - open - 1));
    if (strcmp(mode, "always") == 0)
        add(checks, "thp", V_WARN, mode,
            "echo madvise | sudo tee /sys/kernel/mm/transparent_hugepage/enabled",
            "transparent huge pages always: khugepaged compacts memory in the background and "
            "page faults take varying time");
    else
        add(checks, "thp", V_OK, mode, NULL, "transparent huge pages %s", mode);
    free(mode);
}

static void check_isolation(cJSON *checks, const cJSON *f)
{
    const char *iso = fact(f, "isolated"), *nohz = fact(f, "nohz_full");
    long n = cpu_list_count(iso);
    if (!iso)
        add(checks, "isolated_cpus", V_UNKNOWN, NULL, NULL,
            "/sys/devices/system/cpu/isolated cannot be read");
    else if (n > 0)
        add(checks, "isolated_cpus", V_OK, iso, NULL,
            "CPUs %s isolated from the scheduler (isolcpus): pin the benchmark there", iso);
    else
        add(checks, "isolated_cpus", V_WARN, "", "add isolcpus=2-3 (your CPU list) to the kernel "
            "command line, reboot, and pin the benchmark there",
            "no CPU isolated from the scheduler: other tasks and kernel work may run on the "
            "benchmark's CPUs");
    long m = nohz && strcmp(nohz, "(null)") != 0 ? cpu_list_count(nohz) : 0;
    if (!nohz)
        add(checks, "nohz_full", V_UNKNOWN, NULL, NULL,
            "this kernel has no nohz_full (built without CONFIG_NO_HZ_FULL)");
    else if (m > 0)
        add(checks, "nohz_full", V_OK, nohz, NULL, "CPUs %s run without the scheduler tick "
            "(nohz_full)", nohz);
    else
        add(checks, "nohz_full", V_WARN, "", "add nohz_full=2-3 (the isolated CPUs) to the kernel "
            "command line and reboot", "no nohz_full CPUs: the scheduler tick interrupts every CPU");
}

/* Is word one of the space-separated words of list? */
static bool has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        p += strspn(p, " ");
        size_t l = strcspn(p, " ");
        if (l == n && strncmp(p, word, n) == 0)
            return true;
        p += l;
    }
    return false;
}

static void check_cgroup(cJSON *checks, const cJSON *f)
{
    static const char *const wanted[] = {"cpuset", "memory", "pids"};
    const char *v2 = fact(f, "cgroup2"), *ctl = fact(f, "cgroup2_controllers");
    bool v2w = v2 && fact(f, "cgroup2_writable") && strcmp(fact(f, "cgroup2_writable"), "1") == 0;
    strbuf v1w = {0}, v1all = {0};
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(f, "cgroup1"))
    {
        const char *s = cJSON_GetStringValue(c), *colon = s ? strchr(s, ':') : NULL;
        if (!colon)
            continue;
        sb_printf(&v1all, "%s%.*s", v1all.len ? " " : "", (int)(colon - s), s);
        if (strcmp(colon + 1, "1") == 0)
            sb_printf(&v1w, "%s%.*s", v1w.len ? " " : "", (int)(colon - s), s);
    }
    char *w1 = sb_steal(&v1w), *all1 = sb_steal(&v1all);
    size_t v2n = 0, v1n = 0;
    for (size_t i = 0; i < 3; i++) {
        v2n += v2w && has_word(ctl, wanted[i]);
        v1n += has_word(w1, wanted[i]);
    }
    const char *fix = "run benchctl as root, or in a delegated cgroup: systemd-run --user "
                      "--scope -p Delegate=yes benchctl run ...";
    char *value = xasprintf("v2:%s%s%s%s v1:%s", v2 ? v2 : "none", v2 ? (v2w ? " writable" : " read-only") : "",
                            v2 && ctl ? " controllers=" : "", v2 && ctl ? ctl : "",
                            w1 && *w1 ? w1 : "none");
    if (!v2 && !(all1 && *all1) && !fact(f, "loadavg"))
        add(checks, "cgroup", V_UNKNOWN, NULL, NULL, "/proc/mounts cannot be read");
    else if (v2n == 3)
        add(checks, "cgroup", V_OK, value, NULL,
            "cgroup v2 delegated and writable at %s with controllers %s: limits can be enforced",
            v2, ctl);
    else if (v1n == 3)
        add(checks, "cgroup", V_OK, value, NULL,
            "cgroup v1 writable (%s): limits can be enforced%s%s", w1,
            v2 ? "; cgroup v2 " : "", v2 ? (v2w ? "writable without those controllers" : "read-only") : "");
    else if (v2n || v1n)
        add(checks, "cgroup", V_WARN, value, fix,
            "cgroup control is partial (v2 %s%s%s; v1 writable: %s): the limits without a "
            "controller are only measured", v2 ? v2 : "none",
            v2 ? (v2w ? " writable, controllers: " : " read-only") : "", v2 && v2w && ctl ? ctl : "",
            w1 && *w1 ? w1 : "none");
    else
        add(checks, "cgroup", V_WARN, value, fix,
            "no writable cgroup with the cpuset, memory and pids controllers (v2 %s; v1 writable: "
            "%s): limits fall back to setrlimit and sched_setaffinity, the process tree is not "
            "contained", v2 ? (v2w ? "writable without controllers" : "read-only") : "none",
            w1 && *w1 ? w1 : "none");
    free(value);
    free(w1);
    free(all1);
}

cJSON *noise_assess(const cJSON *facts)
{
    cJSON *out = cJSON_CreateObject();
    cJSON *checks = cJSON_CreateArray();
    check_governor(checks, facts);
    check_turbo(checks, facts);
    check_smt(checks, facts);
    check_aslr(checks, facts);
    check_load(checks, facts);
    check_busy(checks, facts);
    check_swap(checks, facts);
    check_thp(checks, facts);
    check_isolation(checks, facts);
    check_cgroup(checks, facts);
    int warnings = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, checks)
        warnings += strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "verdict")), "warn") == 0;
    cJSON_AddStringToObject(out, "verdict", warnings ? "warn" : "ok");
    cJSON_AddNumberToObject(out, "warnings", warnings);
    cJSON_AddItemToObject(out, "checks", checks);
    return out;
}

cJSON *noise_local(void)
{
    const char *argv[] = {"/bin/sh", "-c", noise_script, NULL};
    char *out = NULL;
    run_capture(argv, &out);
    cJSON *facts = noise_parse(out);
    free(out);
    cJSON *res = noise_assess(facts);
    cJSON_Delete(facts);
    return res;
}
