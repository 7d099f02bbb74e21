/* scram.c — SCRAM-SHA-256/512 client and server (RFC 5802, RFC 7677, Kafka's
 * KIP-84 profile) and SASL PLAIN parsing; see scram.h. */
#include "scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR(...) (err && errlen ? (void)snprintf(err, errlen, __VA_ARGS__) : (void)0)

/* The exchange's steps, so a call out of order fails instead of using
 * state that was never filled in. */
enum { ST_NEW, ST_FIRST, ST_FINAL, ST_DONE, ST_FAILED };

/* ---- hashes, base64 ---- */

const char *scram_hash_name(enum scram_hash h)
{
	return h == SCRAM_SHA_512 ? "SCRAM-SHA-512" : "SCRAM-SHA-256";
}

int scram_hash_parse(const char *name, enum scram_hash *out)
{
	if (!name)
		return -1;
	if (strcmp(name, "SCRAM-SHA-256") == 0)
		*out = SCRAM_SHA_256;
	else if (strcmp(name, "SCRAM-SHA-512") == 0)
		*out = SCRAM_SHA_512;
	else
		return -1;
	return 0;
}

size_t scram_hash_len(enum scram_hash h)
{
	return h == SCRAM_SHA_512 ? 64 : 32;
}

static const EVP_MD *scram_md(enum scram_hash h)
{
	return h == SCRAM_SHA_512 ? EVP_sha512() : EVP_sha256();
}

static int scram_hmac(enum scram_hash h, const uint8_t *key, size_t klen, const void *data,
		      size_t dlen, uint8_t *out)
{
	unsigned int n = 0;

	return HMAC(scram_md(h), key, (int)klen, data, dlen, out, &n) && n == scram_hash_len(h)
		       ? 0
		       : -1;
}

