/* 0020_client_logins.c — clients signing in to kgate (client_auth): librdkafka
 * with SASL/PLAIN moving messages exactly once through every listener; wrong
 * passwords and unknown users refused after failed_login_delay_ms without a
 * single upstream dial; a raw client written from the protocol and RFC 5802
 * (test/lib/kafka_login.py) for ApiVersions before login, every SASL
 * mechanism at every SaslHandshake/SaslAuthenticate version, and the
 * exchanges kgate must refuse; identities mapped to upstream users (SASL
 * logins and client certificates), checked by the SASL front of 0019
 * (test/lib/sasl_front.py), which records who each upstream connection
 * signed in as; and what --check says and refuses.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/clients.h"
#include "../lib/front.h"
#include "itests.h"

#define TOPIC "logins"
#define PARTITIONS 3
#define APP_A "app-a"
#define APP_A_PW "apple-0020"
#define APP_B "app-b"
#define APP_B_PW "banana-0020"
/* The upstream users the front knows. */
#define ALICE "alice"
#define ALICE_PW "wonderland-0020"
#define BOB "bob"
#define BOB_PW "builder-0020"
/* Long enough that no answer could come this late by chance on loopback. */
#define DELAY_MS 700
/* kgate's timers run on libevent's cached coarse monotonic clock, which
 * lags the real one by up to a tick (4 ms at HZ=250): a refusal may come
 * that much before the delay.  Far below the delay, so a missing delay
 * still fails. */
#define DELAY_SLACK_MS 10

static void sleep_ms(int ms)
{
	usleep((useconds_t)ms * 1000);
}

/* A fresh directory for this test's files. */
static void make_dir(char *dir, size_t len, const char *what)
{
	mkdir(harness_tmp_root(), 0755);
	snprintf(dir, len, "%s/%s-XXXXXX", harness_tmp_root(), what);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* The credentials file for app-a and app-b, in dir. */
static void credentials_write(const char *dir, char *path, size_t len)
{
	struct stat st;

	snprintf(path, len, "%s/users.json", dir);
	harness_passwd_add(path, APP_A, APP_A_PW);
	harness_passwd_add(path, APP_B, APP_B_PW);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
}

/* ---- kgate's metrics ---- */

static int admin_port;

/* The series `name` or `name{labels}` (labels NULL: summed over every
 * series of the family); asserts the family is there. */
static double metric(const char *name, const char *labels)
{
	return harness_metric(admin_port, name, labels);
}

/* As metric, but -1 if kgate has no such series (yet). */
static double metric_opt(const char *name, const char *labels)
{
	char *body = NULL, series[256], *at;
	double v = -1;

	snprintf(series, sizeof(series), "\n%s{%s} ", name, labels);
	ck_assert_int_eq(http_get(admin_port, "/metrics", &body), 200);
	at = strstr(body, series);
	if (at)
		v = strtod(at + strlen(series), NULL);
	free(body);
	return v;
}

/* The listener label of kgate's metrics: "bootstrap" or "broker-N". */
static const char *listener_label(int broker)
{
	static char buf[4][64];
	static int slot;
	char *b = buf[slot++ % 4];

	if (broker)
		snprintf(b, 64, "listener=\"broker-%d\"", broker);
	else
		snprintf(b, 64, "listener=\"bootstrap\"");
	return b;
}

/* The "admin" and "workers" members of kgate's config, with nothing asked
 * of the upstreams on a timer (a probe would dial them). */
static void admin_json(char *buf, size_t len)
{
	admin_port = harness_free_port();
	snprintf(buf, len,
		 "\"admin\": { \"listen\": \"127.0.0.1:%d\", \"probe_interval_ms\": 3600000 },\n"
		 "  \"workers\": 1",
		 admin_port);
}

/* kgate fronting the mock (learning where brokers are) with client_auth
 * sasl over creds; mechs is a JSON array or NULL (the default). */
static void kgate_start_login(struct kgate *kg, const struct mock *m, const char *creds,
			      const char *mechs)
{
	char extra[2048], admin[256], *cfg;

	admin_json(admin, sizeof(admin));
	snprintf(extra, sizeof(extra),
		 "\"client_auth\": { \"mode\": \"sasl\", \"credentials_file\": \"%s\", "
		 "\"failed_login_delay_ms\": %d%s%s },\n  %s",
		 creds, DELAY_MS, mechs ? ", \"mechanisms\": " : "", mechs ? mechs : "", admin);
	kgate_plan(kg, m->n_brokers);
	cfg = kgate_config_for_mock(kg, m, 0, extra);
	kgate_start(kg, cfg);
	free(cfg);
}

/* kgate as kgate_start_login, with limits (a JSON object's members). */
static void kgate_start_login_limits(struct kgate *kg, const struct mock *m, const char *creds,
				     const char *limits)
{
	char extra[2048], admin[256], *cfg;

	admin_json(admin, sizeof(admin));
	snprintf(extra, sizeof(extra),
		 "\"client_auth\": { \"mode\": \"sasl\", \"credentials_file\": \"%s\" },\n"
		 "  \"limits\": { %s },\n  %s",
		 creds, limits, admin);
	kgate_plan(kg, m->n_brokers);
	cfg = kgate_config_for_mock(kg, m, 0, extra);
	kgate_start(kg, cfg);
	free(cfg);
}

/* ---- the raw client (test/lib/kafka_login.py) ---- */

/* Runs kafka_login.py with args (NULL-terminated) and returns its JSON. */
static json_t *raw_client(const char *const *args)
{
	static char out[65536];
	char src[512];
	char *argv[40];
	json_error_t jerr;
	json_t *j;
	int k = 0, rc;

	argv[k++] = "/usr/bin/python3";
	argv[k++] = (char *)harness_src_path("test/lib/kafka_login.py", src, sizeof(src));
	while (*args)
		argv[k++] = (char *)*args++;
	argv[k] = NULL;
	rc = harness_run(argv, out, sizeof(out));
	ck_assert_msg(rc == 0, "kafka_login.py %s: status %d\n%s", argv[2], rc, out);
	j = json_loads(out, 0, &jerr);
	ck_assert_msg(j != NULL, "kafka_login.py %s printed no JSON (%s):\n%s", argv[2], jerr.text,
		      out);
	ck_assert_msg(!json_object_get(j, "failed"), "kafka_login.py %s failed: %s", argv[2],
		      json_string_value(json_object_get(j, "failed")));
	return j;
}

/* A raw login on port; handshake v hv, SaslAuthenticate v av; extra: more
 * options (NULL-terminated). */
static json_t *raw_login(int port, const char *mech, const char *user, const char *password,
			 int hv, int av, const char *const *extra)
{
	char sport[16], shv[4], sav[4];
	const char *args[32] = {"login", "--port", sport, "--mechanism", mech, "--user", user,
				"--password", password, "--handshake-version", shv,
				"--auth-version", sav};
	int k = 13;

	snprintf(sport, sizeof(sport), "%d", port);
	snprintf(shv, sizeof(shv), "%d", hv);
	snprintf(sav, sizeof(sav), "%d", av);
	while (extra && *extra)
		args[k++] = *extra++;
	args[k] = NULL;
	return raw_client(args);
}

static long long jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_integer(v), "no integer \"%s\" in %s", key,
		      json_dumps(o, JSON_COMPACT));
	return (long long)json_integer_value(v);
}

