/* disk_fill: fill the file system of a directory until only leave_mb MiB
 * are free, for for_s seconds -- a real ENOSPC for any program, static
 * ones included, no preload -- then release the space.
 *
 * Where: `path` relative to the run directory, or an absolute path inside
 * a directory the scenario declares in its top-level `scratch` list;
 * anything else, and the file system of `/`, is refused (filling it would
 * starve the whole machine).  With `tmpfs_mb`, chaosrun first mounts a
 * tmpfs of that size at the run-directory path (root only), so nothing
 * real is filled; services reach it as $CHAOSRUN_RUN_DIR/<path>.
 *
 * apply: one file <path>/.chaosrun-fill-<fault>-<occurrence>, recorded in
 * the ledger ("file <path>") before it is made, given every block beyond
 * leave_mb with fallocate(2) (no data written, so it is quick; when the
 * programs there took some of it meanwhile, as much as still fits);
 * revert removes it.  The free space counted is what root sees (f_bfree) when
 * chaosrun runs as root -- it could use the reserved blocks -- else what a
 * user sees (f_bavail).
 *
 * On an ssh node (`host`: a host with "ssh"): the same, on the node's file
 * system, through commands over its control shell (node_*: util-linux's
 * fallocate, coreutils' stat and realpath there).  A relative path is
 * inside the node's directory of the run; an absolute one must resolve
 * (realpath on the node) inside a "scratch" directory there.  tmpfs_mb
 * mounts the tmpfs on the node (root or sudo there).  What could outlive
 * a SIGKILLed harness is listed in the node's directory before it is made
 * -- the fill file in "files", the tmpfs in "mounts" -- and removed by
 * the node's clean-up (net/cr_ssh.h, cr_ssh_dir_cleanup_cmd), at the end
 * and by `chaosrun cleanup`.  The fill file is created with O_EXCL (the
 * shell's noclobber) and allocated through that descriptor
 * (/dev/fd/3), so a link planted in a scratch directory is never
 * followed. */
#include "cr_resfault.h"

#include "base/cr_alloc.h"
#include "net/cr_net.h"
#include "net/cr_ssh.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define MIB (1024.0 * 1024.0)

typedef struct fill_priv {
    const char *path; /* as written */
    const char *host; /* an ssh node, or NULL: here */
    double leave_mb;
    double tmpfs_mb;     /* 0: none */
    char full[PATH_MAX]; /* resolved by check() */
} fill_priv;

typedef struct fill_state {
    char file[PATH_MAX + 128];
    int ledger_id;
} fill_state;

static const cr_param fill_params[] = {
    {"path", "string", NULL,
     "a directory: relative to the run directory, or absolute inside a "
     "directory listed in the scenario's \"scratch\""},
    {"leave_mb", "number", "0", "MiB left free while the fault is active"},
    {"tmpfs_mb", "number", "none",
     "mount a tmpfs of this many MiB at path (relative paths only; root) "
     "before the services start, and fill that"},
    {"host", "string", "none",
     "an ssh node (a host with \"ssh\"): fill path on its file system "
     "(relative: inside the node's directory of the run)"},
    {NULL, NULL, NULL, NULL},
};

/* ---- the top-level "scratch" section: directories disk_fill may fill -- */

static void scratch_destroy(cr_scen *sc)
{
    char **v = sc->scratch;
    for (size_t i = 0; v && v[i]; i++)
        cr_free(v[i]);
    cr_free(v);
    sc->scratch = NULL;
}

