/* `benchctl gc`: remove what crashed runs left behind.  A run killed with
 * -9 (or whose machine stopped) cannot clean up; its watchdogs usually do
 * (benchctl-watch here, the ssh dispatcher on remote hosts), and this is
 * the backstop: for every run that is `crashed` and not collected yet, it
 * stops the processes still carrying the run's marker on this machine
 * (BENCHCTL_RUN_MARK) and, for each host whose private directory the run
 * recorded (metadata.json hosts.<alias>.connection.private_dir), removes
 * that directory and stops the processes carrying it
 * (BENCHCTL_HOST_TMPDIR) - on remote hosts through their transport, with
 * the run's saved config; here when the host is the controller or its
 * transport said the directory is a path on this machine
 * (private_dir_local: slurm's, on its shared_dir).  What was removed is
 * printed and recorded in the run's metadata.json ("gc"); a host it cannot
 * reach is reported and the run is tried again next time. */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "run/run.h"
#include "store/runstore.h"
#include "util/log.h"

static bool alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool run_private_dir_name(const char *s)
{
    if (strncmp(s, "/tmp/benchctl.", 14) == 0 && s[14]) {
        for (const char *p = s + 14; *p; p++)
            if (!alnum(*p))
                return false;
        return true;
    }
    /* <absolute directory>/.benchctl-<transport>.<random>: a transport that
     * keeps it elsewhere (slurm: on its shared_dir).  Only plain characters,
     * no "." or ".." component, so it is nothing a shell would interpret
     * and names nothing but itself. */
    if (s[0] != '/')
        return false;
    for (const char *p = s; *p; p++)
        if (!alnum(*p) && !strchr("/._-+", *p))
            return false;
    if (strstr(s, "//") || strstr(s, "/./") || strstr(s, "/../"))
        return false;
    const char *base = strrchr(s, '/') + 1;
    if (strncmp(base, ".benchctl-", 10) != 0)
        return false;
    const char *p = base + 10;
    const char *name = p;
    while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')
        p++;
    if (p == name || *p != '.' || !p[1])
        return false;
    for (p++; *p; p++)
        if (!alnum(*p))
            return false;
    return base - s > 1; /* not straight under / */
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 ? 0 : -1;
}

bool run_remove_tree(const char *dir)
{
    return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0;
}

/* The remote clean-up: stop what carries the directory, remove it. */
static char *remote_script(const char *dir)
{
    return xasprintf(
        "D='%s'; [ -d \"$D\" ] || [ -d \"$D.gone\" ] || { echo gone; exit 0; }\n"
        "m() { grep -lzxF \"BENCHCTL_HOST_TMPDIR=$D\" /proc/[0-9]*/environ 2>/dev/null | "
        "while read -r e; do e=${e#/proc/}; e=${e%%/environ}; [ \"$e\" != $$ ] && echo $e; done; }\n"
        "p=$(m); n=$(echo $p | wc -w); [ -n \"$p\" ] && kill -TERM $p 2>/dev/null\n"
        "i=0; while [ -n \"$(m)\" ] && [ $i -lt 200 ]; do i=$((i+1)); sleep 0.01 2>/dev/null || sleep 1; done\n"
        "p=$(m); [ -n \"$p\" ] && kill -KILL $p 2>/dev/null\n"
        "cd / && rm -rf -- \"$D\" \"$D.gone\"; echo \"removed $n\"\n",
        dir);
}

/* The run's saved config, loaded for its hosts (lazily, once). */
typedef struct gc_hosts {
    bool tried;
    loader ld;
    run r;
    run_options o;
} gc_hosts;

static run *gc_run_for(gc_hosts *g, const char *out, const char *id, const cJSON *meta,
                       const strvec *plugin_paths)
{
    if (g->tried)
        return g->r.cfg ? &g->r : NULL;
    g->tried = true;
    char *run_dir = xasprintf("%s/%s", out, id);
    char *snapshot = path_join(run_dir, LAYOUT_CONFIG_COPY);
    const char *orig = cJSON_GetStringValue(cJSON_GetObjectItem(meta, "config_path"));
    char *orig_dir = orig ? dir_name(orig) : NULL;
    config *c = engine_load_in(snapshot, orig_dir, &g->ld, plugin_paths, false);
    free(orig_dir);
    free(snapshot);
    if (!c) {
        loader_shutdown(&g->ld);
        free(run_dir);
        return NULL;
    }
    g->o = (run_options){.config_path = c->path};
    g->r = (run){.cfg = c, .ld = &g->ld, .o = &g->o, .id = xstrdup(id), .dir = run_dir,
                 .journal_fd = -1, .owner_fd = -1, .watch_fd = -1, .watch_pid = -1,
                 .lock = PTHREAD_MUTEX_INITIALIZER};
    g->r.bin = xstrdup("benchctl");
    g->r.meta = cJSON_CreateObject();
    const char *mark = cJSON_GetStringValue(cJSON_GetObjectItem(meta, "run_mark"));
    snprintf(g->r.mark, sizeof g->r.mark, "%s", mark ? mark : "gc");
    cancel_start(&g->r.cancel, 0);
    run_open_hosts(&g->r);
    return &g->r;
}

