/* 0010_hostile_broker.c — a cluster that advertises what it should not,
 * and a gateway short of descriptors: broker names that would forge log
 * lines or are longer than DNS allows are escaped and not learned, learned
 * addresses outside upstream_allow are refused, and running out of file
 * descriptors does not make kgate forget what it learned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <dirent.h>

#include "../../protocol/kbuf.h"
#include "../lib/fake_broker.h"
#include "../lib/harness.h"
#include "itests.h"

#define FORGED "evil\nFAKE error forged line\x1b[31m"
#define FORGED_ESCAPED "evil\\x0aFAKE error forged line\\x1b[31m"

/* What the scripted cluster advertises (n and ports set while it runs:
 * atomics). */
struct advert {
	int n;
	int metadata_answers;
	int32_t ids[4];
	char hosts[4][320];
	int32_t ports[4];
};

/* Answers ApiVersions v0 (Metadata 1 only) and Metadata v1 with the
 * advertised brokers, whatever it is asked; hangs up on anything else. */
static void cluster_handler(struct fake_broker *fb, int fd)
{
	const struct advert *a = fb->ctx;
	struct fake_request req;
	struct kwbuf w;

	kw_init(&w);
	while (fake_read_request(fd, &req) == 0) {
		size_t off = kw_reserve_i32(&w);

		kw_i32(&w, req.correlation_id);
		if (req.api_key == 18) {
			kw_i16(&w, 0);
			kw_i32(&w, 1);
			kw_i16(&w, 3);
			kw_i16(&w, 1);
			kw_i16(&w, 1);
		} else if (req.api_key == 3) {
			int n = __atomic_load_n(&a->n, __ATOMIC_SEQ_CST);

			kw_i32(&w, n);
			for (int i = 0; i < n; i++) {
				kw_i32(&w, a->ids[i]);
				kw_string(&w, 0, a->hosts[i], (int32_t)strlen(a->hosts[i]));
				kw_i32(&w, __atomic_load_n(&a->ports[i], __ATOMIC_SEQ_CST));
				kw_string(&w, 0, NULL, -1);
			}
			kw_i32(&w, 1); /* ControllerId */
			kw_i32(&w, 0); /* Topics */
		} else {
			fake_request_free(&req);
			break;
		}
		kw_patch_i32(&w, off, (int32_t)(w.len - off - 4));
		fake_send(fd, w.buf, w.len, 0);
		if (req.api_key == 3)
			__atomic_add_fetch((int *)&a->metadata_answers, 1, __ATOMIC_SEQ_CST);
		kw_reset(&w);
		fake_request_free(&req);
	}
	kw_free(&w);
}

/* A scripted cluster whose one broker, 1, advertises itself: a's first
 * entry is its own address. */
static void start_self_advertising(struct fake_broker *fb, struct advert *a)
{
	snprintf(a->hosts[0], sizeof(a->hosts[0]), "127.0.0.1");
	fake_broker_start(fb, cluster_handler, a);
	/* Known only now, and read by the broker's thread: no other
	 * ordering than the atomics' (kgate's requests come through another
	 * process). */
	__atomic_store_n(&a->ports[0], fb->port, __ATOMIC_SEQ_CST);
}

/* kgate's configuration fronting brokers 1 and 2 (kg's ports), both
 * learned from the cluster at port.  One worker: what a worker learns is
 * its own (gateway/workers.h), and these tests count what kgate asks the
 * scripted cluster and what it learned from one client for the next. */
static void learning_config(char *cfg, size_t len, const struct kgate *kg, int port,
			    const char *extra)
{
	snprintf(cfg, len,
		 "{ \"bootstrap\": { \"listen\": \"%s\", \"upstream\": [\"127.0.0.1:%d\"] },\n"
		 "  \"brokers\": [ { \"id\": 1, \"listen\": \"%s\", \"advertise\": \"%s\" },\n"
		 "                 { \"id\": 2, \"listen\": \"%s\", \"advertise\": \"%s\" } ],\n"
		 "  \"workers\": 1%s%s }\n",
		 kg->bootstrap, port, kg->broker_addr[0], kg->broker_addr[0], kg->broker_addr[1],
		 kg->broker_addr[1], extra ? ",\n  " : "", extra ? extra : "");
}

static void start_learning_gateway(struct kgate *kg, int port, const char *extra)
{
	char cfg[2048];

	kgate_plan(kg, 2);
	learning_config(cfg, sizeof(cfg), kg, port, extra);
	kgate_start(kg, cfg);
}

