/* 0012_drain.c — stopping kgate under traffic without losing anything:
 * SIGTERM while an idempotent producer has thousands of messages in flight,
 * then kgate started again on the same ports (a rolling restart of one
 * replica); every message arrives exactly once.  A second signal stops at
 * once; limits.drain_timeout_ms bounds a drain that cannot finish.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../protocol/kbuf.h"
#include "../lib/clients.h"
#include "itests.h"

#define TOPIC "drain"
#define PARTITIONS 6
#define MESSAGES 60000

/* The number printed before `what` in kgate's log ("... 12 requests in
 * flight"), or -1. */
static long logged_number(const struct kgate *k, const char *what)
{
	FILE *f = fopen(k->log_path, "r");
	char line[2048];
	long n = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, what);

		if (!p)
			continue;
		while (p > line && p[-1] == ' ')
			p--;
		while (p > line && p[-1] >= '0' && p[-1] <= '9')
			p--;
		n = strtol(p, NULL, 10);
	}
	fclose(f);
	return n;
}

START_TEST(test_restart_under_traffic_loses_nothing)
{
	struct broker_view view;
	struct delivery d;
	struct mock m;
	struct kgate k;
	rd_kafka_t *rk, *consumer;
	char *cfg;

	mock_start(&m, 3);
	ck_assert_int_eq(rd_kafka_mock_topic_create(m.mc, TOPIC, PARTITIONS, 3), 0);
	kgate_plan(&k, 3);
	cfg = kgate_config_for_mock(&k, &m, 0, "\"limits\": { \"drain_timeout_ms\": 10000 }");
	kgate_start(&k, cfg);
	view_init(&view);
	rk = producer_new(k.bootstrap, &view, &d);
	produce_ids(rk, TOPIC, 0, 1000);
	wait_deliveries(rk, &d, 1000, 60);
	/* Thousands queued and in flight when the drain begins. */
	produce_ids(rk, TOPIC, 1000, MESSAGES);
	ck_assert_int_eq(kgate_stop(&k), 0);
	fprintf(stderr, "0012: at SIGTERM %ld requests in flight; drained in %ld ms; %" PRId64
			" of %d delivered then\n",
		logged_number(&k, "requests in flight"), logged_number(&k, "ms\n"),
		(int64_t)d.delivered, MESSAGES);
	ck_assert(kgate_log_contains(&k, "drained: every connection closed between requests"));
	/* The replica comes back on the same ports; the producer carries on. */
	kgate_start(&k, cfg);
	wait_deliveries(rk, &d, MESSAGES, 120);
	fprintf(stderr, "0012: after the restart: %" PRId64 " delivered, %" PRId64
			" failed (last error: %s)\n",
		(int64_t)d.delivered, (int64_t)d.failed, d.failed ? d.last_error : "none");
	ck_assert_int_eq(d.failed, 0);
	ck_assert_int_eq(d.delivered, MESSAGES);
	rd_kafka_destroy(rk);
	consumer = consumer_from_start(k.bootstrap, NULL, TOPIC, PARTITIONS);
	consume_exactly_once(consumer, MESSAGES, 120);
	consumer_destroy(consumer);
	ck_assert_int_eq(kgate_stop(&k), 0);
	free(cfg);
	mock_stop(&m);
}
END_TEST

/* An ApiVersions request whose answer the mock delays by rtt_ms, held in
 * flight through kgate; returns the client socket. */
static int request_in_flight(struct mock *m, const struct kgate *k, int rtt_ms)
{
	static const uint8_t req[] = {0, 0, 0, 11, 0, 18, 0, 0, 0, 0, 0, 7, 0, 1, 'c'};
	int fd;
	int64_t deadline;

	for (int id = 1; id <= m->n_brokers; id++)
		ck_assert_int_eq(rd_kafka_mock_broker_set_rtt(m->mc, id, rtt_ms), 0);
	fd = raw_connect(k->bootstrap_port);
	ck_assert_int_eq(raw_send(fd, req, sizeof(req)), 0);
	/* Forwarded once kgate's counters say so (SIGUSR1 logs them). */
	deadline = harness_now_ms() + 10000;
	while (!kgate_log_contains(k, " requests=1 ")) {
		ck_assert_msg(harness_now_ms() < deadline, "the request was not forwarded");
		kill(k->pid, SIGUSR1);
		usleep(20000);
	}
	return fd;
}

