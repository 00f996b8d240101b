/*
 * The proc monitor's parser: one snapshot of a Linux host's /proc files
 * (fed line by line, each line prefixed with the file it came from, the
 * same whether read here or streamed from a remote host), and the sample
 * two snapshots make.
 */
#ifndef PROC_PARSE_H
#define PROC_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <benchctl/monitor.h>

#define PROC_MAX_DISKS 64

typedef struct proc_snap {
    double uptime;          /* /proc/uptime: seconds (the interval's clock); <0: none */
    bool has_cpu;
    uint64_t cpu[8];        /* user nice system idle iowait irq softirq steal (ticks) */
    double mem_total, mem_avail, swap_total, swap_free; /* kB; <0: none */
    bool has_net;
    uint64_t net_rx, net_tx; /* bytes, summed over interfaces but lo */
    size_t ndisks;
    char disk_name[PROC_MAX_DISKS][32];
    uint64_t disk_rd[PROC_MAX_DISKS], disk_wr[PROC_MAX_DISKS]; /* sectors */
    double load1;           /* <0: none */
    double psi[3];          /* total stall, us: cpu, memory, io; <0: none */
    double self_cpu_s;      /* the sampler's CPU time, seconds; <0: none */
    double host_time;       /* when taken, on the host's clock (epoch s); 0: unknown */
} proc_snap;

/* An empty snapshot (everything "none"). */
void proc_snap_reset(proc_snap *s);
/* One line of file `file` (e.g. "/proc/stat"; "self" or "tick" for the
 * /proc/<pid>/stat of a sampler process, read with ticks per second hz:
 * their CPU times add up; "time" for the host's clock when the snapshot
 * was taken, seconds since the epoch) into s. */
void proc_snap_line(proc_snap *s, const char *file, const char *line, size_t len, long hz);
/* The sample from prev to cur (prev NULL: rates and percentages NaN). */
void proc_sample(const proc_snap *prev, const proc_snap *cur, bc_monitor_sample *out);

#endif