/* Waits until the scripted cluster has answered n more Metadata requests. */
static void wait_metadata_answers(struct advert *a, int n)
{
	int64_t deadline = harness_now_ms() + 20000;
	int target = __atomic_load_n(&a->metadata_answers, __ATOMIC_SEQ_CST) + n;

	while (__atomic_load_n(&a->metadata_answers, __ATOMIC_SEQ_CST) < target) {
		ck_assert_msg(harness_now_ms() < deadline, "kgate asked the cluster nothing");
		usleep(10000);
	}
}

/* Metadata v1 through kgate's port; returns the answer's size (the frame is
 * read whole), or -1 if the connection closed. */
static int ask_metadata(int port)
{
	static const uint8_t req[] = {0, 0, 0, 14, 0, 3, 0, 1, 0, 0, 0, 7,
				      0, 1, 'c', 0, 0, 0, 0};
	uint8_t size_be[4], *body;
	int fd = raw_connect(port), n;

	raw_send(fd, req, sizeof(req));
	if (raw_recv(fd, size_be, 4) < 0) {
		close(fd);
		return -1;
	}
	n = kbuf_get_i32(size_be);
	body = malloc((size_t)n);
	ck_assert_ptr_nonnull(body);
	ck_assert_int_eq(raw_recv(fd, body, (size_t)n), 0);
	free(body);
	close(fd);
	return n;
}

/* 1 if an ApiVersions v0 sent to kgate's port is answered (kgate dialled
 * the broker behind it). */
static int answered_at(int port)
{
	static const uint8_t req[] = {0, 0, 0, 11, 0, 18, 0, 0, 0, 0, 0, 9, 0, 1, 'c'};
	uint8_t size_be[4];
	int fd = raw_connect(port), ok;

	raw_send(fd, req, sizeof(req));
	ok = raw_recv(fd, size_be, 4) == 0;
	close(fd);
	return ok;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

START_TEST(test_forged_names_escaped_and_not_learned)
{
	struct advert a = {.n = 3, .ids = {1, 2, 9}, .ports = {9092, 9092, 9092}};
	struct fake_broker fb;
	struct kgate kg;
	char *log;

	snprintf(a.hosts[0], sizeof(a.hosts[0]), "%s", FORGED);
	memset(a.hosts[1], 'a', 300); /* longer than DNS allows */
	snprintf(a.hosts[2], sizeof(a.hosts[2]), "%s", FORGED); /* unmapped */
	fake_broker_start(&fb, cluster_handler, &a);
	start_learning_gateway(&kg, fb.port, NULL);
	/* The client gets kgate's addresses for 1 and 2 all the same. */
	ck_assert_int_gt(ask_metadata(kg.bootstrap_port), 0);
	/* Neither name was learned: a client of broker 1 gets nowhere. */
	ck_assert(!answered_at(kg.broker_port[0]));
	ck_assert_int_eq(kgate_stop(&kg), 0);
	log = slurp(kg.log_path);
	/* Every line is kgate's own: the newline and the escape were escaped. */
	ck_assert_ptr_null(strstr(log, "\nFAKE"));
	ck_assert_ptr_null(strchr(log, '\x1b'));
	ck_assert_ptr_nonnull(strstr(log, "broker 1 at \"" FORGED_ESCAPED "\" port 9092: not a "
					  "host name"));
	ck_assert_ptr_nonnull(strstr(log, "broker 9 (" FORGED_ESCAPED ":9092) is neither in brokers[] nor"));
	ck_assert_ptr_nonnull(strstr(log, "broker 2 at \"aaaa"));
	ck_assert_ptr_nonnull(strstr(log, "the cluster's Metadata does not list this broker id"));
	free(log);
	fake_broker_stop(&fb);
}
END_TEST

START_TEST(test_upstream_allow)
{
	struct advert a = {.n = 1, .ids = {1}};
	struct fake_broker fb;
	struct kgate kg;

	start_self_advertising(&fb, &a);
	/* Only names under .msk.internal: 127.0.0.1 is refused. */
	start_learning_gateway(&kg, fb.port, "\"upstream_allow\": [\".msk.internal\"]");
	ck_assert(!answered_at(kg.broker_port[0]));
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "which upstream_allow does not allow: not learned"));
	ck_assert(!kgate_log_contains(&kg, "addresses_refused=0 "));
	/* Loopback allowed: the same client is served. */
	start_learning_gateway(&kg, fb.port, "\"upstream_allow\": [\"127.0.0.0/8\"]");
	ck_assert(answered_at(kg.broker_port[0]));
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "addresses_refused=0 "));
	fake_broker_stop(&fb);
}
END_TEST