static double jnum(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_number(v), "no number \"%s\" in %s", key,
		      json_dumps(o, JSON_COMPACT));
	return json_number_value(v);
}

static int jtrue(json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

/* ", "-joined strings of a JSON array, for comparing lists. */
static const char *jlist(json_t *arr)
{
	static char buf[512];
	size_t i, n = 0;
	json_t *v;

	buf[0] = '\0';
	json_array_foreach(arr, i, v)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? ", " : "",
				      json_string_value(v));
	return buf;
}

/* ---- kgate-client (librdkafka) ---- */

/* kgate-client COMMAND ... --bootstrap bootstrap with SASL/PLAIN as
 * user:password (user NULL: no SASL) and, unless NULL, --expect-brokers
 * expect; extra --set options in sets (NULL-terminated, or NULL).  Its
 * exit status; output into out. */
static int client_run(const char *const *args, const char *bootstrap, const char *expect,
		      const char *user, const char *password, const char *const *sets,
		      char *out, size_t len)
{
	char set_user[128], set_pw[128];
	char *argv[48];
	const char *bin = getenv("CLIENT_BIN");
	int k = 0;

	ck_assert_msg(bin != NULL, "CLIENT_BIN is not set");
	argv[k++] = (char *)bin;
	while (*args)
		argv[k++] = (char *)*args++;
	argv[k++] = "--bootstrap";
	argv[k++] = (char *)bootstrap;
	if (expect) {
		argv[k++] = "--expect-brokers";
		argv[k++] = (char *)expect;
	}
	if (user) {
		snprintf(set_user, sizeof(set_user), "sasl.username=%s", user);
		snprintf(set_pw, sizeof(set_pw), "sasl.password=%s", password);
		argv[k++] = "--set";
		argv[k++] = "security.protocol=sasl_plaintext";
		argv[k++] = "--set";
		argv[k++] = "sasl.mechanisms=PLAIN";
		argv[k++] = "--set";
		argv[k++] = set_user;
		argv[k++] = "--set";
		argv[k++] = set_pw;
	}
	while (sets && *sets) {
		argv[k++] = "--set";
		argv[k++] = (char *)*sets++;
	}
	argv[k] = NULL;
	return harness_run(argv, out, len);
}

/* "a,b,c": kgate's broker listeners. */
static const char *kgate_brokers(const struct kgate *kg)
{
	static char buf[512];
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < kg->n_brokers; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? "," : "",
				      kg->broker_addr[i]);
	return buf;
}

/* ---- 1. librdkafka through every listener ---- */

#define MESSAGES 3000

/* Without client_auth, librdkafka's SaslHandshake would reach the mock (or
 * be refused) and no login would be counted or logged; with a broken
 * login, the clients would not get their messages through; a login not
 * counted per listener, or counted twice, breaks the equalities below. */
START_TEST(test_librdkafka_plain)
{
	static char out[65536];
	const char *produce[] = {"produce", "--topic", TOPIC, "--count", "3000", "--timeout",
				 "60", NULL};
	const char *consume[] = {"consume", "--topic", TOPIC, "--count", "3000", "--group",
				 "g-0020", "--members", "2", "--timeout", "60", NULL};
	struct mock mock;
	struct kgate kg;
	char dir[256], creds[320], line[128];
	double logins = 0;
	int rc;

	make_dir(dir, sizeof(dir), "login");
	credentials_write(dir, creds, sizeof(creds));
	mock_start(&mock, 3);
	ck_assert_int_eq(rd_kafka_mock_topic_create(mock.mc, TOPIC, PARTITIONS, 3), 0);
	kgate_start_login(&kg, &mock, creds, NULL);

	/* The producer bootstraps at kgate's bootstrap listener, the group at
	 * broker 2's; both must then use only kgate's broker listeners. */
	rc = client_run(produce, kg.bootstrap, kgate_brokers(&kg), APP_A, APP_A_PW, NULL, out,
			sizeof(out));
	ck_assert_msg(rc == 0, "produce through kgate with SASL/PLAIN:\n%s", out);
	rc = client_run(consume, kg.broker_addr[1], kgate_brokers(&kg), APP_B, APP_B_PW, NULL,
			out, sizeof(out));
	ck_assert_msg(rc == 0, "consume through kgate with SASL/PLAIN:\n%s", out);

	/* One login per connection kgate accepted, on each listener; the
	 * bootstrap listener and broker 2's (where the group bootstrapped)
	 * were used, and the broker listeners between them (partition leaders
	 * are the mock's choice). */
	for (int l = 0; l <= 3; l++) {
		double in = metric("kgate_client_logins_total", listener_label(l));
		double acc = metric("kgate_connections_accepted_total", listener_label(l));

		fprintf(stderr, "0020 librdkafka: %s: %.0f logins, %.0f connections\n",
			listener_label(l), in, acc);
		if (l == 0 || l == 2)
			ck_assert_msg(in > 0, "no login counted on %s", listener_label(l));
		ck_assert_msg(in == acc, "%s: %.0f logins counted for %.0f connections",
			      listener_label(l), in, acc);
		logins += in;
	}
	ck_assert_msg(logins > 3, "%.0f logins in all", logins);
	ck_assert_msg(metric("kgate_client_logins_total", NULL) == logins,
		      "kgate_client_logins_total's series do not add up");
	ck_assert_int_eq(metric("kgate_client_login_failures_total", NULL), 0);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	snprintf(line, sizeof(line), "client login %s (PLAIN) accepted", APP_A);
	ck_assert_msg(kgate_log_contains(&kg, line), "kgate's log lacks \"%s\"", line);
	snprintf(line, sizeof(line), "client login %s (PLAIN) accepted", APP_B);
	ck_assert_msg(kgate_log_contains(&kg, line), "kgate's log lacks \"%s\"", line);
	ck_assert_int_eq(kgate_log_count(&kg, "client login app-"), (int)logins);
	ck_assert(!kgate_log_contains(&kg, "client login refused"));
	ck_assert(kgate_log_contains(&kg, "protocol_errors=0"));
	mock_stop(&mock);
}
END_TEST

/* ---- 3a. ApiVersions before login ---- */

/* Without the feature, a client_auth listener would forward ApiVersions
 * (kgate_upstream_connects_total moves) or close; a list not the
 * cluster's, versions above kgate's caps, or a wrong answer to an
 * unsupported version fail the checks. */
