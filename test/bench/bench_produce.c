/* bench_produce.c — a librdkafka producer (acks=all, idempotent, 100-byte
 * messages) against librdkafka's mock cluster, directly and through kgate.
 * Prints messages per second and kgate's CPU time, also per GiB of message
 * payload; asserts nothing about them.  Run with `make bench`.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/clients.h"
#include "../lib/harness.h"

#define MESSAGES 500000
#define TOPIC "bench"

/* Produces MESSAGES through bootstrap; returns seconds taken. */
static double run(const char *bootstrap)
{
	struct broker_view view;
	struct delivery d;
	rd_kafka_t *rk;
	int64_t t0, t1;

	view_init(&view);
	rk = producer_new(bootstrap, &view, &d);
	/* Warm up: connections, metadata, producer id. */
	produce_ids(rk, TOPIC, 0, 1000);
	wait_deliveries(rk, &d, 1000, 60);
	t0 = harness_now_ms();
	produce_ids(rk, TOPIC, 0, MESSAGES);
	wait_deliveries(rk, &d, 1000 + MESSAGES, 300);
	t1 = harness_now_ms();
	rd_kafka_destroy(rk);
	return (double)(t1 - t0) / 1000.0;
}

START_TEST(bench_produce)
{
	struct mock mock;
	struct kgate kg;
	double direct, via, cpu;

	fixture_start(&mock, &kg, 3, 3, TOPIC, 6, 0);
	/* Alternate, and keep the better of two runs each: the mock cluster
	 * shares this machine's two cores with everything else. */
	direct = via = 1e9;
	cpu = 0;
	for (int round = 0; round < 2; round++) {
		double t = run(mock.bootstraps), cpu0 = kgate_cpu_seconds(&kg);

		if (t < direct)
			direct = t;
		t = run(kg.bootstrap);
		if (t < via) {
			via = t;
			cpu = kgate_cpu_seconds(&kg) - cpu0;
		}
	}
	printf("librdkafka %s producer, %d x 100-byte messages, acks=all, idempotent, "
	       "mock cluster (3 brokers, 6 partitions), best of 2:\n",
	       rd_kafka_version_str(), MESSAGES);
	printf("  direct:        %7.0f msg/s (%.2f s)\n", MESSAGES / direct, direct);
	printf("  through kgate: %7.0f msg/s (%.2f s), kgate CPU %.2f s (%.2f s per GiB of "
	       "payload)\n",
	       MESSAGES / via, via, cpu, cpu / (MESSAGES * 100.0 / (1 << 30)));
	ck_assert_int_eq(kgate_stop(&kg), 0);
	mock_stop(&mock);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("produce");

	tcase_add_test(tc, bench_produce);
	tcase_set_timeout(tc, 600);
	return harness_run_case(tc) ? 1 : 0;
}
