/* cr_path: where chaosrun's own files are.
 *
 * chaosrun finds its helper programs (crp, the test targets, the stand-in
 * service of `chaosrun init`) in one directory, given to every service as
 * CHAOSRUN_BINDIR.  Installed, that is <prefix>/libexec/chaosrun; in a
 * build tree it is the build's bin/ directory.  Which one is decided by a
 * relative path compiled in (CR_HELPER_REL, from the installed bin
 * directory to the installed helper directory, computed by CMakeLists.txt
 * from GNUInstallDirs): <directory of the running chaosrun>/CR_HELPER_REL.
 * The build tree holds the same relative path as a symbolic link to bin/,
 * so one rule serves both; no guess from directory names. */
#ifndef CR_PATH_H
#define CR_PATH_H

#include <stddef.h>

/* The directory of the running program (/proc/self/exe), into out.
 * Returns 0, or -1 (out is then ".") when it cannot be read. */
int cr_path_exe_dir(char *out, size_t n);

/* The helper directory, into out: CHAOSRUN_BINDIR from the environment
 * when set and not empty; else <exe dir>/CR_HELPER_REL resolved
 * (realpath) when that is a directory; else the exe dir itself (a
 * chaosrun copied somewhere alone).  Returns 0, or -1 when even the exe
 * dir is unknown (out is then "."). */
int cr_path_helper_dir(char *out, size_t n);

/* The compiled-in relative path (CR_HELPER_REL). */
const char *cr_path_helper_rel(void);

#endif
