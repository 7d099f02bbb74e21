/* 0019_upstream_sasl.c — kgate signing in to brokers (upstream_sasl) with
 * PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, checked by a SASL front written
 * apart from kgate (test/lib/sasl_front.py, one per mock broker): clients
 * without SASL move messages exactly once, every upstream connection
 * authenticates as the configured user before any client byte, a wrong
 * password is reported, sessions with a lifetime are re-authenticated
 * between requests (KIP-368) and never expire, also when idle, kgate's own
 * Metadata connection signs in too, each listener's own block wins, and a
 * broker offering an older SaslAuthenticate gets that version.  The first
 * test checks the front itself, with a scripted client and with
 * librdkafka's own SASL client, without kgate.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/clients.h"
#include "../lib/front.h"
#include "itests.h"

#define TOPIC "sasl"
#define PARTITIONS 3
#define USER "alice"
#define PASSWORD "wonderland-0019"

static const char *const mechanisms[] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"};

/* The newest SaslAuthenticate the fronts offer, and so the version every
 * sign-in must use (each test runs in its own process: a test that
 * changes it changes it for itself). */
static int auth_version = 2;

static void sleep_ms(int ms)
{
	usleep((useconds_t)ms * 1000);
}

/* The file the fronts' password is written to (what kgate is given). */
static const char *password_path(const struct front *f)
{
	static char path[320];

	snprintf(path, sizeof(path), "%s/password", f->dir);
	return path;
}

/* Starts fronts before n backends ("host:port"): USER with PASSWORD,
 * sessions of lifetime_ms (0: none), broker addresses in answers rewritten
 * to the fronts if rewrite; and writes password (what kgate will be given)
 * to a file. */
static void front_start_for(struct front *f, char backends[][64], int n, int lifetime_ms,
			    int rewrite, const char *password)
{
	char lifetime[32], user[128], max_auth[8];
	const char *args[16];
	int k = 0;
	FILE *pw;

	front_init(f, "front", n);
	pw = fopen(password_path(f), "w");
	ck_assert_ptr_nonnull(pw);
	fprintf(pw, "%s\n", password);
	fclose(pw);
	snprintf(user, sizeof(user), "%s:%s", USER, PASSWORD);
	snprintf(lifetime, sizeof(lifetime), "%d", lifetime_ms);
	snprintf(max_auth, sizeof(max_auth), "%d", auth_version);
	args[k++] = "--user";
	args[k++] = user;
	args[k++] = "--session-lifetime-ms";
	args[k++] = lifetime;
	args[k++] = "--stats";
	args[k++] = f->stats_path;
	if (rewrite)
		args[k++] = "--rewrite-ports";
	args[k++] = "--max-authenticate-version";
	args[k++] = max_auth;
	args[k] = NULL;
	front_run(f, backends, args);
}

/* A front before each of m's brokers, in broker id order. */
static void front_start(struct front *f, struct mock *m, int lifetime_ms, int rewrite,
			const char *password)
{
	front_start_for(f, m->addr, m->n_brokers, lifetime_ms, rewrite, password);
}

/* A connection kgate closed while it was signing in, before any request of
 * a client's: a client that left meanwhile, or kgate stopping while its
 * own Metadata connection signed in (likelier the slower kgate runs, as
 * under ThreadSanitizer).  Nothing was forwarded on it. */
static int abandoned(json_t *entry)
{
	return json_is_null(json_object_get(entry, "principal")) &&
	       json_integer_value(json_object_get(entry, "requests")) == 0;
}

/* Each connection's sign-in as the contract words it: ApiVersions v0,
 * SaslHandshake v1, SaslAuthenticate at the highest version the front
 * offers (auth_version) once for PLAIN, twice for SCRAM; nothing else
 * before it. */
static void assert_sign_in_sequence(json_t *s, const char *mech)
{
	char authenticate[8];
	const char *want[] = {"18v0", "17v1", authenticate, authenticate};
	size_t n_want = strcmp(mech, "PLAIN") ? 4 : 3, i, j;
	json_t *entry, *v;

	snprintf(authenticate, sizeof(authenticate), "36v%d", auth_version);
	json_array_foreach(json_object_get(s, "connection_log"), i, entry)
	{
		json_t *pre = json_object_get(entry, "pre_auth");
		size_t n_seen = json_array_size(pre);
		char seen[256] = "";

		json_array_foreach(pre, j, v)
		{
			strncat(seen, json_string_value(v), sizeof(seen) - strlen(seen) - 2);
			strcat(seen, " ");
		}
		/* One closed while signing in (see abandoned()) got part of it. */
		ck_assert_msg(n_seen == n_want || (abandoned(entry) && n_seen < n_want),
			      "connection %lld signed in with %s(want ApiVersions v0, "
			      "SaslHandshake v1, SaslAuthenticate v%d)",
			      (long long)json_integer_value(json_object_get(entry, "id")), seen,
			      auth_version);
		for (j = 0; j < n_seen; j++)
			ck_assert_msg(strcmp(json_string_value(json_array_get(pre, j)), want[j]) == 0,
				      "connection %lld signed in with %s(want %s at step %zu)",
				      (long long)json_integer_value(json_object_get(entry, "id")),
				      seen, want[j], j + 1);
	}
}

