/* test_kbuf.c — the bounded reader and the writer, primitive by primitive. */
#include <stdint.h>
#include <string.h>

#include "../../protocol/kbuf.h"
#include "tests.h"

START_TEST(test_ints_big_endian)
{
	static const uint8_t b[] = {0xff, 0x12, 0x34, 0x12, 0x34, 0x56, 0x78,
				    0x80, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xef};
	struct kreader r;
	int8_t i8;
	int16_t i16;
	int32_t i32;
	int64_t i64;
	uint16_t u16;

	kr_init(&r, b, sizeof(b));
	ck_assert_int_eq(kr_i8(&r, &i8), 0);
	ck_assert_int_eq(i8, -1);
	ck_assert_int_eq(kr_i16(&r, &i16), 0);
	ck_assert_int_eq(i16, 0x1234);
	ck_assert_int_eq(kr_i32(&r, &i32), 0);
	ck_assert_int_eq(i32, 0x12345678);
	ck_assert_int_eq(kr_i64(&r, &i64), 0);
	ck_assert(i64 == (int64_t)0x8000000000000001ULL);
	ck_assert_int_eq(kr_u16(&r, &u16), 0);
	ck_assert_uint_eq(u16, 0xbeef);
	ck_assert_uint_eq(kr_remaining(&r), 0);
	/* Past the end: fails and latches. */
	ck_assert_int_eq(kr_i8(&r, &i8), -1);
	ck_assert_int_eq(r.err, KR_ERR_SHORT);
}
END_TEST

START_TEST(test_uvarint_round_trip)
{
	static const uint32_t values[] = {0, 1, 127, 128, 300, 16383, 16384, 2097151,
					  2097152, 268435455, 268435456, UINT32_MAX};
	struct kwbuf w;

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		struct kreader r;
		uint32_t v;

		kw_init(&w);
		kw_uvarint(&w, values[i]);
		ck_assert_uint_eq(w.len, kbuf_uvarint_len(values[i]));
		kr_init(&r, w.buf, w.len);
		ck_assert_int_eq(kr_uvarint(&r, &v), 0);
		ck_assert_uint_eq(v, values[i]);
		ck_assert_uint_eq(r.pos, w.len);
		/* Every proper prefix is short, not invalid. */
		for (size_t cut = 0; cut < w.len; cut++) {
			kr_init(&r, w.buf, cut);
			ck_assert_int_eq(kr_uvarint(&r, &v), -1);
			ck_assert_int_eq(r.err, KR_ERR_SHORT);
		}
		kw_free(&w);
	}
}
END_TEST

START_TEST(test_uvarint_invalid)
{
	/* Six bytes of continuation, and a fifth byte with high bits set. */
	static const uint8_t too_long[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
	static const uint8_t overflow[] = {0xff, 0xff, 0xff, 0xff, 0x1f};
	struct kreader r;
	uint32_t v;

	kr_init(&r, too_long, sizeof(too_long));
	ck_assert_int_eq(kr_uvarint(&r, &v), -1);
	ck_assert_int_eq(r.err, KR_ERR_INVALID);
	kr_init(&r, overflow, sizeof(overflow));
	ck_assert_int_eq(kr_uvarint(&r, &v), -1);
	ck_assert_int_eq(r.err, KR_ERR_INVALID);
}
END_TEST

START_TEST(test_varint_zigzag)
{
	static const uint8_t b[] = {0x00, 0x01, 0x02, 0x03, 0xfe, 0xff, 0xff, 0xff, 0x0f,
				    0xff, 0xff, 0xff, 0xff, 0x0f};
	static const int32_t want[] = {0, -1, 1, -2, INT32_MAX, INT32_MIN};
	struct kreader r;
	int32_t v;

	kr_init(&r, b, sizeof(b));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ck_assert_int_eq(kr_varint(&r, &v), 0);
		ck_assert_int_eq(v, want[i]);
	}
}
END_TEST

START_TEST(test_strings)
{
	struct kwbuf w;
	struct kreader r;
	struct kstr s;

	kw_init(&w);
	kw_string(&w, 0, "abc", 3);
	kw_string(&w, 1, "hello", 5);
	kw_string(&w, 0, NULL, -1);
	kw_string(&w, 1, NULL, -1);
	kw_string(&w, 1, "", 0);
	ck_assert(!w.failed);
	kr_init(&r, w.buf, w.len);
	ck_assert_int_eq(kr_string(&r, 0, &s), 0);
	ck_assert_int_eq(s.len, 3);
	ck_assert(memcmp(s.ptr, "abc", 3) == 0);
	ck_assert_int_eq(kr_string(&r, 1, &s), 0);
	ck_assert_int_eq(s.len, 5);
	ck_assert(memcmp(s.ptr, "hello", 5) == 0);
	/* Null is accepted only where nullable. */
	ck_assert_int_eq(kr_nullable_string(&r, 0, &s), 0);
	ck_assert_int_eq(s.len, -1);
	ck_assert_int_eq(kr_nullable_string(&r, 1, &s), 0);
	ck_assert_int_eq(s.len, -1);
	ck_assert_int_eq(kr_string(&r, 1, &s), 0);
	ck_assert_int_eq(s.len, 0);
	ck_assert_uint_eq(kr_remaining(&r), 0);
	kw_reset(&w);
	kw_string(&w, 1, NULL, -1);
	kr_init(&r, w.buf, w.len);
	ck_assert_int_eq(kr_string(&r, 1, &s), -1);
	ck_assert_int_eq(r.err, KR_ERR_INVALID);
	kw_free(&w);
}
END_TEST

