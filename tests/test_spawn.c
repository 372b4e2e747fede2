/* Tests for cr_spawn: a failed exec (or chdir, or setns) is reported with
 * the child's errno and leaves no child; the process group, the signal mask
 * and dispositions, the environment, stdio and the fds the program sees;
 * the go-pipe runs the caller's record before exec (and a refusal stops
 * the program from ever running); PR_SET_PDEATHSIG; another identity (as
 * root: `id -u` as nobody); the caller's child hook, last before exec, and
 * its parent step before the exec is awaited; the strays (children this
 * process adopted as subreaper, which cr_spawn did not start). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cr_alloc.h"
#include "base/cr_spawn.h"
#include "cr_test.h"

/* Run o with stdout (and stderr) into a pipe; returns the wait status and
 * the output in buf. */
static int run_capture(cr_spawn_opts *o, char *buf, size_t n)
{
    int p[2];
    cr_spawn_proc pr;
    cr_err err;
    cr_err_clear(&err);
    buf[0] = '\0';
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    o->stdout_fd = p[1];
    if (o->stderr_fd == CR_SPAWN_INHERIT)
        o->stderr_fd = p[1];
    int rc = cr_spawn(o, &pr, &err);
    close(p[1]);
    if (rc != 0) {
        fprintf(stderr, "spawn: %s\n", err.msg);
        close(p[0]);
        return -1;
    }
    size_t len = 0;
    ssize_t k;
    while (len + 1 < n && (k = read(p[0], buf + len, n - 1 - len)) > 0)
        len += (size_t)k;
    buf[len] = '\0';
    close(p[0]);
    int st = -1;
    waitpid(pr.pid, &st, 0);
    return st;
}

static void test_spawn_exec_failure_reports_errno(void)
{
    char *argv[] = {"no-such-program", NULL};
    cr_spawn_opts o = CR_SPAWN_OPTS_INIT;
    cr_spawn_proc pr;
    cr_err err;
    cr_err_clear(&err);
    o.path = "/nonexistent/no-such-program";
    o.argv = argv;
    CU_ASSERT_EQUAL(cr_spawn(&o, &pr, &err), CR_EUNSUP);
    CU_ASSERT_EQUAL(pr.child_errno, ENOENT);
    CU_ASSERT_EQUAL(pr.pid, 0);
    CU_ASSERT_STRING_EQUAL(pr.step, "exec");
    CU_ASSERT_STRING_EQUAL(err.msg, "exec /nonexistent/no-such-program: No "
                                    "such file or directory");
    /* The failed child was reaped: no child of ours is left. */
    CU_ASSERT_EQUAL(waitpid(-1, NULL, WNOHANG), -1);
    CU_ASSERT_EQUAL(errno, ECHILD);

    /* A file that is not executable: EACCES (not as root: root may run
     * anything with an x bit, and this file has none). */
    char *dir = cr_test_tmpdir(), path[512];
    snprintf(path, sizeof path, "%s/plain", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    o.path = path;
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_spawn(&o, &pr, &err), CR_EUNSUP);
    CU_ASSERT_EQUAL(pr.child_errno, EACCES);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

static void test_spawn_chdir_and_setns_failures(void)
{
    char *argv[] = {"true", NULL};
    cr_spawn_opts o = CR_SPAWN_OPTS_INIT;
    cr_spawn_proc pr;
    cr_err err;
    cr_err_clear(&err);
    o.path = "/bin/true";
    o.argv = argv;
    o.cwd = "/nonexistent/dir";
    CU_ASSERT_EQUAL(cr_spawn(&o, &pr, &err), CR_EUNSUP);
    CU_ASSERT_STRING_EQUAL(pr.step, "chdir");
    CU_ASSERT_EQUAL(pr.child_errno, ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "chdir /nonexistent/dir"));

    /* /dev/null is no namespace: setns says EINVAL. */
    int nfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    o.cwd = NULL;
    o.netns_fd = nfd;
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_spawn(&o, &pr, &err), CR_ESYS);
    CU_ASSERT_STRING_EQUAL(pr.step, "setns");
    CU_ASSERT_EQUAL(pr.child_errno, EINVAL);
    close(nfd);

    o.path = NULL;
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_spawn(&o, &pr, &err), CR_EINVAL);
}

