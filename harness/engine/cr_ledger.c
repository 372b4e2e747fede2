/* cr_ledger: see cr_ledger.h. */
#include "cr_ledger.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cr_alloc.h"
#include "base/cr_cgroup.h"
#include "base/cr_spawn.h"
#include "net/cr_net.h"

struct cr_ledger {
    int fd;
    int next_id;
    char path[PATH_MAX];
    char index_path[PATH_MAX + 64];
};

int cr_ledger_index_dir(char *buf, size_t n)
{
    const char *cands[3];
    char xdg[PATH_MAX], tmp[PATH_MAX];
    size_t k = 0;
    cands[k++] = "/run/chaosrun";
    const char *x = getenv("XDG_RUNTIME_DIR");
    if (x && *x) {
        snprintf(xdg, sizeof xdg, "%s/chaosrun", x);
        cands[k++] = xdg;
    }
    snprintf(tmp, sizeof tmp, "/tmp/chaosrun-%u", (unsigned)getuid());
    cands[k++] = tmp;
    for (size_t i = 0; i < k; i++) {
        if (mkdir(cands[i], 0700) == 0 || errno == EEXIST) {
            if (access(cands[i], W_OK | X_OK) == 0) {
                snprintf(buf, n, "%s", cands[i]);
                return 0;
            }
        }
    }
    return -1;
}

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

int cr_ledger_open(const char *run_dir, cr_ledger **out, cr_err *err)
{
    cr_ledger *l = cr_calloc(1, sizeof *l);
    char idir[PATH_MAX];
    int rc = CR_OK;
    if (!l)
        return cr_err_set(err, CR_ENOMEM, "ledger: out of memory");
    l->fd = -1;
    l->next_id = 1;
    snprintf(l->path, sizeof l->path, "%s/ledger", run_dir);
    l->fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (l->fd < 0) {
        rc = cr_err_sys(err, CR_ESYS, errno, "ledger %s: open", l->path);
        goto fail;
    }
    if (cr_ledger_index_dir(idir, sizeof idir) < 0) {
        rc = cr_err_set(err, CR_ESYS,
                        "ledger: no writable index directory (/run/chaosrun, "
                        "$XDG_RUNTIME_DIR/chaosrun, /tmp/chaosrun-<uid>)");
        goto fail;
    }
    snprintf(l->index_path, sizeof l->index_path, "%s/run-%d-%llu", idir,
             (int)getpid(), cr_proc_starttime(getpid()));
    FILE *fp = fopen(l->index_path, "we");
    if (!fp) {
        rc = cr_err_sys(err, CR_ESYS, errno, "ledger index %s", l->index_path);
        goto fail;
    }
    fprintf(fp, "pid %d %llu\nledger %s\n", (int)getpid(),
            cr_proc_starttime(getpid()), l->path);
    if (fclose(fp) != 0) {
        rc = cr_err_sys(err, CR_ESYS, errno, "ledger index %s", l->index_path);
        goto fail;
    }
    *out = l;
    return CR_OK;
fail:
    if (l->fd >= 0)
        close(l->fd);
    cr_free(l);
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
    if (n <= 0 || (size_t)n >= sizeof buf)
        return cr_err_set(err, CR_EINVAL, "ledger: entry too long: %s", line);
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
    if (l->fd >= 0)
        close(l->fd);
    if (clean && l->index_path[0])
        unlink(l->index_path);
    cr_free(l);
}

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

int cr_ledger_undo(const char *kind, const char *args, cr_err *err)
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
    if (strcmp(kind, "fifo") == 0 || strcmp(kind, "file") == 0) {
        if (unlink(args) != 0 && errno != ENOENT && rmdir(args) != 0 &&
            errno != ENOENT)
            return cr_err_sys(err, CR_ESYS, errno, "cleanup: remove %s", args);
        return 0;
    }
    if (strcmp(kind, "dir") == 0) {
        /* Remove the files directly inside (FIFOs), then the directory. */
        DIR *d = opendir(args);
        if (d) {
            struct dirent *de;
            while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                    continue;
                char p[PATH_MAX];
                snprintf(p, sizeof p, "%s/%s", args, de->d_name);
                unlink(p);
            }
            closedir(d);
        }
        if (rmdir(args) != 0 && errno != ENOENT)
            return cr_err_sys(err, CR_ESYS, errno, "cleanup: rmdir %s", args);
        return 0;
    }
    if (strcmp(kind, "mount") == 0) {
        /* Lazily: a process may still hold a file open there.  EINVAL:
         * not (or no longer) a mount point. */
        if (umount2(args, MNT_DETACH) != 0 && errno != EINVAL &&
            errno != ENOENT)
            return cr_err_sys(err, CR_ESYS, errno, "cleanup: umount %s", args);
        return 0;
    }
    if (strcmp(kind, "cgroup") == 0) /* kills what is left inside */
        return cr_cgroup_remove(args, 2.0, err);
    /* Namespaces, links, qdiscs and nftables tables belong to cr_net. */
    return cr_net_cleanup_entry(kind, args, err);
}

