/* 0009_soak.c — kgate under connection churn: thousands of short-lived
 * clients (raw sockets that finish a request, leave mid-request, mid-frame
 * or with a reset; TLS clients that leave mid-handshake, mid-request or
 * after an answer; short-lived librdkafka clients asking for Metadata, some
 * destroyed before their answer) while an idempotent acks=all producer
 * feeds a two-member consumer group through the same gateway.  Nothing may
 * be lost, and after the churn kgate must hold what it held before it:
 * exactly the descriptors of its listeners and of the connections still
 * open, and its resident memory within a small bound of its warmed-up
 * baseline.
 *
 * Each round churns 1,000 socket clients from four threads and 20
 * librdkafka clients.  KGATE_SOAK_ROUNDS (default 4) sets how many rounds
 * follow the two warm-up rounds, for longer runs by hand;
 * KGATE_SOAK_RSS_SLACK_KIB (default 2048, see SLACK_KIB) the memory bound,
 * which make test-asan raises for ASan's quarantine (see the Makefile).
 * Waits are for conditions (descriptors accounted for, ids consumed), with
 * failsafe deadlines; no verdict depends on timing.
 */
#include <inttypes.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../protocol/kbuf.h"
#include "../lib/clients.h"
#include "itests.h"

#define TOPIC "soak"
#define PARTITIONS 6
#define MOCK_BROKERS 3
/* kgate's brokers 1-3 front the mock; broker 4 is a TLS listener no client
 * is ever sent to (the cluster has no node 4), dialling broker 1: the
 * target of the TLS churn. */
#define TLS_LISTENER 3
#define WARMUP_ROUNDS 2
#define DEFAULT_ROUNDS 4
#define CHURN_PER_ROUND 1000 /* socket clients per round */
#define RDK_PER_ROUND 20     /* librdkafka clients per round */
#define WORKERS 4            /* threads churning sockets at once */
/* The memory bound: after the churn kgate's RSS may exceed its warmed-up
 * baseline by this much.  What it allows is the allocator's slack (free
 * lists, pages not yet given back), which does not grow with the number of
 * connections: 0-200 KiB measured.  Read buffers kgate keeps for reuse
 * (its buffer_bytes_free gauge, returned to the system after 10 s unused)
 * are not counted: how many the last round left depends on its bursts,
 * not on leaks.  A leak that does grow with them breaks
 * it: a struct pair never freed is 1.8 KiB (measured: +7 MiB over the 4,000
 * connections after the baseline), and any leak of 512 bytes or more per
 * connection passes 2 MiB.  Smaller leaks need longer runs
 * (KGATE_SOAK_ROUNDS), or LeakSanitizer (make test-asan) if unreachable. */
#define SLACK_KIB 2048
#define SETTLE_DEADLINE_MS 60000
#define PRODUCE_CHUNK 50
#define LEDGER_CAPACITY 20000000

enum churn_kind {
	C_API_VERSIONS, /* ApiVersions, the answer read, close */
	C_METADATA,     /* Metadata (rewritten by kgate), the answer checked, close */
	C_LEAVE,        /* ApiVersions and Metadata pipelined, close before any answer */
	C_HALF_FRAME,   /* six bytes of a request, close */
	C_CONNECT_ONLY, /* connect, close */
	C_RESET,        /* Metadata, then a reset (SO_LINGER 0) */
	C_TLS_HALF,     /* ClientHello, the server's first flight, close */
	C_TLS_REQUEST,  /* handshake, ApiVersions, the answer, close_notify */
	C_TLS_LEAVE,    /* handshake, Metadata, close before the answer */
	C_N_KINDS
};

static const char *const kind_names[C_N_KINDS] = {
	[C_API_VERSIONS] = "api-versions",       [C_METADATA] = "metadata",
	[C_LEAVE] = "leave-mid-request",         [C_HALF_FRAME] = "half-frame",
	[C_CONNECT_ONLY] = "connect-only",       [C_RESET] = "reset",
	[C_TLS_HALF] = "tls-half-handshake",     [C_TLS_REQUEST] = "tls-request",
	[C_TLS_LEAVE] = "tls-leave-mid-request",
};

