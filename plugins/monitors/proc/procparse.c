/* The proc monitor's parser (procparse.h). */
#define _GNU_SOURCE
#include "procparse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void proc_snap_reset(proc_snap *s)
{
    memset(s, 0, sizeof *s);
    s->uptime = -1;
    s->mem_total = s->mem_avail = s->swap_total = s->swap_free = -1;
    s->load1 = -1;
    s->psi[0] = s->psi[1] = s->psi[2] = -1;
    s->self_cpu_s = -1;
}

/* Up to max whitespace-separated fields of text[0..len) into f (each
 * NUL-terminated in buf).  Returns how many. */
static size_t split(const char *text, size_t len, char *buf, size_t bufsize, char **f, size_t max)
{
    if (len >= bufsize)
        len = bufsize - 1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, " \t", &save); t && n < max; t = strtok_r(NULL, " \t", &save))
        f[n++] = t;
    return n;
}

static uint64_t u64(const char *s) { return strtoull(s, NULL, 10); }

static void parse_disk(proc_snap *s, char **f, size_t n)
{
    /* major minor name reads merged sectors_read ms writes merged sectors_written ... */
    if (n < 10 || s->ndisks >= PROC_MAX_DISKS)
        return;
    const char *name = f[2];
    if (strncmp(name, "loop", 4) == 0 || strncmp(name, "ram", 3) == 0 ||
        strncmp(name, "zram", 4) == 0 || strncmp(name, "dm-", 3) == 0 ||
        strncmp(name, "md", 2) == 0)
        return; /* virtual devices: their I/O is counted on the disks below them */
    size_t i = s->ndisks++;
    snprintf(s->disk_name[i], sizeof s->disk_name[i], "%s", name);
    s->disk_rd[i] = u64(f[5]);
    s->disk_wr[i] = u64(f[9]);
}

static void parse_self(proc_snap *s, const char *line, size_t len, long hz)
{
    /* pid (comm) state ppid ...: utime stime cutime cstime are fields 14..17,
     * the 12th..15th after the ')' that ends comm. */
    const char *rp = NULL;
    for (size_t i = 0; i < len; i++)
        if (line[i] == ')')
            rp = line + i;
    if (!rp || hz <= 0)
        return;
    char buf[1024], *f[20];
    size_t n = split(rp + 1, len - (size_t)(rp + 1 - line), buf, sizeof buf, f, 20);
    if (n < 15)
        return;
    uint64_t ticks = u64(f[11]) + u64(f[12]) + u64(f[13]) + u64(f[14]);
    /* Several processes may make up a sampler: their times add up. */
    s->self_cpu_s = (s->self_cpu_s < 0 ? 0 : s->self_cpu_s) + (double)ticks / (double)hz;
}

void proc_snap_line(proc_snap *s, const char *file, const char *line, size_t len, long hz)
{
    char buf[1024], *f[24];
    if (strcmp(file, "time") == 0) {
        size_t n = split(line, len, buf, sizeof buf, f, 24);
        for (char *p = n ? f[0] : NULL; p && *p; p++)
            if (*p == ',') /* a locale's decimal comma */
                *p = '.';
        char *end;
        double t = n ? strtod(f[0], &end) : 0;
        if (n && end != f[0] && *end == '\0' && t > 0)
            s->host_time = t;
        return;
    }
    if (strcmp(file, "self") == 0 || strcmp(file, "tick") == 0) {
        parse_self(s, line, len, hz);
        return;
    }
    if (strcmp(file, "/proc/net/dev") == 0) {
        const char *colon = memchr(line, ':', len);
        if (!colon)
            return;
        size_t n = split(line, (size_t)(colon - line), buf, sizeof buf, f, 2);
        if (n != 1 || strcmp(f[0], "lo") == 0)
            return;
        n = split(colon + 1, len - (size_t)(colon + 1 - line), buf, sizeof buf, f, 24);
        if (n < 9)
            return;
        s->has_net = true;
        s->net_rx += u64(f[0]);
        s->net_tx += u64(f[8]);
        return;
    }
    size_t n = split(line, len, buf, sizeof buf, f, 24);
    if (n == 0)
        return;
    if (strcmp(file, "/proc/stat") == 0) {
        if (strcmp(f[0], "cpu") != 0 || n < 5)
            return;
        s->has_cpu = true;
        for (size_t i = 0; i < 8; i++)
            s->cpu[i] = i + 1 < n ? u64(f[i + 1]) : 0;
    } else if (strcmp(file, "/proc/meminfo") == 0 && n >= 2) {
        double kb = strtod(f[1], NULL);
        if (strcmp(f[0], "MemTotal:") == 0)
            s->mem_total = kb;
        else if (strcmp(f[0], "MemAvailable:") == 0)
            s->mem_avail = kb;
        else if (strcmp(f[0], "SwapTotal:") == 0)
            s->swap_total = kb;
        else if (strcmp(f[0], "SwapFree:") == 0)
            s->swap_free = kb;
    } else if (strcmp(file, "/proc/diskstats") == 0) {
        parse_disk(s, f, n);
    } else if (strcmp(file, "/proc/loadavg") == 0) {
        s->load1 = strtod(f[0], NULL);
    } else if (strcmp(file, "/proc/uptime") == 0) {
        s->uptime = strtod(f[0], NULL);
    } else if (strncmp(file, "/proc/pressure/", 15) == 0 && strcmp(f[0], "some") == 0) {
        const char *which = file + 15;
        int k = strcmp(which, "cpu") == 0 ? 0 : strcmp(which, "memory") == 0 ? 1
                : strcmp(which, "io") == 0 ? 2 : -1;
        for (size_t i = 1; k >= 0 && i < n; i++)
            if (strncmp(f[i], "total=", 6) == 0)
                s->psi[k] = strtod(f[i] + 6, NULL);
    }
}

