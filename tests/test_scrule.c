/* Tests for the seccomp backend's pure parts: system call names through
 * libseccomp ("did you mean"), errno names, the path filter's argument
 * table, the presets, the seeded verdicts (probability, count, delay and
 * jitter) and path normalisation and matching (cr_sysnames, cr_scrule). */
#include "faults/syscall/cr_scrule.h"
#include "faults/syscall/cr_sysnames.h"
#include "cr_test.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

static void test_scrule_syscall_names(void)
{
    cr_err e;
    char buf[64];
    CU_ASSERT_EQUAL(cr_sys_nr("write"), SYS_write);
    CU_ASSERT_EQUAL(cr_sys_nr("openat"), SYS_openat);
    CU_ASSERT_EQUAL(cr_sys_nr("pwrite64"), SYS_pwrite64);
    CU_ASSERT_EQUAL(cr_sys_nr("fsync"), SYS_fsync);
    CU_ASSERT_EQUAL(cr_sys_nr("connect"), SYS_connect);
    CU_ASSERT_EQUAL(cr_sys_nr("wirte"), -1);
    CU_ASSERT_EQUAL(cr_sys_nr(""), -1);
    CU_ASSERT_EQUAL(cr_sys_nr(NULL), -1);
    cr_sys_name(SYS_sendmsg, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "sendmsg");
    cr_sys_name(-1, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "");

    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_sys_check("fdatasync", &e), SYS_fdatasync);
    CU_ASSERT_EQUAL(e.code, 0);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_sys_check("wirte", &e), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(
        e.msg, "unknown system call \"wirte\" (did you mean \"write\"?)"));
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_sys_check("fsycn", &e), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "did you mean \"fsync\"?"));
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_sys_check("conect", &e), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "did you mean \"connect\"?"));
    /* libc names that are not kernel names */
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_sys_check("xyzzyplugh", &e), CR_EINVAL);
    CU_ASSERT_PTR_NULL(strstr(e.msg, "did you mean"));
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_sys_check("Write", &e), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "lower-case"));
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_sys_check("write,1", &e), CR_EINVAL);
#if defined(__x86_64__)
    /* Known to libseccomp, but only on other architectures. */
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_sys_check("socketcall", &e), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(e.msg, "does not exist on this architecture"));
#endif
}

static void test_scrule_errno_names(void)
{
    CU_ASSERT_EQUAL(cr_errno_parse("ENOSPC"), ENOSPC);
    CU_ASSERT_EQUAL(cr_errno_parse("EIO"), EIO);
    CU_ASSERT_EQUAL(cr_errno_parse("ECONNRESET"), ECONNRESET);
    /* beyond libfiu's table */
    CU_ASSERT_EQUAL(cr_errno_parse("ETIMEDOUT"), ETIMEDOUT);
    CU_ASSERT_EQUAL(cr_errno_parse("ENOTRECOVERABLE"), ENOTRECOVERABLE);
    CU_ASSERT_EQUAL(cr_errno_parse("enospc"), -1);
    CU_ASSERT_EQUAL(cr_errno_parse("ENOPE"), -1);
    CU_ASSERT_EQUAL(cr_errno_parse(""), -1);
    CU_ASSERT_EQUAL(cr_errno_parse(NULL), -1);
    CU_ASSERT_STRING_EQUAL(cr_errno_name(EDQUOT), "EDQUOT");
    CU_ASSERT_PTR_NULL(cr_errno_name(0));
}

static void test_scrule_argument_table(void)
{
    const cr_sysargs *a = cr_sysargs_find("write");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(a->ref[0].kind, CR_SYSARG_FD);
    CU_ASSERT_EQUAL(a->ref[0].idx, 0);
    CU_ASSERT_EQUAL(a->ref[1].kind, CR_SYSARG_NONE);
    a = cr_sysargs_find("openat");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(a->ref[0].kind, CR_SYSARG_AT);
    CU_ASSERT_EQUAL(a->ref[0].at, 0);
    CU_ASSERT_EQUAL(a->ref[0].idx, 1);
    a = cr_sysargs_find("renameat2");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(a->ref[1].kind, CR_SYSARG_AT);
    CU_ASSERT_EQUAL(a->ref[1].at, 2);
    CU_ASSERT_EQUAL(a->ref[1].idx, 3);
    a = cr_sysargs_find("mmap");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(a->ref[0].idx, 4);
    CU_ASSERT_PTR_NULL(cr_sysargs_find("getpid"));
    CU_ASSERT_PTR_NULL(cr_sysargs_find("brk"));
    /* Every name of the table is a real system call here (or at least one
     * libseccomp knows: a few, like open, do not exist on arm64). */
    const char *names[] = {"read",   "pwritev2",        "sendmmsg",  "openat2",
                           "statx",  "linkat",          "symlinkat", "truncate",
                           "splice", "copy_file_range", NULL};
    for (size_t i = 0; names[i]; i++) {
        CU_ASSERT_PTR_NOT_NULL(cr_sysargs_find(names[i]));
        CU_ASSERT(cr_sys_nr(names[i]) >= 0);
    }
}