/* The steady producer: ids 0, 1, 2, ... until stopped. */
struct steady {
	pthread_t thread;
	rd_kafka_t *rk;
	struct delivery d;
	struct broker_view view;
	atomic_int stop;
	_Atomic int64_t produced;
};

/* The run: its fixture, the round being churned, and what was churned. */
struct soak {
	struct mock mock;
	struct kgate kg;
	int round;
	_Atomic int64_t churned[C_N_KINDS];
	_Atomic int64_t rdk_churned, rdk_left_early;
};

/* One worker's share of a round. */
struct worker {
	pthread_t thread;
	struct soak *s;
	int w;
};

static int env_int(const char *name, int def, int min)
{
	const char *v = getenv(name);
	int n = v ? atoi(v) : def;

	return n < min ? min : n;
}

/* ---- requests ---- */

static void api_versions_v0(uint8_t b[14], int32_t corr)
{
	static const uint8_t tmpl[14] = {0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 0, 0, 0};

	memcpy(b, tmpl, sizeof(tmpl));
	kbuf_put_i32(b + 8, corr);
}

/* Metadata v1 for every topic (Topics: null). */
static void metadata_v1(uint8_t b[18], int32_t corr)
{
	/* clang-format off */
	static const uint8_t tmpl[18] = {0, 0, 0, 14, 0, 3, 0, 1, 0, 0, 0, 0, 0, 0,
					 0xff, 0xff, 0xff, 0xff};
	/* clang-format on */

	memcpy(b, tmpl, sizeof(tmpl));
	kbuf_put_i32(b + 8, corr);
}

/* Checks a Metadata v1 answer: its correlation id, and every broker in it
 * one of kgate's (the rewrite holds under churn). */
static void check_metadata(const struct kgate *kg, const uint8_t *f, size_t len, int32_t corr)
{
	struct kreader r;
	struct kstr host, rack;
	int32_t c, n, id, port;

	kr_init(&r, f, len);
	ck_assert_int_eq(kr_i32(&r, &c), 0);
	ck_assert_int_eq(c, corr);
	ck_assert_int_eq(kr_array(&r, 0, 12, &n), 0);
	ck_assert_int_eq(n, MOCK_BROKERS);
	for (int i = 0; i < n; i++) {
		char addr[300];

		ck_assert_int_eq(kr_i32(&r, &id), 0);
		ck_assert_int_eq(kr_string(&r, 0, &host), 0);
		ck_assert_int_eq(kr_i32(&r, &port), 0);
		ck_assert_int_eq(kr_nullable_string(&r, 0, &rack), 0);
		snprintf(addr, sizeof(addr), "%.*s:%d", (int)host.len, host.ptr, port);
		ck_assert_msg(kgate_owns(kg, addr), "Metadata under churn lists broker %d at %s",
			      id, addr);
	}
}

/* Reads one answer (after its size) into buf; returns its length. */
static size_t read_answer(int fd, SSL *ssl, uint8_t *buf, size_t cap)
{
	uint8_t size_be[4];
	int32_t size;

	if (ssl) {
		ck_assert_int_eq(SSL_read(ssl, size_be, 4), 4);
	} else {
		ck_assert_int_eq(raw_recv(fd, size_be, 4), 0);
	}
	size = kbuf_get_i32(size_be);
	ck_assert_msg(size >= 4 && (size_t)size <= cap, "answer of %d bytes", (int)size);
	if (ssl) {
		for (int got = 0; got < size;) {
			int n = SSL_read(ssl, buf + got, size - got);

			ck_assert_int_gt(n, 0);
			got += n;
		}
	} else {
		ck_assert_int_eq(raw_recv(fd, buf, (size_t)size), 0);
	}
	return (size_t)size;
}

/* ---- one churned client ---- */

