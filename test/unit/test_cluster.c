/* test_cluster.c — what kgate learns about the cluster, and what it will
 * not: the node table (a hash by id, bounded, forgetting nodes a complete
 * listing lacks), broker-supplied names checked before they are kept, and
 * log lines that nothing a peer sends can forge. */
#include <stdlib.h>
#include <string.h>

#include "../../config/config.h"
#include "../../gateway/cluster.h"
#include "../../gateway/idmap.h"
#include "../../gateway/log.h"
#include "../../protocol/kapi.h"
#include "../../protocol/rewrite.h"
#include "tests.h"

/* The map against a plain array, through random puts and deletes: what is
 * in it, and nothing else, is found whatever the probing did. */
START_TEST(test_idmap_against_a_reference)
{
	enum { KEYS = 5000 };
	static int present[KEYS];
	struct idmap m;
	unsigned seed = 7;
	size_t n = 0;

	memset(present, 0, sizeof(present));
	idmap_init(&m);
	for (int op = 0; op < 200000; op++) {
		/* Keys spread over a wide range, negative ones too. */
		int k = rand_r(&seed) % KEYS;
		int32_t key = (int32_t)((uint32_t)k * 2654435761u);

		if (rand_r(&seed) % 3) {
			ck_assert_int_eq(idmap_put(&m, key, &present[k]), 0);
			n += !present[k];
			present[k] = 1;
		} else {
			void *v = idmap_del(&m, key);

			ck_assert_ptr_eq(v, present[k] ? &present[k] : NULL);
			n -= present[k];
			present[k] = 0;
		}
		ck_assert_uint_eq(m.n, n);
	}
	for (int k = 0; k < KEYS; k++) {
		int32_t key = (int32_t)((uint32_t)k * 2654435761u);

		ck_assert_ptr_eq(idmap_get(&m, key), present[k] ? &present[k] : NULL);
	}
	ck_assert_uint_le(m.n * 2, m.cap);
	idmap_free(&m);
}
END_TEST

static int odd_key(int32_t key, const void *val, void *ctx)
{
	(void)val;
	(void)ctx;
	return key % 2 != 0;
}

static void count_gone(void *val, void *ctx)
{
	++*(int *)val;
	++*(int *)ctx;
}

/* Filtering removes exactly what it is told to, each value handed over
 * once, however the deletions shift the table. */
START_TEST(test_idmap_filter)
{
	enum { KEYS = 3000 };
	static int gone_times[KEYS];
	struct idmap m;
	int gone = 0;

	memset(gone_times, 0, sizeof(gone_times));
	idmap_init(&m);
	for (int k = 0; k < KEYS; k++)
		ck_assert_int_eq(idmap_put(&m, (int32_t)((uint32_t)k * 2654435761u), &gone_times[k]),
				 0);
	ck_assert_int_eq(idmap_filter(&m, odd_key, count_gone, &gone), 0);
	ck_assert_uint_eq(m.n, (size_t)(KEYS - gone));
	for (int k = 0; k < KEYS; k++) {
		int32_t key = (int32_t)((uint32_t)k * 2654435761u);

		ck_assert_int_eq(gone_times[k], key % 2 != 0);
		ck_assert_ptr_eq(idmap_get(&m, key), key % 2 != 0 ? NULL : &gone_times[k]);
	}
	ck_assert_int_gt(gone, 0);
	idmap_free(&m);
}
END_TEST

static struct cfg cfg;
static struct kg_stats stats;

static void load_cfg(const char *limits)
{
	char json[512];
	struct cfg_errors errs;

	snprintf(json, sizeof(json),
		 "{\"bootstrap\": {\"listen\": \"127.0.0.1:9094\", \"upstream\": [\"k:9092\"]},"
		 " \"brokers\": [{\"id\": 1, \"listen\": \"127.0.0.1:8443\","
		 " \"advertise\": \"gw.example:8443\"}]%s%s}",
		 limits ? ", \"limits\": " : "", limits ? limits : "");
	ck_assert_msg(cfg_load_string(json, &cfg, &errs) == 0, "%s", errs.n ? errs.msgs[0] : "");
}

static void learn(struct cluster *cl, int32_t id, const char *host, int32_t port)
{
	cluster_learn(cl, id, host, strlen(host), port);
}

