/* test_scram.c — SCRAM (RFC 7677's exchange byte for byte, SHA-512 against
 * scripts/gen_scram_vectors.py), client against server, malformed and
 * random messages, base64, and SASL PLAIN parsing. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../protocol/scram.h"
#include "tests.h"

#define U8(s) ((const uint8_t *)(s))

static const uint8_t mask_key[SCRAM_MASK_KEY_LEN] = "0123456789abcdef0123456789abcde";

/* One exchange with fixed nonces: the four messages and the keys. */
struct vector {
	enum scram_hash hash;
	const char *user, *password, *cnonce, *snonce, *salt_b64;
	uint32_t iterations;
	const char *client_first, *server_first, *client_final, *server_final;
	const char *stored_key, *server_key; /* NULL: not given */
};

static const struct vector vectors[] = {
	/* RFC 7677 section 3, as printed there. */
	{SCRAM_SHA_256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO", "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
	 "W22ZaJ0SNY7soEsUEjb6gQ==", 4096, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
	 "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
	 "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	 "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	 "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", NULL, NULL},
	/* scripts/gen_scram_vectors.py (hashlib, hmac): SHA-512 with the RFC's
	 * inputs, then a name that needs escaping and a non-ASCII password. */
	{SCRAM_SHA_512, "user", "pencil", "rOprNGfwEbeRWgbNEkqO", "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
	 "W22ZaJ0SNY7soEsUEjb6gQ==", 4096, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
	 "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
	 "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=gMGXRcevScNtxZ6/"
	 "8lQYpGtnsNAc3mGcmNomv+xnoOMw+3R2xNJdMNnzMlTN8PPC6wdp6dybEmDYXYTxwnYPJQ==",
	 "v=ZQnYEgWQMFmmsM8aQMF0nDDCy/AgCzkwk8CmMZYcMg0vSVlKDanekLtifDSeVGT4+5ZxXnJq199RVG2rR7N7Zw==",
	 "6AAub3065EYRmyFpM2RNwqK+eGnrkYuEWbXn19LsEmBqzu8QaCXNc1FwpnX9NhH2hK/60dzj9DoO5DvVkOHbvg==",
	 "jZHbYjC1aHh0/hKbxyBuGFjDrgjgKTT1esA7awWiKcRZ0o/0b1yWEebBeSVkkCFewf91nLDfKF24mvD5nmE6rA=="},
	{SCRAM_SHA_512, "a=b,c", "s3cr\xc3\xa9t pass", "fyko+d2lbbFgONRv9qkxdawL",
	 "3rfcNHYJY1ZVvWVs7j", "AAECAwQFBgcICQoLDA0ODw==", 8192,
	 "n,,n=a=3Db=2Cc,r=fyko+d2lbbFgONRv9qkxdawL",
	 "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=AAECAwQFBgcICQoLDA0ODw==,i=8192",
	 "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=XIVSl2Qk5L5N08ZKMeTbQqhVTtRZCQCIA/"
	 "mJLJFrSOG0POLHzzQvcpBcx125G1b0X9L2EKGqizFR3WRtQnFG6g==",
	 "v=/GJ7bjvxn1fL4ujAInMy7URJhMJ3eLU6iWwKGlACfMBE0XkQru7yg0i9LTa7prnvCe2XpnKcbzFxr9Hn0OlAaA==",
	 "EVxGHWFqyDwzUnhqks+Bw8r4MqECj4JoZIexN0x5xkICXXGVsizbVCuLErSoROWT9Fz5eX6BWCIt94NyoR4AFw==",
	 "2QAlUpp+xzC6E2nq4OAkAarQJa1BzlybtMoh4zbRjisq4HK/gLhzyhz3Ldi5JMgRyaSvekI437v2Jhb9TnAbjg=="},
};

static void vector_secret(const struct vector *v, struct scram_secret *s)
{
	uint8_t salt[SCRAM_MAX_SALT];
	char err[256];
	int n = scram_b64_decode(v->salt_b64, strlen(v->salt_b64), salt, sizeof(salt));

	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(scram_secret_derive(v->hash, v->password, strlen(v->password), salt,
					     (size_t)n, v->iterations, s, err, sizeof(err)),
			 0);
}

