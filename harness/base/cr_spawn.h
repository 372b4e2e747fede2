/* cr_spawn: the one way chaosrun starts another program (fork + exec).
 *
 * Every process the harness starts -- the services under test, the fault
 * proxy, the janitor, nft, exec probes -- goes through cr_spawn(), so the
 * rules of STYLE.md ("Spawning") hold in one place:
 *
 *   - everything the child needs (argv, envp, paths, fds) is prepared by
 *     the caller BEFORE fork; between fork and exec the child makes only
 *     async-signal-safe calls (no malloc, no stdio, no locks);
 *   - signals are blocked in the parent around fork, and the child resets
 *     every disposition to SIG_DFL and its mask to empty before exec;
 *   - the child reports a failed step (exec, chdir, setns, ...) and its
 *     errno to the parent over a close-on-exec pipe: cr_spawn returns only
 *     once the program runs, or with the cause;
 *   - optionally: its own process group, PR_SET_PDEATHSIG, a network
 *     namespace, a working directory, stdio redirection, another identity;
 *   - a go-pipe: when before_exec is given, the child waits after fork
 *     while the parent records the pid (the process group) in the ledger
 *     -- record first, then change (STYLE.md) -- and only then proceeds.
 *
 * The order in the child: dispositions and mask reset, setpgid, parent-
 * death signal, wait for the go byte, a new time namespace, setns,
 * setgroups/setgid/setuid (the identity is dropped after the namespace is
 * entered, which needs privilege), stdio, chdir (as the new identity), the kept
 * fds, the caller's child_hook, exec. */
#ifndef CR_SPAWN_H
#define CR_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#include "cr_err.h"

#define CR_SPAWN_MAX_KEEP 8

/* Values of the stdio fields of cr_spawn_opts besides a real fd. */
#define CR_SPAWN_DEVNULL (-1) /* /dev/null */
#define CR_SPAWN_INHERIT (-2) /* the parent's fd stays */

/* The identity the program runs as.  Applied only when `set` is 1, after
 * the namespace is entered and before stdio, chdir and exec, in the order
 * setgroups(ngroups, groups), setresgid(gid), setresuid(uid) -- so the
 * supplementary groups and the group are changed while the process still
 * has the privilege to do so.  PR_SET_PDEATHSIG is set again afterwards
 * (the kernel clears it when the credentials change).  Needs CAP_SETUID
 * and CAP_SETGID; a failure is reported like a failed exec (step
 * "setgroups", "setgid" or "setuid"). */
typedef struct cr_spawn_cred {
    int set;             /* 0: keep the caller's identity */
    uid_t uid;           /* real, effective and saved user id */
    gid_t gid;           /* real, effective and saved group id */
    const gid_t *groups; /* supplementary groups; ngroups 0: none at all */
    size_t ngroups;
} cr_spawn_cred;

typedef struct cr_spawn_opts {
    /* The program: a path, used as given (no PATH search; resolve a bare
     * name with cr_spawn_which() first). */
    const char *path;
    char *const *argv; /* NULL-terminated, argv[0] included */
    char *const *envp; /* NULL-terminated; NULL: the caller's environ */
    const char *cwd;   /* NULL: the caller's working directory */
    /* -1, or a directory fd to change to (fchdir) before cwd is applied
     * (cwd, when also given, is then relative to it): a directory the
     * caller opened, never re-resolved by path. */
    int cwd_fd;
    /* Open fds the program inherits: keep_fds[i] becomes fd 3 + i (at most
     * CR_SPAWN_MAX_KEEP; each must be >= 3).  Every other fd of the
     * harness is close-on-exec. */
    const int *keep_fds;
    size_t nkeep;
    /* An open fd (duplicated onto 0/1/2; the caller keeps and closes its
     * own), CR_SPAWN_DEVNULL or CR_SPAWN_INHERIT. */
    int stdin_fd, stdout_fd, stderr_fd;
    int new_pgroup; /* 1: the child leads a new process group (pgid = pid) */
    /* 0, or the signal the child gets when the THREAD that called
     * cr_spawn ends (PR_SET_PDEATHSIG): call from the main thread for
     * "dies with the harness". */
    int pdeathsig;
    int netns_fd; /* -1, or an fd for setns(fd, CLONE_NEWNET) */
    /* NULL, or the program runs in a new time namespace with these
     * offsets, the text of /proc/PID/timens_offsets ("monotonic 30 0\n"
     * or "boottime -5 0\n", one clock a line: seconds and nanoseconds).
     * The child calls unshare(CLONE_NEWTIME) and writes them to
     * /proc/self/timens_offsets before its identity is dropped; execve
     * enters the namespace (Linux >= 5.19 switches on exec).  Needs
     * CAP_SYS_ADMIN and CAP_SYS_TIME; a failure is the step "timens"
     * (CR_EUNSUP; CR_EINVAL for offsets the kernel refuses). */
    const char *timens_offsets;
    cr_spawn_cred cred;
    /* Go-pipe.  When set, called in the parent after fork while the child
     * waits (process group already made, nothing else done yet): record
     * the pid in the ledger here.  A non-zero return aborts: the child is
     * killed and reaped and cr_spawn returns that code (err as set by the
     * callback). */
    int (*before_exec)(void *arg, pid_t pid, cr_err *err);
    void *before_exec_arg;
    /* A step of the caller's own in the child, the last before execve
     * (after stdio and chdir): async-signal-safe calls only.  Returns 0,
     * or an errno value: reported as the failed step "hook" (CR_ESYS).
     * The engine's spawn hooks (a seccomp filter installed here). */
    int (*child_hook)(void *arg);
    void *child_hook_arg;
    /* In the parent once the child was let go (after before_exec and the
     * go byte) and BEFORE cr_spawn waits for the exec: for a child_hook
     * that needs the parent to get as far as execve (a seccomp listener
     * handed over, without which a notified call would block).  Non-zero:
     * the child is killed and reaped; cr_spawn returns the child's own
     * report when it had reported a step before the hook as failed (so
     * after_go should wait for the child to reach its hook or end), else
     * that code (err as set by the callback). */
    int (*after_go)(void *arg, pid_t pid, cr_err *err);
    void *after_go_arg;
} cr_spawn_opts;

