/* Tests for the slo checker (event bounds per phase, scraped Prometheus
 * metrics), the Prometheus text parser and cr_check_scrape_urls. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_fixture.h"
#include "checks/cr_prom.h"
#include "checks/cr_scrape.h"

/* ---- the parser ---- */

static void test_prom_parse_format(void)
{
    const char *text =
        "# HELP http_requests_total The total number of HTTP requests.\n"
        "# TYPE http_requests_total counter\n"
        "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
        "http_requests_total{method=\"post\",code=\"400\"}    3 "
        "1395066363000\r\n"
        "\n"
        "  # indented comment\n"
        "msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error="
        "\"Cannot find file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n"
        "metric_without_timestamp_and_labels 12.47\n"
        "something_weird{problem=\"division by zero\"} +Inf -3982045\n"
        "neg_inf -Inf\n"
        "not_a_number NaN\n"
        "trailing_comma{a=\"1\",} 2\n"
        "empty_labels{} 5\n"
        "spaces { a = \"x\" , b=\"y\" } 7\n"
        "rpc_duration_seconds{quantile=\"0.5\"} 4773\n"
        "repeated 1\n"
        "repeated 2";
    json_t *s = NULL;
    cr_err err;
    cr_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(cr_prom_parse(text, &s, &err), 0);
    CU_ASSERT_DOUBLE_EQUAL(
        cr_prom_value(json_object_get(
            s, "http_requests_total{method=\"post\",code=\"200\"}")),
        1027, 0);
    CU_ASSERT_DOUBLE_EQUAL(
        cr_prom_value(json_object_get(
            s, "http_requests_total{method=\"post\",code=\"400\"}")),
        3, 0);
    CU_ASSERT_DOUBLE_EQUAL(
        cr_prom_value(json_object_get(
            s, "msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\","
               "error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"}")),
        1.458255915e9, 1);
    CU_ASSERT_DOUBLE_EQUAL(cr_prom_value(json_object_get(
                               s, "metric_without_timestamp_and_labels")),
                           12.47, 1e-12);
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_object_get(
            s, "something_weird{problem=\"division by zero\"}")),
        "+Inf");
    CU_ASSERT(isinf(cr_prom_value(
        json_object_get(s, "something_weird{problem=\"division by zero\"}"))));
    CU_ASSERT(cr_prom_value(json_object_get(s, "neg_inf")) < 0);
    CU_ASSERT(isnan(cr_prom_value(json_object_get(s, "not_a_number"))));
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_object_get(s, "not_a_number")), "NaN");
    CU_ASSERT_DOUBLE_EQUAL(
        cr_prom_value(json_object_get(s, "trailing_comma{a=\"1\"}")), 2, 0);
    CU_ASSERT_DOUBLE_EQUAL(cr_prom_value(json_object_get(s, "empty_labels")), 5,
                           0);
    CU_ASSERT_DOUBLE_EQUAL(
        cr_prom_value(json_object_get(s, "spaces{a=\"x\",b=\"y\"}")), 7, 0);
    CU_ASSERT_DOUBLE_EQUAL(cr_prom_value(json_object_get(s, "repeated")), 2, 0);
    CU_ASSERT_EQUAL(json_object_size(s), 12);
    json_decref(s);
    CU_ASSERT(isnan(cr_prom_value(NULL)));
}

static void test_prom_parse_errors(void)
{
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"ok 1\n9bad 1\n", "line 2: expected a metric name"},
        {"m{a=1} 2", "expected '\"' to open a label value"},
        {"m{a=\"1\" 2", "expected ',' or '}' after a label value"},
        {"m{a=\"1} 2", "unterminated label value"},
        {"m{a=\"\\t\"} 2", "invalid escape"},
        {"m{=\"1\"} 2", "expected a label name"},
        {"m{a \"1\"} 2", "expected '=' after a label name"},
        {"m", "invalid sample value"},
        {"m abc", "invalid sample value"},
        {"m 1 2 3", "unexpected text after the timestamp"},
        {"m 1 x", "invalid timestamp"},
        {"m{a=\"1\"}2", "expected whitespace before the value"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *s = (json_t *)1;
        cr_err err;
        cr_err_clear(&err);
        CU_ASSERT_EQUAL(cr_prom_parse(bad[i].text, &s, &err), CR_EPROTO);
        CU_ASSERT_PTR_NULL(s);
        if (!strstr(err.msg, bad[i].want)) {
            fprintf(stderr, "'%s': message '%s' lacks '%s'\n", bad[i].text,
                    err.msg, bad[i].want);
            CU_FAIL("wrong message");
        }
    }
}

