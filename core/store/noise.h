/* What makes timings noisy on a host (`benchctl check`, and every run's
 * host facts): CPU frequency governor, boost/turbo, SMT, ASLR, load and
 * busy processes, swap, transparent huge pages, isolated CPUs, nohz_full
 * and the cgroup control benchctl has there.  The facts come from a POSIX
 * sh script run on the host (NOISE_SCRIPT, part of hostfacts_script); the
 * verdicts are computed here from its output, the same for every host. */
#ifndef BENCHCTL_NOISE_H
#define BENCHCTL_NOISE_H

#include <cjson/cJSON.h>

/* The script's text, a string literal (hostfacts.c appends it to the
 * machine facts script).  It prints "noise.KEY=value" lines, reading
 * /proc and /sys under $BENCHCTL_CHECK_ROOT when that is set (recorded
 * trees in the tests; empty: the real ones).  A missing file loses its
 * line only; it never fails. */
#define NOISE_SCRIPT                                                                               \
    "nz() {\n"                                                                                     \
    "R=${BENCHCTL_CHECK_ROOT:-}; C=$R/sys/devices/system/cpu\n"                                    \
    "p() { printf 'noise.%s=%s\\n' \"$1\" \"$2\"; }\n"                                             \
    "f() { [ -r \"$2\" ] && p \"$1\" \"$(head -n 1 \"$2\" 2>/dev/null)\"; }\n"                     \
    "f cpus_online \"$C/online\"\n"                                                                \
    "g=$(cat \"$C\"/cpu[0-9]*/cpufreq/scaling_governor 2>/dev/null | sort | uniq -c | "            \
    "awk '{printf \"%s%s:%s\", (NR > 1 ? \" \" : \"\"), $2, $1}')\n"                                 \
    "[ -n \"$g\" ] && p governors \"$g\"\n"                                                        \
    "f cpufreq_driver \"$C/cpu0/cpufreq/scaling_driver\"\n"                                        \
    "f no_turbo \"$C/intel_pstate/no_turbo\"\n"                                                    \
    "f boost \"$C/cpufreq/boost\"\n"                                                               \
    "f smt_control \"$C/smt/control\"\n"                                                           \
    "f smt_active \"$C/smt/active\"\n"                                                             \
    "f aslr \"$R/proc/sys/kernel/randomize_va_space\"\n"                                           \
    "f loadavg \"$R/proc/loadavg\"\n"                                                              \
    "awk '/^SwapTotal:/ { t = $2 } /^SwapFree:/ { u = $2 } END { if (t != \"\") "                  \
    "printf \"noise.swap_total_kb=%s\\nnoise.swap_free_kb=%s\\n\", t, u }' \"$R/proc/meminfo\" "   \
    "2>/dev/null\n"                                                                                \
    "f swappiness \"$R/proc/sys/vm/swappiness\"\n"                                                 \
    "f thp \"$R/sys/kernel/mm/transparent_hugepage/enabled\"\n"                                    \
    "f isolated \"$C/isolated\"\n"                                                                 \
    "f nohz_full \"$C/nohz_full\"\n"                                                               \
    /* busy processes: CPU share over each one's life (as ps's %CPU), \
     * the five busiest above 1 %; younger than 2 s: this script's own */                          \
    "hz=$(getconf CLK_TCK 2>/dev/null); up=$(cut -d ' ' -f 1 \"$R/proc/uptime\" 2>/dev/null)\n"    \
    "[ -n \"$up\" ] && cat \"$R\"/proc/[0-9]*/stat 2>/dev/null | awk -v hz=\"${hz:-100}\" "        \
    "-v up=\"$up\" '{ c = $0; sub(/^[^(]*[(]/, \"\", c); sub(/[)] [^)]*$/, \"\", c); "            \
    "r = $0; sub(/.*[)] /, \"\", r); if (split(r, a, \" \") < 20) next; "                         \
    "age = up - a[20] / hz; if (age < 2) next; pct = (a[12] + a[13]) / hz / age * 100; "          \
    "gsub(/[^A-Za-z0-9._:\\/-]/, \"_\", c); if (pct >= 1) printf \"%.1f %s %s\\n\", pct, $1, c }' " \
    "| sort -rn | head -n 5 | sed 's/^/noise.busy=/'\n"                                            \
    /* cgroups: v2 (benchctl's own cgroup, its controllers, writable?) \
     * and each v1 controller that matters (writable here or at its root) */                       \
    "M=$R/proc/mounts; S=$R/proc/self/cgroup\n"                                                    \
    "v=$(awk '$3 == \"cgroup2\" { print $2; exit }' \"$M\" 2>/dev/null)\n"                         \
    "if [ -n \"$v\" ]; then s=$(sed -n 's/^0:://p' \"$S\" 2>/dev/null | head -n 1); s=${s%/}\n"    \
    "p cgroup2 \"$v$s\"; d=$R$v$s\n"                                                               \
    "[ -r \"$d/cgroup.controllers\" ] && p cgroup2_controllers \"$(cat \"$d/cgroup.controllers\")\"\n" \
    "if [ -w \"$d\" ] && [ -w \"$d/cgroup.procs\" ]; then p cgroup2_writable 1; "                  \
    "else p cgroup2_writable 0; fi; fi\n"                                                          \
    "awk '$3 == \"cgroup\" { print $2, $4 }' \"$M\" 2>/dev/null | while read -r m o; do "          \
    "for c in cpuset memory pids freezer cpu; do case \",$o,\" in *\",$c,\"*) "                    \
    "s=$(awk -F : -v c=\"$c\" '{ n = split($2, a, \",\"); for (i = 1; i <= n; i++) "               \
    "if (a[i] == c) print $3 }' \"$S\" 2>/dev/null | head -n 1); s=${s%/}; w=0; "                  \
    "if [ -w \"$R$m$s\" ] || [ -w \"$R$m\" ]; then w=1; fi; p cgroup1 \"$c:$w\";; esac; done; done\n" \
    "}\n"                                                                                          \
    "nz 2>/dev/null || :\n"

/* NOISE_SCRIPT as an array (what `benchctl check` runs on a host). */
extern const char noise_script[];

/* The parsed "noise.KEY=value" lines of text (other lines ignored): an
 * object of strings, "busy" and "cgroup1" arrays of strings.  NULL when
 * text holds none.  Owned by the caller. */
cJSON *noise_parse(const char *text);

/* The verdicts on facts (noise_parse's; NULL: all unknown): an object
 * {"verdict": "ok" | "warn", "warnings": N, "checks": [{"name", "verdict"
 * (ok, warn, unknown or n/a), "value" (what was read, or null), "detail"
 * (one sentence), "fix" (one command line, only with warn)}]}.  Owned. */
cJSON *noise_assess(const cJSON *facts);

/* The assessment of this machine: the script run here with /bin/sh.
 * Never NULL (a failed script gives unknown verdicts). */
cJSON *noise_local(void);

#endif
