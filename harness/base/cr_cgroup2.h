/* cr_cgroup2: the cgroup v2 (unified) hierarchy, for a controller that is
 * on no cgroup v1 hierarchy (cr_cgroup.h keeps the v1 side).
 *
 * A controller is on one hierarchy at a time: a v1 hierarchy mounted with
 * it wins (this keeps hybrid machines, v1 controllers beside an empty
 * cgroup2 mount, exactly as before); otherwise cgroup v2 serves it when
 * the cgroup2 mount's root lists it in cgroup.controllers.  The v1
 * "freezer" is v2's core cgroup.freeze (every non-root cgroup, kernel
 * 5.2+), "blkio" is v2's "io".
 *
 * Where the run's v2 cgroup goes (cr_cgroup2_place) follows v2's "no
 * internal processes" rule: a cgroup that holds processes cannot hand
 * domain controllers to its children, the root excepted.  So the run's
 * cgroup is made in chaosrun's own cgroup when that is the root, else in
 * its parent when the parent holds no process of its own (a delegated
 * subtree whose processes live in leaves, chaosrun in one of them);
 * anything else is refused with the reason.  The controller is enabled
 * in that directory's cgroup.subtree_control (the engine records it in
 * the ledger when it was not enabled yet) and in the run's cgroup.
 *
 * The file mapping (v1 file or counter -> v2) and the formats that differ
 * (cpu.max, io.max, io.stat) are pure functions here, tested on any
 * machine (tests/test_cgroup.c). */
#ifndef CR_CGROUP2_H
#define CR_CGROUP2_H

#include <stddef.h>

#include "cr_err.h"

/* The v2 name of a controller ("blkio" -> "io"), NULL for "freezer"
 * (core cgroup.freeze, nothing to enable); others unchanged. */
const char *cr_cgroup2_name(const char *controller);

/* The mount point of the (first) cgroup2 file system, into buf: 0, or -1
 * when none is mounted. */
int cr_cgroup2_mount(char *buf, size_t n);

/* Is word one of the space-separated words of list (cgroup.controllers,
 * cgroup.subtree_control)?  1 or 0. */
int cr_cgroup2_has_word(const char *list, const char *word);

/* The directory in which the run's own v2 cgroup is to be made for
 * controller (see the placement above), into buf.  0, or CR_EUNSUP with
 * the reason: no cgroup2 mount, chaosrun's cgroup holds processes and
 * its parent does too, the controller not available there (not enabled
 * in the parent's parent), no right to write there. */
int cr_cgroup2_place(const char *controller, char *buf, size_t n, cr_err *err);

/* Is the v2 controller ctl enabled in dir/cgroup.subtree_control?  1, 0,
 * or -1 when the file cannot be read. */
int cr_cgroup2_enabled(const char *dir, const char *ctl);

/* Enable (on 1: "+ctl") or disable (0: "-ctl") the v2 controller ctl in
 * dir/cgroup.subtree_control.  0; 1 when a disable was refused because a
 * child cgroup still uses it (EBUSY; err untouched); or CR_ESYS naming
 * the file and errno (EBUSY on enable: dir holds processes). */
int cr_cgroup2_subtree(const char *dir, const char *ctl, int on, cr_err *err);

/* The v2 file and key that count what the v1 file (and key, NULL: the
 * file is one number) counts: memory.usage_in_bytes -> memory.current,
 * memory.max_usage_in_bytes -> memory.peak, memory.failcnt ->
 * memory.events "max", memory.oom_control "oom_kill" -> memory.events
 * "oom_kill", cpu.stat "nr_throttled" -> cpu.stat "nr_throttled",
 * pids.* -> the same.  Returns 0 with *file2 and *key2 set, or -1 when
 * v2 has no counterpart with the same unit. */
int cr_cgroup2_map(const char *file, const char *key, const char **file2,
                   const char **key2);

/* cpu.max: parse "QUOTA PERIOD" or "max PERIOD" (*quota -1); 0 or -1. */
int cr_cgroup2_parse_cpu_max(const char *text, long long *quota,
                             long long *period);

/* One io.max line for device dev ("MAJ:MIN"): "MAJ:MIN rbps=R wbps=W
 * riops=RI wiops=WI" with lim[] in that order and "max" for 0 (no
 * limit).  Returns the length (as snprintf). */
int cr_cgroup2_io_max(const char *dev, const long long lim[4], char *buf,
                      size_t n);

/* The value of key ("rbytes", "wbytes", "rios", "wios") on the line of
 * device dev in io.stat text ("MAJ:MIN rbytes=.. wbytes=.. rios=.. ...");
 * 0 when the device has no line yet (nothing done on it), -1 when its
 * line lacks the key. */
long long cr_cgroup2_io_stat(const char *text, const char *dev,
                             const char *key);

#endif
