/* Tests for cr_fiupt: errno names, the failure point table (against the
 * installed fiu_posix_preload.so), wildcard matching, validation of points
 * and errno, and the presets. */
#include "faults/syscall/cr_fiupt.h"
#include "cr_test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_fiupt_errno_names(void)
{
    CU_ASSERT_EQUAL(cr_fiupt_errno_parse("ENOSPC"), ENOSPC);
    CU_ASSERT_EQUAL(cr_fiupt_errno_parse("EIO"), EIO);
    CU_ASSERT_EQUAL(cr_fiupt_errno_parse("ECONNREFUSED"), ECONNREFUSED);
    CU_ASSERT_EQUAL(cr_fiupt_errno_parse("enospc"), -1);
    CU_ASSERT_EQUAL(cr_fiupt_errno_parse("ENOPE"), -1);
    CU_ASSERT_EQUAL(cr_fiupt_errno_parse(""), -1);
    CU_ASSERT_EQUAL(cr_fiupt_errno_parse(NULL), -1);
    CU_ASSERT_STRING_EQUAL(cr_fiupt_errno_name(ENOMEM), "ENOMEM");
    CU_ASSERT_PTR_NULL(cr_fiupt_errno_name(0));
    /* Every errno named in the table parses, and round-trips. */
    size_t n;
    const cr_fiupt_point *t = cr_fiupt_table(&n);
    for (size_t i = 0; i < n; i++) {
        char buf[1024], *save = NULL;
        snprintf(buf, sizeof buf, "%s", t[i].errnos);
        for (char *tok = strtok_r(buf, " ", &save); tok;
             tok = strtok_r(NULL, " ", &save)) {
            int e = cr_fiupt_errno_parse(tok);
            CU_ASSERT(e > 0);
            if (e <= 0)
                fprintf(stderr, "unknown errno %s in %s\n", tok, t[i].name);
            CU_ASSERT(cr_fiupt_point_allows(&t[i], e));
        }
    }
}

/* Every name in our table is a string in the installed preload library,
 * and every failure point string there is in our table. */
static void test_fiupt_table_matches_preload(void)
{
    const char *dir = getenv("CHAOSRUN_FIU_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/fiu_posix_preload.so",
             dir ? dir : CR_FIU_DIR);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "%s not installed: table check not run\n", path);
        return;
    }
    char *data = malloc(8 << 20);
    size_t len = data ? fread(data, 1, (8 << 20) - 1, fp) : 0;
    fclose(fp);
    CU_ASSERT_FATAL(data && len > 0);
    data[len] = '\0';
    size_t n, found = 0;
    cr_fiupt_table(&n);
    /* Strings of the library: NUL-separated runs. */
    for (size_t i = 0; i < len;) {
        const char *s = data + i;
        size_t sl = strnlen(s, len - i);
        if (strncmp(s, "posix/", 6) == 0 || strncmp(s, "libc/", 5) == 0 ||
            strncmp(s, "linux/", 6) == 0) {
            found++;
            CU_ASSERT_EQUAL(cr_fiupt_match(s, NULL, 0), 1);
            if (cr_fiupt_match(s, NULL, 0) != 1)
                fprintf(stderr, "point %s missing from the table\n", s);
        }
        i += sl + 1;
    }
    CU_ASSERT_EQUAL(found, n);
    free(data);
}

static void test_fiupt_match(void)
{
    const cr_fiupt_point *m[64];
    CU_ASSERT_EQUAL(cr_fiupt_match("posix/io/rw/write", m, 64), 1);
    CU_ASSERT_STRING_EQUAL(m[0]->name, "posix/io/rw/write");
    CU_ASSERT_EQUAL(cr_fiupt_match("posix/io/sync/*", m, 64), 2);
    CU_ASSERT_EQUAL(cr_fiupt_match("libc/mm/*", m, 64), 3);
    /* a plain prefix: write, write/reduce, writev, writev/reduce */
    CU_ASSERT_EQUAL(cr_fiupt_match("posix/io/rw/write*", m, 64), 4);
    CU_ASSERT_EQUAL(cr_fiupt_match("posix/io/rw/writ", m, 64), 0);
    CU_ASSERT_EQUAL(cr_fiupt_match("nope/*", m, 64), 0);
    size_t n;
    cr_fiupt_table(&n);
    CU_ASSERT_EQUAL(cr_fiupt_match("*", NULL, 0), n);
}

static int check1(const char *name, int *errnum, cr_err *e)
{
    const char *v[1] = {name};
    cr_err_clear(e);
    return cr_fiupt_check(v, 1, errnum, e);
}