static int scratch_parse(cr_vctx *vx, const json_t *val, const char *path,
                         cr_scen *sc)
{
    size_t before = cr_vcount(vx), i;
    json_t *e;
    if (!json_is_array(val)) {
        cr_verr(vx, path, "must be an array of absolute directory paths");
        return CR_EINVAL;
    }
    char **v = cr_calloc(json_array_size(val) + 1, sizeof *v);
    if (!v)
        return CR_ENOMEM;
    sc->scratch = v;
    size_t n = 0;
    json_array_foreach (val, i, e) {
        char p[CR_PATH_MAX];
        cr_path_idx(p, sizeof p, path, i);
        const char *s = json_string_value(e);
        if (!s || s[0] != '/') {
            cr_verr(vx, p, "must be an absolute directory path");
            continue;
        }
        if (strspn(s, "/") == strlen(s) || strstr(s, "/..") ||
            strstr(s, "/./")) {
            cr_verr(vx, p, "\"%s\" is refused (not \"/\", no \"..\" or \".\")",
                    s);
            continue;
        }
        if (!(v[n++] = cr_strdup(s)))
            return CR_ENOMEM;
    }
    return cr_vcount(vx) > before ? CR_EINVAL : 0;
}

const cr_section_ops cr_disk_scratch_section = {
    .key = "scratch",
    .summary = "absolute directories that disk_fill may fill besides the run "
               "directory: [\"/mnt/scratch\"]",
    .parse = scratch_parse,
    .destroy = scratch_destroy,
};

/* Is p (normalised) dir itself or below it? */
static int inside(const char *p, const char *dir)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    return strncmp(p, dir, n) == 0 && (p[n] == '/' || p[n] == '\0');
}

static int fill_parse(cr_vctx *vx, const json_t *obj, const char *path,
                      cr_fault *f)
{
    fill_priv *p = cr_calloc(1, sizeof *p);
    char kp[CR_PATH_MAX];
    if (!p)
        return CR_ENOMEM;
    f->priv = p;
    cr_path_key(kp, sizeof kp, path, "path");
    if (cr_vrequire(vx, obj, path, "path") &&
        cr_vstr(vx, obj, path, "path", NULL, &p->path) > 0) {
        const cr_scen *sc = cr_vscen(vx);
        char **scr = sc ? sc->scratch : NULL;
        int ok = 0;
        if (!p->path[0] || strstr(p->path, "..") ||
            strspn(p->path, "/") == strlen(p->path)) {
            cr_verr(vx, kp, "\"%s\" is refused (empty, \"/\", or with \"..\")",
                    p->path);
            ok = -1;
        } else if (p->path[0] != '/') {
            ok = 1; /* inside the run directory */
        } else {
            for (size_t i = 0; scr && scr[i]; i++)
                ok |= inside(p->path, scr[i]);
        }
        if (ok == 0)
            cr_verr(vx, kp,
                    "\"%s\" is neither inside the run directory (a relative "
                    "path) nor inside a directory of \"scratch\"",
                    p->path);
    }
    if (cr_vstr(vx, obj, path, "host", NULL, &p->host) > 0) {
        const cr_net_hosts *h = cr_vscen(vx)->hosts;
        cr_path_key(kp, sizeof kp, path, "host");
        if (!h || !h->nssh || !cr_net_host_exists(h, p->host))
            cr_verr(vx, kp,
                    "\"%s\" is no ssh node of \"hosts\" (hosts in network "
                    "namespaces share this machine's file systems: leave "
                    "host out)",
                    p->host);
    }
    cr_vnum(vx, obj, path, "leave_mb", 0, 1e9, 0, &p->leave_mb);
    if (cr_vnum(vx, obj, path, "tmpfs_mb", 1, 1e6, 0, &p->tmpfs_mb) > 0 &&
        p->path && p->path[0] == '/') {
        cr_path_key(kp, sizeof kp, path, "tmpfs_mb");
        cr_verr(vx, kp, "only with a path inside the run directory");
    }
    if (p->tmpfs_mb > 0 && p->leave_mb >= p->tmpfs_mb) {
        cr_path_key(kp, sizeof kp, path, "leave_mb");
        cr_verr(vx, kp, "must be less than tmpfs_mb (%g)", p->tmpfs_mb);
    }
    return 0;
}