/* `sleep 30`, in a process group of its own when new_pgroup: its pid, or
 * -1. */
static pid_t spawn_sleep(int new_pgroup)
{
    char *argv[] = {"sleep", "30", NULL};
    cr_spawn_opts o = CR_SPAWN_OPTS_INIT;
    cr_spawn_proc pr;
    cr_err err;
    cr_err_clear(&err);
    o.path = "/bin/sleep";
    o.argv = argv;
    o.new_pgroup = new_pgroup;
    return cr_spawn(&o, &pr, &err) == 0 ? pr.pid : -1;
}

static void test_spawn_process_group(void)
{
    pid_t pid = spawn_sleep(1);
    CU_ASSERT_FATAL(pid > 0);
    CU_ASSERT_EQUAL(getpgid(pid), pid);
    /* The group is there at once: kill(-pgid) reaches the program. */
    CU_ASSERT_EQUAL(kill(-pid, SIGTERM), 0);
    int st;
    CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
    CU_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);

    pid = spawn_sleep(0);
    CU_ASSERT_FATAL(pid > 0);
    CU_ASSERT_EQUAL(getpgid(pid), getpgrp());
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* A hexadecimal mask line of /proc/<pid>/status ("SigBlk:\t0000...") */
static unsigned long long status_mask(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    return p ? strtoull(p + strlen(key), NULL, 16) : ~0ULL;
}

static void on_usr1(int sig)
{
    (void)sig;
}

