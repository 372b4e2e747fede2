/* cr_proxy_ctl: the fault proxy's toxic catalogue, its line protocol and
 * the `chaosrun proxy` command (see cr_proxy.h; the protocol is documented
 * in harness/proxy/README.md).
 *
 * The catalogue is shared with the scenario side (faults/proxy.c) so that
 * a toxic written in a scenario and one typed on the control socket are
 * checked by the same ranges and rules. */
#include "cr_proxy.h"

#include "base/cr_alloc.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define MS_MAX    3600000.0          /* one hour */
#define BYTES_MAX 9007199254740992.0 /* 2^53 */

/* Attribute names follow Toxiproxy's toxics. */
static const cr_proxy_toxic_kind kinds[CR_PTOX_COUNT] = {
    [CR_PTOX_LATENCY] =
        {"latency",
         "add a delay to every chunk of data (per chunk, in order)",
         0,
         {{"latency", "ms", NAN, 0, MS_MAX, "added delay"},
          {"jitter", "ms", 0, 0, MS_MAX,
           "uniform random +/- variation of each chunk's delay"}}},
    [CR_PTOX_BANDWIDTH] =
        {"bandwidth",
         "limit the rate of data",
         0,
         {{"rate", "KB/s", NAN, 1, 1e7,
           "rate limit in kilobytes (1000 bytes) per second"}}},
    [CR_PTOX_SLOW_CLOSE] = {"slow_close",
                            "delay passing on the end of stream (FIN)",
                            0,
                            {{"delay", "ms", NAN, 0, MS_MAX,
                              "delay of the close"}}},
    [CR_PTOX_TIMEOUT] =
        {"timeout",
         "stop passing data; close the connection after timeout ms "
         "(0: never; data flows again when the toxic is removed)",
         0,
         {{"timeout", "ms", 0, 0, MS_MAX,
           "close after this long (0: hold until removed)"}}},
    [CR_PTOX_RESET_PEER] =
        {"reset_peer",
         "reset the connection (TCP RST to both peers) after timeout ms",
         0,
         {{"timeout", "ms", 0, 0, MS_MAX,
           "delay before the reset, from the later of toxic start "
           "and connection start"}}},
    [CR_PTOX_SLICER] =
        {"slicer",
         "split data into small slices sent with a delay between them",
         0,
         {{"average_size", "bytes", NAN, 1, 65536, "mean slice size"},
          {"size_variation", "bytes", 0, 0, 65535,
           "uniform +/- variation of the slice size (< average_size)"},
          {"delay", "us", 0, 0, 1e9, "delay between slices"}}},
    [CR_PTOX_LIMIT_DATA] =
        {"limit_data",
         "close the connection after exactly `bytes` bytes passed",
         0,
         {{"bytes", "bytes", NAN, 0, BYTES_MAX,
           "bytes let through (counted from the toxic's start)"}}},
    [CR_PTOX_DOWN] =
        {"down",
         "take the link down: refuse new connections, drop existing ones",
         1,
         {{NULL, NULL, 0, 0, 0, NULL}}},
    [CR_PTOX_REFUSE] = {"refuse",
                        "accept new connections, then close them at once",
                        0,
                        {{NULL, NULL, 0, 0, 0, NULL}}},
};

const cr_proxy_toxic_kind *cr_proxy_toxic_kinds(void)
{
    return kinds;
}

int cr_proxy_toxic_type(const char *name)
{
    for (int i = 0; name && i < CR_PTOX_COUNT; i++)
        if (strcmp(kinds[i].name, name) == 0)
            return i;
    return -1;
}

const char *cr_proxy_toxic_suggest(const char *name)
{
    const char *best = NULL;
    int bd = 4;
    for (int i = 0; name && i < CR_PTOX_COUNT; i++) {
        int d = cr_levenshtein(name, kinds[i].name);
        if (d < bd) {
            bd = d;
            best = kinds[i].name;
        }
    }
    return best;
}

unsigned cr_proxy_stream_parse(const char *s)
{
    if (!s)
        return 0;
    if (!strcmp(s, "upstream") || !strcmp(s, "up"))
        return CR_PROXY_UP;
    if (!strcmp(s, "downstream") || !strcmp(s, "down"))
        return CR_PROXY_DOWN;
    if (!strcmp(s, "both"))
        return CR_PROXY_BOTH;
    return 0;
}

const char *cr_proxy_stream_name(unsigned streams)
{
    switch (streams) {
    case CR_PROXY_UP:
        return "upstream";
    case CR_PROXY_DOWN:
        return "downstream";
    case CR_PROXY_BOTH:
        return "both";
    default:
        return "none";
    }
}

void cr_proxy_toxic_init(cr_proxy_toxic *t, int type)
{
    memset(t, 0, sizeof *t);
    t->type = type;
    t->streams = CR_PROXY_DOWN; /* Toxiproxy's default */
    t->toxicity = 1.0;
    for (int i = 0; type >= 0 && type < CR_PTOX_COUNT && i < CR_PROXY_NATTR;
         i++)
        t->attr[i] = kinds[type].attr[i].name ? kinds[type].attr[i].dflt : 0;
}