static void test_scrule_add_and_path_check(void)
{
    cr_scrule r;
    cr_err e;
    memset(&r, 0, sizeof r);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_scrule_add(&r, "write", &e), 0);
    CU_ASSERT_EQUAL(cr_scrule_add(&r, "fsync", &e), 0);
    CU_ASSERT_EQUAL(cr_scrule_add(&r, "write", &e), 0); /* once only */
    CU_ASSERT_EQUAL(r.nsys, 2);
    CU_ASSERT_EQUAL(cr_scrule_index(&r, SYS_fsync), 1);
    CU_ASSERT_EQUAL(cr_scrule_index(&r, SYS_read), -1);
    CU_ASSERT_STRING_EQUAL(r.name[1], "fsync");
    CU_ASSERT_EQUAL(cr_scrule_add(&r, "fsink", &e), CR_EINVAL);
    CU_ASSERT_EQUAL(r.nsys, 2);
    strcpy(r.path, "/data");
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_scrule_check_path(&r, &e), 0);
    CU_ASSERT_EQUAL(cr_scrule_add(&r, "getpid", &e), 0);
    CU_ASSERT_EQUAL(cr_scrule_check_path(&r, &e), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "cannot judge getpid"));
    r.path[0] = '\0'; /* no filter: any call will do */
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_scrule_check_path(&r, &e), 0);
}

static void test_scrule_presets(void)
{
    const cr_scpreset *p = cr_scpreset_find("disk_full");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_STRING_EQUAL(p->errno_name, "ENOSPC");
    CU_ASSERT_STRING_EQUAL(p->path, "/");
    p = cr_scpreset_find("slow_disk");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_PTR_NULL(p->errno_name);
    CU_ASSERT(p->delay_ms > 0);
    p = cr_scpreset_find("slow_net");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_STRING_EQUAL(p->path, "socket:");
    p = cr_scpreset_find("oom");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_PTR_NOT_NULL(p->refused);
    CU_ASSERT_PTR_NOT_NULL(strstr(p->refused, "not system calls"));
    CU_ASSERT_PTR_NULL(cr_scpreset_find("full_disk"));
    /* Every preset that is not refused names real system calls, each one
     * the path filter can judge when the preset has a path. */
    const cr_scpreset *const *all = cr_scpresets();
    size_t n = 0;
    for (size_t i = 0; all[i]; i++, n++) {
        cr_scrule r;
        cr_err e;
        memset(&r, 0, sizeof r);
        cr_err_clear(&e);
        if (all[i]->refused)
            continue;
        CU_ASSERT_PTR_NOT_NULL(all[i]->syscalls[0]);
        for (size_t k = 0; all[i]->syscalls[k]; k++)
            CU_ASSERT_EQUAL(cr_scrule_add(&r, all[i]->syscalls[k], &e), 0);
        if (all[i]->path)
            snprintf(r.path, sizeof r.path, "%s", all[i]->path);
        CU_ASSERT_EQUAL(cr_scrule_check_path(&r, &e), 0);
        if (e.code)
            fprintf(stderr, "%s: %s\n", all[i]->name, e.msg);
        CU_ASSERT(all[i]->errno_name == NULL ||
                  cr_errno_parse(all[i]->errno_name) > 0);
        CU_ASSERT(all[i]->errno_name != NULL || all[i]->delay_ms > 0);
    }
    CU_ASSERT_EQUAL(n, 8);
}

static void rule_init(cr_scrule *r, double prob, uint64_t count, int errnum,
                      double delay, double jitter)
{
    memset(r, 0, sizeof *r);
    r->probability = prob;
    r->count = count;
    r->errnum = errnum;
    r->delay_ms = delay;
    r->jitter_ms = jitter;
}

