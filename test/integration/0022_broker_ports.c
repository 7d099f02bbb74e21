/* 0022_broker_ports.c — brokers by rule: a cluster served through the
 * broker_ports rule alone (no brokers[] entry), a written entry winning over
 * the rule, a broker the rule does not cover reported by node id in
 * /metrics and logged once, and --check's table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/clients.h"
#include "itests.h"

#define TOPIC "ports"
#define MESSAGES 3000

/* The rule for k's consecutive ports: ids 1..count at 127.0.0.1. */
static char *rule_config(const struct kgate *k, const struct mock *m, int count,
			 const char *extra)
{
	size_t cap = 4096, n = 0;
	char *json = malloc(cap);

	ck_assert_ptr_nonnull(json);
	n += (size_t)snprintf(json + n, cap - n,
			      "{ \"bootstrap\": { \"listen\": \"%s\", \"upstream\": [", k->bootstrap);
	for (int i = 0; i < m->n_brokers; i++)
		n += (size_t)snprintf(json + n, cap - n, "%s\"%s\"", i ? ", " : "", m->addr[i]);
	snprintf(json + n, cap - n,
		 "] },\n  \"broker_ports\": { \"listen_host\": \"127.0.0.1\", \"first_port\": %d, "
		 "\"first_id\": 1, \"count\": %d, \"advertise_host\": \"127.0.0.1\" }%s%s }\n",
		 k->broker_port[0], count, extra ? ",\n  " : "", extra ? extra : "");
	return json;
}

/* Waits (failsafe deadline) until /metrics says line, and returns its body. */
static char *metrics_with(int port, const char *line)
{
	int64_t deadline = harness_now_ms() + 20000;

	for (;;) {
		char *body = NULL;

		if (http_get(port, "/metrics", &body) == 200 && strstr(body, line))
			return body;
		ck_assert_msg(harness_now_ms() < deadline, "/metrics never said %s:\n%s", line,
			      body ? body : "(no answer)");
		free(body);
		usleep(20000);
	}
}

START_TEST(test_cluster_through_the_rule_alone)
{
	struct mock mock;
	struct kgate kg;
	char *cfg;

	mock_start(&mock, 3);
	ck_assert_int_eq(rd_kafka_mock_topic_create(mock.mc, TOPIC, 6, 3), 0);
	/* Six ids for three brokers: ids 4-6 are spare ports. */
	kgate_plan_consecutive(&kg, 6);
	cfg = rule_config(&kg, &mock, 6, NULL);
	kgate_start(&kg, cfg);
	free(cfg);
	/* What clients must see: the three brokers, each at its rule port. */
	kg.n_brokers = 3;

	round_trip_gateway_only(&kg, kg.bootstrap, TOPIC, MESSAGES, 6);

	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "endpoints_unmapped=0 "));
	ck_assert(kgate_log_contains(&kg, "protocol_errors=0 "));
	/* Every broker was reached at its rule port, learned from the cluster. */
	for (int i = 0; i < 3; i++) {
		char line[128];

		snprintf(line, sizeof(line), "broker %d joined at %s", i + 1,
			 mock.addr[i]);
		ck_assert_msg(kgate_log_contains(&kg, line), "missing: %s", line);
	}
	mock_stop(&mock);
}
END_TEST

