/*
 * The one option mechanism (core/config/keys.c): a key declared in a core
 * cfg_key table and the same key declared in a plugin's bc_option schema
 * give the same message for the same mistake, at the same FILE:LINE:COL;
 * a plugin's keys reach the optview getters typed and with their defaults;
 * secret options are registered for redaction.
 */
#define _GNU_SOURCE /* open_memstream */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/keys.h"
#include "config/optschema.h"

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* Everything diag collected, one "FILE:LINE:COL: message" a line (owned). */
static char *messages(const diag *d)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    diag_print(d, f);
    fclose(f);
    return buf;
}

typedef struct doc {
    ytree *tree;
    const ynode *root;
    diag d;
} doc;

static void doc_open(doc *x, const char *yaml)
{
    memset(x, 0, sizeof *x);
    x->d.file = "t.yaml";
    x->tree = ytree_parse(yaml, strlen(yaml), &x->d);
    x->root = ytree_root(x->tree);
}

static void doc_close(doc *x)
{
    ytree_free(x->tree);
    diag_free(&x->d);
}

/* The same keys, once as the core declares them and once as a plugin. */
typedef struct fields {
    int64_t count;
    int64_t wait_ms;
    double ratio;
    const char *mode;
    bool fast;
    const char *name;
} fields;

static const char *const modes[] = {"a", "b", "c", NULL};

static const cfg_key core_table[] = {
    {.name = "count", .type = KEY_COUNT, .offset = KEY_AT(fields, count), .dflt = 2, .lo = 1,
     .hi = 10},
    {.name = "wait", .type = KEY_DURATION, .offset = KEY_AT(fields, wait_ms), .dflt = 1000,
     .flags = KEY_RANGE, .lo = 100, .hi = 60000},
    {.name = "ratio", .type = KEY_FLOAT, .offset = KEY_AT(fields, ratio), .fdflt = 0.5,
     .flags = KEY_RANGE, .flo = 0, .fhi = 1},
    {.name = "mode", .type = KEY_ENUM, .offset = KEY_AT(fields, mode), .choices = modes,
     .dflt_str = "a"},
    {.name = "fast", .type = KEY_BOOL, .offset = KEY_AT(fields, fast)},
    {.name = "name", .type = KEY_STR, .offset = KEY_AT(fields, name), .flags = KEY_REQUIRED},
    {.name = NULL}};

static const bc_option plugin_schema[] = {
    {.name = "count", .type = BC_OPT_INT, .default_value = "2", .min = 1, .max = 10},
    {.name = "wait", .type = BC_OPT_DURATION, .default_value = "1s", .min = 100, .max = 60000},
    {.name = "ratio", .type = BC_OPT_FLOAT, .default_value = "0.5", .min = 0, .max = 1},
    {.name = "mode", .type = BC_OPT_ENUM, .default_value = "a", .choices = "a|b|c"},
    {.name = "fast", .type = BC_OPT_BOOL, .min = 1, .max = 0},
    {.name = "name", .type = BC_OPT_STRING, .flags = BC_OPT_REQUIRED, .min = 1, .max = 0},
    {.name = NULL}};

/* The messages of yaml checked against the core table and bound. */
static char *core_messages(const char *yaml, fields *out)
{
    doc x;
    doc_open(&x, yaml);
    keys_check(&x.d, x.root, core_table, "sec");
    keys_bind(&x.d, x.root, core_table, out, "sec");
    char *m = messages(&x.d);
    doc_close(&x);
    return m;
}

/* The messages of yaml validated against the plugin's schema. */
static char *plugin_messages(const char *yaml, const char *owner)
{
    doc x;
    config c;
    memset(&c, 0, sizeof c);
    doc_open(&x, yaml);
    opts_validate(&c, &x.d, plugin_schema, x.root, NULL, "sec", owner);
    char *m = messages(&x.d);
    free(c.secrets);
    doc_close(&x);
    return m;
}

/* One yaml, both tables, no owner: the very same text. */
static void same(const char *yaml, const char *expect)
{
    fields f;
    char *core = core_messages(yaml, &f), *plugin = plugin_messages(yaml, NULL);
    CHECK(strcmp(core, plugin) == 0, "core and plugin differ for:\n%s--- core\n%s--- plugin\n%s",
          yaml, core, plugin);
    CHECK(strstr(core, expect) != NULL, "expected: %s\n--- got\n%s", expect, core);
    free(core);
    free(plugin);
}