static void test_prom_parse_oom(void)
{
    const char *text = "a{x=\"1\",y=\"2\"} 1\nb 2\nc{z=\"\\\\\"} 3\n";
    for (long n = 1; n < 1000; n++) {
        json_t *s = NULL;
        cr_err err;
        cr_err_clear(&err);
        cr_alloc_fail_after(n);
        int rc = cr_prom_parse(text, &s, &err);
        cr_alloc_fail_after(0);
        if (rc == 0) {
            CU_ASSERT_EQUAL(json_object_size(s), 3);
            json_decref(s);
            break;
        }
        CU_ASSERT_EQUAL(rc, CR_ENOMEM);
        CU_ASSERT_PTR_NULL(s);
    }
}

/* ---- slo over events ---- */

static void deliver(fx *x, double t, double lat)
{
    fx_ev(x,
          "{\"ts\": %g, \"svc\": \"sink\", \"ev\": \"delivered\", \"id\": 1, "
          "\"latency_ms\": %g}",
          t, lat);
}

static void test_check_slo_error_ratio_phases(void)
{
    fx x;
    fx_init(
        &x,
        "{\"kind\": \"slo\", \"phase\": \"during\", \"error_ratio_max\": 0.1},"
        "{\"kind\": \"slo\", \"phase\": \"after\", \"error_ratio_max\": 0.1},"
        "{\"kind\": \"slo\", \"phase\": \"before\", \"error_ratio_max\": 0},"
        "{\"kind\": \"slo\", \"phase\": \"all\", \"error_ratio_max\": 0.5, "
        "\"error_ev\": [\"timeout\"]}");
    fx_fault(&x, "dep", "db", 2, 5);
    for (int i = 0; i < 10; i++) {
        deliver(&x, 0.5 + i * 0.1, 10); /* before */
        deliver(&x, 2.5 + i * 0.1, 10); /* during */
        deliver(&x, 6 + i * 0.1, 10);   /* after */
    }
    for (int i = 0; i < 3; i++)
        fx_ev(&x,
              "{\"ts\": %g, \"svc\": \"api\", \"ev\": \"giveup\", \"op\": "
              "\"db\"}",
              3.0 + i * 0.1);
    fx_ev(&x, "{\"ts\": 7, \"svc\": \"api\", \"ev\": \"timeout\"}");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "error ratio 23.08% in the during phase (3 errors, 10 "
                         "delivered; bound 10%)"));
    CU_ASSERT(fx_evid(&x, "error: t=3.000 api giveup op=db"));
    CU_ASSERT_DOUBLE_EQUAL(x.res.measured, 300.0 / 13, 1e-9);
    FX_PASSED(&x, 1);
    FX_PASSED(&x, 2);
    FX_PASSED(&x, 3); /* only "timeout" counts: 1 / 31 */
    CU_ASSERT_EQUAL(fx_detail(&x, "errors"), 1);
    fx_free(&x);
}

