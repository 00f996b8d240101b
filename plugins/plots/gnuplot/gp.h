/*
 * Internal interfaces of the gnuplot plot plugin (plot-gnuplot.so).
 *
 *   gnuplot.c   descriptor, option schema, request and columns, drawing, render()
 *   gp_passes.c the two passes over the data file, building the series
 *   gp_csv.c    streaming CSV reader (libcsv) and value parsing
 *   gp_data.c   bounded collections: groups, reservoirs, decimation, quantiles
 *   gp_proc.c   the gnuplot child process: pipes, stderr capture, cancellation
 *   gp_script.c terminal, style, axes, ticks, legend; one emitter per plot type
 *   gp_across.c `across: cases`: one series per case, and a metric against a
 *               matrix parameter
 *
 * Everything here is hidden (the plugin is built with -fvisibility=hidden).
 */
#ifndef BC_GP_H
#define BC_GP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <benchctl/plugin.h>

/* ---- limits (documented in README.md) ---------------------------------- */
#define GP_MAX_GROUPS 20          /* series per plot; the rest become "other" */
#define GP_TRACK_KEYS 1024        /* distinct keys counted exactly in pass 1 */
#define GP_DIST_BUDGET 2000000    /* values kept for histogram/cdf/boxplot */
#define GP_AGG_BUDGET 4000000     /* values kept for quantile aggregation */
#define GP_AGG_DEFAULT_BUCKETS 100
#define GP_AGG_MAX_BUCKETS 2000
#define GP_CDF_POINTS 2000        /* points drawn per CDF curve */
#define GP_MAX_OUTLIERS 1000      /* outlier marks drawn per box */

/* ---- values ------------------------------------------------------------- */

/* How a column's text becomes a number. */
typedef enum gp_vmode {
    VM_NUMBER,    /* integer or float */
    VM_EPOCH,     /* a number times `scale` = seconds since the epoch */
    VM_TEXT_TIME, /* rfc3339 / iso8601 text */
    VM_AUTO_TIME, /* a timestamp of undeclared format: detected per value */
    VM_AUTO,      /* no schema: a number, or else rfc3339/iso8601 text */
    VM_STRING     /* a category (groupby, boxplot x) */
} gp_vmode;

typedef struct gp_col {
    int index;            /* position in the CSV header, -1 when unused */
    const char *name;     /* borrowed from the request */
    const char *unit;     /* declared unit or NULL */
    gp_vmode mode;
    double scale;         /* VM_EPOCH */
    bool is_time;         /* values are seconds since the epoch */
    bool declared;        /* found in the request's columns */
    bool is_int;          /* declared as integer: integer ticks */
    /* VM_AUTO bookkeeping (pass 1) */
    uint64_t n_number, n_time;
} gp_col;

/* Parse a number: [+-]digits[.digits][e..]; finite only; no spaces. */
bool gp_parse_number(const char *s, double *out);
/* Parse rfc3339/iso8601 text into seconds since the epoch (UTC when no
 * zone is given). */
bool gp_parse_time(const char *s, double *out);
/* Parse one value of a column (not VM_STRING). */
bool gp_parse_value(gp_col *c, const char *s, double *out);

/* ---- CSV ---------------------------------------------------------------- */

typedef struct gp_csv gp_csv;

/* Called per data row with the text of up to 3 requested columns (NULL
 * when the row is too short).  Return non-zero to stop the scan. */
typedef int (*gp_row_fn)(void *ud, const char *const *f, uint64_t row);

/* Open `path` and read its header.  On failure returns NULL with a message
 * in err. */
gp_csv *gp_csv_open(const char *path, char *err, size_t errsize);
size_t gp_csv_ncols(const gp_csv *c);
const char *gp_csv_colname(const gp_csv *c, size_t i);
/* Stream every data row, handing the fields at `idx[0..n)` (index -1:
 * always NULL) to fn.  Checks ctx cancellation every 64k rows.  Returns
 * BC_OK, BC_CANCELLED or BC_ERR (message in err). */
int gp_csv_scan(gp_csv *c, bc_ctx *ctx, const int *idx, int n, gp_row_fn fn, void *ud,
                char *err, size_t errsize);
void gp_csv_close(gp_csv *c);

/* ---- keys (groups, categories) ----------------------------------------- */

