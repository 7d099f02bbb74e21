/* 0018_aws_credentials.c — the AWS credential chain (MSK IAM): each
 * provider through `kgate aws-credentials` against test/lib/fake_aws.py,
 * the order between them, the reasons when none answers, and the refresh
 * thread (called here, in the test process) replacing credentials before
 * they expire. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../gateway/aws_creds.h"
#include "../lib/harness.h"
#include "itests.h"

static char out[16384];

struct fake {
	pid_t pid;
	int port;
};

static const char *tmp_dir(void)
{
	const char *t = getenv("KGATE_TEST_TMP");

	return t ? t : "/tmp";
}

/* fake_aws.py on a free port; tls: the certificate it serves (a name in
 * the test PKI) or NULL for plain http. */
static void fake_start(struct fake *f, int expires, const char *tls)
{
	char script[512], port[16], exp[16], log[512], cert[512], key[512];
	char *argv[16] = {"/usr/bin/python3", (char *)harness_src_path("test/lib/fake_aws.py",
								      script, sizeof(script)),
			  "--port", port, "--expires", exp, "--auth", "Bearer pod-identity",
			  "--web-token", "jwt-for-kgate", NULL};

	f->port = harness_free_port();
	snprintf(port, sizeof(port), "%d", f->port);
	snprintf(exp, sizeof(exp), "%d", expires);
	if (tls) {
		snprintf(cert, sizeof(cert), "%s.pem", tls);
		snprintf(key, sizeof(key), "%s.key", tls);
		snprintf(cert, sizeof(cert), "%s", cert_path(0, cert));
		snprintf(key, sizeof(key), "%s", cert_path(1, key));
		argv[10] = "--tls";
		argv[11] = cert;
		argv[12] = key;
		argv[13] = NULL;
	}
	snprintf(log, sizeof(log), "%s/fake-aws-%d-%d.log", tmp_dir(), (int)getpid(), f->port);
	f->pid = harness_spawn(argv, log);
	harness_wait_port(f->port);
}

static void fake_stop(struct fake *f)
{
	harness_kill(f->pid);
	f->pid = 0;
}

/* A counter from the fake's /stats. */
static int fake_count(const struct fake *f, const char *name)
{
	char *body = NULL, key[64], *p;
	int n = -1;

	ck_assert_int_eq(http_get(f->port, "/stats", &body), 200);
	snprintf(key, sizeof(key), "\"%s\": ", name);
	p = strstr(body, key);
	if (p)
		n = atoi(p + strlen(key));
	free(body);
	return n;
}

static const char *write_file(const char *name, const char *text)
{
	static char path[4][512];
	static int slot;
	char *p = path[slot++ % 4];
	FILE *f;

	snprintf(p, 512, "%s/aws-%d/%s", tmp_dir(), (int)getpid(), name);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return p;
}

/* No AWS_* variable, HOME an empty directory of this test's, IMDS off:
 * each test then turns on only what it tests. */