static void test_check_slo_latency_and_throughput(void)
{
    fx x;
    fx_init(
        &x,
        "{\"kind\": \"slo\", \"p99_ms_max\": 100},"
        "{\"kind\": \"slo\", \"phase\": \"before\", \"throughput_min\": 5},"
        "{\"kind\": \"slo\", \"phase\": \"before\", \"throughput_min\": 500},"
        "{\"kind\": \"slo\", \"p99_ms_max\": 100, \"latency_field\": \"ms\"}");
    fx_fault(&x, "dep", "db", 2, 5);
    for (int i = 0; i < 100; i++)
        deliver(&x, 0.01 + i * 0.01, i == 99 ? 900 : 50); /* 100 in [0, 2) */
    FX_PASSED(&x, 0); /* nearest-rank p99 of 100 values is the 99th: 50 */
    CU_ASSERT_DOUBLE_EQUAL(x.res.measured, 50, 0);
    deliver(&x, 1.5, 900);
    FX_FAILED(&x, 0); /* now the 100th of 101 values: 900 */
    CU_ASSERT(fx_sum(&x, "p99 latency_ms 900.0 ms in the all phase over 101 "
                         "events (bound 100 ms)"));
    fx_free(&x);

    fx_init(
        &x,
        "{\"kind\": \"slo\", \"p99_ms_max\": 100},"
        "{\"kind\": \"slo\", \"phase\": \"before\", \"throughput_min\": 5},"
        "{\"kind\": \"slo\", \"phase\": \"before\", \"throughput_min\": 500},"
        "{\"kind\": \"slo\", \"p99_ms_max\": 100, \"latency_field\": \"ms\"}");
    fx_fault(&x, "dep", "db", 2, 5);
    for (int i = 0; i < 200; i++)
        deliver(&x, 0.01 + i * 0.005,
                i % 100 == 99 ? 900 : 50); /* 2 slow of 200 */
    FX_PASSED(&x, 0);
    deliver(&x, 1.5, 900);
    deliver(&x, 1.6, 900);
    FX_FAILED(&x, 0); /* 4 slow of 202: the 200th value is slow */
    CU_ASSERT(fx_sum(&x, "p99 latency_ms 900.0 ms in the all phase over 202 "
                         "events (bound 100 ms)"));
    FX_PASSED(&x, 1); /* 202 in 2 s */
    CU_ASSERT_DOUBLE_EQUAL(x.res.measured, 101, 1e-9);
    FX_FAILED(&x, 2);
    CU_ASSERT(fx_sum(&x, "throughput 101.00 delivered/s in the before phase "
                         "(202 in 2.00 s; bound >= 500/s)"));
    FX_UNKNOWN(&x, 3);
    CU_ASSERT(fx_sum(&x, "no delivered event of the all phase has ms"));
    fx_free(&x);
}

static void test_check_slo_unknown_and_parse(void)
{
    fx x;
    fx_init(&x,
            "{\"kind\": \"slo\", \"error_ratio_max\": 0.1},"
            "{\"kind\": \"slo\", \"phase\": \"after\", \"throughput_min\": 1}");
    FX_UNKNOWN(&x, 0);
    CU_ASSERT(fx_sum(&x, "only 0 delivered/error events in the all phase"));
    deliver(&x, 1, 5);
    FX_PASSED(&x, 0);
    FX_UNKNOWN(&x, 1); /* no fault: the after phase is empty */
    fx_free(&x);
    CU_ASSERT(fx_invalid("{\"kind\": \"slo\"}", "needs at least one of"));
    CU_ASSERT(fx_invalid("{\"kind\": \"slo\", \"error_ratio_max\": 2}",
                         "error_ratio_max"));
    CU_ASSERT(fx_invalid(
        "{\"kind\": \"slo\", \"phase\": \"durring\", \"error_ratio_max\": 0.1}",
        "unknown value \"durring\""));
    CU_ASSERT(fx_invalid("{\"kind\": \"slo\", \"prometheus\": {\"url\": "
                         "\"ftp://x\", \"metric\": \"m\", \"max\": 1}}",
                         "http://"));
    CU_ASSERT(fx_invalid("{\"kind\": \"slo\", \"prometheus\": {\"url\": "
                         "\"http://x/metrics\", \"metric\": \"m\"}}",
                         "needs \"max\" or \"min\""));
    CU_ASSERT(fx_invalid("{\"kind\": \"slo\", \"prometheus\": {\"url\": "
                         "\"http://x/metrics\", \"max\": 1}}",
                         "missing required key \"metric\""));
}

