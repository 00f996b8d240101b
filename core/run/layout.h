/*
 * The run directory's layout: the one place that answers "where does X of
 * (case, stage, target) go".  Every path is relative to the run directory
 * and owned by the caller (free it).
 *
 *   logs/[<case>/][cleanup-]<stage>[<tag>].log          stage output
 *   metadata/[<case>/][cleanup-]<stage>[<tag>].json     $BENCHCTL_METADATA_FILE
 *   [cases/<case>/][<rep>/]<output>[<tag>][<ext>]       collected files (a glob:
 *                                                       a directory of them)
 *   samples/[<case>/][<rep>/]<output>[<tag>]/<n>-<column>.f64   every value of
 *                                                       a column
 *   plots/[<case>/][<rep>/]<plot>[<tag>][__<file stem>].<fmt>   drawn plots
 *   profiles/[<case>/]<stage>[<tag>][.rep-<n>].<profiler>.data   a profiled
 *                                                       run's raw profile (`profile:`;
 *                                                       .perf.data for perf)
 *   profiles/[<case>/]<stage>[<tag>].folded, .svg       its folded stacks (all
 *                                                       repetitions) and flame graph
 *   config.yaml, git.patch, stages.jsonl                the run's inputs and journal
 *   (metadata.json and results.json are the store's: store/runstore.h)
 *
 * and on a host, relative to its transport's private directory:
 *   scripts/<stage>-<script file name>                  uploaded scripts
 *
 * <tag> names the target when the names would collide otherwise: "__<host>"
 * for a stage on several hosts, "/node-<k>" for node k of a fanned-out
 * stage (`nodes:`): logs/<stage>/node-<k>.log, <output>/node-<k>.csv,
 * whose collation is the untagged <output>.csv.  <rep> is "rep-<n>" for the files
 * of repetition n of a repeated stage (`repeat:` with outputs); the samples
 * without it pool every repetition.
 */
#ifndef BENCHCTL_RUN_LAYOUT_H
#define BENCHCTL_RUN_LAYOUT_H

#include <stdbool.h>

#include "config/config.h"

#define LAYOUT_CONFIG_COPY "config.yaml" /* the config as given, secrets redacted */
/* One JSON line per opened host: {"host", "private_dir"} (`benchctl gc`). */
#define LAYOUT_PRIVATE_DIRS ".benchctl-private-dirs.jsonl"
#define LAYOUT_GIT_PATCH "git.patch"     /* uncommitted changes (git.save_patch) */
#define LAYOUT_JOURNAL "stages.jsonl"    /* one line per finished stage */
#define LAYOUT_METADATA_DIR "metadata"   /* what stages wrote to $BENCHCTL_METADATA_FILE */

/* Where one run of a stage happens. */
typedef struct target {
    const char *host; /* hosts.<alias>, borrowed */
    int node;         /* -1: the host itself; N >= 0: node N of a fanned-out stage */
    bool tagged;      /* file names carry the target (the stage has several) */
    int rep;          /* 0; n >= 1: the files of repetition n (a directory "rep-<n>") */
} target;

/* The target of stage st on host alias (tagged when st runs on several). */
target layout_target(const cfg_stage *st, const char *host);

/* "/node-<k>" for a node, "__<host>" for a tagged target, "" otherwise
 * (owned). */
char *layout_tag(const target *t);

/* logs/[<case>/][cleanup-]<stage>[<tag>].log */
char *layout_log(const cfg_stage *st, const target *t, const cfg_case *cs);
/* metadata/[<case>/][cleanup-]<stage>[<tag>].json */
char *layout_metadata(const cfg_stage *st, const target *t, const cfg_case *cs);
/* "", "cases/<case>", "rep-<n>" or "cases/<case>/rep-<n>": the directory
 * collected files go to. */
char *layout_output_dir(const cfg_case *cs, const target *t);
/* <output>[<tag>][<ext of remote_path>]; no extension when the remote
 * path is a glob (the base is then a directory of the matched files). */
char *layout_output_base(const char *output, const target *t, const char *remote_path);
/* samples/[<case>/][<rep>/]<output>[<tag>] */
char *layout_samples_dir(const char *output, const target *t, const cfg_case *cs);
/* plots/[<case>/][<rep>/]<plot>[<tag>][__<stem of source>].<format>; the stem
 * only when the output has several files (one plot each). */
char *layout_plot(const cfg_plot *p, const target *t, const char *case_name, const char *source,
                  bool several_files);

/* profiles/[<case>/]<stage>[<tag>][.rep-<n>]<ext> (rep 0: no ".rep-<n>"). */
char *layout_profile(const cfg_stage *st, const target *t, const cfg_case *cs, int rep,
                     const char *ext);

/* scripts/<stage>-<base name of script>: where a script stage's file goes
 * on a host without the controller's filesystem (relative to the
 * transport's private directory). */
char *layout_remote_script(const cfg_stage *st, const char *script_path);

#endif
