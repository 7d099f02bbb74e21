/* 0014_reload.c — SIGHUP under traffic: a broker added while a producer
 * and a consumer group run (served from then on, nobody's connection
 * dropped, every message once), a rotated client-side certificate (new
 * handshakes get the new one, an old connection carries on), an invalid
 * configuration (nothing changes), 100 reloads in a row with no
 * descriptor or memory growth, and a reload while kgate's own TLS dial is
 * half-way (its TLS context outlives the listener that lent it).
 */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "../lib/clients.h"
#include "itests.h"

#define TOPIC "reload"
#define PARTITIONS 6

/* kgate in front of the mock's brokers 1..n_fronted (ports planned for all
 * three), learning their addresses; extra goes in the top level. */
static char *config_for(const struct kgate *k, const struct mock *m, int n_fronted,
			const char *extra)
{
	struct kgate view = *k;

	view.n_brokers = n_fronted;
	return kgate_config_for_mock(&view, m, 0, extra);
}

/* A producer on its own thread: ids [0, n), then done. */
struct producing {
	pthread_t thread;
	const char *bootstrap;
	int64_t n;
	struct delivery d;
	int done;
};

static void *produce_all(void *arg)
{
	struct producing *pr = arg;
	struct broker_view view;
	rd_kafka_t *rk;

	view_init(&view);
	rk = producer_new(pr->bootstrap, &view, &pr->d);
	for (int64_t from = 0; from < pr->n; from += 1000) {
		produce_ids(rk, TOPIC, from, from + 1000);
		rd_kafka_poll(rk, 5);
	}
	wait_deliveries(rk, &pr->d, pr->n, 120);
	rd_kafka_destroy(rk);
	pr->done = 1;
	return NULL;
}

/* A broker joins kgate's map by SIGHUP while a producer and a consumer
 * group run through kgate: the group's connections carry on (librdkafka
 * counts no new connection to any of kgate's listeners it had used), and
 * the new listener serves once the new broker leads a partition. */
START_TEST(test_broker_added_under_traffic)
{
	enum { MESSAGES = 60000 };
	static struct client_view before; /* too big for the stack */
	struct producing pr = {.n = MESSAGES};
	struct group_member member;
	struct ledger ledger;
	struct mock m;
	struct kgate k;
	int64_t deadline;
	char *cfg;

	mock_start(&m, 3);
	ck_assert_int_eq(rd_kafka_mock_topic_create(m.mc, TOPIC, PARTITIONS, 3), 0);
	/* Brokers 1 and 2 lead while broker 3 is outside kgate's map: a
	 * client would reach an unmapped broker directly, and have to move
	 * to kgate when it joins — a reconnect whose retried Produce the
	 * mock (unlike Kafka) would append twice. */
	for (int p = 0; p < PARTITIONS; p++)
		ck_assert_int_eq(rd_kafka_mock_partition_set_leader(m.mc, TOPIC, p, 1 + p % 2), 0);
	kgate_plan(&k, 3);
	cfg = config_for(&k, &m, 2, NULL);
	kgate_start(&k, cfg);
	free(cfg);
	ledger_init(&ledger, MESSAGES);
	group_member_start(&member, k.bootstrap, "kgate-0014", TOPIC, &ledger);
	group_wait_settled(&member, 1, PARTITIONS, 120);
	pr.bootstrap = k.bootstrap;
	ck_assert_int_eq(pthread_create(&pr.thread, NULL, produce_all, &pr), 0);
	/* Broker 3 joins kgate's map while both run. */
	deadline = harness_now_ms() + 120000;
	while (pr.d.delivered < MESSAGES / 4 || ledger_received(&ledger) == 0) {
		ck_assert_msg(harness_now_ms() < deadline, "no traffic under way");
		usleep(10000);
	}
	view_refresh(NULL, &member.view);
	view_last(&member.view, &before);
	cfg = config_for(&k, &m, 3, NULL);
	ck_assert_msg(kgate_reload(&k, cfg), "the reload failed");
	free(cfg);
	ck_assert_int_eq(pthread_join(pr.thread, NULL), 0);
	ck_assert_int_eq(pr.d.failed, 0);
	ck_assert_int_eq(pr.d.delivered, MESSAGES);
	/* The new listener serves: broker 3 leads partition 0 now, and the
	 * member's next Fetch there (NOT_LEADER from broker 1, then Metadata)
	 * sends it to broker 3 — after it may have read everything already. */
	ck_assert_int_eq(rd_kafka_mock_partition_set_leader(m.mc, TOPIC, 0, 3), 0);
	deadline = harness_now_ms() + 120000;
	for (;;) {
		view_refresh(NULL, &member.view);
		if (ledger_received(&ledger) >= MESSAGES && view_used(&member.view, k.broker_addr[2]))
			break;
		ck_assert_msg(harness_now_ms() < deadline,
			      "consumed %lld of %d messages; broker 3 (%s) %s",
			      (long long)ledger_received(&ledger), MESSAGES, k.broker_addr[2],
			      view_used(&member.view, k.broker_addr[2]) ? "used" : "never used");
	}
	ledger_assert_exactly_once(&ledger);
	view_assert_gateway_only(&member.view, &k);
	view_assert_no_reconnect(&member.view, &before, &k);
	group_member_stop(&member);
	ledger_free(&ledger);
	ck_assert_int_eq(kgate_stop(&k), 0);
	ck_assert(kgate_log_contains(&k, "reloaded the configuration: generation 2, 3 brokers"));
	ck_assert(kgate_log_contains(&k, "broker 3 listening on"));
	ck_assert(kgate_log_contains(&k, "bootstrap still listening on"));
	/* Nobody was cut off by the reload. */
	ck_assert(!kgate_log_contains(&k, "stopped between two requests"));
	mock_stop(&m);
}
END_TEST

