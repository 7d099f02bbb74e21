/* test_hostile.c — what kgate does with names and limits a peer or an
 * operator gets wrong: upstream_allow, private keys others can read,
 * names longer than DNS allows, TLS names OpenSSL refuses, and dials that
 * fail for want of kgate's own descriptors (which must not count against
 * the upstream). */
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../config/config.h"
#include "../../config/tls.h"
#include "../../gateway/cluster.h"
#include "../../gateway/dial.h"
#include "../../gateway/tls.h"
#include "tests.h"

static int load(const char *json, struct cfg *cfg, struct cfg_errors *errs)
{
	memset(errs, 0, sizeof(*errs));
	return cfg_load_string(json, cfg, errs);
}

#define MINIMAL(extra)                                                                        \
	"{\"bootstrap\":{\"listen\":\"127.0.0.1:9094\",\"upstream\":[\"b:1\"]},"               \
	"\"brokers\":[{\"id\":1,\"listen\":\"127.0.0.1:8443\",\"advertise\":\"h:1\"}]" extra "}"

START_TEST(test_upstream_allow)
{
	struct cfg cfg;
	struct cfg_errors errs;

	ck_assert_int_eq(load(MINIMAL(",\"upstream_allow\":[\"10.0.0.0/8\",\"fd00::/8\","
				      "\"192.168.1.7\",\".msk.internal\",\"exact.example\"]"),
			      &cfg, &errs),
			 0);
	ck_assert(cfg_upstream_allowed(&cfg, "10.1.2.3"));
	ck_assert(!cfg_upstream_allowed(&cfg, "11.1.2.3"));
	ck_assert(cfg_upstream_allowed(&cfg, "fd00::7"));
	ck_assert(!cfg_upstream_allowed(&cfg, "fe80::1"));
	ck_assert(cfg_upstream_allowed(&cfg, "192.168.1.7"));
	ck_assert(!cfg_upstream_allowed(&cfg, "192.168.1.8"));
	ck_assert(cfg_upstream_allowed(&cfg, "b-1.MSK.internal"));
	ck_assert(!cfg_upstream_allowed(&cfg, "msk.internal"));
	ck_assert(!cfg_upstream_allowed(&cfg, "b-1.msk.internal.attacker.example"));
	ck_assert(!cfg_upstream_allowed(&cfg, "evilmsk.internal"));
	ck_assert(cfg_upstream_allowed(&cfg, "exact.example"));
	ck_assert(!cfg_upstream_allowed(&cfg, "b.exact.example"));
	/* A name is never resolved: an address-looking name is still a name. */
	ck_assert(!cfg_upstream_allowed(&cfg, "10.0.0.1.nip.io"));
	cfg_free(&cfg);
	/* Absent or empty: anything goes, as before. */
	ck_assert_int_eq(load(MINIMAL(""), &cfg, &errs), 0);
	ck_assert(cfg_upstream_allowed(&cfg, "anything.example"));
	cfg_free(&cfg);
	/* Wrong entries are named. */
	ck_assert_int_eq(load(MINIMAL(",\"upstream_allow\":[\"10.0.0.0/33\",\"a b\",7,"
				      "\"x/8\"]"),
			      &cfg, &errs),
			 -1);
	ck_assert_uint_eq(errs.n, 4);
	ck_assert_ptr_nonnull(strstr(errs.msgs[0], "upstream_allow[0]: prefix length must be 0 to 32"));
	ck_assert_ptr_nonnull(strstr(errs.msgs[1], "upstream_allow[1]: expected a CIDR"));
	ck_assert_ptr_nonnull(strstr(errs.msgs[2], "upstream_allow[2]: expected an array"));
	ck_assert_ptr_nonnull(strstr(errs.msgs[3], "upstream_allow[3]: a CIDR needs an IP"));
	cfg_errors_free(&errs);
}
END_TEST