typedef struct ledger_entry {
    int id;
    int open;
    char *kind;
    char *args;
} ledger_entry;

int cr_ledger_revert_file(const char *ledger_path, FILE *log, cr_err *err)
{
    FILE *fp = fopen(ledger_path, "re");
    ledger_entry *v = NULL;
    size_t n = 0, cap = 0;
    char line[1400];
    int undone = 0, rc = 0;
    if (!fp) {
        if (errno == ENOENT)
            return 0;
        return cr_err_sys(err, CR_ESYS, errno, "cleanup: open %s", ledger_path);
    }
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '+') {
            char *sp = strchr(line, ' ');
            if (!sp)
                continue;
            *sp = '\0';
            char *kind = sp + 1;
            char *args = strchr(kind, ' ');
            if (args)
                *args++ = '\0';
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 16;
                ledger_entry *nv = cr_realloc(v, nc * sizeof *v);
                if (!nv) {
                    rc = cr_err_set(err, CR_ENOMEM, "cleanup: out of memory");
                    goto out;
                }
                v = nv;
                cap = nc;
            }
            v[n].id = atoi(line + 1);
            v[n].open = 1;
            v[n].kind = cr_strdup(kind);
            v[n].args = cr_strdup(args ? args : "");
            n++;
        } else if (line[0] == '-') {
            int id = atoi(line + 1);
            for (size_t i = 0; i < n; i++)
                if (v[i].id == id)
                    v[i].open = 0;
        }
    }
    for (size_t i = n; i-- > 0;) {
        if (!v[i].open || !v[i].kind)
            continue;
        cr_err e;
        cr_err_clear(&e);
        int urc = cr_ledger_undo(v[i].kind, v[i].args, &e);
        if (log)
            fprintf(log, "cleanup: %s %s: %s\n", v[i].kind, v[i].args,
                    urc == 0 ? "undone" : e.msg);
        if (urc == 0)
            undone++;
        else if (rc == 0)
            rc = cr_err_set(err, urc, "%s", e.msg);
    }
out:
    for (size_t i = 0; i < n; i++) {
        cr_free(v[i].kind);
        cr_free(v[i].args);
    }
    cr_free(v);
    fclose(fp);
    return rc ? rc : undone;
}

int cr_janitor_spawn(cr_ledger *l, const char *exe, pid_t *pid_out, int *wfd,
                     cr_err *err)
{
    int p[2];
    /* argv[0] "chaosrun": exe may be /proc/self/exe, which reads badly in
     * ps. */
    char *argv[] = {"chaosrun", CR_JANITOR_COMMAND, l->path, l->index_path,
                    NULL};
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

int cr_janitor_run(int fd, const char *ledger_path, const char *index_path)
{
    char buf[16];
    size_t got = 0;
    /* The harness handles the terminal's signals; the janitor waits. */
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    for (;;) {
        ssize_t n = read(fd, buf + got, sizeof buf - 1 - got);
        if (n > 0) {
            got += (size_t)n;
            if (got >= 4 && memcmp(buf, "done", 4) == 0)
                return 0;
            if (got >= sizeof buf - 1)
                got = 0;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        break; /* EOF: the harness is gone (or closed without "done") */
    }
    /* Give the kernel a moment to deliver PDEATHSIG to the harness's
     * direct children, then undo everything still open. */
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    cr_err e;
    cr_err_clear(&e);
    char logpath[PATH_MAX + 16];
    snprintf(logpath, sizeof logpath, "%s.janitor", ledger_path);
    FILE *log = fopen(logpath, "ae");
    int rc = cr_ledger_revert_file(ledger_path, log, &e);
    if (log)
        fclose(log);
    if (index_path && index_path[0])
        unlink(index_path);
    return rc < 0 ? 1 : 0;
}

int cr_ledger_index_owner_alive(const char *index_file, char *ledger, size_t n)
{
    FILE *fp = fopen(index_file, "re");
    long pid = 0;
    unsigned long long start = 0;
    char line[PATH_MAX + 16];
    ledger[0] = '\0';
    if (!fp)
        return 0;
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "pid ", 4) == 0)
            sscanf(line + 4, "%ld %llu", &pid, &start);
        else if (strncmp(line, "ledger ", 7) == 0 && strlen(line + 7) < n)
            memcpy(ledger, line + 7, strlen(line + 7) + 1);
    }
    fclose(fp);
    return pid > 0 && cr_proc_starttime((pid_t)pid) == start && start != 0;
}