START_TEST(test_string_limits)
{
	/* int16 length -2 and a compact length of 32768 + 1 are invalid; a
	 * length longer than the data is short. */
	static const uint8_t neg[] = {0xff, 0xfe};
	static const uint8_t huge[] = {0x81, 0x80, 0x02};
	static const uint8_t longer[] = {0x00, 0x05, 'a', 'b'};
	struct kreader r;
	struct kstr s;

	kr_init(&r, neg, sizeof(neg));
	ck_assert_int_eq(kr_nullable_string(&r, 0, &s), -1);
	ck_assert_int_eq(r.err, KR_ERR_INVALID);
	kr_init(&r, huge, sizeof(huge));
	ck_assert_int_eq(kr_nullable_string(&r, 1, &s), -1);
	ck_assert_int_eq(r.err, KR_ERR_INVALID);
	kr_init(&r, longer, sizeof(longer));
	ck_assert_int_eq(kr_string(&r, 0, &s), -1);
	ck_assert_int_eq(r.err, KR_ERR_SHORT);
}
END_TEST

START_TEST(test_array_counts_bounded)
{
	/* 1,000,000 elements of at least 4 bytes cannot fit in 8 bytes. */
	static const uint8_t absurd[] = {0x00, 0x0f, 0x42, 0x40, 1, 2, 3, 4, 5, 6, 7, 8};
	static const uint8_t neg[] = {0xff, 0xff, 0xff, 0xfe};
	static const uint8_t null_arr[] = {0xff, 0xff, 0xff, 0xff};
	static const uint8_t compact_null[] = {0x00};
	static const uint8_t compact_two[] = {0x03, 0, 0, 0, 1, 0, 0, 0, 2};
	struct kreader r;
	int32_t n;

	kr_init(&r, absurd, sizeof(absurd));
	ck_assert_int_eq(kr_array(&r, 0, 4, &n), -1);
	ck_assert_int_eq(r.err, KR_ERR_INVALID);
	kr_init(&r, neg, sizeof(neg));
	ck_assert_int_eq(kr_nullable_array(&r, 0, 1, &n), -1);
	kr_init(&r, null_arr, sizeof(null_arr));
	ck_assert_int_eq(kr_nullable_array(&r, 0, 1, &n), 0);
	ck_assert_int_eq(n, -1);
	kr_init(&r, null_arr, sizeof(null_arr));
	ck_assert_int_eq(kr_array(&r, 0, 1, &n), -1);
	kr_init(&r, compact_null, sizeof(compact_null));
	ck_assert_int_eq(kr_nullable_array(&r, 1, 1, &n), 0);
	ck_assert_int_eq(n, -1);
	kr_init(&r, compact_two, sizeof(compact_two));
	ck_assert_int_eq(kr_array(&r, 1, 4, &n), 0);
	ck_assert_int_eq(n, 2);
}
END_TEST

START_TEST(test_tags_and_bytes)
{
	/* Two tagged fields (tag 0 size 2, tag 300 size 0), then compact bytes. */
	static const uint8_t b[] = {0x02, 0x00, 0x02, 0xaa, 0xbb, 0xac, 0x02, 0x00,
				    0x03, 0x01, 0x02};
	static const uint8_t bad_tags[] = {0x05, 0x00, 0x01};
	struct kreader r;

	kr_init(&r, b, sizeof(b));
	ck_assert_int_eq(kr_skip_tags(&r), 0);
	ck_assert_int_eq(kr_skip_bytes(&r, 1, 0), 0);
	ck_assert_uint_eq(kr_remaining(&r), 0);
	kr_init(&r, bad_tags, sizeof(bad_tags));
	ck_assert_int_eq(kr_skip_tags(&r), -1);
}
END_TEST

START_TEST(test_writer_patch_and_ints)
{
	struct kwbuf w;
	size_t off;

	kw_init(&w);
	off = kw_reserve_i32(&w);
	kw_i16(&w, -2);
	kw_i64(&w, 0x0102030405060708LL);
	kw_array_len(&w, 1, 2);
	kw_array_len(&w, 0, -1);
	kw_patch_i32(&w, off, (int32_t)(w.len - 4));
	ck_assert(!w.failed);
	ck_assert_uint_eq(w.len, 4 + 2 + 8 + 1 + 4);
	ck_assert_int_eq(kbuf_get_i32(w.buf), 15);
	ck_assert_int_eq(kbuf_get_i16(w.buf + 4), -2);
	ck_assert_uint_eq(w.buf[6], 1);
	ck_assert_uint_eq(w.buf[13], 8);
	ck_assert_uint_eq(w.buf[14], 3);
	/* Over-long strings fail the writer for good. */
	kw_string(&w, 0, "x", KBUF_MAX_STRING + 1);
	ck_assert(w.failed);
	kw_i8(&w, 1);
	ck_assert(w.failed);
	kw_free(&w);
}
END_TEST

Suite *suite_kbuf(void)
{
	Suite *s = suite_create("kbuf");
	TCase *tc = tcase_create("primitives");

	tcase_add_test(tc, test_ints_big_endian);
	tcase_add_test(tc, test_uvarint_round_trip);
	tcase_add_test(tc, test_uvarint_invalid);
	tcase_add_test(tc, test_varint_zigzag);
	tcase_add_test(tc, test_strings);
	tcase_add_test(tc, test_string_limits);
	tcase_add_test(tc, test_array_counts_bounded);
	tcase_add_test(tc, test_tags_and_bytes);
	tcase_add_test(tc, test_writer_patch_and_ints);
	suite_add_tcase(s, tc);
	return s;
}
