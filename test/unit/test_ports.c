/* test_ports.c — the broker_ports rule: which brokers[] entries it makes,
 * that written entries win, and every mistake reported with its path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../config/config.h"
#include "tests.h"

#define BOOT "\"bootstrap\":{\"listen\":\"127.0.0.1:9094\",\"upstream\":[\"b-1:9094\"]}"

/* Loads json; returns the number of errors, each one kept in *errs. */
static size_t load(const char *json, struct cfg *cfg, struct cfg_errors *errs)
{
	if (cfg_load_string(json, cfg, errs) == 0)
		ck_assert_int_eq(errs->n, 0);
	return errs->n;
}

static int mentions(const struct cfg_errors *errs, const char *what)
{
	for (size_t i = 0; i < errs->n; i++)
		if (strstr(errs->msgs[i], what))
			return 1;
	return 0;
}

#define EXPECT_ERRORS(json, ...)                                                          \
	do {                                                                              \
		static const char *const exp_[] = {__VA_ARGS__};                          \
		struct cfg cfg_;                                                          \
		struct cfg_errors errs_;                                                  \
		size_t n_ = load(json, &cfg_, &errs_);                                    \
		ck_assert_msg(n_ == sizeof(exp_) / sizeof(exp_[0]),                       \
			      "%zu errors, expected %zu (first: %s)", n_,                 \
			      sizeof(exp_) / sizeof(exp_[0]), n_ ? errs_.msgs[0] : "-");  \
		for (size_t i_ = 0; i_ < sizeof(exp_) / sizeof(exp_[0]); i_++)            \
			ck_assert_msg(mentions(&errs_, exp_[i_]), "no error says \"%s\" "  \
				      "(first: %s)", exp_[i_], errs_.msgs[0]);             \
		cfg_errors_free(&errs_);                                                  \
	} while (0)

START_TEST(test_rule_alone)
{
	struct cfg cfg;
	struct cfg_errors errs;
	const struct cfg_broker *b;

	ck_assert_int_eq(load("{" BOOT ",\"broker_ports\":{\"listen_host\":\"0.0.0.0\","
			      "\"first_port\":8443,\"first_id\":1,\"count\":12,"
			      "\"advertise_host\":\"nlb.example.com\"}}",
			      &cfg, &errs),
			 0);
	ck_assert_uint_eq(cfg.n_brokers, 12);
	ck_assert_uint_eq(cfg.n_explicit, 0);
	for (int32_t id = 1; id <= 12; id++) {
		b = cfg_broker_by_id(&cfg, id);
		ck_assert_ptr_nonnull(b);
		ck_assert_int_eq(b->from_rule, 1);
		ck_assert_str_eq(b->listen.host, "0.0.0.0");
		ck_assert_int_eq(b->listen.port, 8442 + id);
		ck_assert_str_eq(b->advertise.host, "nlb.example.com");
		/* Without advertise_first_port, the NLB's port is kgate's. */
		ck_assert_int_eq(b->advertise.port, 8442 + id);
		ck_assert_ptr_null(b->upstream.host);
	}
	ck_assert_str_eq(cfg_broker_by_id(&cfg, 12)->advertise.text, "nlb.example.com:8454");
	ck_assert_ptr_null(cfg_broker_by_id(&cfg, 0));
	ck_assert_ptr_null(cfg_broker_by_id(&cfg, 13));
	cfg_free(&cfg);
}
END_TEST

START_TEST(test_written_entries_win)
{
	struct cfg cfg;
	struct cfg_errors errs;
	const struct cfg_broker *b;
	char where[64];

	ck_assert_int_eq(
		load("{" BOOT ",\"broker_ports\":{\"listen_host\":\"::\",\"first_port\":19000,"
		     "\"first_id\":100,\"count\":4,\"advertise_host\":\"kafka.internal\","
		     "\"advertise_first_port\":8443},"
		     "\"brokers\":[{\"id\":102,\"listen\":\"127.0.0.1:7000\","
		     "\"advertise\":\"b102.example:7000\",\"upstream\":\"b-102:9094\"},"
		     "{\"id\":7,\"listen\":\"127.0.0.1:7001\",\"advertise\":\"b7.example:7001\"}]}",
		     &cfg, &errs),
		0);
	/* Two written, three of the rule's four (102 is written). */
	ck_assert_uint_eq(cfg.n_brokers, 5);
	ck_assert_uint_eq(cfg.n_explicit, 2);
	b = cfg_broker_by_id(&cfg, 102);
	ck_assert_int_eq(b->from_rule, 0);
	ck_assert_str_eq(b->upstream.text, "b-102:9094");
	ck_assert_str_eq(b->listen.text, "127.0.0.1:7000");
	b = cfg_broker_by_id(&cfg, 103);
	ck_assert_int_eq(b->from_rule, 1);
	ck_assert_str_eq(b->listen.text, "[::]:19003");
	ck_assert_str_eq(b->advertise.text, "kafka.internal:8446");
	ck_assert_int_eq(cfg_broker_by_id(&cfg, 7)->from_rule, 0);
	ck_assert_ptr_null(cfg_broker_by_id(&cfg, 104));
	for (size_t i = 0; i < cfg.n_brokers; i++) {
		cfg_broker_where(&cfg, i, where, sizeof(where));
		if (cfg.brokers[i].from_rule)
			ck_assert_msg(strncmp(where, "broker_ports (id 10", 19) == 0, "%s", where);
		else
			ck_assert_msg(strncmp(where, "brokers[", 8) == 0, "%s", where);
	}
	cfg_free(&cfg);
}
END_TEST

