/* cr_scrape: a background scraper for the Prometheus URLs that slo
 * expectations want (cr_check_scrape_urls), writing
 * <run_dir>/metrics.jsonl through cr_prom_scrape().
 *
 * The engine starts it at t0 and stops it after the drain, before judging:
 *   cr_scrape_start(sc, run_dir, now_fn, r, 1.0, &scr, &err);
 *   ... run ...
 *   cr_scrape_stop(scr);   // joins the thread
 *   cr_scrape_stats(scr, &ok, &failed, msg, sizeof msg);  // for the journal
 *   cr_scrape_destroy(scr);
 * One thread scrapes every URL in turn each interval (each scrape has a
 * timeout of 2 s; a slow one delays the next); `now` gives the run time
 * (seconds after t0) and must be callable from that thread. */
#ifndef CR_SCRAPE_H
#define CR_SCRAPE_H

#include <stddef.h>

#include "base/cr_err.h"
#include "scenario/cr_scen.h"

typedef struct cr_scrape cr_scrape;

/* Start scraping.  Returns 0 and *out (also when the scenario wants no
 * URL: then no thread runs and *out is a valid, idle scraper), or
 * CR_ENOMEM / CR_ESYS with err set and *out NULL. */
int cr_scrape_start(const cr_scen *sc, const char *run_dir,
                    double (*now)(void *ud), void *ud, double interval_s,
                    cr_scrape **out, cr_err *err);
/* Stop and join (idempotent; NULL is a no-op). */
void cr_scrape_stop(cr_scrape *s);
/* Scrapes that succeeded and failed so far; msg gets the first failure's
 * message ("" when none). */
void cr_scrape_stats(cr_scrape *s, size_t *ok, size_t *failed, char *msg,
                     size_t n);
/* Stop if needed and free (NULL is a no-op). */
void cr_scrape_destroy(cr_scrape *s);

#endif
