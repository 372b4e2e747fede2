/* Tests for the probe kinds and the one-shot checks behind readiness:
 * each must report healthy when the thing is there and unhealthy (with a
 * reason) when it is not. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/cr_alloc.h"
#include "probes/cr_probe.h"
#include "probes/cr_probe_util.h"
#include "scenario/cr_scen.h"
#include "cr_test.h"

/* A one-thread HTTP server answering `n` requests with a fixed reply. */
typedef struct srv {
    int fd;
    int port;
    int n;
    const char *reply;
    pthread_t th;
} srv;

static void *srv_main(void *arg)
{
    srv *s = arg;
    for (int i = 0; i < s->n; i++) {
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            break;
        char buf[2048];
        if (read(c, buf, sizeof buf) > 0 &&
            write(c, s->reply, strlen(s->reply)) < 0)
            perror("write");
        close(c);
    }
    return NULL;
}

static int listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(fd, 16) != 0 || getsockname(fd, (struct sockaddr *)&a, &sl))
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

static void srv_start(srv *s, int n, const char *reply)
{
    s->fd = listen_any(&s->port);
    CU_ASSERT_FATAL(s->fd >= 0);
    s->n = n;
    s->reply = reply;
    pthread_create(&s->th, NULL, srv_main, s);
}

static void srv_stop(srv *s)
{
    pthread_join(s->th, NULL);
    close(s->fd);
}

static void test_probe_tcp_open_and_closed(void)
{
    char d[256];
    int port;
    int fd = listen_any(&port);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(cr_probe_tcp_once("127.0.0.1", port, 1.0, d, sizeof d), 1);
    close(fd);
    /* The port is closed now: refused, with the reason. */
    CU_ASSERT_EQUAL(cr_probe_tcp_once("127.0.0.1", port, 1.0, d, sizeof d), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(d, "refused"));
    CU_ASSERT_EQUAL(
        cr_probe_tcp_once("no-such-host.invalid", 80, 0.5, d, sizeof d), 0);
}

static void test_probe_http_status(void)
{
    srv s;
    char d[256];
    srv_start(&s, 2, "HTTP/1.0 503 Service Unavailable\r\n\r\n");
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/health", s.port);
    CU_ASSERT_EQUAL(cr_probe_http_once(url, 200, 1.0, NULL, d, sizeof d), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(d, "503"));
    CU_ASSERT_EQUAL(cr_probe_http_once(url, 503, 1.0, NULL, d, sizeof d), 1);
    srv_stop(&s);
}

static void test_probe_http_timeout(void)
{
    /* A listener that never answers: the probe must give up in time. */
    int port;
    int fd = listen_any(&port);
    char d[256], url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    CU_ASSERT_EQUAL(cr_probe_http_once(url, 200, 0.3, NULL, d, sizeof d), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(d, "imeout"));
    close(fd);
}

static void test_probe_exec(void)
{
    char d[256];
    char *ok[] = {"true", NULL};
    char *bad[] = {"false", NULL};
    char *slow[] = {"sleep", "5", NULL};
    char *missing[] = {"/nonexistent/prog", NULL};
    CU_ASSERT_EQUAL(cr_probe_exec_once(ok, 2, d, sizeof d), 1);
    CU_ASSERT_EQUAL(cr_probe_exec_once(bad, 2, d, sizeof d), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(d, "exit 1"));
    CU_ASSERT_EQUAL(cr_probe_exec_once(slow, 0.2, d, sizeof d), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(d, "no exit within"));
    CU_ASSERT_EQUAL(cr_probe_exec_once(missing, 1, d, sizeof d), 0);
}

/* Load a scenario whose steady_state holds the given probe objects. */
static cr_scen *load_probes(const char *probes)
{
    char text[4096];
    snprintf(text, sizeof text,
             "{\"name\":\"p\",\"duration_s\":1,\"services\":[{\"name\":\"a\","
             "\"cmd\":[\"true\"]}],\"steady_state\":[%s]}",
             probes);
    cr_scen *sc = NULL;
    cr_diags d = {0};
    cr_err err;
    cr_err_clear(&err);
    int rc = cr_scen_load_buffer("t.json", text, strlen(text), &sc, &d, &err);
    if (rc != 0)
        cr_diags_print(&d, stderr);
    cr_diags_free(&d);
    return sc;
}

