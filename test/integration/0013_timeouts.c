/* 0013_timeouts.c — clients that hold kgate without using it: a silent
 * one (limits.idle_timeout_ms), one that starts a request and never
 * finishes it (limits.frame_timeout_ms, slowloris), and one that hangs up
 * while kgate is not reading it because its broker is slow; and a client
 * held up by back-pressure, which no timeout may blame.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
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

/* ApiVersions v0, 15 bytes. */
static const uint8_t api_versions[] = {0, 0, 0, 11, 0, 18, 0, 0, 0, 0, 0, 7, 0, 1, 'c'};

START_TEST(test_idle_and_unfinished_requests_are_closed)
{
	static const uint8_t begun[] = {0, 0, 0, 30, 0, 18, 0}; /* 7 of 34 bytes */
	struct fake_broker fb;
	struct kgate kg;
	int idle, slow;

	fake_broker_start(&fb, swallow, NULL);
	/* The idle timeout well above the frame timeout: a stall of this
	 * thread between connecting and sending must not make `slow` idle. */
	kgate_start_static(&kg, 1, fb.port,
			   "{ \"idle_timeout_ms\": 5000, \"frame_timeout_ms\": 300 }");
	idle = raw_connect(kg.bootstrap_port);
	slow = raw_connect(kg.bootstrap_port);
	ck_assert_int_eq(raw_send(slow, begun, sizeof(begun)), 0);
	ck_assert_msg(raw_wait_closed(slow, 20000), "a begun request held its connection");
	ck_assert_msg(raw_wait_closed(idle, 20000), "a silent client held its connection");
	close(idle);
	close(slow);
	ck_assert(kgate_wait_counter(&kg, "timeouts=2 ", 20000));
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "(limits.frame_timeout_ms)"));
	ck_assert(kgate_log_contains(&kg, "(limits.idle_timeout_ms)"));
	fake_broker_stop(&fb);
}
END_TEST

/* A client that streams requests back to back for three times
 * limits.frame_timeout_ms, no read of kgate's ending on a request boundary
 * (a producer held back by its own link): each request is timed on its
 * own, so none of them is "not complete", however long the stream.  (Each
 * takes 100 ms; the timeout leaves this thread 2 s of stalls.) */
START_TEST(test_streaming_client_is_not_slow)
{
	enum { REQUESTS = 80, LEN = sizeof(api_versions), FIRST = 7 };
	uint8_t stream[REQUESTS * LEN];
	struct fake_broker fb;
	struct kgate kg;
	char counter[32];
	int fd, one = 1;

	for (int i = 0; i < REQUESTS; i++)
		memcpy(stream + i * LEN, api_versions, LEN);
	fake_broker_start(&fb, swallow, NULL);
	kgate_start_static(&kg, 1, fb.port, "{ \"frame_timeout_ms\": 2500 }");
	fd = raw_connect(kg.bootstrap_port);
	ck_assert_int_eq(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	/* 7 bytes, then 15 at a time every 100 ms: each piece ends 7 bytes
	 * into a request; 81 pieces, about 8 s. */
	for (size_t off = 0; off < sizeof(stream);) {
		size_t n = off == 0 ? FIRST : LEN;

		if (n > sizeof(stream) - off)
			n = sizeof(stream) - off;
		ck_assert_msg(raw_send(fd, stream + off, n) == 0,
			      "kgate closed a client whose every request came in 100 ms");
		off += n;
		usleep(100000);
	}
	snprintf(counter, sizeof(counter), "requests=%d ", REQUESTS);
	ck_assert(kgate_wait_counter(&kg, counter, 10000));
	ck_assert(!raw_wait_closed(fd, 200));
	close(fd);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(!kgate_log_contains(&kg, "(limits.frame_timeout_ms)"));
	fake_broker_stop(&fb);
}
END_TEST

/* A request that awaits its answer is not idleness: the broker may hold a
 * JoinGroup or a Fetch for long, and the client times it out itself.  A
 * silent client connected later is the witness that the idle sweep ran. */
START_TEST(test_request_awaiting_answer_is_not_idle)
{
	struct fake_broker fb;
	struct kgate kg;
	int waiting, idle;

	fake_broker_start(&fb, swallow, NULL);
	kgate_start_static(&kg, 1, fb.port, "{ \"idle_timeout_ms\": 1000 }");
	waiting = raw_connect(kg.bootstrap_port);
	ck_assert_int_eq(raw_send(waiting, api_versions, sizeof(api_versions)), 0);
	ck_assert(kgate_wait_counter(&kg, "requests=1 ", 10000));
	idle = raw_connect(kg.bootstrap_port);
	ck_assert_msg(raw_wait_closed(idle, 10000), "a silent client held its connection");
	/* The waiting client has been quiet longer still, and stays. */
	ck_assert_msg(!raw_wait_closed(waiting, 500),
		      "a client awaiting an answer was closed as idle");
	close(idle);
	close(waiting);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert_int_eq(kgate_log_count(&kg, "(limits.idle_timeout_ms)"), 1);
	fake_broker_stop(&fb);
}
END_TEST

/* Pieces small enough that kgate's receive window always has room for one. */
#define PIECE (16 * 1024)

/* Whether everything sent on fd has been acknowledged, within 10 s.  On
 * loopback that takes microseconds: the request must go on quickly, or
 * kgate rightly times it out (limits.frame_timeout_ms). */
static int wait_delivered(int fd)
{
	for (int i = 0; i < 200000; i++) {
		int unacked = -1;

		if (ioctl(fd, SIOCOUTQ, &unacked) == 0 && unacked == 0)
			return 1;
		usleep(50);
	}
	return 0;
}

/* Bytes waiting in the receive queue of kgate's end of fd's connection
 * (kgate listens on port); -1 if it is not there.  One socket looked up by
 * the kernel (sock_diag): /proc/net/tcp would list every connection the
 * earlier scenarios left in TIME_WAIT, thousands after the soak, and
 * reading it per piece would outlast the frame timeout. */
static long kgate_rx_queue(int port, int fd)
{
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} q = {
		.nlh = {.nlmsg_len = sizeof(q), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST},
		.req = {.sdiag_family = AF_INET, .sdiag_protocol = IPPROTO_TCP,
			.idiag_states = ~0u},
	};
	union {
		struct nlmsghdr nlh;
		char bytes[8192];
	} a;
	const struct inet_diag_msg *m;
	long rx = -1;
	ssize_t n;
	int nl;

	if (getsockname(fd, (struct sockaddr *)&me, &len) < 0)
		return -1;
	q.req.id.idiag_sport = htons((uint16_t)port);
	q.req.id.idiag_dport = me.sin_port;
	q.req.id.idiag_src[0] = me.sin_addr.s_addr; /* both ends are loopback */
	q.req.id.idiag_dst[0] = me.sin_addr.s_addr;
	q.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	q.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return -1;
	if (send(nl, &q, sizeof(q), 0) == (ssize_t)sizeof(q) &&
	    (n = recv(nl, &a, sizeof(a), 0)) >= (ssize_t)NLMSG_LENGTH(sizeof(*m)) &&
	    a.nlh.nlmsg_type == SOCK_DIAG_BY_FAMILY) {
		m = NLMSG_DATA(&a.nlh);
		rx = (long)m->idiag_rqueue;
	}
	close(nl);
	return rx;
}

