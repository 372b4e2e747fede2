/* Unit tests of the RabbitMQ backend's pure parts (crp_amqp.h: URL
 * parsing, delivery tag <-> seq, publisher-confirm bookkeeping), of the
 * backend selection (crp_qc_init), of --broker (crp_conf_broker_addr), and
 * of the error paths that need no broker: a bad URL, a broker that is not
 * there (the error names the address). */
#include "cr_test.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crp_amqp.h"
#include "crp_conf.h"
#include "crp_qc.h"

static void test_crp_amqp_url_full_and_defaults(void)
{
    crp_amqp_url u;
    char err[256] = "";
    CU_ASSERT_EQUAL(crp_amqp_parse_url("amqp://bob:s%40cret@10.0.0.1:8101/prod",
                                       &u, err, sizeof err),
                    0);
    CU_ASSERT_STRING_EQUAL(u.user, "bob");
    CU_ASSERT_STRING_EQUAL(u.pass, "s@cret");
    CU_ASSERT_STRING_EQUAL(u.host, "10.0.0.1");
    CU_ASSERT_EQUAL(u.port, 8101);
    CU_ASSERT_STRING_EQUAL(u.vhost, "prod");
    CU_ASSERT_EQUAL(crp_amqp_parse_url("amqp://localhost", &u, err, sizeof err),
                    0);
    CU_ASSERT_STRING_EQUAL(u.user, "guest");
    CU_ASSERT_STRING_EQUAL(u.pass, "guest");
    CU_ASSERT_EQUAL(u.port, 5672);
    CU_ASSERT_STRING_EQUAL(u.vhost, "/");
    CU_ASSERT_EQUAL(crp_amqp_parse_url("amqp://u@h:1/%2f", &u, err, sizeof err),
                    0);
    CU_ASSERT_STRING_EQUAL(u.user, "u");
    CU_ASSERT_STRING_EQUAL(u.pass, "guest");
    CU_ASSERT_STRING_EQUAL(u.vhost, "/");
}

static void test_crp_amqp_url_errors(void)
{
    crp_amqp_url u;
    char err[256];
    static const struct {
        const char *url, *why;
    } bad[] = {
        {"http://h:1/", "not an amqp:// URL"},
        {"amqp://", "no host"},
        {"amqp://u:p@/v", "no host"},
        {"amqp://h:0/", "bad port"},
        {"amqp://h:70000/", "bad port"},
        {"amqp://h:12x/", "bad port"},
        {"amqp://h:/", "bad port"},
        {"amqp://h:1/%zz", "bad vhost"},
        {"amqp://u%4:p@h/", "bad user"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CU_ASSERT_EQUAL(crp_amqp_parse_url(bad[i].url, &u, err, sizeof err),
                        -EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].why));
        CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].url)); /* names the URL */
    }
}

static void test_crp_amqp_seq_round_trip(void)
{
    int64_t s = crp_amqp_seq(7, 123456789);
    CU_ASSERT(s > 0);
    CU_ASSERT_EQUAL(crp_amqp_seq_gen(s), 7u);
    CU_ASSERT_EQUAL(crp_amqp_seq_tag(s), 123456789u);
    /* the same tag on another connection is another seq */
    CU_ASSERT_NOT_EQUAL(crp_amqp_seq(8, 123456789), s);
}

