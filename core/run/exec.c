/* What a stage runs and how: its environment, its command (scripts
 * uploaded to remote hosts), $BENCHCTL_METADATA_FILE, and the one routine
 * that starts, waits for, stops and releases a command on a host. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "run/run.h"

/* ---- stage environment -------------------------------------------------- */

void run_build_env(run *r, const char *stage, const char *host, const cfg_case *cs,
                      strvec *env)
{
    sv_push_owned(env, xasprintf("BENCHCTL_RUN_ID=%s", r->id));
    sv_push_owned(env, xasprintf("BENCHCTL_RUN_DIR=%s", r->dir));
    sv_push_owned(env, xasprintf("BENCHCTL_RUN_MARK=%s", r->mark));
    sv_push_owned(env, xasprintf("BENCHCTL_OUTPUT_DIR=%s", r->cfg->output_dir));
    sv_push_owned(env, xasprintf("BENCHCTL_CONFIG_PATH=%s", r->cfg->abs_path));
    sv_push_owned(env, xasprintf("BENCHCTL_BIN=%s", r->bin));
    if (host)
        sv_push_owned(env, xasprintf("BENCHCTL_HOST=%s", host));
    if (stage)
        sv_push_owned(env, xasprintf("BENCHCTL_STAGE=%s", stage));
    if (cs) {
        sv_push_owned(env, xasprintf("BENCHCTL_CASE_NAME=%s", cs->name));
        for (size_t i = 0; cs->env && i < cs->env->n; i++)
            sv_push_owned(env, xasprintf("%s=%s", cs->env->keys[i]->str,
                                         cs->env->vals[i]->is_null ? "" : cs->env->vals[i]->str));
        /* matrix parameters: BENCHCTL_PARAM_<NAME> and the plain name */
        for (size_t i = 0; i < cs->params.n; i++) {
            const char *p = cs->params.v[i];
            strbuf sb = {0};
            sb_puts(&sb, "BENCHCTL_PARAM_");
            for (; *p && *p != '='; p++) {
                char ch = *p >= 'a' && *p <= 'z' ? (char)(*p - 32) : *p;
                sb_add(&sb, &ch, 1);
            }
            sb_puts(&sb, p);
            sv_push_owned(env, sb_steal(&sb));
            sv_push(env, cs->params.v[i]);
        }
    }
    /* -e from the command line comes last: it overrides case env. */
    for (size_t i = 0; i < r->o->env.n; i++)
        sv_push(env, r->o->env.v[i]);
}

/* The script of st (relative to the config's directory), when it is a
 * regular file; NULL with *err (owned) otherwise.  *mode: its mode. */
static char *script_path(run *r, const cfg_stage *st, mode_t *mode, char **err)
{
    bool cwd = false;
    char *path = config_resolve_path(r->cfg, st->script, &cwd);
    if (cwd)
        log_msg(BC_LOG_INFO, "stage '%s': script '%s' is not in the config's directory; using "
                "%s (the working directory, as the Go tool did)", st->name, st->script, path);
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        *err = xasprintf("stage '%s': script '%s' not found (%s)", st->name, path,
                         strerror(errno ? errno : ENOENT));
        free(path);
        return NULL;
    }
    *mode = sb.st_mode;
    return path;
}

/* The command line a script stage runs: the script itself when it is
 * executable, otherwise the shell's interpreter with the script. */
static char *script_command(run *r, const cfg_stage *st, const strvec *shell, char **err)
{
    mode_t mode;
    char *path = script_path(r, st, &mode, err);
    if (!path)
        return NULL;
    char *q = shell_quote(path);
    char *cmd = access(path, X_OK) == 0 ? xstrdup(q) : xasprintf("%s %s", shell->v[0], q);
    free(q);
    free(path);
    return cmd;
}

/* A script for a remote host: uploaded once per run into the transport's
 * private directory (a relative remote path; the transport exports that
 * directory as $BENCHCTL_HOST_TMPDIR), then run from there. */
