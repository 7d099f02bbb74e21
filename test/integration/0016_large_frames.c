/* 0016_splice.c — kgate's fast paths for large frames, checked byte for
 * byte.  Between plaintext sides they go socket to socket (splice(2)): a
 * scripted broker checks every byte of 1 MiB requests and answers 2 MiB
 * responses the client checks in turn, several back to back on one
 * connection and interleaved with small ones, so splices start and end at
 * frame boundaries both ways; kgate's counters show the bytes were
 * spliced.  A client and a broker that leave in the middle of a spliced
 * frame: kgate closes that pair and goes on serving.  And the same frames
 * from a TLS client, whose connection kgate drives itself after the
 * handshake (records decrypted into and encrypted from its own buffers):
 * requests sent right behind the handshake, and a 16 MiB response the
 * client does not read for a while, so kgate must hold it back.
 */
#include <openssl/ssl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../protocol/kbuf.h"
#include "../lib/fake_broker.h"
#include "../lib/harness.h"
#include "itests.h"

#define REQ_BODY (1u << 20)
#define RESP_BODY (2u << 20)
#define ROUNDS 6

/* What the scripted broker does with each request. */
enum splice_mode { ECHO_CHECKED, LEAVE_MID_RESPONSE };

struct splice_script {
	atomic_int mode;     /* enum splice_mode */
	atomic_int checked;  /* large requests whose every byte was right */
	atomic_int bad;      /* large requests with a wrong byte */
	atomic_int requests; /* requests read */
};

static void put_i16(uint8_t *p, int16_t v)
{
	p[0] = (uint8_t)((uint16_t)v >> 8);
	p[1] = (uint8_t)v;
}

static uint8_t pattern_byte(size_t i, int32_t seed)
{
	return (uint8_t)((i * 31 + (i >> 11) + (size_t)seed * 7) & 0xff);
}

/* A Produce v7 request (acks=1: answered) whose body after Acks and
 * TimeoutMs is `body` pattern bytes kgate never looks at. */
static uint8_t *produce_request(int32_t corr, size_t body, size_t *len)
{
	size_t head = 4 + 8 + 2 + 2 + 2 + 4;
	uint8_t *f = malloc(head + body), *p = f;

	ck_assert_ptr_nonnull(f);
	kbuf_put_i32(p, (int32_t)(head - 4 + body));
	put_i16(p + 4, 0);  /* Produce */
	put_i16(p + 6, 7);  /* v7 */
	kbuf_put_i32(p + 8, corr);
	put_i16(p + 12, 0); /* ClientId "" */
	put_i16(p + 14, -1); /* TransactionalId null */
	put_i16(p + 16, 1);  /* Acks */
	kbuf_put_i32(p + 18, 30000);
	for (size_t i = 0; i < body; i++)
		f[head + i] = pattern_byte(i, corr);
	*len = head + body;
	return f;
}

static void splice_handler(struct fake_broker *fb, int fd)
{
	struct splice_script *s = fb->ctx;
	struct fake_request req;

	while (fake_read_request(fd, &req) == 0) {
		size_t body = req.len > 18 ? req.len - 18 : 0, n = 4 + 4 + body * 2;
		uint8_t *resp;
		int ok = 1;

		atomic_fetch_add(&s->requests, 1);
		for (size_t i = 0; i < body && ok; i++)
			ok = req.frame[18 + i] == pattern_byte(i, req.correlation_id);
		if (body >= REQ_BODY)
			atomic_fetch_add(ok ? &s->checked : &s->bad, 1);
		/* Answer with twice the body: the client checks it. */
		resp = malloc(n);
		ck_assert_ptr_nonnull(resp);
		kbuf_put_i32(resp, (int32_t)(n - 4));
		kbuf_put_i32(resp + 4, req.correlation_id);
		for (size_t i = 0; i < body * 2; i++)
			resp[8 + i] = pattern_byte(i, -req.correlation_id);
		if (atomic_load(&s->mode) == LEAVE_MID_RESPONSE && body >= REQ_BODY)
			n = 8 + RESP_BODY / 4; /* a quarter of the frame, then gone */
		(void)fake_send(fd, resp, n, 0);
		free(resp);
		fake_request_free(&req);
		if (n == 8 + RESP_BODY / 4)
			return;
	}
}

/* A client connection: a socket, or TLS over it. */
struct conn {
	int fd;
	SSL *ssl;
};

static int conn_send(struct conn *c, const void *buf, size_t len)
{
	size_t done;

	if (!c->ssl)
		return raw_send(c->fd, buf, len);
	return SSL_write_ex(c->ssl, buf, len, &done) == 1 && done == len ? 0 : -1;
}

static int conn_recv(struct conn *c, void *buf, size_t len)
{
	size_t got = 0, n;

	if (!c->ssl)
		return raw_recv(c->fd, buf, len);
	while (got < len) {
		if (SSL_read_ex(c->ssl, (uint8_t *)buf + got, len - got, &n) != 1)
			return -1;
		got += n;
	}
	return 0;
}

