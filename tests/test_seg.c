/* Tests of base/cr_seg and base/cr_zst: an append-only file cut into
 * zstd segments by offset while a writer keeps appending, its index, and
 * the one reader that gives back what was written, byte for byte. */
#include "cr_test.h"

#include "base/cr_dirfd.h"
#include "base/cr_seg.h"
#include "base/cr_zst.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LIVE "events.live.jsonl"

static char *root;
static int dfd = -1;
/* Everything the writer appended, to compare with. */
static char *wrote;
static size_t nwrote, capwrote;

static int setup(void)
{
    root = cr_test_tmpdir();
    nwrote = 0;
    if (!root || (dfd = open(root, O_DIRECTORY | O_CLOEXEC)) < 0)
        return 1;
    return 0;
}

static int teardown(void)
{
    if (dfd >= 0)
        close(dfd);
    dfd = -1;
    cr_test_rmtree(root);
    root = NULL;
    free(wrote);
    wrote = NULL;
    capwrote = nwrote = 0;
    return 0;
}

static const char *at(const char *rel)
{
    return cr_test_path(root, rel);
}

/* The writer: an O_APPEND fd of its own, as a service holds. */
static int writer_open(const char *rel)
{
    int fd = open(at(rel), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    CU_ASSERT_FATAL(fd >= 0);
    return fd;
}

/* Append lines until about n bytes more were written. */
static void write_lines(int fd, size_t n)
{
    static unsigned id;
    char line[160];
    size_t target = nwrote + n;
    while (nwrote < target) {
        int k = snprintf(line, sizeof line,
                         "{\"ts\":%u.5,\"svc\":\"w\",\"ev\":\"delivered\","
                         "\"id\":\"r%u\",\"pad\":\"%0*u\"}\n",
                         1764200000u + id / 1000, id, (int)(id % 37), id);
        id++;
        CU_ASSERT_FATAL(write(fd, line, (size_t)k) == k);
        if (nwrote + (size_t)k > capwrote) {
            capwrote = (nwrote + (size_t)k) * 2;
            wrote = realloc(wrote, capwrote);
            CU_ASSERT_FATAL(wrote != NULL);
        }
        memcpy(wrote + nwrote, line, (size_t)k);
        nwrote += (size_t)k;
    }
}

/* Read all of rel through the reader. */
static char *read_all(const char *rel, size_t *n, cr_err *e)
{
    cr_seg_reader *r;
    if (cr_seg_reader_open(&r, dfd, rel, e) != 0)
        return NULL;
    size_t cap = cr_seg_reader_size(r) + 1, len = 0;
    char *buf = malloc(cap);
    CU_ASSERT_FATAL(buf != NULL);
    for (;;) {
        ssize_t k = cr_seg_reader_read(r, buf + len, 7000, e);
        if (k < 0) {
            free(buf);
            buf = NULL;
            break;
        }
        if (k == 0)
            break;
        len += (size_t)k;
        CU_ASSERT_FATAL(len < cap);
    }
    cr_seg_reader_close(r);
    *n = len;
    return buf;
}

static char *slurp(const char *rel, size_t *n)
{
    FILE *fp = fopen(at(rel), "r");
    if (!fp)
        return NULL;
    char *buf = malloc(1 << 24);
    *n = fread(buf, 1, 1 << 24, fp);
    fclose(fp);
    return buf;
}

static cr_seg *seg_open(const char *live, uint64_t max)
{
    cr_seg *s = NULL;
    cr_err e;
    cr_err_clear(&e);
    int rc = cr_seg_open(&s, dfd, live, 3, max, &e);
    if (rc == CR_EUNSUP)
        cr_test_skip("%s", e.msg);
    if (rc != 0)
        fprintf(stderr, "cr_seg_open: %s\n", e.msg);
    CU_ASSERT_FATAL(rc == 0 && s != NULL);
    return s;
}

static void test_seg_names(void)
{
    char b[64];
    CU_ASSERT_EQUAL(cr_seg_name("events.live.jsonl", 1, b, sizeof b), 0);
    CU_ASSERT_STRING_EQUAL(b, "events.1.jsonl.zst");
    CU_ASSERT_EQUAL(cr_seg_name("events.live.jsonl", 0, b, sizeof b), 0);
    CU_ASSERT_STRING_EQUAL(b, "events.segments");
    CU_ASSERT_EQUAL(cr_seg_name("worker.0.log", 12, b, sizeof b), 0);
    CU_ASSERT_STRING_EQUAL(b, "worker.0.12.log.zst");
    CU_ASSERT_EQUAL(cr_seg_name("worker.0.log", 0, b, sizeof b), 0);
    CU_ASSERT_STRING_EQUAL(b, "worker.0.segments");
    CU_ASSERT_EQUAL(cr_seg_name("nodot", 1, b, sizeof b), CR_EINVAL);
    CU_ASSERT_EQUAL(cr_seg_name("events.live.jsonl", 1, b, 8), CR_EINVAL);
}

/* Cuts while the writer appends: the index, the freed blocks, and the
 * text read back whole, from any offset, through the reader and stdio. */
static void test_seg_cut_read_back(void)
{
    cr_err e;
    cr_err_clear(&e);
    int w = writer_open(LIVE);
    const uint64_t max = 256 * 1024;
    cr_seg *s = seg_open(LIVE, max);
    /* Below max past the last cut: nothing happens. */
    write_lines(w, max - 4096);
    CU_ASSERT_EQUAL(cr_seg_step(s, UINT64_MAX, 1 << 20, &e), 0);
    CU_ASSERT_EQUAL(cr_seg_count(s), 0);
    /* Three cuts by step, in pieces of 64 KiB, the writer between them;
     * each ends at a line's end. */
    for (int c = 0; c < 3; c++) {
        write_lines(w, max + 3000);
        int rc, turns = 0;
        while ((rc = cr_seg_step(s, UINT64_MAX, 65536, &e)) == 1) {
            turns++;
            write_lines(w, 100); /* appended while it compresses */
        }
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        CU_ASSERT(turns >= 3);
        CU_ASSERT_EQUAL(cr_seg_count(s), (size_t)c + 1);
        uint64_t end = cr_seg_end(s);
        CU_ASSERT(wrote[end - 1] == '\n');
    }
    /* One by cr_seg_cut at an exact offset (mid-line: allowed). */
    write_lines(w, 50000);
    uint64_t mid = cr_seg_end(s) + 12345;
    CU_ASSERT_EQUAL(cr_seg_cut(s, mid, &e), 0);
    CU_ASSERT_EQUAL(cr_seg_count(s), 4);
    CU_ASSERT_EQUAL(cr_seg_end(s), mid);
    write_lines(w, 3000); /* the live tail */

    /* The index: one line a segment, ranges back to back. */
    size_t n;
    char *idx = slurp("events.segments", &n);
    CU_ASSERT_FATAL(idx != NULL);
    idx[n] = '\0';
    char want[128];
    snprintf(want, sizeof want, "{\"n\":4,\"from\":%llu,\"to\":%llu}\n",
             (unsigned long long)cr_seg_get(s, 2)->to, (unsigned long long)mid);
    CU_ASSERT_PTR_NOT_NULL(strstr(idx, "{\"n\":1,\"from\":0,\"to\":"));
    CU_ASSERT_PTR_NOT_NULL(strstr(idx, want));
    free(idx);
    for (size_t i = 0; i < cr_seg_count(s); i++) {
        const cr_seg_info *g = cr_seg_get(s, i);
        CU_ASSERT_EQUAL(g->n, i + 1);
        CU_ASSERT_EQUAL(g->from, i ? cr_seg_get(s, i - 1)->to : 0);
        CU_ASSERT(g->bytes > 0 && g->bytes < g->to - g->from);
    }

    /* The live file: its size is what was written; the cut range is a
     * hole (zeros, and its blocks are freed). */
    struct stat st;
    CU_ASSERT_FATAL(stat(at(LIVE), &st) == 0);
    CU_ASSERT_EQUAL((size_t)st.st_size, nwrote);
    CU_ASSERT((uint64_t)st.st_blocks * 512 < nwrote - mid + 65536);
    char *raw = slurp(LIVE, &n);
    CU_ASSERT_EQUAL(n, nwrote);
    CU_ASSERT(raw[0] == 0 && raw[mid / 2] == 0 && raw[mid - 1] == 0);
    CU_ASSERT(memcmp(raw + mid, wrote + mid, nwrote - mid) == 0);
    free(raw);

    /* Read back whole: identical. */
    char *back = read_all(LIVE, &n, &e);
    CU_ASSERT_FATAL(back != NULL);
    CU_ASSERT_EQUAL(n, nwrote);
    CU_ASSERT(n == nwrote && memcmp(back, wrote, n) == 0);
    free(back);

    /* From offsets inside segment 2, at its boundaries and in the tail,
     * through stdio. */
    FILE *fp = cr_seg_fopen(dfd, LIVE, &e);
    CU_ASSERT_FATAL(fp != NULL);
    uint64_t offs[] = {cr_seg_get(s, 1)->from + 777, cr_seg_get(s, 1)->to,
                       cr_seg_get(s, 0)->to - 1, mid + 5, 0};
    char buf[9000];
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        CU_ASSERT_EQUAL_FATAL(fseek(fp, (long)offs[i], SEEK_SET), 0);
        size_t want_n =
            nwrote - offs[i] < sizeof buf ? nwrote - offs[i] : sizeof buf;
        size_t got = fread(buf, 1, sizeof buf, fp);
        CU_ASSERT_EQUAL(got, want_n);
        CU_ASSERT(memcmp(buf, wrote + offs[i], got) == 0);
    }
    CU_ASSERT_EQUAL(fseek(fp, 0, SEEK_END), 0);
    CU_ASSERT_EQUAL((size_t)ftell(fp), nwrote);
    /* Lines through getline, from the start: all of them. */
    rewind(fp);
    char *line = NULL;
    size_t cap = 0, total = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, fp)) > 0)
        total += (size_t)len;
    CU_ASSERT_EQUAL(total, nwrote);
    CU_ASSERT(!ferror(fp));
    free(line);
    fclose(fp);
    cr_seg_close(s);
    close(w);
}

