/* fuzz_scram.c — SASL messages from either side (protocol/scram.h) and the
 * credentials file (config/users.h).
 *
 * Input: the first byte picks what is fuzzed, the rest up to the first
 * '\n' is one message and what follows is the next:
 *   0, 1  kgate as a SCRAM server: client-first, then client-final, for a
 *         known user (0) or an unknown one (1)
 *   2     kgate as a SCRAM client: server-first, then server-final
 *   3     a SASL PLAIN message (the whole rest)
 *   4     a credentials file (the whole rest, as text)
 *   5     base64 (the whole rest)
 *
 * Why: these bytes come from clients and brokers before either is trusted,
 * and from a file an operator may edit by hand.  Any of them must give an
 * answer or an error, never a crash, an over-read or a leak, and: no
 * unknown user ever authenticates; a parsed PLAIN message has a user name
 * and a password within bounds and an authorization id that is empty or the
 * user's; base64 that decodes encodes back to the same text.
 */
#include <stdlib.h>
#include <string.h>

#include "../../config/users.h"
#include "../../protocol/scram.h"
#include "common.h"

static const uint8_t mask_key[SCRAM_MASK_KEY_LEN] = {42};

/* RFC 7677's user: "pencil", its salt, 4096 iterations (derived once). */
static const struct scram_secret *known_secret(void)
{
	static struct scram_secret s;
	static int done;
	uint8_t salt[16];

	if (!done) {
		int n = scram_b64_decode("W22ZaJ0SNY7soEsUEjb6gQ==", 24, salt, sizeof(salt));

		FUZZ_CHECK(n == 16, "salt");
		FUZZ_CHECK(scram_secret_derive(SCRAM_SHA_256, "pencil", 6, salt, 16, 4096, &s, NULL,
					       0) == 0,
			   "derive");
		done = 1;
	}
	return &s;
}

static void fuzz_server(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, int known)
{
	struct scram_server *s = scram_server_new(SCRAM_SHA_256, mask_key,
						  "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", NULL, 0);
	char out[SCRAM_MSG_MAX], err[256];
	int n;

	FUZZ_CHECK(s != NULL, "scram_server_new");
	if (scram_server_read_first(s, a, alen, err, sizeof(err)) == 0) {
		fuzz_mark(1);
		FUZZ_CHECK(strlen(scram_server_user(s)) >= 1 &&
				   strlen(scram_server_user(s)) <= SCRAM_MAX_USER,
			   "user name length");
		if (scram_server_first(s, known ? known_secret() : NULL, out, sizeof(out), err,
				       sizeof(err)) > 0) {
			n = scram_server_final(s, b, blen, out, sizeof(out), err, sizeof(err));
			FUZZ_CHECK(n < 0 || known, "an unknown user authenticated");
			fuzz_mark(n > 0 ? 2 : 3);
		}
	} else {
		FUZZ_CHECK(err[0], "no error text");
	}
	scram_server_free(s);
}

/* The iterations a server-first message asks for, roughly: the client's
 * PBKDF2 at up to 1,000,000 would make each such input take a second. */
static int costly(const uint8_t *a, size_t alen)
{
	size_t i, d = 0;

	for (i = 0; i + 2 < alen; i++)
		if (a[i] == 'i' && a[i + 1] == '=') {
			for (d = 0; i + 2 + d < alen && a[i + 2 + d] >= '0' && a[i + 2 + d] <= '9';)
				d++;
			if (d > 4)
				return 1;
		}
	return 0;
}

static void fuzz_client(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	struct scram_client *c = scram_client_new(SCRAM_SHA_256, "user", "pencil", 6,
						  "rOprNGfwEbeRWgbNEkqO", NULL, 0);
	char out[SCRAM_MSG_MAX], err[256];

	FUZZ_CHECK(c != NULL, "scram_client_new");
	FUZZ_CHECK(scram_client_first(c, out, sizeof(out)) > 0, "client-first");
	if (!costly(a, alen) &&
	    scram_client_final(c, a, alen, out, sizeof(out), err, sizeof(err)) > 0) {
		fuzz_mark(4);
		fuzz_mark(scram_client_verify(c, b, blen, err, sizeof(err)) == 0 ? 5 : 6);
	}
	scram_client_free(c);
}

static void fuzz_plain(const uint8_t *a, size_t alen)
{
	struct sasl_plain p;
	char err[256];

	if (sasl_plain_parse(a, alen, &p, err, sizeof(err)) < 0) {
		FUZZ_CHECK(err[0], "no error text");
		return;
	}
	fuzz_mark(7);
	FUZZ_CHECK(strlen(p.username) >= 1 && strlen(p.username) <= SCRAM_MAX_USER, "user");
	FUZZ_CHECK(p.password_len >= 1 && p.password_len <= SCRAM_MAX_PASSWORD &&
			   strlen(p.password) == p.password_len,
		   "password");
	FUZZ_CHECK(!p.authzid[0] || strcmp(p.authzid, p.username) == 0, "authzid");
	sasl_plain_clear(&p);
}

static void fuzz_users(const uint8_t *a, size_t alen)
{
	char *text = malloc(alen + 1), err[512] = "";
	struct users *u;

	if (!text)
		return;
	memcpy(text, a, alen);
	text[alen] = '\0';
	u = users_load_string(text, "users.json", err, sizeof(err));
	FUZZ_CHECK(u || err[0], "no error text");
	if (u) {
		fuzz_mark(8);
		FUZZ_CHECK(!users_lookup(u, "", SCRAM_SHA_256), "an empty user name");
		users_free(u);
	}
	free(text);
}

static void fuzz_b64(const uint8_t *a, size_t alen)
{
	uint8_t dec[1024];
	char enc[1400];
	int n = scram_b64_decode((const char *)a, alen, dec, sizeof(dec));

	if (n < 0)
		return;
	fuzz_mark(9);
	FUZZ_CHECK(scram_b64_encode(dec, (size_t)n, enc, sizeof(enc)) == (int)alen &&
			   memcmp(enc, a, alen) == 0,
		   "base64 does not round-trip");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *a, *b, *nl;
	size_t alen, blen;

	if (size < 1)
		return 0;
	a = data + 1;
	alen = size - 1;
	nl = memchr(a, '\n', alen);
	b = nl ? nl + 1 : a + alen;
	blen = nl ? (size_t)(data + size - b) : 0;
	switch (data[0] % 6) {
	case 0:
	case 1:
		fuzz_server(a, nl ? (size_t)(nl - a) : alen, b, blen, data[0] % 6 == 0);
		break;
	case 2:
		fuzz_client(a, nl ? (size_t)(nl - a) : alen, b, blen);
		break;
	case 3:
		fuzz_plain(a, alen);
		break;
	case 4:
		fuzz_users(a, alen);
		break;
	default:
		fuzz_b64(a, alen);
		break;
	}
	return 0;
}