static void plain_client(struct soak *s, enum churn_kind kind, int port, int32_t corr)
{
	uint8_t req[32], answer[8192];
	struct linger reset = {1, 0};
	size_t len;
	int fd = raw_connect(port);

	switch (kind) {
	case C_API_VERSIONS:
		api_versions_v0(req, corr);
		ck_assert_int_eq(raw_send(fd, req, 14), 0);
		len = read_answer(fd, NULL, answer, sizeof(answer));
		ck_assert_int_ge(len, 6);
		ck_assert_int_eq(kbuf_get_i32(answer), corr);
		ck_assert_int_eq(kbuf_get_i16(answer + 4), 0); /* ErrorCode */
		break;
	case C_METADATA:
		metadata_v1(req, corr);
		ck_assert_int_eq(raw_send(fd, req, 18), 0);
		len = read_answer(fd, NULL, answer, sizeof(answer));
		check_metadata(&s->kg, answer, len, corr);
		break;
	case C_LEAVE:
		api_versions_v0(req, corr);
		metadata_v1(req + 14, corr + 1);
		ck_assert_int_eq(raw_send(fd, req, 32), 0);
		break;
	case C_HALF_FRAME:
		metadata_v1(req, corr);
		ck_assert_int_eq(raw_send(fd, req, 6), 0);
		break;
	case C_CONNECT_ONLY:
		break;
	case C_RESET:
		metadata_v1(req, corr);
		ck_assert_int_eq(raw_send(fd, req, 18), 0);
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
		break;
	default:
		ck_abort_msg("not a plaintext kind: %d", kind);
	}
	close(fd);
}

static void tls_client(struct soak *s, SSL_CTX *ctx, enum churn_kind kind, int32_t corr)
{
	uint8_t req[18], answer[8192];
	int fd = raw_connect(s->kg.broker_port[TLS_LISTENER]);
	SSL *ssl = SSL_new(ctx);
	size_t len;

	ck_assert_ptr_nonnull(ssl);
	if (kind == C_TLS_HALF) {
		/* The client's TLS runs on memory buffers and is never given
		 * kgate's answer, so it cannot finish: its ClientHello goes out,
		 * kgate's first flight comes back (kgate is mid-handshake then),
		 * and the client leaves. */
		BIO *in = BIO_new(BIO_s_mem()), *out = BIO_new(BIO_s_mem());
		struct pollfd pfd = {fd, POLLIN, 0};
		char sink[16384], *hello;
		long hello_len;
		int rc;

		ck_assert(in && out);
		SSL_set_bio(ssl, in, out);
		rc = SSL_connect(ssl);
		ck_assert_int_eq(SSL_get_error(ssl, rc), SSL_ERROR_WANT_READ);
		hello_len = BIO_get_mem_data(out, &hello);
		ck_assert_int_gt(hello_len, 0);
		ck_assert_int_eq(raw_send(fd, hello, (size_t)hello_len), 0);
		ck_assert_msg(poll(&pfd, 1, 20000) == 1, "kgate never answered a ClientHello");
		while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
			;
	} else {
		ck_assert_int_eq(SSL_set_fd(ssl, fd), 1);
		ck_assert_msg(SSL_connect(ssl) == 1, "TLS handshake with kgate failed");
		if (kind == C_TLS_REQUEST) {
			api_versions_v0(req, corr);
			ck_assert_int_eq(SSL_write(ssl, req, 14), 14);
			len = read_answer(fd, ssl, answer, sizeof(answer));
			ck_assert_int_ge(len, 6);
			ck_assert_int_eq(kbuf_get_i32(answer), corr);
			SSL_shutdown(ssl);
		} else {
			metadata_v1(req, corr);
			ck_assert_int_eq(SSL_write(ssl, req, 18), 18);
		}
	}
	SSL_free(ssl);
	ERR_clear_error();
	close(fd);
}

/* A worker's share of a round: clients i = w, w + WORKERS, ... of it. */
static void *worker_run(void *arg)
{
	struct worker *wk = arg;
	struct soak *s = wk->s;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	ck_assert_ptr_nonnull(ctx);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	for (int i = wk->w; i < CHURN_PER_ROUND; i += WORKERS) {
		int n = s->round * CHURN_PER_ROUND + i;
		enum churn_kind kind = (enum churn_kind)(n % C_N_KINDS);
		/* Bootstrap and the three broker listeners in turn. */
		int which = (n / C_N_KINDS) % 4;
		int port = which == 0 ? s->kg.bootstrap_port : s->kg.broker_port[which - 1];

		if (kind >= C_TLS_HALF)
			tls_client(s, ctx, kind, n);
		else
			plain_client(s, kind, port, n);
		atomic_fetch_add(&s->churned[kind], 1);
	}
	SSL_CTX_free(ctx);
	return NULL;
}

/* Short-lived librdkafka clients: every other one asks for Metadata and
 * checks it names only kgate; the rest are destroyed as soon as they have
 * asked, before any answer can have come. */
