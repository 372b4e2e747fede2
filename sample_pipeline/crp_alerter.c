/* crp_alerter: the `crp alerter` stage.  Scrapes the stages' /metrics
 * (libcurl multi: all targets in parallel, each bounded by the scrape
 * period) every --scrape-ms, feeds the samples to the rule evaluator
 * (crp_alert.c) and for every firing/resolved change emits an `alert`
 * event, logs it and queues it for the --webhook.  Serves its own /metrics
 * (alerts_firing, scrapes, webhook counters) and /health. */
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "crp_alert.h"
#include "crp_net.h"
#include "crp_stage.h"

#define MAX_TARGETS 32

typedef struct target {
    char name[64], url[160];
    CURL *c;
    crp_sb body;
    int ok;
} target;

static size_t collect(char *p, size_t sz, size_t n, void *u)
{
    crp_sb *b = u;
    if (crp_sb_printf(b, "%.*s", (int)(sz * n), p) < 0)
        return 0;
    return sz * n;
}

/* "name=host:port" or "name=port" (127.0.0.1), comma-separated. */
static int parse_targets(const char *spec, target *t, int max, char *err,
                         size_t n)
{
    char buf[CRP_STR];
    int k = 0;
    crp_strlcpy(buf, spec, sizeof buf);
    char *save = NULL;
    for (char *e = strtok_r(buf, ", ", &save); e;
         e = strtok_r(NULL, ", ", &save)) {
        char *eq = strchr(e, '=');
        if (!eq || eq == e || !eq[1] || k == max) {
            snprintf(err, n,
                     "--targets: \"%s\": expected name=port or name=host:port "
                     "(at most %d)",
                     e, max);
            return -1;
        }
        *eq = '\0';
        memset(&t[k], 0, sizeof t[k]);
        crp_strlcpy(t[k].name, e, sizeof t[k].name);
        snprintf(t[k].url, sizeof t[k].url, "http://%s%.100s/metrics",
                 strchr(eq + 1, ':') ? "" : "127.0.0.1:", eq + 1);
        k++;
    }
    if (k == 0) {
        snprintf(err, n, "--targets: no target");
        return -1;
    }
    return k;
}