/* A learned address outside upstream_allow is not learned, and counted. */
START_TEST(test_cluster_keeps_to_upstream_allow)
{
	struct cfg cfg;
	struct cfg_errors errs;
	struct kg_stats stats = {0};
	struct cluster cl;

	ck_assert_int_eq(load(MINIMAL(",\"upstream_allow\":[\".msk.internal\"]"), &cfg, &errs),
			 0);
	cluster_init(&cl, &cfg, &stats);
	cluster_learn(&cl, 1, "b-1.msk.internal", 16, 9094);
	cluster_learn(&cl, 2, "b-2.attacker.example", 20, 9094);
	cluster_learn(&cl, 3, "b\n3", 3, 9094);
	ck_assert_ptr_nonnull(cluster_find(&cl, 1));
	ck_assert_ptr_null(cluster_find(&cl, 2));
	ck_assert_ptr_null(cluster_find(&cl, 3));
	ck_assert_uint_eq(stats.addresses_refused, 2);
	/* Nor can a known node be repointed outside it. */
	cluster_learn(&cl, 1, "evil.example", 12, 9094);
	ck_assert_str_eq(cluster_find(&cl, 1)->host, "b-1.msk.internal");
	cluster_free(&cl);
	cfg_free(&cfg);
}
END_TEST

/* Copies the test PKI's gateway key to a file of the given mode. */
static const char *key_with_mode(mode_t mode)
{
	static char path[256];
	char src[512], buf[8192];
	const char *certs = getenv("KGATE_CERTS");
	FILE *in, *out;
	size_t n;

	ck_assert_msg(certs != NULL, "KGATE_CERTS is not set (make test-unit sets it)");
	snprintf(src, sizeof(src), "%s/gateway.key", certs);
	snprintf(path, sizeof(path), "/tmp/kgate-unit-key-%d.key", (int)getpid());
	in = fopen(src, "r");
	out = fopen(path, "w");
	ck_assert(in && out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
	fclose(in);
	fclose(out);
	ck_assert_int_eq(chmod(path, mode), 0);
	return path;
}

START_TEST(test_private_key_modes)
{
	static const struct {
		mode_t mode;
		const char *warning; /* NULL: none */
	} cases[] = {{0600, NULL},
		     {0640, NULL},
		     {0644, "is readable by others (mode 0644)"},
		     {0620, "is writable by others (mode 0620)"}};
	const char *certs = getenv("KGATE_CERTS");
	char json[2048];

	ck_assert_msg(certs != NULL, "KGATE_CERTS is not set (make test-unit sets it)");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *key = key_with_mode(cases[i].mode);
		struct cfg cfg;
		struct cfg_errors errs;

		snprintf(json, sizeof(json),
			 MINIMAL(",\"tls\":{\"listen\":{\"cert\":\"%s/gateway.pem\",\"key\":\"%s\"}}"),
			 certs, key);
		ck_assert_int_eq(load(json, &cfg, &errs), 0);
		if (!cases[i].warning) {
			ck_assert_uint_eq(cfg.warnings.n, 0);
		} else {
			ck_assert_uint_eq(cfg.warnings.n, 1);
			ck_assert_ptr_nonnull(strstr(cfg.warnings.msgs[0], "tls.listen.key: "));
			ck_assert_ptr_nonnull(strstr(cfg.warnings.msgs[0], cases[i].warning));
		}
		cfg_free(&cfg);
		unlink(key);
	}
}
END_TEST

/* server_name is sent as SNI and verified: it must be a whole name. */
START_TEST(test_server_name_must_be_a_name)
{
	struct cfg cfg;
	struct cfg_errors errs;

	ck_assert_int_eq(load(MINIMAL(",\"tls\":{\"upstream\":{\"server_name\":\"a b\"}}"), &cfg,
			      &errs),
			 -1);
	ck_assert_ptr_nonnull(strstr(errs.msgs[0], "tls.upstream.server_name: \"a b\" is not a "
						   "host name"));
	cfg_errors_free(&errs);
}
END_TEST

/* tls_connect checks that OpenSSL took the name it must send and verify:
 * one it refuses (SNI is at most 255 bytes) is no connection, not a
 * connection verifying nothing. */
