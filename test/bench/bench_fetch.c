/* bench_fetch.c — what streaming Fetch v16+ costs: a scripted broker sends
 * 50 MiB Fetch v16 responses carrying NodeEndpoints; a raw client fetches
 * them directly and through kgate (which rewrites the endpoints in place
 * while streaming).  Prints time to first byte, time to last byte, kgate's
 * CPU time per GiB it forwarded, and kgate's peak memory.  Holding whole responses instead would make the first
 * byte wait for the last one from the broker and cost a response's size in
 * memory per connection; these numbers show what streaming costs instead.
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

#define RECORDS (50u << 20)
#define ROUNDS 15

static struct kwbuf response; /* built once, correlation id patched */

static void build_response(void)
{
	struct kwbuf ne;
	uint8_t id[16] = {7};
	size_t off;

	kw_init(&response);
	off = kw_reserve_i32(&response);
	kw_i32(&response, 0);
	kw_uvarint(&response, 0);
	kw_i32(&response, 0);
	kw_i16(&response, 0);
	kw_i32(&response, 0);
	kw_array_len(&response, 1, 1);
	kw_put(&response, id, 16);
	kw_array_len(&response, 1, 1);
	kw_i32(&response, 0);
	kw_i16(&response, 6);
	kw_i64(&response, 0);
	kw_i64(&response, 0);
	kw_i64(&response, 0);
	kw_uvarint(&response, 0);
	kw_i32(&response, -1);
	kw_uvarint(&response, RECORDS + 1);
	memset(kw_extend(&response, RECORDS), 0x42, RECORDS);
	kw_uvarint(&response, 0);
	kw_uvarint(&response, 0);
	kw_init(&ne);
	kw_array_len(&ne, 1, 2);
	for (int i = 1; i <= 2; i++) {
		kw_i32(&ne, i);
		kw_string(&ne, 1, "b-1.mycluster.abc123.c2.kafka.us-east-1.amazonaws.com", 53);
		kw_i32(&ne, 9094);
		kw_uvarint(&ne, 0);
		kw_uvarint(&ne, 0);
	}
	kw_uvarint(&response, 1);
	kw_uvarint(&response, 0);
	kw_uvarint(&response, (uint32_t)ne.len);
	kw_put(&response, ne.buf, ne.len);
	kw_free(&ne);
	kw_patch_i32(&response, off, (int32_t)(response.len - 4));
}

static void serve(struct fake_broker *fb, int fd)
{
	struct fake_request req;

	(void)fb;
	while (fake_read_request(fd, &req) == 0) {
		kbuf_put_i32(response.buf + 4, req.correlation_id);
		if (fake_send(fd, response.buf, response.len, 0) < 0)
			break;
		fake_request_free(&req);
	}
}

/* One Fetch v16 round trip; returns ms to first and last byte. */
static void fetch_once(int fd, int32_t corr, double *first_ms, double *last_ms)
{
	uint8_t req[15] = {0, 0, 0, 11, 0, 1, 0, 16, 0, 0, 0, 0, 0, 0, 0};
	static uint8_t buf[1 << 20];
	size_t got = 0, want = 0;
	int64_t t0;

	kbuf_put_i32(req + 8, corr);
	t0 = harness_now_ms();
	raw_send(fd, req, sizeof(req));
	*first_ms = -1;
	do {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n <= 0) {
			fprintf(stderr, "bench_fetch: connection lost\n");
			exit(1);
		}
		if (*first_ms < 0) {
			*first_ms = (double)(harness_now_ms() - t0);
			want = (size_t)kbuf_get_i32(buf) + 4;
		}
		got += (size_t)n;
	} while (got < want);
	*last_ms = (double)(harness_now_ms() - t0);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void measure(const char *label, int port)
{
	double first[ROUNDS], last[ROUNDS];
	int fd = raw_connect(port);

	for (int i = 0; i < ROUNDS; i++)
		fetch_once(fd, i, &first[i], &last[i]);
	close(fd);
	qsort(first, ROUNDS, sizeof(double), cmp);
	qsort(last, ROUNDS, sizeof(double), cmp);
	printf("%-34s first byte %5.1f ms, last byte %6.1f ms (median of %d)\n", label,
	       first[ROUNDS / 2], last[ROUNDS / 2], ROUNDS);
}

/* Runs inside a Check test because the harness reports through Check; the
 * numbers are printed, nothing about them is asserted. */
START_TEST(bench_fetch_streaming)
{
	struct fake_broker fb;
	struct kgate kg;
	double cpu;

	build_response();
	fake_broker_start(&fb, serve, NULL);
	kgate_start_static(&kg, 2, fb.port, getenv("KGATE_BENCH_LIMITS"));
	printf("Fetch v16, %zu-byte responses with NodeEndpoints, over loopback\n",
	       response.len);
	measure("direct to the broker:", fb.port);
	cpu = kgate_cpu_seconds(&kg);
	measure("through kgate (streamed, rewritten):", kg.broker_port[0]);
	cpu = kgate_cpu_seconds(&kg) - cpu;
	printf("kgate CPU: %.2f s for %d responses, %.2f s per GiB\n", cpu, ROUNDS,
	       cpu / ((double)ROUNDS * (double)response.len / (1 << 30)));
	printf("kgate peak RSS: %ld KiB (the response is %zu KiB)\n", kgate_rss_kib(&kg, 1),
	       response.len / 1024);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	/* The numbers mean something only if kgate did the work. */
	ck_assert(kgate_log_contains(&kg, "responses_rewritten=15 "));
	fake_broker_stop(&fb);
	kw_free(&response);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("fetch");

	tcase_add_test(tc, bench_fetch_streaming);
	tcase_set_timeout(tc, 300);
	return harness_run_case(tc) ? 1 : 0;
}
