/* cr_signal: signal names and numbers (see cr_signal.h). */
#include "cr_signal.h"

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    int sig;
    const char *name;
} signals[] = {
    {SIGHUP, "SIGHUP"},       {SIGINT, "SIGINT"},       {SIGQUIT, "SIGQUIT"},
    {SIGILL, "SIGILL"},       {SIGTRAP, "SIGTRAP"},     {SIGABRT, "SIGABRT"},
    {SIGBUS, "SIGBUS"},       {SIGFPE, "SIGFPE"},       {SIGKILL, "SIGKILL"},
    {SIGUSR1, "SIGUSR1"},     {SIGSEGV, "SIGSEGV"},     {SIGUSR2, "SIGUSR2"},
    {SIGPIPE, "SIGPIPE"},     {SIGALRM, "SIGALRM"},     {SIGTERM, "SIGTERM"},
    {SIGSTKFLT, "SIGSTKFLT"}, {SIGCHLD, "SIGCHLD"},     {SIGCONT, "SIGCONT"},
    {SIGSTOP, "SIGSTOP"},     {SIGTSTP, "SIGTSTP"},     {SIGTTIN, "SIGTTIN"},
    {SIGTTOU, "SIGTTOU"},     {SIGURG, "SIGURG"},       {SIGXCPU, "SIGXCPU"},
    {SIGXFSZ, "SIGXFSZ"},     {SIGVTALRM, "SIGVTALRM"}, {SIGPROF, "SIGPROF"},
    {SIGWINCH, "SIGWINCH"},   {SIGIO, "SIGIO"},         {SIGPWR, "SIGPWR"},
    {SIGSYS, "SIGSYS"},
};
#define NSIGNALS (sizeof signals / sizeof signals[0])
_Static_assert(NSIGNALS == CR_SIGNAL_COUNT, "CR_SIGNAL_COUNT is out of date");

int cr_signal_parse(const char *s)
{
    char up[32];
    size_t n = 0;
    if (!s || !*s)
        return -1;
    if (isdigit((unsigned char)s[0])) {
        char *end;
        long v = strtol(s, &end, 10);
        if (*end || !cr_signal_name((int)v) || v > 64)
            return -1;
        return (int)v;
    }
    if (strncasecmp(s, "SIG", 3) != 0)
        n = (size_t)snprintf(up, sizeof up, "SIG");
    for (; *s && n < sizeof up - 1; s++)
        up[n++] = (char)toupper((unsigned char)*s);
    up[n] = '\0';
    if (*s)
        return -1;
    for (size_t i = 0; i < NSIGNALS; i++)
        if (strcmp(signals[i].name, up) == 0)
            return signals[i].sig;
    return -1;
}

const char *cr_signal_name(int sig)
{
    for (size_t i = 0; i < NSIGNALS; i++)
        if (signals[i].sig == sig)
            return signals[i].name;
    return NULL;
}

size_t cr_signal_names(const char **out, size_t max)
{
    for (size_t i = 0; i < NSIGNALS && i < max; i++)
        out[i] = signals[i].name;
    return NSIGNALS;
}