START_TEST(test_api_versions_before_login)
{
	struct mock mock;
	struct kgate kg;
	char dir[256], creds[320], port[16], ver[8];
	const char *direct[] = {"direct-api-versions", "--addr", NULL, NULL};
	json_t *mine, *apis, *v;
	const char *key;

	make_dir(dir, sizeof(dir), "login");
	credentials_write(dir, creds, sizeof(creds));
	mock_start(&mock, 3);
	ck_assert_int_eq(rd_kafka_mock_topic_create(mock.mc, TOPIC, PARTITIONS, 3), 0);
	kgate_start_login(&kg, &mock, creds, NULL);
	direct[2] = mock.addr[0];
	mine = raw_client(direct);
	ck_assert_int_eq(jint(mine, "error"), 0);
	snprintf(port, sizeof(port), "%d", kg.bootstrap_port);

	for (int version = 0; version <= 7; version++) {
		const char *args[] = {"api-versions", "--port", port, "--version", ver, NULL};
		json_t *ans;

		snprintf(ver, sizeof(ver), "%d", version);
		ans = raw_client(args);
		ck_assert_int_eq(jint(ans, "trailing_bytes"), 0);
		if (version > 5) {
			/* KIP-511: an unknown version is answered in v0 with
			 * UNSUPPORTED_VERSION. */
			ck_assert_msg(jint(ans, "error") == 35, "ApiVersions v%d: error %lld",
				      version, jint(ans, "error"));
			json_decref(ans);
			continue;
		}
		ck_assert_msg(jint(ans, "error") == 0, "ApiVersions v%d: error %lld", version,
			      jint(ans, "error"));
		apis = json_object_get(ans, "apis");
		/* kgate's own SASL versions, whatever the cluster lists (the mock
		 * lists neither): without them librdkafka will not sign in ("SASL
		 * Handshake not supported by broker"). */
		v = json_object_get(apis, "17");
		ck_assert_msg(v && json_integer_value(json_array_get(v, 0)) == 0 &&
				      json_integer_value(json_array_get(v, 1)) == 1,
			      "ApiVersions v%d before login: SaslHandshake %s, want [0, 1]", version,
			      v ? json_dumps(v, JSON_COMPACT) : "missing");
		v = json_object_get(apis, "36");
		ck_assert_msg(v && json_integer_value(json_array_get(v, 0)) == 0 &&
				      json_integer_value(json_array_get(v, 1)) == 2,
			      "ApiVersions v%d before login: SaslAuthenticate %s, want [0, 2]",
			      version, v ? json_dumps(v, JSON_COMPACT) : "missing");
		/* Else the cluster's list: the same APIs, the same minimums,
		 * maximums no higher than the broker's. */
		json_object_foreach(json_object_get(mine, "apis"), key, v)
		{
			json_t *k = json_object_get(apis, key);

			if (!strcmp(key, "17") || !strcmp(key, "36"))
				continue;
			ck_assert_msg(k != NULL, "ApiVersions v%d through kgate lacks API %s", version,
				      key);
			ck_assert_int_eq(json_integer_value(json_array_get(k, 0)),
					 json_integer_value(json_array_get(v, 0)));
			ck_assert_int_le(json_integer_value(json_array_get(k, 1)),
					 json_integer_value(json_array_get(v, 1)));
		}
		json_object_foreach(apis, key, v)
			ck_assert_msg(json_object_get(json_object_get(mine, "apis"), key) ||
					      !strcmp(key, "17") || !strcmp(key, "36"),
				      "ApiVersions v%d through kgate lists API %s, the cluster does not",
				      version, key);
		json_decref(ans);
	}
	/* kgate answered all of it itself. */
	ck_assert_int_eq(metric("kgate_upstream_connects_total", NULL), 0);
	ck_assert_int_eq(metric("kgate_client_logins_total", NULL), 0);
	json_decref(mine);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	mock_stop(&mock);
}
END_TEST

/* ---- 3b. every mechanism at every version ---- */

struct login_case {
	const char *mech;
	int hv, av;
};

static const struct login_case login_cases[] = {
	{"SCRAM-SHA-256", 1, 0}, {"SCRAM-SHA-256", 1, 1}, {"SCRAM-SHA-256", 1, 2},
	{"SCRAM-SHA-512", 1, 0}, {"SCRAM-SHA-512", 1, 1}, {"SCRAM-SHA-512", 1, 2},
	{"PLAIN", 1, 0},         {"PLAIN", 1, 1},         {"PLAIN", 1, 2},
	{"SCRAM-SHA-512", 0, 0}, {"PLAIN", 0, 0},
};
#define N_LOGIN_CASES ((int)(sizeof(login_cases) / sizeof(login_cases[0])))

/* Without the feature nothing here signs in (the mock has no SASL); a
 * SCRAM server signature kgate got wrong, a mis-framed answer at any
 * version, a Metadata answer not the cluster's or with the brokers' own
 * addresses, or a login not counted fails. */
START_TEST(test_raw_login)
{
	const struct login_case *c = &login_cases[_i];
	const char *then[] = {"--api-versions", "--metadata", NULL};
	struct mock mock;
	struct kgate kg;
	char dir[256], creds[320], line[128];
	int listener = _i % 4; /* 0: bootstrap, else broker N */
	int port;
	json_t *r, *step, *b;
	size_t i;
	int topic_seen = 0;

	make_dir(dir, sizeof(dir), "login");
	credentials_write(dir, creds, sizeof(creds));
	mock_start(&mock, 3);
	ck_assert_int_eq(rd_kafka_mock_topic_create(mock.mc, TOPIC, PARTITIONS, 3), 0);
	kgate_start_login(&kg, &mock, creds, NULL);
	port = listener ? kg.broker_port[listener - 1] : kg.bootstrap_port;

	r = raw_login(port, c->mech, APP_A, APP_A_PW, c->hv, c->av, then);
	fprintf(stderr, "0020 %s handshake v%d auth v%d on %s: %s\n", c->mech, c->hv, c->av,
		listener_label(listener), json_dumps(r, JSON_COMPACT));
	ck_assert_msg(!jtrue(r, "closed_unexpectedly"), "kgate closed the connection");
	ck_assert_int_eq(jint(json_object_get(r, "handshake"), "error"), 0);
	ck_assert_str_eq(jlist(json_object_get(json_object_get(r, "handshake"), "mechanisms")),
			 "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512");
	json_array_foreach(json_object_get(r, "auth"), i, step)
	{
		ck_assert_msg(!jtrue(step, "closed"), "closed at step %zu", i + 1);
		ck_assert_msg(jint(step, "error") == 0, "step %zu: error %lld (%s)", i + 1,
			      jint(step, "error"),
			      json_string_value(json_object_get(step, "message")));
		/* kgate's sessions have no lifetime (no client re-authentication). */
		if (c->hv == 1 && c->av >= 1)
			ck_assert_int_eq(jint(step, "session_lifetime_ms"), 0);
	}
	ck_assert_int_eq(json_array_size(json_object_get(r, "auth")), strcmp(c->mech, "PLAIN") ? 2 : 1);
	if (strcmp(c->mech, "PLAIN"))
		ck_assert_msg(jtrue(r, "server_signature_ok"), "kgate's SCRAM server signature "
							       "does not verify");
	ck_assert(jtrue(r, "signed_in"));
	/* Metadata: the cluster's answer (its topic), kgate's addresses. */
	b = json_object_get(json_object_get(r, "metadata"), "brokers");
	ck_assert_int_eq(json_array_size(b), 3);
	for (i = 0; i < 3; i++) {
		json_t *e = json_array_get(b, i);

		ck_assert_int_eq(json_integer_value(json_array_get(e, 0)), (json_int_t)i + 1);
		ck_assert_str_eq(json_string_value(json_array_get(e, 1)), kg.broker_addr[i]);
	}
	json_array_foreach(json_object_get(json_object_get(r, "metadata"), "topics"), i, step)
		topic_seen |= strcmp(json_string_value(json_object_get(step, "name")), TOPIC) == 0;
	ck_assert_msg(topic_seen, "Metadata after login lacks the cluster's topic");
	json_decref(r);

	ck_assert_int_eq(metric("kgate_client_logins_total", listener_label(listener)), 1);
	ck_assert_int_eq(metric("kgate_client_logins_total", NULL), 1);
	ck_assert_int_eq(metric("kgate_client_login_failures_total", NULL), 0);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	snprintf(line, sizeof(line), "client login %s (%s) accepted", APP_A, c->mech);
	ck_assert_msg(kgate_log_contains(&kg, line), "kgate's log lacks \"%s\"", line);
	mock_stop(&mock);
}
END_TEST

