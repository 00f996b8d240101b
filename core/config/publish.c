/* The publish: section: which publisher exports a finished run, and when.
 * Every other key of the section is the publisher's own option, checked
 * against its schema when the plugins are bound (bind.c). */
#define _GNU_SOURCE
#include "config/config.h"
#include "config/keys.h"

#include <string.h>

#include "config/parse.h"

static const char *const publish_on[] = {"success", "always", "never", NULL};

const cfg_key config_publish_keys[] = {
    {.name = "to", .type = KEY_STR, .offset = KEY_AT(cfg_publish, to), .flags = KEY_REQUIRED},
    {.name = "on", .type = KEY_ENUM, .offset = KEY_AT(cfg_publish, on), .choices = publish_on,
     .dflt_str = "success"},
    END};

void cfg_parse_publish(vctx *v, const ynode *p)
{
    cfg_publish *pub = &v->c->publish;
    if (!p || p->is_null || !cfg_expect_type(v, p, Y_MAP, "publish"))
        return;
    pub->node = p;
    /* unknown keys are the publisher's to judge (bind.c); bind ours */
    cfg_check_keys(v, p, NULL, "publish");
    keys_bind(v->d, p, config_publish_keys, pub, "publish");
    if (!pub->on)
        pub->on = "success";
}
