/* test_frame.c — request headers, Produce acks, foreign protocols, the API
 * table's caps, and the requests kgate sends itself. */
#include <stdio.h>
#include <string.h>

#include "../../protocol/frame.h"
#include "../../protocol/kapi.h"
#include "../../protocol/requests.h"
#include "../../protocol/rewrite.h"
#include "tests.h"

/* A Produce request header and the start of its body, as a client sends it. */
static size_t produce_request(uint8_t *b, int16_t version, const char *client_id,
			      const char *txn_id, int16_t acks)
{
	struct kwbuf w;
	int flexible = version >= 9;
	size_t n;

	kw_init(&w);
	kw_i16(&w, KAPI_PRODUCE);
	kw_i16(&w, version);
	kw_i32(&w, 42);
	kw_string(&w, 0, client_id, (int32_t)strlen(client_id));
	if (flexible)
		kw_uvarint(&w, 0);
	if (version >= 3)
		kw_string(&w, flexible, txn_id, txn_id ? (int32_t)strlen(txn_id) : -1);
	kw_i16(&w, acks);
	kw_i32(&w, 30000); /* TimeoutMs, then records we never look at */
	n = w.len;
	memcpy(b, w.buf, n);
	kw_free(&w);
	return n;
}

START_TEST(test_produce_acks)
{
	static const struct {
		int16_t version;
		const char *txn;
		int16_t acks;
	} cases[] = {{0, NULL, 1}, {3, NULL, 0}, {3, "txn-1", -1}, {8, NULL, 0},
		     {9, NULL, 0}, {9, "transactional", -1}, {11, NULL, 1}, {13, NULL, 0}};
	uint8_t b[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = produce_request(b, cases[i].version, "client-a", cases[i].txn,
					   cases[i].acks);
		int16_t acks = 99;

		ck_assert_int_eq(kframe_produce_acks(b, n, cases[i].version, &acks), KFRAME_OK);
		ck_assert_int_eq(acks, cases[i].acks);
		/* Any prefix that stops before Acks asks for more. */
		for (size_t cut = 0; cut < n - 4; cut++)
			ck_assert_int_eq(kframe_produce_acks(b, cut, cases[i].version, &acks),
					 KFRAME_NEED_MORE);
	}
	/* A ClientId length of -2 is malformed, not short. */
	{
		uint8_t bad[] = {0, 0, 0, 9, 0, 0, 0, 1, 0xff, 0xfe, 0, 0, 0, 0};
		int16_t acks;

		ck_assert_int_eq(kframe_produce_acks(bad, sizeof(bad), 9, &acks), KFRAME_ERROR);
	}
}
END_TEST

/* Fuzzing found: a Produce v9 request with a tagged field in its header
 * was refused when only the start of the tagged section had arrived — the
 * tag count was judged against the bytes present so far. */
START_TEST(test_produce_acks_header_tags_arriving)
{
	/* Size 26, Produce v9, correlation 5, ClientId "c", header tags {0:
	 * "abc"}, TransactionalId null, Acks 1, TimeoutMs 30000, no topics. */
	static const uint8_t frame[] = {0, 0, 0, 0x1a, 0, 0, 0, 9, 0, 0, 0, 5, 0, 1, 'c',
					1, 0, 3, 'a', 'b', 'c', 0, 0, 1, 0, 0, 0x75, 0x30,
					1, 0};
	const uint8_t *req = frame + 4;
	size_t acks_end = 20; /* bytes of the request up to and including Acks */
	int16_t acks = 99;

	for (size_t cut = 0; cut < acks_end; cut++)
		ck_assert_msg(kframe_produce_acks(req, cut, 9, &acks) == KFRAME_NEED_MORE,
			      "refused when cut at %zu", cut);
	ck_assert_int_eq(kframe_produce_acks(req, acks_end, 9, &acks), KFRAME_OK);
	ck_assert_int_eq(acks, 1);
	ck_assert_int_eq(kframe_produce_acks(req, sizeof(frame) - 4, 9, &acks), KFRAME_OK);
}
END_TEST

