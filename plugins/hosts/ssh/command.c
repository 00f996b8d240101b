/*
 * Host transport "ssh": the text of a remote command - the /bin/sh script
 * that runs a stage (its environment, working directory, process group
 * record, the stage's shell) and how its environment gets there.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sshint.h"

/* ---- the remote command ------------------------------------------------- */

static int valid_env_name(const char *kv, size_t len)
{
    if (len == 0 || (kv[0] >= '0' && kv[0] <= '9'))
        return 0;
    for (size_t i = 0; i < len; i++) {
        char ch = kv[i];
        if (!(ch == '_' || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9')))
            return 0;
    }
    return 1;
}

const char *ssh_sb_text(const bc_sb *b)
{
    if (bc_sb_failed(b))
        abort();
    return bc_sb_str(b);
}

char *ssh_wrap_script(const char *script)
{
    char *q = ssh_shquote(script);
    char *cmd = ssh_asprintf("exec /bin/sh -c %s", q);
    free(q);
    return cmd;
}

/* The last line of the environment script: a wrapper that does not see it
 * did not get the whole script (a login rc that read stdin?). */
#define ENV_END ": BENCHCTL_ENV_END"

void ssh_env_script(bc_ctx *ctx, sshconn *c, const bc_exec_request *req, bc_sb *b)
{
    for (const char *const *e = req->env; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || !valid_env_name(*e, (size_t)(eq - *e))) {
            bc_log(ctx, BC_LOG_WARN, "not exporting '%.60s' on host '%s': not a NAME=value "
                   "with a valid shell variable name", *e, c->alias);
            continue;
        }
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(eq - *e < 255 ? eq - *e : 255), *e);
        bc_sb_append(b, "export ");
        bc_sb_append(b, name);
        bc_sb_append(b, "=");
        bc_shell_quote(b, eq + 1);
        bc_sb_append(b, "\n");
    }
    bc_sb_append(b, ENV_END "\n");
}

int ssh_put_env_file(bc_ctx *ctx, sshconn *c, const char *name, const char *env)
{
    char local[] = "/tmp/benchctl-env.XXXXXX";
    int fd = mkstemp(local); /* 0600 */
    if (fd < 0)
        return BC_ERR;
    size_t len = strlen(env), done = 0;
    while (done < len) {
        ssize_t w = write(fd, env + done, len - done);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    close(fd);
    int rc = done == len ? ssh_op_put_file(ctx, c, local, name, 0600) : BC_ERR;
    unlink(local);
    return rc;
}

char *ssh_stage_command(sshconn *c, unsigned id, const bc_exec_request *req, int how,
                           const char *env, int wrap)
{
    bc_sb b = BC_SB_INIT;
    bc_sb_append(&b, "BENCHCTL_HOST_TMPDIR=");
    bc_shell_quote(&b, c->tmpdir);
    bc_sb_append(&b, "; export BENCHCTL_HOST_TMPDIR\n");
    if (how == ENV_INLINE || how == ENV_SOURCED) {
        bc_sb_append(&b, env);
    } else {
        if (how == ENV_STDIN)
            bc_sb_append(&b, "e=$(cat) || exit 1\n");
        else
            bc_sb_printf(&b, "e=$(cat \"$BENCHCTL_HOST_TMPDIR/env.%u\") || exit 1; "
                             "rm -f \"$BENCHCTL_HOST_TMPDIR/env.%u\"\n", id, id);
        bc_sb_append(&b, "case $e in *'" ENV_END "') ;; *) echo 'benchctl: the stage "
                         "environment did not arrive whole (does the login shell read stdin "
                         "at start-up?)' >&2; exit 126;; esac\neval \"$e\"; unset e\n");
    }
    if (req->workdir && *req->workdir) {
        bc_sb_append(&b, "cd -- ");
        bc_shell_quote(&b, req->workdir);
        bc_sb_append(&b, " || exit 1\n");
    }
    /* The login shell has read the user's rc; bash's `exec` to this script
     * left SHLVL at 0, so a stage shell that is bash would take itself for
     * sshd's first shell and read ~/.bashrc again (SSH_CLIENT is set). */
    bc_sb_append(&b, "[ \"${SHLVL:-0}\" -ge 1 ] 2>/dev/null || { SHLVL=1; export SHLVL; }\n");
    /* The stage records its pid in the private directory before it
     * execs, and does not start when it cannot: the directory is gone
     * (or moved away by the dispatcher's sweep) once the run is over, so a
     * stage whose login shell was slow never starts after the sweep. */
    char f[64];
    snprintf(f, sizeof f, "f=\"$BENCHCTL_HOST_TMPDIR/pgid.%u\"\n", id);
    bc_sb_append(&b, f);
    /* the stage's shell words and command, quoted */
    bc_sb argv = BC_SB_INIT;
    for (const char *const *w = req->shell; w && *w; w++) {
        bc_shell_quote(&argv, *w);
        bc_sb_append(&argv, " ");
    }
    bc_shell_quote(&argv, req->command ? req->command : "");
    if (how == ENV_SOURCED) {
        /* A subshell of the dispatcher ($$ is the dispatcher's): its own
         * pid from /proc/self, and setsid(1) makes it a session and group
         * of its own without forking (it leads no group). */
        bc_sb_append(&b, "g=; { read -r g < /proc/self/stat; } 2>/dev/null; set -- $g\n"
                         "if [ -n \"${1:-}\" ] && command -v setsid >/dev/null 2>&1; then "
                         "echo \"$1\" > \"$f\" || exit 1; exec setsid ");
        bc_sb_append(&b, ssh_sb_text(&argv));
        bc_sb_append(&b, "\nfi\nexec /bin/sh -c 'echo $$ > \"$0\" || exit 1; exec \"$@\"' \"$f\" ");
        bc_sb_append(&b, ssh_sb_text(&argv));
        bc_sb_append(&b, "\n");
        bc_sb_free(&argv);
        char *cmd = ssh_strdup(ssh_sb_text(&b));
        bc_sb_free(&b);
        return cmd;
    }
    /* Not a process group leader (a server other than OpenSSH's sshd)?
     * Then setsid gives the stage its own group. */
    bc_sb_append(&b, "g=; { read -r g < /proc/$$/stat; } 2>/dev/null; g=${g##*) }; set -- $g\n"
                     "if [ \"${3:-}\" != \"$$\" ] && command -v setsid >/dev/null 2>&1; then "
                     "exec setsid /bin/sh -c 'echo $$ > \"$0\" || exit 1; exec \"$@\"' \"$f\" ");
    bc_sb_append(&b, ssh_sb_text(&argv));
    bc_sb_append(&b, "\nfi\necho $$ > \"$f\" || exit 1; exec ");
    bc_sb_append(&b, ssh_sb_text(&argv));
    bc_sb_append(&b, "\n");
    bc_sb_free(&argv);
    char *cmd = wrap ? ssh_wrap_script(ssh_sb_text(&b)) : ssh_strdup(ssh_sb_text(&b));
    bc_sb_free(&b);
    return cmd;
}

