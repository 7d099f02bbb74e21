/* 0017_workers.c — kgate on two worker threads: new connections spread
 * over both (SO_REUSEPORT), /metrics sums both workers' counters exactly,
 * a producer and a consumer group lose and duplicate nothing, a reload
 * gives every worker the new listeners and takes the removed ones from
 * every worker (and one that fails on a worker is undone on all), a drain
 * is one drain (said once, every worker's clients closed), a TLS session
 * resumes whichever worker the client reaches, and a second
 * kgate cannot take half of the first one's connections by binding the
 * same ports.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../lib/clients.h"
#include "itests.h"

#define TOPIC "workers"
#define PARTITIONS 6
#define CONNECTIONS 64

static int admin_port;

/* kgate with two workers in front of brokers 1..n_fronted of m (ports
 * planned for every broker of k), with an admin endpoint. */
static char *config_for(const struct kgate *k, const struct mock *m, int n_fronted, int workers)
{
	struct kgate view = *k;
	char extra[256];

	view.n_brokers = n_fronted;
	snprintf(extra, sizeof(extra),
		 "\"workers\": %d, \"admin\": { \"listen\": \"127.0.0.1:%d\" }", workers,
		 admin_port);
	return kgate_config_for_mock(&view, m, 0, extra);
}

static void start(struct mock *m, struct kgate *k, int n_fronted, int workers)
{
	char *cfg;

	mock_start(m, 3);
	ck_assert_int_eq(rd_kafka_mock_topic_create(m->mc, TOPIC, PARTITIONS, 3), 0);
	kgate_plan(k, 3);
	admin_port = harness_free_port();
	cfg = config_for(k, m, n_fronted, workers);
	kgate_start(k, cfg);
	free(cfg);
}

/* Waits (failsafe deadline) until /readyz answers 200: the cluster
 * answered kgate's own Metadata request, whose socket is closed then. */
static void wait_ready(void)
{
	int64_t deadline = harness_now_ms() + 30000;

	while (http_get(admin_port, "/readyz", NULL) != 200) {
		ck_assert_msg(harness_now_ms() < deadline, "/readyz never answered 200");
		usleep(20000);
	}
}

/* The value of the sample `series` (name and labels, exactly) in /metrics. */
static uint64_t metric(const char *series)
{
	char *body = NULL, *at, want[160];
	uint64_t v;

	ck_assert_int_eq(http_get(admin_port, "/metrics", &body), 200);
	snprintf(want, sizeof(want), "\n%s ", series);
	at = strstr(body, want);
	ck_assert_msg(at != NULL, "no %s in /metrics", series);
	v = strtoull(at + strlen(want), NULL, 10);
	free(body);
	return v;
}

/* Waits (failsafe deadline) until `series` reads want. */
static void wait_metric(const char *series, uint64_t want)
{
	int64_t deadline = harness_now_ms() + 20000;
	uint64_t v;

	while ((v = metric(series)) != want) {
		ck_assert_msg(harness_now_ms() < deadline, "%s: %" PRIu64 ", waited for %" PRIu64,
			      series, v, want);
		usleep(20000);
	}
}

static uint64_t accepted_by(int worker)
{
	char series[96];

	snprintf(series, sizeof(series), "kgate_worker_connections_accepted_total{worker=\"%d\"}",
		 worker);
	return metric(series);
}

/* n connections to port, held open (fds[n]); each is kgate's once it is
 * counted open. */
static void connect_n(int port, int *fds, int n)
{
	for (int i = 0; i < n; i++) {
		fds[i] = raw_connect(port);
		ck_assert_int_ge(fds[i], 0);
	}
}