/* A cluster whose Metadata answer lists no broker (an error answer, or a
 * broker that has not heard of its peers yet) says nothing of who is gone:
 * kgate's own probes keep what they learned. */
START_TEST(test_empty_listing_forgets_nothing)
{
	struct advert a = {.n = 1, .ids = {1}};
	struct fake_broker fb;
	struct kgate kg;
	char extra[128];

	start_self_advertising(&fb, &a);
	snprintf(extra, sizeof(extra),
		 "\"admin\": { \"listen\": \"127.0.0.1:%d\", \"probe_interval_ms\": 100 }",
		 harness_free_port());
	start_learning_gateway(&kg, fb.port, extra);
	ck_assert(kgate_wait_log(&kg, "cluster advertises broker 1 at 127.0.0.1", 1, 10000));
	ck_assert(answered_at(kg.broker_port[0]));
	__atomic_store_n(&a.n, 0, __ATOMIC_SEQ_CST);
	/* Two whole probes after the change. */
	wait_metadata_answers(&a, 2);
	ck_assert(answered_at(kg.broker_port[0]));
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(!kgate_log_contains(&kg, "no longer lists broker 1"));
	fake_broker_stop(&fb);
}
END_TEST

/* upstream_allow narrowed by a reload applies to addresses learned before
 * it: the cluster still advertises 127.0.0.1, which is now refused. */
START_TEST(test_upstream_allow_narrowed_by_reload)
{
	struct advert a = {.n = 1, .ids = {1}};
	struct fake_broker fb;
	struct kgate kg;
	char cfg[2048];

	start_self_advertising(&fb, &a);
	start_learning_gateway(&kg, fb.port, NULL);
	ck_assert(answered_at(kg.broker_port[0]));
	learning_config(cfg, sizeof(cfg), &kg, fb.port, "\"upstream_allow\": [\".msk.internal\"]");
	ck_assert_int_eq(kgate_reload(&kg, cfg), 1);
	ck_assert(kgate_log_contains(&kg, "outside the reloaded configuration's upstream_allow"));
	ck_assert(!answered_at(kg.broker_port[0]));
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "which upstream_allow does not allow: not learned"));
	fake_broker_stop(&fb);
}
END_TEST

START_TEST(test_out_of_descriptors_keeps_what_was_learned)
{
	struct advert a = {.n = 1, .ids = {1}};
	struct rlimit old;
	struct fake_broker fb;
	struct kgate kg;

	start_self_advertising(&fb, &a);
	start_learning_gateway(&kg, fb.port, NULL);
	/* A client's Metadata teaches kgate where broker 1 is. */
	ck_assert_int_gt(ask_metadata(kg.bootstrap_port), 0);
	ck_assert(kgate_wait_log(&kg, "cluster advertises broker 1 at 127.0.0.1", 1, 10000));
	/* The first client's connections closed: descriptors freed after the
	 * limit is set would leave kgate more than one. */
	ck_assert(kgate_wait_counter(&kg, "connections_open=0 ", 10000));
	/* Leave kgate one descriptor: the next client takes it, and the dial
	 * for it finds none. */
	kgate_leave_fds(&kg, 1, &old);
	ck_assert(!answered_at(kg.broker_port[0]));
	ck_assert(kgate_wait_log(&kg, "(kgate's own resources)", 1, 10000));
	ck_assert_int_eq(prlimit(kg.pid, RLIMIT_NOFILE, &old, NULL), 0);
	/* With descriptors again, broker 1 is dialled where it was learned:
	 * no Metadata request of kgate's own was needed. */
	ck_assert(answered_at(kg.broker_port[0]));
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "resource_failures=1 "));
	ck_assert(kgate_log_contains(&kg, "upstream_connect_failures=0 "));
	ck_assert(kgate_log_contains(&kg, "metadata_fetches=0 "));
	fake_broker_stop(&fb);
}
END_TEST

TCase *tcase_0010_hostile_broker(void)
{
	TCase *tc = tcase_create("0010 hostile broker");

	tcase_add_test(tc, test_forged_names_escaped_and_not_learned);
	tcase_add_test(tc, test_upstream_allow);
	tcase_add_test(tc, test_empty_listing_forgets_nothing);
	tcase_add_test(tc, test_upstream_allow_narrowed_by_reload);
	tcase_add_test(tc, test_out_of_descriptors_keeps_what_was_learned);
	tcase_set_timeout(tc, 120);
	return tc;
}
