/* Tests for cr_cgroup: reading counters from "key value" files, finding a
 * controller's hierarchy (and refusing one that is not mounted), and
 * removing a cgroup that still holds processes -- directly and through the
 * ledger's undo of a "cgroup" entry, as the janitor does after a crash.
 * cr_cgroup2: the v1 -> v2 file mapping, the cpu.max / io.max / io.stat
 * formats, the ledger's "cgctl" entries; and, where a cgroup2 file system
 * is mounted and the test runs as root, freezing a real v2 cgroup and
 * removing it through cgroup.kill (on a hybrid machine the v2 hierarchy
 * has cgroup.freeze and cgroup.kill even without controllers). */
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
#include "base/cr_cgroup2.h"
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

static void test_cgroup2_map(void)
{
    const char *f, *k;
    CU_ASSERT_EQUAL(cr_cgroup2_map("memory.usage_in_bytes", NULL, &f, &k), 0);
    CU_ASSERT_STRING_EQUAL(f, "memory.current");
    CU_ASSERT_PTR_NULL(k);
    CU_ASSERT_EQUAL(cr_cgroup2_map("memory.max_usage_in_bytes", NULL, &f, &k),
                    0);
    CU_ASSERT_STRING_EQUAL(f, "memory.peak");
    CU_ASSERT_EQUAL(cr_cgroup2_map("memory.failcnt", NULL, &f, &k), 0);
    CU_ASSERT_STRING_EQUAL(f, "memory.events");
    CU_ASSERT_STRING_EQUAL(k, "max");
    CU_ASSERT_EQUAL(cr_cgroup2_map("memory.oom_control", "oom_kill", &f, &k),
                    0);
    CU_ASSERT_STRING_EQUAL(f, "memory.events");
    CU_ASSERT_STRING_EQUAL(k, "oom_kill");
    CU_ASSERT_EQUAL(cr_cgroup2_map("pids.events", "max", &f, &k), 0);
    CU_ASSERT_STRING_EQUAL(f, "pids.events");
    CU_ASSERT_EQUAL(cr_cgroup2_map("cpu.stat", "nr_throttled", &f, &k), 0);
    CU_ASSERT_STRING_EQUAL(k, "nr_throttled");
    /* Different unit (ns vs us) or no counterpart: refused. */
    CU_ASSERT_EQUAL(cr_cgroup2_map("cpu.stat", "throttled_time", &f, &k), -1);
    CU_ASSERT_EQUAL(cr_cgroup2_map("memory.oom_control", NULL, &f, &k), -1);
    CU_ASSERT_EQUAL(cr_cgroup2_map("cpu.cfs_quota_us", NULL, &f, &k), -1);
    CU_ASSERT_STRING_EQUAL(cr_cgroup2_name("blkio"), "io");
    CU_ASSERT_PTR_NULL(cr_cgroup2_name("freezer"));
    CU_ASSERT_STRING_EQUAL(cr_cgroup2_name("cpu"), "cpu");
}

static void test_cgroup2_formats(void)
{
    long long q = 0, p = 0;
    CU_ASSERT_EQUAL(cr_cgroup2_parse_cpu_max("20000 100000", &q, &p), 0);
    CU_ASSERT_EQUAL(q, 20000);
    CU_ASSERT_EQUAL(p, 100000);
    CU_ASSERT_EQUAL(cr_cgroup2_parse_cpu_max("max 50000\n", &q, &p), 0);
    CU_ASSERT_EQUAL(q, -1);
    CU_ASSERT_EQUAL(p, 50000);
    CU_ASSERT_EQUAL(cr_cgroup2_parse_cpu_max("max", &q, &p), -1);
    CU_ASSERT_EQUAL(cr_cgroup2_parse_cpu_max("12x 100000", &q, &p), -1);
    CU_ASSERT_EQUAL(cr_cgroup2_parse_cpu_max("100 0", &q, &p), -1);

    char buf[128];
    const long long lim[4] = {0, 1048576, 0, 200};
    cr_cgroup2_io_max("8:0", lim, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf,
                           "8:0 rbps=max wbps=1048576 riops=max wiops=200");
    const long long none[4] = {0, 0, 0, 0};
    cr_cgroup2_io_max("1:0", none, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "1:0 rbps=max wbps=max riops=max wiops=max");

    const char *st = "8:16 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n"
                     "8:1 rbytes=10 wbytes=20 rios=30 wios=40 dbytes=0 dios=0\n"
                     "1:0 rbytes=5 wbytes=6291456 rios=7 wios=96\n";
    /* "8:1" must not match the line of "8:16". */
    CU_ASSERT_EQUAL(cr_cgroup2_io_stat(st, "8:1", "wbytes"), 20);
    CU_ASSERT_EQUAL(cr_cgroup2_io_stat(st, "8:16", "rios"), 3);
    CU_ASSERT_EQUAL(cr_cgroup2_io_stat(st, "1:0", "wbytes"), 6291456);
    CU_ASSERT_EQUAL(cr_cgroup2_io_stat(st, "1:0", "wios"), 96);
    CU_ASSERT_EQUAL(cr_cgroup2_io_stat(st, "1:0", "dbytes"), -1);
    CU_ASSERT_EQUAL(cr_cgroup2_io_stat(st, "9:0", "rbytes"), 0);
    CU_ASSERT_EQUAL(cr_cgroup2_io_stat("", "9:0", "rbytes"), 0);

    CU_ASSERT(cr_cgroup2_has_word("cpuset cpu io memory pids\n", "cpu"));
    CU_ASSERT(cr_cgroup2_has_word("cpuset cpu io memory pids", "pids"));
    CU_ASSERT(!cr_cgroup2_has_word("cpuset io memory", "cpu"));
    CU_ASSERT(!cr_cgroup2_has_word("", "io"));
}