static void test_spawn_resets_signal_mask_and_dispositions(void)
{
    /* The parent blocks SIGUSR1 and SIGTERM, ignores SIGUSR2 and SIGPIPE,
     * and handles SIGINT -- as the harness does.  cat reads its own status:
     * nothing blocked, nothing ignored, nothing caught. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, h = {.sa_handler = on_usr1};
    struct sigaction old_usr2, old_pipe, old_int;
    sigset_t set, old_mask;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old_mask);
    sigaction(SIGUSR2, &ign, &old_usr2);
    sigaction(SIGPIPE, &ign, &old_pipe);
    sigaction(SIGINT, &h, &old_int);

    char *argv[] = {"cat", "/proc/self/status", NULL};
    cr_spawn_opts o = CR_SPAWN_OPTS_INIT;
    char out[8192];
    o.path = "/bin/cat";
    o.argv = argv;
    int st = run_capture(&o, out, sizeof out);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_EQUAL(status_mask(out, "SigBlk:"), 0);
    CU_ASSERT_EQUAL(status_mask(out, "SigIgn:"), 0);
    CU_ASSERT_EQUAL(status_mask(out, "SigCgt:"), 0);

    /* The parent's own mask is as it was. */
    sigset_t now;
    pthread_sigmask(SIG_SETMASK, NULL, &now);
    CU_ASSERT(sigismember(&now, SIGUSR1));
    CU_ASSERT(!sigismember(&now, SIGUSR2));

    sigaction(SIGUSR2, &old_usr2, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    sigaction(SIGINT, &old_int, NULL);
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
}

/* The go-pipe: what the record callback sees. */
typedef struct go_seen {
    int calls;
    pid_t pid;
    pid_t pgid;        /* the child's group at record time */
    char exe[256];     /* /proc/<pid>/exe at record time */
    char marker[512];  /* a file the program would create */
    int marker_exists; /* ... at record time */
    int refuse;
} go_seen;

static int record_cb(void *arg, pid_t pid, cr_err *err)
{
    go_seen *g = arg;
    char link[64];
    g->calls++;
    g->pid = pid;
    g->pgid = getpgid(pid);
    snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(link, g->exe, sizeof g->exe - 1);
    g->exe[n > 0 ? n : 0] = '\0';
    g->marker_exists = access(g->marker, F_OK) == 0;
    if (g->refuse)
        return cr_err_set(err, CR_ESYS, "ledger: full");
    return 0;
}

static void test_spawn_go_pipe_records_before_exec(void)
{
    char *dir = cr_test_tmpdir();
    go_seen g;
    memset(&g, 0, sizeof g);
    snprintf(g.marker, sizeof g.marker, "%s/ran", dir);
    char *argv[] = {"touch", g.marker, NULL};
    cr_spawn_opts o = CR_SPAWN_OPTS_INIT;
    cr_spawn_proc pr;
    cr_err err;
    cr_err_clear(&err);
    o.path = "/usr/bin/touch";
    o.argv = argv;
    o.new_pgroup = 1;
    o.before_exec = record_cb;
    o.before_exec_arg = &g;
    CU_ASSERT_EQUAL_FATAL(cr_spawn(&o, &pr, &err), 0);
    int st;
    waitpid(pr.pid, &st, 0);
    CU_ASSERT_EQUAL(g.calls, 1);
    CU_ASSERT_EQUAL(g.pid, pr.pid);
    /* At record time the group existed and the program had not run. */
    CU_ASSERT_EQUAL(g.pgid, pr.pid);
    CU_ASSERT_FALSE(g.marker_exists);
    CU_ASSERT_PTR_NULL(strstr(g.exe, "touch"));
    CU_ASSERT_EQUAL(access(g.marker, F_OK), 0);
    unlink(g.marker);

    /* A refused record: the program never runs, no child is left. */
    memset(&g.calls, 0, sizeof g.calls);
    g.refuse = 1;
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_spawn(&o, &pr, &err), CR_ESYS);
    CU_ASSERT_STRING_EQUAL(err.msg, "ledger: full");
    CU_ASSERT_EQUAL(g.calls, 1);
    CU_ASSERT_EQUAL(pr.pid, 0);
    CU_ASSERT_NOT_EQUAL(access(g.marker, F_OK), 0);
    CU_ASSERT_EQUAL(waitpid(-1, NULL, WNOHANG), -1);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

typedef struct pdeath_arg {
    cr_spawn_opts *o;
    pid_t pid;
    int rc;
} pdeath_arg;

static void *spawn_and_end(void *arg)
{
    pdeath_arg *a = arg;
    cr_spawn_proc pr;
    cr_err err;
    cr_err_clear(&err);
    a->rc = cr_spawn(a->o, &pr, &err);
    a->pid = pr.pid;
    return NULL; /* the thread ends: its children get the signal */
}

/* Spawn from a thread that then ends; the child's wait status, or -1 when
 * it was still alive after ~2 s (then it is killed). */
static int status_after_spawner_ends(cr_spawn_opts *o)
{
    pdeath_arg a = {.o = o};
    pthread_t t;
    if (pthread_create(&t, NULL, spawn_and_end, &a) != 0)
        return -2;
    pthread_join(t, NULL);
    if (a.rc != 0)
        return -2;
    for (int i = 0; i < 200; i++) {
        int st;
        if (waitpid(a.pid, &st, WNOHANG) == a.pid)
            return st;
        usleep(10000);
    }
    kill(a.pid, SIGKILL);
    waitpid(a.pid, NULL, 0);
    return -1;
}

static void test_spawn_pdeathsig(void)
{
    char *argv[] = {"sleep", "30", NULL};
    cr_spawn_opts o = CR_SPAWN_OPTS_INIT;
    o.path = "/bin/sleep";
    o.argv = argv;
    o.pdeathsig = SIGKILL;
    int st = status_after_spawner_ends(&o);
    CU_ASSERT(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    /* Without it the program outlives its spawner. */
    o.pdeathsig = 0;
    CU_ASSERT_EQUAL(status_after_spawner_ends(&o), -1);
}

static void test_spawn_environment(void)
{
    char *argv[] = {"env", NULL};
    char *envp[] = {"A=1", "B=two words", NULL};
    cr_spawn_opts o = CR_SPAWN_OPTS_INIT;
    char out[4096];
    o.path = "/usr/bin/env";
    o.argv = argv;
    o.envp = envp;
    int st = run_capture(&o, out, sizeof out);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_STRING_EQUAL(out, "A=1\nB=two words\n");
    /* No envp: the caller's environment. */
    setenv("CR_SPAWN_TEST", "inherited", 1);
    o.envp = NULL;
    o.stderr_fd = CR_SPAWN_INHERIT;
    run_capture(&o, out, sizeof out);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "CR_SPAWN_TEST=inherited\n"));
    unsetenv("CR_SPAWN_TEST");
}

