/* test_auth.c — the upstream_sasl and client_auth blocks (config/auth.h,
 * their checks across listeners) and the SASL messages kgate reads and
 * writes both ways (protocol/sasl.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../config/config.h"
#include "../../config/users.h"
#include "../../protocol/requests.h"
#include "../../protocol/sasl.h"
#include "../../protocol/scram.h"
#include "tests.h"

static char pw_path[64], users_path[64];

/* A password file and a credentials file for the configurations below. */
static void files_setup(void)
{
	FILE *f;
	int fd;

	snprintf(pw_path, sizeof(pw_path), "/tmp/kgate-test-pw-XXXXXX");
	fd = mkstemp(pw_path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "s3cret\nignored\n", 15), 15);
	close(fd);
	snprintf(users_path, sizeof(users_path), "/tmp/kgate-test-users-XXXXXX");
	fd = mkstemp(users_path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	/* alice / pencil, SCRAM-SHA-256, 4096 iterations (RFC 7677's salt). */
	fputs("{\"users\": {\"alice\": {\"SCRAM-SHA-256\": {\"salt\": "
	      "\"W22ZaJ0SNY7soEsUEjb6gQ==\", \"iterations\": 4096, \"stored_key\": "
	      "\"WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=\", \"server_key\": "
	      "\"wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=\"}}}}",
	      f);
	fclose(f);
}

static void files_teardown(void)
{
	unlink(pw_path);
	unlink(users_path);
}

/* A configuration with `extra` keys at the top level and in broker 1. */
static char *conf(const char *listen, const char *top, const char *broker)
{
	char *json;

	ck_assert_int_ge(asprintf(&json,
				  "{ \"bootstrap\": { \"listen\": \"%s:9094\", \"upstream\": "
				  "[\"b-1:9094\"] }, \"brokers\": [ { \"id\": 1, \"listen\": "
				  "\"%s:8443\", \"advertise\": \"nlb:8443\"%s%s } ]%s%s }",
				  listen, listen, broker[0] ? ", " : "", broker, top[0] ? ", " : "",
				  top),
			 0);
	return json;
}

static int load(const char *json, struct cfg *cfg, struct cfg_errors *errs)
{
	return cfg_load_string(json, cfg, errs);
}

/* Asserts the configuration fails with a message containing want. */
static void fails_with(char *json, const char *want)
{
	struct cfg cfg;
	struct cfg_errors errs = {0};
	int found = 0;

	ck_assert_int_eq(load(json, &cfg, &errs), -1);
	for (size_t i = 0; i < errs.n; i++)
		found |= strstr(errs.msgs[i], want) != NULL;
	ck_assert_msg(found, "no error mentions \"%s\" (first: %s)", want,
		      errs.n ? errs.msgs[0] : "-");
	cfg_errors_free(&errs);
	free(json);
}

static void loads(char *json, struct cfg *cfg)
{
	struct cfg_errors errs = {0};

	ck_assert_msg(load(json, cfg, &errs) == 0, "rejected: %s", errs.n ? errs.msgs[0] : "?");
	free(json);
}

static char *sasl_block(const char *mech)
{
	char *s;

	ck_assert_int_ge(asprintf(&s,
				  "\"upstream_sasl\": { \"mechanism\": \"%s\", \"username\": "
				  "\"alice\", \"password_file\": \"%s\" }",
				  mech, pw_path),
			 0);
	return s;
}

START_TEST(test_upstream_sasl_loads)
{
	char *top = sasl_block("SCRAM-SHA-512");
	struct cfg cfg;
	const struct cfg_sasl *s;
	char who[128];

	loads(conf("127.0.0.1", top, "\"upstream_sasl\": { \"mechanism\": \"none\" }"), &cfg);
	s = cfg_upstream_sasl(&cfg, NULL);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->mechanism, CFG_SASL_SCRAM_SHA_512);
	/* The file's first line, without its line end. */
	ck_assert_str_eq(s->password, "s3cret");
	cfg_sasl_describe(s, who, sizeof(who));
	ck_assert_str_eq(who, "alice (SCRAM-SHA-512)");
	/* "none" in the broker switches the top level's off there. */
	ck_assert_ptr_null(cfg_upstream_sasl(&cfg, &cfg.brokers[0]));
	ck_assert_ptr_null(cfg_iam_region(&cfg));
	cfg_free(&cfg);
	free(top);
}
END_TEST

