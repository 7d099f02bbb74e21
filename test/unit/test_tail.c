/* test_tail.c — the same-length rewrite of a Fetch response's trailing
 * tagged section at its edges: gaps that push the field count's varint
 * across a length boundary, sections too long to keep NodeEndpoints, and a
 * sweep of sizes that must all come out exactly as long as they went in. */
#include <stdlib.h>
#include <string.h>

#include "../../protocol/rewrite.h"
#include "tests.h"

static struct kmap_addr short_addr = {"h", 1, 1};
static const struct kmap short_map = {.lookup = map_fixed, .ctx = &short_addr};

/* A tagged section holding only NodeEndpoints: n entries of host_len-byte
 * names. */
static void section(struct kwbuf *w, int n, int host_len)
{
	struct kwbuf f;
	char host[256];

	memset(host, 'b', sizeof(host));
	kw_init(&f);
	kw_array_len(&f, 1, n);
	for (int i = 0; i < n; i++) {
		kw_i32(&f, i);
		kw_string(&f, 1, host, host_len);
		kw_i32(&f, 9094);
		kw_uvarint(&f, 0);
		kw_uvarint(&f, 0);
	}
	kw_uvarint(w, 1);
	kw_uvarint(w, 0);
	kw_uvarint(w, (uint32_t)f.len);
	kw_put(w, f.buf, f.len);
	kw_free(&f);
}

/* Reads a section back: field count, and whether NodeEndpoints is there
 * with every host rewritten; every other field must be padding. */
static void check(const uint8_t *p, size_t len, uint32_t *count, int *endpoints)
{
	struct kreader r;
	uint32_t tag, size;

	kr_init(&r, p, len);
	ck_assert_int_eq(kr_uvarint(&r, count), 0);
	*endpoints = 0;
	for (uint32_t i = 0; i < *count; i++) {
		ck_assert_int_eq(kr_uvarint(&r, &tag), 0);
		ck_assert_int_eq(kr_uvarint(&r, &size), 0);
		if (tag == 0) {
			struct kreader e;
			int32_t n, id, port;
			struct kstr host, rack;

			kr_init(&e, p + r.pos, size);
			ck_assert_int_eq(kr_array(&e, 1, 1, &n), 0);
			for (int32_t j = 0; j < n; j++) {
				ck_assert_int_eq(kr_i32(&e, &id), 0);
				ck_assert_int_eq(kr_string(&e, 1, &host), 0);
				ck_assert_int_eq(kr_i32(&e, &port), 0);
				ck_assert_int_eq(kr_nullable_string(&e, 1, &rack), 0);
				ck_assert_int_eq(kr_skip_tags(&e), 0);
				ck_assert(host.len == 1 && host.ptr[0] == 'h' && port == 1);
			}
			ck_assert_uint_eq(e.pos, size);
			*endpoints = 1;
		} else {
			ck_assert_uint_eq(tag, KRW_PAD_TAG);
		}
		ck_assert_int_eq(kr_skip(&r, size), 0);
	}
	ck_assert_uint_eq(r.pos, len);
}

START_TEST(test_sweep_same_length)
{
	int crossed = 0;

	/* From a few bytes saved to over 16 KiB (the count reaches 128). */
	for (int n = 1; n <= 300; n += 7) {
		for (int host_len = 2; host_len <= 60; host_len += 3) {
			struct kwbuf in, rewritten;
			uint8_t *out;
			uint32_t count;
			int dropped, endpoints, rc;
			size_t gap;

			kw_init(&in);
			kw_init(&rewritten);
			section(&in, n, host_len);
			/* The rewritten form has one-byte names: this long. */
			section(&rewritten, n, 1);
			gap = in.len - rewritten.len;
			out = malloc(in.len);
			rc = krw_fetch_tail(in.buf, in.len, 16, out, &short_map, &dropped);
			ck_assert_msg(rc == KRW_CHANGED, "n=%d host_len=%d: rc %d", n, host_len, rc);
			check(out, in.len, &count, &endpoints);
			/* Padding needs 3 bytes or none; a 1- or 2-byte gap drops
			 * NodeEndpoints, any other keeps it. */
			ck_assert_msg(endpoints == (gap == 0 || gap >= 3) && dropped == !endpoints,
				      "n=%d host_len=%d gap %zu: endpoints %d", n, host_len, gap,
				      endpoints);
			crossed |= count >= 128;
			free(out);
			kw_free(&in);
			kw_free(&rewritten);
		}
	}
	ck_assert_msg(crossed, "no case reached 128 fields: the sweep misses the edge");
}
END_TEST

START_TEST(test_count_varint_boundary)
{
	/* Search for inputs whose greedy padding lands exactly on the count
	 * 127 -> 128 boundary; each must still fit exactly. */
	int hits = 0;

	for (int n = 250; n <= 320 && hits < 5; n++) {
		for (int host_len = 50; host_len <= 70; host_len++) {
			struct kwbuf in;
			uint8_t *out;
			uint32_t count;
			int dropped, endpoints;

			kw_init(&in);
			section(&in, n, host_len);
			out = malloc(in.len);
			ck_assert_int_eq(krw_fetch_tail(in.buf, in.len, 16, out, &short_map, &dropped),
					 KRW_CHANGED);
			check(out, in.len, &count, &endpoints);
			ck_assert(endpoints);
			hits += count == 128;
			free(out);
			kw_free(&in);
		}
	}
	ck_assert_int_gt(hits, 0);
}
END_TEST

START_TEST(test_longer_drops_endpoints)
{
	/* One-byte names rewritten to longer ones cannot fit: dropped. */
	struct kwbuf in;
	uint8_t *out;
	uint32_t count, tag, size;
	struct kreader r;
	int dropped;
	struct kmap_addr long_addr = {"a-much-longer-gateway-name.example.com", 0, 8443};
	const struct kmap long_map = {.lookup = map_fixed, .ctx = &long_addr};

	long_addr.host_len = (int32_t)strlen(long_addr.host);
	kw_init(&in);
	section(&in, 3, 1);
	out = malloc(in.len);
	ck_assert_int_eq(krw_fetch_tail(in.buf, in.len, 16, out, &long_map, &dropped),
			 KRW_CHANGED);
	ck_assert(dropped);
	kr_init(&r, out, in.len);
	ck_assert_int_eq(kr_uvarint(&r, &count), 0);
	for (uint32_t i = 0; i < count; i++) {
		ck_assert_int_eq(kr_uvarint(&r, &tag), 0);
		ck_assert_uint_eq(tag, KRW_PAD_TAG);
		ck_assert_int_eq(kr_uvarint(&r, &size), 0);
		ck_assert_int_eq(kr_skip(&r, size), 0);
	}
	ck_assert_uint_eq(r.pos, in.len);
	free(out);
	kw_free(&in);
}
END_TEST

Suite *suite_tail(void)
{
	Suite *s = suite_create("fetch tail");
	TCase *tc = tcase_create("same length");

	tcase_add_test(tc, test_sweep_same_length);
	tcase_add_test(tc, test_count_varint_boundary);
	tcase_add_test(tc, test_longer_drops_endpoints);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
