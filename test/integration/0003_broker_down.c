/* 0003_broker_down.c — a broker taken down and brought back while an
 * idempotent producer (acks=all) writes through kgate: every message ends up
 * in the log exactly once and in order, and kgate stays up throughout.
 */

#include "../lib/clients.h"
#include "itests.h"

#define TOPIC "outage"
#define BATCH 10000
#define DOWN_BROKER 2

START_TEST(test_broker_down_and_up_mid_stream)
{
	struct mock mock;
	struct kgate kg;
	struct broker_view pview, cview;
	struct delivery d;
	rd_kafka_conf_t *conf;
	rd_kafka_t *producer, *consumer;
	char errstr[256];
	int64_t before, deadline;

	fixture_start(&mock, &kg, 3, 3, TOPIC, 3, 0);
	/* One partition led by each broker, so the others keep flowing. */
	for (int p = 0; p < 3; p++)
		rd_kafka_mock_partition_set_leader(mock.mc, TOPIC, p, p + 1);

	view_init(&pview);
	conf = producer_conf(kg.bootstrap, &pview, &d);
	conf_set(conf, "socket.timeout.ms", "3000");
	conf_set(conf, "request.timeout.ms", "3000");
	producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	ck_assert_msg(producer != NULL, "%s", errstr);

	produce_ids(producer, TOPIC, 0, BATCH);
	wait_deliveries(producer, &d, BATCH, 60);

	/* Down: its connections drop and new ones hang until timeouts. */
	ck_assert_int_eq(rd_kafka_mock_broker_set_down(mock.mc, DOWN_BROKER), 0);
	before = atomic_load(&d.delivered);
	produce_ids(producer, TOPIC, BATCH, 2 * BATCH);
	/* Let the other two partitions make progress meanwhile. */
	deadline = harness_now_ms() + 30000;
	while (atomic_load(&d.delivered) < before + BATCH / 2) {
		rd_kafka_poll(producer, 20);
		ck_assert_msg(harness_now_ms() < deadline, "no progress with a broker down");
	}
	ck_assert_int_eq(rd_kafka_mock_broker_set_up(mock.mc, DOWN_BROKER), 0);
	produce_ids(producer, TOPIC, 2 * BATCH, 3 * BATCH);
	wait_deliveries(producer, &d, 3 * BATCH, 120);
	view_refresh(producer, &pview);
	view_assert_gateway_only(&pview, &kg);
	rd_kafka_destroy(producer);

	/* Read everything back through kgate. */
	view_init(&cview);
	consumer = consumer_from_start(kg.bootstrap, &cview, TOPIC, 3);
	consume_exactly_once(consumer, 3 * BATCH, 120);
	consumer_destroy(consumer);

	ck_assert_int_eq(kgate_stop(&kg), 0);
	mock_stop(&mock);
}
END_TEST

TCase *tcase_0003_broker_down(void)
{
	TCase *tc = tcase_create("0003 broker down");

	tcase_add_test(tc, test_broker_down_and_up_mid_stream);
	tcase_set_timeout(tc, 600);
	return tc;
}
