/* cr_ledger: see cr_ledger.h. */
#include "cr_ledger.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cr_alloc.h"
#include "base/cr_dirfd.h"
#include "base/cr_cgroup.h"
#include "base/cr_cgroup2.h"
#include "base/cr_spawn.h"
#include "net/cr_net.h"
#include "net/cr_ssh.h"

#define LEDGER_NAME     "ledger"
#define JANITOR_LOG     "ledger.janitor"
#define LEDGER_MAX_SIZE (16 << 20)

struct cr_ledger {
    int fd;    /* "ledger", read-write, append; flock'ed for the run */
    int dirfd; /* the run directory (a copy of the run's fd) */
    int idxfd; /* the index directory */
    int next_id;
    char path[PATH_MAX];
    char index_name[64];
};

/* ---- the index directory ------------------------------------------------
 */

int cr_ledger_index_dir(char *buf, size_t n, cr_err *err)
{
    char cands[3][PATH_MAX];
    size_t k = 0;
    if (geteuid() == 0)
        snprintf(cands[k++], PATH_MAX, "/run/chaosrun");
    const char *x = getenv("XDG_RUNTIME_DIR");
    if (x && *x)
        snprintf(cands[k++], PATH_MAX, "%s/chaosrun", x);
    const char *t = getenv("TMPDIR");
    snprintf(cands[k++], PATH_MAX, "%s/chaosrun-%u", t && *t ? t : "/tmp",
             (unsigned)geteuid());
    cr_err last;
    cr_err_clear(&last);
    for (size_t i = 0; i < k; i++) {
        cr_err e;
        cr_err_clear(&e);
        int fd = cr_dir_private(cands[i], &e);
        if (fd >= 0) {
            snprintf(buf, n, "%s", cands[i]);
            return fd;
        }
        /* One that exists but is not the user's own is never skipped for
         * the next: somebody else may have made it, and the user must
         * know (the entries there would decide what cleanup undoes). */
        if (fd == CR_EINVAL)
            return cr_err_set(err, CR_EUNSUP,
                              "ledger index directory: %s; remove it or set "
                              "TMPDIR to a directory of your own",
                              e.msg);
        cr_err_set(&last, e.code, "%s", e.msg);
    }
    return cr_err_set(err, CR_EUNSUP,
                      "no usable ledger index directory (/run/chaosrun, "
                      "$XDG_RUNTIME_DIR/chaosrun, $TMPDIR/chaosrun-<uid>): %s",
                      last.msg);
}

/* ---- a run's ledger -------------------------------------------------------
 */

/* The index entry: who owns the run, where its ledger is, and which
 * directory that is (device and inode), made new in the index directory. */
static int write_index(cr_ledger *l, cr_err *err)
{
    struct stat st;
    char text[PATH_MAX + 256];
    unsigned long long start = cr_proc_starttime(getpid());
    if (fstat(l->dirfd, &st) != 0)
        return cr_err_sys(err, CR_ESYS, errno, "ledger: run directory");
    snprintf(l->index_name, sizeof l->index_name, "run-%d-%llu", (int)getpid(),
             start);
    int n = snprintf(
        text, sizeof text, "pid %d %llu\nledger %s\nrundir %llu %llu\n",
        (int)getpid(), start, l->path, (unsigned long long)st.st_dev,
        (unsigned long long)st.st_ino);
    cr_err e;
    cr_err_clear(&e);
    int fd = cr_dir_create(l->idxfd, l->index_name, O_WRONLY, 0600, &e);
    if (fd < 0)
        return cr_err_set(err, fd, "ledger index: %s", e.msg);
    int rc = write(fd, text, (size_t)n) == n ? 0 : -1;
    int we = errno;
    if (close(fd) != 0 && rc == 0) {
        rc = -1;
        we = errno;
    }
    if (rc != 0) {
        cr_err_sys(err, CR_ESYS, we, "ledger index %s", l->index_name);
        unlinkat(l->idxfd, l->index_name, 0);
        l->index_name[0] = '\0';
        return CR_ESYS;
    }
    return 0;
}

