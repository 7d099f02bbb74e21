/* fuzz_decoders.c — kgate's decoders of the answers to its own requests
 * (protocol/requests.h): kresp_api_versions_range and
 * kresp_metadata_brokers.
 *
 * Input: [which] [a] [b] [the response frame after its size ...].  An even
 * which asks kresp_api_versions_range for ApiKey a << 8 | b; an odd one
 * decodes Metadata v(a % 14) with kresp_metadata_brokers, unbounded and
 * with at most 1 + (b & 3) brokers (limits.max_brokers).
 *
 * Why: these answers come from a cluster kgate has not yet learned, before
 * any client is there, and decide where kgate dials; so besides never
 * crashing:
 *   - the ApiVersions range agrees with a plain reading of the v0 layout
 *     (first entry of that key, array count believed only if the bytes can
 *     hold it, an error code means no answer);
 *   - kresp_metadata_brokers accepts exactly the frames the Metadata
 *     rewriter accepts (the gateway forwards what one accepts and learns from
 *     the other), every host it reports lies in the frame (each byte is read
 *     here), and the frame the rewriter makes of it reports the same brokers
 *     in the same order, each node the map knows at its new address;
 *   - bounded, the decoder refuses a listing exactly when the rewriter
 *     refuses it as too long (KRW_TOO_MANY).
 */
#include <stdlib.h>
#include <string.h>

#include "../../protocol/kbuf.h"
#include "../../protocol/requests.h"
#include "../../protocol/rewrite.h"
#include "common.h"

/* The v0 layout read plainly: CorrelationId, ErrorCode, ApiKeys[] of
 * {ApiKey, MinVersion, MaxVersion}. */
static int plain_range(const uint8_t *in, size_t len, int16_t key, int16_t *min, int16_t *max)
{
	int32_t n;

	if (len < 10 || kbuf_get_i16(in + 4) != 0)
		return -1;
	n = kbuf_get_i32(in + 6);
	if (n < 0 || (size_t)n > (len - 10) / 6)
		return -1;
	for (int32_t i = 0; i < n; i++) {
		const uint8_t *e = in + 10 + 6 * (size_t)i;

		if (kbuf_get_i16(e) == key) {
			*min = kbuf_get_i16(e + 2);
			*max = kbuf_get_i16(e + 4);
			return 0;
		}
	}
	return -1;
}

static void api_versions(const uint8_t *in, size_t len, int16_t key)
{
	int16_t min = -7, max = -7, pmin = -8, pmax = -8;
	int rc = kresp_api_versions_range(in, len, key, &min, &max);
	int prc = plain_range(in, len, key, &pmin, &pmax);

	FUZZ_CHECK(rc == prc, "ApiVersions range of key %d: %d, plainly %d", key, rc, prc);
	fuzz_mark((size_t)(rc + 1));
	if (rc == 0)
		FUZZ_CHECK(min == pmin && max == pmax,
			   "ApiVersions range of key %d: %d-%d, "
			   "plainly %d-%d",
			   key, min, max, pmin, pmax);
}

static void on_broker(void *ctx, int32_t node_id, const struct kstr *host, int32_t port)
{
	fuzz_record_add(ctx, node_id, host, port);
}

/* limits.max_brokers, both ways: the decoder kgate learns with refuses a
 * listing longer than the bound exactly when the rewriter clients' answers
 * go through does (KRW_TOO_MANY), so kgate never learns from an answer it
 * would not forward.  rc: the unbounded decoder's verdict. */
static void bounded(const uint8_t *in, size_t len, int16_t v, int rc, int32_t bound)
{
	static struct fuzz_record seen;
	struct kmap map = fuzz_map;
	struct kwbuf out;
	int rcb, rwb;

	map.max_nodes = bound;
	seen.n = seen.kept = 0;
	rcb = kresp_metadata_brokers(in, len, v, bound, on_broker, NULL, &seen);
	kw_init(&out);
	rwb = krw_metadata(in, len, v, &out, &map);
	kw_free(&out);
	if (rc == 0)
		FUZZ_CHECK((rcb == -1) == (rwb == KRW_TOO_MANY),
			   "Metadata v%d, at most %d brokers: decoder %d, rewriter %d", v, bound,
			   rcb, rwb);
	else
		FUZZ_CHECK(rcb == -1 && (rwb == KRW_ERROR || rwb == KRW_TOO_MANY),
			   "Metadata v%d malformed, at most %d brokers: decoder %d, rewriter %d", v,
			   bound, rcb, rwb);
	fuzz_mark(100 + (size_t)v * 2 + (size_t)(rwb == KRW_TOO_MANY));
}

static void metadata(const uint8_t *in, size_t len, int16_t v, int32_t bound)
{
	static struct fuzz_record seen, seen_out;
	struct kwbuf out;
	int rc, rw;

	seen.n = seen.kept = seen.listings = 0;
	seen.listing = 0;
	rc = kresp_metadata_brokers(in, len, v, 0, on_broker, fuzz_record_listing, &seen);
	FUZZ_CHECK(rc == 0 || rc == -1, "Metadata v%d brokers: %d", v, rc);
	/* Only a whole answer that lists brokers says who is gone. */
	if (rc == 0)
		FUZZ_CHECK(!seen.listing && seen.listings == (seen.n > 0),
			   "Metadata v%d, %zu brokers: %zu listings, %s", v, seen.n, seen.listings,
			   seen.listing ? "one not ended" : "ended");
	kw_init(&out);
	rw = krw_metadata(in, len, v, &out, &fuzz_map);
	FUZZ_CHECK((rc == 0) == (rw != KRW_ERROR), "Metadata v%d: brokers decoded %d, rewriter %d",
		   v, rc, rw);
	fuzz_mark(16 + (size_t)v * 5 + (size_t)(rw + 2));
	if (rw == KRW_CHANGED) {
		uint8_t *copy = malloc(out.len);

		FUZZ_CHECK(copy != NULL, "out of memory");
		memcpy(copy, out.buf, out.len);
		seen_out.n = seen_out.kept = 0;
		rc = kresp_metadata_brokers(copy, out.len, v, 0, on_broker, NULL, &seen_out);
		FUZZ_CHECK(rc == 0, "Metadata v%d: the rewritten frame does not decode", v);
		fuzz_check_mapped(&seen, &seen_out, "Metadata brokers");
		free(copy);
	}
	kw_free(&out);
	bounded(in, len, v, rc, bound);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	if (data[0] & 1)
		metadata(data + 3, size - 3, (int16_t)(data[1] % 14), 1 + (data[2] & 3));
	else
		api_versions(data + 3, size - 3, (int16_t)(data[1] << 8 | data[2]));
	return 0;
}
