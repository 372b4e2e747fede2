/* crp_schema: the declared record schema and its evolution.
 *
 * v2 (current): {"schema":2, "src":string(1..64), "ts":number>=0,
 *                "x":[16 finite numbers in [-100,100]], "label":0|1,
 *                "weight":number in (0,10] (optional, default 1)}
 * v1 (legacy):  {"schema":1, "source":string, "time":number,
 *                "features":[16 numbers], "class":"a"|"b"}
 * A v1 record is upgraded to v2 (source->src, time->ts, features->x,
 * class a/b -> label 0/1, weight 1).  Unknown keys are rejected. */
#ifndef CRP_SCHEMA_H
#define CRP_SCHEMA_H

#include <jansson.h>
#include <stddef.h>

#define CRP_DIM 16

/* Validate rec; on success upgrade it in place to v2 and return 0 (or 1
 * when it was upgraded from v1).  On failure return -1 with a reason
 * ("x[3]: out of range") in reason. rec is left unchanged on failure. */
int crp_schema_check(json_t *rec, char *reason, size_t n);

#endif
