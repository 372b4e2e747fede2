/* cr_prom: a parser for the Prometheus text exposition format 0.0.4, used
 * by the slo checker to judge scraped metrics.
 *
 * The engine scrapes the URLs that cr_check_scrape_urls() (cr_check.h)
 * returns and appends one line per scrape to <run_dir>/metrics.jsonl:
 *   {"t": <s after t0>, "url": "...", "samples": {<key>: <value>, ...}}
 * where samples is what cr_prom_parse() returns. */
#ifndef CR_PROM_H
#define CR_PROM_H

#include <jansson.h>

#include "base/cr_err.h"

/* Parse a whole exposition.  On success returns 0 and *samples_out is a
 * new object mapping `name` or `name{label="value",...}` (labels in the
 * order written, values re-escaped with \\ \" \n) to a number; the
 * non-finite values +Inf, -Inf and NaN are stored as those strings,
 * because JSON has no such numbers.  Comments (# HELP, # TYPE, anything
 * after '#') and blank lines are skipped; timestamps are accepted and
 * dropped; a repeated key keeps the last value.  On error returns
 * CR_EPROTO ("prometheus line N: ...") or CR_ENOMEM and *samples_out is
 * NULL. */
int cr_prom_parse(const char *text, json_t **samples_out, cr_err *err);

/* The value of a sample as stored by cr_prom_parse (number or one of the
 * strings above); NAN when v is neither. */
double cr_prom_value(const json_t *v);

/* Scrape one exposition: GET url (timeout_s), parse it and append the line
 * {"t": t, "url": url, "samples": {...}} to <run_dir>/metrics.jsonl
 * (created when missing).  Blocking: call it from a worker thread or a
 * loop tick that may take timeout_s.  Returns 0, or CR_ESYS (file),
 * CR_EPROTO (HTTP failure, status other than 200, or a body that is not
 * the text format; nothing appended), CR_ENOMEM. */
int cr_prom_scrape(const char *run_dir, double t, const char *url,
                   double timeout_s, cr_err *err);

#endif