int cr_ledger_open(int run_dirfd, const char *run_dir, cr_ledger **out,
                   cr_err *err)
{
    cr_ledger *l = cr_calloc(1, sizeof *l);
    char idir[PATH_MAX];
    int rc = CR_OK;
    cr_err e;
    cr_err_clear(&e);
    if (!l)
        return cr_err_set(err, CR_ENOMEM, "ledger: out of memory");
    l->fd = l->dirfd = l->idxfd = -1;
    l->next_id = 1;
    snprintf(l->path, sizeof l->path, "%s/%s", run_dir, LEDGER_NAME);
    /* A fresh file of our own: never one found in the directory. */
    l->fd = cr_dir_create(run_dirfd, LEDGER_NAME, O_RDWR | O_APPEND, 0600, &e);
    if (l->fd < 0) {
        rc = cr_err_set(err, l->fd, "ledger %s: %s", l->path, e.msg);
        l->fd = -1;
        goto fail;
    }
    /* Held for the run's life (and the janitor's): the run is alive. */
    if (flock(l->fd, LOCK_EX | LOCK_NB) != 0) {
        rc = cr_err_sys(err, CR_ESYS, errno, "ledger %s: flock", l->path);
        goto fail;
    }
    l->dirfd = fcntl(run_dirfd, F_DUPFD_CLOEXEC, 3);
    if (l->dirfd < 0) {
        rc = cr_err_sys(err, CR_ESYS, errno, "ledger: dup");
        goto fail;
    }
    l->idxfd = cr_ledger_index_dir(idir, sizeof idir, err);
    if (l->idxfd < 0) {
        rc = l->idxfd;
        l->idxfd = -1;
        goto fail;
    }
    if ((rc = write_index(l, err)) != 0)
        goto fail;
    *out = l;
    return CR_OK;
fail:
    cr_ledger_close(l, 0);
    return rc;
}

const char *cr_ledger_path(const cr_ledger *l)
{
    return l ? l->path : NULL;
}

int cr_ledger_add(cr_ledger *l, const char *line, cr_err *err)
{
    char buf[1200];
    int id = l->next_id++;
    int n = snprintf(buf, sizeof buf, "+%d %s\n", id, line);
    if (n <= 0 || (size_t)n >= sizeof buf || strchr(line, '\n'))
        return cr_err_set(err, CR_EINVAL, "ledger: bad entry: %s", line);
    if (write(l->fd, buf, (size_t)n) != n)
        return cr_err_sys(err, CR_ESYS, errno, "ledger %s: write", l->path);
    /* The record must be on disk before the change is made. */
    if (fdatasync(l->fd) != 0)
        return cr_err_sys(err, CR_ESYS, errno, "ledger %s: fdatasync", l->path);
    return id;
}

void cr_ledger_done(cr_ledger *l, int id)
{
    char buf[32];
    if (!l || id <= 0)
        return;
    int n = snprintf(buf, sizeof buf, "-%d\n", id);
    if (write(l->fd, buf, (size_t)n) != n) {
        /* Best effort: an entry left open is undone again by cleanup,
         * and every undo is idempotent. */
    }
}

void cr_ledger_close(cr_ledger *l, int clean)
{
    if (!l)
        return;
    if (clean && l->idxfd >= 0 && l->index_name[0])
        unlinkat(l->idxfd, l->index_name, 0);
    int fds[] = {l->fd, l->dirfd, l->idxfd};
    for (size_t i = 0; i < 3; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    cr_free(l);
}

/* ---- undoing ------------------------------------------------------------- */

/* Kill what is left of a process group whose leader started at
 * `start`: members whose start time is not older than the leader's. */
static int undo_pgid(pid_t pgid, unsigned long long start)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    if (!d)
        return -1;
    while ((de = readdir(d))) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || pid <= 1 || pid == getpid())
            continue;
        if (getpgid((pid_t)pid) != pgid)
            continue;
        unsigned long long st = cr_proc_starttime((pid_t)pid);
        if (start && st < start)
            continue; /* the group id was reused by an older process */
        kill((pid_t)pid, SIGKILL);
    }
    closedir(d);
    return 0;
}

static int undo_sock(int dfd, const char *name, cr_err *err)
{
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT
                   ? 0
                   : cr_err_sys(err, CR_ESYS, errno, "cleanup: %s", name);
    if (!S_ISSOCK(st.st_mode))
        return cr_err_set(err, CR_EINVAL,
                          "cleanup: %s is not a socket (left alone)", name);
    if (unlinkat(dfd, name, 0) != 0 && errno != ENOENT)
        return cr_err_sys(err, CR_ESYS, errno, "cleanup: unlink %s", name);
    return 0;
}

