/* Tests for the seccomp backend's kernel side (cr_seccomp, cr_scsup) on a
 * real program: helper_sc_calls is started the way the engine starts a
 * service -- fork, cr_seccomp_child_install in the child, execve; the
 * listener comes back over a socketpair and goes to a supervisor -- and
 * makes system calls on command while windows are armed and disarmed:
 * untouched outside a window, failed or delayed inside, count and seeded
 * probability, threads and forked children, the path filter (relative and
 * absolute), a delay that blocks nothing else, a signal during a delay,
 * disarm releasing a held call.  Skipped (77) without seccomp user
 * notification. */
#include "faults/syscall/cr_scsup.h"
#include "faults/syscall/cr_seccomp.h"
#include "faults/syscall/syscall_sc_ctr.h"
#include "cr_test.h"

#include <jansson.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static cr_scsup *g_sup;
static int g_sock[2] = {-1, -1};
static unsigned g_flags; /* of the latest listener */

typedef struct child {
    pid_t pid;
    int in_w, out_r;
} child;

/* Start helper_sc_calls ARGS... under a filter notifying nrs, its
 * listener added under key.  The helper waits for go(). */
static int spawn(const int *nrs, size_t n, const void *key, child *c,
                 const char *a1, const char *a2, const char *a3)
{
    cr_seccomp_prog *prog = NULL;
    cr_err e;
    int in[2], out[2], fd = -1;
    cr_err_clear(&e);
    if (cr_seccomp_prog_build(nrs, n, &prog, &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        return -1;
    }
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
        return -1;
    const char *helper = cr_test_bin("helper_sc_calls");
    char *const argv[] = {(char *)"helper_sc_calls", (char *)a1, (char *)a2,
                          (char *)a3, NULL};
    pid_t pid = fork();
    if (pid == 0) {
        if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0)
            _exit(98);
        if (cr_seccomp_child_install(prog, g_sock[0]) != 0)
            _exit(99);
        execv(helper, argv);
        _exit(97);
    }
    close(in[0]);
    close(out[1]);
    cr_seccomp_prog_free(prog);
    c->pid = pid;
    c->in_w = in[1];
    c->out_r = out[0];
    if (cr_seccomp_recv_listener(g_sock[1], pid, 5, &fd, &g_flags, &e) != 0 ||
        cr_scsup_add(g_sup, fd, key, g_flags, &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        return -1;
    }
    return 0;
}

static void go(child *c)
{
    ssize_t w = write(c->in_w, "g", 1);
    (void)w;
}

/* The helper's result line (static buffer); reaps it. */
static const char *result(child *c)
{
    static char buf[512];
    size_t k = 0;
    ssize_t r;
    while (k + 1 < sizeof buf &&
           (r = read(c->out_r, buf + k, sizeof buf - 1 - k)) > 0)
        k += (size_t)r;
    buf[k] = '\0';
    int st;
    waitpid(c->pid, &st, 0);
    close(c->in_w);
    close(c->out_r);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fprintf(stderr, "helper status 0x%x: %s\n", st, buf);
    return buf;
}

static long field(const char *line, const char *key)
{
    const char *p = strstr(line, key);
    return p ? atol(p + strlen(key)) : -999;
}

static void win_init(cr_scwin *w, cr_sctarget *t, const void *key,
                     const char *const *sys, int errnum, double delay_ms,
                     const char *path)
{
    cr_err e;
    memset(w, 0, sizeof *w);
    memset(t, 0, sizeof *t);
    cr_err_clear(&e);
    for (size_t i = 0; sys[i]; i++)
        CU_ASSERT_EQUAL(cr_scrule_add(&w->rule, sys[i], &e), 0);
    w->rule.errnum = errnum;
    w->rule.delay_ms = delay_ms;
    w->rule.probability = 1;
    if (path)
        snprintf(w->rule.path, sizeof w->rule.path, "%s", path);
    t->key = key;
    cr_scdraw_init(&t->draw, 1, "test");
    w->t = t;
    w->nt = 1;
}

static const char *const WRITE[] = {"write", NULL};

static void test_seccomp_prog_build(void)
{
    cr_seccomp_prog *p = NULL, *q = NULL;
    cr_err e;
    int nrs[] = {SYS_write, SYS_fsync};
    int with_sendmsg[] = {SYS_write, SYS_fsync, SYS_sendmsg};
    cr_err_clear(&e);
    CU_ASSERT_EQUAL_FATAL(cr_seccomp_prog_build(nrs, 2, &p, &e), 0);
    CU_ASSERT(cr_seccomp_prog_len(p) > 4 && cr_seccomp_prog_len(p) < 64);
    CU_ASSERT_EQUAL_FATAL(cr_seccomp_prog_build(with_sendmsg, 3, &q, &e), 0);
    /* sendmsg's rule tests an argument: longer than one more number */
    CU_ASSERT(cr_seccomp_prog_len(q) > cr_seccomp_prog_len(p) + 1);
    cr_seccomp_prog_free(p);
    cr_seccomp_prog_free(q);
    cr_seccomp_prog_free(NULL);
}

static void test_seccomp_untouched_outside_a_window(void)
{
    static int key;
    int nrs[] = {SYS_write};
    child c;
    uint64_t n0, u0, n1, u1;
    cr_scsup_totals(g_sup, &n0, &u0);
    CU_ASSERT_EQUAL_FATAL(spawn(nrs, 1, &key, &c, "writes", "1000", NULL), 0);
    CU_ASSERT_EQUAL(cr_scsup_listeners(g_sup, &key), 1);
    go(&c);
    const char *r = result(&c);
    CU_ASSERT_EQUAL(field(r, "ok="), 1000);
    CU_ASSERT_EQUAL(field(r, "fail="), 0);
    cr_scsup_totals(g_sup, &n1, &u1);
    CU_ASSERT(n1 - n0 >= 1000);        /* every write was notified ... */
    CU_ASSERT_EQUAL(n1 - n0, u1 - u0); /* ... and let through */
    /* its listener goes once the process is gone */
    for (int i = 0; i < 500 && cr_scsup_listeners(g_sup, &key); i++)
        usleep(10000);
    CU_ASSERT_EQUAL(cr_scsup_listeners(g_sup, &key), 0);
}

static void test_seccomp_fails_in_a_window_only(void)
{
    static int key;
    int nrs[] = {SYS_write};
    child c;
    cr_scwin w;
    cr_sctarget t;
    win_init(&w, &t, &key, WRITE, ENOSPC, 0, "/dev/null");
    CU_ASSERT_EQUAL_FATAL(spawn(nrs, 1, &key, &c, "writes", "500", NULL), 0);
    cr_scsup_arm(g_sup, &w);
    go(&c);
    const char *r = result(&c);
    cr_scsup_disarm(g_sup, &w);
    CU_ASSERT_EQUAL(field(r, "ok="), 0);
    CU_ASSERT_EQUAL(field(r, "fail="), 500);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "errno=ENOSPC"));
    CU_ASSERT_EQUAL(t.sys[0].matched, 500);
    CU_ASSERT_EQUAL(t.sys[0].failed, 500);
    CU_ASSERT_EQUAL(t.sys[0].delayed, 0);
    /* the result line itself (a write to a pipe) was seen, not matched */
    CU_ASSERT(t.sys[0].seen > 500);
    CU_ASSERT(w.first_mono > 0 && w.last_mono >= w.first_mono);
    /* another key: not targeted by the window */
    static int other;
    cr_scsup_arm(g_sup, &w);
    CU_ASSERT_EQUAL_FATAL(spawn(nrs, 1, &other, &c, "writes", "100", NULL), 0);
    go(&c);
    r = result(&c);
    cr_scsup_disarm(g_sup, &w);
    CU_ASSERT_EQUAL(field(r, "ok="), 100);
    /* after disarm: untouched */
    CU_ASSERT_EQUAL_FATAL(spawn(nrs, 1, &key, &c, "writes", "100", NULL), 0);
    go(&c);
    r = result(&c);
    CU_ASSERT_EQUAL(field(r, "ok="), 100);
    CU_ASSERT_EQUAL(t.sys[0].failed, 500);
}

