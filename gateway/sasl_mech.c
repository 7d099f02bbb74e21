/* sasl_mech.c — each mechanism's messages (see sasl_mech.h). */
#include "sasl_mech.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int plain_first(const struct cfg_sasl *s, uint8_t **tok, size_t *len)
{
	size_t u = strlen(s->username), p = strlen(s->password);

	/* RFC 4616: no authzid, NUL, user, NUL, password. */
	*len = 2 + u + p;
	*tok = malloc(*len);
	if (!*tok)
		return -1;
	(*tok)[0] = 0;
	memcpy(*tok + 1, s->username, u);
	(*tok)[1 + u] = 0;
	memcpy(*tok + 2 + u, s->password, p);
	return 0;
}

int sasl_mech_first(struct scram_client **scram, const struct cfg_sasl *s, const char *host,
		    uint8_t **tok, size_t *len, char *why, size_t whylen)
{
	(void)host;
	*scram = NULL;
	switch (s->mechanism) {
	case CFG_SASL_PLAIN:
		if (plain_first(s, tok, len) < 0)
			break;
		return 0;
	default:
		snprintf(why, whylen, "%s is not built yet", cfg_sasl_mech_names[s->mechanism]);
		return -1;
	}
	snprintf(why, whylen, "out of memory");
	return -1;
}

int sasl_mech_next(struct scram_client *scram, const struct cfg_sasl *s, const uint8_t *in,
		   size_t len, uint8_t **tok, size_t *toklen, char *why, size_t whylen)
{
	(void)scram;
	(void)in;
	(void)len;
	(void)tok;
	(void)toklen;
	switch (s->mechanism) {
	case CFG_SASL_PLAIN:
		return 0; /* no error: signed in */
	default:
		snprintf(why, whylen, "unexpected SASL message");
		return -1;
	}
}

void sasl_mech_free(struct scram_client *scram)
{
	(void)scram;
}
