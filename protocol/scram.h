/* scram.h — SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka
 * uses them (KIP-84), both sides, and SASL PLAIN's message.
 *
 * Pure: messages in, messages out; OpenSSL supplies the crypto and the
 * random nonces.  kgate is a SCRAM client towards brokers (scram_client_*)
 * and a SCRAM server towards its own clients (scram_server_*).  No SASLprep:
 * like Kafka, a password is its UTF-8 bytes as given.
 *
 * Every function that takes a message bounds it (SCRAM_MSG_MAX) and refuses
 * anything malformed with an error text; none reads past the length given.
 */
#ifndef KGATE_SCRAM_H
#define KGATE_SCRAM_H

#include <stddef.h>
#include <stdint.h>

enum scram_hash { SCRAM_SHA_256, SCRAM_SHA_512 };

#define SCRAM_MAX_KEY 64   /* SHA-512's output */
#define SCRAM_MAX_SALT 64  /* bytes, decoded */
#define SCRAM_MAX_USER 255 /* bytes, unescaped */
#define SCRAM_MAX_PASSWORD 1024
#define SCRAM_MAX_NONCE 256 /* either side's part */
#define SCRAM_MSG_MAX 2048  /* any message, either direction */
/* RFC 7677 asks for at least 4096; the maximum keeps a hostile broker (or
 * a hand-edited credentials file) from making kgate burn seconds of CPU. */
#define SCRAM_MIN_ITERATIONS 4096
#define SCRAM_MAX_ITERATIONS 1000000
#define SCRAM_DEFAULT_ITERATIONS 8192
#define SCRAM_SALT_LEN 16 /* what kgate passwd and unknown users get */
#define SCRAM_MASK_KEY_LEN 32

/* "SCRAM-SHA-256" / "SCRAM-SHA-512". */
const char *scram_hash_name(enum scram_hash h);
/* 0 and *out set if name is one of the two (exact, as Kafka spells it). */
int scram_hash_parse(const char *name, enum scram_hash *out);
/* 32 or 64: the length of every key and signature. */
size_t scram_hash_len(enum scram_hash h);

/* What a server keeps of a password (RFC 5802 section 3): never the
 * password itself. */
struct scram_secret {
	enum scram_hash hash;
	uint8_t salt[SCRAM_MAX_SALT];
	size_t salt_len;
	uint32_t iterations;
	uint8_t stored_key[SCRAM_MAX_KEY]; /* H(ClientKey), scram_hash_len bytes */
	uint8_t server_key[SCRAM_MAX_KEY]; /* HMAC(SaltedPassword, "Server Key") */
};

/* Derives the secret of a password (PBKDF2, the cost of `iterations`).
 * 0, or -1 with err (bad salt length, iterations out of bounds). */
int scram_secret_derive(enum scram_hash h, const char *password, size_t pwlen, const uint8_t *salt,
			size_t saltlen, uint32_t iterations, struct scram_secret *out, char *err,
			size_t errlen);
/* For PLAIN logins checked against a stored SCRAM secret: derives the
 * password's StoredKey with the secret's salt and iterations and compares in
 * constant time.  1 if it matches, 0 if not (or on any error). */
int scram_check_password(const struct scram_secret *s, const char *password, size_t pwlen);

/* Strict standard base64 (padding required, no whitespace).  Encode writes
 * a NUL-terminated string and returns its length, or -1 if cap is too small;
 * decode returns the decoded length, or -1 if the text is not base64 or the
 * result does not fit in cap. */
int scram_b64_encode(const uint8_t *in, size_t len, char *out, size_t cap);
int scram_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap);

/* ---- client (kgate authenticating to a broker) ---- */

struct scram_client;

/* nonce: the client nonce to send (printable ASCII but ','), NULL for a
 * random one (tests pass RFC 7677's).  NULL with err on a bad user name,
 * password or nonce, or out of memory.  The password is kept until
 * scram_client_final and wiped by it and by scram_client_free. */
struct scram_client *scram_client_new(enum scram_hash h, const char *user, const char *password,
				      size_t pwlen, const char *nonce, char *err, size_t errlen);
/* "n,,n=<user>,r=<nonce>" into out (NUL-terminated).  Its length, or -1 if
 * cap is too small or called out of order. */
int scram_client_first(struct scram_client *c, char *out, size_t cap);
/* Reads the server-first message and writes the client-final one: checks
 * that the server's nonce extends ours, the salt is base64, the iterations
 * are within SCRAM_MIN/MAX_ITERATIONS.  Its length, or -1 with err. */