typedef struct gp_keys {
    char **names;        /* tracked keys, in order of appearance */
    uint64_t *counts;
    size_t n, cap;
    uint64_t untracked;  /* rows whose key came after GP_TRACK_KEYS others */
    size_t *hash;        /* open addressing: index+1, 0 empty */
    size_t hcap;
    /* after gp_keys_finish: the shown keys and the map tracked -> shown */
    size_t nshown;       /* including "other" when present */
    bool has_other;
    size_t *order;       /* shown slot -> tracked index (other: SIZE_MAX) */
    size_t *slot;        /* tracked index -> shown slot */
    uint64_t *shown_counts;
} gp_keys;

/* Count one occurrence; returns the tracked index or SIZE_MAX. */
size_t gp_keys_add(gp_keys *k, const char *s);
/* Tracked index of s, or SIZE_MAX. */
size_t gp_keys_find(const gp_keys *k, const char *s);
/* Keep the `max` most frequent keys (sorted naturally: numbers by value),
 * the rest in one "other" slot. */
void gp_keys_finish(gp_keys *k, size_t max);
/* Shown slot of a key seen in pass 1 (SIZE_MAX for a new key: other or
 * dropped). */
size_t gp_keys_slot(const gp_keys *k, const char *s);
const char *gp_keys_label(const gp_keys *k, size_t slot);
void gp_keys_free(gp_keys *k);

/* ---- random numbers and sampling ---------------------------------------- */

typedef struct gp_rng {
    uint64_t s;
} gp_rng;
uint64_t gp_rng_next(gp_rng *r);
/* Uniform in [0, n). */
uint64_t gp_rng_below(gp_rng *r, uint64_t n);

/* A uniform sample of at most `cap` doubles (Algorithm R); exact while
 * fewer than cap values were offered. */
typedef struct gp_reservoir {
    double *v;
    size_t n, cap;
    uint64_t seen;
} gp_reservoir;
void gp_res_init(gp_reservoir *r, size_t cap);
void gp_res_add(gp_reservoir *r, gp_rng *rng, double x);
void gp_res_free(gp_reservoir *r);

/* The smallest "nice" step >= want: 1-2-5 x 10^k, or for times (seconds)
 * 1/2/5/10/15/30 s, 1/2/5/10/15/30 min, 1/2/3/6/12 h, days, weeks. */
double gp_nice_step(double want, bool time);
/* "1 s", "500 ms", "5 min", "0.5" ... */
void gp_format_step(double step, bool time, char *out, size_t n);

/* Quantile (0..1) of sorted values, linear interpolation (numpy default). */
double gp_quantile(const double *sorted, size_t n, double q);
void gp_sort_doubles(double *v, size_t n);

/* Points (x,y). */
typedef struct gp_pt {
    double x, y;
} gp_pt;
typedef struct gp_pts {
    gp_pt *p;
    size_t n, cap;
} gp_pts;
void gp_pts_push(gp_pts *v, double x, double y);
void gp_pts_sort_x(gp_pts *v);
void gp_pts_free(gp_pts *v);

/* Min/max decimation over `ncols` equal x columns of [x0, x1]: keeps, per
 * column, the point with the smallest and the one with the largest y.
 * A line through them (in x order) covers the same pixels as a line
 * through every point when the columns are no wider than a pixel. */
typedef struct gp_decim {
    double x0, x1;
    size_t ncols;
    double *xmin, *ymin, *xmax, *ymax; /* per column; ymin > ymax: empty */
} gp_decim;
void gp_decim_init(gp_decim *d, double x0, double x1, size_t ncols);
void gp_decim_add(gp_decim *d, double x, double y);
/* Append the kept points, in x order, to out. */
void gp_decim_emit(const gp_decim *d, gp_pts *out);
void gp_decim_free(gp_decim *d);

/* ---- the gnuplot process ------------------------------------------------ */

typedef struct gp_proc {
    bc_ctx *ctx;
    pid_t pid;
    int in_fd, err_fd, cancel_fd;
    char *buf;
    size_t len;
    char err[4096];
    size_t errlen;
    FILE *tee;      /* keep_script: a copy of everything written, or NULL */
    bool broken;    /* gnuplot stopped reading (died) */
    bool cancelled; /* the run is being stopped */
} gp_proc;

/* Start gnuplot (`path`: option gnuplot_path, or NULL for PATH).  BC_OK, or
 * BC_ERR with the error set. */
int gp_start(gp_proc *p, bc_ctx *ctx, const char *path);
void gp_printf(gp_proc *p, const char *fmt, ...) BC_PRINTF(2, 3);
void gp_write(gp_proc *p, const char *s, size_t n);
/* Write s as a gnuplot single-quoted string (quotes doubled, control
 * characters replaced by spaces). */