START_TEST(test_request_header)
{
	static const uint8_t h[] = {0, 3, 0, 12, 0x7f, 0, 0, 1};
	struct kframe_req r;

	kframe_req_parse(h, &r);
	ck_assert_int_eq(r.api_key, KAPI_METADATA);
	ck_assert_int_eq(r.api_version, 12);
	ck_assert_int_eq(r.correlation_id, 0x7f000001);
}
END_TEST

START_TEST(test_guess_foreign)
{
	static const uint8_t tls[] = {0x16, 0x03, 0x01, 0x02};
	static const uint8_t alert[] = {0x15, 0x03, 0x03, 0x00};
	static const uint8_t kafka[] = {0x00, 0x00, 0x01, 0x00};

	ck_assert_str_eq(kframe_guess_foreign(tls), "a TLS record");
	ck_assert_str_eq(kframe_guess_foreign(alert), "a TLS record");
	ck_assert_str_eq(kframe_guess_foreign((const uint8_t *)"GET /"), "an HTTP request");
	ck_assert_ptr_null(kframe_guess_foreign(kafka));
}
END_TEST

START_TEST(test_api_table)
{
	const char *why;
	char scratch[32];

	/* Rewritten APIs and their modes. */
	ck_assert_int_eq(kapi_mode_for(KAPI_METADATA, 0), KAPI_REWRITE);
	ck_assert_int_eq(kapi_mode_for(KAPI_PRODUCE, 9), KAPI_PASS);
	ck_assert_int_eq(kapi_mode_for(KAPI_PRODUCE, 10), KAPI_REWRITE);
	ck_assert_int_eq(kapi_mode_for(KAPI_FETCH, 15), KAPI_PASS);
	ck_assert_int_eq(kapi_mode_for(KAPI_FETCH, 16), KAPI_TAIL);
	ck_assert_int_eq(kapi_mode_for(2, 7), KAPI_PASS); /* ListOffsets */
	ck_assert_int_eq(kapi_mode_for(1000, 0), KAPI_PASS);
	/* Header versions, and ApiVersions' exception. */
	ck_assert(kapi_response_header_flexible(KAPI_METADATA, 9));
	ck_assert(!kapi_response_header_flexible(KAPI_METADATA, 8));
	ck_assert(!kapi_response_header_flexible(KAPI_API_VERSIONS, 3));
	ck_assert(kapi_request_header_flexible(KAPI_API_VERSIONS, 3));
	ck_assert(kapi_response_header_flexible(KAPI_DESCRIBE_CLUSTER, 0));
	/* Requests: caps, hidden APIs, lenient ApiVersions, unknown keys. */
	ck_assert_int_eq(kapi_request_check(KAPI_METADATA, 13, &why), 0);
	ck_assert_int_eq(kapi_request_check(KAPI_METADATA, 14, &why), -1);
	ck_assert_int_eq(kapi_request_check(KAPI_FETCH, 19, &why), -1);
	ck_assert_int_eq(kapi_request_check(KAPI_SASL_HANDSHAKE, 1, &why), 0);
	ck_assert_int_eq(kapi_request_check(KAPI_SASL_HANDSHAKE, 0, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "unframed SASL tokens"));
	ck_assert_int_eq(kapi_request_check(KAPI_SASL_HANDSHAKE, 2, &why), -1);
	/* Share groups: every version kgate decodes (0-2) is forwarded. */
	for (int16_t v = 0; v <= 2; v++) {
		ck_assert_int_eq(kapi_request_check(KAPI_SHARE_FETCH, v, &why), 0);
		ck_assert_int_eq(kapi_request_check(KAPI_SHARE_ACKNOWLEDGE, v, &why), 0);
	}
	ck_assert_int_eq(kapi_request_check(KAPI_SHARE_FETCH, 3, &why), -1);
	ck_assert_int_eq(kapi_request_check(KAPI_SHARE_ACKNOWLEDGE, 3, &why), -1);
	ck_assert_int_eq(kapi_request_check(KAPI_API_VERSIONS, 9, &why), 0);
	ck_assert_int_eq(kapi_request_check(KAPI_DESCRIBE_QUORUM, 2, &why), -1);
	ck_assert_int_eq(kapi_request_check(500, 3, &why), 0);
	ck_assert_int_eq(kapi_request_check(KAPI_METADATA, -1, &why), -1);
	ck_assert_str_eq(kapi_name(KAPI_FIND_COORDINATOR, scratch, sizeof(scratch)),
			 "FindCoordinator");
	ck_assert_str_eq(kapi_name(999, scratch, sizeof(scratch)), "ApiKey(999)");
}
END_TEST