/* ---- 3c. what kgate refuses before a login ---- */

/* The frames a refused connection got before it closed: none.  A broker
 * closes an unexpected request or a bad handshake without another word
 * (the handshake itself is answered with its error); an answer here would
 * carry a correlation id the client did not send, or answer a request
 * with another API's body. */
static void assert_closed_quietly(json_t *o, const char *closed_key, const char *frames_key,
				  const char *what)
{
	ck_assert_msg(jtrue(o, closed_key), "%s: kgate did not close the connection", what);
	ck_assert_msg(json_array_size(json_object_get(o, frames_key)) == 0,
		      "%s: before closing, kgate sent %s ([correlation id, size]), a broker "
		      "sends nothing",
		      what, json_dumps(json_object_get(o, frames_key), JSON_COMPACT));
}

/* Each scenario on a kgate of its own (a failure in one hides no other):
 * 0 mechanisms kgate does not offer, 1 Metadata before logging in, 2 a
 * second SaslHandshake before any token, 3 a SaslHandshake after the
 * login.  Without the feature a Metadata before login would be forwarded
 * and answered, any mechanism accepted, or the handshake forwarded to the
 * mock; a refusal not counted, not logged, sent before the delay, or
 * answered with a frame nobody asked for fails. */
START_TEST(test_raw_refusals)
{
	const char *twice[] = {"--handshake-twice", NULL};
	const char *second[] = {"--metadata", "--second-handshake", NULL};
	struct mock mock;
	struct kgate kg;
	char dir[256], creds[320], port[16];
	const char *before[] = {"before-login", "--port", port, NULL};
	json_t *r, *h;
	int refused = 0;

	make_dir(dir, sizeof(dir), "login");
	credentials_write(dir, creds, sizeof(creds));
	mock_start(&mock, 3);
	ck_assert_int_eq(rd_kafka_mock_topic_create(mock.mc, TOPIC, PARTITIONS, 3), 0);
	kgate_start_login(&kg, &mock, creds, "[\"SCRAM-SHA-512\", \"PLAIN\"]");
	snprintf(port, sizeof(port), "%d", kg.bootstrap_port);

	switch (_i) {
	case 0:
		/* Error 33 and the list kgate offers, then the close. */
		for (int i = 0; i < 2; i++) {
			const char *mech = i ? "SCRAM-SHA-256" : "GSSAPI";

			r = raw_login(kg.bootstrap_port, mech, APP_A, APP_A_PW, 1, 2, NULL);
			h = json_object_get(r, "handshake");
			ck_assert_msg(jint(h, "error") == 33, "SaslHandshake %s: error %lld, want 33",
				      mech, jint(h, "error"));
			ck_assert_str_eq(jlist(json_object_get(h, "mechanisms")),
					 "PLAIN, SCRAM-SHA-512");
			ck_assert(!jtrue(r, "signed_in"));
			refused++;
			ck_assert(kgate_wait_log(&kg, "client login refused: mechanism", refused,
						 5000));
			assert_closed_quietly(r, "closed", "frames_after", mech);
			json_decref(r);
		}
		ck_assert(kgate_log_contains(&kg, "client login refused: mechanism \"GSSAPI\""));
		break;
	case 1:
		/* Closed after the delay, with a line in the log. */
		r = raw_client(before);
		refused++;
		ck_assert_msg(jnum(r, "elapsed_ms") >= DELAY_MS - DELAY_SLACK_MS,
			      "closed after %.1f ms, before the %d ms delay", jnum(r, "elapsed_ms"),
			      DELAY_MS);
		ck_assert(kgate_log_contains(&kg,
					     "client login refused: Metadata v1 before logging in"));
		assert_closed_quietly(r, "closed", "frames", "Metadata before login");
		json_decref(r);
		break;
	case 2:
		r = raw_login(kg.bootstrap_port, "PLAIN", APP_A, APP_A_PW, 1, 2, twice);
		refused++;
		ck_assert_int_eq(jint(json_object_get(r, "handshake"), "error"), 0);
		ck_assert(kgate_log_contains(
			&kg, "client login refused: malformed or repeated SaslHandshake"));
		assert_closed_quietly(json_object_get(r, "again"), "closed", "frames",
				      "a second SaslHandshake");
		json_decref(r);
		break;
	default:
		/* kgate's clients have sessions without a lifetime, nothing to
		 * re-authenticate; a broker must never see a client's SASL
		 * exchange (kgate signs in there itself, and re-authenticates
		 * its own session). */
		r = raw_login(kg.bootstrap_port, "SCRAM-SHA-512", APP_A, APP_A_PW, 1, 2, second);
		ck_assert(jtrue(r, "signed_in"));
		ck_assert_int_eq(
			json_array_size(json_object_get(json_object_get(r, "metadata"), "brokers")),
			3);
		ck_assert_int_eq(metric("kgate_client_logins_total", NULL), 1);
		/* The Metadata was forwarded (so the family is there); the
		 * SaslHandshake must not be: the mock, which has no SASL,
		 * closes as kgate should, so the count is what tells. */
		ck_assert_int_eq(metric("kgate_requests_total", "api=\"Metadata\""), 1);
		ck_assert_msg(metric_opt("kgate_requests_total", "api=\"SaslHandshake\"") <= 0,
			      "kgate forwarded a logged-in client's SaslHandshake to the broker");
		assert_closed_quietly(json_object_get(r, "second"), "closed", "frames",
				      "a SaslHandshake after the login");
		json_decref(r);
		break;
	}
	ck_assert_int_eq(metric("kgate_client_login_failures_total", listener_label(0)), refused);
	if (refused) {
		ck_assert_int_eq(metric("kgate_client_logins_total", NULL), 0);
		ck_assert_int_eq(metric("kgate_upstream_connects_total", NULL), 0);
	}
	ck_assert_int_eq(kgate_stop(&kg), 0);
	mock_stop(&mock);
}
END_TEST

/* ---- the SASL front (test/lib/sasl_front.py, as in 0019) ---- */

/* Fronts before the mock's brokers 1-3 (kgate's brokers[].upstream) and a
 * fourth before broker 1 again (bootstrap.upstream: only kgate's own
 * Metadata connections use it while clients bootstrap at broker 1's
 * listener), knowing alice and bob (test/lib/front.h). */
static const char *pw_path(const struct front *f, const char *user)
{
	static char path[2][320];
	int i = strcmp(user, ALICE) != 0;

	snprintf(path[i], sizeof(path[0]), "%s/%s", f->dir, user);
	return path[i];
}

static void front_start(struct front *f, const struct mock *m)
{
	char backends[4][64], alice[64], bob[64];
	const char *args[] = {"--user", alice, "--user", bob, "--stats", NULL, NULL};

	front_init(f, "front", 4);
	write_text(pw_path(f, ALICE), ALICE_PW "\n");
	write_text(pw_path(f, BOB), BOB_PW "\n");
	for (int i = 0; i < 4; i++)
		snprintf(backends[i], sizeof(backends[0]), "%s", m->addr[i % 3]);
	snprintf(alice, sizeof(alice), "%s:%s", ALICE, ALICE_PW);
	snprintf(bob, sizeof(bob), "%s:%s", BOB, BOB_PW);
	args[5] = f->stats_path;
	front_run(f, backends, args);
}

