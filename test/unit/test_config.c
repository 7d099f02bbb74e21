/* test_config.c — configuration validation: what is accepted, and that
 * every mistake is reported with its JSON path, all of them at once. */
#include <stdio.h>
#include <string.h>

#include "../../config/cli.h"
#include "../../config/config.h"
#include "tests.h"

/* Loads json and asserts success. */
static void load_ok(const char *json, struct cfg *cfg)
{
	struct cfg_errors errs;
	int rc = cfg_load_string(json, cfg, &errs);

	ck_assert_msg(rc == 0, "rejected: %s", errs.n ? errs.msgs[0] : "?");
	cfg_errors_free(&errs);
}

/* Loads json, asserts failure, and that each expected message is present. */
static void load_fails(const char *json, size_t n_expected, const char *const *expected)
{
	struct cfg errs_cfg;
	struct cfg_errors errs;

	ck_assert_int_eq(cfg_load_string(json, &errs_cfg, &errs), -1);
	ck_assert_msg(errs.n == n_expected, "%zu errors, expected %zu (first: %s)", errs.n,
		      n_expected, errs.n ? errs.msgs[0] : "-");
	for (size_t i = 0; i < n_expected; i++) {
		int found = 0;

		for (size_t j = 0; j < errs.n; j++)
			found |= strstr(errs.msgs[j], expected[i]) != NULL;
		ck_assert_msg(found, "no error mentions \"%s\" (first: %s)", expected[i],
			      errs.msgs[0]);
	}
	cfg_errors_free(&errs);
}

#define FAILS(json, ...)                                                             \
	do {                                                                         \
		static const char *const exp_[] = {__VA_ARGS__};                     \
		load_fails(json, sizeof(exp_) / sizeof(exp_[0]), exp_);              \
	} while (0)

static const char *const design_example =
	"{ \"bootstrap\": { \"listen\": \"0.0.0.0:9094\", \"upstream\": "
	"[\"b-1.example:9094\", \"b-2.example:9094\"] },"
	"  \"brokers\": ["
	"    { \"id\": 1, \"listen\": \"0.0.0.0:8443\", \"advertise\": "
	"\"nlb.example.com:8443\", \"upstream\": \"b-1.example:9094\" },"
	"    { \"id\": 2, \"listen\": \"0.0.0.0:8444\", \"advertise\": "
	"\"nlb.example.com:8444\" } ] }";

START_TEST(test_design_example)
{
	struct cfg cfg;

	load_ok(design_example, &cfg);
	ck_assert_str_eq(cfg.bootstrap_listen.host, "0.0.0.0");
	ck_assert_uint_eq(cfg.bootstrap_listen.port, 9094);
	ck_assert_uint_eq(cfg.bootstrap_upstream.n, 2);
	ck_assert_str_eq(cfg.bootstrap_upstream.v[1].host, "b-2.example");
	ck_assert_uint_eq(cfg.n_brokers, 2);
	ck_assert_int_eq(cfg.brokers[0].id, 1);
	ck_assert_str_eq(cfg.brokers[0].upstream.host, "b-1.example");
	ck_assert_ptr_null(cfg.brokers[1].upstream.host);
	ck_assert_str_eq(cfg.brokers[1].advertise.host, "nlb.example.com");
	ck_assert_uint_eq(cfg.brokers[1].advertise.port, 8444);
	ck_assert_ptr_eq(cfg_broker_by_id(&cfg, 2), &cfg.brokers[1]);
	ck_assert_ptr_null(cfg_broker_by_id(&cfg, 3));
	/* Defaults of the limits block. */
	ck_assert_int_eq(cfg.limits.max_frame_bytes, 100 * 1024 * 1024);
	ck_assert_int_eq(cfg.limits.connect_timeout_ms, 10000);
	ck_assert_int_eq(cfg.limits.max_inflight, 1024);
	cfg_free(&cfg);
}
END_TEST

