/* cr_spawn: see cr_spawn.h.  The child side (child_main) runs between
 * fork and exec and may call only async-signal-safe functions: raw system
 * calls, no allocation, no stdio, no locks (another thread of the parent
 * may have held one at the fork).  Everything it needs is prepared before
 * the fork. */
#include "cr_spawn.h"

#include "cr_alloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* ---- the children cr_spawn started ---------------------------------------
 *
 * Every pid cr_spawn forks, with its start time, so that a subreaper can
 * tell its own children from the orphans it adopted (cr_spawn_strays).
 * The lock is held across fork and the record, so a scan never sees a
 * child of ours that is not yet recorded. */

typedef struct known_child {
    pid_t pid;
    unsigned long long start;
} known_child;

static pthread_mutex_t known_mu = PTHREAD_MUTEX_INITIALIZER;
static known_child *known;
static size_t nknown, capknown;

unsigned long long cr_proc_starttime(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* The command name may contain spaces and parentheses: skip to the
     * last ')'. */
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    p += 2; /* field 3 (state) */
    for (int field = 3; field < 22 && p; field++) {
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    return p ? strtoull(p, NULL, 10) : 0;
}

/* The children of every thread of this process (/proc/self/task/<tid>/
 * children), appended to *v.  0, or -1 (errno) with *v freed. */
static int read_children(pid_t **v, size_t *n)
{
    size_t cap = 0;
    *v = NULL;
    *n = 0;
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[96], buf[4096];
        snprintf(path, sizeof path, "/proc/self/task/%.20s/children",
                 de->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue; /* the thread ended */
        long cur = 0;
        int in_num = 0;
        for (;;) {
            ssize_t r = read(fd, buf, sizeof buf);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            for (ssize_t i = 0; i <= r; i++) {
                if (i < r && buf[i] >= '0' && buf[i] <= '9') {
                    cur = cur * 10 + (buf[i] - '0');
                    in_num = 1;
                    continue;
                }
                if (i == r)
                    break; /* a number may go on in the next read */
                if (!in_num)
                    continue;
                if (*n == cap) {
                    size_t nc = cap ? cap * 2 : 64;
                    pid_t *nv = cr_realloc(*v, nc * sizeof *nv);
                    if (!nv) {
                        close(fd);
                        closedir(d);
                        cr_free(*v);
                        *v = NULL;
                        errno = ENOMEM;
                        return -1;
                    }
                    *v = nv;
                    cap = nc;
                }
                (*v)[(*n)++] = (pid_t)cur;
                cur = 0;
                in_num = 0;
            }
        }
        close(fd); /* the file ends with a space: no number is left open */
    }
    closedir(d);
    return 0;
}

static int has_pid(const pid_t *v, size_t n, pid_t pid)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == pid)
            return 1;
    return 0;
}

/* Forget the children that are no longer ours (reaped), given the
 * current list.  known_mu held. */
static void known_prune(const pid_t *kids, size_t nkids)
{
    for (size_t k = 0; k < nknown;) {
        if (has_pid(kids, nkids, known[k].pid))
            k++;
        else
            known[k] = known[--nknown];
    }
}

/* Room for one more record before the fork.  known_mu held. */
static int known_reserve(void)
{
    if (nknown < capknown)
        return 0;
    pid_t *kids;
    size_t nkids;
    if (read_children(&kids, &nkids) == 0) {
        known_prune(kids, nkids);
        cr_free(kids);
        if (nknown < capknown)
            return 0;
    }
    size_t nc = capknown ? capknown * 2 : 32;
    known_child *nv = cr_realloc(known, nc * sizeof *nv);
    if (!nv)
        return -1;
    known = nv;
    capknown = nc;
    return 0;
}

