/* Tests for the syscall fault kind's parse(): presets, points as a string
 * or an array, errno by name and its validation, count, probability, and
 * the error messages (with their JSON positions) for each bad input. */
#include "base/cr_alloc.h"
#include "faults/cr_fault.h"
#include "cr_test.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static cr_scen *g_sc;
static cr_diags g_d;

/* Load a scenario with one syscall fault with the given extra keys. */
static int load(const char *keys)
{
    char text[4096];
    cr_err err;
    cr_err_clear(&err);
    cr_scen_free(g_sc);
    g_sc = NULL;
    cr_diags_free(&g_d);
    snprintf(text, sizeof text,
             "{\"name\":\"s\",\"duration_s\":5,\"services\":[{\"name\":\"w\","
             "\"cmd\":[\"true\"]}],\"faults\":[{\"kind\":\"syscall\","
             "\"target\":\"w\",\"at_s\":1,\"for_s\":2%s%s}]}",
             *keys ? "," : "", keys);
    return cr_scen_load_buffer("t.json", text, strlen(text), &g_sc, &g_d, &err);
}

/* 1 when some diagnostic holds text. */
static int said(const char *text)
{
    for (size_t i = 0; i < g_d.n; i++)
        if (strstr(g_d.v[i].msg, text))
            return 1;
    cr_diags_print(&g_d, stderr);
    return 0;
}

static int suite_clean(void)
{
    cr_scen_free(g_sc);
    cr_diags_free(&g_d);
    return 0;
}

static void test_syscall_registered(void)
{
    const cr_fault_ops *o = cr_fault_lookup("syscall");
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT(o->flags & CR_FAULT_NEEDS_DURATION);
    CU_ASSERT(o->flags & CR_FAULT_NEEDS_SERVICE);
    CU_ASSERT_PTR_NOT_NULL(o->check);
    CU_ASSERT_PTR_NOT_NULL(o->prepare);
    CU_ASSERT_PTR_NOT_NULL(o->revert);
    CU_ASSERT_PTR_NOT_NULL(o->on_spawn);
}

static void test_syscall_accepts_valid(void)
{
    const char *ok[] = {
        "\"preset\":\"disk_full\"",
        "\"preset\":\"oom\",\"probability\":0.1",
        "\"preset\":\"net_refused\",\"count\":1",
        "\"preset\":\"disk_full\",\"errno\":\"EIO\"",
        "\"points\":\"posix/io/rw/write\"",
        "\"points\":[\"posix/io/rw/write\",\"posix/io/sync/*\"],"
        "\"errno\":\"EIO\"",
        "\"points\":\"libc/mm/malloc\",\"errno\":\"ENOMEM\"",
        "\"points\":\"posix/io/rw/read/reduce\"",
        "\"points\":\"posix/io/net/connect\",\"errno\":\"ECONNREFUSED\","
        "\"probability\":0",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int rc = load(ok[i]);
        CU_ASSERT_EQUAL(rc, 0);
        if (rc)
            fprintf(stderr, "rejected: %s\n", ok[i]);
        else
            CU_ASSERT_PTR_NOT_NULL(g_sc->faults[0].priv);
    }
}

static void test_syscall_rejects_bad_errno(void)
{
    CU_ASSERT_EQUAL(load("\"points\":\"posix/io/rw/read\",\"errno\":"
                         "\"ENOSPC\""),
                    CR_EINVAL);
    CU_ASSERT(said("errno ENOSPC cannot be returned by posix/io/rw/read"));
    CU_ASSERT(said("(it can return: EBADFD EFAULT EINTR EINVAL EIO EISDIR)"));
    CU_ASSERT_EQUAL(load("\"preset\":\"oom\",\"errno\":\"EIO\""), CR_EINVAL);
    CU_ASSERT(said("errno EIO cannot be returned by libc/mm/malloc"));
    CU_ASSERT_EQUAL(load("\"preset\":\"disk_full\",\"errno\":\"ENOSPCE\""),
                    CR_EINVAL);
    CU_ASSERT(said("unknown errno name \"ENOSPCE\""));
    CU_ASSERT_EQUAL(load("\"points\":\"libc/mm/calloc\""), CR_EINVAL);
    CU_ASSERT(said("errno is required"));
    CU_ASSERT_EQUAL(load("\"points\":\"posix/io/rw/read/reduce\","
                         "\"errno\":\"EIO\""),
                    CR_EINVAL);
    CU_ASSERT(said("sets no errno"));
}

