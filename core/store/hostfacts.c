/* Facts about the controller machine and the git state of the config. */
#define _GNU_SOURCE
#include "store/hostfacts.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/noise.h"
#include "util/util.h"

extern char **environ;

static char *os_pretty_name(void)
{
    char *text = read_file("/etc/os-release", NULL);
    if (!text)
        return NULL;
    char *res = NULL, *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "PRETTY_NAME=", 12) == 0) {
            char *v = line + 12;
            size_t l = strlen(v);
            if (l >= 2 && (v[0] == '"' || v[0] == '\'')) {
                v++;
                l -= 2;
            }
            res = xstrndup(v, l);
            break;
        }
    }
    free(text);
    return res;
}

static char *cpu_model(void)
{
    FILE *f = fopen("/proc/cpuinfo", "re");
    if (!f)
        return NULL;
    char line[512];
    char *res = NULL;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0 || strncmp(line, "Model", 5) == 0) {
            char *colon = strchr(line, ':');
            if (!colon)
                continue;
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            v[strcspn(v, "\n")] = '\0';
            res = xstrdup(v);
            break;
        }
    }
    fclose(f);
    return res;
}

cJSON *hostfacts_collect(void)
{
    cJSON *o = cJSON_CreateObject();
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    cJSON_AddStringToObject(o, "hostname", host);
    char *os = os_pretty_name();
    struct utsname u;
    uname(&u);
    cJSON_AddStringToObject(o, "os", os ? os : u.sysname);
    free(os);
    cJSON_AddStringToObject(o, "kernel", u.release);
    cJSON_AddStringToObject(o, "arch", u.machine);
    char *cpu = cpu_model();
    if (cpu)
        cJSON_AddStringToObject(o, "cpu_model", cpu);
    else
        cJSON_AddNullToObject(o, "cpu_model");
    free(cpu);
    cJSON_AddNumberToObject(o, "cores", (double)sysconf(_SC_NPROCESSORS_ONLN));
    struct sysinfo si;
    if (sysinfo(&si) == 0)
        cJSON_AddNumberToObject(o, "memory_bytes", (double)si.totalram * si.mem_unit);
    hostfacts_add_cpu(o);
    cJSON_AddItemToObject(o, "noise", noise_local());
    return o;
}

int run_capture(const char *const *argv, char **out)
{
    *out = NULL;
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (rc != 0) {
        close(pfd[0]);
        return -1;
    }
    strbuf sb = {0};
    char buf[8192];
    for (;;) {
        ssize_t n = read(pfd[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        sb_add(&sb, buf, (size_t)n);
    }
    close(pfd[0]);
    int st = 0;
    pid_t w;
    while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
        ;
    if (w < 0)
        st = 0xff00; /* unknown: report failure below */
    *out = sb_steal(&sb);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The URL of the remote the current branch tracks (else "origin"), with
 * any "user:password@" taken out: a token in a clone URL must not reach
 * metadata.json.  NULL when there is none. */
static char *git_remote_url(const char *dir)
{
    const char *up[] = {"git", "-C", dir, "rev-parse", "--abbrev-ref", "--symbolic-full-name",
                        "@{upstream}", NULL};
    char *out = NULL, *remote = NULL;
    if (run_capture(up, &out) == 0 && out) {
        char *slash = strchr(out, '/');
        if (slash) {
            *slash = '\0';
            remote = xstrdup(out);
        }
    }
    free(out);
    out = NULL;
    const char *get[] = {"git", "-C", dir, "remote", "get-url", remote ? remote : "origin", NULL};
    int rc = run_capture(get, &out);
    free(remote);
    if (rc != 0 || !out) {
        free(out);
        return NULL;
    }
    out[strcspn(out, "\r\n")] = '\0';
    char *scheme = strstr(out, "://");
    char *host = scheme ? scheme + 3 : NULL;
    char *at = host ? strchr(host, '@') : NULL;
    char *path = host ? strchr(host, '/') : NULL;
    if (at && (!path || at < path)) /* https://user:token@host/... */
        memmove(host, at + 1, strlen(at + 1) + 1);
    if (!*out) {
        free(out);
        return NULL;
    }
    return out;
}

void git_inspect(const char *dir, git_state *g)
{
    memset(g, 0, sizeof *g);
    /* Untracked files (benchctl's own results, for one) do not make the
     * tree dirty: only changes to tracked files do. */
    const char *argv[] = {"git", "-C", dir, "status", "--porcelain=v2", "--branch",
                          "--untracked-files=no", NULL};
    char *out = NULL;
    if (run_capture(argv, &out) != 0) {
        free(out);
        return;
    }
    g->is_repo = true;
    char *save = NULL;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "# branch.oid ", 13) == 0) {
            if (strcmp(line + 13, "(initial)") != 0)
                g->commit = xstrdup(line + 13);
        } else if (strncmp(line, "# branch.head ", 14) == 0) {
            if (strcmp(line + 14, "(detached)") != 0)
                g->branch = xstrdup(line + 14);
        } else if (line[0] != '#') {
            g->dirty = true;
        }
    }
    free(out);
    g->remote_url = git_remote_url(dir);
}

