/* errors.c — collecting configuration problems (see errors.h). */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cfg_error(struct cfg_errors *errs, const char *fmt, ...)
{
	char buf[512], **nm;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	nm = realloc(errs->msgs, (errs->n + 1) * sizeof(*nm));
	if (!nm)
		return;
	errs->msgs = nm;
	errs->msgs[errs->n] = strdup(buf);
	if (errs->msgs[errs->n])
		errs->n++;
}

void cfg_errors_free(struct cfg_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	memset(errs, 0, sizeof(*errs));
}