/* ---- slo over scraped metrics ---- */

static void test_check_slo_prometheus(void)
{
    char *dir = cr_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char path[512];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    fx x;
    fx_init(&x,
            "{\"kind\": \"slo\", \"phase\": \"during\", \"prometheus\": "
            "{\"url\": \"http://127.0.0.1:9/metrics\", \"metric\": "
            "\"queue_depth\", \"max\": 100}},"
            "{\"kind\": \"slo\", \"phase\": \"after\", \"prometheus\": "
            "{\"url\": \"http://127.0.0.1:9/metrics\", \"metric\": "
            "\"queue_depth\", \"max\": 100}},"
            "{\"kind\": \"slo\", \"prometheus\": {\"url\": "
            "\"http://127.0.0.1:9/metrics\", \"metric\": \"up\", \"min\": 1}},"
            "{\"kind\": \"slo\", \"prometheus\": {\"url\": "
            "\"http://other:1/m\", \"metric\": \"up\", \"min\": 1}},"
            "{\"kind\": \"slo\", \"error_ratio_max\": 0.5}");
    const char *urls[8];
    CU_ASSERT_EQUAL(cr_check_scrape_urls(x.sc, urls, 8), 2);
    CU_ASSERT_STRING_EQUAL(urls[0], "http://127.0.0.1:9/metrics");
    CU_ASSERT_STRING_EQUAL(urls[1], "http://other:1/m");
    CU_ASSERT_EQUAL(cr_check_scrape_urls(x.sc, urls, 1),
                    2); /* count beyond max */
    CU_ASSERT_EQUAL(cr_check_scrape_urls(NULL, urls, 8), 0);
    x.f.run_dir = dir;
    fx_fault(&x, "dep", "db", 2, 5);
    FX_UNKNOWN(&x, 0); /* no metrics.jsonl at all */
    CU_ASSERT(fx_sum(&x, "no scraped value of queue_depth"));
    FILE *fp = fopen(path, "w");
    fputs("{\"t\": 1, \"url\": \"http://127.0.0.1:9/metrics\", \"samples\": "
          "{\"queue_depth{q=\\\"a\\\"}\": 5, \"up\": 1}}\n"
          "garbage line\n"
          "{\"t\": 3, \"url\": \"http://127.0.0.1:9/metrics\", \"samples\": "
          "{\"queue_depth{q=\\\"a\\\"}\": 250, \"up\": 1}}\n"
          "{\"t\": 3, \"url\": \"http://other:1/m\", \"samples\": "
          "{\"queue_depth\": 9999, \"up\": 0}}\n"
          "{\"t\": 6, \"url\": \"http://127.0.0.1:9/metrics\", \"samples\": "
          "{\"queue_depth{q=\\\"a\\\"}\": 20, \"up\": \"NaN\"}}\n",
          fp);
    fclose(fp);
    FX_FAILED(&x, 0);
    CU_ASSERT(
        fx_sum(&x, "queue_depth{q=\"a\"} = 250 at t=3.000 (bound <= 100)"));
    CU_ASSERT(fx_evid(&x, "scraped queue_depth{q=\"a\"} = 250"));
    CU_ASSERT_DOUBLE_EQUAL(x.res.measured, 250, 0);
    FX_PASSED(&x, 1);
    FX_FAILED(&x, 2); /* NaN is not >= 1 */
    CU_ASSERT(fx_sum(&x, "up = nan at t=6.000"));
    FX_FAILED(&x, 3);
    CU_ASSERT(fx_sum(&x, "up = 0 at t=3.000 (bound >= 1)"));
    unlink(path);
    rmdir(dir);
    free(dir);
    fx_free(&x);
}

/* ---- scraping over loopback ---- */

typedef struct mini_http {
    int ls, port, nreq;
    const char *status, *body;
} mini_http;

