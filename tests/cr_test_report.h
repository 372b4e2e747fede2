/* cr_test_report: helpers shared by the report test suites (header-only so
 * every test executable stays one .c file plus cr_test.c).
 *
 * Report writers write into the run directory, so tests copy a recorded
 * fixture from tests/data/runs/<name>/ into a fresh temporary directory,
 * work there and remove it afterwards. */
#ifndef CR_TEST_REPORT_H
#define CR_TEST_REPORT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cr_test.h"

/* Copy tests/data/runs/<name> to a new temporary directory; returns the
 * copy's path (malloc'd) or NULL. */
static inline char *crt_fixture(const char *name)
{
    char *tmp = cr_test_tmpdir();
    char cmd[8192];
    if (!tmp)
        return NULL;
    snprintf(cmd, sizeof cmd, "cp -R '%s%s' '%s/%s'",
             cr_test_src("tests/data/runs/"), name, tmp, name);
    if (system(cmd) != 0) {
        free(tmp);
        return NULL;
    }
    char *path = malloc(strlen(tmp) + strlen(name) + 2);
    if (path)
        sprintf(path, "%s/%s", tmp, name);
    free(tmp);
    return path;
}

/* Remove the temporary directory holding a fixture copy (its parent). */
static inline void crt_cleanup(char *path)
{
    if (!path)
        return;
    char *slash = strrchr(path, '/');
    if (slash)
        *slash = '\0';
    if (strncmp(path, "/tmp/cr_test.", 13) == 0) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", path);
    }
    free(path);
}

/* Whole file as a NUL-terminated string (malloc'd), or NULL. */
static inline char *crt_read(const char *dir, const char *file)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, fp) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = '\0';
    fclose(fp);
    return s;
}

/* Write a file (for synthetic journals); returns 0 or -1. */
static inline int crt_write(const char *dir, const char *file, const char *text)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    int ok = fputs(text, fp) >= 0;
    return fclose(fp) == 0 && ok ? 0 : -1;
}

/* Count non-overlapping occurrences of needle in hay. */
static inline size_t crt_count(const char *hay, const char *needle)
{
    size_t n = 0, k = strlen(needle);
    for (const char *p = hay; p && (p = strstr(p, needle)); p += k)
        n++;
    return n;
}

#endif
