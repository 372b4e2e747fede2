/* cr_probe_util: one-shot health checks shared by probes and service
 * readiness.  Each returns 1 healthy, 0 not (detail says why), -1 harness
 * error; each may block up to timeout_s. */
#ifndef CR_PROBE_UTIL_H
#define CR_PROBE_UTIL_H

#include <stddef.h>

int cr_probe_tcp_once(const char *host, int port, double timeout_s,
                      char *detail, size_t n);
/* On success with body_out non-NULL, *body_out is the body (cr_free). */
int cr_probe_http_once(const char *url, int want_status, double timeout_s,
                       char **body_out, char *detail, size_t n);
int cr_probe_exec_once(char *const *argv, double timeout_s, char *detail,
                       size_t n);

#endif
