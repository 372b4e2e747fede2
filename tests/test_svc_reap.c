/* Tests for cr_svc_reap_leader, the engine's reaping of one replica: the
 * ended orphans of its group are reaped, the leader's own exit is never
 * taken with them.  A group wait once reaped a leader that ended while its
 * group's members were being reaped; the engine never saw that replica
 * end and the run waited for it forever (seed 15 of pipeline-rabbitmq:
 * "worker.0 did not stop in time: SIGKILL", then nothing).
 *
 * Each round makes the race likely: a leader with 64 MiB of touched
 * memory (its exit takes a while to tear down) and 40 members of its group
 * that are our children (orphans, we are their subreaper) all get SIGKILL;
 * the members end first, and reaping them overlaps the leader's end. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/cr_run_internal.h"
#include "cr_test.h"

/* Under ASan every fork copies the page tables of its shadow memory:
 * five rounds there (the race is shown by the plain build's thirty; the
 * sanitizer run is for memory errors), thirty otherwise. */
#if defined(__SANITIZE_ADDRESS__)
#define CR_REAP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CR_REAP_ASAN 1
#endif
#endif
#ifdef CR_REAP_ASAN
#define ROUNDS 5
#else
#define ROUNDS 30
#endif
#define MEMBERS   40
#define LEADER_MB 64

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The leader: its own group, MEMBERS members whose parent ends (so they
 * are reparented to us), a byte on fd when they are ours, then wait. */
static _Noreturn void leader_main(int fd)
{
    setpgid(0, 0);
    /* touched before the forks: the members share it (copy on write), so
     * their deaths spread out too and reaping them takes a while */
    size_t len = (size_t)LEADER_MB << 20;
    char *mem = malloc(len);
    if (mem)
        memset(mem, 1, len);
    pid_t mid = fork();
    if (mid == 0) {
        for (int i = 0; i < MEMBERS; i++)
            if (fork() == 0) {
                for (;;)
                    pause();
            }
        _exit(0);
    }
    if (mid > 0)
        waitpid(mid, NULL, 0);
    char b = mem ? 'y' : 'n';
    if (write(fd, &b, 1) != 1)
        _exit(3);
    for (;;)
        pause();
}

/* Fork a leader (leader_main) and wait until its members are ours: its
 * pid, or -1 (assertions failed). */
static pid_t start_leader(void)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    pid_t leader = fork();
    if (leader == 0) {
        close(p[0]);
        leader_main(p[1]);
    }
    close(p[1]);
    if (leader > 0)
        setpgid(leader, leader);
    char b = 0;
    ssize_t n = leader > 0 ? read(p[0], &b, 1) : -1;
    close(p[0]);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(b, 'y');
    return leader;
}

static void test_leader_exit_never_lost(void)
{
    CU_ASSERT_EQUAL_FATAL(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
    int lost = 0, seen = 0;
    for (int round = 0; round < ROUNDS; round++) {
        pid_t leader = start_leader();
        CU_ASSERT_FATAL(leader > 0);
        kill(-leader, SIGKILL);
        int status = 0;
        pid_t got = 0;
        double end = mono() + 10.0;
        while (got == 0 && mono() < end)
            got = cr_svc_reap_leader(leader, &status);
        if (got == leader && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
            seen++;
        else
            lost++;
        /* whatever is left of the group (and the leader if lost) */
        while (waitpid(-leader, NULL, 0) > 0 || errno == EINTR)
            ;
    }
    CU_ASSERT_EQUAL(lost, 0);
    CU_ASSERT_EQUAL(seen, ROUNDS);
    if (lost)
        fprintf(stderr, "leader exit lost in %d of %d rounds\n", lost, ROUNDS);
}

/* Members of group pgid other than its leader that still exist (zombies
 * included); their pids go to out (up to max). */
static int members(pid_t pgid, pid_t *out, int max)
{
    DIR *d = opendir("/proc");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid <= 0 || pid == pgid || getpgid(pid) != pgid)
            continue;
        if (n < max)
            out[n] = pid;
        n++;
    }
    if (d)
        closedir(d);
    return n;
}

/* A live leader: its ended orphans are reaped, the leader stays ours. */
static void test_orphans_reaped_leader_kept(void)
{
    CU_ASSERT_EQUAL_FATAL(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
    pid_t leader = start_leader();
    CU_ASSERT_FATAL(leader > 0);
    pid_t m[MEMBERS];
    CU_ASSERT_EQUAL_FATAL(members(leader, m, MEMBERS), MEMBERS);
    for (int i = 0; i < MEMBERS; i++)
        kill(m[i], SIGKILL); /* the members only, not the leader */
    int status = 0, left = MEMBERS;
    double end = mono() + 10.0;
    while (left > 0 && mono() < end) {
        CU_ASSERT_EQUAL(cr_svc_reap_leader(leader, &status), 0);
        left = members(leader, m, MEMBERS);
    }
    CU_ASSERT_EQUAL(left, 0);            /* the zombies were reaped */
    CU_ASSERT_EQUAL(kill(leader, 0), 0); /* the leader is still ours */
    kill(leader, SIGKILL);
    pid_t got = 0;
    end = mono() + 10.0;
    while (got == 0 && mono() < end)
        got = cr_svc_reap_leader(leader, &status);
    CU_ASSERT_EQUAL(got, leader);
    CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("svc_reap", NULL, NULL);
    if (!s)
        return;
    CR_ADD_TEST(s, test_leader_exit_never_lost);
    CR_ADD_TEST(s, test_orphans_reaped_leader_kept);
}
