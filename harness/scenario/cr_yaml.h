/* cr_yaml: a YAML scenario as the jansson document the JSON loader
 * validates, with the position of every key and value in the same cr_jpos
 * map, so that every diagnostic points at FILE:LINE:COLUMN of the YAML
 * text (scenarios/README.md, "YAML").
 *
 * libyaml's event parser reads the text; plain scalars are typed by the
 * YAML 1.2 core schema (null, true/false, integers, floats; everything
 * else, and every quoted scalar, a string).  Refused, with the position:
 * anchors and aliases, tags, keys that are not scalars, duplicate keys,
 * more than one document, NUL in a string, numbers JSON cannot hold, and
 * nesting deeper than CR_YAML_MAX_DEPTH. */
#ifndef CR_YAML_H
#define CR_YAML_H

#include "cr_jpos.h"

#include <jansson.h>
#include <stddef.h>

#define CR_YAML_MAX_DEPTH 1024 /* nested sequences and mappings */

typedef struct cr_yaml_error {
    int line, col; /* 1-based; col counts bytes, as for JSON */
    char text[256];
} cr_yaml_error;

/* 1 when `file` names a YAML scenario (ends in .yaml or .yml). */
int cr_yaml_is_yaml_name(const char *file);

/* Parse text[0..len).  0 with *root (the document, a new reference) and
 * *pos (free with cr_jpos_free); CR_EINVAL with *e filled (the text is not
 * a scenario document); CR_ENOMEM.  *root and *pos stay NULL on error. */
int cr_yaml_load(const char *text, size_t len, json_t **root, cr_jpos **pos,
                 cr_yaml_error *e);

#endif
