/* 0023_sni.c — the SNI listener: one TLS port for every broker of a mock
 * cluster, the server name a client sends choosing where it goes.  An
 * OpenSSL client sends each name (no name resolution needed), asks for
 * Metadata and checks that every broker is listed under the pattern at the
 * advertised port; kgate's debug log says which broker address each
 * connection dialled (one learned, one a brokers[] entry's upstream).  Then
 * the refusal: names that match nothing (and no name) get a TLS
 * unrecognized_name alert, counted, and logged once per interval.
 */
#include <inttypes.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../protocol/kbuf.h"
#include "../lib/clients.h"
#include "itests.h"

#define N_BROKERS 3
#define ADVERTISE_PORT 9443
#define DOMAIN "kafka.test"

/* kgate fronting mock m: a plaintext bootstrap, broker 3 in brokers[] with
 * its upstream configured, and the SNI listener at sni_port. */
static char *sni_config(const struct kgate *k, const struct mock *m, int sni_port,
			const char *unmatched, const char *prefix, const char *more)
{
	char extra[2048];
	char *cfg, *at;

	snprintf(extra, sizeof(extra),
		 "\"sni\": { \"listen\": \"127.0.0.1:%d\", \"advertise_port\": %d, "
		 "\"bootstrap_name\": \"bootstrap." DOMAIN "\", \"broker_name\": \"%s{id}." DOMAIN
		 "\", \"unmatched\": \"%s\", \"tls\": { \"cert\": \"%s\", \"key\": \"%s\" }%s }",
		 sni_port, ADVERTISE_PORT, prefix, unmatched, cert_path(0, "gateway.pem"),
		 cert_path(1, "gateway.key"), more ? more : "");
	cfg = kgate_config_for_mock(k, m, 0, extra);
	/* Broker 3 (the only brokers[] entry) dials its configured upstream. */
	at = strstr(cfg, "\"id\": 1,");
	ck_assert_ptr_nonnull(at);
	memcpy(at, "\"id\": 3,", 8);
	at = strstr(at, " }");
	ck_assert_ptr_nonnull(at);
	{
		char *fixed = malloc(strlen(cfg) + 128);

		ck_assert_ptr_nonnull(fixed);
		sprintf(fixed, "%.*s, \"upstream\": \"%s\"%s", (int)(at - cfg), cfg, m->addr[2], at);
		free(cfg);
		cfg = fixed;
	}
	return cfg;
}

/* A TLS connection to 127.0.0.1:port sending name as SNI (NULL: none);
 * NULL if the handshake failed (*reason: OpenSSL's reason code). */
static SSL *sni_connect(SSL_CTX *ctx, int port, const char *name, int *fd, int *reason)
{
	SSL *ssl = SSL_new(ctx);

	ck_assert_ptr_nonnull(ssl);
	*fd = raw_connect(port);
	SSL_set_fd(ssl, *fd);
	if (name)
		ck_assert_int_eq(SSL_set_tlsext_host_name(ssl, name), 1);
	ERR_clear_error();
	if (SSL_connect(ssl) == 1)
		return ssl;
	*reason = ERR_GET_REASON(ERR_peek_last_error());
	SSL_free(ssl);
	close(*fd);
	return NULL;
}

/* One request (after its size) written over ssl; its answer read into
 * answer: its length after the correlation id (checked), or -1 if closed. */
static int exchange(SSL *ssl, const uint8_t *req, size_t len, int32_t corr, uint8_t *answer,
		    size_t cap)
{
	uint8_t size_be[4];
	int32_t size;

	ck_assert_int_eq(SSL_write(ssl, req, (int)len), (int)len);
	if (SSL_read(ssl, size_be, 4) != 4)
		return -1;
	size = kbuf_get_i32(size_be);
	ck_assert(size >= 4 && (size_t)size <= cap);
	for (int got = 0; got < size;) {
		int k = SSL_read(ssl, answer + got, size - got);

		ck_assert_int_gt(k, 0);
		got += k;
	}
	ck_assert_int_eq(kbuf_get_i32(answer), corr);
	return size - 4;
}

