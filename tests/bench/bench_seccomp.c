/* bench_seccomp: what a syscall fault's backend costs a call it does not
 * fault, side by side.
 *
 * helper_fiu_writes makes N 64-byte write()s to /dev/null and prints the
 * nanoseconds they took.  It runs, in interleaved rounds, as:
 *
 *   bare         no preload, no filter
 *   libfiu       LD_PRELOAD of libfiu's run + POSIX preloads, nothing armed
 *   sc-floor     under the cheapest filter there is (one instruction:
 *                ALLOW): what any seccomp filter costs a call here
 *   sc-other     under chaosrun's filter notifying fsync only (write is
 *                not in it: nothing leaves the kernel)
 *   sc-write     under a filter that notifies write; the supervisor
 *                (cr_scsup, as in chaosrun) continues every call, no window
 *   strace       strace -f -o /dev/null -e inject=write:error=EIO:when=65535
 *                (ptrace; never injects within its N/10 calls): the anchor.
 *                Debian's strace 6.1 refuses when= above 65535 ("invalid
 *                inject argument"), so 1000000 cannot be given.
 *
 * The two slow ones (sc-write, strace) make N/10 writes.  Medians of the
 * per-write time, and the median over rounds of each round's ratio to
 * bare (the machine's noise moves neighbouring runs together).  For sc-write
 * the supervisor's count of notifications is checked against the writes (every
 * one went through it).
 *
 * Usage: bench_seccomp [N writes, default 200000] [R rounds, default 21]
 * (ctest's bench_seccomp_quick: 20000 3).  helper_fiu_writes is found next
 * to this program.  Exit 77 without seccomp user notification; 1 when a
 * run failed or the supervisor saw fewer notifications than writes. */
#include "faults/syscall/cr_scsup.h"
#include "faults/syscall/cr_seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

enum { V_BARE, V_FIU, V_SC_FLOOR, V_SC_OTHER, V_SC_WRITE, V_STRACE, NV };
static const char *vname[NV] = {"bare",     "libfiu",   "sc-floor",
                                "sc-other", "sc-write", "strace"};
static const char *vdoc[NV] = {
    "no preload, no filter",
    "libfiu preload, nothing armed",
    "any seccomp filter (1 insn: ALLOW)",
    "seccomp filter without write",
    "seccomp, write notified + continued",
    "strace -f -e inject=write:...:when=65535",
};

static char g_helper[PATH_MAX + 32], g_preload[2 * PATH_MAX + 64],
    g_fifo[PATH_MAX + 32], g_strace[PATH_MAX];
static cr_seccomp_prog *g_prog_other, *g_prog_write;
static cr_scsup *g_sup;
static int g_sock[2];

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_d);
    return v[n / 2];
}

/* One run of variant v with n writes: ns per write, or < 0. */
static double run_once(int v, long n)
{
    int p[2];
    char nbuf[32], out[64] = "";
    snprintf(nbuf, sizeof nbuf, "%ld", n);
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    const cr_seccomp_prog *prog = v == V_SC_OTHER   ? g_prog_other
                                  : v == V_SC_WRITE ? g_prog_write
                                                    : NULL;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        char *argv[] = {g_helper, nbuf, NULL};
        char *env_pre[] = {g_preload, g_fifo, NULL};
        char *env_none[] = {NULL};
        if (prog && cr_seccomp_child_install(prog, g_sock[0]) != 0)
            _exit(126);
        if (v == V_SC_FLOOR) {
            struct sock_filter allow =
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
            struct sock_fprog fp = {1, &allow};
            if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
                syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) != 0)
                _exit(125);
        }
        if (v == V_STRACE) {
            char *sv[] = {
                g_strace,    "-f", "-o",
                "/dev/null", "-e", "inject=write:error=EIO:when=65535",
                g_helper,    nbuf, NULL};
            execve(g_strace, sv, env_none);
        } else {
            execve(g_helper, argv, v == V_FIU ? env_pre : env_none);
        }
        _exit(127);
    }
    close(p[1]);
    if (prog) {
        cr_err e;
        int fd;
        unsigned fl;
        cr_err_clear(&e);
        if (cr_seccomp_recv_listener(g_sock[1], pid, 5, &fd, &fl, &e) != 0 ||
            cr_scsup_add(g_sup, fd, &g_sup, fl, &e) != 0)
            fprintf(stderr, "bench_seccomp: %s\n", e.msg);
    }
    ssize_t k = read(p[0], out, sizeof out - 1);
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    if (k <= 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || n == 0)
        return -1;
    return atof(out) / (double)n;
}

