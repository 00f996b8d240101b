/* Durations and sizes for people (human.h). */
#define _GNU_SOURCE
#include "util/human.h"

#include <math.h>
#include <stdlib.h>

#include "util/util.h"

static char *not_finite(double v)
{
    return xstrdup(isnan(v) ? "-" : v > 0 ? "inf" : "-inf");
}

char *human_duration(double s)
{
    if (!isfinite(s))
        return not_finite(s);
    double a = fabs(s);
    const char *sign = s < 0 ? "-" : "";
    if (a == 0)
        return xstrdup("0 s");
    if (a < 1e-6)
        return xasprintf("%.4g ns", s / 1e-9);
    if (a < 1e-3)
        return xasprintf("%.4g µs", s / 1e-6);
    if (a < 1)
        return xasprintf("%.4g ms", s / 1e-3);
    if (a < 60)
        return xasprintf("%.4g s", s);
    long long whole = llround(a);
    if (whole < 3600)
        return xasprintf("%s%lldm %02llds", sign, whole / 60, whole % 60);
    return xasprintf("%s%lldh %02lldm", sign, whole / 3600, (whole % 3600) / 60);
}

char *human_size(double b)
{
    if (!isfinite(b))
        return not_finite(b);
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    double a = fabs(b);
    if (a < 1024)
        return xasprintf("%.0f B", b);
    size_t u = 0;
    double v = b / 1024;
    while (fabs(v) >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024;
        u++;
    }
    return xasprintf("%.4g %s", v, units[u]);
}