START_TEST(test_upstream_sasl_errors)
{
	char top[512];

	fails_with(conf("127.0.0.1", "\"upstream_sasl\": { \"mechanism\": \"SCRAM-SHA-1\" }", ""),
		   "upstream_sasl.mechanism: expected one of");
	fails_with(conf("127.0.0.1", "\"upstream_sasl\": { \"mechanism\": \"PLAIN\" }", ""),
		   "upstream_sasl.username: missing");
	fails_with(conf("127.0.0.1", "\"upstream_sasl\": { \"mechanism\": \"PLAIN\" }", ""),
		   "upstream_sasl.password_file: missing");
	fails_with(conf("127.0.0.1",
			"\"upstream_sasl\": { \"mechanism\": \"PLAIN\", \"username\": \"a\", "
			"\"password_file\": \"/nonexistent/pw\" }",
			""),
		   "upstream_sasl.password_file: cannot read \"/nonexistent/pw\"");
	fails_with(conf("127.0.0.1", "",
			"\"upstream_sasl\": { \"mechanism\": \"OAUTHBEARER\", \"region\": "
			"\"eu-west-1\" }"),
		   "brokers[0].upstream_sasl.token_provider: expected \"aws_msk_iam\"");
	snprintf(top, sizeof(top),
		 "\"upstream_sasl\": { \"mechanism\": \"AWS_MSK_IAM\", \"username\": \"a\", "
		 "\"region\": \"eu-west-1\" }");
	fails_with(conf("127.0.0.1", top, ""), "IAM takes no username");
}
END_TEST

START_TEST(test_iam_region)
{
	struct cfg cfg;

	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	fails_with(conf("127.0.0.1", "\"upstream_sasl\": { \"mechanism\": \"AWS_MSK_IAM\" }", ""),
		   "upstream_sasl.region: missing, and neither AWS_REGION");
	setenv("AWS_DEFAULT_REGION", "ap-south-1", 1);
	loads(conf("127.0.0.1",
		   "\"upstream_sasl\": { \"mechanism\": \"OAUTHBEARER\", \"token_provider\": "
		   "\"aws_msk_iam\" }",
		   ""),
	      &cfg);
	ck_assert_str_eq(cfg_iam_region(&cfg), "ap-south-1");
	cfg_free(&cfg);
	unsetenv("AWS_DEFAULT_REGION");
}
END_TEST

/* Anyone who reaches a listener with upstream_sasl acts as kgate's user:
 * refused unless the listener is loopback, clients log in, or the
 * configuration says anonymous is meant. */
START_TEST(test_anonymous_refused)
{
	char *s = sasl_block("PLAIN"), top[1024];
	struct cfg cfg;

	fails_with(conf("0.0.0.0", s, ""), "anyone who reaches 0.0.0.0:9094 would act as");
	loads(conf("127.0.0.1", s, ""), &cfg);
	cfg_free(&cfg);
	snprintf(top, sizeof(top), "%s, \"client_auth\": { \"mode\": \"none\", "
				   "\"allow_anonymous\": true }", s);
	loads(conf("0.0.0.0", top, ""), &cfg);
	ck_assert_int_eq(cfg_login(&cfg, NULL)->mode, CFG_LOGIN_NONE);
	cfg_free(&cfg);
	free(s);
}
END_TEST

