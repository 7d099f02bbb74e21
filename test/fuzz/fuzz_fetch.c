/* fuzz_fetch.c — the streamed responses' walkers (Fetch's,
 * protocol/fetch_walk.c, and ShareFetch's, protocol/share_walk.c) fed a
 * response in pieces, and the same-length rewrite of the tail they find
 * (krw_fetch_tail in protocol/rw_fetch_tail.c, krw_share_fetch_tail in
 * protocol/rw_share.c), each through the API table's kapi_stream.
 *
 * Input: [version] [window] [k] [k piece sizes] [the frame after its size:
 * CorrelationId, then what the walker reads ...].  A version byte below 128
 * is Fetch v12 + version % 7 (v12-18, every version the walker knows); from
 * 128 on it is ShareFetch v(version % 3) (v0-2); the walker is offered at
 * most KFW_MAX_PRIMITIVE + window % (257 - KFW_MAX_PRIMITIVE) bytes at a
 * time (the header's contract: at least KFW_MAX_PRIMITIVE); bytes arrive in
 * pieces of piece + 1 bytes, the k sizes used in turn.  The walk follows
 * gateway/kstream.c's walk_step: the frame's last byte is never offered,
 * opaque runs are passed by length, a run past the frame is refused.
 *
 * Why: kgate forwards a Fetch response while it walks it, so the walk must
 * come out the same however TCP cut the stream: the tail's offset (or the
 * error) is compared with one walk of the whole frame through kstream's
 * 256-byte window, and a walk that cannot move on with bytes at hand is a
 * stall.  The size was forwarded first, so the rewritten tail must keep the
 * length (out is allocated to exactly that), decode again, be unchanged by
 * a second rewrite, hold the same endpoints each mapped (or none, when
 * NodeEndpoints was dropped), and be judged by its bytes: with a map that
 * moves nothing it is KRW_ERROR exactly when it is with the real one, and
 * KRW_UNCHANGED or KRW_ERROR never touch out.
 */
#include <stdlib.h>
#include <string.h>

#include "../../protocol/kapi.h"
#include "../../protocol/rewrite.h"
#include "common.h"

/* gateway/kstream.c's WALK_WINDOW. */
#define KSTREAM_WINDOW 256

enum { W_MALFORMED = -1, W_ENDED = -2, W_TRUNCATED = -3, W_RUNS_PAST = -4 };

/* Bytes arriving in pieces. */
struct arrival {
	const uint8_t *sizes;
	size_t n_sizes, next;
	size_t avail, len; /* bytes arrived, of len */
};

static void arrive(struct arrival *a)
{
	size_t piece = a->n_sizes ? (size_t)a->sizes[a->next++ % a->n_sizes] + 1 : a->len;

	a->avail = a->len - a->avail < piece ? a->len : a->avail + piece;
}

/* The API under test: its key, version, streaming interface and the slot
 * its coverage marks use (Fetch v12-18: 0-6, ShareFetch v0-2: 7-9). */
struct api_under_test {
	int16_t key, version;
	const struct kapi_stream *st;
	size_t slot;
	const char *name;
};

/* Walks body[0..len) (the frame after its CorrelationId) as kstream does;
 * the tail's offset in body, or a W_* error. */
static long walk(const struct api_under_test *t, const uint8_t *body, size_t len,
		 struct arrival *a, size_t window)
{
	union kapi_walk w;
	size_t pos = 0;
	uint64_t skip = 0;
	int16_t version = t->version;

	t->st->init(&w, version);
	a->len = len;
	a->avail = 0;
	if (len <= 1)
		return W_ENDED;
	for (;;) {
		size_t left = len - pos, n, used;
		int rc;

		if (skip) {
			size_t m;

			if (a->avail == pos)
				arrive(a);
			m = a->avail - pos < skip ? a->avail - pos : (size_t)skip;
			pos += m;
			skip -= m;
			continue;
		}
		if (left <= 1)
			return W_ENDED;
		if (a->avail == pos)
			arrive(a);
		n = a->avail - pos;
		if (n > left - 1)
			n = left - 1;
		if (n > window)
			n = window;
		used = (size_t)-1;
		rc = t->st->walk(&w, body + pos, n, &used, &skip);
		FUZZ_CHECK(used <= n, "walker used %zu of %zu bytes", used, n);
		switch (rc) {
		case KFW_ERROR:
			FUZZ_CHECK(used == 0 && skip == 0, "error with used %zu skip %llu", used,
				   (unsigned long long)skip);
			return W_MALFORMED;
		case KFW_NEED_MORE:
			FUZZ_CHECK(skip == 0, "need-more with a skip");
			pos += used;
			if (used)
				continue;
			if (n == left - 1)
				return W_TRUNCATED;
			FUZZ_CHECK(n < window,
				   "walker stalled: offered %zu bytes (window %zu) at %zu of %zu, "
				   "it needs more at once",
				   n, window, pos, len);
			arrive(a);
			break;
		case KFW_SKIP:
			FUZZ_CHECK(skip > 0, "a skip of nothing");
			pos += used;
			if (skip >= len - pos)
				return W_RUNS_PAST;
			break;
		case KFW_TAIL:
			FUZZ_CHECK(skip == 0, "tail with a skip");
			return (long)(pos + used);
		default:
			FUZZ_CHECK(0, "walker answered %d", rc);
		}
	}
}

