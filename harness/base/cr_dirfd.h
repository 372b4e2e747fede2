/* cr_dirfd: files inside a directory chaosrun writes, opened relative to
 * the directory's fd so that nothing planted in it is followed.
 *
 * chaosrun often runs as root, and a run directory may be named by
 * someone else (`--out`), be reachable by other users, or hold files that
 * services (the systems under test) create.  Every file of a run
 * directory is therefore reached through a directory fd (openat and
 * friends), never through a path string re-resolved later:
 *
 *   - the last component is opened with O_NOFOLLOW (a symbolic link is
 *     refused, not followed), intermediate ones as O_DIRECTORY|O_NOFOLLOW
 *     directories, ".." never;
 *   - new files are made with O_CREAT|O_EXCL, so a name that exists
 *     (planted) is an error instead of a file we would write into;
 *   - a file is replaced atomically through a temporary file made with
 *     O_EXCL under a fresh name, then renameat() over the target: rename
 *     replaces whatever entry has that name (a link included) without
 *     following it;
 *   - a file opened for appending must be a regular file of the effective
 *     user with a single link (no FIFO, device, hard link to elsewhere);
 *   - removal walks with O_NOFOLLOW directory fds and unlinkat(), so it
 *     never leaves the tree it was given.
 *
 * Every fd is O_CLOEXEC.  Functions return an fd (>= 0) or 0, or a
 * negative CR_E* code with err naming the file and the cause; library
 * code, never prints.  Nothing here allocates through cr_alloc except
 * where said (stdio and directory streams use the C library). */
#ifndef CR_DIRFD_H
#define CR_DIRFD_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "cr_err.h"

/* Flags of cr_dir_claim(). */
#define CR_DIR_NEW   1 /* the directory must not exist yet */
#define CR_DIR_FORCE 2 /* a non-empty chaosrun output directory is emptied */

/* Make, or adopt, the directory chaosrun writes its output into (a run,
 * several seeds, a suite).  Missing parents are made (0755, less the
 * umask).  path itself is made (0755, less the umask); when it exists it
 * is adopted only if it is a real directory (a symbolic link is refused),
 * owned by the effective user, and empty -- or, with CR_DIR_FORCE, holds
 * a chaosrun output (a regular journal.json, multi.json or junit.xml at
 * its top), which is then removed without following any link.  An
 * adopted directory loses its group and other write permission (before
 * it is checked, so nobody else can add to it afterwards).
 * Returns an fd (O_DIRECTORY, close-on-exec) or:
 *   CR_ESTATE  CR_DIR_NEW and path exists;
 *   CR_EINVAL  path exists and may not be adopted (err says why: not a
 *              directory, a link, another owner, not empty, ...);
 *   CR_ESYS    a system call failed. */
int cr_dir_claim(const char *path, int flags, cr_err *err);

/* Open an existing directory by path (O_DIRECTORY; links in the path are
 * followed: the caller named it).  fd, or CR_ENOTFOUND / CR_ESYS. */
int cr_dir_open(const char *path, cr_err *err);

/* A directory that only the effective user may change, for state that
 * decides what chaosrun undoes (the ledger index): made with mode 0700
 * when missing; else accepted only when it is a real directory (no link)
 * owned by the effective user and not writable by group or others.
 * Returns an fd, or CR_EINVAL (err says why it is refused), CR_ESYS. */
int cr_dir_private(const char *path, cr_err *err);

/* Is name one path component: not empty, no '/', not "." or "..". */
int cr_dir_name_ok(const char *name);

/* A subdirectory name of dfd, made with mode (less the umask).  excl: it
 * must not exist; else an existing one is accepted when it is a real
 * directory owned by the effective user.  Returns its fd (O_DIRECTORY,
 * O_NOFOLLOW, close-on-exec), or CR_EINVAL (exists, a link, not a
 * directory, another owner) / CR_ESYS. */
int cr_dir_mkdir(int dfd, const char *name, mode_t mode, int excl, cr_err *err);

/* A new file name in dfd: openat(O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC |
 * flags, mode).  flags: O_RDONLY, O_WRONLY or O_RDWR, optionally
 * O_APPEND, O_NONBLOCK.  Returns the fd, or CR_EINVAL when the name
 * exists (whatever it is), CR_ESYS. */