/* Every connection the front accepted authenticated as USER with mech,
 * none failed, and a SCRAM client used RFC 5802's nonce exactly. */
static void assert_front_all_authenticated(json_t *s, const char *mech)
{
	long long conns = front_stat(s, "connections", NULL), left = 0, signed_in;
	json_t *entry;
	size_t i;

	front_assert_clean(s);
	ck_assert_msg(front_stat(s, "failures", NULL) == 0, "authentication failures: %s",
		      front_notes(s, "failure_messages"));
	ck_assert_int_gt(conns, 0);
	json_array_foreach(json_object_get(s, "connection_log"), i, entry)
		left += abandoned(entry);
	signed_in = conns - left;
	ck_assert_msg(signed_in > 0 && front_stat(s, "authenticated", NULL) == signed_in,
		      "%lld of %lld connections authenticated (%lld closed while signing in)",
		      front_stat(s, "authenticated", NULL), conns, left);
	if (left)
		printf("0019: %lld of %lld connections closed while signing in, before any "
		       "request of a client's\n",
		       left, conns);
	ck_assert_int_eq(front_stat(s, "auth", mech), signed_in);
	ck_assert_int_eq(front_stat(s, "principals", USER), signed_in);
	ck_assert_int_eq(front_stat(s, "scram_nonce_not_rfc", NULL), 0);
	assert_sign_in_sequence(s, mech);
}

/* A mock cluster of 3 with TOPIC, partition p led by broker p+1, so that
 * the clients need every broker (and so every front). */
static void mock_with_topic(struct mock *m)
{
	mock_start(m, 3);
	ck_assert_int_eq(rd_kafka_mock_topic_create(m->mc, TOPIC, PARTITIONS, 3), 0);
	for (int p = 0; p < PARTITIONS; p++)
		ck_assert_int_eq(rd_kafka_mock_partition_set_leader(m->mc, TOPIC, p, p + 1), 0);
}

/* ---- kgate in front of the fronts ---- */

static int admin_port;

/* kgate with upstream_sasl (mechanism, USER, the front's password file),
 * an admin endpoint, one worker; per-broker upstreams at the fronts unless
 * learn (then only bootstrap.upstream names them). */
static void kgate_start_sasl(struct kgate *kg, const struct front *f, const char *mech,
			     int learn)
{
	struct mock fronts = {.n_brokers = f->n};
	char extra[1024], *cfg;

	for (int i = 0; i < f->n; i++)
		snprintf(fronts.addr[i], sizeof(fronts.addr[0]), "%s", f->addr[i]);
	admin_port = harness_free_port();
	snprintf(extra, sizeof(extra),
		 "\"upstream_sasl\": { \"mechanism\": \"%s\", \"username\": \"%s\", "
		 "\"password_file\": \"%s\" },\n"
		 "  \"admin\": { \"listen\": \"127.0.0.1:%d\" },\n  \"workers\": 1",
		 mech, USER, password_path(f), admin_port);
	kgate_plan(kg, f->n);
	cfg = kgate_config_for_mock(kg, &fronts, !learn, extra);
	kgate_start(kg, cfg);
	free(cfg);
}

/* A metric from kgate's /metrics, summed over its series; asserts it is
 * there under the contract's name (CONTRACT.md, "Metrics"). */
static double metric(const char *name)
{
	return harness_metric(admin_port, name, NULL);
}

/* A line of kgate's log that says "cannot authenticate to <a front>:" and
 * has msg (the broker's error message) after it. */
static int log_has_auth_error(const struct kgate *kg, const struct front *f, const char *msg)
{
	FILE *log = fopen(kg->log_path, "r");
	char line[2048];
	int found = 0;

	ck_assert_ptr_nonnull(log);
	while (!found && fgets(line, sizeof(line), log)) {
		for (int i = 0; i < f->n && !found; i++) {
			char head[128];
			const char *at;

			snprintf(head, sizeof(head), "cannot authenticate to %s: ", f->addr[i]);
			at = strstr(line, head);
			found = at && strstr(at + strlen(head), msg);
		}
	}
	fclose(log);
	return found;
}

/* ---- 0. the front itself, with librdkafka's SASL client ---- */

/* kgate-client COMMAND through the fronts with mech and password; its
 * exit status (output into out). */
static int client_run(const struct front *f, const char *const *args, const char *mech,
		      const char *password, char *out, size_t len)
{
	char set_mech[64], set_user[64], set_pw[128], expect[256];
	char *argv[40];
	const char *bin = getenv("CLIENT_BIN");
	int k = 0;

	ck_assert_msg(bin != NULL, "CLIENT_BIN is not set");
	snprintf(set_mech, sizeof(set_mech), "sasl.mechanism=%s", mech);
	snprintf(set_user, sizeof(set_user), "sasl.username=%s", USER);
	snprintf(set_pw, sizeof(set_pw), "sasl.password=%s", password);
	snprintf(expect, sizeof(expect), "%s,%s,%s", f->addr[0], f->addr[1], f->addr[2]);
	argv[k++] = (char *)bin;
	while (*args)
		argv[k++] = (char *)*args++;
	argv[k++] = "--bootstrap";
	argv[k++] = (char *)f->addr[0];
	if (strcmp(argv[1], "expect-failure") != 0) {
		argv[k++] = "--expect-brokers";
		argv[k++] = expect;
	}
	argv[k++] = "--set";
	argv[k++] = "security.protocol=sasl_plaintext";
	argv[k++] = "--set";
	argv[k++] = set_mech;
	argv[k++] = "--set";
	argv[k++] = set_user;
	argv[k++] = "--set";
	argv[k++] = set_pw;
	argv[k] = NULL;
	return harness_run(argv, out, len);
}

