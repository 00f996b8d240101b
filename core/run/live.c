/* The live line of long stages and fan-outs (live.h). */
#define _GNU_SOURCE
#include "run/live.h"

#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/run.h"
#include "util/human.h"
#include "util/term.h"

/* A stage shorter than this never gets a line. */
#define LIVE_AFTER_NS 2000000000LL
#define LIVE_EVERY_MS 500

struct run_live {
    pthread_t thread;
    int stop[2]; /* a byte on stop[1] ends the ticker */
    pthread_mutex_t mu;
    char *stage, *host, *case_name; /* the running foreground stage, or stage NULL */
    size_t nodes, done, running;
    int64_t t0;
};

/* The line for the stage now running (owned), or NULL. */
static char *describe(struct run_live *l)
{
    pthread_mutex_lock(&l->mu);
    char *line = NULL;
    int64_t age = mono_ns() - l->t0;
    if (l->stage && age >= LIVE_AFTER_NS) {
        char *t = human_duration((double)age / 1e9);
        char cs[96] = "";
        if (l->case_name)
            snprintf(cs, sizeof cs, " [case %.60s]", l->case_name);
        if (l->nodes)
            line = xasprintf("  %s%s: %zu nodes, %zu done, %zu running (%s)", l->stage, cs,
                             l->nodes, l->done, l->running, t);
        else
            line = xasprintf("  %s on %s%s: running %s", l->stage, l->host ? l->host : "?", cs, t);
        free(t);
    }
    pthread_mutex_unlock(&l->mu);
    return line;
}

static void *ticker(void *arg)
{
    struct run_live *l = arg;
    for (;;) {
        struct pollfd p = {.fd = l->stop[0], .events = POLLIN};
        if (poll(&p, 1, LIVE_EVERY_MS) != 0)
            break;
        char *line = describe(l);
        term_tick(line);
        free(line);
    }
    term_tick(NULL);
    return NULL;
}

void live_start(run *r)
{
    if (!term_live())
        return;
    struct run_live *l = xcalloc(1, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
    if (pipe(l->stop) != 0) {
        free(l);
        return;
    }
    if (pthread_create(&l->thread, NULL, ticker, l) != 0) {
        close(l->stop[0]);
        close(l->stop[1]);
        free(l);
        return;
    }
    r->live = l;
}

void live_stop(run *r)
{
    struct run_live *l = r->live;
    if (!l)
        return;
    if (write(l->stop[1], "x", 1) != 1) {
        /* a pipe of our own cannot be full: the ticker ends either way */
    }
    pthread_join(l->thread, NULL);
    close(l->stop[0]);
    close(l->stop[1]);
    free(l->stage);
    free(l->host);
    free(l->case_name);
    pthread_mutex_destroy(&l->mu);
    free(l);
    r->live = NULL;
}

void live_stage_begin(run *r, const char *stage, const char *host, const char *case_name,
                      size_t nodes)
{
    struct run_live *l = r->live;
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    free(l->stage);
    free(l->host);
    free(l->case_name);
    l->stage = xstrdup(stage);
    l->host = xstrdup(host);
    l->case_name = xstrdup(case_name);
    l->nodes = nodes;
    l->done = l->running = 0;
    l->t0 = mono_ns();
    pthread_mutex_unlock(&l->mu);
}

void live_stage_end(run *r)
{
    struct run_live *l = r->live;
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    free(l->stage);
    l->stage = NULL;
    pthread_mutex_unlock(&l->mu);
    term_tick(NULL);
}

void live_node_started(run *r)
{
    struct run_live *l = r->live;
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->running++;
    pthread_mutex_unlock(&l->mu);
}

void live_node_done(run *r)
{
    struct run_live *l = r->live;
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    if (l->running)
        l->running--;
    l->done++;
    pthread_mutex_unlock(&l->mu);
}
