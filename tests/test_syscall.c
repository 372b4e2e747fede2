/* Tests for the syscall fault kind's parse(): presets, points as a string
 * or an array, errno by name and its validation, count, probability, and
 * the error messages (with their JSON positions) for each bad input; the
 * seccomp backend's keys (syscalls, delay_ms, jitter_ms, path), the
 * backend key and which backends a fault leaves possible. */
#include "base/cr_alloc.h"
#include "faults/cr_fault.h"
#include "faults/syscall/syscall_internal.h"
#include "cr_test.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static cr_scen *g_sc;
static cr_diags g_d;
static const sys_spec *spec0(void);

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
    CU_ASSERT(said("exactly one of \"points\" (libfiu), \"syscalls\" (seccomp) "
                   "and \"preset\""));
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
    CU_ASSERT(said("count above 1 (libfiu fails once or always) needs the "
                   "seccomp backend, but oom needs libfiu"));
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
    /* the same with the seccomp backend's keys (both backends validated) */
    rc = -1;
    for (n = 1; n < 5000 && rc != 0; n++) {
        cr_alloc_fail_after(n);
        rc = load("\"preset\":\"disk_full\",\"count\":1");
        cr_alloc_fail_after(0);
        CU_ASSERT(rc == 0 || rc == CR_ENOMEM || rc == CR_EINVAL);
    }
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(spec0() && spec0()->can_fiu && spec0()->can_sc);
}

static const sys_spec *spec0(void)
{
    return g_sc && g_sc->nfaults ? g_sc->faults[0].priv : NULL;
}

static void test_syscall_seccomp_accepts_valid(void)
{
    const char *ok[] = {
        "\"syscalls\":\"write\"",
        "\"syscalls\":[\"write\",\"fsync\"],\"errno\":\"ENOSPC\"",
        "\"syscalls\":[\"connect\"],\"errno\":\"ETIMEDOUT\",\"delay_ms\":200",
        "\"backend\":\"seccomp\",\"preset\":\"disk_full\"",
        "\"preset\":\"slow_disk\",\"delay_ms\":300,\"jitter_ms\":100",
        "\"preset\":\"slow_net\"",
        "\"preset\":\"net_reset\",\"count\":5,\"probability\":0.5",
        "\"preset\":\"io_error\",\"path\":\"/data/\"",
        "\"preset\":\"disk_full\",\"path\":\"data/sink.0\"",
        "\"syscalls\":[\"openat\",\"unlinkat\"],\"path\":\"/tmp\"",
        "\"syscalls\":\"read\",\"path\":\"socket:\"",
        "\"backend\":\"libfiu\",\"preset\":\"oom\"",
        "\"backend\":\"auto\",\"points\":\"posix/io/rw/write\"",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int rc = load(ok[i]);
        CU_ASSERT_EQUAL(rc, 0);
        if (rc)
            fprintf(stderr, "rejected: %s\n", ok[i]);
    }
}

static void test_syscall_seccomp_spec(void)
{
    const sys_spec *s;
    CU_ASSERT_EQUAL_FATAL(load("\"syscalls\":[\"write\",\"fsync\",\"write\"]"),
                          0);
    s = spec0();
    CU_ASSERT_EQUAL(s->backend, SYS_AUTO);
    CU_ASSERT(s->can_sc && !s->can_fiu);
    CU_ASSERT_EQUAL(s->rule.nsys, 2);
    CU_ASSERT_EQUAL(s->rule.errnum, EIO); /* neither errno nor delay: EIO */
    CU_ASSERT_EQUAL(s->rule.delay_ms, 0);
    CU_ASSERT_STRING_EQUAL(s->no_fiu, "syscalls (kernel names)");

    CU_ASSERT_EQUAL_FATAL(load("\"preset\":\"slow_disk\""), 0);
    s = spec0();
    CU_ASSERT(s->can_sc && !s->can_fiu);
    CU_ASSERT_EQUAL(s->rule.errnum, 0);
    CU_ASSERT_EQUAL(s->rule.delay_ms, 50);
    CU_ASSERT_STRING_EQUAL(s->rule.path, "/");

    /* a preset both backends have: both possible, the choice waits for
     * the program (check) */
    CU_ASSERT_EQUAL_FATAL(load("\"preset\":\"disk_full\",\"count\":1"), 0);
    s = spec0();
    CU_ASSERT(s->can_sc && s->can_fiu);
    CU_ASSERT_EQUAL(s->errnum, ENOSPC);
    CU_ASSERT_EQUAL(s->rule.errnum, ENOSPC);
    CU_ASSERT(s->onetime);
    CU_ASSERT_EQUAL(s->rule.count, 1);

    /* an errno libfiu's write cannot set: only seccomp, and why */
    CU_ASSERT_EQUAL_FATAL(load("\"preset\":\"disk_full\",\"errno\":\"EPERM\""),
                          0);
    s = spec0();
    CU_ASSERT(s->can_sc && !s->can_fiu);
    CU_ASSERT_PTR_NOT_NULL(strstr(s->no_fiu, "errno EPERM cannot be returned"));

    CU_ASSERT_EQUAL_FATAL(load("\"preset\":\"oom\""), 0);
    s = spec0();
    CU_ASSERT(s->can_fiu && !s->can_sc);

    CU_ASSERT_EQUAL_FATAL(load("\"preset\":\"net_reset\",\"path\":\"/d/./x/\""),
                          0);
    CU_ASSERT_STRING_EQUAL(spec0()->rule.path, "/d/x");
    CU_ASSERT_EQUAL_FATAL(load("\"preset\":\"io_error\",\"path\":\"data/\""),
                          0);
    CU_ASSERT_STRING_EQUAL(spec0()->rule.path, "data/"); /* run dir: apply */
    CU_ASSERT_EQUAL_FATAL(
        load("\"syscalls\":\"write\",\"delay_ms\":10,\"errno\":\"EAGAIN\","
             "\"jitter_ms\":5,\"count\":7,\"probability\":0.25"),
        0);
    s = spec0();
    CU_ASSERT_EQUAL(s->rule.errnum, EAGAIN);
    CU_ASSERT_EQUAL(s->rule.delay_ms, 10);
    CU_ASSERT_EQUAL(s->rule.jitter_ms, 5);
    CU_ASSERT_EQUAL(s->rule.count, 7);
    CU_ASSERT_EQUAL(s->rule.probability, 0.25);
}