/* The CN of the certificate a TLS client gets from 127.0.0.1:port, and the
 * connection (for later use). */
static SSL *tls_hello(SSL_CTX *ctx, int port, char *cn, size_t len, int *fd)
{
	SSL *ssl = SSL_new(ctx);
	X509 *peer;

	*fd = raw_connect(port);
	ck_assert_ptr_nonnull(ssl);
	SSL_set_fd(ssl, *fd);
	ck_assert_msg(SSL_connect(ssl) == 1, "TLS handshake with kgate failed");
	peer = SSL_get1_peer_certificate(ssl);
	ck_assert_ptr_nonnull(peer);
	X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, (int)len);
	X509_free(peer);
	return ssl;
}

/* An ApiVersions v0 over ssl, answered. */
static int answered(SSL *ssl)
{
	static const uint8_t req[] = {0, 0, 0, 11, 0, 18, 0, 0, 0, 0, 0, 9, 0, 1, 'c'};
	uint8_t size_be[4];

	return SSL_write(ssl, req, sizeof(req)) == (int)sizeof(req) &&
	       SSL_read(ssl, size_be, 4) == 4;
}

START_TEST(test_certificate_rotated)
{
	char tls[1024], *cfg, cn[128];
	struct mock m;
	struct kgate k;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *old, *fresh;
	int old_fd, fresh_fd;

	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(SSL_CTX_load_verify_locations(ctx, cert_path(0, "ca.pem"), NULL), 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	mock_start(&m, 1);
	kgate_plan(&k, 1);
	snprintf(tls, sizeof(tls), "\"tls\": { \"listen\": { \"cert\": \"%s\", \"key\": \"%s\" } }",
		 cert_path(0, "gateway.pem"), cert_path(1, "gateway.key"));
	cfg = kgate_config_for_mock(&k, &m, 1, tls);
	kgate_start(&k, cfg);
	free(cfg);
	old = tls_hello(ctx, k.bootstrap_port, cn, sizeof(cn), &old_fd);
	ck_assert_str_eq(cn, "gateway");
	ck_assert(answered(old));
	/* A new certificate (same CA) for the same listener. */
	snprintf(tls, sizeof(tls), "\"tls\": { \"listen\": { \"cert\": \"%s\", \"key\": \"%s\" } }",
		 cert_path(0, "wrong-host.pem"), cert_path(1, "wrong-host.key"));
	cfg = kgate_config_for_mock(&k, &m, 1, tls);
	ck_assert(kgate_reload(&k, cfg));
	free(cfg);
	fresh = tls_hello(ctx, k.bootstrap_port, cn, sizeof(cn), &fresh_fd);
	ck_assert_str_eq(cn, "wrong-host");
	ck_assert(answered(fresh));
	/* The connection made before carries on. */
	ck_assert(answered(old));
	SSL_free(old);
	SSL_free(fresh);
	close(old_fd);
	close(fresh_fd);
	SSL_CTX_free(ctx);
	ck_assert_int_eq(kgate_stop(&k), 0);
	mock_stop(&m);
}
END_TEST

START_TEST(test_invalid_configuration_changes_nothing)
{
	struct broker_view view;
	struct delivery d;
	struct mock m;
	struct kgate k;
	rd_kafka_t *rk;
	char *cfg;

	mock_start(&m, 3);
	ck_assert_int_eq(rd_kafka_mock_topic_create(m.mc, TOPIC, PARTITIONS, 3), 0);
	kgate_plan(&k, 3);
	cfg = kgate_config_for_mock(&k, &m, 0, NULL);
	kgate_start(&k, cfg);
	free(cfg);
	ck_assert(!kgate_reload(&k, "{ \"bootstrap\": { \"listen\": \"nonsense\" } }"));
	ck_assert(kgate_log_contains(&k, "bootstrap.listen: "));
	ck_assert(kgate_log_contains(&k, "still running generation 1"));
	view_init(&view);
	rk = producer_new(k.bootstrap, &view, &d);
	produce_ids(rk, TOPIC, 0, 1000);
	wait_deliveries(rk, &d, 1000, 60);
	ck_assert_int_eq(d.delivered, 1000);
	rd_kafka_destroy(rk);
	ck_assert_int_eq(kgate_stop(&k), 0);
	mock_stop(&m);
}
END_TEST

START_TEST(test_hundred_reloads_under_traffic)
{
	enum { MESSAGES = 50000 };
	struct producing pr = {.n = MESSAGES};
	struct mock m;
	struct kgate k;
	char *cfgs[2];
	long rss_before, rss_after;
	int fds_before, fds_after;
	int64_t t0;
	rd_kafka_t *consumer;

	mock_start(&m, 3);
	ck_assert_int_eq(rd_kafka_mock_topic_create(m.mc, TOPIC, PARTITIONS, 3), 0);
	/* Brokers 1 and 2 lead while broker 3 is outside kgate's map: a
	 * client would reach an unmapped broker directly, and have to move
	 * to kgate when it joins — a reconnect whose retried Produce the
	 * mock (unlike Kafka) would append twice. */
	for (int p = 0; p < PARTITIONS; p++)
		ck_assert_int_eq(rd_kafka_mock_partition_set_leader(m.mc, TOPIC, p, 1 + p % 2), 0);
	kgate_plan(&k, 3);
	/* Two generations that differ in what each reload re-reads. */
	cfgs[0] = kgate_config_for_mock(&k, &m, 0, "\"limits\": { \"max_inflight\": 1000 }");
	cfgs[1] = kgate_config_for_mock(&k, &m, 0, "\"limits\": { \"max_inflight\": 2000 }");
	kgate_start(&k, cfgs[0]);
	ck_assert(kgate_reload(&k, cfgs[1]));
	fds_before = kgate_fd_count(&k);
	rss_before = kgate_rss_kib(&k, 0);
	pr.bootstrap = k.bootstrap;
	ck_assert_int_eq(pthread_create(&pr.thread, NULL, produce_all, &pr), 0);
	t0 = harness_now_ms();
	for (int i = 0; i < 100; i++)
		ck_assert_msg(kgate_reload(&k, cfgs[i % 2]), "reload %d failed", i);
	fprintf(stderr, "0014: 100 reloads under traffic in %lld ms (SIGHUP to the log line)\n",
		(long long)(harness_now_ms() - t0));
	ck_assert_int_eq(pthread_join(pr.thread, NULL), 0);
	ck_assert_int_eq(pr.d.delivered, MESSAGES);
	consumer = consumer_from_start(k.bootstrap, NULL, TOPIC, PARTITIONS);
	consume_exactly_once(consumer, MESSAGES, 120);
	consumer_destroy(consumer);
	/* Once the clients are gone, what the reloads left behind. */
	for (int64_t deadline = harness_now_ms() + 10000;
	     kgate_fd_count(&k) > fds_before && harness_now_ms() < deadline;)
		usleep(20000);
	fds_after = kgate_fd_count(&k);
	rss_after = kgate_rss_kib(&k, 0);
	fprintf(stderr, "0014: 101 reloads under traffic: fds %d -> %d, RSS %ld -> %ld KiB\n",
		fds_before, fds_after, rss_before, rss_after);
	ck_assert_int_le(fds_after, fds_before);
	/* The traffic's own buffers come and go.  Under ASan its allocator
	 * and quarantine make RSS meaningless, and LeakSanitizer checks
	 * instead: a leak of any size fails that run at kgate's exit. */
	if (!getenv("KGATE_TEST_SANITIZED"))
		ck_assert_int_lt(rss_after - rss_before, 2048);
	ck_assert_int_eq(kgate_stop(&k), 0);
	free(cfgs[0]);
	free(cfgs[1]);
	mock_stop(&m);
}
END_TEST

/* 1 if some socket on the machine is in SYN_SENT towards 127.0.0.1:port
 * (/proc/net/tcp: state 02). */
static int syn_sent_to(int port)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	char line[512], want[32];
	int found = 0;

	ck_assert_ptr_nonnull(f);
	snprintf(want, sizeof(want), "0100007F:%04X 02", port);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, want) != NULL;
	fclose(f);
	return found;
}