/* The front's stats, at most 100 ms old (it rewrites them on a change). */
static json_t *front_stats_now(const struct front *f)
{
	sleep_ms(300);
	return front_stats(f);
}

static long long stat_of(json_t *s, const char *key)
{
	return front_stat(s, key, NULL);
}

/* Nothing reached a broker before kgate signed in, no sign-in failed. */
static void assert_front_clean(json_t *s)
{
	ck_assert_int_eq(stat_of(s, "unauthenticated_requests"), 0);
	ck_assert_int_eq(stat_of(s, "protocol_errors"), 0);
	ck_assert_int_eq(stat_of(s, "violations"), 0);
	ck_assert_msg(stat_of(s, "failures") == 0, "the front refused %lld sign-in(s)",
		      stat_of(s, "failures"));
}

/* Checks the front's connections with ids in (after, upto] (upto 0: no
 * bound) through front ports lo..hi: each signed in as principal with
 * mech; returns how many there were. */
static int front_connections(json_t *s, long long after, long long upto, int lo, int hi,
			     const struct front *f, const char *principal, const char *mech,
			     const char *what)
{
	json_t *e;
	size_t i;
	int n = 0;

	json_array_foreach(json_object_get(s, "connection_log"), i, e)
	{
		long long id = json_integer_value(json_object_get(e, "id"));
		long long p = json_integer_value(json_object_get(e, "port"));
		const char *who = json_string_value(json_object_get(e, "principal"));
		const char *how = json_string_value(json_object_get(e, "mechanism"));
		int mine = 0;

		for (int b = lo; b <= hi; b++)
			mine |= p == f->port[b];
		if (id <= after || (upto && id > upto) || !mine)
			continue;
		n++;
		ck_assert_msg(who && strcmp(who, principal) == 0 && how && strcmp(how, mech) == 0,
			      "%s: upstream connection %lld (front port %lld) signed in as %s (%s), "
			      "want %s (%s)",
			      what, id, p, who ? who : "nobody", how ? how : "-", principal, mech);
	}
	return n;
}

/* kgate in front of the fronts: brokers[i].upstream is front i,
 * bootstrap.upstream front 3; it signs in as alice (SCRAM-SHA-256) unless
 * client_auth (a JSON object) maps the client elsewhere; tls: a "tls"
 * member or NULL. */
static void kgate_start_fronted(struct kgate *kg, const struct front *f,
				const char *client_auth, const char *tls)
{
	char cfg[8192], admin[256];
	size_t n = 0;

	admin_json(admin, sizeof(admin));
	kgate_plan(kg, 3);
	n += (size_t)snprintf(cfg + n, sizeof(cfg) - n,
			      "{ \"bootstrap\": { \"listen\": \"%s\", \"upstream\": [\"%s\"] },\n"
			      "  \"brokers\": [",
			      kg->bootstrap, f->addr[3]);
	for (int i = 0; i < 3; i++)
		n += (size_t)snprintf(cfg + n, sizeof(cfg) - n,
				      "%s\n    { \"id\": %d, \"listen\": \"%s\", \"advertise\": \"%s\", "
				      "\"upstream\": \"%s\" }",
				      i ? "," : "", i + 1, kg->broker_addr[i], kg->broker_addr[i],
				      f->addr[i]);
	snprintf(cfg + n, sizeof(cfg) - n,
		 " ],\n  \"upstream_sasl\": { \"mechanism\": \"SCRAM-SHA-256\", \"username\": "
		 "\"%s\", \"password_file\": \"%s\" },\n  \"client_auth\": %s,\n  %s%s%s }\n",
		 ALICE, pw_path(f, ALICE), client_auth, admin, tls ? ",\n  " : "", tls ? tls : "");
	kgate_start(kg, cfg);
}

/* The id of the front's last connection so far. */
static long long front_last_id(const struct front *f)
{
	json_t *s = front_stats_now(f);
	long long n = stat_of(s, "connections");

	json_decref(s);
	return n;
}

/* ---- 2. refused logins ---- */

/* Without the feature a wrong password would sign in (or reach the
 * cluster); an answer before failed_login_delay_ms, a refusal not counted
 * or not logged, or a single upstream dial for a refused client (the
 * fronts count every connection kgate makes) fails. */