static void env_clean(void)
{
	static const char *const vars[] = {
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "SSL_CERT_FILE", "SSL_CERT_DIR"};
	char home[512];

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	snprintf(home, sizeof(home), "%s/aws-%d", tmp_dir(), (int)getpid());
	mkdir(home, 0700);
	setenv("HOME", home, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

static void set_url(const char *var, const struct fake *f, const char *scheme, const char *path)
{
	char url[256];

	snprintf(url, sizeof(url), "%s://%s:%d%s", scheme,
		 strcmp(scheme, "https") == 0 ? "localhost" : "127.0.0.1", f->port, path);
	setenv(var, url, 1);
}

static int kgate_creds(void)
{
	char *argv[] = {getenv("KGATE_BIN"), "aws-credentials", NULL};

	ck_assert_ptr_nonnull(argv[0]);
	return harness_run(argv, out, sizeof(out));
}

#define HAS(s) ck_assert_msg(strstr(out, (s)) != NULL, "expected \"%s\" in:\n%s", (s), out)
#define LACKS(s) ck_assert_msg(strstr(out, (s)) == NULL, "did not expect \"%s\" in:\n%s", (s), out)

START_TEST(test_environment_and_profiles)
{
	env_clean();
	setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT1234", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-secret-do-not-print", 1);
	ck_assert_int_eq(kgate_creds(), 0);
	HAS("provider: environment");
	HAS("access key: AKIA\u20261234");
	HAS("expires: never");
	LACKS("env-secret");
	LACKS("AKIAENVIRONMENT1234");

	/* The profile: the credentials file, the config file's "[profile x]",
	 * and the credentials file winning where both name one. */
	unsetenv("AWS_ACCESS_KEY_ID");
	write_file("credentials", "# comment\n[default]\naws_access_key_id = AKIADEFAULTPROF0001\n"
				  "aws_secret_access_key = s1\n\n[prod]\n"
				  "aws_access_key_id=AKIAPRODUCTION00002\n"
				  "aws_secret_access_key=prod-secret\naws_session_token = tok\n");
	write_file("config", "[default]\nregion = eu-west-1\n[profile cfg]\n"
			     "aws_access_key_id = AKIACONFIGFILE00003\naws_secret_access_key = s3\n"
			     "[profile prod]\naws_access_key_id = AKIANOTTHISONE00009\n"
			     "[profile sso]\nsso_start_url = https://example.awsapps.com/start\n"
			     "[profile bare]\nregion = us-east-1\n");
	{
		char p[512];

		snprintf(p, sizeof(p), "%s/aws-%d/config", tmp_dir(), (int)getpid());
		setenv("AWS_CONFIG_FILE", p, 1);
		snprintf(p, sizeof(p), "%s/aws-%d/credentials", tmp_dir(), (int)getpid());
		setenv("AWS_SHARED_CREDENTIALS_FILE", p, 1);
	}
	ck_assert_int_eq(kgate_creds(), 0);
	HAS("provider: profile");
	HAS("AKIA\u20260001");
	setenv("AWS_PROFILE", "prod", 1);
	ck_assert_int_eq(kgate_creds(), 0);
	HAS("AKIA\u20260002");
	HAS("session token: yes");
	LACKS("prod-secret");
	setenv("AWS_PROFILE", "cfg", 1);
	ck_assert_int_eq(kgate_creds(), 0);
	HAS("AKIA\u20260003");
	setenv("AWS_PROFILE", "sso", 1);
	ck_assert_int_eq(kgate_creds(), 1);
	HAS("profile: profile \"sso\" uses sso_start_url; kgate reads only static keys");
	setenv("AWS_PROFILE", "bare", 1);
	ck_assert_int_eq(kgate_creds(), 1);
	HAS("profile \"bare\" has no aws_access_key_id");
	setenv("AWS_PROFILE", "missing", 1);
	ck_assert_int_eq(kgate_creds(), 1);
	HAS("no profile \"missing\" in");

	/* The environment wins over a profile. */
	setenv("AWS_PROFILE", "prod", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT1234", 1);
	ck_assert_int_eq(kgate_creds(), 0);
	HAS("provider: environment");
}
END_TEST

START_TEST(test_web_identity)
{
	struct fake f, tls, wrong;

	env_clean();
	fake_start(&f, 3600, NULL);
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", write_file("token", "jwt-for-kgate\n"), 1);
	setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/kgate", 1);
	set_url("AWS_ENDPOINT_URL_STS", &f, "http", "/");
	ck_assert_int_eq(kgate_creds(), 0);
	HAS("provider: web identity");
	HAS("access key: ASIA\u20261001");
	HAS("session token: yes");
	HAS("(in 3");
	LACKS("SECRET");
	ck_assert_int_eq(fake_count(&f, "sts"), 1);

	/* AWS_ENDPOINT_URL serves when the STS one is not set. */
	unsetenv("AWS_ENDPOINT_URL_STS");
	set_url("AWS_ENDPOINT_URL", &f, "http", "");
	ck_assert_int_eq(kgate_creds(), 0);
	HAS("access key: ASIA\u20261002");

	/* STS refusing the token: its error code and message. */
	write_file("token", "some-other-jwt\n");
	ck_assert_int_eq(kgate_creds(), 1);
	HAS("web identity: STS http://127.0.0.1:");
	HAS("HTTP 400 InvalidIdentityToken: Couldn't verify the token");
	write_file("token", "jwt-for-kgate\n");
	unsetenv("AWS_ROLE_ARN");
	ck_assert_int_eq(kgate_creds(), 1);
	HAS("web identity: AWS_WEB_IDENTITY_TOKEN_FILE set but not AWS_ROLE_ARN");
	setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/kgate", 1);

	/* https: the certificate checked against the trust store (here the
	 * test CA, through OpenSSL's SSL_CERT_FILE) and the host name. */
	fake_start(&tls, 3600, "gateway");
	fake_start(&wrong, 3600, "wrong-host");
	unsetenv("AWS_ENDPOINT_URL");
	set_url("AWS_ENDPOINT_URL_STS", &tls, "https", "/");
	ck_assert_int_eq(kgate_creds(), 1);
	HAS("certificate: unable to get local issuer certificate");
	setenv("SSL_CERT_FILE", cert_path(0, "ca.pem"), 1);
	ck_assert_int_eq(kgate_creds(), 0);
	HAS("provider: web identity");
	HAS("access key: ASIA\u20261001");
	set_url("AWS_ENDPOINT_URL_STS", &wrong, "https", "/");
	ck_assert_int_eq(kgate_creds(), 1);
	HAS("certificate: hostname mismatch");
	fake_stop(&wrong);
	fake_stop(&tls);
	fake_stop(&f);
}
END_TEST

START_TEST(test_container)
{
	struct fake f;

	env_clean();
	fake_start(&f, 3600, NULL);
	set_url("AWS_CONTAINER_CREDENTIALS_FULL_URI", &f, "http", "/container/creds");
	ck_assert_int_eq(kgate_creds(), 1); /* no Authorization header */
	HAS("container: http://127.0.0.1:");
	HAS("HTTP 401");
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer pod-identity", 1);
	ck_assert_int_eq(kgate_creds(), 0);
	HAS("provider: container");
	HAS("access key: ASIA\u20262001");
	/* The token file (EKS Pod Identity) wins over the variable. */
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	       write_file("pod-token", "Bearer wrong-one\n"), 1);
	ck_assert_int_eq(kgate_creds(), 1);
	HAS("HTTP 401");
	write_file("pod-token", "Bearer pod-identity\n");
	ck_assert_int_eq(kgate_creds(), 0);
	HAS("access key: ASIA\u20262002");
	/* A chunked answer (HTTP/1.1 servers may send one). */
	set_url("AWS_CONTAINER_CREDENTIALS_FULL_URI", &f, "http", "/container/chunked");
	ck_assert_int_eq(kgate_creds(), 0);
	HAS("access key: ASIA\u20262003");
	ck_assert_int_eq(fake_count(&f, "container"), 3);
	/* Plain http only to loopback or the ECS/EKS agents. */
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://192.0.2.1/creds", 1);
	ck_assert_int_eq(kgate_creds(), 1);
	HAS("plain http only to loopback");
	fake_stop(&f);
}
END_TEST

START_TEST(test_imds)
{
	struct fake f;
	char ep[64];

	env_clean();
	fake_start(&f, 3600, NULL);
	/* The fake refuses IMDSv1 (no token): kgate must use v2. */
	ck_assert_int_eq(http_get(f.port, "/latest/meta-data/iam/security-credentials/", NULL),
			 401);
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d/", f.port);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", ep, 1);
	ck_assert_int_eq(kgate_creds(), 1);
	HAS("imds: disabled (AWS_EC2_METADATA_DISABLED)");
	unsetenv("AWS_EC2_METADATA_DISABLED");
	ck_assert_int_eq(kgate_creds(), 0);
	HAS("provider: imds");
	HAS("access key: ASIA\u20263001");
	ck_assert_int_eq(fake_count(&f, "token"), 1);
	ck_assert_int_eq(fake_count(&f, "role"), 1);
	ck_assert_int_eq(fake_count(&f, "imds"), 1);
	fake_stop(&f);
}
END_TEST