int cr_dir_create(int dfd, const char *name, int flags, mode_t mode,
                  cr_err *err);

/* name in dfd opened for appending (O_WRONLY|O_APPEND), made with mode
 * when missing.  An existing entry is accepted only when it is a regular
 * file owned by the effective user with one link.  Returns the fd, or
 * CR_EINVAL (a link, FIFO, device, directory, another owner, hard
 * links), CR_ESYS. */
int cr_dir_append(int dfd, const char *name, mode_t mode, cr_err *err);

/* An existing name in dfd opened for reading and writing (O_RDWR, no
 * O_APPEND: for pread and fallocate), accepted only when it is a regular
 * file owned by the effective user with one link, never through a link.
 * Returns the fd, or CR_ENOTFOUND (missing), CR_EINVAL (a link, FIFO,
 * device, directory, another owner, hard links), CR_ESYS. */
int cr_dir_open_rw(int dfd, const char *name, cr_err *err);

/* rel, a relative path below dfd ("journal.json", "logs/a.0.log"),
 * opened for reading: every component without following links, ".."
 * and absolute paths refused, and only a regular file accepted.  Returns
 * the fd, or CR_ENOTFOUND (missing), CR_EINVAL (a link, not a regular
 * file, a bad path), CR_ESYS. */
int cr_dir_open_read(int dfd, const char *rel, cr_err *err);
/* The same as a stdio stream ("r"); NULL with err set. */
FILE *cr_dir_fopen_read(int dfd, const char *rel, cr_err *err);
/* The same below a directory named by path (opened with cr_dir_open). */
FILE *cr_dir_fopen_in(const char *dir, const char *rel, cr_err *err);

/* Replacing a file atomically: open a temporary file, write it (fd or
 * stdio), commit (renameat over name) or abort (unlinked).  The
 * temporary file is ".<name>.<pid>.<n>.tmp", made with O_EXCL. */
typedef struct cr_dir_tmp {
    int dfd;        /* the directory (not owned) */
    int fd;         /* the temporary file, -1 when closed */
    FILE *fp;       /* stdio over fd once cr_dir_tmp_file() was called */
    char name[256]; /* the final name */
    char tmp[320];  /* the temporary name */
} cr_dir_tmp;
/* 0, or CR_EINVAL (bad name) / CR_ESYS; t is unusable on error. */
int cr_dir_tmp_open(cr_dir_tmp *t, int dfd, const char *name, mode_t mode,
                    cr_err *err);
/* A stdio stream over the temporary file (owned by t); NULL when out of
 * memory. */
FILE *cr_dir_tmp_file(cr_dir_tmp *t);
/* Flush, close and rename over the final name.  0, or CR_ESYS (a write
 * error included); the temporary file is removed on error. */
int cr_dir_tmp_commit(cr_dir_tmp *t, cr_err *err);
/* Close and remove the temporary file (no-op after commit). */
void cr_dir_tmp_abort(cr_dir_tmp *t);
/* The whole buffer as name in dfd, atomically. */
int cr_dir_write(int dfd, const char *name, const void *p, size_t n,
                 mode_t mode, cr_err *err);

/* Remove the directory name of dfd and everything below it, without
 * following links (at most 32 levels deep).  A name that is missing is
 * success; one that is not a directory (a link included) is left alone:
 * CR_EINVAL.  Returns 0, or CR_EINVAL / CR_ESYS with the first failure
 * (what could be removed is). */
int cr_dir_remove(int dfd, const char *name, cr_err *err);
/* Remove everything inside dfd, the same way. */
int cr_dir_empty(int dfd, cr_err *err);
/* 1 when dfd holds no entry, 0 when it does (*example: its first name,
 * when example is given), negative on error. */
int cr_dir_is_empty(int dfd, char *example, size_t n, cr_err *err);

/* The absolute path of an open directory (/proc/self/fd), into buf.
 * 0 or CR_ESYS. */
int cr_dir_path(int dfd, char *buf, size_t n, cr_err *err);

#endif
