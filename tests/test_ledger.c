/* Tests for cr_ledger: what is recorded is undone, newest first, exactly
 * once; what was marked done is left alone; undo is idempotent; bad lines
 * are reported; the janitor cleans up after a dead owner. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cr_alloc.h"
#include "engine/cr_ledger.h"
#include "cr_test.h"

/* A child in its own process group that sleeps until killed. */
static pid_t spawn_group(void)
{
    pid_t p = fork();
    if (p == 0) {
        setpgid(0, 0);
        for (;;)
            pause();
    }
    setpgid(p, p);
    return p;
}

static int alive(pid_t p)
{
    /* Reap if it died, so kill(0) tells the truth. */
    int st;
    if (waitpid(p, &st, WNOHANG) == p)
        return 0;
    return kill(p, 0) == 0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A SIGKILLed process is gone once the kernel has run its exit: on a
 * loaded machine that can take longer than any fixed nap, so wait for it
 * (up to 5 s) instead of asserting after one. */
static int gone_within_5s(pid_t p)
{
    for (int i = 0; i < 250; i++) {
        if (!alive(p))
            return 1;
        sleep_ms(20);
    }
    return 0;
}

static cr_ledger *open_in(const char *dir, int *dfd)
{
    cr_ledger *l = NULL;
    cr_err err;
    cr_err_clear(&err);
    *dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CU_ASSERT_FATAL(*dfd >= 0);
    CU_ASSERT_EQUAL_FATAL(cr_ledger_open(*dfd, dir, &l, &err), 0);
    return l;
}

/* A listening unix socket at path (closed: the file stays). */
static void make_socket(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    close(fd);
}

static void test_ledger_revert_undoes_open_entries(void)
{
    char *dir = cr_test_tmpdir();
    int dfd;
    cr_ledger *l = open_in(dir, &dfd);
    cr_err err;
    cr_err_clear(&err);

    pid_t a = spawn_group(), b = spawn_group();
    char line[256], p[4][512];
    snprintf(p[0], sizeof p[0], "%s/fiu", dir);
    snprintf(p[1], sizeof p[1], "%s/kept", dir);
    snprintf(p[2], sizeof p[2], "%s/fiu/svc", dir);
    snprintf(p[3], sizeof p[3], "%s/proxy.sock", dir);
    CU_ASSERT_EQUAL(mkdir(p[0], 0755), 0);
    CU_ASSERT_EQUAL(mkdir(p[1], 0755), 0);
    CU_ASSERT_EQUAL(mkdir(p[2], 0700), 0);
    make_socket(p[3]);

    snprintf(line, sizeof line, "pgid %d %llu", (int)a, cr_proc_starttime(a));
    int ida = cr_ledger_add(l, line, &err);
    snprintf(line, sizeof line, "pgid %d %llu", (int)b, cr_proc_starttime(b));
    int idb = cr_ledger_add(l, line, &err);
    CU_ASSERT(cr_ledger_add(l, "dir fiu", &err) > 0);
    int idk = cr_ledger_add(l, "dir kept", &err);
    CU_ASSERT(cr_ledger_add(l, "sock proxy.sock", &err) > 0);
    CU_ASSERT(ida > 0 && idb > ida && idk > idb);
    /* b and the second directory were undone by their owner already. */
    cr_ledger_done(l, idb);
    cr_ledger_done(l, idk);
    CU_ASSERT_EQUAL(cr_ledger_add(l, "bad\nline", &err), CR_EINVAL);

    int lfd = open(cr_ledger_path(l), O_RDONLY | O_CLOEXEC);
    CU_ASSERT_FATAL(lfd >= 0);
    cr_err_clear(&err);
    int n = cr_ledger_revert_fd(lfd, dfd, NULL, &err);
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_TRUE(gone_within_5s(a));
    CU_ASSERT_TRUE(alive(b));
    CU_ASSERT_NOT_EQUAL(access(p[0], F_OK), 0);
    CU_ASSERT_EQUAL(access(p[1], F_OK), 0);
    CU_ASSERT_NOT_EQUAL(access(p[3], F_OK), 0);

    /* Idempotent: reverting again finds everything already gone. */
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_ledger_revert_fd(lfd, dfd, NULL, &err), 3);

    close(lfd);
    kill(b, SIGKILL);
    waitpid(b, NULL, 0);
    waitpid(a, NULL, WNOHANG);
    cr_ledger_close(l, 1);
    close(dfd);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

/* Issue 13: R/fiu replaced by a link to another directory: the janitor
 * unlinked every file of the target.  What is not what the run made is
 * left alone. */
static void test_ledger_undo_never_follows(void)
{
    char *dir = cr_test_tmpdir(), *out = cr_test_tmpdir();
    char path[512], keep[512];
    cr_err err;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CU_ASSERT_FATAL(dfd >= 0);
    snprintf(keep, sizeof keep, "%s/keep", out);
    FILE *fp = fopen(keep, "w");
    CU_ASSERT_FATAL(fp != NULL);
    fclose(fp);
    snprintf(path, sizeof path, "%s/fiu", dir);
    CU_ASSERT_FATAL(symlink(out, path) == 0);
    snprintf(path, sizeof path, "%s/proxy.sock", dir);
    CU_ASSERT_FATAL(symlink(keep, path) == 0);
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_ledger_undo(dfd, "dir", "fiu", &err), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "left alone"));
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_ledger_undo(dfd, "sock", "proxy.sock", &err), CR_EINVAL);
    CU_ASSERT_EQUAL(access(keep, F_OK), 0);
    /* No entry names a path: absolute or with '/', refused. */
    const char *bad[][2] = {{"dir", "/tmp"}, {"dir", "../x"}, {"sock", "a/b"},
                            {"dir", ".."},   {"file", keep},  {"fifo", keep}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_err_clear(&err);
        CU_ASSERT(cr_ledger_undo(dfd, bad[i][0], bad[i][1], &err) < 0);
    }
    CU_ASSERT_EQUAL(access(keep, F_OK), 0);
    close(dfd);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
    CU_ASSERT_EQUAL(cr_test_rmtree(out), 0);
}

