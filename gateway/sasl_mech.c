/* sasl_mech.c — each mechanism's messages (see sasl_mech.h). */
#include "sasl_mech.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../protocol/msk_iam.h"
#include "../protocol/scram.h"
#include "aws_creds.h"

/* The IAM mechanisms' one message, signed now with the current
 * credentials: OAUTHBEARER carries MSK's token in RFC 7628's client
 * response, AWS_MSK_IAM a JSON payload signed for the broker's name. */
static int iam_first(const struct cfg_sasl *s, const char *host, uint8_t **tok, size_t *len,
		     char *why, size_t whylen)
{
	struct aws_creds c;
	char *signed_part, *msg;
	int n;

	if (aws_creds_get(&c, why, whylen) < 0)
		return -1;
	if (s->mechanism == CFG_SASL_OAUTHBEARER)
		signed_part = msk_iam_token(&c, s->region, (int64_t)time(NULL), 0, NULL);
	else
		signed_part = msk_iam_payload(&c, s->region, host, (int64_t)time(NULL), NULL);
	OPENSSL_cleanse(&c, sizeof(c));
	if (!signed_part) {
		snprintf(why, whylen, "cannot sign the IAM request (out of memory?)");
		return -1;
	}
	if (s->mechanism == CFG_SASL_AWS_MSK_IAM) {
		*tok = (uint8_t *)signed_part;
		*len = strlen(signed_part);
		return 0;
	}
	/* RFC 7628: "n,," 0x01 "auth=Bearer " token 0x01 0x01.  The literal
	 * is split after \x01: a C hex escape takes every hex digit that
	 * follows, so "\x01auth" would be 0x1a "uth". */
	n = asprintf(&msg, "n,,\x01" "auth=Bearer %s\x01\x01", signed_part);
	/* The presigned URL carries the session token. */
	OPENSSL_clear_free(signed_part, strlen(signed_part));
	if (n < 0) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	*tok = (uint8_t *)msg;
	*len = (size_t)n;
	return 0;
}

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

/* A copy of n bytes of text as a token. */
static int token_of(const char *text, size_t n, uint8_t **tok, size_t *len)
{
	*tok = malloc(n ? n : 1);
	if (!*tok)
		return -1;
	memcpy(*tok, text, n);
	*len = n;
	return 0;
}

/* SaltedPassword, kept per thread (each worker its own: no lock) for the
 * few credentials a kgate signs in with, keyed by a digest of the
 * mechanism, user and password, so a reload that changes the password
 * never meets an old entry.  Without it every upstream connection and
 * every re-authentication costs a PBKDF2 (2 ms at 4096 iterations of
 * SHA-512) on the event loop. */
#define SALTED_CACHE 8
static __thread struct {
	uint8_t id[SHA256_DIGEST_LENGTH];
	struct scram_salted salted;
} salted_cache[SALTED_CACHE];
static __thread unsigned salted_next;

static struct scram_salted *salted_for(const struct cfg_sasl *s)
{
	uint8_t id[SHA256_DIGEST_LENGTH];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned i;
	int ok;

	ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	     EVP_DigestUpdate(ctx, cfg_sasl_mech_names[s->mechanism],
			      strlen(cfg_sasl_mech_names[s->mechanism]) + 1) &&
	     EVP_DigestUpdate(ctx, s->username, strlen(s->username) + 1) &&
	     EVP_DigestUpdate(ctx, s->password, strlen(s->password)) &&
	     EVP_DigestFinal_ex(ctx, id, NULL);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return NULL; /* derived every time: slower, still right */
	for (i = 0; i < SALTED_CACHE; i++)
		if (salted_cache[i].salted.iterations && memcmp(salted_cache[i].id, id, sizeof(id)) == 0)
			return &salted_cache[i].salted;
	i = salted_next++ % SALTED_CACHE;
	memcpy(salted_cache[i].id, id, sizeof(id));
	salted_cache[i].salted.iterations = 0;
	return &salted_cache[i].salted;
}

static int scram_first(struct scram_client **scram, const struct cfg_sasl *s, uint8_t **tok,
		       size_t *len, char *why, size_t whylen)
{
	enum scram_hash h = s->mechanism == CFG_SASL_SCRAM_SHA_256 ? SCRAM_SHA_256 : SCRAM_SHA_512;
	char first[SCRAM_MSG_MAX];
	int n;

	*scram = scram_client_new(h, s->username, s->password, strlen(s->password), NULL, why,
				  whylen);
	if (!*scram)
		return -1;
	scram_client_cache(*scram, salted_for(s));
	n = scram_client_first(*scram, first, sizeof(first));
	if (n < 0 || token_of(first, (size_t)n, tok, len) < 0) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	return 0;
}

int sasl_mech_first(struct scram_client **scram, const struct cfg_sasl *s, const char *host,
		    uint8_t **tok, size_t *len, char *why, size_t whylen)
{
	*scram = NULL;
	switch (s->mechanism) {
	case CFG_SASL_PLAIN:
		if (plain_first(s, tok, len) < 0)
			break;
		return 0;
	case CFG_SASL_SCRAM_SHA_256:
	case CFG_SASL_SCRAM_SHA_512:
		return scram_first(scram, s, tok, len, why, whylen);
	case CFG_SASL_OAUTHBEARER:
	case CFG_SASL_AWS_MSK_IAM:
		return iam_first(s, host, tok, len, why, whylen);
	default:
		snprintf(why, whylen, "no mechanism");
		return -1;
	}
	snprintf(why, whylen, "out of memory");
	return -1;
}

int sasl_mech_next(struct scram_client *scram, const struct cfg_sasl *s, int step,
		   const uint8_t *in, size_t len, uint8_t **tok, size_t *toklen, char *why,
		   size_t whylen)
{
	char final[SCRAM_MSG_MAX], err[300];
	int n;

	switch (s->mechanism) {
	case CFG_SASL_SCRAM_SHA_256:
	case CFG_SASL_SCRAM_SHA_512:
		break;
	case CFG_SASL_OAUTHBEARER:
		/* RFC 7628: a refused token is answered with a JSON error as a
		 * challenge (the error code only comes after the client's
		 * reply): that JSON is the reason worth logging. */
		if (len) {
			snprintf(why, whylen, "the broker refused the IAM token: %.*s",
				 (int)(len > 300 ? 300 : len), (const char *)in);
			return -1;
		}
		return 0;
	default:
		/* PLAIN and AWS_MSK_IAM are one message: no error code means
		 * signed in (AWS_MSK_IAM's answer names the request). */
		return 0;
	}
	if (!scram || step > 2) {
		snprintf(why, whylen, "unexpected SASL message");
		return -1;
	}
	if (step == 1) {
		n = scram_client_final(scram, in, len, final, sizeof(final), err, sizeof(err));
		if (n < 0) {
			snprintf(why, whylen, "SCRAM: %s", err);
			return -1;
		}
		if (token_of(final, (size_t)n, tok, toklen) < 0) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		return 1;
	}
	if (scram_client_verify(scram, in, len, err, sizeof(err)) < 0) {
		snprintf(why, whylen, "SCRAM: the broker did not prove it knows the password: %s",
			 err);
		return -1;
	}
	return 0;
}

void sasl_mech_free(struct scram_client *scram)
{
	scram_client_free(scram);
}
