/* 0011_admin.c — the admin endpoint: /metrics read by an independent
 * parser (python3-prometheus-client) after real traffic, /healthz,
 * /readyz following the cluster and the drain, /brokers, and admin
 * clients that cannot hold up forwarding.
 */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../protocol/kbuf.h"
#include "../lib/clients.h"
#include "itests.h"

#define TOPIC "admin"

static int admin_port;

/* The usual fixture, and an admin endpoint asking the cluster every
 * probe_ms; limits (a JSON object) or NULL. */
static void start_with_admin(struct mock *m, struct kgate *k, int probe_ms, const char *limits)
{
	char extra[512], *cfg;

	mock_start(m, 3);
	ck_assert_int_eq(rd_kafka_mock_topic_create(m->mc, TOPIC, 3, 3), 0);
	kgate_plan(k, 3);
	admin_port = harness_free_port();
	snprintf(extra, sizeof(extra),
		 "\"admin\": { \"listen\": \"127.0.0.1:%d\", \"probe_interval_ms\": %d }%s%s",
		 admin_port, probe_ms, limits ? ", \"limits\": " : "", limits ? limits : "");
	cfg = kgate_config_for_mock(k, m, 0, extra);
	kgate_start(k, cfg);
	free(cfg);
}

/* Waits (failsafe deadline) until GET path answers want; the last body
 * goes to *body if asked for. */
static int wait_status(const char *path, int want, char **body)
{
	int64_t deadline = harness_now_ms() + 30000;
	int status;

	for (;;) {
		char *b = NULL;

		status = http_get(admin_port, path, &b);
		if (status == want || harness_now_ms() > deadline) {
			if (body)
				*body = b;
			else
				free(b);
			return status;
		}
		free(b);
		usleep(20000);
	}
}

/* Waits (failsafe deadline) until /metrics has the line `series value`. */
static int wait_metric(const char *line)
{
	int64_t deadline = harness_now_ms() + 20000;

	while (harness_now_ms() < deadline) {
		char *body = NULL;
		int found = http_get(admin_port, "/metrics", &body) == 200 && strstr(body, line);

		free(body);
		if (found)
			return 1;
		usleep(20000);
	}
	return 0;
}

/* Runs check_metrics.py over the exposition with the expectations. */
static void check_metrics(const char *text, const char *const *expect, size_t n)
{
	char path[64] = "/tmp/kgate-metrics-XXXXXX", src[512], out[4096];
	char *argv[64];
	int fd = mkstemp(path), rc;
	size_t k = 0;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	argv[k++] = "/usr/bin/python3";
	argv[k++] = (char *)harness_src_path("test/integration/check_metrics.py", src, sizeof(src));
	argv[k++] = path;
	for (size_t i = 0; i < n && k < 63; i++)
		argv[k++] = (char *)expect[i];
	argv[k] = NULL;
	rc = harness_run(argv, out, sizeof(out));
	unlink(path);
	ck_assert_msg(rc == 0, "%s", out);
	fprintf(stderr, "0011: %s", out);
}

