/*
 * What the sections of a run's report share (html_run.c, html_outputs.c).
 */
#ifndef BENCHCTL_REPORT_HTML_RUN_H
#define BENCHCTL_REPORT_HTML_RUN_H

#include <cjson/cJSON.h>

#include "report/report.h"
#include "util/util.h"

/* The href of a file of the run (rel: relative to the run directory), as
 * the report links it (owned; NULL for NULL). */
char *rr_link(const report_run_in *in, const char *rel);
/* "name on host [case c]" of a stage record, unescaped (owned). */
char *rr_stage_label(const cJSON *stage);
/* Per case, per output: statistics (sortable), plots, validation
 * problems; plots of no output after them. */
void rr_section_outputs(strbuf *sb, const report_run_in *in);
/* Repeated stages: their statistics, distribution and quality notes;
 * nothing when no stage repeated. */
void rr_section_repeats(strbuf *sb, const cJSON *meta);

/* Sweeps: for a run whose cases have parameters, the cases with every
 * metric's median and metric-vs-parameter charts (html_sweep.c); nothing
 * otherwise. */
void rr_section_sweep(strbuf *sb, const cJSON *results);

/* Host monitoring (html_monitor.c): the monitoring figure, each host's
 * series summarised and each stage's cost to its hosts, from metadata.json
 * "monitor"; nothing when the run was not monitored. */
void rr_section_monitor(strbuf *sb, const report_run_in *in);
/* Whether metadata.json has monitoring data (for the table of contents). */
bool rr_has_monitor(const cJSON *meta);
/* The profiled stages: flame graph links and hottest functions (html_profile.c). */
void rr_section_profiles(strbuf *sb, const report_run_in *in);
/* Has any stage record a profile? */
bool rr_has_profiles(const cJSON *meta);

#endif