int cr_spawn_strays(pid_t *out, size_t max, size_t *nout)
{
    pid_t *kids;
    size_t nkids, n = 0;
    *nout = 0;
    pthread_mutex_lock(&known_mu);
    if (read_children(&kids, &nkids) != 0) {
        int e = errno;
        pthread_mutex_unlock(&known_mu);
        errno = e;
        return -1;
    }
    known_prune(kids, nkids);
    for (size_t i = 0; i < nkids; i++) {
        size_t k = 0;
        while (k < nknown && known[k].pid != kids[i])
            k++;
        if (k < nknown && known[k].start == cr_proc_starttime(kids[i]))
            continue;
        if (k < nknown) /* the pid was reaped and taken again */
            known[k] = known[--nknown];
        if (n < max)
            out[n] = kids[i];
        n++;
    }
    pthread_mutex_unlock(&known_mu);
    cr_free(kids);
    *nout = n;
    return 0;
}

/* The steps of the child, in order; the number travels over the pipe. */
enum {
    ST_SIGNALS = 1,
    ST_PGID,
    ST_PDEATH,
    ST_TIMENS,
    ST_SETNS,
    ST_GROUPS,
    ST_GID,
    ST_UID,
    ST_STDIO,
    ST_CHDIR,
    ST_KEEP,
    ST_HOOK,
    ST_EXEC,
    ST_N
};

static const char *const step_names[ST_N] = {
    [ST_SIGNALS] = "signals", [ST_PGID] = "setpgid",  [ST_PDEATH] = "prctl",
    [ST_TIMENS] = "timens",   [ST_SETNS] = "setns",   [ST_GROUPS] = "setgroups",
    [ST_GID] = "setgid",      [ST_UID] = "setuid",    [ST_STDIO] = "stdio",
    [ST_CHDIR] = "chdir",     [ST_KEEP] = "keep fds", [ST_HOOK] = "hook",
    [ST_EXEC] = "exec",
};

/* What the child needs, all prepared before fork. */
typedef struct child_ctx {
    const cr_spawn_opts *o;
    int fd[3]; /* sources for 0, 1, 2: an fd or CR_SPAWN_INHERIT */
    int err_w; /* write end of the exec-error pipe (CLOEXEC) */
    int go_r;  /* read end of the go-pipe, or -1 */
    int go_w;  /* its write end (the parent's), closed in the child */
    pid_t parent;
} child_ctx;

/* Report the failed step and errno, then end.  The write is the last thing
 * the child does: the parent reads it, or EOF once exec succeeded. */
static _Noreturn void child_fail(const child_ctx *c, int step)
{
    int msg[2] = {step, errno};
    ssize_t w;
    do
        w = write(c->err_w, msg, sizeof msg);
    while (w < 0 && errno == EINTR);
    _exit(127);
}

