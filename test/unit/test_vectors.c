/* test_vectors.c — every rewriter at every version against the byte tables
 * in test/vectors/rewrite.json, generated from Kafka's schemas by an
 * independent encoder (scripts/gen_vectors.py).
 *
 * Each vector is checked three ways: the rewrite gives exactly the expected
 * bytes; cutting the input short at every offset is refused; and for the
 * streamed APIs (Fetch, ShareFetch)
 * the walker finds the same tail whichever way the bytes arrive.
 * And the vectors and the API table must agree: every version kgate
 * rewrites has vectors, and none is beyond what it understands.
 */
#include <stdlib.h>
#include <string.h>

#include "../../protocol/fetch_walk.h"
#include "../../protocol/kapi.h"
#include "../../protocol/rewrite.h"
#include "tests.h"
#include "vectors.h"

/* Applies the whole-frame rewriter; returns the krw result, output in out. */
static int rewrite(const struct vec *v, const uint8_t *in, size_t len, struct kwbuf *out)
{
	krw_fn fn = kapi_get(v->api_key)->rewrite;

	ck_assert_msg(fn != NULL, "%s: no rewriter for api %d", v->name, v->api_key);
	kw_reset(out);
	return fn(in, len, v->version, out, &vec_map);
}

/* The streaming interface of a vector's API, or NULL if it is not streamed. */
static const struct kapi_stream *streamed(const struct vec *v)
{
	return kapi_get(v->api_key)->stream;
}

/* Streams a frame of a streamed API through its walker as the gateway does,
 * with bytes arriving chunk at a time.  Returns the tail offset, or -1 on
 * error. */
static long walk(const struct vec *v, const uint8_t *in, size_t len, size_t chunk)
{
	const struct kapi_stream *st = streamed(v);
	union kapi_walk w;
	size_t pos = 4, arrived = len < 4 + chunk ? len : 4 + chunk;

	/* The gateway never walks a frame shorter than its CorrelationId. */
	if (len < 4)
		return -1;
	st->init(&w, v->version);
	for (;;) {
		size_t avail = arrived - pos, n = avail < 256 ? avail : 256, used;
		uint64_t skip;
		int rc = st->walk(&w, in + pos, n, &used, &skip);

		pos += used;
		switch (rc) {
		case KFW_SKIP:
			if (skip > len - pos)
				return -1;
			pos += (size_t)skip;
			if (arrived < pos)
				arrived = pos;
			break;
		case KFW_TAIL:
			return (long)pos;
		case KFW_NEED_MORE:
			if (used)
				break;
			if (arrived == len && n == avail)
				return -1; /* the whole frame was offered */
			arrived = arrived + chunk < len ? arrived + chunk : len;
			break;
		default:
			return -1;
		}
	}
}

/* A streamed API: the gateway's path, byte for byte, into a same-size output. */
static int stream_path(const struct vec *v, const uint8_t *in, size_t len, size_t chunk,
		       uint8_t *out)
{
	long tail = walk(v, in, len, chunk);
	int dropped, rc;

	if (tail < 0)
		return KRW_ERROR;
	memcpy(out, in, (size_t)tail);
	rc = streamed(v)->rewrite_tail(in + tail, len - (size_t)tail, v->version, out + tail,
				       &vec_map, &dropped);
	if (rc == KRW_UNCHANGED)
		memcpy(out + tail, in + tail, len - (size_t)tail);
	return rc;
}

START_TEST(test_vector_rewrite)
{
	struct vec v;
	struct kwbuf out;
	int rc;

	vec_get((size_t)_i, &v);
	kw_init(&out);
	if (streamed(&v)) {
		static const size_t chunks[] = {1, 7, 64, 100000000};
		uint8_t *o = malloc(v.in_len);

		ck_assert_uint_eq(v.in_len, v.want_len);
		if (v.tail_offset >= 0)
			ck_assert_int_eq(walk(&v, v.in, v.in_len, 1 << 30), v.tail_offset);
		for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
			rc = stream_path(&v, v.in, v.in_len, chunks[c], o);
			ck_assert_msg(rc != KRW_ERROR, "%s: refused (chunk %zu)", v.name, chunks[c]);
			ck_assert_msg(memcmp(o, v.want, v.in_len) == 0,
				      "%s: output differs (chunk %zu)", v.name, chunks[c]);
		}
		/* Streaming is used where NodeEndpoints exists (Fetch v16+). */
		ck_assert_int_eq(kapi_mode_for(v.api_key, v.version),
				 strcmp(v.mode, "unchanged") ? KAPI_TAIL : KAPI_PASS);
		free(o);
	} else {
		rc = rewrite(&v, v.in, v.in_len, &out);
		ck_assert_msg(rc != KRW_ERROR, "%s: refused", v.name);
		if (rc == KRW_UNCHANGED) {
			ck_assert_msg(v.in_len == v.want_len && !memcmp(v.in, v.want, v.in_len),
				      "%s: left unchanged but a rewrite was expected", v.name);
		} else {
			ck_assert_msg(out.len == v.want_len && !memcmp(out.buf, v.want, out.len),
				      "%s: output differs (%zu bytes, want %zu)", v.name, out.len,
				      v.want_len);
		}
		if (strcmp(v.mode, "unchanged") == 0)
			ck_assert_int_eq(kapi_mode_for(v.api_key, v.version), KAPI_PASS);
		else
			ck_assert_int_eq(kapi_mode_for(v.api_key, v.version), KAPI_REWRITE);
	}
	kw_free(&out);
	vec_free(&v);
}
END_TEST

