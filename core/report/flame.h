/*
 * Flame graphs as standalone SVG files, drawn from folded stacks
 * (analysis/folded.h): one rectangle per frame, as wide as its samples,
 * callers below callees.  Readable without a script (labels, and every
 * frame's name, samples and share in its <title> tooltip); with the small
 * inline script a browser zooms into a clicked frame and highlights the
 * frames matching a search.  No network, no external file.
 */
#ifndef BENCHCTL_REPORT_FLAME_H
#define BENCHCTL_REPORT_FLAME_H

#include <stdbool.h>

#include "analysis/folded.h"
#include "util/util.h"

/* Draw f into sb.  title: the heading (plain text).  diff: a differential
 * graph: f's nodes carry the baseline's share in `base`
 * (folded_mark_base); frames that grew are red, shrunk blue, by the
 * change in their share of samples. */
void flame_svg(strbuf *sb, const folded *f, const char *title, bool diff);
/* flame_svg into the file path (written whole, then renamed); false with
 * *err (owned) when it cannot be written. */
bool flame_write(const char *path, const folded *f, const char *title, bool diff, char **err);

#endif