/* The device of dir, or of its nearest existing ancestor. */
static int dev_of(const char *dir, dev_t *dev)
{
    char p[PATH_MAX];
    struct stat st;
    snprintf(p, sizeof p, "%s", dir);
    for (;;) {
        if (stat(p, &st) == 0) {
            *dev = st.st_dev;
            return 0;
        }
        char *s = strrchr(p, '/');
        if (!s || s == p)
            return -1;
        *s = '\0';
    }
}

static int fill_check(cr_fault *f, cr_run *r, cr_err *err)
{
    fill_priv *p = f->priv;
    const cr_scen *sc = cr_run_scen(r);
    if (p->host)
        return 0; /* on the node, at prepare (node_prepare) */
    if (p->path[0] != '/') {
        snprintf(p->full, sizeof p->full, "%s/%s", cr_run_dir(r), p->path);
    } else {
        /* Symbolic links must not lead out of the scratch directories. */
        char real[PATH_MAX], sr[PATH_MAX];
        int ok = 0;
        if (!realpath(p->path, real))
            return cr_err_sys(err, CR_EUNSUP, errno, "disk_fill %s: %s",
                              f->name, p->path);
        char **scr = sc->scratch;
        for (size_t i = 0; scr && scr[i]; i++)
            ok |= realpath(scr[i], sr) && inside(real, sr);
        if (!ok)
            return cr_err_set(err, CR_EUNSUP,
                              "disk_fill %s: %s resolves to %s, outside every "
                              "scratch directory",
                              f->name, p->path, real);
        snprintf(p->full, sizeof p->full, "%s", real);
    }
    if (p->tmpfs_mb > 0) {
        if (geteuid() != 0)
            return cr_err_set(err, CR_EUNSUP,
                              "disk_fill %s: tmpfs_mb needs root (mount)",
                              f->name);
        return 0;
    }
    dev_t d, root;
    if (dev_of(p->full, &d) != 0 || dev_of("/", &root) != 0)
        return cr_err_sys(err, CR_EUNSUP, errno, "disk_fill %s: stat %s",
                          f->name, p->full);
    if (d == root)
        return cr_err_set(err, CR_EUNSUP,
                          "disk_fill %s: %s is on the file system of / "
                          "(filling it would starve the whole machine): give "
                          "tmpfs_mb, or a scratch directory on another file "
                          "system",
                          f->name, p->full);
    return 0;
}

/* ---- on an ssh node ------------------------------------------------------ */

/* "NAME=" and s quoted for the node's shell, then "; ". */
static int add_var(cr_sbuf *b, const char *name, const char *s)
{
    return cr_sbuf_add(b, name, strlen(name)) || cr_sbuf_add(b, "=", 1) ||
           cr_ssh_quote(b, s) || cr_sbuf_add(b, "; ", 2);
}

/* Run body on p->host after the variables d (the node's directory), p
 * (the fill directory) and those of vars ("NAME", value pairs, NULL
 * ended).  Its answer: "ok ..." (into out, without "ok "), or "err MSG":
 * CR_EUNSUP with MSG (a node that cannot: exit 3).  0 or a code. */