/* Is disk i a partition of another disk in the list (sda1 of sda,
 * nvme0n1p2 of nvme0n1, mmcblk0p1 of mmcblk0)? */
static bool is_partition(const proc_snap *s, size_t i)
{
    const char *name = s->disk_name[i];
    size_t len = strlen(name);
    for (size_t j = 0; j < s->ndisks; j++) {
        const char *other = s->disk_name[j];
        size_t ol = strlen(other);
        if (j == i || ol >= len || strncmp(name, other, ol) != 0)
            continue;
        const char *rest = name + ol;
        if (*rest == 'p')
            rest++;
        if (*rest >= '0' && *rest <= '9' && strspn(rest, "0123456789") == strlen(rest))
            return true;
    }
    return false;
}

static void disk_sums(const proc_snap *s, double *rd, double *wr)
{
    *rd = *wr = 0;
    for (size_t i = 0; i < s->ndisks; i++)
        if (!is_partition(s, i)) {
            *rd += (double)s->disk_rd[i];
            *wr += (double)s->disk_wr[i];
        }
}

void proc_sample(const proc_snap *prev, const proc_snap *cur, bc_monitor_sample *o)
{
    double *v = &o->cpu_user_pct;
    size_t nvals = (sizeof *o - offsetof(bc_monitor_sample, cpu_user_pct)) / sizeof(double);
    for (size_t i = 0; i < nvals; i++)
        v[i] = NAN;
    o->size = sizeof *o;
    o->reserved = 0;
    if (cur->mem_total >= 0 && cur->mem_avail >= 0) {
        o->mem_used_bytes = (cur->mem_total - cur->mem_avail) * 1024.0;
        o->mem_available_bytes = cur->mem_avail * 1024.0;
    }
    if (cur->swap_total >= 0 && cur->swap_free >= 0)
        o->swap_used_bytes = (cur->swap_total - cur->swap_free) * 1024.0;
    if (cur->load1 >= 0)
        o->load1 = cur->load1;
    if (cur->host_time > 0)
        o->host_time_s = cur->host_time;
    if (!prev || prev->uptime < 0 || cur->uptime <= prev->uptime)
        return;
    double dt = cur->uptime - prev->uptime;
    if (prev->has_cpu && cur->has_cpu) {
        double d[8], total = 0;
        for (size_t i = 0; i < 8; i++) {
            d[i] = cur->cpu[i] >= prev->cpu[i] ? (double)(cur->cpu[i] - prev->cpu[i]) : 0;
            total += d[i];
        }
        if (total > 0) {
            o->cpu_user_pct = 100.0 * (d[0] + d[1]) / total;
            o->cpu_system_pct = 100.0 * (d[2] + d[5] + d[6]) / total;
            o->cpu_iowait_pct = 100.0 * d[4] / total;
            o->cpu_steal_pct = 100.0 * d[7] / total;
        }
    }
    if (prev->has_net && cur->has_net) {
        o->net_rx_bps = cur->net_rx >= prev->net_rx ? (double)(cur->net_rx - prev->net_rx) / dt : 0;
        o->net_tx_bps = cur->net_tx >= prev->net_tx ? (double)(cur->net_tx - prev->net_tx) / dt : 0;
    }
    if (prev->ndisks && cur->ndisks) {
        double r0, w0, r1, w1;
        disk_sums(prev, &r0, &w0);
        disk_sums(cur, &r1, &w1);
        o->disk_read_bps = r1 >= r0 ? (r1 - r0) * 512.0 / dt : 0;
        o->disk_write_bps = w1 >= w0 ? (w1 - w0) * 512.0 / dt : 0;
    }
    double *psi_out[3] = {&o->psi_cpu_pct, &o->psi_memory_pct, &o->psi_io_pct};
    for (int k = 0; k < 3; k++)
        if (prev->psi[k] >= 0 && cur->psi[k] >= prev->psi[k]) {
            double pct = 100.0 * (cur->psi[k] - prev->psi[k]) / (dt * 1e6);
            *psi_out[k] = pct > 100 ? 100 : pct;
        }
    if (prev->self_cpu_s >= 0 && cur->self_cpu_s >= prev->self_cpu_s)
        o->sampler_cpu_pct = 100.0 * (cur->self_cpu_s - prev->self_cpu_s) / dt;
}
