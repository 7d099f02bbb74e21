/* 0007_tls.c — TLS on both sides of kgate: librdkafka over TLS to kgate's
 * listeners; kgate originating TLS (with a client certificate) to another
 * kgate that terminates it; brokers whose certificates are expired, for
 * another name or from an unknown CA (openssl s_server plays them); and
 * clients that get TLS wrong — plaintext to a TLS listener, a handshake cut
 * short, handshakes that never finish — each closed with a reason while
 * kgate's memory stays bounded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/clients.h"
#include "itests.h"

#define TOPIC "secure"
#define MESSAGES 10000

/* kgate's TLS block for serving clients, with the test PKI. */
static void tls_listen_json(char *buf, size_t len, const char *extra)
{
	snprintf(buf, len,
		 "\"tls\": { \"listen\": { \"cert\": \"%s\", \"key\": \"%s\"%s } }",
		 cert_path(0, "gateway.pem"), cert_path(1, "gateway.key"), extra ? extra : "");
}

/* librdkafka configuration for TLS to kgate. */
static void client_tls(rd_kafka_conf_t *conf)
{
	conf_set(conf, "security.protocol", "ssl");
	conf_set(conf, "ssl.ca.location", cert_path(2, "ca.pem"));
}

/* Produces and reads back MESSAGES through bootstrap, TLS on or off. */
static void round_trip(const struct kgate *kg, int tls)
{
	struct broker_view pview, cview;
	struct delivery d;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	char errstr[256];

	view_init(&pview);
	conf = producer_conf(kg->bootstrap, &pview, &d);
	if (tls)
		client_tls(conf);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	ck_assert_msg(rk != NULL, "%s", errstr);
	produce_ids(rk, TOPIC, 0, MESSAGES);
	wait_deliveries(rk, &d, MESSAGES, 60);
	metadata_assert_gateway_only(rk, kg);
	view_refresh(rk, &pview);
	view_assert_gateway_only(&pview, kg);
	rd_kafka_destroy(rk);

	view_init(&cview);
	conf = client_conf(kg->bootstrap, &cview);
	conf_set(conf, "group.id", "kgate-0007");
	if (tls)
		client_tls(conf);
	rk = consumer_assign_from_start(conf, TOPIC, 3);
	consume_exactly_once(rk, MESSAGES, 60);
	view_refresh(rk, &cview);
	view_assert_gateway_only(&cview, kg);
	consumer_destroy(rk);
}

START_TEST(test_tls_to_clients)
{
	struct mock mock;
	struct kgate kg;
	char tls[1024], *cfg;

	mock_start(&mock, 3);
	rd_kafka_mock_topic_create(mock.mc, TOPIC, 3, 3);
	kgate_plan(&kg, 3);
	tls_listen_json(tls, sizeof(tls), NULL);
	cfg = kgate_config_for_mock(&kg, &mock, 0, tls);
	kgate_start(&kg, cfg);
	free(cfg);
	round_trip(&kg, 1);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "tls_failures=0 "));
	ck_assert(kgate_log_contains(&kg, "protocol_errors=0 "));
	mock_stop(&mock);
}
END_TEST

/* kgate A (plaintext to clients) originates TLS, with a client certificate,
 * to kgate B, which terminates it and requires client certificates. */