/* Everything set at once, then taken away one by one from the top. */
START_TEST(test_order)
{
	struct fake f;
	char ep[64];

	env_clean();
	fake_start(&f, 3600, NULL);
	setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT1234", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE",
	       write_file("credentials", "[default]\naws_access_key_id = AKIADEFAULTPROF0001\n"
					 "aws_secret_access_key = s1\n"),
	       1);
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", write_file("token", "jwt-for-kgate\n"), 1);
	setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/kgate", 1);
	set_url("AWS_ENDPOINT_URL_STS", &f, "http", "/");
	set_url("AWS_CONTAINER_CREDENTIALS_FULL_URI", &f, "http", "/container/creds");
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer pod-identity", 1);
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", f.port);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", ep, 1);
	unsetenv("AWS_EC2_METADATA_DISABLED");

	ck_assert_int_eq(kgate_creds(), 0);
	HAS("provider: environment");
	unsetenv("AWS_ACCESS_KEY_ID");
	ck_assert_int_eq(kgate_creds(), 0);
	HAS("provider: profile");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	ck_assert_int_eq(kgate_creds(), 0);
	HAS("provider: web identity");
	unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
	ck_assert_int_eq(kgate_creds(), 0);
	HAS("provider: container");
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	ck_assert_int_eq(kgate_creds(), 0);
	HAS("provider: imds");
	/* Only the first provider that answered was asked. */
	ck_assert_int_eq(fake_count(&f, "sts"), 1);
	ck_assert_int_eq(fake_count(&f, "container"), 1);
	ck_assert_int_eq(fake_count(&f, "imds"), 1);
	fake_stop(&f);
}
END_TEST

