/* cr_dirfd: see cr_dirfd.h. */
#include "cr_dirfd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DEPTH 32

/* Markers of a chaosrun output directory (what --force may empty). */
static const char *const output_markers[] = {"journal.json", "multi.json",
                                             "junit.xml", NULL};

int cr_dir_name_ok(const char *name)
{
    return name && *name && !strchr(name, '/') && strcmp(name, ".") != 0 &&
           strcmp(name, "..") != 0 && strlen(name) < NAME_MAX;
}

static int bad_name(cr_err *err, const char *name)
{
    return cr_err_set(err, CR_EINVAL, "'%s': not a plain file name",
                      name ? name : "(null)");
}

/* What an entry that is not a real directory is, for messages. */
static const char *kind_of(mode_t m)
{
    if (S_ISLNK(m))
        return "a symbolic link";
    if (S_ISREG(m))
        return "a regular file";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISSOCK(m))
        return "a socket";
    if (S_ISCHR(m) || S_ISBLK(m))
        return "a device";
    if (S_ISDIR(m))
        return "a directory";
    return "not a regular file";
}

/* Open a subdirectory without following a link; errors explained. */
static int open_subdir(int dfd, const char *name, const char *what, cr_err *err)
{
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0)
        return fd;
    int e = errno;
    struct stat st;
    if ((e == ELOOP || e == ENOTDIR) &&
        fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
        return cr_err_set(err, CR_EINVAL, "%s %s: is %s, not a directory", what,
                          name, kind_of(st.st_mode));
    return cr_err_sys(err, e == ENOENT ? CR_ENOTFOUND : CR_ESYS, e, "%s %s",
                      what, name);
}

/* mkdir -p of every parent of path (not path itself). */
static int make_parents(const char *path, cr_err *err)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return cr_err_set(err, CR_EINVAL, "%s: path too long", path);
    char *end = tmp + strlen(tmp);
    while (end > tmp + 1 && end[-1] == '/')
        *--end = '\0'; /* "a/b/" names b */
    char *last = strrchr(tmp, '/');
    if (!last || last == tmp)
        return 0;
    *last = '\0';
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return cr_err_sys(err, CR_ESYS, errno, "mkdir %s", tmp);
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return cr_err_sys(err, CR_ESYS, errno, "mkdir %s", tmp);
    return 0;
}

int cr_dir_is_empty(int dfd, char *example, size_t n, cr_err *err)
{
    int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return cr_err_sys(err, CR_ESYS, errno, "reading a directory");
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        return cr_err_sys(err, CR_ESYS, e, "reading a directory");
    }
    struct dirent *de;
    int empty = 1;
    errno = 0;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        empty = 0;
        if (example && n)
            snprintf(example, n, "%s", de->d_name);
        break;
    }
    int e = errno;
    closedir(d);
    if (empty && e)
        return cr_err_sys(err, CR_ESYS, e, "reading a directory");
    return empty;
}

static int is_output_dir(int dfd)
{
    struct stat st;
    for (const char *const *m = output_markers; *m; m++)
        if (fstatat(dfd, *m, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(st.st_mode))
            return 1;
    return 0;
}

/* An existing path: adopt it (see cr_dir_claim). */
static int adopt(const char *path, int flags, cr_err *err)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if ((e == ELOOP || e == ENOTDIR) && lstat(path, &st) == 0)
            return cr_err_set(err, CR_EINVAL,
                              "output directory %s: is %s, not a directory "
                              "(refused: give a new or empty directory)",
                              path, kind_of(st.st_mode));
        return cr_err_sys(err, CR_ESYS, e, "output directory %s", path);
    }
    int rc = CR_OK;
    if (fstat(fd, &st) != 0) {
        rc = cr_err_sys(err, CR_ESYS, errno, "output directory %s", path);
        goto out;
    }
    if (st.st_uid != geteuid()) {
        rc = cr_err_set(err, CR_EINVAL,
                        "output directory %s: owned by uid %u, not by uid %u "
                        "who runs chaosrun (refused: give a new directory)",
                        path, (unsigned)st.st_uid, (unsigned)geteuid());
        goto out;
    }
    /* Nobody else may add to it from now on: only then is it checked. */
    if ((st.st_mode & 022) && fchmod(fd, st.st_mode & 07755) != 0) {
        rc =
            cr_err_sys(err, CR_ESYS, errno, "output directory %s: chmod", path);
        goto out;
    }
    char first[NAME_MAX + 1] = "";
    int empty = cr_dir_is_empty(fd, first, sizeof first, err);
    if (empty < 0) {
        rc = empty;
        goto out;
    }
    if (!empty && !(flags & CR_DIR_FORCE)) {
        rc = cr_err_set(err, CR_EINVAL,
                        "output directory %s is not empty (it holds '%s'): "
                        "give a new or empty directory, or --force to empty "
                        "an earlier chaosrun output",
                        path, first);
        goto out;
    }
    if (!empty && !is_output_dir(fd)) {
        rc = cr_err_set(err, CR_EINVAL,
                        "output directory %s is not empty and holds no "
                        "chaosrun output (journal.json, multi.json or "
                        "junit.xml): --force refused",
                        path);
        goto out;
    }
    if (!empty) {
        cr_err e;
        cr_err_clear(&e);
        if (cr_dir_empty(fd, &e) != 0) {
            rc = cr_err_set(err, e.code, "output directory %s: emptying: %s",
                            path, e.msg);
            goto out;
        }
    }