START_TEST(test_metrics_health_brokers)
{
	static const char *const expect[] = {
		"kgate_requests_total{api=\"Produce\"} > 0",
		"kgate_requests_total{api=\"Metadata\"} > 0",
		"kgate_responses_total{api=\"Produce\"} > 0",
		"kgate_responses_rewritten_total{api=\"Metadata\"} > 0",
		"kgate_upstream_response_seconds_count{api=\"Produce\"} > 0",
		"kgate_upstream_response_seconds_bucket{api=\"Produce\",le=\"+Inf\"} > 0",
		"kgate_upstream_response_seconds_bucket{api=\"Produce\",le=\"30\"} > 0",
		"kgate_connections_accepted_total{listener=\"bootstrap\"} >= 1",
		"kgate_connections_open >= 0",
		"kgate_bytes_to_upstream_total > 1000",
		"kgate_endpoints_rewritten_total > 0",
		"kgate_protocol_errors_total == 0",
		"kgate_broker_up{broker=\"1\"} == 1",
		"kgate_brokers_known == 3",
		"kgate_config_generation == 1",
		"kgate_reloads_total{result=\"failure\"} == 0",
		"kgate_draining == 0",
		"kgate_build_info == 1",
		"process_open_fds > 5",
		"process_max_fds > 100",
		"process_resident_memory_bytes > 1000000",
		"process_cpu_seconds_total >= 0",
		"process_start_time_seconds > 1700000000",
	};
	struct broker_view view;
	struct delivery d;
	struct mock m;
	struct kgate k;
	rd_kafka_t *rk;
	char *body, *cfg, extra[256];
	json_t *brokers;
	json_error_t jerr;

	start_with_admin(&m, &k, 1000, NULL);
	ck_assert_int_eq(wait_status("/readyz", 200, NULL), 200);
	view_init(&view);
	rk = producer_new(k.bootstrap, &view, &d);
	produce_ids(rk, TOPIC, 0, 2000);
	wait_deliveries(rk, &d, 2000, 60);
	ck_assert_int_eq(d.failed, 0);
	rd_kafka_destroy(rk);

	ck_assert_int_eq(http_get(admin_port, "/metrics", &body), 200);
	check_metrics(body, expect, sizeof(expect) / sizeof(expect[0]));
	free(body);

	ck_assert_int_eq(http_get(admin_port, "/healthz", &body), 200);
	ck_assert_str_eq(body, "ok\n");
	free(body);

	ck_assert_int_eq(http_get(admin_port, "/brokers", &body), 200);
	brokers = json_loads(body, 0, &jerr);
	ck_assert_msg(brokers != NULL, "/brokers is not JSON: %s", jerr.text);
	ck_assert_uint_eq(json_object_size(brokers), 3);
	for (int id = 1; id <= 3; id++) {
		char key[8];
		json_t *b, *up;

		snprintf(key, sizeof(key), "%d", id);
		b = json_object_get(brokers, key);
		ck_assert_ptr_nonnull(b);
		up = json_object_get(b, "upstream");
		ck_assert_str_eq(json_string_value(json_object_get(b, "advertise")),
				 k.broker_addr[id - 1]);
		ck_assert_str_eq(json_string_value(json_object_get(up, "source")), "learned");
		ck_assert_str_eq(json_string_value(json_object_get(up, "address")), m.addr[id - 1]);
		ck_assert_str_eq(json_string_value(json_object_get(b, "state")), "up");
	}
	json_decref(brokers);
	free(body);

	ck_assert_int_eq(http_get(admin_port, "/nope", NULL), 404);

	/* Broker 3 removed by a reload: its health is no longer exported,
	 * or an alert on kgate_broker_up would follow a broker kgate no
	 * longer fronts, frozen, until a restart. */
	k.n_brokers = 2;
	snprintf(extra, sizeof(extra),
		 "\"admin\": { \"listen\": \"127.0.0.1:%d\", \"probe_interval_ms\": 1000 }",
		 admin_port);
	cfg = kgate_config_for_mock(&k, &m, 0, extra);
	ck_assert_int_eq(kgate_reload(&k, cfg), 1);
	free(cfg);
	ck_assert(wait_metric("kgate_config_generation 2"));
	ck_assert_int_eq(http_get(admin_port, "/metrics", &body), 200);
	ck_assert_ptr_nonnull(strstr(body, "kgate_broker_up{broker=\"2\"} 1"));
	ck_assert_ptr_null(strstr(body, "kgate_broker_up{broker=\"3\"}"));
	free(body);
	ck_assert_int_eq(kgate_stop(&k), 0);
	mock_stop(&m);
}
END_TEST

START_TEST(test_readyz_follows_cluster_and_drain)
{
	/* ApiVersions v0, correlation 7. */
	static const uint8_t req[] = {0, 0, 0, 11, 0, 18, 0, 0, 0, 0, 0, 7, 0, 1, 'c'};
	uint8_t size_be[4], *resp;
	struct mock m;
	struct kgate k;
	char *body;
	int fd, status;

	/* A drain long enough for the answer held below (10 s). */
	start_with_admin(&m, &k, 200, "{ \"drain_timeout_ms\": 60000 }");
	ck_assert_int_eq(wait_status("/readyz", 200, NULL), 200);
	/* The whole cluster down: kgate's own requests go unanswered. */
	for (int id = 1; id <= 3; id++)
		ck_assert_int_eq(rd_kafka_mock_broker_set_down(m.mc, id), 0);
	ck_assert_int_eq(wait_status("/readyz", 503, &body), 503);
	ck_assert_msg(strstr(body, "cluster does not answer") || strstr(body, "no answer"),
		      "%s", body);
	free(body);
	for (int id = 1; id <= 3; id++)
		ck_assert_int_eq(rd_kafka_mock_broker_set_up(m.mc, id), 0);
	ck_assert_int_eq(wait_status("/readyz", 200, NULL), 200);

	/* A request in flight when the drain starts: its answer comes late
	 * (the mock delays everything 10 s, time for the checks below on a
	 * loaded machine) and is still delivered, and meanwhile kgate says it
	 * is not ready. */
	for (int id = 1; id <= 3; id++)
		ck_assert_int_eq(rd_kafka_mock_broker_set_rtt(m.mc, id, 10000), 0);
	fd = raw_connect(k.bootstrap_port);
	ck_assert_int_eq(raw_send(fd, req, sizeof(req)), 0);
	/* Forwarded, not yet answered: that is what the drain must finish. */
	ck_assert_msg(wait_metric("kgate_requests_total{api=\"ApiVersions\"} 1"),
		      "the request was not forwarded");
	ck_assert_int_eq(kill(k.pid, SIGTERM), 0);
	ck_assert(kgate_wait_log(&k, "draining:", 1, 10000));
	status = http_get(admin_port, "/readyz", &body);
	ck_assert_int_eq(status, 503);
	ck_assert_str_eq(body, "draining: kgate is stopping\n");
	free(body);
	ck_assert_int_eq(raw_recv(fd, size_be, 4), 0);
	resp = malloc((size_t)kbuf_get_i32(size_be));
	ck_assert_int_eq(raw_recv(fd, resp, (size_t)kbuf_get_i32(size_be)), 0);
	ck_assert_int_eq(kbuf_get_i32(resp), 7); /* our correlation id */
	free(resp);
	/* Then the pair closes between requests, and kgate exits by itself
	 * with success, even while an impatient orchestrator repeats SIGTERM
	 * through the drain's end and kgate's exit. */
	ck_assert(raw_wait_closed(fd, 10000));
	close(fd);
	ck_assert_int_eq(kgate_wait_exit(&k, SIGTERM, 10000), 0);
	ck_assert(kgate_log_contains(&k, "1 requests in flight"));
	ck_assert(kgate_log_contains(&k, "drained: every connection closed between requests"));
	mock_stop(&m);
}
END_TEST