static void test_fiupt_check_errno(void)
{
    cr_err e;
    int en = ENOSPC;
    CU_ASSERT_EQUAL(check1("posix/io/rw/write", &en, &e), 0);
    CU_ASSERT_EQUAL(en, ENOSPC);
    en = ENOSPC;
    CU_ASSERT_EQUAL(check1("posix/io/rw/read", &en, &e), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "ENOSPC cannot be returned by "
                                         "posix/io/rw/read"));
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "EIO"));
    /* wildcard: names the point that cannot, and the pattern */
    en = ENOSPC;
    CU_ASSERT_EQUAL(check1("posix/io/rw/*", &en, &e), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "(matched by posix/io/rw/*)"));
    en = EIO;
    CU_ASSERT_EQUAL(check1("posix/io/rw/*", &en, &e), 0);
    /* ECONNREFUSED only for connect */
    en = ECONNREFUSED;
    CU_ASSERT_EQUAL(check1("posix/io/net/connect", &en, &e), 0);
    en = ECONNREFUSED;
    CU_ASSERT_EQUAL(check1("posix/io/net/send", &en, &e), CR_EINVAL);
}

static void test_fiupt_check_default_errno(void)
{
    cr_err e;
    int en = 0;
    CU_ASSERT_EQUAL(check1("posix/io/rw/write", &en, &e), 0);
    CU_ASSERT_EQUAL(en, EIO);
    en = 0;
    CU_ASSERT_EQUAL(check1("libc/mm/malloc", &en, &e), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "errno is required"));
    /* points that set no errno: none given stays none; one given is wrong */
    en = 0;
    CU_ASSERT_EQUAL(check1("posix/io/rw/write/reduce", &en, &e), 0);
    CU_ASSERT_EQUAL(en, 0);
    en = EIO;
    CU_ASSERT_EQUAL(check1("posix/io/rw/write/reduce", &en, &e), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "sets no errno"));
}

static void test_fiupt_check_names(void)
{
    cr_err e;
    int en = EIO;
    CU_ASSERT_EQUAL(check1("posix/io/rw/wirte", &en, &e), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "\"posix/io/rw/wirte\" is not one"));
    CU_ASSERT_EQUAL(check1("posix/io/rw/write,failinfo=1", &en, &e), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "only letters"));
    CU_ASSERT_EQUAL(check1("posix/io/rw/write ", &en, &e), CR_EINVAL);
    CU_ASSERT_EQUAL(check1("posix/*/write", &en, &e), CR_EINVAL);
    CU_ASSERT_EQUAL(check1("", &en, &e), CR_EINVAL);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_fiupt_check(NULL, 0, &en, &e), CR_EINVAL);
    /* several: the bad one is named */
    const char *v[] = {"posix/io/rw/write", "posix/io/rw/read"};
    en = ENOSPC;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_fiupt_check(v, 2, &en, &e), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "posix/io/rw/read"));
}

static void test_fiupt_presets_are_valid(void)
{
    const cr_fiupt_preset *const *p = cr_fiupt_presets();
    size_t k = 0;
    for (; p[k]; k++) {
        cr_err e;
        cr_err_clear(&e);
        size_t n = 0;
        while (p[k]->points[n])
            n++;
        CU_ASSERT(n > 0);
        int en = cr_fiupt_errno_parse(p[k]->errno_name);
        CU_ASSERT(en > 0);
        CU_ASSERT_EQUAL(cr_fiupt_check(p[k]->points, n, &en, &e), 0);
        if (e.code)
            fprintf(stderr, "preset %s: %s\n", p[k]->name, e.msg);
        CU_ASSERT_PTR_EQUAL(cr_fiupt_preset_find(p[k]->name), p[k]);
    }
    CU_ASSERT_EQUAL(k, 6);
    CU_ASSERT_PTR_NULL(cr_fiupt_preset_find("disk-full"));
    const cr_fiupt_preset *d = cr_fiupt_preset_find("disk_full");
    CU_ASSERT_STRING_EQUAL(d->errno_name, "ENOSPC");
    CU_ASSERT_STRING_EQUAL(d->points[0], "posix/io/rw/write");
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("fiupt", NULL, NULL);
    CR_ADD_TEST(s, test_fiupt_errno_names);
    CR_ADD_TEST(s, test_fiupt_table_matches_preload);
    CR_ADD_TEST(s, test_fiupt_match);
    CR_ADD_TEST(s, test_fiupt_check_errno);
    CR_ADD_TEST(s, test_fiupt_check_default_errno);
    CR_ADD_TEST(s, test_fiupt_check_names);
    CR_ADD_TEST(s, test_fiupt_presets_are_valid);
}
