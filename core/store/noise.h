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
 * line only; it never fails.  Cheap (one awk, one sh loop, no process per
 * file: it runs when every run opens a host): the files are read with
 * getline; busy processes are each process's CPU share over its life (as
 * ps's %CPU, /proc/PID/stat in USER_HZ, 100 on Linux), the five busiest
 * above 1 %, those younger than 2 s left out (this script's own); the
 * cgroups: v2 (benchctl's own cgroup there, its controllers, writable?)
 * and each v1 controller that matters (writable in its own cgroup or at
 * the hierarchy's root), the writability tested by the shell (W lines). */
#define NOISE_SCRIPT \
    "nz() {\n" \
    "R=${BENCHCTL_CHECK_ROOT:-}\n" \
    "set -- \"$R\"/proc/[0-9]*/stat\n" \
    "awk -v R=\"$R\" '\n" \
    "function p(k, v) { print \"noise.\" k \"=\" v }\n" \
    "function rd(f,   l, r) { l = \"\"; r = (getline l < f); close(f); ok = r >= 0; return l }\n" \
    "function f(k, path,   v) { v = rd(R path); if (ok) p(k, v) }\n" \
    "BEGIN {\n" \
    "C = \"/sys/devices/system/cpu\"\n" \
    "f(\"cpus_online\", C \"/online\")\n" \
    "n = split(rd(R C \"/online\"), rs, \",\")\n" \
    "for (i = 1; i <= n; i++) {\n" \
    "m = split(rs[i], ab, \"-\"); a = ab[1] + 0; b = (m > 1 ? ab[2] : ab[1]) + 0\n" \
    "for (c = a; c <= b && c < 65536; c++) {\n" \
    "g = rd(R C \"/cpu\" c \"/cpufreq/scaling_governor\")\n" \
    "if (ok && g != \"\") { if (!(g in gc)) go[++ng] = g; gc[g]++ }\n" \
    "}\n" \
    "}\n" \
    "s = \"\"; for (i = 1; i <= ng; i++) s = s (i > 1 ? \" \" : \"\") go[i] \":\" gc[go[i]]\n" \
    "if (ng) p(\"governors\", s)\n" \
    "f(\"cpufreq_driver\", C \"/cpu0/cpufreq/scaling_driver\")\n" \
    "f(\"no_turbo\", C \"/intel_pstate/no_turbo\")\n" \
    "f(\"boost\", C \"/cpufreq/boost\")\n" \
    "f(\"smt_control\", C \"/smt/control\")\n" \
    "f(\"smt_active\", C \"/smt/active\")\n" \
    "f(\"aslr\", \"/proc/sys/kernel/randomize_va_space\")\n" \
    "f(\"loadavg\", \"/proc/loadavg\")\n" \
    "f(\"swappiness\", \"/proc/sys/vm/swappiness\")\n" \
    "f(\"thp\", \"/sys/kernel/mm/transparent_hugepage/enabled\")\n" \
    "f(\"isolated\", C \"/isolated\")\n" \
    "f(\"nohz_full\", C \"/nohz_full\")\n" \
    "mf = R \"/proc/meminfo\"\n" \
    "while ((getline l < mf) > 0) {\n" \
    "split(l, w, \" \")\n" \
    "if (w[1] == \"SwapTotal:\") st = w[2]\n" \
    "if (w[1] == \"SwapFree:\") sf = w[2]\n" \
    "}\n" \
    "close(mf)\n" \
    "if (st != \"\") { p(\"swap_total_kb\", st); p(\"swap_free_kb\", sf) }\n" \
    "up = rd(R \"/proc/uptime\") + 0\n" \
    "nb = 0\n" \
    "for (i = 1; up > 0 && i < ARGC; i++) {\n" \
    "l = rd(ARGV[i]); if (l == \"\") continue\n" \
    "c = l; sub(/^[^(]*[(]/, \"\", c); sub(/[)] [^)]*$/, \"\", c); gsub(/[^A-Za-z0-9._:\\/-]/, \"_\", c)\n" \
    "r = l; sub(/.*[)] /, \"\", r)\n" \
    "if (split(r, x, \" \") < 20) continue\n" \
    "age = up - x[20] / 100\n" \
    "if (age < 2) continue\n" \
    "pct = (x[12] + x[13]) / 100 / age * 100\n" \
    "if (pct >= 1) { nb++; bp[nb] = pct; bl[nb] = sprintf(\"%.1f %s %s\", pct, l + 0, c) }\n" \
    "}\n" \
    "for (k = 1; k <= 5 && k <= nb; k++) {\n" \
    "best = 0\n" \
    "for (i = 1; i <= nb; i++) if (!(i in used) && (best == 0 || bp[i] > bp[best])) best = i\n" \
    "used[best] = 1; p(\"busy\", bl[best])\n" \
    "}\n" \
    "mf = R \"/proc/mounts\"\n" \
    "while ((getline l < mf) > 0) {\n" \
    "split(l, w, \" \")\n" \
    "if (w[3] == \"cgroup2\" && v2 == \"\") v2 = w[2]\n" \
    "if (w[3] == \"cgroup\") { n = split(w[4], o, \",\"); for (i = 1; i <= n; i++) if (!(o[i] in v1)) v1[o[i]] = w[2] }\n" \
    "}\n" \
    "close(mf)\n" \
    "mf = R \"/proc/self/cgroup\"\n" \
    "while ((getline l < mf) > 0) {\n" \
    "i = index(l, \":\"); r = substr(l, i + 1); j = index(r, \":\")\n" \
    "ctl = substr(r, 1, j - 1); path = substr(r, j + 1); sub(/\\/$/, \"\", path)\n" \
    "if (ctl == \"\") s2 = path\n" \
    "n = split(ctl, o, \",\"); for (i = 1; i <= n; i++) sp[o[i]] = path\n" \
    "}\n" \
    "close(mf)\n" \
    "if (v2 != \"\") {\n" \
    "p(\"cgroup2\", v2 s2); d = R v2 s2\n" \
    "cc = rd(d \"/cgroup.controllers\"); if (ok) p(\"cgroup2_controllers\", cc)\n" \
    "print \"W2\\t\" d\n" \
    "}\n" \
    "split(\"cpuset memory pids freezer cpu\", want, \" \")\n" \
    "for (i = 1; i <= 5; i++) if (want[i] in v1) print \"W1\\t\" want[i] \"\\t\" R v1[want[i]] sp[want[i]] \"\\t\" R v1[want[i]]\n" \
    "exit\n" \
    "}' \"$@\" | while IFS='\t' read -r a b c d; do\n" \
    "case $a in\n" \
    "W2) if [ -w \"$b\" ] && [ -w \"$b/cgroup.procs\" ]; then echo noise.cgroup2_writable=1; else echo noise.cgroup2_writable=0; fi ;;\n" \
    "W1) if [ -w \"$c\" ] || [ -w \"$d\" ]; then echo \"noise.cgroup1=$b:1\"; else echo \"noise.cgroup1=$b:0\"; fi ;;\n" \
    "*) printf '%s\\n' \"$a\" ;;\n" \
    "esac\n" \
    "done\n" \
    "}\n" \
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