static void test_probe_http_body_and_json(void)
{
    srv s;
    char d[512];
    srv_start(&s, 3,
              "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n"
              "{\"status\":\"ok\",\"queue\":{\"depth\":[3,4]}}");
    char probes[1024];
    snprintf(
        probes, sizeof probes,
        "{\"kind\":\"http\",\"name\":\"a\",\"url\":\"http://127.0.0.1:%d/\","
        "\"body_regex\":\"\\\"status\\\": *\\\"ok\\\"\"},"
        "{\"kind\":\"http\",\"name\":\"b\",\"url\":\"http://127.0.0.1:%d/\","
        "\"json\":{\"path\":\"queue.depth[1]\",\"equals\":4}},"
        "{\"kind\":\"http\",\"name\":\"c\",\"url\":\"http://127.0.0.1:%d/\","
        "\"json\":{\"path\":\"queue.depth[0]\",\"equals\":4}}",
        s.port, s.port, s.port);
    cr_scen *sc = load_probes(probes);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_EQUAL_FATAL(sc->nprobes, 3);
    cr_probe_ctx cx = {0};
    for (int i = 0; i < 3; i++) {
        int ok = sc->probes[i].ops->run(&sc->probes[i], &cx, d, sizeof d);
        CU_ASSERT_EQUAL(ok, i < 2 ? 1 : 0);
        if (i == 2)
            CU_ASSERT_PTR_NOT_NULL(strstr(d, "queue.depth[0] is 3"));
    }
    srv_stop(&s);
    cr_scen_free(sc);
}

static void test_probe_parse_errors(void)
{
    char text[] =
        "{\"name\":\"p\",\"duration_s\":1,\"services\":[{\"name\":\"a\","
        "\"cmd\":[\"true\"]}],\"steady_state\":["
        "{\"kind\":\"http\",\"url\":\"ftp://x\"},"
        "{\"kind\":\"tcp\"},"
        "{\"kind\":\"http\",\"url\":\"http://x/\",\"body_regex\":\"(\"},"
        "{\"kind\":\"exec\",\"cmd\":[]}]}";
    cr_scen *sc = NULL;
    cr_diags d = {0};
    cr_err err;
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(
        cr_scen_load_buffer("t.json", text, strlen(text), &sc, &d, &err),
        CR_EINVAL);
    CU_ASSERT_PTR_NULL(sc);
    CU_ASSERT(d.n >= 4);
    int saw_url = 0, saw_port = 0, saw_re = 0, saw_cmd = 0;
    for (size_t i = 0; i < d.n; i++) {
        saw_url |= strstr(d.v[i].msg, "http://") != NULL;
        saw_port |= strstr(d.v[i].msg, "port") != NULL;
        saw_re |= strstr(d.v[i].msg, "regular expression") != NULL;
        saw_cmd |= strstr(d.v[i].msg, "non-empty") != NULL;
        CU_ASSERT(d.v[i].line == 1 && d.v[i].col > 1);
    }
    CU_ASSERT(saw_url && saw_port && saw_re && saw_cmd);
    cr_diags_free(&d);
}

static size_t fake_count(void *eng, const cr_match *m, double since)
{
    (void)m;
    double *ts = eng;
    size_t c = 0;
    for (int i = 0; i < 3; i++)
        c += ts[i] >= since;
    return c;
}

static void test_probe_event_window(void)
{
    cr_scen *sc = load_probes(
        "{\"kind\":\"event\",\"name\":\"recent\",\"ev\":\"delivered\","
        "\"within_s\":1,\"min\":2},"
        "{\"kind\":\"event\",\"name\":\"ever\",\"ev\":\"delivered\"}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    double ts[3] = {1.0, 5.5, 5.9};
    cr_probe_ctx cx = {.count_events = fake_count, .eng = ts, .now_t = 6.0};
    char d[256];
    CU_ASSERT_EQUAL(sc->probes[0].ops->run(&sc->probes[0], &cx, d, sizeof d),
                    1);
    cx.now_t = 6.8; /* only 5.9 is within the last second */
    CU_ASSERT_EQUAL(sc->probes[0].ops->run(&sc->probes[0], &cx, d, sizeof d),
                    0);
    CU_ASSERT_PTR_NOT_NULL(strstr(d, "1 'delivered'"));
    CU_ASSERT_EQUAL(sc->probes[1].ops->run(&sc->probes[1], &cx, d, sizeof d),
                    1);
    cr_scen_free(sc);
}

void cr_test_register(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    cr_alloc_install_json();
    CU_pSuite s = CU_add_suite("probe", NULL, NULL);
    CR_ADD_TEST(s, test_probe_tcp_open_and_closed);
    CR_ADD_TEST(s, test_probe_http_status);
    CR_ADD_TEST(s, test_probe_http_timeout);
    CR_ADD_TEST(s, test_probe_exec);
    CR_ADD_TEST(s, test_probe_http_body_and_json);
    CR_ADD_TEST(s, test_probe_parse_errors);
    CR_ADD_TEST(s, test_probe_event_window);
}