START_TEST(test_outgrown_rule_counted_by_node)
{
	struct mock mock;
	struct kgate kg;
	rd_kafka_t *rk;
	const struct rd_kafka_metadata *md;
	struct broker_view view;
	char errstr[256], extra[512], *cfg, *body;
	int admin = harness_free_port();

	/* Four brokers; the rule covers ids 1-2, brokers[] names 3 on a port of
	 * its own, and nothing covers 4. */
	mock_start(&mock, 4);
	ck_assert_int_eq(rd_kafka_mock_topic_create(mock.mc, TOPIC, 4, 1), 0);
	kgate_plan_consecutive(&kg, 3);
	snprintf(extra, sizeof(extra),
		 "\"brokers\": [ { \"id\": 3, \"listen\": \"127.0.0.1:%d\", \"advertise\": "
		 "\"127.0.0.1:%d\" } ],\n  \"admin\": { \"listen\": \"127.0.0.1:%d\" }",
		 kg.broker_port[2], kg.broker_port[2], admin);
	cfg = rule_config(&kg, &mock, 2, extra);
	kgate_start(&kg, cfg);
	free(cfg);

	view_init(&view);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, client_conf(kg.bootstrap, &view), errstr,
			  sizeof(errstr));
	ck_assert_msg(rk != NULL, "%s", errstr);
	for (int round = 0; round < 3; round++) {
		ck_assert_int_eq(rd_kafka_metadata(rk, 1, NULL, &md, 10000), 0);
		ck_assert_int_eq(md->broker_cnt, 4);
		for (int i = 0; i < md->broker_cnt; i++) {
			char addr[300];
			int id = md->brokers[i].id;

			snprintf(addr, sizeof(addr), "%s:%d", md->brokers[i].host,
				 md->brokers[i].port);
			ck_assert_str_eq(addr, id == 4 ? mock.addr[3] : kg.broker_addr[id - 1]);
		}
		rd_kafka_metadata_destroy(md);
	}
	rd_kafka_destroy(rk);

	/* Three Metadata answers, broker 4 once in each: counted by its id,
	 * and no other id is. */
	body = metrics_with(admin, "kgate_endpoints_unmapped_total{node=\"4\"} ");
	ck_assert_msg(strstr(body, "kgate_endpoints_unmapped_total{node=\"4\"} 3\n") ||
			      strstr(body, "kgate_endpoints_unmapped_total{node=\"4\"} 4\n"),
		      "%s", strstr(body, "kgate_endpoints_unmapped_total{"));
	for (int id = 1; id <= 3; id++) {
		char series[80];

		snprintf(series, sizeof(series), "kgate_endpoints_unmapped_total{node=\"%d\"}", id);
		ck_assert_msg(!strstr(body, series), "%s counted", series);
	}
	ck_assert(!strstr(body, "node=\"other\""));
	free(body);
	/* /brokers lists the three brokers kgate fronts, not spare rule ids. */
	ck_assert_int_eq(http_get(admin, "/brokers", &body), 200);
	ck_assert_msg(strstr(body, "\"1\"") && strstr(body, "\"2\"") && strstr(body, "\"3\"") &&
			      !strstr(body, "\"4\""),
		      "%s", body);
	free(body);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert_int_eq(kgate_log_count(&kg, "broker 4 ("), 1);
	ck_assert(kgate_log_contains(&kg, "is neither in brokers[] nor in broker_ports"));
	mock_stop(&mock);
}
END_TEST

/* The address rk's Metadata gives broker id (into addr). */
static void advertised(rd_kafka_t *rk, int id, char *addr, size_t len)
{
	const struct rd_kafka_metadata *md;

	addr[0] = '\0';
	ck_assert_int_eq(rd_kafka_metadata(rk, 1, NULL, &md, 10000), 0);
	for (int i = 0; i < md->broker_cnt; i++)
		if (md->brokers[i].id == id)
			snprintf(addr, len, "%s:%d", md->brokers[i].host, md->brokers[i].port);
	rd_kafka_metadata_destroy(md);
}