START_TEST(test_cluster_learns_and_forgets)
{
	struct cluster cl;
	const struct cluster_node *n;

	load_cfg(NULL);
	cluster_init(&cl, &cfg, &stats);
	learn(&cl, 1, "b-1.internal", 9092);
	learn(&cl, 2, "b-2.internal", 9092);
	learn(&cl, 7, "b-7.internal", 9092); /* a partial answer's leader */
	n = cluster_find(&cl, 2);
	ck_assert_ptr_nonnull(n);
	ck_assert_str_eq(n->host, "b-2.internal");
	/* Moved. */
	learn(&cl, 2, "10.0.0.2", 9093);
	ck_assert_str_eq(cluster_find(&cl, 2)->host, "10.0.0.2");
	ck_assert_int_eq(cluster_find(&cl, 2)->port, 9093);
	/* A complete listing of 1 and 2: 7 is gone. */
	cluster_listing_begin(&cl);
	learn(&cl, 1, "b-1.internal", 9092);
	learn(&cl, 2, "10.0.0.2", 9093);
	cluster_listing_end(&cl);
	ck_assert_ptr_nonnull(cluster_find(&cl, 1));
	ck_assert_ptr_nonnull(cluster_find(&cl, 2));
	ck_assert_ptr_null(cluster_find(&cl, 7));
	/* A listing begun but never ended (the answer did not decode)
	 * forgets nothing; the next complete one does. */
	cluster_listing_begin(&cl);
	learn(&cl, 1, "b-1.internal", 9092);
	ck_assert_ptr_nonnull(cluster_find(&cl, 2));
	cluster_listing_begin(&cl);
	learn(&cl, 2, "10.0.0.2", 9093);
	cluster_listing_end(&cl);
	ck_assert_ptr_null(cluster_find(&cl, 1));
	/* A listing of none. */
	cluster_listing_begin(&cl);
	cluster_listing_end(&cl);
	ck_assert_ptr_null(cluster_find(&cl, 2));
	ck_assert_uint_eq(cl.nodes.n, 0);
	cluster_free(&cl);
	cfg_free(&cfg);
}
END_TEST

/* A broker's name is dialled, sent as SNI and verified: anything that is
 * not a whole host name or address is not learned. */
START_TEST(test_cluster_refuses_what_is_not_a_host)
{
	static const char *const bad[] = {
		"evil\nFAKE error forged line\x1b[31m", "", "has space.example", "a;b",
		"-leading-dash", ".leading-dot",
	};
	char longest[CFG_HOST_MAX + 2];
	struct cluster cl;

	load_cfg(NULL);
	cluster_init(&cl, &cfg, &stats);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		learn(&cl, 5, bad[i], 9092);
		ck_assert_ptr_null(cluster_find(&cl, 5));
	}
	/* A NUL inside the length the broker gave. */
	cluster_learn(&cl, 5, "b-5\0.attacker", 13, 9092);
	ck_assert_ptr_null(cluster_find(&cl, 5));
	/* Ports out of range. */
	learn(&cl, 5, "b-5.internal", 0);
	learn(&cl, 5, "b-5.internal", 65536);
	ck_assert_ptr_null(cluster_find(&cl, 5));
	/* 253 characters is a DNS name; 254 is not, and is not cut short. */
	memset(longest, 'a', sizeof(longest));
	longest[CFG_HOST_MAX] = '\0';
	learn(&cl, 5, longest, 9092);
	ck_assert_uint_eq(strlen(cluster_find(&cl, 5)->host), CFG_HOST_MAX);
	longest[CFG_HOST_MAX] = 'a';
	longest[CFG_HOST_MAX + 1] = '\0';
	learn(&cl, 6, longest, 9092);
	ck_assert_ptr_null(cluster_find(&cl, 6));
	/* IPv6 literals are addresses too; kgate's own listener is not. */
	learn(&cl, 8, "fd00::8", 9092);
	ck_assert_ptr_nonnull(cluster_find(&cl, 8));
	learn(&cl, 9, "127.0.0.1", 8443);
	ck_assert_ptr_null(cluster_find(&cl, 9));
	cluster_free(&cl);
	cfg_free(&cfg);
}
END_TEST