static void test_spawn_stdio_and_fds(void)
{
    /* stdin from a pipe, stdout and stderr to another. */
    int in[2];
    CU_ASSERT_FATAL(pipe2(in, O_CLOEXEC) == 0);
    CU_ASSERT_EQUAL(write(in[1], "hello\n", 6), 6);
    close(in[1]);
    char *cat[] = {"cat", NULL};
    cr_spawn_opts o = CR_SPAWN_OPTS_INIT;
    char out[4096];
    o.path = "/bin/cat";
    o.argv = cat;
    o.stdin_fd = in[0];
    int st = run_capture(&o, out, sizeof out);
    close(in[0]);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_STRING_EQUAL(out, "hello\n");

    /* Default stdin is /dev/null: cat ends at once with nothing. */
    o.stdin_fd = CR_SPAWN_DEVNULL;
    o.stderr_fd = CR_SPAWN_INHERIT;
    st = run_capture(&o, out, sizeof out);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_STRING_EQUAL(out, "");

    /* The program sees 0, 1, 2, what this process leaves open across exec
     * on purpose (its own non-CLOEXEC fds: the test runner may pass some),
     * and ls's own directory fd -- neither the exec-error pipe nor the
     * go-pipe leaks. */
    char want[1024] = {0}, seen[1024] = {0};
    int nwant = 0, lowest_free = -1;
    for (int fd = 0; fd < 1024; fd++) {
        int fl = fcntl(fd, F_GETFD);
        if (fd < 3 || (fl >= 0 && !(fl & FD_CLOEXEC))) {
            want[fd] = 1;
            nwant++;
        } else if (lowest_free < 0) {
            lowest_free = fd;
        }
    }
    want[lowest_free] = 1;
    nwant++;
    go_seen g;
    memset(&g, 0, sizeof g);
    snprintf(g.marker, sizeof g.marker, "/nonexistent");
    char *ls[] = {"ls", "/proc/self/fd", NULL};
    o.path = "/bin/ls";
    o.argv = ls;
    o.stderr_fd = CR_SPAWN_DEVNULL;
    o.before_exec = record_cb;
    o.before_exec_arg = &g;
    st = run_capture(&o, out, sizeof out);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    int nseen = 0, extra = 0;
    for (char *t = strtok(out, "\n"); t; t = strtok(NULL, "\n")) {
        int fd = atoi(t);
        nseen++;
        if (fd < 0 || fd >= 1024 || !want[fd] || seen[fd]++)
            extra++;
    }
    CU_ASSERT_EQUAL(extra, 0);
    CU_ASSERT_EQUAL(nseen, nwant);

    /* stdout onto stderr's slot: a source that is itself 0..2. */
    char *sh[] = {"sh", "-c", "echo to-stderr >&2", NULL};
    int p[2];
    CU_ASSERT_FATAL(pipe2(p, O_CLOEXEC) == 0);
    cr_spawn_opts o2 = CR_SPAWN_OPTS_INIT;
    cr_spawn_proc pr;
    cr_err err;
    cr_err_clear(&err);
    int saved = dup(1);
    CU_ASSERT_FATAL(dup2(p[1], 1) == 1);
    o2.path = "/bin/sh";
    o2.argv = sh;
    o2.stdout_fd = CR_SPAWN_DEVNULL;
    o2.stderr_fd = 1; /* our stdout, which is the pipe */
    int rc = cr_spawn(&o2, &pr, &err);
    dup2(saved, 1);
    close(saved);
    close(p[1]);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    ssize_t n = read(p[0], out, sizeof out - 1);
    out[n > 0 ? n : 0] = '\0';
    close(p[0]);
    waitpid(pr.pid, NULL, 0);
    CU_ASSERT_STRING_EQUAL(out, "to-stderr\n");
}

