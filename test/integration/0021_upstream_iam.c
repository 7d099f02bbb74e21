/* 0021_upstream_iam.c — kgate signing in to brokers with MSK IAM
 * (upstream_sasl OAUTHBEARER aws_msk_iam, and AWS_MSK_IAM) without AWS:
 * test/lib/sasl_front.py, which shares no code with kgate, verifies each
 * SigV4 signature with the secret keys it is given, in front of each mock
 * broker.  Credentials from the environment (clients move messages
 * exactly once, every upstream connection signed in with that key), a
 * wrong secret (refused, reported, counted), credentials from the
 * container endpoint (test/lib/fake_aws.py) that expire every few seconds
 * while sessions are re-authenticated (the keys used move to the newer
 * ones, nothing expires, nobody is disconnected), and none at all.
 * AWS_MSK_IAM signs a broker's own name: with plaintext fronts that is the
 * host kgate dials, with TLS fronts the TLS name (server_name).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/clients.h"
#include "../lib/front.h"
#include "itests.h"

#define TOPIC "iam"
#define PARTITIONS 3
#define REGION "eu-west-1"
#define KEY_ID "AKIAKGATE0021TEST01"
#define SECRET "kgate-0021/secret+key="
#define SESSION_TOKEN "kgate-0021-session/token+="
#define MESSAGES 3000

/* ---- the fronts (test/lib/front.h, one port per mock broker) ---- */

/* How a front is started. */
struct front_opts {
	const char *mechanism;  /* "OAUTHBEARER" or "AWS_MSK_IAM" */
	const char *secret;     /* what the front trusts for KEY_ID (NULL: no --iam-key) */
	int fake_aws;           /* trust fake_aws.py's keys */
	int lifetime_ms;        /* session lifetime (0: none) */
	int tls;                /* SASL_SSL with broker-1's certificate (*.msk.internal) */
	const char *oauth_flow; /* "rfc7628" (default) or "direct" */
};

static void sleep_ms(int ms)
{
	usleep((useconds_t)ms * 1000);
}

static void front_start(struct front *f, const struct mock *m, const struct front_opts *o)
{
	char names[HARNESS_MAX_BROKERS][96], backends[HARNESS_MAX_BROKERS][64];
	char lifetime[32], key[256], cert[512], certkey[512];
	const char *args[64];
	int k = 0;

	front_init(f, "iamfront", m->n_brokers);
	for (int i = 0; i < f->n; i++) {
		snprintf(backends[i], sizeof(backends[0]), "%s", m->addr[i]);
		if (o->tls) {
			/* AWS_MSK_IAM over TLS: each broker checks its own name. */
			snprintf(names[i], sizeof(names[0]), "%d=b-%d.msk.internal", f->port[i],
				 i + 1);
			args[k++] = "--iam-host";
			args[k++] = names[i];
		}
	}
	args[k++] = "--mechanisms";
	args[k++] = o->mechanism;
	args[k++] = "--iam-region";
	args[k++] = REGION;
	if (o->secret) {
		snprintf(key, sizeof(key), "%s:%s:%s", KEY_ID, o->secret, SESSION_TOKEN);
		args[k++] = "--iam-key";
		args[k++] = key;
	}
	if (o->fake_aws)
		args[k++] = "--iam-trust-fake-aws";
	if (o->oauth_flow) {
		args[k++] = "--oauth-error-flow";
		args[k++] = o->oauth_flow;
	}
	if (o->tls) {
		snprintf(cert, sizeof(cert), "%s", cert_path(0, "broker-1.pem"));
		snprintf(certkey, sizeof(certkey), "%s", cert_path(1, "broker-1.key"));
		args[k++] = "--tls";
		args[k++] = cert;
		args[k++] = certkey;
	}
	snprintf(lifetime, sizeof(lifetime), "%d", o->lifetime_ms);
	args[k++] = "--session-lifetime-ms";
	args[k++] = lifetime;
	args[k++] = "--stats";
	args[k++] = f->stats_path;
	args[k] = NULL;
	front_run(f, backends, args);
}

/* Every connection signed in with mech (ApiVersions v0, SaslHandshake v1,
 * one SaslAuthenticate v2), none failed. */
