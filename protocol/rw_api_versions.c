/* rw_api_versions.c — ApiVersions (ApiKey 18) responses, every version.
 *
 * Caps each API kgate decodes at the newest version it understands, so a
 * newer broker cannot lead a client into a layout kgate cannot rewrite, and
 * removes APIs none of whose versions kgate forwards.  Everything else — unknown APIs,
 * ThrottleTimeMs, features, tagged fields — is kept byte for byte.
 *
 * An answer with an error (UNSUPPORTED_VERSION in the v0 layout, KIP-511, or
 * librdkafka's mock cluster's own layout) carries no addresses: it is passed
 * on unchanged so the client retries at a lower version.
 */
#include "krw.h"
#include "rewrite.h"

/* What becomes of one ApiKeys[] entry: -1 to drop it, else its MaxVersion. */
int krw_api_versions_cap(int16_t key, int16_t min_version, int16_t max_version)
{
	const struct kapi *a = kapi_get(key);
	int16_t max = max_version;

	if (a->max_version >= 0 && max > a->max_version)
		max = a->max_version;
	if (min_version > max)
		return -1;
	return max;
}

/* Reads one ApiKeys[] entry; *tags_off is where its tagged fields start. */
static int read_entry(struct kreader *r, int flexible, int16_t e[3],
		      size_t *tags_off)
{
	KR_TRY(kr_i16(r, &e[0]));
	KR_TRY(kr_i16(r, &e[1]));
	KR_TRY(kr_i16(r, &e[2]));
	*tags_off = r->pos;
	if (flexible)
		KR_TRY(kr_skip_tags(r));
	return 0;
err:
	return -1;
}

int krw_api_versions(const uint8_t *in, size_t len, int16_t v, struct kwbuf *out,
		     const struct kmap *map)
{
	int flexible = v >= 3;
	struct krw x;
	struct kreader *r = &x.r;
	int16_t error_code, e[3];
	int32_t n, kept = 0, throttle_time_ms;
	size_t count_off, entries_off, tags_off;
	int differs = 0;

	krw_init(&x, in, len, out, map);
	KR_TRY(krw_header(&x, 0)); /* header v0 in every version */
	KR_TRY(kr_i16(r, &error_code));
	if (error_code != 0)
		return KRW_UNCHANGED;
	count_off = r->pos;
	KR_TRY(kr_array(r, flexible, 6, &n));
	entries_off = r->pos;
	/* First pass: validate, and find out whether anything changes. */
	for (int32_t i = 0; i < n; i++) {
		int max;

		KR_TRY(read_entry(r, flexible, e, &tags_off));
		max = krw_api_versions_cap(e[0], e[1], e[2]);
		kept += max >= 0;
		differs |= max != e[2];
	}
	if (differs) {
		/* Second pass over the validated entries: emit the new array. */
		size_t end_off = r->pos;
		struct kreader again;

		krw_emit_to(&x, count_off);
		kw_array_len(out, flexible, kept);
		kr_init(&again, in, end_off);
		again.pos = entries_off;
		for (int32_t i = 0; i < n; i++) {
			size_t entry_end;
			int max;

			KR_TRY(read_entry(&again, flexible, e, &tags_off));
			entry_end = again.pos;
			max = krw_api_versions_cap(e[0], e[1], e[2]);
			if (max < 0)
				continue;
			kw_i16(out, e[0]);
			kw_i16(out, e[1]);
			kw_i16(out, (int16_t)max);
			kw_put(out, in + tags_off, entry_end - tags_off);
		}
		x.copied = end_off;
		x.changed = 1;
	}
	if (v >= 1)
		KR_TRY(kr_i32(r, &throttle_time_ms));
	if (flexible)
		KR_TRY(kr_skip_tags(r)); /* SupportedFeatures, FinalizedFeatures, ... */
	return krw_finish(&x);
err:
	return KRW_ERROR;
}