static void *rdk_churn_run(void *arg)
{
	struct soak *s = arg;

	for (int j = 0; j < RDK_PER_ROUND; j++) {
		rd_kafka_conf_t *conf = rd_kafka_conf_new();
		const struct rd_kafka_metadata *md = NULL;
		const char *bootstrap = j % 4 == 0 ? s->kg.bootstrap : s->kg.broker_addr[j % 3];
		char errstr[256];
		rd_kafka_t *rk;
		rd_kafka_resp_err_t err;

		conf_set(conf, "bootstrap.servers", bootstrap);
		conf_set(conf, "log_level", "0");
		rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
		ck_assert_msg(rk != NULL, "%s", errstr);
		if (j % 2 == 0) {
			err = rd_kafka_metadata(rk, 1, NULL, &md, 20000);
			ck_assert_msg(!err, "Metadata under churn: %s", rd_kafka_err2str(err));
			ck_assert_int_eq(md->broker_cnt, MOCK_BROKERS);
			for (int b = 0; b < md->broker_cnt; b++) {
				char addr[300];

				snprintf(addr, sizeof(addr), "%s:%d", md->brokers[b].host,
					 md->brokers[b].port);
				ck_assert_msg(kgate_owns(&s->kg, addr), "Metadata lists %s", addr);
			}
			rd_kafka_metadata_destroy(md);
		} else {
			/* Times out at once: the request is on its way, or not yet. */
			err = rd_kafka_metadata(rk, 1, NULL, &md, 1);
			if (!err)
				rd_kafka_metadata_destroy(md);
			atomic_fetch_add(&s->rdk_left_early, 1);
		}
		rd_kafka_destroy(rk);
		atomic_fetch_add(&s->rdk_churned, 1);
	}
	return NULL;
}

static void churn_round(struct soak *s)
{
	struct worker workers[WORKERS];
	pthread_t rdk;

	ck_assert_int_eq(pthread_create(&rdk, NULL, rdk_churn_run, s), 0);
	for (int w = 0; w < WORKERS; w++) {
		workers[w].s = s;
		workers[w].w = w;
		ck_assert_int_eq(pthread_create(&workers[w].thread, NULL, worker_run, &workers[w]),
				 0);
	}
	for (int w = 0; w < WORKERS; w++)
		pthread_join(workers[w].thread, NULL);
	pthread_join(rdk, NULL);
}

/* ---- the steady producer ---- */

static void *steady_run(void *arg)
{
	struct steady *p = arg;

	while (!atomic_load(&p->stop)) {
		int64_t from = atomic_load(&p->produced), to = from + PRODUCE_CHUNK;

		if (to > LEDGER_CAPACITY)
			break;
		produce_ids(p->rk, TOPIC, from, to);
		atomic_store(&p->produced, to);
		/* Paced: a steady stream, not a flood competing with the churn. */
		rd_kafka_poll(p->rk, 10);
	}
	return NULL;
}

/* ---- measuring ---- */

/* kgate settled: no client half-gone, every descriptor accounted for. */
static void settle(struct soak *s, int idle_fds, const char *when, int *fds, int *conns)
{
	ck_assert_msg(kgate_wait_fds_settled(&s->kg, idle_fds, SETTLE_DEADLINE_MS, fds, conns),
		      "%s: kgate holds %d descriptors; %d idle plus two for each of its %d open "
		      "connections would be %d (a leak, or a connection never closed)",
		      when, *fds, idle_fds, *conns, idle_fds + 2 * *conns);
}