static void test_spawn_credentials(void)
{
    if (geteuid() != 0) {
        printf("\n  SKIPPED (needs root): test_spawn_credentials\n");
        return;
    }
    char *argv[] = {"sh", "-c", "id -u; id -g; id -G", NULL};
    cr_spawn_opts o = CR_SPAWN_OPTS_INIT;
    char out[256];
    o.path = "/bin/sh";
    o.argv = argv;
    o.cred.set = 1;
    o.cred.uid = 65534; /* nobody */
    o.cred.gid = 65534; /* nogroup */
    int st = run_capture(&o, out, sizeof out);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* Root's supplementary groups are gone, not kept. */
    CU_ASSERT_STRING_EQUAL(out, "65534\n65534\n65534\n");

    /* Supplementary groups as given. */
    gid_t groups[] = {65534, 4};
    o.cred.groups = groups;
    o.cred.ngroups = 2;
    o.stderr_fd = CR_SPAWN_INHERIT;
    run_capture(&o, out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "65534\n65534\n65534 4\n");

    /* The parent-death signal survives the change of identity. */
    char *sl[] = {"sleep", "30", NULL};
    cr_spawn_opts o2 = CR_SPAWN_OPTS_INIT;
    o2.path = "/bin/sleep";
    o2.argv = sl;
    o2.cred = o.cred;
    o2.pdeathsig = SIGKILL;
    st = status_after_spawner_ends(&o2);
    CU_ASSERT(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

    /* The new identity may not enter a directory root could. */
    char *dir = cr_test_tmpdir();
    CU_ASSERT_EQUAL(chmod(dir, 0700), 0);
    o.cwd = dir;
    cr_spawn_proc pr;
    cr_err err;
    cr_err_clear(&err);
    o.stdout_fd = CR_SPAWN_DEVNULL;
    CU_ASSERT_EQUAL(cr_spawn(&o, &pr, &err), CR_EUNSUP);
    CU_ASSERT_EQUAL(pr.child_errno, EACCES);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

/* Issue 13: services as another user -- names and numbers resolved, the
 * unknown refused, no supplementary groups, the caller's own identity
 * left alone, another one refused without root. */
static void test_spawn_cred_lookup(void)
{
    cr_spawn_cred c;
    cr_err err;
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_spawn_cred_lookup("no-such-user-cr", NULL, &c, &err),
                    CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no such user"));
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(
        cr_spawn_cred_lookup("nobody", "no-such-group-cr", &c, &err),
        CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no such group"));
    /* A uid the user database does not know needs its group. */
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_spawn_cred_lookup("4000000", NULL, &c, &err), CR_EINVAL);
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_spawn_cred_lookup("", NULL, &c, &err), CR_EINVAL);
    /* The caller's own identity: nothing to change. */
    char self[32], selfg[32];
    snprintf(self, sizeof self, "%u", (unsigned)geteuid());
    snprintf(selfg, sizeof selfg, "%u", (unsigned)getegid());
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_spawn_cred_lookup(self, selfg, &c, &err), 0);
    CU_ASSERT_EQUAL(c.set, 0);
    cr_err_clear(&err);
    int rc = cr_spawn_cred_lookup("nobody", "nogroup", &c, &err);
    if (geteuid() == 0) {
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_EQUAL(c.set, 1);
        CU_ASSERT_EQUAL(c.uid, 65534);
        CU_ASSERT_EQUAL(c.gid, 65534);
        CU_ASSERT_EQUAL(c.ngroups, 0);
        cr_err_clear(&err);
        CU_ASSERT_EQUAL(cr_spawn_cred_lookup("daemon", "65534", &c, &err), 0);
        CU_ASSERT_EQUAL(c.uid, 1);
        CU_ASSERT_EQUAL(c.gid, 65534);
        /* The identity is applied: the program runs as nobody. */
        char *argv[] = {"sh", "-c", "id -u; id -G", NULL};
        char out[256];
        cr_spawn_opts o = CR_SPAWN_OPTS_INIT;
        o.path = "/bin/sh";
        o.argv = argv;
        CU_ASSERT_EQUAL(cr_spawn_cred_lookup("nobody", NULL, &o.cred, &err), 0);
        int st = run_capture(&o, out, sizeof out);
        CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CU_ASSERT_STRING_EQUAL(out, "65534\n65534\n");
    } else {
        CU_ASSERT_EQUAL(rc, CR_EUNSUP);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "only root"));
    }
}

