/* 0016_splice.c — large frames between plaintext sides go socket to socket
 * (splice(2)): a scripted broker checks every byte of 1 MiB requests and
 * answers 2 MiB responses the client checks in turn, several back to back
 * on one connection and interleaved with small ones, so splices start and
 * end at frame boundaries both ways; kgate's counters show the bytes were
 * spliced.  Then a client and a broker that leave in the middle of a
 * spliced frame: kgate closes that pair and goes on serving.
 */
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

/* Sends a request and reads its answer, checking every byte. */
static void round_trip(int fd, int32_t corr, size_t body)
{
	size_t len, want = body * 2;
	uint8_t *req = produce_request(corr, body, &len), hdr[8], *resp = malloc(want + 1);

	ck_assert_int_eq(raw_send(fd, req, len), 0);
	ck_assert_int_eq(raw_recv(fd, hdr, 8), 0);
	ck_assert_int_eq(kbuf_get_i32(hdr), (int32_t)(4 + want));
	ck_assert_int_eq(kbuf_get_i32(hdr + 4), corr);
	ck_assert_int_eq(raw_recv(fd, resp, want), 0);
	for (size_t i = 0; i < want; i++)
		if (resp[i] != pattern_byte(i, -corr))
			ck_abort_msg("response %d: byte %zu wrong", corr, i);
	free(req);
	free(resp);
}

/* kgate's bytes_spliced now (its stats line, asked for with SIGUSR1). */
static unsigned long long spliced_now(struct kgate *kg)
{
	int before = kgate_log_count(kg, "stats:");
	FILE *f;
	char line[4096];
	unsigned long long v = 0;

	kill(kg->pid, SIGUSR1);
	ck_assert(kgate_wait_log(kg, "stats:", before + 1, 10000));
	f = fopen(kg->log_path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		const char *at = strstr(line, " bytes_spliced=");

		if (at)
			v = strtoull(at + strlen(" bytes_spliced="), NULL, 10);
	}
	fclose(f);
	return v;
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
	spliced = spliced_now(&kg);
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
	for (int64_t deadline = harness_now_ms() + 20000; spliced_now(&kg) == 0;)
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

TCase *tcase_0016_splice(void)
{
	TCase *tc = tcase_create("0016 splice");

	tcase_add_test(tc, test_large_frames_spliced_intact);
	tcase_add_test(tc, test_client_leaves_mid_splice);
	tcase_add_test(tc, test_broker_leaves_mid_splice);
	tcase_set_timeout(tc, 120);
	return tc;
}