static char *soak_config(const struct soak *s)
{
	const struct kgate *k = &s->kg;
	char *json = malloc(8192);
	size_t n = 0;

	ck_assert_ptr_nonnull(json);
	n += (size_t)snprintf(json + n, 8192 - n,
			      "{ \"bootstrap\": { \"listen\": \"%s\", \"upstream\": [",
			      k->bootstrap);
	for (int i = 0; i < MOCK_BROKERS; i++)
		n += (size_t)snprintf(json + n, 8192 - n, "%s\"%s\"", i ? ", " : "",
				      s->mock.addr[i]);
	n += (size_t)snprintf(json + n, 8192 - n, "] },\n  \"brokers\": [");
	for (int i = 0; i < MOCK_BROKERS; i++)
		n += (size_t)snprintf(
			json + n, 8192 - n,
			"\n    { \"id\": %d, \"listen\": \"%s\", \"advertise\": \"%s\" },", i + 1,
			k->broker_addr[i], k->broker_addr[i]);
	snprintf(json + n, 8192 - n,
		 "\n    { \"id\": 4, \"listen\": \"%s\", \"advertise\": \"%s\", \"upstream\": "
		 "\"%s\",\n      \"tls\": { \"cert\": \"%s\", \"key\": \"%s\" } } ] }\n",
		 k->broker_addr[TLS_LISTENER], k->broker_addr[TLS_LISTENER], s->mock.addr[0],
		 cert_path(0, "gateway.pem"), cert_path(1, "gateway.key"));
	return json;
}

/* kgate's resident memory, less the read buffers it keeps for reuse. */
static long held_kib(struct kgate *k)
{
	long rss = kgate_rss_kib(k, 0);

	return rss - (long)(kgate_counter_now(k, "buffer_bytes_free") / 1024);
}