static void test_seccomp_count_and_probability(void)
{
    static int key;
    int nrs[] = {SYS_write};
    child c;
    cr_scwin w;
    cr_sctarget t;
    win_init(&w, &t, &key, WRITE, EIO, 0, "/dev/null");
    w.rule.count = 3;
    CU_ASSERT_EQUAL_FATAL(spawn(nrs, 1, &key, &c, "writes", "100", NULL), 0);
    cr_scsup_arm(g_sup, &w);
    go(&c);
    const char *r = result(&c);
    cr_scsup_disarm(g_sup, &w);
    CU_ASSERT_EQUAL(field(r, "fail="), 3);
    CU_ASSERT_EQUAL(field(r, "first_fail="), 0); /* the first three */
    /* probability: the same seed and label, the same verdicts */
    long fails[2];
    for (int k = 0; k < 2; k++) {
        win_init(&w, &t, &key, WRITE, EIO, 0, "/dev/null");
        w.rule.probability = 0.3;
        CU_ASSERT_EQUAL_FATAL(spawn(nrs, 1, &key, &c, "writes", "1000", NULL),
                              0);
        cr_scsup_arm(g_sup, &w);
        go(&c);
        r = result(&c);
        cr_scsup_disarm(g_sup, &w);
        fails[k] = field(r, "fail=");
        CU_ASSERT(fails[k] > 200 && fails[k] < 400);
    }
    CU_ASSERT_EQUAL(fails[0], fails[1]);
}