/* v2 counters through the v1 names: cr_cgroup_read_num on the mapped
 * file, as cr_resfault_num reads them in a v2 cgroup. */
static void test_cgroup2_counters(void)
{
    char *dir = cr_test_tmpdir();
    const char *f, *k;
    long long v = 0;
    put(dir, "memory.events",
        "low 0\nhigh 0\nmax 70\noom 2\noom_kill 2\noom_group_kill 0\n");
    CU_ASSERT_EQUAL(cr_cgroup2_map("memory.oom_control", "oom_kill", &f, &k),
                    0);
    CU_ASSERT_EQUAL(cr_cgroup_read_num(dir, f, k, &v), 0);
    CU_ASSERT_EQUAL(v, 2);
    CU_ASSERT_EQUAL(cr_cgroup2_map("memory.failcnt", NULL, &f, &k), 0);
    CU_ASSERT_EQUAL(cr_cgroup_read_num(dir, f, k, &v), 0);
    CU_ASSERT_EQUAL(v, 70);
    /* Not a cgroup2 file system. */
    CU_ASSERT_EQUAL(cr_cgroup_is_v2(dir), 0);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

/* The ledger's "cgctl" entries: malformed ones refused; one naming a
 * directory that is not (or no longer) a cgroup2 one is nothing to do. */
static void test_cgroup2_ledger_cgctl(void)
{
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_ledger_undo(-1, "cgctl", "cpu", &e), CR_EINVAL);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_ledger_undo(-1, "cgctl", "cpu relative/dir", &e),
                    CR_EINVAL);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_ledger_undo(-1, "cgctl", "c+pu /sys/fs/cgroup", &e),
                    CR_EINVAL);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(
        cr_ledger_undo(-1, "cgctl", "cpu /sys/fs/cgroup/../../etc", &e),
        CR_EINVAL);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_ledger_undo(-1, "cgctl", "cpu /nonexistent-cg", &e), 0);
}

/* A real v2 cgroup: frozen (the child stops: cgroup.events "frozen 1"
 * and its state in /proc "T" or "S" no longer running), thawed, then
 * removed with the child inside (cgroup.kill). */
