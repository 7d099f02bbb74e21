/* bench_metadata.c — how long one large Metadata answer holds kgate's event
 * loop.  A scripted broker answers Metadata v12 listing N brokers (100 to
 * 200,000, with MSK-style names); a raw client asks through kgate, which
 * learns every address and rewrites the ones it fronts.  The time through
 * kgate less the time direct is the loop's: every other client waits that
 * long.  Also what the default limits.max_brokers does with the largest.
 * Prints numbers; asserts nothing about them.  KGATE_BENCH_LIMITS replaces
 * the limits block and KGATE_BENCH_UP_TO stops at that many brokers (to
 * compare with a kgate that has no limits.max_brokers, and takes longer).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../protocol/kbuf.h"
#include "../lib/fake_broker.h"
#include "../lib/harness.h"

#define ROUNDS 5

static struct kwbuf response;

/* Metadata v12: header tags, throttle, N brokers, cluster id, controller,
 * no topics, tags. */
static void build_response(int32_t n)
{
	char host[96];
	size_t off;

	kw_init(&response);
	off = kw_reserve_i32(&response);
	kw_i32(&response, 0);
	kw_uvarint(&response, 0);
	kw_i32(&response, 0);
	kw_array_len(&response, 1, n);
	for (int32_t i = 1; i <= n; i++) {
		int len = snprintf(host, sizeof(host),
				   "b-%d.mycluster.abc123.c2.kafka.us-east-1.amazonaws.com", i);

		kw_i32(&response, i);
		kw_string(&response, 1, host, len);
		kw_i32(&response, 9094);
		kw_string(&response, 1, "use1-az1", 8);
		kw_uvarint(&response, 0);
	}
	kw_string(&response, 1, "cluster", 7);
	kw_i32(&response, 1);
	kw_array_len(&response, 1, 0);
	kw_uvarint(&response, 0);
	kw_patch_i32(&response, off, (int32_t)(response.len - 4));
}

static void serve(struct fake_broker *fb, int fd)
{
	struct fake_request req;

	(void)fb;
	while (fake_read_request(fd, &req) == 0) {
		kbuf_put_i32(response.buf + 4, req.correlation_id);
		fake_request_free(&req);
		if (fake_send(fd, response.buf, response.len, 0) < 0)
			break;
	}
}

/* One Metadata v12 round trip; ms until the whole answer is in, or -1 if
 * the connection closed first (kgate refused the answer). */
static double ask(int fd, int32_t corr)
{
	/* Metadata v12: header v2 (client id "b", no tags), no topics,
	 * AllowAutoTopicCreation, IncludeTopicAuthorizedOperations, tags. */
	uint8_t req[] = {0, 0, 0, 17, 0, 3, 0, 12, 0, 0, 0, 0, 0, 1, 'b', 0, 1, 0, 0, 0, 0};
	static uint8_t buf[1 << 20];
	size_t got = 0, want = 0;
	int64_t t0 = harness_now_ms();

	kbuf_put_i32(req + 8, corr);
	raw_send(fd, req, sizeof(req));
	do {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n <= 0)
			return -1;
		if (!want)
			want = (size_t)kbuf_get_i32(buf) + 4;
		got += (size_t)n;
	} while (got < want);
	return (double)(harness_now_ms() - t0);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of ROUNDS asks after a first one (which also learns). */
static void measure(int port, double *first, double *median)
{
	double t[ROUNDS];
	int fd = raw_connect(port);

	*first = ask(fd, 0);
	for (int i = 0; i < ROUNDS; i++)
		t[i] = ask(fd, i + 1);
	close(fd);
	qsort(t, ROUNDS, sizeof(double), cmp);
	*median = t[ROUNDS / 2];
}

START_TEST(bench_metadata_brokers)
{
	static const int32_t sizes[] = {100, 1000, 10000, 40000, 200000};
	const char *limits = getenv("KGATE_BENCH_LIMITS");
	const char *up_to = getenv("KGATE_BENCH_UP_TO");
	struct fake_broker fb;
	struct kgate kg;

	if (!limits)
		limits = "{\"max_brokers\": 1000000, \"max_frame_bytes\": 104857600}";
	printf("Metadata v12 listing N brokers, through kgate (which learns them all and "
	       "rewrites the 2 it fronts) less direct: the time kgate's loop is held\n");
	printf("%8s %9s %13s %13s %15s %12s\n", "brokers", "MB", "first ms", "then ms",
	       "loop ms (then)", "loop ms/MB");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		double d_first, d_med, k_first, k_med, mb;

		if (up_to && sizes[i] > atoi(up_to))
			break;
		build_response(sizes[i]);
		mb = (double)response.len / (1 << 20);
		fake_broker_start(&fb, serve, NULL);
		kgate_start_static(&kg, 2, fb.port, limits);
		measure(fb.port, &d_first, &d_med);
		measure(kg.bootstrap_port, &k_first, &k_med);
		printf("%8d %9.2f %6.0f (%4.0f) %6.0f (%4.0f) %15.0f %12.1f\n", sizes[i], mb, k_first,
		       d_first, k_med, d_med, k_med - d_med, (k_med - d_med) / mb);
		ck_assert_int_eq(kgate_stop(&kg), 0);
		fake_broker_stop(&fb);
		if (sizes[i] == 200000) {
			/* The default bound refuses it instead of processing it. */
			int64_t t0;
			int fd;

			fake_broker_start(&fb, serve, NULL);
			kgate_start_static(&kg, 2, fb.port, NULL);
			fd = raw_connect(kg.bootstrap_port);
			t0 = harness_now_ms();
			k_first = ask(fd, 0);
			printf("with the default limits.max_brokers (10000): %s after %lld ms\n",
			       k_first < 0 ? "refused, connection closed" : "answered",
			       (long long)(harness_now_ms() - t0));
			close(fd);
			ck_assert_int_eq(kgate_stop(&kg), 0);
			ck_assert(kgate_log_contains(&kg, "(limits.max_brokers): refused"));
			fake_broker_stop(&fb);
		}
		kw_free(&response);
	}
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("metadata");

	tcase_add_test(tc, bench_metadata_brokers);
	tcase_set_timeout(tc, 600);
	return harness_run_case(tc) ? 1 : 0;
}