/* The front's own checks (sasl_front_selftest.py: what it must catch), then
 * librdkafka's own SASL client against the fronts, with addresses
 * rewritten so that it follows them to every broker: each mechanism
 * produces and consumes (so the front's SCRAM agrees with librdkafka's
 * RFC 5802 client, and its relaying with librdkafka's framing), a wrong
 * password is refused with SASL_AUTHENTICATION_FAILED, and a session
 * lifetime is enforced on a client that does not re-authenticate
 * (librdkafka < 2.2 has no KIP-368). */
START_TEST(test_front_self_check)
{
	static char out[65536];
	struct mock mock;
	struct front f;
	json_t *s;
	char topic[32], count[16], group[32];
	int rc;
	char src[512];
	char *selftest[] = {"/usr/bin/python3", NULL, NULL};

	/* What the front must catch in a gateway, from a scripted client. */
	selftest[1] = (char *)harness_src_path("test/lib/sasl_front_selftest.py", src, sizeof(src));
	rc = harness_run(selftest, out, sizeof(out));
	ck_assert_msg(rc == 0, "sasl_front_selftest.py:\n%s", out);

	mock_start(&mock, 3);
	front_start(&f, &mock, 0, 1, PASSWORD);
	for (int i = 0; i < 3; i++) {
		const char *produce[] = {"produce", "--topic", topic, "--count", "2000",
					 "--timeout", "120", NULL};
		const char *consume[] = {"consume", "--topic", topic, "--count", "2000",
					 "--group", group, "--members", "1", "--timeout", "120",
					 NULL};

		snprintf(topic, sizeof(topic), "self-%d", i);
		snprintf(group, sizeof(group), "self-group-%d", i);
		ck_assert_int_eq(rd_kafka_mock_topic_create(mock.mc, topic, 4, 3), 0);
		rc = client_run(&f, produce, mechanisms[i], PASSWORD, out, sizeof(out));
		ck_assert_msg(rc == 0, "%s produce through the fronts:\n%s", mechanisms[i], out);
		rc = client_run(&f, consume, mechanisms[i], PASSWORD, out, sizeof(out));
		ck_assert_msg(rc == 0, "%s consume through the fronts:\n%s", mechanisms[i], out);
	}
	sleep_ms(300);
	s = front_stats(&f);
	front_assert_clean(s);
	ck_assert_msg(front_stat(s, "failures", NULL) == 0, "failures: %s",
		      front_notes(s, "failure_messages"));
	for (int i = 0; i < 3; i++) {
		char port[16];

		ck_assert_int_gt(front_stat(s, "auth", mechanisms[i]), 0);
		snprintf(port, sizeof(port), "%d", f.port[i]);
		ck_assert_msg(front_stat(s, "connections_by_port", port) > 0,
			      "no connection through front %d", f.port[i]);
	}
	ck_assert_int_eq(front_stat(s, "principals", USER), front_stat(s, "authenticated", NULL));
	ck_assert_int_gt(front_stat(s, "ports_rewritten", NULL), 0);
	fprintf(stderr, "0019 self-check: %lld connections, %lld authenticated; librdkafka's "
			"SCRAM nonce not RFC 5802's %lld times (Kafka accepts it)\n",
		front_stat(s, "connections", NULL), front_stat(s, "authenticated", NULL),
		front_stat(s, "scram_nonce_not_rfc", NULL));
	json_decref(s);

	/* A wrong password: refused, and nothing relayed. */
	for (int i = 0; i < 3; i++) {
		const char *fail[] = {"metadata", "--timeout", "5", NULL};
		long long before, authenticated;

		s = front_stats(&f);
		before = front_stat(s, "failures", NULL);
		authenticated = front_stat(s, "authenticated", NULL);
		json_decref(s);
		rc = client_run(&f, fail, mechanisms[i], "not-the-password", out, sizeof(out));
		ck_assert_msg(rc != 0, "%s with a wrong password worked:\n%s", mechanisms[i], out);
		sleep_ms(300);
		s = front_stats(&f);
		ck_assert_int_gt(front_stat(s, "failures", NULL), before);
		ck_assert_int_eq(front_stat(s, "authenticated", NULL), authenticated);
		json_decref(s);
	}
	s = front_stop(&f);
	front_assert_clean(s);
	json_decref(s);

	/* A lifetime: librdkafka 2.0 does not re-authenticate, so the front
	 * must end its sessions (and the idempotent producer reconnects). */
	if (rd_kafka_version() < 0x020200ff) {
		const char *slow[] = {"produce", "--topic", "self-expiry", "--count", count,
				      "--rate", "400", "--timeout", "60", NULL};

		snprintf(count, sizeof(count), "%d", 1600);
		ck_assert_int_eq(rd_kafka_mock_topic_create(mock.mc, "self-expiry", 3, 3), 0);
		front_start(&f, &mock, 1000, 1, PASSWORD);
		rc = client_run(&f, slow, "PLAIN", PASSWORD, out, sizeof(out));
		ck_assert_msg(rc == 0, "produce across expiring sessions:\n%s", out);
		s = front_stop(&f);
		ck_assert_msg(front_stat(s, "expired", NULL) > 0,
			      "no session expired in 4 s of 1 s sessions");
		ck_assert_int_eq(front_stat(s, "violations", NULL), 0);
		ck_assert_int_eq(front_stat(s, "reauthentications", NULL), 0);
		json_decref(s);
	}
	mock_stop(&mock);
}
END_TEST