/* What the cluster table asked to say, in order (cluster.first_to_say). */
static struct { int32_t id; int joined; } said[16];
static int n_said;

static int record_say(void *ctx, int32_t id, int joined)
{
	(void)ctx;
	if (n_said < (int)(sizeof(said) / sizeof(said[0]))) {
		said[n_said].id = id;
		said[n_said].joined = joined;
	}
	n_said++;
	return 1;
}

/* A reload that narrows upstream_allow, or makes a learned address one of
 * kgate's own, forgets what the new configuration would not learn. */
START_TEST(test_cluster_reconfigured)
{
	static const char narrowed[] =
	    "{\"bootstrap\": {\"listen\": \"127.0.0.1:9094\", \"upstream\": [\"k:9092\"]},"
	    " \"brokers\": [{\"id\": 1, \"listen\": \"127.0.0.1:8443\","
	    " \"advertise\": \"b-3.internal:9092\"}],"
	    " \"upstream_allow\": [\".internal\"]}";
	struct cfg_errors errs;
	struct cfg next;
	struct cluster cl;

	load_cfg(NULL);
	cluster_init(&cl, &cfg, &stats);
	cl.first_to_say = record_say;
	n_said = 0;
	learn(&cl, 1, "b-1.internal", 9092);
	learn(&cl, 2, "10.0.0.2", 9092);
	learn(&cl, 3, "b-3.internal", 9092);
	ck_assert_uint_eq(cl.nodes.n, 3);
	ck_assert_int_eq(n_said, 3);
	ck_assert_msg(cfg_load_string(narrowed, &next, &errs) == 0, "%s",
		      errs.n ? errs.msgs[0] : "");
	ck_assert_int_eq(cluster_configure(&cl, &next), 0);
	ck_assert_ptr_nonnull(cluster_find(&cl, 1));
	ck_assert_ptr_null(cluster_find(&cl, 2)); /* outside upstream_allow */
	ck_assert_ptr_null(cluster_find(&cl, 3)); /* kgate advertises it now */
	/* Both are recorded as gone, so the "joined" line is said again when a
	 * later reload lets them back in (the idmap order is not the ids'). */
	ck_assert_int_eq(n_said, 5);
	ck_assert_int_eq(said[3].joined + said[4].joined, 0);
	ck_assert_int_eq(said[3].id + said[4].id, 2 + 3);
	/* And what is learned from then on is judged the same way. */
	learn(&cl, 2, "10.0.0.2", 9092);
	ck_assert_ptr_null(cluster_find(&cl, 2));
	ck_assert_int_eq(n_said, 5);
	/* The first configuration again: node 2 joins again, and says so. */
	ck_assert_int_eq(cluster_configure(&cl, &cfg), 0);
	learn(&cl, 2, "10.0.0.2", 9092);
	ck_assert_ptr_nonnull(cluster_find(&cl, 2));
	ck_assert_int_eq(n_said, 6);
	ck_assert_int_eq(said[5].id, 2);
	ck_assert_int_eq(said[5].joined, 1);
	cluster_free(&cl);
	cfg_free(&next);
	cfg_free(&cfg);
}
END_TEST

/* limits.max_brokers bounds the table: new ids beyond it are not learned,
 * known ones still move, and a listing frees room again. */
START_TEST(test_cluster_bounded)
{
	struct cluster cl;
	char host[32];

	load_cfg("{\"max_brokers\": 3}");
	cluster_init(&cl, &cfg, &stats);
	for (int32_t id = 1; id <= 5; id++) {
		snprintf(host, sizeof(host), "b-%d.internal", id);
		learn(&cl, id, host, 9092);
	}
	ck_assert_uint_eq(cl.nodes.n, 3);
	ck_assert_ptr_null(cluster_find(&cl, 4));
	learn(&cl, 3, "moved.internal", 9092);
	ck_assert_str_eq(cluster_find(&cl, 3)->host, "moved.internal");
	cluster_listing_begin(&cl);
	learn(&cl, 1, "b-1.internal", 9092);
	cluster_listing_end(&cl);
	learn(&cl, 4, "b-4.internal", 9092);
	ck_assert_ptr_nonnull(cluster_find(&cl, 4));
	cluster_free(&cl);
	cfg_free(&cfg);
}
END_TEST

