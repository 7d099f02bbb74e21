/* sasl_mech.h — the messages of each SASL mechanism kgate signs in to
 * brokers with: PLAIN, SCRAM-SHA-256/512 (protocol/scram.h), OAUTHBEARER
 * with an MSK IAM token and AWS_MSK_IAM (protocol/msk_iam.h, credentials
 * from aws_creds.h).  upauth.c carries them in SaslAuthenticate.
 */
#ifndef KGATE_SASL_MECH_H
#define KGATE_SASL_MECH_H

#include <stddef.h>
#include <stdint.h>

#include "../config/auth.h"

struct scram_client;

/* The mechanism's first message (malloc'd, *tok; the caller clears and
 * frees it); host is the broker's name.  0, or -1 with why. */
int sasl_mech_first(struct scram_client **scram, const struct cfg_sasl *s, const char *host,
		    uint8_t **tok, size_t *len, char *why, size_t whylen);
/* The broker's step-th answer (1, 2, ...) without an error code: 1 with
 * the next message in *tok, 0 when signed in, -1 with why. */
int sasl_mech_next(struct scram_client *scram, const struct cfg_sasl *s, int step,
		   const uint8_t *in, size_t len, uint8_t **tok, size_t *toklen, char *why,
		   size_t whylen);
void sasl_mech_free(struct scram_client *scram);

#endif
