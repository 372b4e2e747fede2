/* cr_jpos: where every key and value of a JSON text sits (line, column).
 * (cr_yaml.c fills the same map from a YAML text.)
 *
 * jansson keeps no positions for values, so after jansson accepted a text
 * the scenario loader walks the same text with a small tokenizer and records,
 * for every path ("services[1].cmd[0]", "faults[2].at_s"), the position of
 * the member's key (objects only) and of its value.  Paths are built as in
 * cr_path_key()/cr_path_idx(): the root is "", an object member is
 * "base.key" ("key" at the root), an array element "base[i]".  Lines and
 * columns are 1-based; columns count bytes. */
#ifndef CR_JPOS_H
#define CR_JPOS_H

#include <stddef.h>

typedef struct cr_jpos cr_jpos;

typedef struct cr_jpos_at {
    int kline, kcol; /* the key's opening quote; 0 for array elements/root */
    int vline, vcol; /* the value's first byte */
} cr_jpos_at;

/* Build the map of `text` (which must be JSON that jansson accepted).
 * Returns 0 and *out (free with cr_jpos_free), CR_ENOMEM, or CR_EINVAL if
 * the text is not JSON after all; *out stays NULL on error. */
int cr_jpos_build(const char *text, size_t len, cr_jpos **out);
void cr_jpos_free(cr_jpos *m);

/* A map built by another reader (cr_yaml.c): create, add every path in
 * any order, then seal before the first cr_jpos_get.  add returns 0 or
 * CR_ENOMEM (the map unchanged); create returns NULL when out of memory. */
cr_jpos *cr_jpos_create(void);
int cr_jpos_add(cr_jpos *m, const char *path, const cr_jpos_at *at);
void cr_jpos_seal(cr_jpos *m);

/* 1 and *at filled when the path is known, 0 otherwise (*at zeroed). */
int cr_jpos_get(const cr_jpos *m, const char *path, cr_jpos_at *at);

/* Line and column (1-based, bytes) of byte offset `off` in text. */
void cr_jpos_offset(const char *text, size_t len, size_t off, int *line,
                    int *col);

#endif