static void child_signals(void)
{
    struct sigaction dfl;
    sigset_t none;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    /* Ignored signals stay ignored across exec, handlers become SIG_DFL:
     * reset both, so the program starts as if from a clean shell.  The
     * signals the C library reserves refuse (EINVAL): harmless. */
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            sigaction(s, &dfl, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Move the stdio sources onto 0, 1, 2.  A source that is itself one of
 * 0..2 but meant for another slot is first copied above 2, so that a
 * dup2 cannot overwrite a source still needed. */
static int child_stdio(child_ctx *c)
{
    for (int i = 0; i < 3; i++) {
        int s = c->fd[i];
        if (s < 0 || s > 2 || s == i)
            continue;
        int n = fcntl(s, F_DUPFD_CLOEXEC, 3);
        if (n < 0)
            return -1;
        for (int k = 0; k < 3; k++)
            if (c->fd[k] == s)
                c->fd[k] = n;
    }
    for (int i = 0; i < 3; i++) {
        int s = c->fd[i];
        if (s == CR_SPAWN_INHERIT)
            continue;
        /* dup2 clears FD_CLOEXEC on the copy; an fd already in place keeps
         * its flag, which must go or exec would close it. */
        if (s == i ? fcntl(i, F_SETFD, 0) != 0 : dup2(s, i) < 0)
            return -1;
    }
    return 0;
}

/* keep_fds[i] onto 3 + i.  Sources and the error pipe that sit in the
 * target range are first copied above it, so no dup2 overwrites one
 * still needed. */
static int child_keep(child_ctx *c)
{
    const cr_spawn_opts *o = c->o;
    int top = 3 + (int)o->nkeep, src[CR_SPAWN_MAX_KEEP];
    for (size_t i = 0; i < o->nkeep; i++) {
        src[i] = o->keep_fds[i];
        if (src[i] != 3 + (int)i && src[i] < top &&
            (src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, top)) < 0)
            return -1;
    }
    if (c->err_w < top) {
        int n = fcntl(c->err_w, F_DUPFD_CLOEXEC, top);
        if (n < 0)
            return -1;
        c->err_w = n;
    }
    for (size_t i = 0; i < o->nkeep; i++) {
        int t = 3 + (int)i;
        if (src[i] == t ? fcntl(t, F_SETFD, 0) != 0 : dup2(src[i], t) < 0)
            return -1;
    }
    return 0;
}

static void child_pdeathsig(const child_ctx *c)
{
    if (!c->o->pdeathsig)
        return;
    if (prctl(PR_SET_PDEATHSIG, c->o->pdeathsig) != 0)
        child_fail(c, ST_PDEATH);
    /* The parent may have died before the prctl: then nobody would send
     * the signal. */
    if (getppid() != c->parent)
        _exit(127);
}

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* unshare(CLONE_NEWTIME), then the offsets of the new namespace (which
 * this process does not enter: its children and its next execve do).
 * 0, or -1 with errno. */
static int child_timens(const char *offsets)
{
    if (unshare(CLONE_NEWTIME) != 0)
        return -1;
    int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t n = strlen(offsets);
    ssize_t w = write(fd, offsets, n);
    int e = errno;
    close(fd);
    if (w != (ssize_t)n) {
        errno = w < 0 ? e : EIO;
        return -1;
    }
    return 0;
}

static _Noreturn void child_main(child_ctx *c)
{
    const cr_spawn_opts *o = c->o;
    child_signals();
    if (o->new_pgroup && setpgid(0, 0) != 0)
        child_fail(c, ST_PGID);
    child_pdeathsig(c);
    if (c->go_r >= 0) {
        char go;
        ssize_t g;
        close(c->go_w); /* else EOF never comes if the parent dies */
        do
            g = read(c->go_r, &go, 1);
        while (g < 0 && errno == EINTR);
        if (g != 1)
            _exit(127); /* the parent refused or died: nothing to report */
    }
    /* A new time namespace before the identity is dropped (it needs
     * CAP_SYS_ADMIN, its offsets CAP_SYS_TIME): its offsets can be
     * written only before a process enters it, and execve enters it. */
    if (o->timens_offsets && child_timens(o->timens_offsets) != 0)
        child_fail(c, ST_TIMENS);
    if (o->netns_fd >= 0 && setns(o->netns_fd, CLONE_NEWNET) != 0)
        child_fail(c, ST_SETNS);
    if (o->cred.set) {
        /* Raw system calls: async-signal-safe, and they act on this one
         * thread, which after fork is the whole process. */
        if (syscall(SYS_setgroups, o->cred.ngroups, o->cred.groups) != 0)
            child_fail(c, ST_GROUPS);
        if (syscall(SYS_setresgid, o->cred.gid, o->cred.gid, o->cred.gid) != 0)
            child_fail(c, ST_GID);
        if (syscall(SYS_setresuid, o->cred.uid, o->cred.uid, o->cred.uid) != 0)
            child_fail(c, ST_UID);
        child_pdeathsig(c); /* cleared by the change of credentials */
    }
    if (child_stdio(c) != 0)
        child_fail(c, ST_STDIO);
    if ((o->cwd_fd >= 0 && fchdir(o->cwd_fd) != 0) ||
        (o->cwd && chdir(o->cwd) != 0))
        child_fail(c, ST_CHDIR);
    if (o->nkeep && child_keep(c) != 0)
        child_fail(c, ST_KEEP);
    if (o->child_hook) {
        int e = o->child_hook(o->child_hook_arg);
        if (e) {
            errno = e;
            child_fail(c, ST_HOOK);
        }
    }
    execve(o->path, o->argv, o->envp ? o->envp : environ);
    child_fail(c, ST_EXEC);
}

static void reap(pid_t pid)
{
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
}

/* The parent's side of a failed step: the sentence and the code. */
static int child_error(const cr_spawn_opts *o, int step, int e,
                       cr_spawn_proc *out, cr_err *err)
{
    out->child_errno = e;
    out->step = step > 0 && step < ST_N ? step_names[step] : "?";
    switch (step) {
    case ST_EXEC:
        return cr_err_sys(err, CR_EUNSUP, e, "exec %s", o->path);
    case ST_CHDIR:
        return cr_err_sys(err, CR_EUNSUP, e, "chdir %s (for %s)",
                          o->cwd ? o->cwd : "(directory fd)", o->path);
    case ST_UID:
        return cr_err_sys(err, CR_ESYS, e, "setuid %u (for %s)",
                          (unsigned)o->cred.uid, o->path);
    case ST_GID:
        return cr_err_sys(err, CR_ESYS, e, "setgid %u (for %s)",
                          (unsigned)o->cred.gid, o->path);
    case ST_TIMENS:
        return cr_err_sys(err,
                          e == EINVAL || e == ERANGE ? CR_EINVAL : CR_EUNSUP, e,
                          "new time namespace with offsets \"%s\" (for %s; "
                          "needs Linux >= 5.6, CAP_SYS_ADMIN and "
                          "CAP_SYS_TIME)",
                          o->timens_offsets, o->path);
    default:
        return cr_err_sys(err, CR_ESYS, e, "%s (for %s)", out->step, o->path);
    }
}

/* After fork, in the parent: the go byte (after the caller's record), then
 * wait for exec or the child's report. */
static int parent_side(const cr_spawn_opts *o, pid_t pid, int errp_r, int *go_w,
                       cr_spawn_proc *out, cr_err *err)
{
    if (o->before_exec) {
        int rc = o->before_exec(o->before_exec_arg, pid, err);
        if (rc == 0 && write(*go_w, "g", 1) != 1)
            rc = cr_err_sys(err, CR_ESYS, errno, "spawn %s: go pipe", o->path);
        if (rc != 0) {
            kill(pid, SIGKILL);
            reap(pid);
            return rc < 0
                       ? rc
                       : cr_err_set(err, CR_ESYS, "spawn %s: refused", o->path);
        }
        close(*go_w);
        *go_w = -1;
    }
    int msg[2];
    ssize_t n;
    if (o->after_go) {
        int rc = o->after_go(o->after_go_arg, pid, err);
        if (rc != 0) {
            kill(pid, SIGKILL);
            reap(pid);
            /* The child is gone: its report, if any, is in the pipe. */
            do
                n = read(errp_r, msg, sizeof msg);
            while (n < 0 && errno == EINTR);
            if (n == (ssize_t)sizeof msg && msg[0] != ST_HOOK)
                return child_error(o, msg[0], msg[1], out, err);
            return rc < 0
                       ? rc
                       : cr_err_set(err, CR_ESYS, "spawn %s: refused", o->path);
        }
    }
    do
        n = read(errp_r, msg, sizeof msg);
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof msg) {
        reap(pid);
        return child_error(o, msg[0], msg[1], out, err);
    }
    /* EOF: exec closed the write end (CLOEXEC).  A short read cannot
     * happen for 8 bytes on a pipe; treat a read error as success too --
     * the program may well be running, and its exit will tell. */
    out->pid = pid;
    return CR_OK;
}