START_TEST(test_own_requests)
{
	/* ApiVersions v0 from "kgate": size 15, key 18, v0, corr 1, "kgate". */
	static const uint8_t want_av[] = {0, 0, 0, 15, 0, 18, 0, 0, 0, 0, 0, 1,
					  0, 5, 'k', 'g', 'a', 't', 'e'};
	/* Metadata v12: header v2, empty compact topics, two bools, tags. */
	static const uint8_t want_md[] = {0, 0, 0, 20, 0, 3, 0, 12, 0, 0, 0, 2, 0, 5,
					  'k', 'g', 'a', 't', 'e', 0, 1, 0, 0, 0};
	static const uint8_t want_md1[] = {0, 0, 0, 19, 0, 3, 0, 1, 0, 0, 0, 2, 0, 5,
					   'k', 'g', 'a', 't', 'e', 0, 0, 0, 0};
	struct kwbuf w;

	kw_init(&w);
	kreq_api_versions(&w, 1, "kgate");
	ck_assert_uint_eq(w.len, sizeof(want_av));
	ck_assert(memcmp(w.buf, want_av, w.len) == 0);
	kw_reset(&w);
	kreq_metadata(&w, 12, 2, "kgate");
	ck_assert_uint_eq(w.len, sizeof(want_md));
	ck_assert(memcmp(w.buf, want_md, w.len) == 0);
	kw_reset(&w);
	kreq_metadata(&w, 1, 2, "kgate");
	ck_assert_uint_eq(w.len, sizeof(want_md1));
	ck_assert(memcmp(w.buf, want_md1, w.len) == 0);
	kw_free(&w);
}
END_TEST

START_TEST(test_api_versions_range)
{
	/* v0 answer: error 0, 2 keys: Produce 0-9, Metadata 1-12. */
	static const uint8_t in[] = {0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0,
				     0, 9, 0, 3, 0, 1, 0, 12};
	static const uint8_t failed[] = {0, 0, 0, 1, 0, 35, 0, 0, 0, 0};
	int16_t lo, hi;

	ck_assert_int_eq(kresp_api_versions_range(in, sizeof(in), KAPI_METADATA, &lo, &hi), 0);
	ck_assert_int_eq(lo, 1);
	ck_assert_int_eq(hi, 12);
	ck_assert_int_eq(kresp_api_versions_range(in, sizeof(in), KAPI_FETCH, &lo, &hi), -1);
	ck_assert_int_eq(kresp_api_versions_range(failed, sizeof(failed), KAPI_METADATA, &lo,
						  &hi),
			 -1);
}
END_TEST

/* Collects what kresp_metadata_brokers reports. */
struct seen_brokers {
	int n;
	int32_t id[4], port[4];
	char host[4][32];
	int begun, ended; /* listings */
};

static void seen_listing(void *ctx, int end)
{
	struct seen_brokers *s = ctx;

	if (end)
		s->ended++;
	else
		s->begun++;
}

static void seen_broker(void *ctx, int32_t node_id, const struct kstr *host, int32_t port)
{
	struct seen_brokers *s = ctx;

	if (s->n < 4) {
		s->id[s->n] = node_id;
		s->port[s->n] = port;
		snprintf(s->host[s->n], sizeof(s->host[0]), "%.*s", (int)host->len,
			 (const char *)host->ptr);
	}
	s->n++;
}