static void test_seccomp_threads_and_forked_children(void)
{
    static int key;
    int nrs[] = {SYS_write};
    child c;
    cr_scwin w;
    cr_sctarget t;
    win_init(&w, &t, &key, WRITE, EIO, 0, "/dev/null");
    CU_ASSERT_EQUAL_FATAL(spawn(nrs, 1, &key, &c, "threads", "4", "200"), 0);
    cr_scsup_arm(g_sup, &w);
    go(&c);
    const char *r = result(&c);
    cr_scsup_disarm(g_sup, &w);
    CU_ASSERT_EQUAL(field(r, "ok="), 0);
    CU_ASSERT_EQUAL(field(r, "fail="), 800);
    CU_ASSERT_EQUAL(t.ntids, 4); /* every notification names its thread */
    CU_ASSERT_EQUAL(t.npids, 1);
    win_init(&w, &t, &key, WRITE, EIO, 0, "/dev/null");
    CU_ASSERT_EQUAL_FATAL(spawn(nrs, 1, &key, &c, "fork", "50", NULL), 0);
    cr_scsup_arm(g_sup, &w);
    go(&c);
    r = result(&c);
    cr_scsup_disarm(g_sup, &w);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "parent ok=0 fail=50 child ok=0 fail=50"));
    CU_ASSERT_EQUAL(t.npids, 2); /* the forked child inherited the filter */
}

static void test_seccomp_path_filter(void)
{
    static int key;
    int nrs[] = {SYS_openat};
    const char *const OPEN[] = {"openat", NULL};
    char *dir = cr_test_tmpdir(), in[600], out[600], f[700];
    child c;
    cr_scwin w;
    cr_sctarget t;
    snprintf(in, sizeof in, "%s/in", dir);
    snprintf(out, sizeof out, "%s/in-not", dir); /* a prefix, not under */
    mkdir(in, 0755);
    mkdir(out, 0755);
    snprintf(f, sizeof f, "%s/a", in);
    close(open(f, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    snprintf(f, sizeof f, "%s/a", out);
    close(open(f, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    win_init(&w, &t, &key, OPEN, EACCES, 0, in);
    cr_scsup_arm(g_sup, &w);
    CU_ASSERT_EQUAL_FATAL(spawn(nrs, 1, &key, &c, "open", in, "a"), 0);
    go(&c);
    const char *r = result(&c);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "rel=EACCES abs=EACCES"));
    CU_ASSERT_EQUAL_FATAL(spawn(nrs, 1, &key, &c, "open", out, "a"), 0);
    go(&c);
    r = result(&c);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "rel=ok abs=ok"));
    /* ".." out of the filtered directory is judged by where it leads */
    CU_ASSERT_EQUAL_FATAL(spawn(nrs, 1, &key, &c, "open", in, "../in-not/a"),
                          0);
    go(&c);
    r = result(&c);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "rel=ok abs=ok"));
    cr_scsup_disarm(g_sup, &w);
    CU_ASSERT_EQUAL(t.sys[0].failed, 2);
    CU_ASSERT_EQUAL(w.unreadable, 0);
    cr_test_rmtree(dir);
}