/* Scrape every target in parallel, each within timeout_ms. */
static void scrape(target *t, int nt, int timeout_ms)
{
    CURLM *m = curl_multi_init();
    for (int i = 0; i < nt; i++) {
        crp_sb_reset(&t[i].body);
        t[i].ok = 0;
        t[i].c = curl_easy_init();
        if (!t[i].c)
            continue;
        curl_easy_setopt(t[i].c, CURLOPT_URL, t[i].url);
        curl_easy_setopt(t[i].c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
        curl_easy_setopt(t[i].c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(t[i].c, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(t[i].c, CURLOPT_WRITEDATA, &t[i].body);
        curl_easy_setopt(t[i].c, CURLOPT_PRIVATE, &t[i]);
        if (m)
            curl_multi_add_handle(m, t[i].c);
    }
    int running = 1;
    while (m && running) {
        if (curl_multi_perform(m, &running) != CURLM_OK)
            break;
        if (running)
            curl_multi_poll(m, NULL, 0, 50, NULL);
    }
    CURLMsg *msg;
    int left;
    while (m && (msg = curl_multi_info_read(m, &left))) {
        target *tg = NULL;
        long code = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&tg);
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
        if (tg && msg->msg == CURLMSG_DONE && msg->data.result == CURLE_OK &&
            code == 200 && tg->body.s)
            tg->ok = 1;
    }
    for (int i = 0; i < nt; i++)
        if (t[i].c) {
            if (m)
                curl_multi_remove_handle(m, t[i].c);
            curl_easy_cleanup(t[i].c);
            t[i].c = NULL;
        }
    curl_multi_cleanup(m);
}

static void fmt_num(char *b, size_t n, double v)
{
    if (isnan(v) || isinf(v))
        snprintf(b, n, "null");
    else
        snprintf(b, n, "%.6g", v);
}

int crp_alert_main(crp_ctx *x)
{
    const crp_conf *c = &x->c;
    static target t[MAX_TARGETS];
    char err[512] = "";
    crp_alert_set *s = NULL;
    crp_alert_hook *hook = NULL;
    int rc = 1, nt;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if ((nt = parse_targets(c->alert_targets, t, MAX_TARGETS, err,
                            sizeof err)) < 0)
        goto out;
    s = c->alert_rules[0]
            ? crp_alert_load(c->alert_rules, c->defects, err, sizeof err)
            : crp_alert_parse(crp_alert_default_rules, c->defects, err,
                              sizeof err);
    if (!s)
        goto out;
    if (c->webhook[0] && !(hook = crp_alert_hook_start(c->webhook, 3, 200, 2000,
                                                       err, sizeof err)))
        goto out;
    crp_metric *m_firing =
        crp_http_metric(x->http, "alerts_firing", CRP_GAUGE, "rules firing");
    crp_metric *m_scr = crp_http_metric(x->http, "scrapes_total", CRP_COUNTER,
                                        "target scrapes");
    crp_metric *m_scr_fail = crp_http_metric(x->http, "scrape_failures_total",
                                             CRP_COUNTER, "failed scrapes");
    crp_metric *m_eval = crp_http_metric(x->http, "evaluations_total",
                                         CRP_COUNTER, "rule set evaluations");
    crp_metric *m_notif = crp_http_metric(
        x->http, "notifications_total", CRP_COUNTER, "firing/resolved changes");
    crp_metric *m_hook_ok = crp_http_metric(
        x->http, "webhook_sent_total", CRP_COUNTER, "webhook posts delivered");
    crp_metric *m_hook_fail = crp_http_metric(
        x->http, "webhook_failed_total", CRP_COUNTER, "webhook posts given up");
    crp_log(x, "alerter: %d rules over %d targets every %d ms%s%s",
            crp_alert_count(s), nt, c->scrape_ms, hook ? ", webhook " : "",
            hook ? c->webhook : "");
    crp_ev_emit(x->ev, "ready", NULL);
    long long hook_failed_seen = 0;
    int scrape_ms = c->scrape_ms < 50 ? 50 : c->scrape_ms;
    while (!crp_stop_requested) {
        int64_t start = crp_mono_ms();
        scrape(t, nt, scrape_ms * 4 / 5);
        double now = crp_now();
        for (int i = 0; i < nt; i++) {
            crp_metric_add(m_scr, 1);
            if (!t[i].ok)
                crp_metric_add(m_scr_fail, 1);
            crp_alert_observe(s, t[i].name, t[i].ok ? t[i].body.s : NULL, now);
        }
        crp_alert_change ch[16];
        int k = crp_alert_eval(s, now, ch, 16);
        crp_metric_add(m_eval, 1);
        for (int i = 0; i < k && i < 16; i++) {
            char v[32], th[32], fields[512];
            fmt_num(v, sizeof v, ch[i].value);
            fmt_num(th, sizeof th, ch[i].threshold);
            const char *st =
                ch[i].state == CRP_ALERT_FIRING ? "firing" : "resolved";
            snprintf(fields, sizeof fields,
                     "\"rule\":\"%s\",\"state\":\"%s\",\"value\":%s,"
                     "\"threshold\":%s,\"since\":%.3f",
                     ch[i].rule, st, v, th, ch[i].since);
            crp_ev_emit(x->ev, "alert", "%s", fields);
            crp_log(x, "alert %s %s (value %s, threshold %s)", ch[i].rule, st,
                    v, th);
            crp_metric_add(m_notif, 1);
            if (hook) {
                char body[700], inst[80];
                crp_json_esc(inst, sizeof inst, c->inst);
                snprintf(body, sizeof body,
                         "{%s,\"source\":\"%s\",\"ts\":%.3f}", fields, inst,
                         now);
                crp_alert_hook_send(hook, body);
            }
        }
        crp_metric_set(m_firing, crp_alert_firing(s));
        if (hook) {
            long long sent, failed;
            char why[256];
            crp_alert_hook_stats(hook, &sent, &failed, why, sizeof why);
            crp_metric_set(m_hook_ok, sent);
            crp_metric_set(m_hook_fail, failed);
            if (failed > hook_failed_seen)
                crp_log(x, "webhook: %lld post(s) given up: %s",
                        failed - hook_failed_seen, why);
            hook_failed_seen = failed;
        }
        int64_t left = scrape_ms - (crp_mono_ms() - start);
        if (left > 0)
            crp_sleep_ms(left);
    }
    crp_ev_emit(x->ev, "stopping", NULL);
    crp_ev_emit(x->ev, "stopped", NULL);
    rc = 0;
out:
    if (rc != 0)
        crp_log(x, "%s", err);
    crp_alert_hook_stop(hook);
    crp_alert_free(s);
    for (int i = 0; i < MAX_TARGETS; i++)
        crp_sb_free(&t[i].body);
    curl_global_cleanup();
    return rc;
}