START_TEST(test_reload_widens_the_rule)
{
	struct broker_view view;
	struct mock mock;
	struct kgate kg;
	rd_kafka_t *rk;
	char errstr[256], addr[300], *cfg;

	/* The cluster outgrew the rule (3 brokers, count 2); a reload widens
	 * it and broker 3 gets its port, without a restart. */
	mock_start(&mock, 3);
	kgate_plan_consecutive(&kg, 3);
	cfg = rule_config(&kg, &mock, 2, NULL);
	kgate_start(&kg, cfg);
	free(cfg);
	view_init(&view);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, client_conf(kg.bootstrap, &view), errstr,
			  sizeof(errstr));
	ck_assert_msg(rk != NULL, "%s", errstr);
	advertised(rk, 3, addr, sizeof(addr));
	ck_assert_str_eq(addr, mock.addr[2]);
	cfg = rule_config(&kg, &mock, 3, NULL);
	ck_assert_int_eq(kgate_reload(&kg, cfg), 1);
	free(cfg);
	advertised(rk, 3, addr, sizeof(addr));
	ck_assert_str_eq(addr, kg.broker_addr[2]);
	/* ... and serves it: a new client reaches broker 3 at its new port. */
	rd_kafka_destroy(rk);
	{
		struct broker_view pview;
		struct delivery d;
		rd_kafka_t *producer;

		ck_assert_int_eq(rd_kafka_mock_topic_create(mock.mc, TOPIC, 3, 1), 0);
		view_init(&pview);
		producer = producer_new(kg.bootstrap, &pview, &d);
		produce_ids(producer, TOPIC, 0, 300);
		wait_deliveries(producer, &d, 300, 60);
		view_refresh(producer, &pview);
		view_assert_gateway_only(&pview, &kg);
		rd_kafka_destroy(producer);
	}
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "is neither in brokers[] nor in broker_ports"));
	mock_stop(&mock);
}
END_TEST

START_TEST(test_check_prints_the_table)
{
	struct kgate kg;
	char path[512], out[8192];
	FILE *f;
	char *const argv[] = {getenv("KGATE_BIN"), "--check", "--config", path, NULL};

	ck_assert_ptr_nonnull(argv[0]);
	kgate_plan_consecutive(&kg, 4);
	snprintf(path, sizeof(path), "%s/ports-check.json", harness_tmp_root());
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f,
		"{ \"bootstrap\": { \"listen\": \"%s\", \"upstream\": [\"b-1.example:9094\"] },\n"
		"  \"broker_ports\": { \"listen_host\": \"127.0.0.1\", \"first_port\": %d,"
		" \"first_id\": 7, \"count\": 4, \"advertise_host\": \"nlb.example.com\","
		" \"advertise_first_port\": 8443 },\n"
		"  \"brokers\": [ { \"id\": 8, \"listen\": \"127.0.0.1:%d\","
		" \"advertise\": \"b8.example.com:9000\", \"upstream\": \"b-8.example:9094\" } ] }\n",
		kg.bootstrap, kg.broker_port[0], kg.broker_port[1]);
	fclose(f);
	ck_assert_int_eq(harness_run(argv, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "4 brokers"), "%s", out);
	ck_assert_msg(strstr(out, "broker_ports: ids 7-10 on 127.0.0.1") &&
			      strstr(out, "advertised at nlb.example.com ports 8443-8446 (3 from the "
					  "rule, 1 written in brokers[])"),
		      "%s", out);
	/* One row per id, in id order: 8 as written, the others the rule's. */
	for (int i = 0; i < 4; i++) {
		char line[256], listen[64], advertise[64];

		snprintf(listen, sizeof(listen), "127.0.0.1:%d", kg.broker_port[i]);
		snprintf(advertise, sizeof(advertise), "nlb.example.com:%d", 8443 + i);
		snprintf(line, sizeof(line), "  %-10d %-24s %-32s %s\n", 7 + i, listen,
			 i == 1 ? "b8.example.com:9000" : advertise,
			 i == 1 ? "b-8.example:9094" : "learned  (broker_ports)");
		ck_assert_msg(strstr(out, line), "missing \"%s\" in:\n%s", line, out);
	}
}
END_TEST

TCase *tcase_0022_broker_ports(void)
{
	TCase *tc = tcase_create("0022 broker ports");

	tcase_add_test(tc, test_cluster_through_the_rule_alone);
	tcase_add_test(tc, test_outgrown_rule_counted_by_node);
	tcase_add_test(tc, test_reload_widens_the_rule);
	tcase_add_test(tc, test_check_prints_the_table);
	tcase_set_timeout(tc, 300);
	return tc;
}
