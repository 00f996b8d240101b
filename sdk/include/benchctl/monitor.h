/*
 * Monitors (BC_KIND_MONITOR, since ABI 1.5): sample a host's resources
 * (CPU, memory, network, disk, load, pressure) for the whole run.  Selected
 * with `benchmark.monitor.sampler: NAME` (default `proc`); the core starts
 * one `run` call per monitored host, each on its own thread, when the run
 * starts, and stops them when the run ends (normally, on Ctrl-C, on
 * --timeout or on a failure).
 *
 * A monitor hands each sample to the core with svc->monitor_sample; the
 * core puts it on the controller's clock (its host_time_s corrected by the
 * host's clock offset, since 1.6; else when it arrives) and appends it at once to
 * monitor/<host>.csv (so nothing is lost if the run dies), and computes the
 * statistics in results.json.  On a host whose transport declares
 * BC_HOST_CAP_CONTROLLER a monitor may read the machine directly; on other
 * hosts it uses the transport through svc->host_stream (one long-lived
 * command over the run's connection) or svc->host_exec.
 */
#ifndef BENCHCTL_MONITOR_H
#define BENCHCTL_MONITOR_H

#include <stdint.h>

#include "abi.h"
#include "services.h"

/* Metric groups (bc_monitor_request.metrics); values never change. */
#define BC_MON_CPU 0x1u      /* cpu_*_pct */
#define BC_MON_MEMORY 0x2u   /* mem_*, swap_used_bytes */
#define BC_MON_NETWORK 0x4u  /* net_*_bps, summed over interfaces but lo */
#define BC_MON_DISK 0x8u     /* disk_*_bps, summed over whole disks */
#define BC_MON_LOAD 0x10u    /* load1 */
#define BC_MON_PRESSURE 0x20u /* psi_*_pct, where the kernel has PSI */

typedef struct bc_monitor_request {
    uint32_t size;        /* sizeof(bc_monitor_request) in the core */
    uint32_t metrics;     /* BC_MON_* groups to sample */
    int64_t interval_ms;  /* time between samples */
} bc_monitor_request;

/* One sample.  Rates and percentages are over the interval since the
 * previous sample (the first sample of a run has them NaN).  NaN: not
 * measured.  The core allocates none of these: a plugin fills its own and
 * sets size = sizeof(bc_monitor_sample) as it knows it; members past size
 * read as NaN.  Grows at the end only. */
typedef struct bc_monitor_sample {
    uint32_t size;
    uint32_t reserved;         /* 0 */
    double cpu_user_pct;       /* of all CPUs: user + nice */
    double cpu_system_pct;     /* system + irq + softirq */
    double cpu_iowait_pct;
    double cpu_steal_pct;
    double mem_used_bytes;     /* MemTotal - MemAvailable */
    double mem_available_bytes;
    double swap_used_bytes;    /* SwapTotal - SwapFree */
    double net_rx_bps;         /* bytes per second */
    double net_tx_bps;
    double disk_read_bps;      /* bytes per second */
    double disk_write_bps;
    double load1;
    double psi_cpu_pct;        /* share of the interval some task stalled */
    double psi_memory_pct;
    double psi_io_pct;
    double sampler_cpu_pct;    /* the sampler's own CPU use, % of one core */
#if BC_TARGET_MINOR >= 6
    /* ---- since ABI 1.6 ---- */
    /* When the sample was taken, on the host's own clock (seconds since
     * the epoch).  The core moves it onto the controller's clock with the
     * host's clock offset (measured when the connection opened).  NaN (or
     * a sample from a 1.5 plugin, which ends before it): the core stamps
     * the sample when it arrives. */
    double host_time_s;
#endif
} bc_monitor_sample;

typedef struct bc_monitor_ops {
    uint32_t size;
    /* Required.  Sample the current host every req->interval_ms and hand
     * each sample to svc->monitor_sample until svc->cancelled(ctx) (wait
     * on svc->cancel_fd(ctx) between samples), then return BC_OK.  BC_ERR
     * (with set_error) when the host cannot be sampled (no /proc, the
     * connection is lost); the core warns and the run goes on. */
    int (*run)(bc_ctx *ctx, const bc_monitor_request *req);
} bc_monitor_ops;

#endif /* BENCHCTL_MONITOR_H */