/* disk_fill's file ("file /abs/dir/.chaosrun-fill-..."): the only kind
 * named by an absolute path, as the file may be in a scratch directory
 * outside the run directory.  Removed only when its name is one disk_fill
 * makes, its directory is reached without following any link
 * (openat2 RESOLVE_NO_SYMLINKS) and it is a regular file of ours. */
static int undo_fill(const char *path, cr_err *err)
{
    const char *slash = strrchr(path, '/');
    if (path[0] != '/' || !slash || strstr(path, "/../") ||
        strncmp(slash + 1, ".chaosrun-fill-", 15) != 0 ||
        !cr_dir_name_ok(slash + 1))
        return cr_err_set(err, CR_EINVAL, "ledger: bad file entry '%s'", path);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                           .resolve = RESOLVE_NO_SYMLINKS};
    int dfd = (int)syscall(SYS_openat2, AT_FDCWD, dir[0] ? dir : "/", &how,
                           sizeof how);
    if (dfd < 0)
        return errno == ENOENT
                   ? 0
                   : cr_err_sys(err, CR_ESYS, errno, "cleanup: open %s", dir);
    struct stat st;
    int rc = 0;
    if (fstatat(dfd, slash + 1, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno != ENOENT)
            rc = cr_err_sys(err, CR_ESYS, errno, "cleanup: %s", path);
    } else if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
        rc = cr_err_set(err, CR_EINVAL,
                        "cleanup: %s is not a file chaosrun made (left alone)",
                        path);
    } else if (unlinkat(dfd, slash + 1, 0) != 0 && errno != ENOENT) {
        rc = cr_err_sys(err, CR_ESYS, errno, "cleanup: unlink %s", path);
    }
    close(dfd);
    return rc;
}

/* An exec fault's revert owed ("exec exec-<fault>-<n>.json"): the file,
 * written by the run in its own directory, holds the command and its
 * environment; read without following links, run to its end.  The ledger
 * it came from is trusted (made by this user, O_EXCL, not writable by
 * others), so is the file it names. */
static int undo_exec(int dfd, const char *name, cr_err *err)
{
    cr_err e;
    cr_err_clear(&e);
    FILE *fp = cr_dir_fopen_read(dfd, name, &e);
    if (!fp)
        return cr_err_set(err, CR_EINVAL, "cleanup: %s: %s", name, e.msg);
    json_t *spec = json_loadf(fp, 0, NULL);
    fclose(fp);
    const json_t *argv = json_object_get(spec, "argv");
    const json_t *env = json_object_get(spec, "env");
    const char *fault = json_string_value(json_object_get(spec, "fault"));
    size_t na = json_array_size(argv), ne = json_array_size(env);
    char **av = cr_calloc(na + 1, sizeof *av),
         **ev = cr_calloc(ne + 1, sizeof *ev);
    int rc = 0;
    if (!spec || !av || !ev || na == 0 || !fault || !cr_dir_name_ok(fault)) {
        rc =
            cr_err_set(err, CR_EINVAL, "cleanup: %s: not an exec revert", name);
        goto out;
    }
    for (size_t i = 0; i < na; i++)
        if (!(av[i] = (char *)json_string_value(json_array_get(argv, i))))
            rc = CR_EINVAL;
    for (size_t i = 0; i < ne; i++)
        if (!(ev[i] = (char *)json_string_value(json_array_get(env, i))))
            rc = CR_EINVAL;
    if (rc) {
        rc =
            cr_err_set(err, CR_EINVAL, "cleanup: %s: not an exec revert", name);
        goto out;
    }
    char log[160], detail[128] = "";
    snprintf(log, sizeof log, "fault-%s.log", fault);
    int lfd = cr_dir_append(dfd, log, 0644, &e);
    double t = json_number_value(json_object_get(spec, "timeout_s"));
    rc = cr_spawn_run(av, ev, t > 0 ? t : 10, lfd, detail, sizeof detail, err);
    if (lfd >= 0)
        close(lfd);
    if (rc == 1)
        rc = cr_err_set(err, CR_ESTATE, "cleanup: revert of %s (%s): %s", fault,
                        av[0], detail);
out:
    cr_free(av);
    cr_free(ev);
    json_decref(spec);
    return rc;
}

