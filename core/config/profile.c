/* A stage's profile: section: which profiler plugin its measured runs go
 * under.  Every other key of the mapping is the profiler's own option,
 * checked against its schema when the plugins are bound (bind.c). */
#define _GNU_SOURCE
#include "config/config.h"
#include "config/keys.h"

#include <string.h>

#include "config/parse.h"

const cfg_key config_profile_keys[] = {
    {.name = "with", .type = KEY_STR, .offset = KEY_AT(cfg_profile, with), .dflt_str = "perf"},
    END};

void cfg_parse_stage_profile(vctx *v, cfg_stage *st, const ynode *pn, const char *sw)
{
    if (!pn || pn->is_null || !cfg_expect_type(v, pn, Y_MAP, "profile"))
        return;
    if (st->background) {
        ERR(v, ynode_key(st->node, "profile"), "%s: 'profile' does not apply to background "
            "stages (a profile covers a measured run, which a background stage does not have)",
            sw);
        return;
    }
    st->profile = xcalloc(1, sizeof *st->profile);
    st->profile->node = pn;
    /* unknown keys are the profiler's to judge (bind.c); bind ours */
    keys_bind(v->d, pn, config_profile_keys, st->profile, "profile");
    if (!st->profile->with)
        st->profile->with = "perf";
}