/* Admin clients that send half a request, or ask and never read, cost
 * forwarding nothing: a producer through kgate meanwhile is served. */
START_TEST(test_hostile_admin_clients)
{
	enum { STALLED = 200 };
	static int fds[STALLED];
	struct broker_view view;
	struct delivery d;
	struct mock m;
	struct kgate k;
	rd_kafka_t *rk;

	start_with_admin(&m, &k, 1000, NULL);
	for (int i = 0; i < STALLED; i++) {
		const char *half = i % 2 ? "GET /metrics HTTP/1.1\r\nHost: x" : "GET /metrics HTTP/1.1\r\n\r\n";

		fds[i] = raw_connect(admin_port);
		ck_assert_int_eq(raw_send(fds[i], half, strlen(half)), 0);
	}
	view_init(&view);
	rk = producer_new(k.bootstrap, &view, &d);
	produce_ids(rk, TOPIC, 0, 20000);
	wait_deliveries(rk, &d, 20000, 60);
	ck_assert_int_eq(d.delivered, 20000);
	rd_kafka_destroy(rk);
	ck_assert_int_eq(http_get(admin_port, "/healthz", NULL), 200);
	for (int i = 0; i < STALLED; i++)
		close(fds[i]);
	ck_assert_int_eq(kgate_stop(&k), 0);
	mock_stop(&m);
}
END_TEST

/* log.format json: every line kgate writes is one JSON object; a line
 * about a connection begins with its number, and those of the second
 * worker carry "worker": 1 (the first's carry none). */
START_TEST(test_json_logs)
{
	enum { CONNECTIONS = 64 };
	struct mock m;
	struct kgate k;
	char *cfg, line[4096];
	FILE *f;
	int lines = 0, by_worker[2] = {0, 0};

	mock_start(&m, 1);
	kgate_plan(&k, 1);
	cfg = kgate_config_for_mock(&k, &m, 0, "\"log\": { \"format\": \"json\" }, \"workers\": 2");
	kgate_start(&k, cfg);
	free(cfg);
	/* Protocol errors, logged as warnings, spread over both workers. */
	for (int i = 0; i < CONNECTIONS; i++)
		ck_assert_int_eq(http_get(k.bootstrap_port, "/", NULL), -1);
	ck_assert_int_eq(kgate_stop(&k), 0);
	f = fopen(k.log_path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		json_error_t jerr;
		json_t *o = json_loads(line, 0, &jerr), *worker;
		const char *msg, *level;

		ck_assert_msg(o != NULL, "not JSON: %s", line);
		ck_assert(json_is_string(json_object_get(o, "time")));
		ck_assert(json_is_string(json_object_get(o, "level")));
		ck_assert(json_is_string(json_object_get(o, "msg")));
		msg = json_string_value(json_object_get(o, "msg"));
		level = json_string_value(json_object_get(o, "level"));
		worker = json_object_get(o, "worker");
		ck_assert_msg(!worker || json_integer_value(worker) == 1, "%s", line);
		if (strcmp(level, "warn") == 0 && strstr(msg, " 127.0.0.1:") && msg[0] == '[')
			by_worker[worker ? 1 : 0]++;
		json_decref(o);
		lines++;
	}
	fclose(f);
	ck_assert_int_gt(lines, 3);
	/* 64 connections all hashed to one worker: a 1 in 2^63 chance. */
	ck_assert_int_gt(by_worker[0], 0);
	ck_assert_int_gt(by_worker[1], 0);
	ck_assert_int_ge(by_worker[0] + by_worker[1], CONNECTIONS);
	mock_stop(&m);
}
END_TEST

TCase *tcase_0011_admin(void)
{
	TCase *tc = tcase_create("0011 admin endpoint");

	tcase_add_test(tc, test_metrics_health_brokers);
	tcase_add_test(tc, test_readyz_follows_cluster_and_drain);
	tcase_add_test(tc, test_hostile_admin_clients);
	tcase_add_test(tc, test_json_logs);
	tcase_set_timeout(tc, 180);
	return tc;
}