/* A log's live file in a subdirectory, read by its relative path; no
 * index: the live file alone. */
static void test_seg_reader_plain_and_subdir(void)
{
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_FATAL(mkdir(at("logs"), 0755) == 0);
    int w = writer_open("logs/worker.0.log");
    write_lines(w, 10000);
    size_t n;
    char *back = read_all("logs/worker.0.log", &n, &e);
    CU_ASSERT_FATAL(back != NULL);
    CU_ASSERT(n == nwrote && memcmp(back, wrote, n) == 0);
    free(back);
    int ldfd = open(at("logs"), O_DIRECTORY | O_CLOEXEC);
    cr_seg *s = NULL;
    CU_ASSERT_EQUAL_FATAL(cr_seg_open(&s, ldfd, "worker.0.log", 1, 4096, &e),
                          0);
    CU_ASSERT_EQUAL(cr_seg_step(s, UINT64_MAX, 1 << 20, &e), 0);
    CU_ASSERT_EQUAL(cr_seg_count(s), 1);
    /* safe holds the cut back: nothing past it is cut. */
    write_lines(w, 10000);
    CU_ASSERT_EQUAL(cr_seg_step(s, cr_seg_end(s) + 100, 1 << 20, &e), 0);
    CU_ASSERT_EQUAL(cr_seg_count(s), 1);
    write_lines(w, 100);
    back = read_all("logs/worker.0.log", &n, &e);
    CU_ASSERT_FATAL(back != NULL);
    CU_ASSERT(n == nwrote && memcmp(back, wrote, n) == 0);
    free(back);
    CU_ASSERT_EQUAL(access(at("logs/worker.0.1.log.zst"), F_OK), 0);
    CU_ASSERT_EQUAL(access(at("logs/worker.0.segments"), F_OK), 0);
    cr_seg_close(s);
    close(ldfd);
    close(w);
    cr_err_clear(&e);
    cr_seg_reader *r;
    CU_ASSERT_EQUAL(cr_seg_reader_open(&r, dfd, "logs/none.log", &e),
                    CR_ENOTFOUND);
}

