/* rw_fetch_tail.c — rewrite the top-level tagged section of a Fetch response
 * (v16+: tag 0 is NodeEndpoints) without changing its length.
 *
 * The gateway has already forwarded the frame's 4-byte size and everything
 * before this section, so the section must come out exactly as long as it
 * went in.  If the rewritten NodeEndpoints is shorter, unknown tagged fields
 * (tag KRW_PAD_TAG, zero bytes) make up the difference; if it is longer, or
 * the gap is too small for a padding field (1 or 2 bytes), NodeEndpoints is
 * dropped and the rest padded: the client then refreshes Metadata, which is
 * what every client did before KIP-951.
 */
#include <string.h>

#include "krw.h"
#include "rewrite.h"

/* Padding field: tag (2 bytes), size (1 byte, <= 127), that many zeros. */
#define PAD_MIN 3
#define PAD_MAX 130

/* How one padding field's cost is chosen for a gap g: all of it when it
 * fits, else a full field unless that would leave 1 or 2 bytes. */
static size_t pad_cost(size_t g)
{
	if (g <= PAD_MAX)
		return g;
	return g - PAD_MAX < PAD_MIN ? PAD_MAX - PAD_MIN : PAD_MAX;
}

/* Number of padding fields that fill g exactly, or -1 if none can. */
static long pad_fields(size_t g)
{
	long k = 0;

	while (g > 0) {
		if (g < PAD_MIN)
			return -1;
		g -= pad_cost(g);
		k++;
	}
	return k;
}

/* Re-encodes the section's fields into body, rewriting (or, with drop,
 * removing) tag 0 when it is NodeEndpoints (has_endpoints, v16+).  *count is
 * the number of fields written. */
static int tail_fields(const uint8_t *in, size_t len, const struct kmap *map,
		       int has_endpoints, int drop, struct kwbuf *body, uint32_t *count,
		       int *changed)
{
	struct kreader r;
	uint32_t n, tag, size;

	kr_init(&r, in, len);
	KR_TRY(kr_uvarint(&r, &n));
	if (n > kr_remaining(&r) / 2)
		goto err;
	*count = 0;
	*changed = 0;
	for (uint32_t i = 0; i < n; i++) {
		size_t field_off = r.pos, data_off;

		KR_TRY(kr_uvarint(&r, &tag));
		KR_TRY(kr_uvarint(&r, &size));
		data_off = r.pos;
		KR_TRY(kr_skip(&r, size));
		if (tag != 0 || !has_endpoints) {
			kw_put(body, in + field_off, r.pos - field_off);
			++*count;
		} else if (drop) {
			*changed = 1;
		} else {
			/* A non-empty array (count + 1 > 1, then entries): the
			 * broker sent leader hints, so leadership moved. */
			if (size > 1 && in[data_off] > 1 && map && map->leader_moved)
				map->leader_moved(map->ctx);
			struct kwbuf tmp;
			struct krw y;
			int rc;

			kw_init(&tmp);
			krw_init(&y, in + data_off, size, &tmp, map);
			rc = krw_node_endpoints(&y) < 0 ? KRW_ERROR : krw_finish(&y);
			if (rc == KRW_CHANGED) {
				kw_uvarint(body, tag);
				kw_uvarint(body, (uint32_t)tmp.len);
				kw_put(body, tmp.buf, tmp.len);
				*changed = 1;
			} else {
				kw_put(body, in + field_off, r.pos - field_off);
			}
			kw_free(&tmp);
			if (rc == KRW_ERROR)
				goto err;
			++*count;
		}
	}
	if (r.pos != len || body->failed)
		goto err;
	return 0;
err:
	return -1;
}

/* Appends k padding fields of g bytes in all: the greedy split (pad_cost)
 * when k is what it gives, else an even split (every field 3..130 bytes,
 * which k's bounds guarantee). */
static void write_pads(struct kwbuf *w, size_t g, long k)
{
	int greedy = pad_fields(g) == k;

	for (long i = 0; i < k; i++) {
		size_t cost = greedy ? pad_cost(g) : g / (size_t)(k - i) + (g % (size_t)(k - i) != 0);
		uint8_t *zeros;

		kw_uvarint(w, KRW_PAD_TAG);
		kw_uvarint(w, (uint32_t)(cost - PAD_MIN));
		if (cost > PAD_MIN) {
			zeros = kw_extend(w, cost - PAD_MIN);
			if (zeros)
				memset(zeros, 0, cost - PAD_MIN);
		}
		g -= cost;
	}
}

/* How many padding fields to use for a gap g when the section's count must
 * take len bytes: the greedy number if it fits, else any number the gap
 * allows that does; -1 if none. */
static long pads_for(size_t g, uint32_t count, size_t len)
{
	long k = pad_fields(g), kmin = (long)((g + PAD_MAX - 1) / PAD_MAX),
	     kmax = (long)(g / PAD_MIN);

	if (k >= 0 && kbuf_uvarint_len(count + (uint32_t)k) == len)
		return k;
	/* Rare: adding fields pushed the count's varint across a length
	 * boundary (count 127 -> 128, ...).  Search the feasible range. */
	for (k = kmin; k <= kmax; k++)
		if (kbuf_uvarint_len(count + (uint32_t)k) == len)
			return k;
	return -1;
}

int krw_tags_fit(const struct kwbuf *body, uint32_t count, size_t target, uint8_t *out)
{
	/* Padding fields lengthen the count's varint, which changes the gap:
	 * try each varint length and keep the first that is consistent. */
	for (size_t len = kbuf_uvarint_len(count); len <= 5; len++) {
		struct kwbuf w;
		size_t g;
		long k;
		int ok;

		if (len + body->len > target)
			return -1;
		g = target - len - body->len;
		k = pads_for(g, count, len);
		if (k < 0)
			continue;
		kw_init(&w);
		kw_uvarint(&w, count + (uint32_t)k);
		kw_put(&w, body->buf, body->len);
		write_pads(&w, g, k);
		ok = !w.failed && w.len == target;
		if (ok)
			memcpy(out, w.buf, target);
		kw_free(&w);
		return ok ? 0 : -1;
	}
	return -1;
}

int krw_fetch_tail(const uint8_t *in, size_t len, int16_t version, uint8_t *out,
		   const struct kmap *map, int *dropped)
{
	struct kwbuf body;
	uint32_t count;
	int changed, rc = KRW_ERROR;

	*dropped = 0;
	kw_init(&body);
	/* Before v16 tag 0 means nothing here: validate only. */
	if (tail_fields(in, len, map, version >= 16, 0, &body, &count, &changed) < 0)
		goto out;
	rc = KRW_UNCHANGED;
	if (!changed)
		goto out;
	rc = KRW_CHANGED;
	if (krw_tags_fit(&body, count, len, out) == 0)
		goto out;
	kw_reset(&body);
	*dropped = 1;
	if (tail_fields(in, len, map, 1, 1, &body, &count, &changed) < 0 ||
	    krw_tags_fit(&body, count, len, out) < 0)
		rc = KRW_ERROR;
out:
	kw_free(&body);
	return rc;
}