static void test_seccomp_delays(void)
{
    static int key;
    int nrs[] = {SYS_write};
    child c;
    cr_scwin w;
    cr_sctarget t;
    win_init(&w, &t, &key, WRITE, 0, 300, "/dev/null");
    CU_ASSERT_EQUAL_FATAL(spawn(nrs, 1, &key, &c, "timed-write", NULL, NULL),
                          0);
    cr_scsup_arm(g_sup, &w);
    go(&c);
    const char *r = result(&c);
    cr_scsup_disarm(g_sup, &w);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "ret=1 errno=0"));
    CU_ASSERT(field(r, "ms=") >= 300); /* a delay is never shorter */
    CU_ASSERT_EQUAL(t.sys[0].delayed, 1);
    CU_ASSERT_EQUAL(t.sys[0].failed, 0);
    /* delay, then fail */
    win_init(&w, &t, &key, WRITE, ETIMEDOUT, 100, "/dev/null");
    CU_ASSERT_EQUAL_FATAL(spawn(nrs, 1, &key, &c, "timed-write", NULL, NULL),
                          0);
    cr_scsup_arm(g_sup, &w);
    go(&c);
    r = result(&c);
    cr_scsup_disarm(g_sup, &w);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "ret=-1 errno=ETIMEDOUT"));
    CU_ASSERT(field(r, "ms=") >= 100);
    CU_ASSERT_EQUAL(t.sys[0].delayed, 1);
    CU_ASSERT_EQUAL(t.sys[0].failed, 1);
}

/* While one thread's call is held for 2 s, another thread's ten calls are
 * answered: a delay holds its call, not the supervisor. */
static void test_seccomp_delay_blocks_nothing_else(void)
{
    static int key;
    int nrs[] = {SYS_write};
    child c;
    cr_scwin w;
    cr_sctarget t;
    win_init(&w, &t, &key, WRITE, 0, 2000, "/dev/null");
    CU_ASSERT_EQUAL_FATAL(spawn(nrs, 1, &key, &c, "race", "50", NULL), 0);
    cr_scsup_arm(g_sup, &w);
    go(&c);
    const char *r = result(&c);
    cr_scsup_disarm(g_sup, &w);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "a_done_when_b_done=0 a_ret=1"));
    CU_ASSERT(field(r, "a_ms=") >= 2000);
}

/* A signal arrives while the call is held.  With the killable wait (Linux
 * >= 5.19) the call completes after its delay and the handler runs after;
 * without it the wait is cut short and the call fails with EINTR. */
static void test_seccomp_signal_during_a_delay(void)
{
    static int key;
    int nrs[] = {SYS_write};
    child c;
    cr_scwin w;
    cr_sctarget t;
    win_init(&w, &t, &key, WRITE, 0, 500, "/dev/null");
    CU_ASSERT_EQUAL_FATAL(spawn(nrs, 1, &key, &c, "alarm-write", "100", NULL),
                          0);
    cr_scsup_arm(g_sup, &w);
    go(&c);
    const char *r = result(&c);
    cr_scsup_disarm(g_sup, &w);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "alarm=1"));
    if (g_flags & CR_SECCOMP_KILLABLE) {
        CU_ASSERT_PTR_NOT_NULL(strstr(r, "ret=1 errno=0"));
        CU_ASSERT(field(r, "ms=") >= 500);
    } else {
        CU_ASSERT_PTR_NOT_NULL(strstr(r, "errno=EINTR"));
    }
}

/* Disarming a window lets the calls it holds go at once. */
static void test_seccomp_disarm_releases(void)
{
    static int key;
    int nrs[] = {SYS_write};
    child c;
    cr_scwin w;
    cr_sctarget t;
    uint64_t n0, n1, u;
    win_init(&w, &t, &key, WRITE, 0, 60000, "/dev/null");
    CU_ASSERT_EQUAL_FATAL(spawn(nrs, 1, &key, &c, "timed-write", NULL, NULL),
                          0);
    cr_scsup_arm(g_sup, &w);
    cr_scsup_totals(g_sup, &n0, &u);
    go(&c);
    /* held once notified: wait for that, then disarm */
    for (int i = 0; i < 1000; i++) {
        cr_scsup_totals(g_sup, &n1, &u);
        if (n1 > n0)
            break;
        usleep(5000);
    }
    CU_ASSERT(n1 > n0);
    cr_scsup_disarm(g_sup, &w);
    const char *r = result(&c);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "ret=1 errno=0"));
    CU_ASSERT(field(r, "ms=") < 60000);
    CU_ASSERT_EQUAL(w.released, 1);
    CU_ASSERT_EQUAL(t.sys[0].delayed, 1);
}

/* A child that dies before installing its filter is noticed at once (a
 * pidfd), and a message of an earlier child is not taken for its own. */
static void test_seccomp_listener_errors(void)
{
    cr_err e;
    int fd = -1;
    unsigned fl = 0;
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_seccomp_recv_listener(g_sock[1], pid, 5, &fd, &fl, &e),
                    CR_ESTATE);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "exited before installing"));
    waitpid(pid, NULL, 0);
    /* no child at all: times out */
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(
        cr_seccomp_recv_listener(g_sock[1], getpid(), 0.05, &fd, &fl, &e),
        CR_ETIMEOUT);
    CU_ASSERT_EQUAL(fd, -1);
}