/* Sends a request and reads its answer, checking every byte; the answer
 * is read after pause_ms. */
static void conn_round_trip(struct conn *c, int32_t corr, size_t body, int pause_ms)
{
	size_t len, want = body * 2;
	uint8_t *req = produce_request(corr, body, &len), hdr[8], *resp = malloc(want + 1);

	ck_assert_int_eq(conn_send(c, req, len), 0);
	if (pause_ms)
		usleep((useconds_t)pause_ms * 1000);
	ck_assert_int_eq(conn_recv(c, hdr, 8), 0);
	ck_assert_int_eq(kbuf_get_i32(hdr), (int32_t)(4 + want));
	ck_assert_int_eq(kbuf_get_i32(hdr + 4), corr);
	ck_assert_int_eq(conn_recv(c, resp, want), 0);
	for (size_t i = 0; i < want; i++)
		if (resp[i] != pattern_byte(i, -corr))
			ck_abort_msg("response %d: byte %zu wrong", corr, i);
	free(req);
	free(resp);
}

static void round_trip(int fd, int32_t corr, size_t body)
{
	struct conn c = {.fd = fd};

	conn_round_trip(&c, corr, body, 0);
}

START_TEST(test_large_frames_spliced_intact)
{
	struct splice_script s = {.mode = ECHO_CHECKED};
	struct fake_broker fb;
	struct kgate kg;
	unsigned long long spliced;
	int fd;

	fake_broker_start(&fb, splice_handler, &s);
	kgate_start_static(&kg, 1, fb.port, NULL);
	fd = raw_connect(kg.bootstrap_port);
	for (int i = 1; i <= ROUNDS; i++) {
		round_trip(fd, i * 2, REQ_BODY);
		round_trip(fd, i * 2 + 1, 100); /* a small one between */
	}
	ck_assert_int_eq(atomic_load(&s.checked), ROUNDS);
	ck_assert_int_eq(atomic_load(&s.bad), 0);
	/* Each large frame is longer than one read (256 KiB) by far more than
	 * the least worth a splice: most of it was spliced, both ways. */
	spliced = kgate_counter_now(&kg, "bytes_spliced");
	fprintf(stderr, "0016: %llu of %u large-frame bytes spliced\n", spliced,
		ROUNDS * (REQ_BODY + RESP_BODY));
	ck_assert_uint_ge(spliced, (unsigned long long)ROUNDS * (REQ_BODY + RESP_BODY) / 2);
	close(fd);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "protocol_errors=0"));
	fake_broker_stop(&fb);
}
END_TEST

START_TEST(test_client_leaves_mid_splice)
{
	struct splice_script s = {.mode = ECHO_CHECKED};
	struct fake_broker fb;
	struct kgate kg;
	size_t len;
	uint8_t *req;
	int fd;

	fake_broker_start(&fb, splice_handler, &s);
	kgate_start_static(&kg, 1, fb.port, NULL);
	fd = raw_connect(kg.bootstrap_port);
	req = produce_request(5, REQ_BODY, &len);
	ck_assert_int_eq(raw_send(fd, req, len / 2), 0);
	free(req);
	/* Leave once the splice is under way (the first read takes at most
	 * 256 KiB of the half sent). */
	for (int64_t deadline = harness_now_ms() + 20000; kgate_counter_now(&kg, "bytes_spliced") == 0;)
		ck_assert_msg(harness_now_ms() < deadline, "nothing spliced");
	close(fd);
	ck_assert(kgate_wait_counter(&kg, " connections_open=0 ", 20000));
	/* The broker never got a whole request; kgate goes on serving. */
	fd = raw_connect(kg.bootstrap_port);
	round_trip(fd, 7, REQ_BODY);
	close(fd);
	ck_assert_int_eq(atomic_load(&s.checked), 1);
	ck_assert_int_eq(atomic_load(&s.bad), 0);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	fake_broker_stop(&fb);
}
END_TEST

START_TEST(test_broker_leaves_mid_splice)
{
	struct splice_script s = {.mode = LEAVE_MID_RESPONSE};
	struct fake_broker fb;
	struct kgate kg;
	size_t len, got = 0;
	uint8_t *req, buf[65536];
	ssize_t r;
	int fd;

	fake_broker_start(&fb, splice_handler, &s);
	kgate_start_static(&kg, 1, fb.port, NULL);
	fd = raw_connect(kg.bootstrap_port);
	req = produce_request(9, REQ_BODY, &len);
	ck_assert_int_eq(raw_send(fd, req, len), 0);
	free(req);
	/* The client gets the quarter the broker sent, then the close. */
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		got += (size_t)r;
	ck_assert_uint_eq(got, 8 + RESP_BODY / 4);
	close(fd);
	atomic_store(&s.mode, ECHO_CHECKED);
	fd = raw_connect(kg.bootstrap_port);
	round_trip(fd, 11, REQ_BODY);
	close(fd);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	fake_broker_stop(&fb);
}
END_TEST

