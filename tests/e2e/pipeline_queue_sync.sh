# End-to-end (no chaosrun): the queue's WAL syncs run beside its loop
# (sample_pipeline/crp_walsync.h).  With every fdatasync of the WAL made
# slow (1 s, an LD_PRELOAD shim built here), a PUT's answer waits for the
# sync, while another client's GETs go on being answered meanwhile -- and
# find nothing: the record is not leased before its put is on disk.  With
# the sync failing (EIO), the putting client is closed without an answer,
# and the next sync that succeeds makes the record leasable (committed,
# never acknowledged: the client's resend is an `OK DUP`).
set -e
. "$(dirname "$0")/lib.sh"
[ -x "$CR_BIN/crp" ] || { echo "SKIPPED: $CR_BIN/crp not built"; exit 77; }
command -v python3 >/dev/null || { echo "SKIPPED: python3 is not installed"; exit 77; }
command -v cc >/dev/null || { echo "SKIPPED: no C compiler for the shim"; exit 77; }
D="$E2E_TMP/qs"
mkdir -p "$D"
cat >"$D/shim.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* fdatasync of a file named *-wal: fails (EIO) while $SHIM_DIR/fail
 * exists, else sleeps $SHIM_DIR/delay_ms first when that file exists. */
int fdatasync(int fd)
{
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    char l[64], p[4096], f[4200];
    snprintf(l, sizeof l, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(l, p, sizeof p - 1);
    const char *d = getenv("SHIM_DIR");
    if (n > 4 && d) {
        p[n] = '\0';
        if (!strcmp(p + n - 4, "-wal")) {
            snprintf(f, sizeof f, "%s/fail", d);
            if (access(f, F_OK) == 0) {
                errno = EIO;
                return -1;
            }
            snprintf(f, sizeof f, "%s/delay_ms", d);
            FILE *fp = fopen(f, "r");
            int ms = 0;
            if (fp) {
                if (fscanf(fp, "%d", &ms) != 1)
                    ms = 0;
                fclose(fp);
                usleep((useconds_t)ms * 1000);
            }
        }
    }
    return real(fd);
}
C
cc -shared -fPIC -O2 -o "$D/shim.so" "$D/shim.c" -ldl
export CHAOSRUN_RUN_DIR=$D CHAOSRUN_EVENTS=$D/events.jsonl SHIM_DIR=$D
PORT=7593 # (no other test uses it: safe also under CR_E2E_PORT_LOCKS)
LD_PRELOAD=$D/shim.so "$CR_BIN/crp" queue --port $PORT --data-dir "$D/q" >"$D/queue.log" 2>&1 &
QPID=$!
trap 'kill $QPID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$E2E_TMP"' EXIT
for _ in $(seq 1 100); do grep -q '"ev":"ready"' "$D/events.jsonl" 2>/dev/null && break; sleep 0.1; done
echo 1000 >"$D/delay_ms"
cat >"$D/client.py" <<'PY'
import socket, sys, time, os
port = int(sys.argv[1]); d = sys.argv[2]
def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    return s, s.makefile("rb")
def get(s, f, n=10):
    s.sendall(b"GET work %d\n" % n)
    k = int(f.readline().split()[1])
    return [f.readline().split()[3].decode() for _ in range(k)]
# 1. a slow sync: the PUT's answer waits, the GETs do not, and find nothing
a, af = conn(); b, bf = conn()
a.sendall(b"PUT work r1 t1 payload-1\n")
a.setblocking(False)
early, ok = [], None
t0 = time.monotonic()
while ok is None and time.monotonic() - t0 < 20:
    early.append(get(b, bf))
    try:
        ok = a.recv(100)
    except BlockingIOError:
        pass
a.setblocking(True)
print("answer %r after %d GETs answered meanwhile, leased then: %s" % (ok, len(early) - 1, sum(early[:-1], [])))
print("check1", ok is not None and ok.startswith(b"OK "), len(early) - 1 >= 2,
      not any(early[:-1]))
late = get(b, bf)
print("check2", late == ["r1"] or early[-1] == ["r1"])
# 2. a failed sync: closed without an answer
open(os.path.join(d, "fail"), "w").close()
os.unlink(os.path.join(d, "delay_ms"))
c, cf = conn()
c.sendall(b"PUT work r2 t2 payload-2\n")
r = cf.readline()
print("answer to the PUT under EIO: %r" % r)
print("check3", r == b"")
os.unlink(os.path.join(d, "fail"))
e, ef = conn()
e.sendall(b"PUT work r3 t3 payload-3\n")
r3 = ef.readline()
e.sendall(b"PUT work r2 t2 payload-2\n")  # the resend
r2 = ef.readline()
got = get(e, ef)
got += get(e, ef)  # fair leases: b is a consumer too, a GET takes half
print("after: %r %r leased %s" % (r3, r2, got))
print("check4", r3.startswith(b"OK ") and r2 == b"OK DUP\n" and got == ["r2", "r3"])
PY
python3 "$D/client.py" $PORT "$D" >"$D/client.out" 2>&1 || true
cat "$D/client.out"
expect_true "a PUT is answered only after the slow sync, while GETs are answered and lease nothing" \
    grep -qx 'check1 True True True' "$D/client.out"
expect_true "the record is leased once its sync ended" grep -qx 'check2 True' "$D/client.out"
expect_true "a failed sync: the putting client is closed without an answer" \
    grep -qx 'check3 True' "$D/client.out"
expect_true "the failed sync is logged" grep -q 'WAL fsync failed: Input/output error' "$D/queue.log"
expect_true "after it, the committed record is leasable and its resend an OK DUP" \
    grep -qx 'check4 True' "$D/client.out"
[ $E2E_FAILS -eq 0 ] || { cat "$D/queue.log"; exit 1; }
echo "all $E2E_PASSES checks passed"