/* The profile given to a container engine: the named calls leave the
 * allow rules (a rule left empty goes) and get one notify rule, the
 * listener path is set, the rest is the default's; a call the default
 * allows only under conditions, denies, or does not name is refused. */
static void test_seccomp_ctr_profile(void)
{
    char *dir = cr_test_tmpdir();
    char dflt[512], out[512];
    snprintf(dflt, sizeof dflt, "%s/default.json", dir);
    snprintf(out, sizeof out, "%s/profile.json", dir);
    FILE *f = fopen(dflt, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":["
          "{\"names\":[\"read\",\"fsync\",\"write\"],"
          "\"action\":\"SCMP_ACT_ALLOW\"},"
          "{\"names\":[\"fdatasync\"],\"action\":\"SCMP_ACT_ALLOW\"},"
          "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\","
          "\"args\":[{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]},"
          "{\"names\":[\"chroot\"],\"action\":\"SCMP_ACT_ALLOW\","
          "\"includes\":{\"caps\":[\"CAP_SYS_CHROOT\"]}},"
          "{\"names\":[\"kexec_load\"],\"action\":\"SCMP_ACT_ERRNO\"}]}",
          f);
    fclose(f);
    const char *ok[] = {"fsync", "fdatasync"};
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL_FATAL(
        sys_sc_ctr_profile(dflt, ok, 2, "/run/x/sc.sock", out, &e), 0);
    json_t *p = json_load_file(out, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    char *got = json_dumps(json_object_get(p, "syscalls"), JSON_COMPACT);
    CU_ASSERT_STRING_EQUAL(
        got, "[{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\"},"
             "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\","
             "\"args\":[{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]},"
             "{\"names\":[\"chroot\"],\"action\":\"SCMP_ACT_ALLOW\","
             "\"includes\":{\"caps\":[\"CAP_SYS_CHROOT\"]}},"
             "{\"names\":[\"kexec_load\"],\"action\":\"SCMP_ACT_ERRNO\"},"
             "{\"names\":[\"fsync\",\"fdatasync\"],"
             "\"action\":\"SCMP_ACT_NOTIFY\"}]");
    free(got);
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_object_get(p, "listenerPath")),
        "/run/x/sc.sock");
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_object_get(p, "defaultAction")),
        "SCMP_ACT_ERRNO");
    json_decref(p);
    static const char *const bad[] = {"personality", "chroot", "kexec_load",
                                      "mount"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_err_clear(&e);
        CU_ASSERT_EQUAL(
            sys_sc_ctr_profile(dflt, &bad[i], 1, "/run/x/sc.sock", out, &e),
            CR_EUNSUP);
        CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, bad[i]));
    }
    cr_test_rmtree(dir);
}

static int suite_init(void)
{
    cr_err e;
    cr_err_clear(&e);
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, g_sock) != 0)
        return -1;
    return cr_scsup_start(&g_sup, &e) == 0 ? 0 : -1;
}

static int suite_clean(void)
{
    cr_scsup_stop(g_sup);
    close(g_sock[0]);
    close(g_sock[1]);
    return 0;
}

void cr_test_register(void)
{
    cr_err e;
    cr_err_clear(&e);
    /* (no kernel support needed: a file is made) */
    CU_pSuite p = CU_add_suite("seccomp_ctr_profile", NULL, NULL);
    if (p)
        CR_ADD_TEST(p, test_seccomp_ctr_profile);
    if (cr_seccomp_available(&e) != 0)
        cr_test_skip("%s", e.msg);
    CU_pSuite s = CU_add_suite("seccomp", suite_init, suite_clean);
    CR_ADD_TEST(s, test_seccomp_prog_build);
    CR_ADD_TEST(s, test_seccomp_untouched_outside_a_window);
    CR_ADD_TEST(s, test_seccomp_fails_in_a_window_only);
    CR_ADD_TEST(s, test_seccomp_count_and_probability);
    CR_ADD_TEST(s, test_seccomp_threads_and_forked_children);
    CR_ADD_TEST(s, test_seccomp_path_filter);
    CR_ADD_TEST(s, test_seccomp_delays);
    CR_ADD_TEST(s, test_seccomp_delay_blocks_nothing_else);
    CR_ADD_TEST(s, test_seccomp_signal_during_a_delay);
    CR_ADD_TEST(s, test_seccomp_disarm_releases);
    CR_ADD_TEST(s, test_seccomp_listener_errors);
}