START_TEST(test_refused)
{
	static char out[65536];
	const char *meta[] = {"metadata", "--timeout", "5", NULL};
	const char *fail[] = {"expect-failure", "--topic", TOPIC, "--timeout", "8", NULL};
	struct mock mock;
	struct front f;
	struct kgate kg;
	char dir[256], creds[320], auth[1024], port[16];
	const char *av[] = {"api-versions", "--port", port, "--version", "3", NULL};
	long long conns;
	json_t *r, *s, *step;
	int rc;
	struct {
		const char *mech, *user, *pw;
		int hv, av;
		const char *log;
	} bad[] = {
		{"PLAIN", APP_A, "not-" APP_A_PW, 1, 1, "client login refused: app-a (PLAIN): wrong password"},
		{"PLAIN", "nobody", APP_A_PW, 1, 2, "client login refused: nobody (PLAIN): unknown user"},
		{"SCRAM-SHA-512", APP_A, "not-" APP_A_PW, 1, 2, "client login refused: app-a (SCRAM-SHA-512)"},
		{"SCRAM-SHA-256", "nobody", APP_A_PW, 1, 0,
		 "client login refused: nobody (SCRAM-SHA-256): unknown user"},
		{"SCRAM-SHA-512", "nobody", APP_A_PW, 0, 0,
		 "client login refused: nobody (SCRAM-SHA-512): unknown user"},
		{"PLAIN", APP_B, "not-" APP_B_PW, 0, 0, "client login refused: app-b (PLAIN): wrong password"},
	};
	int n_bad = (int)(sizeof(bad) / sizeof(bad[0]));

	make_dir(dir, sizeof(dir), "login");
	credentials_write(dir, creds, sizeof(creds));
	mock_start(&mock, 3);
	ck_assert_int_eq(rd_kafka_mock_topic_create(mock.mc, TOPIC, PARTITIONS, 3), 0);
	front_start(&f, &mock);
	snprintf(auth, sizeof(auth),
		 "{ \"mode\": \"sasl\", \"credentials_file\": \"%s\", "
		 "\"failed_login_delay_ms\": %d }",
		 creds, DELAY_MS);
	kgate_start_fronted(&kg, &f, auth, NULL);
	snprintf(port, sizeof(port), "%d", kg.bootstrap_port);
	/* kgate has learned the cluster's APIs once this is answered: its own
	 * connections are made by then. */
	r = raw_client(av);
	ck_assert_int_eq(jint(r, "error"), 0);
	json_decref(r);
	conns = front_last_id(&f);
	ck_assert_int_eq(metric("kgate_upstream_connects_total", NULL), 0);

	for (int i = 0; i < n_bad; i++) {
		size_t n_steps;

		r = raw_login(kg.bootstrap_port, bad[i].mech, bad[i].user, bad[i].pw, bad[i].hv,
			      bad[i].av, NULL);
		fprintf(stderr, "0020 refused %s %s v%d/v%d: %s\n", bad[i].mech, bad[i].user,
			bad[i].hv, bad[i].av, json_dumps(r, JSON_COMPACT));
		ck_assert(!jtrue(r, "signed_in"));
		ck_assert_int_eq(jint(json_object_get(r, "handshake"), "error"), 0);
		n_steps = json_array_size(json_object_get(r, "auth"));
		/* SCRAM: a server-first even for an unknown user (its salt made
		 * up), so the refusal comes at the proof, as for a wrong one. */
		ck_assert_int_eq(n_steps, strcmp(bad[i].mech, "PLAIN") ? 2 : 1);
		if (n_steps == 2) {
			step = json_array_get(json_object_get(r, "auth"), 0);
			ck_assert(!jtrue(step, "closed"));
			ck_assert_int_eq(jint(step, "error"), 0);
			ck_assert_msg(strncmp(json_string_value(json_object_get(step, "bytes")), "r=",
					      2) == 0,
				      "server-first: %s", json_string_value(json_object_get(step, "bytes")));
		}
		step = json_array_get(json_object_get(r, "auth"), n_steps - 1);
		if (bad[i].hv == 0) {
			/* No framed answer fits after a v0 handshake: closed. */
			ck_assert_msg(jtrue(step, "closed"), "v0: not closed: %s",
				      json_dumps(step, JSON_COMPACT));
		} else {
			ck_assert_int_eq(jint(step, "error"), 58);
			ck_assert_str_eq(json_string_value(json_object_get(step, "message")),
					 "Authentication failed: invalid username or password");
			ck_assert(jtrue(r, "closed"));
		}
		/* The lower bound is kgate's own timer: never flaky. */
		ck_assert_msg(jnum(step, "elapsed_ms") >= DELAY_MS - DELAY_SLACK_MS,
			      "%s as %s refused after %.1f ms, before failed_login_delay_ms %d",
			      bad[i].mech, bad[i].user, jnum(step, "elapsed_ms"), DELAY_MS);
		json_decref(r);
		ck_assert_msg(kgate_wait_log(&kg, bad[i].log, 1, 5000), "kgate's log lacks \"%s\"",
			      bad[i].log);
	}
	ck_assert_int_eq(metric("kgate_client_login_failures_total", listener_label(0)), n_bad);

	/* librdkafka: a wrong password at broker 2's listener, an unknown
	 * user at broker 3's. */
	rc = client_run(meta, kg.broker_addr[1], NULL, APP_A, "not-" APP_A_PW, NULL, out,
			sizeof(out));
	ck_assert_msg(rc != 0, "metadata with a wrong password worked:\n%s", out);
	rc = client_run(fail, kg.broker_addr[2], NULL, "nobody", APP_A_PW, NULL, out, sizeof(out));
	ck_assert_msg(rc == 0, "expect-failure as an unknown user:\n%s", out);
	ck_assert_int_ge(metric("kgate_client_login_failures_total", listener_label(2)), 1);
	ck_assert_int_ge(metric("kgate_client_login_failures_total", listener_label(3)), 1);
	ck_assert_int_eq(metric("kgate_client_logins_total", NULL), 0);

	/* Not one dial for any of them. */
	ck_assert_int_eq(metric("kgate_upstream_connects_total", NULL), 0);
	s = front_stats_now(&f);
	ck_assert_msg(stat_of(s, "connections") == conns,
		      "the fronts saw %lld connection(s) for refused clients",
		      stat_of(s, "connections") - conns);
	assert_front_clean(s);
	json_decref(s);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(!kgate_log_contains(&kg, ") accepted"));
	json_decref(front_stop(&f));
	mock_stop(&mock);
}
END_TEST

/* ---- 4. identities: a login picks the upstream user ---- */

#define MAPPED_MESSAGES 500

/* Without identities every upstream connection would sign in as alice
 * (the front records who); with them applied to everyone (or to kgate's
 * own Metadata), app-a's or kgate's connections would show bob. */
START_TEST(test_identity_mapping)
{
	static char out[65536];
	const char *produce_b[] = {"produce", "--topic", TOPIC, "--count", "500", "--timeout",
				   "60", NULL};
	const char *produce_a[] = {"produce", "--topic", TOPIC, "--count", "500", "--start",
				   "500", "--timeout", "60", NULL};
	const char *consume[] = {"consume", "--topic", TOPIC, "--count", "1000", "--group",
				 "g-0020-map", "--timeout", "60", NULL};
	struct mock mock;
	struct front f;
	struct kgate kg;
	char dir[256], creds[320], auth[1024], port[16], line[256];
	const char *av[] = {"api-versions", "--port", port, "--version", "3", NULL};
	long long start, after_b, after_a;
	json_t *r, *s;
	int n, rc;

	setenv("KGATE_TEST_LOG_LEVEL", "debug", 1);
	make_dir(dir, sizeof(dir), "login");
	credentials_write(dir, creds, sizeof(creds));
	mock_start(&mock, 3);
	ck_assert_int_eq(rd_kafka_mock_topic_create(mock.mc, TOPIC, PARTITIONS, 3), 0);
	front_start(&f, &mock);
	snprintf(auth, sizeof(auth),
		 "{ \"mode\": \"sasl\", \"credentials_file\": \"%s\",\n"
		 "    \"identities\": { \"%s\": { \"mechanism\": \"PLAIN\", \"username\": \"%s\", "
		 "\"password_file\": \"%s\" } } }",
		 creds, APP_B, BOB, pw_path(&f, BOB));
	kgate_start_fronted(&kg, &f, auth, NULL);
	snprintf(port, sizeof(port), "%d", kg.broker_port[0]);
	r = raw_client(av);
	ck_assert_int_eq(jint(r, "error"), 0);
	json_decref(r);
	start = front_last_id(&f);

	/* app-b, mapped to bob. */
	rc = client_run(produce_b, kg.broker_addr[0], kgate_brokers(&kg), APP_B, APP_B_PW, NULL,
			out, sizeof(out));
	ck_assert_msg(rc == 0, "produce as %s:\n%s", APP_B, out);
	after_b = front_last_id(&f);
	/* app-a, not mapped: alice, as kgate itself. */
	rc = client_run(produce_a, kg.broker_addr[0], kgate_brokers(&kg), APP_A, APP_A_PW, NULL,
			out, sizeof(out));
	ck_assert_msg(rc == 0, "produce as %s:\n%s", APP_A, out);
	after_a = front_last_id(&f);
	rc = client_run(consume, kg.broker_addr[0], kgate_brokers(&kg), APP_B, APP_B_PW, NULL, out,
			sizeof(out));
	ck_assert_msg(rc == 0, "consume as %s:\n%s", APP_B, out);

	s = front_stats_now(&f);
	assert_front_clean(s);
	/* Broker listeners' upstreams (fronts 0-2), client by client (they ran
	 * one after the other, and the front numbers connections in order). */
	n = front_connections(s, start, after_b, 0, 2, &f, BOB, "PLAIN", "app-b's produce");
	ck_assert_msg(n >= 1, "no upstream connection for app-b's producer");
	n = front_connections(s, after_b, after_a, 0, 2, &f, ALICE, "SCRAM-SHA-256",
			      "app-a's produce");
	ck_assert_msg(n >= 1, "no upstream connection for app-a's producer");
	n = front_connections(s, after_a, 0, 0, 2, &f, BOB, "PLAIN", "app-b's consume");
	ck_assert_msg(n >= 1, "no upstream connection for app-b's consumer");
	/* kgate's own Metadata (front 3, bootstrap.upstream, which no client
	 * reached): the top-level user. */
	n = front_connections(s, 0, 0, 3, 3, &f, ALICE, "SCRAM-SHA-256", "kgate's own Metadata");
	ck_assert_msg(n >= 1, "kgate's own Metadata never signed in at the bootstrap front");
	json_decref(s);

	ck_assert_int_eq(kgate_stop(&kg), 0);
	snprintf(line, sizeof(line),
		 "client login %s (PLAIN) accepted, mapped to its own upstream credentials", APP_B);
	ck_assert_msg(kgate_log_contains(&kg, line), "kgate's log lacks \"%s\"", line);
	snprintf(line, sizeof(line), "client login %s (PLAIN) accepted, mapped", APP_A);
	ck_assert_msg(!kgate_log_contains(&kg, line), "app-a was mapped");
	snprintf(line, sizeof(line),
		 "authenticated to %s as %s (SCRAM-SHA-256), for kgate's own Metadata", f.addr[3],
		 ALICE);
	ck_assert_msg(kgate_log_contains(&kg, line), "kgate's log lacks \"%s\"", line);
	json_decref(front_stop(&f));
	mock_stop(&mock);
}
END_TEST

