/* Tests for cr_fiu: the libfiu remote-control client, against a fake peer
 * thread that behaves like libfiu's rc_fifo_thread (open .in for reading,
 * open .out for writing, one reply line per command line, reopen after
 * EOF), and once against the real preload library. */
#include "base/cr_alloc.h"
#include "faults/syscall/cr_fiu.h"
#include "cr_test.h"

#include <dirent.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* PEER_BOUNCE: the first session ends (both FIFOs closed, as libfiu's
 * thread does on EOF) after the client opened but before it writes. */
enum {
    PEER_OK,
    PEER_REFUSE,
    PEER_GARBLE,
    PEER_SILENT,
    PEER_CLOSE,
    PEER_BOUNCE
};

typedef struct peer {
    char prefix[256];
    pid_t pid; /* only a name here */
    int mode;
    int lines;           /* exit after a session that brought this many */
    double create_delay; /* create the FIFOs after this many seconds */
    char got[16][256];
    int ngot;
    int client_open, bounced; /* PEER_BOUNCE handshake (__atomic) */
    pthread_t th;
} peer;

static void nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static void *peer_main(void *arg)
{
    peer *p = arg;
    char pin[512], pout[512];
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    cr_fiu_fifo_path(pin, sizeof pin, p->prefix, p->pid, 0);
    cr_fiu_fifo_path(pout, sizeof pout, p->prefix, p->pid, 1);
    if (p->create_delay > 0) {
        nap(p->create_delay);
        mkfifo(pin, 0600);
        mkfifo(pout, 0600);
    }
    if (p->mode == PEER_BOUNCE) {
        int fr = open(pin, O_RDONLY | O_CLOEXEC);
        int fw = open(pout, O_WRONLY | O_CLOEXEC);
        while (!__atomic_load_n(&p->client_open, __ATOMIC_ACQUIRE))
            nap(0.001);
        close(fr);
        close(fw);
        __atomic_store_n(&p->bounced, 1, __ATOMIC_RELEASE);
        nap(0.05); /* a slow reopen, as on a loaded machine */
    }
    while (p->ngot < p->lines) {
        int fr = open(pin, O_RDONLY | O_CLOEXEC);
        int fw = open(pout, O_WRONLY | O_CLOEXEC);
        char line[256];
        size_t n = 0;
        char c;
        for (;;) {
            ssize_t r = read(fr, &c, 1);
            if (r <= 0)
                break;
            if (c != '\n') {
                if (n + 1 < sizeof line)
                    line[n++] = c;
                continue;
            }
            line[n] = '\0';
            n = 0;
            if (p->ngot < 16)
                snprintf(p->got[p->ngot++], sizeof p->got[0], "%s", line);
            const char *rep = p->mode == PEER_OK || p->mode == PEER_BOUNCE
                                  ? "0\n"
                              : p->mode == PEER_REFUSE ? "-1\n"
                              : p->mode == PEER_GARBLE ? "what?\n"
                                                       : NULL;
            if (p->mode == PEER_CLOSE)
                break;
            if (p->mode == PEER_SILENT) {
                /* Wait for the client to give up and close .in. */
                while (read(fr, &c, 1) > 0)
                    ;
                break;
            }
            if (write(fw, rep, strlen(rep)) < 0)
                break;
        }
        close(fr);
        close(fw);
    }
    return NULL;
}

static char *g_dir;

static void peer_start(peer *p, int mode, int lines, double delay)
{
    memset(p, 0, sizeof *p);
    snprintf(p->prefix, sizeof p->prefix, "%s/svc", g_dir);
    p->pid = 4242;
    p->mode = mode;
    p->lines = lines;
    p->create_delay = delay;
    if (delay <= 0) {
        char pin[512], pout[512];
        cr_fiu_fifo_path(pin, sizeof pin, p->prefix, p->pid, 0);
        cr_fiu_fifo_path(pout, sizeof pout, p->prefix, p->pid, 1);
        CU_ASSERT_EQUAL_FATAL(mkfifo(pin, 0600), 0);
        CU_ASSERT_EQUAL_FATAL(mkfifo(pout, 0600), 0);
    }
    CU_ASSERT_EQUAL_FATAL(pthread_create(&p->th, NULL, peer_main, p), 0);
}

