/* 0008_client_view.c — the rule both the tests and kgate-client use for which brokers a
 * client's statistics say it used, on hand-written statistics documents. */
#include <stdio.h>
#include <string.h>

#include "../lib/client_view.h"
#include "itests.h"

/* The shape of librdkafka's "brokers" object: a bootstrap entry it connected through, a
 * learned broker, one only known from Metadata, and a coordinator that lost its address. */
static const char stats_doc[] =
	"{\"name\":\"rdkafka#producer-1\",\"brokers\":{"
	"\"127.0.0.1:9094/bootstrap\":{\"nodeid\":-1,\"nodename\":\"127.0.0.1:9094\","
	"\"connects\":1},"
	"\"127.0.0.1:8443/1\":{\"nodeid\":1,\"nodename\":\"127.0.0.1:8443\",\"connects\":2},"
	"\"127.0.0.1:8444/2\":{\"nodeid\":2,\"nodename\":\"127.0.0.1:8444\",\"connects\":0},"
	"\"GroupCoordinator\":{\"nodeid\":-1,\"nodename\":\"\",\"connects\":1},"
	"\"127.0.0.1:8443/1-again\":{\"nodename\":\"127.0.0.1:8443\",\"connects\":1}}}";

START_TEST(test_used_brokers)
{
	struct client_view v;
	struct client_addr_set set = {0};
	char err[160];

	ck_assert_int_eq(client_view_parse(stats_doc, strlen(stats_doc), &v, err, sizeof(err)), 0);
	ck_assert_uint_eq(v.n_brokers, 5);
	ck_assert(!v.truncated);
	ck_assert_str_eq(v.brokers[0].name, "127.0.0.1:9094/bootstrap");
	ck_assert_int_eq(v.brokers[1].nodeid, 1);
	ck_assert_int_eq(v.brokers[4].nodeid, -1); /* absent */
	ck_assert_int_eq(client_view_use(&v.brokers[0]), CLIENT_VIEW_USED);
	ck_assert_int_eq(client_view_use(&v.brokers[2]), CLIENT_VIEW_IDLE);
	ck_assert_int_eq(client_view_use(&v.brokers[3]), CLIENT_VIEW_NO_ADDRESS);
	/* Each used address once, in the order first seen. */
	client_view_add_used(&v, &set);
	client_view_add_used(&v, &set);
	ck_assert_uint_eq(set.n, 2);
	ck_assert_str_eq(set.addr[0], "127.0.0.1:9094");
	ck_assert_str_eq(set.addr[1], "127.0.0.1:8443");
	ck_assert(!set.incomplete);
}
END_TEST

/* A document that is not a view leaves the previous one as it was. */
START_TEST(test_not_a_view)
{
	static const char no_brokers[] = "{\"name\":\"rdkafka#producer-1\"}";
	struct client_view v;
	char err[160];

	ck_assert_int_eq(client_view_parse(stats_doc, strlen(stats_doc), &v, err, sizeof(err)), 0);
	ck_assert_int_eq(client_view_parse("{\"brokers\":", 11, &v, err, sizeof(err)), -1);
	ck_assert(err[0] != '\0');
	ck_assert_int_eq(client_view_parse(no_brokers, strlen(no_brokers), &v, err, sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "no \"brokers\" object");
	ck_assert_uint_eq(v.n_brokers, 5);
}
END_TEST

/* More entries than are kept: the view says so, and a set built from it is incomplete, so a
 * check cannot pass on what it did not see. */
START_TEST(test_truncated)
{
	static char doc[CLIENT_VIEW_MAX_BROKERS * 64 + 64];
	static struct client_view v;
	struct client_addr_set set = {0};
	size_t len = 0;
	char err[160];

	len += (size_t)snprintf(doc + len, sizeof(doc) - len, "{\"brokers\":{");
	for (int i = 0; i <= CLIENT_VIEW_MAX_BROKERS; i++)
		len += (size_t)snprintf(doc + len, sizeof(doc) - len,
					"%s\"h:%d/%d\":{\"nodename\":\"h:%d\",\"connects\":1}",
					i ? "," : "", i, i, i);
	len += (size_t)snprintf(doc + len, sizeof(doc) - len, "}}");
	ck_assert_uint_lt(len, sizeof(doc) - 1);
	ck_assert_int_eq(client_view_parse(doc, len, &v, err, sizeof(err)), 0);
	ck_assert_uint_eq(v.n_brokers, CLIENT_VIEW_MAX_BROKERS);
	ck_assert(v.truncated);
	client_view_add_used(&v, &set);
	ck_assert_uint_eq(set.n, CLIENT_VIEW_MAX_BROKERS);
	ck_assert(set.incomplete);
}
END_TEST

TCase *tcase_0008_client_view(void)
{
	TCase *tc = tcase_create("0008_client_view");

	tcase_add_test(tc, test_used_brokers);
	tcase_add_test(tc, test_not_a_view);
	tcase_add_test(tc, test_truncated);
	return tc;
}