static void gc_hosts_free(gc_hosts *g)
{
    if (!g->r.cfg)
        return;
    for (size_t i = 0; i < g->r.nhosts; i++)
        hostconn_close(&g->r.hosts[i]);
    cancel_stop(&g->r.cancel);
    cJSON_Delete(g->r.meta);
    free(g->r.hosts);
    free(g->r.id);
    free(g->r.dir);
    free(g->r.bin);
    config_free(g->r.cfg);
    loader_shutdown(&g->ld);
}

/* The cgroups of the run's limited stages on host alias (isolate.c), reached
 * through the run's saved config; what was removed goes to removed. */
static void gc_cgroups(gc_hosts *g, const char *out, const char *id, const cJSON *meta,
                       const strvec *plugin_paths, const char *alias, cJSON *removed)
{
    const char *mark = cJSON_GetStringValue(cJSON_GetObjectItem(meta, "run_mark"));
    run *r = mark && *mark ? gc_run_for(g, out, id, meta, plugin_paths) : NULL;
    hostconn *h = r ? run_host(r, alias) : NULL;
    int n = h ? isolate_reap(h, mark) : 0;
    if (n <= 0)
        return;
    char *what = xasprintf("removed %d cgroup%s of limited stages on host '%s'", n,
                           n == 1 ? "" : "s", alias);
    printf("run %s: %s\n", id, what);
    cJSON_AddItemToArray(removed, cJSON_CreateString(what));
    free(what);
}

/* Each host's private directory (alias: path), recorded when it opened
 * (one JSON line each), and in metadata.json's hosts when that was
 * written after; here gets alias: true for those that are paths on this
 * machine (the transport said so: private_dir_local). */
static cJSON *gc_dirs(const char *out, const char *id, const cJSON *hosts, cJSON *here)
{
    cJSON *dirs = cJSON_CreateObject();
    const cJSON *hj;
    cJSON_ArrayForEach(hj, hosts)
    {
        const cJSON *conn = cJSON_GetObjectItem(hj, "connection");
        const char *d = cJSON_GetStringValue(cJSON_GetObjectItem(conn, "private_dir"));
        if (d)
            cJSON_AddStringToObject(dirs, hj->string, d);
        if (d && cJSON_IsTrue(cJSON_GetObjectItem(conn, "private_dir_local")))
            cJSON_AddTrueToObject(here, hj->string);
    }
    char *lpath = xasprintf("%s/%s/%s", out, id, LAYOUT_PRIVATE_DIRS);
    char *ltext = read_file(lpath, NULL);
    free(lpath);
    for (char *line = ltext, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        cJSON *l = cJSON_Parse(line);
        const char *ha = cJSON_GetStringValue(cJSON_GetObjectItem(l, "host"));
        const char *d = cJSON_GetStringValue(cJSON_GetObjectItem(l, "private_dir"));
        if (ha && d && !cJSON_GetObjectItem(dirs, ha)) {
            cJSON_AddStringToObject(dirs, ha, d);
            if (cJSON_IsTrue(cJSON_GetObjectItem(l, "local")))
                cJSON_AddTrueToObject(here, ha);
        }
        cJSON_Delete(l);
    }
    free(ltext);
    return dirs;
}

/* Collect one crashed run; prints what it did.  false when a host could
 * not be reached (the run stays to be collected). */