/* disk_fill's "file" entries are absolute (a scratch directory may be
 * outside the run directory): removed only when the name is disk_fill's,
 * no link is on the way and it is a regular file; else left alone. */
static void test_ledger_undo_fill_file(void)
{
    char *dir = cr_test_tmpdir(), *out = cr_test_tmpdir();
    char fill[512], link[512], via[512], other[512];
    cr_err err;
    snprintf(fill, sizeof fill, "%s/.chaosrun-fill-f-0", out);
    snprintf(other, sizeof other, "%s/victim", out);
    FILE *fp = fopen(fill, "w");
    CU_ASSERT_FATAL(fp != NULL);
    fclose(fp);
    fp = fopen(other, "w");
    CU_ASSERT_FATAL(fp != NULL);
    fclose(fp);
    /* Through a linked directory: left alone. */
    snprintf(link, sizeof link, "%s/scratch", dir);
    CU_ASSERT_FATAL(symlink(out, link) == 0);
    snprintf(via, sizeof via, "%s/.chaosrun-fill-f-0", link);
    cr_err_clear(&err);
    CU_ASSERT(cr_ledger_undo(-1, "file", via, &err) < 0);
    CU_ASSERT_EQUAL(access(fill, F_OK), 0);
    /* Not a name disk_fill makes: left alone. */
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_ledger_undo(-1, "file", other, &err), CR_EINVAL);
    CU_ASSERT_EQUAL(access(other, F_OK), 0);
    /* The fill file itself: removed; gone already: fine. */
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_ledger_undo(-1, "file", fill, &err), 0);
    CU_ASSERT_NOT_EQUAL(access(fill, F_OK), 0);
    CU_ASSERT_EQUAL(cr_ledger_undo(-1, "file", fill, &err), 0);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
    CU_ASSERT_EQUAL(cr_test_rmtree(out), 0);
}

static void test_ledger_pgid_reuse_guard(void)
{
    /* A recorded start time that does not match: the group id was reused
     * by a newer process... here, an older start time is recorded for a
     * live group; members started before it must be spared. */
    pid_t a = spawn_group();
    cr_err err;
    cr_err_clear(&err);
    char args[64];
    snprintf(args, sizeof args, "%d %llu", (int)a,
             cr_proc_starttime(a) + 1000000ULL);
    CU_ASSERT_EQUAL(cr_ledger_undo(-1, "pgid", args, &err), 0);
    sleep_ms(20);
    CU_ASSERT_TRUE(alive(a));
    kill(a, SIGKILL);
    waitpid(a, NULL, 0);
}

static void test_ledger_bad_entries(void)
{
    cr_err err;
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_ledger_undo(-1, "pgid", "not-a-pid", &err), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "bad pgid entry"));
    cr_err_clear(&err);
    CU_ASSERT(cr_ledger_undo(-1, "no-such-kind", "x", &err) < 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no-such-kind"));
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_ledger_undo(-1, "dir", "fiu", &err), CR_EINVAL);
}

/* Issue 13: a ledger planted before the run is never adopted. */
static void test_ledger_fresh_file_only(void)
{
    char *dir = cr_test_tmpdir();
    char path[512];
    cr_err err;
    cr_err_clear(&err);
    snprintf(path, sizeof path, "%s/ledger", dir);
    FILE *fp = fopen(path, "w");
    CU_ASSERT_FATAL(fp != NULL);
    fputs("+99 pgid 1 0\n", fp);
    fclose(fp);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cr_ledger *l = NULL;
    CU_ASSERT_EQUAL(cr_ledger_open(dfd, dir, &l, &err), CR_EINVAL);
    CU_ASSERT_PTR_NULL(l);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "exists"));
    close(dfd);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