START_TEST(test_vector_client)
{
	const struct vector *v = &vectors[_i];
	struct scram_client *c;
	char out[SCRAM_MSG_MAX], err[256];
	int n;

	c = scram_client_new(v->hash, v->user, v->password, strlen(v->password), v->cnonce, err,
			     sizeof(err));
	ck_assert_ptr_nonnull(c);
	n = scram_client_first(c, out, sizeof(out));
	ck_assert_int_eq(n, (int)strlen(v->client_first));
	ck_assert_str_eq(out, v->client_first);
	n = scram_client_final(c, U8(v->server_first), strlen(v->server_first), out, sizeof(out),
			       err, sizeof(err));
	ck_assert_msg(n > 0, "%s", err);
	ck_assert_int_eq(n, (int)strlen(v->client_final));
	ck_assert_str_eq(out, v->client_final);
	ck_assert_msg(scram_client_verify(c, U8(v->server_final), strlen(v->server_final), err,
					  sizeof(err)) == 0,
		      "%s", err);
	scram_client_free(c);
}
END_TEST

START_TEST(test_vector_server)
{
	const struct vector *v = &vectors[_i];
	struct scram_secret sec;
	struct scram_server *s;
	char out[SCRAM_MSG_MAX], err[256], b64[128];
	int n;

	vector_secret(v, &sec);
	if (v->stored_key) {
		scram_b64_encode(sec.stored_key, scram_hash_len(v->hash), b64, sizeof(b64));
		ck_assert_str_eq(b64, v->stored_key);
		scram_b64_encode(sec.server_key, scram_hash_len(v->hash), b64, sizeof(b64));
		ck_assert_str_eq(b64, v->server_key);
	}
	s = scram_server_new(v->hash, mask_key, v->snonce, err, sizeof(err));
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(scram_server_read_first(s, U8(v->client_first), strlen(v->client_first), err,
					      sizeof(err)) == 0,
		      "%s", err);
	n = scram_server_first(s, &sec, out, sizeof(out), err, sizeof(err));
	ck_assert_int_eq(n, (int)strlen(v->server_first));
	ck_assert_str_eq(out, v->server_first);
	n = scram_server_final(s, U8(v->client_final), strlen(v->client_final), out, sizeof(out),
			       err, sizeof(err));
	ck_assert_msg(n > 0, "%s", err);
	ck_assert_str_eq(out, v->server_final);
	ck_assert_int_eq(scram_server_user_known(s), 1);
	scram_server_free(s);
}
END_TEST

START_TEST(test_names)
{
	enum scram_hash h;

	ck_assert_int_eq(scram_hash_parse("SCRAM-SHA-256", &h), 0);
	ck_assert_int_eq(h, SCRAM_SHA_256);
	ck_assert_int_eq(scram_hash_parse("SCRAM-SHA-512", &h), 0);
	ck_assert_int_eq(h, SCRAM_SHA_512);
	ck_assert_int_eq(scram_hash_parse("scram-sha-512", &h), -1);
	ck_assert_int_eq(scram_hash_parse("SCRAM-SHA-1", &h), -1);
	ck_assert_int_eq(scram_hash_parse(NULL, &h), -1);
	ck_assert_str_eq(scram_hash_name(SCRAM_SHA_256), "SCRAM-SHA-256");
	ck_assert_str_eq(scram_hash_name(SCRAM_SHA_512), "SCRAM-SHA-512");
	ck_assert_uint_eq(scram_hash_len(SCRAM_SHA_256), 32);
	ck_assert_uint_eq(scram_hash_len(SCRAM_SHA_512), 64);
}
END_TEST

