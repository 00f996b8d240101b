/*
 * Folded stacks (core/analysis/folded.c) and their flame graphs
 * (core/report/flame.c): the tree's totals, self and total samples per
 * function (a recursive function counted once per stack), lines that are
 * not stacks, the per-function difference of two profiles, the baseline
 * share of each path, and an SVG that escapes what it names.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/folded.h"
#include "report/flame.h"

static int failures;
#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);    \
            failures++;                                                                 \
        }                                                                               \
    } while (0)

static const ffunc *find(const ffunc *fs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(fs[i].name, name) == 0)
            return &fs[i];
    return NULL;
}

static void add(folded *f, const char *line)
{
    CHECK(folded_add_line(f, line, strlen(line)));
}

int main(void)
{
    folded a;
    folded_init(&a);
    add(&a, "main;work;heavy 30\n");
    add(&a, "main;work;light 10");
    add(&a, "main;rec;rec;rec 5");
    add(&a, "main;work;heavy 6"); /* the same stack again adds up */
    CHECK(!folded_add_line(&a, "no count here", 13));
    CHECK(!folded_add_line(&a, "a;b -3", 6));
    CHECK(folded_add_line(&a, "", 0)); /* an empty line is no stack and no error */
    CHECK(a.samples == 51);
    CHECK(a.nodes[0].total == 51);
    size_t n;
    ffunc *fs = folded_functions(&a, &n);
    const ffunc *h = find(fs, n, "heavy"), *w = find(fs, n, "work"), *r = find(fs, n, "rec");
    CHECK(h && h->self == 36 && h->total == 36);
    CHECK(w && w->self == 0 && w->total == 46);
    CHECK(r && r->self == 5 && r->total == 5); /* once per stack, not three times */
    CHECK(find(fs, n, "main")->total == 51);
    free(fs);

    cJSON *top = folded_top_json(&a, 2);
    const cJSON *self = cJSON_GetObjectItem(top, "top_self");
    CHECK(cJSON_GetArraySize(self) == 2);
    CHECK(strcmp(cJSON_GetObjectItem(cJSON_GetArrayItem(self, 0), "function")->valuestring,
                 "heavy") == 0);
    cJSON_Delete(top);

    folded b;
    folded_init(&b);
    add(&b, "main;work;heavy 30");
    add(&b, "main;work;light 30"); /* light grew from 10/51 to 30/60 */
    cJSON *d = folded_diff_json(&a, &b, 0);
    const cJSON *e;
    bool saw_light = false, saw_rec = false;
    cJSON_ArrayForEach(e, d)
    {
        const char *fn = cJSON_GetObjectItem(e, "function")->valuestring;
        double delta = cJSON_GetObjectItem(e, "self_delta")->valuedouble;
        if (strcmp(fn, "light") == 0) {
            saw_light = true;
            CHECK(delta > 0.30 && delta < 0.31); /* 0.5 - 10/51 */
        }
        if (strcmp(fn, "rec") == 0) {
            saw_rec = true; /* gone in b: listed with a share of 0 after */
            CHECK(cJSON_GetObjectItem(e, "self_after")->valuedouble == 0);
        }
    }
    CHECK(saw_light && saw_rec);
    cJSON_Delete(d);

    folded_mark_base(&b, &a);
    for (uint32_t i = 1; i < b.nnodes; i++)
        if (strcmp(b.names[b.nodes[i].name], "light") == 0)
            CHECK(b.nodes[i].base > 0.196 && b.nodes[i].base < 0.197); /* 10/51 */

    folded c;
    folded_init(&c);
    add(&c, "main;std::vector<int>::push_back&\"x\" 4");
    strbuf sb = {0};
    flame_svg(&sb, &c, "a <title> & more", false);
    CHECK(strstr(sb.buf, "std::vector&lt;int&gt;::push_back&amp;&quot;x&quot;") != NULL);
    CHECK(strstr(sb.buf, "a &lt;title&gt; &amp; more") != NULL);
    CHECK(strstr(sb.buf, "<script>") != NULL && strstr(sb.buf, "</svg>") != NULL);
    sb_free(&sb);
    flame_svg(&sb, &b, "diff", true);
    CHECK(strstr(sb.buf, "rgb(240,") != NULL); /* light grew: red */
    sb_free(&sb);

    /* Loading a file (totals summed once at the end, each stack reusing
     * the path it shares with the one before) and adding its lines one by
     * one build the same tree: sorted stacks, a stack that is a prefix of
     * the one before, the same stack twice, recursion, a longer one after. */
    const char *lines[] = {"main;a;b;c 3", "main;a;b 2", "main;a;b 2", "main;a;b;d 1",
                           "main;a;a;a 4", "main;x 5", "main;a;b;c;e;f 7", "main 1"};
    char path[] = "/tmp/benchctl-test-folded.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *wf = fdopen(fd, "w");
    folded one, file;
    folded_init(&one);
    folded_init(&file);
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        add(&one, lines[i]);
        fprintf(wf, "%s\n", lines[i]);
    }
    fclose(wf);
    char *err = NULL;
    CHECK(folded_load(&file, path, &err) && file.bad_lines == 0);
    unlink(path);
    CHECK(one.samples == 25 && file.samples == 25 && one.nnodes == file.nnodes);
    for (uint32_t i = 0; i < one.nnodes && one.nnodes == file.nnodes; i++)
        CHECK(one.nodes[i].total == file.nodes[i].total && one.nodes[i].self == file.nodes[i].self &&
              one.nodes[i].parent == file.nodes[i].parent &&
              strcmp(one.names[one.nodes[i].name], file.names[file.nodes[i].name]) == 0);
    fs = folded_functions(&file, &n);
    CHECK(find(fs, n, "a")->total == 19 && find(fs, n, "a")->self == 4); /* once per stack */
    CHECK(find(fs, n, "b")->total == 15 && find(fs, n, "b")->self == 4);
    CHECK(find(fs, n, "c")->total == 10 && find(fs, n, "main")->total == 25);
    CHECK(find(fs, n, "main")->self == 1 && find(fs, n, "f")->self == 7);
    free(fs);
    folded_free(&one);
    folded_free(&file);

    folded_free(&a);
    folded_free(&b);
    folded_free(&c);
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    else
        printf("ok - folded stacks and flame graphs\n");
    return failures != 0;
}
