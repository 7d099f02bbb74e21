/* test_malformed.c — hostile responses: absurd counts, bad varints, lengths
 * past the end, and random corruption of valid frames.  Every case must be
 * refused (or, for corruption, either refused or rewritten) without reading
 * out of bounds — the ASan run of these tests is what proves the latter.
 */
#include <stdlib.h>
#include <string.h>

#include "../../protocol/fetch_walk.h"
#include "../../protocol/kapi.h"
#include "../../protocol/rewrite.h"
#include "tests.h"

static struct kmap_addr gateway_addr = {"gateway.example", 15, 8443};
static const struct kmap all_map = {.lookup = map_fixed, .ctx = &gateway_addr};

static int run(int16_t key, int16_t version, const uint8_t *in, size_t len)
{
	struct kwbuf out;
	int rc;

	kw_init(&out);
	rc = kapi_get(key)->rewrite(in, len, version, &out, &all_map);
	kw_free(&out);
	return rc;
}

START_TEST(test_metadata_absurd_broker_count)
{
	/* v0: CorrelationId, Brokers count 0x7fffffff, then one broker. */
	static const uint8_t in[] = {0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1,
				     0, 1, 'h', 0, 0, 0x23, 0x84, 0, 0, 0, 0};
	ck_assert_int_eq(run(KAPI_METADATA, 0, in, sizeof(in)), KRW_ERROR);
}
END_TEST

START_TEST(test_metadata_negative_counts_and_lengths)
{
	/* Brokers count -1 (null is not allowed there). */
	static const uint8_t null_brokers[] = {0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
	/* Host length -5. */
	static const uint8_t neg_host[] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xfb,
					   0, 0, 0, 1, 0, 0, 0, 0};
	ck_assert_int_eq(run(KAPI_METADATA, 0, null_brokers, sizeof(null_brokers)), KRW_ERROR);
	ck_assert_int_eq(run(KAPI_METADATA, 0, neg_host, sizeof(neg_host)), KRW_ERROR);
}
END_TEST