/* kgate's own Metadata dial (TLS, to the bootstrap upstream) is held at
 * connect — the upstream's accept queue is full, so its SYN is dropped —
 * while a reload replaces, and frees, the bootstrap listener whose TLS
 * context the dial borrowed.  Then the queue is emptied, the SYN retried
 * gets through and the dial starts TLS: with its own reference to the
 * context.  (Without one, the ASan tier stops kgate on a use after free.) */
START_TEST(test_reload_during_tls_dial)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	char cfg[2048];
	struct kgate k;
	int lfd, filler, held, port, admin;
	int64_t deadline;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 0), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
	port = ntohs(sa.sin_port);
	filler = raw_connect(port); /* the queue's one place */
	kgate_plan(&k, 1);
	admin = harness_free_port();
	snprintf(cfg, sizeof(cfg),
		 "{ \"bootstrap\": { \"listen\": \"%s\", \"upstream\": [\"127.0.0.1:%d\"] },\n"
		 "  \"brokers\": [ { \"id\": 1, \"listen\": \"%s\", \"advertise\": \"%s\" } ],\n"
		 "  \"tls\": { \"upstream\": { \"ca\": \"%s\", \"server_name\": \"localhost\" } },\n"
		 "  \"limits\": { \"connect_timeout_ms\": 30000 },\n"
		 "  \"admin\": { \"listen\": \"127.0.0.1:%d\", \"probe_interval_ms\": 3600000 } }\n",
		 k.bootstrap, port, k.broker_addr[0], k.broker_addr[0], cert_path(0, "ca.pem"),
		 admin);
	kgate_start(&k, cfg);
	/* The admin endpoint's first probe is dialling, held. */
	deadline = harness_now_ms() + 10000;
	while (!syn_sent_to(port)) {
		ck_assert_msg(harness_now_ms() < deadline, "kgate's own dial never started");
		usleep(10000);
	}
	ck_assert_int_eq(kgate_reload(&k, cfg), 1);
	/* Room in the queue: the SYN kgate retries (after 1 s) gets in. */
	held = accept(lfd, NULL, NULL);
	ck_assert_int_ge(held, 0);
	close(held);
	held = accept(lfd, NULL, NULL); /* kgate's dial, connected */
	ck_assert_int_ge(held, 0);
	/* Its ClientHello (a TLS handshake record) proves the context used. */
	{
		struct pollfd pfd = {held, POLLIN, 0};
		uint8_t first = 0;

		ck_assert_int_eq(poll(&pfd, 1, 10000), 1);
		ck_assert_int_eq(recv(held, &first, 1, 0), 1);
		ck_assert_int_eq(first, 0x16);
	}
	/* Not a broker: the handshake fails, and kgate goes on. */
	close(held);
	ck_assert_int_eq(kgate_stop(&k), 0);
	close(filler);
	close(lfd);
}
END_TEST

TCase *tcase_0014_reload(void)
{
	TCase *tc = tcase_create("0014 reload");

	tcase_add_test(tc, test_broker_added_under_traffic);
	tcase_add_test(tc, test_certificate_rotated);
	tcase_add_test(tc, test_invalid_configuration_changes_nothing);
	tcase_add_test(tc, test_hundred_reloads_under_traffic);
	tcase_add_test(tc, test_reload_during_tls_dial);
	tcase_set_timeout(tc, 300);
	return tc;
}
