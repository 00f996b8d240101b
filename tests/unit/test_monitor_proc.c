/*
 * The proc monitor's parser (plugins/monitors/proc/procparse.c), compiled
 * in: two snapshots of /proc lines make the expected sample — CPU shares,
 * memory, network without lo, disks without partitions and virtual
 * devices, pressure from the total counters, the sampler's own CPU from
 * its processes' stat lines, NaN for what was not read or has no previous
 * snapshot.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "procparse.h"

static int failures;

#define CHECK(cond)                                                    \
    do {                                                               \
        if (!(cond)) {                                                 \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,    \
                    __LINE__, #cond);                                  \
            failures++;                                                \
        }                                                              \
    } while (0)

static int near(double a, double b) { return fabs(a - b) <= 1e-6 * (fabs(b) + 1); }

static void feed(proc_snap *s, const char *file, const char *line)
{
    proc_snap_line(s, file, line, strlen(line), 100);
}

static void snapshot(proc_snap *s, double uptime, unsigned long user, unsigned long idle,
                     unsigned long long rx, unsigned long long sda_rd, double psi_io_us,
                     unsigned long self_ticks)
{
    char b[512];
    proc_snap_reset(s);
    snprintf(b, sizeof b, "%.2f 100.00", uptime);
    feed(s, "/proc/uptime", b);
    /* user nice system idle iowait irq softirq steal */
    snprintf(b, sizeof b, "cpu  %lu 0 100 %lu 50 0 50 0 0 0", user, idle);
    feed(s, "/proc/stat", b);
    feed(s, "/proc/meminfo", "MemTotal:       16000000 kB");
    feed(s, "/proc/meminfo", "MemAvailable:   12000000 kB");
    feed(s, "/proc/meminfo", "SwapTotal:       1000000 kB");
    feed(s, "/proc/meminfo", "SwapFree:         900000 kB");
    snprintf(b, sizeof b, "  eth0: %llu 10 0 0 0 0 0 0 5000 10 0 0 0 0 0 0", rx);
    feed(s, "/proc/net/dev", b);
    feed(s, "/proc/net/dev", "    lo: 999999999 10 0 0 0 0 0 0 999999999 10 0 0 0 0 0 0");
    snprintf(b, sizeof b, "   8       0 sda 10 0 %llu 5 20 0 400 7 0 0 0", sda_rd);
    feed(s, "/proc/diskstats", b);
    /* a partition of sda and a loop device: never counted */
    feed(s, "/proc/diskstats", "   8       1 sda1 10 0 777777 5 20 0 777777 7 0 0 0");
    feed(s, "/proc/diskstats", "   7       0 loop0 10 0 888888 5 20 0 888888 7 0 0 0");
    feed(s, "/proc/loadavg", "1.50 1.00 0.50 2/300 4242");
    snprintf(b, sizeof b, "some avg10=0.00 avg60=0.00 avg300=0.00 total=%.0f", psi_io_us);
    feed(s, "/proc/pressure/io", b);
    feed(s, "/proc/pressure/io", "full avg10=0.00 avg60=0.00 avg300=0.00 total=1");
    /* the sampler: utime stime cutime cstime are fields 14..17 */
    snprintf(b, sizeof b, "77 (a w k) S 1 77 77 0 -1 0 0 0 0 0 %lu 0 0 0 20 0", self_ticks);
    feed(s, "self", b);
    feed(s, "tick", "78 (bash) S 1 77 77 0 -1 0 0 0 0 0 1 0 2 0 20 0");
}

int main(void)
{
    proc_snap a, b;
    bc_monitor_sample s;

    snapshot(&a, 1000.00, 1000, 8000, 100000, 2000, 5e6, 10);
    proc_sample(NULL, &a, &s);
    CHECK(s.size == sizeof s);
    CHECK(isnan(s.cpu_user_pct) && isnan(s.net_rx_bps) && isnan(s.sampler_cpu_pct));
    CHECK(near(s.mem_used_bytes, 4000000.0 * 1024));
    CHECK(near(s.mem_available_bytes, 12000000.0 * 1024));
    CHECK(near(s.swap_used_bytes, 100000.0 * 1024));
    CHECK(near(s.load1, 1.5));

    /* 2 s later: 200 ticks of user, 200 of idle (only user and idle move) */
    snapshot(&b, 1002.00, 1200, 8200, 100000 + 2 * 4096, 2000 + 2 * 8, 5e6 + 0.5e6, 12);
    proc_sample(&a, &b, &s);
    CHECK(near(s.cpu_user_pct, 50.0));
    CHECK(near(s.cpu_system_pct, 0.0));
    CHECK(near(s.cpu_iowait_pct, 0.0));
    CHECK(near(s.cpu_steal_pct, 0.0));
    CHECK(near(s.net_rx_bps, 4096.0));       /* lo left out */
    CHECK(near(s.net_tx_bps, 0.0));
    CHECK(near(s.disk_read_bps, 8 * 512.0)); /* sda only: not sda1, not loop0 */
    CHECK(near(s.disk_write_bps, 0.0));
    CHECK(near(s.psi_io_pct, 25.0));         /* 0.5 s stalled of 2 s */
    CHECK(isnan(s.psi_cpu_pct));             /* not read */
    CHECK(near(s.sampler_cpu_pct, 1.0));     /* 2 ticks of 100 Hz over 2 s */

    /* counters that went backwards (a reset) never give negative rates */
    proc_sample(&b, &a, &s);
    CHECK(isnan(s.cpu_user_pct)); /* uptime went back: no interval */

    /* a snapshot without cpu or meminfo lines leaves them NaN */
    proc_snap_reset(&a);
    feed(&a, "/proc/uptime", "5.00 1.00");
    proc_sample(NULL, &a, &s);
    CHECK(isnan(s.mem_used_bytes) && isnan(s.load1));
    CHECK(isnan(s.host_time_s)); /* no "time" line: the core stamps it */

    /* the host's clock when the snapshot was taken (ABI 1.6): the ticker's
     * "time" line, a decimal comma too; garbage is no time */
    feed(&a, "time", "1796669824,154409");
    proc_sample(NULL, &a, &s);
    CHECK(near(s.host_time_s, 1796669824.154409));
    proc_snap_reset(&a);
    feed(&a, "time", "1796669824.%N");
    proc_sample(NULL, &a, &s);
    CHECK(isnan(s.host_time_s));

    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    else
        printf("ok - proc parser\n");
    return failures ? 1 : 0;
}
