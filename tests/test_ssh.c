/* Unit tests for cr_ssh: "user@addr:port" parsing, shell quoting (checked
 * by running what it makes through sh), ssh's command lines, the remote
 * wrapper of a replica (run here through sh and setsid), the partition's
 * ruleset, the clock correction of event lines, ledger lines, and the
 * clean-up lines it refuses without connecting anywhere. */
#include "net/cr_ssh.h"
#include "cr_test.h"

#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cr_alloc.h"
#include "base/cr_spawn.h"

static void test_ssh_parse_forms(void)
{
    char d[256], a[256], p[256];
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_ssh_parse("root@10.0.0.2:2222", d, a, p, 256, &e), 0);
    CU_ASSERT_STRING_EQUAL(d, "root@10.0.0.2");
    CU_ASSERT_STRING_EQUAL(a, "10.0.0.2");
    CU_ASSERT_STRING_EQUAL(p, "2222");
    CU_ASSERT_EQUAL(cr_ssh_parse("node1", d, a, p, 256, &e), 0);
    CU_ASSERT_STRING_EQUAL(d, "node1");
    CU_ASSERT_STRING_EQUAL(p, "22");
    CU_ASSERT_EQUAL(cr_ssh_parse("u@[fd00::1]:22", d, a, p, 256, &e), 0);
    CU_ASSERT_STRING_EQUAL(a, "fd00::1");
    CU_ASSERT_STRING_EQUAL(d, "u@fd00::1");
    const char *bad[] = {
        "",    "@h", "h:0", "h:70000", "h:x", "fd00::1", "-oProxyCommand=x",
        "a b", "[x", "h'q", "[::1]x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_err_clear(&e);
        int rc = cr_ssh_parse(bad[i], d, a, p, 256, &e);
        if (rc != CR_EINVAL)
            fprintf(stderr, "\n  \"%s\" accepted\n", bad[i]);
        CU_ASSERT_EQUAL(rc, CR_EINVAL);
        CU_ASSERT(strstr(e.msg, "ssh \"") != NULL);
    }
}

/* Run `sh -c cmd` in dir; its stdout (and stderr) into out. */
static int sh_run(const char *dir, const char *cmd, char *out, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/sh.out", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    char *av[] = {"sh", "-c", (char *)cmd, NULL};
    char detail[64];
    cr_err e;
    cr_err_clear(&e);
    int rc = cr_spawn_run(av, NULL, 10.0, fd, detail, sizeof detail, &e);
    ssize_t k = pread(fd, out, n - 1, 0);
    out[k > 0 ? k : 0] = '\0';
    close(fd);
    return rc;
}

static void test_ssh_quote_survives_sh(void)
{
    const char *s[] = {"plain", "it's", "$HOME `id` \\n \"x\"",
                       "a\nb",  "",     "'''"};
    char *dir = cr_test_tmpdir();
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        cr_sbuf b = {0};
        CU_ASSERT_EQUAL(cr_sbuf_add(&b, "printf %s ", 10), 0);
        CU_ASSERT_EQUAL(cr_ssh_quote(&b, s[i]), 0);
        char out[256];
        CU_ASSERT_EQUAL(sh_run(dir, b.s, out, sizeof out), 0);
        CU_ASSERT_STRING_EQUAL(out, s[i]);
        cr_free(b.s);
    }
    cr_test_rmtree(dir);
}

static int argv_has(char **v, const char *s)
{
    for (; v && *v; v++)
        if (strcmp(*v, s) == 0)
            return 1;
    return 0;
}

