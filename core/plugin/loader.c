/* The plugin loader (the only user of libltdl). */
#define _GNU_SOURCE
#include "plugin/loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <limits.h>
#include <ltdl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "plugin/coresvc.h"
#include "plugin/kinds.h"
#include "util/log.h"
#include "paths.h"

const char *loader_kind_name(uint32_t kind)
{
    const plugin_kind *k = plugin_kind_of(kind);
    return k ? k->name : NULL;
}

cJSON *loader_plugin_json(const plugin *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", loader_kind_name(p->desc.kind));
    cJSON_AddStringToObject(o, "name", p->desc.name);
    cJSON_AddStringToObject(o, "version", p->desc.version);
    char abi[32];
    snprintf(abi, sizeof abi, "%u.%u", p->desc.abi.abi_major, p->desc.abi.abi_minor);
    cJSON_AddStringToObject(o, "abi", abi);
    cJSON_AddStringToObject(o, "path", p->path);
    return o;
}

/* Size of the descriptor in ABI 1.0 and 1.1: everything up to and
 * including ops.  1.2 appended create and destroy. */
#define END_OF(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))
#define DESC_MIN_SIZE END_OF(bc_plugin, ops)

/* The part of a descriptor the core reads from a plugin built for minor
 * m: members appended in later minors are never read from it, even when
 * its struct_size claims them (a plugin built for 1.0 by a newer SDK
 * without BC_TARGET_MINOR), so they stay zero ("not provided"). */
static size_t desc_size_for_minor(uint32_t minor)
{
    return minor >= 2 ? END_OF(bc_plugin, destroy) : DESC_MIN_SIZE;
}

static bool ltdl_ready;

static void add_dir(loader *l, const char *dir)
{
    if (!dir || !*dir || sv_contains(&l->dirs, dir))
        return;
    sv_push_owned(&l->dirs, abs_path(dir));
}

/* True when this binary is the one in the build tree. */
static bool running_uninstalled(void)
{
    char exe[PATH_MAX], built[PATH_MAX];
    if (!realpath("/proc/self/exe", exe))
        return false;
    if (!realpath(BENCHCTL_BUILD_BINARY, built))
        return false;
    return strcmp(exe, built) == 0;
}

/* <prefix>/<libdir>/benchctl/plugins, where <prefix> is the parent of the
 * directory that holds the running binary, so a moved installation (or
 * `cmake --install --prefix`) still finds its plugins. */
static char *installed_plugin_dir(void)
{
    char exe[PATH_MAX];
    if (!realpath("/proc/self/exe", exe))
        return xstrdup(BENCHCTL_PLUGIN_DIR);
    char *bindir = dir_name(exe);
    char *prefix = dir_name(bindir);
    const char *b = strrchr(bindir, '/');
    char *res = b && strcmp(b + 1, BENCHCTL_BINDIR) == 0
                    ? xasprintf("%s/%s", strcmp(prefix, "/") == 0 ? "" : prefix, BENCHCTL_PLUGIN_RELDIR)
                    : xstrdup(BENCHCTL_PLUGIN_DIR);
    free(bindir);
    free(prefix);
    return res;
}

