/* Tests of base/cr_dirfd: files of a run directory reached through a
 * directory fd, and what is planted in it refused rather than followed. */
#include "cr_test.h"

#include "base/cr_dirfd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A temporary tree per test: root/ (the place things are planted) and
 * root/victim (a file that must never change). */
static char *root;
static char victim[PATH_MAX];

static void put(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    CU_ASSERT_FATAL(fp != NULL);
    fputs(text, fp);
    fclose(fp);
}

static char *slurp(const char *path)
{
    static char buf[4096];
    FILE *fp = fopen(path, "r");
    if (!fp)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static const char *at(const char *rel)
{
    return cr_test_path(root, rel);
}

static int setup(void)
{
    root = cr_test_tmpdir();
    if (!root)
        return 1;
    snprintf(victim, sizeof victim, "%s/victim", root);
    FILE *fp = fopen(victim, "w");
    if (!fp)
        return 1;
    fputs("precious", fp);
    fclose(fp);
    return 0;
}

static int teardown(void)
{
    cr_test_rmtree(root);
    root = NULL;
    return 0;
}

static void victim_intact(void)
{
    const char *v = slurp(victim);
    CU_ASSERT_PTR_NOT_NULL(v);
    if (v)
        CU_ASSERT_STRING_EQUAL(v, "precious");
}

static void test_dirfd_claim_new(void)
{
    cr_err e;
    cr_err_clear(&e);
    int fd = cr_dir_claim(at("a/b/run"), 0, &e);
    CU_ASSERT_FATAL(fd >= 0);
    struct stat st;
    CU_ASSERT(fstat(fd, &st) == 0 && S_ISDIR(st.st_mode));
    close(fd);
    /* CR_DIR_NEW: an existing one is reported as such. */
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_dir_claim(at("a/b/run"), CR_DIR_NEW, &e), CR_ESTATE);
    /* Without: the empty directory is adopted. */
    cr_err_clear(&e);
    fd = cr_dir_claim(at("a/b/run"), 0, &e);
    CU_ASSERT(fd >= 0);
    if (fd >= 0)
        close(fd);
}

static void test_dirfd_claim_adopts_empty_only(void)
{
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_FATAL(mkdir(at("r"), 0777) == 0);
    chmod(at("r"), 0777);
    int fd = cr_dir_claim(at("r"), 0, &e);
    CU_ASSERT_FATAL(fd >= 0);
    struct stat st;
    CU_ASSERT(stat(at("r"), &st) == 0 && (st.st_mode & 022) == 0);
    close(fd);
    /* Something inside: refused, with or without --force when it is not
     * a chaosrun output. */
    put(at("r/mine.txt"), "x");
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_dir_claim(at("r"), 0, &e), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "not empty"));
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_dir_claim(at("r"), CR_DIR_FORCE, &e), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "no chaosrun output"));
    CU_ASSERT_EQUAL(access(at("r/mine.txt"), F_OK), 0);
}

static void test_dirfd_claim_force_stays_inside(void)
{
    cr_err e;
    cr_err_clear(&e);
    /* An earlier run, with links out of it: to the victim and to a
     * directory outside whose file must survive. */
    CU_ASSERT_FATAL(mkdir(at("outside"), 0755) == 0);
    put(at("outside/keep"), "keep");
    CU_ASSERT_FATAL(mkdir(at("run"), 0755) == 0);
    put(at("run/journal.json"), "{}");
    CU_ASSERT_FATAL(mkdir(at("run/logs"), 0755) == 0);
    put(at("run/logs/a.log"), "x");
    CU_ASSERT_FATAL(symlink(victim, at("run/report.html")) == 0);
    CU_ASSERT_FATAL(symlink(at("outside"), at("run/logs/dirlink")) == 0);
    CU_ASSERT_FATAL(mkfifo(at("run/fifo"), 0600) == 0);
    int fd = cr_dir_claim(at("run"), CR_DIR_FORCE, &e);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(cr_dir_is_empty(fd, NULL, 0, &e), 1);
    close(fd);
    victim_intact();
    const char *k = slurp(at("outside/keep"));
    CU_ASSERT(k && strcmp(k, "keep") == 0);
}