/* ---- a. each mechanism, clients without SASL ---- */

#define MESSAGES 5000

START_TEST(test_mechanism_round_trip)
{
	const char *mech = mechanisms[_i];
	struct mock mock;
	struct front f;
	struct kgate kg;
	struct broker_view pview, cview;
	struct delivery d;
	rd_kafka_t *producer, *consumer;
	json_t *s;

	mock_with_topic(&mock);
	front_start(&f, &mock, 0, 0, PASSWORD);
	kgate_start_sasl(&kg, &f, mech, 0);

	view_init(&pview);
	producer = producer_new(kg.bootstrap, &pview, &d);
	produce_ids(producer, TOPIC, 0, MESSAGES);
	wait_deliveries(producer, &d, MESSAGES, 60);
	ck_assert_msg(d.failed == 0, "%lld failed: %s", (long long)d.failed, d.last_error);
	view_init(&cview);
	consumer = consumer_from_start(kg.bootstrap, &cview, TOPIC, PARTITIONS);
	consume_exactly_once(consumer, MESSAGES, 60);
	view_refresh(producer, &pview);
	view_assert_gateway_only(&pview, &kg);
	view_refresh(consumer, &cview);
	view_assert_gateway_only(&cview, &kg);
	/* Counted while the clients are connected: closing one while kgate
	 * signs in for it would leave a sign-in the front answered and kgate
	 * never read. */
	front_wait_signins_counted(&f, admin_port);
	consumer_destroy(consumer);
	rd_kafka_destroy(producer);

	ck_assert_msg(metric("kgate_upstream_auth_failures_total") == 0,
		      "kgate_upstream_auth_failures_total %.0f",
		      metric("kgate_upstream_auth_failures_total"));

	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "protocol_errors=0"));
	ck_assert(!kgate_log_contains(&kg, "cannot authenticate"));
	s = front_stop(&f);
	/* Three brokers, a producer and a consumer: at least one connection
	 * per broker, every one signed in as USER with mech. */
	ck_assert_int_ge(front_stat(s, "connections", NULL), 3);
	assert_front_all_authenticated(s, mech);
	fprintf(stderr, "0019 %s: %lld upstream connections, all authenticated\n", mech,
		front_stat(s, "connections", NULL));
	json_decref(s);
	mock_stop(&mock);
}
END_TEST

/* ---- b. a wrong password ---- */

START_TEST(test_wrong_password)
{
	const char *mech = mechanisms[_i];
	const char *msg = _i == 0 ? "Authentication failed: Invalid username or password"
				  : "Authentication failed during authentication due to invalid "
				    "credentials with SASL mechanism";
	struct mock mock;
	struct front f;
	struct kgate kg;
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	char errstr[256];
	rd_kafka_resp_err_t err;
	json_t *s;

	mock_with_topic(&mock);
	front_start(&f, &mock, 0, 0, "not-" PASSWORD);
	kgate_start_sasl(&kg, &f, mech, 0);

	conf = client_conf(kg.bootstrap, NULL);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	ck_assert_msg(rk != NULL, "%s", errstr);
	err = rd_kafka_metadata(rk, 1, NULL, &md, 5000);
	ck_assert_msg(err != RD_KAFKA_RESP_ERR_NO_ERROR,
		      "Metadata through kgate worked with a wrong upstream password");
	rd_kafka_destroy(rk);

	ck_assert_msg(kgate_wait_log(&kg, "cannot authenticate to", 1, 10000),
		      "kgate did not log its failed sign-in");
	ck_assert_msg(log_has_auth_error(&kg, &f, msg),
		      "kgate's log lacks \"cannot authenticate to <front>: %s\"", msg);
	ck_assert_msg(metric("kgate_upstream_auth_failures_total") >= 1,
		      "kgate_upstream_auth_failures_total did not move");
	ck_assert_msg(metric("kgate_upstream_auths_total") == 0,
		      "kgate_upstream_auths_total %.0f with a wrong password",
		      metric("kgate_upstream_auths_total"));
	ck_assert_int_eq(kgate_stop(&kg), 0);
	s = front_stop(&f);
	front_assert_clean(s);
	ck_assert_int_eq(front_stat(s, "authenticated", NULL), 0);
	ck_assert_int_ge(front_stat(s, "failures", NULL), 1);
	json_decref(s);
	mock_stop(&mock);
}
END_TEST

/* ---- c. re-authentication (KIP-368) ---- */

#define REAUTH_LIFETIME_MS 2000
#define REAUTH_RUN_MS 15000
#define REAUTH_BATCH 100
#define REAUTH_BATCH_MS 100