void loader_init(loader *l, const strvec *cli_dirs, const strvec *config_dirs)
{
    memset(l, 0, sizeof *l);
    if (!ltdl_ready) {
        lt_dlinit();
        ltdl_ready = true;
    }
    for (size_t i = 0; cli_dirs && i < cli_dirs->n; i++)
        add_dir(l, cli_dirs->v[i]);
    const char *env = getenv("BENCHCTL_PLUGIN_PATH");
    if (env) {
        char *copy = xstrdup(env), *save = NULL;
        for (char *tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
            add_dir(l, tok);
        free(copy);
    }
    for (size_t i = 0; config_dirs && i < config_dirs->n; i++)
        add_dir(l, config_dirs->v[i]);
    if (running_uninstalled()) {
        add_dir(l, BENCHCTL_BUILD_PLUGIN_DIR);
    } else {
        char *installed = installed_plugin_dir();
        add_dir(l, installed);
        free(installed);
    }
}

static void refuse(loader *l, const char *path, char *reason)
{
    for (size_t i = 0; i < l->nrefused; i++)
        if (strcmp(l->refused[i].path, path) == 0) {
            free(reason);
            return;
        }
    l->refused = xrealloc(l->refused, (l->nrefused + 1) * sizeof *l->refused);
    l->refused[l->nrefused++] = (refusal){xstrdup(path), reason};
}

static const refusal *find_refusal(const loader *l, const char *path)
{
    for (size_t i = 0; i < l->nrefused; i++)
        if (strcmp(l->refused[i].path, path) == 0)
            return &l->refused[i];
    return NULL;
}

static plugin *find_loaded(const loader *l, uint32_t kind, const char *name)
{
    for (size_t i = 0; i < l->nplugins; i++)
        if (l->plugins[i]->desc.kind == kind && strcmp(l->plugins[i]->desc.name, name) == 0)
            return l->plugins[i];
    return NULL;
}

static bool valid_name(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

/* Check a descriptor; returns a reason (owned) or NULL when acceptable. */
static char *check_descriptor(const char *path, const bc_plugin *d, const char *file_base)
{
    const bc_abi_prefix *p = &d->abi;
    if (p->magic != BC_ABI_MAGIC)
        return xasprintf("%s: not a benchctl plugin descriptor (magic 0x%08x, expected 0x%08x)",
                         path, p->magic, BC_ABI_MAGIC);
    if (p->abi_major != BC_ABI_MAJOR) {
        char range[48];
        if (BC_ABI_MINOR > 0)
            snprintf(range, sizeof range, "ABI %d.0 to %d.%d", BC_ABI_MAJOR, BC_ABI_MAJOR,
                     BC_ABI_MINOR);
        else
            snprintf(range, sizeof range, "only ABI %d.0", BC_ABI_MAJOR);
        return xasprintf("%s: built for plugin ABI %u.%u, but this benchctl supports %s; "
                         "rebuild the plugin against a matching SDK",
                         path, p->abi_major, p->abi_minor, range);
    }
    if (p->abi_minor > BC_ABI_MINOR)
        return xasprintf("%s: needs plugin ABI %u.%u, newer than this benchctl's ABI %d.%d; "
                         "upgrade benchctl or rebuild the plugin against SDK %d.%d",
                         path, p->abi_major, p->abi_minor, BC_ABI_MAJOR, BC_ABI_MINOR,
                         BC_ABI_MAJOR, BC_ABI_MINOR);
    if (p->reserved != 0)
        return xasprintf("%s: reserved field abi.reserved is 0x%x, but ABI %u.%u requires zero; "
                         "rebuild the plugin with BC_PLUGIN_PREFIX",
                         path, p->reserved, p->abi_major, p->abi_minor);
    if (p->struct_size < DESC_MIN_SIZE)
        return xasprintf("%s: truncated descriptor: %u bytes, but ABI %u.%u needs at least %zu",
                         path, p->struct_size, p->abi_major, p->abi_minor, DESC_MIN_SIZE);
    if (d->flags != 0)
        return xasprintf("%s: reserved field flags is 0x%x, but ABI %u.%u requires zero; leave "
                         "it unset in the descriptor",
                         path, d->flags, p->abi_major, p->abi_minor);
    const plugin_kind *pk = plugin_kind_of(d->kind);
    if (!pk) {
        char *known = plugin_kinds_list();
        char *why = xasprintf("%s: unknown plugin kind %u (this benchctl, ABI %d.%d, knows %s)",
                              path, d->kind, BC_ABI_MAJOR, BC_ABI_MINOR, known);
        free(known);
        return why;
    }
    const char *kind = pk->name;
    if (p->abi_minor < pk->since_minor)
        return xasprintf("%s: declares a %s plugin, a kind that ABI %u.%u does not have (it "
                         "exists since ABI %d.%u); rebuild the plugin against SDK %d.%d",
                         path, kind, p->abi_major, p->abi_minor, BC_ABI_MAJOR, pk->since_minor,
                         BC_ABI_MAJOR, BC_ABI_MINOR);
    if (!valid_name(d->name))
        return xasprintf("%s: %s plugin has an invalid name '%s' (use lowercase letters, digits "
                         "and '_')", path, kind, d->name ? d->name : "(null)");
    if (!d->version || !*d->version)
        return xasprintf("%s: %s plugin '%s' does not declare a version", path, kind, d->name);
    if (!d->ops)
        return xasprintf("%s: %s plugin '%s' has no operations table", path, kind, d->name);
    uint32_t ops_size = *(const uint32_t *)d->ops;
    if (ops_size < pk->min_size)
        return xasprintf("%s: %s plugin '%s' has a truncated operations table: %u bytes, but "
                         "ABI %u.%u needs at least %zu",
                         path, kind, d->name, ops_size, p->abi_major, p->abi_minor,
                         pk->min_size);
    for (const kind_op *r = pk->required; r->name; r++) {
        void *fn;
        memcpy(&fn, (const char *)d->ops + r->offset, sizeof fn);
        if (!fn)
            return xasprintf("%s: %s plugin '%s' lacks the required operation '%s'", path, kind,
                             d->name, r->name);
    }
    for (const bc_option *o = d->options; o && o->name; o++)
        if (o->type < BC_OPT_STRING || o->type > BC_OPT_STRING_LIST)
            return xasprintf("%s: %s plugin '%s' declares option '%s' with unknown type %u", path,
                             kind, d->name, o->name, o->type);
    char *expect = xasprintf("%s-%s", kind, d->name);
    if (file_base && strcmp(file_base, expect) != 0) {
        char *r = xasprintf("%s: declares %s plugin '%s', so it must be installed as %s.so", path,
                            kind, d->name, expect);
        free(expect);
        return r;
    }
    free(expect);
    return NULL;
}

/* Why path cannot be loaded.  libltdl reports every failure as "file not
 * found"; the dynamic linker's own message (a missing library, a bad ELF
 * class) is what a user can act on, so ask it once, here only. */
static char *load_failure(const char *path)
{
    unsigned char magic[4] = {0};
    FILE *f = fopen(path, "rbe");
    size_t n = f ? fread(magic, 1, sizeof magic, f) : 0;
    if (f)
        fclose(f);
    if (n < 4 || memcmp(magic, "\177ELF", 4) != 0)
        return xasprintf("%s: not a benchctl plugin: it cannot be loaded (not an ELF shared "
                         "object)", path);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h) {
        dlclose(h);
        const char *e = lt_dlerror();
        return xasprintf("%s: not a benchctl plugin: it cannot be loaded (%s)", path,
                         e ? e : "unknown error");
    }
    const char *e = dlerror();
    return xasprintf("%s: not a benchctl plugin: it cannot be loaded (%s)", path,
                     e ? e : "unknown error");
}

/* Load one file.  Returns the plugin (also appended to l->plugins) or
 * NULL after recording a refusal. */
static plugin *load_file(loader *l, const char *path)
{
    const refusal *old = find_refusal(l, path);
    if (old)
        return NULL;
    for (size_t i = 0; i < l->nplugins; i++)
        if (strcmp(l->plugins[i]->path, path) == 0)
            return l->plugins[i];

    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char *stem = xstrdup(base);
    char *dot = strstr(stem, ".so");
    if (dot)
        *dot = '\0';

    lt_dlhandle h = lt_dlopen(path);
    if (!h) {
        refuse(l, path, load_failure(path));
        free(stem);
        return NULL;
    }
    bc_plugin_entry_fn entry = (bc_plugin_entry_fn)(uintptr_t)lt_dlsym(h, "bc_plugin_entry");
    if (!entry) {
        refuse(l, path, xasprintf("%s: not a benchctl plugin: it does not export the entry "
                                  "symbol %s", path, BC_ENTRY_SYMBOL));
        lt_dlclose(h);
        free(stem);
        return NULL;
    }
    const bc_plugin *d = entry();
    char *why = d ? check_descriptor(path, d, stem)
                  : xasprintf("%s: %s returned no descriptor", path, BC_ENTRY_SYMBOL);
    if (!why) {
        plugin *dup = find_loaded(l, d->kind, d->name);
        if (dup)
            why = xasprintf("%s: duplicate %s plugin '%s': already provided by %s", path,
                            loader_kind_name(d->kind), d->name, dup->path);
    }
    free(stem);
    if (why) {
        refuse(l, path, why);
        lt_dlclose(h);
        return NULL;
    }
    plugin *p = xcalloc(1, sizeof *p);
    p->path = xstrdup(path);
    p->handle = h;
    /* Zero-filled copies of what this plugin's minor defines and its sizes
     * provide: a missing tail reads as "not provided". */
    size_t n = desc_size_for_minor(d->abi.abi_minor);
    memcpy(&p->desc, d, d->abi.struct_size < n ? d->abi.struct_size : n);
    uint32_t ops_size = *(const uint32_t *)d->ops;
    size_t full = plugin_kind_ops_size(plugin_kind_of(d->kind), d->abi.abi_minor);
    memcpy(&p->ops, d->ops, ops_size < full ? ops_size : full);
    pthread_mutex_init(&p->lock, NULL);
    l->plugins = xrealloc(l->plugins, (l->nplugins + 1) * sizeof *l->plugins);
    l->plugins[l->nplugins++] = p;
    return p;
}

const plugin *loader_find(loader *l, bc_kind kind, const char *name, char **why)
{
    *why = NULL;
    plugin *p = find_loaded(l, kind, name);
    if (p)
        return p;
    const char *kname = loader_kind_name(kind);
    /* The first acceptable file wins; a refused one earlier on the path is
     * skipped (as `benchctl plugins` does) but reported if nothing else
     * provides the plugin. */
    char *first_refusal = NULL;
    for (size_t i = 0; i < l->dirs.n; i++) {
        char *file = xasprintf("%s/%s-%s.so", l->dirs.v[i], kname, name);
        struct stat st;
        if (stat(file, &st) == 0) {
            p = load_file(l, file);
            if (p) {
                if (first_refusal)
                    log_msg(BC_LOG_WARN, "skipped %s", first_refusal);
                free(first_refusal);
                free(file);
                return p;
            }
            const refusal *r = find_refusal(l, file);
            if (!first_refusal)
                first_refusal = xstrdup(r ? r->reason : "refused");
        }
        free(file);
    }
    if (first_refusal) {
        *why = first_refusal;
        return NULL;
    }
    strbuf sb = {0};
    sb_printf(&sb, "no %s plugin named '%s' is installed (looked for %s-%s.so in: ", kname, name,
              kname, name);
    for (size_t i = 0; i < l->dirs.n; i++)
        sb_printf(&sb, "%s%s", i ? ", " : "", l->dirs.v[i]);
    sb_puts(&sb, l->dirs.n ? ")" : "no directories)");
    *why = sb_steal(&sb);
    return NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void loader_scan_all(loader *l)
{
    for (size_t i = 0; i < l->dirs.n; i++) {
        DIR *dir = opendir(l->dirs.v[i]);
        if (!dir)
            continue;
        strvec files = {0};
        struct dirent *de;
        while ((de = readdir(dir))) {
            size_t len = strlen(de->d_name);
            if (len > 3 && strcmp(de->d_name + len - 3, ".so") == 0)
                sv_push_owned(&files, path_join(l->dirs.v[i], de->d_name));
        }
        closedir(dir);
        if (files.n)
            qsort(files.v, files.n, sizeof *files.v, cmp_str);
        for (size_t j = 0; j < files.n; j++)
            load_file(l, files.v[j]);
        sv_free(&files);
    }
}

void loader_shutdown(loader *l)
{
    for (size_t i = 0; i < l->nplugins; i++) {
        plugin *p = l->plugins[i];
        plugin_instances_destroy(p);
        if (p->initialised && p->desc.fini)
            p->desc.fini(p->state);
        lt_dlclose((lt_dlhandle)p->handle);
        free(p->init_error);
        pthread_mutex_destroy(&p->lock);
        free(p->path);
        free(p);
    }
    free(l->plugins);
    for (size_t i = 0; i < l->nrefused; i++) {
        free(l->refused[i].path);
        free(l->refused[i].reason);
    }
    free(l->refused);
    sv_free(&l->dirs);
    memset(l, 0, sizeof *l);
}