static void test_scrule_decide_every_and_count(void)
{
    cr_scrule r;
    cr_scdraw d;
    cr_scverdict v;
    rule_init(&r, 1, 0, EIO, 0, 0);
    cr_scdraw_init(&d, 42, "a");
    for (int i = 0; i < 100; i++) {
        CU_ASSERT_EQUAL(cr_scrule_decide(&r, &d, &v), 1);
        CU_ASSERT_EQUAL(v.errnum, EIO);
        CU_ASSERT_EQUAL(v.delay_ns, 0);
    }
    CU_ASSERT_EQUAL(d.faulted, 100);
    /* count 3: the first three, then none */
    rule_init(&r, 1, 3, ENOSPC, 0, 0);
    cr_scdraw_init(&d, 42, "a");
    int got[6];
    for (int i = 0; i < 6; i++)
        got[i] = cr_scrule_decide(&r, &d, &v);
    CU_ASSERT(got[0] && got[1] && got[2]);
    CU_ASSERT(!got[3] && !got[4] && !got[5]);
    CU_ASSERT_EQUAL(v.errnum, 0); /* a pass says nothing */
    /* probability 0: never */
    rule_init(&r, 0, 0, EIO, 0, 0);
    cr_scdraw_init(&d, 42, "a");
    for (int i = 0; i < 1000; i++)
        CU_ASSERT_EQUAL(cr_scrule_decide(&r, &d, &v), 0);
}

static void test_scrule_decide_seeded(void)
{
    cr_scrule r;
    cr_scdraw a, b, c;
    cr_scverdict v;
    rule_init(&r, 0.3, 0, EIO, 0, 0);
    cr_scdraw_init(&a, 7, "syscall:f:0:w.0");
    cr_scdraw_init(&b, 7, "syscall:f:0:w.0");
    cr_scdraw_init(&c, 7, "syscall:f:0:w.1");
    int same = 1, differ = 0, hits = 0;
    for (int i = 0; i < 10000; i++) {
        int x = cr_scrule_decide(&r, &a, &v);
        int y = cr_scrule_decide(&r, &b, &v);
        int z = cr_scrule_decide(&r, &c, &v);
        same &= x == y;
        differ |= x != z;
        hits += x;
    }
    CU_ASSERT(same);   /* same seed and label: same verdicts */
    CU_ASSERT(differ); /* another replica: another stream */
    /* 3000 expected; 6 sigma is about 275 */
    CU_ASSERT(hits > 2700 && hits < 3300);
    /* at most count, with probability below 1 */
    rule_init(&r, 0.5, 10, EIO, 0, 0);
    cr_scdraw_init(&a, 7, "x");
    hits = 0;
    int first_pass = -1;
    for (int i = 0; i < 1000; i++) {
        int x = cr_scrule_decide(&r, &a, &v);
        hits += x;
        if (!x && first_pass < 0)
            first_pass = i;
    }
    CU_ASSERT_EQUAL(hits, 10);
    CU_ASSERT(first_pass >= 0 && first_pass < 10); /* not simply the first 10 */
}

static void test_scrule_decide_delay_and_jitter(void)
{
    cr_scrule r;
    cr_scdraw d;
    cr_scverdict v;
    rule_init(&r, 1, 0, 0, 50, 0);
    cr_scdraw_init(&d, 1, "d");
    CU_ASSERT_EQUAL(cr_scrule_decide(&r, &d, &v), 1);
    CU_ASSERT_EQUAL(v.errnum, 0);
    CU_ASSERT_EQUAL(v.delay_ns, 50000000);
    /* delay then fail */
    rule_init(&r, 1, 0, ETIMEDOUT, 20, 0);
    CU_ASSERT_EQUAL(cr_scrule_decide(&r, &d, &v), 1);
    CU_ASSERT_EQUAL(v.errnum, ETIMEDOUT);
    CU_ASSERT_EQUAL(v.delay_ns, 20000000);
    /* jitter: within delay +- jitter, spread, reproducible */
    rule_init(&r, 1, 0, 0, 100, 30);
    cr_scdraw e;
    cr_scdraw_init(&d, 9, "j");
    cr_scdraw_init(&e, 9, "j");
    int64_t lo = INT64_MAX, hi = 0;
    for (int i = 0; i < 2000; i++) {
        cr_scverdict w;
        cr_scrule_decide(&r, &d, &v);
        cr_scrule_decide(&r, &e, &w);
        CU_ASSERT_EQUAL(v.delay_ns, w.delay_ns);
        CU_ASSERT(v.delay_ns >= 70000000 && v.delay_ns <= 130000000);
        lo = v.delay_ns < lo ? v.delay_ns : lo;
        hi = v.delay_ns > hi ? v.delay_ns : hi;
    }
    CU_ASSERT(lo < 75000000 && hi > 125000000);
    /* jitter larger than the delay never gives a negative delay */
    rule_init(&r, 1, 0, 0, 1, 5);
    for (int i = 0; i < 200; i++) {
        cr_scrule_decide(&r, &d, &v);
        CU_ASSERT(v.delay_ns >= 0);
    }
}