/* Metadata v1 for every topic over ssl: asserts every broker N is listed
 * at prefix N.DOMAIN and the advertised port.  0, or -1 if kgate closed the
 * connection instead of answering. */
static int metadata_sees(SSL *ssl, const char *prefix)
{
	/* clang-format off */
	static const uint8_t req[18] = {0, 0, 0, 14, 0, 3, 0, 1, 0, 0, 0, 7, 0, 0,
					0xff, 0xff, 0xff, 0xff};
	/* clang-format on */
	uint8_t answer[8192];
	struct kreader r;
	struct kstr host, rack;
	int32_t n, id, port, seen = 0;
	int len = exchange(ssl, req, sizeof(req), 7, answer, sizeof(answer));

	if (len < 0)
		return -1;
	kr_init(&r, answer + 4, (size_t)len);
	ck_assert_int_eq(kr_array(&r, 0, 12, &n), 0);
	ck_assert_int_eq(n, N_BROKERS);
	for (int i = 0; i < n; i++) {
		char want[64];

		ck_assert_int_eq(kr_i32(&r, &id), 0);
		ck_assert_int_eq(kr_string(&r, 0, &host), 0);
		ck_assert_int_eq(kr_i32(&r, &port), 0);
		ck_assert_int_eq(kr_nullable_string(&r, 0, &rack), 0);
		snprintf(want, sizeof(want), "%s%d." DOMAIN, prefix, (int)id);
		ck_assert_msg(host.len == (int32_t)strlen(want) &&
				      memcmp(host.ptr, want, strlen(want)) == 0,
			      "broker %d listed as %.*s", (int)id, (int)host.len, host.ptr);
		ck_assert_int_eq(port, ADVERTISE_PORT);
		seen |= 1 << id;
	}
	ck_assert_int_eq(seen, 0xe); /* 1, 2 and 3 */
	return 0;
}

static int metadata_sees_pattern(SSL *ssl)
{
	return metadata_sees(ssl, "b-");
}