static void peer_join(peer *p)
{
    char pin[512], pout[512];
    pthread_join(p->th, NULL);
    cr_fiu_fifo_path(pin, sizeof pin, p->prefix, p->pid, 0);
    cr_fiu_fifo_path(pout, sizeof pout, p->prefix, p->pid, 1);
    unlink(pin);
    unlink(pout);
}

static int suite_init(void)
{
    g_dir = cr_test_tmpdir();
    return g_dir ? 0 : -1;
}

static int suite_clean(void)
{
    rmdir(g_dir);
    free(g_dir);
    return 0;
}

static void test_fiu_format_commands(void)
{
    char b[CR_FIU_MAX_LINE];
    CU_ASSERT_EQUAL(
        cr_fiu_fmt_enable(b, sizeof b, "posix/io/rw/write", 1, 28, 0), 0);
    CU_ASSERT_STRING_EQUAL(b, "enable name=posix/io/rw/write,failinfo=28");
    CU_ASSERT_EQUAL(cr_fiu_fmt_enable(b, sizeof b, "posix/io/*", 0.25, 5, 1),
                    0);
    CU_ASSERT_STRING_EQUAL(
        b, "enable_random name=posix/io/*,probability=0.25,failinfo=5,onetime");
    CU_ASSERT_EQUAL(cr_fiu_fmt_enable(b, sizeof b, "x", 1, 0, 1), 0);
    CU_ASSERT_STRING_EQUAL(b, "enable name=x,onetime");
    CU_ASSERT_EQUAL(cr_fiu_fmt_disable(b, sizeof b, "libc/mm/malloc"), 0);
    CU_ASSERT_STRING_EQUAL(b, "disable name=libc/mm/malloc");
    char small[16];
    CU_ASSERT_EQUAL(cr_fiu_fmt_disable(small, sizeof small, "libc/mm/malloc"),
                    CR_EINVAL);
    char big[700];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char out[1024];
    CU_ASSERT_EQUAL(cr_fiu_fmt_enable(out, sizeof out, big, 1, 5, 0),
                    CR_EINVAL);
    char p[32];
    CU_ASSERT_EQUAL(cr_fiu_fifo_path(p, sizeof p, "/a/b", 77, 1), 0);
    CU_ASSERT_STRING_EQUAL(p, "/a/b-77.out");
    CU_ASSERT_EQUAL(cr_fiu_fifo_path(p, 8, "/a/b", 77, 1), CR_EINVAL);
}

static void test_fiu_roundtrip(void)
{
    peer p;
    cr_fiu_conn *c = NULL;
    cr_err e;
    int reply = 99;
    cr_err_clear(&e);
    peer_start(&p, PEER_OK, 2, 0);
    CU_ASSERT_EQUAL_FATAL(cr_fiu_open(p.prefix, p.pid, 2, &c, &e), 0);
    CU_ASSERT_EQUAL(cr_fiu_cmd(c, "enable name=a/b,failinfo=5", 2, &reply, &e),
                    0);
    CU_ASSERT_EQUAL(reply, 0);
    reply = 99;
    CU_ASSERT_EQUAL(cr_fiu_cmd(c, "disable name=a/b", 2, &reply, &e), 0);
    CU_ASSERT_EQUAL(reply, 0);
    cr_fiu_close(c);
    peer_join(&p);
    CU_ASSERT_EQUAL(p.ngot, 2);
    CU_ASSERT_STRING_EQUAL(p.got[0], "enable name=a/b,failinfo=5");
    CU_ASSERT_STRING_EQUAL(p.got[1], "disable name=a/b");
}