/* A link planted where a segment or the index would go: refused, never
 * written through, and nothing of the live file freed. */
static void test_seg_refuses_planted_links(void)
{
    cr_err e;
    cr_err_clear(&e);
    FILE *v = fopen(at("victim"), "w");
    fputs("precious", v);
    fclose(v);
    int w = writer_open(LIVE);
    cr_seg *s = seg_open(LIVE, 8192);
    write_lines(w, 20000);
    CU_ASSERT_FATAL(symlink(at("victim"), at("events.1.jsonl.zst")) == 0);
    CU_ASSERT_EQUAL(cr_seg_step(s, UINT64_MAX, 1 << 20, &e), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "events.1.jsonl.zst"));
    CU_ASSERT_EQUAL(cr_seg_count(s), 0);
    /* The index planted instead: the segment is made, then removed. */
    CU_ASSERT_FATAL(unlink(at("events.1.jsonl.zst")) == 0);
    CU_ASSERT_FATAL(symlink(at("victim"), at("events.segments")) == 0);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_seg_cut(s, 9000, &e), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "events.segments"));
    CU_ASSERT_EQUAL(cr_seg_count(s), 0);
    CU_ASSERT_EQUAL(access(at("events.1.jsonl.zst"), F_OK), -1);
    size_t n;
    char *t = slurp("victim", &n);
    CU_ASSERT(n == 8 && memcmp(t, "precious", 8) == 0);
    free(t);
    t = slurp(LIVE, &n);
    CU_ASSERT(n == nwrote && memcmp(t, wrote, n) == 0);
    free(t);
    cr_seg_close(s);
    /* The live file itself a link: refused. */
    CU_ASSERT_FATAL(symlink(at("victim"), at("x.live.log")) == 0);
    cr_err_clear(&e);
    s = NULL;
    CU_ASSERT_EQUAL(cr_seg_open(&s, dfd, "x.live.log", 3, 4096, &e), CR_EINVAL);
    CU_ASSERT_PTR_NULL(s);
    close(w);
}