START_TEST(test_none)
{
	char ep[64];

	env_clean();
	ck_assert_int_eq(kgate_creds(), 1);
	HAS("no AWS credentials: environment: not set; profile: not set (no ");
	HAS("; web identity: not set; container: not set; "
	    "imds: disabled (AWS_EC2_METADATA_DISABLED)");
	/* IMDS unreachable: fast (connection refused), and said so. */
	unsetenv("AWS_EC2_METADATA_DISABLED");
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", harness_free_port());
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", ep, 1);
	ck_assert_int_eq(kgate_creds(), 1);
	HAS("imds: http://127.0.0.1:");
	HAS("/latest/api/token: cannot connect");
	/* Usage errors are not "no credentials". */
	{
		char *argv[] = {getenv("KGATE_BIN"), "aws-credentials", "--bogus", NULL};

		ck_assert_int_eq(harness_run(argv, out, sizeof(out)), 2);
	}
}
END_TEST

/* Polls (a failsafe bound, not a timing assertion) until cond holds. */
#define WAIT_FOR(cond, bound_ms)                                                              \
	do {                                                                                  \
		int64_t until_ = harness_now_ms() + (bound_ms);                               \
		while (!(cond) && harness_now_ms() < until_)                                  \
			usleep(50 * 1000);                                                    \
	} while (0)