static void assert_front_all_signed_in(json_t *s, const char *mech)
{
	long long conns = front_stat(s, "connections", NULL);
	json_t *entry, *v;
	size_t i, j;

	front_assert_clean(s);
	ck_assert_msg(front_stat(s, "failures", NULL) == 0, "sign-in failures: %s",
		      front_notes(s, "failure_messages"));
	ck_assert_int_gt(conns, 0);
	ck_assert_msg(front_stat(s, "authenticated", NULL) == conns,
		      "%lld of %lld connections signed in", front_stat(s, "authenticated", NULL),
		      conns);
	ck_assert_int_eq(front_stat(s, "auth", mech), conns);
	json_array_foreach(json_object_get(s, "connection_log"), i, entry)
	{
		static const char *const want[] = {"18v0", "17v1", "36v2"};
		json_t *pre = json_object_get(entry, "pre_auth");

		ck_assert_int_eq(json_array_size(pre), 3);
		json_array_foreach(pre, j, v)
			ck_assert_str_eq(json_string_value(v), want[j]);
	}
}

/* ---- kgate ---- */

static int admin_port;

/* kgate with upstream_sasl mech (IAM, REGION) before the fronts: broker
 * listeners dial their front; bootstrap dials every front (plaintext) or
 * front 1 with TLS. */
static void kgate_start_iam(struct kgate *kg, const struct front *f, const char *mech,
			    int tls)
{
	char cfg[8192], brokers[4096], sasl[256], boot_tls[512] = "", boot[512];
	size_t n = 0;

	admin_port = harness_free_port();
	kgate_plan(kg, f->n);
	if (strcmp(mech, "OAUTHBEARER") == 0)
		snprintf(sasl, sizeof(sasl),
			 "{ \"mechanism\": \"OAUTHBEARER\", \"token_provider\": \"aws_msk_iam\", "
			 "\"region\": \"" REGION "\" }");
	else
		snprintf(sasl, sizeof(sasl),
			 "{ \"mechanism\": \"AWS_MSK_IAM\", \"region\": \"" REGION "\" }");
	for (int i = 0; i < f->n; i++) {
		char tls_block[512] = "";

		if (tls)
			snprintf(tls_block, sizeof(tls_block),
				 ", \"upstream_tls\": { \"ca\": \"%s\", \"server_name\": "
				 "\"b-%d.msk.internal\" }",
				 cert_path(0, "ca.pem"), i + 1);
		n += (size_t)snprintf(brokers + n, sizeof(brokers) - n,
				      "%s\n    { \"id\": %d, \"listen\": \"%s\", \"advertise\": "
				      "\"%s\", \"upstream\": \"%s\"%s }",
				      i ? "," : "", i + 1, kg->broker_addr[i], kg->broker_addr[i],
				      f->addr[i], tls_block);
	}
	if (tls)
		snprintf(boot_tls, sizeof(boot_tls),
			 ", \"upstream_tls\": { \"ca\": \"%s\", \"server_name\": "
			 "\"b-1.msk.internal\" }",
			 cert_path(0, "ca.pem"));
	n = 0;
	for (int i = 0; i < (tls ? 1 : f->n); i++)
		n += (size_t)snprintf(boot + n, sizeof(boot) - n, "%s\"%s\"", i ? ", " : "",
				      f->addr[i]);
	snprintf(cfg, sizeof(cfg),
		 "{ \"bootstrap\": { \"listen\": \"%s\", \"upstream\": [%s]%s },\n"
		 "  \"brokers\": [%s ],\n"
		 "  \"upstream_sasl\": %s,\n"
		 "  \"admin\": { \"listen\": \"127.0.0.1:%d\" },\n  \"workers\": 1 }\n",
		 kg->bootstrap, boot, boot_tls, brokers, sasl, admin_port);
	kgate_start(kg, cfg);
}

/* A metric from kgate's /metrics, summed over its series. */
static double metric(const char *name)
{
	return harness_metric(admin_port, name, NULL);
}

/* A line of kgate's log with "cannot authenticate to <a front>: " and msg
 * after it. */