START_TEST(test_reauthentication)
{
	const char *mech = mechanisms[_i == 0 ? 0 : 2];
	struct mock mock;
	struct front f;
	struct kgate kg;
	struct group_member members[2];
	struct ledger ledger;
	struct broker_view pview;
	struct client_view before;
	struct delivery d;
	rd_kafka_t *producer;
	int64_t next, sent = 0, deadline, most = 0;
	double kgate_reauth;
	json_t *s, *entry;
	size_t i;

	mock_with_topic(&mock);
	front_start(&f, &mock, REAUTH_LIFETIME_MS, 0, PASSWORD);
	kgate_start_sasl(&kg, &f, mech, 0);

	ledger_init(&ledger, REAUTH_RUN_MS / REAUTH_BATCH_MS * REAUTH_BATCH);
	group_member_start(&members[0], kg.bootstrap, "kgate-0019", TOPIC, &ledger);
	group_member_start(&members[1], kg.bootstrap, "kgate-0019", TOPIC, &ledger);
	group_wait_settled(members, 2, PARTITIONS, 60);
	view_init(&pview);
	producer = producer_new(kg.bootstrap, &pview, &d);
	produce_ids(producer, TOPIC, 0, REAUTH_BATCH);
	sent = REAUTH_BATCH;
	wait_deliveries(producer, &d, sent, 30);
	view_refresh(producer, &pview);
	view_last(&pview, &before);

	/* A steady trickle for several lifetimes: a Fetch is nearly always
	 * in flight on each consumer connection, so kgate must wait for its
	 * answer before it re-authenticates. */
	next = harness_now_ms();
	while (sent < ledger.n) {
		if (harness_now_ms() >= next) {
			produce_ids(producer, TOPIC, sent, sent + REAUTH_BATCH);
			sent += REAUTH_BATCH;
			next += REAUTH_BATCH_MS;
		}
		/* Returns early when delivery reports come: the clock paces. */
		rd_kafka_poll(producer, 10);
	}
	wait_deliveries(producer, &d, sent, 60);
	ck_assert_msg(d.failed == 0, "%lld failed: %s", (long long)d.failed, d.last_error);
	deadline = harness_now_ms() + 60000;
	while (ledger_received(&ledger) < sent) {
		ck_assert_msg(harness_now_ms() < deadline, "consumed %lld of %lld",
			      (long long)ledger_received(&ledger), (long long)sent);
		rd_kafka_poll(producer, 50);
	}
	/* Nothing was cut: the producer kept its connections. */
	view_refresh(producer, &pview);
	view_assert_no_reconnect(&pview, &before, &kg);

	sleep_ms(300);
	s = front_stats(&f);
	kgate_reauth = metric("kgate_upstream_reauths_total");
	fprintf(stderr,
		"0019 re-auth %s: %lld messages, %lld re-authentications at the fronts, "
		"kgate_upstream_reauths_total %.0f, %lld connections\n",
		mech, (long long)sent, front_stat(s, "reauthentications", NULL), kgate_reauth,
		front_stat(s, "connections", NULL));
	/* A connection that lived the whole run re-authenticated about
	 * REAUTH_RUN_MS / (0.85 * REAUTH_LIFETIME_MS) times. */
	ck_assert_int_ge(front_stat(s, "reauthentications", NULL), 5);
	json_array_foreach(json_object_get(s, "connection_log"), i, entry)
	{
		json_int_t n = json_integer_value(json_object_get(entry, "reauth"));

		most = n > most ? n : most;
	}
	/* A connection that lived the whole run must have been re-authenticated
	 * once per lifetime at least, or it would have expired. */
	ck_assert_msg(most >= REAUTH_RUN_MS / REAUTH_LIFETIME_MS - 1,
		      "the longest-lived connection re-authenticated %lld times in %d ms of "
		      "%d ms sessions", (long long)most, REAUTH_RUN_MS, REAUTH_LIFETIME_MS);
	ck_assert_int_eq(front_stat(s, "reauth", mech), front_stat(s, "reauthentications", NULL));
	/* Re-authentication: SaslHandshake v1 and SaslAuthenticate v2 only. */
	ck_assert_int_eq(front_stat(s, "reauth_requests", "17v1"),
			 front_stat(s, "reauthentications", NULL));
	ck_assert_int_eq(front_stat(s, "reauth_requests", "36v2"),
			 front_stat(s, "reauthentications", NULL) * (strcmp(mech, "PLAIN") ? 2 : 1));
	ck_assert_int_eq(json_object_size(json_object_get(s, "reauth_requests")), 2);
	ck_assert_msg(kgate_reauth >= 5, "kgate_upstream_reauths_total %.0f", kgate_reauth);
	/* Each counts the same exchanges; a few may be in flight. */
	ck_assert_msg(kgate_reauth <= (double)front_stat(s, "reauthentications", NULL) +
						 (double)front_stat(s, "connections", NULL) &&
			      kgate_reauth + (double)front_stat(s, "connections", NULL) >=
				      (double)front_stat(s, "reauthentications", NULL),
		      "kgate counted %.0f re-authentications, the fronts %lld", kgate_reauth,
		      front_stat(s, "reauthentications", NULL));
	json_decref(s);

	group_member_stop(&members[0]);
	group_member_stop(&members[1]);
	ledger_assert_exactly_once(&ledger);
	rd_kafka_destroy(producer);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "protocol_errors=0"));
	s = front_stop(&f);
	assert_front_all_authenticated(s, mech);
	json_decref(s);
	ledger_free(&ledger);
	mock_stop(&mock);
}
END_TEST

