/* test_share.c — share groups' responses (KIP-932) built by hand at every
 * version kgate decodes (0 from the 4.0 snapshot, 1-2 from 4.4): the
 * ShareAcknowledge rewrite, the same-length rewrite of a ShareFetch tail
 * (NodeEndpoints, an ordinary field, then the top-level tags), the ShareFetch
 * walker fed a byte at a time, truncations and the ApiVersions caps; and the
 * decisions about controllers' addresses (DescribeQuorum v2 stays capped,
 * DescribeCluster's controller lists pass unrewritten), pinned.  The
 * streamed path through kstream is in test_kstream.c (share_fetch_*). */
#include <stdlib.h>
#include <string.h>

#include "../../protocol/kapi.h"
#include "../../protocol/rewrite.h"
#include "../../protocol/share_walk.h"
#include "tests.h"

static struct kmap_addr short_addr = {"h", 1, 1};
static const struct kmap short_map = {.lookup = map_fixed, .ctx = &short_addr};
static char long_host[200];
static struct kmap_addr long_addr = {long_host, sizeof(long_host), 65000};
static const struct kmap long_map = {.lookup = map_fixed, .ctx = &long_addr};

/* An unknown tagged section: none, or one field (tag 7, "xyz"). */
static void tags(struct kwbuf *w, int unknown)
{
	kw_uvarint(w, unknown ? 1 : 0);
	if (unknown) {
		kw_uvarint(w, 7);
		kw_uvarint(w, 3);
		kw_put(w, "xyz", 3);
	}
}

static void node_endpoints(struct kwbuf *w, int n, int unknown)
{
	kw_array_len(w, 1, n);
	for (int i = 0; i < n; i++) {
		kw_i32(w, i + 1);
		kw_string(w, 1, "b-1.msk.internal", 16);
		kw_i32(w, 9092);
		if (i % 2)
			kw_string(w, 1, "use1-az1", 8);
		else
			kw_string(w, 1, NULL, -1);
		tags(w, unknown);
	}
}