START_TEST(test_rule_errors)
{
	EXPECT_ERRORS("{" BOOT ",\"broker_ports\":{\"listen_host\":\"nlb\",\"first_port\":65530,"
		      "\"first_id\":2147483646,\"count\":10,\"advertise_host\":\"0.0.0.0\"}}",
		      "broker_ports.listen_host: \"nlb\" is not an IP address",
		      "broker_ports.advertise_host: expected a host name or address clients",
		      "broker_ports.count: ids 2147483646 to 2147483655 go past",
		      "broker_ports.count: ports 65530 to 65539 go past 65535",
		      "broker_ports.count: advertised ports 65530 to 65539 go past 65535");
	EXPECT_ERRORS("{" BOOT ",\"broker_ports\":{\"listen_host\":\"0.0.0.0\",\"first_port\":1,"
		      "\"first_id\":1,\"count\":10,\"advertise_host\":\"nlb\","
		      "\"advertise_first_port\":65530}}",
		      "broker_ports.count: advertised ports 65530 to 65539 go past 65535");
	EXPECT_ERRORS("{" BOOT ",\"broker_ports\":{\"listen_host\":\"0.0.0.0\",\"first_port\":0,"
		      "\"count\":1025,\"advertise_host\":\"\",\"ports\":3}}",
		      "broker_ports.ports: unknown key",
		      "broker_ports.first_port: expected an integer from 1 to 65535",
		      "broker_ports.first_id: missing",
		      "broker_ports.count: expected an integer from 1 to 1024",
		      "broker_ports.advertise_host: expected a non-empty string");
	EXPECT_ERRORS("{" BOOT ",\"broker_ports\":[]}", "broker_ports: expected an object",
		      "brokers: missing");
}
END_TEST

START_TEST(test_rule_meets_the_rest)
{
	/* Its ports against the bootstrap's, a written broker's and the admin
	 * endpoint's; its advertised addresses against a written one's. */
	EXPECT_ERRORS("{\"bootstrap\":{\"listen\":\"127.0.0.1:8445\",\"upstream\":[\"a:1\"]},"
		      "\"admin\":{\"listen\":\"127.0.0.1:8446\"},"
		      "\"broker_ports\":{\"listen_host\":\"0.0.0.0\",\"first_port\":8443,"
		      "\"first_id\":1,\"count\":5,\"advertise_host\":\"nlb\"},"
		      "\"brokers\":[{\"id\":9,\"listen\":\"127.0.0.1:8447\",\"advertise\":\"nlb:8443\"}]}",
		      "broker_ports (id 3).listen: 0.0.0.0:8445 overlaps bootstrap.listen",
		      "admin.listen: 127.0.0.1:8446 overlaps broker_ports (id 4).listen",
		      "broker_ports (id 5).listen: 0.0.0.0:8447 overlaps brokers[0].listen",
		      "broker_ports (id 1).advertise: nlb:8443 is already advertised by brokers[0]");
	/* Neither brokers[] nor a rule (nor sni), said along with the other
	 * mistakes. */
	EXPECT_ERRORS("{\"bootstrap\":{\"upstream\":[\"a:1\"]}}", "bootstrap.listen: missing",
		      "brokers: missing (expected a non-empty array of broker objects, a "
		      "broker_ports rule, or an sni block)");
	/* An upstream that would dial one of the rule's listeners. */
	EXPECT_ERRORS("{\"bootstrap\":{\"listen\":\"127.0.0.1:9094\",\"upstream\":"
		      "[\"127.0.0.1:8444\"]},\"broker_ports\":{\"listen_host\":\"127.0.0.1\","
		      "\"first_port\":8443,\"first_id\":1,\"count\":3,\"advertise_host\":\"nlb\"}}",
		      "bootstrap.upstream[0]: 127.0.0.1:8444 is kgate's own broker_ports (id 2)"
		      ".listen: it would dial itself");
}
END_TEST

START_TEST(test_largest_rule)
{
	struct cfg cfg;
	struct cfg_errors errs;

	ck_assert_int_eq(load("{" BOOT ",\"broker_ports\":{\"listen_host\":\"0.0.0.0\","
			      "\"first_port\":20000,\"first_id\":0,\"count\":1024,"
			      "\"advertise_host\":\"nlb\"}}",
			      &cfg, &errs),
			 0);
	ck_assert_uint_eq(cfg.n_brokers, CFG_RULE_MAX_COUNT);
	ck_assert_int_eq(cfg_broker_by_id(&cfg, 1023)->listen.port, 21023);
	cfg_free(&cfg);
}
END_TEST

Suite *suite_ports(void)
{
	Suite *s = suite_create("ports");
	TCase *tc = tcase_create("broker_ports");

	tcase_add_test(tc, test_rule_alone);
	tcase_add_test(tc, test_written_entries_win);
	tcase_add_test(tc, test_rule_errors);
	tcase_add_test(tc, test_rule_meets_the_rest);
	tcase_add_test(tc, test_largest_rule);
	suite_add_tcase(s, tc);
	return s;
}
