/* cr_tgt: what the test targets (tests/targets/cr_tgt_*.c) share: the
 * event-line writer of the event contract (harness/README.md), two clocks,
 * a sleep that SIGTERM cuts short, and the SIGTERM flag. */
#ifndef CR_TGT_H
#define CR_TGT_H

#include <netinet/in.h>
#include <signal.h>

/* Set by SIGTERM once cr_tgt_init(1) ran. */
extern volatile sig_atomic_t cr_tgt_term;

/* Opens $CHAOSRUN_EVENTS (events are dropped when it is unset), ignores
 * SIGPIPE, and sets cr_tgt_term on SIGTERM when handle_term, else ignores
 * SIGTERM (a target that must be SIGKILLed). */
void cr_tgt_init(int handle_term);
/* Wall clock (event timestamps) and monotonic clock, in seconds. */
double cr_tgt_unix(void);
double cr_tgt_mono(void);
/* One event line {"ts","svc","inst","ev", fields...} in one write();
 * fields: NULL, or more JSON members without braces ("\"id\":\"a\""). */
void cr_tgt_emit(const char *ev, const char *fields);
/* Sleep ms milliseconds, or until SIGTERM. */
void cr_tgt_sleep_ms(double ms);
/* 1 when an HTTP GET / at a answers 200 within timeout_ms (each step). */
int cr_tgt_http_ok(const struct sockaddr_in *a, int timeout_ms);

#endif
