/* Strays: processes that left their replica's process group (setsid, a
 * daemon's double fork, `epmd -daemon` started by a broker) and whose
 * parent ended.  The harness is a subreaper (PR_SET_CHILD_SUBREAPER), so
 * they become its children, but the group kill of their replica does not
 * reach them and nothing waited for them: they stayed zombies until the
 * harness exited, and a live one outlived the run.
 *
 * cr_spawn knows every child it started (cr_spawn_strays), so a child of
 * the harness that it did not start is a stray.  The loop looks once a
 * second and at every SIGCHLD:
 *   - an ended stray is reaped;
 *   - a live one outside every replica's group (those go with their
 *     group) is recorded: in the ledger ("pid <pid> <start>", so the
 *     janitor kills it when the harness is killed) and in the journal's
 *     "strays" (pid, command, the replica it came from, when it was seen);
 *     it may be needed by its service until the end (epmd is), so it is
 *     left alone during the run;
 * and at the end, once every replica is gone, the strays still alive get
 * SIGTERM, SIGKILL 2 s later, until none is left (a stray's own children
 * become strays when it dies).  Only children of the harness are signalled:
 * a pid not yet reaped cannot have been taken by another process. */
#include "cr_run_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cr_alloc.h"
#include "base/cr_signal.h"
#include "base/cr_spawn.h"

#define STRAY_SCAN_MAX 256
#define STRAY_TERM_S   2.0 /* SIGTERM, then SIGKILL this much later */
#define STRAY_END_S    8.0 /* the end's bound, all generations together */

struct cr_stray {
    pid_t pid;
    int lid;     /* ledger entry, 0 when none */
    int ended;   /* reaped */
    double term; /* when SIGTERM was sent at the end, 0: not yet */
    int killed;  /* SIGKILL sent */
    json_t *j;   /* its journal object (owned by r->j_strays) */
};

/* A printable, bounded copy of a short text of /proc (a command name,
 * an instance name): anything but [ -~] becomes '?'. */
static void clean_text(char *s)
{
    for (; *s; s++)
        if (*s < ' ' || *s > '~')
            *s = '?';
}

