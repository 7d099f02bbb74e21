/* 0002_addresses.c — where clients are sent: with configured upstreams,
 * with upstreams learned from the cluster (including a client that arrives
 * at a broker listener before kgate has seen any Metadata), and for a node
 * kgate has no mapping for.
 */
#include <string.h>

#include <stdlib.h>

#include "../lib/clients.h"
#include "itests.h"

#define TOPIC "addresses"
#define MESSAGES 2000

/* Produces and reads back MESSAGES through bootstrap, checking views. */
static void round_trip(const struct kgate *kg, const char *bootstrap)
{
	round_trip_gateway_only(kg, bootstrap, TOPIC, MESSAGES, 3);
}

START_TEST(test_configured_upstreams)
{
	struct mock mock;
	struct kgate kg;

	fixture_start(&mock, &kg, 3, 3, TOPIC, 3, 1);
	round_trip(&kg, kg.bootstrap);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	/* Configured upstreams need no Metadata of kgate's own. */
	ck_assert(kgate_log_contains(&kg, "metadata_fetches=0"));
	ck_assert(kgate_log_contains(&kg, "protocol_errors=0"));
	mock_stop(&mock);
}
END_TEST

START_TEST(test_learned_upstreams_client_first_at_broker_listener)
{
	struct mock mock;
	struct kgate kg;

	char *cfg;

	/* One worker: what a worker learns is its own (gateway/workers.h), so
	 * with two the one count below would depend on which worker each
	 * connection was hashed to. */
	mock_start(&mock, 3);
	ck_assert_int_eq(rd_kafka_mock_topic_create(mock.mc, TOPIC, 3, 3), 0);
	kgate_plan(&kg, 3);
	cfg = kgate_config_for_mock(&kg, &mock, 0, "\"workers\": 1");
	kgate_start(&kg, cfg);
	free(cfg);
	/* Bootstrapping at broker 2's listener: kgate knows nothing of the
	 * cluster yet and must ask it before it can dial broker 2. */
	round_trip(&kg, kg.broker_addr[1]);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "learned the cluster's brokers"));
	ck_assert(kgate_log_contains(&kg, "metadata_fetches=1 "));
	for (int i = 0; i < 3; i++) {
		char line[128];

		snprintf(line, sizeof(line), "broker %d joined at %s", i + 1,
			 mock.addr[i]);
		ck_assert_msg(kgate_log_contains(&kg, line), "missing: %s", line);
	}
	mock_stop(&mock);
}
END_TEST

START_TEST(test_unmapped_node_left_alone)
{
	struct mock mock;
	struct kgate kg;
	struct broker_view view;
	const struct rd_kafka_metadata *md;
	rd_kafka_t *rk;
	char errstr[256];
	int found = 0;

	/* kgate fronts brokers 1 and 2 only. */
	fixture_start(&mock, &kg, 3, 2, TOPIC, 3, 0);
	view_init(&view);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, client_conf(kg.bootstrap, &view), errstr,
			  sizeof(errstr));
	ck_assert_msg(rk != NULL, "%s", errstr);
	for (int round = 0; round < 3; round++) {
		ck_assert_int_eq(rd_kafka_metadata(rk, 1, NULL, &md, 10000), 0);
		ck_assert_int_eq(md->broker_cnt, 3);
		for (int i = 0; i < md->broker_cnt; i++) {
			char addr[300];

			snprintf(addr, sizeof(addr), "%s:%d", md->brokers[i].host,
				 md->brokers[i].port);
			if (md->brokers[i].id == 3) {
				ck_assert_str_eq(addr, mock.addr[2]);
				found++;
			} else {
				ck_assert_str_eq(addr, kg.broker_addr[md->brokers[i].id - 1]);
			}
		}
		rd_kafka_metadata_destroy(md);
	}
	ck_assert_int_eq(found, 3);
	rd_kafka_destroy(rk);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	/* Logged once however often it is seen; counted every time. */
	ck_assert_int_eq(kgate_log_count(&kg, "broker 3 ("), 1);
	ck_assert(kgate_log_contains(&kg, "is neither in brokers[] nor in broker_ports"));
	ck_assert(!kgate_log_contains(&kg, "endpoints_unmapped=0 "));
	mock_stop(&mock);
}
END_TEST

TCase *tcase_0002_addresses(void)
{
	TCase *tc = tcase_create("0002 addresses");

	tcase_add_test(tc, test_configured_upstreams);
	tcase_add_test(tc, test_learned_upstreams_client_first_at_broker_listener);
	tcase_add_test(tc, test_unmapped_node_left_alone);
	tcase_set_timeout(tc, 300);
	return tc;
}