static void test_cgroup2_freeze_kill(void)
{
    char mnt[4096], dir[4200];
    if (geteuid() != 0 || cr_cgroup2_mount(mnt, sizeof mnt) != 0) {
        printf("\n  SKIPPED (needs root and a cgroup2 file system): "
               "test_cgroup2_freeze_kill\n");
        return;
    }
    snprintf(dir, sizeof dir, "%s/cr-test-%d-v2", mnt, (int)getpid());
    if (mkdir(dir, 0755) != 0) {
        printf("\n  SKIPPED (cannot make a cgroup in %s): "
               "test_cgroup2_freeze_kill\n",
               mnt);
        return;
    }
    CU_ASSERT_EQUAL(cr_cgroup_is_v2(dir), 1);
    pid_t a = sleeper_in(dir);
    cr_err e;
    cr_err_clear(&e);
    long long fz = -1;
    CU_ASSERT_EQUAL(cr_cgroup_freeze(dir, 1, 5.0, &e), 0);
    CU_ASSERT_EQUAL(cr_cgroup_read_num(dir, "cgroup.events", "frozen", &fz), 0);
    CU_ASSERT_EQUAL(fz, 1);
    char v[16];
    CU_ASSERT_EQUAL(cr_cgroup_read(dir, "cgroup.freeze", v, sizeof v, &e), 0);
    CU_ASSERT_STRING_EQUAL(v, "1");
    CU_ASSERT_EQUAL(cr_cgroup_freeze(dir, 0, 5.0, &e), 0);
    CU_ASSERT_EQUAL(cr_cgroup_read_num(dir, "cgroup.events", "frozen", &fz), 0);
    CU_ASSERT_EQUAL(fz, 0);
    /* Frozen again: a v2 task dies of SIGKILL all the same. */
    CU_ASSERT_EQUAL(cr_cgroup_freeze(dir, 1, 5.0, &e), 0);
    CU_ASSERT_EQUAL(cr_cgroup_remove(dir, 2.0, &e), 0);
    CU_ASSERT(access(dir, F_OK) != 0);
    CU_ASSERT(killed(a));
    rmdir(dir); /* when the removal failed: leave nothing behind */
}

/* Where the run's v2 cgroup may go, seen from a process in a v2 cgroup
 * X/leaf (not the root): X when X holds no process, refused with the
 * no-internal-process reason when it does.  Needs root and a v2
 * controller on no v1 hierarchy (hugetlb on the development machines). */
static void test_cgroup2_place(void)
{
    char mnt[4096], x[4200], leaf[4300];
    if (geteuid() != 0 || cr_cgroup_version("hugetlb") != 2 ||
        cr_cgroup2_mount(mnt, sizeof mnt) != 0) {
        printf("\n  SKIPPED (needs root and cgroup v2 hugetlb): "
               "test_cgroup2_place\n");
        return;
    }
    snprintf(x, sizeof x, "%s/cr-test-%d-place", mnt, (int)getpid());
    snprintf(leaf, sizeof leaf, "%s/leaf", x);
    CU_ASSERT_EQUAL_FATAL(mkdir(x, 0755), 0);
    CU_ASSERT_EQUAL_FATAL(mkdir(leaf, 0755), 0);
    for (int busy = 0; busy < 2; busy++) {
        pid_t other = busy ? sleeper_in(x) : 0;
        int fds[2];
        CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
        pid_t c = fork();
        if (c == 0) {
            char buf[4600], v[32];
            cr_err e;
            cr_err_clear(&e);
            snprintf(v, sizeof v, "%d", (int)getpid());
            int rc = cr_cgroup_write(leaf, "cgroup.procs", v, &e);
            if (rc == 0)
                rc = cr_cgroup2_place("hugetlb", buf, sizeof buf, &e);
            dprintf(fds[1], "%d %s", rc, rc == 0 ? buf : e.msg);
            _exit(0);
        }
        close(fds[1]);
        char out[2048] = "";
        ssize_t n = read(fds[0], out, sizeof out - 1);
        out[n > 0 ? n : 0] = '\0';
        close(fds[0]);
        waitpid(c, NULL, 0);
        if (busy) {
            CU_ASSERT(strncmp(out, "-2 ", 3) == 0);
            CU_ASSERT(strstr(out, "no-internal-process") != NULL);
            CU_ASSERT(strstr(out, x) != NULL);
            kill(other, SIGKILL);
            waitpid(other, NULL, 0);
        } else {
            /* X, or refused because hugetlb is not enabled in the root's
             * subtree_control: either way X is named, not the root. */
            CU_ASSERT(strstr(out, x) != NULL);
            CU_ASSERT(strstr(out, "no-internal-process") == NULL);
        }
    }
    CU_ASSERT_EQUAL(rmdir(leaf), 0);
    CU_ASSERT_EQUAL(rmdir(x), 0);
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
    CR_ADD_TEST(s, test_cgroup2_map);
    CR_ADD_TEST(s, test_cgroup2_formats);
    CR_ADD_TEST(s, test_cgroup2_counters);
    CR_ADD_TEST(s, test_cgroup2_ledger_cgctl);
    CR_ADD_TEST(s, test_cgroup2_freeze_kill);
    CR_ADD_TEST(s, test_cgroup2_place);
}