int cr_ledger_undo(int run_dirfd, const char *kind, const char *args,
                   cr_err *err)
{
    if (strcmp(kind, "pgid") == 0 || strcmp(kind, "pid") == 0 ||
        strcmp(kind, "proxy") == 0) {
        long pid = 0;
        unsigned long long start = 0;
        if (sscanf(args, "%ld %llu", &pid, &start) < 1 || pid <= 1)
            return cr_err_set(err, CR_EINVAL, "ledger: bad %s entry '%s'", kind,
                              args);
        if (strcmp(kind, "pgid") == 0)
            return undo_pgid((pid_t)pid, start) == 0 ? 0 : CR_ESYS;
        unsigned long long st = cr_proc_starttime((pid_t)pid);
        if (st && (!start || st == start))
            kill((pid_t)pid, SIGKILL);
        return 0;
    }
    if (strcmp(kind, "dir") == 0 || strcmp(kind, "sock") == 0) {
        /* Names inside the run directory, never paths: nothing outside it
         * can be named, and nothing is reached through a link. */
        if (!cr_dir_name_ok(args))
            return cr_err_set(err, CR_EINVAL, "ledger: bad %s entry '%s'", kind,
                              args);
        if (run_dirfd < 0)
            return cr_err_set(err, CR_EINVAL, "ledger: %s %s: no run directory",
                              kind, args);
        if (strcmp(kind, "sock") == 0)
            return undo_sock(run_dirfd, args, err);
        cr_err e;
        cr_err_clear(&e);
        int rc = cr_dir_remove(run_dirfd, args, &e);
        return rc == 0 ? 0 : cr_err_set(err, rc, "cleanup: %s", e.msg);
    }
    if (strcmp(kind, "file") == 0)
        return undo_fill(args, err);
    if (strcmp(kind, "exec") == 0) {
        if (!cr_dir_name_ok(args) || run_dirfd < 0)
            return cr_err_set(err, CR_EINVAL, "ledger: bad exec entry '%s'",
                              args);
        return undo_exec(run_dirfd, args, err);
    }
    if (strcmp(kind, "mount") == 0) {
        /* Lazily: a process may still hold a file open there; never
         * through a link.  EINVAL: not (or no longer) a mount point. */
        if (umount2(args, MNT_DETACH | UMOUNT_NOFOLLOW) != 0 &&
            errno != EINVAL && errno != ENOENT)
            return cr_err_sys(err, CR_ESYS, errno, "cleanup: umount %s", args);
        return 0;
    }
    if (strcmp(kind, "thaw") == 0) {
        /* A frozen freezer cgroup (pause mode "freezer"): its tasks could
         * not even die of SIGKILL before this.  Gone: nothing to thaw. */
        if (args[0] != '/' || strstr(args, "/../"))
            return cr_err_set(err, CR_EINVAL, "ledger: bad thaw entry '%s'",
                              args);
        cr_err e;
        cr_err_clear(&e);
        int rc = cr_cgroup_freeze(args, 0, 5.0, &e);
        if (rc != 0 && access(args, F_OK) == 0)
            return cr_err_set(err, rc, "cleanup: %s", e.msg);
        return 0;
    }
    if (strcmp(kind, "cgctl") == 0) {
        /* "cgctl <v2 controller> <dir>": the run enabled the controller in
         * dir's cgroup.subtree_control; disable it again.  EBUSY: a cgroup
         * not the run's uses it now (not ours to take away). */
        char ctl[32];
        const char *dir = strchr(args, ' ');
        if (!dir || (size_t)(dir - args) >= sizeof ctl ||
            strspn(args, "abcdefghijklmnopqrstuvwxyz_") !=
                (size_t)(dir - args) ||
            dir[1] != '/' || strstr(dir, "/../"))
            return cr_err_set(err, CR_EINVAL, "ledger: bad cgctl entry '%s'",
                              args);
        snprintf(ctl, sizeof ctl, "%.*s", (int)(dir - args), args);
        dir++;
        if (!cr_cgroup_is_v2(dir))
            return 0; /* gone (or never a cgroup2 directory) */
        cr_err e;
        cr_err_clear(&e);
        if (cr_cgroup2_enabled(dir, ctl) == 1 &&
            cr_cgroup2_subtree(dir, ctl, 0, &e) < 0)
            return cr_err_set(err, e.code, "cleanup: %s", e.msg);
        return 0;
    }
    if (strcmp(kind, "cgroup") == 0) /* kills what is left inside */
        return cr_cgroup_remove(args, 2.0, err);
    /* A remote node's directory, tables and qdiscs: reconnect
     * (net/cr_ssh.h). */
    if (strcmp(kind, "ssh-dir") == 0 || strcmp(kind, "ssh-nft") == 0 ||
        strcmp(kind, "ssh-tc") == 0)
        return cr_ssh_cleanup_entry(kind, args, err);
    /* A container, removed only when it carries the run's label. */
    if (strcmp(kind, "container") == 0)
        return cr_ctr_cleanup_entry(args, err);
    /* Namespaces, links, qdiscs and nftables tables belong to cr_net. */
    return cr_net_cleanup_entry(kind, args, err);
}