static int log_has_auth_error(const struct kgate *kg, const struct front *f, const char *msg)
{
	FILE *log = fopen(kg->log_path, "r");
	char line[4096];
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

/* No AWS_* variable, HOME an empty directory, IMDS off (as 0018). */
static void env_clean(void)
{
	static const char *const vars[] = {
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
		"AWS_REGION", "AWS_DEFAULT_REGION"};
	char home[512];

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	snprintf(home, sizeof(home), "%s/iam-home-%d", harness_tmp_root(), (int)getpid());
	mkdir(harness_tmp_root(), 0755);
	mkdir(home, 0700);
	setenv("HOME", home, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

static void env_static_keys(void)
{
	env_clean();
	setenv("AWS_ACCESS_KEY_ID", KEY_ID, 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	setenv("AWS_SESSION_TOKEN", SESSION_TOKEN, 1);
}

static void mock_with_topic(struct mock *m)
{
	mock_start(m, 3);
	ck_assert_int_eq(rd_kafka_mock_topic_create(m->mc, TOPIC, PARTITIONS, 3), 0);
	for (int p = 0; p < PARTITIONS; p++)
		ck_assert_int_eq(rd_kafka_mock_partition_set_leader(m->mc, TOPIC, p, p + 1), 0);
}

/* The runs of a and b: OAUTHBEARER; AWS_MSK_IAM with plaintext fronts
 * (kgate signs the host it dials, 127.0.0.1); AWS_MSK_IAM with TLS fronts
 * (kgate signs server_name, b-N.msk.internal). */
static const struct {
	const char *mech;
	int tls;
	const char *label;
} runs[] = {
	{"OAUTHBEARER", 0, "OAUTHBEARER"},
	{"AWS_MSK_IAM", 0, "AWS_MSK_IAM plaintext"},
	{"AWS_MSK_IAM", 1, "AWS_MSK_IAM over TLS"},
};

/* ---- a. credentials from the environment ---- */

START_TEST(test_environment_credentials)
{
	struct front_opts o = {.mechanism = runs[_i].mech, .secret = SECRET, .tls = runs[_i].tls};
	struct mock mock;
	struct front f;
	struct kgate kg;
	struct broker_view pview, cview;
	struct delivery d;
	rd_kafka_t *producer, *consumer;
	json_t *s;

	env_static_keys();
	mock_with_topic(&mock);
	front_start(&f, &mock, &o);
	kgate_start_iam(&kg, &f, runs[_i].mech, runs[_i].tls);
	ck_assert(kgate_log_contains(&kg, "AWS credentials from environment (access key AKIA"));

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
	ck_assert_msg(metric("kgate_aws_credentials_available") == 1,
		      "kgate_aws_credentials_available is not 1");

	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "protocol_errors=0"));
	ck_assert(!kgate_log_contains(&kg, "cannot authenticate"));
	ck_assert_msg(!kgate_log_contains(&kg, SECRET) && !kgate_log_contains(&kg, SESSION_TOKEN),
		      "kgate logged a secret");
	s = front_stop(&f);
	ck_assert_int_ge(front_stat(s, "connections", NULL), 3);
	assert_front_all_signed_in(s, runs[_i].mech);
	/* Every connection with the one key, and the fronts' principal is it. */
	ck_assert_int_eq(front_stat(s, "access_keys", KEY_ID), front_stat(s, "connections", NULL));
	ck_assert_int_eq(json_object_size(json_object_get(s, "access_keys")), 1);
	ck_assert_int_eq(front_stat(s, "principals", KEY_ID), front_stat(s, "connections", NULL));
	fprintf(stderr, "0021 %s: %lld upstream connections, all signed in as " KEY_ID "\n",
		runs[_i].label, front_stat(s, "connections", NULL));
	json_decref(s);
	mock_stop(&mock);
}
END_TEST

/* ---- b. a wrong secret ---- */

/* Runs: the three of a, then OAUTHBEARER refused without the RFC 7628
 * challenge (error 58 at once). */
START_TEST(test_wrong_secret)
{
	int r = _i < 3 ? _i : 0;
	int direct = _i == 3;
	struct front_opts o = {.mechanism = runs[r].mech, .secret = "not-" SECRET,
			       .tls = runs[r].tls, .oauth_flow = direct ? "direct" : NULL};
	/* What the front says: MSK's words for IAM, RFC 7628's JSON challenge
	 * for OAUTHBEARER by default (kgate stops at the challenge). */
	const char *msg = strcmp(runs[r].mech, "OAUTHBEARER") == 0 && !direct
				  ? "{\"status\":\"invalid_token\"}"
				  : "]: Access denied";
	struct mock mock;
	struct front f;
	struct kgate kg;
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	char errstr[256];
	rd_kafka_resp_err_t err;
	json_t *s;

	env_static_keys();
	mock_with_topic(&mock);
	front_start(&f, &mock, &o);
	kgate_start_iam(&kg, &f, runs[r].mech, runs[r].tls);

	conf = client_conf(kg.bootstrap, NULL);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	ck_assert_msg(rk != NULL, "%s", errstr);
	err = rd_kafka_metadata(rk, 1, NULL, &md, 5000);
	ck_assert_msg(err != RD_KAFKA_RESP_ERR_NO_ERROR,
		      "Metadata through kgate worked with a wrong secret");
	rd_kafka_destroy(rk);

	ck_assert_msg(kgate_wait_log(&kg, "cannot authenticate to", 1, 10000),
		      "kgate did not log its failed sign-in");
	ck_assert_msg(log_has_auth_error(&kg, &f, msg),
		      "kgate's log lacks \"cannot authenticate to <front>: ...%s\"", msg);
	ck_assert_msg(metric("kgate_upstream_auth_failures_total") >= 1,
		      "kgate_upstream_auth_failures_total did not move");
	ck_assert_msg(metric("kgate_upstream_auths_total") == 0,
		      "kgate_upstream_auths_total %.0f with a wrong secret",
		      metric("kgate_upstream_auths_total"));
	ck_assert_int_eq(kgate_stop(&kg), 0);
	s = front_stop(&f);
	front_assert_clean(s);
	ck_assert_int_eq(front_stat(s, "authenticated", NULL), 0);
	ck_assert_int_ge(front_stat(s, "failures", NULL), 1);
	ck_assert_msg(strstr(front_notes(s, "failure_messages"), "signature mismatch for " KEY_ID),
		      "the fronts refused for another reason: %s",
		      front_notes(s, "failure_messages"));
	json_decref(s);
	mock_stop(&mock);
}
END_TEST

/* ---- c. rotating credentials from the container endpoint ---- */

#define CREDS_EXPIRE_S 8
#define ROTATE_LIFETIME_MS 2000
#define ROTATE_RUN_MS 20000
#define ROTATE_BATCH 100
#define ROTATE_BATCH_MS 100

static pid_t fake_aws_start(int *port)
{
	char script[512], portbuf[16], exp[16], log[512];
	char *argv[] = {"/usr/bin/python3",
			(char *)harness_src_path("test/lib/fake_aws.py", script, sizeof(script)),
			"--port", portbuf, "--expires", exp, "--auth", "Bearer pod-identity-0021",
			NULL};
	pid_t pid;

	*port = harness_free_port();
	snprintf(portbuf, sizeof(portbuf), "%d", *port);
	snprintf(exp, sizeof(exp), "%d", CREDS_EXPIRE_S);
	snprintf(log, sizeof(log), "%s/fake-aws-0021-%d.log", harness_tmp_root(), *port);
	pid = harness_spawn(argv, log);
	harness_wait_port(*port);
	return pid;
}

/* The issue number of a fake_aws key id (ASIA000000002001 -> 2001). */
static long key_number(const char *key)
{
	return key && strlen(key) == 16 && strncmp(key, "ASIA", 4) == 0 ? atol(key + 4) : -1;
}

START_TEST(test_rotation)
{
	const char *mech = runs[_i].mech;
	struct front_opts o = {.mechanism = mech, .fake_aws = 1,
			       .lifetime_ms = ROTATE_LIFETIME_MS};
	struct mock mock;
	struct front f;
	struct kgate kg;
	struct group_member members[2];
	struct ledger ledger;
	struct broker_view pview;
	struct client_view before;
	struct delivery d;
	rd_kafka_t *producer;
	int64_t next, sent = 0, deadline;
	double reauths, refreshes;
	json_t *s, *entry, *keys, *v;
	const char *k;
	size_t i, j;
	long first_key = 0, newest_reauth = 0, moved = 0;
	char url[128];
	int fake_port;
	pid_t fake;

	env_clean();
	fake = fake_aws_start(&fake_port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/container/creds", fake_port);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer pod-identity-0021", 1);
	mock_with_topic(&mock);
	front_start(&f, &mock, &o);
	kgate_start_iam(&kg, &f, mech, 0);
	ck_assert(kgate_log_contains(&kg, "AWS credentials from container (access key ASIA"));

	ledger_init(&ledger, ROTATE_RUN_MS / ROTATE_BATCH_MS * ROTATE_BATCH);
	group_member_start(&members[0], kg.bootstrap, "kgate-0021", TOPIC, &ledger);
	group_member_start(&members[1], kg.bootstrap, "kgate-0021", TOPIC, &ledger);
	group_wait_settled(members, 2, PARTITIONS, 60);
	view_init(&pview);
	producer = producer_new(kg.bootstrap, &pview, &d);
	produce_ids(producer, TOPIC, 0, ROTATE_BATCH);
	sent = ROTATE_BATCH;
	wait_deliveries(producer, &d, sent, 30);
	view_refresh(producer, &pview);
	view_last(&pview, &before);

	/* A steady trickle across several credential lifetimes and many
	 * session lifetimes. */
	next = harness_now_ms();
	while (sent < ledger.n) {
		if (harness_now_ms() >= next) {
			produce_ids(producer, TOPIC, sent, sent + ROTATE_BATCH);
			sent += ROTATE_BATCH;
			next += ROTATE_BATCH_MS;
		}
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
	view_refresh(producer, &pview);
	view_assert_no_reconnect(&pview, &before, &kg);

	sleep_ms(300);
	s = front_stats(&f);
	reauths = metric("kgate_upstream_reauths_total");
	refreshes = metric("kgate_aws_credentials_refreshes_total");
	fprintf(stderr,
		"0021 rotation %s: %lld messages, %lld re-authentications at the fronts, "
		"kgate_upstream_reauths_total %.0f, kgate_aws_credentials_refreshes_total %.0f, "
		"%lld connections\n",
		mech, (long long)sent, front_stat(s, "reauthentications", NULL), reauths, refreshes,
		front_stat(s, "connections", NULL));
	ck_assert_int_ge(front_stat(s, "reauthentications", NULL), 5);
	ck_assert_msg(reauths >= 5, "kgate_upstream_reauths_total %.0f", reauths);
	ck_assert_msg(refreshes >= 2, "kgate_aws_credentials_refreshes_total %.0f", refreshes);
	ck_assert_msg(metric("kgate_aws_credentials_failures_total") == 0,
		      "kgate_aws_credentials_failures_total moved");
	ck_assert_msg(metric("kgate_upstream_auth_failures_total") == 0,
		      "kgate_upstream_auth_failures_total moved");
	json_decref(s);

	group_member_stop(&members[0]);
	group_member_stop(&members[1]);
	ledger_assert_exactly_once(&ledger);
	rd_kafka_destroy(producer);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "protocol_errors=0"));
	ck_assert(!kgate_log_contains(&kg, "SECRETcontainer"));
	s = front_stop(&f);
	harness_kill(fake);
	assert_front_all_signed_in(s, mech);
	ck_assert_int_eq(front_stat(s, "reauth", mech), front_stat(s, "reauthentications", NULL));
	/* The keys: only fake_aws's container keys; each connection's in the
	 * order they were issued (kgate never goes back to older ones); and
	 * connections that lived across a refresh moved to a newer one. */
	json_object_foreach(json_object_get(s, "access_keys"), k, v)
	{
		long n = key_number(k);

		ck_assert_msg(n > 2000 && n < 3000, "signed in with %s", k);
		first_key = first_key == 0 || n < first_key ? n : first_key;
	}
	json_object_foreach(json_object_get(s, "reauth_access_keys"), k, v)
	{
		long n = key_number(k);

		ck_assert_msg(n > 2000 && n < 3000, "re-authenticated with %s", k);
		newest_reauth = n > newest_reauth ? n : newest_reauth;
	}
	ck_assert_msg(newest_reauth > first_key,
		      "re-authentications never used a key newer than the first (%ld)", first_key);
	json_array_foreach(json_object_get(s, "connection_log"), i, entry)
	{
		long prev = 0;

		keys = json_object_get(entry, "access_keys");
		json_array_foreach(keys, j, v)
		{
			long n = key_number(json_string_value(v));

			ck_assert_msg(n >= prev, "connection %lld went back from key %ld to %ld",
				      (long long)json_integer_value(json_object_get(entry, "id")),
				      prev, n);
			prev = n;
		}
		if (json_array_size(keys) > 1 &&
		    key_number(json_string_value(json_array_get(keys, 0))) < prev)
			moved++;
	}
	ck_assert_msg(moved > 0, "no connection moved to newer credentials");
	json_decref(s);
	ledger_free(&ledger);
	mock_stop(&mock);
}
END_TEST

/* ---- d. no credentials ---- */

START_TEST(test_no_credentials)
{
	const char *mech = runs[_i].mech;
	struct front_opts o = {.mechanism = mech, .secret = SECRET};
	struct mock mock;
	struct front f;
	struct kgate kg;
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	char errstr[256];
	rd_kafka_resp_err_t err;
	json_t *s, *entry, *v;
	size_t i, j;

	env_clean();
	mock_with_topic(&mock);
	front_start(&f, &mock, &o);
	kgate_start_iam(&kg, &f, mech, 0);
	ck_assert_msg(kgate_wait_log(&kg, "no AWS credentials: environment: not set; profile: ",
				     1, 10000),
		      "kgate did not say why it has no credentials");
	ck_assert(kgate_log_contains(&kg, "imds: disabled"));
	ck_assert_msg(metric("kgate_aws_credentials_available") == 0,
		      "kgate_aws_credentials_available is not 0");

	conf = client_conf(kg.bootstrap, NULL);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	ck_assert_msg(rk != NULL, "%s", errstr);
	err = rd_kafka_metadata(rk, 1, NULL, &md, 5000);
	ck_assert_msg(err != RD_KAFKA_RESP_ERR_NO_ERROR,
		      "Metadata through kgate worked without credentials");
	rd_kafka_destroy(rk);

	/* Why the sign-in could not be made, per connection. */
	ck_assert_msg(kgate_wait_log(&kg, "cannot authenticate to", 1, 10000),
		      "kgate did not log its failed sign-in");
	ck_assert_msg(log_has_auth_error(&kg, &f, "no AWS credentials"),
		      "kgate's log lacks \"cannot authenticate to <front>: ...no AWS "
		      "credentials...\"");
	ck_assert_msg(metric("kgate_upstream_auth_failures_total") >= 1,
		      "kgate_upstream_auth_failures_total did not move");
	ck_assert_msg(metric("kgate_upstream_auths_total") == 0, "kgate_upstream_auths_total moved");
	ck_assert_int_eq(kgate_stop(&kg), 0);
	s = front_stop(&f);
	front_assert_clean(s);
	ck_assert_int_eq(front_stat(s, "authenticated", NULL), 0);
	/* With nothing to sign with kgate does not dial at all, neither for a
	 * client nor for its own Metadata: no connection, so no token. */
	ck_assert_int_eq(front_stat(s, "connections", NULL), 0);
	ck_assert_int_eq(front_stat(s, "failures", NULL), 0);
	json_array_foreach(json_object_get(s, "connection_log"), i, entry)
		json_array_foreach(json_object_get(entry, "pre_auth"), j, v)
			ck_assert_msg(strncmp(json_string_value(v), "36v", 3) != 0,
				      "kgate sent a SaslAuthenticate without credentials");
	json_decref(s);
	mock_stop(&mock);
}
END_TEST

TCase *tcase_0021_upstream_iam(void)
{
	TCase *tc = tcase_create("0021 upstream iam");

	tcase_add_loop_test(tc, test_environment_credentials, 0, 3);
	tcase_add_loop_test(tc, test_wrong_secret, 0, 4);
	tcase_add_loop_test(tc, test_rotation, 0, 2);
	tcase_add_loop_test(tc, test_no_credentials, 0, 2);
	tcase_set_timeout(tc, 300);
	return tc;
}