START_TEST(test_sample_file_and_ipv6)
{
	char path[1024];
	struct cfg cfg;
	struct cfg_errors errs;

	ck_assert_int_eq(cfg_load_file(test_src_path("config/kgate.sample.json", path,
						     sizeof(path)),
				       &cfg, &errs),
			 0);
	ck_assert_uint_eq(cfg.n_brokers, 3);
	cfg_free(&cfg);
	load_ok("{\"bootstrap\":{\"listen\":\"[::1]:9094\",\"upstream\":[\"[fd00::1]:9092\"]},"
		"\"brokers\":[{\"id\":0,\"listen\":\"[::]:8443\",\"advertise\":\"[::1]:8443\"}],"
		"\"limits\":{\"max_frame_bytes\":2048}}",
		&cfg);
	ck_assert_str_eq(cfg.bootstrap_listen.host, "::1");
	ck_assert_str_eq(cfg.bootstrap_upstream.v[0].host, "fd00::1");
	ck_assert_int_eq(cfg.limits.max_frame_bytes, 2048);
	cfg_free(&cfg);
}
END_TEST

START_TEST(test_json_syntax)
{
	FAILS("{ \"bootstrap\": ", "(string):1:");
	FAILS("[]", "(top level): expected an object");
	/* Duplicate keys are a mistake, not "last one wins". */
	FAILS("{\"bootstrap\":{}, \"bootstrap\":{}}", "duplicate");
}
END_TEST

START_TEST(test_missing_and_unknown)
{
	FAILS("{}", "bootstrap: missing", "brokers: missing");
	FAILS("{\"bootstrap\":{\"listen\":\"0.0.0.0:9094\",\"upstream\":[\"a:1\"],\"tls\":1},"
	      "\"brokers\":[{\"id\":1,\"listen\":\"0.0.0.0:1\",\"advertise\":\"x:1\",\"port\":2}],"
	      "\"extra\":true}",
	      "bootstrap.tls: unknown key", "brokers[0].port: unknown key",
	      "extra: unknown key");
	FAILS("{\"bootstrap\":{\"upstream\":[\"a:1\"]},\"brokers\":[{\"listen\":\"0.0.0.0:1\"}]}",
	      "bootstrap.listen: missing", "brokers[0].id: missing",
	      "brokers[0].advertise: missing");
}
END_TEST

START_TEST(test_bad_values_all_reported)
{
	FAILS("{\"bootstrap\":{\"listen\":\"nlb.example.com:9094\",\"upstream\":[]},"
	      "\"brokers\":[{\"id\":-1,\"listen\":\"0.0.0.0\",\"advertise\":\"x:0\","
	      "\"upstream\":\"a:b\"},"
	      "{\"id\":\"2\",\"listen\":\"0.0.0.0:70000\",\"advertise\":\"bad host:1\"},"
	      "{\"id\":3,\"listen\":\"::1:8443\",\"advertise\":8443}],"
	      "\"limits\":{\"max_frame_bytes\":10,\"buffer_bytes\":\"big\"}}",
	      "bootstrap.listen: \"nlb.example.com\" is not an IP address",
	      "bootstrap.upstream: expected a non-empty array",
	      "brokers[0].id: expected an integer from 0 to 2147483647",
	      "brokers[0].listen: no port", "brokers[0].advertise: port \"0\"",
	      "brokers[0].upstream: port \"b\"", "brokers[1].id: expected an integer",
	      "brokers[1].listen: port \"70000\"",
	      "brokers[1].advertise: \"bad host\" is neither",
	      "brokers[2].listen: IPv6 addresses need brackets",
	      "brokers[2].advertise: expected \"host:port\"",
	      "limits.max_frame_bytes: expected an integer from 1024",
	      "limits.buffer_bytes: expected an integer");
	FAILS("{\"bootstrap\":{\"listen\":\"0.0.0.0:9094\",\"upstream\":[\"a:1\", 5]},"
	      "\"brokers\":[]}",
	      "bootstrap.upstream[1]: expected \"host:port\"",
	      "brokers: expected a non-empty array");
}
END_TEST

START_TEST(test_duplicates)
{
	FAILS("{\"bootstrap\":{\"listen\":\"127.0.0.1:8443\",\"upstream\":[\"a:1\"]},"
	      "\"brokers\":["
	      "{\"id\":1,\"listen\":\"0.0.0.0:8443\",\"advertise\":\"nlb:8443\"},"
	      "{\"id\":1,\"listen\":\"127.0.0.2:8444\",\"advertise\":\"NLB:8443\"},"
	      "{\"id\":3,\"listen\":\"127.0.0.2:8444\",\"advertise\":\"nlb:8445\"}]}",
	      "brokers[0].listen: 0.0.0.0:8443 overlaps bootstrap.listen 127.0.0.1:8443",
	      "brokers[1].id: 1 is already used by brokers[0]",
	      "brokers[1].advertise: NLB:8443 is already advertised by brokers[0]",
	      "brokers[2].listen: 127.0.0.2:8444 overlaps brokers[1].listen");
	/* Different addresses on one port do not overlap. */
	{
		struct cfg cfg;

		load_ok("{\"bootstrap\":{\"listen\":\"127.0.0.1:9094\",\"upstream\":[\"a:1\"]},"
			"\"brokers\":["
			"{\"id\":1,\"listen\":\"127.0.0.1:8443\",\"advertise\":\"h1:8443\"},"
			"{\"id\":2,\"listen\":\"127.0.0.2:8443\",\"advertise\":\"h2:8443\"}]}",
			&cfg);
		cfg_free(&cfg);
	}
}
END_TEST

