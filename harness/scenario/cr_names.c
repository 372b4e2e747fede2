/* cr_names: a name -> index table for the loader (see cr_scen_internal.h).
 *
 * Scenarios name their services, faults, probes and expectations, and the
 * loader checks every name for duplicates and resolves every reference to
 * a service.  Doing that by scanning the earlier entries made validation
 * quadratic (10^5 services: 30 s and more); this table makes each check one
 * hash look-up.  Open addressing with linear probing, FNV-1a, at most half
 * full, keys borrowed (they live in the scenario).  hsearch_r was the other
 * candidate: it cannot grow, so the loader would have to size it first. */
#include "cr_scen_internal.h"

#include "base/cr_alloc.h"

#include <stdint.h>
#include <string.h>

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static size_t slot_of(const cr_names *m, const char *key)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)hash(key) & mask;
    while (m->keys[i] && strcmp(m->keys[i], key) != 0)
        i = (i + 1) & mask;
    return i;
}

static int grow(cr_names *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 16;
    cr_names n = {.cap = ncap};
    n.keys = cr_calloc(ncap, sizeof *n.keys);
    n.vals = cr_calloc(ncap, sizeof *n.vals);
    if (!n.keys || !n.vals) {
        cr_free(n.keys);
        cr_free(n.vals);
        return CR_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i]) {
            size_t j = slot_of(&n, m->keys[i]);
            n.keys[j] = m->keys[i];
            n.vals[j] = m->vals[i];
        }
    n.n = m->n;
    cr_names_free(m);
    *m = n;
    return 0;
}

int cr_names_put(cr_names *m, const char *key, size_t val, size_t *old)
{
    if (m->cap) {
        size_t i = slot_of(m, key);
        if (m->keys[i]) {
            if (old)
                *old = m->vals[i];
            return 1;
        }
    }
    if ((m->n + 1) * 2 > m->cap && grow(m))
        return CR_ENOMEM;
    size_t i = slot_of(m, key);
    m->keys[i] = key;
    m->vals[i] = val;
    m->n++;
    return 0;
}

int cr_names_get(const cr_names *m, const char *key, size_t *val)
{
    if (!m || !m->cap || !key)
        return 0;
    size_t i = slot_of(m, key);
    if (!m->keys[i])
        return 0;
    *val = m->vals[i];
    return 1;
}

void cr_names_free(cr_names *m)
{
    if (!m)
        return;
    cr_free(m->keys);
    cr_free(m->vals);
    m->keys = NULL;
    m->vals = NULL;
    m->n = m->cap = 0;
}