START_TEST(test_refresh_thread)
{
	struct aws_creds_stats st;
	struct aws_creds *c1 = malloc(sizeof(*c1)), *c2 = malloc(sizeof(*c2));
	struct fake f;
	char ep[64], why[4096], log[512], *text;
	int64_t t0;
	FILE *lf;
	long n;

	ck_assert_ptr_nonnull(c1);
	ck_assert_ptr_nonnull(c2);
	env_clean();
	/* The thread's log lines, to check them (this test's own process). */
	snprintf(log, sizeof(log), "%s/aws-%d/log", tmp_dir(), (int)getpid());
	ck_assert_ptr_nonnull(freopen(log, "w", stderr));
	setvbuf(stderr, NULL, _IONBF, 0);

	ck_assert_int_eq(aws_creds_get(c1, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "not started"));
	/* 15 s credentials: refreshed at 80% of that, about 3 s early. */
	fake_start(&f, 15, NULL);
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", f.port);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", ep, 1);
	unsetenv("AWS_EC2_METADATA_DISABLED");
	ck_assert_int_eq(aws_creds_start("eu-west-1"), 0);
	ck_assert_int_eq(aws_creds_start("eu-west-1"), -1); /* one thread */
	ck_assert_int_eq(aws_creds_wait(30000), 0);
	ck_assert_int_eq(aws_creds_get(c1, why, sizeof(why)), 0);
	ck_assert_str_eq(c1->provider, "imds");
	ck_assert_str_eq(c1->access_key, "ASIA000000003001");
	ck_assert_str_eq(c1->secret_key, "SECRETimds3001");
	ck_assert_str_eq(c1->session_token, "TOKENimds3001");
	ck_assert_int_gt(c1->expires, (int64_t)time(NULL));
	aws_creds_stats(&st);
	ck_assert_uint_eq(st.refreshes, 1);
	ck_assert_int_eq(st.have, 1);
	ck_assert_str_eq(st.provider, "imds");
	ck_assert_int_eq(st.expiry, c1->expires);

	/* New keys before the old ones expire, without anyone asking. */
	WAIT_FOR(aws_creds_get(c2, why, sizeof(why)) == 0 &&
			 strcmp(c2->access_key, c1->access_key) != 0,
		 60000);
	ck_assert_str_eq(c2->access_key, "ASIA000000003002");
	ck_assert_int_gt(c2->expires, c1->expires - 1);
	aws_creds_stats(&st);
	ck_assert_uint_eq(st.refreshes, 2);
	ck_assert_uint_eq(st.expires, 0); /* the old ones were replaced, not let lapse */
	ck_assert_uint_eq(st.failures, 0);

	/* The endpoint gone: failures counted, the current keys kept until
	 * they expire, then none (and the expiry counted). */
	fake_stop(&f);
	WAIT_FOR((aws_creds_stats(&st), st.failures > 0), 60000);
	ck_assert_uint_gt(st.failures, 0);
	if ((int64_t)time(NULL) < c2->expires - 1) {
		ck_assert_int_eq(aws_creds_get(c1, why, sizeof(why)), 0);
		ck_assert_str_eq(c1->access_key, "ASIA000000003002");
	}
	WAIT_FOR((aws_creds_stats(&st), st.expires > 0), 60000);
	ck_assert_uint_eq(st.expires, 1);
	ck_assert_int_eq(st.have, 0);
	ck_assert_int_eq(aws_creds_get(c1, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "expired at") != NULL, "%s", why);

	/* Stop is prompt even in the middle of a back-off wait. */
	t0 = harness_now_ms();
	aws_creds_stop();
	ck_assert_int_lt(harness_now_ms() - t0, 10000);
	ck_assert_int_eq(aws_creds_get(c1, why, sizeof(why)), -1);

	/* The log: the provider and the masked key, never a secret. */
	lf = fopen(log, "r");
	ck_assert_ptr_nonnull(lf);
	text = calloc(1, 1 << 20);
	ck_assert_ptr_nonnull(text);
	n = (long)fread(text, 1, (1 << 20) - 1, lf);
	fclose(lf);
	ck_assert_int_gt(n, 0);
	ck_assert_ptr_nonnull(strstr(text, "AWS credentials from imds (access key ASIA\u20263001, "
					   "expire 20"));
	ck_assert_ptr_nonnull(strstr(text, "AWS credentials from imds (access key ASIA\u20263002"));
	ck_assert_ptr_nonnull(strstr(text, "cannot refresh the AWS credentials from imds"));
	ck_assert_ptr_nonnull(strstr(text, "expired at"));
	ck_assert_ptr_null(strstr(text, "SECRET"));
	ck_assert_ptr_null(strstr(text, "TOKENimds"));
	ck_assert_ptr_null(strstr(text, "ASIA000000003001"));
	free(text);
	free(c1);
	free(c2);
}
END_TEST