/* Issue 13: `chaosrun cleanup RUN_DIR` on a live run SIGKILLed its
 * workers.  The lock held by the run refuses it; after the run, it is
 * cleaned. */
static void test_ledger_cleanup_refuses_live_run(void)
{
    char *dir = cr_test_tmpdir();
    int dfd;
    /* The group first: forked after the ledger is open, it would hold the
     * ledger's lock too (its fd is shared). */
    pid_t a = spawn_group();
    cr_ledger *l = open_in(dir, &dfd);
    cr_err err;
    char line[128];
    snprintf(line, sizeof line, "pgid %d %llu", (int)a, cr_proc_starttime(a));
    cr_err_clear(&err);
    CU_ASSERT(cr_ledger_add(l, line, &err) > 0);
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_ledger_cleanup_dir(dir, 0, NULL, &err), CR_ESTATE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "alive"));
    sleep_ms(20);
    CU_ASSERT_TRUE(alive(a));
    cr_ledger_close(l, 1);
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_ledger_cleanup_dir(dir, 1, NULL, &err), 1);
    CU_ASSERT_TRUE(alive(a));
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_ledger_cleanup_dir(dir, 0, NULL, &err), 1);
    CU_ASSERT_TRUE(gone_within_5s(a));
    waitpid(a, NULL, WNOHANG);
    close(dfd);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

/* cleanup trusts only a run directory and a ledger of its user that
 * nobody else may write. */
static void test_ledger_cleanup_refuses_untrusted(void)
{
    char *dir = cr_test_tmpdir();
    char path[512];
    cr_err err;
    snprintf(path, sizeof path, "%s/ledger", dir);
    FILE *fp = fopen(path, "w");
    CU_ASSERT_FATAL(fp != NULL);
    fputs("+1 dir x\n", fp);
    fclose(fp);
    chmod(path, 0600);
    chmod(dir, 0777);
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_ledger_cleanup_dir(dir, 1, NULL, &err), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "writable by other users"));
    chmod(dir, 0755);
    chmod(path, 0666);
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_ledger_cleanup_dir(dir, 1, NULL, &err), CR_EINVAL);
    chmod(path, 0600);
    if (geteuid() == 0) {
        CU_ASSERT_EQUAL(chown(path, 65534, 65534), 0);
        cr_err_clear(&err);
        CU_ASSERT_EQUAL(cr_ledger_cleanup_dir(dir, 1, NULL, &err), CR_EINVAL);
        CU_ASSERT_EQUAL(chown(path, 0, 0), 0);
    }
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_ledger_cleanup_dir(dir, 1, NULL, &err), 1);
    unlink(path);
    symlink("/etc/passwd", path);
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_ledger_cleanup_dir(dir, 1, NULL, &err), CR_EINVAL);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

/* Issue 13: a per-user index directory of another user (or open to all)
 * is refused, never used.  Run as a user whose index is under $TMPDIR:
 * root uses /run/chaosrun, so a child becomes nobody. */
