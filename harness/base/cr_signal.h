/* cr_signal: the names of the standard signals, both ways. */
#ifndef CR_SIGNAL_H
#define CR_SIGNAL_H

#include <stddef.h>

/* The standard signals that have a name. */
#define CR_SIGNAL_COUNT 31

/* "SIGKILL", "KILL", "kill" or the number of a signal that has a name
 * ("9").  -1 if unknown. */
int cr_signal_parse(const char *s);
/* "SIGKILL"; NULL for a number without a name. */
const char *cr_signal_name(int sig);
/* Writes at most max names ("SIGHUP", ...) into out, for "did you mean"
 * hints; returns how many there are in all. */
size_t cr_signal_names(const char **out, size_t max);

#endif