char *git_diff(const char *dir)
{
    const char *argv[] = {"git", "-C", dir, "diff", "HEAD", NULL};
    char *out = NULL;
    if (run_capture(argv, &out) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

void git_state_free(git_state *g)
{
    free(g->commit);
    free(g->branch);
    free(g->remote_url);
    memset(g, 0, sizeof *g);
}

cJSON *git_to_json(const git_state *g)
{
    if (!g->is_repo)
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    if (g->commit)
        cJSON_AddStringToObject(o, "commit", g->commit);
    else
        cJSON_AddNullToObject(o, "commit");
    if (g->branch)
        cJSON_AddStringToObject(o, "branch", g->branch);
    else
        cJSON_AddNullToObject(o, "branch");
    cJSON_AddBoolToObject(o, "dirty", g->dirty);
    if (g->remote_url)
        cJSON_AddStringToObject(o, "remote_url", g->remote_url);
    return o;
}

/* Facts of a remote host, from its own tools; each line is optional. */
const char hostfacts_script[] =
    /* Few processes (it runs once per host as the connection opens, so
     * its cost is every run's): one uname, one getconf -a (each value
     * asked separately where -a is missing), the rest read by the shell. */
    "set -- $(uname -nrm 2>/dev/null)\n"
    "echo \"hostname=$1\"; echo \"kernel=$2\"; echo \"arch=$3\"\n"
    "( . /etc/os-release 2>/dev/null && echo \"os=$PRETTY_NAME\" ) || echo \"os=$(uname -s)\"\n"
    "while IFS= read -r l; do case $l in 'model name'*) echo \"cpu_model=${l#*: }\"; break;; esac; "
    "done < /proc/cpuinfo 2>/dev/null\n"
    "while read -r k v u; do [ \"$k\" = MemTotal: ] && { echo \"memory_bytes=$((v * 1024))\"; "
    "break; }; done < /proc/meminfo 2>/dev/null\n"
    "n=; l1d=; l1i=; l2=; l3=\n"
    "for w in $(getconf -a 2>/dev/null | while read -r k v; do case $k in "
    "_NPROCESSORS_ONLN|LEVEL1_DCACHE_SIZE|LEVEL1_ICACHE_SIZE|LEVEL2_CACHE_SIZE|LEVEL3_CACHE_SIZE) "
    "echo \"$k=$v\";; esac; done); do case $w in _NPROCESSORS_ONLN=*) n=${w#*=};; "
    "LEVEL1_DCACHE_SIZE=*) l1d=${w#*=};; LEVEL1_ICACHE_SIZE=*) l1i=${w#*=};; "
    "LEVEL2_CACHE_SIZE=*) l2=${w#*=};; LEVEL3_CACHE_SIZE=*) l3=${w#*=};; esac; done\n"
    "[ -n \"$n\" ] || n=$(getconf _NPROCESSORS_ONLN 2>/dev/null)\n"
    "[ -n \"$l1d$l1i$l2$l3\" ] || { l1d=$(getconf LEVEL1_DCACHE_SIZE 2>/dev/null); "
    "l1i=$(getconf LEVEL1_ICACHE_SIZE 2>/dev/null); l2=$(getconf LEVEL2_CACHE_SIZE 2>/dev/null); "
    "l3=$(getconf LEVEL3_CACHE_SIZE 2>/dev/null); }\n"
    "echo \"cores=$n\"\n"
    /* what hostfacts_add_cpu gives for the controller (hostfacts_cpu.c) */
    "echo \"cpu_thread_count=$n\"\n"
    "seen=' '; c=0; for t in /sys/devices/system/cpu/cpu[0-9]*/topology; do "
    "p=; i=; { read -r p < $t/physical_package_id; read -r i < $t/core_id; } 2>/dev/null || continue; "
    "case $seen in *\" $p:$i \"*) ;; *) seen=\"$seen$p:$i \"; c=$((c + 1));; esac; done\n"
    "echo \"cpu_core_count=$c\"\n"
    "echo \"cpu_l1d_cache_bytes=$l1d\"; echo \"cpu_l1i_cache_bytes=$l1i\"\n"
    "echo \"cpu_l2_cache_bytes=$l2\"; echo \"cpu_l3_cache_bytes=$l3\"\n"
    "f=; { read -r f < /sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq; } 2>/dev/null && "
    "[ -n \"$f\" ] && echo \"cpu_frequency_max_hz=${f}000\"\n"
    "g=0; for d in /proc/driver/nvidia/gpus/*; do [ -e \"$d\" ] && g=$((g + 1)); done\n"
    "echo \"gpu_count=$g\"\n"
    NOISE_SCRIPT /* what makes timings noisy there: noise.h */
    "exit 0\n"; /* a missing tool loses its line, not the others */

cJSON *hostfacts_parse(const char *text)
{
    static const char *const strings[] = {"hostname", "os", "kernel", "arch", "cpu_model", NULL};
    static const char *const numbers[] = {"cores", "memory_bytes", "cpu_thread_count",
                                          "cpu_core_count", "cpu_l1d_cache_bytes",
                                          "cpu_l1i_cache_bytes", "cpu_l2_cache_bytes",
                                          "cpu_l3_cache_bytes", "cpu_frequency_max_hz",
                                          "gpu_count", NULL};
    cJSON *o = cJSON_CreateObject();
    const char *line = text;
    while (line && *line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *eq = memchr(line, '=', len);
        if (eq && eq + 1 < line + len) {
            char *key = xstrndup(line, (size_t)(eq - line));
            char *val = xstrndup(eq + 1, len - (size_t)(eq - line) - 1);
            for (size_t i = 0; strings[i]; i++)
                if (strcmp(key, strings[i]) == 0 && !cJSON_GetObjectItem(o, key))
                    cJSON_AddStringToObject(o, key, val);
            double d;
            for (size_t i = 0; numbers[i]; i++)
                if (strcmp(key, numbers[i]) == 0 && parse_double(val, &d) && d > 0 &&
                    !cJSON_GetObjectItem(o, key))
                    cJSON_AddNumberToObject(o, key, d);
            free(key);
            free(val);
        }
        line = end ? end + 1 : NULL;
    }
    cJSON *noise = noise_parse(text);
    if (noise) /* verdicts as `benchctl check` gives them */
        cJSON_AddItemToObject(o, "noise", noise_assess(noise));
    cJSON_Delete(noise);
    return o;
}
