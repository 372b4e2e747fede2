/* Unit tests of crp_scorer (the worker's remote scoring client) against
 * fake model servers and a fake registry on loopback (ephemeral ports):
 * a server that answers too late is left for the next one and its late
 * answer is never used; a server that closes the connection; answers
 * that carry another reqid are skipped; no registry means not ready and
 * no score; the failover event names from, to and the reason. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cr_test.h"

#include "crp_conf.h"
#include "crp_ev.h"
#include "crp_model.h"
#include "crp_net.h"
#include "crp_scorer.h"
#include "crp_util.h"

enum { OK_FAST, SLOW, CLOSE, WRONG_FIRST, REGISTRY };

typedef struct fake {
    int lfd, port, mode;
    double value; /* the score this server answers */
    char list[512];
    volatile int stop;
    pthread_t th;
} fake;

static void handle(fake *f, crp_conn *c, char *line)
{
    char out[700], reqid[96] = "";
    if (f->mode == REGISTRY) {
        snprintf(out, sizeof out, "%s",
                 strncmp(line, "LIST", 4) ? "OK\n" : f->list);
    } else {
        if (sscanf(line, "S %95s", reqid) != 1)
            return;
        if (f->mode == CLOSE) {
            crp_conn_close(c);
            return;
        }
        if (f->mode == SLOW)
            usleep(400 * 1000);
        if (f->mode == WRONG_FIRST)
            snprintf(out, sizeof out, "OK other-1 0.5 1\nOK %s %.17g 0\n",
                     reqid, f->value);
        else
            snprintf(out, sizeof out, "OK %s %.17g 0\n", reqid, f->value);
    }
    if (crp_conn_send(c, out, strlen(out), 1000) < 0)
        crp_conn_close(c);
}

static void *fake_main(void *arg)
{
    fake *f = arg;
    crp_conn cl[8];
    for (int i = 0; i < 8; i++)
        crp_conn_init(&cl[i], -1);
    while (!f->stop) {
        struct pollfd p[9];
        int n = 0, idx[9];
        p[n] = (struct pollfd){.fd = f->lfd, .events = POLLIN};
        idx[n++] = -1;
        for (int i = 0; i < 8; i++)
            if (cl[i].fd >= 0) {
                p[n] = (struct pollfd){.fd = cl[i].fd, .events = POLLIN};
                idx[n++] = i;
            }
        if (poll(p, (nfds_t)n, 20) <= 0)
            continue;
        for (int k = 0; k < n; k++) {
            if (!p[k].revents)
                continue;
            if (idx[k] < 0) {
                int fd = crp_net_accept(f->lfd);
                for (int i = 0; fd >= 0 && i < 8; i++)
                    if (cl[i].fd < 0) {
                        crp_conn_init(&cl[i], fd);
                        fd = -1;
                    }
                if (fd >= 0)
                    close(fd);
                continue;
            }
            crp_conn *c = &cl[idx[k]];
            int r;
            while ((r = crp_conn_fill(c)) > 0)
                ;
            char *line;
            while (c->fd >= 0 && crp_conn_next(c, &line))
                handle(f, c, line);
            if (r < 0)
                crp_conn_close(c);
        }
    }
    for (int i = 0; i < 8; i++)
        crp_conn_close(&cl[i]);
    return NULL;
}

static void fake_start(fake *f, int mode, double value)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    memset(f, 0, sizeof *f);
    f->mode = mode;
    f->value = value;
    f->lfd = crp_net_listen_on("127.0.0.1", 0);
    CU_ASSERT_FATAL(f->lfd >= 0);
    getsockname(f->lfd, (struct sockaddr *)&sa, &sl);
    f->port = ntohs(sa.sin_port);
    CU_ASSERT_FATAL(pthread_create(&f->th, NULL, fake_main, f) == 0);
}

static void fake_stop(fake *f)
{
    f->stop = 1;
    pthread_join(f->th, NULL);
    close(f->lfd);
}

static char *dir;
static char evpath[600];

