/* Tests for cr_cgroup: reading counters from "key value" files, finding a
 * controller's hierarchy (and refusing one that is not mounted), and
 * removing a cgroup that still holds processes -- directly and through the
 * ledger's undo of a "cgroup" entry, as the janitor does after a crash. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cr_cgroup.h"
#include "engine/cr_ledger.h"
#include "cr_test.h"

static void put(const char *dir, const char *file, const char *text)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    FILE *fp = fopen(p, "we");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    fputs(text, fp);
    fclose(fp);
}

static void test_cgroup_read_num(void)
{
    char *dir = cr_test_tmpdir();
    long long v = 0;
    put(dir, "cpu.stat", "nr_periods 50\nnr_throttled 7\nthrottled_time 123\n");
    put(dir, "one", "42\n");
    put(dir, "oom", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
    CU_ASSERT_EQUAL(cr_cgroup_read_num(dir, "cpu.stat", "nr_throttled", &v), 0);
    CU_ASSERT_EQUAL(v, 7);
    CU_ASSERT_EQUAL(cr_cgroup_read_num(dir, "cpu.stat", "throttled_time", &v),
                    0);
    CU_ASSERT_EQUAL(v, 123);
    /* "oom_kill" must not match "oom_kill_disable". */
    CU_ASSERT_EQUAL(cr_cgroup_read_num(dir, "oom", "oom_kill", &v), 0);
    CU_ASSERT_EQUAL(v, 3);
    CU_ASSERT_EQUAL(cr_cgroup_read_num(dir, "one", NULL, &v), 0);
    CU_ASSERT_EQUAL(v, 42);
    CU_ASSERT_EQUAL(cr_cgroup_read_num(dir, "cpu.stat", "nr_bursts", &v), -1);
    CU_ASSERT_EQUAL(cr_cgroup_read_num(dir, "missing", NULL, &v), -1);

    char buf[64];
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_cgroup_write(dir, "one", "17", &e), 0);
    CU_ASSERT_EQUAL(cr_cgroup_read(dir, "one", buf, sizeof buf, &e), 0);
    CU_ASSERT_STRING_EQUAL(buf, "17");
    CU_ASSERT_EQUAL(cr_cgroup_write(dir, "nodir/x", "1", &e), CR_ESYS);
    CU_ASSERT(strstr(e.msg, "nodir/x") != NULL);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

static void test_cgroup_base_unknown(void)
{
    char buf[4096];
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_cgroup_base("no_such_controller", buf, sizeof buf, &e),
                    CR_EUNSUP);
    CU_ASSERT(strstr(e.msg, "no_such_controller") != NULL);
    CU_ASSERT(strstr(e.msg, "no cgroup v1 hierarchy") != NULL);
}

/* A child that sleeps until killed, placed in cgroup dir. */
static pid_t sleeper_in(const char *dir)
{
    pid_t p = fork();
    if (p == 0) {
        for (;;)
            pause();
    }
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_cgroup_attach(dir, p, &e), 0);
    return p;
}

/* A fresh cgroup below this process's own, in the pids (or memory)
 * hierarchy; NULL (test skipped) without root or the controller. */
static int make_cg(char *buf, size_t n, const char *name)
{
    char base[4096];
    cr_err e;
    cr_err_clear(&e);
    if (geteuid() != 0 ||
        (cr_cgroup_base("pids", base, sizeof base, &e) != 0 &&
         cr_cgroup_base("memory", base, sizeof base, &e) != 0))
        return -1;
    snprintf(buf, n, "%s/cr-test-%d-%s", base, (int)getpid(), name);
    CU_ASSERT_EQUAL_FATAL(mkdir(buf, 0755), 0);
    return 0;
}

/* 1 when p ended by SIGKILL within 2 s; otherwise it is killed and reaped
 * here (so a failing test leaves nothing behind) and 0 returned. */
static int killed(pid_t p)
{
    int st = 0;
    for (int i = 0; i < 200; i++) {
        if (waitpid(p, &st, WNOHANG) == p)
            return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
        usleep(10 * 1000);
    }
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
    return 0;
}

static void test_cgroup_remove_busy(void)
{
    char dir[4200], sub[4300];
    if (make_cg(dir, sizeof dir, "rm") != 0) {
        printf("\n  SKIPPED (needs root and a cgroup v1 pids or memory "
               "hierarchy): test_cgroup_remove_busy\n");
        return;
    }
    /* One process in the cgroup, one in a child cgroup of it. */
    snprintf(sub, sizeof sub, "%s/inner", dir);
    CU_ASSERT_EQUAL_FATAL(mkdir(sub, 0755), 0);
    pid_t a = sleeper_in(dir), b = sleeper_in(sub);
    CU_ASSERT(rmdir(dir) != 0 && errno == EBUSY);
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_cgroup_remove(dir, 2.0, &e), 0);
    CU_ASSERT(access(dir, F_OK) != 0);
    CU_ASSERT(killed(a));
    CU_ASSERT(killed(b));
    /* Gone already: success. */
    CU_ASSERT_EQUAL(cr_cgroup_remove(dir, 2.0, &e), 0);
}

/* What the janitor does after a SIGKILLed harness: the replica is still
 * in its cgroup (it left the process group, or the pgid entry came
 * later); the undo kills it and removes the cgroup. */
static void test_cgroup_ledger_undo(void)
{
    char dir[4200];
    if (make_cg(dir, sizeof dir, "undo") != 0) {
        printf("\n  SKIPPED (needs root and a cgroup v1 pids or memory "
               "hierarchy): test_cgroup_ledger_undo\n");
        return;
    }
    pid_t a = sleeper_in(dir);
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_ledger_undo(-1, "cgroup", dir, &e), 0);
    CU_ASSERT(access(dir, F_OK) != 0);
    CU_ASSERT(killed(a));
    rmdir(dir); /* when the undo failed: leave nothing behind */
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("cgroup", NULL, NULL);
    if (!s)
        return;
    CR_ADD_TEST(s, test_cgroup_read_num);
    CR_ADD_TEST(s, test_cgroup_base_unknown);
    CR_ADD_TEST(s, test_cgroup_remove_busy);
    CR_ADD_TEST(s, test_cgroup_ledger_undo);
}
