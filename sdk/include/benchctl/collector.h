/*
 * Collectors (BC_KIND_COLLECTOR): `outputs[].collector: NAME` (default
 * `files`).  A collector brings one output's files from the stage's host
 * into the run directory, usually through ctx->svc->host_get_file, and
 * records each file it placed with ctx->svc->record_file.
 */
#ifndef BENCHCTL_COLLECTOR_H
#define BENCHCTL_COLLECTOR_H

#include <stdint.h>

#include "abi.h"
#include "services.h"

typedef struct bc_collect_request {
    uint32_t size;           /* sizeof(bc_collect_request) in the core */
    uint32_t missing_is_error; /* 1: foreground stage, 0: warn only */
    const char *name;        /* the output's name (templated) */
    const char *remote_path; /* path or glob on the host (templated) */
    const char *dest_dir;    /* directory in the run dir to write into */
    const char *dest_base;   /* base file name without extension */
} bc_collect_request;

typedef struct bc_collector_ops {
    uint32_t size;
    /* Required. BC_OK when every file arrived, BC_ERR otherwise. */
    int (*collect)(bc_ctx *ctx, const bc_collect_request *req);
} bc_collector_ops;

#endif /* BENCHCTL_COLLECTOR_H */
