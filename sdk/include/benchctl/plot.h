/*
 * Plot emitters (BC_KIND_PLOT): `plots[].engine: NAME` (default
 * `gnuplot`).  Styling keys of `plots[].options` are the plugin's options.
 */
#ifndef BENCHCTL_PLOT_H
#define BENCHCTL_PLOT_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "services.h"
#include "validator.h"

typedef struct bc_plot_request {
    uint32_t size;
    const char *name, *title, *type; /* type: time_series, histogram, ... */
    const char *x, *y, *groupby, *aggregation;
    const char *format;        /* png | svg | pdf */
    const char *output_path;   /* file to write */
    const char *source_path;   /* collected data file */
    const bc_column *columns;  /* the source's declared columns */
    size_t n_columns;
} bc_plot_request;

typedef struct bc_plot_ops {
    uint32_t size;
    /* Required. Draw one plot into req->output_path. */
    int (*render)(bc_ctx *ctx, const bc_plot_request *req);
} bc_plot_ops;

#endif /* BENCHCTL_PLOT_H */