START_TEST(test_tls_connect_refuses_an_unset_name)
{
	struct cfg_tls_client t = {.set = CFG_TLS_ON, .verify = 1};
	struct event_base *base = event_base_new();
	char err[256], name[300];
	SSL_CTX *ctx = cfg_tls_client_ctx(&t, err, sizeof(err));
	struct bufferevent *bev;
	int fds[2];

	ck_assert_ptr_nonnull(base);
	ck_assert_msg(ctx != NULL, "%s", err);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ck_assert_ptr_null(tls_connect(base, fds[0], ctx, name));
	bev = tls_connect(base, fds[0], ctx, "b-1.msk.internal");
	ck_assert_ptr_nonnull(bev);
	bufferevent_free(bev); /* closes fds[0] */
	close(fds[1]);
	SSL_CTX_free(ctx);
	event_base_free(base);
}
END_TEST

/* What a dial reported. */
struct dialed {
	int done, local;
	char why[512];
};

static void on_dialed(void *ctx, struct bufferevent *bev, const char *why, int local)
{
	struct dialed *d = ctx;

	d->done = 1;
	d->local = local;
	snprintf(d->why, sizeof(d->why), "%s", why ? why : "connected");
	if (bev)
		bufferevent_free(bev);
}

static void dial_and_wait(const char *host, uint16_t port, struct dialed *out)
{
	struct event_base *base = event_base_new();
	struct dial_env env = {base, evdns_base_new(base, 0), 2000};
	struct dialer *d;

	memset(out, 0, sizeof(*out));
	ck_assert_ptr_nonnull(env.dns);
	d = dial_start(&env, host, port, NULL, NULL, on_dialed, out);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(out->done, 0); /* never from inside dial_start */
	while (!out->done)
		event_base_loop(base, EVLOOP_ONCE);
	evdns_base_free(env.dns, 0);
	event_base_free(base);
}

/* A name longer than DNS allows is refused whole, never cut short and
 * dialled as another. */
START_TEST(test_dial_refuses_overlong_names)
{
	char name[CFG_HOST_MAX + 40];
	struct dialed r;

	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	dial_and_wait(name, 9092, &r);
	ck_assert_ptr_nonnull(strstr(r.why, "longer than DNS allows (253)"));
	ck_assert_int_eq(r.local, 0);
}
END_TEST

/* Out of descriptors is kgate's own shortage: reported as local, so the
 * caller does not forget what it learned about the upstream. */
START_TEST(test_dial_out_of_descriptors_is_local)
{
	struct rlimit old, low;
	struct dialed r;
	int probe;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	/* The event loop and its resolver need descriptors first: make them,
	 * then take every one left before dialling. */
	{
		struct event_base *base = event_base_new();
		struct dial_env env = {base, evdns_base_new(base, 0), 2000};
		struct dialer *d;
		int spare[64], n = 0;

		ck_assert_ptr_nonnull(env.dns);
		probe = dup(0);
		ck_assert_int_ge(probe, 0);
		low = old;
		low.rlim_cur = (rlim_t)probe + 1;
		close(probe);
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
		while (n < 64 && (spare[n] = dup(0)) >= 0)
			n++;
		memset(&r, 0, sizeof(r));
		d = dial_start(&env, "127.0.0.1", 9, NULL, NULL, on_dialed, &r);
		ck_assert_ptr_nonnull(d);
		while (!r.done)
			event_base_loop(base, EVLOOP_ONCE);
		while (n > 0)
			close(spare[--n]);
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
		evdns_base_free(env.dns, 0);
		event_base_free(base);
	}
	ck_assert_ptr_nonnull(strstr(r.why, "socket: Too many open files"));
	ck_assert_int_eq(r.local, 1);
	/* With descriptors, the same dial fails for the upstream's reasons. */
	dial_and_wait("127.0.0.1", 9, &r);
	ck_assert_int_eq(r.local, 0);
}
END_TEST

Suite *suite_hostile(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc = tcase_create("names and limits");

	tcase_add_test(tc, test_upstream_allow);
	tcase_add_test(tc, test_cluster_keeps_to_upstream_allow);
	tcase_add_test(tc, test_private_key_modes);
	tcase_add_test(tc, test_server_name_must_be_a_name);
	tcase_add_test(tc, test_tls_connect_refuses_an_unset_name);
	tcase_add_test(tc, test_dial_refuses_overlong_names);
	tcase_add_test(tc, test_dial_out_of_descriptors_is_local);
	suite_add_tcase(s, tc);
	return s;
}