static void test_fiu_sessions_back_to_back(void)
{
    peer p;
    cr_err e;
    cr_err_clear(&e);
    peer_start(&p, PEER_OK, 3, 0);
    for (int i = 0; i < 3; i++) {
        cr_fiu_conn *c = NULL;
        int reply = 99;
        char cmd[64];
        snprintf(cmd, sizeof cmd, "enable name=p%d", i);
        CU_ASSERT_EQUAL_FATAL(cr_fiu_open(p.prefix, p.pid, 2, &c, &e), 0);
        CU_ASSERT_EQUAL(cr_fiu_cmd(c, cmd, 2, &reply, &e), 0);
        CU_ASSERT_EQUAL(reply, 0);
        cr_fiu_close(c);
    }
    peer_join(&p);
    CU_ASSERT_EQUAL(p.ngot, 3);
    CU_ASSERT_STRING_EQUAL(p.got[2], "enable name=p2");
}

/* The race that made a benchmark fail once in CI: the client opens .in
 * while libfiu's thread still holds the previous session's ends, which it
 * then closes.  The write meets EPIPE and the reply FIFO reads EOF until
 * the thread reopens both; the command must still arrive, exactly once. */
static void test_fiu_session_bounce(void)
{
    peer p;
    cr_fiu_conn *c = NULL;
    cr_err e;
    int reply = 99;
    cr_err_clear(&e);
    peer_start(&p, PEER_BOUNCE, 1, 0);
    CU_ASSERT_EQUAL_FATAL(cr_fiu_open(p.prefix, p.pid, 2, &c, &e), 0);
    __atomic_store_n(&p.client_open, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&p.bounced, __ATOMIC_ACQUIRE))
        nap(0.001);
    CU_ASSERT_EQUAL(cr_fiu_cmd(c, "enable name=bounce", 2, &reply, &e), 0);
    if (e.code)
        fprintf(stderr, "bounce: %s\n", e.msg);
    CU_ASSERT_EQUAL(reply, 0);
    cr_fiu_close(c);
    peer_join(&p);
    CU_ASSERT_EQUAL(p.ngot, 1);
    CU_ASSERT_STRING_EQUAL(p.got[0], "enable name=bounce");
}

static void test_fiu_refused_reply(void)
{
    peer p;
    cr_fiu_conn *c = NULL;
    cr_err e;
    int reply = 99;
    cr_err_clear(&e);
    peer_start(&p, PEER_REFUSE, 1, 0);
    CU_ASSERT_EQUAL_FATAL(cr_fiu_open(p.prefix, p.pid, 2, &c, &e), 0);
    CU_ASSERT_EQUAL(cr_fiu_cmd(c, "disable name=x", 2, &reply, &e), 0);
    CU_ASSERT_EQUAL(reply, -1);
    cr_fiu_close(c);
    peer_join(&p);
}

static void test_fiu_garbled_reply(void)
{
    peer p;
    cr_fiu_conn *c = NULL;
    cr_err e;
    int reply = 99;
    cr_err_clear(&e);
    peer_start(&p, PEER_GARBLE, 1, 0);
    CU_ASSERT_EQUAL_FATAL(cr_fiu_open(p.prefix, p.pid, 2, &c, &e), 0);
    CU_ASSERT_EQUAL(cr_fiu_cmd(c, "enable name=x", 2, &reply, &e), CR_EPROTO);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "what?"));
    CU_ASSERT_EQUAL(reply, 99);
    cr_fiu_close(c);
    peer_join(&p);
}

static void test_fiu_silent_peer_times_out(void)
{
    peer p;
    cr_fiu_conn *c = NULL;
    cr_err e;
    int reply = 99;
    cr_err_clear(&e);
    peer_start(&p, PEER_SILENT, 1, 0);
    CU_ASSERT_EQUAL_FATAL(cr_fiu_open(p.prefix, p.pid, 2, &c, &e), 0);
    CU_ASSERT_EQUAL(cr_fiu_cmd(c, "enable name=x", 0.1, &reply, &e),
                    CR_ETIMEOUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "no reply"));
    cr_fiu_close(c);
    peer_join(&p);
}