int cr_proxy_toxic_check(const cr_proxy_toxic *t, cr_err *err)
{
    if (t->type < 0 || t->type >= CR_PTOX_COUNT)
        return cr_err_set(err, CR_EINVAL, "unknown toxic type %d", t->type);
    const cr_proxy_toxic_kind *k = &kinds[t->type];
    if (!(t->toxicity >= 0.0 && t->toxicity <= 1.0))
        return cr_err_set(err, CR_EINVAL,
                          "%s: toxicity must be within [0, 1] (got %g)",
                          k->name, t->toxicity);
    if (!t->streams || (t->streams & ~CR_PROXY_BOTH))
        return cr_err_set(err, CR_EINVAL, "%s: bad stream", k->name);
    for (int i = 0; i < CR_PROXY_NATTR && k->attr[i].name; i++) {
        const cr_proxy_attr *a = &k->attr[i];
        if (isnan(t->attr[i]))
            return cr_err_set(err, CR_EINVAL, "%s: attribute '%s' is required",
                              k->name, a->name);
        if (!(t->attr[i] >= a->min && t->attr[i] <= a->max))
            return cr_err_set(
                err, CR_EINVAL, "%s: %s must be within [%g, %g] %s (got %g)",
                k->name, a->name, a->min, a->max, a->unit, t->attr[i]);
    }
    if (t->type == CR_PTOX_SLICER && t->attr[1] >= t->attr[0])
        return cr_err_set(err, CR_EINVAL,
                          "slicer: size_variation (%g) must be smaller than "
                          "average_size (%g)",
                          t->attr[1], t->attr[0]);
    return 0;
}