START_TEST(test_client_auth)
{
	char *s = sasl_block("SCRAM-SHA-256"), top[2048];
	const struct cfg_login *a;
	struct cfg cfg;

	snprintf(top, sizeof(top),
		 "%s, \"client_auth\": { \"mode\": \"sasl\", \"credentials_file\": \"%s\", "
		 "\"mechanisms\": [\"SCRAM-SHA-256\", \"SCRAM-SHA-512\"], \"identities\": { "
		 "\"alice\": { \"mechanism\": \"PLAIN\", \"username\": \"app-1\", "
		 "\"password_file\": \"%s\" } } }",
		 s, users_path, pw_path);
	loads(conf("0.0.0.0", top, ""), &cfg);
	a = cfg_login(&cfg, &cfg.brokers[0]);
	ck_assert_int_eq(a->mode, CFG_LOGIN_SASL);
	ck_assert_uint_eq(a->mechanisms,
			  (1u << CFG_SASL_SCRAM_SHA_256) | (1u << CFG_SASL_SCRAM_SHA_512));
	ck_assert_ptr_nonnull(users_lookup(a->users, "alice", SCRAM_SHA_256));
	ck_assert_str_eq(cfg_identity_sasl(a, "alice")->username, "app-1");
	ck_assert_ptr_null(cfg_identity_sasl(a, "bob"));
	cfg_free(&cfg);

	snprintf(top, sizeof(top), "%s, \"client_auth\": { \"mode\": \"sasl\" }", s);
	fails_with(conf("0.0.0.0", top, ""), "client_auth.credentials_file: missing");
	snprintf(top, sizeof(top),
		 "\"client_auth\": { \"mode\": \"sasl\", \"credentials_file\": \"%s\", "
		 "\"mechanisms\": [\"GSSAPI\"] }",
		 users_path);
	fails_with(conf("0.0.0.0", top, ""), "client_auth.mechanisms[0]: expected");
	fails_with(conf("0.0.0.0", "\"client_auth\": { \"mode\": \"tls\" }", ""),
		   "bootstrap: client_auth mode \"tls\" needs TLS on the listener");
	snprintf(top, sizeof(top),
		 "\"client_auth\": { \"mode\": \"sasl\", \"credentials_file\": \"%s\", "
		 "\"identities\": { \"x\": { \"mechanism\": \"none\" } } }",
		 users_path);
	fails_with(conf("0.0.0.0", top, ""), "an identity maps to credentials");
	/* PLAIN without TLS beyond loopback: allowed, with a warning. */
	snprintf(top, sizeof(top), "\"client_auth\": { \"mode\": \"sasl\", \"credentials_file\": "
				   "\"%s\" }",
		 users_path);
	loads(conf("0.0.0.0", top, ""), &cfg);
	ck_assert_uint_ge(cfg.warnings.n, 1);
	ck_assert_ptr_nonnull(strstr(cfg.warnings.msgs[0], "passwords cross the network"));
	cfg_free(&cfg);
	free(s);
}
END_TEST

/* ---- the messages ---- */

START_TEST(test_handshake_roundtrip)
{
	static const char *const mechs[] = {"PLAIN", "SCRAM-SHA-512", NULL};
	struct kwbuf w;
	struct ksasl_req h;
	struct kstr mech;
	char list[64];
	int16_t err;

	kw_init(&w);
	ksasl_handshake_request(&w, 7, "kgate", "SCRAM-SHA-512");
	ck_assert_int_eq(ksasl_request_header(w.buf + 4, w.len - 4, &h), 0);
	ck_assert_int_eq(h.api_key, KAPI_SASL_HANDSHAKE);
	ck_assert_int_eq(h.version, 1);
	ck_assert_int_eq(h.correlation_id, 7);
	ck_assert_int_eq(ksasl_handshake_mechanism(w.buf + 4, w.len - 4, &h, &mech), 0);
	ck_assert_int_eq(mech.len, 13);
	ck_assert_int_eq(memcmp(mech.ptr, "SCRAM-SHA-512", 13), 0);
	kw_reset(&w);
	ksasl_handshake_answer(&w, 7, KERR_UNSUPPORTED_SASL_MECHANISM, mechs);
	ck_assert_int_eq(kbuf_get_i32(w.buf), (int32_t)w.len - 4);
	ck_assert_int_eq(ksasl_handshake_response(w.buf + 4, w.len - 4, &err, list, sizeof(list)),
			 0);
	ck_assert_int_eq(err, KERR_UNSUPPORTED_SASL_MECHANISM);
	ck_assert_str_eq(list, "PLAIN, SCRAM-SHA-512");
	/* Cut short anywhere: malformed, never read past the end. */
	for (size_t n = 4; n < w.len - 4; n++)
		ck_assert_int_eq(ksasl_handshake_response(w.buf + 4, n, &err, list, sizeof(list)),
				 -1);
	kw_free(&w);
}
END_TEST