/* kgate with a TLS bootstrap listener in front of the scripted broker. */
static void start_tls_gateway(struct kgate *kg, int upstream_port)
{
	char cfg[2048];

	kgate_plan(kg, 1);
	snprintf(cfg, sizeof(cfg),
		 "{ \"bootstrap\": { \"listen\": \"%s\", \"upstream\": [\"127.0.0.1:%d\"] },\n"
		 "  \"brokers\": [ { \"id\": 1, \"listen\": \"%s\", \"advertise\": \"%s\" } ],\n"
		 "  \"limits\": { \"max_frame_bytes\": 300000000 },\n"
		 "  \"tls\": { \"listen\": { \"cert\": \"%s\", \"key\": \"%s\" } } }\n",
		 kg->bootstrap, upstream_port, kg->broker_addr[0], kg->broker_addr[0],
		 cert_path(0, "gateway.pem"), cert_path(1, "gateway.key"));
	kgate_start(kg, cfg);
}

/* A TLS connection to kgate's bootstrap listener, handshake done. */
static void tls_open(struct conn *c, SSL_CTX *ctx, const struct kgate *kg)
{
	c->fd = raw_connect(kg->bootstrap_port);
	c->ssl = SSL_new(ctx);
	ck_assert_ptr_nonnull(c->ssl);
	SSL_set_fd(c->ssl, c->fd);
	ck_assert_msg(SSL_connect(c->ssl) == 1, "TLS handshake with kgate failed");
}

static void conn_close(struct conn *c)
{
	SSL_free(c->ssl);
	close(c->fd);
}

START_TEST(test_tls_client_large_frames_intact)
{
	struct splice_script s = {.mode = ECHO_CHECKED};
	struct fake_broker fb;
	struct kgate kg;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	struct conn c;

	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(SSL_CTX_load_verify_locations(ctx, cert_path(2, "ca.pem"), NULL), 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	fake_broker_start(&fb, splice_handler, &s);
	start_tls_gateway(&kg, fb.port);
	for (int conn_no = 0; conn_no < 3; conn_no++) {
		tls_open(&c, ctx, &kg);
		/* Requests right behind the handshake, large and small. */
		for (int i = 1; i <= 3; i++) {
			conn_round_trip(&c, conn_no * 100 + i * 2, REQ_BODY, 0);
			conn_round_trip(&c, conn_no * 100 + i * 2 + 1, 100, 0);
		}
		/* 16 MiB back that the client leaves unread for a second. */
		conn_round_trip(&c, conn_no * 100 + 99, 8u << 20, 1000);
		conn_close(&c);
	}
	ck_assert_int_eq(atomic_load(&s.checked), 3 * 4);
	ck_assert_int_eq(atomic_load(&s.bad), 0);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "protocol_errors=0"));
	ck_assert(kgate_log_contains(&kg, "tls_failures=0"));
	SSL_CTX_free(ctx);
	fake_broker_stop(&fb);
}
END_TEST

/* A 64 MiB answer to a TLS client that reads nothing for 2 s: kgate
 * encrypts only as far as the socket takes it and stops reading the broker
 * meanwhile, so it never holds the answer (it would be all of it, as
 * ciphertext, if encrypting ignored back-pressure). */
START_TEST(test_tls_slow_client_held_back)
{
	struct splice_script s = {.mode = ECHO_CHECKED};
	struct fake_broker fb;
	struct kgate kg;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	struct conn c;
	long before, peak;

	ck_assert_ptr_nonnull(ctx);
	fake_broker_start(&fb, splice_handler, &s);
	start_tls_gateway(&kg, fb.port);
	before = kgate_rss_kib(&kg, 1);
	tls_open(&c, ctx, &kg);
	conn_round_trip(&c, 77, 32u << 20, 2000);
	ck_assert_int_eq(atomic_load(&s.checked), 1);
	peak = kgate_rss_kib(&kg, 1);
	fprintf(stderr, "0016: 64 MiB to a TLS client that waits: kgate peak RSS %ld KiB, %ld more "
			"than before\n", peak, peak - before);
	ck_assert_int_lt(peak - before, 32 * 1024);
	conn_close(&c);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	SSL_CTX_free(ctx);
	fake_broker_stop(&fb);
}
END_TEST

TCase *tcase_0016_large_frames(void)
{
	TCase *tc = tcase_create("0016 large frames");

	tcase_add_test(tc, test_large_frames_spliced_intact);
	tcase_add_test(tc, test_client_leaves_mid_splice);
	tcase_add_test(tc, test_broker_leaves_mid_splice);
	tcase_add_test(tc, test_tls_client_large_frames_intact);
	tcase_add_test(tc, test_tls_slow_client_held_back);
	tcase_set_timeout(tc, 300);
	return tc;
}