static void test_crp_amqp_confirms_single_and_multiple(void)
{
    static crp_amqp_confirms cf;
    CU_ASSERT_EQUAL(crp_amqp_confirms_begin(&cf, 10, 5), 0); /* 10..14 */
    CU_ASSERT_EQUAL(crp_amqp_confirms_state(&cf), 0);
    CU_ASSERT_EQUAL(crp_amqp_confirms_ack(&cf, 9, 0, 0), 0); /* earlier batch */
    CU_ASSERT_EQUAL(crp_amqp_confirms_ack(&cf, 12, 0, 0), 0);
    CU_ASSERT_EQUAL(crp_amqp_confirms_ack(&cf, 12, 0, 0), 0); /* twice */
    CU_ASSERT_EQUAL(cf.pending, 4);
    CU_ASSERT_EQUAL(crp_amqp_confirms_ack(&cf, 13, 1, 0), 0); /* 10..13 */
    CU_ASSERT_EQUAL(cf.pending, 1);
    CU_ASSERT_EQUAL(crp_amqp_confirms_state(&cf), 0);
    CU_ASSERT_EQUAL(crp_amqp_confirms_ack(&cf, 14, 0, 0), 0);
    CU_ASSERT_EQUAL(crp_amqp_confirms_state(&cf), 1);
}

static void test_crp_amqp_confirms_nack_return_and_unknown_tag(void)
{
    static crp_amqp_confirms cf;
    CU_ASSERT_EQUAL(crp_amqp_confirms_begin(&cf, 1, 3), 0);
    CU_ASSERT_EQUAL(crp_amqp_confirms_ack(&cf, 4, 0, 0), -EPROTO);
    CU_ASSERT_EQUAL(crp_amqp_confirms_ack(&cf, 2, 1, 1), 0); /* nack 1..2 */
    CU_ASSERT_EQUAL(crp_amqp_confirms_ack(&cf, 3, 0, 0), 0);
    CU_ASSERT_EQUAL(cf.pending, 0);
    /* all answered, refused */
    CU_ASSERT_EQUAL(crp_amqp_confirms_state(&cf), -EIO);
    CU_ASSERT_EQUAL(crp_amqp_confirms_begin(&cf, 1, 1), 0);
    cf.returned = 1; /* unroutable (basic.return), then acked */
    CU_ASSERT_EQUAL(crp_amqp_confirms_ack(&cf, 1, 0, 0), 0);
    CU_ASSERT_EQUAL(crp_amqp_confirms_state(&cf), -EIO);
    CU_ASSERT_EQUAL(crp_amqp_confirms_begin(&cf, 1, CRP_AMQP_MAX_BATCH + 1),
                    -EINVAL);
    CU_ASSERT_EQUAL(crp_amqp_confirms_begin(&cf, 0, 1), -EINVAL);
}

static void test_crp_amqp_backend_selection(void)
{
    crp_qc c;
    crp_qc_init(&c, "127.0.0.1:7201", 1000);
    CU_ASSERT_STRING_EQUAL(crp_qc_backend(&c), "queue");
    crp_qc_close(&c);
    crp_qc_init(&c, "amqp://guest:guest@127.0.0.1:5672/", 1000);
    CU_ASSERT_STRING_EQUAL(crp_qc_backend(&c), "amqp");
    crp_qc_close(&c);
    crp_qc_close(&c); /* twice: a no-op */
}

static void test_crp_amqp_bad_url_fails_first_call(void)
{
    crp_qc c;
    crp_qmsg m[1];
    crp_qc_init(&c, "amqp://user@:99999/", 1000);
    CU_ASSERT_EQUAL(crp_qc_get(&c, "work", 1, m), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(crp_qc_error(&c), "amqp://user@:99999/"));
    crp_qc_close(&c);
}

