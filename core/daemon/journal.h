/*
 * The queue's journal: STATE_DIR/journal.jsonl, one JSON object a line,
 * appended (and fdatasync'ed) before the daemon answers or acts:
 *
 *   {"j":"next","id":N}             the next task ID (first line after compaction)
 *   {"j":"task","task":{...}}       a task as submitted (or as kept by compaction)
 *   {"j":"start","id":N,"t":MS,"pid":P,"cpu_list":"0-1"}
 *   {"j":"run","id":N,"run_id":"7","run_dir":"/abs/runs/7"}
 *   {"j":"end","id":N,"t":MS,"state":"failed","exit_code":1,"reason":"...",
 *                                    "termination":"memory"}   (termination: only when a limit
 *                                    stopped a stage)
 *
 * Opening replays it; a line that does not parse (the torn last line of a
 * daemon killed while writing) is skipped with a warning.  Compaction
 * rewrites it (temporary file, fsync, rename) with the pending tasks and
 * the most recent finished ones.
 */
#ifndef BENCHCTL_DAEMON_JOURNAL_H
#define BENCHCTL_DAEMON_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "daemon/task.h"

typedef struct journal {
    int fd;        /* open for appending; -1 when closed */
    char *path;
    size_t lines;  /* appended since the last compaction */
} journal;

/* Replay dir/journal.jsonl (missing: an empty queue) into tasks (empty on
 * entry) and *next_id, then open it for appending.  Warnings (skipped
 * lines) go to warn(msg).  false with *err (owned) when it cannot be read
 * or opened. */
bool journal_open(journal *j, const char *dir, tasklist *tasks, int64_t *next_id,
                  void (*warn)(const char *msg), char **err);
/* Append one record (a line) and fdatasync.  Takes ownership of rec.
 * false with errno on a failed write. */
bool journal_append(journal *j, cJSON *rec);
/* Rewrite the journal as next_id and the tasks' current state.  false with
 * errno (the old journal is then kept and still appended to). */
bool journal_compact(journal *j, const tasklist *tasks, int64_t next_id);
/* Close (NULL-safe fields). */
void journal_close(journal *j);

#endif