/* child_hook / after_go (the engine's spawn hooks): the hook runs in the
 * child after chdir; after_go runs before cr_spawn waits for the exec --
 * the hook below waits for after_go's byte, so the other order would time
 * out (step "hook", ETIMEDOUT).  A hook's errno is the step "hook"; a
 * refusal of after_go kills the child before its program runs, unless an
 * earlier step had failed: then that step is reported. */
typedef struct hook_ctx {
    int to_child[2]; /* after_go -> hook */
    int calls;       /* after_go's */
    int refuse;      /* after_go returns CR_ESTATE */
    int wait_end;    /* after_go first waits for the child to end (as the
                        seccomp one waits for its message or its end) */
    int fail_errno;  /* the hook returns this at once */
} hook_ctx;

static int hook_child(void *arg)
{
    hook_ctx *h = arg;
    if (h->fail_errno)
        return h->fail_errno;
    if (access("cwd-marker", F_OK) != 0) /* relative: after chdir */
        return ENOENT;
    struct pollfd pf = {h->to_child[0], POLLIN, 0};
    char b;
    if (poll(&pf, 1, 5000) != 1 || read(h->to_child[0], &b, 1) != 1)
        return ETIMEDOUT;
    return 0;
}

static int hook_after_go(void *arg, pid_t pid, cr_err *err)
{
    hook_ctx *h = arg;
    h->calls++;
    if (h->wait_end) {
        siginfo_t si;
        waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
    }
    if (h->refuse)
        return cr_err_set(err, CR_ESTATE, "refused pid %d", (int)pid);
    if (h->wait_end)
        return CR_OK;
    return write(h->to_child[1], "x", 1) == 1 ? CR_OK : CR_ESYS;
}

static void test_spawn_child_hook_and_after_go(void)
{
    char *dir = cr_test_tmpdir(), marker[512], ran[600];
    snprintf(marker, sizeof marker, "%s/cwd-marker", dir);
    snprintf(ran, sizeof ran, "%s/ran", dir);
    int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    char *argv[] = {"touch", ran, NULL};
    hook_ctx h;
    memset(&h, 0, sizeof h);
    CU_ASSERT_FATAL(pipe2(h.to_child, O_CLOEXEC) == 0);
    cr_spawn_opts o = CR_SPAWN_OPTS_INIT;
    cr_spawn_proc pr;
    cr_err err;
    cr_err_clear(&err);
    o.path = "/usr/bin/touch";
    if (access(o.path, X_OK) != 0)
        o.path = "/bin/touch";
    o.argv = argv;
    o.cwd = dir;
    o.child_hook = hook_child;
    o.child_hook_arg = &h;
    o.after_go = hook_after_go;
    o.after_go_arg = &h;
    int rc = cr_spawn(&o, &pr, &err);
    if (rc)
        fprintf(stderr, "spawn: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    int st = -1;
    waitpid(pr.pid, &st, 0);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_EQUAL(h.calls, 1);
    CU_ASSERT_EQUAL(access(ran, F_OK), 0);
    unlink(ran);

    /* The hook fails: step "hook", its errno, no child left. */
    h.fail_errno = EPERM;
    h.wait_end = 1;
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_spawn(&o, &pr, &err), CR_ESYS);
    CU_ASSERT_STRING_EQUAL(pr.step ? pr.step : "", "hook");
    CU_ASSERT_EQUAL(pr.child_errno, EPERM);
    CU_ASSERT_EQUAL(pr.pid, 0);
    CU_ASSERT_EQUAL(waitpid(-1, NULL, WNOHANG), -1);

    /* after_go refuses: its code and message; the program never ran. */
    h.fail_errno = 0;
    h.wait_end = 0;
    h.refuse = 1;
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_spawn(&o, &pr, &err), CR_ESTATE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "refused pid"));
    CU_ASSERT_EQUAL(pr.pid, 0);
    CU_ASSERT_EQUAL(waitpid(-1, NULL, WNOHANG), -1);
    CU_ASSERT_NOT_EQUAL(access(ran, F_OK), 0);

    /* ... but a step before the hook that failed is the cause. */
    o.cwd = "/nonexistent/dir";
    h.wait_end = 1;
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_spawn(&o, &pr, &err), CR_EUNSUP);
    CU_ASSERT_STRING_EQUAL(pr.step ? pr.step : "", "chdir");
    CU_ASSERT_EQUAL(pr.child_errno, ENOENT);
    close(h.to_child[0]);
    close(h.to_child[1]);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