static char *upload_script(run *r, const cfg_stage *st, hostconn *h, const strvec *shell,
                           char **err)
{
    mode_t mode;
    char *path = script_path(r, st, &mode, err);
    if (!path)
        return NULL;
    char *rel = layout_remote_script(st, path);
    if (!sv_contains(&h->uploaded, rel)) {
        if (!h->p->ops.host.put_file) {
            *err = xasprintf("stage '%s': transport '%s' of host '%s' cannot upload scripts",
                             st->name, h->p->desc.name, h->cfg->alias);
            free(rel);
            free(path);
            return NULL;
        }
        core_ctx ctx;
        hostconn_ctx(h, &ctx);
        ctx.stage = st->name;
        if (h->p->ops.host.put_file(&ctx.pub, h->conn, path, rel, 0700) != BC_OK) {
            *err = xasprintf("stage '%s': cannot upload script %s to host '%s': %s", st->name,
                             path, h->cfg->alias, ctx.error[0] ? ctx.error : "upload failed");
            free(rel);
            free(path);
            return NULL;
        }
        sv_push(&h->uploaded, rel);
    }
    char *cmd = mode & S_IXUSR ? xasprintf("\"$BENCHCTL_HOST_TMPDIR/%s\"", rel)
                                     : xasprintf("%s \"$BENCHCTL_HOST_TMPDIR/%s\"", shell->v[0], rel);
    free(rel);
    free(path);
    return cmd;
}

/* The transport's private directory on a remote host ($BENCHCTL_HOST_TMPDIR),
 * asked once per connection; NULL (after one warning) when it exports none. */
const char *hostconn_tmpdir(hostconn *h)
{
    pthread_mutex_lock(&h->lock);
    bool known = h->tmpdir != NULL;
    pthread_mutex_unlock(&h->lock);
    if (!known) {
        core_ctx ctx;
        hostconn_ctx(h, &ctx);
        char out[4096];
        int status = -1;
        int rc = hostconn_exec_capture(h, &ctx, "printf '%s\\n' \"$BENCHCTL_HOST_TMPDIR\"",
                                       HELPER_LIMIT_MS, &status, out, sizeof out);
        out[strcspn(out, "\r\n")] = '\0';
        bool ok = rc == BC_OK && status == 0 && out[0] == '/';
        if (!ok)
            log_msg(BC_LOG_WARN, "host '%s': its transport names no private directory "
                    "($BENCHCTL_HOST_TMPDIR): stages there run without $BENCHCTL_METADATA_FILE",
                    h->cfg->alias);
        pthread_mutex_lock(&h->lock);
        if (!h->tmpdir)
            h->tmpdir = xstrdup(ok ? out : "");
        pthread_mutex_unlock(&h->lock);
    }
    return h->tmpdir[0] ? h->tmpdir : NULL;
}

/* Where a stage on a remote host writes $BENCHCTL_METADATA_FILE: in the
 * transport's private directory, named after the stage's metadata file
 * (case, stage, target) and numbered per connection, so repeats never
 * share a file. */
static char *remote_meta_path(hostconn *h, const char *rel)
{
    const char *dir = hostconn_tmpdir(h);
    if (!dir)
        return NULL;
    char *name = xstrdup(rel);
    for (char *p = name; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == '_'))
            *p = '_';
    pthread_mutex_lock(&h->lock);
    unsigned seq = ++h->meta_seq;
    pthread_mutex_unlock(&h->lock);
    char *path = xasprintf("%s/%u-%s", dir, seq, name);
    free(name);
    return path;
}

