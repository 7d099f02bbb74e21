/* 0001_produce_consume.c — 100,000 messages through kgate: an idempotent
 * producer (acks=all) and a consumer group of two members, all on the
 * mock cluster; nothing lost, nothing duplicated, order kept per partition,
 * and every broker connection each client made went to a kgate listener.
 */
#include <stdatomic.h>

#include "../lib/clients.h"
#include "itests.h"

#define MESSAGES 100000
#define PARTITIONS 6
#define TOPIC "orders"

START_TEST(test_100k_through_consumer_group)
{
	struct mock mock;
	struct kgate kg;
	struct group_member members[2];
	struct ledger ledger;
	struct broker_view pview;
	struct delivery d;
	rd_kafka_t *producer;
	int64_t deadline;

	fixture_start(&mock, &kg, 3, 3, TOPIC, PARTITIONS, 0);

	ledger_init(&ledger, MESSAGES);
	group_member_start(&members[0], kg.bootstrap, "kgate-0001", TOPIC, &ledger);
	group_member_start(&members[1], kg.bootstrap, "kgate-0001", TOPIC, &ledger);
	/* Produce only once both members own partitions, so no rebalance
	 * happens mid-stream. */
	group_wait_settled(members, 2, PARTITIONS, 60);

	view_init(&pview);
	producer = producer_new(kg.bootstrap, &pview, &d);
	produce_ids(producer, TOPIC, 0, MESSAGES);
	wait_deliveries(producer, &d, MESSAGES, 120);

	deadline = harness_now_ms() + 120000;
	for (;;) {
		int64_t got = ledger_received(&ledger);

		if (got >= MESSAGES)
			break;
		ck_assert_msg(harness_now_ms() < deadline, "consumed %lld of %d", (long long)got,
			      MESSAGES);
		rd_kafka_poll(producer, 50);
	}
	/* Both members took part, and the whole set arrived exactly once. */
	ck_assert_int_gt(atomic_load(&members[0].assigned), 0);
	ck_assert_int_gt(atomic_load(&members[1].assigned), 0);
	ledger_assert_exactly_once(&ledger);

	/* Every client's own view: only kgate's addresses. */
	metadata_assert_gateway_only(producer, &kg);
	view_refresh(producer, &pview);
	view_assert_gateway_only(&pview, &kg);
	group_member_stop(&members[0]);
	group_member_stop(&members[1]);
	view_assert_gateway_only(&members[0].view, &kg);
	view_assert_gateway_only(&members[1].view, &kg);
	rd_kafka_destroy(producer);

	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "protocol_errors=0"));
	ck_assert(!kgate_log_contains(&kg, " error "));
	ledger_free(&ledger);
	mock_stop(&mock);
}
END_TEST

TCase *tcase_0001_produce_consume(void)
{
	TCase *tc = tcase_create("0001 produce and consume");

	tcase_add_test(tc, test_100k_through_consumer_group);
	tcase_set_timeout(tc, 600);
	return tc;
}
