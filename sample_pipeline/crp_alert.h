/* crp_alert: the alerter's rule evaluator and webhook sender.
 * Rules (JSON, format in sample_pipeline/README.md, "Alert rules") are
 * evaluated over samples of the stages' /metrics (Prometheus text) that
 * the caller feeds in; each rule is an expression (counter rate over a
 * window, ratio of summed rates, gauge value, seconds without progress),
 * a comparison with a threshold and a for_s duration with Prometheus
 * semantics: inactive -> pending when the condition holds, -> firing once
 * it held for for_s, -> resolved (inactive) when it stops holding.  A rule
 * whose expression has no value (no data, zero denominator) does not hold.
 * No I/O here except in the webhook sender (libcurl, its own thread). */
#ifndef CRP_ALERT_H
#define CRP_ALERT_H

#include <stddef.h>

typedef struct crp_alert_set crp_alert_set;

/* The built-in rules (JSON text) used when no --rules file is given. */
extern const char crp_alert_default_rules[];

enum { CRP_ALERT_INACTIVE, CRP_ALERT_PENDING, CRP_ALERT_FIRING };

/* A state change reported by crp_alert_eval (only firing and resolved are
 * reported; resolved has state CRP_ALERT_INACTIVE).  rule points into the
 * set and stays valid until crp_alert_free.  value is NaN when the
 * expression had no value.  since: time the condition started to hold. */
typedef struct crp_alert_change {
    const char *rule;
    int state;
    double value, threshold, since;
} crp_alert_change;

/* Parse rules from JSON text.  defects: CRP_DEFECT_* bits (crp_conf.h).
 * Returns a new set (free with crp_alert_free), or NULL with a message in
 * err (size n) naming the rule (by name, else by index) and the field. */
crp_alert_set *crp_alert_parse(const char *json, unsigned defects, char *err,
                               size_t n);
/* Same, from a file; the message names the file too. */
crp_alert_set *crp_alert_load(const char *path, unsigned defects, char *err,
                              size_t n);
/* NULL is a no-op. */
void crp_alert_free(crp_alert_set *s);

/* Feed one scrape of `target` at time t (seconds, any monotonic origin):
 * body is the Prometheus text, or NULL when the scrape failed (the
 * target's gauges then have no value until it answers again).
 * Returns the number of series of interest found, or -1 on allocation
 * failure (the set stays usable). */
int crp_alert_observe(crp_alert_set *s, const char *target, const char *body,
                      double t);

/* Evaluate every rule at time t; write up to max changes into out and
 * return how many happened (changes beyond max are still applied). */
int crp_alert_eval(crp_alert_set *s, double t, crp_alert_change *out, int max);

/* Rules currently firing. */
int crp_alert_firing(const crp_alert_set *s);
/* Number of rules; name, state and last value of rule i. */
int crp_alert_count(const crp_alert_set *s);
const char *crp_alert_name(const crp_alert_set *s, int i);
int crp_alert_state(const crp_alert_set *s, int i);
double crp_alert_value(const crp_alert_set *s, int i);

/* Webhook sender: POSTs JSON payloads to a URL from its own thread, each
 * up to `attempts` times (delay `retry_ms`, doubling; timeout timeout_ms
 * per attempt).  crp_alert_hook_send never blocks: it queues a copy (the
 * oldest queued payload is dropped when the queue is full, and counted as
 * failed). */
typedef struct crp_alert_hook crp_alert_hook;
/* Returns NULL with err set on failure (bad URL scheme, no memory). */
crp_alert_hook *crp_alert_hook_start(const char *url, int attempts,
                                     int retry_ms, int timeout_ms, char *err,
                                     size_t n);
/* Queue a payload (copied).  0, or -1 when it could not be queued. */
int crp_alert_hook_send(crp_alert_hook *h, const char *payload);
/* Delivered payloads, failed payloads (all attempts failed or dropped),
 * and the last error message (copied into err, size n). */
void crp_alert_hook_stats(crp_alert_hook *h, long long *sent, long long *failed,
                          char *err, size_t n);
/* Stop the thread (a transfer in flight is aborted, queued payloads are
 * dropped) and free.  NULL is a no-op. */
void crp_alert_hook_stop(crp_alert_hook *h);

#endif