static void test_dirfd_claim_refuses_links(void)
{
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_FATAL(mkdir(at("real"), 0755) == 0);
    CU_ASSERT_FATAL(symlink(at("real"), at("link")) == 0);
    CU_ASSERT_EQUAL(cr_dir_claim(at("link"), 0, &e), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "symbolic link"));
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_dir_claim(victim, CR_DIR_FORCE, &e), CR_EINVAL);
    victim_intact();
}

static void test_dirfd_claim_other_owner(void)
{
    if (geteuid() != 0)
        return; /* needs root to make a directory of another user */
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_FATAL(mkdir(at("theirs"), 0755) == 0);
    CU_ASSERT_FATAL(chown(at("theirs"), 65534, 65534) == 0);
    CU_ASSERT_EQUAL(cr_dir_claim(at("theirs"), 0, &e), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "owned by uid 65534"));
}

static void test_dirfd_create_refuses_plants(void)
{
    cr_err e;
    cr_err_clear(&e);
    int d = cr_dir_open(root, &e);
    CU_ASSERT_FATAL(d >= 0);
    CU_ASSERT_FATAL(symlink(victim, at("ledger")) == 0);
    CU_ASSERT_EQUAL(cr_dir_create(d, "ledger", O_WRONLY, 0600, &e), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "exists"));
    victim_intact();
    cr_err_clear(&e);
    int fd = cr_dir_create(d, "fresh", O_WRONLY, 0600, &e);
    CU_ASSERT(fd >= 0);
    if (fd >= 0)
        close(fd);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_dir_create(d, "../x", O_WRONLY, 0600, &e), CR_EINVAL);
    close(d);
}

static void test_dirfd_append_refuses_plants(void)
{
    cr_err e;
    int d = cr_dir_open(root, NULL);
    CU_ASSERT_FATAL(d >= 0);
    CU_ASSERT_FATAL(symlink(victim, at("sym.log")) == 0);
    CU_ASSERT_FATAL(link(victim, at("hard.log")) == 0);
    CU_ASSERT_FATAL(mkfifo(at("fifo.log"), 0600) == 0);
    const char *bad[] = {"sym.log", "hard.log", "fifo.log"};
    for (size_t i = 0; i < 3; i++) {
        cr_err_clear(&e);
        int fd = cr_dir_append(d, bad[i], 0644, &e);
        CU_ASSERT_EQUAL(fd, CR_EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "refused"));
        if (fd >= 0)
            close(fd);
    }
    victim_intact();
    /* A fresh file, then appended to. */
    for (int k = 0; k < 2; k++) {
        cr_err_clear(&e);
        int fd = cr_dir_append(d, "ok.log", 0644, &e);
        CU_ASSERT_FATAL(fd >= 0);
        CU_ASSERT_EQUAL(write(fd, "ab", 2), 2);
        close(fd);
    }
    CU_ASSERT_STRING_EQUAL(slurp(at("ok.log")), "abab");
    if (geteuid() == 0) {
        put(at("theirs.log"), "");
        CU_ASSERT_FATAL(chown(at("theirs.log"), 65534, 65534) == 0);
        cr_err_clear(&e);
        CU_ASSERT_EQUAL(cr_dir_append(d, "theirs.log", 0644, &e), CR_EINVAL);
    }
    close(d);
}