static void test_ssh_argv_options(void)
{
    cr_ssh_node n = {.name = "n1",
                     .dest = "root@10.0.0.2",
                     .port = "2222",
                     .identity = "/k/id",
                     .known_hosts = "/k/kh",
                     .strict = 1,
                     .control = "/run/x/n1.sock"};
    const char *extra[] = {"-N", NULL};
    char **v = cr_ssh_argv(&n, 1, extra, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT(argv_has(v, "BatchMode=yes"));
    CU_ASSERT(argv_has(v, "StrictHostKeyChecking=yes"));
    CU_ASSERT(argv_has(v, "UserKnownHostsFile=/k/kh"));
    CU_ASSERT(argv_has(v, "ControlMaster=yes"));
    CU_ASSERT(argv_has(v, "ControlPersist=no"));
    CU_ASSERT(argv_has(v, "ControlPath=/run/x/n1.sock"));
    CU_ASSERT(argv_has(v, "IdentitiesOnly=yes"));
    CU_ASSERT(argv_has(v, "/dev/null")); /* -F /dev/null */
    CU_ASSERT(argv_has(v, "2222"));
    size_t k = 0;
    while (v[k])
        k++;
    CU_ASSERT_STRING_EQUAL(v[k - 1], "root@10.0.0.2");
    CU_ASSERT_STRING_EQUAL(v[k - 2], "-N");
    cr_ssh_argv_free(v);

    n.strict = 0;
    n.sudo = 1;
    n.identity = NULL;
    v = cr_ssh_argv(&n, 0, NULL, "kill -s KILL -- -12");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT(argv_has(v, "StrictHostKeyChecking=accept-new"));
    CU_ASSERT(argv_has(v, "ControlMaster=no"));
    CU_ASSERT(!argv_has(v, "-i"));
    k = 0;
    while (v[k])
        k++;
    CU_ASSERT_STRING_EQUAL(v[k - 1], "sudo -n sh -c 'kill -s KILL -- -12'");
    CU_ASSERT_STRING_EQUAL(v[k - 2], "--");
    CU_ASSERT_STRING_EQUAL(v[k - 3], "root@10.0.0.2");
    cr_ssh_argv_free(v);
}

/* The wrapper run here through sh: a new session whose id is in the
 * pidfile, the environment and arguments exactly as given. */
static void test_ssh_service_cmd_runs(void)
{
    char *dir = cr_test_tmpdir();
    char pidfile[512], cmd_out[512];
    snprintf(pidfile, sizeof pidfile, "%s/svc.0.pid", dir);
    snprintf(cmd_out, sizeof cmd_out, "%s/args", dir);
    char *env[] = {"FOO=it's $x", NULL};
    char script[1024];
    snprintf(script, sizeof script,
             "printf '%%s|' \"$@\" \"$FOO\" \"$(pwd)\" > '%s'; "
             "ps -o sid= -p $$ | tr -d ' ' >> '%s'",
             cmd_out, cmd_out);
    char *argv[] = {"sh", "-c", script, "x", "a b", "it's", "$HOME", NULL};
    char *cmd = cr_ssh_service_cmd(dir, pidfile, env, argv);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cmd);
    char out[1024];
    CU_ASSERT_EQUAL(sh_run(dir, cmd, out, sizeof out), 0);
    FILE *f = fopen(cmd_out, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char got[1024] = "";
    size_t k = fread(got, 1, sizeof got - 1, f);
    got[k] = '\0';
    fclose(f);
    f = fopen(pidfile, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    long pid = 0;
    CU_ASSERT_EQUAL(fscanf(f, "%ld", &pid), 1);
    fclose(f);
    char want[1024];
    /* The session id printed by the program is the pidfile's number. */
    snprintf(want, sizeof want, "a b|it's|$HOME|it's $x|%s|%ld\n", dir, pid);
    CU_ASSERT_STRING_EQUAL(got, want);
    CU_ASSERT(pid > 1);
    cr_free(cmd);

    char *sig = cr_ssh_signal_cmd("/tmp/chaosrun-x/it's.pid", "STOP");
    CU_ASSERT_STRING_EQUAL(sig,
                           "kill -s STOP -- -\"$(cat '/tmp/chaosrun-x/it'\\''s."
                           "pid')\"");
    cr_free(sig);
    cr_test_rmtree(dir);
}

/* The wrapper's exit status tells a replica killed by signal N (128+N:
 * the containers' rule, cr_run_ctr_status) from one that exited with code
 * N (`setsid -w` passed the signal number on as an exit code: a SIGKILL
 * read as "exit 9"); the session's stdin reaches the program. */
static void test_ssh_service_cmd_status(void)
{
    static const struct {
        const char *script, *want;
    } c[] = {
        {"kill -s KILL $$", "exit 137"},
        {"kill -s TERM $$", "exit 143"},
        {"exit 9", "exit 9"},
        {"read -r l && [ \"$l\" = from-ssh ]", "exit 0"},
    };
    char *dir = cr_test_tmpdir();
    char pidfile[512], in[512];
    snprintf(pidfile, sizeof pidfile, "%s/svc.0.pid", dir);
    snprintf(in, sizeof in, "%s/stdin", dir);
    FILE *f = fopen(in, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("from-ssh\n", f);
    fclose(f);
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char *argv[] = {"sh", "-c", (char *)c[i].script, NULL};
        char *cmd = cr_ssh_service_cmd(dir, pidfile, NULL, argv);
        CU_ASSERT_PTR_NOT_NULL_FATAL(cmd);
        /* As sshd runs it: sh -c, a process group leader (cr_spawn_run
         * makes it one), stdin what the session gives. */
        char *full = cr_asprintf("exec < '%s'; %s", in, cmd);
        CU_ASSERT_PTR_NOT_NULL_FATAL(full);
        char *av[] = {"sh", "-c", full, NULL};
        char detail[64] = "";
        cr_err e;
        cr_err_clear(&e);
        cr_spawn_run(av, NULL, 10.0, -1, detail, sizeof detail, &e);
        CU_ASSERT_STRING_EQUAL(detail, c[i].want);
        if (strcmp(detail, c[i].want) != 0)
            fprintf(stderr, "  case %zu (%s): %s\n", i, c[i].script, detail);
        cr_free(full);
        cr_free(cmd);
    }
    cr_test_rmtree(dir);
}

static void test_ssh_nft_ruleset(void)
{
    const char *addrs[] = {"10.1.0.2", "fd00::3"};
    char *rs = cr_ssh_nft_ruleset("chaosrun-ab-0", addrs, 2);
    CU_ASSERT_STRING_EQUAL(rs, "table inet chaosrun-ab-0 {\n"
                               "  chain input {\n"
                               "    type filter hook input priority -300; "
                               "policy accept;\n"
                               "    ip saddr 10.1.0.2 drop\n"
                               "    ip6 saddr fd00::3 drop\n"
                               "  }\n"
                               "}\n");
    cr_free(rs);
}

static void test_ssh_event_line_offset(void)
{
    const char *l = "{\"ts\":1764200000.5,\"svc\":\"a\",\"ev\":\"x\",\"n\":1}";
    char *s = cr_ssh_event_line(l, strlen(l), 0.25);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT(s[strlen(s) - 1] == '\n');
    json_t *o = json_loads(s, 0, NULL);
    CU_ASSERT(fabs(json_number_value(json_object_get(o, "ts")) -
                   1764200000.25) < 1e-6);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "ev")), "x");
    /* Key order kept: "ts" first, as written. */
    CU_ASSERT(strncmp(s, "{\"ts\":", 6) == 0);
    json_decref(o);
    cr_free(s);
    /* Negative offset: the node's clock is behind. */
    s = cr_ssh_event_line(l, strlen(l), -2.0);
    o = json_loads(s, 0, NULL);
    CU_ASSERT(fabs(json_number_value(json_object_get(o, "ts")) - 1764200002.5) <
              1e-6);
    json_decref(o);
    cr_free(s);
    /* Not an object with a numeric ts, or no offset: as written. */
    const char *same[] = {"not json", "{\"ts\":\"x\",\"ev\":\"e\"}", "[1]"};
    for (size_t i = 0; i < 3; i++) {
        s = cr_ssh_event_line(same[i], strlen(same[i]), 1.0);
        CU_ASSERT_NSTRING_EQUAL(s, same[i], strlen(same[i]));
        CU_ASSERT_STRING_EQUAL(s + strlen(same[i]), "\n");
        cr_free(s);
    }
    s = cr_ssh_event_line(l, strlen(l), 0.0);
    CU_ASSERT_NSTRING_EQUAL(s, l, strlen(l));
    cr_free(s);
}

