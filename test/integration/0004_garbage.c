/* 0004_garbage.c — clients that send garbage are disconnected, with a log
 * line that says what was wrong, while a real producer on the same gateway
 * carries on untouched.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../protocol/kbuf.h"
#include "../lib/clients.h"
#include "itests.h"

#define TOPIC "garbage"
#define MESSAGES 50000

struct garbage {
	const char *name;
	const uint8_t *bytes;
	size_t len;
	const char *log; /* what kgate must say about it */
};

static const uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff, 0, 3, 0, 1, 0, 0, 0, 1};
static const uint8_t negative[] = {0x80, 0, 0, 0, 0, 3, 0, 1, 0, 0, 0, 1};
static const uint8_t tiny[] = {0, 0, 0, 4, 0, 3, 0, 1, 0, 0, 0, 1};
/* The start of a TLS 1.2 ClientHello: what a TLS client sends first. */
static const uint8_t tls_hello[] = {0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00,
				    0xc4, 0x03, 0x03, 0x5a, 0x11, 0x22, 0x33, 0x44};
static const uint8_t describe_quorum_v2[] = {0, 0, 0, 10, 0, 55, 0, 2, 0, 0, 0, 9, 0, 0};
static const uint8_t metadata_v14[] = {0, 0, 0, 10, 0, 3, 0, 14, 0, 0, 0, 9, 0, 0};
static const uint8_t sasl_v2[] = {0, 0, 0, 10, 0, 17, 0, 2, 0, 0, 0, 9, 0, 0};
/* Produce v9 whose ClientId length is -5. */
static const uint8_t bad_produce[] = {0, 0, 0, 20, 0, 0, 0, 9, 0, 0, 0, 9, 0xff, 0xfb,
				      0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

static const struct garbage cases[] = {
	{"oversized frame", huge, sizeof(huge), "request size 2147483647 outside"},
	{"negative size", negative, sizeof(negative), "request size -2147483648 outside"},
	{"frame shorter than a header", tiny, sizeof(tiny), "request size 4 outside"},
	{"TLS to a plaintext listener", tls_hello, sizeof(tls_hello),
	 "client sent a TLS record to plaintext listener"},
	{"HTTP", (const uint8_t *)"GET / HTTP/1.1\r\nHost: kgate\r\n\r\n", 31,
	 "client sent an HTTP request"},
	{"controllers' DescribeQuorum", describe_quorum_v2, sizeof(describe_quorum_v2),
	 "refused DescribeQuorum v2 request"},
	{"version above cap", metadata_v14, sizeof(metadata_v14), "refused Metadata v14"},
	{"SaslHandshake v2", sasl_v2, sizeof(sasl_v2), "refused SaslHandshake v2"},
	{"malformed Produce header", bad_produce, sizeof(bad_produce),
	 "malformed Produce v9 request header"},
};

struct producer_run {
	const char *bootstrap;
	struct delivery d;
	struct broker_view view;
	const char *error;
};

static void *producer_thread(void *arg)
{
	struct producer_run *run = arg;
	rd_kafka_t *rk;

	view_init(&run->view);
	rk = producer_new(run->bootstrap, &run->view, &run->d);
	produce_ids(rk, TOPIC, 0, MESSAGES);
	wait_deliveries(rk, &run->d, MESSAGES, 120);
	view_refresh(rk, &run->view);
	rd_kafka_destroy(rk);
	return NULL;
}

/* A well-formed ApiVersions v0 request gets a well-formed answer. */
static void assert_serves(int port)
{
	static const uint8_t req[] = {0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 77, 0, 0};
	uint8_t hdr[10];
	int fd = raw_connect(port);

	ck_assert_int_eq(raw_send(fd, req, sizeof(req)), 0);
	ck_assert_int_eq(raw_recv(fd, hdr, sizeof(hdr)), 0);
	ck_assert_int_eq(kbuf_get_i32(hdr + 4), 77);     /* CorrelationId */
	ck_assert_int_eq(kbuf_get_i16(hdr + 8), 0);      /* ErrorCode */
	close(fd);
}

START_TEST(test_garbage_clients_disconnected_others_continue)
{
	struct mock mock;
	struct kgate kg;
	struct producer_run run = {0};
	pthread_t t;
	unsigned seed = 4242;
	uint8_t noise[2000];

	fixture_start(&mock, &kg, 3, 3, TOPIC, 3, 0);
	run.bootstrap = kg.bootstrap;
	ck_assert_int_eq(pthread_create(&t, NULL, producer_thread, &run), 0);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* Alternate between the bootstrap and a broker listener. */
		int port = i % 2 ? kg.broker_port[i % 3] : kg.bootstrap_port;
		int fd = raw_connect(port);

		ck_assert_int_eq(raw_send(fd, cases[i].bytes, cases[i].len), 0);
		ck_assert_msg(raw_wait_closed(fd, 20000), "%s: still connected", cases[i].name);
		close(fd);
	}
	/* Random bytes, and a client that leaves in the middle of a frame. */
	for (size_t i = 0; i < sizeof(noise); i++)
		noise[i] = (uint8_t)rand_r(&seed);
	{
		int fd = raw_connect(kg.bootstrap_port);
		static const uint8_t partial[] = {0, 0, 3, 0xe8, 0, 3, 0, 1, 0, 0, 0, 5, 0, 0, 1, 2};

		ck_assert_int_eq(raw_send(fd, noise, sizeof(noise)), 0);
		ck_assert(raw_wait_closed(fd, 20000));
		close(fd);
		fd = raw_connect(kg.broker_port[0]);
		ck_assert_int_eq(raw_send(fd, partial, sizeof(partial)), 0);
		close(fd);
	}

	pthread_join(t, NULL);
	ck_assert_int_eq(atomic_load(&run.d.delivered), MESSAGES);
	view_assert_gateway_only(&run.view, &kg);
	assert_serves(kg.bootstrap_port);
	assert_serves(kg.broker_port[2]);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(kgate_log_contains(&kg, cases[i].log), "%s: no log line \"%s\"",
			      cases[i].name, cases[i].log);
	mock_stop(&mock);
}
END_TEST

TCase *tcase_0004_garbage(void)
{
	TCase *tc = tcase_create("0004 garbage");

	tcase_add_test(tc, test_garbage_clients_disconnected_others_continue);
	tcase_set_timeout(tc, 300);
	return tc;
}