START_TEST(test_log_escape)
{
	char buf[64];
	static const char forged[] = "evil\nFAKE\x1b[31m\\\x80";

	ck_assert_str_eq(log_escape(buf, sizeof(buf), forged, sizeof(forged) - 1),
			 "evil\\x0aFAKE\\x1b[31m\\x5c\\x80");
	ck_assert_str_eq(log_escape(buf, sizeof(buf), "b-1.example:9092", 16), "b-1.example:9092");
	/* Too long for the buffer: cut short, never mid-escape, never past it. */
	ck_assert_str_eq(log_escape(buf, 12, "abcdefghijklmnop", 16), "abcdefgh...");
	ck_assert_str_eq(log_escape(buf, 12, "abcdef\n\n\n", 9), "abcdef...");
	ck_assert_uint_le(strlen(log_escape(buf, 12, "\n\n\n\n\n\n\n\n", 8)), 11);
}
END_TEST

/* Hooks the rewriters call around a complete listing. */
struct listing_log {
	int begun, ended, looked_up;
};

static int count_lookup(void *ctx, int32_t node_id, const struct kstr *orig_host,
			int32_t orig_port, struct kmap_addr *out)
{
	(void)node_id;
	(void)orig_host;
	(void)orig_port;
	(void)out;
	((struct listing_log *)ctx)->looked_up++;
	return 0;
}

static void count_listing(void *ctx, int end)
{
	struct listing_log *l = ctx;

	if (end)
		l->ended++;
	else
		l->begun++;
}

/* Metadata v1 with n brokers and no topics. */
static void metadata_v1(struct kwbuf *w, int32_t n)
{
	kw_i32(w, 1);
	kw_i32(w, n);
	for (int32_t i = 0; i < n; i++) {
		kw_i32(w, i + 1);
		kw_string(w, 0, "b.internal", 10);
		kw_i32(w, 9092);
		kw_string(w, 0, NULL, -1);
	}
	kw_i32(w, 1);
	kw_i32(w, 0);
}

START_TEST(test_listing_hooks_and_bound)
{
	struct listing_log l;
	struct kmap map = {.lookup = count_lookup, .ctx = &l, .listing = count_listing};
	struct kwbuf w, out;

	kw_init(&w);
	kw_init(&out);
	metadata_v1(&w, 3);
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(krw_metadata(w.buf, w.len, 1, &out, &map), KRW_UNCHANGED);
	ck_assert_int_eq(l.begun, 1);
	ck_assert_int_eq(l.ended, 1);
	ck_assert_int_eq(l.looked_up, 3);
	/* A listing that does not decode whole never says who is gone. */
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(krw_metadata(w.buf, w.len - 1, 1, &out, &map), KRW_ERROR);
	ck_assert_int_eq(l.begun, 1);
	ck_assert_int_eq(l.ended, 0);
	/* Longer than the bound: refused before a single lookup. */
	map.max_nodes = 2;
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(krw_metadata(w.buf, w.len, 1, &out, &map), KRW_TOO_MANY);
	ck_assert_int_eq(l.begun + l.ended + l.looked_up, 0);
	map.max_nodes = 3;
	ck_assert_int_eq(krw_metadata(w.buf, w.len, 1, &out, &map), KRW_UNCHANGED);
	/* An empty list (an error answer) is no listing. */
	kw_reset(&w);
	metadata_v1(&w, 0);
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(krw_metadata(w.buf, w.len, 1, &out, &map), KRW_UNCHANGED);
	ck_assert_int_eq(l.begun + l.ended, 0);
	kw_free(&w);
	kw_free(&out);
}
END_TEST

Suite *suite_cluster(void)
{
	Suite *s = suite_create("cluster");
	TCase *tc = tcase_create("learned state");

	tcase_add_test(tc, test_idmap_against_a_reference);
	tcase_add_test(tc, test_idmap_filter);
	tcase_add_test(tc, test_cluster_reconfigured);
	tcase_add_test(tc, test_cluster_learns_and_forgets);
	tcase_add_test(tc, test_cluster_refuses_what_is_not_a_host);
	tcase_add_test(tc, test_cluster_bounded);
	tcase_add_test(tc, test_log_escape);
	tcase_add_test(tc, test_listing_hooks_and_bound);
	suite_add_tcase(s, tc);
	return s;
}