/* 1 if nothing listens on 127.0.0.1:port (the connection is refused). */
static int refused(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	ck_assert_int_ge(fd, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno == ECONNREFUSED;
	close(fd);
	return rc;
}

/* Client connections open now, over every worker. */
static uint64_t open_total(void)
{
	return metric("kgate_worker_connections_open{worker=\"0\"}") +
	       metric("kgate_worker_connections_open{worker=\"1\"}");
}

static void wait_open_total(uint64_t want)
{
	int64_t deadline = harness_now_ms() + 20000;
	uint64_t v;

	while ((v = open_total()) != want) {
		ck_assert_msg(harness_now_ms() < deadline, "%" PRIu64 " open, waited for %" PRIu64, v,
			      want);
		usleep(20000);
	}
}

static void close_n(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

/* Connections spread over both workers; every counter in /metrics is both
 * workers' sum, to the connection; a producer and a two-member group
 * through them lose and duplicate nothing. */
START_TEST(test_load_spreads_and_counts_add_up)
{
	enum { MESSAGES = 20000 };
	struct group_member members[2];
	struct broker_view pview;
	struct ledger ledger;
	struct delivery d;
	struct mock m;
	struct kgate k;
	rd_kafka_t *producer;
	int fds[CONNECTIONS];
	uint64_t w0, w1;

	start(&m, &k, 3, 2);
	wait_metric("kgate_workers", 2);
	connect_n(k.bootstrap_port, fds, CONNECTIONS);
	wait_metric("kgate_connections_open{listener=\"bootstrap\"}", CONNECTIONS);
	close_n(fds, CONNECTIONS);
	wait_metric("kgate_connections_open{listener=\"bootstrap\"}", 0);
	/* Exact: one worker's counters alone would be about half. */
	ck_assert_uint_eq(metric("kgate_connections_accepted_total{listener=\"bootstrap\"}"),
			  CONNECTIONS);
	w0 = accepted_by(0);
	w1 = accepted_by(1);
	fprintf(stderr, "0017: %d connections: worker 0 took %" PRIu64 ", worker 1 %" PRIu64 "\n",
		CONNECTIONS, w0, w1);
	/* The kernel hashes each connection's addresses: all 64 on one
	 * worker would be a 1 in 2^63 chance, or a listener only one has. */
	ck_assert_uint_gt(w0, 0);
	ck_assert_uint_gt(w1, 0);
	ck_assert_uint_eq(w0 + w1, CONNECTIONS);

	ledger_init(&ledger, MESSAGES);
	group_member_start(&members[0], k.bootstrap, "kgate-0017", TOPIC, &ledger);
	group_member_start(&members[1], k.bootstrap, "kgate-0017", TOPIC, &ledger);
	group_wait_settled(members, 2, PARTITIONS, 60);
	view_init(&pview);
	producer = producer_new(k.bootstrap, &pview, &d);
	produce_ids(producer, TOPIC, 0, MESSAGES);
	wait_deliveries(producer, &d, MESSAGES, 120);
	ck_assert_int_eq(atomic_load(&d.failed), 0);
	for (int64_t deadline = harness_now_ms() + 120000; ledger_received(&ledger) < MESSAGES;) {
		ck_assert_msg(harness_now_ms() < deadline, "consumed %lld of %d",
			      (long long)ledger_received(&ledger), MESSAGES);
		rd_kafka_poll(producer, 50);
	}
	ledger_assert_exactly_once(&ledger);
	view_refresh(producer, &pview);
	view_assert_gateway_only(&pview, &k);
	group_member_stop(&members[0]);
	group_member_stop(&members[1]);
	view_assert_gateway_only(&members[0].view, &k);
	view_assert_gateway_only(&members[1].view, &k);
	rd_kafka_destroy(producer);

	/* Every connection counted once: the workers' shares add up to the
	 * listeners' and to the total, and what the clients left is closed. */
	wait_open_total(0);
	ck_assert_uint_eq(accepted_by(0) + accepted_by(1),
			  metric("kgate_connections_accepted_total{listener=\"bootstrap\"}") +
				  metric("kgate_connections_accepted_total{listener=\"broker-1\"}") +
				  metric("kgate_connections_accepted_total{listener=\"broker-2\"}") +
				  metric("kgate_connections_accepted_total{listener=\"broker-3\"}"));
	ck_assert_uint_eq(metric("kgate_requests_total{api=\"Produce\"}"),
			  metric("kgate_responses_total{api=\"Produce\"}"));
	ck_assert_uint_ge(metric("kgate_bytes_to_upstream_total{listener=\"broker-1\"}") +
				  metric("kgate_bytes_to_upstream_total{listener=\"broker-2\"}") +
				  metric("kgate_bytes_to_upstream_total{listener=\"broker-3\"}"),
			  (uint64_t)MESSAGES * 100);

	ck_assert_int_eq(kgate_stop(&k), 0);
	/* Lines from the second worker say which it is; the first's do not. */
	ck_assert(kgate_log_contains(&k, "2 workers, one event loop each"));
	ck_assert(kgate_log_contains(&k, "[worker 1] "));
	ck_assert(!kgate_log_contains(&k, "[worker 0]"));
	ck_assert(kgate_log_contains(&k, "protocol_errors=0"));
	ck_assert(!kgate_log_contains(&k, " error "));
	ledger_free(&ledger);
	mock_stop(&m);
}
END_TEST

/* A reload reaches every worker: a listener added is served by both, one
 * removed is closed on both.  A drain is one drain across the workers. */
START_TEST(test_reload_and_drain_reach_every_worker)
{
	struct mock m;
	struct kgate k;
	int fds[CONNECTIONS];
	uint64_t w0, w1;
	char *cfg;

	start(&m, &k, 2, 2);
	/* Broker 3's listener comes with a reload. */
	ck_assert(refused(k.broker_port[2]));
	w0 = accepted_by(0);
	w1 = accepted_by(1);
	cfg = config_for(&k, &m, 3, 2);
	ck_assert(kgate_reload(&k, cfg));
	free(cfg);
	connect_n(k.broker_port[2], fds, CONNECTIONS);
	wait_metric("kgate_connections_open{listener=\"broker-3\"}", CONNECTIONS);
	close_n(fds, CONNECTIONS);
	ck_assert_uint_gt(accepted_by(0), w0);
	ck_assert_uint_gt(accepted_by(1), w1);
	ck_assert_uint_eq(accepted_by(0) - w0 + accepted_by(1) - w1, CONNECTIONS);
	ck_assert_int_eq(kgate_log_count(&k, "reloaded the configuration: generation 2"), 1);
	ck_assert_int_eq(kgate_log_count(&k, "broker 3 listening on"), 1);
	ck_assert_uint_eq(metric("kgate_reloads_total{result=\"success\"}"), 1);

	/* Removed again, and the thread count asked to change: that waits
	 * for a restart, and says so. */
	cfg = config_for(&k, &m, 2, 3);
	ck_assert(kgate_reload(&k, cfg));
	free(cfg);
	ck_assert(kgate_log_contains(&k, "workers: 3 from the next start; the threads running "
					 "stay 2"));
	/* Neither worker accepts there now: every attempt is refused. */
	for (int i = 0; i < CONNECTIONS; i++)
		ck_assert_msg(refused(k.broker_port[2]), "attempt %d reached a removed listener", i);
	ck_assert_uint_eq(metric("kgate_workers"), 2);

	/* Clients held on both workers; a drain closes every one of them
	 * (idle, so between requests) and is said once. */
	wait_open_total(0);
	w0 = accepted_by(0);
	w1 = accepted_by(1);
	connect_n(k.bootstrap_port, fds, CONNECTIONS);
	wait_open_total(CONNECTIONS);
	ck_assert_uint_gt(accepted_by(0), w0);
	ck_assert_uint_gt(accepted_by(1), w1);
	ck_assert_int_eq(kgate_stop(&k), 0);
	for (int i = 0; i < CONNECTIONS; i++)
		ck_assert(raw_wait_closed(fds[i], 1000));
	close_n(fds, CONNECTIONS);
	ck_assert_int_eq(kgate_log_count(&k, "draining: 64 connections"), 1);
	ck_assert_int_eq(kgate_log_count(&k, "drained: every connection closed"), 1);
	ck_assert_int_eq(kgate_log_count(&k, "stats: "), 1);
	ck_assert(kgate_log_contains(&k, "connections_open=0 "));
	mock_stop(&m);
}
END_TEST

/* kgate fronting the brokers with these ids (of k's planned ports: id i
 * listens on broker_port[i-1]), learning their addresses, two workers. */
static char *config_ids(const struct kgate *k, const struct mock *m, const int *ids, int n)
{
	char *json = malloc(4096);
	size_t len;

	ck_assert_ptr_nonnull(json);
	len = (size_t)snprintf(json, 4096,
			       "{ \"bootstrap\": { \"listen\": \"%s\", \"upstream\": [\"%s\"] },\n"
			       "  \"workers\": 2,\n"
			       "  \"admin\": { \"listen\": \"127.0.0.1:%d\", \"probe_interval_ms\": 3600000 },\n"
			       "  \"brokers\": [",
			       k->bootstrap, m->addr[0], admin_port);
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(json + len, 4096 - len,
					"%s { \"id\": %d, \"listen\": \"%s\", \"advertise\": \"%s\" }",
					i ? "," : "", ids[i], k->broker_addr[ids[i] - 1],
					k->broker_addr[ids[i] - 1]);
	snprintf(json + len, 4096 - len, " ] }\n");
	return json;
}

/* A reload worker 0 applies and worker 1 cannot (it runs out of
 * descriptors binding the new listeners) is undone on worker 0 too: both
 * run the old configuration, the listener the new one removed is bound
 * again (by worker 0, alongside worker 1, which never let it go), and a
 * later reload applies cleanly. */
START_TEST(test_reload_undone_when_a_worker_fails)
{
	static const int before[] = {1, 2}, after[] = {1, 3, 4};
	struct rlimit old;
	struct mock m;
	struct kgate k;
	int fds[CONNECTIONS];
	uint64_t w0, w1;
	char *cfg;

	mock_start(&m, 3);
	kgate_plan(&k, 4);
	admin_port = harness_free_port();
	cfg = config_ids(&k, &m, before, 2);
	kgate_start(&k, cfg);
	free(cfg);
	wait_metric("kgate_workers", 2);
	/* kgate's own first Metadata request holds a socket until it is
	 * answered: counted as taken now, it would be one more free below. */
	wait_ready();
	/* Two descriptors free: worker 0 binds brokers 3 and 4 with them and
	 * gives broker 2's back; worker 1 then has one for two listeners. */
	kgate_leave_fds(&k, 2, &old);
	cfg = config_ids(&k, &m, after, 3);
	ck_assert(!kgate_reload(&k, cfg));
	ck_assert_int_eq(prlimit(k.pid, RLIMIT_NOFILE, &old, NULL), 0);
	ck_assert(kgate_log_contains(&k, "reload failed: worker 1: broker 4 listener: cannot "
					 "listen on"));
	ck_assert(!kgate_log_contains(&k, "could not go back"));
	ck_assert_uint_eq(metric("kgate_config_generation"), 1);
	ck_assert_uint_eq(metric("kgate_reloads_total{result=\"failure\"}"), 1);
	/* The old configuration, on both workers. */
	ck_assert(refused(k.broker_port[2]));
	ck_assert(refused(k.broker_port[3]));
	w0 = accepted_by(0);
	w1 = accepted_by(1);
	connect_n(k.broker_port[1], fds, CONNECTIONS);
	wait_open_total(CONNECTIONS);
	close_n(fds, CONNECTIONS);
	ck_assert_uint_gt(accepted_by(0), w0);
	ck_assert_uint_gt(accepted_by(1), w1);
	wait_open_total(0);
	/* With descriptors again, the same reload applies. */
	ck_assert(kgate_reload(&k, cfg));
	free(cfg);
	ck_assert(refused(k.broker_port[1]));
	connect_n(k.broker_port[2], fds, CONNECTIONS);
	wait_open_total(CONNECTIONS);
	close_n(fds, CONNECTIONS);
	ck_assert_uint_eq(metric("kgate_config_generation"), 2);
	ck_assert_int_eq(kgate_stop(&k), 0);
	mock_stop(&m);
}
END_TEST

/* TLS contexts are built once and shared by the workers: a session ticket
 * one worker issued resumes on the other, and every connection gets the
 * same certificate. */
START_TEST(test_tls_sessions_resume_on_every_worker)
{
	enum { RECONNECTS = 32 };
	SSL_SESSION *sess = NULL;
	X509 *first = NULL;
	struct mock m;
	struct kgate k;
	char extra[1024], *cfg;
	SSL_CTX *ctx;
	uint64_t w0, w1;
	int resumed = 0;

	mock_start(&m, 1);
	kgate_plan(&k, 1);
	admin_port = harness_free_port();
	snprintf(extra, sizeof(extra),
		 "\"workers\": 2, \"admin\": { \"listen\": \"127.0.0.1:%d\" },\n"
		 "  \"tls\": { \"listen\": { \"cert\": \"%s\", \"key\": \"%s\" } }",
		 admin_port, cert_path(0, "gateway.pem"), cert_path(1, "gateway.key"));
	cfg = kgate_config_for_mock(&k, &m, 0, extra);
	kgate_start(&k, cfg);
	free(cfg);
	ctx = SSL_CTX_new(TLS_client_method());
	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(SSL_CTX_load_verify_locations(ctx, cert_path(2, "ca.pem"), NULL), 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* TLS 1.2: the ticket comes within the handshake, no read needed. */
	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	w0 = accepted_by(0);
	w1 = accepted_by(1);
	for (int i = 0; i <= RECONNECTS; i++) {
		int fd = raw_connect(k.bootstrap_port);
		SSL *ssl = SSL_new(ctx);
		X509 *cert;

		ck_assert_ptr_nonnull(ssl);
		SSL_set_fd(ssl, fd);
		if (sess)
			SSL_set_session(ssl, sess);
		ck_assert_int_eq(SSL_connect(ssl), 1);
		cert = SSL_get1_peer_certificate(ssl);
		ck_assert_ptr_nonnull(cert);
		if (!first)
			first = cert;
		else {
			ck_assert_int_eq(X509_cmp(first, cert), 0);
			X509_free(cert);
		}
		if (!sess)
			sess = SSL_get1_session(ssl);
		else
			resumed += SSL_session_reused(ssl);
		SSL_shutdown(ssl);
		SSL_free(ssl);
		close(fd);
	}
	fprintf(stderr, "0017: %d of %d TLS reconnections resumed (worker 0 took %" PRIu64
		", worker 1 %" PRIu64 ")\n",
		resumed, RECONNECTS, accepted_by(0) - w0, accepted_by(1) - w1);
	/* Both workers served some: with a context each, about half of the
	 * reconnections would have found a worker that cannot read the ticket. */
	ck_assert_uint_gt(accepted_by(0), w0);
	ck_assert_uint_gt(accepted_by(1), w1);
	ck_assert_int_eq(resumed, RECONNECTS);
	SSL_SESSION_free(sess);
	X509_free(first);
	SSL_CTX_free(ctx);
	ck_assert_int_eq(kgate_stop(&k), 0);
	mock_stop(&m);
}
END_TEST

/* With SO_REUSEPORT on its listeners, a second kgate (same user) could
 * bind the same ports and silently take half the connections: it must
 * refuse to start instead, as it does with one worker. */
START_TEST(test_second_kgate_refused)
{
	char out[4096], *argv[4];
	struct mock m;
	struct kgate k;
	int rc;

	start(&m, &k, 3, 2);
	argv[0] = getenv("KGATE_BIN");
	argv[1] = "--config";
	argv[2] = k.config_path;
	argv[3] = NULL;
	/* Its admin port is taken too: bootstrap comes first, and fails. */
	rc = harness_run(argv, out, sizeof(out));
	ck_assert_msg(rc == 1, "second kgate: status %d: %s", rc, out);
	ck_assert_msg(strstr(out, "bootstrap listener: cannot listen on") != NULL, "%s", out);
	/* The first one still takes every connection. */
	ck_assert_int_eq(kgate_stop(&k), 0);
	mock_stop(&m);
}
END_TEST

/* One worker: no thread of its own, nothing tagged, one loop. */
START_TEST(test_one_worker)
{
	struct mock m;
	struct kgate k;
	int fds[8];

	start(&m, &k, 3, 1);
	wait_metric("kgate_workers", 1);
	connect_n(k.bootstrap_port, fds, 8);
	wait_metric("kgate_worker_connections_open{worker=\"0\"}", 8);
	close_n(fds, 8);
	ck_assert_int_eq(kgate_stop(&k), 0);
	ck_assert(kgate_log_contains(&k, "1 worker, one event loop each"));
	ck_assert(!kgate_log_contains(&k, "[worker "));
	mock_stop(&m);
}
END_TEST

TCase *tcase_0017_workers(void)
{
	TCase *tc = tcase_create("0017 workers");

	tcase_add_test(tc, test_load_spreads_and_counts_add_up);
	tcase_add_test(tc, test_reload_and_drain_reach_every_worker);
	tcase_add_test(tc, test_reload_undone_when_a_worker_fails);
	tcase_add_test(tc, test_tls_sessions_resume_on_every_worker);
	tcase_add_test(tc, test_second_kgate_refused);
	tcase_add_test(tc, test_one_worker);
	tcase_set_timeout(tc, 600);
	return tc;
}
