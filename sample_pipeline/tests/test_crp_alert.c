/* Unit tests of crp_alert: the rule evaluator (for_s state machine, rates
 * over counter resets, ratios with a zero denominator, gauges of targets
 * that went down, no progress), the defect switches, rules-file errors,
 * and the webhook sender against a libmicrohttpd receiver in the test. */
#include "cr_test.h"

#include <arpa/inet.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crp_alert.h"
#include "crp_conf.h"

static crp_alert_set *parse(const char *json, unsigned defects)
{
    char err[300] = "";
    crp_alert_set *s = crp_alert_parse(json, defects, err, sizeof err);
    if (!s)
        printf("parse: %s\n", err);
    return s;
}

static const char GAUGE_RULE[] =
    "[{\"name\":\"brk\",\"expr\":\"gauge\",\"metric\":\"crp_worker_breaker_"
    "state\",\"op\":\">=\",\"threshold\":1,\"for_s\":2}]";

static void gauge(crp_alert_set *s, const char *target, int v, double t)
{
    char body[200];
    snprintf(body, sizeof body,
             "# TYPE crp_worker_breaker_state gauge\n"
             "crp_worker_breaker_state %d\ncrp_worker_other 7\n",
             v);
    CU_ASSERT_EQUAL(crp_alert_observe(s, target, body, t), 1);
}

static void test_crp_alert_pending_then_firing_after_for_s(void)
{
    crp_alert_set *s = parse(GAUGE_RULE, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    crp_alert_change ch[4];
    gauge(s, "worker.0", 0, 100);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 100, ch, 4), 0);
    CU_ASSERT_EQUAL(crp_alert_state(s, 0), CRP_ALERT_INACTIVE);
    gauge(s, "worker.0", 1, 101);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 101, ch, 4), 0);
    CU_ASSERT_EQUAL(crp_alert_state(s, 0), CRP_ALERT_PENDING);
    gauge(s, "worker.0", 1, 102.5);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 102.5, ch, 4), 0);
    CU_ASSERT_EQUAL(crp_alert_state(s, 0), CRP_ALERT_PENDING);
    CU_ASSERT_EQUAL(crp_alert_firing(s), 0);
    gauge(s, "worker.0", 2, 103);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 103, ch, 4), 1);
    CU_ASSERT_STRING_EQUAL(ch[0].rule, "brk");
    CU_ASSERT_EQUAL(ch[0].state, CRP_ALERT_FIRING);
    CU_ASSERT_DOUBLE_EQUAL(ch[0].value, 2, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(ch[0].threshold, 1, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(ch[0].since, 101, 1e-9);
    CU_ASSERT_EQUAL(crp_alert_firing(s), 1);
    /* still holding: no new change */
    gauge(s, "worker.0", 1, 104);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 104, ch, 4), 0);
    crp_alert_free(s);
}

static void test_crp_alert_resolves_and_pending_is_silent(void)
{
    crp_alert_set *s = parse(GAUGE_RULE, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    crp_alert_change ch[4];
    /* pending that stops holding before for_s: back to inactive, silent */
    gauge(s, "worker.0", 1, 0);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 0, ch, 4), 0);
    gauge(s, "worker.0", 0, 1.5);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 1.5, ch, 4), 0);
    CU_ASSERT_EQUAL(crp_alert_state(s, 0), CRP_ALERT_INACTIVE);
    gauge(s, "worker.0", 1, 2);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 2, ch, 4), 0);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 3.9, ch, 4), 0); /* since 2, not 0 */
    CU_ASSERT_EQUAL(crp_alert_eval(s, 4, ch, 4), 1);
    CU_ASSERT_EQUAL(ch[0].state, CRP_ALERT_FIRING);
    /* two targets, max aggregation: one open keeps it firing */
    gauge(s, "worker.1", 0, 5);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 5, ch, 4), 0);
    gauge(s, "worker.0", 0, 6);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 6, ch, 4), 1);
    CU_ASSERT_EQUAL(ch[0].state, CRP_ALERT_INACTIVE); /* resolved */
    CU_ASSERT_DOUBLE_EQUAL(ch[0].value, 0, 1e-9);
    CU_ASSERT_EQUAL(crp_alert_firing(s), 0);
    crp_alert_free(s);
}

