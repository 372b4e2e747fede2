/* cr_cgroup: the cgroup file system, as the resource faults need it.
 *
 * cgroup v1 only: each controller (cpu, memory, pids, blkio, freezer) is
 * its own hierarchy, mounted where /proc/self/mountinfo says.  chaosrun's
 * cgroups go below the cgroup chaosrun itself is in (/proc/self/cgroup),
 * so that limits set on chaosrun by whoever started it still apply to
 * what it starts.  A machine with cgroup v2 only is not supported yet
 * (cr_cgroup_base says so: the fault kinds exit 3 with that reason).
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
 * uninterruptible wait).  0; CR_ETIMEDOUT when the state was not reached
 * (the request stays written: a caller that gives up thaws); CR_ESYS. */
int cr_cgroup_freeze(const char *dir, int frozen, double timeout_s,
                     cr_err *err);

/* Remove the cgroup dir: SIGKILL every process still in it (and in its
 * child cgroups), thaw it when it is a frozen freezer cgroup (a task of a
 * frozen v1 cgroup does not die of SIGKILL until it is thawed), wait up
 * to timeout_s for them to leave, remove child cgroups, then rmdir.
 * Missing: success.  0, or CR_ESYS with the cause
 * (processes would not leave: "still busy"). */
int cr_cgroup_remove(const char *dir, double timeout_s, cr_err *err);

#endif