static void test_fiu_peer_closes(void)
{
    peer p;
    cr_fiu_conn *c = NULL;
    cr_err e;
    int reply = 99;
    cr_err_clear(&e);
    peer_start(&p, PEER_CLOSE, 1, 0);
    CU_ASSERT_EQUAL_FATAL(cr_fiu_open(p.prefix, p.pid, 2, &c, &e), 0);
    CU_ASSERT_EQUAL(cr_fiu_cmd(c, "enable name=x", 2, &reply, &e), CR_EPROTO);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "without replying"));
    /* The peer is gone: a further command gets EPIPE, not SIGPIPE. */
    cr_err_clear(&e);
    peer_join(&p);
    CU_ASSERT_NOT_EQUAL(cr_fiu_cmd(c, "enable name=y", 0.2, &reply, &e), 0);
    cr_fiu_close(c);
}

static void test_fiu_no_fifo(void)
{
    cr_fiu_conn *c = NULL;
    cr_err e;
    char prefix[512];
    cr_err_clear(&e);
    snprintf(prefix, sizeof prefix, "%s/none", g_dir);
    CU_ASSERT_EQUAL(cr_fiu_open(prefix, 1234, 0.05, &c, &e), CR_ETIMEOUT);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "no such FIFO"));
}

static void test_fiu_nobody_listening(void)
{
    /* FIFOs left behind by a process killed with SIGKILL. */
    cr_fiu_conn *c = NULL;
    cr_err e;
    char prefix[512], pin[600], pout[600];
    cr_err_clear(&e);
    snprintf(prefix, sizeof prefix, "%s/stale", g_dir);
    cr_fiu_fifo_path(pin, sizeof pin, prefix, 99, 0);
    cr_fiu_fifo_path(pout, sizeof pout, prefix, 99, 1);
    CU_ASSERT_EQUAL_FATAL(mkfifo(pin, 0600), 0);
    CU_ASSERT_EQUAL_FATAL(mkfifo(pout, 0600), 0);
    CU_ASSERT_EQUAL(cr_fiu_open(prefix, 99, 0.05, &c, &e), CR_ETIMEOUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "nobody listening"));
    CU_ASSERT_PTR_NULL(c);
    unlink(pin);
    unlink(pout);
}

static void test_fiu_waits_for_fifo(void)
{
    peer p;
    cr_fiu_conn *c = NULL;
    cr_err e;
    int reply = 99;
    cr_err_clear(&e);
    peer_start(&p, PEER_OK, 1, 0.05);
    CU_ASSERT_EQUAL_FATAL(cr_fiu_open(p.prefix, p.pid, 5, &c, &e), 0);
    CU_ASSERT_EQUAL(cr_fiu_cmd(c, "enable name=x", 5, &reply, &e), 0);
    CU_ASSERT_EQUAL(reply, 0);
    cr_fiu_close(c);
    peer_join(&p);
}