/* A Metadata answer decoded for kgate itself (what discovery learns from):
 * every broker reported as sent, nothing learned from a malformed one. */
START_TEST(test_metadata_brokers_decoder)
{
	static const int16_t versions[] = {1, 2, 9, 12, 13};
	struct kwbuf w;
	struct seen_brokers s;

	for (size_t i = 0; i < 2 * sizeof(versions) / sizeof(versions[0]); i++) {
		int16_t v = versions[i / 2];
		int flexible = v >= 9, n = i % 2 ? 0 : 2;

		kw_init(&w);
		kw_i32(&w, 42); /* CorrelationId */
		if (flexible)
			kw_uvarint(&w, 0);
		if (v >= 3)
			kw_i32(&w, 0); /* ThrottleTimeMs */
		kw_array_len(&w, flexible, n);
		for (int32_t id = 1; id <= n; id++) {
			kw_i32(&w, id);
			kw_string(&w, flexible, id == 1 ? "b-1.internal" : "b-2.internal", 12);
			kw_i32(&w, 9091 + id);
			kw_string(&w, flexible, NULL, -1); /* Rack */
			if (flexible)
				kw_uvarint(&w, 0);
		}
		if (v >= 2)
			kw_string(&w, flexible, "cluster", 7); /* ClusterId */
		kw_i32(&w, 1);                                 /* ControllerId */
		kw_array_len(&w, flexible, 0);         /* Topics */
		if (v >= 8 && v <= 10)
			kw_i32(&w, 0); /* ClusterAuthorizedOperations */
		if (v >= 13)
			kw_i16(&w, 0); /* ErrorCode */
		if (flexible)
			kw_uvarint(&w, 0);
		ck_assert(!w.failed);
		memset(&s, 0, sizeof(s));
		ck_assert_int_eq(
		    kresp_metadata_brokers(w.buf, w.len, v, 0, seen_broker, seen_listing, &s), 0);
		ck_assert_int_eq(s.n, n);
		/* A listing says who is gone; an empty one (an error answer)
		 * must not make kgate forget every broker. */
		ck_assert_int_eq(s.begun, n ? 1 : 0);
		ck_assert_int_eq(s.ended, n ? 1 : 0);
		if (n) {
			ck_assert_int_eq(s.id[1], 2);
			ck_assert_str_eq(s.host[1], "b-2.internal");
			ck_assert_int_eq(s.port[1], 9093);
		}
		/* Cut short: nothing said of who is gone. */
		for (size_t cut = 0; cut < w.len; cut++) {
			s.ended = 0;
			ck_assert_int_eq(
			    kresp_metadata_brokers(w.buf, cut, v, 0, seen_broker, seen_listing, &s),
			    -1);
			ck_assert_int_eq(s.ended, 0);
		}
		if (!n) {
			kw_free(&w);
			continue;
		}
		/* Two brokers where one is the most kgate will hold: refused
		 * before either is reported. */
		memset(&s, 0, sizeof(s));
		ck_assert_int_eq(kresp_metadata_brokers(w.buf, w.len, v, 1, seen_broker, NULL, &s),
				 -1);
		ck_assert_int_eq(s.n, 0);
		ck_assert_int_eq(kresp_metadata_brokers(w.buf, w.len, v, 2, seen_broker, NULL, &s), 0);
		kw_free(&w);
	}
}
END_TEST

Suite *suite_frame(void)
{
	Suite *s = suite_create("frame");
	TCase *tc = tcase_create("headers and table");

	tcase_add_test(tc, test_produce_acks);
	tcase_add_test(tc, test_produce_acks_header_tags_arriving);
	tcase_add_test(tc, test_metadata_brokers_decoder);
	tcase_add_test(tc, test_request_header);
	tcase_add_test(tc, test_guess_foreign);
	tcase_add_test(tc, test_api_table);
	tcase_add_test(tc, test_own_requests);
	tcase_add_test(tc, test_api_versions_range);
	suite_add_tcase(s, tc);
	return s;
}
