/* Unit tests of crp_net's line server (crp_lsrv, the loop of the feature
 * service, the model server and the registry), on loopback with an
 * ephemeral port, server and clients in one thread (every socket is
 * non-blocking): lines answered in order per client, a client that hangs
 * up frees its slot, a handler that refuses a client closes it, and a
 * connection beyond CRP_LSRV_MAX is closed at once while the others stay
 * served. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cr_test.h"

#include "crp_net.h"

typedef struct echo {
    int lines;  /* lines seen */
    int refuse; /* close a client that sends "bye" */
} echo;

static int on_client(void *ctx, crp_conn *c)
{
    echo *e = ctx;
    char *line, out[300];
    while (c->fd >= 0 && crp_conn_next(c, &line)) {
        e->lines++;
        if (e->refuse && strcmp(line, "bye") == 0)
            return -1;
        int n = snprintf(out, sizeof out, "E %s\n", line);
        if (crp_conn_send(c, out, (size_t)n, 1000) < 0)
            return -1;
    }
    return 0;
}

/* A server on 127.0.0.1:<ephemeral>; its address in addr. */
static void start(crp_lsrv *s, char *addr, size_t n)
{
    int lfd = crp_net_listen(0);
    CU_ASSERT_FATAL(lfd >= 0);
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    CU_ASSERT_FATAL(getsockname(lfd, (struct sockaddr *)&sa, &len) == 0);
    snprintf(addr, n, "127.0.0.1:%d", ntohs(sa.sin_port));
    crp_lsrv_init(s, lfd);
}

static void client(crp_conn *c, const char *addr)
{
    int fd = crp_net_connect(addr, 1000);
    CU_ASSERT_FATAL(fd >= 0);
    crp_conn_init(c, fd);
}

/* Turn the server's loop a few times (accept, then read). */
static void spin(crp_lsrv *s, echo *e, int times)
{
    for (int i = 0; i < times; i++)
        if (crp_lsrv_wait(s, 20) > 0)
            crp_lsrv_serve(s, on_client, e);
}

static int clients(const crp_lsrv *s)
{
    int n = 0;
    for (int i = 0; i < CRP_LSRV_MAX; i++)
        n += s->cl[i].fd >= 0;
    return n;
}

static void expect_line(crp_conn *c, const char *want)
{
    char *line = NULL;
    int rc = crp_conn_readline(c, &line, 1000);
    CU_ASSERT_EQUAL(rc, 1);
    if (rc == 1)
        CU_ASSERT_STRING_EQUAL(line, want);
}

static void test_crp_net_lsrv_answers_in_order(void)
{
    crp_lsrv s;
    char addr[64];
    echo e = {0, 0};
    crp_conn a, b;
    start(&s, addr, sizeof addr);
    client(&a, addr);
    client(&b, addr);
    CU_ASSERT_EQUAL(crp_conn_send(&a, "one\ntwo\n", 8, 1000), 0);
    CU_ASSERT_EQUAL(crp_conn_send(&b, "three\npart", 10, 1000), 0);
    spin(&s, &e, 4);
    CU_ASSERT_EQUAL(clients(&s), 2);
    expect_line(&a, "E one");
    expect_line(&a, "E two");
    expect_line(&b, "E three");
    /* the rest of a line arrives later */
    CU_ASSERT_EQUAL(crp_conn_send(&b, "ial\n", 4, 1000), 0);
    spin(&s, &e, 2);
    expect_line(&b, "E partial");
    CU_ASSERT_EQUAL(e.lines, 4);
    crp_conn_close(&a);
    crp_conn_close(&b);
    crp_lsrv_close(&s);
}

static void test_crp_net_lsrv_hangup_and_refusal(void)
{
    crp_lsrv s;
    char addr[64];
    echo e = {0, 1};
    crp_conn a, b;
    char *line;
    start(&s, addr, sizeof addr);
    client(&a, addr);
    client(&b, addr);
    spin(&s, &e, 2);
    CU_ASSERT_EQUAL(clients(&s), 2);
    crp_conn_close(&a); /* hangs up: its slot is freed */
    CU_ASSERT_EQUAL(crp_conn_send(&b, "bye\n", 4, 1000), 0);
    spin(&s, &e, 3);
    CU_ASSERT_EQUAL(clients(&s), 0);
    /* the refused client reads the end of the stream, no answer */
    CU_ASSERT_EQUAL(crp_conn_readline(&b, &line, 1000), -ECONNRESET);
    crp_conn_close(&b);
    crp_lsrv_close(&s);
    CU_ASSERT_EQUAL(s.lfd, -1);
}

static void test_crp_net_lsrv_full(void)
{
    crp_lsrv s;
    char addr[64];
    echo e = {0, 0};
    static crp_conn c[CRP_LSRV_MAX + 1];
    char *line;
    start(&s, addr, sizeof addr);
    for (int i = 0; i < CRP_LSRV_MAX; i++) {
        client(&c[i], addr);
        spin(&s, &e, 1);
    }
    spin(&s, &e, 2);
    CU_ASSERT_EQUAL(clients(&s), CRP_LSRV_MAX);
    client(&c[CRP_LSRV_MAX], addr); /* one too many: closed at once */
    spin(&s, &e, 2);
    CU_ASSERT_EQUAL(crp_conn_readline(&c[CRP_LSRV_MAX], &line, 1000),
                    -ECONNRESET);
    /* the others are still served */
    CU_ASSERT_EQUAL(crp_conn_send(&c[0], "still\n", 6, 1000), 0);
    spin(&s, &e, 2);
    expect_line(&c[0], "E still");
    for (int i = 0; i <= CRP_LSRV_MAX; i++)
        crp_conn_close(&c[i]);
    crp_lsrv_close(&s);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("crp_net", NULL, NULL);
    CR_ADD_TEST(s, test_crp_net_lsrv_answers_in_order);
    CR_ADD_TEST(s, test_crp_net_lsrv_hangup_and_refusal);
    CR_ADD_TEST(s, test_crp_net_lsrv_full);
}