static void test_ssh_ledger_lines(void)
{
    cr_ssh_node n = {.dest = "u@10.0.0.2",
                     .port = "22",
                     .known_hosts = "/r/ssh/known_hosts",
                     .sudo = 1};
    char buf[512];
    CU_ASSERT_EQUAL(
        cr_ssh_ledger_line(&n, "/tmp/chaosrun-ab-n1", buf, sizeof buf), 0);
    CU_ASSERT_STRING_EQUAL(buf, "u@10.0.0.2 22 - /r/ssh/known_hosts 0 1 "
                                "/tmp/chaosrun-ab-n1");
    n.known_hosts = "/r/my keys/kh";
    CU_ASSERT_EQUAL(cr_ssh_ledger_line(&n, "x", buf, sizeof buf), CR_EINVAL);
    n.known_hosts = "/r/kh";
    CU_ASSERT_EQUAL(cr_ssh_ledger_line(&n, "x", buf, 8), CR_EINVAL);
}

/* Lines a damaged or planted ledger could hold are refused before any
 * connection is tried. */
static void test_ssh_cleanup_refuses(void)
{
    struct {
        const char *kind, *args;
    } bad[] = {
        {"ssh-dir", "u@h 22 - /kh 1 0 /etc"},
        {"ssh-dir", "u@h 22 - /kh 1 0 /tmp/other"},
        {"ssh-dir", "u@h 22 - /kh 1 0 /tmp/../etc/chaosrun-x"},
        {"ssh-dir", "u@h 22 - /kh 1 0 tmp/chaosrun-x"},
        {"ssh-dir", "u@h 22 - /kh 1 0 /etc/chaosrun-x"},
        {"ssh-dir", "u@h 22 - /kh 1 0 /tmp/chaosrun-x/.."},
        {"ssh-nft", "u@h 22 - /kh 1 0 filter"},
        {"ssh-nft", "u@h 22 - /kh 1 0 chaosrun-x;flush"},
        {"ssh-tc", "u@h 22 - /kh 1 0 c7a"},
        {"ssh-tc", "u@h 22 - /kh 1 0 C7A0"},
        {"ssh-tc", "u@h 22 - /kh 1 0 0000"},
        {"ssh-tc", "u@h 22 - /kh 1 0 ffff"},
        {"ssh-tc", "u@h 22 - /kh 1 0 c7a0;reboot"},
        {"ssh-tc", "u@h 22 - /kh 1 0 0xc7a"},
        {"ssh-dir", "u@h 22"},
        {"netns", "cr1234"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_err e;
        cr_err_clear(&e);
        int rc = cr_ssh_cleanup_entry(bad[i].kind, bad[i].args, &e);
        if (rc != CR_EINVAL)
            fprintf(stderr, "\n  %s %s: %d %s\n", bad[i].kind, bad[i].args, rc,
                    e.msg);
        CU_ASSERT_EQUAL(rc, CR_EINVAL);
    }
    char *c = cr_ssh_dir_cleanup_cmd("/tmp/chaosrun-ab-n1");
    CU_ASSERT(strstr(c, "d='/tmp/chaosrun-ab-n1'; [ -d \"$d\" ] || exit 0;") ==
              c);
    CU_ASSERT(strstr(c, "rm -rf --one-file-system -- \"$d\"") != NULL);
    cr_free(c);
}

static int mounted(const char *path)
{
    char line[1024], dev[256], mp[512];
    int yes = 0;
    FILE *f = fopen("/proc/self/mounts", "r");
    while (f && fgets(line, sizeof line, f))
        yes |= sscanf(line, "%255s %511s", dev, mp) == 2 && !strcmp(mp, path);
    if (f)
        fclose(f);
    return yes;
}

/* The node's clean-up, run here: disk_fill's listed fill file removed (not
 * another listed file), its tmpfs below the directory unmounted (not a
 * listed mount elsewhere), then the directory gone. */
static void test_ssh_dir_cleanup_runs(void)
{
    if (geteuid() != 0) {
        fprintf(stderr, "  (skipped: mounting a tmpfs needs root)\n");
        return;
    }
    char *top = cr_test_tmpdir();
    char d[512], fill[600], scr[512], other[512], p[700], out[256];
    snprintf(d, sizeof d, "%s/chaosrun-ab-n1", top);
    snprintf(fill, sizeof fill, "%s/fill", d);
    snprintf(scr, sizeof scr, "%s/scratch", top);
    snprintf(other, sizeof other, "%s/other", top);
    CU_ASSERT_FATAL(mkdir(d, 0700) == 0 && mkdir(fill, 0755) == 0 &&
                    mkdir(scr, 0755) == 0 && mkdir(other, 0755) == 0);
    char *mnt = cr_asprintf("mount -t tmpfs -o size=1m x '%s' && mount -t "
                            "tmpfs -o size=1m x '%s' && : > '%s/.chaosrun-"
                            "fill-f-0' && : > '%s/keep' && printf '%%s\\n' "
                            "'%s/.chaosrun-fill-f-0' '%s/keep' > '%s/files' "
                            "&& printf '%%s\\n' '%s' '%s' > '%s/mounts'",
                            fill, other, scr, scr, scr, scr, d, fill, other, d);
    CU_ASSERT_EQUAL_FATAL(sh_run(top, mnt, out, sizeof out), 0);
    cr_free(mnt);
    CU_ASSERT(mounted(fill) && mounted(other));
    char *c = cr_ssh_dir_cleanup_cmd(d);
    CU_ASSERT_EQUAL(sh_run(top, c, out, sizeof out), 0);
    cr_free(c);
    CU_ASSERT(!mounted(fill));
    CU_ASSERT(access(d, F_OK) != 0);
    snprintf(p, sizeof p, "%s/.chaosrun-fill-f-0", scr);
    CU_ASSERT(access(p, F_OK) != 0);
    snprintf(p, sizeof p, "%s/keep", scr);
    CU_ASSERT(access(p, F_OK) == 0);
    CU_ASSERT(mounted(other));
    if (mounted(fill))
        umount2(fill, MNT_DETACH);
    umount2(other, MNT_DETACH);
    cr_test_rmtree(top);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("ssh", NULL, NULL);
    if (!s)
        return;
    CR_ADD_TEST(s, test_ssh_parse_forms);
    CR_ADD_TEST(s, test_ssh_quote_survives_sh);
    CR_ADD_TEST(s, test_ssh_argv_options);
    CR_ADD_TEST(s, test_ssh_service_cmd_runs);
    CR_ADD_TEST(s, test_ssh_service_cmd_status);
    CR_ADD_TEST(s, test_ssh_dir_cleanup_runs);
    CR_ADD_TEST(s, test_ssh_nft_ruleset);
    CR_ADD_TEST(s, test_ssh_event_line_offset);
    CR_ADD_TEST(s, test_ssh_ledger_lines);
    CR_ADD_TEST(s, test_ssh_cleanup_refuses);
}
