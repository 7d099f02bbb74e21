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
#include "../lib/fake_cluster.h"
#include "../lib/harness.h"
#include "itests.h"

#define FORGED "evil\nFAKE error forged line\x1b[31m"
#define FORGED_ESCAPED "evil\\x0aFAKE error forged line\\x1b[31m"

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
	ck_assert(kgate_wait_log(&kg, "broker 1 joined at 127.0.0.1", 1, 10000));
	ck_assert(answered_at(kg.broker_port[0]));
	__atomic_store_n(&a.n, 0, __ATOMIC_SEQ_CST);
	/* Two whole probes after the change. */
	wait_metadata_answers(&a, 2);
	ck_assert(answered_at(kg.broker_port[0]));
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(!kgate_log_contains(&kg, "broker 1 left the cluster"));
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
	ck_assert(kgate_wait_log(&kg, "broker 1 joined at 127.0.0.1", 1, 10000));
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
