/* cr_fiu: a client for libfiu's remote control over named pipes.
 *
 * A process started with fiu_run_preload.so and FIU_CTRL_FIFO=<prefix>
 * creates two FIFOs, <prefix>-<pid>.in and <prefix>-<pid>.out, and serves
 * them from a thread (libfiu/fiu-rc.c).  Verified against libfiu 1.1's
 * source and the installed library:
 *
 *   - the thread opens .in for reading (blocking until a writer comes),
 *     then .out for writing (blocking until a reader comes), then loops:
 *     read one line (up to 512 bytes, '\n'-terminated), run it, write the
 *     reply "<int>\n" to .out.  EOF on .in (the client closed it) makes it
 *     close both and wait for the next client.
 *   - a command line is "<command> <k>=<v>,<k>=<v>,..." (getsubopt(3)
 *     syntax; one space between command and parameters).  Commands:
 *       enable        name=N[,failnum=F][,failinfo=I][,onetime]
 *       enable_random name=N,probability=P[,failnum=F][,failinfo=I][,onetime]
 *       disable       name=N
 *     failnum (default 1) is what fiu_fail() returns; failinfo is parsed
 *     with strtoul(…, 10) and is, for the POSIX preload, the errno to set
 *     (0: libfiu draws one from the point's list with random()); onetime
 *     is FIU_ONETIME: fail once, then never again until re-enabled.
 *     libfiu has no "fail N times" for N > 1.
 *   - the reply is "0\n" on success and "-1\n" on failure (unknown command
 *     or parameter, missing parameters, disabling a point that is not
 *     enabled); libfiu also prints "libfiu: rc parsing error: …" on the
 *     process's stderr.
 *   - FIFOs are created 0600 at start-up (and by every fork()ed child, with
 *     its own pid) and unlinked at exit; a process killed by a signal
 *     leaves them behind.
 *
 * Hazard: if the client closes .out while the thread is about to write a
 * reply, the thread's write() raises SIGPIPE in the *target* process.  The
 * client therefore reads every reply before closing and closes .in first
 * (the thread then sees EOF and writes nothing); after a timeout there is
 * no safe way out, which is why callers should not talk to a process that
 * is stopped (SIGSTOP). */
#ifndef CR_FIU_H
#define CR_FIU_H

#include <stddef.h>
#include <sys/types.h>

#include "base/cr_err.h"

/* libfiu's MAX_LINE: a command line, newline included, must fit. */
#define CR_FIU_MAX_LINE 512

typedef struct cr_fiu_conn cr_fiu_conn;

/* "<prefix>-<pid>.in" (out == 0) or ".out" into buf.  0, or CR_EINVAL when
 * it does not fit. */
int cr_fiu_fifo_path(char *buf, size_t n, const char *prefix, pid_t pid,
                     int out);

/* Connect to the remote control of process pid.  Waits up to timeout_s for
 * the FIFOs to exist and for the process's thread to be listening (it is
 * busy for a moment after each session).  Returns 0 and *out (close with
 * cr_fiu_close), or CR_ETIMEOUT (no FIFO, or nobody listening: the process
 * is not running under the preload, has exited, or is stopped), CR_ESYS,
 * CR_ENOMEM; *out stays NULL on error. */
int cr_fiu_open(const char *prefix, pid_t pid, double timeout_s,
                cr_fiu_conn **out, cr_err *err);

/* Send one command line (without newline) and wait up to timeout_s for its
 * reply.  Returns 0 with *reply set to the number the process replied (0
 * done, -1 refused by libfiu), CR_ETIMEOUT, CR_EPROTO (the peer closed or
 * replied something that is not a number), CR_EINVAL (line too long or
 * holds a newline), CR_ESYS.  After an error the connection is unusable
 * (close it). */
int cr_fiu_cmd(cr_fiu_conn *c, const char *cmd, double timeout_s, int *reply,
               cr_err *err);

/* Send n command lines and read their n replies into replies[0..n-1], in
 * order.  The lines go out together (whole lines, up to PIPE_BUF bytes a
 * write), so the process's thread answers them one after another without
 * a round trip each: one wake-up instead of n.  timeout_s bounds the whole
 * batch.  Errors as cr_fiu_cmd (replies before the failing one are set). */
int cr_fiu_cmds(cr_fiu_conn *c, const char *const *cmds, size_t n,
                double timeout_s, int *replies, cr_err *err);

/* Close .in, then .out (see the hazard above).  NULL is a no-op. */
void cr_fiu_close(cr_fiu_conn *c);

/* Format commands.  probability >= 1 gives "enable", otherwise
 * "enable_random"; errnum 0 leaves failinfo out; onetime adds ",onetime".
 * 0, or CR_EINVAL when the line would not fit in n or in libfiu's line. */
int cr_fiu_fmt_enable(char *buf, size_t n, const char *name, double probability,
                      int errnum, int onetime);
int cr_fiu_fmt_disable(char *buf, size_t n, const char *name);

#endif
