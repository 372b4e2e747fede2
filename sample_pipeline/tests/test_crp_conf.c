/* Unit tests of crp_conf: defaults, environment, flags over --config, the
 * defect switch names and the validation errors. */
#include "cr_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crp_conf.h"

static int load(crp_conf *c, const char *stage, int argc, char **argv,
                char *err)
{
    return crp_conf_load(c, stage, argc, argv, err, 256);
}

static void test_crp_conf_defaults_and_env(void)
{
    crp_conf c;
    char err[256] = "";
    unsetenv("CHAOSRUN_PORT");
    unsetenv("CRP_DEFECT");
    setenv("CHAOSRUN_ADDR_QUEUE", "127.0.0.1:9999", 1);
    setenv("CHAOSRUN_REPLICA", "2", 1);
    unsetenv("CHAOSRUN_INSTANCE");
    unsetenv("CHAOSRUN_SERVICE");
    CU_ASSERT_EQUAL(load(&c, "worker", 0, NULL, err), 0);
    CU_ASSERT_STRING_EQUAL(c.queue_addr, "127.0.0.1:9999");
    CU_ASSERT_EQUAL(c.port, 7222); /* worker 7220 + replica */
    CU_ASSERT_EQUAL(c.http_port, 7222);
    CU_ASSERT_STRING_EQUAL(c.inst, "worker.2");
    CU_ASSERT_EQUAL(c.retry_attempts, 5);
    CU_ASSERT_EQUAL(c.defects, 0u);
    CU_ASSERT_EQUAL(load(&c, "queue", 0, NULL, err), 0);
    CU_ASSERT_EQUAL(c.http_port, 7301);
    CU_ASSERT_STRING_EQUAL(c.bind, "127.0.0.1");
    char *bind[] = {"--bind", "0.0.0.0"};
    CU_ASSERT_EQUAL(load(&c, "queue", 2, bind, err), 0);
    CU_ASSERT_STRING_EQUAL(c.bind, "0.0.0.0");
    unsetenv("CHAOSRUN_ADDR_QUEUE");
    unsetenv("CHAOSRUN_REPLICA");
}

/* A config file with TEXT in a fresh directory: its path in PATH; the
 * directory returned (drop_config removes both). */
static char *write_config(const char *text, char *path, size_t n)
{
    char *dir = cr_test_tmpdir();
    snprintf(path, n, "%s/c.json", dir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
    return dir;
}

static void drop_config(char *dir, const char *path)
{
    remove(path);
    rmdir(dir);
    free(dir);
}

static void test_crp_conf_flags_override_config(void)
{
    char path[512];
    char *dir = write_config(
        "{\"retry-base-ms\": 10, \"jitter\": \"none\", \"rate\": 5.5}", path,
        sizeof path);
    crp_conf c;
    char err[256] = "";
    char *argv[] = {"--config", path,       "--retry-base-ms",
                    "70",       "--defect", "no_dedup,no_backoff"};
    CU_ASSERT_EQUAL(load(&c, "worker", 6, argv, err), 0);
    CU_ASSERT_EQUAL(c.retry_base_ms, 70);
    CU_ASSERT_STRING_EQUAL(c.jitter, "none");
    CU_ASSERT_DOUBLE_EQUAL(c.rate, 5.5, 1e-12);
    CU_ASSERT_EQUAL(c.defects,
                    (unsigned)(CRP_DEFECT_NO_DEDUP | CRP_DEFECT_NO_BACKOFF));
    CU_ASSERT_STRING_EQUAL(c.config, path);
    drop_config(dir, path);
}

/* The group commit's cap: 256 records for ingest and the sink (one
 * process each, every commit waits for the disk), 64 for a worker; a flag
 * or a config file sets it for any stage. */
static void test_crp_conf_batch_per_stage(void)
{
    crp_conf c;
    char err[256] = "";
    CU_ASSERT_EQUAL(load(&c, "ingest", 0, NULL, err), 0);
    CU_ASSERT_EQUAL(c.batch, 256);
    CU_ASSERT_EQUAL(load(&c, "sink", 0, NULL, err), 0);
    CU_ASSERT_EQUAL(c.batch, 256);
    CU_ASSERT_EQUAL(load(&c, "worker", 0, NULL, err), 0);
    CU_ASSERT_EQUAL(c.batch, 64);
    char *flag[] = {"--batch", "32"};
    CU_ASSERT_EQUAL(load(&c, "sink", 2, flag, err), 0);
    CU_ASSERT_EQUAL(c.batch, 32);
    char path[512];
    char *dir = write_config("{\"batch\": 16}", path, sizeof path);
    char *cfg[] = {"--config", path};
    CU_ASSERT_EQUAL(load(&c, "ingest", 2, cfg, err), 0);
    CU_ASSERT_EQUAL(c.batch, 16);
    drop_config(dir, path);
}

static void test_crp_conf_errors(void)
{
    static const struct {
        const char *a, *b, *msg;
    } bad[] = {
        {"--nope", "1", "unknown option \"--nope\""},
        {"--batch", "x", "bad value \"x\" for --batch"},
        {"--batch", "0", "must be >= 1"},
        {"--batch", "600", "--batch must be <= 512"},
        {"--jitter", "half", "--jitter must be full or none"},
        {"--defect", "no_such", "unknown defect"},
        {"--bind", "localhost", "--bind must be an IPv4 address"},
        {"--bind", "10.1.2", "--bind must be an IPv4 address"},
        {"--config", "/nonexistent/c.json", "config /nonexistent/c.json"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        crp_conf c;
        char err[256] = "";
        char *argv[] = {(char *)bad[i].a, (char *)bad[i].b};
        CU_ASSERT_EQUAL(load(&c, "worker", 2, argv, err), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].msg));
        if (!strstr(err, bad[i].msg))
            printf("case %zu: \"%s\"\n", i, err);
    }
    crp_conf c;
    char err[256] = "";
    char *argv[] = {"--batch"};
    CU_ASSERT_EQUAL(load(&c, "worker", 1, argv, err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "needs a value"));
}