/* Serve nreq requests with a fixed answer, then return. */
static void *mini_http_run(void *arg)
{
    mini_http *m = arg;
    for (int i = 0; i < m->nreq; i++) {
        int c = accept(m->ls, NULL, NULL);
        if (c < 0)
            break;
        char buf[2048];
        if (read(c, buf, sizeof buf) > 0) {
            char resp[4096];
            int n = snprintf(
                resp, sizeof resp,
                "HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4\r\n"
                "Content-Length: %zu\r\n\r\n%s",
                m->status, strlen(m->body), m->body);
            if (write(c, resp, (size_t)n) < 0)
                perror("mini_http write");
        }
        close(c);
    }
    return NULL;
}

static int mini_http_start(mini_http *m, pthread_t *th)
{
    m->ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (m->ls < 0 || bind(m->ls, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(m->ls, 8) != 0 ||
        getsockname(m->ls, (struct sockaddr *)&a, &al) != 0)
        return -1;
    m->port = ntohs(a.sin_port);
    return pthread_create(th, NULL, mini_http_run, m);
}

static void test_prom_scrape(void)
{
    char *dir = cr_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    mini_http m = {
        .nreq = 3,
        .status = "200 OK",
        .body = "# TYPE queue_depth gauge\nqueue_depth{q=\"a\"} 7\nup 1\n"};
    pthread_t th;
    CU_ASSERT_EQUAL_FATAL(mini_http_start(&m, &th), 0);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", m.port);
    cr_err err;
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_prom_scrape(dir, 1.5, url, 2, &err), 0);
    CU_ASSERT_EQUAL(cr_prom_scrape(dir, 6.5, url, 2, &err), 0);
    m.body = "up{"; /* the third answer is not the text format */
    CU_ASSERT_EQUAL(cr_prom_scrape(dir, 7, url, 2, &err), CR_EPROTO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "prometheus line 1"));
    pthread_join(th, NULL);
    /* the slo checker reads what was scraped */
    char expect[512];
    snprintf(expect, sizeof expect,
             "{\"kind\": \"slo\", \"phase\": \"after\", \"prometheus\": "
             "{\"url\": \"%s\", \"metric\": \"queue_depth\", \"max\": 5}},"
             "{\"kind\": \"slo\", \"phase\": \"before\", \"prometheus\": "
             "{\"url\": \"%s\", \"metric\": \"up\", \"min\": 1}}",
             url, url);
    fx x;
    fx_init(&x, expect);
    x.f.run_dir = dir;
    fx_fault(&x, "dep", "db", 2, 5);
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "queue_depth{q=\"a\"} = 7 at t=6.500 (bound <= 5)"));
    FX_PASSED(&x, 1);
    fx_free(&x);
    /* a status other than 200, and a refused connection */
    mini_http m2 = {.nreq = 1, .status = "404 Not Found", .body = "no"};
    CU_ASSERT_EQUAL_FATAL(mini_http_start(&m2, &th), 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", m2.port);
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_prom_scrape(dir, 1, url, 2, &err), CR_EPROTO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "HTTP status 404"));
    pthread_join(th, NULL);
    close(m2.ls);
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_prom_scrape(dir, 1, url, 2, &err), CR_EPROTO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, url));
    close(m.ls);
    char path[512];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    FILE *fp = fopen(path, "r");
    int lines = 0, ch;
    while (fp && (ch = fgetc(fp)) != EOF)
        lines += ch == '\n';
    if (fp)
        fclose(fp);
    CU_ASSERT_EQUAL(lines, 2); /* failed scrapes append nothing */
    unlink(path);
    rmdir(dir);
    free(dir);
}

static double fake_now(void *ud)
{
    double *t = ud;
    return *t += 0.5;
}

static int count_lines(const char *path)
{
    FILE *fp = fopen(path, "r");
    int lines = 0, ch;
    while (fp && (ch = fgetc(fp)) != EOF)
        lines += ch == '\n';
    if (fp)
        fclose(fp);
    return lines;
}