/* A port nobody listens on: bind one, note it, close it. */
static int dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t n = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &n) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static void test_crp_amqp_broker_down_names_address(void)
{
    int port = dead_port();
    CU_ASSERT_FATAL(port > 0);
    char url[128], want[64];
    snprintf(url, sizeof url, "amqp://guest:guest@127.0.0.1:%d/", port);
    snprintf(want, sizeof want, "amqp 127.0.0.1:%d: connect", port);
    crp_qc c;
    crp_qc_init(&c, url, 1000);
    crp_qput p = {"work", "id-1", "t", "{}", NULL};
    CU_ASSERT(crp_qc_put(&c, &p, 1) < 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(crp_qc_error(&c), want));
    crp_qmsg m[1];
    CU_ASSERT(crp_qc_get(&c, "work", 1, m) < 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(crp_qc_error(&c), want));
    /* acks of deliveries from a connection that is gone: stale, not sent */
    int64_t seq = crp_amqp_seq(1, 1);
    int ok = -1;
    CU_ASSERT_EQUAL(crp_qc_ack(&c, "work", &seq, 1, 1, &ok), 0);
    CU_ASSERT_EQUAL(ok, 0);
    crp_qc_close(&c);
    /* the embedded backend names its address too */
    snprintf(url, sizeof url, "127.0.0.1:%d", port);
    snprintf(want, sizeof want, "queue 127.0.0.1:%d: connect", port);
    crp_qc_init(&c, url, 1000);
    CU_ASSERT(crp_qc_put(&c, &p, 1) < 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(crp_qc_error(&c), want));
    crp_qc_close(&c);
}

static void test_crp_amqp_conf_broker(void)
{
    char out[256], err[256];
    CU_ASSERT_EQUAL(crp_conf_broker_addr("amqp://u:p@/v", "127.0.0.1:8101", out,
                                         sizeof out, err, sizeof err),
                    0);
    CU_ASSERT_STRING_EQUAL(out, "amqp://u:p@127.0.0.1:8101/v");
    CU_ASSERT_EQUAL(crp_conf_broker_addr("amqp://u:p@", "h:1", out, sizeof out,
                                         err, sizeof err),
                    0);
    CU_ASSERT_STRING_EQUAL(out, "amqp://u:p@h:1/");
    CU_ASSERT_EQUAL(crp_conf_broker_addr("amqp://h:2/x", "h:1", out, sizeof out,
                                         err, sizeof err),
                    0);
    CU_ASSERT_STRING_EQUAL(out, "amqp://h:2/x"); /* a host of its own wins */
    CU_ASSERT_EQUAL(crp_conf_broker_addr("rabbit://h/", "h:1", out, sizeof out,
                                         err, sizeof err),
                    -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not an amqp:// URL"));
    CU_ASSERT_EQUAL(crp_conf_broker_addr("amqp:///", "nohostport", out,
                                         sizeof out, err, sizeof err),
                    -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not host:port"));
    /* through crp_conf_load: --broker with the queue address of the env */
    crp_conf c;
    setenv("CHAOSRUN_ADDR_QUEUE", "127.0.0.1:8106", 1);
    char *argv[] = {"--broker", "amqp://guest:guest@/"};
    CU_ASSERT_EQUAL(crp_conf_load(&c, "worker", 2, argv, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(c.queue_addr, "amqp://guest:guest@127.0.0.1:8106/");
    unsetenv("CHAOSRUN_ADDR_QUEUE");
    unsigned d;
    CU_ASSERT_EQUAL(crp_conf_defects("amqp_transient,amqp_auto_ack", &d), 0);
    CU_ASSERT_EQUAL(
        d, (unsigned)(CRP_DEFECT_AMQP_TRANSIENT | CRP_DEFECT_AMQP_AUTO_ACK));
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("crp_amqp", NULL, NULL);
    CR_ADD_TEST(s, test_crp_amqp_url_full_and_defaults);
    CR_ADD_TEST(s, test_crp_amqp_url_errors);
    CR_ADD_TEST(s, test_crp_amqp_seq_round_trip);
    CR_ADD_TEST(s, test_crp_amqp_confirms_single_and_multiple);
    CR_ADD_TEST(s, test_crp_amqp_confirms_nack_return_and_unknown_tag);
    CR_ADD_TEST(s, test_crp_amqp_backend_selection);
    CR_ADD_TEST(s, test_crp_amqp_bad_url_fails_first_call);
    CR_ADD_TEST(s, test_crp_amqp_broker_down_names_address);
    CR_ADD_TEST(s, test_crp_amqp_conf_broker);
}