bool stage_exec_prepare(run *r, const cfg_stage *st, hostconn *h, const cfg_case *cs,
                        const target *where, bool tty, stage_exec *ex, char **err)
{
    memset(ex, 0, sizeof *ex);
    if (st->shell)
        config_split_words(st->shell, &ex->shell);
    const strvec *sh = ex->shell.n ? &ex->shell : &r->cfg->shell;
    bool shared_fs = hostconn_caps(h) & BC_HOST_CAP_SHARED_FS;
    if (st->script && !shared_fs) {
        ex->cmd = upload_script(r, st, h, sh, err);
        if (!ex->cmd)
            return false;
    } else if (st->script) {
        ex->cmd = script_command(r, st, sh, err);
        if (!ex->cmd)
            return false;
    } else {
        ex->cmd = xstrdup(st->command);
    }
    run_build_env(r, st->name, h->cfg->alias, cs, &ex->env);
    /* $BENCHCTL_METADATA_FILE: a JSON object written there is merged into
     * custom metadata (kept in the run directory as metadata/...json). */
    char *rel = layout_metadata(st, where, cs);
    ex->meta_local = path_join(r->dir, rel);
    if (shared_fs)
        ex->meta_remote = xstrdup(ex->meta_local);
    else
        ex->meta_remote = remote_meta_path(h, rel);
    free(rel);
    if (ex->meta_remote)
        sv_push_owned(&ex->env, xasprintf("BENCHCTL_METADATA_FILE=%s", ex->meta_remote));
    ex->req = (bc_exec_request){.size = sizeof ex->req,
                                .shell = (const char *const *)sh->v,
                                .command = ex->cmd,
                                .env = (const char *const *)ex->env.v};
    if (tty) {
        ex->req.flags |= BC_EXEC_TTY;
        ex->req.tty_rows = r->ws.ws_row;
        ex->req.tty_cols = r->ws.ws_col;
    }
    return true;
}

void stage_cleanup_command(run *r, const cfg_stage *st, hostconn *h, stage_rec *sr,
                           const stage_exec *ex, stage_io *io)
{
    strvec env = {0}, shell = {0};
    run_build_env(r, st->name, h->cfg->alias, sr->cs, &env);
    fanout_node_env(sr, &env);
    sv_push_owned(&env, xasprintf("BENCHCTL_STAGE_STATUS=%s", stage_status_name(sr->status)));
    sv_push_owned(&env, xasprintf("BENCHCTL_STAGE_TERMINATION=%s",
                                  sr->termination ? sr->termination : ""));
    if (st->shell)
        config_split_words(st->shell, &shell);
    const strvec *sh = shell.n ? &shell : &r->cfg->shell;
    /* A node ran in its own directory: its cleanup does too. */
    char *cmd = NULL;
    if (sr->workdir) {
        char *q = shell_quote(sr->workdir);
        cmd = xasprintf("cd %s || exit 125\n%s", q, st->cleanup_cmd);
        free(q);
    }
    bc_exec_request req = {.size = sizeof req,
                           .shell = (const char *const *)sh->v,
                           .command = cmd ? cmd : st->cleanup_cmd,
                           .env = (const char *const *)env.v,
                           .workdir = ex->req.workdir};
    core_ctx ctx;
    hostconn_ctx(h, &ctx);
    ctx.stage = st->name;
    ctx.case_name = sr->cs ? sr->cs->name : NULL;
    ctx.sink = stage_sink;
    ctx.sink_data = io;
    bc_exec_result res;
    int rc = exec_run(h, &ctx, &req, CLEANUP_LIMIT_MS, GRACE_STAGE_MS, &res, NULL);
    const char *term = isolate_termination(rc, &res);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "command", st->cleanup_cmd);
    if (rc == BC_OK)
        cJSON_AddNumberToObject(o, "exit_status", res.exit_status);
    if (rc == BC_OK && res.term_signal)
        cJSON_AddNumberToObject(o, "signal", res.term_signal);
    cJSON_AddStringToObject(o, "termination", term ? term : "not_started");
    cJSON_Delete(sr->cleanup);
    sr->cleanup = o;
    if (!term || strcmp(term, "success") != 0)
        log_msg(BC_LOG_WARN, "stage '%s' on host '%s': its cleanup command %s", st->name,
                sr->where.host,
                rc == EXEC_START_FAILED ? "could not start"
                : rc == BC_TIMEOUT      ? "timed out"
                : rc != BC_OK           ? "was stopped"
                : res.term_signal       ? "was killed by a signal"
                                        : "failed");
    free(cmd);
    sv_free(&shell);
    sv_free(&env);
}

void stage_exec_free(stage_exec *ex)
{
    sv_free(&ex->shell);
    sv_free(&ex->env);
    free(ex->cmd);
    free(ex->meta_remote);
    free(ex->meta_local);
}