static bool gc_one(const char *out, const char *id, cJSON *meta, const strvec *plugin_paths)
{
    cJSON *removed = cJSON_CreateArray();
    bool complete = true;
    const char *mark = cJSON_GetStringValue(cJSON_GetObjectItem(meta, "run_mark"));
    if (mark && *mark) {
        int n = leftovers_stop_mark(mark, 2000);
        if (n) {
            char *s = xasprintf("stopped %d process%s on this machine", n, n == 1 ? "" : "es");
            printf("run %s: %s\n", id, s);
            cJSON_AddItemToArray(removed, cJSON_CreateString(s));
            free(s);
        }
    }
    gc_hosts g = {0};
    const cJSON *hosts = cJSON_GetObjectItem(meta, "hosts");
    cJSON *here = cJSON_CreateObject();
    cJSON *dirs = gc_dirs(out, id, hosts, here);
    const cJSON *hj;
    const cJSON *dj;
    cJSON_ArrayForEach(dj, dirs)
    {
        const char *dir = dj->valuestring;
        hj = cJSON_GetObjectItem(hosts, dj->string);
        if (!dir || !run_private_dir_name(dir))
            continue;
        /* On this machine: the controller host's, and a transport's that
         * keeps it on a directory this machine shares (slurm's shared_dir;
         * its processes ended with the job that ran them). */
        bool local = cJSON_IsTrue(cJSON_GetObjectItem(here, dj->string));
        const cJSON *cap;
        cJSON_ArrayForEach(cap, cJSON_GetObjectItem(hj, "capabilities"))
            local = local || (cJSON_IsString(cap) && strcmp(cap->valuestring, "controller") == 0);
        char *what = NULL;
        if (local) {
            struct stat sb;
            if (lstat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) && sb.st_uid == getuid()) {
                if (run_remove_tree(dir)) {
                    what = xasprintf("removed %s on host '%s'", dir, dj->string);
                } else if (lstat(dir, &sb) == 0) { /* (gone meanwhile: nothing to say) */
                    fprintf(stderr, "benchctl gc: run %s: cannot remove %s (host '%s'): %s\n",
                            id, dir, dj->string, strerror(errno));
                    complete = false;
                }
            }
        } else {
            run *r = gc_run_for(&g, out, id, meta, plugin_paths);
            hostconn *h = r ? run_host(r, dj->string) : NULL;
            if (!h) {
                fprintf(stderr, "benchctl gc: run %s: host '%s' is not in the run's saved config "
                        "(%s): %s there was not removed\n", id, dj->string, LAYOUT_CONFIG_COPY, dir);
                complete = false;
                continue;
            }
            core_ctx ctx;
            hostconn_ctx(h, &ctx);
            char *script = remote_script(dir);
            char text[512] = "";
            int status = -1;
            int rc = hostconn_exec_capture(h, &ctx, script, 60000, &status, text, sizeof text);
            free(script);
            int n = 0;
            const char *rm = strstr(text, "removed ");
            if (rc != BC_OK || status != 0 || (!rm && !strstr(text, "gone"))) {
                fprintf(stderr, "benchctl gc: run %s: cannot clean up host '%s' (%s): %s\n", id,
                        dj->string, dir, rc != BC_OK ? ctx.error : "the clean-up command failed");
                complete = false;
                continue;
            }
            if (rm && sscanf(rm, "removed %d", &n) == 1)
                what = n ? xasprintf("removed %s on host '%s' and stopped %d process%s there", dir,
                                     dj->string, n, n == 1 ? "" : "es")
                         : xasprintf("removed %s on host '%s'", dir, dj->string);
        }
        if (what) {
            printf("run %s: %s\n", id, what);
            cJSON_AddItemToArray(removed, cJSON_CreateString(what));
            free(what);
        }
        gc_cgroups(&g, out, id, meta, plugin_paths, dj->string, removed);
    }
    gc_hosts_free(&g);
    cJSON_Delete(dirs);
    cJSON_Delete(here);
    if (complete) {
        cJSON *gc = cJSON_CreateObject();
        char when[64];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        cJSON_AddStringToObject(gc, "time", when);
        cJSON_AddItemToObject(gc, "removed", removed);
        removed = NULL;
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "gc");
        cJSON_AddItemToObject(meta, "gc", gc);
        char *dir = xasprintf("%s/%s", out, id);
        if (!runstore_write(dir, meta, true)) { /* exit 1, as for a failed write (README) */
            fprintf(stderr, "benchctl gc: cannot update %s/metadata.json: %s\n", dir,
                    strerror(errno));
            complete = false;
        }
        free(dir);
    }
    cJSON_Delete(removed);
    return complete;
}

int engine_gc(const char *output_dir, const strvec *plugin_paths)
{
    strvec ids = {0};
    runstore_list(output_dir, &ids);
    int code = EXIT_OK;
    size_t collected = 0;
    for (size_t i = 0; i < ids.n; i++) {
        char *err = NULL;
        cJSON *meta = runstore_read(output_dir, ids.v[i], &err); /* marks crashed */
        free(err);
        const char *st = meta ? cJSON_GetStringValue(cJSON_GetObjectItem(meta, "status")) : NULL;
        if (st && strcmp(st, "crashed") == 0 && !cJSON_GetObjectItem(meta, "gc")) {
            if (!gc_one(output_dir, ids.v[i], meta, plugin_paths))
                code = EXIT_RUN_FAILED;
            collected++;
        }
        cJSON_Delete(meta);
    }
    /* Runs killed before they started: their directory never got its
     * number (runstore_create). */
    strvec stale = {0};
    runstore_stale_new(output_dir, &stale);
    for (size_t i = 0; i < stale.n; i++) {
        char *dir = path_join(output_dir, stale.v[i]);
        if (runstore_discard(dir, -1)) {
            printf("removed %s: the directory of a run killed before it started\n", dir);
        } else {
            fprintf(stderr, "benchctl gc: cannot remove %s: %s\n", dir, strerror(errno));
            code = EXIT_RUN_FAILED;
        }
        free(dir);
        collected++;
    }
    sv_free(&stale);
    if (!collected)
        printf("nothing to collect: no crashed run left anything to remove\n");
    sv_free(&ids);
    return code;
}
