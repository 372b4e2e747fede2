/* cr_ledger: the record of every change a run makes to the system, written
 * before the change, so that it can be undone after a crash.
 *
 * A run's ledger is <run_dir>/ledger, lines "+<id> <kind> <args>" (recorded
 * before the change) and "-<id>" (reverted).  An index file per live run in
 * the index directory (/run/chaosrun, or $XDG_RUNTIME_DIR/chaosrun, or
 * /tmp/chaosrun-<uid>) names the owner (pid and start time) and the ledger.
 * `chaosrun cleanup` and the janitor undo every open entry of a dead run, in
 * reverse order.  The janitor is a small process started at run start that
 * waits on a pipe: if the harness dies without saying "done", it cleans up. */
#ifndef CR_LEDGER_H
#define CR_LEDGER_H

#include <stdio.h>
#include <sys/types.h>

#include "base/cr_err.h"

typedef struct cr_ledger cr_ledger;

/* Create <run_dir>/ledger and the index entry.  *out owned by caller. */
int cr_ledger_open(const char *run_dir, cr_ledger **out, cr_err *err);
/* Append "+id line" and fsync; returns id > 0 or a negative code. */
int cr_ledger_add(cr_ledger *l, const char *line, cr_err *err);
/* Append "-id" (best effort). */
void cr_ledger_done(cr_ledger *l, int id);
/* Close; when clean, remove the index entry (nothing is left to undo). */
void cr_ledger_close(cr_ledger *l, int clean);
const char *cr_ledger_path(const cr_ledger *l);

/* Undo every open entry of a ledger file, newest first.  Writes one line
 * per action to log (may be NULL).  Returns the number of entries undone,
 * or a negative code. */
int cr_ledger_revert_file(const char *ledger_path, FILE *log, cr_err *err);

/* Undo one entry ("pgid 1234 5678", "fifo /path", ...).  Idempotent:
 * something already gone is success. */
int cr_ledger_undo(const char *kind, const char *args, cr_err *err);

/* Start time of a process (clock ticks since boot, /proc/<pid>/stat field
 * 22), or 0 when the process does not exist. */
unsigned long long cr_proc_starttime(pid_t pid);

/* The janitor: a process started at run start (cr_spawn of `exe
 * __janitor LEDGER INDEX`, exe being the chaosrun program itself) that
 * waits on a pipe: if the harness dies without writing "done", it undoes
 * every open entry of the ledger and removes the index entry.  It is an
 * exec'd program rather than a plain fork so that it holds none of the
 * harness's memory, fds or locks, and shows in `ps` for what it is.
 * *wfd receives the write end of its pipe (CLOEXEC): write "done\n" to it
 * before a clean exit; *pid_out its pid (the caller reaps it). */
#define CR_JANITOR_COMMAND "__janitor"
int cr_janitor_spawn(cr_ledger *l, const char *exe, pid_t *pid_out, int *wfd,
                     cr_err *err);
/* The janitor's body (run by `chaosrun __janitor LEDGER INDEX` with the
 * pipe as fd): waits for "done" (returns 0 at once) or EOF (reverts the
 * ledger, logging to LEDGER.janitor, and removes INDEX).  Returns 0, or 1
 * when some entry could not be undone. */
int cr_janitor_run(int fd, const char *ledger_path, const char *index_path);

/* The index directory of this user (created 0700 when missing) into buf.
 * 0, or -1 when no candidate is usable. */
int cr_ledger_index_dir(char *buf, size_t n);
/* Is the owner named by an index file (pid and start time) still alive?
 * Copies the ledger path it names into ledger (n bytes; "" if none). */
int cr_ledger_index_owner_alive(const char *index_file, char *ledger, size_t n);

#endif