void stage_record_result(stage_rec *sr, const bc_exec_result *res)
{
    exec_rec e = {.exit_status = res->exit_status, .term_signal = res->term_signal,
                  .user_us = res->user_us >= 0 ? res->user_us : -1,
                  .sys_us = res->user_us >= 0 ? res->sys_us : -1,
                  .max_rss_kb = res->max_rss_kb >= 0 ? res->max_rss_kb : -1};
    record_set_result(sr, &e);
}

/* Merge what the stage reported for custom metadata: its stdout when it
 * has append_metadata, and $BENCHCTL_METADATA_FILE when it wrote one. */
void stage_metadata(run *r, const cfg_stage *st, hostconn *h, const stage_exec *ex,
                    const strbuf *captured)
{
    char *err = NULL;
    char what[300];
    if (st->append_metadata) {
        snprintf(what, sizeof what, "stage '%s': append_metadata", st->name);
        if (!append_metadata(r, captured->buf ? captured->buf : "", captured->len, what, &err)) {
            log_msg(BC_LOG_WARN, "%s", err);
            free(err);
            err = NULL;
        }
    }
    char *dir = dir_name(ex->meta_local);
    struct stat sb;
    bool here = ex->meta_remote && strcmp(ex->meta_remote, ex->meta_local) == 0;
    if (!here && ex->meta_remote && st->append_metadata) {
        /* Remote hosts: fetched for append_metadata stages only (a round
         * trip per stage otherwise), then removed there. */
        core_ctx ctx;
        hostconn_ctx(h, &ctx);
        mkdir_p(dir, 0755);
        if (hostconn_fetch(h, &ctx, ex->meta_remote, ex->meta_local) == BC_OK) {
            char *q = shell_quote(ex->meta_remote);
            char *rm = xasprintf("rm -f %s", q);
            int status;
            hostconn_exec_capture(h, &ctx, rm, HELPER_LIMIT_MS, &status, NULL, 0);
            free(rm);
            free(q);
        }
    }
    free(dir);
    if (stat(ex->meta_local, &sb) == 0 && sb.st_size > 0) {
        size_t len;
        char *text = read_file(ex->meta_local, &len);
        snprintf(what, sizeof what, "stage '%s': $BENCHCTL_METADATA_FILE", st->name);
        if (text && !append_metadata(r, text, len, what, &err)) {
            log_msg(BC_LOG_WARN, "%s", err);
            free(err);
        }
        free(text);
    }
}

int exec_run(hostconn *h, core_ctx *ctx, const bc_exec_request *req, int64_t limit_ms,
             int64_t grace_ms, bc_exec_result *res, int64_t *wall_ns)
{
    void *proc = NULL;
    *res = (bc_exec_result){.size = sizeof *res, .user_us = -1, .sys_us = -1, .max_rss_kb = -1};
    int64_t t0 = mono_ns();
    if (exec_start(h, ctx, req, &proc) != BC_OK)
        return EXEC_START_FAILED;
    int rc = exec_wait(h, ctx, proc, limit_ms, res);
    if (wall_ns)
        *wall_ns = mono_ns() - t0;
    if (rc != BC_OK)
        exec_stop(h, ctx, proc, grace_ms); /* never leave it running */
    exec_release(h, ctx, proc);
    return rc;
}

int exec_start(hostconn *h, core_ctx *ctx, const bc_exec_request *req, void **proc)
{
    return h->p->ops.host.start(&ctx->pub, h->conn, req, proc);
}

int exec_wait(hostconn *h, core_ctx *ctx, void *proc, int64_t timeout_ms, bc_exec_result *res)
{
    return h->p->ops.host.wait(&ctx->pub, proc, timeout_ms, res);
}

int exec_stop(hostconn *h, core_ctx *ctx, void *proc, int64_t grace_ms)
{
    return h->p->ops.host.stop(&ctx->pub, proc, grace_ms);
}

void exec_release(hostconn *h, core_ctx *ctx, void *proc)
{
    h->p->ops.host.release(&ctx->pub, proc);
}