START_TEST(test_flexible_bad_varints)
{
	/* Metadata v9: CorrelationId, header tags 0, ThrottleTimeMs, then a
	 * brokers count that never ends. */
	static const uint8_t endless[] = {0, 0, 0, 1, 0, 0, 0, 0, 0,
					  0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
	/* Header tagged fields: count 1, tag 0, size 0x0fffffff. */
	static const uint8_t huge_tag[] = {0, 0, 0, 1, 0x01, 0x00, 0xff, 0xff, 0xff, 0x7f, 0};
	ck_assert_int_eq(run(KAPI_METADATA, 9, endless, sizeof(endless)), KRW_ERROR);
	ck_assert_int_eq(run(KAPI_METADATA, 9, huge_tag, sizeof(huge_tag)), KRW_ERROR);
	ck_assert_int_eq(run(KAPI_DESCRIBE_CLUSTER, 0, huge_tag, sizeof(huge_tag)), KRW_ERROR);
	ck_assert_int_eq(run(KAPI_FIND_COORDINATOR, 4, huge_tag, sizeof(huge_tag)), KRW_ERROR);
	ck_assert_int_eq(run(KAPI_PRODUCE, 10, huge_tag, sizeof(huge_tag)), KRW_ERROR);
}
END_TEST

START_TEST(test_produce_node_endpoints_bad_inner_length)
{
	/* Produce v10: header tags 0, Responses empty, ThrottleTimeMs, then one
	 * tagged field 0 whose size (3) is shorter than the array it holds. */
	static const uint8_t in[] = {0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 3,
				     2, 0, 0, 0, 1, 2, 'h', 0, 0, 0, 9, 0, 0};
	ck_assert_int_eq(run(KAPI_PRODUCE, 10, in, sizeof(in)), KRW_ERROR);
}
END_TEST

START_TEST(test_api_versions_error_passes)
{
	/* librdkafka's mock answers an unsupported ApiVersions v3 with error 35
	 * in a layout of its own; it must go through unchanged, not fail. */
	static const uint8_t mock[] = {0, 0, 0, 1, 0, 35, 1, 0, 18, 0, 0, 0, 2, 0, 0, 0, 0};
	ck_assert_int_eq(run(KAPI_API_VERSIONS, 3, mock, sizeof(mock)), KRW_UNCHANGED);
}
END_TEST

START_TEST(test_fetch_walk_garbage)
{
	/* Topics count 0 (null) is invalid; a 6-byte varint is invalid. */
	static const uint8_t null_topics[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t bad_varint[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80};
	struct kfetch_walk w;
	size_t used = 777;
	uint64_t skip = 777;

	/* Every path defines *used and *skip, errors included: fuzzing found
	 * a caller that forwarded an unset *used before looking at the
	 * result. */
	kfw_init(&w, 16);
	ck_assert_int_eq(kfw_walk(&w, null_topics, sizeof(null_topics), &used, &skip),
			 KFW_ERROR);
	ck_assert_uint_eq(used, 0);
	ck_assert_uint_eq(skip, 0);
	used = skip = 777;
	kfw_init(&w, 16);
	ck_assert_int_eq(kfw_walk(&w, bad_varint, sizeof(bad_varint), &used, &skip), KFW_ERROR);
	ck_assert_uint_eq(used, 0);
	ck_assert_uint_eq(skip, 0);
}
END_TEST

START_TEST(test_fetch_tail_malformed)
{
	/* Count says 2 fields, only one is there; a NodeEndpoints field whose
	 * content is not an array of endpoints. */
	static const uint8_t short_count[] = {0x02, 0x05, 0x00};
	static const uint8_t bad_endpoints[] = {0x01, 0x00, 0x02, 0x05, 0x01};
	uint8_t out[8];
	int dropped;

	ck_assert_int_eq(krw_fetch_tail(short_count, sizeof(short_count), 16, out, &all_map,
					&dropped),
			 KRW_ERROR);
	ck_assert_int_eq(krw_fetch_tail(bad_endpoints, sizeof(bad_endpoints), 16, out, &all_map,
					&dropped),
			 KRW_ERROR);
	/* The same field before v16 is not NodeEndpoints: opaque, valid. */
	ck_assert_int_eq(krw_fetch_tail(bad_endpoints, sizeof(bad_endpoints), 15, out, &all_map,
					&dropped),
			 KRW_UNCHANGED);
}
END_TEST

/* Builds a valid Metadata v12 response, flips random bytes, and checks the
 * rewriter either refuses it or produces a frame it can read back. */
START_TEST(test_random_corruption)
{
	static const uint8_t base[] = {
		0, 0, 0, 7, 0,                           /* CorrelationId, header tags */
		0, 0, 0, 0,                              /* ThrottleTimeMs */
		3,                                       /* Brokers: 2 */
		0, 0, 0, 1, 4, 'b', '-', '1', 0, 0, 0x23, 0x86, 0, 0,
		0, 0, 0, 2, 4, 'b', '-', '2', 0, 0, 0x23, 0x86, 3, 'r', 'a', 0,
		5, 'c', 'l', 'u', 's',                   /* ClusterId */
		0, 0, 0, 1,                              /* ControllerId */
		2,                                       /* Topics: 1 */
		0, 0, 2, 't', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* name, id, internal */
		2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 0, /* 1 partition */
		0, 0, 0, 0, 0,                           /* TopicAuthorizedOperations, tags */
		0                                        /* tags */
	};
	uint8_t buf[sizeof(base)];
	struct kwbuf out, again;
	unsigned seed = 12345;

	ck_assert_int_eq(run(KAPI_METADATA, 12, base, sizeof(base)), KRW_CHANGED);
	kw_init(&out);
	kw_init(&again);
	for (int iter = 0; iter < 20000; iter++) {
		int flips = 1 + rand_r(&seed) % 3, rc;

		memcpy(buf, base, sizeof(base));
		for (int f = 0; f < flips; f++)
			buf[rand_r(&seed) % sizeof(buf)] = (uint8_t)rand_r(&seed);
		kw_reset(&out);
		rc = krw_metadata(buf, sizeof(buf), 12, &out, &all_map);
		if (rc == KRW_CHANGED) {
			/* The output is itself a valid response, already mapped. */
			kw_reset(&again);
			ck_assert_int_ne(krw_metadata(out.buf, out.len, 12, &again, &all_map),
					 KRW_ERROR);
		}
	}
	kw_free(&out);
	kw_free(&again);
}
END_TEST

Suite *suite_malformed(void)
{
	Suite *s = suite_create("malformed");
	TCase *tc = tcase_create("hostile input");

	tcase_add_test(tc, test_metadata_absurd_broker_count);
	tcase_add_test(tc, test_metadata_negative_counts_and_lengths);
	tcase_add_test(tc, test_flexible_bad_varints);
	tcase_add_test(tc, test_produce_node_endpoints_bad_inner_length);
	tcase_add_test(tc, test_api_versions_error_passes);
	tcase_add_test(tc, test_fetch_walk_garbage);
	tcase_add_test(tc, test_fetch_tail_malformed);
	tcase_add_test(tc, test_random_corruption);
	suite_add_tcase(s, tc);
	return s;
}