static void test_syscall_rejects_bad_points(void)
{
    CU_ASSERT_EQUAL(load(""), CR_EINVAL);
    CU_ASSERT(said("exactly one of \"points\" (libfiu), \"syscalls\" (seccomp) and \"preset\""));
    CU_ASSERT_EQUAL(load("\"preset\":\"oom\",\"points\":\"libc/mm/malloc\""),
                    CR_EINVAL);
    CU_ASSERT(said("exactly one of"));
    CU_ASSERT_EQUAL(load("\"points\":[]"), CR_EINVAL);
    CU_ASSERT(said("non-empty array"));
    CU_ASSERT_EQUAL(load("\"points\":5"), CR_EINVAL);
    CU_ASSERT(said("non-empty array"));
    CU_ASSERT_EQUAL(load("\"points\":[\"posix/io/rw/write\",3]"), CR_EINVAL);
    CU_ASSERT(said("must be a string"));
    CU_ASSERT_EQUAL(load("\"points\":\"posix/io/rw/wirte\""), CR_EINVAL);
    CU_ASSERT(said("\"posix/io/rw/wirte\" is not one"));
    CU_ASSERT_EQUAL(load("\"points\":\"posix/io/rw/write,failinfo=2\""),
                    CR_EINVAL);
    CU_ASSERT(said("only letters"));
    CU_ASSERT_EQUAL(load("\"preset\":\"full_disk\""), CR_EINVAL);
    CU_ASSERT(said("unknown preset \"full_disk\""));
}

static void test_syscall_rejects_bad_numbers(void)
{
    CU_ASSERT_EQUAL(load("\"preset\":\"oom\",\"count\":3"), CR_EINVAL);
    CU_ASSERT(said("count above 1 (libfiu fails once or always) needs the seccomp backend, but oom needs libfiu"));
    CU_ASSERT_EQUAL(load("\"preset\":\"oom\",\"count\":-1"), CR_EINVAL);
    CU_ASSERT_EQUAL(load("\"preset\":\"oom\",\"probability\":1.01"), CR_EINVAL);
    CU_ASSERT_EQUAL(load("\"preset\":\"oom\",\"probability\":\"half\""),
                    CR_EINVAL);
    CU_ASSERT_EQUAL(load("\"preset\":\"oom\",\"errnum\":\"EIO\""), CR_EINVAL);
    CU_ASSERT(said("errnum"));
}

static void test_syscall_diagnostic_positions(void)
{
    /* The errno diagnostic points at the "errno" key's line and column. */
    CU_ASSERT_EQUAL(load("\"points\":\"posix/io/rw/read\",\"errno\":"
                         "\"ENOSPC\""),
                    CR_EINVAL);
    CU_ASSERT_EQUAL_FATAL(g_d.n, 1);
    CU_ASSERT_EQUAL(g_d.v[0].line, 1);
    CU_ASSERT(g_d.v[0].col > 100);
    CU_ASSERT(strstr(g_d.v[0].msg, "errno") != NULL);
}

static void test_syscall_needs_window_and_service(void)
{
    char text[512];
    cr_err err;
    cr_err_clear(&err);
    cr_scen_free(g_sc);
    g_sc = NULL;
    cr_diags_free(&g_d);
    snprintf(text, sizeof text,
             "{\"name\":\"s\",\"duration_s\":5,\"services\":[{\"name\":\"w\","
             "\"cmd\":[\"true\"]}],\"faults\":[{\"kind\":\"syscall\","
             "\"preset\":\"oom\",\"at_s\":1}]}");
    CU_ASSERT_EQUAL(
        cr_scen_load_buffer("t.json", text, strlen(text), &g_sc, &g_d, &err),
        CR_EINVAL);
    CU_ASSERT(g_d.n >= 2); /* no target, no for_s */
}

/* Fail the n-th allocation, n = 1, 2, ... until the load succeeds: every
 * step must fail cleanly (the sanitizer build checks for leaks). */
static void test_syscall_parse_out_of_memory(void)
{
    int rc = -1;
    long n;
    for (n = 1; n < 5000 && rc != 0; n++) {
        cr_alloc_fail_after(n);
        rc = load("\"points\":[\"posix/io/rw/write\",\"posix/io/sync/*\"],"
                  "\"errno\":\"EIO\",\"count\":1");
        cr_alloc_fail_after(0);
        CU_ASSERT(rc == 0 || rc == CR_ENOMEM || rc == CR_EINVAL);
    }
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(n > 2);
    CU_ASSERT_PTR_NOT_NULL(g_sc ? g_sc->faults[0].priv : NULL);
}

static int suite_init(void)
{
    cr_alloc_install_json();
    return 0;
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("syscall", suite_init, suite_clean);
    CR_ADD_TEST(s, test_syscall_registered);
    CR_ADD_TEST(s, test_syscall_accepts_valid);
    CR_ADD_TEST(s, test_syscall_rejects_bad_errno);
    CR_ADD_TEST(s, test_syscall_rejects_bad_points);
    CR_ADD_TEST(s, test_syscall_rejects_bad_numbers);
    CR_ADD_TEST(s, test_syscall_diagnostic_positions);
    CR_ADD_TEST(s, test_syscall_needs_window_and_service);
    CR_ADD_TEST(s, test_syscall_parse_out_of_memory);
}
