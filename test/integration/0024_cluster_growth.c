/* 0024_cluster_growth.c — kgate keeps its view of the cluster fresh without
 * a Metadata request per client (gateway/refresh.h), against a scripted
 * cluster that counts what it is asked:
 *   - a broker that does not answer: however many clients fail, kgate asks
 *     the cluster once per back-off period, and a dial that works starts the
 *     schedule over;
 *   - a broker that leaves the listing is no longer dialled (logged once),
 *     its clients are closed at once, and it is dialled again once it is
 *     listed again;
 *   - NOT_LEADER_OR_FOLLOWER answers ask once per back-off period;
 *   - with no client, kgate asks every refresh interval, as reloaded.
 * Back-off periods are an hour: no test waits for one, and none can pass
 * or fail by how fast it runs (deadlines are failsafes).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../protocol/kbuf.h"
#include "../lib/fake_cluster.h"
#include "itests.h"

#define CLIENTS 20
#define HOUR_BACKOFF                                                                           \
	"\"discovery\": { \"refresh_interval_ms\": 3600000, \"backoff_ms\": 3600000, "            \
	"\"backoff_max_ms\": 3600000 }"

static int answers(struct advert *a)
{
	return __atomic_load_n(&a->metadata_answers, __ATOMIC_SEQ_CST);
}

static void assert_counter(const struct kgate *kg, const char *name, uint64_t want)
{
	uint64_t v = kgate_counter_now(kg, name);

	ck_assert_msg(v == want, "%s is %llu, expected %llu", name, (unsigned long long)v,
		      (unsigned long long)want);
}

START_TEST(test_down_broker_backs_off)
{
	struct advert a = {.n = 2, .ids = {1, 2}};
	struct fake_broker fb, b2;
	struct kgate kg;
	int down_port = harness_free_port();

	/* Broker 2 is advertised where nothing listens. */
	snprintf(a.hosts[1], sizeof(a.hosts[1]), "127.0.0.1");
	a.ports[1] = down_port;
	start_self_advertising(&fb, &a);
	start_learning_gateway(&kg, fb.port, HOUR_BACKOFF);
	for (int i = 0; i < CLIENTS; i++)
		ck_assert(!answered_at(kg.broker_port[1]));
	/* The first client waited for kgate's first request (client_wait),
	 * which began broker 2's back-off period: every failed dial after it,
	 * the first client's included, asked nothing. */
	assert_counter(&kg, "upstream_connect_failures", CLIENTS);
	assert_counter(&kg, "metadata_fetches", 1);
	assert_counter(&kg, "metadata_refreshes__client_wait", 1);
	assert_counter(&kg, "metadata_refreshes__dial_failure", 0);
	assert_counter(&kg, "refreshes_held_back", CLIENTS);
	assert_counter(&kg, "brokers_backing_off", 1);
	ck_assert_int_eq(answers(&a), 1);

	/* Back where it was: the next client is served at the address kgate
	 * kept, and the schedule starts over... */
	fake_broker_start_at(&b2, down_port, cluster_handler, &a);
	ck_assert(answered_at(kg.broker_port[1]));
	assert_counter(&kg, "brokers_backing_off", 0);
	fake_broker_stop(&b2);
	/* ... so its next failure asks the cluster at once, and the one
	 * after it does not. */
	ck_assert(!answered_at(kg.broker_port[1]));
	ck_assert(kgate_wait_counter(&kg, "metadata_fetches=2 ", 10000));
	while (answers(&a) < 2)
		usleep(1000); /* on its way (fetches=2); the case's timeout is the failsafe */
	ck_assert(!answered_at(kg.broker_port[1]));
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "metadata_refreshes__dial_failure=1 "));
	ck_assert(kgate_log_contains(&kg, "refreshes_held_back=21 "));
	ck_assert_int_eq(kgate_log_count(&kg, "broker 2 at 127.0.0.1"), 1);
	ck_assert_int_eq(answers(&a), 2);
	fake_broker_stop(&fb);
}
END_TEST