static SSL_CTX *client_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	/* The chain is checked; the test certificate does not carry the
	 * pattern's names (the e2e scenario's wildcard does). */
	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(SSL_CTX_load_verify_locations(ctx, cert_path(2, "ca.pem"), NULL), 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

/* One connection naming name: answered with the pattern's view, after
 * kgate dialled `dialled` for it (its debug line says so). */
static void routed(const struct kgate *kg, SSL_CTX *ctx, int port, const char *name,
		   const char *dialled)
{
	char line[160];
	int fd, reason = 0, before;
	SSL *ssl;

	snprintf(line, sizeof(line), "via sni] dialling %s", dialled);
	before = kgate_log_count(kg, line);
	ssl = sni_connect(ctx, port, name, &fd, &reason);
	ck_assert_msg(ssl != NULL, "handshake naming %s failed (reason %d)", name ? name : "-",
		      reason);
	ck_assert_int_eq(metadata_sees_pattern(ssl), 0);
	/* Answered, so dialled: the line is in the log already. */
	ck_assert_msg(kgate_log_count(kg, line) == before + 1, "%s: expected \"%s\"",
		      name ? name : "no name", line);
	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
}

START_TEST(test_sni_routes_each_name)
{
	struct mock m;
	struct kgate kg;
	SSL_CTX *ctx = client_ctx();
	int port = harness_free_port();
	char *cfg;

	mock_start(&m, N_BROKERS);
	ck_assert_int_eq(rd_kafka_mock_topic_create(m.mc, "sni", 3, N_BROKERS), 0);
	kgate_plan(&kg, 1);
	cfg = sni_config(&kg, &m, port, "bootstrap", "b-", NULL);
	setenv("KGATE_TEST_LOG_LEVEL", "debug", 1);
	kgate_start(&kg, cfg);
	unsetenv("KGATE_TEST_LOG_LEVEL");
	free(cfg);
	ck_assert(kgate_log_contains(&kg, "sni listening on 127.0.0.1:"));
	/* --check says what the listener does. */
	{
		char *argv[] = {getenv("KGATE_BIN"), "--check", "--config", kg.config_path, NULL};
		char out[4096];

		ck_assert_int_eq(harness_run(argv, out, sizeof(out)), 0);
		ck_assert_msg(strstr(out, "  sni 127.0.0.1:") &&
				      strstr(out, "bootstrap name bootstrap." DOMAIN
						  "; broker N as b-{id}." DOMAIN
						  ", advertised at port 9443; other names and "
						  "none: routed to bootstrap"),
			      "--check printed: %s", out);
	}
	/* Learned brokers (1, 2: no brokers[] entry), then the configured
	 * upstream of 3, case-insensitively. */
	routed(&kg, ctx, port, "b-1." DOMAIN, m.addr[0]);
	routed(&kg, ctx, port, "B-2.Kafka.Test", m.addr[1]);
	routed(&kg, ctx, port, "b-3." DOMAIN, m.addr[2]);
	routed(&kg, ctx, port, "b-2." DOMAIN, m.addr[1]);
	ck_assert_int_eq(kgate_log_count(&kg, "\": broker 2"), 2);
	/* The bootstrap name, another name and none: bootstrap upstreams. */
	{
		const char *names[] = {"bootstrap." DOMAIN, "elsewhere.example", NULL};

		for (int i = 0; i < 3; i++) {
			int fd, reason;
			SSL *ssl = sni_connect(ctx, port, names[i], &fd, &reason);

			ck_assert_ptr_nonnull(ssl);
			ck_assert_int_eq(metadata_sees_pattern(ssl), 0);
			SSL_free(ssl);
			close(fd);
		}
	}
	ck_assert(kgate_log_contains(&kg, "server name \"bootstrap." DOMAIN "\": bootstrap"));
	ck_assert(kgate_log_contains(&kg, "server name \"elsewhere.example\" matches no broker"));
	ck_assert(kgate_log_contains(&kg, "server name (none sent) matches no broker"));
	ck_assert_uint_eq(kgate_counter_now(&kg, "sni_broker"), 4);
	ck_assert_uint_eq(kgate_counter_now(&kg, "sni_bootstrap"), 1);
	ck_assert_uint_eq(kgate_counter_now(&kg, "sni_unmatched"), 2);
	ck_assert_uint_eq(kgate_counter_now(&kg, "sni_refused"), 0);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "tls_failures=0 "));
	ck_assert(kgate_log_contains(&kg, "protocol_errors=0 "));
	SSL_CTX_free(ctx);
	mock_stop(&m);
}
END_TEST

START_TEST(test_sni_refuses_other_names)
{
	struct mock m;
	struct kgate kg;
	SSL_CTX *ctx = client_ctx();
	int port = harness_free_port(), fd, reason;
	char *cfg;
	SSL *ssl;

	mock_start(&m, N_BROKERS);
	kgate_plan(&kg, 1);
	cfg = sni_config(&kg, &m, port, "refuse", "b-", NULL);
	kgate_start(&kg, cfg);
	free(cfg);
	/* Another name, and none: a TLS unrecognized_name alert. */
	reason = 0;
	ck_assert_ptr_null(sni_connect(ctx, port, "elsewhere.example", &fd, &reason));
	ck_assert_int_eq(reason, SSL_R_TLSV1_UNRECOGNIZED_NAME);
	reason = 0;
	ck_assert_ptr_null(sni_connect(ctx, port, NULL, &fd, &reason));
	ck_assert_int_eq(reason, SSL_R_TLSV1_UNRECOGNIZED_NAME);
	/* Names kgate knows still pass. */
	ssl = sni_connect(ctx, port, "bootstrap." DOMAIN, &fd, &reason);
	ck_assert_ptr_nonnull(ssl);
	ck_assert_int_eq(metadata_sees_pattern(ssl), 0);
	SSL_free(ssl);
	close(fd);
	/* A broker the cluster does not have: closed once kgate asked it. */
	ssl = sni_connect(ctx, port, "b-9." DOMAIN, &fd, &reason);
	ck_assert_ptr_nonnull(ssl);
	ck_assert_int_eq(metadata_sees_pattern(ssl), -1);
	SSL_free(ssl);
	close(fd);
	ck_assert(kgate_log_contains(&kg, "the cluster's Metadata does not list this broker id (9;"));
	ck_assert_uint_eq(kgate_counter_now(&kg, "sni_refused"), 2);
	/* Said once (the second within the interval is counted only). */
	ck_assert_int_eq(kgate_log_count(&kg, "refused server name"), 1);
	ck_assert(kgate_log_contains(&kg, "refused server name \"elsewhere.example\""));
	ck_assert_int_eq(kgate_stop(&kg), 0);
	/* A refusal is not a TLS failure. */
	ck_assert(kgate_log_contains(&kg, "tls_failures=0 "));
	SSL_CTX_free(ctx);
	mock_stop(&m);
}
END_TEST

