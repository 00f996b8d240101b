/*
 * The one formatter of durations and sizes for people: every command
 * (run's summary, stats, compare, list, inspect, exec) prints a time or a
 * size through these, so "117 ms", "2m 05s" and "3.2 MiB" read the same
 * everywhere.
 */
#ifndef BENCHCTL_HUMAN_H
#define BENCHCTL_HUMAN_H

/* A duration in seconds, owned: 4 significant digits in ns, µs, ms or s
 * below a minute ("117.2 ms", "8.214 s"), then "2m 05s", then "1h 02m";
 * NAN (an undefined statistic) gives "-". */
char *human_duration(double seconds);
/* A size in bytes, owned: "512 B", then 4 significant digits in KiB, MiB,
 * GiB or TiB ("3.204 MiB"); NAN gives "-". */
char *human_size(double bytes);

#endif