static void test_scrule_path_normalize(void)
{
    char out[64];
    struct {
        const char *in, *want;
    } ok[] = {
        {"/", "/"},
        {"/data/", "/data"},
        {"//data//x/", "/data/x"},
        {"/data/./x", "/data/x"},
        {"/data/x/../y", "/data/y"},
        {"/../..", "/"},
        {"/a/b/../../c", "/c"},
        {"/a/..b", "/a/..b"},
        {"/a/.", "/a"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        CU_ASSERT_EQUAL(cr_scpath_normalize(ok[i].in, out, sizeof out), 0);
        CU_ASSERT_STRING_EQUAL(out, ok[i].want);
    }
    CU_ASSERT_EQUAL(cr_scpath_normalize("data", out, sizeof out), -1);
    CU_ASSERT_EQUAL(cr_scpath_normalize(NULL, out, sizeof out), -1);
    CU_ASSERT_EQUAL(cr_scpath_normalize("/aaaaaaaaaa/bbbbbbbbbb", out, 12), -1);
    CU_ASSERT_EQUAL(cr_scpath_join("/run/d", "data/x", out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "/run/d/data/x");
    CU_ASSERT_EQUAL(cr_scpath_join("/run/d", "../e", out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "/run/e");
    CU_ASSERT_EQUAL(cr_scpath_join("/run/d", "/abs", out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "/abs");
    CU_ASSERT_EQUAL(cr_scpath_join("socket:[5]", "x", out, sizeof out), -1);
}

static void test_scrule_path_match(void)
{
    CU_ASSERT(cr_scpath_match("/data", "/data"));
    CU_ASSERT(cr_scpath_match("/data", "/data/x/y"));
    CU_ASSERT(cr_scpath_match("/data", "/data//x/../y"));
    CU_ASSERT(!cr_scpath_match("/data", "/database"));
    CU_ASSERT(!cr_scpath_match("/data", "/dat"));
    CU_ASSERT(!cr_scpath_match("/data", "/other/data"));
    CU_ASSERT(!cr_scpath_match("/data", "/data/../etc/passwd"));
    CU_ASSERT(cr_scpath_match("/", "/anything"));
    CU_ASSERT(cr_scpath_match("/", "/dev/null"));
    CU_ASSERT(!cr_scpath_match("/", "socket:[1234]"));
    CU_ASSERT(!cr_scpath_match("/", "pipe:[99]"));
    CU_ASSERT(!cr_scpath_match("/", "anon_inode:[eventfd]"));
    CU_ASSERT(cr_scpath_match("socket:", "socket:[1234]"));
    CU_ASSERT(!cr_scpath_match("socket:", "/tmp/socket:x"));
    CU_ASSERT(!cr_scpath_match("socket:", "pipe:[1]"));
    CU_ASSERT(cr_scpath_match("", "whatever"));
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("scrule", NULL, NULL);
    CR_ADD_TEST(s, test_scrule_syscall_names);
    CR_ADD_TEST(s, test_scrule_errno_names);
    CR_ADD_TEST(s, test_scrule_argument_table);
    CR_ADD_TEST(s, test_scrule_add_and_path_check);
    CR_ADD_TEST(s, test_scrule_presets);
    CR_ADD_TEST(s, test_scrule_decide_every_and_count);
    CR_ADD_TEST(s, test_scrule_decide_seeded);
    CR_ADD_TEST(s, test_scrule_decide_delay_and_jitter);
    CR_ADD_TEST(s, test_scrule_path_normalize);
    CR_ADD_TEST(s, test_scrule_path_match);
}
