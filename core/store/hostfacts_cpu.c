/* The controller's CPU, cache and GPU facts (hostfacts.h): what result
 * servers such as Conbench describe a machine with. */
#define _GNU_SOURCE
#include "store/hostfacts.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A number from the first line of a file; -1 when unreadable. */
static long long read_number(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char line[64];
    long long v = -1;
    if (fgets(line, sizeof line, f)) {
        char *end;
        v = strtoll(line, &end, 10);
        if (end == line)
            v = -1;
    }
    fclose(f);
    return v;
}

/* Physical cores: distinct (package, core) pairs of the online CPUs. */
static long physical_cores(long threads)
{
    long pairs[1024][2];
    long n = 0;
    for (long cpu = 0; cpu < threads && cpu < 1024; cpu++) {
        char path[128];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%ld/topology/core_id", cpu);
        long long core = read_number(path);
        snprintf(path, sizeof path,
                 "/sys/devices/system/cpu/cpu%ld/topology/physical_package_id", cpu);
        long long pkg = read_number(path);
        if (core < 0 || pkg < 0)
            return threads;
        bool seen = false;
        for (long i = 0; i < n && !seen; i++)
            seen = pairs[i][0] == pkg && pairs[i][1] == core;
        if (!seen) {
            pairs[n][0] = (long)pkg;
            pairs[n][1] = (long)core;
            n++;
        }
    }
    return n > 0 ? n : threads;
}

/* The largest "cpu MHz" of /proc/cpuinfo, in Hz (a fallback for a machine
 * without cpufreq: the current clock, not the maximum); 0 when unknown. */
static double cpuinfo_hz(void)
{
    FILE *f = fopen("/proc/cpuinfo", "re");
    if (!f)
        return 0;
    char line[512];
    double best = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "cpu MHz", 7) != 0)
            continue;
        const char *colon = strchr(line, ':');
        char *end;
        double mhz = colon ? strtod(colon + 1, &end) : 0;
        if (colon && end != colon + 1 && mhz * 1e6 > best)
            best = mhz * 1e6;
    }
    fclose(f);
    return best;
}

static long gpu_count(void)
{
    long n = 0;
    DIR *d = opendir("/proc/driver/nvidia/gpus");
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (e->d_name[0] != '.')
                n++;
        closedir(d);
    }
    return n;
}

void hostfacts_add_cpu(cJSON *o)
{
    long threads = sysconf(_SC_NPROCESSORS_ONLN);
    cJSON_AddNumberToObject(o, "cpu_thread_count", (double)threads);
    cJSON_AddNumberToObject(o, "cpu_core_count", (double)physical_cores(threads));
    static const struct {
        const char *key;
        int name;
    } caches[] = {{"cpu_l1d_cache_bytes", _SC_LEVEL1_DCACHE_SIZE},
                  {"cpu_l1i_cache_bytes", _SC_LEVEL1_ICACHE_SIZE},
                  {"cpu_l2_cache_bytes", _SC_LEVEL2_CACHE_SIZE},
                  {"cpu_l3_cache_bytes", _SC_LEVEL3_CACHE_SIZE}};
    for (size_t i = 0; i < sizeof caches / sizeof caches[0]; i++) {
        long v = sysconf(caches[i].name);
        cJSON_AddNumberToObject(o, caches[i].key, v > 0 ? (double)v : 0);
    }
    long long khz = read_number("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq");
    cJSON_AddNumberToObject(o, "cpu_frequency_max_hz", khz > 0 ? (double)khz * 1000 : cpuinfo_hz());
    cJSON_AddNumberToObject(o, "gpu_count", (double)gpu_count());
}