START_TEST(test_tls_to_brokers_with_client_certificate)
{
	struct mock mock;
	struct kgate a, b;
	char tls[1024], json[4096], *cfg;
	size_t n = 0;

	mock_start(&mock, 3);
	rd_kafka_mock_topic_create(mock.mc, TOPIC, 3, 3);
	kgate_plan(&b, 3);
	snprintf(tls, sizeof(tls),
		 "\"tls\": { \"listen\": { \"cert\": \"%s\", \"key\": \"%s\", "
		 "\"client_auth\": \"require\", \"ca\": \"%s\" } }",
		 cert_path(0, "gateway.pem"), cert_path(1, "gateway.key"), cert_path(2, "ca.pem"));
	cfg = kgate_config_for_mock(&b, &mock, 1, tls);
	kgate_start(&b, cfg);
	free(cfg);
	/* A learns B's addresses from the Metadata B sends (127.0.0.1:port). */
	kgate_plan(&a, 3);
	n += (size_t)snprintf(json + n, sizeof(json) - n,
			      "{ \"bootstrap\": { \"listen\": \"%s\", \"upstream\": [\"%s\"] },"
			      "  \"brokers\": [",
			      a.bootstrap, b.bootstrap);
	for (int i = 0; i < 3; i++)
		n += (size_t)snprintf(json + n, sizeof(json) - n,
				      "%s { \"id\": %d, \"listen\": \"%s\", \"advertise\": \"%s\" }",
				      i ? "," : "", i + 1, a.broker_addr[i], a.broker_addr[i]);
	snprintf(json + n, sizeof(json) - n,
		 " ], \"tls\": { \"upstream\": { \"ca\": \"%s\", \"cert\": \"%s\", \"key\": \"%s\" } } }",
		 cert_path(0, "ca.pem"), cert_path(1, "client.pem"), cert_path(2, "client.key"));
	kgate_start(&a, json);
	round_trip(&a, 0);
	ck_assert_int_eq(kgate_stop(&a), 0);
	ck_assert_int_eq(kgate_stop(&b), 0);
	ck_assert(kgate_log_contains(&a, "tls_failures=0 "));
	ck_assert(kgate_log_contains(&b, "tls_failures=0 "));
	/* Every broker A dialled was B, over TLS. */
	ck_assert(kgate_log_contains(&a, "upstreams over TLS"));
	mock_stop(&mock);
}
END_TEST

/* A broker (openssl s_server) with a bad certificate: kgate refuses it and
 * says why; the client is closed. */
static void bad_broker(const char *cert, const char *key, const char *ca,
		       const char *expected_log)
{
	struct kgate kg;
	char json[2048], port_s[16], log[512];
	int port = harness_free_port(), fd;
	pid_t server;
	char *argv[] = {"openssl", "s_server", "-accept", port_s, "-cert", (char *)cert, "-key",
			(char *)key, "-quiet", "-naccept", "100", NULL};

	snprintf(port_s, sizeof(port_s), "127.0.0.1:%d", port);
	snprintf(log, sizeof(log), "%s/s_server-%d.log",
		 getenv("KGATE_TEST_TMP") ? getenv("KGATE_TEST_TMP") : "/tmp", port);
	server = harness_spawn(argv, log);
	harness_wait_port(port);
	kgate_plan(&kg, 1);
	snprintf(json, sizeof(json),
		 "{ \"bootstrap\": { \"listen\": \"%s\", \"upstream\": [\"localhost:%d\"] },"
		 "  \"brokers\": [ { \"id\": 1, \"listen\": \"%s\", \"advertise\": \"%s\","
		 " \"upstream\": \"localhost:%d\" } ],"
		 "  \"tls\": { \"upstream\": { \"ca\": \"%s\", \"server_name\": \"localhost\" } } }",
		 kg.bootstrap, port, kg.broker_addr[0], kg.broker_addr[0], port, ca);
	kgate_start(&kg, json);
	fd = raw_connect(kg.broker_port[0]);
	ck_assert(raw_wait_closed(fd, 20000));
	close(fd);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	harness_kill(server);
	ck_assert_msg(kgate_log_contains(&kg, expected_log), "no log line \"%s\"", expected_log);
	ck_assert(!kgate_log_contains(&kg, "upstream_connect_failures=0 "));
}

START_TEST(test_broker_certificate_expired)
{
	bad_broker(cert_path(4, "expired.pem"), cert_path(5, "expired.key"),
		   cert_path(6, "ca.pem"), "certificate does not verify: certificate has expired");
}
END_TEST

START_TEST(test_broker_certificate_wrong_host)
{
	bad_broker(cert_path(4, "wrong-host.pem"), cert_path(5, "wrong-host.key"),
		   cert_path(6, "ca.pem"), "certificate does not verify: hostname mismatch");
}
END_TEST

