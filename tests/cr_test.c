/* cr_test: see cr_test.h. */
#include "cr_test.h"

#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Noreturn void cr_test_skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("SKIPPED: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    fflush(stdout);
    exit(77);
}

static const char *join(char *buf, size_t n, const char *env, const char *dflt,
                        const char *rel)
{
    const char *base = getenv(env);
    snprintf(buf, n, "%s/%s", base ? base : dflt, rel);
    return buf;
}

const char *cr_test_src(const char *rel)
{
    static char buf[4096];
    return join(buf, sizeof buf, "CR_SRC", "..", rel);
}

const char *cr_test_bin(const char *rel)
{
    static char buf[4096];
    return join(buf, sizeof buf, "CR_BIN", "bin", rel);
}

const char *cr_test_path(const char *dir, const char *rel)
{
    static char buf[4][PATH_MAX];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, rel);
    return buf[k];
}

char *cr_test_tmpdir(void)
{
    char tmpl[] = "/tmp/cr_test.XXXXXX";
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int cr_test_rmtree(char *dir)
{
    if (!dir)
        return 0;
    int rc = nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
    return rc;
}

void cr_test_add_each(const cr_test_case *v, size_t n, CU_InitializeFunc setup,
                      CU_CleanupFunc teardown)
{
    for (size_t i = 0; i < n; i++) {
        CU_pSuite s = CU_add_suite(v[i].name, setup, teardown);
        if (!s || !CU_add_test(s, v[i].name, v[i].fn))
            return;
    }
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    cr_test_register();
    if (CU_get_error() != CUE_SUCCESS) {
        fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed =
        CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned run = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    if (run == 0) {
        fprintf(stderr, "no test ran\n");
        return 1;
    }
    return failed ? 1 : 0;
}