static void test_crp_alert_target_down_has_no_gauge(void)
{
    crp_alert_set *s = parse(
        "[{\"name\":\"g\",\"expr\":\"gauge\",\"metric\":\"crp_worker_breaker_"
        "state\",\"op\":\">=\",\"threshold\":1}]",
        0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    crp_alert_change ch[2];
    gauge(s, "worker.0", 1, 0);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 0, ch, 2), 1); /* for_s 0: at once */
    CU_ASSERT_EQUAL(crp_alert_observe(s, "worker.0", NULL, 1), 0);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 1, ch, 2), 1);
    CU_ASSERT_EQUAL(ch[0].state, CRP_ALERT_INACTIVE);
    CU_ASSERT_TRUE(isnan(ch[0].value));
    crp_alert_free(s);
}

static void counter(crp_alert_set *s, const char *target, const char *name,
                    double v, double t)
{
    char body[200];
    snprintf(body, sizeof body, "# TYPE %s counter\n%s %g\n", name, name, v);
    crp_alert_observe(s, target, body, t);
}

static void test_crp_alert_rate_over_counter_reset(void)
{
    crp_alert_set *s =
        parse("{\"rules\":[{\"name\":\"r\",\"expr\":\"rate\",\"metric\":\"c_"
              "total\",\"window_s\":3,\"threshold\":5}]}",
              0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    crp_alert_change ch[2];
    counter(s, "a", "c_total", 100, 10);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 10, ch, 2), 0);
    CU_ASSERT_TRUE(isnan(crp_alert_value(s, 0))); /* one sample: no rate */
    counter(s, "a", "c_total", 110, 11);
    counter(s, "a", "c_total", 120, 12);
    counter(s, "a", "c_total", 5, 13); /* restarted: reset, +5 */
    crp_alert_eval(s, 13, ch, 2);
    CU_ASSERT_DOUBLE_EQUAL(crp_alert_value(s, 0), 25.0 / 3, 1e-9);
    /* a second target adds its own rate */
    counter(s, "b", "c_total", 0, 12);
    counter(s, "b", "c_total", 3, 13);
    crp_alert_eval(s, 13, ch, 2);
    CU_ASSERT_DOUBLE_EQUAL(crp_alert_value(s, 0), 25.0 / 3 + 3, 1e-9);
    /* older samples leave the window */
    counter(s, "a", "c_total", 5, 16);
    counter(s, "b", "c_total", 3, 16);
    crp_alert_eval(s, 16, ch, 2);
    CU_ASSERT_DOUBLE_EQUAL(crp_alert_value(s, 0), 0, 1e-9);
    crp_alert_free(s);
}

static void test_crp_alert_ratio_zero_denominator(void)
{
    crp_alert_set *s = parse(
        "[{\"name\":\"err\",\"expr\":\"ratio\",\"metric\":\"failed_total\","
        "\"over\":[\"ok_total\",\"failed_total\"],\"window_s\":10,"
        "\"threshold\":0.5}]",
        0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    crp_alert_change ch[2];
    const char *b0 = "ok_total 10\nfailed_total 0\n";
    crp_alert_observe(s, "w", b0, 0);
    crp_alert_observe(s, "w", b0, 1);
    /* no traffic: 0/0 has no value, the rule does not hold */
    CU_ASSERT_EQUAL(crp_alert_eval(s, 1, ch, 2), 0);
    CU_ASSERT_TRUE(isnan(crp_alert_value(s, 0)));
    crp_alert_observe(s, "w", "ok_total 12\nfailed_total 6\n", 2);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 2, ch, 2), 1);
    CU_ASSERT_DOUBLE_EQUAL(crp_alert_value(s, 0), 6.0 / 8, 1e-9);
    CU_ASSERT_EQUAL(ch[0].state, CRP_ALERT_FIRING);
    crp_alert_free(s);
}

/* A pending or firing ratio keeps its state through windows without
 * traffic; a first ratio still needs traffic to start. */