START_TEST(test_broker_certificate_unknown_ca)
{
	bad_broker(cert_path(4, "untrusted.pem"), cert_path(5, "untrusted.key"),
		   cert_path(6, "ca.pem"),
		   "certificate does not verify: unable to get local issuer certificate");
}
END_TEST

START_TEST(test_tls_to_plaintext_broker)
{
	struct mock mock;
	struct kgate kg;
	char tls[512], *cfg;
	int fd;

	mock_start(&mock, 1);
	kgate_plan(&kg, 1);
	snprintf(tls, sizeof(tls), "\"tls\": { \"upstream\": { \"ca\": \"%s\" } }",
		 cert_path(0, "ca.pem"));
	cfg = kgate_config_for_mock(&kg, &mock, 1, tls);
	kgate_start(&kg, cfg);
	free(cfg);
	fd = raw_connect(kg.broker_port[0]);
	ck_assert(raw_wait_closed(fd, 20000));
	close(fd);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "closed the connection during the TLS handshake: is it "
					  "a TLS listener?"));
	mock_stop(&mock);
}
END_TEST

/* Clients that get TLS wrong, then one that gets it right. */
START_TEST(test_bad_tls_clients)
{
	static const uint8_t api_versions[] = {0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 1, 0, 0};
	/* The first bytes of a TLS 1.2 ClientHello: a record header and a bit. */
	static const uint8_t hello_start[] = {0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00,
					      0xc4, 0x03, 0x03};
	struct mock mock;
	struct kgate kg;
	char tls[1024], *cfg;
	int fds[200], fd;

	mock_start(&mock, 3);
	rd_kafka_mock_topic_create(mock.mc, TOPIC, 3, 3);
	kgate_plan(&kg, 3);
	tls_listen_json(tls, sizeof(tls), ", \"handshake_timeout_ms\": 5000");
	cfg = kgate_config_for_mock(&kg, &mock, 0, tls);
	kgate_start(&kg, cfg);
	free(cfg);

	/* Plaintext Kafka to a TLS listener. */
	fd = raw_connect(kg.bootstrap_port);
	ck_assert_int_eq(raw_send(fd, api_versions, sizeof(api_versions)), 0);
	ck_assert(raw_wait_closed(fd, 20000));
	close(fd);
	/* A handshake cut short by the client. */
	fd = raw_connect(kg.broker_port[0]);
	ck_assert_int_eq(raw_send(fd, hello_start, sizeof(hello_start)), 0);
	close(fd);
	/* 200 handshakes that never finish: each is closed at the deadline. */
	for (int i = 0; i < 200; i++) {
		fds[i] = raw_connect(kg.broker_port[i % 3]);
		ck_assert_int_eq(raw_send(fds[i], hello_start, sizeof(hello_start)), 0);
	}
	for (int i = 0; i < 200; i++) {
		ck_assert_msg(raw_wait_closed(fds[i], 30000), "stalled handshake %d not closed", i);
		close(fds[i]);
	}
	kgate_assert_peak_rss(&kg, "0007: 200 stalled TLS handshakes", 64 * 1024);
	/* ... and a well-behaved client is served as ever. */
	round_trip(&kg, 1);
	ck_assert_msg(kgate_wait_log(&kg, "did not complete the TLS handshake within 5000 ms", 200,
				     20000),
		      "not every stalled handshake was logged");
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "client sent plaintext (not TLS) to TLS listener " ));
	mock_stop(&mock);
}
END_TEST

TCase *tcase_0007_tls(void)
{
	TCase *tc = tcase_create("0007 TLS");

	tcase_add_test(tc, test_tls_to_clients);
	tcase_add_test(tc, test_tls_to_brokers_with_client_certificate);
	tcase_add_test(tc, test_broker_certificate_expired);
	tcase_add_test(tc, test_broker_certificate_wrong_host);
	tcase_add_test(tc, test_broker_certificate_unknown_ca);
	tcase_add_test(tc, test_tls_to_plaintext_broker);
	tcase_add_test(tc, test_bad_tls_clients);
	tcase_set_timeout(tc, 300);
	return tc;
}
