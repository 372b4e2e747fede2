/* cr_path: the running program's directory and chaosrun's helper
 * directory (see cr_path.h for the rule). */
#include "cr_path.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef CR_HELPER_REL
#define CR_HELPER_REL "."
#endif

const char *cr_path_helper_rel(void)
{
    return CR_HELPER_REL;
}

int cr_path_exe_dir(char *out, size_t n)
{
    char buf[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (k <= 0) {
        snprintf(out, n, ".");
        return -1;
    }
    buf[k] = '\0';
    char *slash = strrchr(buf, '/');
    if (slash == buf)
        slash[1] = '\0'; /* "/chaosrun": the root directory */
    else if (slash)
        *slash = '\0';
    snprintf(out, n, "%s", buf);
    return 0;
}

int cr_path_helper_dir(char *out, size_t n)
{
    const char *env = getenv("CHAOSRUN_BINDIR");
    char dir[PATH_MAX], cand[PATH_MAX * 2], real[PATH_MAX];
    struct stat st;
    if (env && *env) {
        snprintf(out, n, "%s", env);
        return 0;
    }
    if (cr_path_exe_dir(dir, sizeof dir) != 0) {
        snprintf(out, n, ".");
        return -1;
    }
    snprintf(cand, sizeof cand, "%s/%s", dir, CR_HELPER_REL);
    if (stat(cand, &st) == 0 && S_ISDIR(st.st_mode) && realpath(cand, real))
        snprintf(out, n, "%s", real);
    else
        snprintf(out, n, "%s", dir);
    return 0;
}