START_TEST(test_broker_that_leaves_is_not_dialled)
{
	struct advert a = {.n = 2, .ids = {1, 2}};
	struct fake_broker fb, b2;
	struct kgate kg;
	char joined[96];
	int asked;

	fake_broker_start(&b2, cluster_handler, &a);
	snprintf(a.hosts[1], sizeof(a.hosts[1]), "127.0.0.1");
	a.ports[1] = b2.port;
	start_self_advertising(&fb, &a);
	start_learning_gateway(&kg, fb.port, HOUR_BACKOFF);
	snprintf(joined, sizeof(joined), "broker 2 joined at 127.0.0.1:%d", b2.port);
	/* A client's Metadata lists both. */
	ck_assert_int_gt(ask_metadata(kg.bootstrap_port), 0);
	ck_assert(kgate_wait_log(&kg, joined, 1, 10000));
	ck_assert(answered_at(kg.broker_port[1]));
	ck_assert_int_eq(atomic_load(&b2.connections), 1);
	/* Broker 2 leaves the listing. */
	__atomic_store_n(&a.n, 1, __ATOMIC_SEQ_CST);
	ck_assert_int_gt(ask_metadata(kg.bootstrap_port), 0);
	ck_assert(kgate_wait_log(&kg, "broker 2 left the cluster", 1, 10000));
	/* Its next client makes kgate ask once, and is refused: not listed. */
	ck_assert(!answered_at(kg.broker_port[1]));
	ck_assert(kgate_log_contains(&kg, "the cluster's Metadata does not list this broker id"));
	asked = answers(&a);
	for (int i = 0; i < CLIENTS; i++)
		ck_assert(!answered_at(kg.broker_port[1]));
	ck_assert(kgate_wait_log(&kg, "broker 2 is not in the cluster's Metadata as kgate last "
				      "learned it", CLIENTS, 10000));
	ck_assert_int_eq(answers(&a), asked);
	ck_assert_int_eq(atomic_load(&b2.connections), 1);
	assert_counter(&kg, "metadata_refreshes__client_wait", 1);
	assert_counter(&kg, "refreshes_held_back", CLIENTS);
	/* Listed again: dialled again, and it joined a second time. */
	__atomic_store_n(&a.n, 2, __ATOMIC_SEQ_CST);
	ck_assert_int_gt(ask_metadata(kg.bootstrap_port), 0);
	ck_assert(kgate_wait_log(&kg, joined, 2, 10000));
	ck_assert(answered_at(kg.broker_port[1]));
	ck_assert_int_eq(atomic_load(&b2.connections), 2);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert_int_eq(kgate_log_count(&kg, "broker 2 left the cluster"), 1);
	ck_assert_int_eq(kgate_log_count(&kg, joined), 2);
	ck_assert_int_eq(kgate_log_count(&kg, "broker 1 joined at"), 1);
	fake_broker_stop(&fb);
	fake_broker_stop(&b2);
}
END_TEST

/* Produce v10 (the first whose answers kgate decodes: KIP-951), acks=1,
 * one partition, no records: enough for an answer. */
static void send_produce(int fd, int32_t corr)
{
	uint8_t req[64];
	size_t n = 4;

	req[n++] = 0, req[n++] = 0;  /* ApiKey Produce */
	req[n++] = 0, req[n++] = 10; /* ApiVersion 10 */
	kbuf_put_i32(req + n, corr), n += 4;
	req[n++] = 0, req[n++] = 1, req[n++] = 'c';   /* ClientId */
	req[n++] = 0;                                 /* header tags */
	req[n++] = 0;                                 /* TransactionalId null */
	req[n++] = 0, req[n++] = 1;                   /* Acks */
	kbuf_put_i32(req + n, 1000), n += 4;          /* TimeoutMs */
	req[n++] = 2;                                 /* TopicData: 1 */
	req[n++] = 2, req[n++] = 't';                 /* Name */
	req[n++] = 2;                                 /* PartitionData: 1 */
	kbuf_put_i32(req + n, 0), n += 4;             /* Index */
	req[n++] = 0;                                 /* Records null */
	req[n++] = 0, req[n++] = 0, req[n++] = 0;     /* partition, topic, body tags */
	kbuf_put_i32(req, (int32_t)(n - 4));
	ck_assert_int_eq(raw_send(fd, req, n), 0);
}