/* kgate on a one-broker mock, draining (for up to a minute) with a
 * request whose answer comes in 30 s; returns that client's socket. */
static int draining_with_request(struct mock *m, struct kgate *k)
{
	char *cfg;
	int fd;

	mock_start(m, 1);
	kgate_plan(k, 1);
	cfg = kgate_config_for_mock(k, m, 1, "\"limits\": { \"drain_timeout_ms\": 60000 }");
	kgate_start(k, cfg);
	free(cfg);
	fd = request_in_flight(m, k, 30000);
	ck_assert_int_eq(kill(k->pid, SIGTERM), 0);
	ck_assert(kgate_wait_log(k, "draining:", 1, 10000));
	return fd;
}

START_TEST(test_second_signal_and_drain_timeout)
{
	struct mock m;
	struct kgate k;
	char *cfg;
	int fd;

	/* A drain that would wait 30 s for an answer ... */
	fd = draining_with_request(&m, &k);
	ck_assert(kgate_log_contains(&k, "1 requests in flight"));
	/* ... stops at once on a second signal. */
	ck_assert_int_eq(kill(k.pid, SIGTERM), 0);
	ck_assert_int_eq(kgate_wait_exit(&k, 0, 20000), 0);
	ck_assert(kgate_log_contains(&k, "received SIGTERM again: stopping now"));
	/* Stopped, not drained: the log must not say otherwise. */
	ck_assert(!kgate_log_contains(&k, "drained:"));
	close(fd);

	/* A drain that cannot finish stops after limits.drain_timeout_ms. */
	kgate_plan(&k, 1);
	cfg = kgate_config_for_mock(&k, &m, 1, "\"limits\": { \"drain_timeout_ms\": 500 }");
	kgate_start(&k, cfg);
	free(cfg);
	fd = request_in_flight(&m, &k, 30000);
	ck_assert_int_eq(kill(k.pid, SIGTERM), 0);
	ck_assert_int_eq(kgate_wait_exit(&k, 0, 20000), 0);
	ck_assert(kgate_log_contains(&k, "drain took limits.drain_timeout_ms (500 ms)"));
	ck_assert(!kgate_log_contains(&k, "drained:"));
	close(fd);
	mock_stop(&m);
}
END_TEST

/* A client that sends another request during the drain (held: it would
 * not be answered before the stop) and then hangs up: kgate notices once,
 * closes it, and stops — rather than hearing the hangup on every loop pass
 * until the broker answers (30 s here). */
START_TEST(test_client_hangs_up_while_held)
{
	static const uint8_t again[] = {0, 0, 0, 11, 0, 18, 0, 0, 0, 0, 0, 8, 0, 1, 'c'};
	struct mock m;
	struct kgate k;
	int fd = draining_with_request(&m, &k);

	ck_assert_int_eq(raw_send(fd, again, sizeof(again)), 0);
	close(fd);
	ck_assert_int_eq(kgate_wait_exit(&k, 0, 20000), 0);
	ck_assert_int_eq(kgate_log_count(&k, "client hung up while kgate was not reading it"), 1);
	mock_stop(&m);
}
END_TEST

TCase *tcase_0012_drain(void)
{
	TCase *tc = tcase_create("0012 drain");

	tcase_add_test(tc, test_restart_under_traffic_loses_nothing);
	tcase_add_test(tc, test_second_signal_and_drain_timeout);
	tcase_add_test(tc, test_client_hangs_up_while_held);
	tcase_set_timeout(tc, 300);
	return tc;
}