typedef struct ledger_entry {
    int id;
    int open;
    char *kind;
    char *args;
} ledger_entry;

/* The whole ledger, from its start, into a NUL-terminated buffer. */
static char *read_all(int fd, cr_err *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        cr_err_sys(err, CR_ESYS, errno, "ledger: fstat");
        return NULL;
    }
    if (st.st_size > LEDGER_MAX_SIZE) {
        cr_err_set(err, CR_EINVAL, "ledger: %lld bytes, more than a run writes",
                   (long long)st.st_size);
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = cr_malloc(cap);
    if (!buf) {
        cr_err_set(err, CR_ENOMEM, "ledger: out of memory");
        return NULL;
    }
    while (n < cap - 1) {
        ssize_t k = pread(fd, buf + n, cap - 1 - n, (off_t)n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            cr_err_sys(err, CR_ESYS, errno, "ledger: read");
            cr_free(buf);
            return NULL;
        }
        if (k == 0)
            break;
        n += (size_t)k;
    }
    buf[n] = '\0';
    return buf;
}

/* Parse the ledger's lines; returns the entries (open or not). */
static int parse_entries(char *text, ledger_entry **out, size_t *nout,
                         cr_err *err)
{
    ledger_entry *v = NULL;
    size_t n = 0, cap = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '-') {
            int id = atoi(line + 1);
            for (size_t i = 0; i < n; i++)
                if (v[i].id == id)
                    v[i].open = 0;
            continue;
        }
        char *sp = line[0] == '+' ? strchr(line, ' ') : NULL;
        if (!sp)
            continue;
        *sp = '\0';
        char *kind = sp + 1, *args = strchr(kind, ' ');
        if (args)
            *args++ = '\0';
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            ledger_entry *nv = cr_realloc(v, nc * sizeof *nv);
            if (!nv)
                goto nomem;
            v = nv;
            cap = nc;
        }
        v[n] = (ledger_entry){atoi(line + 1), 1, kind, args ? args : ""};
        n++;
    }
    *out = v;
    *nout = n;
    return 0;
nomem:
    cr_free(v);
    return cr_err_set(err, CR_ENOMEM, "cleanup: out of memory");
}

/* Undo (or, dry, list) the open entries of the ledger fd, newest first. */
static int revert(int ledger_fd, int run_dirfd, int dry, FILE *log, cr_err *err)
{
    ledger_entry *v = NULL;
    size_t n = 0;
    int undone = 0, rc = 0;
    char *text = read_all(ledger_fd, err);
    if (!text)
        return err->code;
    if ((rc = parse_entries(text, &v, &n, err)) != 0) {
        cr_free(text);
        return rc;
    }
    for (size_t i = n; i-- > 0;) {
        if (!v[i].open)
            continue;
        if (dry) {
            if (log)
                fprintf(log, "would undo: %s %s\n", v[i].kind, v[i].args);
            undone++;
            continue;
        }
        cr_err e;
        cr_err_clear(&e);
        int urc = cr_ledger_undo(run_dirfd, v[i].kind, v[i].args, &e);
        if (log)
            fprintf(log, "cleanup: %s %s: %s\n", v[i].kind, v[i].args,
                    urc == 0 ? "undone" : e.msg);
        if (urc == 0)
            undone++;
        else if (rc == 0)
            rc = cr_err_set(err, urc, "%s", e.msg);
    }
    cr_free(v);
    cr_free(text);
    return rc ? rc : undone;
}

int cr_ledger_revert_fd(int ledger_fd, int run_dirfd, FILE *log, cr_err *err)
{
    return revert(ledger_fd, run_dirfd, 0, log, err);
}

/* ---- the janitor ---------------------------------------------------------
 */