/* SaslAuthenticate both ways at every version (v2 flexible: compact
 * bytes, tagged fields, and the v1 response header). */
START_TEST(test_authenticate_roundtrip)
{
	static const uint8_t tok[] = "n,,n=user,r=abc";
	struct kwbuf w;
	struct ksasl_req h;
	struct kstr bytes, msg;
	int64_t lifetime;
	int16_t err;

	for (int16_t v = 0; v <= 2; v++) {
		kw_init(&w);
		ksasl_authenticate_request(&w, v, 9, "kgate", tok, sizeof(tok) - 1);
		ck_assert_int_eq(ksasl_request_header(w.buf + 4, w.len - 4, &h), 0);
		ck_assert_int_eq(h.api_key, KAPI_SASL_AUTHENTICATE);
		ck_assert_int_eq(h.version, v);
		ck_assert_int_eq(ksasl_authenticate_bytes(w.buf + 4, w.len - 4, &h, &bytes), 0);
		ck_assert_int_eq(bytes.len, (int32_t)sizeof(tok) - 1);
		ck_assert_int_eq(memcmp(bytes.ptr, tok, sizeof(tok) - 1), 0);
		kw_reset(&w);
		ksasl_authenticate_answer(&w, v, 9, KERR_SASL_AUTHENTICATION_FAILED, "no", tok, 3,
					  3600000);
		ck_assert_int_eq(ksasl_authenticate_response(w.buf + 4, w.len - 4, v, &err, &msg,
							     &bytes, &lifetime),
				 0);
		ck_assert_int_eq(err, KERR_SASL_AUTHENTICATION_FAILED);
		ck_assert_int_eq(msg.len, 2);
		ck_assert_int_eq(bytes.len, 3);
		/* Only v1+ carries the session lifetime. */
		ck_assert_int_eq(lifetime, v >= 1 ? 3600000 : 0);
		kw_reset(&w);
		ksasl_authenticate_answer(&w, v, 9, 0, NULL, NULL, 0, 0);
		ck_assert_int_eq(ksasl_authenticate_response(w.buf + 4, w.len - 4, v, &err, &msg,
							     &bytes, &lifetime),
				 0);
		ck_assert_int_eq(msg.len, -1);
		ck_assert_int_eq(bytes.len, 0);
		kw_free(&w);
	}
}
END_TEST

static int count_api(void *ctx, int16_t key, int16_t min, int16_t max)
{
	(void)key;
	(void)min;
	(void)max;
	(*(int *)ctx)++;
	return 0;
}

/* kgate's own ApiVersions answer (to a client that must log in first):
 * v0 decodes as brokers' do; versions above 4 are answered in v0 with
 * UNSUPPORTED_VERSION (KIP-511); v3 is flexible. */
START_TEST(test_api_versions_answer)
{
	static const struct ksasl_api apis[] = {{0, 0, 11}, {17, 0, 1}, {36, 0, 2}};
	static const uint8_t v3[] = {0, 0, 0, 5, 0, 0, 4, 0, 0, 0, 0, 0, 11, 0, 0, 17, 0, 0,
				     0, 1, 0, 0, 36, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0};
	struct kwbuf w;
	int16_t lo, hi;
	int n = 0;

	kw_init(&w);
	ksasl_api_versions_answer(&w, 0, 5, apis, 3);
	ck_assert_int_eq(kresp_api_versions_range(w.buf + 4, w.len - 4, 36, &lo, &hi), 0);
	ck_assert_int_eq(hi, 2);
	ck_assert_int_eq(kresp_api_versions_each(w.buf + 4, w.len - 4, count_api, &n), 0);
	ck_assert_int_eq(n, 3);
	kw_reset(&w);
	ksasl_api_versions_answer(&w, 9, 5, apis, 3);
	ck_assert_int_eq(kbuf_get_i16(w.buf + 8), KERR_UNSUPPORTED_VERSION);
	ck_assert_int_eq(w.len, 4 + 4 + 2 + 4 + 3 * 6);
	kw_reset(&w);
	ksasl_api_versions_answer(&w, 3, 5, apis, 3);
	ck_assert_int_eq(w.len - 4, sizeof(v3));
	ck_assert_int_eq(memcmp(w.buf + 4, v3, sizeof(v3)), 0);
	kw_free(&w);
}
END_TEST