/* ---- d. kgate's own Metadata connection ---- */

/* A client arrives at broker 2's listener before kgate knows the cluster:
 * kgate asks the cluster through a front (bootstrap.upstream) and must
 * sign in first; the front hands out its own ports, so kgate then dials
 * broker 2 through a front as well. */
START_TEST(test_own_metadata_connection)
{
	struct mock mock;
	struct front f;
	struct kgate kg;
	struct broker_view pview;
	struct delivery d;
	rd_kafka_t *producer;
	json_t *s, *log, *entry;
	size_t i;
	long long first_id = -1;
	int signed_in = 0;

	setenv("KGATE_TEST_LOG_LEVEL", "debug", 1);
	mock_with_topic(&mock);
	front_start(&f, &mock, 0, 1, PASSWORD);
	kgate_start_sasl(&kg, &f, "PLAIN", 1);

	view_init(&pview);
	producer = producer_new(kg.broker_addr[1], &pview, &d);
	produce_ids(producer, TOPIC, 0, 500);
	wait_deliveries(producer, &d, 500, 60);
	ck_assert_msg(d.failed == 0, "%lld failed: %s", (long long)d.failed, d.last_error);
	view_refresh(producer, &pview);
	view_assert_gateway_only(&pview, &kg);
	rd_kafka_destroy(producer);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "learned the cluster's brokers"));
	for (int b = 0; b < 3; b++) {
		char line[128];

		snprintf(line, sizeof(line), "broker %d joined at %s", b + 1,
			 f.addr[b]);
		ck_assert_msg(kgate_log_contains(&kg, line), "missing: %s", line);
	}
	for (int b = 0; b < 3 && !signed_in; b++) {
		char line[128];

		snprintf(line, sizeof(line), "authenticated to %s as " USER, f.addr[b]);
		signed_in = kgate_log_contains(&kg, line);
	}
	ck_assert_msg(signed_in, "no \"authenticated to <front> as " USER "\" in kgate's log");

	s = front_stop(&f);
	assert_front_all_authenticated(s, "PLAIN");
	ck_assert_int_gt(front_stat(s, "requests", "3"), 0);
	ck_assert_int_gt(front_stat(s, "ports_rewritten", NULL), 0);
	/* The first connection the fronts saw is kgate's own: signed in, then
	 * Metadata (after ApiVersions, perhaps), nothing before the sign-in
	 * (unauthenticated_requests is 0: the front would have closed it). */
	log = json_object_get(s, "connection_log");
	json_array_foreach(log, i, entry)
	{
		json_t *api;
		size_t j;
		int metadata = 0;

		if (json_integer_value(json_object_get(entry, "id")) != 1)
			continue;
		first_id = 1;
		ck_assert_str_eq(json_string_value(json_object_get(entry, "principal")), USER);
		json_array_foreach(json_object_get(entry, "apis"), j, api)
			metadata |= json_integer_value(api) == 3;
		ck_assert_msg(metadata, "kgate's first upstream connection sent no Metadata");
	}
	ck_assert_msg(first_id == 1, "the front logged no first connection");
	json_decref(s);
	mock_stop(&mock);
}
END_TEST

/* ---- e. an idle connection ---- */

/* Writes one request frame (header v1, client id "0019") with body. */
static void raw_request(int fd, int16_t api, int16_t ver, int32_t corr, const void *body,
			size_t len)
{
	unsigned char buf[64];
	size_t n = 0;
	uint32_t size = (uint32_t)(8 + 2 + 4 + len);

	ck_assert_uint_le(len + 18, sizeof(buf));
	buf[n++] = (unsigned char)(size >> 24);
	buf[n++] = (unsigned char)(size >> 16);
	buf[n++] = (unsigned char)(size >> 8);
	buf[n++] = (unsigned char)size;
	buf[n++] = (unsigned char)((uint16_t)api >> 8);
	buf[n++] = (unsigned char)api;
	buf[n++] = (unsigned char)((uint16_t)ver >> 8);
	buf[n++] = (unsigned char)ver;
	buf[n++] = (unsigned char)((uint32_t)corr >> 24);
	buf[n++] = (unsigned char)((uint32_t)corr >> 16);
	buf[n++] = (unsigned char)((uint32_t)corr >> 8);
	buf[n++] = (unsigned char)corr;
	buf[n++] = 0;
	buf[n++] = 4;
	memcpy(buf + n, "0019", 4);
	n += 4;
	memcpy(buf + n, body, len);
	n += len;
	ck_assert_int_eq(raw_send(fd, buf, n), 0);
}

