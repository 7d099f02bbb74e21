/* 0013_timeouts.c — clients that hold kgate without using it: a silent
 * one (limits.idle_timeout_ms), one that starts a request and never
 * finishes it (limits.frame_timeout_ms, slowloris), and one that hangs up
 * while kgate is not reading it because its broker is slow; and a client
 * held up by back-pressure, which no timeout may blame.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../protocol/kbuf.h"
#include "../lib/fake_broker.h"
#include "../lib/harness.h"
#include "itests.h"

/* A broker that accepts and never reads: kgate's output to it fills. */
static void stall(struct fake_broker *fb, int fd)
{
	(void)fd;
	while (!fb->stop)
		usleep(10000);
}

/* A broker that reads and never answers. */
static void swallow(struct fake_broker *fb, int fd)
{
	char buf[65536];

	(void)fb;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* Sends SIGUSR1 until kgate's counters show `counter` (e.g. "timeouts=1 "). */
static int wait_counter(struct kgate *k, const char *counter)
{
	int64_t deadline = harness_now_ms() + 20000;

	while (!kgate_log_contains(k, counter)) {
		if (harness_now_ms() > deadline)
			return 0;
		kill(k->pid, SIGUSR1);
		usleep(50000);
	}
	return 1;
}

START_TEST(test_idle_and_unfinished_requests_are_closed)
{
	static const uint8_t begun[] = {0, 0, 0, 30, 0, 18, 0}; /* 7 of 34 bytes */
	struct fake_broker fb;
	struct kgate kg;
	int idle, slow;

	fake_broker_start(&fb, swallow, NULL);
	kgate_start_static(&kg, 1, fb.port,
			   "{ \"idle_timeout_ms\": 1000, \"frame_timeout_ms\": 300 }");
	idle = raw_connect(kg.bootstrap_port);
	slow = raw_connect(kg.bootstrap_port);
	ck_assert_int_eq(raw_send(slow, begun, sizeof(begun)), 0);
	ck_assert_msg(raw_wait_closed(slow, 10000), "a begun request held its connection");
	ck_assert_msg(raw_wait_closed(idle, 10000), "a silent client held its connection");
	close(idle);
	close(slow);
	ck_assert(wait_counter(&kg, "timeouts=2 "));
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "(limits.frame_timeout_ms)"));
	ck_assert(kgate_log_contains(&kg, "(limits.idle_timeout_ms)"));
	fake_broker_stop(&fb);
}
END_TEST

/* 8 MiB sent towards a broker that never reads: kgate stops reading the
 * client (back-pressure) in the middle of a request, which is not the
 * client's doing; then the client hangs up, and kgate lets go of both
 * connections instead of waiting on the broker for ever. */
START_TEST(test_back_pressure_then_hangup)
{
	const size_t len = 8u << 20;
	uint8_t *req = calloc(1, len);
	struct fake_broker fb;
	struct kgate kg;
	int fd;

	fake_broker_start(&fb, stall, NULL);
	kgate_start_static(&kg, 1, fb.port, "{ \"frame_timeout_ms\": 300 }");
	fd = raw_connect(kg.bootstrap_port);
	/* Produce v7, acks=0: size, header, then bytes kgate never examines. */
	kbuf_put_i32(req, (int32_t)(len - 4));
	req[7] = 7;
	req[14] = 0xff;
	req[15] = 0xff;
	/* Until it would block: kgate has stopped reading. */
	for (size_t off = 0; off < len;) {
		ssize_t n = send(fd, req + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	/* Several sweeps later, not one timeout: the wait was the broker's. */
	for (int sweeps = 0; sweeps < 3; sweeps++)
		sleep(1);
	ck_assert(wait_counter(&kg, "timeouts=0 "));
	close(fd);
	ck_assert(kgate_wait_log(&kg, "client hung up while kgate was not reading it", 1, 10000));
	ck_assert(kgate_wait_log(&kg, "closed:", 1, 20000));
	ck_assert(wait_counter(&kg, "connections_open=0 "));
	ck_assert_int_eq(kgate_stop(&kg), 0);
	free(req);
	fake_broker_stop(&fb);
}
END_TEST

TCase *tcase_0013_timeouts(void)
{
	TCase *tc = tcase_create("0013 timeouts");

	tcase_add_test(tc, test_idle_and_unfinished_requests_are_closed);
	tcase_add_test(tc, test_back_pressure_then_hangup);
	tcase_set_timeout(tc, 120);
	return tc;
}
