/* cr_cgroup: the cgroup file system, as the resource faults need it.
 *
 * cgroup v1: each controller (cpu, memory, pids, blkio, freezer) is its
 * own hierarchy, mounted where /proc/self/mountinfo says.  chaosrun's
 * cgroups go below the cgroup chaosrun itself is in (/proc/self/cgroup),
 * so that limits set on chaosrun by whoever started it still apply to
 * what it starts.  A controller on no v1 hierarchy is served by cgroup
 * v2 where the cgroup2 mount offers it (cr_cgroup_version; placement and
 * file mapping in cr_cgroup2.h).  The functions below that take a
 * directory work on both: cr_cgroup_freeze and cr_cgroup_remove tell a
 * v2 directory by its file system (cr_cgroup_is_v2).
 *
 * None of these functions keep state; the engine owns the directories it
 * creates (engine/cr_svc.c) and records them in the ledger first. */
#ifndef CR_CGROUP_H
#define CR_CGROUP_H

#include <stddef.h>
#include <sys/types.h>

#include "cr_err.h"

/* The directory of the cgroup this process is in, in the v1 hierarchy of
 * `controller` ("cpu", "memory", "pids", ...), into buf.  0, or CR_EUNSUP
 * with the reason (no such v1 hierarchy mounted, not writable). */
int cr_cgroup_base(const char *controller, char *buf, size_t n, cr_err *err);

/* Which hierarchy serves controller (a v1 name: "cpu", "memory", "pids",
 * "blkio", "freezer"; or any v2 name): 1 a v1 hierarchy is mounted with
 * it; 2 none is, and the cgroup2 mount offers it (its root's
 * cgroup.controllers; "freezer": cgroup2 is mounted); 0 neither. */
int cr_cgroup_version(const char *controller);

/* Can chaosrun make cgroups for controller here?  *version (may be NULL):
 * 1 or 2 as cr_cgroup_version.  v1: cr_cgroup_base's checks; v2:
 * cr_cgroup2_place's.  0, or CR_EUNSUP with the reason (neither a v1
 * hierarchy nor cgroup2 offers it; no right; no placement). */
int cr_cgroup_check(const char *controller, int *version, cr_err *err);

/* 1 when dir is on a cgroup2 file system, 0 otherwise (or missing). */
int cr_cgroup_is_v2(const char *dir);

/* Write val to dir/file (one write(2), as the kernel wants it).  0 or
 * CR_ESYS naming the file and the errno (EBUSY: memory could not be
 * reclaimed below a new limit; EINVAL: a value the kernel refuses). */
int cr_cgroup_write(const char *dir, const char *file, const char *val,
                    cr_err *err);
/* Read dir/file into buf (NUL-terminated, trailing newline removed).
 * 0 or CR_ESYS. */
int cr_cgroup_read(const char *dir, const char *file, char *buf, size_t n,
                   cr_err *err);
/* The number after "key " in a "key value" file (memory.oom_control,
 * cpu.stat, pids.events); key NULL: the file holds one number.  Returns
 * 0 and *out, or -1 when the file or the key is missing. */
int cr_cgroup_read_num(const char *dir, const char *file, const char *key,
                       long long *out);

/* Move process pid into the cgroup dir (cgroup.procs).  0 or CR_ESYS. */
int cr_cgroup_attach(const char *dir, pid_t pid, cr_err *err);

/* Freeze (frozen 1) or thaw (0) the v1 freezer cgroup dir: write FROZEN
 * or THAWED to freezer.state, then wait at most timeout_s until it reads
 * back so (FREEZING: a task has not stopped yet, e.g. one asleep in an
 * uninterruptible wait).  A v2 cgroup dir: write 1 or 0 to cgroup.freeze,
 * then wait until cgroup.events says "frozen 1" (or 0).  0; CR_ETIMEDOUT when
 * the state was not reached (the request stays written: a caller that gives up
 * thaws); CR_ESYS. */
int cr_cgroup_freeze(const char *dir, int frozen, double timeout_s,
                     cr_err *err);

/* Remove the cgroup dir: SIGKILL every process still in it (and in its
 * child cgroups; v2: through cgroup.kill where the kernel has it, 5.14+,
 * which also catches a process forking meanwhile), thaw it when it is a
 * frozen freezer cgroup (a task of a frozen v1 cgroup does not die of
 * SIGKILL until it is thawed; a frozen v2 task does), wait up
 * to timeout_s for them to leave, remove child cgroups, then rmdir.
 * Missing: success.  0, or CR_ESYS with the cause
 * (processes would not leave: "still busy"). */
int cr_cgroup_remove(const char *dir, double timeout_s, cr_err *err);

#endif
