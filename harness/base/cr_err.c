/* cr_err: see cr_err.h. */
#include "cr_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cr_err_clear(cr_err *e)
{
    if (e) {
        e->code = 0;
        e->msg[0] = '\0';
    }
}

static int err_vset(cr_err *e, int code, int errnum, const char *fmt,
                    va_list ap)
{
    if (!e || e->code != 0)
        return code;
    e->code = code;
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    if (errnum) {
        size_t n = strlen(e->msg);
        snprintf(e->msg + n, sizeof e->msg - n, ": %s", strerror(errnum));
    }
    return code;
}

int cr_err_set(cr_err *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(e, code, 0, fmt, ap);
    va_end(ap);
    return code;
}

int cr_err_sys(cr_err *e, int code, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(e, code, errnum, fmt, ap);
    va_end(ap);
    return code;
}

const char *cr_err_name(int code)
{
    switch (code) {
    case 0:
        return "OK";
#define CR_X_(n, c, s, t)                                                      \
    case c:                                                                    \
        return #n;
        CR_ERR_MAP(CR_X_)
#undef CR_X_
    }
    return "UNKNOWN";
}

const char *cr_err_text(int code)
{
    switch (code) {
    case 0:
        return "success";
#define CR_X_(n, c, s, t)                                                      \
    case c:                                                                    \
        return t;
        CR_ERR_MAP(CR_X_)
#undef CR_X_
    }
    return "unknown error";
}

int cr_err_exit_status(int code)
{
    switch (code) {
    case 0:
        return 0;
#define CR_X_(n, c, s, t)                                                      \
    case c:                                                                    \
        return s;
        CR_ERR_MAP(CR_X_)
#undef CR_X_
    }
    return 4;
}