START_TEST(test_base64)
{
	uint8_t buf[16];
	char out[32];

	ck_assert_int_eq(scram_b64_encode(U8("ab"), 2, out, sizeof(out)), 4);
	ck_assert_str_eq(out, "YWI=");
	ck_assert_int_eq(scram_b64_encode(U8("abc"), 3, out, 4), -1); /* no room for NUL */
	ck_assert_int_eq(scram_b64_decode("YWI=", 4, buf, sizeof(buf)), 2);
	ck_assert_int_eq(memcmp(buf, "ab", 2), 0);
	ck_assert_int_eq(scram_b64_decode("YQ==", 4, buf, sizeof(buf)), 1);
	ck_assert_int_eq(scram_b64_decode("", 0, buf, sizeof(buf)), 0);
	ck_assert_int_eq(scram_b64_decode("YR==", 4, buf, sizeof(buf)), -1); /* stray bits */
	ck_assert_int_eq(scram_b64_decode("YWJ=", 4, buf, sizeof(buf)), -1);
	ck_assert_int_eq(scram_b64_decode("YWI", 3, buf, sizeof(buf)), -1);
	ck_assert_int_eq(scram_b64_decode("Y=I=", 4, buf, sizeof(buf)), -1);
	ck_assert_int_eq(scram_b64_decode("YQ==YQ==", 8, buf, sizeof(buf)), -1);
	ck_assert_int_eq(scram_b64_decode("Y W=", 4, buf, sizeof(buf)), -1);
	ck_assert_int_eq(scram_b64_decode("====", 4, buf, sizeof(buf)), -1);
	ck_assert_int_eq(scram_b64_decode("YWJj", 4, buf, 2), -1); /* does not fit */
}
END_TEST

START_TEST(test_derive_bounds)
{
	struct scram_secret s;
	uint8_t salt[SCRAM_MAX_SALT + 1] = {1};
	char err[256];

	ck_assert_int_eq(scram_secret_derive(SCRAM_SHA_256, "pw", 2, salt, 16, 4095, &s, err,
					     sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "iterations"));
	ck_assert_int_eq(scram_secret_derive(SCRAM_SHA_256, "pw", 2, salt, 16, 1000001, &s, err,
					     sizeof(err)),
			 -1);
	ck_assert_int_eq(scram_secret_derive(SCRAM_SHA_256, "pw", 2, salt, 0, 4096, &s, err,
					     sizeof(err)),
			 -1);
	ck_assert_int_eq(scram_secret_derive(SCRAM_SHA_256, "pw", 2, salt, SCRAM_MAX_SALT + 1, 4096,
					     &s, err, sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "salt"));
}
END_TEST

START_TEST(test_check_password)
{
	struct scram_secret s;

	vector_secret(&vectors[_i], &s);
	ck_assert_int_eq(
		scram_check_password(&s, vectors[_i].password, strlen(vectors[_i].password)), 1);
	ck_assert_int_eq(scram_check_password(&s, "pencil2", 7), 0);
	ck_assert_int_eq(scram_check_password(&s, "", 0), 0);
	s.iterations = 1; /* a corrupt secret never matches */
	ck_assert_int_eq(
		scram_check_password(&s, vectors[_i].password, strlen(vectors[_i].password)), 0);
}
END_TEST

/* ---- client against server ---- */

static void secret_for(enum scram_hash h, const char *pw, struct scram_secret *s)
{
	char err[256];

	ck_assert_int_eq(scram_secret_derive(h, pw, strlen(pw), U8("saltsaltsaltsalt"), 16, 4096, s,
					     err, sizeof(err)),
			 0);
}