/* A reload that renames the brokers keeps the socket; a client connected
 * before keeps the names it was given, a new one gets the new ones. */
START_TEST(test_sni_reload)
{
	struct mock m;
	struct kgate kg;
	SSL_CTX *ctx = client_ctx();
	int port = harness_free_port(), fd_old, fd_new, reason;
	char *cfg;
	SSL *old, *fresh;

	mock_start(&m, N_BROKERS);
	kgate_plan(&kg, 1);
	cfg = sni_config(&kg, &m, port, "bootstrap", "b-", NULL);
	kgate_start(&kg, cfg);
	free(cfg);
	old = sni_connect(ctx, port, "b-1." DOMAIN, &fd_old, &reason);
	ck_assert_ptr_nonnull(old);
	ck_assert_int_eq(metadata_sees(old, "b-"), 0);
	cfg = sni_config(&kg, &m, port, "bootstrap", "kafka-", NULL);
	ck_assert_int_eq(kgate_reload(&kg, cfg), 1);
	free(cfg);
	ck_assert(kgate_log_contains(&kg, "sni still listening on 127.0.0.1:"));
	ck_assert_int_eq(metadata_sees(old, "b-"), 0);
	fresh = sni_connect(ctx, port, "kafka-2." DOMAIN, &fd_new, &reason);
	ck_assert_ptr_nonnull(fresh);
	ck_assert_int_eq(metadata_sees(fresh, "kafka-"), 0);
	SSL_free(old);
	SSL_free(fresh);
	close(fd_old);
	close(fd_new);
	ck_assert_uint_eq(kgate_counter_now(&kg, "sni_broker"), 2);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	SSL_CTX_free(ctx);
	mock_stop(&m);
}
END_TEST

/* client_auth sasl on the SNI listener: a client signs in to kgate right
 * after its handshake (its first bytes may come with the handshake's end),
 * then is routed by its name. */
START_TEST(test_sni_with_login)
{
	/* clang-format off */
	static const uint8_t handshake[] = {0, 0, 0, 17, 0, 17, 0, 1, 0, 0, 0, 1, 0, 0,
					    0, 5, 'P', 'L', 'A', 'I', 'N'};
	static const uint8_t authenticate[] = {0, 0, 0, 29, 0, 36, 0, 0, 0, 0, 0, 2, 0, 0,
					       0, 0, 0, 15, 0, 's', 'n', 'i', '-', 'a', 'p', 'p',
					       0, 's', 'e', 'c', 'r', 'e', 't'};
	/* clang-format on */
	struct mock m;
	struct kgate kg;
	SSL_CTX *ctx = client_ctx();
	int port = harness_free_port(), fd, reason;
	char more[1024], users[512], *cfg;
	uint8_t answer[1024];
	SSL *ssl;

	mock_start(&m, N_BROKERS);
	kgate_plan(&kg, 1);
	snprintf(users, sizeof(users), "%s/sni-users-%d.json", harness_tmp_root(), (int)getpid());
	unlink(users);
	harness_passwd_add(users, "sni-app", "secret");
	snprintf(more, sizeof(more),
		 ", \"client_auth\": { \"mode\": \"sasl\", \"mechanisms\": [\"PLAIN\"], "
		 "\"credentials_file\": \"%s\" }",
		 users);
	cfg = sni_config(&kg, &m, port, "bootstrap", "b-", more);
	kgate_start(&kg, cfg);
	free(cfg);
	ssl = sni_connect(ctx, port, "b-2." DOMAIN, &fd, &reason);
	ck_assert_ptr_nonnull(ssl);
	/* SaslHandshake v1 PLAIN, then SaslAuthenticate v0: no error. */
	ck_assert_int_ge(exchange(ssl, handshake, sizeof(handshake), 1, answer, sizeof(answer)), 2);
	ck_assert_int_eq(kbuf_get_i16(answer + 4), 0);
	ck_assert_int_ge(exchange(ssl, authenticate, sizeof(authenticate), 2, answer,
				  sizeof(answer)),
			 2);
	ck_assert_int_eq(kbuf_get_i16(answer + 4), 0);
	ck_assert_int_eq(metadata_sees_pattern(ssl), 0);
	SSL_free(ssl);
	close(fd);
	ck_assert_uint_eq(kgate_counter_now(&kg, "client_logins"), 1);
	ck_assert_uint_eq(kgate_counter_now(&kg, "sni_broker"), 1);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	unlink(users);
	SSL_CTX_free(ctx);
	mock_stop(&m);
}
END_TEST