void gp_quote(gp_proc *p, const char *s);
/* Close gnuplot's input and wait for it.  Returns BC_OK when it exited 0,
 * BC_CANCELLED, or BC_ERR with the error set (including its stderr). */
int gp_finish(gp_proc *p, const char *what);
/* Kill and reap gnuplot (error paths). */
void gp_abort(gp_proc *p);

/* ---- rendering ---------------------------------------------------------- */

/* Options after reading the plugin's option view. */
typedef struct gp_opts {
    int64_t dpi, width_px, height_px;
    double x_label_angle;
    const char *x_timestamp_format; /* auto|full|medium|short */
    int64_t bins;
    bool legend, legend_set;
    const char *legend_loc;
    int64_t max_points;
    const char *sampling; /* stride|uniform|random|minmax */
    int64_t random_state;
    int64_t max_rows;
    const char *style;
    const char *hist_element; /* NULL: bars, or step when grouped */
    bool hist_common_norm;
    bool keep_script;
} gp_opts;

/* The request's ABI 1.3 members (zero / NULL from an older core). */
typedef struct gp_ext {
    uint32_t flags;             /* BC_PLOT_* */
    double xlim[2], ylim[2];
    const char *xlabel, *ylabel;
    bool elapsed;               /* x_axis: elapsed */
    const bc_plot_series *series;
    size_t n_series;            /* > 0: across: cases */
} gp_ext;

/* A series to draw. */
typedef struct gp_series {
    char *title;  /* legend entry (owned) */
    gp_pts pts;
    /* boxplot */
    double pos, width, q1, med, q3, wlo, whi;
    gp_pts outliers;
    size_t color;
} gp_series;

/* Everything the emitters need, collected by gnuplot.c. */
typedef struct gp_plot {
    const bc_plot_request *req;
    const gp_opts *o;
    const char *type;
    gp_col *x, *y;          /* y may be NULL (histogram, cdf) */
    const char *group_name; /* groupby column or NULL */
    gp_series *series;
    size_t nseries;
    /* boxplot categories */
    const gp_keys *cats;
    /* ranges of what is drawn */
    double xlo, xhi, ylo, yhi;
    char xlabel[512], ylabel[512];
    const char *agg_note; /* e.g. "per 1 s" */
    double bin_width;     /* histogram */
    bool hist_grouped;
    const gp_ext *ext;    /* log axes, limits (labels are already in xlabel/ylabel) */
    bool elapsed;         /* x is seconds since the first sample */
    bool y_int;           /* y values are whole numbers: integer ticks */
    bool marks;           /* lines with a mark at every point */
    const double *xticks; /* ticks at exactly these x values (a parameter's) */
    size_t nxticks;
    const char *const *cat_labels; /* boxplot without cats: a label per box */
    size_t ncat_labels;
    const char *const *xcat_labels; /* lines over categorical x (1..n) */
    size_t nxcat_labels;
} gp_plot;

/* Writes a script (and its data) to gnuplot for an output file whose
 * temporary name is tmp_path. */
typedef void (*gp_emit_fn)(gp_proc *p, void *ud, const char *tmp_path);
/* Start gnuplot, let emit write the script, wait for it, and rename the
 * temporary output into output_path (nothing is left on failure; with
 * keep_script the script is also written beside it as .gp).  BC_OK,
 * BC_CANCELLED or BC_ERR (error set; messages name the plot `name`). */
int gp_run(bc_ctx *ctx, const char *name, const char *output_path, bool keep_script,
           gp_emit_fn emit, void *ud);
/* The plugin's options into o, with fallbacks where a core did not check. */
void gp_read_opts(bc_ctx *ctx, gp_opts *o);
/* type: timeline (ABI 1.5): one panel per request panel, one line per
 * series (host), spans shaded and labelled (gp_timeline.c). */
int gp_render_timeline(bc_ctx *ctx, const bc_plot_request *req);

/* Write the whole script (settings, datablocks, plot command) to gnuplot. */
void gp_emit(gp_proc *p, const gp_plot *pl, const char *tmp_path);

/* Axis label of a column: "name [unit]", or "name (UTC)" for times. */
void gp_axis_label(const gp_col *c, char *out, size_t n);

/* ---- the render job (gnuplot.c, gp_passes.c) ----------------------------- */