static void test_dirfd_open_read_stays_below(void)
{
    cr_err e;
    int d = cr_dir_open(root, NULL);
    CU_ASSERT_FATAL(d >= 0);
    CU_ASSERT_FATAL(mkdir(at("logs"), 0755) == 0);
    put(at("logs/a.log"), "line");
    CU_ASSERT_FATAL(symlink(victim, at("logs/b.log")) == 0);
    CU_ASSERT_FATAL(symlink(at("logs"), at("linkdir")) == 0);
    cr_err_clear(&e);
    int fd = cr_dir_open_read(d, "logs/a.log", &e);
    CU_ASSERT(fd >= 0);
    if (fd >= 0)
        close(fd);
    const char *bad[] = {"logs/b.log",     "linkdir/a.log", "../victim",
                         "logs/../victim", "/etc/passwd",   "logs"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_err_clear(&e);
        fd = cr_dir_open_read(d, bad[i], &e);
        CU_ASSERT_EQUAL(fd, CR_EINVAL);
        if (fd >= 0)
            close(fd);
    }
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_dir_open_read(d, "logs/none.log", &e), CR_ENOTFOUND);
    cr_err_clear(&e);
    FILE *fp = cr_dir_fopen_in(root, "logs/a.log", &e);
    CU_ASSERT_PTR_NOT_NULL(fp);
    if (fp)
        fclose(fp);
    close(d);
}

static void test_dirfd_replace_never_follows(void)
{
    cr_err e;
    int d = cr_dir_open(root, NULL);
    CU_ASSERT_FATAL(d >= 0);
    /* The names the old writers used, planted. */
    CU_ASSERT_FATAL(symlink(victim, at("report.html")) == 0);
    CU_ASSERT_FATAL(symlink(victim, at("report.html.tmp")) == 0);
    CU_ASSERT_FATAL(symlink(victim, at(".journal.json.tmp")) == 0);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_dir_write(d, "report.html", "<html>", 6, 0644, &e), 0);
    victim_intact();
    struct stat st;
    CU_ASSERT(lstat(at("report.html"), &st) == 0 && S_ISREG(st.st_mode));
    CU_ASSERT_STRING_EQUAL(slurp(at("report.html")), "<html>");
    /* stdio through the temporary file, then an abort leaves nothing. */
    cr_dir_tmp t;
    cr_err_clear(&e);
    CU_ASSERT_FATAL(cr_dir_tmp_open(&t, d, "journal.json", 0644, &e) == 0);
    FILE *fp = cr_dir_tmp_file(&t);
    CU_ASSERT_FATAL(fp != NULL);
    fputs("{}", fp);
    CU_ASSERT_EQUAL(cr_dir_tmp_commit(&t, &e), 0);
    CU_ASSERT_STRING_EQUAL(slurp(at("journal.json")), "{}");
    CU_ASSERT_FATAL(cr_dir_tmp_open(&t, d, "other.json", 0644, &e) == 0);
    char tmp[sizeof t.tmp];
    snprintf(tmp, sizeof tmp, "%s", t.tmp);
    cr_dir_tmp_abort(&t);
    CU_ASSERT_NOT_EQUAL(access(at(tmp), F_OK), 0);
    CU_ASSERT_NOT_EQUAL(access(at("other.json"), F_OK), 0);
    victim_intact();
    close(d);
}

static void test_dirfd_remove_stays_inside(void)
{
    cr_err e;
    int d = cr_dir_open(root, NULL);
    CU_ASSERT_FATAL(d >= 0);
    CU_ASSERT_FATAL(mkdir(at("outside"), 0755) == 0);
    put(at("outside/keep"), "keep");
    CU_ASSERT_FATAL(mkdir(at("fiu"), 0755) == 0);
    CU_ASSERT_FATAL(mkdir(at("fiu/svc"), 0755) == 0);
    CU_ASSERT_FATAL(mkfifo(at("fiu/svc/ctl-1.in"), 0600) == 0);
    CU_ASSERT_FATAL(symlink(at("outside"), at("fiu/svc/out")) == 0);
    CU_ASSERT_FATAL(symlink(victim, at("fiu/v")) == 0);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_dir_remove(d, "fiu", &e), 0);
    CU_ASSERT_NOT_EQUAL(access(at("fiu"), F_OK), 0);
    CU_ASSERT_EQUAL(access(at("outside/keep"), F_OK), 0);
    victim_intact();
    /* A link where a directory was expected is left alone. */
    CU_ASSERT_FATAL(symlink(at("outside"), at("fiu")) == 0);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_dir_remove(d, "fiu", &e), CR_EINVAL);
    CU_ASSERT_EQUAL(access(at("outside/keep"), F_OK), 0);
    struct stat st;
    CU_ASSERT(lstat(at("fiu"), &st) == 0 && S_ISLNK(st.st_mode));
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_dir_remove(d, "missing", &e), 0);
    close(d);
}