START_TEST(test_not_leader_backs_off)
{
	struct advert a = {.n = 1, .ids = {1}};
	struct fake_broker fb;
	struct kgate kg;
	uint8_t size_be[4], body[256];
	int fd;

	start_self_advertising(&fb, &a);
	start_learning_gateway(&kg, fb.port, HOUR_BACKOFF);
	ck_assert(answered_at(kg.broker_port[0]));
	ck_assert_int_eq(answers(&a), 1); /* the first client's wait */
	fd = raw_connect(kg.broker_port[0]);
	for (int i = 0; i < CLIENTS; i++) {
		int32_t n;

		send_produce(fd, 100 + i);
		ck_assert_int_eq(raw_recv(fd, size_be, 4), 0);
		n = kbuf_get_i32(size_be);
		ck_assert(n > 0 && (size_t)n <= sizeof(body));
		ck_assert_int_eq(raw_recv(fd, body, (size_t)n), 0);
		ck_assert_int_eq(kbuf_get_i32(body), 100 + i);
	}
	close(fd);
	ck_assert(kgate_wait_counter(&kg, "metadata_refreshes__not_leader=1 ", 10000));
	while (answers(&a) < 2)
		usleep(1000);
	assert_counter(&kg, "refreshes_held_back", CLIENTS - 1);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "metadata_fetches=2 "));
	ck_assert_int_eq(answers(&a), 2);
	fake_broker_stop(&fb);
}
END_TEST

/* With no client at all, kgate asks the cluster every refresh interval, and
 * a reload changes the interval: a broker that joins is learned and dialled
 * by the next client straight away. */
START_TEST(test_interval_refresh_follows_reload)
{
	struct advert a = {.n = 1, .ids = {1}};
	struct fake_broker fb, b2;
	struct kgate kg;
	char cfg[2048], joined[96];

	fake_broker_start(&b2, cluster_handler, &a);
	snprintf(a.hosts[1], sizeof(a.hosts[1]), "127.0.0.1");
	a.ports[1] = b2.port;
	a.ids[1] = 2;
	start_self_advertising(&fb, &a);
	start_learning_gateway(&kg, fb.port, HOUR_BACKOFF);
	/* Once an hour: nobody asked yet. */
	ck_assert(answered_at(kg.broker_port[0]));
	ck_assert_int_eq(answers(&a), 1);
	/* Broker 2 joins; every second from the reload on, kgate asks. */
	__atomic_store_n(&a.n, 2, __ATOMIC_SEQ_CST);
	learning_config(cfg, sizeof(cfg), &kg, fb.port,
			"\"discovery\": { \"refresh_interval_ms\": 1000 }");
	ck_assert_int_eq(kgate_reload(&kg, cfg), 1);
	snprintf(joined, sizeof(joined), "broker 2 joined at 127.0.0.1:%d", b2.port);
	ck_assert(kgate_wait_log(&kg, joined, 1, 20000));
	ck_assert_uint_ge(kgate_counter_now(&kg, "metadata_refreshes__interval"), 1);
	/* Its first client dials it at once: no wait, no request. */
	ck_assert(answered_at(kg.broker_port[1]));
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "metadata_refreshes__client_wait=1 "));
	ck_assert_int_eq(atomic_load(&b2.connections), 1);
	fake_broker_stop(&fb);
	fake_broker_stop(&b2);
}
END_TEST

TCase *tcase_0024_cluster_growth(void)
{
	TCase *tc = tcase_create("0024 cluster growth");

	tcase_add_test(tc, test_down_broker_backs_off);
	tcase_add_test(tc, test_broker_that_leaves_is_not_dialled);
	tcase_add_test(tc, test_not_leader_backs_off);
	tcase_add_test(tc, test_interval_refresh_follows_reload);
	tcase_set_timeout(tc, 120);
	return tc;
}