START_TEST(test_upstream_that_is_a_listener)
{
	/* Upstreams that would dial kgate itself, and the same address on
	 * another port or another host, which would not. */
	FAILS("{\"bootstrap\":{\"listen\":\"127.0.0.1:9094\",\"upstream\":"
	      "[\"127.0.0.1:9094\",\"localhost:8444\",\"b-1:9094\"]},"
	      "\"brokers\":["
	      "{\"id\":1,\"listen\":\"127.0.0.1:8443\",\"advertise\":\"h:8443\","
	      "\"upstream\":\"127.0.0.1:8443\"},"
	      "{\"id\":2,\"listen\":\"0.0.0.0:8444\",\"advertise\":\"h:8444\","
	      "\"upstream\":\"127.0.0.9:8444\"},"
	      "{\"id\":3,\"listen\":\"0.0.0.0:8445\",\"advertise\":\"h:8445\","
	      "\"upstream\":\"10.1.2.3:8445\"},"
	      "{\"id\":4,\"listen\":\"127.0.0.1:8446\",\"advertise\":\"h:8446\","
	      "\"upstream\":\"127.0.0.1:9092\"}]}",
	      "bootstrap.upstream[0]: 127.0.0.1:9094 is kgate's own bootstrap.listen",
	      "bootstrap.upstream[1]: localhost:8444 is kgate's own brokers[1].listen",
	      "brokers[0].upstream: 127.0.0.1:8443 is kgate's own brokers[0].listen",
	      "brokers[1].upstream: 127.0.0.9:8444 is kgate's own brokers[1].listen");
}
END_TEST

START_TEST(test_cli)
{
	struct cli_opts o;
	char err[256];
	char *ok[] = {"kgate", "--config", "x.json", "--log-level", "debug", NULL};
	char *check[] = {"kgate", "--check", "-c", "x.json", NULL};
	char *demo[] = {"kgate", "--demo", NULL};
	char *none[] = {"kgate", NULL};
	char *both[] = {"kgate", "--demo", "--config", "x", NULL};
	char *unknown[] = {"kgate", "--frobnicate", NULL};
	char *noval[] = {"kgate", "--config", NULL};
	char *extra[] = {"kgate", "-c", "x", "stray", NULL};

	ck_assert_int_eq(cli_parse(5, ok, &o, err, sizeof(err)), 0);
	ck_assert_str_eq(o.config_path, "x.json");
	ck_assert_str_eq(o.log_level, "debug");
	ck_assert_int_eq(cli_parse(4, check, &o, err, sizeof(err)), 0);
	ck_assert(o.check);
	ck_assert_int_eq(cli_parse(2, demo, &o, err, sizeof(err)), 0);
	ck_assert(o.demo);
	ck_assert_int_eq(cli_parse(1, none, &o, err, sizeof(err)), -1);
	ck_assert_int_eq(cli_parse(4, both, &o, err, sizeof(err)), -1);
	ck_assert_int_eq(cli_parse(2, unknown, &o, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "--frobnicate"));
	ck_assert_int_eq(cli_parse(2, noval, &o, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "needs a value"));
	ck_assert_int_eq(cli_parse(4, extra, &o, err, sizeof(err)), -1);
}
END_TEST

Suite *suite_config(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("validation");

	tcase_add_test(tc, test_design_example);
	tcase_add_test(tc, test_sample_file_and_ipv6);
	tcase_add_test(tc, test_json_syntax);
	tcase_add_test(tc, test_missing_and_unknown);
	tcase_add_test(tc, test_bad_values_all_reported);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_upstream_that_is_a_listener);
	tcase_add_test(tc, test_cli);
	suite_add_tcase(s, tc);
	return s;
}
