/*
 * The live line of a long stage on a terminal: "NAME on HOST: running
 * 12 s", and for a fanned-out stage "NAME: 8 nodes, 3 done, 5 running
 * (12 s)", redrawn twice a second by one ticker thread (util/term.h's tick
 * line: a repeat's or a health check's own line goes first).  Nothing when
 * stderr is not a terminal.
 */
#ifndef BENCHCTL_LIVE_H
#define BENCHCTL_LIVE_H

#include <stddef.h>

struct run;

/* Start the ticker of r (only on a terminal). */
void live_start(struct run *r);
/* Stop it and remove its line. */
void live_stop(struct run *r);
/* A foreground stage begins on host (nodes > 0: a fan-out of that many
 * nodes; host then NULL) / ends. */
void live_stage_begin(struct run *r, const char *stage, const char *host, const char *case_name,
                      size_t nodes);
void live_stage_end(struct run *r);
/* A fan-out node starts / ends. */
void live_node_started(struct run *r);
void live_node_done(struct run *r);

#endif