static void test_scrape_background(void)
{
    char *dir = cr_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    mini_http m = {.nreq = 1000, .status = "200 OK", .body = "up 1\n"};
    pthread_t th;
    CU_ASSERT_EQUAL_FATAL(mini_http_start(&m, &th), 0);
    char expect[512], path[512];
    snprintf(
        expect, sizeof expect,
        "{\"kind\": \"slo\", \"prometheus\": {\"url\": "
        "\"http://127.0.0.1:%d/m\", \"metric\": \"up\", \"min\": 1}},"
        "{\"kind\": \"slo\", \"phase\": \"after\", \"prometheus\": {\"url\": "
        "\"http://127.0.0.1:%d/m\", \"metric\": \"up\", \"min\": 1}}",
        m.port, m.port);
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    fx x;
    fx_init(&x, expect);
    double clock = 0;
    cr_scrape *scr = NULL;
    cr_err err;
    cr_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(
        cr_scrape_start(x.sc, dir, fake_now, &clock, 0.02, &scr, &err), 0);
    /* wait for three scrapes (no timing assertion: up to 20 s) */
    for (int i = 0; i < 2000 && count_lines(path) < 3; i++)
        usleep(10000);
    cr_scrape_stop(scr);
    cr_scrape_stop(scr); /* idempotent */
    size_t ok = 0, failed = 0;
    char msg[256];
    cr_scrape_stats(scr, &ok, &failed, msg, sizeof msg);
    CU_ASSERT(ok >= 3);
    CU_ASSERT_EQUAL(failed, 0);
    CU_ASSERT_STRING_EQUAL(msg, "");
    CU_ASSERT_EQUAL((size_t)count_lines(path),
                    ok); /* one URL: one line per scrape */
    cr_scrape_destroy(scr);
    shutdown(m.ls, SHUT_RDWR); /* unblock the server's accept */
    pthread_join(th, NULL);
    close(m.ls);
    x.f.run_dir = dir;
    x.f.t_end = 1000;
    FX_PASSED(&x, 0);  /* all scraped values of up are 1 */
    FX_UNKNOWN(&x, 1); /* no fault: no after phase */
    fx_free(&x);
    /* the server is gone: scrapes fail and say why */
    fx_init(&x, expect);
    CU_ASSERT_EQUAL_FATAL(
        cr_scrape_start(x.sc, dir, fake_now, &clock, 0.02, &scr, &err), 0);
    for (int i = 0; i < 2000; i++) {
        cr_scrape_stats(scr, &ok, &failed, msg, sizeof msg);
        if (failed >= 2)
            break;
        usleep(10000);
    }
    cr_scrape_destroy(scr);
    CU_ASSERT(failed >= 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "scrape http://127.0.0.1:"));
    fx_free(&x);
    /* no URL wanted: an idle scraper */
    fx_init(&x, "{\"kind\": \"slo\", \"error_ratio_max\": 0.1}");
    CU_ASSERT_EQUAL(cr_scrape_start(x.sc, dir, fake_now, &clock, 1, &scr, &err),
                    0);
    cr_scrape_stats(scr, &ok, &failed, NULL, 0);
    CU_ASSERT_EQUAL(ok + failed, 0);
    cr_scrape_destroy(scr);
    cr_scrape_destroy(NULL);
    fx_free(&x);
    unlink(path);
    rmdir(dir);
    free(dir);
}

void cr_test_register(void)
{
    cr_alloc_install_json();
    CU_pSuite s = CU_add_suite("check_slo", NULL, NULL);
    CR_ADD_TEST(s, test_prom_parse_format);
    CR_ADD_TEST(s, test_prom_parse_errors);
    CR_ADD_TEST(s, test_prom_parse_oom);
    CR_ADD_TEST(s, test_check_slo_error_ratio_phases);
    CR_ADD_TEST(s, test_check_slo_latency_and_throughput);
    CR_ADD_TEST(s, test_check_slo_unknown_and_parse);
    CR_ADD_TEST(s, test_check_slo_prometheus);
    CR_ADD_TEST(s, test_prom_scrape);
    CR_ADD_TEST(s, test_scrape_background);
}