static void put_index(const char *text)
{
    FILE *fp = fopen(at("events.segments"), "w");
    fputs(text, fp);
    fclose(fp);
}

/* A bad index: refused, naming its file, line and column. */
static void test_seg_reader_bad_index(void)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"{\"n\":1,\"from\":0,\"to\":10}\n{\"n\":2,\"from\":11,\"to\":20}\n",
         "events.segments:2:8: from is not the previous segment's to"},
        {"{\"n\":2,\"from\":0,\"to\":10}\n",
         "events.segments:1:6: n is not the next segment number"},
        {"{\"n\":1,\"from\":0,\"to\":0}\n",
         "events.segments:1:17: to is not past from"},
        {"{\"n\":1,\"from\":-1,\"to\":10}\n", "events.segments:1:1: expected"},
        {"garbage\n", "events.segments:1:1: expected"},
        {"{\"n\":1,\"from\":0,\"to\":10} x\n", "events.segments:1:1: expected"},
    };
    int w = writer_open(LIVE);
    write_lines(w, 100);
    close(w);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        put_index(cases[i].text);
        cr_err e;
        cr_err_clear(&e);
        cr_seg_reader *r = NULL;
        CU_ASSERT_EQUAL(cr_seg_reader_open(&r, dfd, LIVE, &e), CR_EINVAL);
        CU_ASSERT_PTR_NULL(r);
        if (strncmp(e.msg, cases[i].want, strlen(cases[i].want)) != 0) {
            fprintf(stderr, "case %zu: got \"%s\", want \"%s\"\n", i, e.msg,
                    cases[i].want);
            CU_FAIL("wrong message");
        }
    }
}

/* A segment that does not hold its range (replaced, or cut short):
 * the reader fails instead of handing out other text. */
