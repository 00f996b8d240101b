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

/* One series of an overlay (`across: cases`): a case's label and data
 * file.  Since ABI 1.3; this struct never grows (a later minor would add
 * a parallel array to the request instead). */
typedef struct bc_plot_series {
    const char *label;       /* the case's name: the legend entry */
    const char *source_path; /* that case's collected data file */
    const char *x_value;     /* BC_PLOT_X_PARAM: the case's value of the matrix
                              * parameter named by x; NULL otherwise */
} bc_plot_series;

/* A panel of a `timeline` plot (since ABI 1.5; never grows): its y axis
 * label and the column it draws, or several joined by '+' (summed). */
typedef struct bc_plot_panel {
    const char *label;
    const char *columns;
} bc_plot_panel;

/* A span shaded on a `timeline` plot (since ABI 1.5; never grows): a
 * stage's start and end, seconds since the epoch. */
typedef struct bc_plot_span {
    const char *label;
    double start, end;
} bc_plot_span;

/* bc_plot_request.flags (since ABI 1.3). */
#define BC_PLOT_LOG_X 0x1u   /* log_x: logarithmic x axis */
#define BC_PLOT_LOG_Y 0x2u   /* log_y: logarithmic y axis */
#define BC_PLOT_XLO 0x4u     /* xlim[0] is set (else automatic) */
#define BC_PLOT_XHI 0x8u     /* xlim[1] is set */
#define BC_PLOT_YLO 0x10u    /* ylim[0] is set */
#define BC_PLOT_YHI 0x20u    /* ylim[1] is set */
#define BC_PLOT_X_PARAM 0x40u /* x names a matrix parameter, not a column: each
                               * series carries its x_value; draw the
                               * aggregation of y per series against it */

/* True when the request (built by a core of any minor) has `member`:
 * a plugin reads the 1.3 members only behind this test. */
#define BC_PLOT_REQ_HAS(req, member) \
    ((req)->size >= offsetof(bc_plot_request, member) + sizeof((req)->member))

typedef struct bc_plot_request {
    uint32_t size;
    const char *name, *title, *type; /* type: time_series, histogram, ... */
    const char *x, *y, *groupby, *aggregation;
    const char *format;        /* png | svg | pdf */
    const char *output_path;   /* file to write */
    const char *source_path;   /* collected data file */
    const bc_column *columns;  /* the source's declared columns */
    size_t n_columns;
    /* ---- since ABI 1.3 (the core fills every member; test req->size,
     * BC_PLOT_REQ_HAS, before reading them) ---- */
    uint32_t flags;            /* BC_PLOT_* */
    double xlim[2], ylim[2];   /* axis limits, where flags say they are set */
    const char *xlabel, *ylabel; /* axis labels, NULL: the plugin's own */
    const char *x_axis;        /* time x: "elapsed" (seconds since the first
                                * sample) or "clock" (NULL: clock) */
    const char *across;        /* "cases", or NULL */
    const bc_plot_series *series; /* across: one per case (n_series >= 1);
                                   * source_path is then series[0]'s */
    size_t n_series;
    /* ---- since ABI 1.5 (BC_PLOT_REQ_HAS(req, n_spans)) ---- */
    /* type "timeline" (host monitoring): one panel each, stacked, sharing
     * the x axis; series (across "hosts") are the lines of every panel,
     * x their `timestamp` column (seconds since the epoch); spans shaded. */
    const bc_plot_panel *panels;
    size_t n_panels;
    const bc_plot_span *spans;
    size_t n_spans;
} bc_plot_request;

typedef struct bc_plot_ops {
    uint32_t size;
    /* Required. Draw one plot into req->output_path. */
    int (*render)(bc_ctx *ctx, const bc_plot_request *req);
} bc_plot_ops;

#endif /* BENCHCTL_PLOT_H */