/* One SCRAM-SHA-512 exchange of a client with cache against kgate's
 * server; 0 if both sides were satisfied. */
static int exchange(const struct scram_secret *secret, struct scram_salted *cache)
{
	static const uint8_t mask[SCRAM_MASK_KEY_LEN];
	struct scram_client *c = scram_client_new(SCRAM_SHA_512, "u", "pencil", 6, NULL, NULL, 0);
	struct scram_server *s = scram_server_new(SCRAM_SHA_512, mask, NULL, NULL, 0);
	char a[SCRAM_MSG_MAX], b[SCRAM_MSG_MAX];
	int n, rc = -1;

	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(s);
	scram_client_cache(c, cache);
	n = scram_client_first(c, a, sizeof(a));
	if (n > 0 && scram_server_read_first(s, (uint8_t *)a, (size_t)n, NULL, 0) == 0 &&
	    (n = scram_server_first(s, secret, b, sizeof(b), NULL, 0)) > 0 &&
	    (n = scram_client_final(c, (uint8_t *)b, (size_t)n, a, sizeof(a), NULL, 0)) > 0 &&
	    (n = scram_server_final(s, (uint8_t *)a, (size_t)n, b, sizeof(b), NULL, 0)) > 0)
		rc = scram_client_verify(c, (uint8_t *)b, (size_t)n, NULL, 0);
	scram_client_free(c);
	scram_server_free(s);
	return rc;
}

/* The client keeps SaltedPassword (kgate signs in on every dial): the
 * cache is filled, then used — a corrupted entry fails the next exchange,
 * which shows the PBKDF2 was skipped — and a salt that changes is derived
 * again and replaces the entry. */
START_TEST(test_scram_salted_cache)
{
	static const uint8_t salt1[16] = "salt number one.", salt2[16] = "salt number two.";
	struct scram_secret s1, s2;
	struct scram_salted cache = {0};

	ck_assert_int_eq(scram_secret_derive(SCRAM_SHA_512, "pencil", 6, salt1, 16, 4096, &s1,
					     NULL, 0),
			 0);
	ck_assert_int_eq(scram_secret_derive(SCRAM_SHA_512, "pencil", 6, salt2, 16, 4096, &s2,
					     NULL, 0),
			 0);
	ck_assert_int_eq(exchange(&s1, &cache), 0);
	ck_assert_uint_eq(cache.iterations, 4096);
	ck_assert_int_eq(memcmp(cache.salt, salt1, 16), 0);
	ck_assert_int_eq(exchange(&s1, &cache), 0);
	cache.key[0] ^= 1;
	ck_assert_int_eq(exchange(&s1, &cache), -1);
	ck_assert_int_eq(exchange(&s2, &cache), 0);
	ck_assert_int_eq(memcmp(cache.salt, salt2, 16), 0);
	ck_assert_int_eq(exchange(&s2, &cache), 0);
}
END_TEST

Suite *suite_auth(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("config");

	tcase_add_checked_fixture(tc, files_setup, files_teardown);
	tcase_add_test(tc, test_upstream_sasl_loads);
	tcase_add_test(tc, test_upstream_sasl_errors);
	tcase_add_test(tc, test_iam_region);
	tcase_add_test(tc, test_anonymous_refused);
	tcase_add_test(tc, test_client_auth);
	suite_add_tcase(s, tc);
	tc = tcase_create("messages");
	tcase_add_test(tc, test_handshake_roundtrip);
	tcase_add_test(tc, test_authenticate_roundtrip);
	tcase_add_test(tc, test_api_versions_answer);
	tcase_add_test(tc, test_scram_salted_cache);
	suite_add_tcase(s, tc);
	return s;
}