/* Whether kgate leaves bytes unread for 3 s: it has stopped reading (a busy
 * kgate on a loaded machine reads them sooner or later). */
static int kgate_left_unread(int port, int fd)
{
	int64_t deadline = harness_now_ms() + 3000;

	while (harness_now_ms() < deadline) {
		if (kgate_rx_queue(port, fd) <= 0)
			return 0;
		usleep(100);
	}
	return 1;
}

/* 32 MiB sent towards a broker that never reads: kgate stops reading the
 * client (back-pressure) in the middle of a request, which is not the
 * client's doing; then the client hangs up, and kgate lets go of both
 * connections instead of waiting on the broker for ever. */
START_TEST(test_back_pressure_then_hangup)
{
	const size_t len = 32u << 20;
	uint8_t *req = calloc(1, len);
	struct fake_broker fb;
	struct kgate kg;
	int fd;

	fake_broker_start(&fb, stall, NULL);
	/* The fill below (a few MiB of socket buffers, piece by piece) must
	 * fit in the frame timeout: until kgate pauses, the request is the
	 * client's to finish. */
	kgate_start_static(&kg, 1, fb.port, "{ \"frame_timeout_ms\": 5000 }");
	fd = raw_connect(kg.bootstrap_port);
	/* Produce v7, acks=0: size, header, then bytes kgate never examines. */
	kbuf_put_i32(req, (int32_t)(len - 4));
	req[7] = 7;
	req[14] = 0xff;
	req[15] = 0xff;
	/* In small pieces, each one delivered (acknowledged, nothing left in
	 * this socket's send queue) before the next, until kgate leaves one
	 * unread in its receive queue: it has paused reading this client.
	 * Everything sent has then arrived, so the hangup's FIN is not stuck
	 * behind unsent bytes (TCP sends it after them: a client that hangs
	 * up with data kgate has not let in cannot be seen to). */
	size_t off = 0;
	int paused = 0;

	while (off < len && !paused) {
		size_t piece = len - off < PIECE ? len - off : PIECE;

		ck_assert_int_eq(send(fd, req + off, piece, MSG_NOSIGNAL), (ssize_t)piece);
		off += piece;
		ck_assert_msg(wait_delivered(fd), "kgate's window closed before it paused");
		paused = kgate_left_unread(kg.bootstrap_port, fd);
	}
	ck_assert_msg(paused, "kgate read all %zu bytes: it never pushed back", len);
	/* Sweeps past the frame timeout later, not one timeout: the wait
	 * was the broker's. */
	for (int sweeps = 0; sweeps < 7; sweeps++)
		sleep(1);
	ck_assert(kgate_wait_counter(&kg, "timeouts=0 ", 20000));
	close(fd);
	ck_assert(kgate_wait_log(&kg, "client hung up while kgate was not reading it", 1, 10000));
	ck_assert(kgate_wait_log(&kg, "closed:", 1, 20000));
	ck_assert(kgate_wait_counter(&kg, "connections_open=0 ", 20000));
	ck_assert_int_eq(kgate_stop(&kg), 0);
	free(req);
	fake_broker_stop(&fb);
}
END_TEST

TCase *tcase_0013_timeouts(void)
{
	TCase *tc = tcase_create("0013 timeouts");

	tcase_add_test(tc, test_idle_and_unfinished_requests_are_closed);
	tcase_add_test(tc, test_streaming_client_is_not_slow);
	tcase_add_test(tc, test_request_awaiting_answer_is_not_idle);
	tcase_add_test(tc, test_back_pressure_then_hangup);
	tcase_set_timeout(tc, 120);
	return tc;
}