static void test_seg_reader_checks_segments(void)
{
    cr_err e;
    cr_err_clear(&e);
    int w = writer_open(LIVE);
    cr_seg *s = seg_open(LIVE, 8192);
    write_lines(w, 20000);
    CU_ASSERT_EQUAL_FATAL(cr_seg_cut(s, 10000, &e), 0);
    cr_seg_close(s);
    close(w);
    size_t n;
    char *back = read_all(LIVE, &n, &e);
    CU_ASSERT(back && n == nwrote && memcmp(back, wrote, n) == 0);
    free(back);
    /* A frame of 9999 bytes in place of the 10000. */
    CU_ASSERT_FATAL(unlink(at("events.1.jsonl.zst")) == 0);
    int fd = open(at("events.1.jsonl.zst"), O_WRONLY | O_CREAT, 0644);
    FILE *z = cr_zst_wopen(fd, 3);
    fwrite(wrote, 1, 9999, z);
    CU_ASSERT_EQUAL(fclose(z), 0);
    close(fd);
    cr_err_clear(&e);
    CU_ASSERT_PTR_NULL(read_all(LIVE, &n, &e));
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "events.1.jsonl.zst: cut short"));
    /* One of 10001. */
    fd = open(at("events.1.jsonl.zst"), O_WRONLY | O_TRUNC);
    z = cr_zst_wopen(fd, 3);
    fwrite(wrote, 1, 10001, z);
    fclose(z);
    close(fd);
    cr_err_clear(&e);
    CU_ASSERT_PTR_NULL(read_all(LIVE, &n, &e));
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "holds more bytes"));
    /* Missing. */
    unlink(at("events.1.jsonl.zst"));
    cr_err_clear(&e);
    CU_ASSERT_PTR_NULL(read_all(LIVE, &n, &e));
    CU_ASSERT_EQUAL(e.code, CR_ENOTFOUND);
}

/* cr_zst: what goes in comes out; a frame cut short is an error. */
static void test_zst_round_trip(void)
{
    int w = writer_open("plain");
    write_lines(w, 300000);
    close(w);
    int fd = open(at("t.zst"), O_WRONLY | O_CREAT | O_EXCL, 0644);
    FILE *z = cr_zst_wopen(fd, 3);
    CU_ASSERT_FATAL(z != NULL);
    for (size_t off = 0; off < nwrote; off += 1000)
        fwrite(wrote + off, 1, nwrote - off < 1000 ? nwrote - off : 1000, z);
    CU_ASSERT_EQUAL(fclose(z), 0);
    close(fd);
    struct stat st;
    CU_ASSERT_FATAL(stat(at("t.zst"), &st) == 0);
    CU_ASSERT((size_t)st.st_size < nwrote / 3);
    FILE *in = fopen(at("t.zst"), "r");
    FILE *r = cr_zst_ropen(in);
    char *buf = malloc(nwrote + 10);
    size_t got = fread(buf, 1, nwrote + 10, r);
    CU_ASSERT_EQUAL(got, nwrote);
    CU_ASSERT(memcmp(buf, wrote, nwrote) == 0);
    CU_ASSERT(!ferror(r));
    fclose(r);
    /* Cut short by 10 bytes: less text and an error, never silence. */
    CU_ASSERT_FATAL(truncate(at("t.zst"), st.st_size - 10) == 0);
    r = cr_zst_ropen(fopen(at("t.zst"), "r"));
    got = fread(buf, 1, nwrote + 10, r);
    CU_ASSERT(got < nwrote);
    CU_ASSERT(ferror(r));
    fclose(r);
    free(buf);
    CU_ASSERT(cr_zst_named("events.jsonl.zst"));
    CU_ASSERT(!cr_zst_named("events.jsonl"));
}

void cr_test_register(void)
{
    static const cr_test_case tests[] = {
        CR_TEST_CASE(test_seg_names),
        CR_TEST_CASE(test_seg_cut_read_back),
        CR_TEST_CASE(test_seg_reader_plain_and_subdir),
        CR_TEST_CASE(test_seg_refuses_planted_links),
        CR_TEST_CASE(test_seg_reader_bad_index),
        CR_TEST_CASE(test_seg_reader_checks_segments),
        CR_TEST_CASE(test_zst_round_trip),
    };
    cr_test_add_each(tests, sizeof tests / sizeof tests[0], setup, teardown);
}