/* Plot types: indexes into gnuplot.c's type names. */
#define T_TS 0
#define T_HIST 1
#define T_BOX 2
#define T_CDF 3
#define T_SCATTER 4

/* Pass 1 state (the row callback's user data). */
typedef struct pass1 {
    gp_col *v[2];        /* the numeric columns (x or value, y), NULL when unused */
    bool cat;            /* f[0] is a category (boxplot x) */
    bool group;          /* f[2] is a group */
    gp_keys cats, groups;
    uint64_t valid, bad;
    uint64_t bad_row;
    const char *bad_col;
    char bad_value[48];
    double lo[2], hi[2];
    double prev_x, min_gap;
    bool sorted;
} pass1;

/* Pass 2: how a series keeps its points without overflowing memory. */
enum { DENSE_NONE, DENSE_DECIM, DENSE_DEDUPE };

/* Pass 2 state of one series (category x group). */
typedef struct ser {
    uint64_t n;          /* valid rows of this series (pass 1) */
    uint64_t seen;       /* rows offered in pass 2 */
    gp_pts raw;          /* kept points */
    int dense;           /* how raw overflow is avoided */
    gp_decim dec;        /* DENSE_DECIM */
    uint8_t *bits;       /* DENSE_DEDUPE: occupied cells */
    size_t res_cap;      /* random point sampling: reservoir size (0: off) */
    gp_reservoir vals;   /* distributions */
    /* aggregation: per bucket */
    double *sum;
    uint64_t *cnt;
    gp_reservoir *bres;
} ser;

/* Pass 2 state (the row callback's user data). */
typedef struct pass2 {
    int type;
    gp_col *v[2];
    bool cat, group;
    const gp_keys *cats, *groups;
    size_t ngroups;      /* shown groups, or 1 */
    ser *s;
    size_t nser;
    uint64_t stride;
    gp_rng rng;
    /* dedupe grid */
    size_t gw, gh;
    double x0, x1, y0, y1;
    /* aggregation */
    bool agg;
    const char *agg_name;
    double bw, b0;       /* bucket width and index of the first bucket */
    size_t nb;
    size_t bcap;
} pass2;

/* One render() call: the request, its columns, the passes and the series. */
typedef struct job {
    bc_ctx *ctx;
    const bc_plot_request *req;
    const gp_ext *ext;
    const char *name;
    gp_opts o;
    int type;
    gp_col c0, c1;          /* numeric columns of field slots 0 and 1 */
    gp_col *v0, *v1;        /* &c0 / &c1, or NULL when the slot is unused */
    int idx[3];             /* CSV columns of slots 0 (x/value/category), 1 (y), 2 (group) */
    const char *cat_name;   /* boxplot: the category column */
    const char *group_name; /* the column that splits series */
    gp_csv *csv;
    pass1 p1;
    pass2 p2;
    gp_series *series;
    size_t nseries;
    char agg_note[64];
    char err[1024];
} job;

/* Pass 1 over the data file: rows per group/category, ranges, the type of
 * undeclared columns.  BC_OK, BC_CANCELLED or BC_ERR (error set). */
int gp_run_pass1(job *j);
/* Pass 2: sets up j->p2 from pass 1 and keeps what will be drawn.  BC_OK,
 * BC_CANCELLED or BC_ERR (error set); j->p2 is freed by gp_free_ser. */
int gp_run_pass2(job *j);
/* Build j->series from pass 2, then zero *pl and set its ranges (and the
 * histogram bins).  BC_OK or BC_ERR (error set); the caller frees j->series. */
int gp_build(job *j, gp_plot *pl);
/* Free what pass 2 allocated (safe on a zeroed or partly set up pass2). */
void gp_free_ser(pass2 *s);

/* gnuplot.c: one file's job up to its series (prepare, both passes, build;
 * pl receives the ranges), its labels, and freeing it. */
int gp_job_series(job *j, gp_plot *pl);
void gp_set_labels(job *j, gp_plot *pl);
void gp_job_free(job *j);
/* Shift x of every series and pl's x range to seconds since x0. */
void gp_to_elapsed(gp_series *s, size_t n, gp_plot *pl, double x0);
/* Run gnuplot on pl and rename its output into place (gnuplot.c). */
int gp_draw(job *j, gp_plot *pl);
/* across: cases (gp_across.c): one series per case, or with BC_PLOT_X_PARAM
 * a point per case at its parameter value. */
int gp_render_across(bc_ctx *ctx, const bc_plot_request *req, const gp_ext *ext);
#endif /* BC_GP_H */
