/* requests.c — encoding kgate's own requests (MetadataRequest.json,
 * ApiVersionsRequest.json) and decoding their answers. */
#include "requests.h"

#include <string.h>

#include "kapi.h"
#include "rewrite.h"

size_t kreq_begin(struct kwbuf *w, int16_t key, int16_t version, int32_t correlation_id,
		  const char *client_id)
{
	size_t off = kw_reserve_i32(w);

	kw_i16(w, key);
	kw_i16(w, version);
	kw_i32(w, correlation_id);
	kw_string(w, 0, client_id, (int32_t)strlen(client_id));
	if (kapi_request_header_flexible(key, version))
		kw_uvarint(w, 0); /* no header tags */
	return off;
}

void kreq_end(struct kwbuf *w, size_t off)
{
	kw_patch_i32(w, off, (int32_t)(w->len - off - 4));
}

void kreq_metadata_body(struct kwbuf *w, int16_t v)
{
	int flexible = v >= 9;

	kw_array_len(w, flexible, 0); /* Topics: none (v0 would mean all) */
	if (v >= 4)
		kw_i8(w, 0); /* AllowAutoTopicCreation */
	if (v >= 8 && v <= 10)
		kw_i8(w, 0); /* IncludeClusterAuthorizedOperations */
	if (v >= 8)
		kw_i8(w, 0); /* IncludeTopicAuthorizedOperations */
	if (flexible)
		kw_uvarint(w, 0);
}

void kreq_api_versions(struct kwbuf *w, int32_t correlation_id, const char *client_id)
{
	kreq_end(w, kreq_begin(w, KAPI_API_VERSIONS, 0, correlation_id, client_id));
}

void kreq_metadata(struct kwbuf *w, int16_t v, int32_t correlation_id, const char *client_id)
{
	size_t off = kreq_begin(w, KAPI_METADATA, v, correlation_id, client_id);

	kreq_metadata_body(w, v);
	kreq_end(w, off);
}

int kresp_api_versions_each(const uint8_t *in, size_t len, kresp_api_fn fn, void *ctx)
{
	struct kreader r;
	int32_t correlation_id, n;
	int16_t error_code, k, lo, hi;

	kr_init(&r, in, len);
	KR_TRY(kr_i32(&r, &correlation_id));
	KR_TRY(kr_i16(&r, &error_code));
	if (error_code != 0)
		goto err;
	KR_TRY(kr_array(&r, 0, 6, &n));
	for (int32_t i = 0; i < n; i++) {
		KR_TRY(kr_i16(&r, &k));
		KR_TRY(kr_i16(&r, &lo));
		KR_TRY(kr_i16(&r, &hi));
		if (fn(ctx, k, lo, hi))
			return 0;
	}
	return 0;
err:
	return -1;
}

/* What kresp_api_versions_range looks for, and whether it was found. */
struct api_range {
	int16_t key, min, max;
	int found;
};

static int find_range(void *ctx, int16_t key, int16_t min, int16_t max)
{
	struct api_range *a = ctx;

	if (key != a->key)
		return 0;
	a->min = min;
	a->max = max;
	a->found = 1;
	return 1;
}

int kresp_api_versions_range(const uint8_t *in, size_t len, int16_t key, int16_t *min, int16_t *max)
{
	struct api_range a = {.key = key};

	if (kresp_api_versions_each(in, len, find_range, &a) < 0 || !a.found)
		return -1;
	*min = a.min;
	*max = a.max;
	return 0;
}

/* The Metadata walk is the rewriter's: one bounded decoder of the layout.
 * Here its map substitutes nothing and reports every endpoint instead, so
 * no output is ever written. */
struct broker_visit {
	kresp_broker_fn fn;
	kresp_listing_fn listing;
	void *ctx;
};

static void visit_listing(void *ctx, int end)
{
	const struct broker_visit *v = ctx;

	if (v->listing)
		v->listing(v->ctx, end);
}

static int visit_broker(void *ctx, int32_t node_id, const struct kstr *host, int32_t port,
			struct kmap_addr *out)
{
	const struct broker_visit *v = ctx;

	(void)out;
	v->fn(v->ctx, node_id, host, port);
	return 0;
}

int kresp_metadata_brokers(const uint8_t *in, size_t len, int16_t version, int32_t max_nodes,
			   kresp_broker_fn fn, kresp_listing_fn listing, void *ctx)
{
	struct broker_visit v = {fn, listing, ctx};
	const struct kmap map = {
	    .lookup = visit_broker, .listing = visit_listing, .ctx = &v, .max_nodes = max_nodes};

	return krw_metadata(in, len, version, NULL, &map) == KRW_UNCHANGED ? 0 : -1;
}