static void test_fiu_rejects_bad_lines(void)
{
    peer p;
    cr_fiu_conn *c = NULL;
    cr_err e;
    int reply = 99;
    char big[600];
    cr_err_clear(&e);
    peer_start(&p, PEER_OK, 1, 0);
    CU_ASSERT_EQUAL_FATAL(cr_fiu_open(p.prefix, p.pid, 2, &c, &e), 0);
    CU_ASSERT_EQUAL(
        cr_fiu_cmd(c, "enable name=x\ndisable name=x", 1, &reply, &e),
        CR_EINVAL);
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CU_ASSERT_EQUAL(cr_fiu_cmd(c, big, 1, &reply, &e), CR_EINVAL);
    CU_ASSERT_EQUAL(cr_fiu_cmd(c, "enable name=ok", 2, &reply, &e), 0);
    CU_ASSERT_EQUAL(reply, 0);
    cr_fiu_close(c);
    peer_join(&p);
    CU_ASSERT_EQUAL(p.ngot, 1);
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static void test_fiu_open_out_of_memory(void)
{
    peer p;
    cr_fiu_conn *c = NULL;
    cr_err e;
    int reply = 99;
    cr_err_clear(&e);
    /* Counted before the peer exists and after it is gone: the peer's own
     * FIFO fds come and go meanwhile. */
    int before = count_fds();
    peer_start(&p, PEER_OK, 1, 0);
    cr_alloc_fail_after(1);
    CU_ASSERT_EQUAL(cr_fiu_open(p.prefix, p.pid, 2, &c, &e), CR_ENOMEM);
    cr_alloc_fail_after(0);
    CU_ASSERT_PTR_NULL(c);
    /* The peer saw a session without a command and waits for the next. */
    cr_err_clear(&e);
    CU_ASSERT_EQUAL_FATAL(cr_fiu_open(p.prefix, p.pid, 2, &c, &e), 0);
    CU_ASSERT_EQUAL(cr_fiu_cmd(c, "enable name=x", 2, &reply, &e), 0);
    CU_ASSERT_EQUAL(reply, 0);
    cr_fiu_close(c);
    peer_join(&p);
    CU_ASSERT_EQUAL(count_fds(), before); /* nothing leaked on either path */
}

/* A batch: every line reaches the peer, in order, and every reply comes
 * back to its command. */
static void test_fiu_batch(void)
{
    peer p;
    cr_fiu_conn *c = NULL;
    cr_err e;
    int rep[3] = {9, 9, 9};
    const char *cmds[] = {"enable name=a", "enable name=b,failinfo=5",
                          "disable name=c"};
    cr_err_clear(&e);
    peer_start(&p, PEER_REFUSE, 3, 0);
    CU_ASSERT_EQUAL_FATAL(cr_fiu_open(p.prefix, p.pid, 2, &c, &e), 0);
    CU_ASSERT_EQUAL(cr_fiu_cmds(c, cmds, 3, 2, rep, &e), 0);
    CU_ASSERT(rep[0] == -1 && rep[1] == -1 && rep[2] == -1);
    cr_fiu_close(c);
    peer_join(&p);
    CU_ASSERT_EQUAL(p.ngot, 3);
    for (int i = 0; i < 3 && i < p.ngot; i++)
        CU_ASSERT_STRING_EQUAL(p.got[i], cmds[i]);
    /* A bad line anywhere refuses the whole batch before sending. */
    const char *bad[] = {"enable name=a", "enable name=x\ndisable name=x"};
    CU_ASSERT_EQUAL(cr_fiu_cmds(NULL, bad, 2, 1, rep, &e), CR_EINVAL);
}

/* A batch longer than PIPE_BUF goes out in several writes of whole lines
 * and a refused line in the middle gets its own -1 (real libfiu). */
static void batch_real(cr_fiu_conn *c)
{
    enum { N = 24 };
    static char buf[N][400];
    const char *cmds[N];
    int rep[N];
    cr_err e;
    cr_err_clear(&e);
    for (int i = 0; i < N; i++) {
        char name[300];
        memset(name, 'p', sizeof name - 1);
        name[sizeof name - 1] = '\0';
        if (i == 7)
            snprintf(buf[i], sizeof buf[i], "disable name=never/enabled");
        else
            snprintf(buf[i], sizeof buf[i], "enable name=batch/%d/%s", i, name);
        cmds[i] = buf[i];
    }
    CU_ASSERT_EQUAL(cr_fiu_cmds(c, cmds, N, 5, rep, &e), 0);
    for (int i = 0; i < N; i++)
        CU_ASSERT_EQUAL(rep[i], i == 7 ? -1 : 0);
    if (e.code)
        fprintf(stderr, "error: %s\n", e.msg);
}

/* The real thing: /bin/sleep under fiu_run_preload.so. */
static void test_fiu_real_libfiu(void)
{
    const char *dir = getenv("CHAOSRUN_FIU_DIR");
    char run[512], posix[512], preload[1100], fifo[512];
    if (!dir)
        dir = CR_FIU_DIR;
    snprintf(run, sizeof run, "%s/fiu_run_preload.so", dir);
    snprintf(posix, sizeof posix, "%s/fiu_posix_preload.so", dir);
    if (access(run, R_OK) != 0 || access(posix, R_OK) != 0) {
        fprintf(stderr,
                "libfiu preload libraries not in %s: real-libfiu "
                "test not run\n",
                dir);
        return; /* the rest of the suite still counts */
    }
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s %s", run, posix);
    snprintf(fifo, sizeof fifo, "FIU_CTRL_FIFO=%s/real", g_dir);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        char *argv[] = {"sleep", "30", NULL};
        char *envp[] = {preload, fifo, NULL};
        execve("/bin/sleep", argv, envp);
        _exit(127);
    }
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s/real", g_dir);
    cr_fiu_conn *c = NULL;
    cr_err e;
    int reply = 99;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_fiu_open(prefix, pid, 5, &c, &e), 0);
    if (c) {
        CU_ASSERT_EQUAL(cr_fiu_cmd(c,
                                   "enable name=posix/io/rw/write,"
                                   "failinfo=28",
                                   5, &reply, &e),
                        0);
        CU_ASSERT_EQUAL(reply, 0);
        CU_ASSERT_EQUAL(cr_fiu_cmd(c,
                                   "enable_random name=libc/mm/*,"
                                   "probability=0.5,failinfo=12,onetime",
                                   5, &reply, &e),
                        0);
        CU_ASSERT_EQUAL(reply, 0);
        CU_ASSERT_EQUAL(
            cr_fiu_cmd(c, "disable name=posix/io/rw/write", 5, &reply, &e), 0);
        CU_ASSERT_EQUAL(reply, 0);
        /* Not enabled any more: libfiu refuses. */
        CU_ASSERT_EQUAL(
            cr_fiu_cmd(c, "disable name=posix/io/rw/write", 5, &reply, &e), 0);
        CU_ASSERT_EQUAL(reply, -1);
        batch_real(c);
        cr_fiu_close(c);
    }
    /* A second session after the first closed. */
    c = NULL;
    CU_ASSERT_EQUAL(cr_fiu_open(prefix, pid, 5, &c, &e), 0);
    if (c) {
        CU_ASSERT_EQUAL(cr_fiu_cmd(c, "disable name=libc/mm/*", 5, &reply, &e),
                        0);
        CU_ASSERT_EQUAL(reply, 0);
        cr_fiu_close(c);
    }
    if (e.code)
        fprintf(stderr, "error: %s\n", e.msg);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    char pin[600], pout[600];
    cr_fiu_fifo_path(pin, sizeof pin, prefix, pid, 0);
    cr_fiu_fifo_path(pout, sizeof pout, prefix, pid, 1);
    unlink(pin);
    unlink(pout);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("fiu", suite_init, suite_clean);
    CR_ADD_TEST(s, test_fiu_format_commands);
    CR_ADD_TEST(s, test_fiu_roundtrip);
    CR_ADD_TEST(s, test_fiu_sessions_back_to_back);
    CR_ADD_TEST(s, test_fiu_session_bounce);
    CR_ADD_TEST(s, test_fiu_refused_reply);
    CR_ADD_TEST(s, test_fiu_garbled_reply);
    CR_ADD_TEST(s, test_fiu_silent_peer_times_out);
    CR_ADD_TEST(s, test_fiu_peer_closes);
    CR_ADD_TEST(s, test_fiu_no_fifo);
    CR_ADD_TEST(s, test_fiu_nobody_listening);
    CR_ADD_TEST(s, test_fiu_waits_for_fifo);
    CR_ADD_TEST(s, test_fiu_rejects_bad_lines);
    CR_ADD_TEST(s, test_fiu_open_out_of_memory);
    CR_ADD_TEST(s, test_fiu_batch);
    CR_ADD_TEST(s, test_fiu_real_libfiu);
}
