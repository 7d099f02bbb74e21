/* errors.h — every problem a configuration has, collected rather than
 * stopping at the first, each naming its JSON path. */
#ifndef KGATE_CFG_ERRORS_H
#define KGATE_CFG_ERRORS_H

#include <stddef.h>

struct cfg_errors {
	char **msgs;
	size_t n;
};

/* Adds one message (dropped if out of memory: the count still says the
 * configuration failed when any other message made it). */
void cfg_error(struct cfg_errors *errs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cfg_errors_free(struct cfg_errors *errs);

#endif