static double uptime_now(void)
{
    double up = -1;
    FILE *fp = fopen("/proc/uptime", "re");
    if (fp) {
        if (fscanf(fp, "%lf", &up) != 1)
            up = -1;
        fclose(fp);
    }
    return up;
}

/* timens_offsets: the program sees its CLOCK_BOOTTIME (/proc/uptime) moved
 * by the offset, the parent does not; a static program too (no preload
 * involved); offsets the kernel refuses fail the start with the step. */
static void test_spawn_time_namespace(void)
{
    if (geteuid() != 0 || access("/proc/self/timens_offsets", F_OK) != 0) {
        printf("\n  SKIPPED (needs root and time namespaces): "
               "test_spawn_time_namespace\n");
        return;
    }
    char *argv[] = {"cat", "/proc/uptime", NULL};
    cr_spawn_opts o = CR_SPAWN_OPTS_INIT;
    char out[128];
    o.path = "/bin/cat";
    o.argv = argv;
    o.timens_offsets = "boottime 5000 0\n";
    double before = uptime_now();
    int st = run_capture(&o, out, sizeof out);
    double after = uptime_now();
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    double seen = atof(out);
    CU_ASSERT(seen >= before + 5000 - 0.02 && seen <= after + 5000 + 0.02);
    CU_ASSERT(uptime_now() < before + 1000); /* ours is untouched */

    /* A static program (busybox-static) is in the namespace as well. */
    if (access("/bin/busybox", X_OK) == 0) {
        char *bargv[] = {"busybox", "cat", "/proc/uptime", NULL};
        o.path = "/bin/busybox";
        o.argv = bargv;
        before = uptime_now();
        st = run_capture(&o, out, sizeof out);
        CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CU_ASSERT(atof(out) >= before + 5000 - 0.02);
        o.path = "/bin/cat";
        o.argv = argv;
    }

    /* Negative offsets that would put the clock below zero are refused. */
    cr_err e;
    cr_spawn_proc pr;
    cr_err_clear(&e);
    o.timens_offsets = "boottime -999999999 0\n";
    CU_ASSERT_EQUAL(cr_spawn(&o, &pr, &e), CR_EINVAL);
    CU_ASSERT_STRING_EQUAL(pr.step, "timens");
    CU_ASSERT(strstr(e.msg, "time namespace") != NULL);
}

static void test_spawn_which(void)
{
    char *p = cr_spawn_which("sh");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p[0], '/');
    CU_ASSERT_EQUAL(access(p, X_OK), 0);
    cr_free(p);
    CU_ASSERT_PTR_NULL(cr_spawn_which("no-such-program-cr-spawn"));
    CU_ASSERT_PTR_NULL(cr_spawn_which(""));
    p = cr_spawn_which("./relative/prog");
    CU_ASSERT_STRING_EQUAL(p, "./relative/prog");
    cr_free(p);
    /* A directory of that name in PATH is not a program. */
    char *dir = cr_test_tmpdir(), sub[512], path[1100];
    snprintf(sub, sizeof sub, "%s/sh", dir);
    mkdir(sub, 0755);
    const char *old = getenv("PATH");
    char *saved = old ? strdup(old) : NULL;
    snprintf(path, sizeof path, "%s:/bin", dir);
    setenv("PATH", path, 1);
    p = cr_spawn_which("sh");
    CU_ASSERT_STRING_EQUAL(p, "/bin/sh");
    cr_free(p);
    if (saved)
        setenv("PATH", saved, 1);
    free(saved);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