static void test_syscall_seccomp_rejects(void)
{
    CU_ASSERT_EQUAL(load("\"syscalls\":[\"write\",\"fsycn\"]"), CR_EINVAL);
    CU_ASSERT(said("faults[0].syscalls[1]: unknown system call \"fsycn\" "
                   "(did you mean \"fsync\"?)"));
    CU_ASSERT_EQUAL(load("\"syscalls\":\"wirte\""), CR_EINVAL);
    CU_ASSERT(said("faults[0].syscalls: unknown system call \"wirte\" (did "
                   "you mean \"write\"?)"));
    CU_ASSERT_EQUAL(load("\"syscalls\":[]"), CR_EINVAL);
    CU_ASSERT(said("must be a system call name or a non-empty array"));
    CU_ASSERT_EQUAL(load("\"syscalls\":[\"write\",1]"), CR_EINVAL);
    CU_ASSERT(said("faults[0].syscalls[1]: must be a string"));
    CU_ASSERT_EQUAL(load("\"syscalls\":\"write\",\"preset\":\"io_error\""),
                    CR_EINVAL);
    CU_ASSERT(said("exactly one of"));
    /* what each backend cannot do */
    CU_ASSERT_EQUAL(load("\"backend\":\"libfiu\",\"preset\":\"disk_full\","
                         "\"delay_ms\":5"),
                    CR_EINVAL);
    CU_ASSERT(said("delay_ms (libfiu cannot make calls slow) needs backend "
                   "\"seccomp\""));
    CU_ASSERT_EQUAL(load("\"backend\":\"libfiu\",\"preset\":\"slow_disk\""),
                    CR_EINVAL);
    CU_ASSERT(said("slow_disk needs backend \"seccomp\""));
    CU_ASSERT_EQUAL(load("\"backend\":\"libfiu\",\"syscalls\":\"write\""),
                    CR_EINVAL);
    CU_ASSERT_EQUAL(load("\"backend\":\"seccomp\",\"preset\":\"oom\""),
                    CR_EINVAL);
    CU_ASSERT(said("faults[0].preset: oom fails malloc, calloc and realloc, "
                   "which are C library functions, not system calls"));
    CU_ASSERT_EQUAL(load("\"backend\":\"seccomp\",\"points\":"
                         "\"posix/io/rw/write\""),
                    CR_EINVAL);
    CU_ASSERT(said("need backend \"libfiu\""));
    CU_ASSERT_EQUAL(load("\"preset\":\"oom\",\"delay_ms\":3"), CR_EINVAL);
    CU_ASSERT(said("no backend can do both"));
    CU_ASSERT_EQUAL(load("\"backend\":\"sekcomp\",\"preset\":\"oom\""),
                    CR_EINVAL);
    CU_ASSERT(said("did you mean \"seccomp\""));
    /* the path filter */
    CU_ASSERT_EQUAL(load("\"syscalls\":[\"write\",\"getpid\"],\"path\":\"/d\""),
                    CR_EINVAL);
    CU_ASSERT(said("faults[0].path: the path filter cannot judge getpid"));
    CU_ASSERT_EQUAL(load("\"preset\":\"io_error\",\"path\":\"\""), CR_EINVAL);
    CU_ASSERT(said("must not be empty"));
    /* delays */
    CU_ASSERT_EQUAL(load("\"preset\":\"slow_disk\",\"delay_ms\":10,"
                         "\"jitter_ms\":20"),
                    CR_EINVAL);
    CU_ASSERT(said("faults[0].jitter_ms: 20 ms is more than the delay"));
    CU_ASSERT_EQUAL(load("\"syscalls\":\"write\",\"jitter_ms\":2"), CR_EINVAL);
    CU_ASSERT(said("jitter needs delay_ms"));
    CU_ASSERT_EQUAL(load("\"syscalls\":\"write\",\"delay_ms\":-1"), CR_EINVAL);
    CU_ASSERT_EQUAL(load("\"syscalls\":\"write\",\"errno\":\"ENOPE\""),
                    CR_EINVAL);
    CU_ASSERT(said("unknown errno name \"ENOPE\""));
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
    CR_ADD_TEST(s, test_syscall_seccomp_accepts_valid);
    CR_ADD_TEST(s, test_syscall_seccomp_spec);
    CR_ADD_TEST(s, test_syscall_seccomp_rejects);
    CR_ADD_TEST(s, test_syscall_rejects_bad_numbers);
    CR_ADD_TEST(s, test_syscall_diagnostic_positions);
    CR_ADD_TEST(s, test_syscall_needs_window_and_service);
    CR_ADD_TEST(s, test_syscall_parse_out_of_memory);
}