/* Defaults: stdin from /dev/null, stdout and stderr inherited, no process
 * group, no parent-death signal, no namespace, same identity. */
#define CR_SPAWN_OPTS_INIT                                                     \
    {                                                                          \
        .stdin_fd = CR_SPAWN_DEVNULL, .stdout_fd = CR_SPAWN_INHERIT,           \
        .stderr_fd = CR_SPAWN_INHERIT, .netns_fd = -1, .cwd_fd = -1            \
    }

/* What became of a spawn. */
typedef struct cr_spawn_proc {
    pid_t pid;        /* > 0 when the program runs; 0 otherwise */
    int child_errno;  /* errno of the step that failed in the child, or 0 */
    const char *step; /* that step ("exec", "chdir", "setns", ...), or NULL */
} cr_spawn_proc;

/* Start o->path.  Returns 0 once the program has been exec'd (out->pid
 * set; the caller owns the child and must reap it), or a negative code
 * with err naming the step and cause and no child left (reaped):
 *   CR_EUNSUP  exec or chdir failed in the child (the program cannot run
 *              here: missing, not executable, no such directory);
 *   CR_ESYS    fork, a pipe, or another step in the child failed;
 *   CR_EINVAL  o is incomplete (no path or argv);
 *   the code of before_exec when it refused.
 * out may be NULL. */
int cr_spawn(const cr_spawn_opts *o, cr_spawn_proc *out, cr_err *err);

/* The path of a program: prog itself when it contains a '/', else the
 * first executable match in $PATH (default "/usr/local/bin:/usr/bin:/bin").
 * Returns a string to cr_free(), or NULL when not found or out of memory. */
char *cr_spawn_which(const char *prog);

/* Wait for a child started with new_pgroup, at most timeout_s seconds;
 * past that its whole process group gets SIGKILL and is reaped.  *status
 * as from waitpid.  Returns 0 (exited), 1 (timed out: killed), or CR_ESYS
 * with err set. */
int cr_spawn_wait(pid_t pid, double timeout_s, int *status, cr_err *err);

/* Run argv (argv[0] looked up with cr_spawn_which) to its end, at most
 * timeout_s seconds, in its own process group, stdin from /dev/null,
 * stdout and stderr to out_fd (or /dev/null when out_fd < 0), with the
 * caller's environment after the entries of extra_env ("NAME=value",
 * NULL-terminated, may be NULL; they win over the caller's).  detail gets
 * "exit 0", "exit 3", "killed by SIGTERM" or "no exit within 10 s".
 * Returns 0 when it exited 0, 1 when it ran and did not, or a negative
 * code when it could not be started (err says why). */
int cr_spawn_run(char *const *argv, char *const *extra_env, double timeout_s,
                 int out_fd, char *detail, size_t n, cr_err *err);

/* The identity of user (a name of the user database, or a decimal uid)
 * and group (a name or a gid; NULL: the user's primary group, which a uid
 * without an entry must then give) into *c, with no supplementary groups.
 * Returns 0, or CR_EINVAL naming what is unknown; CR_EUNSUP when the
 * identity is not the caller's and the caller may not change identity
 * (it is not root).  Asking for the caller's own identity sets nothing
 * (c->set 0): a service "as the invoking user" runs unchanged. */
int cr_spawn_cred_lookup(const char *user, const char *group, cr_spawn_cred *c,
                         cr_err *err);

/* A process's start time (/proc/PID/stat field 22, clock ticks since
 * boot), 0 when it does not exist: with the pid, it names one process
 * (the ledger's "pgid <pid> <start>" entries, the strays below). */
unsigned long long cr_proc_starttime(pid_t pid);

/* The children of this process that cr_spawn did not start: orphans
 * adopted by a subreaper (PR_SET_CHILD_SUBREAPER), e.g. a daemon that
 * left its service's process group (setsid) and whose parent ended.
 * Read from /proc/self/task/<tid>/children of every thread; cr_spawn
 * records each child it forks (pid and start time, under a lock held
 * across the fork), so a child of ours is never taken for a stray, nor a
 * stray that got the pid of one reaped for ours.  Fills out[] with up to
 * max pids and *nout with how many there are (may be > max).  0, or -1
 * with errno (ENOMEM, or /proc not readable). */
int cr_spawn_strays(pid_t *out, size_t max, size_t *nout);

#endif
