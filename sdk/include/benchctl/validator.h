/*
 * Schema validators (BC_KIND_VALIDATOR): `data_schema.format: NAME`.
 * A validator reads a collected file (streaming, in bounded memory),
 * reports each problem with ctx->svc->data_error and a summary per column
 * with ctx->svc->column_summary.
 */
#ifndef BENCHCTL_VALIDATOR_H
#define BENCHCTL_VALIDATOR_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "services.h"

typedef struct bc_column {
    const char *name;
    const char *type;   /* "timestamp" | "integer" | "float" | "string" */
    const char *format; /* timestamp format, or NULL */
    const char *unit;   /* or NULL */
} bc_column;

typedef struct bc_validate_request {
    uint32_t size;
    const char *path;         /* file in the run directory */
    const bc_column *columns; /* declared columns, in order */
    size_t n_columns;
} bc_validate_request;

typedef struct bc_validator_ops {
    uint32_t size;
    /* Required. BC_OK when valid, BC_ERR when invalid or unreadable. */
    int (*validate)(bc_ctx *ctx, const bc_validate_request *req);
} bc_validator_ops;

#endif /* BENCHCTL_VALIDATOR_H */