int cr_janitor_spawn(cr_ledger *l, const char *exe, pid_t *pid_out, int *wfd,
                     cr_err *err)
{
    int p[2];
    /* argv[0] "chaosrun": exe may be /proc/self/exe, which reads badly in
     * ps.  The ledger's path is there for ps only: the janitor works on
     * the fds it inherits. */
    char *argv[] = {"chaosrun", CR_JANITOR_COMMAND, l->path, l->index_name,
                    NULL};
    const int keep[] = {l->fd, l->dirfd, l->idxfd};
    cr_spawn_opts o = CR_SPAWN_OPTS_INIT;
    cr_spawn_proc pr;
    cr_err e;
    cr_err_clear(&e);
    if (pipe2(p, O_CLOEXEC) != 0)
        return cr_err_sys(err, CR_ESYS, errno, "janitor: pipe2");
    /* Its own process group: the terminal's ^C (sent to the harness's
     * group) does not reach it.  No parent-death signal: it must outlive
     * the harness.  stdout/stderr to /dev/null: it must not hold the
     * caller's pipes open after the harness is gone. */
    o.path = exe;
    o.argv = argv;
    o.stdin_fd = p[0];
    o.stdout_fd = o.stderr_fd = CR_SPAWN_DEVNULL;
    o.new_pgroup = 1;
    o.keep_fds = keep;
    o.nkeep = 3;
    int rc = cr_spawn(&o, &pr, &e);
    close(p[0]);
    if (rc != 0) {
        close(p[1]);
        return cr_err_set(err, rc, "janitor: %s", e.msg);
    }
    *pid_out = pr.pid;
    *wfd = p[1];
    return CR_OK;
}

/* Wait on the pipe: 1 when the harness said "done", 0 at EOF. */
static int janitor_wait(int fd)
{
    char buf[16];
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, buf + got, sizeof buf - 1 - got);
        if (n > 0) {
            got += (size_t)n;
            if (got >= 4 && memcmp(buf, "done", 4) == 0)
                return 1;
            if (got >= sizeof buf - 1)
                got = 0;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return 0; /* EOF: the harness is gone (or closed without "done") */
    }
}

int cr_janitor_run(int pipe_fd, int ledger_fd, int run_dirfd, int index_dirfd,
                   const char *index_name)
{
    struct stat st;
    /* The harness handles the terminal's signals; the janitor waits. */
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    if (fstat(ledger_fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        fstat(run_dirfd, &st) != 0 || !S_ISDIR(st.st_mode))
        return 2;
    if (janitor_wait(pipe_fd))
        return 0;
    /* Give the kernel a moment to deliver PDEATHSIG to the harness's
     * direct children, then undo everything still open. */
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    cr_err e;
    cr_err_clear(&e);
    int lfd = cr_dir_append(run_dirfd, JANITOR_LOG, 0644, &e);
    FILE *log = lfd >= 0 ? fdopen(lfd, "a") : NULL;
    if (!log && lfd >= 0)
        close(lfd);
    int rc = revert(ledger_fd, run_dirfd, 0, log, &e);
    if (log)
        fclose(log);
    if (index_dirfd >= 0 && index_name && cr_dir_name_ok(index_name))
        unlinkat(index_dirfd, index_name, 0);
    return rc < 0 ? 1 : 0;
}

/* ---- chaosrun cleanup ------------------------------------------------------
 */

/* The run directory dfd and its ledger must be the effective user's own
 * and writable by nobody else; returns the ledger's fd, locked (the run
 * is dead), or a negative code. */
static int trusted_ledger(int dfd, const char *label, cr_err *err)
{
    struct stat st;
    if (fstat(dfd, &st) != 0)
        return cr_err_sys(err, CR_ESYS, errno, "%s", label);
    if (st.st_uid != geteuid() || (st.st_mode & 022))
        return cr_err_set(err, CR_EINVAL,
                          "%s: %s (refused: its ledger is not trusted)", label,
                          st.st_uid != geteuid() ? "owned by another user"
                                                 : "writable by other users");
    int fd = openat(dfd, LEDGER_NAME,
                    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT
                   ? cr_err_set(err, CR_ENOTFOUND, "%s: no ledger", label)
                   : cr_err_sys(err, errno == ELOOP ? CR_EINVAL : CR_ESYS,
                                errno, "%s: ledger", label);
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 022) || st.st_nlink != 1) {
        close(fd);
        return cr_err_set(err, CR_EINVAL,
                          "%s: its ledger is not a file of yours that only "
                          "you may write (refused)",
                          label);
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return cr_err_set(err, CR_ESTATE,
                              "%s: the run is alive (its chaosrun or its "
                              "janitor holds the ledger): refused",
                              label);
        return cr_err_sys(err, CR_ESYS, e, "%s: flock", label);
    }
    return fd;
}