START_TEST(test_roundtrip)
{
	enum scram_hash h = _i ? SCRAM_SHA_512 : SCRAM_SHA_256;
	struct scram_secret s, other;
	char err[256] = "";

	secret_for(h, "right", &s);
	ck_assert_msg(scram_exchange(h, "alice", "right", &s, mask_key, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(scram_exchange(h, "alice", "wrong", &s, mask_key, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "authentication failed: invalid credentials");
	/* unknown user: the same answer as a wrong password */
	ck_assert_int_eq(scram_exchange(h, "mallory", "right", NULL, mask_key, err, sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "authentication failed: invalid credentials");
	/* the other mechanism's secret is refused, not misused */
	secret_for(h == SCRAM_SHA_256 ? SCRAM_SHA_512 : SCRAM_SHA_256, "right", &other);
	ck_assert_int_eq(scram_exchange(h, "alice", "right", &other, mask_key, err, sizeof(err)),
			 -1);
	/* an empty password is a password */
	secret_for(h, "", &s);
	ck_assert_msg(scram_exchange(h, "alice", "", &s, mask_key, err, sizeof(err)) == 0, "%s",
		      err);
}
END_TEST

/* The server-first message a server gives user for a first message. */
static void server_first_for(const char *user, const struct scram_secret *sec, char *out,
			     size_t cap)
{
	struct scram_server *s = scram_server_new(SCRAM_SHA_256, mask_key, "SNONCE", NULL, 0);
	char first[600];
	char err[256];

	snprintf(first, sizeof(first), "n,,n=%s,r=CNONCE", user);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(scram_server_read_first(s, U8(first), strlen(first), err, sizeof(err)), 0);
	ck_assert_int_gt(scram_server_first(s, sec, out, cap, err, sizeof(err)), 0);
	ck_assert_int_eq(scram_server_user_known(s), sec != NULL);
	scram_server_free(s);
}

START_TEST(test_unknown_user_plausible)
{
	char a[SCRAM_MSG_MAX], b[SCRAM_MSG_MAX], c[SCRAM_MSG_MAX], d[SCRAM_MSG_MAX];
	struct scram_secret sec;

	server_first_for("ghost", NULL, a, sizeof(a));
	server_first_for("ghost", NULL, b, sizeof(b));
	server_first_for("phantom", NULL, c, sizeof(c));
	ck_assert_str_eq(a, b); /* the same salt each time, as for a real user */
	ck_assert_str_ne(a, c);
	ck_assert_ptr_nonnull(strstr(a, ",i=8192"));
	/* shaped like a real user's: same salt length, same layout */
	secret_for(SCRAM_SHA_256, "pw", &sec);
	server_first_for("alice", &sec, d, sizeof(d));
	ck_assert_uint_eq(strlen(a), strlen("r=CNONCESNONCE,s=") + 24 + strlen(",i=8192"));
	ck_assert_uint_eq(strlen(d), strlen("r=CNONCESNONCE,s=") + 24 + strlen(",i=4096"));
}
END_TEST

/* Runs an exchange with fixed nonces up to the client-final message, which
 * the test then tampers with; returns the server, ready for it. */
static struct scram_server *exchange_to_final(struct scram_secret *sec, char *client_final,
					      size_t cap)
{
	struct scram_client *c;
	struct scram_server *s;
	char a[SCRAM_MSG_MAX], err[256];
	int n;

	secret_for(SCRAM_SHA_256, "pw", sec);
	c = scram_client_new(SCRAM_SHA_256, "alice", "pw", 2, "abc", err, sizeof(err));
	s = scram_server_new(SCRAM_SHA_256, mask_key, "xyz", err, sizeof(err));
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(s);
	n = scram_client_first(c, a, sizeof(a));
	ck_assert_int_eq(scram_server_read_first(s, U8(a), (size_t)n, err, sizeof(err)), 0);
	n = scram_server_first(s, sec, a, sizeof(a), err, sizeof(err));
	ck_assert_int_gt(n, 0);
	ck_assert_int_gt(
		scram_client_final(c, U8(a), (size_t)n, client_final, cap, err, sizeof(err)), 0);
	scram_client_free(c);
	return s;
}

START_TEST(test_tampered_client_final)
{
	static const struct {
		const char *from, *to, *err;
	} cases[] = {
		{"r=abcxyz", "r=abcxyY", "nonce does not match"},
		{"r=abcxyz", "r=abcxy", "nonce does not match"},
		{"r=abcxyz", "r=abcxyzz", "nonce does not match"},
		{"c=biws", "c=eSws", "channel binding"},
		{"c=biws,", "", "channel binding"},
		{",p=", ",q=", "p=<base64"},
		{"p=", "p=A", "p=<base64"},
	};
	struct scram_secret sec;
	char cf[SCRAM_MSG_MAX], t[SCRAM_MSG_MAX], out[SCRAM_MSG_MAX], err[256];
	struct scram_server *s = exchange_to_final(&sec, cf, sizeof(cf));
	const char *at = strstr(cf, cases[_i].from);
	size_t pre;

	ck_assert_ptr_nonnull(at);
	pre = (size_t)(at - cf);
	snprintf(t, sizeof(t), "%.*s%s%s", (int)pre, cf, cases[_i].to, at + strlen(cases[_i].from));
	ck_assert_int_eq(
		scram_server_final(s, U8(t), strlen(t), out, sizeof(out), err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, cases[_i].err) != NULL, "%s -> %s", t, err);
	scram_server_free(s);
}
END_TEST

START_TEST(test_tampered_proof)
{
	struct scram_secret sec;
	char cf[SCRAM_MSG_MAX], out[SCRAM_MSG_MAX], err[256];
	struct scram_server *s = exchange_to_final(&sec, cf, sizeof(cf));
	char *p = strstr(cf, ",p=") + 3;

	p[_i] = p[_i] == 'A' ? 'B' : 'A'; /* one character of the proof */
	ck_assert_int_eq(
		scram_server_final(s, U8(cf), strlen(cf), out, sizeof(out), err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "invalid credentials") || strstr(err, "base64"), "%s", err);
	/* a failed server stays failed */
	ck_assert_int_eq(
		scram_server_final(s, U8(cf), strlen(cf), out, sizeof(out), err, sizeof(err)), -1);
	scram_server_free(s);
}
END_TEST

START_TEST(test_bad_server_first)
{
	static const struct {
		const char *msg, *err;
	} cases[] = {
		{"r=abcdef,s=QUJD,i=4095", "iterations"},
		{"r=abcdef,s=QUJD,i=1000001", "iterations"},
		{"r=abcdef,s=QUJD,i=99999999999999999999", "iterations"},
		{"r=abcdef,s=QUJD,i=04096", "iterations"},
		{"r=abcdef,s=QUJD,i=-4096", "iterations"},
		{"r=abcdef,s=QUJD,i=", "iterations"},
		{"r=abXdef,s=QUJD,i=4096", "nonce"},
		{"r=abc,s=QUJD,i=4096", "nonce"},
		{"r=ab,s=QUJD,i=4096", "nonce"},
		{"r=abcd ef,s=QUJD,i=4096", "nonce"},
		{"r=abcdef,s=QUJ,i=4096", "salt"},
		{"r=abcdef,s=,i=4096", "salt"},
		{"r=abcdef,s=QUJD", "expected r=, s=, i="},
		{"s=QUJD,r=abcdef,i=4096", "expected r=, s=, i="},
		{"r=abcdef,i=4096,s=QUJD", "expected r=, s=, i="},
		{"m=x,r=abcdef,s=QUJD,i=4096", "mandatory extension"},
		{"e=unknown-user", "server error: unknown-user"},
		{"garbage", "malformed"},
		{"", "empty"},
	};
	struct scram_client *c;
	char out[SCRAM_MSG_MAX], err[256] = "";

	c = scram_client_new(SCRAM_SHA_256, "u", "pw", 2, "abc", err, sizeof(err));
	ck_assert_int_gt(scram_client_first(c, out, sizeof(out)), 0);
	ck_assert_int_eq(scram_client_final(c, U8(cases[_i].msg), strlen(cases[_i].msg), out,
					    sizeof(out), err, sizeof(err)),
			 -1);
	ck_assert_msg(strstr(err, cases[_i].err) != NULL, "%s -> %s", cases[_i].msg, err);
	scram_client_free(c);
}
END_TEST

START_TEST(test_bad_server_final)
{
	const struct vector *v = &vectors[0];
	static const struct {
		const char *msg, *err;
	} cases[] = {
		{"e=invalid-proof", "server error: invalid-proof"},
		{"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G5=", "server signature"},
		{"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4", "server signature"},
		{"v=", "server signature"},
		{"x=1", "expected v= or e="},
		{"e=\x01", "unprintable"},
	};
	struct scram_client *c;
	char out[SCRAM_MSG_MAX], err[256];

	c = scram_client_new(v->hash, v->user, v->password, strlen(v->password), v->cnonce, err,
			     sizeof(err));
	ck_assert_int_gt(scram_client_first(c, out, sizeof(out)), 0);
	ck_assert_int_gt(scram_client_final(c, U8(v->server_first), strlen(v->server_first), out,
					    sizeof(out), err, sizeof(err)),
			 0);
	ck_assert_int_eq(scram_client_verify(c, U8(cases[_i].msg), strlen(cases[_i].msg), err,
					     sizeof(err)),
			 -1);
	ck_assert_msg(strstr(err, cases[_i].err) != NULL, "%s -> %s", cases[_i].msg, err);
	scram_client_free(c);
}
END_TEST

START_TEST(test_client_first_parse)
{
	static const struct {
		const char *msg, *user, *err; /* user: accepted as this name */
	} cases[] = {
		{"n,,n=alice,r=abc", "alice", NULL},
		{"n,,n=a=2Cb=3Dc,r=abc", "a,b=c", NULL},
		{"n,a=alice,n=alice,r=abc", "alice", NULL},
		{"n,,n=alice,r=abc,x=ext", "alice", NULL},
		{"y,,n=alice,r=abc", NULL, "channel binding"},
		{"p=tls-unique,,n=alice,r=abc", NULL, "channel binding"},
		{"n,a=bob,n=alice,r=abc", NULL, "authorization id"},
		{"n,,n=alice,r=abc,tokenauth=true", NULL, "delegation tokens"},
		{"n,,m=x,n=alice,r=abc", NULL, "mandatory extension"},
		{"n,,n=,r=abc", NULL, "n=<user name>"},
		{"n,,n=a=2,r=abc", NULL, "n=<user name>"},
		{"n,,n=a=,r=abc", NULL, "n=<user name>"},
		{"n,,n=a=41,r=abc", NULL, "n=<user name>"},
		{"n,,n=alice", NULL, "r=<nonce>"},
		{"n,,n=alice,r=", NULL, "r=<nonce>"},
		{"n,,n=alice,r=a b", NULL, "r=<nonce>"},
		{"n,,r=abc,n=alice", NULL, "n=<user name>"},
		{"n,,", NULL, "n=<user name>"},
		{"n", NULL, "gs2 header"},
		{"x,,n=alice,r=abc", NULL, "gs2 header"},
		{"n,x=y,n=alice,r=abc", NULL, "gs2 header"},
		{"n,a=,n=alice,r=abc", NULL, "gs2 header"},
		{"", NULL, "empty"},
	};
	struct scram_server *s = scram_server_new(SCRAM_SHA_512, mask_key, NULL, NULL, 0);
	char err[256] = "";
	int rc = scram_server_read_first(s, U8(cases[_i].msg), strlen(cases[_i].msg), err,
					 sizeof(err));

	if (cases[_i].user) {
		ck_assert_msg(rc == 0, "%s -> %s", cases[_i].msg, err);
		ck_assert_str_eq(scram_server_user(s), cases[_i].user);
	} else {
		ck_assert_int_eq(rc, -1);
		ck_assert_msg(strstr(err, cases[_i].err) != NULL, "%s -> %s", cases[_i].msg, err);
	}
	scram_server_free(s);
}
END_TEST

START_TEST(test_bounds)
{
	static char big[SCRAM_MSG_MAX + 16], user[SCRAM_MAX_USER + 2];
	struct scram_server *s;
	struct scram_client *c;
	char err[256], out[SCRAM_MSG_MAX];
	int n;

	/* over-long message; a NUL inside one */
	memset(big, 'a', sizeof(big));
	memcpy(big, "n,,n=alice,r=", 13);
	s = scram_server_new(SCRAM_SHA_256, mask_key, NULL, NULL, 0);
	ck_assert_int_eq(scram_server_read_first(s, U8(big), sizeof(big), err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "longer"));
	scram_server_free(s);
	s = scram_server_new(SCRAM_SHA_256, mask_key, NULL, NULL, 0);
	ck_assert_int_eq(scram_server_read_first(s, U8("n,,n=al\0ce,r=abc"), 16, err, sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "NUL"));
	scram_server_free(s);
	/* a nonce over SCRAM_MAX_NONCE */
	s = scram_server_new(SCRAM_SHA_256, mask_key, NULL, NULL, 0);
	n = snprintf(big, sizeof(big), "n,,n=alice,r=%0300d", 1);
	ck_assert_int_eq(scram_server_read_first(s, U8(big), (size_t)n, err, sizeof(err)), -1);
	scram_server_free(s);
	/* the longest user name, every byte escaped, goes through */
	memset(user, ',', SCRAM_MAX_USER);
	user[SCRAM_MAX_USER] = '\0';
	c = scram_client_new(SCRAM_SHA_256, user, "pw", 2, NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(c);
	n = scram_client_first(c, out, sizeof(out));
	ck_assert_int_eq(n, 3 + 2 + 3 * SCRAM_MAX_USER + 3 + 32);
	s = scram_server_new(SCRAM_SHA_256, mask_key, NULL, NULL, 0);
	ck_assert_int_eq(scram_server_read_first(s, U8(out), (size_t)n, err, sizeof(err)), 0);
	ck_assert_str_eq(scram_server_user(s), user);
	scram_server_free(s);
	scram_client_free(c);
	/* one byte more is refused on both sides */
	user[SCRAM_MAX_USER] = 'x';
	user[SCRAM_MAX_USER + 1] = '\0';
	ck_assert_ptr_null(scram_client_new(SCRAM_SHA_256, user, "pw", 2, NULL, err, sizeof(err)));
	ck_assert_ptr_null(scram_client_new(SCRAM_SHA_256, "", "pw", 2, NULL, err, sizeof(err)));
	ck_assert_ptr_null(scram_client_new(SCRAM_SHA_256, "u", "pw", 2, "a,b", err, sizeof(err)));
	ck_assert_ptr_null(scram_server_new(SCRAM_SHA_256, mask_key, "", err, sizeof(err)));
	/* calls out of order fail */
	c = scram_client_new(SCRAM_SHA_256, "u", "pw", 2, NULL, err, sizeof(err));
	ck_assert_int_eq(scram_client_verify(c, U8("v=AA=="), 6, err, sizeof(err)), -1);
	scram_client_free(c);
	s = scram_server_new(SCRAM_SHA_256, mask_key, NULL, NULL, 0);
	ck_assert_int_eq(scram_server_first(s, NULL, out, sizeof(out), err, sizeof(err)), -1);
	scram_server_free(s);
}
END_TEST

/* Random bytes and every single-byte change of valid messages, fed to each
 * parser: nothing crashes, nothing over-reads (ASan), bad input fails. */
START_TEST(test_garbage)
{
	const struct vector *v = &vectors[0];
	struct scram_secret sec;
	uint8_t buf[300];
	char out[SCRAM_MSG_MAX], err[256];
	unsigned seed = 12345;
	int i, k;

	vector_secret(v, &sec);
	for (i = 0; i < 3000; i++) {
		size_t len = (size_t)(rand_r(&seed) % (int)sizeof(buf));
		const char *valid = i % 3 == 0   ? v->client_first
				    : i % 3 == 1 ? v->server_first
						 : v->client_final;
		struct scram_server *s;
		struct scram_client *c;

		if (i < 1500) {
			for (k = 0; k < (int)len; k++)
				buf[k] = (uint8_t)rand_r(&seed);
			/* half of them printable, which gets further */
			if (i & 1)
				for (k = 0; k < (int)len; k++)
					buf[k] = (uint8_t)(0x20 + buf[k] % 0x5f);
		} else {
			len = strlen(valid);
			memcpy(buf, valid, len);
			buf[(size_t)rand_r(&seed) % len] = (uint8_t)rand_r(&seed);
		}
		s = scram_server_new(v->hash, mask_key, v->snonce, NULL, 0);
		if (scram_server_read_first(s, buf, len, err, sizeof(err)) == 0 &&
		    scram_server_first(s, &sec, out, sizeof(out), err, sizeof(err)) > 0)
			(void)scram_server_final(s, buf, len, out, sizeof(out), err, sizeof(err));
		scram_server_free(s);
		/* the server's last step, after a valid start */
		s = scram_server_new(v->hash, mask_key, v->snonce, NULL, 0);
		ck_assert_int_eq(scram_server_read_first(s, U8(v->client_first),
							 strlen(v->client_first), err, sizeof(err)),
				 0);
		ck_assert_int_gt(scram_server_first(s, &sec, out, sizeof(out), err, sizeof(err)),
				 0);
		if (scram_server_final(s, buf, len, out, sizeof(out), err, sizeof(err)) > 0)
			ck_assert_int_eq(memcmp(buf, v->client_final, len), 0);
		scram_server_free(s);
		/* the client's steps */
		c = scram_client_new(v->hash, v->user, v->password, strlen(v->password), v->cnonce,
				     NULL, 0);
		ck_assert_int_gt(scram_client_first(c, out, sizeof(out)), 0);
		if (scram_client_final(c, buf, len, out, sizeof(out), err, sizeof(err)) > 0)
			(void)scram_client_verify(c, buf, len, err, sizeof(err));
		scram_client_free(c);
		{
			struct sasl_plain p;

			(void)sasl_plain_parse(buf, len, &p, err, sizeof(err));
		}
	}
}
END_TEST

/* ---- SASL PLAIN ---- */

START_TEST(test_plain)
{
	static const struct {
		const char *msg;
		size_t len;
		const char *user, *pass, *err;
	} cases[] = {
		{"\0alice\0secret", 13, "alice", "secret", NULL},
		{"alice\0alice\0secret", 18, "alice", "secret", NULL},
		{"\0alice\0p a:ss", 13, "alice", "p a:ss", NULL},
		{"bob\0alice\0secret", 16, NULL, NULL, "authorization id"},
		{"alice\0secret", 12, NULL, NULL, "expected"},
		{"\0alice\0secret\0", 14, NULL, NULL, "expected"},
		{"\0\0secret", 8, NULL, NULL, "user name"},
		{"\0alice\0", 7, NULL, NULL, "password"},
		{"", 0, NULL, NULL, "expected"},
		{"abc", 3, NULL, NULL, "expected"},
	};
	struct sasl_plain p;
	char err[256] = "";
	int rc = sasl_plain_parse(U8(cases[_i].msg), cases[_i].len, &p, err, sizeof(err));

	if (cases[_i].user) {
		ck_assert_msg(rc == 0, "%s", err);
		ck_assert_str_eq(p.username, cases[_i].user);
		ck_assert_str_eq(p.password, cases[_i].pass);
		ck_assert_uint_eq(p.password_len, strlen(cases[_i].pass));
		sasl_plain_clear(&p);
		ck_assert_uint_eq(p.password_len, 0);
		ck_assert_int_eq(p.password[0], 0);
	} else {
		ck_assert_int_eq(rc, -1);
		ck_assert_msg(strstr(err, cases[_i].err) != NULL, "case %d: %s", _i, err);
	}
}
END_TEST

START_TEST(test_plain_bounds)
{
	static uint8_t m[2 * (SCRAM_MAX_USER + 1) + SCRAM_MAX_PASSWORD + 2];
	struct sasl_plain p;
	char err[256];

	/* the longest fields fit exactly */
	memset(m, 'u', sizeof(m));
	m[0] = '\0';
	m[1 + SCRAM_MAX_USER] = '\0';
	ck_assert_int_eq(sasl_plain_parse(m, 2 + SCRAM_MAX_USER + SCRAM_MAX_PASSWORD, &p, err,
					  sizeof(err)),
			 0);
	ck_assert_uint_eq(strlen(p.username), SCRAM_MAX_USER);
	ck_assert_uint_eq(p.password_len, SCRAM_MAX_PASSWORD);
	/* one more password byte */
	ck_assert_int_eq(sasl_plain_parse(m, 3 + SCRAM_MAX_USER + SCRAM_MAX_PASSWORD, &p, err,
					  sizeof(err)),
			 -1);
	/* one more user byte */
	m[1 + SCRAM_MAX_USER] = 'u';
	m[2 + SCRAM_MAX_USER] = '\0';
	ck_assert_int_eq(sasl_plain_parse(m, 20 + SCRAM_MAX_USER, &p, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "user name"));
	ck_assert_int_eq(sasl_plain_parse(NULL, 0, &p, err, sizeof(err)), -1);
	ck_assert_int_eq(sasl_plain_parse(m, sizeof(m), &p, err, sizeof(err)), -1);
}
END_TEST

Suite *suite_scram(void)
{
	Suite *s = suite_create("scram");
	TCase *tc = tcase_create("scram");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_vector_client, 0, sizeof(vectors) / sizeof(vectors[0]));
	tcase_add_loop_test(tc, test_vector_server, 0, sizeof(vectors) / sizeof(vectors[0]));
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_base64);
	tcase_add_test(tc, test_derive_bounds);
	tcase_add_loop_test(tc, test_check_password, 0, sizeof(vectors) / sizeof(vectors[0]));
	tcase_add_loop_test(tc, test_roundtrip, 0, 2);
	tcase_add_test(tc, test_unknown_user_plausible);
	tcase_add_loop_test(tc, test_tampered_client_final, 0, 7);
	tcase_add_loop_test(tc, test_tampered_proof, 0, 43);
	tcase_add_loop_test(tc, test_bad_server_first, 0, 19);
	tcase_add_loop_test(tc, test_bad_server_final, 0, 6);
	tcase_add_loop_test(tc, test_client_first_parse, 0, 23);
	tcase_add_test(tc, test_bounds);
	tcase_add_test(tc, test_garbage);
	tcase_add_loop_test(tc, test_plain, 0, 10);
	tcase_add_test(tc, test_plain_bounds);
	suite_add_tcase(s, tc);
	return s;
}