static int listed(const pid_t *v, size_t n, pid_t pid)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == pid)
            return 1;
    return 0;
}

static void *spawn_in_thread(void *arg)
{
    *(pid_t *)arg = spawn_sleep(1);
    return NULL;
}

/* A daemon that leaves its group (setsid -f) and whose parent ends is
 * adopted by a subreaper: a stray.  Children cr_spawn started are never
 * strays -- also one started by a thread that has ended since -- and a
 * child forked without cr_spawn is one. */
static void test_spawn_strays(void)
{
    CU_ASSERT_EQUAL_FATAL(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
    pid_t v[64];
    size_t n;
    pid_t known = spawn_sleep(1);
    CU_ASSERT_FATAL(known > 0);
    pid_t from_thread = -1;
    pthread_t th;
    CU_ASSERT_EQUAL_FATAL(
        pthread_create(&th, NULL, spawn_in_thread, &from_thread), 0);
    pthread_join(th, NULL);
    CU_ASSERT_FATAL(from_thread > 0);

    char *argv[] = {"sh", "-c",
                    "setsid -f sh -c 'echo $$; exec sleep 30 >/dev/null 2>&1'",
                    NULL};
    cr_spawn_opts d = CR_SPAWN_OPTS_INIT;
    d.path = "/bin/sh";
    d.argv = argv;
    char buf[64];
    int st = run_capture(&d, buf, sizeof buf);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    pid_t daemon = (pid_t)atoi(buf);
    CU_ASSERT_FATAL(daemon > 0);
    pid_t forked = fork();
    if (forked == 0) {
        pause();
        _exit(0);
    }
    CU_ASSERT_FATAL(forked > 0);

    /* setsid -f's parent ends at once; its child is then ours. */
    int seen = 0;
    for (int i = 0; i < 200 && !seen; i++) {
        CU_ASSERT_EQUAL_FATAL(cr_spawn_strays(v, 64, &n), 0);
        seen = listed(v, n < 64 ? n : 64, daemon);
        if (!seen)
            usleep(10 * 1000);
    }
    CU_ASSERT(seen);
    CU_ASSERT(listed(v, n, forked));
    CU_ASSERT(!listed(v, n, known));
    CU_ASSERT(!listed(v, n, from_thread));
    CU_ASSERT_NOT_EQUAL(getpgid(daemon), getpgid(known));

    pid_t all[] = {known, from_thread, daemon, forked};
    for (size_t i = 0; i < 4; i++) {
        kill(all[i], SIGKILL);
        waitpid(all[i], NULL, 0);
    }
    CU_ASSERT_EQUAL(cr_spawn_strays(v, 64, &n), 0);
    CU_ASSERT_EQUAL(n, 0);
    prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("spawn", NULL, NULL);
    CR_ADD_TEST(s, test_spawn_exec_failure_reports_errno);
    CR_ADD_TEST(s, test_spawn_chdir_and_setns_failures);
    CR_ADD_TEST(s, test_spawn_process_group);
    CR_ADD_TEST(s, test_spawn_resets_signal_mask_and_dispositions);
    CR_ADD_TEST(s, test_spawn_go_pipe_records_before_exec);
    CR_ADD_TEST(s, test_spawn_pdeathsig);
    CR_ADD_TEST(s, test_spawn_environment);
    CR_ADD_TEST(s, test_spawn_stdio_and_fds);
    CR_ADD_TEST(s, test_spawn_credentials);
    CR_ADD_TEST(s, test_spawn_cred_lookup);

    CR_ADD_TEST(s, test_spawn_child_hook_and_after_go);
    CR_ADD_TEST(s, test_spawn_time_namespace);
    CR_ADD_TEST(s, test_spawn_which);
    CR_ADD_TEST(s, test_spawn_strays);
}