/* A TLS session resumed under another name goes where the new name says
 * (TLS 1.2 ties the name to the session; TLS 1.3 does not). */
START_TEST(test_sni_resumed_session)
{
	struct mock m;
	struct kgate kg;
	int port = harness_free_port();
	char *cfg;

	mock_start(&m, N_BROKERS);
	kgate_plan(&kg, 1);
	cfg = sni_config(&kg, &m, port, "bootstrap", "b-", NULL);
	setenv("KGATE_TEST_LOG_LEVEL", "debug", 1);
	kgate_start(&kg, cfg);
	unsetenv("KGATE_TEST_LOG_LEVEL");
	free(cfg);
	for (int v = 0; v < 2; v++) {
		SSL_CTX *ctx = client_ctx();
		SSL_SESSION *sess;
		SSL *ssl;
		int fd, reason, resumed, before;
		char line[160];

		ck_assert_int_eq(SSL_CTX_set_max_proto_version(ctx, v ? TLS1_3_VERSION
								      : TLS1_2_VERSION),
				 1);
		ssl = sni_connect(ctx, port, "b-1." DOMAIN, &fd, &reason);
		ck_assert_ptr_nonnull(ssl);
		ck_assert_int_eq(metadata_sees_pattern(ssl), 0); /* TLS 1.3: the ticket is in */
		sess = SSL_get1_session(ssl);
		ck_assert_ptr_nonnull(sess);
		SSL_shutdown(ssl);
		SSL_free(ssl);
		close(fd);
		/* The session of b-1, offered for b-2. */
		snprintf(line, sizeof(line), "via sni] dialling %s", m.addr[1]);
		before = kgate_log_count(&kg, line);
		ssl = SSL_new(ctx);
		fd = raw_connect(port);
		SSL_set_fd(ssl, fd);
		ck_assert_int_eq(SSL_set_tlsext_host_name(ssl, "b-2." DOMAIN), 1);
		ck_assert_int_eq(SSL_set_session(ssl, sess), 1);
		ck_assert_int_eq(SSL_connect(ssl), 1);
		resumed = SSL_session_reused(ssl);
		ck_assert_int_eq(metadata_sees_pattern(ssl), 0);
		ck_assert_msg(kgate_log_count(&kg, line) == before + 1,
			      "TLS 1.%d, session %s: b-2 did not reach broker 2", v ? 3 : 2,
			      resumed ? "resumed" : "not resumed");
		fprintf(stderr, "0023: TLS 1.%d session of b-1 offered for b-2: %s, routed to 2\n",
			v ? 3 : 2, resumed ? "resumed" : "not resumed");
		SSL_SESSION_free(sess);
		SSL_free(ssl);
		close(fd);
		SSL_CTX_free(ctx);
	}
	ck_assert_int_eq(kgate_stop(&kg), 0);
	mock_stop(&m);
}
END_TEST

TCase *tcase_0023_sni(void)
{
	TCase *tc = tcase_create("0023 sni");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_sni_routes_each_name);
	tcase_add_test(tc, test_sni_refuses_other_names);
	tcase_add_test(tc, test_sni_reload);
	tcase_add_test(tc, test_sni_with_login);
	tcase_add_test(tc, test_sni_resumed_session);
	return tc;
}