/* Reads one response frame and returns its correlation id. */
static int32_t raw_response(int fd)
{
	unsigned char head[8], *rest;
	uint32_t size;

	ck_assert_msg(raw_recv(fd, head, 8) == 0, "no response through kgate");
	size = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 | (uint32_t)head[2] << 8 |
	       head[3];
	ck_assert_uint_ge(size, 4);
	ck_assert_uint_le(size, 1 << 20);
	rest = malloc(size - 4 + 1);
	ck_assert_ptr_nonnull(rest);
	ck_assert_int_eq(raw_recv(fd, rest, size - 4), 0);
	free(rest);
	return (int32_t)((uint32_t)head[4] << 24 | (uint32_t)head[5] << 16 |
			 (uint32_t)head[6] << 8 | head[7]);
}

#define IDLE_LIFETIME_MS 2000
#define IDLE_MS 5000

/* A client that says nothing for two and a half lifetimes: kgate signs its
 * upstream connection in again before each lifetime ends (the contract:
 * at about 85%), so the session never expires and the client's next
 * request goes through on the same connection. */
START_TEST(test_idle_connection)
{
	static const unsigned char all_topics[4] = {0xff, 0xff, 0xff, 0xff};
	struct mock mock;
	struct front f;
	struct kgate kg;
	json_t *s, *entry;
	size_t i;
	json_int_t most = 0;
	char port[16];
	int fd;

	mock_with_topic(&mock);
	front_start(&f, &mock, IDLE_LIFETIME_MS, 0, PASSWORD);
	kgate_start_sasl(&kg, &f, "SCRAM-SHA-256", 0);

	fd = raw_connect(kg.broker_port[0]);
	raw_request(fd, 18, 0, 1, NULL, 0);
	ck_assert_int_eq(raw_response(fd), 1);
	sleep_ms(IDLE_MS);
	raw_request(fd, 3, 1, 2, all_topics, sizeof(all_topics));
	ck_assert_int_eq(raw_response(fd), 2);
	close(fd);

	ck_assert_int_eq(kgate_stop(&kg), 0);
	s = front_stop(&f);
	assert_front_all_authenticated(s, "SCRAM-SHA-256");
	snprintf(port, sizeof(port), "%d", f.port[0]);
	json_array_foreach(json_object_get(s, "connection_log"), i, entry)
	{
		json_int_t n = json_integer_value(json_object_get(entry, "reauth"));

		if (json_integer_value(json_object_get(entry, "port")) == f.port[0] && n > most)
			most = n;
	}
	ck_assert_msg(most >= IDLE_MS / IDLE_LIFETIME_MS,
		      "an idle connection was re-authenticated %lld times in %d ms of %d ms "
		      "sessions", (long long)most, IDLE_MS, IDLE_LIFETIME_MS);
	json_decref(s);
	mock_stop(&mock);
}
END_TEST

/* ---- f. blocks per listener ---- */

/* upstream_sasl at the top level, in bootstrap and in brokers[]: each
 * listener's own block wins, "none" switches it off (broker 3 dials the
 * mock directly, which would hang up on a SaslHandshake). */
START_TEST(test_per_listener_blocks)
{
	static const char *const want[3] = {"SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"};
	char backends[3][64], cfg[4096], block[3][512];
	struct mock mock;
	struct front f;
	struct kgate kg;
	struct broker_view pview, cview;
	struct delivery d;
	rd_kafka_t *producer, *consumer;
	json_t *s, *entry;
	long long seen[3] = {0, 0, 0};
	size_t i;

	mock_with_topic(&mock);
	/* Fronts: broker 1, broker 2, and broker 1 again for bootstrap. */
	snprintf(backends[0], sizeof(backends[0]), "%s", mock.addr[0]);
	snprintf(backends[1], sizeof(backends[1]), "%s", mock.addr[1]);
	snprintf(backends[2], sizeof(backends[2]), "%s", mock.addr[0]);
	front_start_for(&f, backends, 3, 0, 0, PASSWORD);
	for (int b = 0; b < 3; b++)
		snprintf(block[b], sizeof(block[b]),
			 "{ \"mechanism\": \"%s\", \"username\": \"%s\", "
			 "\"password_file\": \"%s\" }",
			 want[b], USER, password_path(&f));
	kgate_plan(&kg, 3);
	snprintf(cfg, sizeof(cfg),
		 "{ \"bootstrap\": { \"listen\": \"%s\", \"upstream\": [\"%s\"], "
		 "\"upstream_sasl\": %s },\n"
		 "  \"brokers\": [\n"
		 "    { \"id\": 1, \"listen\": \"%s\", \"advertise\": \"%s\", "
		 "\"upstream\": \"%s\" },\n"
		 "    { \"id\": 2, \"listen\": \"%s\", \"advertise\": \"%s\", "
		 "\"upstream\": \"%s\", \"upstream_sasl\": %s },\n"
		 "    { \"id\": 3, \"listen\": \"%s\", \"advertise\": \"%s\", "
		 "\"upstream\": \"%s\", \"upstream_sasl\": { \"mechanism\": \"none\" } } ],\n"
		 "  \"upstream_sasl\": %s,\n  \"workers\": 1 }\n",
		 kg.bootstrap, f.addr[2], block[2], kg.broker_addr[0], kg.broker_addr[0],
		 f.addr[0], kg.broker_addr[1], kg.broker_addr[1], f.addr[1], block[1],
		 kg.broker_addr[2], kg.broker_addr[2], mock.addr[2], block[0]);
	kgate_start(&kg, cfg);

	view_init(&pview);
	producer = producer_new(kg.bootstrap, &pview, &d);
	produce_ids(producer, TOPIC, 0, 3000);
	wait_deliveries(producer, &d, 3000, 60);
	ck_assert_msg(d.failed == 0, "%lld failed: %s", (long long)d.failed, d.last_error);
	view_init(&cview);
	consumer = consumer_from_start(kg.bootstrap, &cview, TOPIC, PARTITIONS);
	consume_exactly_once(consumer, 3000, 60);
	view_refresh(producer, &pview);
	view_assert_gateway_only(&pview, &kg);
	consumer_destroy(consumer);
	rd_kafka_destroy(producer);
	ck_assert_int_eq(kgate_stop(&kg), 0);

	s = front_stop(&f);
	front_assert_clean(s);
	ck_assert_int_eq(front_stat(s, "failures", NULL), 0);
	ck_assert_int_eq(front_stat(s, "authenticated", NULL), front_stat(s, "connections", NULL));
	json_array_foreach(json_object_get(s, "connection_log"), i, entry)
	{
		json_int_t p = json_integer_value(json_object_get(entry, "port"));
		const char *mech = json_string_value(json_object_get(entry, "mechanism"));

		for (int b = 0; b < 3; b++) {
			if (p != f.port[b])
				continue;
			seen[b]++;
			ck_assert_msg(mech && strcmp(mech, want[b]) == 0,
				      "%s's upstream signed in with %s, want %s",
				      b == 2 ? "bootstrap" : b ? "broker 2" : "broker 1",
				      mech ? mech : "nothing", want[b]);
		}
	}
	for (int b = 0; b < 3; b++)
		ck_assert_msg(seen[b] > 0, "no connection through front %d", b);
	json_decref(s);
	mock_stop(&mock);
}
END_TEST