static void obs(crp_alert_set *s, int ok, int failed, double t)
{
    char body[80];
    snprintf(body, sizeof body, "ok_total %d\nfailed_total %d\n", ok, failed);
    crp_alert_observe(s, "w", body, t);
}

static void test_crp_alert_ratio_idle_keeps_state(void)
{
    crp_alert_set *s = parse(
        "[{\"name\":\"err\",\"expr\":\"ratio\",\"metric\":\"failed_total\","
        "\"over\":[\"ok_total\",\"failed_total\"],\"window_s\":1,"
        "\"threshold\":0.5,\"for_s\":3}]",
        0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    crp_alert_change ch[2];
    obs(s, 10, 0, 0);
    obs(s, 10, 5, 0.5);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 0.5, ch, 2), 0);
    CU_ASSERT_EQUAL(crp_alert_state(s, 0), CRP_ALERT_PENDING);
    /* a second without traffic: still pending, since 0.5 */
    obs(s, 10, 5, 1.0);
    obs(s, 10, 5, 1.6);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 1.6, ch, 2), 0);
    CU_ASSERT_TRUE(isnan(crp_alert_value(s, 0)));
    CU_ASSERT_EQUAL(crp_alert_state(s, 0), CRP_ALERT_PENDING);
    for (int k = 0; k < 4; k++)
        obs(s, 10, 7 + 2 * k, 2.0 + 0.5 * k);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 3.5, ch, 2), 1);
    CU_ASSERT_EQUAL(ch[0].state, CRP_ALERT_FIRING);
    CU_ASSERT_DOUBLE_EQUAL(ch[0].since, 0.5, 1e-9);
    /* firing through a lull: no change */
    obs(s, 10, 13, 4.0);
    obs(s, 10, 13, 4.6);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 4.6, ch, 2), 0);
    CU_ASSERT_EQUAL(crp_alert_firing(s), 1);
    /* traffic that is fine again resolves it */
    obs(s, 30, 13, 5.0);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 5.0, ch, 2), 1);
    CU_ASSERT_EQUAL(ch[0].state, CRP_ALERT_INACTIVE);
    crp_alert_free(s);
}

static void test_crp_alert_no_progress(void)
{
    crp_alert_set *s = parse(
        "[{\"name\":\"stalled\",\"expr\":\"no_progress\",\"metric\":\"out_"
        "total\",\"threshold\":5}]",
        0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    crp_alert_change ch[2];
    CU_ASSERT_EQUAL(crp_alert_eval(s, 0, ch, 2), 0); /* no data */
    counter(s, "sink", "out_total", 1, 0);
    counter(s, "sink", "out_total", 4, 2);
    counter(s, "sink", "out_total", 4, 6);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 6, ch, 2), 0);
    CU_ASSERT_DOUBLE_EQUAL(crp_alert_value(s, 0), 4, 1e-9);
    counter(s, "sink", "out_total", 0, 8); /* a reset is no progress */
    CU_ASSERT_EQUAL(crp_alert_eval(s, 8, ch, 2), 1);
    CU_ASSERT_EQUAL(ch[0].state, CRP_ALERT_FIRING);
    counter(s, "sink", "out_total", 2, 9);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 9, ch, 2), 1);
    CU_ASSERT_EQUAL(ch[0].state, CRP_ALERT_INACTIVE);
    crp_alert_free(s);
}

static void test_crp_alert_defects(void)
{
    crp_alert_change ch[2];
    crp_alert_set *s = parse(GAUGE_RULE, CRP_DEFECT_ALERT_NO_FOR);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    gauge(s, "w", 1, 0);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 0, ch, 2), 1); /* for_s ignored */
    CU_ASSERT_EQUAL(ch[0].state, CRP_ALERT_FIRING);
    crp_alert_free(s);
    s = parse(GAUGE_RULE, CRP_DEFECT_ALERT_NEVER_RESOLVES);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    gauge(s, "w", 1, 0);
    crp_alert_eval(s, 0, ch, 2);
    gauge(s, "w", 1, 2);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 2, ch, 2), 1);
    gauge(s, "w", 0, 3);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 3, ch, 2), 0); /* never resolved */
    CU_ASSERT_EQUAL(crp_alert_firing(s), 1);
    crp_alert_free(s);
}