out:
    if (rc != CR_OK) {
        close(fd);
        return rc;
    }
    return fd;
}

int cr_dir_claim(const char *path, int flags, cr_err *err)
{
    if (!path || !*path)
        return cr_err_set(err, CR_EINVAL, "output directory: empty path");
    int rc = make_parents(path, err);
    if (rc != 0)
        return rc;
    if (mkdir(path, 0755) == 0) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0)
            return cr_err_sys(err, CR_ESYS, errno, "output directory %s", path);
        /* Made by us a moment ago; still ours (not swapped)? */
        if (fstat(fd, &st) != 0 || st.st_uid != geteuid()) {
            close(fd);
            return cr_err_set(err, CR_EINVAL,
                              "output directory %s: replaced while it was "
                              "made",
                              path);
        }
        return fd;
    }
    if (errno != EEXIST)
        return cr_err_sys(err, CR_ESYS, errno, "output directory %s", path);
    if (flags & CR_DIR_NEW)
        return cr_err_set(err, CR_ESTATE, "output directory %s: exists", path);
    return adopt(path, flags, err);
}

int cr_dir_open(const char *path, cr_err *err)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return cr_err_sys(err, errno == ENOENT ? CR_ENOTFOUND : CR_ESYS, errno,
                          "directory %s", path);
    return fd;
}

int cr_dir_private(const char *path, cr_err *err)
{
    struct stat st;
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return cr_err_sys(err, CR_ESYS, errno, "mkdir %s", path);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if ((e == ELOOP || e == ENOTDIR) && lstat(path, &st) == 0)
            return cr_err_set(err, CR_EINVAL, "%s is %s, not a directory", path,
                              kind_of(st.st_mode));
        /* Another user's private directory cannot even be opened: say
         * whose it is rather than "Permission denied". */
        if (e == EACCES && lstat(path, &st) == 0 && st.st_uid != geteuid())
            return cr_err_set(err, CR_EINVAL,
                              "%s is owned by uid %u, not by uid %u (refused)",
                              path, (unsigned)st.st_uid, (unsigned)geteuid());
        return cr_err_sys(err, CR_ESYS, e, "%s", path);
    }
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return cr_err_sys(err, CR_ESYS, e, "%s", path);
    }
    if (st.st_uid != geteuid()) {
        close(fd);
        return cr_err_set(err, CR_EINVAL,
                          "%s is owned by uid %u, not by uid %u (refused)",
                          path, (unsigned)st.st_uid, (unsigned)geteuid());
    }
    if (st.st_mode & 022) {
        close(fd);
        return cr_err_set(err, CR_EINVAL,
                          "%s is writable by %s (mode %04o; refused)", path,
                          (st.st_mode & 02) ? "others" : "its group",
                          (unsigned)(st.st_mode & 07777));
    }
    return fd;
}