/* The tail rewritten: same length, stable, the endpoints mapped. */
static void check_tail(const struct api_under_test *t, const uint8_t *tail, size_t len)
{
	int16_t version = t->version;
	static struct fuzz_record first, again, plain;
	struct kmap map1, map2, map3;
	uint8_t *out = malloc(len), *out2 = malloc(len), *copy = malloc(len);
	int rc, rc2, rc3, dropped = -1, dropped2 = -1, dropped3 = -1;

	FUZZ_CHECK(out && out2 && copy, "out of memory");
	memset(out, 0xa5, len);
	fuzz_record_init(&first, 1, &map1);
	rc = t->st->rewrite_tail(tail, len, version, out, &map1, &dropped);
	FUZZ_CHECK(rc == KRW_ERROR || rc == KRW_UNCHANGED || rc == KRW_CHANGED,
		   "%s v%d tail: %d", t->name, version, rc);
	FUZZ_CHECK(dropped == 0 || (dropped == 1 && rc == KRW_CHANGED),
		   "%s v%d tail: dropped %d with %d", t->name, version, dropped, rc);

	fuzz_record_init(&plain, 0, &map3);
	memset(out2, 0xa5, len);
	rc3 = t->st->rewrite_tail(tail, len, version, out2, &map3, &dropped3);
	FUZZ_CHECK((rc3 == KRW_ERROR) == (rc == KRW_ERROR) && rc3 != KRW_CHANGED,
		   "%s v%d tail: %d with the map, %d with one that moves nothing", t->name, version, rc,
		   rc3);
	FUZZ_CHECK(t->key != KAPI_FETCH || version >= 16 || rc != KRW_CHANGED,
		   "%s v%d tail changed", t->name, version);
	fuzz_mark(1024 + t->slot * 8 + (size_t)(rc + 1) * 2 + (size_t)dropped);

	if (rc != KRW_CHANGED) {
		for (size_t i = 0; i < len; i++)
			FUZZ_CHECK(out[i] == 0xa5, "%s v%d tail: %d but out was written",
				   t->name, version, rc);
	} else {
		FUZZ_CHECK(memcmp(out, tail, len) != 0, "%s v%d tail: changed to itself",
			   t->name, version);
		memcpy(copy, out, len);
		fuzz_record_init(&again, 1, &map2);
		rc2 = t->st->rewrite_tail(copy, len, version, out2, &map2, &dropped2);
		FUZZ_CHECK(rc2 == KRW_UNCHANGED,
			   "%s v%d tail: rewriting the rewritten tail gave %d", t->name, version, rc2);
		if (dropped)
			FUZZ_CHECK(again.n == 0, "%s v%d tail: dropped, yet %zu endpoints left",
				   t->name, version, again.n);
		else
			fuzz_check_mapped(&first, &again, t->name);
	}
	free(out);
	free(out2);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arrival whole = {NULL, 0, 0, 0, 0}, cut;
	struct api_under_test t;
	const uint8_t *body;
	size_t k, window, len;
	long ref, got;

	if (size < 3)
		return 0;
	if (data[0] < 128) {
		t.key = KAPI_FETCH;
		t.version = (int16_t)(12 + data[0] % 7);
		t.slot = (size_t)(t.version - 12);
	} else {
		t.key = KAPI_SHARE_FETCH;
		t.version = (int16_t)(data[0] % 3);
		t.slot = 7 + (size_t)t.version;
	}
	t.st = kapi_get(t.key)->stream;
	t.name = kapi_get(t.key)->name;
	window = KFW_MAX_PRIMITIVE + data[1] % (257 - KFW_MAX_PRIMITIVE);
	k = data[2] % 16 + 1;
	if (size < 3 + k + 4)
		return 0;
	cut.sizes = data + 3;
	cut.n_sizes = k;
	cut.next = 0;
	body = data + 3 + k + 4; /* past CorrelationId, as kstream starts it */
	len = size - (3 + k + 4);

	ref = walk(&t, body, len, &whole, KSTREAM_WINDOW);
	got = walk(&t, body, len, &cut, window);
	FUZZ_CHECK(got == ref, "%s v%d: %ld walked whole, %ld in pieces (window %zu)", t.name,
		   t.version, ref, got, window);
	fuzz_mark(t.slot * 8 + (size_t)(ref >= 0 ? 0 : -ref));
	if (ref >= 0) {
		/* A copy of exactly the tail, so a read past it is caught. */
		size_t tail_len = len - (size_t)ref;
		uint8_t *tail = malloc(tail_len);

		FUZZ_CHECK(tail != NULL, "out of memory");
		memcpy(tail, body + ref, tail_len);
		check_tail(&t, tail, tail_len);
		free(tail);
	}
	return 0;
}