size_t share_fetch_frame(struct kwbuf *w, int16_t v, int32_t correlation_id, size_t records,
			 int n_endpoints, int unknown)
{
	static const uint8_t topic_id[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	size_t tail;

	kw_i32(w, correlation_id);
	tags(w, unknown); /* response header */
	kw_i32(w, 0);      /* ThrottleTimeMs */
	kw_i16(w, 0);
	kw_string(w, 1, NULL, -1);
	if (v >= 1)
		kw_i32(w, 30000); /* AcquisitionLockTimeoutMs */
	kw_array_len(w, 1, 2);
	for (int t = 0; t < 2; t++) {
		kw_put(w, topic_id, sizeof(topic_id));
		kw_array_len(w, 1, 2);
		for (int p = 0; p < 2; p++) {
			kw_i32(w, p);
			kw_i16(w, p ? 6 : 0); /* NOT_LEADER_OR_FOLLOWER */
			kw_string(w, 1, p ? "not the leader" : NULL, p ? 14 : -1);
			kw_i16(w, 0);
			kw_string(w, 1, NULL, -1);
			kw_i32(w, 2); /* CurrentLeader */
			kw_i32(w, 7);
			tags(w, unknown);
			if (p) {
				kw_uvarint(w, 1); /* empty records, then none acquired */
				kw_array_len(w, 1, 0);
			} else {
				uint8_t *r;

				kw_uvarint(w, (uint32_t)records + 1);
				r = kw_extend(w, records);
				for (size_t i = 0; r && i < records; i++)
					r[i] = (uint8_t)(i * 7 + t);
				kw_array_len(w, 1, 2);
				for (int a = 0; a < 2; a++) {
					kw_i64(w, 100 * a);
					kw_i64(w, 100 * a + 99);
					kw_i16(w, 1);
					tags(w, unknown && a);
				}
			}
			tags(w, unknown);
		}
		tags(w, unknown && t);
	}
	tail = w->len;
	node_endpoints(w, n_endpoints, unknown);
	tags(w, unknown);
	ck_assert(!w->failed);
	return tail;
}

void share_check_tail(const uint8_t *p, size_t len, int n_endpoints, int unknown, int dropped)
{
	struct kreader r;
	int32_t n, id, port;
	uint32_t count, tag, size, known = 0;
	struct kstr host, rack;

	kr_init(&r, p, len);
	ck_assert_int_eq(kr_array(&r, 1, 11, &n), 0);
	ck_assert_int_eq(n, dropped ? 0 : n_endpoints);
	for (int32_t i = 0; i < n; i++) {
		ck_assert_int_eq(kr_i32(&r, &id), 0);
		ck_assert_int_eq(id, i + 1);
		ck_assert_int_eq(kr_string(&r, 1, &host), 0);
		ck_assert_int_eq(kr_i32(&r, &port), 0);
		ck_assert(host.len == 1 && host.ptr[0] == 'h' && port == 1);
		ck_assert_int_eq(kr_nullable_string(&r, 1, &rack), 0);
		ck_assert_int_eq(rack.len, i % 2 ? 8 : -1);
		ck_assert_int_eq(kr_skip_tags(&r), 0);
	}
	ck_assert_int_eq(kr_uvarint(&r, &count), 0);
	for (uint32_t i = 0; i < count; i++) {
		ck_assert_int_eq(kr_uvarint(&r, &tag), 0);
		ck_assert_int_eq(kr_uvarint(&r, &size), 0);
		if (tag == 7) {
			ck_assert(size == 3 && kr_remaining(&r) >= 3 && !memcmp(p + r.pos, "xyz", 3));
			known++;
		} else {
			ck_assert_uint_eq(tag, KRW_PAD_TAG);
		}
		ck_assert_int_eq(kr_skip(&r, size), 0);
	}
	ck_assert_uint_eq(known, unknown ? 1 : 0);
	ck_assert_uint_eq(r.pos, len);
}

/* The walker, offered one byte more at a time (as if each arrived alone),
 * finds the tail where the builder put it; records are skipped by length. */
static size_t walk_bytewise(int16_t v, const uint8_t *body, size_t len)
{
	struct kshare_walk w;
	size_t pos = 0, avail = 0, used;
	uint64_t skip;

	ksw_init(&w, v);
	for (;;) {
		int rc;

		ck_assert_uint_lt(pos, len);
		if (avail == pos)
			avail++;
		rc = ksw_walk(&w, body + pos, avail - pos, &used, &skip);
		ck_assert_int_ne(rc, KFW_ERROR);
		pos += used;
		if (rc == KFW_TAIL)
			return pos;
		if (rc == KFW_SKIP) {
			pos += skip;
			avail = pos;
		} else if (used == 0) {
			avail++;
		}
	}
}

START_TEST(test_share_fetch_walk_and_tail)
{
	int16_t v = (int16_t)(_i / 4);
	int unknown = _i & 1, n_endpoints = (_i & 2) ? 3 : 0;
	struct kwbuf w;
	size_t tail, len;
	uint8_t *out;
	int dropped = -1;

	kw_init(&w);
	tail = share_fetch_frame(&w, v, 42, (_i & 4) ? 300000 : 1000, n_endpoints, unknown);
	/* The walker starts after the CorrelationId. */
	ck_assert_uint_eq(walk_bytewise(v, w.buf + 4, w.len - 4) + 4, tail);
	len = w.len - tail;
	out = malloc(len);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(krw_share_fetch_tail(w.buf + tail, len, v, out, &short_map, &dropped),
			 n_endpoints ? KRW_CHANGED : KRW_UNCHANGED);
	ck_assert_int_eq(dropped, 0);
	if (n_endpoints) {
		share_check_tail(out, len, n_endpoints, unknown, 0);
		/* Stable: what kgate wrote needs no second rewrite. */
		ck_assert_int_eq(krw_share_fetch_tail(out, len, v, out, &short_map, &dropped),
				 KRW_UNCHANGED);
		/* Longer names cannot fit: NodeEndpoints goes out empty. */
		ck_assert_int_eq(krw_share_fetch_tail(w.buf + tail, len, v, out, &long_map,
						      &dropped),
				 KRW_CHANGED);
		ck_assert_int_eq(dropped, 1);
		share_check_tail(out, len, n_endpoints, unknown, 1);
	}
	/* Every truncation of the tail is refused. */
	for (size_t cut = 0; cut < len; cut++)
		ck_assert_int_eq(krw_share_fetch_tail(w.buf + tail, cut, v, out, &short_map,
						      &dropped),
				 KRW_ERROR);
	free(out);
	kw_free(&w);
}
END_TEST

START_TEST(test_share_fetch_walk_refuses)
{
	/* Responses null (0), then Partitions null: both malformed. */
	static const uint8_t null_topics[13] = {0};
	struct kshare_walk w;
	uint8_t buf[64];
	size_t used;
	uint64_t skip;

	ksw_init(&w, 1);
	/* header tags, Throttle, Error, ErrorMessage null, Lock, Responses null */
	ck_assert_int_eq(ksw_walk(&w, null_topics, sizeof(null_topics), &used, &skip), KFW_ERROR);
	memset(buf, 0, sizeof(buf));
	/* v0: header tags 0, fixed 6, message 0, one topic, its id (16),
	 * then Partitions null. */
	buf[8] = 2;
	ksw_init(&w, 0);
	ck_assert_int_eq(ksw_walk(&w, buf, 26, &used, &skip), KFW_ERROR);
	/* A varint longer than five bytes. */
	memset(buf, 0xff, sizeof(buf));
	ksw_init(&w, 2);
	ck_assert_int_eq(ksw_walk(&w, buf, sizeof(buf), &used, &skip), KFW_ERROR);
}
END_TEST

size_t share_ack_frame(struct kwbuf *w, int16_t v, int32_t correlation_id, int n_endpoints,
		       int unknown)
{
	static const uint8_t topic_id[16] = {9};
	size_t tail;

	kw_i32(w, correlation_id);
	tags(w, unknown);
	kw_i32(w, 0);
	kw_i16(w, 0);
	kw_string(w, 1, NULL, -1);
	if (v >= 2)
		kw_i32(w, 30000);
	kw_array_len(w, 1, 1);
	kw_put(w, topic_id, sizeof(topic_id));
	kw_array_len(w, 1, 2);
	for (int p = 0; p < 2; p++) {
		kw_i32(w, p);
		kw_i16(w, p ? 6 : 0);
		kw_string(w, 1, NULL, -1);
		kw_i32(w, 3);
		kw_i32(w, 11);
		tags(w, unknown);
		tags(w, unknown);
	}
	tags(w, unknown);
	tail = w->len;
	node_endpoints(w, n_endpoints, unknown);
	tags(w, unknown);
	ck_assert(!w->failed);
	return tail;
}

START_TEST(test_share_acknowledge)
{
	int16_t v = (int16_t)(_i / 4);
	int unknown = _i & 1, n_endpoints = (_i & 2) ? 2 : 0;
	struct kwbuf in, out;
	size_t tail;

	kw_init(&in);
	kw_init(&out);
	tail = share_ack_frame(&in, v, 7, n_endpoints, unknown);
	ck_assert_int_eq(krw_share_acknowledge(in.buf, in.len, v, &out, &short_map),
			 n_endpoints ? KRW_CHANGED : KRW_UNCHANGED);
	if (n_endpoints) {
		/* Everything before NodeEndpoints is kept byte for byte; two
		 * 16-byte hosts become 1-byte ones, ports stay 4 bytes. */
		ck_assert_uint_eq(out.len, in.len - 2 * 15);
		ck_assert_mem_eq(out.buf, in.buf, tail);
		share_check_tail(out.buf + tail, out.len - tail, n_endpoints, unknown, 0);
	}
	for (size_t cut = 0; cut < in.len; cut++) {
		kw_reset(&out);
		ck_assert_int_eq(krw_share_acknowledge(in.buf, cut, v, &out, &short_map),
				 KRW_ERROR);
	}
	kw_put(&in, "", 1); /* a byte past the end */
	kw_reset(&out);
	ck_assert_int_eq(krw_share_acknowledge(in.buf, in.len, v, &out, &short_map), KRW_ERROR);
	kw_free(&in);
	kw_free(&out);
}
END_TEST

/* ApiVersions: share groups are answered at the versions kgate decodes;
 * DescribeQuorum stays at v1 (see kapi.c: v2 lists controllers). */
START_TEST(test_share_caps_and_controllers)
{
	const char *why;

	ck_assert_int_eq(krw_api_versions_cap(KAPI_SHARE_FETCH, 1, 2), 2);
	ck_assert_int_eq(krw_api_versions_cap(KAPI_SHARE_FETCH, 0, 3), 2);
	ck_assert_int_eq(krw_api_versions_cap(KAPI_SHARE_ACKNOWLEDGE, 1, 3), 2);
	ck_assert_int_eq(krw_api_versions_cap(KAPI_SHARE_ACKNOWLEDGE, 3, 4), -1);
	ck_assert_int_eq(krw_api_versions_cap(KAPI_DESCRIBE_QUORUM, 0, 2), 1);
	ck_assert_int_eq(kapi_request_check(KAPI_DESCRIBE_QUORUM, 1, &why), 0);
	ck_assert_int_eq(kapi_request_check(KAPI_DESCRIBE_QUORUM, 2, &why), -1);
	ck_assert_int_eq(kapi_mode_for(KAPI_DESCRIBE_QUORUM, 1), KAPI_PASS);
	ck_assert_int_eq(kapi_mode_for(KAPI_SHARE_FETCH, 0), KAPI_TAIL);
	ck_assert_int_eq(kapi_mode_for(KAPI_SHARE_ACKNOWLEDGE, 2), KAPI_REWRITE);
	ck_assert(kapi_response_header_flexible(KAPI_SHARE_FETCH, 0));
}
END_TEST

/* DescribeCluster v1-2 asked for controllers (EndpointType 2): the ids are
 * controllers', which kgate does not front, so the answer passes as it is
 * even where a broker id of the same number is mapped. */
START_TEST(test_describe_cluster_controllers_pass)
{
	int16_t v = (int16_t)(1 + _i);
	struct kwbuf in, out;

	for (int type = 1; type <= 2; type++) {
		kw_init(&in);
		kw_init(&out);
		kw_i32(&in, 5);
		kw_uvarint(&in, 0);
		kw_i32(&in, 0);
		kw_i16(&in, 0);
		kw_string(&in, 1, NULL, -1);
		kw_i8(&in, (int8_t)type);
		kw_string(&in, 1, "cluster", 7);
		kw_i32(&in, 1);
		kw_array_len(&in, 1, 1);
		kw_i32(&in, 1);
		kw_string(&in, 1, "controller-1.internal", 21);
		kw_i32(&in, 9093);
		kw_string(&in, 1, NULL, -1);
		if (v >= 2)
			kw_i8(&in, 0); /* IsFenced */
		kw_uvarint(&in, 0);
		kw_i32(&in, 0);
		kw_uvarint(&in, 0);
		ck_assert_int_eq(krw_describe_cluster(in.buf, in.len, v, &out, &short_map),
				 type == 2 ? KRW_UNCHANGED : KRW_CHANGED);
		kw_free(&in);
		kw_free(&out);
	}
}
END_TEST

Suite *suite_share(void)
{
	Suite *s = suite_create("share groups");
	TCase *tc = tcase_create("share");

	memset(long_host, 'L', sizeof(long_host));
	tcase_add_loop_test(tc, test_share_fetch_walk_and_tail, 0, 12);
	tcase_add_test(tc, test_share_fetch_walk_refuses);
	tcase_add_loop_test(tc, test_share_acknowledge, 0, 12);
	tcase_add_test(tc, test_share_caps_and_controllers);
	tcase_add_loop_test(tc, test_describe_cluster_controllers_pass, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