static void test_same_messages(void)
{
    same("name: x\ncount: 11\n",
         "t.yaml:2:8: sec: 'count' must be a whole number from 1 to 10, not '11'\n");
    same("name: x\ncount: many\n",
         "t.yaml:2:8: sec: 'count' must be a whole number from 1 to 10, not 'many'\n");
    same("name: x\nwait: 2m\n", "t.yaml:2:7: sec: 'wait' must be a duration from 100ms to 1m, "
                                "not '2m'\n");
    same("name: x\nwait: soon\n", "t.yaml:2:7: sec: 'wait' must be a duration from 100ms to 1m, "
                                  "not 'soon'\n");
    same("name: x\nratio: 1.5\n", "t.yaml:2:8: sec: 'ratio' must be a number from 0 to 1, not "
                                  "'1.5'\n");
    same("name: x\nmode: d\n", "t.yaml:2:7: sec: 'mode' must be one of a, b, c, not 'd'\n");
    same("name: x\nfast: maybe\n",
         "t.yaml:2:7: sec: 'fast' must be true or false, not 'maybe'\n");
    same("name: [1]\n", "t.yaml:1:7: sec: 'name' must be a value, not a list\n");
    same("count: 3\n", "t.yaml:1:1: sec: missing required key 'name'\n");
    same("name: x\ncolour: red\n", "t.yaml:2:1: unknown key 'colour' in sec; valid keys: count, "
                                   "wait, ratio, mode, fast, name\n");
    same("name: x\ncuont: 3\n", "t.yaml:2:1: unknown key 'cuont' in sec; valid keys: count, "
                                "wait, ratio, mode, fast, name; did you mean 'count'?\n");
    /* Several errors, in file order, from either table. */
    same("count: 0\nmode: z\nratio: x\n", "t.yaml:1:1: sec: missing required key 'name'\n"
                                          "t.yaml:1:8: sec: 'count' must be a whole number from "
                                          "1 to 10, not '0'\n");
}

static void test_owner_named(void)
{
    char *m = plugin_messages("count: 3\ncolour: red\n", "probe 'fake'");
    CHECK(strstr(m, "t.yaml:1:1: sec: missing required key 'name' (probe 'fake')\n") != NULL,
          "required with owner:\n%s", m);
    CHECK(strstr(m, "t.yaml:2:1: unknown key 'colour' in sec (probe 'fake'); valid keys: count, "
                    "wait, ratio, mode, fast, name\n") != NULL,
          "unknown with owner:\n%s", m);
    free(m);
}

/* Core and plugin rows of one section: one list of valid keys, the core's
 * first; a key both declare is the core's (its parser bound it). */
static void test_merged_section(void)
{
    static const cfg_key core[] = {{.name = "type"}, {.name = "count"}, {.name = NULL}};
    doc x;
    config c;
    memset(&c, 0, sizeof c);
    doc_open(&x, "type: t\ncount: 99\nneedle: [a, {b: 1}]\nzap: 1\n");
    bool ok = opts_validate(&c, &x.d, plugin_schema, x.root, core, "health_check", "probe 'p'");
    char *m = messages(&x.d);
    CHECK(!ok, "invalid section accepted");
    CHECK(strstr(m, "count' must") == NULL, "the core's count checked by the plugin row:\n%s", m);
    CHECK(strstr(m, "t.yaml:3:1: unknown key 'needle' in health_check (probe 'p'); valid keys: "
                    "type, count, wait, ratio, mode, fast, name\n") != NULL,
          "merged list:\n%s", m);
    free(m);
    free(c.secrets);
    doc_close(&x);
}

static void test_core_binds_defaults(void)
{
    fields f;
    doc x;
    doc_open(&x, "name: n\nratio: 0.25\n");
    keys_check(&x.d, x.root, core_table, "sec");
    bool ok = keys_bind(&x.d, x.root, core_table, &f, "sec");
    CHECK(ok && x.d.n == 0, "valid keys refused");
    CHECK(f.count == 2 && f.wait_ms == 1000 && fabs(f.ratio - 0.25) < 1e-12 &&
              strcmp(f.mode, "a") == 0 && !f.fast && strcmp(f.name, "n") == 0,
          "core binding: count %lld wait %lld ratio %g", (long long)f.count,
          (long long)f.wait_ms, f.ratio);
    doc_close(&x);
}

