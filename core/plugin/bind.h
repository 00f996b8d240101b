/*
 * Binding a config to plugins: every name the YAML uses (host transport,
 * health_check.type, outputs[].collector, data_schema.format,
 * plots[].engine) is resolved through the loader and the YAML under it is
 * validated against that plugin's option schema.  A plugin that ships with
 * benchctl but is missing from this installation is refused as such, with
 * what to install; any other unknown name is refused with the installed
 * alternatives.
 */
#ifndef BENCHCTL_BIND_H
#define BENCHCTL_BIND_H

#include "config/config.h"
#include "config/diag.h"
#include "plugin/loader.h"

/* Returns true when every plugin was found and every option is valid. */
bool bind_plugins(config *c, loader *l, diag *d);
/* The plots[] part of bind_plugins alone (a plots file read over a stored
 * run's config); errors and warnings go to d. */
void bind_plots(config *c, loader *l, diag *d);
/* The benchmark.monitor part of bind_plugins alone: its sampler plugin and
 * the sampler's keys (also after `--monitor` turned monitoring on). */
void bind_monitor(config *c, loader *l, diag *d);

#endif
