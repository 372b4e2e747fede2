/* cr_test: the shared main() for every CUnit suite.
 *
 * A suite file defines cr_test_register(), which adds its CUnit suite(s).
 * The process exits 0 when every assertion held, 1 otherwise, and 77 (ctest
 * "skipped") through cr_test_skip() when the suite needs something this
 * machine lacks; it then prints the reason. */
#ifndef CR_TEST_H
#define CR_TEST_H

#include <stddef.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

void cr_test_register(void);
/* Exit 77 with "SKIPPED: reason". */
_Noreturn void cr_test_skip(const char *fmt, ...);
/* $CR_SRC/rel and $CR_BIN/rel (static buffers, one per call site kind). */
const char *cr_test_src(const char *rel);
const char *cr_test_bin(const char *rel);
/* dir/rel in one of four static buffers (so that a call may take two or
 * three of them as arguments). */
const char *cr_test_path(const char *dir, const char *rel);
/* A fresh temporary directory (removed by the caller if wanted). */
char *cr_test_tmpdir(void);
/* Remove dir and everything below it (symlinks not followed), then free
 * dir (from cr_test_tmpdir or malloc); 0, or -1 when something stayed. */
int cr_test_rmtree(char *dir);

/* Tests that each want a fresh fixture: one suite per test, named after
 * it, with setup and teardown around it. */
typedef struct cr_test_case {
    const char *name;
    CU_TestFunc fn;
} cr_test_case;
#define CR_TEST_CASE(f)                                                        \
    {                                                                          \
#f, f                                                                  \
    }
void cr_test_add_each(const cr_test_case *v, size_t n, CU_InitializeFunc setup,
                      CU_CleanupFunc teardown);

#define CR_ADD_TEST(suite, fn)                                                 \
    do {                                                                       \
        if (!CU_add_test((suite), #fn, (fn)))                                  \
            return;                                                            \
    } while (0)

#endif