START_TEST(test_soak_connection_churn)
{
	static struct soak s;
	struct group_member members[2];
	struct steady prod;
	struct ledger ledger;
	int rounds = env_int("KGATE_SOAK_ROUNDS", DEFAULT_ROUNDS, 1);
	long slack_kib = env_int("KGATE_SOAK_RSS_SLACK_KIB", SLACK_KIB, 0);
	int idle_fds, base_fds, base_conns, fds = -1, conns = -1;
	long base_rss, rss, peak_rss;
	int64_t produced, deadline, sockets = 0;
	char *cfg;

	memset(&s, 0, sizeof(s));
	mock_start(&s.mock, MOCK_BROKERS);
	ck_assert_int_eq(rd_kafka_mock_topic_create(s.mock.mc, TOPIC, PARTITIONS, MOCK_BROKERS), 0);
	kgate_plan(&s.kg, MOCK_BROKERS + 1);
	cfg = soak_config(&s);
	kgate_start(&s.kg, cfg);
	free(cfg);
	/* What kgate holds with no client at all. */
	ck_assert_int_eq(kgate_established(&s.kg), 0);
	idle_fds = kgate_fd_count(&s.kg);
	ck_assert_int_gt(idle_fds, 0);

	/* The long-lived clients: a settled group, then the producer. */
	ledger_init(&ledger, LEDGER_CAPACITY);
	group_member_start(&members[0], s.kg.bootstrap, "kgate-0009", TOPIC, &ledger);
	group_member_start(&members[1], s.kg.bootstrap, "kgate-0009", TOPIC, &ledger);
	group_wait_settled(members, 2, PARTITIONS, 60);
	memset(&prod, 0, sizeof(prod));
	atomic_init(&prod.stop, 0);
	atomic_init(&prod.produced, 0);
	view_init(&prod.view);
	prod.rk = producer_new(s.kg.bootstrap, &prod.view, &prod.d);
	ck_assert_int_eq(pthread_create(&prod.thread, NULL, steady_run, &prod), 0);

	/* Warm-up: rounds of the same churn, so that kgate's allocator,
	 * OpenSSL and the learned cluster view are what they will stay (ASan's
	 * quarantine too: it takes more than one round to fill); the baseline
	 * is what kgate holds after them.  Its memory is the most it held
	 * after any warm-up round: under ASan it floats by megabytes from
	 * round to round, and a low sample is not a baseline to grow from. */
	base_rss = 0;
	for (s.round = 0; s.round < WARMUP_ROUNDS; s.round++) {
		churn_round(&s);
		settle(&s, idle_fds, "after the warm-up", &base_fds, &base_conns);
		rss = held_kib(&s.kg);
		if (rss > base_rss)
			base_rss = rss;
	}
	fprintf(stderr,
		"0009: baseline after %d warm-up rounds: %d descriptors (%d idle, %d "
		"connections), RSS less reuse buffers %ld KiB\n",
		WARMUP_ROUNDS, base_fds, idle_fds, base_conns, base_rss);

	for (s.round = WARMUP_ROUNDS; s.round < WARMUP_ROUNDS + rounds; s.round++) {
		char when[64];

		churn_round(&s);
		snprintf(when, sizeof(when), "after churn round %d", s.round - WARMUP_ROUNDS + 1);
		settle(&s, idle_fds, when, &fds, &conns);
		rss = held_kib(&s.kg);
		fprintf(stderr, "0009: round %d: %d descriptors (%d connections), RSS less reuse buffers %ld KiB\n",
			s.round - WARMUP_ROUNDS + 1, fds, conns, rss);
	}
	rss = held_kib(&s.kg);
	peak_rss = kgate_rss_kib(&s.kg, 1);

	/* Every descriptor kgate holds beyond its idle ones belongs to a
	 * connection still open (settle() waited for that after every round),
	 * so it holds what it held at the baseline.  The long-lived clients'
	 * own connections are not a constant: librdkafka opens another broker
	 * connection when it decides to (a group member did, ten seconds in),
	 * so the comparison is of what open connections do not account for. */
	ck_assert_msg(fds - 2 * conns == base_fds - 2 * base_conns,
		      "kgate holds %d descriptors for %d connections after the churn, %d for %d "
		      "before",
		      fds, conns, base_fds, base_conns);
	ck_assert_msg(base_rss > 0 && rss > 0 && rss <= base_rss + slack_kib,
		      "kgate's RSS less reuse buffers %ld KiB after the churn, baseline %ld KiB + %ld KiB allowed",
		      rss, base_rss, slack_kib);

	/* Nothing lost: every id produced arrives once, in order. */
	atomic_store(&prod.stop, 1);
	pthread_join(prod.thread, NULL);
	produced = atomic_load(&prod.produced);
	wait_deliveries(prod.rk, &prod.d, produced, 120);
	deadline = harness_now_ms() + 120000;
	for (;;) {
		int64_t got = ledger_received(&ledger);

		if (got >= produced)
			break;
		ck_assert_msg(harness_now_ms() < deadline, "consumed %" PRId64 " of %" PRId64, got,
			      produced);
		rd_kafka_poll(prod.rk, 50);
	}
	view_refresh(prod.rk, &prod.view);
	view_assert_gateway_only(&prod.view, &s.kg);
	group_member_stop(&members[0]);
	group_member_stop(&members[1]);
	view_assert_gateway_only(&members[0].view, &s.kg);
	view_assert_gateway_only(&members[1].view, &s.kg);
	/* The members are gone: nothing records any more. */
	ledger.n = produced;
	ledger_assert_exactly_once(&ledger);
	rd_kafka_destroy(prod.rk);

	for (int k = 0; k < C_N_KINDS; k++)
		sockets += atomic_load(&s.churned[k]);
	fprintf(stderr,
		"0009: churned %" PRId64 " socket clients and %" PRId64 " librdkafka clients "
		"(%" PRId64 " destroyed before an answer) in %d rounds, %d of them warm-up:",
		sockets, atomic_load(&s.rdk_churned), atomic_load(&s.rdk_left_early),
		WARMUP_ROUNDS + rounds, WARMUP_ROUNDS);
	for (int k = 0; k < C_N_KINDS; k++)
		fprintf(stderr, " %s %" PRId64, kind_names[k], atomic_load(&s.churned[k]));
	fprintf(stderr,
		"\n0009: descriptors: idle %d, baseline %d (%d connections), after %d (%d "
		"connections); "
		"RSS less reuse buffers: baseline %ld KiB, after %ld KiB (bound %ld), peak %ld KiB; "
		"%" PRId64 " messages produced and consumed exactly once, in order\n",
		idle_fds, base_fds, base_conns, fds, conns, base_rss, rss, base_rss + slack_kib,
		peak_rss, produced);

	ck_assert_int_eq(kgate_stop(&s.kg), 0);
	ck_assert(!kgate_log_contains(&s.kg, " error "));
	ledger_free(&ledger);
	mock_stop(&s.mock);
}
END_TEST

TCase *tcase_0009_soak(void)
{
	TCase *tc = tcase_create("0009 soak");
	int rounds = env_int("KGATE_SOAK_ROUNDS", DEFAULT_ROUNDS, 1);

	tcase_add_test(tc, test_soak_connection_churn);
	/* A failsafe that grows with the rounds asked for. */
	tcase_set_timeout(tc, 600 + 120 * rounds);
	return tc;
}