static int cleanup_at(int dfd, const char *label, int dry, FILE *log,
                      cr_err *err)
{
    int lfd = trusted_ledger(dfd, label, err);
    if (lfd < 0)
        return lfd;
    int rc = revert(lfd, dfd, dry, log, err);
    close(lfd); /* the lock goes with it */
    return rc;
}

int cr_ledger_cleanup_dir(const char *run_dir, int dry, FILE *log, cr_err *err)
{
    int dfd = cr_dir_open(run_dir, err);
    if (dfd < 0)
        return dfd;
    int rc = cleanup_at(dfd, run_dir, dry, log, err);
    close(dfd);
    return rc;
}

typedef struct index_entry {
    long pid;
    unsigned long long start, dev, ino;
    char ledger[PATH_MAX];
} index_entry;

/* Read an index file of the index directory: a regular file of ours. */
static int read_index(int idxfd, const char *name, index_entry *x)
{
    struct stat st;
    char buf[PATH_MAX + 256];
    memset(x, 0, sizeof *x);
    int fd =
        openat(idxfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = -1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid())
        n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "pid ", 4) == 0)
            sscanf(line + 4, "%ld %llu", &x->pid, &x->start);
        else if (strncmp(line, "ledger ", 7) == 0)
            snprintf(x->ledger, sizeof x->ledger, "%s", line + 7);
        else if (strncmp(line, "rundir ", 7) == 0)
            sscanf(line + 7, "%llu %llu", &x->dev, &x->ino);
    }
    return x->pid > 0 && x->ledger[0] && x->ino ? 0 : -1;
}

/* One dead run of the index: its directory must be the one recorded. */
static int cleanup_entry(const index_entry *x, int dry, FILE *log, cr_err *err)
{
    char dir[PATH_MAX];
    struct stat st;
    snprintf(dir, sizeof dir, "%s", x->ledger);
    char *slash = strrchr(dir, '/');
    if (!slash || strcmp(slash + 1, LEDGER_NAME) != 0)
        return cr_err_set(err, CR_EINVAL, "index: bad ledger path %s",
                          x->ledger);
    *slash = '\0';
    int dfd = cr_dir_open(*dir ? dir : "/", err);
    if (dfd < 0)
        return dfd;
    int rc;
    if (fstat(dfd, &st) != 0 || (unsigned long long)st.st_dev != x->dev ||
        (unsigned long long)st.st_ino != x->ino)
        rc = cr_err_set(err, CR_EINVAL,
                        "%s: not the run directory the index recorded "
                        "(moved or replaced): left alone",
                        dir);
    else
        rc = cleanup_at(dfd, dir, dry, log, err);
    close(dfd);
    return rc;
}

int cr_ledger_cleanup_index(int dry, FILE *log, size_t *found, cr_err *err)
{
    char idir[PATH_MAX];
    int rc = 0;
    *found = 0;
    int idxfd = cr_ledger_index_dir(idir, sizeof idir, err);
    if (idxfd < 0)
        return idxfd;
    int rfd = openat(idxfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = rfd >= 0 ? fdopendir(rfd) : NULL;
    if (!d) {
        if (rfd >= 0)
            close(rfd);
        close(idxfd);
        return cr_err_sys(err, CR_ESYS, errno, "%s", idir);
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        index_entry x;
        if (strncmp(de->d_name, "run-", 4) != 0 ||
            read_index(idxfd, de->d_name, &x) != 0)
            continue;
        if (cr_proc_starttime((pid_t)x.pid) == x.start)
            continue; /* its owner is alive */
        (*found)++;
        cr_err e;
        cr_err_clear(&e);
        int n = cleanup_entry(&x, dry, log, &e);
        if (n < 0) {
            if (rc == 0)
                rc = cr_err_set(err, n, "%s", e.msg);
            continue;
        }
        if (log)
            fprintf(log, "cleanup: %s: %d change(s) %s\n", x.ledger, n,
                    dry ? "to undo" : "undone");
        if (!dry)
            unlinkat(idxfd, de->d_name, 0);
    }
    closedir(d);
    close(idxfd);
    return rc;
}