static crp_scorer *make(const char *registry, crp_ev **ev)
{
    static crp_conf c;
    char err[256] = "";
    memset(&c, 0, sizeof c);
    snprintf(c.reg_service, sizeof c.reg_service, "model");
    snprintf(c.registry_addr, sizeof c.registry_addr, "%s", registry);
    snprintf(c.inst, sizeof c.inst, "worker.0");
    c.score_timeout_ms = 200;
    c.refresh_ms = 30;
    c.down_ms = 5000;
    snprintf(evpath, sizeof evpath, "%s/events.jsonl", dir);
    unlink(evpath);
    *ev = crp_ev_open(evpath, "", "worker", "worker.0", err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(*ev);
    crp_scorer *s = crp_scorer_create(&c, *ev, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    return s;
}

static int wait_ready(crp_scorer *s)
{
    for (int i = 0; i < 200; i++) {
        if (crp_scorer_ready(s))
            return 1;
        usleep(10 * 1000);
    }
    return 0;
}

static int events_have(const char *needle)
{
    char buf[8192] = "";
    FILE *f = fopen(evpath, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strstr(buf, needle) != NULL;
}

/* registry listing a (priority 0) then b (priority 1) */
static void run_pair(int mode_a, const char *reason)
{
    fake a, b, reg;
    crp_ev *ev;
    double x[CRP_DIM] = {1}, score = -1;
    int moved = 0;
    char addr[64], want[200];
    fake_start(&a, mode_a, 0.25);
    fake_start(&b, OK_FAST, 0.75);
    fake_start(&reg, REGISTRY, 0);
    snprintf(reg.list, sizeof reg.list,
             "LIST 2\nI a.0 127.0.0.1:%d 0 -\nI b.0 127.0.0.1:%d 1 -\n", a.port,
             b.port);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", reg.port);
    crp_scorer *s = make(addr, &ev);
    CU_ASSERT_TRUE_FATAL(wait_ready(s));
    CU_ASSERT_EQUAL(crp_scorer_score(s, x, NULL, &score, &moved), 0);
    if (mode_a == WRONG_FIRST) {
        /* the stray line is skipped; a's own answer is used */
        CU_ASSERT_DOUBLE_EQUAL(score, 0.25, 1e-12);
        CU_ASSERT_EQUAL(moved, 0);
    } else {
        CU_ASSERT_DOUBLE_EQUAL(score, 0.75, 1e-12); /* b answered */
        CU_ASSERT_EQUAL(moved, 1);
        snprintf(want, sizeof want,
                 "\"ev\":\"failover\",\"from\":\"a.0\",\"to\":\"b.0\","
                 "\"reason\":\"%s\"",
                 reason);
        CU_ASSERT_TRUE(events_have(want));
        /* a is held down: the next request goes to b directly, and a's
         * late answer (0.25) is never taken for it */
        usleep(300 * 1000);
        score = -1;
        CU_ASSERT_EQUAL(crp_scorer_score(s, x, NULL, &score, &moved), 0);
        CU_ASSERT_DOUBLE_EQUAL(score, 0.75, 1e-12);
        CU_ASSERT_EQUAL(moved, 0);
    }
    crp_scorer_destroy(s);
    crp_ev_close(ev);
    fake_stop(&a);
    fake_stop(&b);
    fake_stop(&reg);
}

static void test_crp_scorer_late_answer_never_used(void)
{
    run_pair(SLOW, "timeout");
}

static void test_crp_scorer_closed_connection(void)
{
    run_pair(CLOSE, "closed");
}

static void test_crp_scorer_matches_reqid(void)
{
    run_pair(WRONG_FIRST, "");
}

static void test_crp_scorer_no_registry(void)
{
    crp_ev *ev;
    double x[CRP_DIM] = {1}, score = -1;
    int lfd = crp_net_listen_on("127.0.0.1", 0), port;
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    char addr[64];
    CU_ASSERT_FATAL(lfd >= 0);
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    port = ntohs(sa.sin_port);
    close(lfd); /* nobody listens there now: refused */
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    crp_scorer *s = make(addr, &ev);
    usleep(100 * 1000);
    CU_ASSERT_FALSE(crp_scorer_ready(s));
    CU_ASSERT_EQUAL(crp_scorer_score(s, x, NULL, &score, NULL), -EAGAIN);
    CU_ASSERT_TRUE(events_have("\"ev\":\"registry_unreachable\""));
    crp_scorer_destroy(s);
    crp_ev_close(ev);
    crp_scorer_destroy(NULL);
}

static int setup(void)
{
    dir = cr_test_tmpdir();
    signal(SIGPIPE, SIG_IGN);
    return dir ? 0 : 1;
}

static int teardown(void)
{
    return cr_test_rmtree(dir) == 0 ? 0 : 1;
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("crp_scorer", setup, teardown);
    if (!s)
        return;
    CR_ADD_TEST(s, test_crp_scorer_late_answer_never_used);
    CR_ADD_TEST(s, test_crp_scorer_closed_connection);
    CR_ADD_TEST(s, test_crp_scorer_matches_reqid);
    CR_ADD_TEST(s, test_crp_scorer_no_registry);
}
