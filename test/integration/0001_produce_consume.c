/* 0001_produce_consume.c — 100,000 messages through kgate: an idempotent
 * producer (acks=all) and a consumer group of two members, all on the
 * mock cluster; nothing lost, nothing duplicated, order kept per partition,
 * and every broker connection each client made went to a kgate listener.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/clients.h"
#include "itests.h"

#define MESSAGES 100000
#define PARTITIONS 6
#define TOPIC "orders"

/* One consumer group member on its own thread. */
struct member {
	pthread_t thread;
	rd_kafka_t *rk;
	struct ledger *ledger;
	struct broker_view view;
	atomic_int assigned; /* partitions currently assigned (the test reads it) */
	atomic_int stop;     /* set by the test to end the member's loop */
};

static void *member_loop(void *arg)
{
	struct member *m = arg;

	for (int i = 0; !atomic_load(&m->stop); i++) {
		rd_kafka_message_t *msg = rd_kafka_consumer_poll(m->rk, 50);
		rd_kafka_topic_partition_list_t *parts;

		if (msg) {
			if (!msg->err)
				ledger_record(m->ledger, msg);
			rd_kafka_message_destroy(msg);
		}
		if (i % 10 == 0 && rd_kafka_assignment(m->rk, &parts) == 0) {
			atomic_store(&m->assigned, parts->cnt);
			rd_kafka_topic_partition_list_destroy(parts);
		}
	}
	return NULL;
}

static void member_start(struct member *m, const struct kgate *k, struct ledger *l)
{
	rd_kafka_conf_t *conf;
	rd_kafka_topic_partition_list_t *topics;
	char errstr[256];

	memset(m, 0, sizeof(*m));
	atomic_init(&m->assigned, 0);
	atomic_init(&m->stop, 0);
	view_init(&m->view);
	m->ledger = l;
	conf = client_conf(k->bootstrap, &m->view);
	conf_set(conf, "group.id", "kgate-0001");
	conf_set(conf, "auto.offset.reset", "earliest");
	conf_set(conf, "enable.partition.eof", "false");
	m->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	ck_assert_msg(m->rk != NULL, "%s", errstr);
	rd_kafka_poll_set_consumer(m->rk);
	topics = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(topics, TOPIC, RD_KAFKA_PARTITION_UA);
	ck_assert_int_eq(rd_kafka_subscribe(m->rk, topics), 0);
	rd_kafka_topic_partition_list_destroy(topics);
	ck_assert_int_eq(pthread_create(&m->thread, NULL, member_loop, m), 0);
}

static void member_stop(struct member *m)
{
	atomic_store(&m->stop, 1);
	pthread_join(m->thread, NULL);
	rd_kafka_consumer_close(m->rk);
	rd_kafka_destroy(m->rk);
}

START_TEST(test_100k_through_consumer_group)
{
	struct mock mock;
	struct kgate kg;
	struct member members[2];
	struct ledger ledger;
	struct broker_view pview;
	struct delivery d;
	rd_kafka_t *producer;
	int64_t deadline;

	fixture_start(&mock, &kg, 3, 3, TOPIC, PARTITIONS, 0);

	ledger_init(&ledger, MESSAGES);
	member_start(&members[0], &kg, &ledger);
	member_start(&members[1], &kg, &ledger);
	/* Produce only once both members own partitions, so no rebalance
	 * happens mid-stream (a rebalance may legitimately redeliver). */
	deadline = harness_now_ms() + 60000;
	for (;;) {
		int a0 = atomic_load(&members[0].assigned), a1 = atomic_load(&members[1].assigned);

		if (a0 > 0 && a1 > 0 && a0 + a1 == PARTITIONS)
			break;
		ck_assert_msg(harness_now_ms() < deadline, "group never settled (%d + %d)", a0, a1);
		usleep(10000);
	}

	view_init(&pview);
	producer = producer_new(kg.bootstrap, &pview, &d);
	produce_ids(producer, TOPIC, 0, MESSAGES);
	wait_deliveries(producer, &d, MESSAGES, 120);

	deadline = harness_now_ms() + 120000;
	for (;;) {
		int64_t got;

		pthread_mutex_lock(&ledger.lock);
		got = ledger.received;
		pthread_mutex_unlock(&ledger.lock);
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
	member_stop(&members[0]);
	member_stop(&members[1]);
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