int cr_spawn(const cr_spawn_opts *o, cr_spawn_proc *out, cr_err *err)
{
    cr_spawn_proc tmp;
    int errp[2] = {-1, -1}, gop[2] = {-1, -1}, nullfd = -1, rc = CR_OK;
    child_ctx c;
    if (!out)
        out = &tmp;
    memset(out, 0, sizeof *out);
    if (!o || !o->path || !o->argv || !o->argv[0])
        return cr_err_set(err, CR_EINVAL, "spawn: no program given");
    if (o->nkeep > CR_SPAWN_MAX_KEEP || (o->nkeep && !o->keep_fds))
        return cr_err_set(err, CR_EINVAL, "spawn %s: bad keep_fds", o->path);
    for (size_t i = 0; i < o->nkeep; i++)
        if (o->keep_fds[i] < 3)
            return cr_err_set(err, CR_EINVAL, "spawn %s: keep_fds[%zu] < 3",
                              o->path, i);
    const int want[3] = {o->stdin_fd, o->stdout_fd, o->stderr_fd};
    if ((want[0] == CR_SPAWN_DEVNULL || want[1] == CR_SPAWN_DEVNULL ||
         want[2] == CR_SPAWN_DEVNULL) &&
        (nullfd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
        rc = cr_err_sys(err, CR_ESYS, errno, "spawn %s: /dev/null", o->path);
        goto out;
    }
    if (pipe2(errp, O_CLOEXEC) != 0 ||
        (o->before_exec && pipe2(gop, O_CLOEXEC) != 0)) {
        rc = cr_err_sys(err, CR_ESYS, errno, "spawn %s: pipe2", o->path);
        goto out;
    }
    memset(&c, 0, sizeof c);
    c.o = o;
    for (int i = 0; i < 3; i++)
        c.fd[i] = want[i] == CR_SPAWN_DEVNULL ? nullfd : want[i];
    c.err_w = errp[1];
    c.go_r = gop[0];
    c.go_w = gop[1];
    c.parent = getpid();

    /* With every signal blocked across fork, no handler of the parent
     * runs in the child before child_signals() resets them. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_mutex_lock(&known_mu);
    if (known_reserve() != 0) {
        pthread_mutex_unlock(&known_mu);
        rc = cr_err_set(err, CR_ENOMEM, "spawn %s: out of memory", o->path);
        goto out;
    }
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = fork();
    if (pid == 0)
        child_main(&c);
    int fork_errno = errno;
    if (pid > 0)
        known[nknown++] = (known_child){pid, cr_proc_starttime(pid)};
    pthread_mutex_unlock(&known_mu);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        rc = cr_err_sys(err, CR_ESYS, fork_errno, "spawn %s: fork", o->path);
        goto out;
    }
    /* Also in the parent: a kill(-pgid) right after cr_spawn returns must
     * not race the child's own setpgid.  EACCES after exec is harmless. */
    if (o->new_pgroup)
        setpgid(pid, pid);
    close(errp[1]);
    errp[1] = -1;
    if (gop[0] >= 0) {
        close(gop[0]);
        gop[0] = -1;
    }
    rc = parent_side(o, pid, errp[0], &gop[1], out, err);
out:
    for (int i = 0; i < 2; i++) {
        if (errp[i] >= 0)
            close(errp[i]);
        if (gop[i] >= 0)
            close(gop[i]);
    }
    if (nullfd >= 0)
        close(nullfd);
    return rc;
}

char *cr_spawn_which(const char *prog)
{
    if (!prog || !*prog)
        return NULL;
    if (strchr(prog, '/'))
        return cr_strdup(prog);
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path;;) {
        const char *e = strchr(p, ':');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char cand[PATH_MAX];
        /* An empty element is the current directory (POSIX). */
        int n = snprintf(cand, sizeof cand, "%.*s/%s", (int)len, len ? p : ".",
                         prog);
        struct stat st;
        if (n > 0 && (size_t)n < sizeof cand && stat(cand, &st) == 0 &&
            S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
            return cr_strdup(cand);
        if (!e)
            return NULL;
        p = e + 1;
    }
}

/* A decimal id ("65534"): 1 and *id; else 0. */
static int numeric_id(const char *s, unsigned long *id)
{
    char *end = NULL;
    if (!*s || strspn(s, "0123456789") != strlen(s))
        return 0;
    errno = 0;
    *id = strtoul(s, &end, 10);
    return errno == 0 && *end == '\0' && *id < (unsigned long)(gid_t)-1;
}

int cr_spawn_cred_lookup(const char *user, const char *group, cr_spawn_cred *c,
                         cr_err *err)
{
    char buf[4096];
    struct passwd pw, *pwp = NULL;
    struct group gr, *grp = NULL;
    unsigned long id;
    int have_gid = 0;
    memset(c, 0, sizeof *c);
    if (!user || !*user)
        return cr_err_set(err, CR_EINVAL, "service user: empty");
    if (numeric_id(user, &id)) {
        c->uid = (uid_t)id;
        /* An entry, when there is one, gives the primary group. */
        if (getpwuid_r(c->uid, &pw, buf, sizeof buf, &pwp) == 0 && pwp) {
            c->gid = pwp->pw_gid;
            have_gid = 1;
        }
    } else {
        if (getpwnam_r(user, &pw, buf, sizeof buf, &pwp) != 0 || !pwp)
            return cr_err_set(err, CR_EINVAL,
                              "service user \"%s\": no such user", user);
        c->uid = pwp->pw_uid;
        c->gid = pwp->pw_gid;
        have_gid = 1;
    }
    if (group && *group) {
        if (numeric_id(group, &id)) {
            c->gid = (gid_t)id;
        } else {
            if (getgrnam_r(group, &gr, buf, sizeof buf, &grp) != 0 || !grp)
                return cr_err_set(err, CR_EINVAL,
                                  "service group \"%s\": no such group", group);
            c->gid = grp->gr_gid;
        }
        have_gid = 1;
    }
    if (!have_gid)
        return cr_err_set(err, CR_EINVAL,
                          "service user %s: not in the user database: give "
                          "its group too",
                          user);
    if (c->uid == geteuid() && c->gid == getegid())
        return 0; /* the caller's own identity: nothing to change */
    if (geteuid() != 0)
        return cr_err_set(err, CR_EUNSUP,
                          "service user %s (uid %u, gid %u): only root may "
                          "start a program as another user",
                          user, (unsigned)c->uid, (unsigned)c->gid);
    c->set = 1;
    return 0;
}

int cr_spawn_wait(pid_t pid, double timeout_s, int *status, cr_err *err)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        pid_t w = waitpid(pid, status, WNOHANG);
        if (w == pid)
            return 0;
        if (w < 0 && errno != EINTR)
            return cr_err_sys(err, CR_ESYS, errno, "waitpid %d", (int)pid);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double el = (double)(now.tv_sec - t0.tv_sec) +
                    (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
        if (el > timeout_s) {
            kill(-pid, SIGKILL);
            while (waitpid(pid, status, 0) < 0 && errno == EINTR)
                ;
            return 1;
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

int cr_spawn_run(char *const *argv, char *const *extra_env, double timeout_s,
                 int out_fd, char *detail, size_t n, cr_err *err)
{
    extern char **environ;
    size_t ne = 0, nx = 0;
    while (environ[ne])
        ne++;
    while (extra_env && extra_env[nx])
        nx++;
    char **envp = cr_calloc(ne + nx + 1, sizeof *envp);
    char *path = cr_spawn_which(argv[0]);
    int rc;
    if (!envp || !path) {
        rc = !envp
                 ? cr_err_set(err, CR_ENOMEM, "out of memory")
                 : cr_err_set(err, CR_EUNSUP, "%s: program not found", argv[0]);
        goto out;
    }
    for (size_t i = 0; i < nx; i++)
        envp[i] = extra_env[i];
    for (size_t i = 0; i < ne; i++)
        envp[nx + i] = environ[i];
    cr_spawn_opts o = CR_SPAWN_OPTS_INIT;
    cr_spawn_proc pr;
    o.path = path;
    o.argv = argv;
    o.envp = envp;
    o.new_pgroup = 1;
    o.stdout_fd = o.stderr_fd = out_fd >= 0 ? out_fd : CR_SPAWN_DEVNULL;
    rc = cr_spawn(&o, &pr, err);
    if (rc != 0)
        goto out;
    int status = 0;
    rc = cr_spawn_wait(pr.pid, timeout_s, &status, err);
    if (rc < 0)
        goto out;
    if (rc == 1)
        snprintf(detail, n, "no exit within %g s", timeout_s);
    else if (WIFEXITED(status))
        snprintf(detail, n, "exit %d", WEXITSTATUS(status));
    else
        snprintf(detail, n, "killed by signal %d", WTERMSIG(status));
    rc = rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
out:
    cr_free(envp);
    cr_free(path);
    return rc;
}
