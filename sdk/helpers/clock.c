/* The monotonic clock of <benchctl/helpers.h>. */
#define _POSIX_C_SOURCE 200809L
#include <time.h>

#include <benchctl/helpers.h>

int64_t bc_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t bc_mono_ms(void) { return bc_mono_ns() / 1000000; }