static void read_comm(pid_t pid, char *buf, size_t n)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    buf[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t k = read(fd, buf, n - 1);
    close(fd);
    buf[k > 0 ? k : 0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    clean_text(buf);
}

/* The replica a stray came from: CHAOSRUN_INSTANCE in its environment as
 * it was exec'd (set by the engine for every replica and inherited).  A
 * label only, never trusted for anything else; "" when not there. */
static void read_from(pid_t pid, char *buf, size_t n)
{
    static const char key[] = "CHAOSRUN_INSTANCE=";
    char path[64], env[16384];
    snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
    buf[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t k = read(fd, env, sizeof env - 1);
    close(fd);
    if (k <= 0)
        return;
    env[k] = '\0';
    for (char *p = env; p < env + k; p += strlen(p) + 1) {
        if (strncmp(p, key, sizeof key - 1) == 0) {
            snprintf(buf, n, "%s", p + sizeof key - 1);
            clean_text(buf);
            return;
        }
    }
}

/* In a replica's group (alive or remembered): it goes with the group. */
static int in_replica_group(const cr_run *r, pid_t pid)
{
    pid_t pg = getpgid(pid);
    if (pg <= 0)
        return 0;
    for (size_t s = 0; s < r->nsvcs; s++)
        for (int i = 0; i < r->svcs[s].spec->replicas; i++)
            if (r->svcs[s].inst[i].pid == pg)
                return 1;
    for (size_t k = 0; k < r->nzpg; k++)
        if (r->zpg[k] == pg)
            return 1;
    return 0;
}

static struct cr_stray *find(cr_run *r, pid_t pid)
{
    for (size_t k = 0; k < r->nstrays; k++)
        if (r->strays[k].pid == pid && !r->strays[k].ended)
            return &r->strays[k];
    return NULL;
}

static void record(cr_run *r, pid_t pid)
{
    if (r->nstrays == r->capstrays) {
        size_t nc = r->capstrays ? r->capstrays * 2 : 8;
        struct cr_stray *nv = cr_realloc(r->strays, nc * sizeof *nv);
        if (!nv)
            return; /* still killed at the end: every scan finds it */
        r->strays = nv;
        r->capstrays = nc;
    }
    struct cr_stray *s = &r->strays[r->nstrays++];
    memset(s, 0, sizeof *s);
    s->pid = pid;
    char comm[32], from[64], line[96];
    read_comm(pid, comm, sizeof comm);
    read_from(pid, from, sizeof from);
    snprintf(line, sizeof line, "pid %d %llu", (int)pid,
             cr_proc_starttime(pid));
    cr_err e;
    cr_err_clear(&e);
    if (r->ledger) {
        int id = cr_ledger_add(r->ledger, line, &e);
        s->lid = id > 0 ? id : 0;
    }
    s->j = json_pack("{s:i,s:s,s:f}", "pid", (int)pid, "comm", comm, "seen_t",
                     cr_run_now(r));
    if (s->j && from[0])
        json_object_set_new(s->j, "from", json_string(from));
    if (s->j)
        json_array_append_new(r->j_strays, s->j);
    char msg[256];
    snprintf(msg, sizeof msg,
             "pid %d (%s%s%s) left its replica's process group and outlived "
             "its parent: stopped at the end of the run if still alive",
             (int)pid, comm, from[0] ? ", from " : "", from);
    cr_run_journal_log(r, msg);
}

static void ended(cr_run *r, struct cr_stray *s, int status)
{
    s->ended = 1;
    if (s->lid)
        cr_ledger_done(r->ledger, s->lid);
    s->lid = 0;
    if (!s->j)
        return;
    const char *how = s->killed ? "SIGKILL at the end"
                      : s->term ? "SIGTERM at the end"
                                : "exited";
    json_object_set_new(s->j, "end_t", json_real(cr_run_now(r)));
    json_object_set_new(s->j, "how", json_string(how));
    if (WIFEXITED(status))
        json_object_set_new(s->j, "exit_code",
                            json_integer(WEXITSTATUS(status)));
    else if (WIFSIGNALED(status))
        json_object_set_new(s->j, "exit_signal",
                            json_string(cr_signal_name(WTERMSIG(status))));
}

/* A child of the harness was reaped: a stray's end, else an orphan. */
static void reaped(cr_run *r, pid_t pid, int status)
{
    struct cr_stray *s = find(r, pid);
    if (s)
        ended(r, s, status);
    else
        r->orphans_reaped++;
}

void cr_stray_scan(cr_run *r)
{
    pid_t v[STRAY_SCAN_MAX];
    size_t n;
    if (cr_spawn_strays(v, STRAY_SCAN_MAX, &n) != 0)
        return;
    if (n > STRAY_SCAN_MAX)
        n = STRAY_SCAN_MAX; /* the rest at the next look */
    for (size_t i = 0; i < n; i++) {
        int status = 0;
        pid_t w;
        do
            w = waitpid(v[i], &status, WNOHANG);
        while (w < 0 && errno == EINTR);
        if (w == v[i])
            reaped(r, w, status);
        else if (w == 0 && !find(r, v[i]) && !in_replica_group(r, v[i]))
            record(r, v[i]);
    }
}

int cr_run_reap_group(cr_run *r, pid_t pgid)
{
    int n = 0, status = 0;
    pid_t w;
    if (pgid <= 1)
        return 0;
    for (;;) {
        w = waitpid(-pgid, &status, WNOHANG);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        reaped(r, w, status);
        n++;
    }
    return n;
}

void cr_stray_tick(cr_run *r)
{
    double now = cr_run_mono();
    if (now < r->stray_next)
        return;
    r->stray_next = now + 1.0;
    cr_stray_scan(r);
}

void cr_stray_end(cr_run *r)
{
    double end = cr_run_mono() + STRAY_END_S;
    for (;;) {
        cr_stray_scan(r);
        size_t live = 0;
        double now = cr_run_mono();
        for (size_t k = 0; k < r->nstrays; k++) {
            struct cr_stray *s = &r->strays[k];
            if (s->ended)
                continue;
            live++;
            if (!s->term) {
                s->term = now;
                kill(s->pid, SIGTERM);
            } else if (!s->killed && now - s->term >= STRAY_TERM_S) {
                s->killed = 1;
                kill(s->pid, SIGKILL);
            }
        }
        if (!live || now > end)
            break;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    json_object_set_new(r->journal, "orphans_reaped",
                        json_integer((json_int_t)r->orphans_reaped));
}

void cr_stray_fini(cr_run *r)
{
    cr_free(r->strays);
    r->strays = NULL;
    r->nstrays = r->capstrays = 0;
}