/* The thread with long-term keys (no refresh, stop wakes it) and with
 * none (back-off, and the reasons through aws_creds_get). */
START_TEST(test_thread_static_and_none)
{
	struct aws_creds_stats st;
	struct aws_creds *c = malloc(sizeof(*c));
	char why[4096], log[512], text[8192];
	int64_t t0;
	size_t n;
	FILE *lf;

	ck_assert_ptr_nonnull(c);
	env_clean();
	snprintf(log, sizeof(log), "%s/aws-%d/log", tmp_dir(), (int)getpid());
	ck_assert_ptr_nonnull(freopen(log, "w", stderr));
	setvbuf(stderr, NULL, _IONBF, 0);
	ck_assert_int_eq(aws_creds_wait(100), -1); /* not started */
	setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT1234", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
	ck_assert_int_eq(aws_creds_start(NULL), 0);
	ck_assert_int_eq(aws_creds_wait(30000), 0);
	ck_assert_int_eq(aws_creds_get(c, why, sizeof(why)), 0);
	ck_assert_str_eq(c->provider, "environment");
	ck_assert_str_eq(c->secret_key, "env-secret");
	ck_assert_int_eq(c->expires, 0);
	aws_creds_stats(&st);
	ck_assert_int_eq(st.have, 1);
	ck_assert_int_eq(st.expiry, 0);
	ck_assert_str_eq(st.provider, "environment");
	t0 = harness_now_ms();
	aws_creds_stop();
	ck_assert_int_lt(harness_now_ms() - t0, 5000);

	unsetenv("AWS_ACCESS_KEY_ID");
	ck_assert_int_eq(aws_creds_start(NULL), 0);
	ck_assert_int_eq(aws_creds_wait(30000), -1);
	ck_assert_int_eq(aws_creds_get(c, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "no AWS credentials: environment: not set; profile: ") != NULL,
		      "%s", why);
	ck_assert_msg(strstr(why, "imds: disabled") != NULL, "%s", why);
	aws_creds_stats(&st);
	ck_assert_uint_ge(st.failures, 1);
	ck_assert_int_eq(st.have, 0);
	t0 = harness_now_ms();
	aws_creds_stop();
	ck_assert_int_lt(harness_now_ms() - t0, 5000);
	free(c);

	/* The contract's two lines, each once: the found keys (masked) and the
	 * one error listing every provider. */
	lf = fopen(log, "r");
	ck_assert_ptr_nonnull(lf);
	n = fread(text, 1, sizeof(text) - 1, lf);
	fclose(lf);
	text[n] = '\0';
	ck_assert_msg(strstr(text, "info  AWS credentials from environment (access key "
				   "AKIA\u20261234, expire never)") != NULL,
		      "%s", text);
	ck_assert_msg(strstr(text, "error no AWS credentials: environment: not set; profile: ") !=
			      NULL,
		      "%s", text);
	ck_assert_ptr_null(strstr(text, "env-secret"));
}
END_TEST

TCase *tcase_0018_aws_credentials(void)
{
	TCase *tc = tcase_create("0018 aws credentials");

	tcase_add_test(tc, test_environment_and_profiles);
	tcase_add_test(tc, test_web_identity);
	tcase_add_test(tc, test_container);
	tcase_add_test(tc, test_imds);
	tcase_add_test(tc, test_order);
	tcase_add_test(tc, test_none);
	tcase_add_test(tc, test_thread_static_and_none);
	tcase_add_test(tc, test_refresh_thread);
	tcase_set_timeout(tc, 180);
	return tc;
}
