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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/clients.h"
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
#define FRONT_STOP_MS 10000

static const char *const mechanisms[] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"};

static const char *tmp_root(void)
{
	const char *t = getenv("KGATE_TEST_TMP");

	return t ? t : "/tmp";
}

static void sleep_ms(int ms)
{
	usleep((useconds_t)ms * 1000);
}

/* A fresh directory for this test's files. */
static void make_dir(char *dir, size_t len, const char *what)
{
	mkdir(tmp_root(), 0755);
	snprintf(dir, len, "%s/%s-XXXXXX", tmp_root(), what);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* `kgate passwd FILE USER`, the password on its stdin (as an operator
 * pipes it). */
static void passwd_add(const char *file, const char *user, const char *password)
{
	const char *bin = getenv("KGATE_BIN");
	char cmd[1024];
	FILE *p;
	int status;

	ck_assert_msg(bin != NULL, "KGATE_BIN is not set");
	snprintf(cmd, sizeof(cmd), "'%s' passwd '%s' '%s'", bin, file, user);
	p = popen(cmd, "w");
	ck_assert_ptr_nonnull(p);
	fprintf(p, "%s\n", password);
	status = pclose(p);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "kgate passwd %s %s: status %d", file, user, status);
}

/* The credentials file for app-a and app-b, in dir. */
static void credentials_write(const char *dir, char *path, size_t len)
{
	struct stat st;

	snprintf(path, len, "%s/users.json", dir);
	passwd_add(path, APP_A, APP_A_PW);
	passwd_add(path, APP_B, APP_B_PW);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
}

/* ---- kgate's metrics ---- */

static int admin_port;

/* The series `name` or `name{labels}` (labels NULL: summed over every
 * series of the family); asserts the family is there. */
static double metric(const char *name, const char *labels)
{
	char *body = NULL, *line, series[256];
	double sum = -1;
	size_t len;

	if (labels)
		snprintf(series, sizeof(series), "%s{%s} ", name, labels);
	else
		snprintf(series, sizeof(series), "%s", name);
	len = strlen(series);
	ck_assert_int_eq(http_get(admin_port, "/metrics", &body), 200);
	for (line = body; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *v;

		if (strncmp(line, series, len) != 0)
			continue;
		if (labels) {
			v = line + len - 1;
		} else {
			if (line[len] != ' ' && line[len] != '{')
				continue;
			v = line[len] == '{' ? strchr(line, '}') : line + len;
			if (!v)
				continue;
		}
		sum = (sum < 0 ? 0 : sum) + strtod(v + 1, NULL);
	}
	free(body);
	ck_assert_msg(sum >= 0, "kgate's /metrics has no %s", series);
	return sum;
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

	/* One login per connection kgate accepted, on each listener; every
	 * listener was used (the producer bootstrapped at bootstrap; three
	 * partitions lead on three brokers). */
	for (int l = 0; l <= 3; l++) {
		double in = metric("kgate_client_logins_total", listener_label(l));
		double acc = metric("kgate_connections_accepted_total", listener_label(l));

		fprintf(stderr, "0020 librdkafka: %s: %.0f logins, %.0f connections\n",
			listener_label(l), in, acc);
		ck_assert_msg(in > 0, "no login counted on %s", listener_label(l));
		ck_assert_msg(in == acc, "%s: %.0f logins counted for %.0f connections",
			      listener_label(l), in, acc);
		logins += in;
	}
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
	ck_assert_int_eq(metric("kgate_requests_total", NULL), 0);
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

TCase *tcase_0020_client_logins(void)
{
	TCase *tc = tcase_create("0020 client logins");

	tcase_add_test(tc, test_librdkafka_plain);
	tcase_add_test(tc, test_api_versions_before_login);
	tcase_add_loop_test(tc, test_raw_login, 0, N_LOGIN_CASES);
	tcase_set_timeout(tc, 300);
	return tc;
}