int scram_client_final(struct scram_client *c, const uint8_t *server_first, size_t len, char *out,
		       size_t cap, char *err, size_t errlen);
/* Checks the server-final message: 0 if its v= is the ServerSignature we
 * expect, -1 with err otherwise (an e= gives the server's error text). */
int scram_client_verify(struct scram_client *c, const uint8_t *server_final, size_t len, char *err,
			size_t errlen);
void scram_client_free(struct scram_client *c);
/* SaltedPassword for one salt and iteration count: what a client may keep
 * so it need not derive it again (RFC 5802 section 5.1).  kgate signs in to
 * brokers on every connection it dials and at every re-authentication, and
 * PBKDF2 at 4096 iterations costs milliseconds of an event loop each time. */
struct scram_salted {
	enum scram_hash hash;
	uint32_t iterations; /* 0: empty */
	size_t salt_len;
	uint8_t salt[SCRAM_MAX_SALT];
	uint8_t key[SCRAM_MAX_KEY];
};
/* scram_client_final uses cache when the server's salt and iterations
 * match it, and fills it when they do not.  The caller owns it and must
 * key it by the user and password it was made for. */
void scram_client_cache(struct scram_client *c, struct scram_salted *cache);

/* ---- server (a client logging in to kgate) ---- */

struct scram_server;

/* mask_key: SCRAM_MASK_KEY_LEN random bytes the caller makes once per
 * process and keeps: the salt offered for an unknown user is derived from
 * it and the user name, so the same name always gets the same plausible
 * salt and the exchange does not say which users exist.  nonce: the server
 * part of the nonce, NULL for a random one.  NULL with err. */
struct scram_server *scram_server_new(enum scram_hash h, const uint8_t *mask_key, const char *nonce,
				      char *err, size_t errlen);
/* Reads the client-first message: gs2 header "n,," (or "n,a=<the user>,");
 * channel binding refused.  0, or -1 with err.  Then scram_server_user
 * gives the (unescaped) user name to look up. */
int scram_server_read_first(struct scram_server *s, const uint8_t *msg, size_t len, char *err,
			    size_t errlen);
const char *scram_server_user(const struct scram_server *s);
/* Writes the server-first message "r=<cnonce+snonce>,s=<salt>,i=<n>" for
 * the user's secret, or NULL for an unknown user (a made-up salt, see
 * scram_server_new; the exchange then fails at the proof like a wrong
 * password).  The secret is copied.  Its length, or -1 with err. */
int scram_server_first(struct scram_server *s, const struct scram_secret *secret, char *out,
		       size_t cap, char *err, size_t errlen);
/* Reads the client-final message (channel binding "biws", the full nonce,
 * the proof) and, if the proof holds, writes the server-final
 * "v=<ServerSignature>": its length.  -1 with err otherwise; a wrong
 * password and an unknown user give the same text. */
int scram_server_final(struct scram_server *s, const uint8_t *client_final, size_t len, char *out,
		       size_t cap, char *err, size_t errlen);
/* After scram_server_first: whether the user had a secret (for logs, never
 * for what the client is told). */
int scram_server_user_known(const struct scram_server *s);
void scram_server_free(struct scram_server *s);

/* One whole exchange in memory, client against server, the way the gateway
 * runs it: the client derives from the password (PBKDF2), the server checks
 * against the secret (NULL: unknown user).  0 if the client authenticated
 * and verified the server, -1 with err.  For benchmarks and tests. */
int scram_exchange(enum scram_hash h, const char *user, const char *password,
		   const struct scram_secret *secret, const uint8_t *mask_key, char *err,
		   size_t errlen);

/* ---- SASL PLAIN (RFC 4616): "authzid\0user\0password" ---- */

struct sasl_plain {
	char authzid[SCRAM_MAX_USER + 1];
	char username[SCRAM_MAX_USER + 1];
	char password[SCRAM_MAX_PASSWORD + 1];
	size_t password_len;
};

/* Splits a PLAIN message.  Like Kafka, refuses an authzid that is neither
 * empty nor the user name, an empty user or password, and over-long fields.
 * 0, or -1 with err. */
int sasl_plain_parse(const uint8_t *msg, size_t len, struct sasl_plain *out, char *err,
		     size_t errlen);
/* Wipes the password. */
void sasl_plain_clear(struct sasl_plain *p);

#endif