static void test_dirfd_private(void)
{
    cr_err e;
    cr_err_clear(&e);
    int fd = cr_dir_private(at("idx"), &e);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    struct stat st;
    CU_ASSERT(stat(at("idx"), &st) == 0 && (st.st_mode & 0777) == 0700);
    CU_ASSERT_FATAL(mkdir(at("open"), 0700) == 0);
    chmod(at("open"), 0777);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_dir_private(at("open"), &e), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "writable by others"));
    CU_ASSERT_FATAL(symlink(at("idx"), at("idxlink")) == 0);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_dir_private(at("idxlink"), &e), CR_EINVAL);
    if (geteuid() == 0) {
        CU_ASSERT_FATAL(mkdir(at("theirs"), 0700) == 0);
        CU_ASSERT_FATAL(chown(at("theirs"), 65534, 65534) == 0);
        cr_err_clear(&e);
        CU_ASSERT_EQUAL(cr_dir_private(at("theirs"), &e), CR_EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "owned by uid 65534"));
    }
}

static void test_dirfd_mkdir(void)
{
    cr_err e;
    int d = cr_dir_open(root, NULL);
    CU_ASSERT_FATAL(d >= 0);
    cr_err_clear(&e);
    int fd = cr_dir_mkdir(d, "logs", 0755, 1, &e);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_dir_mkdir(d, "logs", 0755, 1, &e), CR_EINVAL);
    cr_err_clear(&e);
    fd = cr_dir_mkdir(d, "logs", 0755, 0, &e);
    CU_ASSERT(fd >= 0);
    if (fd >= 0)
        close(fd);
    CU_ASSERT_FATAL(symlink(root, at("dl")) == 0);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_dir_mkdir(d, "dl", 0755, 0, &e), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "symbolic link"));
    char path[PATH_MAX], real[PATH_MAX];
    CU_ASSERT_EQUAL(cr_dir_path(d, path, sizeof path, &e), 0);
    CU_ASSERT_PTR_NOT_NULL(realpath(root, real));
    CU_ASSERT_STRING_EQUAL(path, real);
    close(d);
}

void cr_test_register(void)
{
    /* One suite per test: each gets a fresh tree from setup(). */
    static const cr_test_case tests[] = {
        CR_TEST_CASE(test_dirfd_claim_new),
        CR_TEST_CASE(test_dirfd_claim_adopts_empty_only),
        CR_TEST_CASE(test_dirfd_claim_force_stays_inside),
        CR_TEST_CASE(test_dirfd_claim_refuses_links),
        CR_TEST_CASE(test_dirfd_claim_other_owner),
        CR_TEST_CASE(test_dirfd_create_refuses_plants),
        CR_TEST_CASE(test_dirfd_append_refuses_plants),
        CR_TEST_CASE(test_dirfd_open_read_stays_below),
        CR_TEST_CASE(test_dirfd_replace_never_follows),
        CR_TEST_CASE(test_dirfd_remove_stays_inside),
        CR_TEST_CASE(test_dirfd_private),
        CR_TEST_CASE(test_dirfd_mkdir),
    };
    cr_test_add_each(tests, sizeof tests / sizeof tests[0], setup, teardown);
}