/* Remote scoring and discovery options: defaults, ports of the new
 * stages, the registry address from the environment, the defect names,
 * and the values refused. */
static void test_crp_conf_serving_options(void)
{
    crp_conf c;
    char err[256] = "";
    unsetenv("CHAOSRUN_PORT");
    unsetenv("CRP_DEFECT");
    unsetenv("CHAOSRUN_REPLICA");
    setenv("CHAOSRUN_ADDR_REGISTRY", "10.1.2.3:7870", 1);
    CU_ASSERT_EQUAL(load(&c, "worker", 0, NULL, err), 0);
    CU_ASSERT_STRING_EQUAL(c.scoring, "local");
    CU_ASSERT_STRING_EQUAL(c.registry_addr, "10.1.2.3:7870");
    CU_ASSERT_EQUAL(c.failback, 0);
    unsetenv("CHAOSRUN_ADDR_REGISTRY");
    CU_ASSERT_EQUAL(load(&c, "registry", 0, NULL, err), 0);
    CU_ASSERT_EQUAL(c.port, 7290);
    CU_ASSERT_EQUAL(c.http_port, 7390);
    setenv("CHAOSRUN_REPLICA", "1", 1);
    CU_ASSERT_EQUAL(load(&c, "modelsrv", 0, NULL, err), 0);
    CU_ASSERT_EQUAL(c.port, 7296);
    CU_ASSERT_EQUAL(c.http_port, 7396);
    unsetenv("CHAOSRUN_REPLICA");
    char *ok[] = {"--defect", "no_failover,failover_drop,registry_forgets"};
    CU_ASSERT_EQUAL(load(&c, "worker", 2, ok, err), 0);
    CU_ASSERT_EQUAL(c.defects, CRP_DEFECT_NO_FAILOVER |
                                   CRP_DEFECT_FAILOVER_DROP |
                                   CRP_DEFECT_REGISTRY_FORGETS);
    char *bad1[] = {"--scoring", "psychic"};
    CU_ASSERT_EQUAL(load(&c, "worker", 2, bad1, err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "--scoring must be local or remote"));
    char *bad2[] = {"--probe-failures", "0"};
    CU_ASSERT_EQUAL(load(&c, "registry", 2, bad2, err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "probe-failures"));
    char *bad3[] = {"--down-ms", "-1"};
    CU_ASSERT_EQUAL(load(&c, "worker", 2, bad3, err), -1);
    char *bad4[] = {"--score-timeout-ms", "0"};
    CU_ASSERT_EQUAL(load(&c, "worker", 2, bad4, err), -1);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("crp_conf", NULL, NULL);
    CR_ADD_TEST(s, test_crp_conf_defaults_and_env);
    CR_ADD_TEST(s, test_crp_conf_flags_override_config);
    CR_ADD_TEST(s, test_crp_conf_batch_per_stage);
    CR_ADD_TEST(s, test_crp_conf_errors);
    CR_ADD_TEST(s, test_crp_conf_serving_options);
}
