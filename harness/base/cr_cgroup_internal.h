/* cr_cgroup_internal: what cr_cgroup.c shares with cr_cgroup2.c. */
#ifndef CR_CGROUP_INTERNAL_H
#define CR_CGROUP_INTERNAL_H

#include <stddef.h>

/* This process's cgroup directory in the v1 hierarchy of controller
 * (NULL: in the cgroup2 hierarchy) into buf -- the mount point joined
 * with the path /proc/self/cgroup gives, relative to the mount's root
 * (a container may see a subtree) -- and the mount point into mnt.  0,
 * -1 when no such hierarchy is mounted, -2 when buf is too small, -3
 * (cgroup2 only; v1 takes the root) when /proc/self/cgroup has no "0::"
 * line. */
int cr_cgroup__own_dir(const char *controller, char *buf, size_t n, char *mnt,
                       size_t mn);

#endif
