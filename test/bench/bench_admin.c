/* bench_admin.c — what the admin endpoint costs under load: the same
 * librdkafka producer run as bench_produce (500,000 x 100 bytes, acks=all,
 * mock cluster) through one kgate, with /metrics scraped every 100 ms and
 * without, alternating, side by side.  Prints throughput and kgate's CPU
 * per GiB of payload; asserts nothing about them.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/clients.h"
#include "../lib/harness.h"

#define MESSAGES 500000
#define TOPIC "bench"
#define SCRAPE_MS 100

struct scraper {
	pthread_t thread;
	int port;
	volatile int stop;
	int scrapes;
};

static void *scrape(void *arg)
{
	struct scraper *s = arg;

	while (!s->stop) {
		char *body = NULL;

		if (http_get(s->port, "/metrics", &body) == 200)
			s->scrapes++;
		free(body);
		usleep(SCRAPE_MS * 1000);
	}
	return NULL;
}

/* Produces MESSAGES through bootstrap; seconds taken. */
static double run(const char *bootstrap)
{
	struct broker_view view;
	struct delivery d;
	rd_kafka_t *rk;
	int64_t t0;

	view_init(&view);
	rk = producer_new(bootstrap, &view, &d);
	produce_ids(rk, TOPIC, 0, 1000);
	wait_deliveries(rk, &d, 1000, 60);
	t0 = harness_now_ms();
	produce_ids(rk, TOPIC, 0, MESSAGES);
	wait_deliveries(rk, &d, 1000 + MESSAGES, 300);
	rd_kafka_destroy(rk);
	return (double)(harness_now_ms() - t0) / 1000.0;
}

START_TEST(bench_admin_scrape)
{
	const double gib = MESSAGES * 100.0 / (1 << 30);
	struct mock m;
	struct kgate k;
	char extra[128], *cfg;
	int port = harness_free_port();

	mock_start(&m, 3);
	ck_assert_int_eq(rd_kafka_mock_topic_create(m.mc, TOPIC, 6, 3), 0);
	kgate_plan(&k, 3);
	snprintf(extra, sizeof(extra), "\"admin\": { \"listen\": \"127.0.0.1:%d\" }", port);
	cfg = kgate_config_for_mock(&k, &m, 0, extra);
	kgate_start(&k, cfg);
	free(cfg);
	printf("librdkafka producer, %d x 100-byte messages through kgate, with /metrics scraped "
	       "every %d ms and not, alternating:\n",
	       MESSAGES, SCRAPE_MS);
	for (int round = 0; round < 4; round++) {
		struct scraper s = {.port = port};
		int scraped = round % 2;
		double cpu0 = kgate_cpu_seconds(&k), t, cpu;

		if (scraped)
			ck_assert_int_eq(pthread_create(&s.thread, NULL, scrape, &s), 0);
		t = run(k.bootstrap);
		cpu = kgate_cpu_seconds(&k) - cpu0;
		if (scraped) {
			s.stop = 1;
			pthread_join(s.thread, NULL);
		}
		printf("  %-13s %7.0f msg/s (%.2f s), kgate CPU %.2f s (%.2f s per GiB)%s\n",
		       scraped ? "scraped:" : "not scraped:", MESSAGES / t, t, cpu, cpu / gib,
		       scraped ? "" : "");
		if (scraped)
			printf("                %d scrapes\n", s.scrapes);
	}
	ck_assert_int_eq(kgate_stop(&k), 0);
	mock_stop(&m);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("admin");

	tcase_add_test(tc, bench_admin_scrape);
	tcase_set_timeout(tc, 900);
	return harness_run_case(tc) ? 1 : 0;
}