static int scram_digest(enum scram_hash h, const uint8_t *data, size_t len, uint8_t *out)
{
	unsigned int n = 0;

	return EVP_Digest(data, len, out, &n, scram_md(h), NULL) && n == scram_hash_len(h) ? 0 : -1;
}

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int scram_b64_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
	size_t i, o = 0;

	if (cap < (len + 2) / 3 * 4 + 1)
		return -1;
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = b64_alphabet[v >> 18 & 63];
		out[o++] = b64_alphabet[v >> 12 & 63];
		out[o++] = b64_alphabet[v >> 6 & 63];
		out[o++] = b64_alphabet[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);

		out[o++] = b64_alphabet[v >> 18 & 63];
		out[o++] = b64_alphabet[v >> 12 & 63];
		out[o++] = i + 1 < len ? b64_alphabet[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return (int)o;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int scram_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
	size_t i, o = 0, pad = 0;

	if (len % 4 != 0)
		return -1;
	if (len >= 1 && in[len - 1] == '=')
		pad = len >= 2 && in[len - 2] == '=' ? 2 : 1;
	if (len / 4 * 3 - pad > cap)
		return -1;
	for (i = 0; i < len; i += 4) {
		int v[4], k;
		int last = i + 4 == len;

		for (k = 0; k < 4; k++) {
			v[k] = b64_value(in[i + k]);
			/* '=' only as the last one or two characters */
			if (v[k] < 0 && !(last && in[i + k] == '=' && k >= 4 - (int)pad))
				return -1;
			if (v[k] < 0)
				v[k] = 0;
		}
		out[o++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
		if (!last || pad < 2)
			out[o++] = (uint8_t)((v[1] & 15) << 4 | v[2] >> 2);
		if (!last || pad < 1)
			out[o++] = (uint8_t)((v[2] & 3) << 6 | v[3]);
		/* Bits the padding drops must be zero: one spelling per value. */
		if (last && ((pad == 2 && (v[1] & 15)) || (pad == 1 && (v[2] & 3))))
			return -1;
	}
	return (int)o;
}

/* ---- secrets ---- */

/* SaltedPassword, ClientKey, StoredKey, ServerKey (RFC 5802 section 3). */
/* The keys that follow from SaltedPassword. */
static int keys_from_salted(enum scram_hash h, const uint8_t *salted, uint8_t *client_key,
			    uint8_t *stored_key, uint8_t *server_key)
{
	size_t hl = scram_hash_len(h);

	if (scram_hmac(h, salted, hl, "Client Key", 10, client_key) < 0 ||
	    scram_digest(h, client_key, hl, stored_key) < 0 ||
	    scram_hmac(h, salted, hl, "Server Key", 10, server_key) < 0)
		return -1;
	return 0;
}

static int scram_keys(enum scram_hash h, const char *password, size_t pwlen, const uint8_t *salt,
		      size_t saltlen, uint32_t iterations, uint8_t *salted, uint8_t *client_key,
		      uint8_t *stored_key, uint8_t *server_key)
{
	if (!PKCS5_PBKDF2_HMAC(password, (int)pwlen, salt, (int)saltlen, (int)iterations,
			       scram_md(h), (int)scram_hash_len(h), salted))
		return -1;
	return keys_from_salted(h, salted, client_key, stored_key, server_key);
}

int scram_secret_derive(enum scram_hash h, const char *password, size_t pwlen, const uint8_t *salt,
			size_t saltlen, uint32_t iterations, struct scram_secret *out, char *err,
			size_t errlen)
{
	uint8_t salted[SCRAM_MAX_KEY], client_key[SCRAM_MAX_KEY];
	int rc;

	if (saltlen == 0 || saltlen > SCRAM_MAX_SALT) {
		ERR("salt of %zu bytes: expected 1 to %d", saltlen, SCRAM_MAX_SALT);
		return -1;
	}
	if (iterations < SCRAM_MIN_ITERATIONS || iterations > SCRAM_MAX_ITERATIONS) {
		ERR("iterations %u: expected %d to %d", iterations, SCRAM_MIN_ITERATIONS,
		    SCRAM_MAX_ITERATIONS);
		return -1;
	}
	if (pwlen > SCRAM_MAX_PASSWORD) {
		ERR("password longer than %d bytes", SCRAM_MAX_PASSWORD);
		return -1;
	}
	memset(out, 0, sizeof(*out));
	out->hash = h;
	memcpy(out->salt, salt, saltlen);
	out->salt_len = saltlen;
	out->iterations = iterations;
	rc = scram_keys(h, password, pwlen, salt, saltlen, iterations, salted, client_key,
			out->stored_key, out->server_key);
	OPENSSL_cleanse(salted, sizeof(salted));
	OPENSSL_cleanse(client_key, sizeof(client_key));
	if (rc < 0)
		ERR("key derivation failed");
	return rc;
}

int scram_check_password(const struct scram_secret *s, const char *password, size_t pwlen)
{
	struct scram_secret d;
	int ok;

	if (scram_secret_derive(s->hash, password, pwlen, s->salt, s->salt_len, s->iterations, &d,
				NULL, 0) < 0)
		return 0;
	ok = CRYPTO_memcmp(d.stored_key, s->stored_key, scram_hash_len(s->hash)) == 0;
	OPENSSL_cleanse(&d, sizeof(d));
	return ok;
}

/* ---- message pieces ---- */

/* A nonce is printable ASCII without ',' (RFC 5802 "printable"). */
static int nonce_valid(const char *n, size_t len)
{
	size_t i;

	if (len == 0 || len > SCRAM_MAX_NONCE)
		return 0;
	for (i = 0; i < len; i++)
		if (n[i] < 0x21 || n[i] > 0x7e || n[i] == ',')
			return 0;
	return 1;
}

/* 24 random bytes as base64: 32 printable characters without ','. */
static int nonce_random(char *out, size_t cap)
{
	uint8_t r[24];

	if (RAND_bytes(r, sizeof(r)) != 1)
		return -1;
	return scram_b64_encode(r, sizeof(r), out, cap) < 0 ? -1 : 0;
}

/* A message copied into a NUL-terminated buffer: refuses empty, over-long
 * and NUL-carrying messages, so the parsers can use string functions. */
static int msg_copy(const uint8_t *msg, size_t len, char *buf, const char *what, char *err,
		    size_t errlen)
{
	if (!msg || len == 0) {
		ERR("%s: empty", what);
		return -1;
	}
	if (len >= SCRAM_MSG_MAX) {
		ERR("%s: longer than %d bytes", what, SCRAM_MSG_MAX - 1);
		return -1;
	}
	if (memchr(msg, '\0', len)) {
		ERR("%s: contains a NUL byte", what);
		return -1;
	}
	memcpy(buf, msg, len);
	buf[len] = '\0';
	return 0;
}

/* The next "x=value" attribute at *p: its letter, value and length; *p
 * moves past it and its ','.  -1 if *p is not an attribute. */
static int attr_next(const char **p, char *name, const char **val, size_t *vlen)
{
	const char *s = *p, *end;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')) || s[1] != '=')
		return -1;
	*name = s[0];
	*val = s + 2;
	end = strchr(*val, ',');
	*vlen = end ? (size_t)(end - *val) : strlen(*val);
	*p = end ? end + 1 : *val + *vlen;
	return 0;
}

/* saslname: ',' and '=' escaped as =2C and =3D (RFC 5802 section 5.1). */
static int user_escape(const char *user, char *out, size_t cap)
{
	size_t o = 0;

	for (; *user; user++) {
		const char *piece = *user == ',' ? "=2C" : *user == '=' ? "=3D" : NULL;
		size_t n = piece ? 3 : 1;

		if (o + n >= cap)
			return -1;
		if (piece)
			memcpy(out + o, piece, 3);
		else
			out[o] = *user;
		o += n;
	}
	out[o] = '\0';
	return 0;
}

static int user_unescape(const char *in, size_t len, char *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		char c = in[i];

		if (c == '=') {
			if (i + 2 >= len)
				return -1;
			if (in[i + 1] == '2' && in[i + 2] == 'C')
				c = ',';
			else if (in[i + 1] == '3' && in[i + 2] == 'D')
				c = '=';
			else
				return -1;
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return o ? 0 : -1;
}

/* Iterations: decimal digits only, within bounds. */
static int iterations_parse(const char *v, size_t len, uint32_t *out)
{
	uint64_t n = 0;
	size_t i;

	if (len == 0 || len > 10 || v[0] == '0')
		return -1;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	if (n < SCRAM_MIN_ITERATIONS || n > SCRAM_MAX_ITERATIONS)
		return -1;
	*out = (uint32_t)n;
	return 0;
}

/* Appends to a NUL-terminated message being built, bounded by cap. */
static int msg_add(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
	if (*len + n + 1 > cap)
		return -1;
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = '\0';
	return 0;
}

/* AuthMessage = client-first-bare "," server-first "," client-final-without-proof */
static int auth_message(char *out, size_t cap, size_t *len, const char *cfb, const char *sf,
			const char *cf_noproof, size_t cf_noproof_len)
{
	*len = 0;
	out[0] = '\0';
	return msg_add(out, cap, len, cfb, strlen(cfb)) < 0 || msg_add(out, cap, len, ",", 1) < 0 ||
			       msg_add(out, cap, len, sf, strlen(sf)) < 0 ||
			       msg_add(out, cap, len, ",", 1) < 0 ||
			       msg_add(out, cap, len, cf_noproof, cf_noproof_len) < 0
		       ? -1
		       : 0;
}

/* ---- client ---- */

struct scram_client {
	enum scram_hash hash;
	int state;
	char password[SCRAM_MAX_PASSWORD];
	size_t pwlen;
	char user_esc[3 * SCRAM_MAX_USER + 1];
	char cnonce[SCRAM_MAX_NONCE + 1];
	char first_bare[SCRAM_MSG_MAX];          /* n=<user>,r=<cnonce> */
	struct scram_salted *cache;              /* scram_client_cache, or NULL */
	uint8_t server_signature[SCRAM_MAX_KEY]; /* what server-final must say */
};

struct scram_client *scram_client_new(enum scram_hash h, const char *user, const char *password,
				      size_t pwlen, const char *nonce, char *err, size_t errlen)
{
	struct scram_client *c;
	size_t ulen = user ? strlen(user) : 0;

	if (ulen == 0 || ulen > SCRAM_MAX_USER) {
		ERR("user name: expected 1 to %d bytes", SCRAM_MAX_USER);
		return NULL;
	}
	if (!password || pwlen > SCRAM_MAX_PASSWORD) {
		ERR("password: expected at most %d bytes", SCRAM_MAX_PASSWORD);
		return NULL;
	}
	if (nonce && !nonce_valid(nonce, strlen(nonce))) {
		ERR("client nonce: expected 1 to %d printable characters without ','",
		    SCRAM_MAX_NONCE);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		ERR("out of memory");
		return NULL;
	}
	c->hash = h;
	memcpy(c->password, password, pwlen);
	c->pwlen = pwlen;
	if (user_escape(user, c->user_esc, sizeof(c->user_esc)) < 0 ||
	    (nonce ? snprintf(c->cnonce, sizeof(c->cnonce), "%s", nonce) < 0
		   : nonce_random(c->cnonce, sizeof(c->cnonce)) < 0)) {
		ERR("cannot make the client nonce");
		scram_client_free(c);
		return NULL;
	}
	snprintf(c->first_bare, sizeof(c->first_bare), "n=%s,r=%s", c->user_esc, c->cnonce);
	return c;
}

int scram_client_first(struct scram_client *c, char *out, size_t cap)
{
	int n;

	if (c->state != ST_NEW)
		return -1;
	n = snprintf(out, cap, "n,,%s", c->first_bare);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	c->state = ST_FIRST;
	return n;
}

int scram_client_final(struct scram_client *c, const uint8_t *server_first, size_t len, char *out,
		       size_t cap, char *err, size_t errlen)
{
	char sf[SCRAM_MSG_MAX], authmsg[3 * SCRAM_MSG_MAX];
	const char *p, *nonce = NULL, *salt_b64 = NULL, *iter = NULL, *v;
	size_t nonce_len = 0, salt_b64_len = 0, iter_len = 0, vlen, am_len, olen = 0, hl, i;
	uint8_t salt[SCRAM_MAX_SALT], salted[SCRAM_MAX_KEY], client_key[SCRAM_MAX_KEY];
	uint8_t stored_key[SCRAM_MAX_KEY], server_key[SCRAM_MAX_KEY], sig[SCRAM_MAX_KEY];
	char proof_b64[2 * SCRAM_MAX_KEY];
	uint32_t iterations;
	int saltlen, rc = -1;
	char name;

	if (c->state != ST_FIRST) {
		ERR("server-first: not expected now");
		return -1;
	}
	c->state = ST_FAILED;
	if (msg_copy(server_first, len, sf, "server-first", err, errlen) < 0)
		return -1;
	p = sf;
	if (strncmp(p, "e=", 2) == 0) {
		ERR("server error: %.200s", p + 2);
		return -1;
	}
	if (strncmp(p, "m=", 2) == 0) {
		ERR("server-first: mandatory extension not supported");
		return -1;
	}
	/* r=, s=, i= in this order, then extensions we ignore. */
	while (*p) {
		if (attr_next(&p, &name, &v, &vlen) < 0) {
			ERR("server-first: malformed attribute");
			return -1;
		}
		if (!nonce && name == 'r') {
			nonce = v;
			nonce_len = vlen;
		} else if (nonce && !salt_b64 && name == 's') {
			salt_b64 = v;
			salt_b64_len = vlen;
		} else if (salt_b64 && !iter && name == 'i') {
			iter = v;
			iter_len = vlen;
		} else if (!iter) {
			ERR("server-first: expected r=, s=, i=");
			return -1;
		}
	}
	if (!iter) {
		ERR("server-first: expected r=, s=, i=");
		return -1;
	}
	hl = strlen(c->cnonce);
	if (nonce_len <= hl || nonce_len > 2 * SCRAM_MAX_NONCE || !nonce_valid(nonce, nonce_len) ||
	    memcmp(nonce, c->cnonce, hl) != 0) {
		ERR("server-first: the server nonce does not extend the client's");
		return -1;
	}
	saltlen = scram_b64_decode(salt_b64, salt_b64_len, salt, sizeof(salt));
	if (saltlen <= 0) {
		ERR("server-first: salt: expected base64 of 1 to %d bytes", SCRAM_MAX_SALT);
		return -1;
	}
	if (iterations_parse(iter, iter_len, &iterations) < 0) {
		ERR("server-first: iterations \"%.*s\": expected %d to %d",
		    (int)(iter_len > 20 ? 20 : iter_len), iter, SCRAM_MIN_ITERATIONS,
		    SCRAM_MAX_ITERATIONS);
		return -1;
	}
	/* client-final-without-proof, then AuthMessage, then the proof. */
	out[0] = '\0';
	if (cap == 0 || msg_add(out, cap, &olen, "c=biws,r=", 9) < 0 ||
	    msg_add(out, cap, &olen, nonce, nonce_len) < 0 ||
	    auth_message(authmsg, sizeof(authmsg), &am_len, c->first_bare, sf, out, olen) < 0) {
		ERR("client-final: does not fit");
		return -1;
	}
	hl = scram_hash_len(c->hash);
	if (c->cache && c->cache->iterations == iterations && c->cache->hash == c->hash &&
	    c->cache->salt_len == (size_t)saltlen &&
	    memcmp(c->cache->salt, salt, (size_t)saltlen) == 0) {
		memcpy(salted, c->cache->key, hl);
		rc = keys_from_salted(c->hash, salted, client_key, stored_key, server_key);
	} else {
		rc = scram_keys(c->hash, c->password, c->pwlen, salt, (size_t)saltlen, iterations,
				salted, client_key, stored_key, server_key);
		if (rc == 0 && c->cache) {
			c->cache->hash = c->hash;
			c->cache->iterations = iterations;
			c->cache->salt_len = (size_t)saltlen;
			memcpy(c->cache->salt, salt, (size_t)saltlen);
			memcpy(c->cache->key, salted, hl);
		}
	}
	if (rc < 0 || scram_hmac(c->hash, stored_key, hl, authmsg, am_len, sig) < 0) {
		rc = -1;
		ERR("key derivation failed");
		goto out;
	}
	rc = -1; /* until the message is complete */
	for (i = 0; i < hl; i++)
		sig[i] ^= client_key[i]; /* ClientProof = ClientKey XOR ClientSignature */
	if (scram_b64_encode(sig, hl, proof_b64, sizeof(proof_b64)) < 0 ||
	    msg_add(out, cap, &olen, ",p=", 3) < 0 ||
	    msg_add(out, cap, &olen, proof_b64, strlen(proof_b64)) < 0) {
		ERR("client-final: does not fit");
		goto out;
	}
	if (scram_hmac(c->hash, server_key, hl, authmsg, am_len, c->server_signature) < 0) {
		ERR("key derivation failed");
		goto out;
	}
	c->state = ST_FINAL;
	rc = (int)olen;
out:
	OPENSSL_cleanse(c->password, sizeof(c->password));
	OPENSSL_cleanse(salted, sizeof(salted));
	OPENSSL_cleanse(client_key, sizeof(client_key));
	OPENSSL_cleanse(server_key, sizeof(server_key));
	return rc;
}

int scram_client_verify(struct scram_client *c, const uint8_t *server_final, size_t len, char *err,
			size_t errlen)
{
	char sf[SCRAM_MSG_MAX], name;
	const char *p, *v;
	size_t vlen, hl = scram_hash_len(c->hash);
	uint8_t sig[SCRAM_MAX_KEY];

	if (c->state != ST_FINAL) {
		ERR("server-final: not expected now");
		return -1;
	}
	c->state = ST_FAILED;
	if (msg_copy(server_final, len, sf, "server-final", err, errlen) < 0)
		return -1;
	p = sf;
	if (attr_next(&p, &name, &v, &vlen) < 0 || (name != 'e' && name != 'v')) {
		ERR("server-final: expected v= or e=");
		return -1;
	}
	if (name == 'e') {
		size_t i;

		for (i = 0; i < vlen; i++)
			if (v[i] < 0x20 || v[i] > 0x7e) {
				ERR("server error (unprintable)");
				return -1;
			}
		ERR("server error: %.*s", (int)(vlen > 200 ? 200 : vlen), v);
		return -1;
	}
	if (scram_b64_decode(v, vlen, sig, sizeof(sig)) != (int)hl ||
	    CRYPTO_memcmp(sig, c->server_signature, hl) != 0) {
		ERR("server-final: wrong server signature (the broker does not know the password)");
		return -1;
	}
	c->state = ST_DONE;
	return 0;
}

void scram_client_cache(struct scram_client *c, struct scram_salted *cache)
{
	c->cache = cache;
}

void scram_client_free(struct scram_client *c)
{
	if (!c)
		return;
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

/* ---- server ---- */

struct scram_server {
	enum scram_hash hash;
	int state;
	int known;
	uint8_t mask_key[SCRAM_MASK_KEY_LEN];
	char snonce[SCRAM_MAX_NONCE + 1];
	char cnonce[SCRAM_MAX_NONCE + 1];
	char gs2_b64[1100]; /* base64 of the gs2 header (up to ~770 bytes): c= must match */
	char user[SCRAM_MAX_USER + 1];
	char first_bare[SCRAM_MSG_MAX];
	char server_first[SCRAM_MSG_MAX];
	struct scram_secret secret;
};

struct scram_server *scram_server_new(enum scram_hash h, const uint8_t *mask_key, const char *nonce,
				      char *err, size_t errlen)
{
	struct scram_server *s;

	if (nonce && !nonce_valid(nonce, strlen(nonce))) {
		ERR("server nonce: expected 1 to %d printable characters without ','",
		    SCRAM_MAX_NONCE);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		ERR("out of memory");
		return NULL;
	}
	s->hash = h;
	memcpy(s->mask_key, mask_key, SCRAM_MASK_KEY_LEN);
	if (nonce ? snprintf(s->snonce, sizeof(s->snonce), "%s", nonce) < 0
		  : nonce_random(s->snonce, sizeof(s->snonce)) < 0) {
		ERR("cannot make the server nonce");
		scram_server_free(s);
		return NULL;
	}
	return s;
}

int scram_server_read_first(struct scram_server *s, const uint8_t *msg, size_t len, char *err,
			    size_t errlen)
{
	char m[SCRAM_MSG_MAX], name, authzid[SCRAM_MAX_USER + 1] = "";
	const char *p, *bare, *v;
	size_t vlen;

	if (s->state != ST_NEW) {
		ERR("client-first: not expected now");
		return -1;
	}
	s->state = ST_FAILED;
	if (msg_copy(msg, len, m, "client-first", err, errlen) < 0)
		return -1;
	/* gs2-header: gs2-cbind-flag "," [authzid] "," */
	if (m[0] == 'p' || m[0] == 'y') {
		ERR("client-first: channel binding is not supported");
		return -1;
	}
	if (m[0] != 'n' || m[1] != ',') {
		ERR("client-first: expected the gs2 header \"n,,\"");
		return -1;
	}
	p = m + 2;
	if (*p != ',') {
		if (attr_next(&p, &name, &v, &vlen) < 0 || name != 'a' || p[-1] != ',' ||
		    user_unescape(v, vlen, authzid, sizeof(authzid)) < 0) {
			ERR("client-first: expected the gs2 header \"n,,\" or \"n,a=<user>,\"");
			return -1;
		}
	} else {
		p++;
	}
	bare = p;
	if (scram_b64_encode((const uint8_t *)m, (size_t)(bare - m), s->gs2_b64,
			     sizeof(s->gs2_b64)) < 0) {
		ERR("client-first: gs2 header too long");
		return -1;
	}
	if (strncmp(p, "m=", 2) == 0) {
		ERR("client-first: mandatory extension not supported");
		return -1;
	}
	if (attr_next(&p, &name, &v, &vlen) < 0 || name != 'n' ||
	    user_unescape(v, vlen, s->user, sizeof(s->user)) < 0) {
		ERR("client-first: expected n=<user name> (1 to %d bytes, '=' only in =2C or =3D)",
		    SCRAM_MAX_USER);
		return -1;
	}
	if (attr_next(&p, &name, &v, &vlen) < 0 || name != 'r' || !nonce_valid(v, vlen)) {
		ERR("client-first: expected r=<nonce> (1 to %d printable characters)",
		    SCRAM_MAX_NONCE);
		return -1;
	}
	memcpy(s->cnonce, v, vlen);
	s->cnonce[vlen] = '\0';
	/* Extensions: Kafka's tokenauth=true asks for delegation tokens. */
	while (*p) {
		const char *ext = p;

		if (strncmp(ext, "tokenauth=", 10) == 0) {
			ERR("client-first: delegation tokens (tokenauth) are not supported");
			return -1;
		}
		p = strchr(p, ',');
		p = p ? p + 1 : ext + strlen(ext);
	}
	if (authzid[0] && strcmp(authzid, s->user) != 0) {
		ERR("client-first: authorization id differs from the user name");
		return -1;
	}
	snprintf(s->first_bare, sizeof(s->first_bare), "%s", bare);
	s->state = ST_FIRST;
	return 0;
}

const char *scram_server_user(const struct scram_server *s)
{
	return s->user;
}

int scram_server_user_known(const struct scram_server *s)
{
	return s->known;
}

/* A made-up secret for an unknown user: its salt depends only on the mask
 * key, the mechanism and the name, so asking twice gives the same answer
 * (as for a real user) and the iterations are kgate passwd's default. */
static int server_fake_secret(struct scram_server *s)
{
	uint8_t buf[SCRAM_MAX_KEY];
	char label[SCRAM_MAX_USER + 32];
	int n;

	memset(&s->secret, 0, sizeof(s->secret));
	s->secret.hash = s->hash;
	s->secret.iterations = SCRAM_DEFAULT_ITERATIONS;
	s->secret.salt_len = SCRAM_SALT_LEN;
	n = snprintf(label, sizeof(label), "salt\n%s\n%s", scram_hash_name(s->hash), s->user);
	if (n < 0 ||
	    scram_hmac(SCRAM_SHA_512, s->mask_key, SCRAM_MASK_KEY_LEN, label, (size_t)n, buf) < 0)
		return -1;
	memcpy(s->secret.salt, buf, SCRAM_SALT_LEN);
	/* Keys no password derives to: the proof check runs and fails. */
	if (RAND_bytes(s->secret.stored_key, sizeof(s->secret.stored_key)) != 1 ||
	    RAND_bytes(s->secret.server_key, sizeof(s->secret.server_key)) != 1)
		return -1;
	return 0;
}

int scram_server_first(struct scram_server *s, const struct scram_secret *secret, char *out,
		       size_t cap, char *err, size_t errlen)
{
	char salt_b64[2 * SCRAM_MAX_SALT];
	int n;

	if (s->state != ST_FIRST) {
		ERR("server-first: client-first not read");
		return -1;
	}
	s->state = ST_FAILED;
	if (secret) {
		if (secret->hash != s->hash || secret->salt_len == 0 ||
		    secret->salt_len > SCRAM_MAX_SALT) {
			ERR("server-first: the stored secret does not fit %s",
			    scram_hash_name(s->hash));
			return -1;
		}
		s->secret = *secret;
		s->known = 1;
	} else if (server_fake_secret(s) < 0) {
		ERR("server-first: cannot make a salt");
		return -1;
	}
	if (scram_b64_encode(s->secret.salt, s->secret.salt_len, salt_b64, sizeof(salt_b64)) < 0)
		return -1;
	n = snprintf(s->server_first, sizeof(s->server_first), "r=%s%s,s=%s,i=%u", s->cnonce,
		     s->snonce, salt_b64, s->secret.iterations);
	if (n < 0 || (size_t)n >= sizeof(s->server_first) || (size_t)n >= cap) {
		ERR("server-first: does not fit");
		return -1;
	}
	memcpy(out, s->server_first, (size_t)n + 1);
	s->state = ST_FINAL;
	return n;
}

int scram_server_final(struct scram_server *s, const uint8_t *client_final, size_t len, char *out,
		       size_t cap, char *err, size_t errlen)
{
	char m[SCRAM_MSG_MAX], authmsg[3 * SCRAM_MSG_MAX], full_nonce[2 * SCRAM_MAX_NONCE + 1];
	char sig_b64[2 * SCRAM_MAX_KEY], name;
	const char *p, *v, *proof_at;
	size_t vlen, am_len, hl = scram_hash_len(s->hash), i;
	uint8_t proof[SCRAM_MAX_KEY], sig[SCRAM_MAX_KEY], client_key[SCRAM_MAX_KEY];
	uint8_t stored[SCRAM_MAX_KEY];
	int n, ok;

	if (s->state != ST_FINAL) {
		ERR("client-final: not expected now");
		return -1;
	}
	s->state = ST_FAILED;
	if (msg_copy(client_final, len, m, "client-final", err, errlen) < 0)
		return -1;
	/* The proof is the last attribute; what precedes ",p=" is signed. */
	proof_at = strstr(m, ",p=");
	if (!proof_at || strchr(proof_at + 3, ',') ||
	    scram_b64_decode(proof_at + 3, strlen(proof_at + 3), proof, sizeof(proof)) != (int)hl) {
		ERR("client-final: expected p=<base64 proof of %zu bytes> last", hl);
		return -1;
	}
	p = m;
	if (attr_next(&p, &name, &v, &vlen) < 0 || name != 'c' || p > proof_at + 1 ||
	    vlen != strlen(s->gs2_b64) || memcmp(v, s->gs2_b64, vlen) != 0) {
		ERR("client-final: channel binding must be c=%s (none)", s->gs2_b64);
		return -1;
	}
	snprintf(full_nonce, sizeof(full_nonce), "%s%s", s->cnonce, s->snonce);
	if (attr_next(&p, &name, &v, &vlen) < 0 || name != 'r' || p > proof_at + 1 ||
	    vlen != strlen(full_nonce) || memcmp(v, full_nonce, vlen) != 0) {
		ERR("client-final: the nonce does not match");
		return -1;
	}
	if (auth_message(authmsg, sizeof(authmsg), &am_len, s->first_bare, s->server_first, m,
			 (size_t)(proof_at - m)) < 0 ||
	    scram_hmac(s->hash, s->secret.stored_key, hl, authmsg, am_len, sig) < 0) {
		ERR("client-final: cannot check the proof");
		return -1;
	}
	/* ClientKey = ClientProof XOR ClientSignature; H(ClientKey) must be
	 * StoredKey.  The same work for unknown users (made-up keys). */
	for (i = 0; i < hl; i++)
		client_key[i] = proof[i] ^ sig[i];
	ok = scram_digest(s->hash, client_key, hl, stored) == 0 &&
	     CRYPTO_memcmp(stored, s->secret.stored_key, hl) == 0 && s->known;
	OPENSSL_cleanse(client_key, sizeof(client_key));
	if (!ok) {
		ERR("authentication failed: invalid credentials");
		return -1;
	}
	if (scram_hmac(s->hash, s->secret.server_key, hl, authmsg, am_len, sig) < 0 ||
	    scram_b64_encode(sig, hl, sig_b64, sizeof(sig_b64)) < 0) {
		ERR("server-final: cannot sign");
		return -1;
	}
	n = snprintf(out, cap, "v=%s", sig_b64);
	if (n < 0 || (size_t)n >= cap) {
		ERR("server-final: does not fit");
		return -1;
	}
	s->state = ST_DONE;
	return n;
}

void scram_server_free(struct scram_server *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

/* ---- a whole exchange in memory ---- */

int scram_exchange(enum scram_hash h, const char *user, const char *password,
		   const struct scram_secret *secret, const uint8_t *mask_key, char *err,
		   size_t errlen)
{
	struct scram_client *c;
	struct scram_server *s;
	char a[SCRAM_MSG_MAX], b[SCRAM_MSG_MAX];
	int n, rc = -1;

	c = scram_client_new(h, user, password, strlen(password), NULL, err, errlen);
	s = scram_server_new(h, mask_key, NULL, err, errlen);
	if (!c || !s)
		goto out;
	n = scram_client_first(c, a, sizeof(a));
	if (n < 0 || scram_server_read_first(s, (const uint8_t *)a, (size_t)n, err, errlen) < 0)
		goto out;
	n = scram_server_first(s, secret, b, sizeof(b), err, errlen);
	if (n < 0)
		goto out;
	n = scram_client_final(c, (const uint8_t *)b, (size_t)n, a, sizeof(a), err, errlen);
	if (n < 0)
		goto out;
	n = scram_server_final(s, (const uint8_t *)a, (size_t)n, b, sizeof(b), err, errlen);
	if (n < 0 || scram_client_verify(c, (const uint8_t *)b, (size_t)n, err, errlen) < 0)
		goto out;
	rc = 0;
out:
	scram_client_free(c);
	scram_server_free(s);
	return rc;
}

/* ---- SASL PLAIN ---- */

int sasl_plain_parse(const uint8_t *msg, size_t len, struct sasl_plain *out, char *err,
		     size_t errlen)
{
	const uint8_t *z1, *z2, *end;
	size_t la, lu, lp;

	memset(out, 0, sizeof(*out));
	if (!msg || len > 2 * (SCRAM_MAX_USER + 1) + SCRAM_MAX_PASSWORD) {
		ERR("PLAIN: empty, or longer than %d bytes",
		    2 * (SCRAM_MAX_USER + 1) + SCRAM_MAX_PASSWORD);
		return -1;
	}
	end = msg + len;
	z1 = memchr(msg, '\0', len);
	z2 = z1 ? memchr(z1 + 1, '\0', (size_t)(end - z1 - 1)) : NULL;
	if (!z2 || memchr(z2 + 1, '\0', (size_t)(end - z2 - 1))) {
		ERR("PLAIN: expected \"authzid\\0user\\0password\"");
		return -1;
	}
	la = (size_t)(z1 - msg);
	lu = (size_t)(z2 - z1 - 1);
	lp = (size_t)(end - z2 - 1);
	if (la > SCRAM_MAX_USER || lu == 0 || lu > SCRAM_MAX_USER) {
		ERR("PLAIN: user name: expected 1 to %d bytes", SCRAM_MAX_USER);
		return -1;
	}
	if (lp == 0 || lp > SCRAM_MAX_PASSWORD) {
		ERR("PLAIN: password: expected 1 to %d bytes", SCRAM_MAX_PASSWORD);
		return -1;
	}
	if (la && (la != lu || memcmp(msg, z1 + 1, la) != 0)) {
		ERR("PLAIN: authorization id differs from the user name");
		return -1;
	}
	memcpy(out->authzid, msg, la);
	memcpy(out->username, z1 + 1, lu);
	memcpy(out->password, z2 + 1, lp);
	out->password_len = lp;
	return 0;
}

void sasl_plain_clear(struct sasl_plain *p)
{
	OPENSSL_cleanse(p->password, sizeof(p->password));
	p->password_len = 0;
}