static int find_strace(void)
{
    const char *c[] = {"/usr/bin/strace", "/bin/strace", NULL};
    for (int i = 0; c[i]; i++)
        if (access(c[i], X_OK) == 0) {
            snprintf(g_strace, sizeof g_strace, "%s", c[i]);
            return 1;
        }
    return 0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    int rounds = argc > 2 ? atoi(argv[2]) : 21;
    const char *dir = getenv("CHAOSRUN_FIU_DIR");
    char self[PATH_MAX], tmpd[] = "/tmp/cr_bench_sc.XXXXXX", lib[PATH_MAX + 32];
    cr_err e;
    cr_err_clear(&e);
    if (!dir)
        dir = CR_FIU_DIR;
    if (cr_seccomp_available(&e) != 0) {
        printf("SKIPPED: %s\n", e.msg);
        return 77;
    }
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0 || n <= 0 || rounds <= 0)
        return 1;
    self[sl] = '\0';
    *strrchr(self, '/') = '\0';
    snprintf(g_helper, sizeof g_helper, "%s/helper_fiu_writes", self);
    snprintf(g_preload, sizeof g_preload,
             "LD_PRELOAD=%s/fiu_run_preload.so %s/fiu_posix_preload.so", dir,
             dir);
    if (!mkdtemp(tmpd))
        return 1;
    snprintf(g_fifo, sizeof g_fifo, "FIU_CTRL_FIFO=%s/h", tmpd);
    snprintf(lib, sizeof lib, "%s/fiu_posix_preload.so", dir);
    int have[NV] = {1, access(lib, R_OK) == 0, 1, 1, 1, find_strace()};
    int nr_fsync = SYS_fsync, nr_write = SYS_write;
    if (cr_seccomp_prog_build(&nr_fsync, 1, &g_prog_other, &e) ||
        cr_seccomp_prog_build(&nr_write, 1, &g_prog_write, &e) ||
        cr_scsup_start(&g_sup, &e) ||
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, g_sock)) {
        fprintf(stderr, "bench_seccomp: %s\n", e.msg[0] ? e.msg : "socketpair");
        return 1;
    }
    double *t[NV];
    for (int v = 0; v < NV; v++)
        t[v] = calloc((size_t)rounds, sizeof *t[v]);
    uint64_t notified0, untouched0, notified1, untouched1;
    long slow_n = n / 10 > 0 ? n / 10 : 1;
    if (slow_n > 65000)
        slow_n = 65000; /* strace must not reach its when=65535 */
    long slow_total = 0;
    cr_scsup_totals(g_sup, &notified0, &untouched0);
    for (int r = 0; r < rounds; r++)
        for (int v = 0; v < NV; v++) {
            if (!have[v])
                continue;
            long nn = v == V_SC_WRITE || v == V_STRACE ? slow_n : n;
            t[v][r] = run_once(v, nn);
            if (t[v][r] < 0) {
                fprintf(stderr, "bench_seccomp: %s run failed\n", vname[v]);
                return 1;
            }
            if (v == V_SC_WRITE)
                slow_total += nn;
        }
    cr_scsup_totals(g_sup, &notified1, &untouched1);
    printf("per-call cost of write(64 B) to /dev/null, %ld writes (%ld for "
           "sc-write and strace), %d rounds interleaved, medians:\n",
           n, slow_n, rounds);
    double *ratio = calloc((size_t)rounds, sizeof *ratio);
    for (int v = 0; v < NV; v++) {
        if (!have[v]) {
            printf("  %-9s %-44s not measured (%s missing)\n", vname[v],
                   vdoc[v], v == V_FIU ? "libfiu" : "strace");
            continue;
        }
        for (int r = 0; r < rounds; r++)
            ratio[r] = t[v][r] / t[V_BARE][r];
        double q = median(ratio, (size_t)rounds);
        double m = median(t[v], (size_t)rounds);
        printf("  %-9s %-44s %9.0f ns  %7.2fx bare\n", vname[v], vdoc[v], m, q);
    }
    free(ratio);
    for (int v = 0; v < NV; v++)
        free(t[v]);
    printf("  supervisor: %llu notifications for %ld sc-write writes, %llu "
           "continued untouched\n",
           (unsigned long long)(notified1 - notified0), slow_total,
           (unsigned long long)(untouched1 - untouched0));
    int rc = 0;
    if (have[V_SC_WRITE] && notified1 - notified0 < (uint64_t)slow_total) {
        /* A write the supervisor never saw was not measured as notified. */
        fprintf(stderr,
                "bench_seccomp: only %llu notifications for %ld writes\n",
                (unsigned long long)(notified1 - notified0), slow_total);
        rc = 1;
    }
    cr_scsup_stop(g_sup);
    cr_seccomp_prog_free(g_prog_other);
    cr_seccomp_prog_free(g_prog_write);
    rmdir(tmpd);
    return rc;
}