static int node_do(cr_fault *f, cr_run *r, const char *const *vars,
                   const char *body, char *out, size_t n, cr_err *err)
{
    fill_priv *p = f->priv;
    const char *dir = cr_run_ssh_dir(r, p->host);
    char ans[1024] = "";
    cr_sbuf b = {0};
    int bad = !dir || add_var(&b, "d", dir) || add_var(&b, "p", p->full);
    for (size_t i = 0; !bad && vars && vars[i]; i += 2)
        bad = add_var(&b, vars[i], vars[i + 1]);
    if (bad || cr_sbuf_add(&b, body, strlen(body))) {
        cr_free(b.s);
        return dir ? cr_err_set(err, CR_ENOMEM, "out of memory")
                   : cr_err_set(err, CR_ESTATE,
                                "disk_fill %s: node %s is not set up", f->name,
                                p->host);
    }
    cr_err e;
    cr_err_clear(&e);
    int rc = cr_run_ssh_node_exec(r, p->host, b.s, ans, sizeof ans, &e);
    cr_free(b.s);
    if (rc != 0)
        return cr_err_set(err, rc, "disk_fill %s: %s", f->name, e.msg);
    /* The answer is the last "ok"/"err" line (a tool's complaint on
     * stderr may come before it). */
    char *a = ans;
    for (char *l = ans; l && *l;
         l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (!strncmp(l, "ok", 2) || !strncmp(l, "err ", 4))
            a = l;
    a[strcspn(a, "\n")] = '\0';
    if (!strncmp(a, "ok", 2) && (a[2] == ' ' || !a[2])) {
        snprintf(out, n, "%s", a[2] ? a + 3 : "");
        return 0;
    }
    return cr_err_set(err, !strncmp(a, "err ", 4) ? CR_EUNSUP : CR_ESYS,
                      "disk_fill %s: on ssh node %s: %s", f->name, p->host,
                      !strncmp(a, "err ", 4) ? a + 4 : a);
}

/* The fill directory on the node: made (tmpfs_mb: the tmpfs mounted, once
 * for all faults filling it, listed in $d/mounts first), an absolute path
 * resolved inside a scratch directory, not on the file system of /, able
 * to fallocate.  Its resolved path into p->full. */
static int node_prepare(cr_fault *f, cr_run *r, cr_err *err)
{
    fill_priv *p = f->priv;
    const cr_scen *sc = cr_run_scen(r);
    char kb[32], out[PATH_MAX];
    snprintf(kb, sizeof kb, "%.0f", p->tmpfs_mb * 1024);
    if (p->path[0] == '/')
        snprintf(p->full, sizeof p->full, "%s", p->path);
    else
        snprintf(p->full, sizeof p->full, "%s/%s", cr_run_ssh_dir(r, p->host),
                 p->path);
    const char *vars[] = {"T", kb, "abs", p->path[0] == '/' ? "1" : "0", NULL};
    /* The scratch directories: the positional parameters. */
    cr_sbuf b = {0};
    int bad = cr_sbuf_add(&b, "set --", 6);
    char **scr = sc->scratch;
    for (size_t i = 0; !bad && scr && scr[i]; i++)
        bad = cr_sbuf_add(&b, " ", 1) || cr_ssh_quote(&b, scr[i]);
    static const char body[] =
        "err() { echo \"err $*\"; exit 0; }; "
        "command -v fallocate >/dev/null || err 'no fallocate (util-linux)'; "
        "if [ \"$abs\" = 1 ]; then r=$(realpath -e -- \"$p\" 2>/dev/null) || "
        "err \"$p: no such directory\"; ok=0; for s in \"$@\"; do "
        "sr=$(realpath -e -- \"$s\" 2>/dev/null) || continue; case \"$r\" in "
        "\"$sr\"|\"$sr\"/*) ok=1;; esac; done; [ $ok = 1 ] || err \"$p "
        "resolves "
        "to $r, outside every scratch directory\"; p=$r; "
        "elif [ \"$T\" != 0 ]; then mkdir -p -- \"$p\" || err \"cannot make "
        "$p\"; if ! grep -qxF -- \"$p\" \"$d/mounts\" 2>/dev/null; then "
        "echo \"$p\" >> \"$d/mounts\" && m=$(mount -t tmpfs -o "
        "\"size=${T}k,mode=0755\" chaosrun-fill \"$p\" 2>&1) || err \"cannot "
        "mount a tmpfs at $p (tmpfs_mb needs root there): $m\"; fi; "
        "else mkdir -p -- \"$p\" || err \"cannot make $p\"; fi; "
        "[ \"$(stat -c %d -- \"$p\")\" != \"$(stat -c %d /)\" ] || err \"$p is "
        "on the file system of / (filling it would starve the node): give "
        "tmpfs_mb, or a scratch directory on another file system\"; "
        "t=\"$p/.chaosrun-fill-probe\"; rm -f -- \"$t\"; "
        "if ! (set -C; exec 3>\"$t\" && fallocate -l 4096 /dev/fd/3) "
        "2>/dev/null; then rm -f -- \"$t\"; err \"the file system of $p "
        "cannot fallocate\"; fi; rm -f -- \"$t\"; echo \"ok $p\"";
    bad = bad || cr_sbuf_add(&b, "; ", 2) ||
          cr_sbuf_add(&b, body, sizeof body - 1);
    if (bad) {
        cr_free(b.s);
        return cr_err_set(err, CR_ENOMEM, "out of memory");
    }
    int rc = node_do(f, r, vars, b.s, out, sizeof out, err);
    cr_free(b.s);
    if (rc == 0)
        snprintf(p->full, sizeof p->full, "%s", out);
    return rc;
}

/* The node's free bytes as the filler counts them: fr prints "FREE SIZE
 * BLOCKSIZE" (f_bfree as root, else f_bavail). */
#define NODE_FREE                                                              \
    "fr() { s=$(stat -f -c '%f %a %S %b' -- \"$p\") || return 1; set -- $s; "  \
    "if [ \"$(id -u)\" = 0 ]; then echo $(($1 * $3)) $(($4 * $3)) $3; "        \
    "else echo $(($2 * $3)) $(($4 * $3)) $3; fi; }; "

static int node_apply(cr_fault *f, cr_run *r, cr_fault_act *act, fill_state *st,
                      cr_err *err)
{
    fill_priv *p = f->priv;
    char leave[32], out[256];
    snprintf(leave, sizeof leave, "%.0f", p->leave_mb * MIB);
    snprintf(st->file, sizeof st->file, "%s/.chaosrun-fill-%s-%d", p->full,
             f->name, act->occurrence);
    const char *vars[] = {"f", st->file, "L", leave, NULL};
    /* Answer: "ok FREE SIZE FILLED FREE_AFTER" (bytes; FILLED what the
     * file holds, from its blocks). */
    static const char body[] = NODE_FREE
        "x=$(fr) || { echo \"err statfs $p\"; exit 0; }; set -- $x; "
        "free=$1 size=$2 bs=$3; want=$((free - L)); "
        "if [ $want -lt 4096 ]; then echo \"ok $free $size 0 $free\"; exit 0; "
        "fi; len=$((want - want % bs)); echo \"$f\" >> \"$d/files\" || exit 1; "
        "set -C; exec 3>\"$f\" || { echo \"err cannot create $f\"; exit 0; }; "
        "if ! fallocate -l $len /dev/fd/3 2>/dev/null; then off=0; "
        "step=1048576; while [ $off -lt $len ]; do n=$((len - off)); "
        "[ $n -lt $step ] || n=$step; "
        "if fallocate -o $off -l $n /dev/fd/3 2>/dev/null; then "
        "off=$((off + n)); elif [ $step -gt 4096 ]; then step=4096; else "
        "break; fi; done; fi; "
        "set -- $(stat -L -c '%b %B' /dev/fd/3); exec 3>&-; "
        "echo \"ok $free $size $(($1 * $2)) $(fr | cut -d' ' -f1)\"";
    int rc = node_do(f, r, vars, body, out, sizeof out, err);
    if (rc != 0)
        return rc;
    double fr = 0, size = 0, filled = 0, after = 0;
    int k = sscanf(out, "%lf %lf %lf %lf", &fr, &size, &filled, &after);
    if (k != 4)
        return cr_err_set(err, CR_ESYS,
                          "disk_fill %s: on ssh node %s: unexpected answer "
                          "\"%s\"",
                          f->name, p->host, out);
    json_object_set_new(act->details, "node", json_string(p->host));
    json_object_set_new(act->details, "path", json_string(p->full));
    json_object_set_new(act->details, "size_mb", json_real(size / MIB));
    json_object_set_new(act->details, "free_mb_before", json_real(fr / MIB));
    json_object_set_new(act->details, "leave_mb", json_real(p->leave_mb));
    json_object_set_new(act->details, "filled_mb", json_real(filled / MIB));
    if (filled > 0) {
        json_object_set_new(act->details, "file", json_string(st->file));
        json_object_set_new(act->details, "free_mb_after",
                            json_real(after / MIB));
    } else {
        st->file[0] = '\0';
    }
    return 0;
}

static int node_revert(cr_fault *f, cr_run *r, cr_fault_act *act,
                       fill_state *st, cr_err *err)
{
    char out[64];
    const char *vars[] = {"f", st->file, NULL};
    static const char body[] = NODE_FREE "rm -f -- \"$f\" || exit 1; "
                                         "echo \"ok $(fr | cut -d' ' -f1)\"";
    int rc = node_do(f, r, vars, body, out, sizeof out, err);
    if (rc == 0 && act->details)
        json_object_set_new(act->details, "free_mb_released",
                            json_real(strtod(out, NULL) / MIB));
    return rc;
}

/* The file system must allocate without writing (fallocate): tried on a
 * small file, so a missing feature is found before anything starts. */
static int fill_prepare(cr_fault *f, cr_run *r, cr_err *err)
{
    fill_priv *p = f->priv;
    char probe[PATH_MAX + 64];
    int rc = 0;
    if (p->host)
        return node_prepare(f, r, err);
    if (p->tmpfs_mb > 0) {
        /* Several faults may fill the same tmpfs: mounted by the first
         * (then the path's device differs from the run directory's). */
        dev_t d, rd;
        if (dev_of(p->full, &d) != 0 || dev_of(cr_run_dir(r), &rd) != 0 ||
            d == rd) {
            rc = cr_run_tmpfs(r, p->full, p->tmpfs_mb, err);
            if (rc != 0)
                return rc;
        }
    } else if (mkdir(p->full, 0755) != 0 && errno != EEXIST) {
        return cr_err_sys(err, CR_ESYS, errno, "disk_fill %s: mkdir %s",
                          f->name, p->full);
    }
    snprintf(probe, sizeof probe, "%s/.chaosrun-fill-probe", p->full);
    int fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return cr_err_sys(err, CR_ESYS, errno, "disk_fill %s: create %s",
                          f->name, probe);
    int e = fallocate(fd, 0, 0, 4096) == 0 ? 0 : errno;
    close(fd);
    unlink(probe);
    if (e == EOPNOTSUPP)
        return cr_err_sys(err, CR_EUNSUP, e,
                          "disk_fill %s: the file system of %s cannot "
                          "fallocate",
                          f->name, p->full);
    return 0;
}

/* Free bytes as the filler counts them (see the top). */
static int free_bytes(const char *dir, double *free_b, double *size_b)
{
    struct statvfs v;
    if (statvfs(dir, &v) != 0)
        return -1;
    double blocks = geteuid() == 0 ? (double)v.f_bfree : (double)v.f_bavail;
    *free_b = blocks * (double)v.f_frsize;
    *size_b = (double)v.f_blocks * (double)v.f_frsize;
    return 0;
}

/* Allocate len bytes to fd, as much of it as the file system still has:
 * the programs on it keep writing between statvfs and here, so an ENOSPC
 * of the whole length is followed by 1 MiB steps, then single pages,
 * until nothing more fits (ranges already allocated cost nothing).  *done:
 * bytes allocated.  0, or the errno of another failure. */
static int fill_blocks(int fd, off_t len, off_t *done)
{
    if (fallocate(fd, 0, 0, len) == 0) {
        *done = len;
        return 0;
    }
    if (errno != ENOSPC)
        return errno;
    off_t off = 0, step = 1 << 20;
    while (off < len) {
        off_t n = len - off < step ? len - off : step;
        if (fallocate(fd, 0, off, n) == 0) {
            off += n;
        } else if (errno != ENOSPC) {
            *done = off;
            return errno;
        } else if (step > 4096) {
            step = 4096;
        } else {
            break; /* full */
        }
    }
    *done = off;
    return 0;
}

static int fill_apply(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    fill_priv *p = f->priv;
    double fr, size;
    fill_state *st = cr_calloc(1, sizeof *st);
    if (!st || (!act->details && !(act->details = json_object()))) {
        cr_free(st);
        return cr_err_set(err, CR_ENOMEM, "fault %s: out of memory", f->name);
    }
    act->state = st;
    if (p->host)
        return node_apply(f, r, act, st, err);
    if (free_bytes(p->full, &fr, &size) != 0)
        return cr_err_sys(err, CR_ESYS, errno, "disk_fill %s: statvfs %s",
                          f->name, p->full);
    double want = fr - p->leave_mb * MIB;
    json_object_set_new(act->details, "path", json_string(p->full));
    json_object_set_new(act->details, "size_mb", json_real(size / MIB));
    json_object_set_new(act->details, "free_mb_before", json_real(fr / MIB));
    json_object_set_new(act->details, "leave_mb", json_real(p->leave_mb));
    if (want < 4096) {
        json_object_set_new(act->details, "filled_mb", json_real(0));
        return 0; /* already at or below leave_mb */
    }
    snprintf(st->file, sizeof st->file, "%s/.chaosrun-fill-%s-%d", p->full,
             f->name, act->occurrence);
    st->ledger_id = cr_run_ledger_add(r, err, "file %s", st->file);
    if (st->ledger_id < 0)
        return st->ledger_id;
    int fd = open(st->file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return cr_err_sys(err, CR_ESYS, errno, "disk_fill %s: create %s",
                          f->name, st->file);
    /* Whole blocks: the last partial one would be rounded up anyway. */
    struct statvfs v;
    off_t len = (off_t)want;
    if (fstatvfs(fd, &v) == 0 && v.f_frsize > 0)
        len -= len % (off_t)v.f_frsize;
    off_t done = 0;
    int rc = fill_blocks(fd, len, &done);
    if (rc != 0)
        rc = cr_err_sys(err, CR_ESYS, rc,
                        "disk_fill %s: fallocate %.1f MiB in %s", f->name,
                        (double)len / MIB, p->full);
    close(fd);
    json_object_set_new(act->details, "file", json_string(st->file));
    json_object_set_new(act->details, "filled_mb",
                        json_real((double)done / MIB));
    if (free_bytes(p->full, &fr, &size) == 0)
        json_object_set_new(act->details, "free_mb_after", json_real(fr / MIB));
    return rc;
}

static int fill_revert(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    fill_priv *p = f->priv;
    fill_state *st = act->state;
    double fr, size;
    if (!st)
        return 0;
    if (p->host) {
        int rc = st->file[0] ? node_revert(f, r, act, st, err) : 0;
        if (rc != 0)
            return rc; /* kept: tried again, and the node's clean-up */
        cr_free(st);
        act->state = NULL;
        return 0;
    }
    if (st->file[0] && unlink(st->file) != 0 && errno != ENOENT)
        return cr_err_sys(err, CR_ESYS, errno, "disk_fill %s: remove %s",
                          f->name, st->file);
    if (st->ledger_id > 0)
        cr_run_ledger_done(r, st->ledger_id);
    if (act->details && free_bytes(p->full, &fr, &size) == 0)
        json_object_set_new(act->details, "free_mb_released",
                            json_real(fr / MIB));
    cr_free(st);
    act->state = NULL;
    return 0;
}

const cr_fault_ops cr_fault_disk_fill_ops = {
    .kind = "disk_fill",
    .summary = "fill the file system of path until leave_mb MiB are free, "
               "for for_s seconds (fallocate; ENOSPC for every writer)",
    .params = fill_params,
    .flags = CR_FAULT_NEEDS_DURATION | CR_FAULT_NO_TARGET,
    .requires = "a file system with fallocate(2) that is not the one of /; "
                "tmpfs_mb: root",
    .parse = fill_parse,
    .check = fill_check,
    .prepare = fill_prepare,
    .apply = fill_apply,
    .revert = fill_revert,
    .destroy = cr_resfault_destroy,
};