static const bc_option view_schema[] = {
    {.name = "port", .type = BC_OPT_INT, .default_value = "22", .min = 1, .max = 65535},
    {.name = "timeout", .type = BC_OPT_DURATION, .default_value = "1m30s", .min = 1, .max = 0},
    {.name = "ratio", .type = BC_OPT_FLOAT, .default_value = "0.5", .min = 1, .max = 0},
    {.name = "verbose", .type = BC_OPT_BOOL, .default_value = "yes", .min = 1, .max = 0},
    {.name = "mode", .type = BC_OPT_ENUM, .default_value = "fast", .choices = "fast|slow"},
    {.name = "paths", .type = BC_OPT_STRING_LIST, .min = 1, .max = 0},
    {.name = "tags", .type = BC_OPT_STRING_LIST, .default_value = "one", .min = 1, .max = 0},
    {.name = "password", .type = BC_OPT_STRING, .flags = BC_OPT_SECRET, .min = 1, .max = 0},
    {.name = NULL}};

static void test_view(void)
{
    static const char yaml[] = "port: 2222\nratio: 0.75\nverbose: off\npaths: [/a, /b]\n"
                               "password: hunter2\n";
    doc x;
    config c;
    memset(&c, 0, sizeof c);
    doc_open(&x, yaml);
    bool ok = opts_validate(&c, &x.d, view_schema, x.root, NULL, "hosts.h", "transport 't'");
    CHECK(ok && x.d.errors == 0, "valid options refused");
    CHECK(c.nsecrets == 1 && strncmp(yaml + c.secrets[0].start, "hunter2", 7) == 0,
          "the secret is registered");

    optview v = {view_schema, x.root, NULL, 0};
    CHECK(opts_int(&v, "port") == 2222, "port %lld", (long long)opts_int(&v, "port"));
    CHECK(opts_duration_ms(&v, "timeout") == 90000, "default timeout");
    CHECK(!opts_is_set(&v, "timeout") && opts_is_set(&v, "port"), "is_set");
    CHECK(fabs(opts_float(&v, "ratio") - 0.75) < 1e-12, "ratio");
    CHECK(opts_bool(&v, "verbose") == 0, "verbose off");
    CHECK(strcmp(opts_string(&v, "mode"), "fast") == 0, "default mode");
    const char *const *items = NULL;
    CHECK(opts_list(&v, "paths", &items) == 2 && strcmp(items[1], "/b") == 0, "paths");
    CHECK(opts_list(&v, "tags", &items) == 1 && strcmp(items[0], "one") == 0, "default tags");
    opts_free(&v);

    optview unset = {view_schema, NULL, NULL, 0};
    CHECK(opts_int(&unset, "port") == 22 && opts_bool(&unset, "verbose") == 1 &&
              fabs(opts_float(&unset, "ratio") - 0.5) < 1e-12,
          "defaults without a mapping");
    opts_free(&unset);
    free(c.secrets);
    doc_close(&x);
}

/* The translated rows: types, ranges, typed defaults, flags, owner. */
static void test_translation(void)
{
    cfg_key *k = opts_keys(view_schema, NULL, "transport 't'");
    CHECK(k[0].type == KEY_COUNT && k[0].lo == 1 && k[0].hi == 65535 && k[0].dflt == 22, "port");
    CHECK(k[1].type == KEY_DURATION && k[1].dflt == 90000 && !(k[1].flags & KEY_RANGE),
          "timeout");
    CHECK(k[2].type == KEY_FLOAT && k[2].fdflt == 0.5, "ratio");
    CHECK(k[3].type == KEY_BOOL && k[3].dflt == 1, "verbose");
    CHECK(k[4].type == KEY_ENUM && strcmp(k[4].choices[1], "slow") == 0 && !k[4].choices[2],
          "mode");
    CHECK(k[5].type == KEY_LIST && (k[7].flags & KEY_SECRET), "paths, password");
    CHECK(strcmp(k[0].owner, "transport 't'") == 0 && k[8].name == NULL, "owner, end");
    opts_keys_free(k);
}

int main(void)
{
    test_same_messages();
    test_owner_named();
    test_merged_section();
    test_core_binds_defaults();
    test_view();
    test_translation();
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("test_keys: ok\n");
    return 0;
}