int cr_dir_mkdir(int dfd, const char *name, mode_t mode, int excl, cr_err *err)
{
    struct stat st;
    if (!cr_dir_name_ok(name))
        return bad_name(err, name);
    if (mkdirat(dfd, name, mode) != 0) {
        if (errno != EEXIST)
            return cr_err_sys(err, CR_ESYS, errno, "mkdir %s", name);
        if (excl)
            return cr_err_set(err, CR_EINVAL, "mkdir %s: exists", name);
    }
    int fd = open_subdir(dfd, name, "directory", err);
    if (fd < 0)
        return fd == CR_ENOTFOUND ? CR_ESYS : fd;
    if (fstat(fd, &st) != 0 || st.st_uid != geteuid()) {
        close(fd);
        return cr_err_set(err, CR_EINVAL,
                          "directory %s: owned by uid %u, not %u (refused)",
                          name, (unsigned)st.st_uid, (unsigned)geteuid());
    }
    return fd;
}

int cr_dir_create(int dfd, const char *name, int flags, mode_t mode,
                  cr_err *err)
{
    if (!cr_dir_name_ok(name))
        return bad_name(err, name);
    int fd = openat(dfd, name,
                    flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        if (errno == EEXIST)
            return cr_err_set(err, CR_EINVAL,
                              "create %s: exists already (refused)", name);
        return cr_err_sys(err, CR_ESYS, errno, "create %s", name);
    }
    return fd;
}

/* fd refers to a regular file of ours with a single link. */
static int check_own_file(int fd, const char *name, cr_err *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return cr_err_sys(err, CR_ESYS, errno, "%s", name);
    if (!S_ISREG(st.st_mode))
        return cr_err_set(err, CR_EINVAL, "%s: is %s (refused)", name,
                          kind_of(st.st_mode));
    if (st.st_uid != geteuid())
        return cr_err_set(err, CR_EINVAL,
                          "%s: owned by uid %u, not %u (refused)", name,
                          (unsigned)st.st_uid, (unsigned)geteuid());
    if (st.st_nlink != 1)
        return cr_err_set(err, CR_EINVAL, "%s: has %lu hard links (refused)",
                          name, (unsigned long)st.st_nlink);
    return 0;
}

/* name in dfd opened with flags (an access mode, O_APPEND, O_CREAT),
 * accepted only when it is a regular file of ours with one link; the fd
 * is left blocking. */