START_TEST(test_vector_truncated)
{
	struct vec v;
	struct kwbuf out;
	uint8_t *copy, *o;
	/* Large vectors are cut at a sample of offsets, small ones at all. */
	size_t step;

	vec_get((size_t)_i, &v);
	kw_init(&out);
	step = v.in_len > 16384 ? v.in_len / 4096 : 1;
	o = malloc(v.in_len);
	for (size_t cut = 0; cut < v.in_len; cut += step) {
		int rc;

		if (vec_undecoded_after_error(&v) && cut >= 6)
			break;
		/* An exact-size copy so ASan sees any read past the cut. */
		copy = malloc(cut ? cut : 1);
		memcpy(copy, v.in, cut);
		if (streamed(&v))
			rc = stream_path(&v, copy, cut, 64, o);
		else
			rc = rewrite(&v, copy, cut, &out);
		ck_assert_msg(rc == KRW_ERROR, "%s: accepted when cut to %zu of %zu bytes",
			      v.name, cut, v.in_len);
		free(copy);
	}
	/* Trailing garbage is refused too. */
	copy = malloc(v.in_len + 1);
	memcpy(copy, v.in, v.in_len);
	copy[v.in_len] = 0;
	if (!streamed(&v) && !vec_undecoded_after_error(&v))
		ck_assert_msg(rewrite(&v, copy, v.in_len + 1, &out) == KRW_ERROR,
			      "%s: accepted a trailing byte", v.name);
	free(copy);
	free(o);
	kw_free(&out);
	vec_free(&v);
}
END_TEST

/* The table and the vectors cannot drift apart: a version added to
 * kapi.c without vectors, or vectors for a version kgate no longer takes,
 * fail here. */
START_TEST(test_vectors_cover_the_api_table)
{
	/* covered[key][version]: a vector exists. */
	static uint8_t covered[KAPI_MAX_KEY + 1][64];
	size_t n = vectors_count();

	memset(covered, 0, sizeof(covered));
	for (size_t i = 0; i < n; i++) {
		struct vec v;
		const struct kapi *api;

		vec_get(i, &v);
		api = kapi_get(v.api_key);
		ck_assert_msg(api->name, "%s: ApiKey %d is not in the table", v.name, v.api_key);
		ck_assert_msg(v.version >= 0 && v.version < 64, "%s: version %d", v.name,
			      v.version);
		ck_assert_msg(api->max_version < 0 || v.version <= api->max_version,
			      "%s: v%d is above the %d kgate understands", v.name, v.version,
			      api->max_version);
		covered[v.api_key][v.version] = 1;
		vec_free(&v);
	}
	for (int16_t key = 0; key <= KAPI_MAX_KEY; key++) {
		const struct kapi *api = kapi_get(key);

		if (!api->name || api->mode == KAPI_PASS)
			continue;
		for (int16_t ver = api->rewrite_from; ver <= api->max_version; ver++)
			ck_assert_msg(covered[key][ver], "%s v%d is rewritten but has no vectors",
				      api->name, ver);
	}
}
END_TEST

/* Walks a whole frame of a streamed API offering at most window bytes at a
 * time; the tail offset, -1 if refused, -2 if the walker stalled: it
 * consumed nothing of a full window and asked for more. */
static long walk_window(const struct vec *v, const uint8_t *in, size_t len, size_t window)
{
	const struct kapi_stream *st = streamed(v);
	union kapi_walk w;
	size_t pos = 4;

	st->init(&w, v->version);
	for (;;) {
		size_t n = len - pos < window ? len - pos : window, used;
		uint64_t skip;
		int rc = st->walk(&w, in + pos, n, &used, &skip);

		pos += used;
		switch (rc) {
		case KFW_SKIP:
			if (skip > len - pos)
				return -1;
			pos += (size_t)skip;
			break;
		case KFW_TAIL:
			return (long)pos;
		case KFW_NEED_MORE:
			if (used)
				break;
			return n == window ? -2 : -1;
		default:
			return -1;
		}
	}
}

/* fetch_walk.h promises that a caller offering KFW_MAX_PRIMITIVE bytes
 * whenever that many remain gets through any frame.  Fuzzing found the
 * walker reading a partition's fixed fields (30 bytes) at once, more than
 * the 16 it promised: such a caller stalled at the first partition. */
START_TEST(test_vector_walk_smallest_window)
{
	size_t walked = 0;

	for (size_t i = 0; i < vectors_count(); i++) {
		struct vec v;

		vec_get(i, &v);
		if (streamed(&v) && v.tail_offset >= 0) {
			long got = walk_window(&v, v.in, v.in_len, KFW_MAX_PRIMITIVE);

			ck_assert_msg(got == v.tail_offset,
				      "%s: walked %ld with %d-byte windows, tail at %ld", v.name,
				      got, KFW_MAX_PRIMITIVE, v.tail_offset);
			walked++;
		}
		vec_free(&v);
	}
	ck_assert_uint_gt(walked, 0);
}
END_TEST

Suite *suite_vectors(void)
{
	Suite *s = suite_create("vectors");
	TCase *tc = tcase_create("rewrite.json");
	int n;

	vectors_load();
	n = (int)vectors_count();
	/* Loaded once here so the loop bounds are known; tests reload nothing. */
	tcase_add_loop_test(tc, test_vector_rewrite, 0, n);
	tcase_add_loop_test(tc, test_vector_truncated, 0, n);
	tcase_add_test(tc, test_vectors_cover_the_api_table);
	tcase_add_test(tc, test_vector_walk_smallest_window);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}