/* ---- g. older brokers' SaslAuthenticate ---- */

/* A broker that offers SaslAuthenticate v0 (no session lifetime) or v1
 * (lifetime, not flexible): kgate signs in with the highest it offers, and
 * with v1 still re-authenticates an idle connection in time. */
START_TEST(test_older_authenticate)
{
	static const unsigned char all_topics[4] = {0xff, 0xff, 0xff, 0xff};
	struct mock mock;
	struct front f;
	struct kgate kg;
	struct broker_view pview;
	struct delivery d;
	rd_kafka_t *producer;
	json_t *s, *entry;
	size_t i;
	json_int_t most = 0;
	char want[8];
	int fd;

	auth_version = _i;
	mock_with_topic(&mock);
	front_start(&f, &mock, _i ? IDLE_LIFETIME_MS : 0, 0, PASSWORD);
	kgate_start_sasl(&kg, &f, "SCRAM-SHA-512", 0);

	fd = raw_connect(kg.broker_port[0]);
	raw_request(fd, 18, 0, 1, NULL, 0);
	ck_assert_int_eq(raw_response(fd), 1);
	view_init(&pview);
	producer = producer_new(kg.bootstrap, &pview, &d);
	produce_ids(producer, TOPIC, 0, 1000);
	wait_deliveries(producer, &d, 1000, 60);
	ck_assert_msg(d.failed == 0, "%lld failed: %s", (long long)d.failed, d.last_error);
	sleep_ms(_i ? IDLE_MS : 100);
	raw_request(fd, 3, 1, 2, all_topics, sizeof(all_topics));
	ck_assert_int_eq(raw_response(fd), 2);
	close(fd);
	rd_kafka_destroy(producer);
	ck_assert_int_eq(kgate_stop(&kg), 0);

	s = front_stop(&f);
	assert_front_all_authenticated(s, "SCRAM-SHA-512");
	snprintf(want, sizeof(want), "36v%d", _i);
	if (_i) {
		json_array_foreach(json_object_get(s, "connection_log"), i, entry)
		{
			json_int_t n = json_integer_value(json_object_get(entry, "reauth"));

			most = n > most ? n : most;
		}
		ck_assert_msg(most >= IDLE_MS / IDLE_LIFETIME_MS,
			      "with SaslAuthenticate v1 an idle connection was re-authenticated "
			      "%lld times in %d ms of %d ms sessions",
			      (long long)most, IDLE_MS, IDLE_LIFETIME_MS);
		ck_assert_int_eq(front_stat(s, "reauth_requests", want),
				 2 * front_stat(s, "reauthentications", NULL));
	} else {
		ck_assert_int_eq(front_stat(s, "reauthentications", NULL), 0);
	}
	json_decref(s);
	mock_stop(&mock);
}
END_TEST

TCase *tcase_0019_upstream_sasl(void)
{
	TCase *tc = tcase_create("0019 upstream sasl");

	tcase_add_test(tc, test_front_self_check);
	tcase_add_loop_test(tc, test_mechanism_round_trip, 0, 3);
	tcase_add_loop_test(tc, test_wrong_password, 0, 2);
	tcase_add_loop_test(tc, test_reauthentication, 0, 2);
	tcase_add_test(tc, test_own_metadata_connection);
	tcase_add_test(tc, test_idle_connection);
	tcase_add_test(tc, test_per_listener_blocks);
	tcase_add_loop_test(tc, test_older_authenticate, 0, 2);
	tcase_set_timeout(tc, 600);
	return tc;
}