static int open_own(int dfd, const char *name, int flags, mode_t mode,
                    cr_err *err)
{
    if (!cr_dir_name_ok(name))
        return bad_name(err, name);
    /* O_NONBLOCK: opening a FIFO must not wait for a reader. */
    int fd =
        openat(dfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode);
    if (fd < 0) {
        int e = errno;
        struct stat st;
        if ((e == ELOOP || e == ENXIO || e == EISDIR) &&
            fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            return cr_err_set(err, CR_EINVAL, "%s: is %s (refused)", name,
                              kind_of(st.st_mode));
        return cr_err_sys(
            err, e == ENOENT && !(flags & O_CREAT) ? CR_ENOTFOUND : CR_ESYS, e,
            "open %s", name);
    }
    int rc = check_own_file(fd, name, err);
    if (rc == 0 && fcntl(fd, F_SETFL, flags & (O_ACCMODE | O_APPEND)) != 0)
        rc = cr_err_sys(err, CR_ESYS, errno, "%s: fcntl", name);
    if (rc != 0) {
        close(fd);
        return rc;
    }
    return fd;
}

int cr_dir_append(int dfd, const char *name, mode_t mode, cr_err *err)
{
    return open_own(dfd, name, O_WRONLY | O_APPEND | O_CREAT, mode, err);
}

int cr_dir_open_rw(int dfd, const char *name, cr_err *err)
{
    return open_own(dfd, name, O_RDWR, 0, err);
}

int cr_dir_open_read(int dfd, const char *rel, cr_err *err)
{
    char buf[PATH_MAX];
    if (!rel || !*rel || rel[0] == '/' ||
        snprintf(buf, sizeof buf, "%s", rel) >= (int)sizeof buf)
        return cr_err_set(err, CR_EINVAL, "'%s': not a relative path",
                          rel ? rel : "(null)");
    int cur = dfd, fd = -1, rc = CR_OK;
    char *save = NULL, *comp = strtok_r(buf, "/", &save);
    while (comp) {
        char *next = strtok_r(NULL, "/", &save);
        if (strcmp(comp, "..") == 0) {
            rc = cr_err_set(err, CR_EINVAL, "'%s': '..' refused", rel);
            break;
        }
        if (next) {
            int sub = open_subdir(cur, comp, "in", err);
            if (sub < 0) {
                rc = sub;
                break;
            }
            if (cur != dfd)
                close(cur);
            cur = sub;
        } else {
            fd = openat(cur, comp,
                        O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
            if (fd < 0) {
                int e = errno;
                struct stat st;
                if (e == ELOOP &&
                    fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0)
                    rc = cr_err_set(err, CR_EINVAL, "%s: is %s (refused)", rel,
                                    kind_of(st.st_mode));
                else
                    rc = cr_err_sys(err, e == ENOENT ? CR_ENOTFOUND : CR_ESYS,
                                    e, "open %s", rel);
            }
        }
        comp = next;
    }
    if (cur != dfd)
        close(cur);
    if (rc == CR_OK && fd >= 0) {
        struct stat st;
        if (fstat(fd, &st) != 0)
            rc = cr_err_sys(err, CR_ESYS, errno, "%s", rel);
        else if (!S_ISREG(st.st_mode))
            rc = cr_err_set(err, CR_EINVAL, "%s: is %s (refused)", rel,
                            kind_of(st.st_mode));
        else if (fcntl(fd, F_SETFL, O_RDONLY) != 0)
            rc = cr_err_sys(err, CR_ESYS, errno, "%s: fcntl", rel);
    } else if (rc == CR_OK) {
        rc = cr_err_set(err, CR_EINVAL, "'%s': no file name", rel);
    }
    if (rc != CR_OK) {
        if (fd >= 0)
            close(fd);
        return rc;
    }
    return fd;
}

FILE *cr_dir_fopen_read(int dfd, const char *rel, cr_err *err)
{
    int fd = cr_dir_open_read(dfd, rel, err);
    if (fd < 0)
        return NULL;
    FILE *fp = fdopen(fd, "r");
    if (!fp) {
        cr_err_sys(err, CR_ENOMEM, errno, "open %s", rel);
        close(fd);
    }
    return fp;
}

FILE *cr_dir_fopen_in(const char *dir, const char *rel, cr_err *err)
{
    int dfd = cr_dir_open(dir, err);
    if (dfd < 0)
        return NULL;
    FILE *fp = cr_dir_fopen_read(dfd, rel, err);
    close(dfd);
    return fp;
}

int cr_dir_tmp_open(cr_dir_tmp *t, int dfd, const char *name, mode_t mode,
                    cr_err *err)
{
    static unsigned counter; /* names differ within the process; O_EXCL
                                makes the rest safe */
    memset(t, 0, sizeof *t);
    t->fd = -1;
    t->dfd = dfd;
    if (!cr_dir_name_ok(name) || strlen(name) >= sizeof t->name)
        return bad_name(err, name);
    snprintf(t->name, sizeof t->name, "%s", name);
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned n = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
        snprintf(t->tmp, sizeof t->tmp, ".%s.%d.%u.tmp", name, (int)getpid(),
                 n);
        t->fd =
            openat(dfd, t->tmp,
                   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (t->fd >= 0)
            return 0;
        if (errno != EEXIST)
            break;
    }
    return cr_err_sys(err, CR_ESYS, errno, "create %s", t->tmp);
}

FILE *cr_dir_tmp_file(cr_dir_tmp *t)
{
    if (!t->fp && t->fd >= 0)
        t->fp = fdopen(t->fd, "w");
    return t->fp;
}

static void tmp_close(cr_dir_tmp *t)
{
    if (t->fp)
        fclose(t->fp);
    else if (t->fd >= 0)
        close(t->fd);
    t->fp = NULL;
    t->fd = -1;
}

void cr_dir_tmp_abort(cr_dir_tmp *t)
{
    if (t->fd < 0)
        return;
    tmp_close(t);
    unlinkat(t->dfd, t->tmp, 0);
}

int cr_dir_tmp_commit(cr_dir_tmp *t, cr_err *err)
{
    int e = 0;
    if (t->fd < 0)
        return cr_err_set(err, CR_ESTATE, "%s: not open", t->name);
    if (t->fp) {
        if (fflush(t->fp) != 0 || ferror(t->fp))
            e = errno ? errno : EIO;
        if (fclose(t->fp) != 0 && !e)
            e = errno;
    } else if (close(t->fd) != 0) {
        e = errno;
    }
    t->fp = NULL;
    t->fd = -1;
    if (!e && renameat(t->dfd, t->tmp, t->dfd, t->name) != 0)
        e = errno;
    if (e) {
        unlinkat(t->dfd, t->tmp, 0);
        return cr_err_sys(err, CR_ESYS, e, "write %s", t->name);
    }
    return 0;
}

int cr_dir_write(int dfd, const char *name, const void *p, size_t n,
                 mode_t mode, cr_err *err)
{
    cr_dir_tmp t;
    int rc = cr_dir_tmp_open(&t, dfd, name, mode, err);
    if (rc != 0)
        return rc;
    const char *s = p;
    while (n) {
        ssize_t k = write(t.fd, s, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = cr_err_sys(err, CR_ESYS, errno, "write %s", name);
            cr_dir_tmp_abort(&t);
            return rc;
        }
        s += k;
        n -= (size_t)k;
    }
    return cr_dir_tmp_commit(&t, err);
}

static int empty_fd(int dfd, int depth, cr_err *err);

static int remove_at(int dfd, const char *name, int depth, cr_err *err)
{
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0
                               : cr_err_sys(err, CR_ESYS, errno, "%s", name);
    if (!S_ISDIR(st.st_mode)) {
        /* A link, FIFO, socket or file: the entry goes, never its target. */
        if (unlinkat(dfd, name, 0) != 0 && errno != ENOENT)
            return cr_err_sys(err, CR_ESYS, errno, "unlink %s", name);
        return 0;
    }
    if (depth >= MAX_DEPTH)
        return cr_err_set(err, CR_EINVAL, "%s: more than %d levels deep", name,
                          MAX_DEPTH);
    int sub = open_subdir(dfd, name, "directory", err);
    if (sub < 0)
        return sub == CR_ENOTFOUND ? 0 : sub;
    int rc = empty_fd(sub, depth + 1, err);
    close(sub);
    if (unlinkat(dfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT && rc == 0)
        rc = cr_err_sys(err, CR_ESYS, errno, "rmdir %s", name);
    return rc;
}

static int empty_fd(int dfd, int depth, cr_err *err)
{
    /* Entries removed while a directory is read may make readdir skip
     * others: read it again until a pass finds nothing (or fails). */
    for (int pass = 0; pass < 8; pass++) {
        int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return cr_err_sys(err, CR_ESYS, errno, "reading a directory");
        DIR *d = fdopendir(fd);
        if (!d) {
            int e = errno;
            close(fd);
            return cr_err_sys(err, CR_ESYS, e, "reading a directory");
        }
        int rc = 0, seen = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            seen++;
            int r = remove_at(dfd, de->d_name, depth, err);
            if (r != 0 && rc == 0)
                rc = r;
        }
        closedir(d);
        if (rc != 0 || !seen)
            return rc;
    }
    return cr_err_set(err, CR_ESYS, "a directory kept filling while emptied");
}

int cr_dir_empty(int dfd, cr_err *err)
{
    return empty_fd(dfd, 0, err);
}

int cr_dir_remove(int dfd, const char *name, cr_err *err)
{
    struct stat st;
    if (!cr_dir_name_ok(name))
        return bad_name(err, name);
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0
                               : cr_err_sys(err, CR_ESYS, errno, "%s", name);
    if (!S_ISDIR(st.st_mode))
        return cr_err_set(err, CR_EINVAL,
                          "%s: is %s, not a directory (left "
                          "alone)",
                          name, kind_of(st.st_mode));
    return remove_at(dfd, name, 0, err);
}

int cr_dir_path(int dfd, char *buf, size_t n, cr_err *err)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", dfd);
    ssize_t k = readlink(link, buf, n ? n - 1 : 0);
    if (k < 0 || (size_t)k >= n - 1)
        return cr_err_sys(err, CR_ESYS, k < 0 ? errno : ENAMETOOLONG,
                          "readlink %s", link);
    buf[k] = '\0';
    return 0;
}