/* ---- 5. identities by client certificate ---- */

/* Without mode tls's mapping the certificate's name would change nothing
 * (alice for everyone); mapping every certificate would show bob for the
 * unmapped one too. */
START_TEST(test_tls_identity)
{
	static char out[65536];
	const char *produce[] = {"produce", "--topic", TOPIC, "--count", "300", "--timeout", "60",
				 NULL};
	struct mock mock;
	struct front f;
	struct kgate kg;
	char tls[1024], auth[512], ca[320], cert[2][320], key[2][320];
	long long start, after;
	json_t *s;
	int n, rc;

	mock_start(&mock, 3);
	ck_assert_int_eq(rd_kafka_mock_topic_create(mock.mc, TOPIC, PARTITIONS, 3), 0);
	front_start(&f, &mock);
	snprintf(tls, sizeof(tls),
		 "\"tls\": { \"listen\": { \"cert\": \"%s\", \"key\": \"%s\", "
		 "\"client_auth\": \"require\", \"ca\": \"%s\" } }",
		 cert_path(0, "gateway.pem"), cert_path(1, "gateway.key"), cert_path(2, "ca.pem"));
	/* client.pem's common name is "client" (scripts/gen-certs.sh). */
	snprintf(auth, sizeof(auth),
		 "{ \"mode\": \"tls\", \"identities\": { \"client\": { \"mechanism\": \"PLAIN\", "
		 "\"username\": \"%s\", \"password_file\": \"%s\" } } }",
		 BOB, pw_path(&f, BOB));
	kgate_start_fronted(&kg, &f, auth, tls);
	snprintf(ca, sizeof(ca), "ssl.ca.location=%s", cert_path(0, "ca.pem"));
	snprintf(cert[0], sizeof(cert[0]), "ssl.certificate.location=%s", cert_path(0, "client.pem"));
	snprintf(key[0], sizeof(key[0]), "ssl.key.location=%s", cert_path(0, "client.key"));
	/* Another certificate of the same CA (CN "broker-1"), not mapped. */
	snprintf(cert[1], sizeof(cert[1]), "ssl.certificate.location=%s",
		 cert_path(0, "broker-1.pem"));
	snprintf(key[1], sizeof(key[1]), "ssl.key.location=%s", cert_path(0, "broker-1.key"));
	start = front_last_id(&f);

	for (int c = 0; c < 2; c++) {
		const char *sets[] = {"security.protocol=ssl", ca, cert[c], key[c], NULL};

		rc = client_run(produce, kg.broker_addr[0], kgate_brokers(&kg), NULL, NULL, sets,
				out, sizeof(out));
		ck_assert_msg(rc == 0, "produce over TLS with %s:\n%s", cert[c], out);
		after = front_last_id(&f);
		s = front_stats_now(&f);
		assert_front_clean(s);
		n = front_connections(s, start, after, 0, 2, &f, c ? ALICE : BOB,
				      c ? "SCRAM-SHA-256" : "PLAIN",
				      c ? "certificate broker-1" : "certificate client");
		ck_assert_msg(n >= 1, "no upstream connection for the producer");
		json_decref(s);
		start = after;
	}
	ck_assert_int_ge(metric("kgate_client_logins_total", NULL), 2);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "client certificate client (tls) accepted, mapped to its "
					  "own upstream credentials"));
	ck_assert(kgate_log_contains(&kg, "client certificate broker-1 (tls) accepted"));
	ck_assert(!kgate_log_contains(&kg, "client certificate broker-1 (tls) accepted, mapped"));
	json_decref(front_stop(&f));
	mock_stop(&mock);
}
END_TEST

/* ---- 6. --check ---- */

/* `kgate --check` on config; its exit status, output into out. */
static int check_config(const char *dir, const char *config, char *out, size_t len)
{
	const char *bin = getenv("KGATE_BIN");
	char path[320];
	char *argv[] = {(char *)bin, "--check", "--config", path, NULL};

	snprintf(path, sizeof(path), "%s/check.json", dir);
	write_text(path, config);
	return harness_run(argv, out, len);
}

/* Without the per-listener lines nobody could tell from --check who signs
 * in where; without the refusal a listener on 0.0.0.0 would lend kgate's
 * upstream user to anyone who reaches it. */
