/* fuzz_rewriters.c — every whole-frame response rewriter (the rows of the
 * API table in protocol/kapi.c whose mode is KAPI_REWRITE) at every version
 * it can be handed.
 *
 * Input: [api] [version] [the response frame after its 4-byte size ...].
 * api is used as the ApiKey when it is the key of such a row, else it picks
 * row api % rows; version likewise, within 0..max_version (ApiVersions,
 * whose newer requests kgate forwards, up to max_version + 2: every later
 * version reads alike).
 *
 * Why: the gateway forwards what a rewriter accepts, so besides never
 * crashing on any bytes a rewriter must
 *   - on KRW_UNCHANGED leave out untouched (the input goes as it came);
 *   - on KRW_CHANGED produce bytes that differ from the input and decode
 *     again: rewriting them with the same map is KRW_UNCHANGED (idempotence:
 *     nothing is half-rewritten, and every length it re-encoded is right);
 *   - carry the same endpoints, in the same order, each node the map knows
 *     moved to its address and every other one untouched;
 *   - judge a frame by its bytes, not by the map: with a map that moves
 *     nothing the verdict is KRW_ERROR exactly when it is with the real one,
 *     and only ApiVersions (which caps versions, not addresses) can change.
 */
#include <stdlib.h>
#include <string.h>

#include "../../protocol/kapi.h"
#include "common.h"

static const struct kapi *rows[KAPI_MAX_KEY + 1];
static int16_t row_keys[KAPI_MAX_KEY + 1];
static size_t n_rows;

static void find_rows(void)
{
	for (int16_t k = 0; k <= KAPI_MAX_KEY; k++) {
		const struct kapi *a = kapi_get(k);

		if (a->mode == KAPI_REWRITE && a->rewrite) {
			row_keys[n_rows] = k;
			rows[n_rows++] = a;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_record first, again, plain;
	const struct kapi *a;
	struct kmap map1, map2, map3;
	struct kwbuf out, out2;
	const uint8_t *in;
	int16_t key, v, hi;
	size_t len, ri;
	int rc, rc2, rc3;

	if (!n_rows)
		find_rows();
	if (size < 2)
		return 0;
	ri = n_rows;
	for (size_t i = 0; i < n_rows; i++)
		if (row_keys[i] == data[0])
			ri = i;
	if (ri == n_rows)
		ri = data[0] % n_rows;
	a = rows[ri];
	key = row_keys[ri];
	hi = (int16_t)(a->max_version + ((a->flags & KAPI_F_LENIENT) ? 2 : 0));
	v = data[1] <= hi ? data[1] : (int16_t)(data[1] % (hi + 1));
	in = data + 2;
	len = size - 2;

	kw_init(&out);
	kw_init(&out2);
	fuzz_record_init(&first, 1, &map1);
	rc = a->rewrite(in, len, v, &out, &map1);
	FUZZ_CHECK(rc == KRW_ERROR || rc == KRW_UNCHANGED || rc == KRW_CHANGED,
		   "%s v%d answered %d", a->name, v, rc);
	fuzz_mark(ri * 256 + (size_t)v * 4 + (size_t)(rc + 1));
	/* A response decoded whole ended every listing it began. */
	FUZZ_CHECK(rc == KRW_ERROR || !first.listing, "%s v%d left a listing open", a->name, v);

	/* The verdict does not depend on the map. */
	fuzz_record_init(&plain, 0, &map3);
	rc3 = a->rewrite(in, len, v, &out2, &map3);
	FUZZ_CHECK((rc3 == KRW_ERROR) == (rc == KRW_ERROR),
		   "%s v%d: %d with the map, %d with a map that moves nothing", a->name, v, rc,
		   rc3);
	if (key != KAPI_API_VERSIONS)
		FUZZ_CHECK(rc3 != KRW_CHANGED, "%s v%d changed with a map that moves nothing",
			   a->name, v);
	FUZZ_CHECK(plain.n == first.n, "%s v%d: %zu endpoints looked up, then %zu", a->name, v,
		   first.n, plain.n);
	kw_free(&out2);

	if (rc == KRW_UNCHANGED) {
		FUZZ_CHECK(out.len == 0 && !out.failed, "%s v%d: unchanged but wrote %zu bytes",
			   a->name, v, out.len);
		/* Nothing to move: every endpoint is unmapped or already there. */
		for (size_t i = 0; i < first.kept; i++) {
			struct kmap_addr m;
			const struct fuzz_seen *s = &first.seen[i];

			if (!fuzz_map_addr(s->node_id, &m))
				continue;
			FUZZ_CHECK(s->host_len == m.host_len && s->port == m.port &&
					   s->host_hash == fuzz_hash(m.host, (size_t)m.host_len),
				   "%s v%d: unchanged but node %d is not at its address", a->name,
				   v, s->node_id);
		}
	} else if (rc == KRW_CHANGED) {
		FUZZ_CHECK(!out.failed, "%s v%d: changed with a failed writer", a->name, v);
		FUZZ_CHECK(out.len != len || memcmp(out.buf, in, len) != 0,
			   "%s v%d: changed but the bytes are the same", a->name, v);
		/* A copy of exactly its length, so a read past it is caught. */
		{
			uint8_t *copy = malloc(out.len ? out.len : 1);

			FUZZ_CHECK(copy != NULL, "out of memory");
			memcpy(copy, out.buf, out.len);
			kw_init(&out2);
			fuzz_record_init(&again, 1, &map2);
			rc2 = a->rewrite(copy, out.len, v, &out2, &map2);
			FUZZ_CHECK(rc2 == KRW_UNCHANGED,
				   "%s v%d: rewriting the rewritten frame gave %d, not unchanged",
				   a->name, v, rc2);
			FUZZ_CHECK(out2.len == 0, "%s v%d: second rewrite wrote %zu bytes", a->name,
				   v, out2.len);
			fuzz_check_mapped(&first, &again, a->name);
			kw_free(&out2);
			free(copy);
		}
	}
	kw_free(&out);
	return 0;
}