static int parse_num(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int cr_proxy_toxic_parse_kv(cr_proxy_toxic *t, char **words, size_t nwords,
                            cr_err *err)
{
    const cr_proxy_toxic_kind *k = &kinds[t->type];
    for (size_t w = 0; w < nwords; w++) {
        char *eq = strchr(words[w], '=');
        if (!eq || eq == words[w])
            return cr_err_set(err, CR_EINVAL,
                              "%s: expected key=value, got '%s'", k->name,
                              words[w]);
        *eq = '\0';
        const char *key = words[w], *val = eq + 1;
        double v;
        if (!strcmp(key, "stream")) {
            t->streams = cr_proxy_stream_parse(val);
            if (!t->streams)
                return cr_err_set(err, CR_EINVAL,
                                  "%s: stream must be upstream, downstream or "
                                  "both (got '%s')",
                                  k->name, val);
            continue;
        }
        if (parse_num(val, &v) < 0)
            return cr_err_set(err, CR_EINVAL, "%s: %s: not a number: '%s'",
                              k->name, key, val);
        if (!strcmp(key, "toxicity")) {
            t->toxicity = v;
            continue;
        }
        int i = 0;
        while (i < CR_PROXY_NATTR && k->attr[i].name &&
               strcmp(k->attr[i].name, key) != 0)
            i++;
        if (i == CR_PROXY_NATTR || !k->attr[i].name) {
            char known[256] = "stream, toxicity";
            for (int j = 0; j < CR_PROXY_NATTR && k->attr[j].name; j++) {
                strncat(known, ", ", sizeof known - strlen(known) - 1);
                strncat(known, k->attr[j].name,
                        sizeof known - strlen(known) - 1);
            }
            return cr_err_set(err, CR_EINVAL,
                              "%s: unknown attribute '%s' (known: %s)", k->name,
                              key, known);
        }
        t->attr[i] = v;
    }
    return cr_proxy_toxic_check(t, err);
}

/* ---- the line protocol ------------------------------------------------- */

#define MAX_WORDS 32

static const char help_text[] =
    "ok commands: ping | links | stats | toxic add LINK NAME TYPE [stream=S] "
    "[toxicity=F] [ATTR=V...] | toxic update LINK NAME [toxicity=F] "
    "[ATTR=V...] | toxic remove LINK NAME | reset | "
    "link add NAME LISTEN UPSTREAM | link update NAME LISTEN UPSTREAM | "
    "link enable NAME | link disable NAME | link remove NAME | quit";

static char *reply_err(const cr_err *e)
{
    return cr_asprintf("err %s", e->msg);
}

static char *reply_json(json_t *j)
{
    if (!j)
        return NULL;
    /* 15 significant digits: what a double holds of a decimal, so 0.3
     * reads 0.3 rather than jansson's default 0.29999999999999999. */
    char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(j);
    char *r = s ? cr_strdup(s) : NULL;
    free(s);
    return r;
}

static char *cmd_toxic_add(cr_proxy *p, char **w, size_t n)
{
    cr_err e;
    cr_err_clear(&e);
    if (n < 5)
        return cr_asprintf(
            "err usage: toxic add LINK NAME TYPE [key=value...]");
    int type = cr_proxy_toxic_type(w[4]);
    if (type < 0) {
        const char *s = cr_proxy_toxic_suggest(w[4]);
        return cr_asprintf("err unknown toxic '%s'%s%s%s", w[4],
                           s ? " (did you mean '" : "", s ? s : "",
                           s ? "'?)" : "");
    }
    cr_proxy_toxic t;
    cr_proxy_toxic_init(&t, type);
    if (cr_proxy_toxic_parse_kv(&t, w + 5, n - 5, &e) < 0 ||
        cr_proxy_toxic_add(p, w[2], w[3], &t, &e) < 0)
        return reply_err(&e);
    return cr_asprintf("ok toxic %s added to %s", w[3], w[2]);
}

static char *cmd_toxic_update(cr_proxy *p, char **w, size_t n)
{
    cr_err e;
    cr_err_clear(&e);
    if (n < 4)
        return cr_asprintf(
            "err usage: toxic update LINK NAME [toxicity=F] [ATTR=V...]");
    cr_proxy_toxic t;
    if (cr_proxy_toxic_get(p, w[2], w[3], &t, &e) < 0 ||
        cr_proxy_toxic_parse_kv(&t, w + 4, n - 4, &e) < 0 ||
        cr_proxy_toxic_update(p, w[2], w[3], &t, &e) < 0)
        return reply_err(&e);
    return cr_asprintf("ok toxic %s updated on %s", w[3], w[2]);
}

/* link add|update|enable|disable|remove ... */
static char *cmd_link(cr_proxy *p, char **w, size_t n)
{
    cr_err e;
    cr_err_clear(&e);
    int rc;
    if (!strcmp(w[1], "add") || !strcmp(w[1], "update")) {
        if (n != 5)
            return cr_asprintf("err usage: link %s NAME LISTEN UPSTREAM", w[1]);
        rc = !strcmp(w[1], "add")
                 ? cr_proxy_link_add(p, w[2], w[3], w[4], &e)
                 : cr_proxy_link_update(p, w[2], w[3], w[4], &e);
        if (rc < 0)
            return reply_err(&e);
        return cr_asprintf("ok link %s listening on port %d", w[2],
                           cr_proxy_link_port(p, w[2]));
    }
    int en = !strcmp(w[1], "enable"), dis = !strcmp(w[1], "disable");
    if (en || dis || !strcmp(w[1], "remove")) {
        if (n != 3)
            return cr_asprintf("err usage: link %s NAME", w[1]);
        rc = en || dis ? cr_proxy_link_set_enabled(p, w[2], en, &e)
                       : cr_proxy_link_remove(p, w[2], &e);
        if (rc < 0)
            return reply_err(&e);
        return cr_asprintf("ok link %s %s", w[2],
                           en    ? "enabled"
                           : dis ? "disabled"
                                 : "removed");
    }
    return cr_asprintf("err unknown command 'link %s' (try 'help')", w[1]);
}

char *cr_proxy_command(cr_proxy *p, const char *line)
{
    char buf[4096];
    char *w[MAX_WORDS];
    size_t n = 0;
    cr_err e;
    cr_err_clear(&e);
    if (line && strlen(line) >= sizeof buf) /* never run a truncated line */
        return cr_asprintf("err line too long (max %zu bytes)", sizeof buf - 1);
    snprintf(buf, sizeof buf, "%s", line ? line : "");
    for (char *save = NULL, *tok = strtok_r(buf, " \t", &save); tok;
         tok = strtok_r(NULL, " \t", &save)) {
        if (n == MAX_WORDS)
            return cr_asprintf("err too many words (max %d)", MAX_WORDS);
        w[n++] = tok;
    }
    if (n == 0)
        return cr_asprintf("err empty command (try 'help')");
    if (!strcmp(w[0], "ping") && n == 1)
        return cr_asprintf("ok pong");
    if (!strcmp(w[0], "help"))
        return cr_strdup(help_text);
    if (!strcmp(w[0], "stats") && n == 1)
        return reply_json(cr_proxy_stats(p));
    if (!strcmp(w[0], "links") && n == 1)
        return reply_json(cr_proxy_links_json(p));
    if (!strcmp(w[0], "quit") && n == 1) {
        cr_proxy_request_stop(p);
        return cr_asprintf("ok bye");
    }
    if (!strcmp(w[0], "reset") && n == 1) {
        if (cr_proxy_toxic_reset(p, &e) < 0)
            return reply_err(&e);
        return cr_asprintf("ok reset");
    }
    if (!strcmp(w[0], "toxic") && n >= 2 && !strcmp(w[1], "add"))
        return cmd_toxic_add(p, w, n);
    if (!strcmp(w[0], "toxic") && n >= 2 && !strcmp(w[1], "remove")) {
        if (n != 4)
            return cr_asprintf("err usage: toxic remove LINK NAME");
        if (cr_proxy_toxic_remove(p, w[2], w[3], &e) < 0)
            return reply_err(&e);
        return cr_asprintf("ok toxic %s removed from %s", w[3], w[2]);
    }
    if (!strcmp(w[0], "toxic") && n >= 2 && !strcmp(w[1], "update"))
        return cmd_toxic_update(p, w, n);
    if (!strcmp(w[0], "link") && n >= 2)
        return cmd_link(p, w, n);
    return cr_asprintf("err unknown command '%s' (try 'help')", w[0]);
}
