/* cr_prog: what kind of program a service runs (see cr_prog.c). */
#ifndef CR_PROG_H
#define CR_PROG_H

#include <stddef.h>

#include "scenario/cr_scen.h"

enum {
    CR_PROG_OTHER = -1, /* neither an ELF program nor a script; unreadable */
    CR_PROG_STATIC,     /* ELF without a PT_INTERP program header */
    CR_PROG_DYNAMIC,    /* ELF with PT_INTERP (the dynamic loader runs) */
    CR_PROG_SCRIPT,     /* "#!": the interpreter's path copied out */
    CR_PROG_GO,         /* a Go program, static or not */
};

/* The path of the service's program into out: argv[0] through PATH, or
 * relative to the service's cwd.  0, or -1 when not found/executable. */
int cr_prog_resolve(const cr_svc_spec *sp, char *out, size_t n);

/* The CR_PROG_* kind of the program at path; for a script, its
 * interpreter's path goes to interp (n bytes). */
int cr_prog_kind(const char *path, char *interp, size_t n);

#endif
