/* test_config.c — configuration validation: what is accepted, and that
 * every mistake is reported with its JSON path, all of them at once. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../config/cli.h"
#include "../../config/config.h"
#include "../../gateway/cpus.h"
#include "../../gateway/workers.h"
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

/* The discovery block: values taken, bounds and the one cross-key rule
 * named by their JSON paths. */
START_TEST(test_discovery_keys)
{
	static const char head[] = "{ \"bootstrap\": { \"listen\": \"0.0.0.0:9094\", "
				   "\"upstream\": [\"b-1.example:9094\"] }, \"brokers\": [ "
				   "{ \"id\": 1, \"listen\": \"0.0.0.0:8443\", \"advertise\": "
				   "\"nlb.example.com:8443\" } ], \"discovery\": ";
	char json[512];
	struct cfg cfg;

	snprintf(json, sizeof(json), "%s{ \"refresh_interval_ms\": 5000, \"backoff_ms\": 20, "
		 "\"backoff_max_ms\": 20 } }", head);
	load_ok(json, &cfg);
	ck_assert_int_eq(cfg.discovery.refresh_interval_ms, 5000);
	ck_assert_int_eq(cfg.discovery.backoff_ms, 20);
	ck_assert_int_eq(cfg.discovery.backoff_max_ms, 20);
	cfg_free(&cfg);
	snprintf(json, sizeof(json), "%s{ \"refresh_interval_ms\": 999 } }", head);
	FAILS(json, "discovery.refresh_interval_ms: expected an integer from 1000");
	snprintf(json, sizeof(json), "%s{ \"backoff_ms\": 2000, \"backoff_max_ms\": 1000 } }",
		 head);
	FAILS(json, "discovery.backoff_max_ms: 1000 is below discovery.backoff_ms 2000");
	snprintf(json, sizeof(json), "%s{ \"backoff\": 1 } }", head);
	FAILS(json, "discovery.backoff");
}
END_TEST

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
	/* Defaults of the discovery block. */
	ck_assert_int_eq(cfg.discovery.refresh_interval_ms, 30000);
	ck_assert_int_eq(cfg.discovery.backoff_ms, 500);
	ck_assert_int_eq(cfg.discovery.backoff_max_ms, 30000);
	/* Defaults of the limits block. */
	ck_assert_int_eq(cfg.limits.max_frame_bytes, 100 * 1024 * 1024);
	ck_assert_int_eq(cfg.limits.connect_timeout_ms, 10000);
	ck_assert_int_eq(cfg.limits.max_inflight, 1024);
	ck_assert_int_eq(cfg.limits.max_brokers, 10000);
	ck_assert_int_eq(cfg.limits.drain_timeout_ms, 30000);
	ck_assert_int_eq(cfg.limits.idle_timeout_ms, 600000);
	ck_assert_int_eq(cfg.limits.frame_timeout_ms, 30000);
	ck_assert_ptr_null(cfg.admin.listen.host); /* no admin endpoint unless asked */
	ck_assert_int_eq(cfg.log_format, CFG_LOG_TEXT);
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
	/* Three written, ids 4-12 by the rule. */
	ck_assert_uint_eq(cfg.n_explicit, 3);
	ck_assert_uint_eq(cfg.n_brokers, 12);
	cfg_free(&cfg);
	load_ok("{\"bootstrap\":{\"listen\":\"[::1]:9094\",\"upstream\":[\"[fd00::1]:9092\"]},"
		"\"brokers\":[{\"id\":0,\"listen\":\"[::]:8443\",\"advertise\":\"[::1]:8443\"}],"
		"\"limits\":{\"max_frame_bytes\":2048}}",
		&cfg);
	ck_assert_str_eq(cfg.bootstrap_listen.host, "::1");
	ck_assert_str_eq(cfg.bootstrap_upstream.v[0].host, "fd00::1");
	ck_assert_int_eq(cfg.limits.max_frame_bytes, 2048);
	cfg_free(&cfg);
	/* Addresses kgate logs are written the way the config takes them. */
	cfg_addr_format(path, sizeof(path), "fd00::1", 9092);
	ck_assert_str_eq(path, "[fd00::1]:9092");
	cfg_addr_format(path, sizeof(path), "b-1.msk.internal", 9094);
	ck_assert_str_eq(path, "b-1.msk.internal:9094");
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
	FAILS("{\"bootstrap\":{\"listen\":\"0.0.0.0:9094\",\"upstream\":[\"a:1\"],\"sasl\":1},"
	      "\"brokers\":[{\"id\":1,\"listen\":\"0.0.0.0:1\",\"advertise\":\"x:1\",\"port\":2}],"
	      "\"extra\":true}",
	      "bootstrap.sasl: unknown key", "brokers[0].port: unknown key",
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

/* Builds JSON with {C} replaced by the certificate directory. */
static char *with_certs(const char *tmpl)
{
	const char *dir = getenv("KGATE_CERTS");
	static char out[8192];
	size_t n = 0;

	ck_assert_msg(dir != NULL, "KGATE_CERTS is not set (make test-unit sets it)");
	for (const char *p = tmpl; *p && n < sizeof(out) - 256; p++) {
		if (p[0] == '{' && p[1] == 'C' && p[2] == '}') {
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s", dir);
			p += 2;
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
	return out;
}

#define BASE "\"bootstrap\":{\"listen\":\"127.0.0.1:9094\",\"upstream\":[\"b:1\"]%s},"       \
	     "\"brokers\":[{\"id\":1,\"listen\":\"127.0.0.1:8443\",\"advertise\":\"h:1\"%s}]"

START_TEST(test_tls_valid)
{
	struct cfg cfg;
	char json[4096];

	snprintf(json, sizeof(json),
		 "{" BASE ",\"tls\":{\"listen\":{\"cert\":\"{C}/gateway.pem\",\"key\":\"{C}/gateway.key\","
		 "\"client_auth\":\"optional\",\"ca\":\"{C}/ca.pem\"},"
		 "\"upstream\":{\"ca\":\"{C}/ca.pem\",\"cert\":\"{C}/client.pem\","
		 "\"key\":\"{C}/client.key\"}}}",
		 ",\"tls\":false",
		 ",\"upstream_tls\":{\"ca\":\"{C}/ca.pem\",\"server_name\":\"b-1.msk.internal\"}");
	load_ok(with_certs(json), &cfg);
	/* bootstrap: listener plaintext (false), upstream the global TLS. */
	ck_assert_ptr_null(cfg_listener_tls(&cfg, NULL));
	ck_assert_ptr_eq(cfg_upstream_tls(&cfg, NULL), &cfg.tls_upstream);
	ck_assert_int_eq(cfg.tls_upstream.verify, 1);
	/* broker: listener the global TLS, upstream its own. */
	ck_assert_ptr_eq(cfg_listener_tls(&cfg, &cfg.brokers[0]), &cfg.tls_listen);
	ck_assert_int_eq(cfg.tls_listen.client_auth, CFG_CLIENT_AUTH_OPTIONAL);
	ck_assert_int_eq(cfg.tls_listen.handshake_timeout_ms, 10000);
	ck_assert_str_eq(cfg_upstream_tls(&cfg, &cfg.brokers[0])->server_name, "b-1.msk.internal");
	cfg_free(&cfg);
	/* No TLS anywhere: both NULL. */
	snprintf(json, sizeof(json), "{" BASE "}", "", "");
	load_ok(json, &cfg);
	ck_assert_ptr_null(cfg_listener_tls(&cfg, &cfg.brokers[0]));
	ck_assert_ptr_null(cfg_upstream_tls(&cfg, &cfg.brokers[0]));
	cfg_free(&cfg);
}
END_TEST

START_TEST(test_tls_errors)
{
	char json[4096];

	/* Files that do not exist, wrong types, bad names. */
	snprintf(json, sizeof(json),
		 "{" BASE ",\"tls\":{\"listen\":{\"cert\":\"{C}/nope.pem\",\"key\":\"{C}/gateway.key\","
		 "\"client_auth\":\"maybe\"},\"upstream\":\"yes\"}}",
		 ",\"tls\":true", ",\"upstream_tls\":{\"verify\":\"no\"}");
	FAILS(with_certs(json), "tls.listen.cert: cannot read", "tls.listen.client_auth: expected one of",
	      "tls.upstream: expected an object", "bootstrap.tls: expected an object (or false",
	      "brokers[0].upstream_tls.verify: expected true or false");
	/* Files that exist but do not fit. */
	snprintf(json, sizeof(json),
		 "{" BASE ",\"tls\":{\"listen\":{\"cert\":\"{C}/gateway.pem\",\"key\":\"{C}/client.key\"},"
		 "\"upstream\":{\"ca\":\"{C}/ca.key\"}}}",
		 ",\"tls\":{\"cert\":\"{C}/expired.pem\",\"key\":\"{C}/expired.key\"},"
		 "\"upstream_tls\":{\"cert\":\"{C}/client.pem\"}",
		 ",\"tls\":{\"cert\":\"{C}/gateway.pem\",\"key\":\"{C}/gateway.key\","
		 "\"client_auth\":\"require\",\"ciphers\":\"NO-SUCH-CIPHER\"}");
	FAILS(with_certs(json), "client.key\" does not match the certificate in",
	      "tls.upstream: cannot load CA certificates", "expired.pem\" has expired",
	      "bootstrap.upstream_tls: \"cert\" and \"key\" go together",
	      "brokers[0].tls.ca: missing");
	snprintf(json, sizeof(json), "{" BASE "}", "",
		 ",\"tls\":{\"cert\":\"{C}/gateway.pem\",\"key\":\"{C}/gateway.key\","
		 "\"ciphers\":\"NO-SUCH-CIPHER\"}");
	FAILS(with_certs(json), "brokers[0].tls: cipher list \"NO-SUCH-CIPHER\" selects no cipher");
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

/* The demo's addresses: loopback by default; a wildcard listens everywhere
 * but is never advertised; a listener needs an address, not a name. */
START_TEST(test_cli_demo_addresses)
{
	struct cli_opts o;
	char err[256];
	char *plain[] = {"kgate", "--demo", NULL};
	char *any[] = {"kgate", "--demo", "--demo-listen", "0.0.0.0", NULL};
	char *any6[] = {"kgate", "--demo", "--demo-listen", "::", NULL};
	char *ip[] = {"kgate", "--demo", "--demo-listen", "10.1.2.3", NULL};
	char *named[] = {"kgate", "--demo", "--demo-listen", "0.0.0.0", "--demo-advertise",
			 "kgate.example.com", NULL};
	char *name_listen[] = {"kgate", "--demo", "--demo-listen", "localhost", NULL};
	char *wild_adv[] = {"kgate", "--demo", "--demo-advertise", "0.0.0.0", NULL};
	char *bad_adv[] = {"kgate", "--demo", "--demo-advertise", "a b", NULL};
	char *no_demo[] = {"kgate", "-c", "x", "--demo-listen", "0.0.0.0", NULL};

	ck_assert_int_eq(cli_parse(2, plain, &o, err, sizeof(err)), 0);
	ck_assert_str_eq(o.demo_listen, "127.0.0.1");
	ck_assert_str_eq(o.demo_advertise, "127.0.0.1");
	ck_assert_int_eq(cli_parse(4, any, &o, err, sizeof(err)), 0);
	ck_assert_str_eq(o.demo_listen, "0.0.0.0");
	ck_assert_str_eq(o.demo_advertise, "127.0.0.1");
	ck_assert_int_eq(cli_parse(4, any6, &o, err, sizeof(err)), 0);
	ck_assert_str_eq(o.demo_advertise, "127.0.0.1");
	ck_assert_int_eq(cli_parse(4, ip, &o, err, sizeof(err)), 0);
	ck_assert_str_eq(o.demo_advertise, "10.1.2.3");
	ck_assert_int_eq(cli_parse(6, named, &o, err, sizeof(err)), 0);
	ck_assert_str_eq(o.demo_listen, "0.0.0.0");
	ck_assert_str_eq(o.demo_advertise, "kgate.example.com");
	ck_assert_int_eq(cli_parse(4, name_listen, &o, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "--demo-listen \"localhost\""));
	ck_assert_int_eq(cli_parse(4, wild_adv, &o, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "--demo-advertise"));
	ck_assert_int_eq(cli_parse(4, bad_adv, &o, err, sizeof(err)), -1);
	ck_assert_int_eq(cli_parse(5, no_demo, &o, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "go with --demo"));
}
END_TEST

#define ADMIN_BASE                                                                            \
	"{\"bootstrap\":{\"listen\":\"0.0.0.0:9094\",\"upstream\":[\"b:1\"]},"                   \
	"\"brokers\":[{\"id\":1,\"listen\":\"0.0.0.0:8443\",\"advertise\":\"h:1\"}],"

/* The admin endpoint: loopback by default, elsewhere only when asked, never
 * on a listener's port; and the log format. */
START_TEST(test_admin_and_log)
{
	struct cfg cfg;

	load_ok(ADMIN_BASE "\"admin\":{\"listen\":\"127.0.0.1:9644\"},\"log\":{\"format\":\"json\"}}",
		&cfg);
	ck_assert_str_eq(cfg.admin.listen.text, "127.0.0.1:9644");
	ck_assert_int_eq(cfg.admin.probe_interval_ms, 10000);
	ck_assert_int_eq(cfg.log_format, CFG_LOG_JSON);
	cfg_free(&cfg);
	load_ok(ADMIN_BASE "\"admin\":{\"listen\":\"10.0.0.5:9644\",\"allow_remote\":true,"
			   "\"probe_interval_ms\":500}}",
		&cfg);
	ck_assert_int_eq(cfg.admin.probe_interval_ms, 500);
	cfg_free(&cfg);
	FAILS(ADMIN_BASE "\"admin\":{\"listen\":\"0.0.0.0:9644\"}}",
	      "admin.listen: 0.0.0.0:9644 is not a loopback address: set admin.allow_remote");
	FAILS(ADMIN_BASE "\"admin\":{\"listen\":\"127.0.0.1:8443\"}}",
	      "admin.listen: 127.0.0.1:8443 overlaps brokers[0].listen 0.0.0.0:8443");
	FAILS(ADMIN_BASE "\"admin\":{\"probe_interval_ms\":5},\"log\":{\"format\":\"xml\"}}",
	      "admin.listen: missing", "admin.probe_interval_ms: expected an integer from 100",
	      "log.format: expected one of \"text\", \"json\"");
	FAILS(ADMIN_BASE "\"limits\":{\"idle_timeout_ms\":10,\"frame_timeout_ms\":0,"
			 "\"drain_timeout_ms\":-1}}",
	      "limits.idle_timeout_ms: expected an integer from 1000",
	      "limits.frame_timeout_ms: expected an integer from 100",
	      "limits.drain_timeout_ms: expected an integer from 0");
}
END_TEST

/* workers: one per CPU kgate may run on unless set; bounded. */
START_TEST(test_workers)
{
	struct cfg cfg;
	cpu_set_t set;

	ck_assert_int_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	load_ok(ADMIN_BASE "\"log\":{}}", &cfg);
	ck_assert_int_eq(cfg.workers, 0);
	ck_assert_uint_eq(workers_count(&cfg), cpus_available());
	ck_assert_uint_ge(cpus_available(), 1);
	ck_assert_uint_le(cpus_available(), (unsigned)CPU_COUNT(&set));
	cfg_free(&cfg);
	load_ok(ADMIN_BASE "\"workers\":3}", &cfg);
	ck_assert_int_eq(cfg.workers, 3);
	ck_assert_uint_eq(workers_count(&cfg), 3);
	cfg_free(&cfg);
	/* A container's CPU limit, as cgroup v2 and v1 (joined) write it. */
	ck_assert_uint_eq(cpus_quota("200000 100000\n"), 2);
	ck_assert_uint_eq(cpus_quota("150000 100000"), 2);
	ck_assert_uint_eq(cpus_quota("50000 100000"), 1);
	ck_assert_uint_eq(cpus_quota("max 100000\n"), 0);
	ck_assert_uint_eq(cpus_quota("-1 100000"), 0);
	ck_assert_uint_eq(cpus_quota("100000 0"), 0);
	ck_assert_uint_eq(cpus_quota("100000 100000 junk"), 0);
	ck_assert_uint_eq(cpus_quota(""), 0);
	FAILS(ADMIN_BASE "\"workers\":-1}", "workers: expected an integer from 0 to 256");
	FAILS(ADMIN_BASE "\"workers\":1000}", "workers: expected an integer from 0 to 256");
	FAILS(ADMIN_BASE "\"workers\":\"two\"}", "workers: expected an integer");
}
END_TEST


/* ---- the sni block ---- */

#define SNI_TLS "\"tls\":{\"cert\":\"{C}/gateway.pem\",\"key\":\"{C}/gateway.key\"}"
#define SNI_BOOT "\"bootstrap\":{\"listen\":\"127.0.0.1:9094\",\"upstream\":[\"b:1\"]}"

START_TEST(test_sni_names)
{
	struct cfg cfg;

	/* No brokers[] needed; advertise_port defaults to the listen port. */
	load_ok(with_certs("{" SNI_BOOT ",\"sni\":{\"listen\":\"0.0.0.0:9443\","
			   "\"bootstrap_name\":\"Bootstrap.Kafka.example.com\","
			   "\"broker_name\":\"b-{id}.kafka.example.com\"," SNI_TLS "}}"),
		&cfg);
	ck_assert(cfg_has_sni(&cfg));
	ck_assert_uint_eq(cfg.n_brokers, 0);
	ck_assert_uint_eq(cfg_n_listeners(&cfg), 2);
	ck_assert_ptr_eq(cfg_listener_conf(&cfg, 1), &cfg.sni_listener);
	ck_assert_ptr_nonnull(cfg_listener_tls(&cfg, &cfg.sni_listener));
	ck_assert_int_eq(cfg.sni.advertise_port, 9443);
	ck_assert_int_eq(cfg.sni.unmatched, CFG_SNI_TO_BOOTSTRAP);
	/* Case-insensitive; one spelling per id. */
	ck_assert_int_eq(cfg_sni_match(&cfg.sni, "bootstrap.kafka.example.com"), CFG_SNI_BOOTSTRAP);
	ck_assert_int_eq(cfg_sni_match(&cfg.sni, "b-1.kafka.example.com"), 1);
	ck_assert_int_eq(cfg_sni_match(&cfg.sni, "B-42.KAFKA.Example.com"), 42);
	ck_assert_int_eq(cfg_sni_match(&cfg.sni, "b-0.kafka.example.com"), 0);
	ck_assert_int_eq(cfg_sni_match(&cfg.sni, "b-2147483647.kafka.example.com"), 2147483647);
	ck_assert_int_eq(cfg_sni_match(&cfg.sni, "b-2147483648.kafka.example.com"),
			 CFG_SNI_UNMATCHED);
	ck_assert_int_eq(cfg_sni_match(&cfg.sni, "b-01.kafka.example.com"), CFG_SNI_UNMATCHED);
	ck_assert_int_eq(cfg_sni_match(&cfg.sni, "b-.kafka.example.com"), CFG_SNI_UNMATCHED);
	ck_assert_int_eq(cfg_sni_match(&cfg.sni, "b--1.kafka.example.com"), CFG_SNI_UNMATCHED);
	ck_assert_int_eq(cfg_sni_match(&cfg.sni, "b-+1.kafka.example.com"), CFG_SNI_UNMATCHED);
	ck_assert_int_eq(cfg_sni_match(&cfg.sni, "b-1x.kafka.example.com"), CFG_SNI_UNMATCHED);
	ck_assert_int_eq(cfg_sni_match(&cfg.sni, "b-1.kafka.example.com.evil"), CFG_SNI_UNMATCHED);
	ck_assert_int_eq(cfg_sni_match(&cfg.sni, "x.b-1.kafka.example.com"), CFG_SNI_UNMATCHED);
	ck_assert_int_eq(cfg_sni_match(&cfg.sni, "kafka.example.com"), CFG_SNI_UNMATCHED);
	ck_assert_int_eq(cfg_sni_match(&cfg.sni, NULL), CFG_SNI_UNMATCHED);
	{
		char name[300];

		ck_assert_int_eq(cfg_sni_name(&cfg.sni, 7, name, sizeof(name)), 21);
		ck_assert_str_eq(name, "b-7.kafka.example.com");
		ck_assert_int_eq(cfg_sni_name(&cfg.sni, 7, name, 10), -1);
	}
	cfg_free(&cfg);
	/* The id may start the name, or end it; TLS from tls.listen. */
	load_ok(with_certs("{" SNI_BOOT ",\"tls\":{\"listen\":{\"cert\":\"{C}/gateway.pem\","
			   "\"key\":\"{C}/gateway.key\"}},\"sni\":{\"listen\":\"0.0.0.0:9443\","
			   "\"advertise_port\":443,\"unmatched\":\"refuse\","
			   "\"bootstrap_name\":\"kafka.example.com\","
			   "\"broker_name\":\"{id}.kafka.example.com\"}}"),
		&cfg);
	ck_assert_int_eq(cfg.sni.advertise_port, 443);
	ck_assert_int_eq(cfg.sni.unmatched, CFG_SNI_REFUSE);
	ck_assert_int_eq(cfg_sni_match(&cfg.sni, "3.kafka.example.com"), 3);
	ck_assert_int_eq(cfg_sni_match(&cfg.sni, "KAFKA.example.com"), CFG_SNI_BOOTSTRAP);
	cfg_free(&cfg);
}
END_TEST

/* src with every from replaced by to, into out (cap bytes). */
static void replace_all(const char *src, const char *from, const char *to, char *out, size_t cap)
{
	size_t n = 0, flen = strlen(from), tlen = strlen(to);

	while (*src) {
		ck_assert_uint_lt(n + tlen + 1, cap);
		if (strncmp(src, from, flen) == 0) {
			memcpy(out + n, to, tlen);
			n += tlen;
			src += flen;
		} else {
			out[n++] = *src++;
		}
	}
	out[n] = '\0';
}

/* The SNI sample, its files replaced by the test PKI's. */
START_TEST(test_sni_sample_file)
{
	static char sample[4096], a[4096], b[4096];
	char path[1024];
	FILE *f = fopen(test_src_path("config/kgate.sni.sample.json", path, sizeof(path)), "r");
	size_t n;
	struct cfg cfg;

	ck_assert_ptr_nonnull(f);
	n = fread(sample, 1, sizeof(sample) - 1, f);
	fclose(f);
	sample[n] = '\0';
	replace_all(sample, "/etc/kgate/tls/wildcard.", "{C}/sni.", a, sizeof(a));
	replace_all(a, "/etc/kgate/tls/", "{C}/", b, sizeof(b));
	load_ok(with_certs(b), &cfg);
	ck_assert(cfg_has_sni(&cfg));
	ck_assert_uint_eq(cfg.n_brokers, 0);
	ck_assert_int_eq(cfg_sni_match(&cfg.sni, "b-12.kafka.example.com"), 12);
	cfg_free(&cfg);
}
END_TEST

START_TEST(test_sni_errors)
{
	/* Neither brokers[] nor sni. */
	FAILS("{" SNI_BOOT "}", "brokers: missing");
	/* Pattern, names, policy, port: each with its path. */
	FAILS(with_certs("{" SNI_BOOT ",\"sni\":{\"listen\":\"0.0.0.0:9443\","
			 "\"advertise_port\":0,\"unmatched\":\"drop\","
			 "\"bootstrap_name\":\"bad_name.example.com\","
			 "\"broker_name\":\"b.kafka.example.com\"," SNI_TLS "}}"),
	      "sni.advertise_port: expected an integer from 1 to 65535",
	      "sni.unmatched: expected one of \"bootstrap\", \"refuse\"");
	FAILS(with_certs("{" SNI_BOOT ",\"sni\":{\"listen\":\"0.0.0.0:9443\","
			 "\"bootstrap_name\":\"bad_name.example.com\","
			 "\"broker_name\":\"b.kafka.example.com\"," SNI_TLS "}}"),
	      "sni.bootstrap_name: \"bad_name.example.com\" is not a DNS name",
	      "sni.broker_name: \"b.kafka.example.com\" must hold \"{id}\" exactly once");
	FAILS(with_certs("{" SNI_BOOT ",\"sni\":{\"listen\":\"0.0.0.0:9443\","
			 "\"bootstrap_name\":\"boot.example.com\","
			 "\"broker_name\":\"b-{id}-{id}.example.com\"," SNI_TLS "}}"),
	      "sni.broker_name: \"b-{id}-{id}.example.com\" must hold \"{id}\" exactly once");
	FAILS(with_certs("{" SNI_BOOT ",\"sni\":{\"listen\":\"0.0.0.0:9443\","
			 "\"bootstrap_name\":\"boot.example.com\","
			 "\"broker_name\":\"b-{id}-.example.com\"," SNI_TLS "}}"),
	      "sni.broker_name: \"b-{id}-.example.com\" does not make a DNS name");
	FAILS(with_certs("{" SNI_BOOT ",\"sni\":{\"listen\":\"0.0.0.0:9443\","
			 "\"bootstrap_name\":\"b-1.example.com\","
			 "\"broker_name\":\"b-{id}.example.com\"," SNI_TLS "}}"),
	      "sni.bootstrap_name: \"b-1.example.com\" matches broker_name");
	/* TLS is required; the listener must not overlap another. */
	FAILS("{" SNI_BOOT ",\"sni\":{\"listen\":\"127.0.0.1:9094\","
	      "\"bootstrap_name\":\"boot.example.com\",\"broker_name\":\"b-{id}.example.com\"}}",
	      "sni.tls: missing", "sni.listen: 127.0.0.1:9094 overlaps bootstrap.listen");
	FAILS("{" SNI_BOOT ",\"sni\":{\"listen\":\"0.0.0.0:9443\",\"tls\":false,"
	      "\"bootstrap_name\":\"boot.example.com\",\"broker_name\":\"b-{id}.example.com\"}}",
	      "sni.tls: expected an object");
	FAILS("{" SNI_BOOT ",\"sni\":{\"bootstrap_name\":\"boot.example.com\",\"port\":1}}",
	      "sni.port: unknown key", "sni.listen: missing", "sni.broker_name: missing");
}
END_TEST

Suite *suite_config(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("validation");

	tcase_add_test(tc, test_design_example);
	tcase_add_test(tc, test_admin_and_log);
	tcase_add_test(tc, test_workers);
	tcase_add_test(tc, test_sample_file_and_ipv6);
	tcase_add_test(tc, test_json_syntax);
	tcase_add_test(tc, test_missing_and_unknown);
	tcase_add_test(tc, test_bad_values_all_reported);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_upstream_that_is_a_listener);
	tcase_add_test(tc, test_tls_valid);
	tcase_add_test(tc, test_tls_errors);
	tcase_add_test(tc, test_cli);
	tcase_add_test(tc, test_discovery_keys);
	tcase_add_test(tc, test_cli_demo_addresses);
	tcase_add_test(tc, test_sni_names);
	tcase_add_test(tc, test_sni_errors);
	tcase_add_test(tc, test_sni_sample_file);
	suite_add_tcase(s, tc);
	return s;
}