static void test_ledger_index_dir_must_be_own(void)
{
    char *tmp = cr_test_tmpdir();
    char idx[512];
    chmod(tmp, 0777);
    uid_t me = geteuid() == 0 ? 65534 : geteuid();
    snprintf(idx, sizeof idx, "%s/chaosrun-%u", tmp, (unsigned)me);
    CU_ASSERT_FATAL(mkdir(idx, 0777) == 0);
    chmod(idx, 0777);
    if (geteuid() == 0)
        CU_ASSERT_FATAL(chown(idx, 65534, 65534) == 0);
    pid_t p = fork();
    if (p == 0) {
        if (geteuid() == 0 && (setresgid(65534, 65534, 65534) != 0 ||
                               setresuid(65534, 65534, 65534) != 0))
            _exit(10);
        setenv("TMPDIR", tmp, 1);
        unsetenv("XDG_RUNTIME_DIR");
        char buf[512];
        cr_err e;
        cr_err_clear(&e);
        int fd = cr_ledger_index_dir(buf, sizeof buf, &e);
        if (fd != CR_EUNSUP || !strstr(e.msg, "writable by others"))
            _exit(1);
        /* Once it is the user's own and private, it is used. */
        if (chmod(idx, 0700) != 0)
            _exit(11);
        cr_err_clear(&e);
        fd = cr_ledger_index_dir(buf, sizeof buf, &e);
        _exit(fd >= 0 && strcmp(buf, idx) == 0 ? 0 : 2);
    }
    int st = -1;
    waitpid(p, &st, 0);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    if (geteuid() == 0) {
        /* Made by root for nobody: owned by another user. */
        CU_ASSERT_FATAL(chown(idx, 0, 0) == 0);
        chmod(idx, 0700);
        p = fork();
        if (p == 0) {
            if (setresgid(65534, 65534, 65534) != 0 ||
                setresuid(65534, 65534, 65534) != 0)
                _exit(10);
            setenv("TMPDIR", tmp, 1);
            unsetenv("XDG_RUNTIME_DIR");
            char buf[512];
            cr_err e;
            cr_err_clear(&e);
            int fd = cr_ledger_index_dir(buf, sizeof buf, &e);
            _exit(fd == CR_EUNSUP && strstr(e.msg, "owned by uid") ? 0 : 1);
        }
        st = -1;
        waitpid(p, &st, 0);
        CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    CU_ASSERT_EQUAL(cr_test_rmtree(tmp), 0);
}

static void test_ledger_janitor_cleans_after_dead_owner(void)
{
    /* The janitor is `chaosrun __janitor ...`: the built program. */
    CU_ASSERT_EQUAL_FATAL(access(cr_test_bin("chaosrun"), X_OK), 0);
    char *dir = cr_test_tmpdir();
    int sync[2];
    CU_ASSERT_FATAL(pipe(sync) == 0);
    /* The group's leader outlives its parent (the owner): adopt it, so
     * alive() reaps it.  Left to pid 1, a killed leader stays a zombie
     * until pid 1 gets round to reaping it, and kill(0) still finds it. */
    CU_ASSERT_FATAL(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0);
    pid_t owner = fork();
    if (owner == 0) {
        /* The owner: records a group, starts its janitor, dies hard. */
        cr_ledger *l = NULL;
        cr_err err;
        cr_err_clear(&err);
        pid_t jp;
        int wfd;
        /* The group first: a child forked later would inherit the
         * janitor's pipe (real services exec, which closes it). */
        pid_t g = spawn_group();
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || cr_ledger_open(dfd, dir, &l, &err) ||
            cr_janitor_spawn(l, cr_test_bin("chaosrun"), &jp, &wfd, &err))
            _exit(2);
        char line[128];
        snprintf(line, sizeof line, "pgid %d %llu", (int)g,
                 cr_proc_starttime(g));
        cr_ledger_add(l, line, &err);
        if (write(sync[1], &g, sizeof g) != sizeof g)
            _exit(3);
        kill(getpid(), SIGKILL);
        _exit(4);
    }
    close(sync[1]);
    pid_t g = 0;
    CU_ASSERT_EQUAL_FATAL(read(sync[0], &g, sizeof g), (ssize_t)sizeof g);
    close(sync[0]);
    waitpid(owner, NULL, 0);
    int gone = 0;
    for (int i = 0; i < 250 && !gone; i++) {
        gone = !alive(g);
        if (!gone)
            sleep_ms(20);
    }
    CU_ASSERT_TRUE(gone);
    /* The janitor logs what it undid after undoing it: wait for the line. */
    char log[512], buf[256] = "";
    snprintf(log, sizeof log, "%s/ledger.janitor", dir);
    for (int i = 0; i < 250 && !strstr(buf, "undone"); i++) {
        FILE *fp = fopen(log, "r");
        buf[0] = '\0';
        if (fp) {
            if (!fgets(buf, sizeof buf, fp))
                buf[0] = '\0';
            fclose(fp);
        }
        if (!strstr(buf, "undone"))
            sleep_ms(20);
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "undone"));
    if (!gone)
        kill(g, SIGKILL);
    /* Reap the adopted janitor (it exits once its log is written). */
    for (int i = 0; i < 250; i++) {
        pid_t w = waitpid(-1, NULL, WNOHANG);
        if (w < 0 && errno != EINTR)
            break; /* ECHILD: nothing left */
        if (w == 0)
            sleep_ms(20);
    }
    prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("ledger", NULL, NULL);
    CR_ADD_TEST(s, test_ledger_revert_undoes_open_entries);
    CR_ADD_TEST(s, test_ledger_pgid_reuse_guard);
    CR_ADD_TEST(s, test_ledger_bad_entries);
    CR_ADD_TEST(s, test_ledger_undo_never_follows);
    CR_ADD_TEST(s, test_ledger_undo_fill_file);
    CR_ADD_TEST(s, test_ledger_fresh_file_only);
    CR_ADD_TEST(s, test_ledger_cleanup_refuses_live_run);
    CR_ADD_TEST(s, test_ledger_cleanup_refuses_untrusted);
    CR_ADD_TEST(s, test_ledger_index_dir_must_be_own);
    CR_ADD_TEST(s, test_ledger_janitor_cleans_after_dead_owner);
}
