/* cr_ledger: the record of every change a run makes to the system, written
 * before the change, so that it can be undone after a crash.
 *
 * A run's ledger is the file "ledger" of its run directory, lines
 * "+<id> <kind> <args>" (recorded before the change) and "-<id>"
 * (reverted).  Only what the run wrote itself is ever undone:
 *
 *   - the ledger is a new file (O_EXCL, mode 0600) in a run directory
 *     that is new or was empty (base/cr_dirfd.h), never one found there;
 *   - the run holds an exclusive flock on it for its whole life, and so
 *     does its janitor (which inherits the same open file): while the
 *     lock is held the run is alive and `chaosrun cleanup` refuses it;
 *   - files are named relative to the run directory ("dir fiu", "sock
 *     proxy.sock") and undone through the run directory's fd without
 *     following links; no entry names an absolute path;
 *   - `chaosrun cleanup` trusts only a run directory and a ledger owned
 *     by the user who runs it and writable by nobody else.
 *
 * An index file per live run in the index directory (/run/chaosrun for
 * root, else $XDG_RUNTIME_DIR/chaosrun, else $TMPDIR/chaosrun-<uid>; it
 * must be the user's own and writable by nobody else) names the owner (pid
 * and start time), the ledger, and the run directory's device and inode:
 * `chaosrun cleanup` without arguments finds dead runs there.  The janitor
 * is a small process started at run start that waits on a pipe: if the
 * harness dies without saying "done", it undoes what is open. */
#ifndef CR_LEDGER_H
#define CR_LEDGER_H

#include <stdio.h>
#include <sys/types.h>

#include "base/cr_err.h"
#include "base/cr_spawn.h" /* cr_proc_starttime */

typedef struct cr_ledger cr_ledger;

/* Create the ledger, a new file "ledger" (mode 0600) in the run directory
 * run_dirfd (whose path is run_dir), lock it, and write the index entry.
 * *out owned by the caller.  CR_EINVAL when "ledger" exists already,
 * CR_EUNSUP when no index directory may be trusted (err names it and
 * why), CR_ESYS, CR_ENOMEM. */
int cr_ledger_open(int run_dirfd, const char *run_dir, cr_ledger **out,
                   cr_err *err);
/* Append "+id line" and fsync; returns id > 0 or a negative code. */
int cr_ledger_add(cr_ledger *l, const char *line, cr_err *err);
/* Append "-id" (best effort). */
void cr_ledger_done(cr_ledger *l, int id);
/* Close (the lock goes with the last holder: the janitor may still hold
 * it); when clean, remove the index entry (nothing is left to undo). */
void cr_ledger_close(cr_ledger *l, int clean);
const char *cr_ledger_path(const cr_ledger *l);

/* Undo every open entry of the ledger open as ledger_fd (read from its
 * start), newest first, "dir" and "sock" entries relative to run_dirfd.
 * Writes one line per action to log (may be NULL).  Returns the number of
 * entries undone, or a negative code (the first failure; the other
 * entries are still tried). */
int cr_ledger_revert_fd(int ledger_fd, int run_dirfd, FILE *log, cr_err *err);

/* Undo one entry ("pgid 1234 5678", "dir fiu", "sock proxy.sock", ...).
 * Idempotent: something already gone is success.  "dir" and "sock" name
 * one entry of run_dirfd; what is there is removed only when it is a
 * real directory (with all it holds, links removed and never followed) /
 * a socket: anything else is left alone (CR_EINVAL). */
int cr_ledger_undo(int run_dirfd, const char *kind, const char *args,
                   cr_err *err);

/* A "container ENGINE NAME RUNID" entry (engine/cr_run_ctr.c): the
 * container is removed (`ENGINE rm --force`) only when it carries the
 * label chaosrun.run=RUNID; one without it is left alone (success: it is
 * not ours), one already gone is success. */
int cr_ctr_cleanup_entry(const char *args, cr_err *err);

/* The janitor: a process started at run start (cr_spawn of `exe
 * __janitor LEDGER INDEX_NAME`, exe being the chaosrun program itself)
 * with its pipe as stdin, the ledger as fd 3 (the same open file: it
 * holds the lock too), the run directory as fd 4 and the index directory
 * as fd 5; it waits on the pipe: if the harness dies without writing
 * "done", it undoes every open entry and removes the index entry.  It is
 * an exec'd program rather than a plain fork so that it holds none of the
 * harness's memory or locks, and shows in `ps` for what it is.
 * *wfd receives the write end of its pipe (CLOEXEC): write "done\n" to it
 * before a clean exit; *pid_out its pid (the caller reaps it). */
#define CR_JANITOR_COMMAND "__janitor"
int cr_janitor_spawn(cr_ledger *l, const char *exe, pid_t *pid_out, int *wfd,
                     cr_err *err);
/* The janitor's body (`chaosrun __janitor LEDGER INDEX_NAME`, the fds as
 * above): waits for "done" (returns 0 at once) or EOF (reverts the ledger,
 * logging to "ledger.janitor" of the run directory, and removes
 * index_name from the index directory).  Returns 0, or 1 when some entry
 * could not be undone, 2 when its fds are not what they must be. */
int cr_janitor_run(int pipe_fd, int ledger_fd, int run_dirfd, int index_dirfd,
                   const char *index_name);

/* The index directory of this user into buf (n bytes): returns its fd,
 * made 0700 when missing, or CR_EUNSUP when the one that applies exists
 * but is not the user's own or is writable by others (err says which and
 * why). */
int cr_ledger_index_dir(char *buf, size_t n, cr_err *err);

/* `chaosrun cleanup RUN_DIR`: undo the open entries of that run.  Refused
 * (CR_EINVAL) when the run directory or its ledger is not owned by the
 * effective user, is writable by others, or the ledger is not a plain file
 * of one link; CR_ESTATE when the run is alive (its ledger is locked by
 * its chaosrun or its janitor); CR_ENOTFOUND without a ledger.  dry: only
 * says what would be undone (to log).  Returns the number undone. */
int cr_ledger_cleanup_dir(const char *run_dir, int dry, FILE *log, cr_err *err);
/* `chaosrun cleanup`: every run of this user's index whose owner is dead
 * (pid and start time) and whose ledger is not locked; each run directory
 * must still be the one recorded (device and inode) and pass the checks of
 * cr_ledger_cleanup_dir.  *found counts the dead runs; their lines go to
 * log; a run that could not be cleaned is reported in err (the others are
 * still cleaned).  Returns 0, or the first error's code. */
int cr_ledger_cleanup_index(int dry, FILE *log, size_t *found, cr_err *err);

#endif