static void test_crp_alert_labelled_series_and_defect_names(void)
{
    crp_alert_set *s =
        parse("[{\"name\":\"h\",\"expr\":\"rate\",\"metric\":\"lat_bucket{le="
              "\\\"+Inf\\\"}\",\"window_s\":5,\"threshold\":1}]",
              0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    crp_alert_change ch[2];
    CU_ASSERT_EQUAL(
        crp_alert_observe(s, "w",
                          "lat_bucket{le=\"1\"} 1\n"
                          "lat_bucket{le=\"+Inf\"} 2\nlat_count 2\n",
                          0),
        1);
    crp_alert_observe(s, "w", "lat_bucket{le=\"+Inf\"} 6 1795000000000\n", 2);
    CU_ASSERT_EQUAL(crp_alert_eval(s, 2, ch, 2), 1);
    CU_ASSERT_DOUBLE_EQUAL(crp_alert_value(s, 0), 2, 1e-9);
    crp_alert_free(s);
    unsigned bits = 0;
    CU_ASSERT_EQUAL(
        crp_conf_defects("alert_no_for,alert_never_resolves", &bits), 0);
    CU_ASSERT_EQUAL(bits,
                    CRP_DEFECT_ALERT_NO_FOR | CRP_DEFECT_ALERT_NEVER_RESOLVES);
}

static void test_crp_alert_default_rules_parse(void)
{
    crp_alert_set *s = parse(crp_alert_default_rules, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_TRUE(crp_alert_count(s) >= 4);
    CU_ASSERT_STRING_EQUAL(crp_alert_name(s, 0), "feature-error-ratio");
    crp_alert_free(s);
}

static void test_crp_alert_bad_rules(void)
{
    static const struct {
        const char *json, *msg;
    } bad[] = {
        {"[{\"name\":\"a\",\"expr\":\"gauge\",\"metric\":\"m\"}]",
         "rule \"a\": field \"threshold\": required number"},
        {"[{\"name\":\"a\",\"expr\":\"gauge\",\"metric\":\"m\",\"threshold\":"
         "\"1\"}]",
         "rule \"a\": field \"threshold\": must be a number"},
        {"[{\"name\":\"a\",\"expr\":\"avg\",\"metric\":\"m\",\"threshold\":1}]",
         "rule \"a\": field \"expr\": must be one of rate, ratio"},
        {"[{\"name\":\"a\",\"expr\":\"ratio\",\"metric\":\"m\",\"threshold\":"
         "1}]",
         "rule \"a\": field \"over\": required for a ratio"},
        {"[{\"name\":\"a\",\"expr\":\"rate\",\"metric\":\"m\",\"threshold\":1,"
         "\"fro_s\":2}]",
         "rule \"a\": field \"fro_s\": unknown"},
        {"[{\"name\":\"a\",\"expr\":\"rate\",\"metric\":\"m\",\"threshold\":1,"
         "\"for_s\":-1}]",
         "rule \"a\": field \"for_s\": must be in"},
        {"[{\"name\":\"a\",\"expr\":\"rate\",\"metric\":[],\"threshold\":1}]",
         "rule \"a\": field \"metric\": 1 to"},
        {"[{\"name\":\"a\",\"expr\":\"gauge\",\"metric\":\"m\",\"op\":\"=>\","
         "\"threshold\":1}]",
         "rule \"a\": field \"op\": must be one of"},
        {"[{\"name\":\"a\",\"expr\":\"gauge\",\"metric\":\"m\",\"threshold\":1}"
         ","
         "{\"name\":\"a\",\"expr\":\"gauge\",\"metric\":\"m\",\"threshold\":1}"
         "]",
         "rule \"a\": field \"name\": duplicate"},
        {"[{\"expr\":\"gauge\"}]", "rule 1: field \"name\": required"},
        {"[{\"name\":\"a b\"}]", "rule 1: field \"name\": only letters"},
        {"{\"rules\":[]}", "\"rules\": must be a non-empty array"},
        {"[1,", "line 1:"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[300] = "";
        crp_alert_set *s = crp_alert_parse(bad[i].json, 0, err, sizeof err);
        CU_ASSERT_PTR_NULL(s);
        crp_alert_free(s);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].msg));
        if (!strstr(err, bad[i].msg))
            printf("case %zu: \"%s\"\n", i, err);
    }
    /* from a file: the message names the file, the rule and the field */
    char *dir = cr_test_tmpdir();
    char path[512], err[400] = "";
    snprintf(path, sizeof path, "%s/rules.json", dir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("{\"rules\":[{\"name\":\"ok\",\"expr\":\"gauge\",\"metric\":\"m\","
          "\"threshold\":1},{\"name\":\"late\",\"expr\":\"rate\",\"metric\":"
          "\"m\",\"threshold\":1,\"window_s\":0}]}",
          f);
    fclose(f);
    CU_ASSERT_PTR_NULL(crp_alert_load(path, 0, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "rule \"late\": field \"window_s\""));
    CU_ASSERT_PTR_NULL(
        crp_alert_load("/nonexistent/r.json", 0, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/r.json"));
    unlink(path);
    rmdir(dir);
    free(dir);
}

/* ---- webhook against a libmicrohttpd receiver ---- */

typedef struct receiver {
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t lock;
    int requests, fail_first;
    char body[1024];
} receiver;

typedef struct upload {
    char buf[1024];
    size_t len;
} upload;

static enum MHD_Result on_req(void *cls, struct MHD_Connection *conn,
                              const char *url, const char *method,
                              const char *version, const char *data,
                              size_t *size, void **ptr)
{
    receiver *r = cls;
    (void)url;
    (void)version;
    if (!*ptr) {
        *ptr = calloc(1, sizeof(upload));
        return *ptr ? MHD_YES : MHD_NO;
    }
    upload *u = *ptr;
    if (*size) {
        size_t n = *size < sizeof u->buf - 1 - u->len
                       ? *size
                       : sizeof u->buf - 1 - u->len;
        memcpy(u->buf + u->len, data, n);
        u->len += n;
        *size = 0;
        return MHD_YES;
    }
    unsigned status = 200;
    pthread_mutex_lock(&r->lock);
    r->requests++;
    if (strcmp(method, "POST") != 0 || r->requests <= r->fail_first)
        status = 500;
    else
        snprintf(r->body, sizeof r->body, "%s", u->buf);
    pthread_mutex_unlock(&r->lock);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void on_done(void *cls, struct MHD_Connection *c, void **ptr,
                    enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)c;
    (void)code;
    free(*ptr);
    *ptr = NULL;
}

static int receiver_start(receiver *r, int fail_first)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    r->fail_first = fail_first;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0,
                            NULL, NULL, on_req, r, MHD_OPTION_SOCK_ADDR, &sa,
                            MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
                            MHD_OPTION_END);
    if (!r->d)
        return -1;
    const union MHD_DaemonInfo *di =
        MHD_get_daemon_info(r->d, MHD_DAEMON_INFO_BIND_PORT);
    r->port = di ? di->port : 0;
    return r->port > 0 ? 0 : -1;
}

static void receiver_stop(receiver *r)
{
    if (r->d)
        MHD_stop_daemon(r->d);
    pthread_mutex_destroy(&r->lock);
}

/* Wait (bounded, not a timing assertion) until sent+failed >= n. */
static void wait_done(crp_alert_hook *h, long long n, long long *sent,
                      long long *failed, char *err, size_t en)
{
    for (int i = 0; i < 1000; i++) {
        crp_alert_hook_stats(h, sent, failed, err, en);
        if (*sent + *failed >= n)
            return;
        usleep(10000);
    }
}

static void test_crp_alert_webhook_delivers_with_retries(void)
{
    receiver r;
    CU_ASSERT_EQUAL_FATAL(receiver_start(&r, 2), 0);
    char url[64], err[256] = "";
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", r.port);
    crp_alert_hook *h = crp_alert_hook_start(url, 3, 10, 2000, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    const char *p = "{\"rule\":\"brk\",\"state\":\"firing\"}";
    CU_ASSERT_EQUAL(crp_alert_hook_send(h, p), 0);
    long long sent = 0, failed = 0;
    wait_done(h, 1, &sent, &failed, err, sizeof err);
    CU_ASSERT_EQUAL(sent, 1);
    CU_ASSERT_EQUAL(failed, 0);
    pthread_mutex_lock(&r.lock);
    CU_ASSERT_EQUAL(r.requests, 3); /* two 500s, then delivered */
    CU_ASSERT_STRING_EQUAL(r.body, p);
    pthread_mutex_unlock(&r.lock);
    crp_alert_hook_stop(h);
    receiver_stop(&r);

    /* always failing: given up after the attempts, error recorded */
    CU_ASSERT_EQUAL_FATAL(receiver_start(&r, 1000), 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", r.port);
    h = crp_alert_hook_start(url, 3, 10, 2000, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    crp_alert_hook_send(h, p);
    wait_done(h, 1, &sent, &failed, err, sizeof err);
    CU_ASSERT_EQUAL(sent, 0);
    CU_ASSERT_EQUAL(failed, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "HTTP status 500"));
    pthread_mutex_lock(&r.lock);
    CU_ASSERT_EQUAL(r.requests, 3);
    pthread_mutex_unlock(&r.lock);
    crp_alert_hook_stop(h);
    receiver_stop(&r);

    CU_ASSERT_PTR_NULL(
        crp_alert_hook_start("ftp://x", 3, 10, 100, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "http://"));
}

/* A receiver that accepts connections and never answers: every attempt
 * times out.  send() must still return at once: the posts wait in the
 * queue (none is done or failed right after the sends), and overflow
 * drops the oldest instead of blocking. */
static void test_crp_alert_webhook_failure_does_not_block(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CU_ASSERT_TRUE_FATAL(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    CU_ASSERT_EQUAL_FATAL(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    CU_ASSERT_EQUAL_FATAL(listen(fd, 128), 0);
    CU_ASSERT_EQUAL_FATAL(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    char url[64], err[256] = "";
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", ntohs(sa.sin_port));
    /* 3 attempts of 60 s each: nothing can complete during the test */
    crp_alert_hook *h =
        crp_alert_hook_start(url, 3, 10, 60000, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    for (int i = 0; i < 100; i++)
        CU_ASSERT_EQUAL(crp_alert_hook_send(h, "{\"rule\":\"x\"}"), 0);
    long long sent, failed;
    crp_alert_hook_stats(h, &sent, &failed, err, sizeof err);
    CU_ASSERT_EQUAL(sent, 0);
    /* 100 sends, one in flight, 64 queued: the rest dropped (failed) */
    CU_ASSERT_TRUE(failed >= 100 - 64 - 1 && failed <= 100 - 64);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "queue full"));
    /* stop aborts the hung 60 s attempt (this test would hang otherwise) */
    crp_alert_hook_stop(h);
    close(fd);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("crp_alert", NULL, NULL);
    CR_ADD_TEST(s, test_crp_alert_pending_then_firing_after_for_s);
    CR_ADD_TEST(s, test_crp_alert_resolves_and_pending_is_silent);
    CR_ADD_TEST(s, test_crp_alert_target_down_has_no_gauge);
    CR_ADD_TEST(s, test_crp_alert_rate_over_counter_reset);
    CR_ADD_TEST(s, test_crp_alert_ratio_zero_denominator);
    CR_ADD_TEST(s, test_crp_alert_ratio_idle_keeps_state);
    CR_ADD_TEST(s, test_crp_alert_no_progress);
    CR_ADD_TEST(s, test_crp_alert_defects);
    CR_ADD_TEST(s, test_crp_alert_labelled_series_and_defect_names);
    CR_ADD_TEST(s, test_crp_alert_default_rules_parse);
    CR_ADD_TEST(s, test_crp_alert_bad_rules);
    CR_ADD_TEST(s, test_crp_alert_webhook_delivers_with_retries);
    CR_ADD_TEST(s, test_crp_alert_webhook_failure_does_not_block);
}