START_TEST(test_check)
{
	static char out[16384];
	char dir[256], creds[320], pw[320], cfg[4096], want[512], any[64];
	int bport = harness_free_port(), p1 = harness_free_port(), p2 = harness_free_port();
	int rc;

	make_dir(dir, sizeof(dir), "check");
	credentials_write(dir, creds, sizeof(creds));
	snprintf(pw, sizeof(pw), "%s/alice", dir);
	write_text(pw, ALICE_PW "\n");

	/* Bootstrap: logins with two mechanisms and an identity; broker 1:
	 * the top level (sasl, every mechanism); broker 2: none, on loopback. */
	snprintf(cfg, sizeof(cfg),
		 "{ \"bootstrap\": { \"listen\": \"127.0.0.1:%d\", \"upstream\": [\"b-1.example:9096\"],\n"
		 "    \"client_auth\": { \"mode\": \"sasl\", \"credentials_file\": \"%s\",\n"
		 "      \"mechanisms\": [\"SCRAM-SHA-512\", \"PLAIN\"],\n"
		 "      \"identities\": { \"app-b\": { \"mechanism\": \"PLAIN\", \"username\": \"bob\", "
		 "\"password_file\": \"%s\" } } } },\n"
		 "  \"brokers\": [\n"
		 "    { \"id\": 1, \"listen\": \"127.0.0.1:%d\", \"advertise\": \"127.0.0.1:%d\" },\n"
		 "    { \"id\": 2, \"listen\": \"127.0.0.1:%d\", \"advertise\": \"127.0.0.1:%d\",\n"
		 "      \"client_auth\": { \"mode\": \"none\" } } ],\n"
		 "  \"upstream_sasl\": { \"mechanism\": \"SCRAM-SHA-512\", \"username\": \"alice\", "
		 "\"password_file\": \"%s\" },\n"
		 "  \"client_auth\": { \"mode\": \"sasl\", \"credentials_file\": \"%s\" } }\n",
		 bport, creds, pw, p1, p1, p2, p2, pw, creds);
	rc = check_config(dir, cfg, out, sizeof(out));
	fprintf(stderr, "0020 --check:\n%s", out);
	ck_assert_msg(rc == 0, "--check refused:\n%s", out);
	snprintf(want, sizeof(want),
		 "bootstrap 127.0.0.1:%d: clients sign in: sasl PLAIN, SCRAM-SHA-512, identities "
		 "mapped; kgate signs in upstream as alice (SCRAM-SHA-512)",
		 bport);
	ck_assert_msg(strstr(out, want), "--check lacks \"%s\":\n%s", want, out);
	snprintf(want, sizeof(want),
		 "broker 1 127.0.0.1:%d: clients sign in: sasl PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; "
		 "kgate signs in upstream as alice (SCRAM-SHA-512)",
		 p1);
	ck_assert_msg(strstr(out, want), "--check lacks \"%s\":\n%s", want, out);
	snprintf(want, sizeof(want),
		 "broker 2 127.0.0.1:%d: clients sign in: none; kgate signs in upstream as alice "
		 "(SCRAM-SHA-512)",
		 p2);
	ck_assert_msg(strstr(out, want), "--check lacks \"%s\":\n%s", want, out);

	/* upstream_sasl on 0.0.0.0 with nobody asked who they are: refused,
	 * unless anonymity is allowed in so many words or clients sign in. */
	snprintf(any, sizeof(any), "0.0.0.0:%d", bport);
	for (int variant = 0; variant < 3; variant++) {
		const char *auth = variant == 0 ? ""
				   : variant == 1
					   ? ",\n  \"client_auth\": { \"mode\": \"none\", "
					     "\"allow_anonymous\": true }"
					   : NULL;
		char sasl_auth[512];

		if (!auth) {
			snprintf(sasl_auth, sizeof(sasl_auth),
				 ",\n  \"client_auth\": { \"mode\": \"sasl\", \"credentials_file\": "
				 "\"%s\", \"mechanisms\": [\"SCRAM-SHA-512\"] }",
				 creds);
			auth = sasl_auth;
		}
		snprintf(cfg, sizeof(cfg),
			 "{ \"bootstrap\": { \"listen\": \"%s\", \"upstream\": [\"b-1.example:9096\"] },\n"
			 "  \"brokers\": [ { \"id\": 1, \"listen\": \"127.0.0.1:%d\", \"advertise\": "
			 "\"127.0.0.1:%d\" } ],\n"
			 "  \"upstream_sasl\": { \"mechanism\": \"SCRAM-SHA-512\", \"username\": "
			 "\"alice\", \"password_file\": \"%s\" }%s }\n",
			 any, p1, p1, pw, auth);
		rc = check_config(dir, cfg, out, sizeof(out));
		fprintf(stderr, "0020 --check on 0.0.0.0 (variant %d): status %d\n%s", variant, rc,
			out);
		if (variant == 0) {
			ck_assert_msg(rc == 2, "--check accepted upstream_sasl on %s without "
					       "client_auth:\n%s", any, out);
			snprintf(want, sizeof(want), "anyone who reaches %s", any);
			ck_assert_msg(strstr(out, want), "--check lacks \"%s\":\n%s", want, out);
		} else {
			ck_assert_msg(rc == 0, "--check refused variant %d:\n%s", variant, out);
			ck_assert(!strstr(out, "anyone who reaches"));
		}
		if (variant == 1)
			ck_assert_msg(strstr(out, "(anonymous allowed)"), "%s", out);
	}
}
END_TEST

/* ApiVersions v0 from client "c" (15 bytes with its size). */
static const uint8_t api_versions_v0[] = {0, 0, 0, 11, 0, 18, 0, 0, 0, 0, 0, 7, 0, 1, 'c'};

/* A client that never logs in, or sends half a frame and stops, is closed
 * after limits.frame_timeout_ms (without the deadline it held its
 * connection for ever: the timeouts only watched connections with an
 * upstream).  One that pipelines ApiVersions and reads slowly stops being
 * read once limits.buffer_bytes of answers wait for it (the review that
 * found it grew kgate by 740 MB with 28 MB of requests) and is read again
 * as it drains them: every answer arrives, in order — a pause without its
 * resume would hang here. */
START_TEST(test_login_bounds)
{
	enum { N = 4000 }; /* 60 KB of requests (fits the sockets' buffers), answers
			    * of about 1.5 MB: many times limits.buffer_bytes */
	static uint8_t burst[N * sizeof(api_versions_v0)];
	char dir[256], creds[512];
	struct mock mock;
	struct kgate kg;
	int silent, half, greedy;
	uint8_t size_be[4], *body;
	size_t got = 0;
	int32_t size;

	make_dir(dir, sizeof(dir), "bounds");
	credentials_write(dir, creds, sizeof(creds));
	mock_start(&mock, 3);
	kgate_start_login_limits(&kg, &mock, creds,
				 "\"frame_timeout_ms\": 500, \"idle_timeout_ms\": 600000, "
				 "\"buffer_bytes\": 65536");
	silent = raw_connect(kg.bootstrap_port);
	half = raw_connect(kg.bootstrap_port);
	ck_assert_int_eq(raw_send(half, api_versions_v0, 7), 0);
	ck_assert_msg(raw_wait_closed(silent, 30000), "a client that never logs in held on");
	ck_assert_msg(raw_wait_closed(half, 30000), "half a login frame held its connection");
	close(silent);
	close(half);
	ck_assert(kgate_wait_log(&kg, "did not log in within 500 ms", 2, 20000));

	for (size_t i = 0; i < N; i++)
		memcpy(burst + i * sizeof(api_versions_v0), api_versions_v0,
		       sizeof(api_versions_v0));
	greedy = raw_connect(kg.bootstrap_port);
	ck_assert_int_eq(raw_send(greedy, burst, sizeof(burst)), 0);
	/* Every answer comes, in order, however slowly it is read. */
	body = malloc(65536);
	ck_assert_ptr_nonnull(body);
	while (got < N) {
		ck_assert_msg(raw_recv(greedy, size_be, 4) == 0, "answer %zu of %d missing", got, N);
		size = (int32_t)((uint32_t)size_be[0] << 24 | (uint32_t)size_be[1] << 16 |
				 (uint32_t)size_be[2] << 8 | size_be[3]);
		ck_assert_int_gt(size, 6);
		ck_assert_int_lt(size, 65536);
		ck_assert_int_eq(raw_recv(greedy, body, (size_t)size), 0);
		ck_assert_int_eq(body[3], 7); /* correlation id 7 */
		ck_assert_int_eq(body[4] << 8 | body[5], 0);
		got++;
	}
	free(body);
	close(greedy);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	mock_stop(&mock);
}
END_TEST

TCase *tcase_0020_client_logins(void)
{
	TCase *tc = tcase_create("0020 client logins");

	tcase_add_test(tc, test_librdkafka_plain);
	tcase_add_test(tc, test_api_versions_before_login);
	tcase_add_loop_test(tc, test_raw_login, 0, N_LOGIN_CASES);
	tcase_add_loop_test(tc, test_raw_refusals, 0, 4);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_identity_mapping);
	tcase_add_test(tc, test_tls_identity);
	tcase_add_test(tc, test_check);
	tcase_add_test(tc, test_login_bounds);
	tcase_set_timeout(tc, 300);
	return tc;
}
