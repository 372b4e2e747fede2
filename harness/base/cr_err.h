/* cr_err: error codes plus one sentence, first error wins.
 *
 * Every fallible function in chaosrun returns 0 or a negative CR_E* code and
 * writes the details into a caller-owned cr_err.  The first error recorded
 * wins, so an outer frame cannot overwrite the real cause.  Library code
 * never prints: the sub-commands in cli/ (and main.c) turn an error into a
 * message, and cr_err_exit_status() into an exit status. */
#ifndef CR_ERR_H
#define CR_ERR_H

#include <stddef.h>

#if defined(__GNUC__)
#define CR_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CR_PRINTF(a, b)
#endif

/* X(name, code, exit status, text).  Exit statuses follow the CLI contract
 * (README.md, "Exit status"; tests/test_docs_readme.c holds the two
 * together): 1 an expectation failed, 2 invalid scenario or usage, 3 this
 * machine cannot run the scenario, 4 the harness itself failed or the run
 * was interrupted, 5 the system under test did not start (a service
 * exited or was not ready during start-up; nothing was judged). */
#define CR_ERR_MAP(X)                                                          \
    X(INVAL, -1, 2, "invalid scenario or usage")                               \
    X(UNSUP, -2, 3, "not supported on this machine")                           \
    X(SYS, -3, 4, "system call failed")                                        \
    X(NOMEM, -4, 4, "out of memory")                                           \
    X(TIMEOUT, -5, 4, "timed out")                                             \
    X(PROTO, -6, 4, "protocol error")                                          \
    X(INTR, -7, 4, "interrupted")                                              \
    X(NOTFOUND, -8, 2, "not found")                                            \
    X(STATE, -9, 4, "wrong state")                                             \
    X(START, -10, 5, "the system under test did not start")

enum {
    CR_OK = 0,
#define CR_X_(n, c, s, t) CR_E##n = (c),
    CR_ERR_MAP(CR_X_)
#undef CR_X_
};

typedef struct cr_err {
    int code;       /* 0 or a CR_E* code */
    char msg[1024]; /* "operation on object: cause" */
} cr_err;

/* Initialise to "no error". */
void cr_err_clear(cr_err *e);

/* Record an error unless one is already recorded.  Returns code, so that
 * `return cr_err_set(e, CR_EINVAL, "...")` reads naturally.  e may be NULL. */
int cr_err_set(cr_err *e, int code, const char *fmt, ...) CR_PRINTF(3, 4);

/* Same, appending ": strerror(errnum)". */
int cr_err_sys(cr_err *e, int code, int errnum, const char *fmt, ...)
    CR_PRINTF(4, 5);

/* Symbolic name ("EINVAL" style without the E prefix: "INVAL") and text. */
const char *cr_err_name(int code);
const char *cr_err_text(int code);

/* Process exit status for an error code: 0 for 0, the map's status for a
 * CR_E* code, 4 for any other code. */
int cr_err_exit_status(int code);

#endif
